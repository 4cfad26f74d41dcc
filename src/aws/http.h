/* HTTP over libcurl. One module serves every caller: the DynamoDB transport (pooled,
 * kept-alive connections) and the credential providers (one-off metadata requests).
 * No retries and no signing here: those belong to the layers above. */
#ifndef DR_HTTP_H
#define DR_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dadratings.h"

/* A pool of libcurl easy handles. Each handle keeps its connections alive, and a
 * handle is lent to one thread at a time, as libcurl requires. */
typedef struct dr_http_pool dr_http_pool;

/* One header of a request. */
typedef struct dr_http_header {
    const char *name;
    const char *value;
} dr_http_header;

/* One request, as built by its sender, signed in place (dr__sigv4_sign_http) and sent
 * by dr__http_perform: the one representation of its headers from first to last.
 * Initialise with DR_HTTP_REQUEST_INIT; the request owns copies of its headers (values
 * may be secrets: the session token, a metadata token; they are wiped when replaced and
 * by dr__http_request_free). Method, URL and body are borrowed. */
typedef struct dr_http_request {
    const char *method;           /* "GET", "PUT", "POST" */
    const char *url;
    dr_http_header *headers;      /* header_count entries, in the order set */
    size_t header_count;
    size_t header_cap;
    const void *body;             /* may be NULL */
    size_t body_len;
    uint32_t connect_timeout_ms;  /* 0: libcurl's default */
    uint32_t timeout_ms;          /* whole transfer; 0: none */
    size_t max_response_bytes;    /* 0: DR_HTTP_DEFAULT_MAX_RESPONSE */
    /* Set by the credential providers for metadata requests: also allow plain http to
     * the AWS metadata services (dr__host_is_aws_metadata), which are only served over
     * http, and never use a proxy, whatever the scheme. */
    int allow_plain_http_metadata;
} dr_http_request;

#define DR_HTTP_REQUEST_INIT {NULL, NULL, NULL, 0, 0, NULL, 0, 0, 0, 0, 0}

/* Set header `name` (matched case-insensitively) to `value`: replaces the value of a
 * header already set, else appends. DR_E_INVALID_ARGUMENT for a name that is not an
 * HTTP token or a value with CR, LF or NUL (they would split the request), DR_E_NOMEM. */
dr_status dr__http_request_set_header(dr_http_request *req, const char *name,
                                      const char *value);
/* Remove header `name` if set (case-insensitive). */
void dr__http_request_remove_header(dr_http_request *req, const char *name);
/* The value of header `name`, or NULL. */
const char *dr__http_request_header(const dr_http_request *req, const char *name);
/* Free the header copies (values wiped) and reset the header list; the rest is borrowed. */
void dr__http_request_free(dr_http_request *req);
/* The request target of an absolute URL split as SigV4 signs it: the path ("/" when
 * empty) and the query without '?' ("" when none), each up to the next '?' or '#'.
 * Both point into `url`: path_len and query_len bytes. */
void dr__http_url_target(const char *url, const char **path, size_t *path_len,
                         const char **query, size_t *query_len);

#define DR_HTTP_DEFAULT_MAX_RESPONSE ((size_t)32 * 1024 * 1024)

typedef struct dr_http_response {
    long status;      /* HTTP status; 0 if no response arrived */
    dr_buf body;
    dr_buf headers;   /* raw "name: value\r\n" lines of the final response */
} dr_http_response;

#define DR_HTTP_RESPONSE_INIT {0, DR_BUF_INIT, DR_BUF_INIT}

/* Once per process, thread-safe (pthread_once around curl_global_init). */
dr_status dr__http_global_init(void);

dr_status dr__http_pool_new(dr_http_pool **out);
void dr__http_pool_free(dr_http_pool *pool);

/* Perform one request. `pool` NULL uses a fresh handle and no connection reuse.
 * Returns DR_OK when any HTTP response arrived (check resp->status), DR_E_TIMEOUT,
 * DR_E_NETWORK (message says what libcurl said, never the request's headers), or
 * DR_E_NOMEM. Only loopback URLs (and, with allow_plain_http_metadata, the AWS metadata
 * hosts) may use plain http, and plain http never goes through a proxy; https peers are
 * verified, and https honours the proxy settings of the environment. */
dr_status dr__http_perform(dr_http_pool *pool, const dr_http_request *req,
                           dr_http_response *resp);

#ifdef DR_TESTING
/* Test builds only: send every request to a host that is not loopback to the plain-http
 * server at `loopback_host_port` ("127.0.0.1:PORT") instead, keeping its URL's path,
 * query and Host header (https becomes http). For replaying the SDKs' recorded traffic to
 * STS, the SSO portal and the metadata services. NULL or "" turns it off. */
void dr__http_set_test_redirect(const char *loopback_host_port);
#endif

/* A response header's value (case-insensitive name), copied into `out` (cap bytes,
 * NUL-terminated, trimmed). Returns 1 if found, 0 if not. */
int dr__http_response_header(const dr_http_response *resp, const char *name, char *out,
                             size_t cap);

void dr__http_response_free(dr_http_response *resp);

/* Seconds since the epoch of an HTTP date in IMF-fixdate form ("Sun, 06 Nov 1994
 * 08:49:37 GMT", RFC 9110), or -1 if `date` is not one. */
int64_t dr__http_date_parse(const char *date);

/* URL checks shared by the endpoint configuration and the credential providers. */
typedef struct dr_url_parts {
    char scheme[8];     /* "http" or "https" */
    char host[256];     /* without brackets for IPv6 */
    uint16_t port;      /* 0 if not given */
    char path[1024];    /* "/" if empty; without the query */
} dr_url_parts;

/* Split an absolute http(s) URL. DR_E_INVALID_ARGUMENT if malformed. */
dr_status dr__url_parse(const char *url, dr_url_parts *out);
/* Append the Host header of `url` as the HTTP client sends it, so a signature over it
 * matches: the host (IPv6 in brackets) and the port only when it is not the scheme's
 * default. */
void dr__url_host_header(const dr_url_parts *url, dr_buf *out);
/* 1 if host is "localhost" (which dr__http_perform pins to 127.0.0.1 and ::1), an IPv4
 * literal in 127.0.0.0/8 as inet_pton reads it (not "127.0.0.256", "127.1" or
 * "2130706433"), or the IPv6 literal ::1 (host as dr__url_parse gives it, without
 * brackets). */
int dr__host_is_loopback(const char *host);
/* 1 if host is one of the link-local AWS metadata services, which AWS serves over plain
 * http by design: EC2 instance metadata (169.254.169.254, fd00:ec2::254), ECS task
 * credentials (169.254.170.2) and EKS Pod Identity (169.254.170.23, fd00:ec2::23). */
int dr__host_is_aws_metadata(const char *host);

#endif
