/* common/timeparse.h: the time arguments users type, turned into ms since
 * the epoch, and ms turned back into ISO 8601. Accepted forms:
 *   1732650000000            integer milliseconds
 *   2026-11-26T21:40:00Z     RFC 3339 / ISO 8601, optional .mmm fraction,
 *   2026-11-26T21:40:00.5+01:00   Z or a +HH:MM / -HH:MM offset
 *   2026-11-26               a date alone (midnight UTC)
 *   -15m -2h -7d -30s -1w    relative to now (s, m, h, d, w)
 *   now */
#ifndef SLUICE_COMMON_TIMEPARSE_H
#define SLUICE_COMMON_TIMEPARSE_H

#include "common/status.h"

#include <stddef.h>
#include <stdint.h>

/* Parses s[0..len) relative to now_ms; fills *out or err (SL_INVALID). */
enum sl_status sl_time_parse(const char *s, size_t len, int64_t now_ms,
                             int64_t *out, struct sl_err *err) SL_MUST_CHECK;
/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 chars) and returns its length. */
size_t sl_time_format_iso(int64_t ms, char *out, size_t cap);
/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
