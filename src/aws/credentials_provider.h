/* Internal to the credentials modules: the providers the chain in credentials.c walks,
 * and the pieces they share. Each provider either returns credentials (DR_OK) or a
 * status whose thread-local message says, without secrets, why it could not; the chain
 * collects those reasons. DR_E_NOMEM always stops the chain. */
#ifndef DR_CREDENTIALS_PROVIDER_H
#define DR_CREDENTIALS_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "credentials.h"
#include "http.h"
#include "profile_file.h"

/* What the chain tells the providers that need more than the environment. */
typedef struct dr_provider_context {
    const char *profile;  /* the profile in use (dr__profile_name) */
    int profile_named;    /* configured or AWS_PROFILE: it must exist */
    const char *region;   /* the client's region, for STS and the SSO portal; NULL only in
                           * chains made without a client (STS then fails, saying so) */
    uint32_t timeout_ms;  /* each request to a metadata service, STS or the SSO portal */
    /* The regional STS endpoint ("https://sts.<region>.<dnsSuffix>", FIPS, dual-stack, or
     * AWS_ENDPOINT_URL_STS and the profile's services section), resolved by the client
     * layer, which alone knows the partitions (resolve.h). NULL: no STS. */
    const char *sts_endpoint;
    /* The SSO portal's endpoint for an sso_region (FIPS, dual-stack, configured endpoint
     * URLs), resolved by the client layer; NULL: https://portal.sso.<region>.amazonaws.com. */
    const dr_endpoint_resolver *endpoints;
} dr_provider_context;

/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. */
dr_status dr__credentials_from_env(dr_credentials **out);

/* Web identity from the environment, as EKS IAM roles for service accounts set it:
 * AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (and AWS_ROLE_SESSION_NAME), exchanged with
 * STS AssumeRoleWithWebIdentity (sts.h). DR_E_NOT_FOUND unless both variables are set;
 * DR_E_CREDENTIALS when the exchange fails; DR_E_NOMEM. */
dr_status dr__credentials_from_web_identity(const dr_provider_context *ctx,
                                            dr_credentials **out);

/* ctx->profile of the shared files merged (profile_file.h), as the SDKs resolve it: a
 * role (role_arn with source_profile chains, credential_source, or
 * web_identity_token_file), IAM Identity Center, credential_process, or static keys (the
 * key id, secret and token all from the file that gives the key id). DR_E_NOT_FOUND when
 * the profile is not named by the user and is absent or has no credential settings; the
 * source's name for dr_client_describe ("profile:NAME", "assume-role:NAME", ...) in `id`. */
dr_status dr__credentials_from_profile(const dr_provider_context *ctx, dr_credentials **out,
                                       char *id, size_t id_cap);

/* credential_process: run `command` through /bin/sh -c (stdin and stderr the caller's),
 * parse the JSON Version 1 document it prints (AccessKeyId, SecretAccessKey, optional
 * SessionToken, Expiration, AccountId). The process is killed and reaped if it runs past
 * 60 s. DR_E_CREDENTIALS when it cannot be run, exits non-zero, times out or prints no
 * valid document (messages never quote the command or its output), DR_E_NOMEM. */
dr_status dr__credentials_from_process(const dr_provider_context *ctx, const char *command,
                                       dr_credentials **out);

#ifdef DR_TESTING
/* Test builds only: the process timeout in ms; 0 restores the default (60 s). */
void dr__credentials_process_set_timeout_ms(unsigned timeout_ms);
#endif

/* IAM Identity Center (SSO): the role credentials GetRoleCredentials gives for the
 * profile's sso_account_id and sso_role_name, with the access token that `aws sso login`
 * cached under ~/.aws/sso/cache/. `profile` (a section of `set`) names an [sso-session]
 * with sso_session, or carries sso_start_url and sso_region itself (the legacy form).
 * DR_E_CREDENTIALS for an incomplete or contradictory profile, a missing or expired
 * token (the message says which `aws sso login` to run) and portal errors (the status and
 * error type, never the token); network failures keep the HTTP layer's code; DR_E_NOMEM. */
dr_status dr__credentials_from_sso(const dr_provider_context *ctx, const dr_profile_set *set,
                                   const dr_profile_section *profile, dr_credentials **out);

/* ECS / EKS container credentials endpoint (dr__container_endpoint), up to
 * DR_CONTAINER_MAX_ATTEMPTS attempts. */
dr_status dr__credentials_from_container(uint32_t timeout_ms, dr_credentials **out);

/* The container credentials URL as the SDKs resolve it from the environment into `url`:
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (a path, under http://169.254.170.2) wins over
 * AWS_CONTAINER_CREDENTIALS_FULL_URI, which must be an absolute URL using https, or plain
 * http to loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23. DR_E_CREDENTIALS when
 * neither is set or the one used is invalid (the message names the variable), DR_E_NOMEM.
 * No I/O. */
dr_status dr__container_endpoint(dr_buf *url);

#ifdef DR_TESTING
/* Test builds only: serve AWS_CONTAINER_CREDENTIALS_RELATIVE_URI from `base` (e.g. a
 * loopback server) instead of http://169.254.170.2; NULL or "" restores it. */
void dr__credentials_container_set_relative_base(const char *base);
#endif

