/* Configured endpoint URLs, as the AWS SDKs read them for any service: the client's own
 * setting, then the environment, then the shared config file's profile, unless the user
 * switched configured endpoints off. The SDKs' common cases (tests/data/
 * configured-endpoint-urls/) are run against it in tests/unit/test_configured_endpoints.c. */
#ifndef DR_CONFIGURED_ENDPOINT_H
#define DR_CONFIGURED_ENDPOINT_H

#include "dadratings.h"

typedef struct dr_endpoint_query {
    /* The service's SDK id in lower case ("dynamodb", "dynamodb streams", "s3"). It names
     * AWS_ENDPOINT_URL_<ID> (upper case, spaces as `_`) and the `<id>` key (spaces as `_`)
     * of a `[services name]` section of the config file. */
    const char *service_id;
    /* A service whose endpoint this one shares unless its own is set (NULL: none): each
     * source is asked for `service_id`, then `fallback_service_id`, before the next
     * source. DynamoDB Local serves DynamoDB Streams on DynamoDB's port. */
    const char *fallback_service_id;
    const char *profile;    /* NULL: AWS_PROFILE, else "default" */
    const char *configured; /* the client's endpoint_url setting, or NULL */
    /* The client's ignore_configured_endpoint_urls setting: only `configured` counts. */
    int ignore_configured;
} dr_endpoint_query;

/* The endpoint URL configured for q->service_id, first found of:
 *  1. q->configured;
 *  2. AWS_ENDPOINT_URL_<SERVICE_ID>;
 *  3. AWS_ENDPOINT_URL;
 *  4. `endpoint_url` in the `<service_id>` block of the `[services name]` section that
 *     the profile's `services = name` names;
 *  5. the profile's `endpoint_url`;
 * 2-5 only unless q->ignore_configured, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the
 * profile's ignore_configured_endpoint_urls is "true" (any case). Empty values count as
 * unset. *out gets a copy, or NULL when none is configured (the SDK's own endpoint
 * applies). The URL is not checked here. DR_E_CONFIG when the shared files cannot be read
 * or parsed, DR_E_NOMEM. */
dr_status dr__configured_endpoint(const dr_endpoint_query *q, char **out);

#endif
