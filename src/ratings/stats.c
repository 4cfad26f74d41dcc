#include "stats.h"
#include "timeutil.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "ddb_json.h"
#include "error.h"
#include "keys.h"

/* ---- counters and averages ------------------------------------------------ */

dr_status dr__counts_from_item(const json_t *item, dr_counts *out)
{
    uint64_t *slots[DR_COUNTER_ATTRS];
    int i;

    memset(out, 0, sizeof *out);
    slots[0] = &out->total;
    slots[1] = &out->score;
    for (i = 1; i <= 5; i++)
        slots[DR_COUNTER_ATTR_STAR(i)] = &out->count[i - 1];
    for (i = 0; i < DR_COUNTER_ATTRS; i++) {
        if (dr__av_get_u64(item, dr__counter_attr[i], slots[i]) == -2)
            return dr__fail(DR_E_PROTOCOL, "stored %s is not a non-negative integer",
                            dr__counter_attr[i]);
    }
    return DR_OK;
}

void dr__counts_add(dr_counts *into, const dr_counts *more)
{
    int i;
    into->total += more->total;
    into->score += more->score;
    for (i = 0; i < 5; i++)
        into->count[i] += more->count[i];
}

int dr__i64_add(int64_t *a, int64_t b)
{
    if ((b > 0 && *a > INT64_MAX - b) || (b < 0 && *a < INT64_MIN - b))
        return -1;
    *a += b;
    return 0;
}

int dr__av_get_i64(const json_t *item, const char *name, int64_t *out)
{
    const char *n = dr__av_get_n(item, name);
    uint64_t magnitude;
    int negative;

    if (!n)
        return -1;
    negative = n[0] == '-';
    if (dr__parse_u64(n + negative, &magnitude) != 0)
        return -2;
    if (negative ? magnitude > (uint64_t)INT64_MAX + 1 : magnitude > (uint64_t)INT64_MAX)
        return -2;
    /* -(2^63) cannot be negated in int64: build it from INT64_MIN. */
    if (negative)
        *out = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
    else
        *out = (int64_t)magnitude;
    return 0;
}

dr_status dr__scounts_add_item(dr_scounts *into, const json_t *item)
{
    dr_scounts sum = *into;
    int64_t *slots[DR_COUNTER_ATTRS];
    int i;

    slots[0] = &sum.total;
    slots[1] = &sum.score;
    for (i = 1; i <= 5; i++)
        slots[DR_COUNTER_ATTR_STAR(i)] = &sum.count[i - 1];
    for (i = 0; i < DR_COUNTER_ATTRS; i++) {
        const char *name = dr__counter_attr[i];
        int64_t v = 0;
        int got = dr__av_get_i64(item, name, &v);
        if (got == -2)
            return dr__fail(DR_E_PROTOCOL, "stored %s is not an integer within int64", name);
        if (got == 0 && dr__i64_add(slots[i], v) != 0)
            return dr__fail(DR_E_PROTOCOL, "the sum of stored %s leaves int64", name);
    }
    *into = sum;
    return DR_OK;
}

/* score within [total, 5 * total] and count1..5 summing to total, without overflow. */
static int consistent(uint64_t total, uint64_t score, const uint64_t count[5])
{
    uint64_t sum = 0;
    int i;
    for (i = 0; i < 5; i++) {
        if (count[i] > UINT64_MAX - sum)
            return 0;
        sum += count[i];
    }
    if (sum != total || score < total)
        return 0;
    return total > UINT64_MAX / 5 || score <= total * 5;
}

int dr__counts_consistent(const dr_counts *c)
{
    return consistent(c->total, c->score, c->count);
}

int dr__counts_sanitize(const dr_scounts *in, dr_counts *out)
{
    int changed = 0, i;
    uint64_t sum = 0;

    for (i = 0; i < 5; i++) {
        out->count[i] = in->count[i] < 0 ? 0 : (uint64_t)in->count[i];
        changed |= in->count[i] < 0;
        sum += out->count[i]; /* five values below 2^63: no overflow */
    }
    out->total = in->total < 0 ? 0 : (uint64_t)in->total;
    out->score = in->score < 0 ? 0 : (uint64_t)in->score;
    changed |= in->total < 0 || in->score < 0;
    if (out->total != sum) {
        out->total = sum;
        changed = 1;
    }
    if (out->score < out->total) {
        out->score = out->total;
        changed = 1;
    } else if (out->total <= UINT64_MAX / 5 && out->score > out->total * 5) {
        out->score = out->total * 5;
        changed = 1;
    }
    return changed;
}

