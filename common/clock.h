/* common/clock.h: wall-clock and monotonic time in milliseconds. A
 * SLUICE_TESTING build can pin the wall clock (sl_clock_set_ms) so tests of
 * time windows (too old / too new) do not race the calendar. */
#ifndef SLUICE_COMMON_CLOCK_H
#define SLUICE_COMMON_CLOCK_H

#include <stdint.h>

#define SL_MS_PER_SEC  1000LL
#define SL_MS_PER_MIN  (60 * SL_MS_PER_SEC)
#define SL_MS_PER_HOUR (60 * SL_MS_PER_MIN)
#define SL_MS_PER_DAY  (24 * SL_MS_PER_HOUR)

/* Milliseconds since the Unix epoch (UTC). Thread-safe. */
int64_t sl_now_ms(void);
/* Milliseconds on a monotonic clock, for durations and timeouts. */
int64_t sl_mono_ms(void);
/* Nanoseconds on the same monotonic clock. */
int64_t sl_mono_ns(void);

#ifdef SLUICE_TESTING
/* Pins sl_now_ms() to ms; 0 returns to the real clock. */
void sl_clock_set_ms(int64_t ms);
#endif

#endif
