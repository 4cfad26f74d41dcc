/*
 * libdadratings - dad-joke ratings on Amazon DynamoDB with pre-computed statistics.
 *
 * This is the library's only public header and its reference manual.
 *
 * Conventions (they hold for every function below unless its comment says otherwise):
 *
 *  - Fallible functions return a dr_status: DR_OK (0) on success, else a DR_E_* code.
 *    After a failure, dr_last_error_message() gives a human-readable detail for the
 *    calling thread. A failed call sets its `out` parameter to NULL and changes nothing.
 *  - Objects are opaque. `dr_X_new(&out, ...)` makes one, `dr_X_free()` releases it;
 *    every `_free` accepts NULL.
 *  - `T **out` parameters transfer ownership to the caller. A returned `const char *`
 *    is borrowed: it stays valid until the object it came from is freed.
 *    Strings the library allocates for you (dr_X_to_json) are released with dr_free().
 *  - String inputs are UTF-8 and are copied; you may free them when the call returns.
 *  - Secrets (secret keys, session tokens, signatures) never appear in error messages
 *    or log lines.
 *  - Every DR_API function says `@since 1.N`: the first release that has it, 1.N.0. Its
 *    symbol is in the linker version node DADRATINGS_1.N (the 1.0 API: DADRATINGS_1).
 *  - `@return` lists every code a function can return. A NULL object or a NULL `out`
 *    where one is required is DR_E_INVALID_ARGUMENT. "A transport error" is any code a
 *    DynamoDB request can end in after the retries: DR_E_CREDENTIALS, DR_E_AUTH,
 *    DR_E_NETWORK, DR_E_TIMEOUT, DR_E_THROTTLED, DR_E_RETRY_QUOTA, DR_E_SERVICE,
 *    DR_E_CHECKSUM, DR_E_PROTOCOL, DR_E_VALIDATION, DR_E_NOT_FOUND, DR_E_IN_USE,
 *    DR_E_CONDITION_FAILED, DR_E_TRANSACTION_CANCELED, DR_E_TRANSACTION_CONFLICT, or
 *    DR_E_NOMEM / DR_E_INTERNAL. DR_E_NOT_IMPLEMENTED and DR_E_CLOSED are never returned
 *    by this version of the library (DR_E_CLOSED is for bindings).
 *  - Result accessors (dr_stats_*, dr_dashboard_*, dr_batch_result_*, dr_dead_letters_*
 *    reading one field) never fail and never record an error: a NULL object, an index
 *    `i` out of range or a `star` outside 1..5 gives 0 (0.0 for averages) or NULL for a
 *    string. Bindings read a whole result with its dr_X_to_json() (docs/bindings.md).
 *
 * Thread safety (see docs/threading.md):
 *  - dr_client: safe to share between any number of threads once created.
 *  - dr_config, dr_rating: not synchronised; use one from one thread at a time.
 *  - dr_stats, dr_dashboard: immutable; readable from any thread.
 *  - dr_set_allocator(): call once, before any other function, before threads start.
 *
 * ABI policy (see docs/ABI.md): names are only added, enum values are only appended and
 * never reused, no public struct exists, the SONAME is libdadratings.so.1.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef DADRATINGS_H
#define DADRATINGS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Export macro and version                                                 */
/* ------------------------------------------------------------------------ */

#if defined(DR_STATIC)
#  define DR_API
#elif defined(_WIN32)
#  if defined(DR_BUILDING_LIBRARY)
#    define DR_API __declspec(dllexport)
#  else
#    define DR_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define DR_API __attribute__((visibility("default")))
#else
#  define DR_API
#endif

#if defined(__GNUC__) && !defined(DR_NO_DEPRECATION_WARNINGS)
#  define DR_DEPRECATED __attribute__((deprecated))
#else
#  define DR_DEPRECATED
#endif

#define DR_VERSION_MAJOR 1
#define DR_VERSION_MINOR 3
#define DR_VERSION_PATCH 0
/** The version as 0xXXYYZZ: major, minor, patch. Compare with >=. */
#define DR_VERSION_NUM ((DR_VERSION_MAJOR << 16) | (DR_VERSION_MINOR << 8) | DR_VERSION_PATCH)
#define DR_VERSION_STRING "1.3.0"

/**
 * The version of the library loaded at run time, as "MAJOR.MINOR.PATCH".
 * Bindings compare it with the version they were written for.
 * @return static text, never NULL.  @since 1.0
 */
DR_API const char *dr_version(void);

