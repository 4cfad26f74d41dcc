/* Signatures per second for a typical DynamoDB request (POST /, host, content-type
 * application/x-amz-json-1.0, x-amz-target DynamoDB_20120810.GetItem, a 150-byte JSON
 * body, a session token) on one thread: our signer (dr__sigv4_sign_http, the call the
 * transport makes, with the key cache warm as in steady state) and, in the same run,
 * @smithy/signature-v4 under node (bench_sigv4.cjs), printed side by side.
 *
 * Usage: bench_sigv4 [seconds]   (default 2 per signer) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "credentials.h"
#include "sigv4.h"

/* 150 bytes: a GetItem on the ratings table. */
static const char body[] =
    "{\"TableName\":\"dadratings-ratings\",\"Key\":{\"pk\":{\"S\":\"joke#0001\"},\"sk\":"
    "{\"S\":\"user#42\"}},\"ConsistentRead\":true,\"ProjectionExpression\":\"score, at\"}";

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double bench_ours(double seconds)
{
    char akid[] = "AKIDEXAMPLE", secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    char token[] = "IQoJb3JpZ2luX2VjEXAMPLETOKEN";
    dr_credentials creds = {akid, secret, token, 0, NULL, 1};
    dr_http_request req = DR_HTTP_REQUEST_INIT;
    dr_sigv4_params params = {0};
    dr_sigv4_signer *signer = NULL;
    double start, elapsed = 0;
    long n = 0, i;

    req.method = "POST";
    req.url = "https://dynamodb.us-east-1.amazonaws.com/";
    req.body = body;
    req.body_len = sizeof(body) - 1;
    params.creds = &creds;
    params.region = "us-east-1";
    params.service = "dynamodb";
    if (dr__sigv4_signer_new(&signer) != DR_OK ||
        dr__http_request_set_header(&req, "host", "dynamodb.us-east-1.amazonaws.com") != DR_OK ||
        dr__http_request_set_header(&req, "content-type", "application/x-amz-json-1.0") !=
            DR_OK ||
        dr__http_request_set_header(&req, "x-amz-target", "DynamoDB_20120810.GetItem") != DR_OK)
        n = -1;
    start = now_seconds();
    while (n >= 0 && elapsed < seconds) {
        for (i = 0; i < 1000; i++) {
            params.unix_time = INT64_C(1440938160) + n % 60;
            if (dr__sigv4_sign_http(signer, &params, &req) != DR_OK) {
                n = -1;
                break;
            }
            n++;
        }
        elapsed = now_seconds() - start;
    }
    dr__http_request_free(&req);
    dr__sigv4_signer_free(signer);
    return n > 0 ? (double)n / elapsed : -1;
}

/* Runs the node half; returns its signatures per second or -1. */
/* `version` holds at least 64 bytes. */
static double bench_smithy(double seconds, char *version)
{
    char cmd[1024], line[256];
    double rate = -1;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "node '%s' '%s' %g", DR_BENCH_SIGV4_JS, body, seconds);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    if (fgets(line, sizeof(line), p) && sscanf(line, "%lf %63s", &rate, version) != 2)
        rate = -1;
    if (pclose(p) != 0)
        rate = -1;
    return rate;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    char version[64] = "?";
    double ours, theirs;

    if (seconds <= 0)
        seconds = 2.0;
    ours = bench_ours(seconds);
    theirs = bench_smithy(seconds, version);
    printf("SigV4 signatures per second, one thread, DynamoDB GetItem (150-byte body, token)\n");
    printf("  %-34s %12.0f\n", "libdadratings (OpenSSL)", ours);
    if (theirs > 0) {
        char name[sizeof version + 32];
        snprintf(name, sizeof(name), "@smithy/signature-v4 %s (node)", version);
        printf("  %-34s %12.0f\n", name, theirs);
        printf("  ratio %.1fx\n", ours / theirs);
    } else {
        printf("  %-34s %12s (node or node tools missing: run scripts/setup.sh)\n",
               "@smithy/signature-v4", "n/a");
    }
    return ours > 0 ? 0 : 1;
}
