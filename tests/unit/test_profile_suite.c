/* The AWS SDKs' shared-file suites (tests/data/profile-parser/, from smithy-rs; its
 * README.md says where they come from and what they mean), run against the library:
 *  - profile-parser-tests.json: each case's config and credentials texts are written to
 *    the files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name and loaded as every
 *    lookup loads them (dr__profile_set_load); the merged profiles and sso-sessions must
 *    equal the expected ones exactly, or the load must fail with the expected error;
 *  - file-location-tests.json: with each case's environment, dr__profile_file_path and
 *    dr__profile_name must give the expected files and profile.
 * Then the lookups users get (credentials, region) on the same rules, and `~` expansion.
 * A missing suite fails: a silent skip would hide that nothing was checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc.h"
#include "buf.h"
#include "creds_sandbox.h"
#include "credentials_provider.h"
#include "profile_file.h"

/* Cases the library deliberately does not run, with the reason. */
typedef struct unsupported_case {
    const char *name;
    const char *reason;
} unsupported_case;

static const char *const NOT_ON_WINDOWS =
    "Windows only (USERPROFILE, HOMEDRIVE/HOMEPATH, backslash paths): the library builds "
    "for POSIX systems only (pthreads, _POSIX_C_SOURCE, a GNU ld version script; README.md "
    "documents Debian and Amazon Linux)";

static const unsupported_case unsupported_locations[] = {
    {"User home is loaded from $HOME with highest priority on windows platforms.",
     NOT_ON_WINDOWS},
    {"User home is loaded from $USERPROFILE on windows platforms when $HOME is not set.",
     NOT_ON_WINDOWS},
    {"User home is loaded from $HOMEDRIVE$HOMEPATH on windows platforms when $HOME and "
     "$USERPROFILE are not set.",
     NOT_ON_WINDOWS},
    /* Two cases of this name: one per file variable. */
    {"The default credentials location can be overridden by the user on windows platforms.",
     NOT_ON_WINDOWS},
};

static const char *unsupported_reason(const unsupported_case *table, size_t n,
                                      const char *name, size_t *hits)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0) {
            hits[i]++;
            return table[i].reason;
        }
    return NULL;
}

static json_t *load_suite(const char *file)
{
    const char *src = getenv("DR_SOURCE_DIR");
    char path[2048];
    json_error_t err;
    json_t *root;
    snprintf(path, sizeof path, "%s/tests/data/profile-parser/%s", src ? src : ".", file);
    root = json_load_file(path, 0, &err);
    if (!root)
        fail_msg("cannot load %s (set DR_SOURCE_DIR): %s", path, err.text);
    return root;
}

static void summary(const char *file, size_t n, size_t passed, size_t failed,
                    size_t unsupported)
{
    printf("%s: %zu cases, %zu passed, %zu failed, %zu unsupported\n", file, n, passed, failed,
           unsupported);
}

/* ---- profile-parser-tests.json ------------------------------------------------------ */

/* `sections` holds exactly the sections and properties of `expected`; else 0 and why. */
static int same_sections(const char *what, json_t *expected, const dr_profile_sections *actual,
                         char *why, size_t cap)
{
    const char *name, *key;
    json_t *props, *value;

    if (!json_is_object(expected))
        return snprintf(why, cap, "%s: expected output is not an object", what), 0;
    if (json_object_size(expected) != actual->count)
        return snprintf(why, cap, "%s: %zu expected, %zu parsed", what,
                        json_object_size(expected), actual->count), 0;
    json_object_foreach(expected, name, props) {
        const dr_profile_section *section = dr__profile_find(actual, name);
        if (!section)
            return snprintf(why, cap, "%s: \"%s\" missing", what, name), 0;
        if (json_object_size(props) != section->count)
            return snprintf(why, cap, "%s \"%s\": %zu properties expected, %zu parsed", what,
                            name, json_object_size(props), section->count), 0;
        json_object_foreach(props, key, value) {
            const dr_profile_property *p = dr__profile_property(section, key);
            if (!p)
                return snprintf(why, cap, "%s \"%s\": property \"%s\" missing", what, name,
                                key), 0;
            if (p->value.len != json_string_length(value) ||
                memcmp(dr__buf_cstr(&p->value), json_string_value(value), p->value.len) != 0)
                return snprintf(why, cap, "%s \"%s\": %s = \"%s\", expected \"%s\"", what, name,
                                key, dr__buf_cstr(&p->value), json_string_value(value)), 0;
        }
    }
    return 1;
}

