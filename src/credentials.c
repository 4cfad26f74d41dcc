/* Credentials objects and the provider chain. */
#include "credentials.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

dr_credentials *dr__credentials_new(const char *access_key_id, const char *secret_access_key,
                                    const char *session_token, int64_t expires_at)
{
    dr_credentials *c = dr__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->access_key_id = dr__strdup(access_key_id);
    c->secret_access_key = dr__strdup(secret_access_key);
    c->session_token = session_token ? dr__strdup(session_token) : NULL;
    c->expires_at = expires_at;
    c->refs = 1;
    if (!c->access_key_id || !c->secret_access_key || (session_token && !c->session_token)) {
        dr__credentials_release(c);
        return NULL;
    }
    return c;
}

void dr__credentials_retain(dr_credentials *c)
{
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
}

void dr__credentials_release(dr_credentials *c)
{
    if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    dr__free(c->access_key_id);
    dr__free_secret(c->secret_access_key);
    dr__free_secret(c->session_token);
    dr__free(c);
}

/* PROVISIONAL: explicit and environment providers only. The shared-file, container
 * and instance-metadata providers and refresh are being added (issue 3). */
struct dr_credentials_chain {
    pthread_mutex_t lock;
    dr_credentials *current;
};

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

dr_status dr__credentials_chain_new(dr_credentials_chain **out,
                                    const dr_credentials_options *opts)
{
    dr_credentials_chain *chain = dr__calloc(1, sizeof *chain);
    *out = NULL;
    if (!chain)
        return dr__fail(DR_E_NOMEM, "out of memory creating the credentials chain");
    pthread_mutex_init(&chain->lock, NULL);
    if (opts->access_key_id) {
        chain->current = dr__credentials_new(opts->access_key_id, opts->secret_access_key,
                                              opts->session_token, 0);
        if (!chain->current) {
            dr__credentials_chain_free(chain);
            return dr__fail(DR_E_NOMEM, "out of memory copying credentials");
        }
    }
    *out = chain;
    return DR_OK;
}

void dr__credentials_chain_free(dr_credentials_chain *chain)
{
    if (!chain)
        return;
    dr__credentials_release(chain->current);
    pthread_mutex_destroy(&chain->lock);
    dr__free(chain);
}

dr_status dr__credentials_chain_get(dr_credentials_chain *chain, dr_credentials **out)
{
    dr_status rc = DR_OK;
    *out = NULL;
    pthread_mutex_lock(&chain->lock);
    if (!chain->current && env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY")) {
        chain->current = dr__credentials_new(env("AWS_ACCESS_KEY_ID"),
                                              env("AWS_SECRET_ACCESS_KEY"),
                                              env("AWS_SESSION_TOKEN"), 0);
        if (!chain->current)
            rc = dr__fail(DR_E_NOMEM, "out of memory copying credentials");
    }
    if (rc == DR_OK && !chain->current)
        rc = dr__fail(DR_E_CREDENTIALS, "no credentials: explicit: not set; environment: "
                                        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set");
    if (rc == DR_OK) {
        dr__credentials_retain(chain->current);
        *out = chain->current;
    }
    pthread_mutex_unlock(&chain->lock);
    return rc;
}

dr_status dr__region_resolve(const char *explicit_region, const char *profile, char **out)
{
    const char *region = explicit_region ? explicit_region : env("AWS_REGION");
    (void)profile;
    if (!region)
        region = env("AWS_DEFAULT_REGION");
    *out = NULL;
    if (!region)
        return dr__fail(DR_E_CONFIG, "no region: set one in the configuration, AWS_REGION, "
                                     "AWS_DEFAULT_REGION or the profile's region");
    *out = dr__strdup(region);
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory");
}
