"""Python binding of libdadratings: dad-joke ratings on Amazon DynamoDB with pre-computed
statistics.

Standard library only: the C library (``libdadratings.so.1``) is loaded with ctypes. It
is looked for in ``$DADRATINGS_LIBRARY``, then beside this package, then on the system
library path; importing fails with ImportError if it is missing or not a compatible 1.x
version.

Example::

    import dadratings

    with dadratings.Client() as client:          # configured from the environment
        client.create_tables()
        client.write_rating("scarecrow", 5, joke_text="...", author="Fatherhood.gov")
        print(client.read_stats("scarecrow").to_json_dict())
        print(client.dashboard_stats().totals.overall_average)
"""

from __future__ import annotations

from . import _lib
from .client import COUNTERS, FACTS, LOGGER_NAME, Client, Credentials, import_identity
from .errors import (
    AuthError,
    ClosedError,
    ConditionError,
    ConfigError,
    DadRatingsError,
    InternalError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    OutOfMemoryError,
    ResourceInUseError,
    ServiceError,
    ServiceValidationError,
    Status,
    ThrottledError,
    TransactionError,
    UnsupportedError,
)
from .results import (
    AuthorTotals,
    Dashboard,
    DashboardTotals,
    RatingDistribution,
    RecentRating,
    Stats,
    StreamBatchResult,
    TopPerformer,
)

__version__ = "1.0.0"

#: Path or name of the C library that was loaded.
library_path: str = _lib.path


def library_version() -> str:
    """Version of the loaded C library, "MAJOR.MINOR.PATCH" (``dr_version()``)."""
    return _lib.lib.dr_version().decode("ascii")


def library_version_num() -> int:
    """Version of the loaded C library as 0xMMmmpp (``dr_version_num()``)."""
    return int(_lib.lib.dr_version_num())


def strerror(code: int) -> str:
    """The library's static English text for a status code."""
    return _lib.lib.dr_strerror(int(code)).decode("utf-8", "replace")


__all__ = [
    "AuthError",
    "AuthorTotals",
    "COUNTERS",
    "FACTS",
    "LOGGER_NAME",
    "Client",
    "ClosedError",
    "ConditionError",
    "ConfigError",
    "Credentials",
    "DadRatingsError",
    "Dashboard",
    "DashboardTotals",
    "InternalError",
    "InvalidInputError",
    "NetworkError",
    "NotFoundError",
    "OutOfMemoryError",
    "RatingDistribution",
    "RecentRating",
    "ResourceInUseError",
    "ServiceError",
    "ServiceValidationError",
    "Stats",
    "Status",
    "StreamBatchResult",
    "ThrottledError",
    "TopPerformer",
    "TransactionError",
    "UnsupportedError",
    "import_identity",
    "library_path",
    "library_version",
    "library_version_num",
    "strerror",
]
