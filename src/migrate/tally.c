#include "tally.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "keys.h"
#include "validate.h"

#define TALLY_MIN_CAP 64

/* The slot of `name`: its entry, or the empty slot it would go in. */
static dr_tally_entry *slot_of(const dr_tally_table *table, const char *name)
{
    size_t mask = table->cap - 1, i = dr__fnv1a(name) & mask;
    while (table->slots[i].name && strcmp(table->slots[i].name, name) != 0)
        i = (i + 1) & mask;
    return &table->slots[i];
}

static dr_status grow(dr_tally_table *table)
{
    dr_tally_table bigger = {NULL, table->cap ? table->cap * 2 : TALLY_MIN_CAP, table->count};
    size_t i;
    if (!(bigger.slots = dr__calloc(bigger.cap, sizeof *bigger.slots)))
        return dr__fail(DR_E_NOMEM, "out of memory adding up the source's ratings");
    for (i = 0; i < table->cap; i++)
        if (table->slots[i].name)
            *slot_of(&bigger, table->slots[i].name) = table->slots[i];
    dr__free(table->slots);
    *table = bigger;
    return DR_OK;
}

static dr_status add_to(dr_tally_table *table, const char *name, int32_t stars)
{
    dr_tally_entry *e;
    dr_status rc;
    if ((table->count + 1) * 2 > table->cap && (rc = grow(table)) != DR_OK)
        return rc;
    e = slot_of(table, name);
    if (!e->name) {
        if (!(e->name = dr__strdup(name)))
            return dr__fail(DR_E_NOMEM, "out of memory adding up the source's ratings");
        table->count++;
    }
    e->counts.total++;
    e->counts.score += (uint64_t)stars;
    e->counts.count[stars - 1]++;
    return DR_OK;
}

dr_status dr__tally_add(dr_tally *tally, const char *joke_id, const char *author,
                        int32_t stars)
{
    dr_status rc;
    if (stars < 1 || stars > 5)
        return dr__fail(DR_E_INVALID_ARGUMENT, "a rating of %ld stars is not 1..5", (long)stars);
    if ((rc = add_to(&tally->jokes, joke_id, stars)) != DR_OK ||
        (rc = add_to(&tally->authors, author ? author : DR_DEFAULT_AUTHOR, stars)) != DR_OK)
        return rc;
    tally->global.total++;
    tally->global.score += (uint64_t)stars;
    tally->global.count[stars - 1]++;
    return DR_OK;
}

static void table_free(dr_tally_table *table)
{
    size_t i;
    for (i = 0; i < table->cap; i++)
        dr__free(table->slots[i].name);
    dr__free(table->slots);
    memset(table, 0, sizeof *table);
}

void dr__tally_free(dr_tally *tally)
{
    if (!tally)
        return;
    table_free(&tally->jokes);
    table_free(&tally->authors);
    memset(&tally->global, 0, sizeof tally->global);
}

const dr_counts *dr__tally_find(const dr_tally_table *table, const char *name)
{
    const dr_tally_entry *e;
    if (!table->cap)
        return NULL;
    e = slot_of(table, name);
    return e->name ? &e->counts : NULL;
}

static int compare_entry_names(const void *pa, const void *pb)
{
    const dr_tally_entry *const *a = pa, *const *b = pb;
    return strcmp((*a)->name, (*b)->name);
}

dr_status dr__tally_sorted(const dr_tally_table *table, const dr_tally_entry ***out)
{
    const dr_tally_entry **sorted;
    size_t i, n = 0;
    *out = NULL;
    if (!table->count)
        return DR_OK;
    if (!(sorted = dr__calloc(table->count, sizeof *sorted)))
        return dr__fail(DR_E_NOMEM, "out of memory sorting the source's jokes");
    for (i = 0; i < table->cap; i++)
        if (table->slots[i].name)
            sorted[n++] = &table->slots[i];
    qsort(sorted, n, sizeof *sorted, compare_entry_names);
    *out = sorted;
    return DR_OK;
}

size_t dr__tally_top(const dr_tally *tally, dr_top_row out[DR_TOP_LIMIT])
{
    const dr_tally_table *jokes = &tally->jokes;
    size_t i, n = 0;

    for (i = 0; i < jokes->cap; i++) {
        const dr_tally_entry *e = &jokes->slots[i];
        dr_top_row row;
        size_t at;
        if (!e->name || e->counts.total < DR_TOP_MIN_RATINGS)
            continue;
        memset(&row, 0, sizeof row);
        row.joke_id = e->name;
        row.total = e->counts.total;
        row.average_hundredths = dr__average_hundredths(e->counts.score, e->counts.total);
        if (n == DR_TOP_LIMIT && dr__compare_top_rows(&row, &out[n - 1]) >= 0)
            continue;
        if (n < DR_TOP_LIMIT)
            n++;
        /* Insertion into the best n, the worst falling off the end. */
        for (at = n - 1; at > 0 && dr__compare_top_rows(&row, &out[at - 1]) < 0; at--)
            out[at] = out[at - 1];
        out[at] = row;
    }
    return n;
}

