/* The endpoint rule sets of DynamoDB, DynamoDB Streams and STS (endpoint-rule-set-1.json of
 * each, as the AWS SDKs ship them), hand-coded: what the SDKs' rules engine computes from
 * the same parameters, without the engine. Pure: no environment, no files, no allocation.
 * tests/unit/test_endpoints.c runs the SDKs' own endpoint tests through it and holds the
 * partitions table to partitions.json (tests/data/dynamodb-endpoints/). */
#ifndef DR_ENDPOINT_H
#define DR_ENDPOINT_H

#include <stddef.h>

typedef enum dr_endpoint_service {
    DR_ENDPOINT_DYNAMODB = 0,
    DR_ENDPOINT_STREAMS = 1,
    /* STS, for the credential providers that assume roles: its regional endpoints only
     * (UseGlobalEndpoint false, as the SDKs now default; no "aws-global" region). */
    DR_ENDPOINT_STS = 2,
    /* The IAM Identity Center portal (GetRoleCredentials) of an sso_region: the SSO rule
     * set's regional branch, portal.sso[-fips].<region>.<dnsSuffix or dualStackDnsSuffix>. */
    DR_ENDPOINT_SSO_PORTAL = 3
} dr_endpoint_service;

/* AccountIdEndpointMode. UNSET is the rule set's "not set", which uses no account
 * endpoint; the SDKs (and resolve.c) pass PREFERRED when nothing is configured. */
typedef enum dr_account_id_mode {
    DR_ACCOUNT_ID_MODE_UNSET = 0,
    DR_ACCOUNT_ID_MODE_PREFERRED,
    DR_ACCOUNT_ID_MODE_REQUIRED,
    DR_ACCOUNT_ID_MODE_DISABLED
} dr_account_id_mode;

/* The rule sets' parameters; NULL / 0 is "not set". Streams and STS read only region,
 * use_fips, use_dual_stack and endpoint. */
typedef struct dr_endpoint_params {
    const char *region;
    int use_fips;
    int use_dual_stack;
    const char *endpoint; /* the override (SDK::Endpoint), returned as given */
    const char *account_id;
    dr_account_id_mode account_id_mode;
    const char *resource_arn;
    const char *const *resource_arn_list; /* only the first is looked at */
    size_t resource_arn_count;
    int is_search_operation; /* SearchVectors: the search-dynamodb host */
} dr_endpoint_params;

/* Long enough for every URL the rules build from a region of up to 255 bytes. */
#define DR_ENDPOINT_URL_MAX 2048

typedef struct dr_endpoint_result {
    char url[DR_ENDPOINT_URL_MAX];
    /* The region to sign for when the rule set names one (authSchemes signingRegion:
     * "us-east-1" for region "local"), else NULL: sign for the region. Static. */
    const char *signing_region;
} dr_endpoint_result;

/* Resolve `service`'s endpoint. Returns NULL with *out filled, or the rule set's error
 * message (static text, e.g. "FIPS is enabled but this partition does not support FIPS";
 * also "... is too long" for inputs that do not fit DR_ENDPOINT_URL_MAX). */
const char *dr__endpoint_resolve(dr_endpoint_service service, const dr_endpoint_params *p,
                                 dr_endpoint_result *out);

/* A partition of partitions.json: its outputs, its explicit regions, and its regionRegex
 * translated into literal prefixes (the regex's leading alternatives, each with its
 * dashes) followed by `\w+\-\d+$`, the tail every pattern shares. */
typedef struct dr_partition {
    const char *name;
    const char *dns_suffix;
    const char *dual_stack_dns_suffix;
    int supports_fips;
    int supports_dual_stack;
    const char *region_regex;           /* as partitions.json writes it, for the test */
    const char *const *region_prefixes; /* NULL-terminated */
    const char *const *regions;         /* NULL-terminated */
} dr_partition;

/* The table, in partitions.json's order (*count entries). */
const dr_partition *dr__partitions(size_t *count);
/* 1 if `region` matches the partition's regionRegex (ASCII \w and \d). */
int dr__partition_regex_match(const dr_partition *partition, const char *region);
/* aws.partition: the partition listing `region` explicitly, else the first whose regex
 * matches, else "aws". Never NULL. */
const dr_partition *dr__partition_of(const char *region);

#endif
