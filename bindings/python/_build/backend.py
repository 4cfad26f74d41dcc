"""A PEP 517 / PEP 660 build backend written with the standard library only.

Why not setuptools.build_meta: setuptools before 70.1 cannot build a wheel without the
separate ``wheel`` package, which a machine without a package index (this project's
Debian 12 + Python 3.11 hosts) may not have. A pure-Python package of a few modules needs
no more than zipfile and hashlib, so this backend builds the wheel itself and
``pip install --no-index --no-build-isolation ./bindings/python`` works offline.

The wheel holds the ``dadratings`` package and, when one was copied there before the build,
``dadratings/libdadratings.so.1`` (the wheel is then tagged for this platform).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import sysconfig
import tarfile
import zipfile
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "dadratings"
BUNDLED_LIBRARY = "libdadratings.so.1"


def _project() -> Dict[str, str]:
    """name, version, summary and requires-python from pyproject.toml's [project]."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("[project]", 1)[1].split("\n[", 1)[0]
    out = {}
    for key in ("name", "version", "description", "requires-python"):
        m = re.search(rf'^{re.escape(key)}\s*=\s*"([^"]*)"', section, re.M)
        if not m:
            raise RuntimeError(f"pyproject.toml: [project] has no {key}")
        out[key] = m.group(1)
    return out


def _metadata(p: Dict[str, str]) -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {p['name']}\n"
        f"Version: {p['version']}\n"
        f"Summary: {p['description']}\n"
        "License: Apache-2.0\n"
        f"Requires-Python: {p['requires-python']}\n"
        "Classifier: Programming Language :: Python :: 3\n"
        "Classifier: Typing :: Typed\n"
        "Description-Content-Type: text/markdown\n"
        "\n" + readme
    )


def _package_files() -> List[Tuple[str, str]]:
    """(path in the wheel, path on disk) of the package's files."""
    src = os.path.join(ROOT, PACKAGE)
    names = sorted(
        n for n in os.listdir(src) if n.endswith(".py") or n in ("py.typed", BUNDLED_LIBRARY)
    )
    return [(f"{PACKAGE}/{n}", os.path.join(src, n)) for n in names]


def _tag(files: List[Tuple[str, str]]) -> str:
    if any(arc.endswith(BUNDLED_LIBRARY) for arc, _ in files):
        plat = re.sub(r"[-.]", "_", sysconfig.get_platform())
        return f"py3-none-{plat}"
    return "py3-none-any"


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory: str, contents: List[Tuple[str, bytes]], tag: str) -> str:
    p = _project()
    dist = f"{p['name']}-{p['version']}"
    info = f"{dist}.dist-info"
    entries = list(contents)
    entries.append((f"{info}/METADATA", _metadata(p).encode("utf-8")))
    entries.append(
        (
            f"{info}/WHEEL",
            (
                "Wheel-Version: 1.0\nGenerator: dadratings _build/backend.py\n"
                f"Root-Is-Purelib: {'true' if tag.endswith('-any') else 'false'}\n"
                f"Tag: {tag}\n"
            ).encode(),
        )
    )
    entries.append((f"{info}/top_level.txt", f"{PACKAGE}\n".encode()))
    record = [_record_line(a, d) for a, d in entries] + [f"{info}/RECORD,,"]
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    name = f"{dist}-{tag}.whl"
    with zipfile.ZipFile(
        os.path.join(wheel_directory, name), "w", compression=zipfile.ZIP_DEFLATED
    ) as zf:
        for arcname, data in entries:
            zi = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            mode = 0o755 if arcname.endswith(".so.1") else 0o644
            zi.external_attr = (0o100000 | mode) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return name


# --- PEP 517 hooks --------------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[dict] = None) -> List[str]:
    return []


def build_wheel(
    wheel_directory: str,
    config_settings: Optional[dict] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    files = _package_files()
    contents = []
    for arcname, path in files:
        with open(path, "rb") as f:
            contents.append((arcname, f.read()))
    return _write_wheel(wheel_directory, contents, _tag(files))


def build_editable(
    wheel_directory: str,
    config_settings: Optional[dict] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    """PEP 660: a wheel whose .pth file puts this source folder on sys.path."""
    pth = (ROOT + "\n").encode("utf-8")
    return _write_wheel(wheel_directory, [(f"__editable__.{PACKAGE}.pth", pth)], "py3-none-any")


def build_sdist(sdist_directory: str, config_settings: Optional[dict] = None) -> str:
    p = _project()
    base = f"{p['name']}-{p['version']}"
    members = ["pyproject.toml", "README.md", "_build/backend.py"]
    members += [os.path.relpath(path, ROOT) for _, path in _package_files()]
    members += [
        os.path.join("tests", n)
        for n in sorted(os.listdir(os.path.join(ROOT, "tests")))
        if n.endswith(".py")
    ]
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for rel in members:
            tf.add(os.path.join(ROOT, rel), arcname=f"{base}/{rel}", recursive=False)
        pkg_info = _metadata(p).encode("utf-8")
        ti = tarfile.TarInfo(f"{base}/PKG-INFO")
        ti.size = len(pkg_info)
        tf.addfile(ti, io.BytesIO(pkg_info))
    return name
