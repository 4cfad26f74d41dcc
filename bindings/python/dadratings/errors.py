"""Exceptions raised by the binding, one class per kind of failure.

Every exception carries the library's status code (``code``, an ``int``, the value of the
C enum ``dr_status``) and its detail (``message``, from ``dr_last_error_message()``).

Hierarchy::

    DadRatingsError
    ├── InvalidInputError (also ValueError)   DR_E_INVALID_ARGUMENT
    ├── OutOfMemoryError (also MemoryError)   DR_E_NOMEM
    ├── UnsupportedError                      DR_E_NOT_IMPLEMENTED
    ├── ConfigError                           DR_E_CONFIG
    ├── AuthError                             DR_E_AUTH, DR_E_CREDENTIALS
    ├── NetworkError                          DR_E_NETWORK, DR_E_TIMEOUT
    ├── ThrottledError                        DR_E_THROTTLED
    ├── ServiceError                          DR_E_SERVICE, DR_E_CHECKSUM, DR_E_PROTOCOL,
    │   │                                     DR_E_RETRY_QUOTA
    │   └── ServiceValidationError            DR_E_VALIDATION
    ├── ConditionError                        DR_E_CONDITION_FAILED
    ├── TransactionError                      DR_E_TRANSACTION_CANCELED, _CONFLICT
    ├── NotFoundError                         DR_E_NOT_FOUND
    ├── ResourceInUseError                    DR_E_IN_USE
    ├── ClosedError                           DR_E_CLOSED (and any use of a closed Client)
    └── InternalError                         DR_E_INTERNAL (a library bug: report it)

A code this binding does not know (a newer library appended one) raises DadRatingsError
itself, still with its code and message.
"""

from __future__ import annotations

import enum
from typing import Dict, Type


class Status(enum.IntEnum):
    """The C enum ``dr_status``. Values are stable and only ever appended."""

    OK = 0
    INVALID_ARGUMENT = 1
    NOMEM = 2
    NOT_IMPLEMENTED = 3
    CONFIG = 4
    CREDENTIALS = 5
    AUTH = 6
    NETWORK = 7
    TIMEOUT = 8
    THROTTLED = 9
    SERVICE = 10
    VALIDATION = 11
    CONDITION_FAILED = 12
    TRANSACTION_CANCELED = 13
    TRANSACTION_CONFLICT = 14
    NOT_FOUND = 15
    CHECKSUM = 16
    PROTOCOL = 17
    IN_USE = 18
    RETRY_QUOTA = 19
    CLOSED = 20
    INTERNAL = 21


class DadRatingsError(Exception):
    """A libdadratings call failed.

    Attributes:
        code: the ``dr_status`` value (an ``int``; compare with :class:`Status`).
        message: the library's detail of the failure (which field, what the service said);
            never contains secrets.
    """

    code: int
    message: str

    def __init__(self, code: int, message: str) -> None:
        self.code = int(code)
        self.message = message
        super().__init__(code, message)

    @property
    def status_name(self) -> str:
        """The C name of the code, e.g. ``"DR_E_INVALID_ARGUMENT"``."""
        try:
            return "DR_E_" + Status(self.code).name
        except ValueError:
            return f"dr_status {self.code}"

    def __str__(self) -> str:
        return f"{self.message} [{self.status_name}]" if self.message else self.status_name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"


class InvalidInputError(DadRatingsError, ValueError):
    """An argument is invalid; the message names the field. Fix the input."""


class OutOfMemoryError(DadRatingsError, MemoryError):
    """The library could not allocate memory. Nothing was changed."""


class UnsupportedError(DadRatingsError):
    """The operation is not available in this build or mode."""


class ConfigError(DadRatingsError):
    """Configuration is incomplete or inconsistent (no region, bad endpoint...)."""


class AuthError(DadRatingsError):
    """No credentials were found, or the service refused them."""


class NetworkError(DadRatingsError):
    """The connection failed or timed out, after the library's retries."""


class ThrottledError(DadRatingsError):
    """DynamoDB throttled the requests and retries were exhausted. Slow down."""


class ServiceError(DadRatingsError):
    """The service failed or answered something unusable (5xx, bad checksum, malformed
    response), or the retry quota is exhausted."""


class ServiceValidationError(ServiceError):
    """DynamoDB rejected the request as invalid (ValidationException and other client
    errors of the service): the tables do not match what the library expects (a missing
    index, another key schema) or the service refused a limit. Not the caller's input,
    which the library checks itself (InvalidInputError); fix the deployment or report it."""


class ConditionError(DadRatingsError):
    """A condition on a write did not hold."""


class TransactionError(DadRatingsError):
    """A transaction was cancelled or conflicted with another one."""


class NotFoundError(DadRatingsError):
    """A table or index does not exist (create it with Client.create_tables())."""


class ResourceInUseError(DadRatingsError):
    """A table is being created or deleted."""


class ClosedError(DadRatingsError):
    """The client was closed."""


class InternalError(DadRatingsError):
    """An internal invariant of the library failed; please report it."""


_BY_CODE: Dict[int, Type[DadRatingsError]] = {
    Status.INVALID_ARGUMENT: InvalidInputError,
    Status.NOMEM: OutOfMemoryError,
    Status.NOT_IMPLEMENTED: UnsupportedError,
    Status.CONFIG: ConfigError,
    Status.CREDENTIALS: AuthError,
    Status.AUTH: AuthError,
    Status.NETWORK: NetworkError,
    Status.TIMEOUT: NetworkError,
    Status.THROTTLED: ThrottledError,
    Status.SERVICE: ServiceError,
    Status.VALIDATION: ServiceValidationError,
    Status.CONDITION_FAILED: ConditionError,
    Status.TRANSACTION_CANCELED: TransactionError,
    Status.TRANSACTION_CONFLICT: TransactionError,
    Status.NOT_FOUND: NotFoundError,
    Status.CHECKSUM: ServiceError,
    Status.PROTOCOL: ServiceError,
    Status.IN_USE: ResourceInUseError,
    Status.RETRY_QUOTA: ServiceError,
    Status.CLOSED: ClosedError,
    Status.INTERNAL: InternalError,
}


def error_class(code: int) -> Type[DadRatingsError]:
    """The exception class for a ``dr_status`` code (DadRatingsError if unknown)."""
    return _BY_CODE.get(int(code), DadRatingsError)


def make_error(code: int, message: str) -> DadRatingsError:
    """An exception of the right class for ``code``."""
    return error_class(code)(code, message)
