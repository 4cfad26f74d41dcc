/* The HTTP fetch and JSON parse shared by the container and instance-metadata
 * providers, and the ISO-8601 parser for their Expiration field. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alloc.h"
#include "credentials_provider.h"
#include "timeutil.h"
#include "error.h"
#include "http.h"
#include "retry.h"

void dr__metadata_backoff(uint32_t next_attempt)
{
    uint32_t ms = dr__retry_backoff_ms(&dr__retry_standard, next_attempt, DR_E_SERVICE,
                                       dr__random01(), 0);
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

dr_status dr__metadata_fetch(const dr_metadata_request *req, dr_buf *body, long *status)
{
    dr_http_request hreq = DR_HTTP_REQUEST_INIT;
    dr_http_response resp = DR_HTTP_RESPONSE_INIT;
    dr_status rc;

    *status = 0;
    hreq.method = req->method;
    hreq.url = req->url;
    hreq.connect_timeout_ms = req->timeout_ms;
    hreq.timeout_ms = req->timeout_ms;
    hreq.max_response_bytes = DR_METADATA_MAX_RESPONSE;
    hreq.allow_plain_http_metadata = 1;
    dr__buf_mark_secret(&resp.body); /* credentials, tokens */
    rc = req->header.name ? dr__http_request_set_header(&hreq, req->header.name,
                                                        req->header.value)
                          : DR_OK;
    if (rc == DR_OK)
        rc = dr__http_perform(NULL, &hreq, &resp);
    dr__http_request_free(&hreq);
    *status = resp.status;
    dr__buf_free(&resp.headers);
    if (rc == DR_OK && resp.status != 200)
        /* The body is not quoted: an endpoint may echo what it was sent. */
        rc = dr__fail(DR_E_CREDENTIALS, "%s endpoint answered HTTP %ld", req->what,
                      resp.status);
    if (rc != DR_OK) {
        dr__buf_free_secret(&resp.body);
        return rc;
    }
    *body = resp.body;
    return DR_OK;
}

/* A string member, or NULL if absent, not a string or empty. */
static const char *json_string_member(json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s && *s ? s : NULL;
}

int dr__is_error_code(const char *code, const char *secret, const char *token)
{
    size_t i, n = strlen(code);
    if (n > 64 || (secret && strstr(code, secret)) || (token && strstr(code, token)))
        return 0;
    for (i = 0; i < n; i++)
        if (!isalpha((unsigned char)code[i]))
            return 0;
    return 1;
}

static dr_status credentials_from_document(const char *what, json_t *doc,
                                           dr_credentials **out)
{
    const char *code = json_string_member(doc, "Code");
    const char *akid = json_string_member(doc, "AccessKeyId");
    const char *secret = json_string_member(doc, "SecretAccessKey");
    const char *token = json_string_member(doc, "Token");
    const char *expiration = json_string_member(doc, "Expiration");
    int64_t expires_at = 0;

    /* IMDS reports failures in-band ("Code": "AssumeRoleUnauthorizedAccess"...). */
    if (code && strcmp(code, "Success") != 0)
        return dr__is_error_code(code, secret, token)
                   ? dr__fail(DR_E_CREDENTIALS, "%s endpoint returned Code %s", what, code)
                   : dr__fail(DR_E_CREDENTIALS, "%s endpoint returned an error Code", what);
    if (!akid || !secret)
        return dr__fail(DR_E_CREDENTIALS,
                        "%s endpoint response lacks AccessKeyId or SecretAccessKey", what);
    if (expiration && !dr__parse_iso8601(expiration, &expires_at))
        return dr__fail(DR_E_CREDENTIALS, "%s endpoint response has an invalid Expiration",
                        what);
    *out = dr__credentials_new(akid, secret, token, expires_at);
    /* EKS Pod Identity and ECS name the account; IMDS does not. */
    if (*out &&
        dr__credentials_set_account_id(*out, json_string_member(doc, "AccountId")) != DR_OK) {
        dr__credentials_release(*out);
        *out = NULL;
    }
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory copying credentials");
}

dr_status dr__credentials_parse_json(const char *what, const char *json, size_t len,
                                     dr_credentials **out)
{
    json_error_t err;
    json_t *doc;
    dr_status rc;

    *out = NULL;
    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        /* Only the position: jansson's text quotes the input, which may be a secret. */
        return dr__fail(DR_E_CREDENTIALS, "%s endpoint returned malformed JSON (line %d, "
                        "column %d)", what, err.line, err.column);
    if (!json_is_object(doc))
        rc = dr__fail(DR_E_CREDENTIALS, "%s endpoint returned JSON that is not an object",
                      what);
    else
        rc = credentials_from_document(what, doc, out);
    json_decref(doc);
    return rc;
}

/* Exactly `n` digits at *p, advancing it. */
static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    while (n--) {
        if (!isdigit((unsigned char)**p))
            return 0;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 1;
}

/* "Z", or "+hh:mm" / "-hh:mm" (also without the colon): seconds east of UTC. */
static int parse_zone(const char *p, int64_t *offset)
{
    int sign, hh, mm;
    if (p[0] == 'Z' || p[0] == 'z') {
        *offset = 0;
        return p[1] == '\0';
    }
    if (p[0] != '+' && p[0] != '-')
        return 0;
    sign = p[0] == '-' ? -1 : 1;
    p++;
    if (!read_digits(&p, 2, &hh))
        return 0;
    if (*p == ':')
        p++;
    if (!read_digits(&p, 2, &mm) || *p || hh > 23 || mm > 59)
        return 0;
    *offset = sign * (hh * 3600 + mm * 60);
    return 1;
}

int dr__parse_iso8601(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec;
    int64_t offset;
    const char *p = s;

    if (!s || !read_digits(&p, 4, &y) || *p++ != '-' || !read_digits(&p, 2, &mo) ||
        *p++ != '-' || !read_digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return 0;
    p++;
    if (!read_digits(&p, 2, &h) || *p++ != ':' || !read_digits(&p, 2, &mi) ||
        *p++ != ':' || !read_digits(&p, 2, &sec))
        return 0;
    if (!dr__valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 60)
        return 0;
    if (*p == '.' || *p == ',') {
        /* Fractions are dropped: expiry is tracked to the second. */
        p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (!parse_zone(p, &offset))
        return 0;
    if (sec == 60)
        sec = 59; /* a leap second: close enough for an expiry */
    *out = dr__utc_to_epoch(y, mo, d, h, mi, sec) - offset;
    return 1;
}
