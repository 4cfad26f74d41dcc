#include "validate.h"

#include <string.h>

#include "error.h"
#include "timeutil.h"

int dr__utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* C0 controls, DEL, and the C1 controls U+0080..U+009F (encoded C2 80..C2 9F). */
static int has_control(const char *value, int allow_whitespace)
{
    const unsigned char *s = (const unsigned char *)value;
    for (; *s; s++) {
        if (*s < 0x20 || *s == 0x7F) {
            if (allow_whitespace && (*s == '\t' || *s == '\n' || *s == '\r'))
                continue;
            return 1;
        }
        if (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F)
            return 1;
    }
    return 0;
}

static dr_status check_text(const char *field, const char *value, size_t max,
                            int allow_whitespace)
{
    size_t n;
    if (!value)
        return dr__fail(DR_E_INVALID_ARGUMENT, "%s: is missing", field);
    n = strlen(value);
    if (n > max)
        return dr__fail(DR_E_INVALID_ARGUMENT, "%s: is %zu bytes, at most %zu are allowed",
                        field, n, max);
    if (!dr__utf8_valid(value, n))
        return dr__fail(DR_E_INVALID_ARGUMENT, "%s: is not valid UTF-8", field);
    if (has_control(value, allow_whitespace))
        return dr__fail(DR_E_INVALID_ARGUMENT, "%s: contains a control character", field);
    return DR_OK;
}

dr_status dr__validate_key_part(const char *field, const char *value, size_t max)
{
    dr_status rc = check_text(field, value, max, 0);
    if (rc != DR_OK)
        return rc;
    if (!*value)
        return dr__fail(DR_E_INVALID_ARGUMENT, "%s: must not be empty", field);
    if (strchr(value, '#'))
        return dr__fail(DR_E_INVALID_ARGUMENT,
                        "%s: must not contain '#', the key separator", field);
    return DR_OK;
}

dr_status dr__validate_text(const char *field, const char *value, size_t max)
{
    return check_text(field, value, max, 1);
}

dr_status dr__validate_date(const char *value)
{
    int y, m, d, i;
    if (!value || strlen(value) != 10 || value[4] != '-' || value[7] != '-')
        return dr__fail(DR_E_INVALID_ARGUMENT, "date: must be YYYY-MM-DD");
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (value[i] < '0' || value[i] > '9'))
            return dr__fail(DR_E_INVALID_ARGUMENT, "date: must be YYYY-MM-DD");
    y = (value[0] - '0') * 1000 + (value[1] - '0') * 100 + (value[2] - '0') * 10 + value[3] - '0';
    m = (value[5] - '0') * 10 + value[6] - '0';
    d = (value[8] - '0') * 10 + value[9] - '0';
    if (!dr__valid_date(y, m, d))
        return dr__fail(DR_E_INVALID_ARGUMENT, "date: %s is not a calendar date", value);
    return DR_OK;
}

dr_status dr__validate_mode(const char *value)
{
    if (value && (!strcmp(value, "daily") || !strcmp(value, "live")))
        return DR_OK;
    return dr__fail(DR_E_INVALID_ARGUMENT, "mode: must be \"daily\" or \"live\"");
}

dr_status dr__validate_idempotency_key(const char *value)
{
    size_t n = value ? strlen(value) : 0, i;
    if (n < 1 || n > DR_MAX_IDEMPOTENCY_KEY_BYTES)
        return dr__fail(DR_E_INVALID_ARGUMENT, "idempotency key: must be 1..%d bytes",
                        DR_MAX_IDEMPOTENCY_KEY_BYTES);
    for (i = 0; i < n; i++) {
        char c = value[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return dr__fail(DR_E_INVALID_ARGUMENT,
                            "idempotency key: only A-Z, a-z, 0-9, '.', '_', ':' and '-'");
    }
    return DR_OK;
}

static int digits(const char *s, int n)
{
    int i, v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + s[i] - '0';
    }
    return v;
}

int dr__submitted_at_valid(const char *s)
{
    int y, mo, d, h, mi, sec;
    if (strlen(s) < 20 || strlen(s) > DR_MAX_SUBMITTED_AT_BYTES || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return 0;
    y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 0 || d < 0 || !dr__valid_date(y, mo, d) || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || sec < 0 || sec > 59)
        return 0;
    s += 19;
    if (*s == '.') {
        const char *start = ++s;
        while (*s >= '0' && *s <= '9')
            s++;
        if (s == start)
            return 0;
    }
    if (s[0] == 'Z')
        return s[1] == '\0';
    if (s[0] != '+' && s[0] != '-')
        return 0;
    h = digits(s + 1, 2);
    return h >= 0 && h <= 23 && s[3] == ':' && digits(s + 4, 2) >= 0 &&
           digits(s + 4, 2) <= 59 && s[6] == '\0';
}

dr_status dr__validate_submitted_at(const char *value)
{
    if (value && dr__submitted_at_valid(value))
        return DR_OK;
    return dr__fail(DR_E_INVALID_ARGUMENT,
                    "submittedAt: must be an ISO 8601 time such as 2026-01-30T15:30:00.000Z");
}
