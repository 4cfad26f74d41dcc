/* The DynamoDB and DynamoDB Streams endpoint rule sets, rule by rule in the rule sets'
 * order, so that the first rule that applies is the one that answers, as in the rules
 * engine. The messages are the rule sets' own. Helper functions follow botocore's
 * implementations of the rules-engine library (aws.partition, aws.parseArn, parseURL,
 * isValidHostLabel), whose test files these are. */
#include "endpoint.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h" /* DR_PRINTF only */

/* partitions.json (tests/data/dynamodb-endpoints/), in its order; test_endpoints.c checks
 * every field against the file. */
static const char *const aws_prefixes[] = {"us-", "eu-", "ap-", "sa-", "ca-",
                                           "me-", "af-", "il-", "mx-", NULL};
static const char *const aws_regions[] = {
    "af-south-1",     "ap-east-1",      "ap-east-2",      "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-south-1",     "ap-south-2",     "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
    "aws-global",     "ca-central-1",   "ca-west-1",      "eu-central-1",   "eu-central-2",
    "eu-north-1",     "eu-south-1",     "eu-south-2",     "eu-west-1",      "eu-west-2",
    "eu-west-3",      "il-central-1",   "me-central-1",   "me-south-1",     "mx-central-1",
    "sa-east-1",      "us-east-1",      "us-east-2",      "us-west-1",      "us-west-2",
    NULL};
static const char *const aws_cn_prefixes[] = {"cn-", NULL};
static const char *const aws_cn_regions[] = {"aws-cn-global", "cn-north-1", "cn-northwest-1",
                                             NULL};
static const char *const aws_eusc_prefixes[] = {"eusc-de-", NULL};
static const char *const aws_eusc_regions[] = {"eusc-de-east-1", NULL};
static const char *const aws_iso_prefixes[] = {"us-iso-", NULL};
static const char *const aws_iso_regions[] = {"aws-iso-global", "us-iso-east-1",
                                              "us-iso-west-1", NULL};
static const char *const aws_iso_b_prefixes[] = {"us-isob-", NULL};
static const char *const aws_iso_b_regions[] = {"aws-iso-b-global", "us-isob-east-1",
                                                "us-isob-west-1", NULL};
static const char *const aws_iso_e_prefixes[] = {"eu-isoe-", NULL};
static const char *const aws_iso_e_regions[] = {"aws-iso-e-global", "eu-isoe-west-1", NULL};
static const char *const aws_iso_f_prefixes[] = {"us-isof-", NULL};
static const char *const aws_iso_f_regions[] = {"aws-iso-f-global", "us-isof-east-1",
                                                "us-isof-south-1", NULL};
static const char *const aws_us_gov_prefixes[] = {"us-gov-", NULL};
static const char *const aws_us_gov_regions[] = {"aws-us-gov-global", "us-gov-east-1",
                                                 "us-gov-west-1", NULL};

static const dr_partition partitions[] = {
    {"aws", "amazonaws.com", "api.aws", 1, 1,
     "^(us|eu|ap|sa|ca|me|af|il|mx)\\-\\w+\\-\\d+$", aws_prefixes, aws_regions},
    {"aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn", 1, 1,
     "^cn\\-\\w+\\-\\d+$", aws_cn_prefixes, aws_cn_regions},
    {"aws-eusc", "amazonaws.eu", "api.amazonwebservices.eu", 1, 1,
     "^eusc\\-(de)\\-\\w+\\-\\d+$", aws_eusc_prefixes, aws_eusc_regions},
    {"aws-iso", "c2s.ic.gov", "api.aws.ic.gov", 1, 1,
     "^us\\-iso\\-\\w+\\-\\d+$", aws_iso_prefixes, aws_iso_regions},
    {"aws-iso-b", "sc2s.sgov.gov", "api.aws.scloud", 1, 1,
     "^us\\-isob\\-\\w+\\-\\d+$", aws_iso_b_prefixes, aws_iso_b_regions},
    {"aws-iso-e", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk", 1, 1,
     "^eu\\-isoe\\-\\w+\\-\\d+$", aws_iso_e_prefixes, aws_iso_e_regions},
    {"aws-iso-f", "csp.hci.ic.gov", "api.aws.hci.ic.gov", 1, 1,
     "^us\\-isof\\-\\w+\\-\\d+$", aws_iso_f_prefixes, aws_iso_f_regions},
    {"aws-us-gov", "amazonaws.com", "api.aws", 1, 1,
     "^us\\-gov\\-\\w+\\-\\d+$", aws_us_gov_prefixes, aws_us_gov_regions},
};
#define N_PARTITIONS (sizeof partitions / sizeof partitions[0])

