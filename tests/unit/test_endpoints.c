/* Endpoints: the resolver (src/client/endpoint.c) against the AWS SDKs' own endpoint tests
 * for DynamoDB and DynamoDB Streams, its partitions table against partitions.json, pieces
 * of the rules the suites reach only partly, then the client's wiring of it: environment,
 * shared config file, overrides (src/client/resolve.c).
 *
 * The data lives in "$DR_SOURCE_DIR/tests/data/dynamodb-endpoints" (ctest sets
 * DR_SOURCE_DIR; the folder's README.md says where it comes from). A missing file fails. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc.h"
#include "client.h"
#include "creds_sandbox.h"
#include "dadratings.h"
#include "endpoint.h"
#include "resolve.h"

static json_t *load_data(const char *name)
{
    const char *src = getenv("DR_SOURCE_DIR");
    char path[4096];
    json_error_t err;
    json_t *root;

    snprintf(path, sizeof path, "%s/tests/data/dynamodb-endpoints/%s", src ? src : ".", name);
    root = json_load_file(path, 0, &err);
    if (!root)
        fail_msg("cannot read %s: %s (line %d)", path, err.text, err.line);
    return root;
}

/* ------------------------------------------------------------------------------ */
/* The SDKs' endpoint tests                                                       */
/* ------------------------------------------------------------------------------ */

/* Cases the resolver deliberately does not support, by file and documentation, with the
 * reason. None: every case of both files is supported. */
static const struct {
    const char *file;
    const char *documentation;
    const char *reason;
} unsupported_cases[] = {
    {NULL, NULL, NULL},
};

static const char *unsupported_reason(const char *file, const char *documentation)
{
    size_t i;
    for (i = 0; unsupported_cases[i].file; i++)
        if (strcmp(unsupported_cases[i].file, file) == 0 &&
            strcmp(unsupported_cases[i].documentation, documentation) == 0)
            return unsupported_cases[i].reason;
    return NULL;
}

#define MAX_ARNS 8

/* The case's params into *p (pointing into `params`); NULL, or why they cannot be read. */
static const char *read_params(json_t *params, dr_endpoint_params *p,
                               const char *arns[MAX_ARNS])
{
    const char *key;
    json_t *v;

    memset(p, 0, sizeof *p);
    json_object_foreach(params, key, v) {
        if (strcmp(key, "Region") == 0 && json_is_string(v))
            p->region = json_string_value(v);
        else if (strcmp(key, "UseFIPS") == 0 && json_is_boolean(v))
            p->use_fips = json_is_true(v);
        else if (strcmp(key, "UseDualStack") == 0 && json_is_boolean(v))
            p->use_dual_stack = json_is_true(v);
        else if (strcmp(key, "Endpoint") == 0 && json_is_string(v))
            p->endpoint = json_string_value(v);
        else if (strcmp(key, "AccountId") == 0 && json_is_string(v))
            p->account_id = json_string_value(v);
        else if (strcmp(key, "ResourceArn") == 0 && json_is_string(v))
            p->resource_arn = json_string_value(v);
        else if (strcmp(key, "IsSearchOperation") == 0 && json_is_boolean(v))
            p->is_search_operation = json_is_true(v);
        else if (strcmp(key, "AccountIdEndpointMode") == 0 && json_is_string(v)) {
            const char *mode = json_string_value(v);
            if (strcmp(mode, "preferred") == 0)
                p->account_id_mode = DR_ACCOUNT_ID_MODE_PREFERRED;
            else if (strcmp(mode, "required") == 0)
                p->account_id_mode = DR_ACCOUNT_ID_MODE_REQUIRED;
            else if (strcmp(mode, "disabled") == 0)
                p->account_id_mode = DR_ACCOUNT_ID_MODE_DISABLED;
            else
                return "unknown AccountIdEndpointMode";
        } else if (strcmp(key, "ResourceArnList") == 0 && json_is_array(v) &&
                   json_array_size(v) <= MAX_ARNS) {
            size_t i;
            json_t *arn;
            json_array_foreach(v, i, arn) {
                if (!json_is_string(arn))
                    return "ResourceArnList holds a non-string";
                arns[i] = json_string_value(arn);
            }
            p->resource_arn_list = arns;
            p->resource_arn_count = json_array_size(v);
        } else {
            return "unknown parameter or type";
        }
    }
    return NULL;
}

/* Compare a resolution with the case's expectation: NULL if they agree, else why not
 * (written into `why`). */
