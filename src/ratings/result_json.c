/* The result shapes as JSON, key for key as the JavaScript module returned them
 * (docs/design.md): readStats() and getDashboardStats(). Their keys are that contract,
 * not the stored attributes some of them share a spelling with, so they are spelled
 * here (tests/arch/check_model_literals.py knows this file). */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>

#include "error.h"

void dr__json_put_string(dr_buf *b, const char *s)
{
    dr__buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"': dr__buf_puts(b, "\\\""); break;
        case '\\': dr__buf_puts(b, "\\\\"); break;
        case '\n': dr__buf_puts(b, "\\n"); break;
        case '\r': dr__buf_puts(b, "\\r"); break;
        case '\t': dr__buf_puts(b, "\\t"); break;
        case '\b': dr__buf_puts(b, "\\b"); break;
        case '\f': dr__buf_puts(b, "\\f"); break;
        default:
            if (c < 0x20)
                dr__buf_printf(b, "\\u%04x", c);
            else
                dr__buf_putc(b, (char)c);
        }
    }
    dr__buf_putc(b, '"');
}

static void put_opt_string(dr_buf *b, const char *key, const dr_opt_str *v, int first)
{
    if (!v->value && !v->is_null)
        return; /* undefined in JavaScript: the key is not written */
    dr__buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    if (v->value)
        dr__json_put_string(b, v->value);
    else
        dr__buf_puts(b, "null");
}

void dr__json_put_counts(dr_buf *b, const dr_counts *c)
{
    dr__buf_printf(b, "{\"1\":%" PRIu64 ",\"2\":%" PRIu64 ",\"3\":%" PRIu64 ",\"4\":%" PRIu64
                      ",\"5\":%" PRIu64 "}",
                   c->count[0], c->count[1], c->count[2], c->count[3], c->count[4]);
}

static void put_average(dr_buf *b, uint64_t score, uint64_t total)
{
    char avg[16];
    dr__format_hundredths(dr__average_hundredths(score, total), avg);
    dr__buf_puts(b, avg);
}

static dr_status finish_json(dr_buf *b, char **out)
{
    dr_status rc = dr__buf_ok(b);
    if (rc != DR_OK) {
        dr__buf_free(b);
        return rc;
    }
    *out = dr__buf_detach(b);
    return *out ? DR_OK : dr__fail(DR_E_NOMEM, "out of memory rendering JSON");
}

DR_API dr_status dr_stats_to_json(const dr_stats *s, char **out)
{
    dr_buf b = DR_BUF_INIT;
    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_stats_to_json: out is NULL");
    *out = NULL;
    if (!s)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_stats_to_json: stats is NULL");
    dr__buf_puts(&b, "{\"counts\":");
    dr__json_put_counts(&b, &s->counts);
    dr__buf_printf(&b, ",\"totalRatings\":%" PRIu64 ",\"average\":", s->counts.total);
    put_average(&b, s->counts.score, s->counts.total);
    if (!s->exists) {
        /* The JavaScript readStats() answers an unrated joke with this shape. */
        dr__buf_puts(&b, ",\"ratings\":[],\"jokeId\":");
        dr__json_put_string(&b, s->joke_id);
    } else {
        dr__buf_puts(&b, ",\"jokeId\":");
        dr__json_put_string(&b, s->joke_id);
        dr__buf_puts(&b, ",\"lastRatedAt\":");
        if (s->last_rated_at)
            dr__json_put_string(&b, s->last_rated_at);
        else
            dr__buf_puts(&b, "null");
    }
    if (s->pending)
        dr__buf_puts(&b, ",\"pending\":true");
    dr__buf_putc(&b, '}');
    return finish_json(&b, out);
}

DR_API dr_status dr_dashboard_to_json(const dr_dashboard *d, char **out)
{
    dr_buf b = DR_BUF_INIT;
    size_t i;

    if (!out)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_dashboard_to_json: out is NULL");
    *out = NULL;
    if (!d)
        return dr__fail(DR_E_INVALID_ARGUMENT, "dr_dashboard_to_json: dashboard is NULL");

    dr__buf_printf(&b, "{\"totals\":{\"overallRatings\":%" PRIu64 ",\"overallAverage\":",
                   d->global.total);
    put_average(&b, d->global.score, d->global.total);
    dr__buf_printf(&b, ",\"uniqueJokes\":%" PRIu64 ",\"ratingCounts\":", d->unique_jokes);
    dr__json_put_counts(&b, &d->global);
    dr__buf_puts(&b, ",\"byAuthor\":[");
    for (i = 0; i < d->author_count; i++) {
        const dr_author_row *a = &d->authors[i];
        dr__buf_puts(&b, i ? ",{\"author\":" : "{\"author\":");
        dr__json_put_string(&b, a->name);
        dr__buf_printf(&b, ",\"totalRatings\":%" PRIu64 ",\"average\":", a->counts.total);
        put_average(&b, a->counts.score, a->counts.total);
        dr__buf_putc(&b, '}');
    }
    dr__buf_puts(&b, "]},\"ratingDistribution\":{\"overall\":");
    dr__json_put_counts(&b, &d->global);
    dr__buf_puts(&b, ",\"byAuthor\":{");
    for (i = 0; i < d->author_count; i++) {
        if (i)
            dr__buf_putc(&b, ',');
        dr__json_put_string(&b, d->authors[i].name);
        dr__buf_putc(&b, ':');
        dr__json_put_counts(&b, &d->authors[i].counts);
    }
    dr__buf_puts(&b, "}},\"topPerformers\":[");
    for (i = 0; i < d->top_count; i++) {
        const dr_top_row *t = &d->top[i];
        char avg[16];
        dr__buf_puts(&b, i ? ",{\"jokeId\":" : "{\"jokeId\":");
        dr__json_put_string(&b, t->joke_id);
        put_opt_string(&b, "joke", &t->joke_text, 0);
        put_opt_string(&b, "author", &t->author, 0);
        dr__format_hundredths(t->average_hundredths, avg);
        dr__buf_printf(&b, ",\"totalRatings\":%" PRIu64 ",\"average\":%s", t->total, avg);
        put_opt_string(&b, "lastRatedAt", &t->last_rated_at, 0);
        dr__buf_putc(&b, '}');
    }
    dr__buf_puts(&b, "],\"recentRatings\":[");
    for (i = 0; i < d->recent_count; i++) {
        const dr_recent_row *r = &d->recent[i];
        dr__buf_puts(&b, i ? ",{\"jokeId\":" : "{\"jokeId\":");
        dr__json_put_string(&b, r->joke_id);
        dr__buf_printf(&b, ",\"rating\":%" PRId32, r->rating);
        put_opt_string(&b, "joke", &r->joke_text, 0);
        put_opt_string(&b, "author", &r->author, 0);
        put_opt_string(&b, "mode", &r->mode, 0);
        put_opt_string(&b, "date", &r->date, 0);
        put_opt_string(&b, "submittedAt", &r->submitted_at, 0);
        dr__buf_putc(&b, '}');
    }
    dr__buf_puts(&b, "]}");
    return finish_json(&b, out);
}