const dr_partition *dr__partitions(size_t *count)
{
    *count = N_PARTITIONS;
    return partitions;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* `\w+\-\d+$`. \w cannot match '-', so the first '-' is the one the pattern means. */
static int is_word_dash_digits(const char *s)
{
    const char *p = s;
    while (is_alnum(*p) || *p == '_')
        p++;
    if (p == s || *p != '-')
        return 0;
    s = ++p;
    while (is_digit(*p))
        p++;
    return p > s && *p == '\0';
}

int dr__partition_regex_match(const dr_partition *partition, const char *region)
{
    const char *const *prefix;
    for (prefix = partition->region_prefixes; *prefix; prefix++)
        if (strncmp(region, *prefix, strlen(*prefix)) == 0 &&
            is_word_dash_digits(region + strlen(*prefix)))
            return 1;
    return 0;
}

const dr_partition *dr__partition_of(const char *region)
{
    const char *const *name;
    size_t i;

    for (i = 0; i < N_PARTITIONS; i++)
        for (name = partitions[i].regions; *name; name++)
            if (strcmp(*name, region) == 0)
                return &partitions[i];
    for (i = 0; i < N_PARTITIONS; i++)
        if (dr__partition_regex_match(&partitions[i], region))
            return &partitions[i];
    return &partitions[0]; /* "aws" */
}

static int partition_is(const dr_partition *partition, const char *name)
{
    return strcmp(partition->name, name) == 0;
}

/* --- the rules-engine library functions the rule sets call --- */

typedef struct span {
    const char *ptr;
    size_t len;
} span;

/* isValidHostLabel(value, false): 1..63 of [A-Za-z0-9-], no '-' at either end. */
static int is_host_label(span s)
{
    size_t i;
    if (s.len < 1 || s.len > 63 || s.ptr[0] == '-' || s.ptr[s.len - 1] == '-')
        return 0;
    for (i = 0; i < s.len; i++)
        if (!is_alnum(s.ptr[i]) && s.ptr[i] != '-')
            return 0;
    return 1;
}

static int span_eq(span s, const char *text)
{
    return strlen(text) == s.len && memcmp(s.ptr, text, s.len) == 0;
}

/* Consume `text` from the front of *s if it is there. */
static int span_eat(span *s, const char *text)
{
    size_t n = strlen(text);
    if (s->len < n || memcmp(s->ptr, text, n) != 0)
        return 0;
    s->ptr += n;
    s->len -= n;
    return 1;
}

/* Split the next ':'-terminated field off the front of *rest; 0 when no ':' is left. */
static int take_field(span *rest, span *field)
{
    const char *colon = memchr(rest->ptr, ':', rest->len);
    if (!colon)
        return 0;
    field->ptr = rest->ptr;
    field->len = (size_t)(colon - rest->ptr);
    rest->len -= field->len + 1;
    rest->ptr = colon + 1;
    return 1;
}

/* The rule sets' account-endpoint test of an ARN: aws.parseArn succeeds (arn:partition:
 * service:region:account:resource, partition, service and resource non-empty), the
 * service is dynamodb, the region a host label equal to `region`, the account ID a host
 * label. *account gets the account ID. */
static int arn_account(const char *arn, const char *region, span *account)
{
    span rest, partition, service, arn_region;

    if (!arn)
        return 0;
    rest.ptr = arn;
    rest.len = strlen(arn);
    if (!span_eat(&rest, "arn:") || !take_field(&rest, &partition) ||
        !take_field(&rest, &service) || !take_field(&rest, &arn_region) ||
        !take_field(&rest, account))
        return 0;
    /* `rest` is the resource, colons and all. */
    return partition.len && service.len && rest.len && span_eq(service, "dynamodb") &&
           is_host_label(arn_region) && span_eq(arn_region, region) && is_host_label(*account);
}

/* getAttr(parseURL(url), "authority"), or 0 when parseURL gives nothing: only http and
 * https URLs without a query parse. The authority runs to the first '/', '?' or '#'. */
static int url_authority(const char *url, span *authority)
{
    const char *p, *query;

    if (strncmp(url, "https://", 8) == 0)
        p = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        p = url + 7;
    else
        return 0;
    authority->ptr = p;
    authority->len = strcspn(p, "/?#");
    query = p + strcspn(p, "?#"); /* a '?' after the '#' is the fragment's */
    return !(*query == '?' && query[1] != '\0' && query[1] != '#');
}

/* --- the rules --- */

static const char fips_and_endpoint[] =
    "Invalid Configuration: FIPS and custom endpoint are not supported";
static const char dual_stack_and_endpoint[] =
    "Invalid Configuration: Dualstack and custom endpoint are not supported";
static const char missing_region[] = "Invalid Configuration: Missing Region";
static const char fips_unsupported[] = "FIPS is enabled but this partition does not support FIPS";
static const char dual_stack_unsupported[] =
    "DualStack is enabled but this partition does not support DualStack";
static const char fips_dual_stack_unsupported[] =
    "FIPS and DualStack are enabled, but this partition does not support one or both";
static const char required_with_fips[] =
    "Invalid Configuration: AccountIdEndpointMode is required and FIPS is enabled, but FIPS "
    "account endpoints are not supported";
static const char override_is_dual_stack[] =
    "Endpoint override is not supported for dual-stack endpoints. Please enable dual-stack "
    "functionality by enabling the configuration. For more details, see: "
    "https://docs.aws.amazon.com/sdkref/latest/guide/feature-endpoints.html";

static const char *format_url(dr_endpoint_result *out, const char *fmt, ...) DR_PRINTF(2, 3);

static const char *format_url(dr_endpoint_result *out, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(out->url, sizeof out->url, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof out->url) {
        out->url[0] = '\0';
        return "the endpoint URL is too long";
    }
    return NULL;
}

/* Both rule sets refuse FIPS and dual-stack with an override before anything else. */
static const char *override_conflict(const dr_endpoint_params *p)
{
    if (p->use_fips)
        return fips_and_endpoint;
    return p->use_dual_stack ? dual_stack_and_endpoint : NULL;
}

/* An override naming the dual-stack host itself, which the SDKs reach only by
 * enabling dual-stack. */
static int is_dual_stack_host(const char *endpoint, const char *region,
                              const dr_partition *partition)
{
    static const char *const services[] = {"dynamodb.", "search-dynamodb."};
    span authority, rest;
    size_t i;

    if (!url_authority(endpoint, &authority))
        return 0;
    for (i = 0; i < sizeof services / sizeof services[0]; i++) {
        rest = authority;
        if (span_eat(&rest, services[i]) && span_eat(&rest, region) && span_eat(&rest, ".") &&
            span_eat(&rest, partition->dual_stack_dns_suffix) && rest.len == 0)
            return 1;
    }
    return 0;
}

static const char *resolve_dynamodb(const dr_endpoint_params *p, dr_endpoint_result *out)
{
    const char *search = p->is_search_operation ? "search-" : "";
    int account_endpoints;
    const dr_partition *partition;
    const char *suffix, *fips, *error;
    span account;

    if (p->endpoint) {
        if ((error = override_conflict(p)) != NULL)
            return error;
        if (p->region && is_dual_stack_host(p->endpoint, p->region,
                                            dr__partition_of(p->region)))
            return override_is_dual_stack;
        return format_url(out, "%s", p->endpoint);
    }
    if (!p->region)
        return missing_region;
    partition = dr__partition_of(p->region);

    /* DynamoDB Local, signed as the SDKs sign for it. */
    if (strcmp(p->region, "local") == 0) {
        if (p->use_fips)
            return "Invalid Configuration: FIPS and local endpoint are not supported";
        if (p->use_dual_stack)
            return "Invalid Configuration: Dualstack and local endpoint are not supported";
        out->signing_region = "us-east-1";
        return format_url(out, "http://localhost:8000");
    }

    suffix = p->use_dual_stack ? partition->dual_stack_dns_suffix : partition->dns_suffix;
    /* FIPS: no account endpoints. GovCloud's regional hosts are FIPS hosts already,
     * dual-stack ones excepted. */
    if (p->use_fips) {
        if (!partition->supports_fips || (p->use_dual_stack && !partition->supports_dual_stack))
            return p->use_dual_stack ? fips_dual_stack_unsupported : fips_unsupported;
        if (p->account_id_mode == DR_ACCOUNT_ID_MODE_REQUIRED)
            return required_with_fips;
        fips = partition_is(partition, "aws-us-gov") && !p->use_dual_stack ? "" : "-fips";
        return format_url(out, "https://%sdynamodb%s.%s.%s", search, fips, p->region, suffix);
    }
    if (p->use_dual_stack && !partition->supports_dual_stack)
        return dual_stack_unsupported;

    /* Account endpoints exist in the aws partition only: the account of the resource's
     * ARN, else of the first ARN of the list, else the credentials' account ID. */
    account_endpoints = p->account_id_mode != DR_ACCOUNT_ID_MODE_UNSET &&
                        p->account_id_mode != DR_ACCOUNT_ID_MODE_DISABLED &&
                        partition_is(partition, "aws");
    if (account_endpoints &&
        (arn_account(p->resource_arn, p->region, &account) ||
         (p->resource_arn_count && arn_account(p->resource_arn_list[0], p->region, &account))))
        return format_url(out, "https://%.*s.%sddb.%s.%s", (int)account.len, account.ptr, search,
                          p->region, suffix);
    if (account_endpoints && p->account_id) {
        account.ptr = p->account_id;
        account.len = strlen(p->account_id);
        if (!is_host_label(account))
            return "Credentials-sourced account ID parameter is invalid";
        return format_url(out, "https://%s.%sddb.%s.%s", p->account_id, search, p->region,
                          suffix);
    }
    if (p->account_id_mode == DR_ACCOUNT_ID_MODE_REQUIRED)
        return partition_is(partition, "aws")
                   ? "AccountIdEndpointMode is required but no AccountID was provided or able "
                     "to be loaded"
                   : "Invalid Configuration: AccountIdEndpointMode is required but account "
                     "endpoints are not supported in this partition";
    return format_url(out, "https://%sdynamodb.%s.%s", search, p->region, suffix);
}

static const char *resolve_streams(const dr_endpoint_params *p, dr_endpoint_result *out)
{
    const dr_partition *partition;
    const char *error;

    if (p->endpoint)
        return (error = override_conflict(p)) ? error : format_url(out, "%s", p->endpoint);
    if (!p->region)
        return missing_region;
    partition = dr__partition_of(p->region);

    /* The commercial, China and GovCloud partitions name their dual-stack hosts
     * streams-dynamodb; GovCloud's FIPS host is its regional one. */
    if (p->use_dual_stack && (partition_is(partition, "aws") ||
                              partition_is(partition, "aws-cn") ||
                              partition_is(partition, "aws-us-gov")))
        return format_url(out, "https://streams-dynamodb%s.%s.%s", p->use_fips ? "-fips" : "",
                          p->region, partition->dual_stack_dns_suffix);
    if (p->use_fips && !p->use_dual_stack && partition_is(partition, "aws-us-gov"))
        return format_url(out, "https://streams.dynamodb.%s.%s", p->region,
                          partition->dns_suffix);

    if (p->use_fips && p->use_dual_stack &&
        !(partition->supports_fips && partition->supports_dual_stack))
        return fips_dual_stack_unsupported;
    if (p->use_fips && !partition->supports_fips)
        return fips_unsupported;
    if (p->use_dual_stack && !partition->supports_dual_stack)
        return dual_stack_unsupported;
    return format_url(out, "https://streams.dynamodb%s.%s.%s", p->use_fips ? "-fips" : "",
                      p->region,
                      p->use_dual_stack ? partition->dual_stack_dns_suffix
                                        : partition->dns_suffix);
}

/* Regional endpoints only: the rule set's UseGlobalEndpoint branch (sts.amazonaws.com for
 * sixteen regions) is the legacy behaviour the SDKs no longer default to. */
/* The regional rules STS and the SSO portal share: `service` (and `service`-fips) under
 * the partition's DNS suffix, or its dual-stack suffix. */
static const char *resolve_regional(const dr_endpoint_params *p, dr_endpoint_result *out,
                                    const char *service)
{
    const dr_partition *partition;
    const char *error;

    if (p->endpoint)
        return (error = override_conflict(p)) ? error : format_url(out, "%s", p->endpoint);
    if (!p->region)
        return missing_region;
    partition = dr__partition_of(p->region);
    if (p->use_fips && p->use_dual_stack) {
        if (!partition->supports_fips || !partition->supports_dual_stack)
            return fips_dual_stack_unsupported;
        return format_url(out, "https://%s-fips.%s.%s", service, p->region,
                          partition->dual_stack_dns_suffix);
    }
    if (p->use_fips) {
        if (!partition->supports_fips)
            return fips_unsupported;
        /* GovCloud's regional STS hosts are FIPS hosts already. */
        if (strcmp(service, "sts") == 0 && partition_is(partition, "aws-us-gov"))
            return format_url(out, "https://sts.%s.amazonaws.com", p->region);
        return format_url(out, "https://%s-fips.%s.%s", service, p->region,
                          partition->dns_suffix);
    }
    if (p->use_dual_stack) {
        if (!partition->supports_dual_stack)
            return dual_stack_unsupported;
        return format_url(out, "https://%s.%s.%s", service, p->region,
                          partition->dual_stack_dns_suffix);
    }
    return format_url(out, "https://%s.%s.%s", service, p->region, partition->dns_suffix);
}

const char *dr__endpoint_resolve(dr_endpoint_service service, const dr_endpoint_params *p,
                                 dr_endpoint_result *out)
{
    out->url[0] = '\0';
    out->signing_region = NULL;
    switch (service) {
    case DR_ENDPOINT_STREAMS:
        return resolve_streams(p, out);
    case DR_ENDPOINT_STS:
        return resolve_regional(p, out, "sts");
    case DR_ENDPOINT_SSO_PORTAL:
        return resolve_regional(p, out, "portal.sso");
    default:
        return resolve_dynamodb(p, out);
    }
}