uint32_t dr__average_hundredths(uint64_t score, uint64_t total)
{
    double quotient;
    long double scaled, whole;

    if (!score || !total)
        return 0;
    /* Above 5 the quotient is no real average, and a large one (score/total >= 2^32/100)
     * would not fit the result: clamp to the best real average. */
    if (total <= UINT64_MAX / 5 && score > total * 5)
        return 500;
    quotient = (double)score / (double)total;
    /* A double's 53-bit significand times 100 (7 bits) fits the 64-bit significand of
     * x87 long double (and binary128), so `scaled` is exact and the tie test below is
     * exactly toFixed's "pick the larger n". */
    scaled = (long double)quotient * 100.0L;
    whole = floorl(scaled);
    if (scaled - whole >= 0.5L)
        whole += 1.0L;
    return whole > 500.0L ? 500u : (uint32_t)whole;
}

void dr__format_hundredths(uint32_t h, char out[16])
{
    if (h % 100 == 0)
        snprintf(out, 16, "%" PRIu32, h / 100);
    else if (h % 10 == 0)
        snprintf(out, 16, "%" PRIu32 ".%" PRIu32, h / 100, (h % 100) / 10);
    else
        snprintf(out, 16, "%" PRIu32 ".%02" PRIu32, h / 100, h % 100);
}

/* ---- optional strings ----------------------------------------------------- */

int dr__opt_str_from_item(const json_t *item, const char *name, dr_opt_str *out)
{
    const json_t *av = json_object_get(item, name);
    const char *s = dr__av_get_s(item, name);
    out->value = NULL;
    out->is_null = json_object_get(av, "NULL") != NULL;
    if (s && !(out->value = dr__strdup(s)))
        return -1;
    return 0;
}

void dr__opt_str_free(dr_opt_str *s)
{
    dr__free(s->value);
    s->value = NULL;
}

/* ---- dr_stats ------------------------------------------------------------- */

dr_stats *dr__stats_new(const char *joke_id, const dr_counts *counts, const char *last_rated_at,
                        int exists)
{
    dr_stats *s = dr__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->joke_id = dr__strdup(joke_id);
    s->last_rated_at = last_rated_at ? dr__strdup(last_rated_at) : NULL;
    if (counts)
        s->counts = *counts;
    s->exists = exists;
    if (!s->joke_id || (last_rated_at && !s->last_rated_at)) {
        dr_stats_free(s);
        return NULL;
    }
    return s;
}

DR_API void dr_stats_free(dr_stats *s)
{
    if (!s)
        return;
    dr__free(s->joke_id);
    dr__free(s->last_rated_at);
    dr__free(s);
}

DR_API const char *dr_stats_joke_id(const dr_stats *s)
{
    return s ? s->joke_id : NULL;
}

DR_API uint64_t dr_stats_total_ratings(const dr_stats *s)
{
    return s ? s->counts.total : 0;
}

DR_API uint64_t dr_stats_count(const dr_stats *s, int32_t star)
{
    return s && star >= 1 && star <= 5 ? s->counts.count[star - 1] : 0;
}

DR_API uint64_t dr_stats_total_score(const dr_stats *s)
{
    return s ? s->counts.score : 0;
}

DR_API double dr_stats_average(const dr_stats *s)
{
    return s ? dr__average_hundredths(s->counts.score, s->counts.total) / 100.0 : 0;
}

DR_API const char *dr_stats_last_rated_at(const dr_stats *s)
{
    return s ? s->last_rated_at : NULL;
}

DR_API int32_t dr_stats_pending(const dr_stats *s)
{
    return s ? s->pending : 0;
}

/* ---- dr_dashboard ----------------------------------------------------------- */