static const char *compare(json_t *expect, const char *error, const dr_endpoint_result *got,
                           char *why, size_t cap)
{
    json_t *endpoint = json_object_get(expect, "endpoint");
    json_t *scheme;
    const char *want_error = json_string_value(json_object_get(expect, "error"));
    const char *want_url, *want_signing;

    if (want_error) {
        if (!error)
            snprintf(why, cap, "expected error \"%s\", got %.400s", want_error, got->url);
        else if (strcmp(error, want_error) != 0)
            snprintf(why, cap, "expected error \"%s\", got error \"%s\"", want_error, error);
        else
            return NULL;
        return why;
    }
    want_url = json_string_value(json_object_get(endpoint, "url"));
    if (!want_url) {
        snprintf(why, cap, "the case expects neither a URL nor an error");
        return why;
    }
    if (error) {
        snprintf(why, cap, "expected %s, got error \"%s\"", want_url, error);
        return why;
    }
    if (strcmp(got->url, want_url) != 0) {
        snprintf(why, cap, "expected %s, got %.400s", want_url, got->url);
        return why;
    }
    /* authSchemes: the client always signs SigV4 for "dynamodb"; only the region may
     * differ. metricValues is a user-agent metric of the SDKs, with no effect on the
     * request, and not compared. */
    scheme = json_array_get(json_object_get(json_object_get(endpoint, "properties"),
                                            "authSchemes"), 0);
    want_signing = json_string_value(json_object_get(scheme, "signingRegion"));
    if (scheme && (strcmp(json_string_value(json_object_get(scheme, "name")), "sigv4") != 0 ||
                   strcmp(json_string_value(json_object_get(scheme, "signingName")),
                          "dynamodb") != 0)) {
        snprintf(why, cap, "an auth scheme other than sigv4/dynamodb");
        return why;
    }
    if ((want_signing == NULL) != (got->signing_region == NULL) ||
        (want_signing && strcmp(want_signing, got->signing_region) != 0)) {
        snprintf(why, cap, "expected signing region %s, got %s",
                 want_signing ? want_signing : "(the region)",
                 got->signing_region ? got->signing_region : "(the region)");
        return why;
    }
    return NULL;
}

static void run_suite(const char *file, dr_endpoint_service service)
{
    json_t *root = load_data(file);
    json_t *cases = json_object_get(root, "testCases");
    size_t n = json_array_size(cases), passed = 0, failed = 0, unsupported = 0, i;
    json_t *c;

    assert_true(n > 0);
    json_array_foreach(cases, i, c) {
        const char *doc = json_string_value(json_object_get(c, "documentation"));
        const char *arns[MAX_ARNS];
        const char *why, *error, *reason;
        dr_endpoint_params params;
        dr_endpoint_result got;
        char buf[1024];

        if (!doc)
            doc = "(no documentation)";
        if ((reason = unsupported_reason(file, doc)) != NULL) {
            printf("  unsupported: %s: %s\n", doc, reason);
            unsupported++;
            continue;
        }
        why = read_params(json_object_get(c, "params"), &params, arns);
        if (!why) {
            error = dr__endpoint_resolve(service, &params, &got);
            why = compare(json_object_get(c, "expect"), error, &got, buf, sizeof buf);
        }
        if (why) {
            printf("  FAILED case %zu \"%s\": %s\n", i, doc, why);
            failed++;
        } else {
            passed++;
        }
    }
    printf("dynamodb-endpoints/%s: %zu cases, %zu passed, %zu failed, %zu unsupported\n", file,
           n, passed, failed, unsupported);
    json_decref(root);
    assert_int_equal(failed, 0);
    assert_int_equal(passed + unsupported, n);
}

static void test_dynamodb_suite(void **state)
{
    (void)state;
    run_suite("dynamodb-endpoint-tests-1.json", DR_ENDPOINT_DYNAMODB);
}

static void test_streams_suite(void **state)
{
    (void)state;
    run_suite("dynamodbstreams-endpoint-tests-1.json", DR_ENDPOINT_STREAMS);
}

/* A rule set with a parameter the resolver does not take has changed under it. */
static void expect_parameters(const char *file, const char *const *known)
{
    json_t *root = load_data(file);
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach(json_object_get(root, "parameters"), key, v) {
        for (i = 0; known[i] && strcmp(known[i], key) != 0; i++)
            ;
        if (!known[i])
            fail_msg("%s has parameter %s, which endpoint.c does not take", file, key);
    }
    json_decref(root);
}

static void test_rule_set_parameters(void **state)
{
    static const char *const dynamodb[] = {
        "Region", "UseDualStack", "UseFIPS", "Endpoint", "AccountId", "AccountIdEndpointMode",
        "ResourceArn", "ResourceArnList", "IsSearchOperation", NULL};
    static const char *const streams[] = {"Region", "UseDualStack", "UseFIPS", "Endpoint",
                                          NULL};
    (void)state;
    expect_parameters("dynamodb-endpoint-rule-set-1.json", dynamodb);
    expect_parameters("dynamodbstreams-endpoint-rule-set-1.json", streams);
}

/* ------------------------------------------------------------------------------ */
/* The partitions table                                                           */
/* ------------------------------------------------------------------------------ */

