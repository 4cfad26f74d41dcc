#include "timeutil.h"

#include <time.h>

/* Days from 1970-01-01 to y-m-d: Howard Hinnant's days_from_civil, exact for every
 * proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t dr__utc_to_epoch(int year, int month, int day, int hour, int minute, int second)
{
    return days_from_civil(year, month, day) * 86400 + (int64_t)hour * 3600 +
           (int64_t)minute * 60 + second;
}

int dr__valid_date(int year, int month, int day)
{
    static const int days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1)
        return 0;
    return day <= days_in_month[month - 1] + (month == 2 && leap);
}

#ifdef DR_TESTING
#include <stdatomic.h>

static atomic_int_least64_t g_test_clock;

void dr__set_test_clock(int64_t now)
{
    atomic_store(&g_test_clock, now);
}

int64_t dr__now_s(void)
{
    int64_t fixed = atomic_load(&g_test_clock);
    return fixed ? fixed : (int64_t)time(NULL);
}
#else
int64_t dr__now_s(void)
{
    return (int64_t)time(NULL);
}
#endif

uint64_t dr__monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
