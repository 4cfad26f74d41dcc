/* Resolving the client's configuration as the AWS SDKs do: each setting from the explicit
 * configuration, else the environment, else the shared config file, else the default.
 * dr_client_new() calls these once; every result is allocated and owned by the caller. */
#ifndef DR_RESOLVE_H
#define DR_RESOLVE_H

#include "dadratings.h"
#include "endpoint.h"

/* The region: `configured`, AWS_REGION, AWS_DEFAULT_REGION, then `region` in the profile
 * (`profile`, else AWS_PROFILE, else "default") of the shared config file. DR_E_CONFIG
 * when none is set or the one found is not 1..DR_REGION_MAX of [a-z0-9-]. */
dr_status dr__resolve_region(const char *configured, const char *profile, char **out);

/* The endpoint of `service`: the configured one (configured_endpoint.h: `configured`,
 * AWS_ENDPOINT_URL_DYNAMODB[_STREAMS] or AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, then
 * `profile`'s settings in the shared files; the Streams API falls back to DynamoDB's
 * settings, as DynamoDB Local serves both APIs; STS is given `configured` NULL: the
 * client's endpoint setting is DynamoDB's), else the default endpoint of `region` as the
 * AWS SDKs resolve it (endpoint.h), with FIPS, dual-stack and account-ID endpoints as the
 * environment and `profile` ask (docs/endpoints.md). *endpoint_out gets
 * "scheme://host[:port]", *host_out the Host header as signed, *signing_region_out the
 * region to sign for (`region` itself, or static text). Plain http only to loopback hosts;
 * no path. */
dr_status dr__resolve_endpoint(const char *configured, const char *region, const char *profile,
                               dr_endpoint_service service, char **endpoint_out,
                               char **host_out, const char **signing_region_out);

/* A table name: `configured`, else environment variable `env`, else `fallback`; checked
 * by DynamoDB's naming rules (the message names `what`). */
dr_status dr__resolve_table(const char *configured, const char *env, const char *fallback,
                            const char *what, char **out);

#endif