static size_t count_list(const char *const *list)
{
    size_t n = 0;
    while (list[n])
        n++;
    return n;
}

static void test_partitions_match_file(void **state)
{
    json_t *root = load_data("partitions.json");
    json_t *file_partitions = json_object_get(root, "partitions"), *fp;
    size_t n, i;
    const dr_partition *table = dr__partitions(&n);
    (void)state;

    assert_int_equal(json_array_size(file_partitions), n);
    json_array_foreach(file_partitions, i, fp) {
        json_t *outputs = json_object_get(fp, "outputs");
        json_t *regions = json_object_get(fp, "regions");
        const char *region;
        json_t *v;

        assert_string_equal(json_string_value(json_object_get(fp, "id")), table[i].name);
        assert_string_equal(json_string_value(json_object_get(outputs, "name")), table[i].name);
        assert_string_equal(json_string_value(json_object_get(fp, "regionRegex")),
                            table[i].region_regex);
        assert_string_equal(json_string_value(json_object_get(outputs, "dnsSuffix")),
                            table[i].dns_suffix);
        assert_string_equal(json_string_value(json_object_get(outputs, "dualStackDnsSuffix")),
                            table[i].dual_stack_dns_suffix);
        assert_int_equal(json_is_true(json_object_get(outputs, "supportsFIPS")),
                         table[i].supports_fips);
        assert_int_equal(json_is_true(json_object_get(outputs, "supportsDualStack")),
                         table[i].supports_dual_stack);
        assert_int_equal(json_object_size(regions), count_list(table[i].regions));
        json_object_foreach(regions, region, v) {
            size_t j;
            /* A region entry could override the partition's outputs; none does today. */
            assert_int_equal(json_object_size(v) - (json_object_get(v, "description") ? 1 : 0),
                             0);
            for (j = 0; table[i].regions[j] && strcmp(table[i].regions[j], region) != 0; j++)
                ;
            if (!table[i].regions[j])
                fail_msg("partition %s: region %s is missing from endpoint.c", table[i].name,
                         region);
        }
    }
    json_decref(root);
}

/* partitions.json's regex in POSIX ERE: \w, \d and \- are its only escapes. */
static void posix_regex(const char *pattern, char *out, size_t cap)
{
    size_t n = 0;
    for (; *pattern && n + 16 < cap; pattern++) {
        if (pattern[0] == '\\' && pattern[1]) {
            const char *with = pattern[1] == 'w'   ? "[A-Za-z0-9_]"
                               : pattern[1] == 'd' ? "[0-9]"
                               : pattern[1] == '-' ? "-"
                                                   : NULL;
            if (!with)
                fail_msg("escape \\%c in %s: teach posix_regex and endpoint.c", pattern[1],
                         pattern);
            n += (size_t)snprintf(out + n, cap - n, "%s", with);
            pattern++;
        } else {
            out[n++] = *pattern;
        }
    }
    out[n] = '\0';
}

/* The hand translation of each regex agrees with regcomp on the regions of every
 * partition and on near misses. */
static void test_partition_regex_translation(void **state)
{
    static const char *const probes[] = {
        "us-east-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1",
        "us-gov-west-1", "eusc-de-east-1", "eusc-fr-east-1", "cn-north-1", "xx-east-1",
        "us-east", "us-east-1a", "us--1", "us-east-", "us-_-9", "mx-central-12", "local", "",
        "us-east-1-2", "US-EAST-1", "us-iso-east", "il-central-1", "eu-isoe-west-1x",
        "cn-north-01", "us-gov-1", "eusc-de-x_y-7", "ap-southeast-7", "us-west-2 ", NULL};
    size_t n, i, j;
    const dr_partition *table = dr__partitions(&n);
    (void)state;

    for (i = 0; i < n; i++) {
        char ere[512];
        regex_t re;
        posix_regex(table[i].region_regex, ere, sizeof ere);
        assert_int_equal(regcomp(&re, ere, REG_EXTENDED | REG_NOSUB), 0);
        for (j = 0; probes[j]; j++)
            if ((regexec(&re, probes[j], 0, NULL, 0) == 0) !=
                dr__partition_regex_match(&table[i], probes[j]))
                fail_msg("%s (%s) and \"%s\" disagree", table[i].name, ere, probes[j]);
        for (j = 0; j < n; j++) {
            const char *const *r;
            for (r = table[j].regions; *r; r++)
                if ((regexec(&re, *r, 0, NULL, 0) == 0) !=
                    dr__partition_regex_match(&table[i], *r))
                    fail_msg("%s (%s) and \"%s\" disagree", table[i].name, ere, *r);
        }
        regfree(&re);
    }
}

