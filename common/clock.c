/* common/clock.c: wall and monotonic clocks; see clock.h. */
#include "common/clock.h"

#include <stdatomic.h>
#include <time.h>

#ifdef SLUICE_TESTING
static atomic_llong pinned_ms;

void sl_clock_set_ms(int64_t ms)
{
    atomic_store(&pinned_ms, ms);
}
#endif

int64_t sl_now_ms(void)
{
    struct timespec ts;
#ifdef SLUICE_TESTING
    long long pinned = atomic_load(&pinned_ms);
    if (pinned != 0)
        return pinned;
#endif
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
