/* AWS credentials: one immutable set, shared by reference between the chain that
 * resolved it and the threads signing with it (the chain: credentials_chain.h). */
#ifndef DR_CREDENTIALS_H
#define DR_CREDENTIALS_H

#include <stdint.h>

#include "dadratings.h"

/* One immutable set of credentials, reference-counted so a signing thread can keep
 * using it while another thread installs a refreshed one. */
typedef struct dr_credentials {
    char *access_key_id;
    char *secret_access_key; /* wiped when freed */
    char *session_token;     /* NULL when none; wiped when freed */
    int64_t expires_at;      /* epoch seconds; 0 = does not expire */
    char *account_id;        /* the AWS account they belong to, NULL when unknown */
    int refs;                /* atomic */
} dr_credentials;

/* How a credential source finds an endpoint whose region it learns only from the profile
 * (the SSO portal of an sso_region): the client layer resolves it (partitions, FIPS,
 * dual-stack, configured endpoint URLs) and hands the chain this callback, so the layers
 * stay one-way (src/layers.txt). */
typedef struct dr_endpoint_resolver {
    /* The base URL (scheme://host[:port], no trailing slash) of `service` ("sso": the
     * portal) in `region`, allocated into *url. DR_E_CONFIG, DR_E_NOMEM. */
    dr_status (*resolve)(const struct dr_endpoint_resolver *self, const char *service,
                         const char *region, char **url);
} dr_endpoint_resolver;

/* New credentials with refs = 1; session_token may be NULL. NULL on OOM. */
dr_credentials *dr__credentials_new(const char *access_key_id, const char *secret_access_key,
                                    const char *session_token, int64_t expires_at);
/* Record the account id (copied; NULL or "" clears it), before the credentials are
 * shared. DR_E_NOMEM. */
dr_status dr__credentials_set_account_id(dr_credentials *c, const char *account_id);
void dr__credentials_retain(dr_credentials *c);
/* Drop a reference; the last one wipes and frees. NULL is fine. */
void dr__credentials_release(dr_credentials *c);

#endif