static void test_partition_of(void **state)
{
    (void)state;
    assert_string_equal(dr__partition_of("us-east-1")->name, "aws");
    assert_string_equal(dr__partition_of("aws-cn-global")->name, "aws-cn");
    assert_string_equal(dr__partition_of("cn-south-7")->name, "aws-cn");
    assert_string_equal(dr__partition_of("us-gov-west-1")->name, "aws-us-gov");
    assert_string_equal(dr__partition_of("us-gov-north-9")->name, "aws-us-gov");
    assert_string_equal(dr__partition_of("us-iso-north-3")->name, "aws-iso");
    assert_string_equal(dr__partition_of("us-isob-north-3")->name, "aws-iso-b");
    assert_string_equal(dr__partition_of("eu-isoe-north-3")->name, "aws-iso-e");
    assert_string_equal(dr__partition_of("us-isof-north-3")->name, "aws-iso-f");
    assert_string_equal(dr__partition_of("eusc-de-north-3")->name, "aws-eusc");
    /* Anything else is "aws", as in the SDKs. */
    assert_string_equal(dr__partition_of("local")->name, "aws");
    assert_string_equal(dr__partition_of("eusc-fr-east-1")->name, "aws");
}

/* ------------------------------------------------------------------------------ */
/* Rules the suites reach only partly                                             */
/* ------------------------------------------------------------------------------ */

static void expect_url(dr_endpoint_service service, const dr_endpoint_params *p,
                       const char *url)
{
    dr_endpoint_result got;
    const char *error = dr__endpoint_resolve(service, p, &got);
    if (error)
        fail_msg("expected %s, got error \"%s\"", url, error);
    assert_string_equal(got.url, url);
}

static void expect_error(dr_endpoint_service service, const dr_endpoint_params *p,
                         const char *needle)
{
    dr_endpoint_result got;
    const char *error = dr__endpoint_resolve(service, p, &got);
    if (!error)
        fail_msg("expected an error naming \"%s\", got %s", needle, got.url);
    if (!strstr(error, needle))
        fail_msg("expected an error naming \"%s\", got \"%s\"", needle, error);
}

/* aws.parseArn and the account-endpoint conditions, one at a time. */
static void test_arn_account_endpoints(void **state)
{
    static const struct {
        const char *arn;
        const char *url;
    } arns[] = {
        {"arn:aws:dynamodb:us-east-1:123456789012:table/t",
         "https://123456789012.ddb.us-east-1.amazonaws.com"},
        {"arn:aws:dynamodb:us-east-1:123456789012:table/t:with:colons",
         "https://123456789012.ddb.us-east-1.amazonaws.com"},
        {"arn:aws-cn:dynamodb:us-east-1:123456789012:t",
         "https://123456789012.ddb.us-east-1.amazonaws.com"}, /* the ARN's partition: any */
        {"arn:aws:dynamodb:us-east-1:123456789012:", "https://dynamodb.us-east-1.amazonaws.com"},
        {"arn:aws:dynamodb:us-east-1:123456789012", "https://dynamodb.us-east-1.amazonaws.com"},
        {"arn::dynamodb:us-east-1:123456789012:table/t",
         "https://dynamodb.us-east-1.amazonaws.com"},
        {"arn:aws::us-east-1:123456789012:table/t", "https://dynamodb.us-east-1.amazonaws.com"},
        {"arn:aws:dynamodb:us-east-1:-12:table/t", "https://dynamodb.us-east-1.amazonaws.com"},
        {"arn:aws:dynamodb:us-east-1::table/t", "https://dynamodb.us-east-1.amazonaws.com"},
        {"arn:aws:dynamodb:us-west-2:123456789012:table/t",
         "https://dynamodb.us-east-1.amazonaws.com"},
        {"arn:aws:dynamodb:US-EAST-1:123456789012:table/t",
         "https://dynamodb.us-east-1.amazonaws.com"},
        {"arn:aws:s3:us-east-1:123456789012:table/t", "https://dynamodb.us-east-1.amazonaws.com"},
        {"ARN:aws:dynamodb:us-east-1:123456789012:table/t",
         "https://dynamodb.us-east-1.amazonaws.com"},
        {"", "https://dynamodb.us-east-1.amazonaws.com"},
    };
    const char *list[] = {"arn:aws:dynamodb:us-east-1:333333333333:table/t",
                          "arn:aws:dynamodb:us-east-1:444444444444:table/t"};
    dr_endpoint_params p;
    size_t i;
    (void)state;

    memset(&p, 0, sizeof p);
    p.region = "us-east-1";
    p.account_id_mode = DR_ACCOUNT_ID_MODE_PREFERRED;
    for (i = 0; i < sizeof arns / sizeof arns[0]; i++) {
        p.resource_arn = arns[i].arn;
        expect_url(DR_ENDPOINT_DYNAMODB, &p, arns[i].url);
    }
    /* A resource ARN that does not qualify gives way to the first of the list, which
     * gives way to the account ID; only the first of the list counts. */
    p.resource_arn = "arn:aws:s3:us-east-1:222222222222:bucket";
    p.resource_arn_list = list;
    p.resource_arn_count = 2;
    expect_url(DR_ENDPOINT_DYNAMODB, &p, "https://333333333333.ddb.us-east-1.amazonaws.com");
    list[0] = "arn:aws:s3:us-east-1:333333333333:bucket";
    p.account_id = "555555555555";
    expect_url(DR_ENDPOINT_DYNAMODB, &p, "https://555555555555.ddb.us-east-1.amazonaws.com");
    p.is_search_operation = 1;
    expect_url(DR_ENDPOINT_DYNAMODB, &p,
               "https://555555555555.search-ddb.us-east-1.amazonaws.com");
    p.is_search_operation = 0;

    /* isValidHostLabel(AccountId): 1..63 of [A-Za-z0-9-], no '-' at the ends. */
    p.account_id = "a.b";
    expect_error(DR_ENDPOINT_DYNAMODB, &p, "account ID parameter is invalid");
    p.account_id = "1234567890123456789012345678901234567890123456789012345678901234";
    expect_error(DR_ENDPOINT_DYNAMODB, &p, "account ID parameter is invalid");
    p.account_id = "12-";
    expect_error(DR_ENDPOINT_DYNAMODB, &p, "account ID parameter is invalid");
    p.account_id = "123456789012345678901234567890123456789012345678901234567890123";
    expect_url(DR_ENDPOINT_DYNAMODB, &p,
               "https://123456789012345678901234567890123456789012345678901234567890123"
               ".ddb.us-east-1.amazonaws.com");

    /* No account endpoints outside the aws partition, even for a qualifying ARN. */
    p.region = "cn-north-1";
    p.resource_arn = "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/t";
    expect_url(DR_ENDPOINT_DYNAMODB, &p, "https://dynamodb.cn-north-1.amazonaws.com.cn");
    p.account_id_mode = DR_ACCOUNT_ID_MODE_REQUIRED;
    expect_error(DR_ENDPOINT_DYNAMODB, &p, "not supported in this partition");
}

