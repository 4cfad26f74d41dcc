/* Web identity credentials from the environment, as EKS IAM roles for service accounts
 * (IRSA) inject them: AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and the optional
 * AWS_ROLE_SESSION_NAME, exchanged with STS (sts.h). */
#include "credentials_provider.h"
#include "env.h"
#include "error.h"
#include "sts.h"

dr_status dr__credentials_from_web_identity(const dr_provider_context *ctx,
                                            dr_credentials **out)
{
    const char *token_file = dr__env("AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *role_arn = dr__env("AWS_ROLE_ARN");
    dr_sts_role role = {0};

    *out = NULL;
    if (!token_file && !role_arn)
        return dr__fail(DR_E_NOT_FOUND, "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not set");
    /* Half the pair is not this source (the other half may be meant for a profile's
     * role): the chain goes on, as in the SDKs, and its message says what was seen. */
    if (!token_file || !role_arn)
        return dr__fail(DR_E_NOT_FOUND, "%s set but %s not set",
                        token_file ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
                        token_file ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
    role.role_arn = role_arn;
    role.session_name = dr__env("AWS_ROLE_SESSION_NAME");
    return dr__sts_assume_role_with_web_identity(ctx, &role, token_file, out);
}
