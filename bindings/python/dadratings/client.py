"""The Client: a libdadratings ``dr_client`` with a Pythonic face."""

from __future__ import annotations

import ctypes
import json
import logging
import threading
import weakref
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, TypeVar, Union

from . import _lib
from .errors import ClosedError, InvalidInputError, Status, make_error
from .results import Dashboard, Stats, StreamBatchResult

_T = TypeVar("_T")

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_UINT32_MAX = 2**32 - 1
_SIZE_MAX = 2**64 - 1  # the 64-bit platforms the library supports

#: DR_IMPORT_IDENTITY_LEN: "s3v1:" and 64 hex digits.
_IMPORT_IDENTITY_LEN = 69
#: DR_READ_STATS_MAX_JOKES: the most joke ids read_stats_many takes.
_MAX_JOKES_PER_READ = 1000

_AGGREGATION_MODES = {"inline": 0, "stream": 1}
_CREATE_TABLES_WAIT = 0x1

#: Counter names accepted by :meth:`Client.counters`, in ``dr_counter`` order.
COUNTERS = (
    "requests",
    "attempts",
    "retries",
    "bytes_sent",
    "bytes_received",
    "errors_throttled",
    "errors_service",
    "errors_network",
    "errors_checksum",
    "errors_client",
    "transaction_conflicts",
)

# dr_client_fact, in enum order: what Client.describe() reports.
FACTS = ("region", "endpoint", "streams_endpoint", "credential_source")


#: The :mod:`logging` logger that receives the library's log lines (see ``log_level``).
LOGGER_NAME = "dadratings"

# dr_log_level (1 error .. 4 debug) -> logging level.
_LOG_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.DEBUG}


def _c_log_level(level: int) -> int:
    """The most verbose dr_log_level that a logging level lets through."""
    for c_level in (4, 3, 2):
        if level <= _LOG_LEVELS[c_level]:
            return c_level
    return 1


def _log_forwarder(logger: logging.Logger) -> Any:
    """A dr_log_fn that hands each line to ``logger``. The library calls it on the thread
    doing the work (dashboard_stats' own threads too); ctypes takes the GIL for it."""

    def forward(level: int, message: Optional[bytes], _payload: Optional[int]) -> None:
        text = message.decode("utf-8", "replace") if message else ""
        logger.log(_LOG_LEVELS.get(level, logging.ERROR), "%s", text)

    return _lib.LOG_FN(forward)


def _free_client(handle: int, _log_callback: Any) -> None:
    # The log callback is an argument only to keep it alive as long as the C client,
    # which calls it.
    _lib.lib.dr_client_free(handle)


