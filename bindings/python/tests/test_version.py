"""Loading the library: the version check and the lookup order."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

from _support import BINDING_ROOT

import dadratings
from dadratings import _lib


def run_python(code: str, env_update: dict, cwd: str = BINDING_ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for k, v in env_update.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )


class VersionCheckTest(unittest.TestCase):
    def test_loaded_library_is_1_x(self) -> None:
        num = dadratings.library_version_num()
        self.assertEqual(num >> 16, 1)
        self.assertGreaterEqual(num, _lib.REQUIRED_VERSION_NUM)
        self.assertEqual(dadratings.library_version(), _lib.version_string(num))
        self.assertTrue(os.path.exists(dadratings.library_path) or
                        dadratings.library_path == _lib.SONAME)

    def test_check_version(self) -> None:
        for ok in (0x010300, 0x010301, 0x010900, 0x01FFFF):
            _lib.check_version(ok)
        # 1.0 and 1.1 lack dr_rating_set_submitted_at and dr_import_identity, 1.2
        # dr_client_read_stats_many.
        for bad, spelled in ((0x020000, "2.0.0"), (0x000905, "0.9.5"), (0x030102, "3.1.2"),
                             (0x010000, "1.0.0"), (0x010105, "1.1.5"), (0x010200, "1.2.0")):
            with self.assertRaises(ImportError) as cm:
                _lib.check_version(bad, "/x/libdadratings.so.1")
            msg = str(cm.exception)
            self.assertIn(spelled, msg)
            self.assertIn("/x/libdadratings.so.1", msg)
            self.assertIn("at least 1.3.0", msg)
            self.assertIn("DADRATINGS_LIBRARY", msg)

    def test_import_refuses_a_version_2_library(self) -> None:
        cc = shutil.which("cc") or shutil.which("gcc")
        self.assertIsNotNone(cc, "a C compiler is needed to build the fake library")
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "fake.c")
            so = os.path.join(tmp, "libdadratings.so.1")
            with open(src, "w") as f:
                f.write("unsigned dr_version_num(void) { return 0x020000u; }\n")
            subprocess.run([cc, "-shared", "-fPIC", "-o", so, src], check=True)
            r = run_python("import dadratings", {"DADRATINGS_LIBRARY": so})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("version 2.0.0", r.stderr)

    def test_import_with_a_bad_library_path(self) -> None:
        r = run_python("import dadratings", {"DADRATINGS_LIBRARY": "/nonexistent/libdadratings.so.1"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("DADRATINGS_LIBRARY", r.stderr)
        self.assertIn("/nonexistent/libdadratings.so.1", r.stderr)

    def test_import_with_a_library_that_is_not_libdadratings(self) -> None:
        libm = "libm.so.6"
        r = run_python("import dadratings", {"DADRATINGS_LIBRARY": libm})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not libdadratings", r.stderr)

    def test_library_beside_the_package_is_found(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            pkg = os.path.join(tmp, "dadratings")
            shutil.copytree(os.path.join(BINDING_ROOT, "dadratings"), pkg,
                            ignore=shutil.ignore_patterns("__pycache__", "*.so.1"))
            shutil.copy(os.path.realpath(dadratings.library_path), os.path.join(pkg, _lib.SONAME))
            r = run_python(
                "import dadratings; print(dadratings.library_path)",
                {"DADRATINGS_LIBRARY": None, "PYTHONPATH": None}, cwd=tmp,
            )
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), os.path.join(pkg, _lib.SONAME))


if __name__ == "__main__":
    unittest.main()
