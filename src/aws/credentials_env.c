/* Environment credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, the optional
 * AWS_SESSION_TOKEN and AWS_ACCOUNT_ID, the names every AWS SDK reads. */
#include "credentials_provider.h"
#include "env.h"
#include "error.h"

/* The variable's value, or NULL when it is unset or only blanks: the SDKs treat
 * AWS_ACCESS_KEY_ID=" " (an emptied CI secret) as not set. */
static const char *env_value(const char *name)
{
    const char *v = dr__env(name), *p;
    for (p = v; p && *p; p++)
        if (*p != ' ' && *p != '\t')
            return v;
    return NULL;
}

dr_status dr__credentials_from_env(dr_credentials **out)
{
    const char *akid = env_value("AWS_ACCESS_KEY_ID");
    const char *secret = env_value("AWS_SECRET_ACCESS_KEY");

    *out = NULL;
    /* Half a key pair falls through to the next source, as in the SDKs. */
    if (!akid && !secret)
        return dr__fail(DR_E_NOT_FOUND, "AWS_ACCESS_KEY_ID not set");
    if (!akid || !secret)
        return dr__fail(DR_E_NOT_FOUND, "%s set but %s not set",
                        akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                        akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    *out = dr__credentials_new(akid, secret, env_value("AWS_SESSION_TOKEN"), 0);
    if (*out && dr__credentials_set_account_id(*out, env_value("AWS_ACCOUNT_ID")) != DR_OK) {
        dr__credentials_release(*out);
        *out = NULL;
    }
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory copying credentials");
}