/* parseURL: an override naming the dual-stack host is refused only when it parses. */
static void test_override_authority(void **state)
{
    dr_endpoint_params p;
    (void)state;
    memset(&p, 0, sizeof p);
    p.region = "us-east-1";

    p.endpoint = "https://dynamodb.us-east-1.api.aws#fragment";
    expect_error(DR_ENDPOINT_DYNAMODB, &p, "not supported for dual-stack endpoints");
    p.endpoint = "http://search-dynamodb.us-east-1.api.aws/path";
    expect_error(DR_ENDPOINT_DYNAMODB, &p, "not supported for dual-stack endpoints");
    p.endpoint = "https://dynamodb.us-east-1.api.aws?";
    expect_error(DR_ENDPOINT_DYNAMODB, &p, "not supported for dual-stack endpoints");
    /* A query, another scheme or a port: no parse or another authority, so no refusal. */
    p.endpoint = "https://dynamodb.us-east-1.api.aws?x=1";
    expect_url(DR_ENDPOINT_DYNAMODB, &p, "https://dynamodb.us-east-1.api.aws?x=1");
    p.endpoint = "ftp://dynamodb.us-east-1.api.aws";
    expect_url(DR_ENDPOINT_DYNAMODB, &p, "ftp://dynamodb.us-east-1.api.aws");
    p.endpoint = "https://dynamodb.us-east-1.api.aws:443";
    expect_url(DR_ENDPOINT_DYNAMODB, &p, "https://dynamodb.us-east-1.api.aws:443");
    p.endpoint = "https://dynamodb.us-west-2.api.aws";
    expect_url(DR_ENDPOINT_DYNAMODB, &p, "https://dynamodb.us-west-2.api.aws");
    /* Streams has no such rule. */
    p.endpoint = "https://dynamodb.us-east-1.api.aws";
    expect_url(DR_ENDPOINT_STREAMS, &p, "https://dynamodb.us-east-1.api.aws");
}

static void test_limits_and_local(void **state)
{
    static char long_region[DR_ENDPOINT_URL_MAX];
    dr_endpoint_params p;
    dr_endpoint_result got;
    (void)state;

    memset(long_region, 'a', sizeof long_region - 1);
    memset(&p, 0, sizeof p);
    p.region = long_region;
    expect_error(DR_ENDPOINT_DYNAMODB, &p, "too long");
    expect_error(DR_ENDPOINT_STREAMS, &p, "too long");
    p.region = NULL;
    expect_error(DR_ENDPOINT_DYNAMODB, &p, "Missing Region");

    /* "local" is DynamoDB Local, signed for us-east-1; Streams' rule set has no such
     * region (resolve.c sends Streams to DynamoDB Local too). */
    p.region = "local";
    assert_null(dr__endpoint_resolve(DR_ENDPOINT_DYNAMODB, &p, &got));
    assert_string_equal(got.url, "http://localhost:8000");
    assert_string_equal(got.signing_region, "us-east-1");
    assert_null(dr__endpoint_resolve(DR_ENDPOINT_STREAMS, &p, &got));
    assert_string_equal(got.url, "https://streams.dynamodb.local.amazonaws.com");
    assert_null(got.signing_region);
}

