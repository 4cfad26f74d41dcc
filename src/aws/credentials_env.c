/* Environment credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the optional
 * AWS_SESSION_TOKEN, the names every AWS SDK reads. */
#include "credentials_provider.h"
#include "env.h"
#include "error.h"

dr_status dr__credentials_from_env(dr_credentials **out)
{
    const char *akid = dr__env("AWS_ACCESS_KEY_ID");
    const char *secret = dr__env("AWS_SECRET_ACCESS_KEY");

    *out = NULL;
    if (!akid)
        return dr__fail(DR_E_CREDENTIALS, "AWS_ACCESS_KEY_ID not set");
    if (!secret)
        return dr__fail(DR_E_CREDENTIALS, "AWS_ACCESS_KEY_ID set but AWS_SECRET_ACCESS_KEY "
                                          "not set");
    *out = dr__credentials_new(akid, secret, dr__env("AWS_SESSION_TOKEN"), 0);
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory copying credentials");
}
