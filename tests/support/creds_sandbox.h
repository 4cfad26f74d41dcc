/* Test fixtures for the credentials and region chains: an environment with every AWS
 * variable the chains read cleared (and restored afterwards), a private temp directory
 * for shared files and token files, and a mini_http handler serving credentials
 * documents with a chosen lifetime. */
#ifndef CREDS_SANDBOX_H
#define CREDS_SANDBOX_H

#include <stdatomic.h>
#include <stdint.h>

#include "credentials.h"
#include "credentials_chain.h"
#include "mini_http.h"

/* Save and clear the AWS variables, point HOME, AWS_SHARED_CREDENTIALS_FILE and
 * AWS_CONFIG_FILE into a fresh temp directory (the files do not exist yet) and set
 * AWS_EC2_METADATA_DISABLED=true, so no test ever waits on 169.254.169.254 by accident.
 * cmocka setup/teardown signatures. */
int sandbox_setup(void **state);
int sandbox_teardown(void **state);

/* "<tempdir>/<name>" (a static buffer per call slot: valid until 4 more calls). */
const char *sandbox_path(const char *name);
/* Write `content` to <tempdir>/<name>; returns the path. */
const char *sandbox_write(const char *name, const char *content);

/* The profile provider for `profile` as the chain runs it for a profile the user named
 * (no endpoint resolver: default STS and SSO hosts, region us-east-1). */
dr_status sandbox_profile_credentials(const char *profile, dr_credentials **out);

/* DR_TEST_TIME_SCALE (1..20, default 1): slow runs (valgrind) stretch timed tests by it. */
int sandbox_time_scale(void);

/* `threads` threads get credentials from `chain` and sign a request with them, over and
 * over, for run_s seconds. Fails the test (cmocka) if any call fails, gets credentials
 * that had already expired, or cannot sign; returns the number of calls. */
long sandbox_sign_under_load(dr_credentials_chain *chain, int threads, int run_s);

/* Serves {"Code":"Success","AccessKeyId":"<prefix><n>","SecretAccessKey":...,
 * "Token":...,"Expiration":now+lifetime_s} with n counting up from 1. */
typedef struct creds_source {
    const char *access_key_prefix; /* NULL: "ASIATEST" */
    const char *secret;            /* NULL: "test-secret" */
    const char *token;             /* NULL: "test-token" */
    int64_t lifetime_s;            /* 0: no Expiration field */
    atomic_int served;
} creds_source;

void creds_source_handler(const mini_http_request *req, int *status, char *body, size_t cap,
                          void *payload);

/* Script an IMDSv2 server on `s`: token "TOKEN-1", role "test-role", credentials from
 * `src` behind the token header. */
void sandbox_script_imds(mini_http *s, creds_source *src);

/* The ISO-8601 form of an epoch time. */
void sandbox_iso8601(int64_t t, char *out, size_t cap);

#endif
