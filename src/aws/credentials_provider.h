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

/* What the chain tells the providers that need more than the environment. */
typedef struct dr_provider_context {
    const char *profile;  /* the profile in use (dr__profile_name) */
    const char *region;   /* the client's region, for STS and the SSO portal; NULL only in
                           * chains made without a client (STS then fails, saying so) */
    uint32_t timeout_ms;  /* each request to a metadata service, STS or the SSO portal */
    /* The regional STS endpoint ("https://sts.<region>.<dnsSuffix>", FIPS, dual-stack, or
     * AWS_ENDPOINT_URL_STS and the profile's services section), resolved by the client
     * layer, which alone knows the partitions (resolve.h). NULL: no STS. */
    const char *sts_endpoint;
} dr_provider_context;

/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. */
dr_status dr__credentials_from_env(dr_credentials **out);

/* Web identity from the environment, as EKS IAM roles for service accounts set it:
 * AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (and AWS_ROLE_SESSION_NAME), exchanged with
 * STS AssumeRoleWithWebIdentity (sts.h). DR_E_NOT_FOUND when neither variable is set;
 * DR_E_CREDENTIALS when only one is, or the exchange fails; DR_E_NOMEM. */
dr_status dr__credentials_from_web_identity(const dr_provider_context *ctx,
                                            dr_credentials **out);

/* `profile` of the shared files merged (profile_file.h): the key id, secret and token all
 * from the file that gives the key id. */
dr_status dr__credentials_from_profile(const char *profile, dr_credentials **out);

/* ECS / EKS container credentials endpoint. */
dr_status dr__credentials_from_container(uint32_t timeout_ms, dr_credentials **out);

#ifdef DR_TESTING
/* Test builds only: serve AWS_CONTAINER_CREDENTIALS_RELATIVE_URI from `base` (e.g. a
 * loopback server) instead of http://169.254.170.2; NULL or "" restores it. */
void dr__credentials_container_set_relative_base(const char *base);
#endif

/* EC2 instance metadata (IMDSv2). */
dr_status dr__credentials_from_imds(uint32_t timeout_ms, dr_credentials **out);

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

/* ISO-8601 UTC timestamp ("2026-11-25T12:34:56Z", optional fraction, "Z" or "+hh:mm")
 * to epoch seconds. Returns 1 on success, 0 if malformed. Pure. */
int dr__parse_iso8601(const char *s, int64_t *out);

#endif
