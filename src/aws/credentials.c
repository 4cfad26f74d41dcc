/* Credentials objects: immutable, reference-counted, secrets wiped when the last
 * reference goes. */
#include "credentials.h"

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

dr_status dr__credentials_set_account_id(dr_credentials *c, const char *account_id)
{
    char *copy = NULL;
    if (account_id && *account_id && !(copy = dr__strdup(account_id)))
        return dr__fail(DR_E_NOMEM, "out of memory copying the account id");
    dr__free(c->account_id);
    c->account_id = copy;
    return DR_OK;
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
    dr__free(c->account_id);
    dr__free_secret(c->secret_access_key);
    dr__free_secret(c->session_token);
    dr__free(c);
}