/** The run-time version as DR_VERSION_NUM would spell it; never fails.  @since 1.0 */
DR_API uint32_t dr_version_num(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * Result of every fallible call. Values are stable and only ever appended.
 * The comment says what a caller can do about each.
 */
typedef enum dr_status {
    DR_OK = 0,
    /** An argument or field is invalid; the message names it. Fix the input. */
    DR_E_INVALID_ARGUMENT = 1,
    /** Memory allocation failed. Nothing was changed. */
    DR_E_NOMEM = 2,
    /** The operation is not available in this build or mode. */
    DR_E_NOT_IMPLEMENTED = 3,
    /** Configuration is incomplete or inconsistent (no region, bad endpoint URL...). */
    DR_E_CONFIG = 4,
    /** No credential provider yielded credentials; the message lists each tried. */
    DR_E_CREDENTIALS = 5,
    /** The service refused the credentials or signature (access denied, unknown key). */
    DR_E_AUTH = 6,
    /** The connection failed (refused, reset, DNS, TLS). Retried before it reaches you. */
    DR_E_NETWORK = 7,
    /** The request timed out. Retried before it reaches you. */
    DR_E_TIMEOUT = 8,
    /** Throttled by the service; retries were exhausted. Slow down. */
    DR_E_THROTTLED = 9,
    /** The service failed (HTTP 5xx); retries were exhausted. */
    DR_E_SERVICE = 10,
    /** The service rejected the request as invalid (ValidationException): usually tables
     *  that do not match (a missing index, another key schema). Not the caller's input,
     *  which the library checks itself (DR_E_INVALID_ARGUMENT). */
    DR_E_VALIDATION = 11,
    /** A condition on a write did not hold (ConditionalCheckFailedException). */
    DR_E_CONDITION_FAILED = 12,
    /** A transaction was cancelled; the message carries the per-item reasons. */
    DR_E_TRANSACTION_CANCELED = 13,
    /** A transaction conflicted with another one in progress. */
    DR_E_TRANSACTION_CONFLICT = 14,
    /** A table or index does not exist (ResourceNotFoundException). */
    DR_E_NOT_FOUND = 15,
    /** A response failed its x-amz-crc32 check; retries were exhausted. */
    DR_E_CHECKSUM = 16,
    /** A response could not be understood (malformed JSON, unexpected shape). */
    DR_E_PROTOCOL = 17,
    /** A resource is in use (a table being created or deleted). */
    DR_E_IN_USE = 18,
    /** The retry quota is exhausted: the endpoint has been failing; calls fail fast. */
    DR_E_RETRY_QUOTA = 19,
    /** The object was closed or is being used after it was freed (bindings). */
    DR_E_CLOSED = 20,
    /** An internal invariant failed; please report it. */
    DR_E_INTERNAL = 21
} dr_status;

/**
 * Static English text for a status code, for any value (unknown codes get a generic
 * text). Thread-safe.
 * @param code any value, known or not.
 * @return static text, never NULL; do not free it.  @since 1.0
 */
DR_API const char *dr_strerror(dr_status code);

/**
 * Detail of the last failure on the calling thread: which field was bad, what the
 * service said, which credential providers were tried. Read it only right after a call
 * returned an error; a successful call does not clear it. Never NULL ("" if none).
 * Borrowed: valid until the next library call on this thread.
 *
 * Threads: the message is thread-local. Bindings that run calls on worker threads must
 * read it on the same worker thread as the failed call.
 * @return the message, never NULL; do not free it.  @since 1.0
 */
DR_API const char *dr_last_error_message(void);

/**
 * The status code of the last failure on the calling thread. Like the message, a
 * successful call does not clear it.
 * @return the code, or DR_OK if no call on this thread has failed yet.  @since 1.0
 */
DR_API dr_status dr_last_error_code(void);

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

typedef void *(*dr_malloc_fn)(size_t size);
typedef void *(*dr_realloc_fn)(void *ptr, size_t size);
typedef void (*dr_free_fn)(void *ptr);

/**
 * Replace the allocator the library uses for its own memory. Call at most once, before
 * any other library call and before threads start. Libraries underneath (libcurl,
 * OpenSSL, jansson) keep their own allocators: process-wide hooks belong to the host.
 * @param malloc_fn required; called with size >= 1.
 * @param realloc_fn required.
 * @param free_fn required; must accept every pointer the other two returned.
 * @return DR_OK, or DR_E_INVALID_ARGUMENT if any function is NULL (nothing changes).
 * @since 1.0
 */
DR_API dr_status dr_set_allocator(dr_malloc_fn malloc_fn, dr_realloc_fn realloc_fn,
                                  dr_free_fn free_fn);

/**
 * Release a string the library allocated for you (dr_X_to_json).
 * @param ptr the string, or NULL (does nothing). Never a borrowed `const char *`.
 * @since 1.0
 */
DR_API void dr_free(void *ptr);

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum dr_log_level {
    DR_LOG_ERROR = 1,
    DR_LOG_WARN = 2,
    DR_LOG_INFO = 3,
    DR_LOG_DEBUG = 4
} dr_log_level;

/**
 * Receives one log line (no trailing newline). Called from whichever thread did the work,
 * possibly several at once. The message is borrowed for the call. Never contains secrets.
 */
typedef void (*dr_log_fn)(dr_log_level level, const char *message, void *payload);

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

/** Options for a client. Not synchronised: configure from one thread. */
typedef struct dr_config dr_config;

/** How write_rating maintains the statistics (see docs/aggregation.md). */
typedef enum dr_aggregation_mode {
    /** One TransactWriteItems writes the rating and every aggregate it touches. */
    DR_AGGREGATION_INLINE = 0,
    /** One PutItem; a stream aggregator maintains the statistics. */
    DR_AGGREGATION_STREAM = 1
} dr_aggregation_mode;

/**
 * Make a configuration with every option unset: unset options are resolved when the
 * client is created, from the environment as the AWS SDKs do.
 * @param out receives the configuration; free it with dr_config_free(). Required.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`out` NULL), DR_E_NOMEM.  @since 1.0
 */
DR_API dr_status dr_config_new(dr_config **out);

/**
 * Release a configuration; the secret key and session token are wiped. Clients made from
 * it are unaffected.
 * @param config the configuration, or NULL (does nothing).  @since 1.0
 */
DR_API void dr_config_free(dr_config *config);

/**
 * AWS region, e.g. "eu-west-1": 1..63 of a-z 0-9 -, from every source. Unset: AWS_REGION,
 * then AWS_DEFAULT_REGION, then the profile's `region` in the shared config and
 * credentials files (docs/configuration.md).
 * @param config required.
 * @param region the region, copied; NULL unsets.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, a malformed region), DR_E_NOMEM.
 * @since 1.0
 */
DR_API dr_status dr_config_set_region(dr_config *config, const char *region);

/**
 * DynamoDB endpoint URL, e.g. "http://127.0.0.1:8000", for the Streams API too. Unset:
 * AWS_ENDPOINT_URL_DYNAMODB (for Streams, AWS_ENDPOINT_URL_DYNAMODB_STREAMS first), then
 * AWS_ENDPOINT_URL, then the profile's `[services]` block (`dynamodb_streams` first for
 * Streams, then `dynamodb`) and its `endpoint_url` in the shared files (none of these when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's ignore_configured_endpoint_urls is
 * true; docs/configuration.md), then the region's endpoint as the AWS SDKs resolve it, with
 * FIPS, dual-stack and account-ID endpoints as the environment and profile ask, and region
 * "local" for DynamoDB Local (docs/endpoints.md). Plain http is accepted only for loopback
 * hosts (localhost, an IPv4 literal in 127.0.0.0/8, [::1]) and never goes through a proxy;
 * every other endpoint must be https, is verified, and uses the proxy the environment names
 * (https_proxy, ALL_PROXY, NO_PROXY, as libcurl reads them). Credential metadata requests
 * never use a proxy.
 * @param config required.
 * @param url "http[s]://host[:port]", copied; NULL unsets.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, a malformed URL, plain http to a
 *         host that is not loopback), DR_E_NOMEM.  @since 1.0
 */
DR_API dr_status dr_config_set_endpoint(dr_config *config, const char *url);

/**
 * Explicit credentials, first in the provider chain. The secret is wiped from memory
 * when freed. All three are copied.
 * @param config required.
 * @param access_key_id non-empty; NULL together with `secret_access_key` unsets all three.
 * @param secret_access_key non-empty; NULL exactly when `access_key_id` is NULL.
 * @param session_token may be NULL; must be NULL when the keys are.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, only one key given, an empty key,
 *         a token without keys), DR_E_NOMEM.  @since 1.0
 */
DR_API dr_status dr_config_set_credentials(dr_config *config, const char *access_key_id,
                                           const char *secret_access_key,
                                           const char *session_token);

/**
 * Profile of the shared credentials/config files. Unset: AWS_PROFILE, then "default".
 * @param config required.
 * @param profile 1..128 bytes without brackets or line breaks, copied; NULL unsets.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, a bad name), DR_E_NOMEM.
 * @since 1.0
 */
DR_API dr_status dr_config_set_profile(dr_config *config, const char *profile);

/**
 * Ratings table. Unset: DYNAMODB_RATINGS_TABLE, then "dad-jokes-ratings-prod".
 * @param config required.
 * @param table a DynamoDB table name (3..255 of A-Z a-z 0-9 _ - .), copied; NULL unsets.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, a bad name), DR_E_NOMEM.
 * @since 1.0
 */
DR_API dr_status dr_config_set_ratings_table(dr_config *config, const char *table);

/**
 * Stats table. Unset: DYNAMODB_STATS_TABLE, then "dad-jokes-stats-prod".
 * @param config required.
 * @param table a DynamoDB table name (3..255 of A-Z a-z 0-9 _ - .), copied; NULL unsets.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, a bad name), DR_E_NOMEM.
 * @since 1.0
 */
DR_API dr_status dr_config_set_stats_table(dr_config *config, const char *table);

/**
 * Connection timeout.
 * @param config required.
 * @param ms milliseconds; 0 restores the default (3,100 ms).
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL).  @since 1.0
 */
DR_API dr_status dr_config_set_connect_timeout_ms(dr_config *config, uint32_t ms);

/**
 * Whole-attempt timeout.
 * @param config required.
 * @param ms milliseconds; 0 restores the default (10,000 ms).
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL).  @since 1.0
 */
DR_API dr_status dr_config_set_request_timeout_ms(dr_config *config, uint32_t ms);

/**
 * Attempts per request including the first, 1..10; 0 restores the default: 4, as the AWS
 * SDKs' standard retry mode gives DynamoDB since its 2026 update, or 3 with the classic
 * policy (AWS_RETRY_MODE=legacy or AWS_NEW_RETRIES_2026=false, which also change the
 * backoff and the quota costs; see docs/retries.md).
 * @param config required.
 * @param attempts 0..10.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, `attempts` above 10).  @since 1.0
 */
DR_API dr_status dr_config_set_max_attempts(dr_config *config, uint32_t attempts);

/**
 * Aggregation mode; default DR_AGGREGATION_INLINE.
 * @param config required.
 * @param mode DR_AGGREGATION_INLINE or DR_AGGREGATION_STREAM.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, an unknown mode).  @since 1.0
 */
DR_API dr_status dr_config_set_aggregation_mode(dr_config *config, dr_aggregation_mode mode);

/**
 * Spread the hot GLOBAL counters over `shards` items (1..64), summed at read time; a
 * joke's ratings are always counted on the same shard (chosen from its id). 1, the
 * default, is the layout the JavaScript services read. A deployment may raise the
 * number later but must not lower it. See docs/scaling.md.
 * @param config required.
 * @param shards 1..64 (0 is refused; unset means 1).
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, `shards` outside 1..64).
 * @since 1.0
 */
DR_API dr_status dr_config_set_global_shards(dr_config *config, uint32_t shards);

/** The longest dr_config_set_dashboard_max_age_ms() takes: one hour. */
#define DR_MAX_DASHBOARD_AGE_MS 3600000u

/**
 * Cache the dashboard per client: dr_client_dashboard_stats() returns the latest one while
 * it is at most `max_age_ms` old (counted from the start of its fetch) without a request,
 * and concurrent calls that need a new one share one fetch (single flight) and its
 * outcome, an error included. A client then sends at most 4 / max-age requests per second
 * for the dashboard (plus one per further page of authors), whatever the number of
 * callers: N processes, at most N * 4 / max-age. dr_dashboard_age_ms() says how old a
 * result is. docs/scaling.md, "The dashboard cache".
 * @param config required.
 * @param max_age_ms 0 (the default: no cache, every call fetches) ..
 *        DR_MAX_DASHBOARD_AGE_MS.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, `max_age_ms` too large).
 * @since 1.3
 */
DR_API dr_status dr_config_set_dashboard_max_age_ms(dr_config *config, uint32_t max_age_ms);

/**
 * Log callback and the most verbose level it receives. Silent by default.
 * @param config required.
 * @param fn the callback, or NULL to turn logging off. Must stay callable as long as any
 *        client made from this configuration exists.
 * @param max_level DR_LOG_ERROR..DR_LOG_DEBUG (not checked when `fn` is NULL).
 * @param payload passed back to `fn` unchanged; not owned.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL, an unknown level with a `fn`).
 * @since 1.0
 */
DR_API dr_status dr_config_set_log(dr_config *config, dr_log_fn fn, dr_log_level max_level,
                                   void *payload);

/* ------------------------------------------------------------------------ */
/* Client                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * A DynamoDB client: endpoint, credentials, connection pool, retry quota, counters.
 * Safe to share between any number of threads; make one per process and keep it.
 */
typedef struct dr_client dr_client;

/**
 * Make a client. Region, endpoint and table names are resolved now; credentials are
 * resolved on first use and refreshed before they expire.
 * @param out receives the client; free it with dr_client_free(). Required.
 * @param config options, or NULL for all defaults. Copied: free it whenever you like.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`out` NULL), DR_E_CONFIG (no region, a bad
 *         endpoint or table name, also from the environment or the shared files, a shared
 *         file that cannot be read or parsed), DR_E_NOMEM, DR_E_INTERNAL
 *         (a mutex could not be made).  @since 1.0
 */
DR_API dr_status dr_client_new(dr_client **out, const dr_config *config);

/**
 * Release a client. No call may be running on it, and followers made with it must be
 * freed first.
 * @param client the client, or NULL (does nothing).  @since 1.0
 */
DR_API void dr_client_free(dr_client *client);

/** Per-client counters, read with dr_client_counter(). Values only ever appended. */
typedef enum dr_counter {
    DR_COUNTER_REQUESTS = 0,        /**< logical requests (one per API call to DynamoDB) */
    DR_COUNTER_ATTEMPTS = 1,        /**< HTTP attempts, including retries */
    DR_COUNTER_RETRIES = 2,         /**< attempts after the first */
    DR_COUNTER_BYTES_SENT = 3,      /**< request body bytes */
    DR_COUNTER_BYTES_RECEIVED = 4,  /**< response body bytes */
    DR_COUNTER_ERRORS_THROTTLED = 5,
    DR_COUNTER_ERRORS_SERVICE = 6,  /**< 5xx */
    DR_COUNTER_ERRORS_NETWORK = 7,  /**< connection failures and timeouts */
    DR_COUNTER_ERRORS_CHECKSUM = 8,
    DR_COUNTER_ERRORS_CLIENT = 9,   /**< 4xx other than throttling */
    DR_COUNTER_TRANSACTION_CONFLICTS = 10
} dr_counter;

/**
 * Read one counter. Counters only grow; reading is thread-safe.
 * @param client required.
 * @param which a dr_counter.
 * @param out receives the value (0 on failure). Required.
 * @return DR_OK, or DR_E_INVALID_ARGUMENT (`client` or `out` NULL, an unknown counter).
 * @since 1.0
 */
DR_API dr_status dr_client_counter(const dr_client *client, dr_counter which, uint64_t *out);

/** What dr_client_describe() reports. Values only ever appended. */
typedef enum dr_client_fact {
    /** The region the client resolved (configuration, AWS_REGION, the profile). */
    DR_FACT_REGION = 0,
    /** The DynamoDB endpoint URL requests go to, as resolved (docs/endpoints.md). */
    DR_FACT_ENDPOINT = 1,
    /** The DynamoDB Streams endpoint URL the followers use. */
    DR_FACT_STREAMS_ENDPOINT = 2,
    /** The credential source that served the credentials now in use: "explicit",
     *  "environment", "web-identity", "profile:NAME", "assume-role:NAME",
     *  "process:NAME", "sso:NAME", "container" or "imds" (NAME: the profile). "" until
     *  the first request has resolved credentials (docs/credentials.md). */
    DR_FACT_CREDENTIAL_SOURCE = 3
} dr_client_fact;

/**
 * What the client decided, so a user can check it without reading logs. Thread-safe;
 * the credential source may change when credentials are refreshed.
 * @param client required.
 * @param fact a dr_client_fact.
 * @param out receives a copy of the text; release it with dr_free(). Required.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`client` or `out` NULL, an unknown fact),
 *         DR_E_NOMEM.  @since 1.1
 */
DR_API dr_status dr_client_describe(const dr_client *client, dr_client_fact fact, char **out);

/* ------------------------------------------------------------------------ */
/* Results: one joke's statistics                                           */
/* ------------------------------------------------------------------------ */

/** Statistics of one joke. Immutable. */
typedef struct dr_stats dr_stats;

/**
 * Release a result; the strings borrowed from it become invalid.
 * @param stats the result, or NULL (does nothing).  @since 1.0
 */
DR_API void dr_stats_free(dr_stats *stats);
/**
 * The joke id. Borrowed.
 * @param stats the result; NULL gives NULL.
 * @return the id (never NULL for a real result).  @since 1.0
 */
DR_API const char *dr_stats_joke_id(const dr_stats *stats);
/**
 * Number of ratings.
 * @param stats the result; NULL gives 0.  @since 1.0
 */
DR_API uint64_t dr_stats_total_ratings(const dr_stats *stats);
/**
 * Number of ratings with `star` stars.
 * @param stats the result; NULL gives 0.
 * @param star 1..5; any other value gives 0.  @since 1.0
 */
DR_API uint64_t dr_stats_count(const dr_stats *stats, int32_t star);
/**
 * Sum of all ratings.
 * @param stats the result; NULL gives 0.  @since 1.0
 */
DR_API uint64_t dr_stats_total_score(const dr_stats *stats);
/**
 * totalScore / totalRatings rounded to 2 decimals as the JavaScript services round it;
 * 0 when there are no ratings.
 * @param stats the result; NULL gives 0.  @since 1.0
 */
DR_API double dr_stats_average(const dr_stats *stats);
/**
 * ISO-8601 time of the newest rating. Borrowed.
 * @param stats the result; NULL gives NULL.
 * @return the time, or NULL when there is none.  @since 1.0
 */
DR_API const char *dr_stats_last_rated_at(const dr_stats *stats);
/**
 * Non-zero when the result includes a rating the aggregator has not yet applied
 * (stream mode: write_rating folds the rating it just wrote into what it returns).
 * @param stats the result; NULL gives 0.  @since 1.0
 */
DR_API int32_t dr_stats_pending(const dr_stats *stats);
/**
 * Render as the JSON of docs/data-model.md, "Result shapes":
 * {"counts":{"1":..,"5":..},"totalRatings":n,"average":x,"jokeId":"..","lastRatedAt":..}
 * (plus "pending":true when dr_stats_pending() is non-zero). Counts are exact integers.
 * @param stats the result. Required.
 * @param out receives a NUL-terminated string; release it with dr_free(). Required;
 *        NULL after a failure.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`stats` or `out` NULL), DR_E_NOMEM.  @since 1.0
 */
DR_API dr_status dr_stats_to_json(const dr_stats *stats, char **out);

/* ------------------------------------------------------------------------ */
/* Operations                                                               */
/* ------------------------------------------------------------------------ */

/**
 * A rating to write: joke id and stars plus optional fields. Built with setters so that
 * new optional fields never change the ABI. Not synchronised.
 */
typedef struct dr_rating dr_rating;

/**
 * Start a rating. Validation happens here and in each setter, so bad input is reported
 * against the field that carries it.
 * @param out receives the rating; free it with dr_rating_free(). Required.
 * @param joke_id non-empty UTF-8, at most 256 bytes, no control characters, no '#'.
 *        Copied.
 * @param stars 1..5.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`out` NULL, a bad field: the message names it),
 *         DR_E_NOMEM.  @since 1.0
 */
DR_API dr_status dr_rating_new(dr_rating **out, const char *joke_id, int32_t stars);
/**
 * Release a rating.
 * @param rating the rating, or NULL (does nothing).  @since 1.0
 */
DR_API void dr_rating_free(dr_rating *rating);
/*
 * The setters below share these rules: `rating` is required; the value is validated,
 * then copied; NULL unsets the field. A failed setter leaves the field as it was.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`rating` NULL, a bad value: the message names the
 *         field), DR_E_NOMEM.
 */
/**
 * The joke's text, at most 8 KiB of UTF-8 (no control characters but whitespace).
 * @param rating required.
 * @param text the text, or NULL to unset.
 * @return DR_OK, DR_E_INVALID_ARGUMENT, DR_E_NOMEM (see above).  @since 1.0
 */
DR_API dr_status dr_rating_set_joke_text(dr_rating *rating, const char *text);
/**
 * The joke's author: 1..256 bytes of UTF-8, no control characters, no '#'; unset means
 * "Unknown".
 * @param rating required.
 * @param author the author, or NULL to unset.
 * @return DR_OK, DR_E_INVALID_ARGUMENT, DR_E_NOMEM (see above).  @since 1.0
 */
DR_API dr_status dr_rating_set_author(dr_rating *rating, const char *author);
/**
 * The mode the joke was rated in.
 * @param rating required.
 * @param mode "daily" or "live" (the default), or NULL to unset.
 * @return DR_OK, DR_E_INVALID_ARGUMENT, DR_E_NOMEM (see above).  @since 1.0
 */
DR_API dr_status dr_rating_set_mode(dr_rating *rating, const char *mode);
/**
 * The day the joke belongs to; unset means the UTC day of submission.
 * @param rating required.
 * @param date "YYYY-MM-DD", or NULL to unset.
 * @return DR_OK, DR_E_INVALID_ARGUMENT, DR_E_NOMEM (see above).  @since 1.0
 */
DR_API dr_status dr_rating_set_date(dr_rating *rating, const char *date);
/**
 * A caller-chosen key that makes repeated writes of the same rating count once, for as
 * long as the rating item exists. The rating item's key is derived from it (with the
 * submittedAt), so writes of one rating with one submittedAt name one item.
 * @param rating required.
 * @param key 1..128 bytes of A-Z a-z 0-9 . _ : -, or NULL to unset.
 * @return DR_OK, DR_E_INVALID_ARGUMENT, DR_E_NOMEM (see above).  @since 1.0
 */
DR_API dr_status dr_rating_set_idempotency_key(dr_rating *rating, const char *key);
/**
 * When the rating was given, for ratings recorded elsewhere first (the import, an app
 * writing to S3 and to DynamoDB during a migration); unset means the time of the write.
 * It orders the joke's ratings and the dashboard's recent list and sets lastRatedAt.
 * With an idempotency key, the rating item's key is derived from both (docs/migration.md),
 * so two writes of the same rating store one item.
 * @param rating required.
 * @param submitted_at ISO 8601 as JavaScript's Date writes it ("2026-01-30T15:30:00.000Z";
 *        seconds required, an optional fraction, `Z` or an offset `+01:00`), a real date,
 *        at most 40 bytes; or NULL to unset.
 * @return DR_OK, DR_E_INVALID_ARGUMENT, DR_E_NOMEM (see above).  @since 1.2
 */
DR_API dr_status dr_rating_set_submitted_at(dr_rating *rating, const char *submitted_at);

/**
 * Store a rating and return the joke's statistics including it.
 * Inline mode: one TransactWriteItems (the rating and every aggregate, exact under
 * concurrency). Stream mode: one PutItem; the result folds the new rating in and says so
 * through dr_stats_pending().
 * @param client required.
 * @param rating required; only read, so it may be reused or freed after the call.
 * @param out receives the joke's statistics (free with dr_stats_free()); may be NULL if
 *        you do not want them.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`client` or `rating` NULL), DR_E_NOMEM, a
 *         transport error (DR_E_NETWORK, DR_E_TIMEOUT, DR_E_THROTTLED, DR_E_SERVICE,
 *         DR_E_AUTH, DR_E_CREDENTIALS, DR_E_NOT_FOUND, DR_E_TRANSACTION_CANCELED...).
 * Thread-safe.  @since 1.0
 */
DR_API dr_status dr_client_write_rating(dr_client *client, const dr_rating *rating,
                                        dr_stats **out);

/**
 * One joke's statistics: one GetItem. A joke with no ratings gets zero counts.
 * A joke's stats item is always written with exact values, so a counter there that is
 * not a non-negative integer is corruption: DR_E_PROTOCOL, the message naming the
 * attribute. A stored total score above 5 * total ratings gives an average of 5.
 * @param client required.
 * @param joke_id as for dr_rating_new(). Copied into the result.
 * @param out receives the statistics; free them with dr_stats_free(). Required.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`client` or `out` NULL, a bad `joke_id`),
 *         DR_E_PROTOCOL (a corrupt counter, see above), DR_E_NOMEM, a transport error.
 * Thread-safe.  @since 1.0
 */
DR_API dr_status dr_client_read_stats(dr_client *client, const char *joke_id, dr_stats **out);

/** The most jokes dr_client_read_stats_many() takes in one call. */
#define DR_READ_STATS_MAX_JOKES 1000

/**
 * Several jokes' statistics in one call (a page of jokes with their stars): one strongly
 * consistent BatchGetItem per 100 distinct jokes, the keys DynamoDB leaves unprocessed
 * asked for again with backoff. out[i] is the statistics of joke_ids[i], in input order;
 * a joke with no ratings gets zero counts, a joke listed twice gets two results. Each
 * result is what dr_client_read_stats() would give.
 * @param client required.
 * @param joke_ids `n` joke ids, each as for dr_rating_new(). Required.
 * @param n 1..DR_READ_STATS_MAX_JOKES.
 * @param out an array of `n` pointers, filled on DR_OK (free each with dr_stats_free());
 *        all NULL on an error (not touched when `n` is out of range). Required.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`client`, `joke_ids` or `out` NULL, `n` out of
 *         range, a bad joke id: the message names its index), DR_E_PROTOCOL (a corrupt
 *         counter), DR_E_NOMEM, a transport error (DR_E_THROTTLED when keys stay
 *         unprocessed).
 * Thread-safe.  @since 1.3
 */
DR_API dr_status dr_client_read_stats_many(dr_client *client, const char *const *joke_ids,
                                           size_t n, dr_stats **out);

/** The whole dashboard. Immutable. */
typedef struct dr_dashboard dr_dashboard;

/**
 * The dashboard of docs/data-model.md, "Result shapes". Issues a fixed number of requests, concurrently,
 * whatever the number of ratings: four (the global counters, the per-author figures, the
 * top performers, the recent ratings), plus one per further page of authors (a page holds
 * 1 MB of author items: their number grows with authors, never with ratings), plus
 * N - 1 top-performer queries with N global shards (dr_config_set_global_shards()).
 *
 * That holds on tables whose top-performers index is complete: made by
 * dr_client_create_tables() with DR_CREATE_TABLES_WAIT, or upgraded by
 * dr_client_upgrade_tables(); a schema marker item says so, read in the same request as
 * the global counters. On a table in the original JavaScript layout (no marker) the
 * result is still exact, but the top performers come from paging through the whole
 * GSI1 TOP_PERFORMERS partition: 1 request per 1 MB page, about
 * N_jokes * item size / 1 MB requests (e.g. ~40 for 100,000 jokes of ~400 bytes); the
 * client logs this once at DR_LOG_INFO. With more than one global shard that layout
 * cannot be read (no GSI1 keys are written): DR_E_CONFIG, asking for the upgrade.
 * Stored counters that no real ratings can produce (a negative sum over GLOBAL shards, an
 * author item below zero, a total score outside [total, 5 * total]) do not fail the
 * call: the figure is clamped, logged once per call at DR_LOG_WARN naming the item, and
 * counted by dr_dashboard_inconsistent().
 * @param client required.
 * @param out receives the dashboard; free it with dr_dashboard_free(). Required.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`client` or `out` NULL), DR_E_CONFIG (see above),
 *         DR_E_NOMEM, a transport error (the first of the concurrent requests to fail).
 * Thread-safe.  @since 1.0
 */
DR_API dr_status dr_client_dashboard_stats(dr_client *client, dr_dashboard **out);

/**
 * Release a dashboard; the strings borrowed from it become invalid.
 * @param dashboard the dashboard, or NULL (does nothing).  @since 1.0
 */
DR_API void dr_dashboard_free(dr_dashboard *dashboard);
/**
 * Render as the JSON of docs/data-model.md, "Result shapes": every field the accessors
 * below read, counts as exact integers, averages with at most 2 decimals, and optional
 * strings left out when absent (null when stored as NULL), as the JavaScript services
 * answer. Does not include dr_dashboard_inconsistent().
 * @param dashboard the dashboard. Required.
 * @param out receives a NUL-terminated string; release it with dr_free(). Required;
 *        NULL after a failure.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`dashboard` or `out` NULL), DR_E_NOMEM.
 * @since 1.0
 */
DR_API dr_status dr_dashboard_to_json(const dr_dashboard *dashboard, char **out);

/*
 * Accessors. Strings are borrowed from the dashboard. As for every result accessor, a
 * NULL `d` or an `i` out of range gives 0 (0.0 for averages) or NULL, and a `star`
 * outside 1..5 gives 0.
 */
/**
 * Ratings over all jokes.
 * @param d the dashboard; NULL gives 0.  @since 1.0
 */
DR_API uint64_t dr_dashboard_overall_ratings(const dr_dashboard *d);
/**
 * Average over all ratings, rounded to 2 decimals; 0 when there are none.
 * @param d the dashboard; NULL gives 0.  @since 1.0
 */
DR_API double dr_dashboard_overall_average(const dr_dashboard *d);
/**
 * Number of jokes with at least one rating.
 * @param d the dashboard; NULL gives 0.  @since 1.0
 */
DR_API uint64_t dr_dashboard_unique_jokes(const dr_dashboard *d);
/**
 * Ratings with `star` stars over all jokes.
 * @param d the dashboard; NULL gives 0.
 * @param star 1..5; any other value gives 0.  @since 1.0
 */
DR_API uint64_t dr_dashboard_rating_count(const dr_dashboard *d, int32_t star);
/**
 * How many stored items held figures that real ratings cannot produce and were clamped
 * for this dashboard (see dr_client_dashboard_stats()); 0 normally.
 * @param d the dashboard; NULL gives 0.  @since 1.0
 */
DR_API uint32_t dr_dashboard_inconsistent(const dr_dashboard *d);
/**
 * How old the dashboard's figures are, in milliseconds since its fetch started (a
 * monotonic clock): a few milliseconds for a dashboard just fetched, up to the configured
 * maximum for one from the cache (dr_config_set_dashboard_max_age_ms()).
 * @param d the dashboard; NULL gives 0.  @since 1.3
 */
DR_API uint64_t dr_dashboard_age_ms(const dr_dashboard *d);

/**
 * Number of authors; they are listed most ratings first (ties by name, bytewise).
 * @param d the dashboard; NULL gives 0.  @since 1.0
 */
DR_API size_t dr_dashboard_author_count(const dr_dashboard *d);
/**
 * Author `i`'s name. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_author_name(const dr_dashboard *d, size_t i);
/**
 * Ratings of author `i`'s jokes.
 * @param d the dashboard; NULL gives 0.
 * @param i 0..count-1; out of range gives 0.  @since 1.0
 */
DR_API uint64_t dr_dashboard_author_total_ratings(const dr_dashboard *d, size_t i);
/**
 * Average of author `i`'s ratings, rounded to 2 decimals.
 * @param d the dashboard; NULL gives 0.
 * @param i 0..count-1; out of range gives 0.  @since 1.0
 */
DR_API double dr_dashboard_author_average(const dr_dashboard *d, size_t i);
/**
 * Author `i`'s ratings with `star` stars.
 * @param d the dashboard; NULL gives 0.
 * @param i 0..count-1; out of range gives 0.
 * @param star 1..5; any other value gives 0.  @since 1.0
 */
DR_API uint64_t dr_dashboard_author_rating_count(const dr_dashboard *d, size_t i, int32_t star);

/**
 * Number of top performers: at most 8 jokes with >= 3 ratings, best average first.
 * @param d the dashboard; NULL gives 0.  @since 1.0
 */
DR_API size_t dr_dashboard_top_count(const dr_dashboard *d);
/**
 * Top performer `i`'s joke id. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_top_joke_id(const dr_dashboard *d, size_t i);
/**
 * Joke text, or NULL when the joke was rated without one. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_top_joke_text(const dr_dashboard *d, size_t i);
/**
 * The joke's author, or NULL when none was stored. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_top_author(const dr_dashboard *d, size_t i);
/**
 * The joke's number of ratings.
 * @param d the dashboard; NULL gives 0.
 * @param i 0..count-1; out of range gives 0.  @since 1.0
 */
DR_API uint64_t dr_dashboard_top_total_ratings(const dr_dashboard *d, size_t i);
/**
 * The joke's average, rounded to 2 decimals.
 * @param d the dashboard; NULL gives 0.
 * @param i 0..count-1; out of range gives 0.  @since 1.0
 */
DR_API double dr_dashboard_top_average(const dr_dashboard *d, size_t i);
/**
 * ISO-8601 time of the joke's newest rating, or NULL when none was stored. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_top_last_rated_at(const dr_dashboard *d, size_t i);

/**
 * Number of recent ratings: the newest 20, newest first.
 * @param d the dashboard; NULL gives 0.  @since 1.0
 */
DR_API size_t dr_dashboard_recent_count(const dr_dashboard *d);
/**
 * Recent rating `i`'s joke id. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_recent_joke_id(const dr_dashboard *d, size_t i);
/**
 * Recent rating `i`'s stars, 1..5.
 * @param d the dashboard; NULL gives 0.
 * @param i 0..count-1; out of range gives 0.  @since 1.0
 */
DR_API int32_t dr_dashboard_recent_rating(const dr_dashboard *d, size_t i);
/**
 * The joke text, or NULL when the rating was written without one. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_recent_joke_text(const dr_dashboard *d, size_t i);
/**
 * The author, or NULL when none was stored. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_recent_author(const dr_dashboard *d, size_t i);
/**
 * The mode ("daily", "live"), or NULL when none was stored. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_recent_mode(const dr_dashboard *d, size_t i);
/**
 * The day the joke belongs to ("YYYY-MM-DD"), or NULL when none was stored. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_recent_date(const dr_dashboard *d, size_t i);
/**
 * When the rating was submitted (ISO 8601), or NULL when none was stored. Borrowed.
 * @param d the dashboard; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dashboard_recent_submitted_at(const dr_dashboard *d, size_t i);

/** Flags for dr_client_create_tables(). */
#define DR_CREATE_TABLES_WAIT 0x1u /**< wait until both tables are ACTIVE */

/**
 * Create the ratings and stats tables as docs/data-model.md describes (keys, GSI1/GSI2,
 * stream NEW_AND_OLD_IMAGES, on-demand billing). Tables that exist are left alone.
 * With DR_CREATE_TABLES_WAIT, a stats table created here also gets the schema marker
 * (PK "SCHEMA", SK "VERSION"), so dr_client_dashboard_stats() takes its fixed-cost path
 * at once; without it the table is not ACTIVE yet and the marker is not written (run
 * dr_client_upgrade_tables() later: on a new table it only writes the marker).
 * @param client required.
 * @param flags 0 or DR_CREATE_TABLES_WAIT.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`client` NULL, unknown flags), DR_E_TIMEOUT (with
 *         DR_CREATE_TABLES_WAIT: a table did not become ACTIVE in time), DR_E_NOMEM, a
 *         transport error.
 * Thread-safe.  @since 1.0
 */
DR_API dr_status dr_client_create_tables(dr_client *client, uint32_t flags);

/** Phases reported to a dr_upgrade_progress_fn. */
typedef enum dr_upgrade_phase {
    DR_UPGRADE_INDEX = 1,    /**< creating the index and waiting until it is ACTIVE */
    DR_UPGRADE_BACKFILL = 2, /**< scanning the stats items */
    DR_UPGRADE_DONE = 3      /**< the schema marker is written: the upgrade is complete */
} dr_upgrade_phase;

/**
 * Progress of dr_client_upgrade_tables(), called on the calling thread after each stats
 * item (and once per phase). `total_estimate` is DynamoDB's ItemCount of the stats table
 * (refreshed about every six hours, so only an estimate). Return 0 to go on, non-zero to
 * stop after the current item: the call then returns DR_OK without writing the schema
 * marker, and a later call continues (every step is idempotent).
 */
typedef int (*dr_upgrade_progress_fn)(dr_upgrade_phase phase, uint64_t items_scanned,
                                      uint64_t items_updated, uint64_t total_estimate,
                                      void *payload);

/**
 * Bring a stats table created by the original JavaScript services (terraform: GSI1 only,
 * items without statsVersion, uniqueJokes never counted) to this library's layout, so
 * dr_client_dashboard_stats() takes its fixed-cost path:
 *  1. UpdateTable adds the top-performers index GSI2 (GSI2PK S, GSI2SK S, projection
 *     ALL) unless it exists, and waits until it is ACTIVE;
 *  2. a paged Scan of the stats table: each joke's stats item without statsVersion gets,
 *     in one transaction, statsVersion 1, its exact index keys (from 3 ratings on) and
 *     +1 on GLOBAL uniqueJokes, conditional on the item being unchanged; an item with
 *     statsVersion whose GSI2 keys are missing or stale gets them;
 *  3. writes the schema marker (PK "SCHEMA", SK "VERSION").
 * Interrupted (killed, a failure, `fn` asking to stop) and run again, it converges to the
 * same result. Stop the original aggregator first: its writes after step 2 leave GSI2
 * stale (a rerun fixes them). Use the global shard count the deployment uses. The scan
 * costs one read of every stats item and one transaction per item updated.
 * @param client required.
 * @param flags 0 (reserved).
 * @param fn progress callback; may be NULL.
 * @param payload passed to fn unchanged; not owned.
 * @return DR_OK (also when `fn` stopped it), DR_E_INVALID_ARGUMENT (`client` NULL, flags
 *         not 0), DR_E_TIMEOUT (the index did not become ACTIVE within 10 minutes: call
 *         again), DR_E_NOMEM, a transport error.
 * Thread-safe; one upgrade per table at a time is enough.  @since 1.0
 */
DR_API dr_status dr_client_upgrade_tables(dr_client *client, uint32_t flags,
                                          dr_upgrade_progress_fn fn, void *payload);

/* ------------------------------------------------------------------------ */
/* Stream aggregation (see docs/aggregation.md)                             */
/* ------------------------------------------------------------------------ */

/** The outcome of applying one batch of stream records. Immutable. */
typedef struct dr_batch_result dr_batch_result;

/**
 * Apply a batch of the ratings table's DynamoDB Streams records to the stats table,
 * exactly once per record: a record delivered again, overlapping batches, a crash in
 * the middle of a batch and a retry after a timeout whose first attempt succeeded all
 * leave every aggregate exact (each applied record leaves a marker item, written in the
 * same transaction as the counters it changes).
 *
 * What each record does:
 *  - INSERT of a rating: counts it, unless the item was written in inline mode (its
 *    aggregates were committed with it).
 *  - MODIFY of a rating whose stars changed: moves it from the old count to the new one.
 *  - REMOVE by a user: un-counts the rating. REMOVE by TTL (user identity: the DynamoDB
 *    service) changes nothing: the aggregates are history.
 *  - anything else (idempotency markers, unchanged ratings): skipped.
 * Records are applied in order; at the first record that cannot be applied the rest are
 * reported failed too, as Lambda resumes a shard from its first failure.
 *
 * @param client required.
 * @param records_json a Lambda event or a GetRecords response: an object with
 *        "Records", or a bare array of records; `len` bytes of UTF-8 JSON (no NUL
 *        needed). Required; only read during the call.
 * @param len the number of bytes of `records_json`.
 * @param out receives the outcome, also when some records failed; free it with
 *        dr_batch_result_free(). Required.
 * @return DR_OK when the batch was read (request errors while applying are reported per
 *         record: see dr_batch_result_failed_count()), DR_E_INVALID_ARGUMENT (`client`,
 *         `records_json` or `out` NULL; records_json is not a batch of records),
 *         DR_E_NOMEM (retry the whole batch).
 * Thread-safe.  @since 1.0
 */
DR_API dr_status dr_client_apply_stream_batch(dr_client *client, const char *records_json,
                                              size_t len, dr_batch_result **out);

/**
 * Release an outcome; the strings borrowed from it become invalid.
 * @param result the outcome, or NULL (does nothing).  @since 1.0
 */
DR_API void dr_batch_result_free(dr_batch_result *result);
/**
 * Records counted, moved or un-counted by this call.
 * @param result the outcome; NULL gives 0.  @since 1.0
 */
DR_API size_t dr_batch_result_applied(const dr_batch_result *result);
/**
 * Records that change nothing (inline-written, TTL removals, not ratings).
 * @param result the outcome; NULL gives 0.  @since 1.0
 */
DR_API size_t dr_batch_result_skipped(const dr_batch_result *result);
/**
 * Records applied before (redelivered).
 * @param result the outcome; NULL gives 0.  @since 1.0
 */
DR_API size_t dr_batch_result_duplicates(const dr_batch_result *result);
/**
 * Records not applied; the caller reports them for redelivery.
 * @param result the outcome; NULL gives 0.  @since 1.0
 */
DR_API size_t dr_batch_result_failed_count(const dr_batch_result *result);
/**
 * The SequenceNumber of failed record `i`, in batch order. Borrowed.
 * @param result the outcome; NULL gives NULL.
 * @param i 0..dr_batch_result_failed_count()-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_batch_result_failed_sequence_number(const dr_batch_result *result,
                                                          size_t i);
/**
 * The Lambda partial batch response:
 * {"batchItemFailures":[{"itemIdentifier":"<SequenceNumber>"}, ...]}.
 * @param result the outcome. Required.
 * @param out receives a NUL-terminated string; release it with dr_free(). Required;
 *        NULL after a failure.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`result` or `out` NULL), DR_E_NOMEM.  @since 1.0
 */
DR_API dr_status dr_batch_result_to_json(const dr_batch_result *result, char **out);

/**
 * Follows the ratings table's stream through the DynamoDB Streams API (DescribeStream,
 * GetShardIterator, GetRecords), across shards and their children, applying each batch
 * with dr_client_apply_stream_batch() and keeping a checkpoint per shard in the stats
 * table, so that a restarted follower resumes where the last one stopped. Not
 * synchronised: one thread polls a follower.
 */
typedef struct dr_follower dr_follower;

/**
 * Make a follower. It makes no request until the first dr_follower_poll().
 * @param out receives the follower; free it with dr_follower_free(). Required.
 * @param client used for every request; not owned, must outlive the follower. Required.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`out` or `client` NULL), DR_E_NOMEM.  @since 1.0
 */
DR_API dr_status dr_follower_new(dr_follower **out, dr_client *client);
/**
 * Release a follower (its checkpoints stay in the stats table). No call may be running.
 * @param follower the follower, or NULL (does nothing).  @since 1.0
 */
DR_API void dr_follower_free(dr_follower *follower);

/**
 * Deliveries of one stream record that fail for a reason in the record itself (it cannot
 * be planned: DR_E_INVALID_ARGUMENT; the service rejects the request built from it:
 * DR_E_VALIDATION, or DR_E_TRANSACTION_CANCELED for a reason other than throttling or a
 * conflict; a stored item it touches cannot be read: DR_E_PROTOCOL) before the
 * follower parks it as a dead letter and moves on. One delivery per round; the count is
 * kept in the shard's checkpoint, so restarts do not reset it. Failures of the
 * environment (network, throttling, credentials, a missing table) never park a record:
 * they are retried every round. See docs/aggregation.md, "Dead letters".
 */
#define DR_FOLLOWER_MAX_DELIVERIES 5

/**
 * One round: read every readable shard once and apply what it holds. A shard that fails
 * does not stop the round: the other shards are still read.
 * A record failing DR_FOLLOWER_MAX_DELIVERIES times is written to a dead-letter item in
 * the stats table (logged at DR_LOG_ERROR with its shard, sequence number and reason) and
 * the shard's checkpoint moves past it; the records after it are applied in the same
 * round. The checkpoint never moves past a record whose dead-letter item was not written.
 * @param follower required.
 * @param records_seen receives the number of records read this round (0: the stream was
 *        idle; back off before the next round). May be NULL.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`follower` NULL), DR_E_CONFIG (the ratings table
 *         has no stream), DR_E_NOMEM, or the first error of the round (a transport error,
 *         or a record's own error as for dr_client_apply_stream_batch()), after every
 *         other shard was served (checkpoints are kept, so the next round redoes only
 *         what was not applied).
 * @since 1.0
 */
DR_API dr_status dr_follower_poll(dr_follower *follower, uint64_t *records_seen);

/**
 * Records this follower has parked as dead letters since it was made.
 * @param follower the follower; NULL gives 0.  @since 1.0
 */
DR_API uint64_t dr_follower_dead_lettered(const dr_follower *follower);

/**
 * Stream records parked as dead letters (by any follower of this ratings table), in
 * shard and sequence-number order. Immutable.
 */
typedef struct dr_dead_letters dr_dead_letters;

/**
 * Read every dead letter of the follower's ratings table (a strongly consistent Query
 * of the stats table, paged).
 * @param follower required.
 * @param out receives the list; free it with dr_dead_letters_free(). Required.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`follower` or `out` NULL), DR_E_NOMEM,
 *         DR_E_PROTOCOL (an item without its fields), a transport error.  @since 1.0
 */
DR_API dr_status dr_follower_list_dead_letters(dr_follower *follower, dr_dead_letters **out);

/**
 * Apply each dead letter's record again with dr_client_apply_stream_batch() and delete
 * the item once the record is applied (or found applied before: markers keep it exactly
 * once). A record that still fails stays parked. Records are re-applied out of stream
 * order, after what followed them: use it once the cause is fixed (a library bug, a
 * table), not for records whose own content is invalid.
 * @param follower required.
 * @param requeued receives how many were applied and deleted; may be NULL.
 * @param still_parked receives how many still fail; may be NULL.
 * @return DR_OK (also when some still fail), DR_E_INVALID_ARGUMENT (`follower` NULL),
 *         or the error that stopped it: as for dr_follower_list_dead_letters(), or a
 *         transport error (records requeued before it are deleted; the rest stay).
 * @since 1.0
 */
DR_API dr_status dr_follower_requeue_dead_letters(dr_follower *follower, size_t *requeued,
                                                  size_t *still_parked);

/**
 * Release a list; the strings borrowed from it become invalid.
 * @param list the list, or NULL (does nothing).  @since 1.0
 */
DR_API void dr_dead_letters_free(dr_dead_letters *list);
/**
 * Number of dead letters.
 * @param list the list; NULL gives 0.  @since 1.0
 */
DR_API size_t dr_dead_letters_count(const dr_dead_letters *list);
/**
 * The shard the record came from. Borrowed.
 * @param list the list; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dead_letters_shard_id(const dr_dead_letters *list, size_t i);
/**
 * The record's SequenceNumber. Borrowed.
 * @param list the list; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dead_letters_sequence_number(const dr_dead_letters *list, size_t i);
/**
 * Why it failed: the library's message for its last delivery. Borrowed.
 * @param list the list; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dead_letters_reason(const dr_dead_letters *list, size_t i);
/**
 * The record as the stream delivered it (DynamoDB Streams JSON). Borrowed.
 * @param list the list; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dead_letters_record_json(const dr_dead_letters *list, size_t i);
/**
 * Deliveries that failed before it was parked.
 * @param list the list; NULL gives 0.
 * @param i 0..count-1; out of range gives 0.  @since 1.0
 */
DR_API uint32_t dr_dead_letters_attempts(const dr_dead_letters *list, size_t i);
/**
 * When it was parked, ISO 8601 UTC ("2026-12-02T05:30:00.123Z"). Borrowed.
 * @param list the list; NULL gives NULL.
 * @param i 0..count-1; out of range gives NULL.  @since 1.0
 */
DR_API const char *dr_dead_letters_parked_at(const dr_dead_letters *list, size_t i);
/**
 * Render as a JSON array of {"shardId","sequenceNumber","attempts","parkedAt","reason",
 * "record"} objects ("record" is the record as a JSON object, or its text when the
 * stored text is not JSON).
 * @param list the list. Required.
 * @param out receives a NUL-terminated string; release it with dr_free(). Required;
 *        NULL after a failure.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`list` or `out` NULL), DR_E_NOMEM.  @since 1.0
 */
DR_API dr_status dr_dead_letters_to_json(const dr_dead_letters *list, char **out);

/* ------------------------------------------------------------------------ */
/* Importing the ratings stored in S3 (docs/migration.md)                   */
/* ------------------------------------------------------------------------ */

/** Length of an import identity, without its NUL: "s3v1:" and 64 hex digits. */
#define DR_IMPORT_IDENTITY_LEN 69

/**
 * The idempotency key of one rating of the old S3 tree: the same for every run of the
 * import and for an app that writes the rating to S3 and to DynamoDB (pass it to
 * dr_rating_set_idempotency_key() with the rating's submittedAt), so each counts once.
 * @param bucket the bucket the object is (or will be) stored in. Required.
 * @param key the object's full key. Required.
 * @param index the rating's index in the object: 0 for an object holding one rating,
 *        else its index in the object's array.
 * @param out receives DR_IMPORT_IDENTITY_LEN characters and a NUL: at least
 *        DR_IMPORT_IDENTITY_LEN + 1 bytes. Required.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (a NULL argument), DR_E_INTERNAL (no SHA-256 in
 *         OpenSSL).  @since 1.2
 */
DR_API dr_status dr_import_identity(const char *bucket, const char *key, size_t index,
                                    char *out);

/** What to import (or verify) and how. Not synchronised. */
typedef struct dr_import_options dr_import_options;

/**
 * The running figures of an import or a verification, passed to the progress callback
 * and returned at the end. Immutable.
 */
typedef struct dr_import_report dr_import_report;

/** A figure of a dr_import_report. */
typedef enum dr_import_figure {
    DR_IMPORT_OBJECTS = 0,         /* objects read */
    DR_IMPORT_OBJECTS_SKIPPED = 1, /* keys the layout does not match: not fetched */
    DR_IMPORT_ENTRIES = 2,         /* ratings read from the objects */
    DR_IMPORT_WRITTEN = 3,         /* ratings written by this run */
    DR_IMPORT_ALREADY_PRESENT = 4, /* ratings found written before (a rerun, a dual write) */
    DR_IMPORT_REJECTED = 5,        /* entries or objects that cannot be read (reported) */
    DR_IMPORT_DIFFERENCES = 6,     /* verification: aggregates that differ (reported) */
    DR_IMPORT_BYTES = 7            /* bytes of the objects read */
} dr_import_figure;

/** Called with the figures so far, after each object page at most once a second. */
typedef void (*dr_import_progress_fn)(void *ctx, const dr_import_report *so_far);
/** Called with one line per rejected entry or object, or per difference. */
typedef void (*dr_import_message_fn)(void *ctx, const char *message);

/**
 * Options for `source`: "s3://bucket[/prefix]" or a local directory holding a copy of
 * one (`aws s3 sync`). The S3 source uses the client's region, credentials and profile;
 * its endpoint is AWS_ENDPOINT_URL_S3 (and the rest of the configured-endpoint settings
 * for service "s3"), else S3's regional endpoint.
 * @param out receives the options; free with dr_import_options_free(). Required.
 * @param source required; copied.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (NULL or empty `source`), DR_E_NOMEM.  @since 1.2
 */
DR_API dr_status dr_import_options_new(dr_import_options **out, const char *source);
/**
 * Release options.
 * @param options the options, or NULL (does nothing).  @since 1.2
 */
DR_API void dr_import_options_free(dr_import_options *options);
/*
 * The setters below share these rules: `options` is required; strings are copied, NULL
 * restores the default; a layout or bucket is checked when the import starts
 * (DR_E_INVALID_ARGUMENT naming what is wrong).
 */
/**
 * The pattern that says what an object's key holds (docs/migration.md, "Layouts").
 * @param options required.
 * @param layout the pattern, or NULL for the old app's tree,
 *        "{mode:live}/{joke}/{any},{mode:daily}/{date}/{joke}/{any}".
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`options` NULL), DR_E_NOMEM.  @since 1.2
 */
DR_API dr_status dr_import_options_set_layout(dr_import_options *options, const char *layout);
/**
 * A directory source only: the bucket and prefix it is a copy of, so that identities are
 * those of the bucket's objects. Unset: the directory's name and no prefix.
 * @param options required.
 * @param bucket the bucket, or NULL to unset both.
 * @param prefix the prefix within it, or NULL for none.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`options` NULL), DR_E_NOMEM.  @since 1.2
 */
DR_API dr_status dr_import_options_set_copy_of(dr_import_options *options, const char *bucket,
                                               const char *prefix);
/**
 * Read and check everything, write nothing (no ratings, no checkpoint).
 * @param options required.
 * @param dry_run 0 or 1.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`options` NULL).  @since 1.2
 */
DR_API dr_status dr_import_options_set_dry_run(dr_import_options *options, int dry_run);
/**
 * Continue after the checkpoint a previous run of this source left in the stats table
 * (the last object of the last batch committed). Without it the import lists from the
 * start and finds what is stored (exact either way; resuming is faster).
 * @param options required.
 * @param resume 0 or 1.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`options` NULL).  @since 1.2
 */
DR_API dr_status dr_import_options_set_resume(dr_import_options *options, int resume);
/**
 * Objects fetched at once. The ratings are committed one transaction at a time whatever
 * this says: each transaction touches the aggregates the others touch.
 * @param options required.
 * @param concurrency 1..64 (default 8).
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`options` NULL, out of range).  @since 1.2
 */
DR_API dr_status dr_import_options_set_concurrency(dr_import_options *options,
                                                   uint32_t concurrency);
/**
 * Keys listed per request. Pages are gathered into batches of about 10,000 ratings, the
 * unit of work between checkpoints, which bounds memory.
 * @param options required.
 * @param page_size 1..1000 (default 1000).
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`options` NULL, out of range).  @since 1.2
 */
DR_API dr_status dr_import_options_set_page_size(dr_import_options *options,
                                                 uint32_t page_size);
/**
 * Callbacks, called on the thread that runs the import; either may be NULL.
 * @param options required.
 * @param progress the figures so far.
 * @param message a rejected entry ("<key> entry <i>: <why>") or, when verifying, a
 *        difference.
 * @param ctx passed to both.
 * @return DR_OK, DR_E_INVALID_ARGUMENT (`options` NULL).  @since 1.2
 */
DR_API dr_status dr_import_options_set_callbacks(dr_import_options *options,
                                                 dr_import_progress_fn progress,
                                                 dr_import_message_fn message, void *ctx);

/**
 * Import every rating of the source exactly once: each keeps its submittedAt and gets
 * its identity (dr_import_identity()) as idempotency key, so a rerun, a resumed run
 * and ratings an app wrote with the same identity count once. A joke's ratings are
 * committed together with every aggregate they touch, as many per TransactWriteItems as
 * its item limit allows, in batches of about 10,000 ratings (memory is bounded by the
 * batch); after each batch the checkpoint is written to the stats table.
 * Unreadable entries are reported and skipped; the import goes on.
 * @param client required. Inline aggregation is used whatever the client's mode (the
 *        rating items are marked so, and the stream aggregator skips them).
 * @param options required.
 * @param out receives the figures (free with dr_import_report_free()); may be NULL.
 *        Also set when the import stops on an error: what was done until then.
 * @return DR_OK (also with rejected entries: see DR_IMPORT_REJECTED),
 *         DR_E_INVALID_ARGUMENT (a NULL argument, a bad option or source: the message
 *         names it), DR_E_NOT_FOUND (no such directory or bucket), DR_E_NOMEM, or the S3
 *         or DynamoDB error that stopped it (what was committed stays; rerun with
 *         resume).  Thread-safe for distinct options.  @since 1.2
 */
DR_API dr_status dr_client_import(dr_client *client, const dr_import_options *options,
                                  dr_import_report **out);
/**
 * Recompute every aggregate from the source (per joke, per author, global, uniqueJokes,
 * the top 8) and compare it with the stats table: each difference is passed to the
 * message callback and counted (DR_IMPORT_DIFFERENCES). Writes nothing.
 * @param client required.
 * @param options required (dry_run and resume are ignored).
 * @param out receives the figures; may be NULL. Also set after an error.
 * @return DR_OK (also with differences), errors as for dr_client_import().  @since 1.2
 */
DR_API dr_status dr_client_verify(dr_client *client, const dr_import_options *options,
                                  dr_import_report **out);
/**
 * Release a report.
 * @param report the report, or NULL (does nothing).  @since 1.2
 */
DR_API void dr_import_report_free(dr_import_report *report);
/**
 * One figure of a report.
 * @param report the report; NULL gives 0.
 * @param figure which; an unknown one gives 0.  @since 1.2
 */
DR_API uint64_t dr_import_report_get(const dr_import_report *report, dr_import_figure figure);

#ifdef __cplusplus
}
#endif

#endif /* DADRATINGS_H */