/* One difference: a line to the callback, one more in the count. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void differ(dr_diff_sink *sink, const char *fmt, ...)
{
    /* Ids and authors are at most 256 bytes (validate.h): a line always fits. */
    char line[1024];
    va_list ap;
    sink->count++;
    if (!sink->message)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sink->message(sink->ctx, line);
}

static uint64_t counter(const dr_counts *c, size_t attr)
{
    return attr == 0 ? c->total : attr == 1 ? c->score : c->count[attr - DR_COUNTER_ATTR_STAR(1)];
}

void dr__diff_counts(dr_diff_sink *sink, const char *subject, const dr_counts *source,
                     const dr_counts *stored)
{
    size_t attr;
    for (attr = 0; attr < DR_COUNTER_ATTRS; attr++) {
        uint64_t want = counter(source, attr), have = counter(stored, attr);
        if (want != have)
            differ(sink, "%s: %s is %llu in the source, %llu in the stats table", subject,
                   dr__counter_attr[attr], (unsigned long long)want, (unsigned long long)have);
    }
}

void dr__diff_joke(dr_diff_sink *sink, const char *joke_id, const dr_counts *source,
                   const json_t *item)
{
    char subject[16 + DR_MAX_JOKE_ID_BYTES];
    dr_counts stored;
    if (!item) {
        differ(sink, "joke %s: no stats item in the stats table, %llu ratings in the source",
               joke_id, (unsigned long long)source->total);
        return;
    }
    if (dr__counts_from_item(item, &stored) != DR_OK) {
        differ(sink, "joke %s: the stats item's counters cannot be read: %s", joke_id,
               dr_last_error_message());
        return;
    }
    snprintf(subject, sizeof subject, "joke %s", joke_id);
    dr__diff_counts(sink, subject, source, &stored);
}

static int compare_names(const void *pa, const void *pb)
{
    const char *const *a = pa, *const *b = pb;
    return strcmp(*a, *b);
}

static void diff_authors(dr_diff_sink *sink, const dr_tally *tally, const dr_dashboard *stored)
{
    static const dr_counts none;
    char subject[16 + DR_MAX_AUTHOR_BYTES];
    const dr_tally_entry **sorted = NULL;
    const char **stored_names;
    size_t i;

    /* Stored authors, in the dashboard's order, then those only the source has. */
    for (i = 0; i < stored->author_count; i++) {
        const dr_counts *source = dr__tally_find(&tally->authors, stored->authors[i].name);
        snprintf(subject, sizeof subject, "author %s", stored->authors[i].name);
        dr__diff_counts(sink, subject, source ? source : &none, &stored->authors[i].counts);
    }
    stored_names = dr__calloc(stored->author_count + 1, sizeof *stored_names);
    if (!stored_names || dr__tally_sorted(&tally->authors, &sorted) != DR_OK) {
        differ(sink, "authors: out of memory comparing them");
        dr__free(stored_names);
        return;
    }
    for (i = 0; i < stored->author_count; i++)
        stored_names[i] = stored->authors[i].name;
    qsort(stored_names, stored->author_count, sizeof *stored_names, compare_names);
    for (i = 0; i < tally->authors.count; i++) {
        const char *name = sorted[i]->name;
        if (!bsearch(&name, stored_names, stored->author_count, sizeof *stored_names,
                     compare_names))
            differ(sink, "author %s: no author item in the stats table, %llu ratings in the "
                         "source", name, (unsigned long long)sorted[i]->counts.total);
    }
    dr__free(stored_names);
    dr__free(sorted);
}

static void diff_top(dr_diff_sink *sink, const dr_tally *tally, const dr_dashboard *stored)
{
    dr_top_row top[DR_TOP_LIMIT];
    size_t i, n = dr__tally_top(tally, top);
    for (i = 0; i < n || i < stored->top_count; i++) {
        const char *want = i < n ? top[i].joke_id : "none";
        const char *have = i < stored->top_count ? stored->top[i].joke_id : "none";
        if (strcmp(want, have) != 0)
            differ(sink, "top %zu: %s in the source, %s in the stats table", i + 1, want, have);
    }
}

void dr__diff_dashboard(dr_diff_sink *sink, const dr_tally *tally, const dr_dashboard *stored)
{
    if (stored->inconsistent)
        differ(sink, "stats table: %lu stored items hold figures no ratings can produce (the "
                     "dashboard clamps them; the log names the first)",
               (unsigned long)stored->inconsistent);
    dr__diff_counts(sink, "global", &tally->global, &stored->global);
    if (tally->jokes.count != stored->unique_jokes)
        differ(sink, DR_ATTR_UNIQUE_JOKES ": %llu in the source, %llu in the stats table",
               (unsigned long long)tally->jokes.count, (unsigned long long)stored->unique_jokes);
    diff_authors(sink, tally, stored);
    diff_top(sink, tally, stored);
}
