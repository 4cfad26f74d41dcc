/* What dr_client_verify() (verify.c) recomputes from the source: every rating added up per
 * joke, per author and overall, the jokes rated and the top 8, and the comparison of those
 * figures with the stored ones, one line per difference. Memory is O(jokes + authors),
 * never O(ratings). Pure functions, no I/O. */
#ifndef DR_TALLY_H
#define DR_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dadratings.h"
#include "ops.h"
#include "stats.h"

/* A name (joke id or author) and its counters. */
typedef struct dr_tally_entry {
    char *name;
    dr_counts counts;
} dr_tally_entry;

/* name -> counters: open addressing on FNV-1a, at most half full. */
typedef struct dr_tally_table {
    dr_tally_entry *slots;
    size_t cap, count;
} dr_tally_table;

typedef struct dr_tally {
    dr_tally_table jokes, authors;
    dr_counts global;
} dr_tally;

/* Zero-initialised is empty. */
#define DR_TALLY_INIT {{NULL, 0, 0}, {NULL, 0, 0}, {0, 0, {0, 0, 0, 0, 0}}}

/* Count one rating of `stars` (1..5) of `joke_id` by `author` (NULL: "Unknown", as the
 * write path counts it). DR_E_INVALID_ARGUMENT for stars out of range, DR_E_NOMEM. */
dr_status dr__tally_add(dr_tally *tally, const char *joke_id, const char *author,
                        int32_t stars);
void dr__tally_free(dr_tally *tally);

/* The counters of `name`, or NULL when the table has none. */
const dr_counts *dr__tally_find(const dr_tally_table *table, const char *name);
/* The table's entries in byte order of their names (an array of table->count borrowed
 * pointers, freed with dr__free), so the differences come out in a stable order. NULL
 * and DR_E_NOMEM on failure; an empty table gives NULL and DR_OK. */
dr_status dr__tally_sorted(const dr_tally_table *table, const dr_tally_entry ***out);

/* The source's top performers as the dashboard ranks them (dr__compare_top_rows): the at
 * most DR_TOP_LIMIT best jokes with >= DR_TOP_MIN_RATINGS ratings. Each row's joke_id is
 * borrowed from the tally, its total and average_hundredths set, the rest zero. Returns
 * how many rows were filled. */
size_t dr__tally_top(const dr_tally *tally, dr_top_row out[DR_TOP_LIMIT]);

/* Where differences go: each is one line to `message` (may be NULL) and one more in
 * `count`. */
typedef struct dr_diff_sink {
    dr_import_message_fn message;
    void *ctx;
    uint64_t count;
} dr_diff_sink;

/* "<subject>: count4 is 12 in the source, 11 in the stats table", one line per counter
 * (totalRatings, totalScore, count1..5) that differs. */
void dr__diff_counts(dr_diff_sink *sink, const char *subject, const dr_counts *source,
                     const dr_counts *stored);
/* Joke `joke_id` against its stats item (`item` NULL: it has none, itself a difference). */
void dr__diff_joke(dr_diff_sink *sink, const char *joke_id, const dr_counts *source,
                   const json_t *item);
/* Everything the dashboard shows that the source determines: global counters,
 * uniqueJokes, each author's counters (an author on one side only is compared with
 * zeros) and the top 8, position by position. Stored figures the dashboard had to clamp
 * are a difference too. */
void dr__diff_dashboard(dr_diff_sink *sink, const dr_tally *tally, const dr_dashboard *stored);

#endif