/* Write `text` (JSON string, may be NULL: no file) to the sandbox file `name`. */
static void put_file(const char *name, json_t *text)
{
    FILE *f;
    unlink(sandbox_path(name));
    if (!text)
        return;
    sandbox_write(name, ""); /* registers the file for the sandbox's cleanup */
    f = fopen(sandbox_path(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(json_string_value(text), 1, json_string_length(text), f),
                     json_string_length(text));
    fclose(f);
}

static int run_parser_case(json_t *c, char *why, size_t cap)
{
    json_t *input = json_object_get(c, "input"), *output = json_object_get(c, "output");
    json_t *error = json_object_get(output, "errorContaining");
    json_t *config = json_object_get(output, "config"), *sso, *none = json_object();
    dr_profile_set set = DR_PROFILE_SET_INIT;
    dr_status rc;
    int ok;

    put_file("config", json_object_get(input, "configFile"));
    put_file("credentials", json_object_get(input, "credentialsFile"));
    rc = dr__profile_set_load(&set);
    if (error) {
        ok = rc == DR_E_CONFIG && strstr(dr_last_error_message(), json_string_value(error));
        if (!ok)
            snprintf(why, cap, "expected an error containing \"%s\", got %d \"%s\"",
                     json_string_value(error), rc, rc ? dr_last_error_message() : "");
    } else if (rc != DR_OK) {
        ok = 0;
        snprintf(why, cap, "failed: %s", dr_last_error_message());
    } else {
        /* No sso_sessions in the expected output: the files define none. */
        sso = json_object_get(config, "sso_sessions");
        ok = same_sections("profiles", json_object_get(config, "profiles"), &set.profiles,
                           why, cap) &&
             same_sections("sso_sessions", sso ? sso : none, &set.sso_sessions, why, cap);
    }
    json_decref(none);
    dr__profile_set_free(&set);
    return ok;
}

static void test_parser_suite(void **state)
{
    json_t *root = load_suite("profile-parser-tests.json");
    json_t *cases = json_object_get(root, "tests"), *c;
    size_t i, passed = 0, failed = 0;
    char why[1024];
    (void)state;

    assert_true(json_array_size(cases) > 0);
    json_array_foreach(cases, i, c) {
        if (run_parser_case(c, why, sizeof why)) {
            passed++;
        } else {
            failed++;
            printf("  FAILED: %s: %s\n", json_string_value(json_object_get(c, "name")), why);
        }
    }
    summary("profile-parser-tests.json", json_array_size(cases), passed, failed, 0);
    json_decref(root);
    assert_int_equal(failed, 0);
}

/* ---- file-location-tests.json -------------------------------------------------------- */

static const char *const location_vars[] = {"HOME", "USERPROFILE", "HOMEDRIVE", "HOMEPATH",
                                            "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                                            "AWS_PROFILE"};
#define N_LOCATION_VARS (sizeof location_vars / sizeof location_vars[0])

static int same_path(dr_profile_file_kind kind, json_t *expected, char *why, size_t cap)
{
    dr_buf path = DR_BUF_INIT;
    dr_status rc = dr__profile_file_path(kind, &path);
    int ok = rc == DR_OK && strcmp(dr__buf_cstr(&path), json_string_value(expected)) == 0;
    if (!ok)
        snprintf(why, cap, "%s file: got %s, expected %s",
                 kind == DR_PROFILE_CONFIG_FILE ? "config" : "credentials",
                 rc == DR_OK ? dr__buf_cstr(&path) : dr_last_error_message(),
                 json_string_value(expected));
    dr__buf_free(&path);
    return ok;
}

static int run_location_case(json_t *c, char *why, size_t cap)
{
    json_t *env = json_object_get(c, "environment"), *value;
    json_t *profile = json_object_get(c, "profile");
    const char *name;
    size_t i;

    for (i = 0; i < N_LOCATION_VARS; i++)
        unsetenv(location_vars[i]);
    json_object_foreach(env, name, value) {
        setenv(name, json_string_value(value), 1);
    }
    if (!same_path(DR_PROFILE_CONFIG_FILE, json_object_get(c, "configLocation"), why, cap) ||
        !same_path(DR_PROFILE_CREDENTIALS_FILE, json_object_get(c, "credentialsLocation"), why,
                   cap))
        return 0;
    if (profile && strcmp(dr__profile_name(NULL), json_string_value(profile)) != 0)
        return snprintf(why, cap, "profile %s, expected %s", dr__profile_name(NULL),
                        json_string_value(profile)), 0;
    return 1;
}

static void test_location_suite(void **state)
{
    size_t n_unsupported = sizeof unsupported_locations / sizeof unsupported_locations[0];
    json_t *root = load_suite("file-location-tests.json");
    json_t *cases = json_object_get(root, "tests"), *c;
    size_t i, passed = 0, failed = 0, unsupported = 0, hits[8] = {0};
    char why[1024];
    (void)state;

    assert_true(n_unsupported <= sizeof hits / sizeof hits[0]);
    assert_true(json_array_size(cases) > 0);
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *reason = unsupported_reason(unsupported_locations, n_unsupported, name,
                                                hits);
        if (reason) {
            unsupported++;
            printf("  unsupported: %s: %s\n", name, reason);
        } else if (run_location_case(c, why, sizeof why)) {
            passed++;
        } else {
            failed++;
            printf("  FAILED: %s: %s\n", name, why);
        }
    }
    summary("file-location-tests.json", json_array_size(cases), passed, failed, unsupported);
    json_decref(root);
    for (i = 0; i < n_unsupported; i++)
        if (!hits[i])
            fail_msg("unsupported table names a case the suite does not have: %s",
                     unsupported_locations[i].name);
    assert_int_equal(failed, 0);
}

/* ---- what users get -------------------------------------------------------------------- */

static void test_lookups_use_the_suite_rules(void **state)
{
    dr_credentials *c = NULL;
    char *region = NULL;
    (void)state;
    /* [profile default] wins over [default]; sub-properties are not the profile's own. */
    sandbox_write("config", "[default]\nregion = us-east-1\n[profile default]\n"
                            "s3 =\n  region = ap-south-1\nregion = eu-west-1\n");
    assert_int_equal(dr__profile_region("default", &region), DR_OK);
    assert_string_equal(region, "eu-west-1");
    dr__free(region);
    /* The credentials file wins per property, region included. */
    sandbox_write("credentials", "[default]\nregion = eu-north-1\naws_access_key_id = AKID\n"
                                 "aws_secret_access_key = secret\n");
    assert_int_equal(dr__profile_region("default", &region), DR_OK);
    assert_string_equal(region, "eu-north-1");
    dr__free(region);
    assert_int_equal(sandbox_profile_credentials("default", &c), DR_OK);
    assert_string_equal(c->access_key_id, "AKID");
    dr__credentials_release(c);
    /* A broken file fails every lookup, naming the file and line, not quoting it. */
    sandbox_write("config", "[default]\nregion = eu-west-1\n[profile broken\n");
    assert_int_equal(dr__profile_region("default", &region), DR_E_CONFIG);
    assert_null(region);
    assert_non_null(strstr(dr_last_error_message(), "config on line 3: Profile definition"));
    assert_int_equal(sandbox_profile_credentials("default", &c), DR_E_CREDENTIALS);
    assert_null(c);
    assert_non_null(strstr(dr_last_error_message(), "on line 3"));
}

static void expect_path(dr_profile_file_kind kind, dr_status want, const char *path)
{
    dr_buf b = DR_BUF_INIT;
    assert_int_equal(dr__profile_file_path(kind, &b), want);
    if (want == DR_OK)
        assert_string_equal(dr__buf_cstr(&b), path);
    dr__buf_free(&b);
}

static void test_home_expansion(void **state)
{
    (void)state;
    setenv("HOME", "/home/u", 1);
    setenv("AWS_CONFIG_FILE", "~/cfg/config", 1);
    expect_path(DR_PROFILE_CONFIG_FILE, DR_OK, "/home/u/cfg/config");
    setenv("AWS_CONFIG_FILE", "~", 1);
    expect_path(DR_PROFILE_CONFIG_FILE, DR_OK, "/home/u");
    /* Only the user's own home: ~other and a ~ later in the path are plain text. */
    setenv("AWS_CONFIG_FILE", "~other/config", 1);
    expect_path(DR_PROFILE_CONFIG_FILE, DR_OK, "~other/config");
    setenv("AWS_CONFIG_FILE", "/etc/~/config", 1);
    expect_path(DR_PROFILE_CONFIG_FILE, DR_OK, "/etc/~/config");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    expect_path(DR_PROFILE_CREDENTIALS_FILE, DR_OK, "/home/u/.aws/credentials");
    /* Without HOME a configured ~ path is an error, the default location merely absent. */
    unsetenv("HOME");
    setenv("AWS_CONFIG_FILE", "~/config", 1);
    expect_path(DR_PROFILE_CONFIG_FILE, DR_E_CONFIG, NULL);
    expect_path(DR_PROFILE_CREDENTIALS_FILE, DR_E_NOT_FOUND, NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sandbox_setup, sandbox_teardown)
    const struct CMUnitTest tests[] = {
        T(test_parser_suite),
        T(test_location_suite),
        T(test_lookups_use_the_suite_rules),
        T(test_home_expansion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