/* ------------------------------------------------------------------------------ */
/* The client's wiring: environment, shared config file, overrides                */
/* ------------------------------------------------------------------------------ */

static const char *const DDB = "DynamoDB", *const STREAMS = "Streams";

static dr_endpoint_service service_of(const char *which)
{
    return which == STREAMS ? DR_ENDPOINT_STREAMS : DR_ENDPOINT_DYNAMODB;
}

static void expect_resolved(const char *configured, const char *region, const char *profile,
                            const char *which, const char *url, const char *signing_region)
{
    char *endpoint = NULL, *host = NULL;
    const char *signing = NULL;
    dr_status rc = dr__resolve_endpoint(configured, region, profile, service_of(which),
                                        &endpoint, &host, &signing);
    if (rc != DR_OK)
        fail_msg("%s endpoint of %s: expected %s, got %s", which, region, url,
                 dr_last_error_message());
    assert_string_equal(endpoint, url);
    assert_string_equal(host, strstr(url, "://") + 3);
    assert_string_equal(signing, signing_region ? signing_region : region);
    dr__free(endpoint);
    dr__free(host);
}

static void expect_refused(const char *region, const char *profile, const char *which,
                           const char *needle)
{
    char *endpoint = (char *)1, *host = (char *)1;
    const char *signing = NULL;
    dr_status rc = dr__resolve_endpoint(NULL, region, profile, service_of(which), &endpoint,
                                        &host, &signing);
    if (rc != DR_E_CONFIG)
        fail_msg("%s endpoint of %s: expected DR_E_CONFIG naming \"%s\", got %d (%s)", which,
                 region, needle, (int)rc, rc == DR_OK ? endpoint : dr_last_error_message());
    if (!strstr(dr_last_error_message(), needle))
        fail_msg("expected an error naming \"%s\", got \"%s\"", needle,
                 dr_last_error_message());
}

static void test_wiring_defaults(void **state)
{
    (void)state;
    expect_resolved(NULL, "us-east-1", NULL, DDB, "https://dynamodb.us-east-1.amazonaws.com",
                    NULL);
    expect_resolved(NULL, "us-east-1", NULL, STREAMS,
                    "https://streams.dynamodb.us-east-1.amazonaws.com", NULL);
    expect_resolved(NULL, "cn-north-1", NULL, DDB,
                    "https://dynamodb.cn-north-1.amazonaws.com.cn", NULL);
    expect_resolved(NULL, "eusc-de-east-1", NULL, STREAMS,
                    "https://streams.dynamodb.eusc-de-east-1.amazonaws.eu", NULL);
    expect_resolved(NULL, "us-isob-east-1", NULL, DDB,
                    "https://dynamodb.us-isob-east-1.sc2s.sgov.gov", NULL);
    /* DynamoDB Local: plain http to loopback, Streams on the same port, both signed for
     * us-east-1 as the SDKs sign for it. */
    expect_resolved(NULL, "local", NULL, DDB, "http://localhost:8000", "us-east-1");
    expect_resolved(NULL, "local", NULL, STREAMS, "http://localhost:8000", "us-east-1");
}

