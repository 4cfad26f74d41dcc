/* The credentials provider chain, in the AWS SDKs' order: explicit -> environment ->
 * web identity -> shared files (profile) -> container -> instance metadata. The first
 * source the user configured answers: its failure is the chain's (docs/credentials.md).
 * Temporary credentials are refreshed before they expire; readers never block on a
 * refresh while the credentials they hold are still valid. */
#ifndef DR_CREDENTIALS_CHAIN_H
#define DR_CREDENTIALS_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "credentials.h"
#include "dadratings.h"
#include "log.h"

typedef struct dr_credentials_chain dr_credentials_chain;

typedef struct dr_credentials_options {
    const char *access_key_id;      /* explicit; NULL if not set */
    const char *secret_access_key;
    const char *session_token;
    const char *profile;            /* NULL: AWS_PROFILE, then "default" */
    uint32_t metadata_timeout_ms;   /* container/IMDS requests (and STS); 0: each one's default */
    const char *region;             /* the client's region, for STS; NULL: no STS */
    const char *sts_endpoint;       /* resolved by the client (dr_provider_context) */
    const dr_endpoint_resolver *endpoints; /* the SSO portal's; NULL: the default hosts */
    dr_logger log;                  /* refresh outcomes, never secrets */
} dr_credentials_options;

/* Room for a source's name ("assume-role:" and a profile name). */
#define DR_CREDENTIAL_SOURCE_MAX 96

dr_status dr__credentials_chain_new(dr_credentials_chain **out,
                                    const dr_credentials_options *opts);
void dr__credentials_chain_free(dr_credentials_chain *chain);

/* The current credentials as a new reference (release it). Resolves the chain on first
 * use; refreshes temporary credentials within a few minutes of expiry. On failure
 * DR_E_CREDENTIALS with a message listing each provider tried and why it failed. */
dr_status dr__credentials_chain_get(dr_credentials_chain *chain, dr_credentials **out);

/* The name of the source that served the current credentials ("environment",
 * "profile:NAME", ...: dr_client_describe), "" before the first resolution. */
void dr__credentials_chain_source(dr_credentials_chain *chain, char *out, size_t cap);

#ifdef DR_TESTING
/* Test builds only: the refresh window (default 300 s before expiry) and the pause after
 * a failed refresh (default 10 s); a negative value restores the default. */
void dr__credentials_set_refresh_timing(int64_t window_s, int64_t retry_backoff_s);
#endif

#endif