@dataclass(frozen=True)
class Credentials:
    """Explicit AWS credentials (first in the provider chain). The secret and the session
    token never appear in ``repr()``."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: Optional[str] = field(default=None, repr=False)


CredentialsLike = Union[Credentials, Sequence[Optional[str]]]


def _invalid(message: str) -> InvalidInputError:
    return InvalidInputError(Status.INVALID_ARGUMENT, message)


def _check(rc: int) -> None:
    """Raise the exception for a failed call. Must run on the thread that made the call,
    right after it: ``dr_last_error_message()`` is thread-local and is overwritten by the
    next failing call on the same thread."""
    if rc != Status.OK:
        lib = _lib.lib
        raw = lib.dr_last_error_message()
        message = raw.decode("utf-8", "replace") if raw else ""
        if not message:
            message = (lib.dr_strerror(rc) or b"").decode("utf-8", "replace")
        raise make_error(rc, message)


def _encode(field_name: str, value: object, *, optional: bool = False) -> Optional[bytes]:
    """A str argument as NUL-terminated UTF-8 for C.

    None passes through when ``optional``. Anything that is not a str raises TypeError;
    an embedded NUL (which C would silently truncate at) or text that is not encodable as
    UTF-8 (lone surrogates) raises InvalidInputError naming the field. Every other check
    is the library's.
    """
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(
            f"{field_name}: must be a str{' or None' if optional else ''}, "
            f"got {type(value).__name__}"
        )
    if "\x00" in value:
        raise _invalid(f"{field_name}: contains a control character (NUL)")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(f"{field_name}: is not valid UTF-8") from None


def _uint32(field_name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{field_name}: must be an int, got {type(value).__name__}")
    if not 0 <= value <= _UINT32_MAX:
        raise _invalid(f"{field_name}: must be 0..{_UINT32_MAX}, got {value}")
    return value


def import_identity(bucket: str, key: str, index: int = 0) -> str:
    """The idempotency key the import gives one rating of the old S3 tree
    (``dr_import_identity()``): ``"s3v1:"`` and 64 hex digits, the same in every run of
    the import. An app that writes a rating to S3 and to DynamoDB during the migration
    passes it, with the rating's ``submitted_at``, to :meth:`Client.write_rating`, so the
    import finds the rating stored and counts it once.

    Args:
        bucket: the bucket the object is (or will be) stored in.
        key: the object's full key, e.g. ``"ratings/live/scarecrow/1706628600000.json"``.
        index: the rating's index in the object: 0 for an object holding one rating.

    Raises:
        InvalidInputError: a NUL in ``bucket`` or ``key`` (C would cut the text there and
            name another object), text not encodable as UTF-8, or ``index`` negative.
        TypeError: an argument has the wrong type.
    """
    bucket_c = _encode("bucket", bucket)
    key_c = _encode("key", key)
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"index: must be an int, got {type(index).__name__}")
    if not 0 <= index <= _SIZE_MAX:
        raise _invalid(f"index: must be 0..{_SIZE_MAX}, got {index}")
    out = ctypes.create_string_buffer(_IMPORT_IDENTITY_LEN + 1)
    _check(_lib.lib.dr_import_identity(bucket_c, key_c, index, out))
    return out.value.decode("ascii")


class Client:
    """A DynamoDB client for dad-joke ratings.

    Every option is optional; an option left unset is resolved as the AWS SDKs do, from
    the environment (``AWS_REGION``, ``AWS_ENDPOINT_URL_DYNAMODB``, the credential chain,
    ``DYNAMODB_RATINGS_TABLE``/``DYNAMODB_STATS_TABLE``...)::

        with Client(endpoint="http://127.0.0.1:8000", region="us-east-1") as client:
            client.create_tables()
            stats = client.write_rating("scarecrow", 5, author="Fatherhood.gov")
            print(stats.average, client.read_stats("scarecrow").counts)

    Threads: one Client may be shared by any number of threads, as the C client is. The
    calls release the GIL while they wait for DynamoDB (ctypes drops it around every
    foreign call), so threads really run concurrently. Errors are correct per thread:
    the library keeps the last error message in thread-local storage, and the binding
    reads it on the calling thread immediately after the failed call, before any other
    library call on that thread.

    :meth:`close` (or leaving the ``with`` block) waits for calls running on other
    threads to finish, then frees the C client; later calls raise :class:`ClosedError`.
    A client that is never closed is freed when it is garbage-collected.

    Args:
        region: AWS region, e.g. ``"eu-west-1"``.
        endpoint: DynamoDB endpoint URL; plain http only for loopback hosts.
        credentials: a :class:`Credentials` or a tuple
            ``(access_key_id, secret_access_key[, session_token])``.
        profile: profile of the shared credentials/config files.
        ratings_table, stats_table: table names.
        connect_timeout_ms, request_timeout_ms: timeouts; 0 means the library default.
        max_attempts: attempts per request including the first, 1..10 (0: default 3).
        aggregation_mode: ``"inline"`` (default) or ``"stream"``.
        global_shards: spread the hot global counters over 1..64 items (default 1).
        dashboard_max_age_ms: cache the dashboard this long (0..3600000 ms; unset or 0 is
            no cache): concurrent calls share one fetch, and a result at most this old is
            returned without a request.
        log_level: a :mod:`logging` level, e.g. ``logging.DEBUG``: the library's log lines
            at that level and above (request attempts, retries, credential refreshes;
            never secrets) go to the logger ``"dadratings"``. Unset: the library is silent.

    Raises:
        InvalidInputError: an option is invalid (the message names it).
        ConfigError: the configuration is incomplete (no region, bad endpoint).
        TypeError: an option has the wrong type.
    """

    def __init__(
        self,
        *,
        region: Optional[str] = None,
        endpoint: Optional[str] = None,
        credentials: Optional[CredentialsLike] = None,
        profile: Optional[str] = None,
        ratings_table: Optional[str] = None,
        stats_table: Optional[str] = None,
        connect_timeout_ms: Optional[int] = None,
        request_timeout_ms: Optional[int] = None,
        max_attempts: Optional[int] = None,
        aggregation_mode: Optional[str] = None,
        global_shards: Optional[int] = None,
        dashboard_max_age_ms: Optional[int] = None,
        log_level: Optional[int] = None,
    ) -> None:
        self._lock = threading.Condition(threading.Lock())
        self._inflight = 0
        self._closed = True  # until the C client exists
        self._handle: Optional[int] = None
        self._finalizer: Optional[weakref.finalize] = None

        lib = _lib.lib
        # Validate and encode everything before any C object exists.
        str_options = [
            (lib.dr_config_set_region, "region", region),
            (lib.dr_config_set_endpoint, "endpoint", endpoint),
            (lib.dr_config_set_profile, "profile", profile),
            (lib.dr_config_set_ratings_table, "ratings_table", ratings_table),
            (lib.dr_config_set_stats_table, "stats_table", stats_table),
        ]
        setters: List[Tuple[Callable[..., int], Any]] = [
            (fn, _encode(name, value)) for fn, name, value in str_options if value is not None
        ]
        for fn, name, value in [
            (lib.dr_config_set_connect_timeout_ms, "connect_timeout_ms", connect_timeout_ms),
            (lib.dr_config_set_request_timeout_ms, "request_timeout_ms", request_timeout_ms),
            (lib.dr_config_set_max_attempts, "max_attempts", max_attempts),
            (lib.dr_config_set_global_shards, "global_shards", global_shards),
            (lib.dr_config_set_dashboard_max_age_ms, "dashboard_max_age_ms",
             dashboard_max_age_ms),
        ]:
            if value is not None:
                setters.append((fn, _uint32(name, value)))
        if aggregation_mode is not None:
            if not isinstance(aggregation_mode, str):
                raise TypeError("aggregation_mode: must be a str")
            if aggregation_mode not in _AGGREGATION_MODES:
                raise _invalid('aggregation_mode: must be "inline" or "stream"')
            setters.append(
                (lib.dr_config_set_aggregation_mode, _AGGREGATION_MODES[aggregation_mode])
            )
        creds = self._credentials(credentials) if credentials is not None else None
        log_callback, c_log_level = None, 0
        if log_level is not None:
            if not isinstance(log_level, int) or isinstance(log_level, bool):
                raise TypeError(
                    f"log_level: must be a logging level (int), got {type(log_level).__name__}"
                )
            log_callback = _log_forwarder(logging.getLogger(LOGGER_NAME))
            c_log_level = _c_log_level(log_level)

        config = ctypes.c_void_p()
        _check(lib.dr_config_new(ctypes.byref(config)))
        try:
            for fn, arg in setters:
                _check(fn(config, arg))
            if creds is not None:
                _check(lib.dr_config_set_credentials(config, *creds))
            if log_callback is not None:
                _check(lib.dr_config_set_log(config, log_callback, c_log_level, None))
            handle = ctypes.c_void_p()
            _check(lib.dr_client_new(ctypes.byref(handle), config))
        finally:
            lib.dr_config_free(config)
        self._handle = handle.value
        self._closed = False
        # Frees the C client exactly once: on close(), or at garbage collection.
        self._finalizer = weakref.finalize(self, _free_client, handle.value, log_callback)

    @staticmethod
    def _credentials(value: CredentialsLike) -> Tuple[Optional[bytes], ...]:
        if isinstance(value, Credentials):
            parts: Sequence[Optional[str]] = (
                value.access_key_id,
                value.secret_access_key,
                value.session_token,
            )
        elif isinstance(value, (tuple, list)) and len(value) in (2, 3):
            parts = tuple(value) + (None,) * (3 - len(value))
        else:
            raise TypeError(
                "credentials: must be a Credentials or a tuple "
                "(access_key_id, secret_access_key[, session_token])"
            )
        return (
            _encode("credentials.access_key_id", parts[0]),
            _encode("credentials.secret_access_key", parts[1]),
            _encode("credentials.session_token", parts[2], optional=True),
        )

    # --- lifetime -----------------------------------------------------------------

    def close(self) -> None:
        """Free the C client. Idempotent and thread-safe: waits for calls already running
        on other threads to return; calls made afterwards raise :class:`ClosedError`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            while self._inflight:
                self._lock.wait()
        if self._finalizer is not None:
            self._finalizer()  # dr_client_free, at most once
        self._handle = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> "Client":
        self._acquire()
        self._release()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<dadratings.Client {'closed' if self._closed else 'open'}>"

    def _acquire(self) -> int:
        with self._lock:
            if self._closed or self._handle is None:
                raise ClosedError(Status.CLOSED, "the client is closed")
            self._inflight += 1
            return self._handle

    def _release(self) -> None:
        with self._lock:
            self._inflight -= 1
            if not self._inflight:
                self._lock.notify_all()

    def _call(self, body: Callable[[int], _T]) -> _T:
        handle = self._acquire()
        try:
            return body(handle)
        finally:
            self._release()

    # --- operations ---------------------------------------------------------------

    def write_rating(
        self,
        joke_id: str,
        rating: int,
        *,
        joke_text: Optional[str] = None,
        author: Optional[str] = None,
        mode: Optional[str] = None,
        date: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        submitted_at: Optional[str] = None,
    ) -> Stats:
        """Store a rating and return the joke's statistics, including it.

        Args:
            joke_id: non-empty, at most 256 UTF-8 bytes, no ``#``, no control characters.
            rating: stars, an int 1..5.
            joke_text: the joke, at most 8 KiB.
            author: at most 256 bytes, no ``#``; unset means ``"Unknown"``.
            mode: ``"daily"`` or ``"live"`` (the default).
            date: the joke's day, ``"YYYY-MM-DD"``; unset means today (UTC).
            idempotency_key: 1..128 of ``A-Z a-z 0-9 . _ : -``; writes with the same key
                count once.
            submitted_at: when the rating was given, ISO 8601 as JavaScript's Date writes
                it (``"2026-01-30T15:30:00.000Z"``; an offset such as ``+01:00`` is
                accepted); unset means now. For ratings recorded elsewhere first: during
                the migration, pass the time stored in S3 and
                ``idempotency_key=import_identity(bucket, key)``, and the import counts
                the rating once (the C library's docs/migration.md, "The dual write").

        Raises:
            InvalidInputError: a field is invalid (the message names it); nothing was
                written.
            TypeError: an argument has the wrong type; nothing was written.
            DadRatingsError: a subclass for any other failure (see :mod:`dadratings.errors`).
        """
        if not isinstance(rating, int) or isinstance(rating, bool):
            raise TypeError(f"rating: must be an int 1..5, got {type(rating).__name__}")
        if not _INT32_MIN <= rating <= _INT32_MAX:
            # Would not fit the C int32_t: say what the library says of any other value.
            raise _invalid(f"rating: must be an integer 1..5, got {rating}")
        jid = _encode("jokeId", joke_id)
        fields = [
            (_lib.lib.dr_rating_set_joke_text, _encode("jokeText", joke_text, optional=True)),
            (_lib.lib.dr_rating_set_author, _encode("author", author, optional=True)),
            (_lib.lib.dr_rating_set_mode, _encode("mode", mode, optional=True)),
            (_lib.lib.dr_rating_set_date, _encode("date", date, optional=True)),
            (
                _lib.lib.dr_rating_set_idempotency_key,
                _encode("idempotency key", idempotency_key, optional=True),
            ),
            (
                _lib.lib.dr_rating_set_submitted_at,
                _encode("submittedAt", submitted_at, optional=True),
            ),
        ]

        def body(handle: int) -> Stats:
            lib = _lib.lib
            rating_h = ctypes.c_void_p()
            _check(lib.dr_rating_new(ctypes.byref(rating_h), jid, rating))
            try:
                for setter, value in fields:
                    if value is not None:
                        _check(setter(rating_h, value))
                stats_h = ctypes.c_void_p()
                _check(lib.dr_client_write_rating(handle, rating_h, ctypes.byref(stats_h)))
            finally:
                lib.dr_rating_free(rating_h)
            try:
                return Stats._from_handle(stats_h.value, _check)
            finally:
                lib.dr_stats_free(stats_h)

        return self._call(body)

    def read_stats(self, joke_id: str) -> Stats:
        """One joke's statistics (one GetItem). A joke never rated gets zero counts.

        Raises:
            InvalidInputError: the joke id is invalid (the message says why).
            DadRatingsError: a subclass for any other failure.
        """
        jid = _encode("jokeId", joke_id)

        def body(handle: int) -> Stats:
            lib = _lib.lib
            stats_h = ctypes.c_void_p()
            _check(lib.dr_client_read_stats(handle, jid, ctypes.byref(stats_h)))
            try:
                return Stats._from_handle(stats_h.value, _check)
            finally:
                lib.dr_stats_free(stats_h)

        return self._call(body)

    def read_stats_many(self, joke_ids: Sequence[str]) -> List[Stats]:
        """Several jokes' statistics in one call (one BatchGetItem per 100 jokes), in
        input order. A joke never rated gets zero counts; one listed twice, two results.

        Raises:
            InvalidInputError: not 1..1000 joke ids, or one is invalid (the message names
                its index).
            DadRatingsError: a subclass for any other failure.
        """
        if isinstance(joke_ids, (str, bytes)) or not isinstance(joke_ids, Sequence):
            raise _invalid(
                f"joke_ids: must be a sequence of strings, got {type(joke_ids).__name__}")
        if not 1 <= len(joke_ids) <= _MAX_JOKES_PER_READ:
            raise _invalid(
                f"joke_ids: must hold 1..{_MAX_JOKES_PER_READ} joke ids, not {len(joke_ids)}")
        ids = [_encode(f"joke_ids[{i}]", jid) for i, jid in enumerate(joke_ids)]
        n = len(ids)

        def body(handle: int) -> List[Stats]:
            lib = _lib.lib
            id_array = (ctypes.c_char_p * n)(*ids)
            results = (ctypes.c_void_p * n)()
            _check(lib.dr_client_read_stats_many(handle, id_array, n, results))
            try:
                return [Stats._from_handle(results[i], _check) for i in range(n)]
            finally:
                for i in range(n):
                    lib.dr_stats_free(results[i])

        return self._call(body)

    def dashboard_stats(self) -> Dashboard:
        """The dashboard: totals, rating distribution, top performers, recent ratings.
        A fixed number of concurrent requests, whatever the number of ratings."""

        def body(handle: int) -> Dashboard:
            lib = _lib.lib
            dash_h = ctypes.c_void_p()
            _check(lib.dr_client_dashboard_stats(handle, ctypes.byref(dash_h)))
            try:
                return Dashboard._from_handle(dash_h.value, _check)
            finally:
                lib.dr_dashboard_free(dash_h)

        return self._call(body)

    def apply_stream_batch(self, records: Union[str, bytes, Dict[str, Any], List[Any]]) -> StreamBatchResult:
        """Apply a batch of the ratings table's DynamoDB Streams records to the statistics,
        exactly once per record (stream mode; see the C library's docs/aggregation.md).

        ``records`` is a Lambda event or a GetRecords response (an object with
        ``"Records"``), or a list of records: as parsed JSON (dict or list) or as JSON
        text. A Lambda handler can be::

            def handler(event, context):
                return client.apply_stream_batch(event).lambda_response()

        Records that could not be applied are in the result, not raised: report them for
        redelivery.

        Raises:
            InvalidInputError: ``records`` is not a batch of stream records.
            TypeError: ``records`` is not a str, bytes, dict or list.
        """
        if isinstance(records, (dict, list)):
            data = json.dumps(records).encode("utf-8")
        elif isinstance(records, str):
            try:
                data = records.encode("utf-8")
            except UnicodeEncodeError:
                raise _invalid("records: is not valid UTF-8") from None
        elif isinstance(records, bytes):
            data = records
        else:
            raise TypeError(
                f"records: must be a dict, list, str or bytes, got {type(records).__name__}"
            )

        def body(handle: int) -> StreamBatchResult:
            lib = _lib.lib
            result_h = ctypes.c_void_p()
            # c_char_p passes bytes as they are; the length lets an embedded NUL be seen
            # (and rejected as invalid JSON) rather than cut the text short.
            _check(lib.dr_client_apply_stream_batch(handle, data, len(data), ctypes.byref(result_h)))
            try:
                return StreamBatchResult._from_handle(result_h.value)
            finally:
                lib.dr_batch_result_free(result_h)

        return self._call(body)

    def create_tables(self, wait: bool = True) -> None:
        """Create the ratings and stats tables (existing tables are left alone); with
        ``wait``, return once both are ACTIVE."""
        flags = _CREATE_TABLES_WAIT if wait else 0
        self._call(lambda handle: _check(_lib.lib.dr_client_create_tables(handle, flags)))

    def describe(self) -> Dict[str, str]:
        """What the client resolved: ``region``, ``endpoint``, ``streams_endpoint`` and
        ``credential_source`` (``"environment"``, ``"profile:NAME"``, ``"imds"``...; ``""``
        until the first request has resolved credentials)."""

        def body(handle: int) -> Dict[str, str]:
            out: Dict[str, str] = {}
            text = ctypes.c_void_p()
            for index, name in enumerate(FACTS):
                _check(_lib.lib.dr_client_describe(handle, index, ctypes.byref(text)))
                try:
                    out[name] = ctypes.string_at(text.value).decode("utf-8")
                finally:
                    _lib.lib.dr_free(text)
            return out

        return self._call(body)

    def counters(self) -> Dict[str, int]:
        """The client's request counters (``requests``, ``attempts``, ``retries``...);
        they only grow."""

        def body(handle: int) -> Dict[str, int]:
            out: Dict[str, int] = {}
            value = ctypes.c_uint64()
            for index, name in enumerate(COUNTERS):
                _check(_lib.lib.dr_client_counter(handle, index, ctypes.byref(value)))
                out[name] = value.value
            return out

        return self._call(body)