static void test_wiring_environment(void **state)
{
    (void)state;
    setenv("AWS_USE_FIPS_ENDPOINT", "TRUE", 1);
    expect_resolved(NULL, "us-east-1", NULL, DDB,
                    "https://dynamodb-fips.us-east-1.amazonaws.com", NULL);
    expect_resolved(NULL, "us-gov-west-1", NULL, STREAMS,
                    "https://streams.dynamodb.us-gov-west-1.amazonaws.com", NULL);
    expect_refused("local", NULL, DDB, "FIPS and local endpoint are not supported");
    setenv("AWS_USE_DUALSTACK_ENDPOINT", "true", 1);
    expect_resolved(NULL, "us-east-1", NULL, DDB, "https://dynamodb-fips.us-east-1.api.aws",
                    NULL);
    expect_resolved(NULL, "us-east-1", NULL, STREAMS,
                    "https://streams-dynamodb-fips.us-east-1.api.aws", NULL);
    setenv("AWS_USE_FIPS_ENDPOINT", "false", 1);
    expect_resolved(NULL, "cn-north-1", NULL, DDB,
                    "https://dynamodb.cn-north-1.api.amazonwebservices.com.cn", NULL);
    setenv("AWS_USE_DUALSTACK_ENDPOINT", "yes", 1);
    expect_refused("us-east-1", NULL, DDB, "AWS_USE_DUALSTACK_ENDPOINT must be true or false");
    unsetenv("AWS_USE_DUALSTACK_ENDPOINT");
    setenv("AWS_USE_FIPS_ENDPOINT", "", 1); /* empty is unset */
    expect_resolved(NULL, "us-east-1", NULL, DDB, "https://dynamodb.us-east-1.amazonaws.com",
                    NULL);

    /* The account ID: preferred unless configured otherwise; Streams has no account
     * endpoints. */
    setenv("AWS_ACCOUNT_ID", "111122223333", 1);
    expect_resolved(NULL, "us-east-1", NULL, DDB,
                    "https://111122223333.ddb.us-east-1.amazonaws.com", NULL);
    expect_resolved(NULL, "us-east-1", NULL, STREAMS,
                    "https://streams.dynamodb.us-east-1.amazonaws.com", NULL);
    expect_resolved(NULL, "cn-north-1", NULL, DDB,
                    "https://dynamodb.cn-north-1.amazonaws.com.cn", NULL);
    setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled", 1);
    expect_resolved(NULL, "us-east-1", NULL, DDB, "https://dynamodb.us-east-1.amazonaws.com",
                    NULL);
    setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "required", 1);
    expect_resolved(NULL, "us-east-1", NULL, DDB,
                    "https://111122223333.ddb.us-east-1.amazonaws.com", NULL);
    unsetenv("AWS_ACCOUNT_ID");
    expect_refused("us-east-1", NULL, DDB, "no AccountID was provided");
    setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "sometimes", 1);
    expect_refused("us-east-1", NULL, DDB,
                   "AWS_ACCOUNT_ID_ENDPOINT_MODE must be preferred, required or disabled");
    unsetenv("AWS_ACCOUNT_ID_ENDPOINT_MODE");
    setenv("AWS_ACCOUNT_ID", "1111.2222", 1);
    expect_refused("us-east-1", NULL, DDB, "account ID parameter is invalid");
}

static void test_wiring_profile(void **state)
{
    (void)state;
    sandbox_write("config", "[default]\n"
                            "use_fips_endpoint = true\n"
                            "aws_account_id = 444455556666\n"
                            "[profile dual]\n"
                            "USE_DUALSTACK_ENDPOINT = True\n"
                            "account_id_endpoint_mode = disabled\n"
                            "aws_account_id = 777788889999\n"
                            "[profile broken]\n"
                            "use_fips_endpoint = maybe\n");
    /* FIPS has no account endpoints: the account ID is not used. */
    expect_resolved(NULL, "us-east-1", NULL, DDB,
                    "https://dynamodb-fips.us-east-1.amazonaws.com", NULL);
    /* The environment wins, setting by setting. */
    setenv("AWS_USE_FIPS_ENDPOINT", "false", 1);
    expect_resolved(NULL, "us-east-1", NULL, DDB,
                    "https://444455556666.ddb.us-east-1.amazonaws.com", NULL);
    unsetenv("AWS_USE_FIPS_ENDPOINT");
    /* The configured profile, else AWS_PROFILE. */
    expect_resolved(NULL, "us-east-1", "dual", DDB, "https://dynamodb.us-east-1.api.aws",
                    NULL);
    setenv("AWS_PROFILE", "dual", 1);
    expect_resolved(NULL, "us-east-1", NULL, STREAMS,
                    "https://streams-dynamodb.us-east-1.api.aws", NULL);
    setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "preferred", 1);
    expect_resolved(NULL, "us-east-1", NULL, DDB,
                    "https://777788889999.ddb.us-east-1.api.aws", NULL);
    unsetenv("AWS_ACCOUNT_ID_ENDPOINT_MODE");
    expect_refused("us-east-1", "broken", DDB,
                   "`use_fips_endpoint` in profile \"broken\" must be true or false");
    /* A profile that does not exist, or no config file at all: nothing is set. */
    expect_resolved(NULL, "us-east-1", "ghost", DDB,
                    "https://dynamodb.us-east-1.amazonaws.com", NULL);
    setenv("AWS_CONFIG_FILE", sandbox_path("no-such-config"), 1);
    expect_resolved(NULL, "us-east-1", "broken", DDB,
                    "https://dynamodb.us-east-1.amazonaws.com", NULL);
}

