/* One DynamoDB API call: JSON request -> signed HTTP POST -> checked, parsed response,
 * with the AWS SDKs' standard retries. Operations build requests with ddb_json.h and
 * call dr__ddb_call(); nothing above this layer sees HTTP. */
#ifndef DR_DDB_H
#define DR_DDB_H

#include <jansson.h>

#include "client.h"

/* What the service said about a failed call, for callers that act on it. */
typedef struct dr_ddb_error {
    char type[128];        /* __type after '#', e.g. "ConditionalCheckFailedException" */
    char message[512];     /* the service's message (truncated) */
    long http_status;      /* 0 when no response arrived */
    /* TransactionCanceledException: the CancellationReasons array (one object per
     * action, {"Code": "None" | "ConditionalCheckFailed" | "TransactionConflict" ...}).
     * Owned; released by dr__ddb_error_clear(). NULL otherwise. */
    json_t *cancellation_reasons;
} dr_ddb_error;

#define DR_DDB_ERROR_INIT {"", "", 0, NULL}

void dr__ddb_error_clear(dr_ddb_error *err);

/* The two JSON-protocol services the library speaks. They sign with the same service
 * name ("dynamodb") but have their own target prefix and, on AWS, their own host. */
typedef enum dr_ddb_service {
    DR_SERVICE_DYNAMODB = 0, /* DynamoDB_20120810.*, dynamodb.<region>.amazonaws.com */
    DR_SERVICE_STREAMS = 1   /* DynamoDBStreams_20120810.*, streams.dynamodb.<region>... */
} dr_ddb_service;

/* dr__ddb_call() for either service. */
dr_status dr__ddb_call_service(dr_client *client, dr_ddb_service service,
                               const char *operation, const json_t *request,
                               json_t **response, dr_ddb_error *err);

/* Call `operation` (e.g. "GetItem") with `request` (borrowed). On DR_OK, *response (if
 * not NULL) receives the parsed response object (a new reference). On failure the
 * status says what kind, the thread's error message carries the service's message,
 * and `err` (if not NULL) the details. Thread-safe. */
dr_status dr__ddb_call(dr_client *client, const char *operation, const json_t *request,
                       json_t **response, dr_ddb_error *err);

/* Map a service error type (the part after '#') and HTTP status to a status code. */
dr_status dr__ddb_error_status(const char *type, long http_status);

/* Whether an error type reports a request signed with a clock too far from the
 * service's (the fix is to sign with the server's time from its Date header). */
int dr__ddb_is_clock_skew(const char *type, const char *message);

/* The error a failed awsJson1_0 response carries, into err: its type from the
 * X-Amzn-Errortype header (`type_header`, NULL if absent), else the body's "__type", else
 * its "code", with any namespace ("ns#") and URI suffix (":http://...") cut off; the
 * body's message/Message and CancellationReasons. Returns 0 if a type was found, -1
 * otherwise (err->type is then empty). */
int dr__ddb_parse_error(const char *type_header, const char *body, size_t len,
                        dr_ddb_error *err);

/* The status of a response other than 200, its details into err (and the thread's error
 * message): what the transport decides retries on. */
dr_status dr__ddb_response_error(const char *operation, const dr_http_response *resp,
                                 dr_ddb_error *err);

/* The server's retry-after hint in ms (x-amz-retry-after, else Retry-After in seconds),
 * or 0 when there is none or it is not a number. */
uint32_t dr__ddb_retry_after_ms(const dr_http_response *resp);

#endif
