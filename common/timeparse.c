/* common/timeparse.c: parsing and formatting of user-facing times; see
 * timeparse.h. Calendar arithmetic is done by hand (no timegm/TZ state). */
#include "common/timeparse.h"

#include "common/clock.h"

#include <stdio.h>
#include <string.h>

int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's days_from_civil. */
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t sl_time_format_iso(int64_t ms, char *out, size_t cap)
{
    int64_t days = ms / SL_MS_PER_DAY, rem = ms % SL_MS_PER_DAY, y;
    unsigned m, d;
    int n;

    if (rem < 0) {
        rem += SL_MS_PER_DAY;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    n = snprintf(out, cap, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y,
                 m, d, (int)(rem / SL_MS_PER_HOUR),
                 (int)(rem / SL_MS_PER_MIN % 60), (int)(rem / 1000 % 60),
                 (int)(rem % 1000));
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Reads exactly n digits at s[*i]. */
static int digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return 0;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return 1;
}

static int parse_iso(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
    int64_t ms = 0;

    if (!digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' ||
        !digits(s, len, &i, 2, &mo) || i >= len || s[i++] != '-' ||
        !digits(s, len, &i, 2, &d))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (!digits(s, len, &i, 2, &h) || i >= len || s[i++] != ':' ||
            !digits(s, len, &i, 2, &mi))
            return 0;
        if (i < len && s[i] == ':') {
            i++;
            if (!digits(s, len, &i, 2, &sec))
                return 0;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                int scale = 100, any = 0;
                i++;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    ms += (s[i] - '0') * scale;
                    scale /= 10;
                    i++;
                    any = 1;
                }
                if (!any)
                    return 0;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return 0;
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
            if (!digits(s, len, &i, 2, &oh))
                return 0;
            if (i < len && s[i] == ':')
                i++;
            if (i < len && !digits(s, len, &i, 2, &om))
                return 0;
            off = sign * (oh * 60 + om);
        }
    }
    if (i != len)
        return 0;
    *out = sl_days_from_civil(y, (unsigned)mo, (unsigned)d) * SL_MS_PER_DAY +
           h * SL_MS_PER_HOUR + mi * SL_MS_PER_MIN + sec * SL_MS_PER_SEC + ms -
           off * SL_MS_PER_MIN;
    return 1;
}

enum sl_status sl_time_parse(const char *s, size_t len, int64_t now_ms,
                             int64_t *out, struct sl_err *err)
{
    size_t i = 0;
    int64_t v = 0;

    if (len == 3 && memcmp(s, "now", 3) == 0) {
        *out = now_ms;
        return SL_OK;
    }
    if (len >= 2 && s[0] == '-' && s[len - 1] >= 'a' && s[len - 1] <= 'z') {
        int64_t unit;
        switch (s[len - 1]) {
        case 's': unit = SL_MS_PER_SEC; break;
        case 'm': unit = SL_MS_PER_MIN; break;
        case 'h': unit = SL_MS_PER_HOUR; break;
        case 'd': unit = SL_MS_PER_DAY; break;
        case 'w': unit = 7 * SL_MS_PER_DAY; break;
        default: goto bad;
        }
        for (i = 1; i + 1 < len; i++) {
            if (s[i] < '0' || s[i] > '9' || v > 100000000)
                goto bad;
            v = v * 10 + (s[i] - '0');
        }
        if (len < 3)
            goto bad;
        *out = now_ms - v * unit;
        return SL_OK;
    }
    if (len > 0 && len <= 16) {
        for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            v = v * 10 + (s[i] - '0');
        if (i == len) {
            *out = v;
            return SL_OK;
        }
    }
    if (parse_iso(s, len, out))
        return SL_OK;
bad:
    return sl_fail(err, SL_INVALID,
                   "invalid time '%.*s': use milliseconds since the epoch, "
                   "ISO 8601 such as 2026-11-26T21:40:00Z, or a relative "
                   "time such as -15m, -2h, -7d",
                   (int)(len > 64 ? 64 : len), s);
}
