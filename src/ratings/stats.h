/* Result objects (dr_stats, dr_dashboard), averages rounded exactly as the JavaScript
 * services round them, and their JSON in the shapes of docs/data-model.md. No I/O. */
#ifndef DR_STATS_H
#define DR_STATS_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "dadratings.h"

/* The counters every aggregate item carries. */
typedef struct dr_counts {
    uint64_t total;    /* totalRatings */
    uint64_t score;    /* totalScore */
    uint64_t count[5]; /* count1..count5 */
} dr_counts;

/* Read totalRatings/totalScore/count1..5 of an item; absent attributes are 0.
 * DR_E_PROTOCOL (recorded) if one is present but not a non-negative integer. */
dr_status dr__counts_from_item(const json_t *item, dr_counts *out);
void dr__counts_add(dr_counts *into, const dr_counts *more);

/* Counters summed over items that may hold negative values: GLOBAL shards (an un-count
 * can land on another shard than its count did) and author items left by older
 * versions. Only the sum is meaningful. */
typedef struct dr_scounts {
    int64_t total;
    int64_t score;
    int64_t count[5];
} dr_scounts;

/* Attribute `name` as a signed integer ("-12"): 0 ok, -1 absent or not N, -2 not a plain
 * integer within int64. */
int dr__av_get_i64(const json_t *item, const char *name, int64_t *out);
/* Add the item's signed counters to *into. DR_E_PROTOCOL (recorded) if one is not an
 * integer or a sum leaves int64; *into is then unchanged. */
dr_status dr__scounts_add_item(dr_scounts *into, const json_t *item);
/* a += b within int64: 0, or -1 on overflow (a unchanged). */
int dr__i64_add(int64_t *a, int64_t b);
/* A signed sum made consistent for display: negative figures become 0, a totalRatings
 * that is not the sum of count1..5 becomes that sum, and totalScore is clamped into
 * [totalRatings, 5 * totalRatings]. Returns 1 if anything had to change (the stored
 * figures are inconsistent), else 0. */
int dr__counts_sanitize(const dr_scounts *in, dr_counts *out);
/* 1 if `c` is what real ratings can produce (the same rules), else 0. */
int dr__counts_consistent(const dr_counts *c);

/* The average in hundredths: JavaScript's Number((score / total).toFixed(2)) * 100,
 * i.e. the quotient as a double, rounded half up on its exact binary value. 0 when
 * either is 0, as the JavaScript does. A score above 5 * total (only a corrupt item can
 * hold one) gives 500, the highest real average, so the result is always 0..500. */
uint32_t dr__average_hundredths(uint64_t score, uint64_t total);
/* As JavaScript prints that number: "4.13", "4.1", "4", "0". */
void dr__format_hundredths(uint32_t hundredths, char out[16]);

/* An attribute that may be absent (JavaScript undefined: the key is left out of the
 * JSON), explicitly null (a NULL attribute written by the JavaScript services), or a
 * string. */
typedef struct dr_opt_str {
    char *value; /* NULL unless present */
    int is_null;
} dr_opt_str;

/* Copy attribute `name` of `item` (S or NULL type). -1 on OOM. */
int dr__opt_str_from_item(const json_t *item, const char *name, dr_opt_str *out);
void dr__opt_str_free(dr_opt_str *s);

struct dr_stats {
    char *joke_id;
    dr_counts counts;
    char *last_rated_at; /* NULL when never rated */
    int exists;          /* a stats item was found (the JavaScript shape differs) */
    int pending;         /* includes a rating not yet aggregated (stream mode) */
};

/* A new result for `joke_id` with the given counters (NULL: zero). */
dr_stats *dr__stats_new(const char *joke_id, const dr_counts *counts,
                        const char *last_rated_at, int exists);

typedef struct dr_author_row {
    char *name;
    dr_counts counts;
} dr_author_row;

typedef struct dr_top_row {
    char *joke_id;
    dr_opt_str joke_text;
    dr_opt_str author;
    uint64_t total;
    uint32_t average_hundredths;
    dr_opt_str last_rated_at;
} dr_top_row;

typedef struct dr_recent_row {
    char *joke_id;
    int32_t rating;
    dr_opt_str joke_text;
    dr_opt_str author;
    dr_opt_str mode;
    dr_opt_str date;
    dr_opt_str submitted_at;
} dr_recent_row;

struct dr_dashboard {
    dr_counts global;
    uint64_t unique_jokes;
    dr_author_row *authors; /* most ratings first, then name */
    size_t author_count;
    dr_top_row *top;
    size_t top_count;
    dr_recent_row *recent;
    size_t recent_count;
    uint32_t inconsistent; /* stored items whose figures had to be clamped */
    uint64_t fetched_ms;   /* when its fetch started (dr__monotonic_ms) */
    /* Holders beyond the first (the dashboard cache shares one dashboard among its
     * callers): dr_dashboard_free frees it when the last lets go. */
    atomic_uint extra_refs;
};

/* Sort authors as the dashboard lists them: most ratings first, ties by name (bytes). */
void dr__sort_authors(dr_author_row *rows, size_t n);
/* The library's total order of top performers (docs/data-model.md), a qsort comparator of
 * dr_top_row: best average, then more ratings, then joke id in descending byte order (the
 * top index's descending order). */
int dr__compare_top_rows(const void *a, const void *b);

/* JSON writing helpers shared by every renderer. */
void dr__json_put_string(dr_buf *b, const char *s);
void dr__json_put_counts(dr_buf *b, const dr_counts *c);

/* A change to counters: +1 rating for an insert; -1 on the old star and +1 on the new
 * one for a changed rating. unique_jokes is 1 when the joke gets its first rating. */
typedef struct dr_delta {
    int64_t total;
    int64_t score;
    int64_t count[5];
    int64_t unique_jokes;
} dr_delta;

/* The delta of one new rating of `stars`. */
dr_delta dr__delta_of_rating(int32_t stars);
/* The opposite change: un-counting what `d` counted. */
void dr__delta_negate(dr_delta *d);
/* sum += d, field by field. */
void dr__delta_add(dr_delta *sum, const dr_delta *d);

#endif