static void test_wiring_overrides(void **state)
{
    (void)state;
    /* An override with FIPS or dual-stack asked for is refused, as the rule sets (and so
     * the SDKs) refuse it: the user cannot have both. */
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8001", 1);
    setenv("AWS_USE_FIPS_ENDPOINT", "true", 1);
    expect_refused("us-east-1", NULL, DDB, "FIPS and custom endpoint are not supported");
    expect_refused("us-east-1", NULL, STREAMS, "FIPS and custom endpoint are not supported");
    unsetenv("AWS_USE_FIPS_ENDPOINT");
    setenv("AWS_USE_DUALSTACK_ENDPOINT", "true", 1);
    expect_refused("us-east-1", NULL, DDB, "Dualstack and custom endpoint are not supported");
    unsetenv("AWS_USE_DUALSTACK_ENDPOINT");
    /* An override serves both APIs, signed for the region. */
    expect_resolved(NULL, "local", NULL, DDB, "http://127.0.0.1:8001", NULL);
    expect_resolved(NULL, "us-east-1", NULL, STREAMS, "http://127.0.0.1:8001", NULL);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "https://ddb.example.com", 1);
    expect_resolved(NULL, "us-east-1", NULL, DDB, "https://ddb.example.com", NULL);
    expect_resolved(NULL, "us-east-1", NULL, STREAMS, "https://ddb.example.com", NULL);
    /* AWS_ENDPOINT_URL_DYNAMODB_STREAMS: Streams only. */
    setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "https://streams.example.com:8443", 1);
    expect_resolved(NULL, "us-east-1", NULL, DDB, "https://ddb.example.com", NULL);
    expect_resolved(NULL, "us-east-1", NULL, STREAMS, "https://streams.example.com:8443",
                    NULL);
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    expect_resolved(NULL, "us-east-1", NULL, DDB, "https://dynamodb.us-east-1.amazonaws.com",
                    NULL);
    expect_resolved(NULL, "us-east-1", NULL, STREAMS, "https://streams.example.com:8443",
                    NULL);
    /* The configured endpoint comes first, for both. */
    expect_resolved("http://[::1]:8002", "us-east-1", NULL, STREAMS, "http://[::1]:8002",
                    NULL);
    /* Plain http only to loopback, from every source. */
    setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "http://streams.example.com", 1);
    expect_refused("us-east-1", NULL, STREAMS, "plain http is only allowed to loopback");
}

/* dr_client_new: both endpoints and the region each is signed for. */
static void test_wiring_client(void **state)
{
    dr_config *cfg = NULL;
    dr_client *c = NULL;
    (void)state;

    assert_int_equal(dr_config_new(&cfg), DR_OK);
    assert_int_equal(dr_config_set_region(cfg, "local"), DR_OK);
    assert_int_equal(dr_client_new(&c, cfg), DR_OK);
    assert_string_equal(c->endpoint, "http://localhost:8000");
    assert_string_equal(c->streams_endpoint, "http://localhost:8000");
    assert_string_equal(c->host_header, "localhost:8000");
    assert_string_equal(c->signing_region, "us-east-1");
    assert_string_equal(c->streams_signing_region, "us-east-1");
    assert_string_equal(c->region, "local");
    dr_client_free(c);

    assert_int_equal(dr_config_set_region(cfg, "eu-west-1"), DR_OK);
    setenv("AWS_USE_DUALSTACK_ENDPOINT", "true", 1);
    assert_int_equal(dr_client_new(&c, cfg), DR_OK);
    assert_string_equal(c->endpoint, "https://dynamodb.eu-west-1.api.aws");
    assert_string_equal(c->streams_endpoint, "https://streams-dynamodb.eu-west-1.api.aws");
    assert_string_equal(c->signing_region, "eu-west-1");
    dr_client_free(c);

    setenv("AWS_USE_DUALSTACK_ENDPOINT", "1", 1);
    c = (dr_client *)1;
    assert_int_equal(dr_client_new(&c, cfg), DR_E_CONFIG);
    assert_null(c);
    assert_non_null(strstr(dr_last_error_message(), "AWS_USE_DUALSTACK_ENDPOINT"));
    dr_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dynamodb_suite),
        cmocka_unit_test(test_streams_suite),
        cmocka_unit_test(test_rule_set_parameters),
        cmocka_unit_test(test_partitions_match_file),
        cmocka_unit_test(test_partition_regex_translation),
        cmocka_unit_test(test_partition_of),
        cmocka_unit_test(test_arn_account_endpoints),
        cmocka_unit_test(test_override_authority),
        cmocka_unit_test(test_limits_and_local),
        cmocka_unit_test_setup_teardown(test_wiring_defaults, sandbox_setup, sandbox_teardown),
        cmocka_unit_test_setup_teardown(test_wiring_environment, sandbox_setup,
                                        sandbox_teardown),
        cmocka_unit_test_setup_teardown(test_wiring_profile, sandbox_setup, sandbox_teardown),
        cmocka_unit_test_setup_teardown(test_wiring_overrides, sandbox_setup, sandbox_teardown),
        cmocka_unit_test_setup_teardown(test_wiring_client, sandbox_setup, sandbox_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