static int compare_authors(const void *pa, const void *pb)
{
    const dr_author_row *a = pa, *b = pb;
    if (a->counts.total != b->counts.total)
        return a->counts.total > b->counts.total ? -1 : 1;
    return strcmp(a->name, b->name);
}

void dr__sort_authors(dr_author_row *rows, size_t n)
{
    if (n > 1)
        qsort(rows, n, sizeof *rows, compare_authors);
}

int dr__compare_top_rows(const void *pa, const void *pb)
{
    const dr_top_row *a = pa, *b = pb;
    if (a->average_hundredths != b->average_hundredths)
        return a->average_hundredths > b->average_hundredths ? -1 : 1;
    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    return -strcmp(a->joke_id, b->joke_id);
}

DR_API void dr_dashboard_free(dr_dashboard *d)
{
    size_t i;
    if (!d)
        return;
    {
        unsigned refs = atomic_load(&d->extra_refs);
        while (refs > 0 && !atomic_compare_exchange_weak(&d->extra_refs, &refs, refs - 1))
            ;
        if (refs > 0)
            return; /* another holder still reads it */
    }
    for (i = 0; i < d->author_count; i++)
        dr__free(d->authors[i].name);
    for (i = 0; i < d->top_count; i++) {
        dr__free(d->top[i].joke_id);
        dr__opt_str_free(&d->top[i].joke_text);
        dr__opt_str_free(&d->top[i].author);
        dr__opt_str_free(&d->top[i].last_rated_at);
    }
    for (i = 0; i < d->recent_count; i++) {
        dr_recent_row *r = &d->recent[i];
        dr__free(r->joke_id);
        dr__opt_str_free(&r->joke_text);
        dr__opt_str_free(&r->author);
        dr__opt_str_free(&r->mode);
        dr__opt_str_free(&r->date);
        dr__opt_str_free(&r->submitted_at);
    }
    dr__free(d->authors);
    dr__free(d->top);
    dr__free(d->recent);
    dr__free(d);
}

/* ---- dashboard accessors: NULL or an index out of range gives 0 / NULL ------ */

DR_API uint64_t dr_dashboard_overall_ratings(const dr_dashboard *d)
{
    return d ? d->global.total : 0;
}

DR_API double dr_dashboard_overall_average(const dr_dashboard *d)
{
    return d ? dr__average_hundredths(d->global.score, d->global.total) / 100.0 : 0;
}

DR_API uint64_t dr_dashboard_unique_jokes(const dr_dashboard *d)
{
    return d ? d->unique_jokes : 0;
}

DR_API uint32_t dr_dashboard_inconsistent(const dr_dashboard *d)
{
    return d ? d->inconsistent : 0;
}

DR_API uint64_t dr_dashboard_age_ms(const dr_dashboard *d)
{
    uint64_t now = dr__monotonic_ms();
    return d && now > d->fetched_ms ? now - d->fetched_ms : 0;
}

DR_API uint64_t dr_dashboard_rating_count(const dr_dashboard *d, int32_t star)
{
    return d && star >= 1 && star <= 5 ? d->global.count[star - 1] : 0;
}

#define AUTHOR(d, i) ((d) && (i) < (d)->author_count ? &(d)->authors[i] : NULL)
#define TOP(d, i) ((d) && (i) < (d)->top_count ? &(d)->top[i] : NULL)
#define RECENT(d, i) ((d) && (i) < (d)->recent_count ? &(d)->recent[i] : NULL)

DR_API size_t dr_dashboard_author_count(const dr_dashboard *d)
{
    return d ? d->author_count : 0;
}

DR_API const char *dr_dashboard_author_name(const dr_dashboard *d, size_t i)
{
    const dr_author_row *a = AUTHOR(d, i);
    return a ? a->name : NULL;
}

DR_API uint64_t dr_dashboard_author_total_ratings(const dr_dashboard *d, size_t i)
{
    const dr_author_row *a = AUTHOR(d, i);
    return a ? a->counts.total : 0;
}