/* EC2 instance metadata (IMDSv2 only) at dr__imds_endpoint for `profile` (NULL:
 * dr__profile_name(NULL)), each request up to DR_IMDS_MAX_ATTEMPTS attempts.
 * DR_E_CREDENTIALS when AWS_EC2_METADATA_DISABLED is true. */
dr_status dr__credentials_from_imds(const char *profile, uint32_t timeout_ms,
                                    dr_credentials **out);

#define DR_IMDS_TOKEN_PATH "/latest/api/token"

/* IMDS endpoint settings given in code. The library has no public setting for them yet,
 * so the provider passes none; they keep the SDKs' precedence complete. */
typedef struct dr_imds_endpoint_override {
    const char *endpoint; /* wins over everything */
    const char *mode;     /* "IPv4" or "IPv6": wins over the modes of environment and profile */
} dr_imds_endpoint_override;

/* The IMDS base URL (no trailing slash) into `base`, by the SDKs' precedence: an endpoint
 * (`code`, then AWS_EC2_METADATA_SERVICE_ENDPOINT, then ec2_metadata_service_endpoint of
 * `profile`) wins over an endpoint mode (`code`, then AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE,
 * then ec2_metadata_service_endpoint_mode): IPv4 (the default) is http://169.254.169.254,
 * IPv6 http://[fd00:ec2::254], in any case. `code` and `profile` may be NULL. The shared
 * files are read only when the environment sets no endpoint. DR_E_CONFIG for an endpoint
 * that is not an absolute http(s) URL, a mode that is neither (the message names the value
 * and where it was set) or a shared file that cannot be read; DR_E_NOMEM. */
dr_status dr__imds_endpoint(const char *profile, const dr_imds_endpoint_override *code,
                            dr_buf *base);

/* The profile name to use: `configured`, else AWS_PROFILE, else "default". */
const char *dr__profile_name(const char *configured);

/* The `region` of `profile` in the shared files, allocated into *out (NULL and DR_OK
 * when absent). DR_E_CONFIG when a file cannot be read or parsed. */
dr_status dr__profile_region(const char *profile, char **out);

/* The settings `names` (lower case) of `profile` in the shared files, each allocated into
 * values[i] (NULL when absent or empty, and all NULL on failure). Missing files are no
 * error; DR_E_CONFIG when one cannot be read or parsed, DR_E_NOMEM. */
dr_status dr__profile_settings(const char *profile, size_t n, const char *const names[],
                               char *values[]);

/* --- shared by the container and IMDS providers (credentials_fetch.c) --- */

/* Metadata responses are small; anything bigger is not a credentials document. */
#define DR_METADATA_MAX_RESPONSE ((size_t)64 * 1024)
/* The SDKs give metadata endpoints one second: off AWS they do not answer at all, and
 * the chain must not stall the first request for long. */
#define DR_METADATA_DEFAULT_TIMEOUT_MS 1000u

typedef struct dr_metadata_request {
    const char *what;            /* "container", "instance metadata": for messages */
    const char *method;          /* "GET" or "PUT" */
    const char *url;
    dr_http_header header;       /* name NULL: none; the value may be a secret */
    uint32_t timeout_ms;
} dr_metadata_request;

/* How often the SDKs (smithy-rs, whose suites tests/data/credential-chain holds) try a
 * metadata request. The container endpoint gets the standard 3 attempts, retrying
 * connection failures, timeouts, 5xx and a 200 whose document cannot be used. IMDS gets 4,
 * retrying 5xx and 401 (an expired token: a new one is fetched first) but not timeouts or
 * connection failures: off EC2 nothing answers, and the chain must not wait 4 s for that. */
#define DR_CONTAINER_MAX_ATTEMPTS 3
#define DR_IMDS_MAX_ATTEMPTS 4

/* Sleep before metadata attempt `next_attempt` (2 = the first retry): the library's
 * standard full-jitter backoff (retry.h), 100 ms doubling. */
void dr__metadata_backoff(uint32_t next_attempt);

/* Perform a request to a metadata endpoint and require HTTP 200. The body is stored in
 * `body` (the caller frees it with dr__buf_free_secret: it may hold credentials). A
 * non-200 status fails with DR_E_CREDENTIALS, `*status` set; network failures keep the
 * HTTP layer's code and message. */
dr_status dr__metadata_fetch(const dr_metadata_request *req, dr_buf *body, long *status);

/* Parse a credentials document, as the container and IMDS endpoints return it:
 * {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", optional "Code"}.
 * DR_E_CREDENTIALS for malformed or incomplete documents (never quoting them). */
dr_status dr__credentials_parse_json(const char *what, const char *json, size_t len,
                                     dr_credentials **out);

/* 1 if `code` may be shown in a message: an AWS error code (a short word of letters) that
 * does not repeat `secret` or `token` (either may be NULL): a broken endpoint may echo
 * anything. Pure. */
int dr__is_error_code(const char *code, const char *secret, const char *token);

/* ISO-8601 UTC timestamp ("2026-11-25T12:34:56Z", optional fraction, "Z" or "+hh:mm")
 * to epoch seconds. Returns 1 on success, 0 if malformed. Pure. */
int dr__parse_iso8601(const char *s, int64_t *out);

#endif
