/* UTC calendar arithmetic without timegm() (not in C11/POSIX) or the TZ environment. */
#ifndef DR_TIMEUTIL_H
#define DR_TIMEUTIL_H

#include <stdint.h>

/* Seconds since 1970-01-01T00:00:00Z of a proleptic Gregorian UTC date-time.
 * Fields are not range-checked here; callers validate what they parsed. */
int64_t dr__utc_to_epoch(int year, int month, int day, int hour, int minute, int second);

/* Whether year-month-day is a real calendar date (1 <= month <= 12, day in month). */
int dr__valid_date(int year, int month, int day);

/* The wall clock in seconds since the epoch: what credential expiry is measured against. */
int64_t dr__now_s(void);

/* A monotonic clock in milliseconds (CLOCK_MONOTONIC): for ages and intervals. */
uint64_t dr__monotonic_ms(void);

#ifdef DR_TESTING
/* Test builds only: stop the wall clock above at `now` (0 restores the real clock), so the
 * SDKs' recorded credentials, which expired years ago, are fresh at the recorded time. */
void dr__set_test_clock(int64_t now);
#endif

#endif
