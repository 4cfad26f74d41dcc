"""Loading libdadratings.so.1 and declaring the C prototypes (internal).

Only functions of the public header ``include/dadratings.h`` are declared here, each with
exact ``argtypes`` and ``restype`` so that ctypes never guesses (a ``uint64_t`` result read
as a C ``int`` would be silently truncated). Opaque handles are ``c_void_p``; strings are
``c_char_p`` and are encoded/decoded as UTF-8 explicitly by the callers.

Where the library is looked for, first match wins:

1. the path in the environment variable ``DADRATINGS_LIBRARY`` (no fallback if it is set
   and cannot be loaded: a wrong path is an error, not a hint);
2. ``libdadratings.so.1`` beside this package (a copy shipped with it);
3. the system library path (``ctypes.util.find_library("dadratings")``, then the SONAME).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (
    POINTER,
    c_char_p,
    c_double,
    c_int32,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import List, Optional, Tuple

#: The SONAME this binding is written against.
SONAME = "libdadratings.so.1"
#: The oldest library version this binding works with, as 0xMMmmpp (dr_version_num()).
REQUIRED_VERSION_NUM = 0x010300
#: The environment variable that names the library file to load.
LIBRARY_ENV = "DADRATINGS_LIBRARY"

_c_status = c_int32  # enum dr_status: an int in the C ABI; values fit in 32 bits.

#: dr_log_fn: void (*)(dr_log_level level, const char *message, void *payload).
LOG_FN = ctypes.CFUNCTYPE(None, c_int32, c_char_p, c_void_p)

# name -> (restype, argtypes). Every function the binding calls is listed here.
_PROTOTYPES = {
    # version and errors
    "dr_version": (c_char_p, []),
    "dr_version_num": (c_uint32, []),
    "dr_strerror": (c_char_p, [_c_status]),
    "dr_last_error_message": (c_char_p, []),
    "dr_last_error_code": (_c_status, []),
    "dr_free": (None, [c_void_p]),
    # configuration
    "dr_config_new": (_c_status, [POINTER(c_void_p)]),
    "dr_config_free": (None, [c_void_p]),
    "dr_config_set_region": (_c_status, [c_void_p, c_char_p]),
    "dr_config_set_endpoint": (_c_status, [c_void_p, c_char_p]),
    "dr_config_set_credentials": (_c_status, [c_void_p, c_char_p, c_char_p, c_char_p]),
    "dr_config_set_profile": (_c_status, [c_void_p, c_char_p]),
    "dr_config_set_ratings_table": (_c_status, [c_void_p, c_char_p]),
    "dr_config_set_stats_table": (_c_status, [c_void_p, c_char_p]),
    "dr_config_set_connect_timeout_ms": (_c_status, [c_void_p, c_uint32]),
    "dr_config_set_request_timeout_ms": (_c_status, [c_void_p, c_uint32]),
    "dr_config_set_max_attempts": (_c_status, [c_void_p, c_uint32]),
    "dr_config_set_aggregation_mode": (_c_status, [c_void_p, c_int32]),
    "dr_config_set_global_shards": (_c_status, [c_void_p, c_uint32]),
    "dr_config_set_dashboard_max_age_ms": (_c_status, [c_void_p, c_uint32]),
    "dr_config_set_log": (_c_status, [c_void_p, LOG_FN, c_int32, c_void_p]),
    # client
    "dr_client_new": (_c_status, [POINTER(c_void_p), c_void_p]),
    "dr_client_free": (None, [c_void_p]),
    "dr_client_counter": (_c_status, [c_void_p, c_int32, POINTER(c_uint64)]),
    "dr_client_describe": (_c_status, [c_void_p, c_int32, POINTER(c_void_p)]),
    "dr_client_create_tables": (_c_status, [c_void_p, c_uint32]),
    # ratings
    "dr_rating_new": (_c_status, [POINTER(c_void_p), c_char_p, c_int32]),
    "dr_rating_free": (None, [c_void_p]),
    "dr_rating_set_joke_text": (_c_status, [c_void_p, c_char_p]),
    "dr_rating_set_author": (_c_status, [c_void_p, c_char_p]),
    "dr_rating_set_mode": (_c_status, [c_void_p, c_char_p]),
    "dr_rating_set_date": (_c_status, [c_void_p, c_char_p]),
    "dr_rating_set_idempotency_key": (_c_status, [c_void_p, c_char_p]),
    "dr_rating_set_submitted_at": (_c_status, [c_void_p, c_char_p]),
    "dr_client_write_rating": (_c_status, [c_void_p, c_void_p, POINTER(c_void_p)]),
    "dr_client_read_stats": (_c_status, [c_void_p, c_char_p, POINTER(c_void_p)]),
    "dr_client_read_stats_many": (_c_status, [c_void_p, POINTER(c_char_p), c_size_t,
                                              POINTER(c_void_p)]),
    # stats
    "dr_stats_free": (None, [c_void_p]),
    "dr_stats_joke_id": (c_char_p, [c_void_p]),
    "dr_stats_total_ratings": (c_uint64, [c_void_p]),
    "dr_stats_count": (c_uint64, [c_void_p, c_int32]),
    "dr_stats_total_score": (c_uint64, [c_void_p]),
    "dr_stats_average": (c_double, [c_void_p]),
    "dr_stats_last_rated_at": (c_char_p, [c_void_p]),
    "dr_stats_pending": (c_int32, [c_void_p]),
    # Out-strings of *_to_json are taken as c_void_p, not c_char_p: ctypes would copy a
    # c_char_p into a bytes object and lose the pointer that dr_free() needs.
    "dr_stats_to_json": (_c_status, [c_void_p, POINTER(c_void_p)]),
    # dashboard
    "dr_client_dashboard_stats": (_c_status, [c_void_p, POINTER(c_void_p)]),
    "dr_dashboard_free": (None, [c_void_p]),
    "dr_dashboard_to_json": (_c_status, [c_void_p, POINTER(c_void_p)]),
    "dr_dashboard_overall_ratings": (c_uint64, [c_void_p]),
    "dr_dashboard_overall_average": (c_double, [c_void_p]),
    "dr_dashboard_unique_jokes": (c_uint64, [c_void_p]),
    "dr_dashboard_rating_count": (c_uint64, [c_void_p, c_int32]),
    "dr_dashboard_author_count": (c_size_t, [c_void_p]),
    "dr_dashboard_author_name": (c_char_p, [c_void_p, c_size_t]),
    "dr_dashboard_author_total_ratings": (c_uint64, [c_void_p, c_size_t]),
    "dr_dashboard_author_average": (c_double, [c_void_p, c_size_t]),
    "dr_dashboard_author_rating_count": (c_uint64, [c_void_p, c_size_t, c_int32]),
    "dr_dashboard_top_count": (c_size_t, [c_void_p]),
    "dr_dashboard_top_joke_id": (c_char_p, [c_void_p, c_size_t]),
    "dr_dashboard_top_joke_text": (c_char_p, [c_void_p, c_size_t]),
    "dr_dashboard_top_author": (c_char_p, [c_void_p, c_size_t]),
    "dr_dashboard_top_total_ratings": (c_uint64, [c_void_p, c_size_t]),
    "dr_dashboard_top_average": (c_double, [c_void_p, c_size_t]),
    "dr_dashboard_top_last_rated_at": (c_char_p, [c_void_p, c_size_t]),
    "dr_dashboard_recent_count": (c_size_t, [c_void_p]),
    "dr_dashboard_recent_joke_id": (c_char_p, [c_void_p, c_size_t]),
    "dr_dashboard_recent_rating": (c_int32, [c_void_p, c_size_t]),
    "dr_dashboard_recent_joke_text": (c_char_p, [c_void_p, c_size_t]),
    "dr_dashboard_recent_author": (c_char_p, [c_void_p, c_size_t]),
    "dr_dashboard_recent_mode": (c_char_p, [c_void_p, c_size_t]),
    "dr_dashboard_recent_date": (c_char_p, [c_void_p, c_size_t]),
    "dr_dashboard_recent_submitted_at": (c_char_p, [c_void_p, c_size_t]),
    # stream aggregation
    "dr_client_apply_stream_batch": (_c_status, [c_void_p, c_char_p, c_size_t, POINTER(c_void_p)]),
    "dr_batch_result_free": (None, [c_void_p]),
    "dr_batch_result_applied": (c_size_t, [c_void_p]),
    "dr_batch_result_skipped": (c_size_t, [c_void_p]),
    "dr_batch_result_duplicates": (c_size_t, [c_void_p]),
    "dr_batch_result_failed_count": (c_size_t, [c_void_p]),
    "dr_batch_result_failed_sequence_number": (c_char_p, [c_void_p, c_size_t]),
    # the import's identities, for the dual write (the import itself is not bound); `out`
    # is a ctypes char array the caller sizes
    "dr_import_identity": (_c_status, [c_char_p, c_char_p, c_size_t, c_char_p]),
}


def version_string(num: int) -> str:
    """Spell a dr_version_num() value as "MAJOR.MINOR.PATCH"."""
    return f"{(num >> 16) & 0xFF}.{(num >> 8) & 0xFF}.{num & 0xFF}"


def check_version(num: int, path: str = SONAME) -> None:
    """Raise ImportError unless ``num`` (dr_version_num()) is a compatible library.

    Compatible means the same major version (the SONAME's) and at least the version this
    binding was written for: minor versions only ever add functions.
    """
    required = REQUIRED_VERSION_NUM
    if (num >> 16) != (required >> 16) or num < required:
        raise ImportError(
            f"dadratings: the library {path} is version {version_string(num)}, but this "
            f"binding needs libdadratings {required >> 16}.x at least "
            f"{version_string(required)} (set {LIBRARY_ENV} to the path of a compatible "
            f"libdadratings.so.1)"
        )


def _candidates() -> List[Tuple[str, bool]]:
    """(path or name, explicit) in lookup order; explicit means: no fallback on failure."""
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return [(env, True)]
    out: List[Tuple[str, bool]] = []
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), SONAME)
    if os.path.exists(beside):
        out.append((beside, False))
    found: Optional[str] = ctypes.util.find_library("dadratings")
    if found:
        out.append((found, False))
    out.append((SONAME, False))
    return out


def _declare(lib: ctypes.CDLL, path: str) -> None:
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise ImportError(
                f"dadratings: {path} does not export {name}; it is not a compatible "
                f"libdadratings.so.1"
            ) from None
        fn.restype = restype
        fn.argtypes = argtypes


def load() -> Tuple[ctypes.CDLL, str]:
    """Find, load, version-check and declare the library. Raises ImportError."""
    errors: List[str] = []
    for name, explicit in _candidates():
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            if explicit:
                raise ImportError(
                    f"dadratings: cannot load {name} (from {LIBRARY_ENV}): {exc}"
                ) from None
            errors.append(f"{name}: {exc}")
            continue
        try:
            version_num = lib.dr_version_num
        except AttributeError:
            raise ImportError(
                f"dadratings: {name} has no dr_version_num(); it is not libdadratings"
            ) from None
        version_num.restype = c_uint32
        version_num.argtypes = []
        check_version(int(version_num()), name)
        _declare(lib, name)
        return lib, name
    raise ImportError(
        "dadratings: cannot find libdadratings.so.1; build it (cmake) and set "
        f"{LIBRARY_ENV}=/path/to/libdadratings.so.1, copy it beside the package, or "
        "install it on the system library path. Tried: " + "; ".join(errors)
    )


lib, path = load()