DR_API double dr_dashboard_author_average(const dr_dashboard *d, size_t i)
{
    const dr_author_row *a = AUTHOR(d, i);
    return a ? dr__average_hundredths(a->counts.score, a->counts.total) / 100.0 : 0;
}

DR_API uint64_t dr_dashboard_author_rating_count(const dr_dashboard *d, size_t i, int32_t star)
{
    const dr_author_row *a = AUTHOR(d, i);
    return a && star >= 1 && star <= 5 ? a->counts.count[star - 1] : 0;
}

DR_API size_t dr_dashboard_top_count(const dr_dashboard *d)
{
    return d ? d->top_count : 0;
}

DR_API const char *dr_dashboard_top_joke_id(const dr_dashboard *d, size_t i)
{
    const dr_top_row *t = TOP(d, i);
    return t ? t->joke_id : NULL;
}

DR_API const char *dr_dashboard_top_joke_text(const dr_dashboard *d, size_t i)
{
    const dr_top_row *t = TOP(d, i);
    return t ? t->joke_text.value : NULL;
}

DR_API const char *dr_dashboard_top_author(const dr_dashboard *d, size_t i)
{
    const dr_top_row *t = TOP(d, i);
    return t ? t->author.value : NULL;
}

DR_API uint64_t dr_dashboard_top_total_ratings(const dr_dashboard *d, size_t i)
{
    const dr_top_row *t = TOP(d, i);
    return t ? t->total : 0;
}

DR_API double dr_dashboard_top_average(const dr_dashboard *d, size_t i)
{
    const dr_top_row *t = TOP(d, i);
    return t ? t->average_hundredths / 100.0 : 0;
}

DR_API const char *dr_dashboard_top_last_rated_at(const dr_dashboard *d, size_t i)
{
    const dr_top_row *t = TOP(d, i);
    return t ? t->last_rated_at.value : NULL;
}

DR_API size_t dr_dashboard_recent_count(const dr_dashboard *d)
{
    return d ? d->recent_count : 0;
}

DR_API const char *dr_dashboard_recent_joke_id(const dr_dashboard *d, size_t i)
{
    const dr_recent_row *r = RECENT(d, i);
    return r ? r->joke_id : NULL;
}

DR_API int32_t dr_dashboard_recent_rating(const dr_dashboard *d, size_t i)
{
    const dr_recent_row *r = RECENT(d, i);
    return r ? r->rating : 0;
}

DR_API const char *dr_dashboard_recent_joke_text(const dr_dashboard *d, size_t i)
{
    const dr_recent_row *r = RECENT(d, i);
    return r ? r->joke_text.value : NULL;
}

DR_API const char *dr_dashboard_recent_author(const dr_dashboard *d, size_t i)
{
    const dr_recent_row *r = RECENT(d, i);
    return r ? r->author.value : NULL;
}

DR_API const char *dr_dashboard_recent_mode(const dr_dashboard *d, size_t i)
{
    const dr_recent_row *r = RECENT(d, i);
    return r ? r->mode.value : NULL;
}

DR_API const char *dr_dashboard_recent_date(const dr_dashboard *d, size_t i)
{
    const dr_recent_row *r = RECENT(d, i);
    return r ? r->date.value : NULL;
}

DR_API const char *dr_dashboard_recent_submitted_at(const dr_dashboard *d, size_t i)
{
    const dr_recent_row *r = RECENT(d, i);
    return r ? r->submitted_at.value : NULL;
}

dr_delta dr__delta_of_rating(int32_t stars)
{
    dr_delta d;
    memset(&d, 0, sizeof d);
    d.total = 1;
    d.score = stars;
    d.count[stars - 1] = 1;
    return d;
}

void dr__delta_negate(dr_delta *d)
{
    int i;
    d->total = -d->total;
    d->score = -d->score;
    for (i = 0; i < 5; i++)
        d->count[i] = -d->count[i];
    d->unique_jokes = -d->unique_jokes;
}

void dr__delta_add(dr_delta *sum, const dr_delta *d)
{
    int i;
    sum->total += d->total;
    sum->score += d->score;
    for (i = 0; i < 5; i++)
        sum->count[i] += d->count[i];
    sum->unique_jokes += d->unique_jokes;
}
