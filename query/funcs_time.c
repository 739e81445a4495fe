/* query/funcs_time.c: calendar arithmetic for the datetime functions:
 * period floors and ceilings (bin, datefloor, dateceil), parseDate with a
 * Java pattern, formatDate/strftime. Everything is UTC or a fixed offset
 * given as text; no TZ environment, no libc time zone state, so any
 * thread may call it. See funcs_int.h for the contracts. */
#include "query/funcs_int.h"

#include "common/clock.h"
#include "common/timeparse.h"

#include <string.h>

/* A moment split into calendar fields (proleptic Gregorian). */
struct civil {
    int64_t year;
    int month;   /* 1-12 */
    int day;     /* 1-31 */
    int hour;    /* 0-23 */
    int min;     /* 0-59 */
    int sec;     /* 0-59 */
    int ms;      /* 0-999 */
    int wday;    /* 0 = Sunday */
    int yday;    /* 1-366 */
};

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 to a date. The count is shifted to start on
 * 0000-03-01 so that a 400-year era (146097 days) ends with its leap day,
 * then split into era, year of era, day of year and month. */
static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;  /* days from 0000-03-01 to 1970-01-01 */
    int64_t era = fn_floor_div(z, 146097);
    int64_t doe = z - era * 146097;                        /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* from March 1 */
    int64_t mp = (5 * doy + 2) / 153;                      /* March = 0 */

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void split_ms(int64_t ms, struct civil *c)
{
    int64_t days = fn_floor_div(ms, SL_MS_PER_DAY);
    int64_t rem = ms - days * SL_MS_PER_DAY;

    civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (int)(rem / SL_MS_PER_HOUR);
    c->min = (int)(rem / SL_MS_PER_MIN % 60);
    c->sec = (int)(rem / SL_MS_PER_SEC % 60);
    c->ms = (int)(rem % 1000);
    c->wday = (int)(days + 4 - fn_floor_div(days + 4, 7) * 7); /* 1970-01-01: Thursday */
    c->yday = (int)(days - sl_days_from_civil(c->year, 1, 1)) + 1;
}

/* ------------------------------------------------------------------ */
/* Periods                                                              */

/*
 * Flooring a moment to a period
 * -----------------------------
 * Fixed units (ms s m h d w) floor to a multiple of count * unit counted
 * from an origin, in UTC:
 *
 *     origin                               ms
 *       |-------|-------|-------|-------|--x----|
 *                                       ^ floor  ^ ceil
 *
 * The origin is the epoch, except for weeks: 1969-12-29, a Monday, so 1w
 * bins run Monday 00:00 to Monday 00:00 (as CloudWatch's do) and 2w bins
 * pair weeks from there.
 *
 * Months, quarters and years have no fixed length, so they floor on the
 * calendar: the moment becomes a month index (months since 1970-01), the
 * index is floored to a multiple of count months (count * 3 for quarters,
 * count * 12 for years) and turned back into the first day of that month:
 *
 *     5mo: 1970-01, 1970-06, 1970-11, 1971-04, ...   (index 0, 5, 10, 15)
 *     1q:  Jan, Apr, Jul, Oct        2y: 1970, 1972, ..., 2024, 2026
 *
 * Ceil is the floor when ms is on a boundary, else the next boundary.
 * A period longer than the supported range (FN_MS_LIMIT), a zero count or
 * a moment outside the range leaves ms unchanged.
 */

#define WEEK_ORIGIN_MS (-3 * SL_MS_PER_DAY)  /* Monday 1969-12-29 00:00 */
#define MAX_MONTHS (2 * 274000LL * 12)       /* months in 2 * FN_MS_LIMIT */

/* Months in one calendar period, or 0 for fixed units or too long. */
static int64_t period_months(const struct lex_period *p)
{
    int64_t per = p->unit == LEX_UNIT_MONTH   ? 1
                  : p->unit == LEX_UNIT_QUARTER ? 3
                  : p->unit == LEX_UNIT_YEAR    ? 12
                                                : 0;
    int64_t n;

    if (per == 0 || __builtin_mul_overflow(p->count, per, &n) || n > MAX_MONTHS)
        return 0;
    return n;
}

/* Milliseconds in one fixed period, or 0 for calendar units or too long. */
static int64_t period_ms(const struct lex_period *p)
{
    int64_t unit = lex_unit_ms(p->unit), n;

    if (unit == 0 || __builtin_mul_overflow(p->count, unit, &n) ||
        n > 2 * FN_MS_LIMIT)
        return 0;
    return n;
}

static int64_t month_index(int64_t ms)
{
    struct civil c;

    split_ms(ms, &c);
    return (c.year - 1970) * 12 + (c.month - 1);
}

static int64_t month_start(int64_t idx)
{
    int64_t y = fn_floor_div(idx, 12);
    int m = (int)(idx - y * 12) + 1;

    return sl_days_from_civil(1970 + y, (unsigned)m, 1) * SL_MS_PER_DAY;
}

/* Floors ms and, with up, moves a moment off a boundary to the next. */
static int64_t period_round(int64_t ms, const struct lex_period *p, bool up)
{
    int64_t months, step, origin, f;

    if (p->count <= 0 || ms < -FN_MS_LIMIT || ms > FN_MS_LIMIT)
        return ms;
    months = period_months(p);
    if (months > 0) {
        int64_t idx = fn_floor_div(month_index(ms), months) * months;
        f = month_start(idx);
        return (up && f != ms) ? month_start(idx + months) : f;
    }
    step = period_ms(p);
    if (step == 0)
        return ms;
    origin = p->unit == LEX_UNIT_WEEK ? WEEK_ORIGIN_MS : 0;
    f = fn_floor_div(ms - origin, step) * step + origin;
    return (up && f != ms) ? f + step : f;
}

bool fn_period_fixed(const struct lex_period *p, int64_t *step, int64_t *origin)
{
    if (p->count <= 0 || period_months(p) > 0 || period_ms(p) == 0)
        return false;
    *step = period_ms(p);
    *origin = p->unit == LEX_UNIT_WEEK ? WEEK_ORIGIN_MS : 0;
    return true;
}

int64_t fn_period_floor(int64_t ms, const struct lex_period *p)
{
    return period_round(ms, p, false);
}

int64_t fn_period_ceil(int64_t ms, const struct lex_period *p)
{
    return period_round(ms, p, true);
}

/* ------------------------------------------------------------------ */
/* Names and offsets                                                    */

static const char *const month_names[12] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"};
static const char *const day_names[7] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday"};

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Whether s[*pos..len) starts with word (ASCII case ignored); advances. */
static bool eat_word(const char *s, size_t len, size_t *pos, const char *word,
                     size_t wlen)
{
    if (len - *pos < wlen)
        return false;
    for (size_t k = 0; k < wlen; k++)
        if (ascii_lower(s[*pos + k]) != ascii_lower(word[k]))
            return false;
    *pos += wlen;
    return true;
}

/* Matches a full or three-letter name from names[0..n); 1-based index. */
static int eat_name(const char *s, size_t len, size_t *pos,
                    const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (eat_word(s, len, pos, names[i], strlen(names[i])))
            return i + 1;
    for (int i = 0; i < n; i++)
        if (eat_word(s, len, pos, names[i], 3))
            return i + 1;
    return 0;
}

/* Reads min..max digits at s[*pos]. */
static bool eat_digits(const char *s, size_t len, size_t *pos, int min,
                       int max, int64_t *out)
{
    int64_t v = 0;
    int n = 0;

    while (n < max && *pos < len && s[*pos] >= '0' && s[*pos] <= '9') {
        v = v * 10 + (s[(*pos)++] - '0');
        n++;
    }
    *out = v;
    return n >= min;
}

/*
 * Offsets, in the text of parseDate and in the tz argument of parseDate,
 * formatDate and strftime:
 *
 *   Z  z  UTC  GMT  UT                zero
 *   +05:30  -0800  +05  -3            sign, hours (1-2 digits), [:]minutes
 *   UTC+01:00  GMT-3                  a zero name followed by an offset
 *
 * At most 18:00, as java.time allows. Region names (Europe/Paris) are not
 * supported: a tz argument naming one makes the result null.
 */
static bool eat_offset(const char *s, size_t len, size_t *pos, int *off_min)
{
    int64_t h = 0, m = 0;
    int sign;
    size_t p = *pos;

    if (p < len && (s[p] == 'Z' || s[p] == 'z') &&
        !(p + 1 < len && (s[p + 1] == '+' || s[p + 1] == '-'))) {
        *pos = p + 1;
        *off_min = 0;
        return true;
    }
    if (!eat_word(s, len, &p, "UTC", 3) && !eat_word(s, len, &p, "GMT", 3))
        (void)eat_word(s, len, &p, "UT", 2);
    if (p >= len || (s[p] != '+' && s[p] != '-')) {
        if (p == *pos)
            return false;
        *pos = p;
        *off_min = 0;
        return true;
    }
    sign = s[p++] == '-' ? -1 : 1;
    if (!eat_digits(s, len, &p, 1, 2, &h))
        return false;
    if (p + 1 < len && s[p] == ':' && s[p + 1] >= '0' && s[p + 1] <= '9')
        p++;
    if (p < len && s[p] >= '0' && s[p] <= '9' && !eat_digits(s, len, &p, 2, 2, &m))
        return false;
    if (m > 59 || h * 60 + m > 18 * 60)
        return false;
    *off_min = sign * (int)(h * 60 + m);
    *pos = p;
    return true;
}

/* The tz argument as minutes east of UTC; true and 0 when absent. */
static bool tz_offset(struct fn_ctx *ctx, const struct val *tz, int *off,
                      enum sl_status *st)
{
    struct fn_text t;
    size_t pos = 0;

    *off = 0;
    *st = SL_OK;
    if (tz == NULL)
        return true;
    *st = fn_text_of(ctx, tz, &t);
    if (*st != SL_OK || t.s == NULL)
        return false;
    return eat_offset(t.s, t.len, &pos, off) && pos == t.len;
}

/* ------------------------------------------------------------------ */
/* Java patterns                                                        */

/*
 * parseDate and formatDate read java.time patterns (DateTimeFormatter).
 * Supported letters, n = how many times the letter repeats:
 *
 *   y u   year: yy = two digits (parsed as 20yy), else at least n digits
 *   M L   month: M/MM number, MMM "Jan", MMMM "January"
 *   d     day of month          D   day of year
 *   H     hour 0-23             k   hour 1-24 (format only as written)
 *   h     hour 1-12 (with a)    K   hour 0-11 (with a)
 *   m s   minute, second        S   fraction: n digits (SSS = ms)
 *   a     AM / PM               E   day name: E-EEE "Mon", EEEE "Monday"
 *   X x   offset: X +05 / Z, XX +0530, XXX +05:30 (x: +00 never Z)
 *   Z     +0530 (ZZZZ GMT+05:30, ZZZZZ +05:30)   z  UTC or +05:30
 *   'text' literal text, '' a quote; other non-letters are literal
 *
 * In parsing, numbers of one letter take 1-2 digits (years 1-9), of more
 * letters exactly n; names and AM/PM ignore case; any offset form
 * (eat_offset) is accepted for X x Z z; missing fields default to
 * 1970-01-01 00:00:00.000 and an offset in the text wins over the tz
 * argument. Other letters (G, Q, w, V, ...) make the result null.
 */

struct pat {
    const char *f;
    size_t len;
    size_t i;        /* next byte of f */
    bool quoted;     /* inside '...' */
};

struct pat_item {
    char letter;     /* a pattern letter, or 0 for the literal byte lit */
    char lit;
    int count;       /* how many times letter repeats */
};

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Next item of the pattern; false at the end (p->quoted then tells an
 * unterminated quote). */
static bool pat_next(struct pat *p, struct pat_item *it)
{
    while (p->i < p->len) {
        char c = p->f[p->i];
        if (c == '\'') {
            if (p->i + 1 < p->len && p->f[p->i + 1] == '\'') {
                p->i += 2;
                it->letter = 0;
                it->lit = '\'';
                return true;
            }
            p->quoted = !p->quoted;
            p->i++;
            continue;
        }
        it->count = 1;
        p->i++;
        if (p->quoted || !is_alpha(c)) {
            it->letter = 0;
            it->lit = c;
            return true;
        }
        while (p->i < p->len && p->f[p->i] == c) {
            p->i++;
            it->count++;
        }
        it->letter = c;
        return true;
    }
    return false;
}

/* Output bytes of a format; with p NULL it only counts (measure pass). */
struct wr {
    char *p;
    size_t len;      /* bytes produced so far */
};

static void wr_putc(struct wr *w, char c)
{
    if (w->p != NULL)
        w->p[w->len] = c;
    w->len++;
}

static void wr_puts(struct wr *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wr_putc(w, s[i]);
}

/* v in decimal, zero-padded to width digits (capped at 20), '-' first. */
static void wr_num(struct wr *w, int64_t v, int width)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    if (v < 0)
        wr_putc(w, '-');
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    for (int k = n; k < width && k < 20; k++)
        wr_putc(w, '0');
    while (n > 0)
        wr_putc(w, tmp[--n]);
}

/* +HH, +HHMM or +HH:MM (colon) for off minutes east; Z for zero when
 * zulu is set. With hh_only, minutes are written only when not zero. */
static void wr_offset(struct wr *w, int off, bool colon, bool zulu, bool hh_only)
{
    int a = off < 0 ? -off : off;

    if (off == 0 && zulu) {
        wr_putc(w, 'Z');
        return;
    }
    wr_putc(w, off < 0 ? '-' : '+');
    wr_num(w, a / 60, 2);
    if (hh_only && a % 60 == 0)
        return;
    if (colon)
        wr_putc(w, ':');
    wr_num(w, a % 60, 2);
}

static void wr_name(struct wr *w, const char *name, int count)
{
    wr_puts(w, name, count >= 4 ? strlen(name) : 3);
}

/* The zone letters X x Z z O. */
static void format_zone(struct wr *w, char letter, int n, int off)
{
    switch (letter) {
    case 'X':
    case 'x':
        wr_offset(w, off, n >= 3, letter == 'X', n == 1);
        break;
    case 'Z':
        if (n == 4) {
            wr_puts(w, "GMT", 3);
            if (off != 0)
                wr_offset(w, off, true, false, false);
        } else {
            wr_offset(w, off, n == 5, n == 5, false);
        }
        break;
    default: /* z */
        if (off == 0)
            wr_puts(w, "UTC", 3);
        else
            wr_offset(w, off, true, false, false);
        break;
    }
}

/* Writes one letter run; false for an unsupported letter. */
static bool format_letter(struct wr *w, const struct pat_item *it,
                          const struct civil *c, int off)
{
    int n = it->count;

    switch (it->letter) {
    case 'y':
    case 'u':
        if (n == 2)
            wr_num(w, (c->year % 100 + 100) % 100, 2);
        else
            wr_num(w, c->year, n);
        return true;
    case 'M':
    case 'L':
        if (n >= 3)
            wr_name(w, month_names[c->month - 1], n);
        else
            wr_num(w, c->month, n);
        return true;
    case 'd': wr_num(w, c->day, n); return true;
    case 'D': wr_num(w, c->yday, n); return true;
    case 'H': wr_num(w, c->hour, n); return true;
    case 'k': wr_num(w, c->hour == 0 ? 24 : c->hour, n); return true;
    case 'h': wr_num(w, c->hour % 12 == 0 ? 12 : c->hour % 12, n); return true;
    case 'K': wr_num(w, c->hour % 12, n); return true;
    case 'm': wr_num(w, c->min, n); return true;
    case 's': wr_num(w, c->sec, n); return true;
    case 'S':
        for (int k = 0; k < n; k++)
            wr_putc(w, k == 0 ? (char)('0' + c->ms / 100)
                       : k == 1 ? (char)('0' + c->ms / 10 % 10)
                       : k == 2 ? (char)('0' + c->ms % 10)
                                : '0');
        return true;
    case 'a': wr_puts(w, c->hour < 12 ? "AM" : "PM", 2); return true;
    case 'E': wr_name(w, day_names[c->wday], n); return true;
    case 'X':
    case 'x':
    case 'Z':
    case 'z':
        if (n > 5)
            return false;
        format_zone(w, it->letter, n, off);
        return true;
    default:
        return false;
    }
}

static bool format_java(struct wr *w, const struct fn_text *fmt,
                        const struct civil *c, int off)
{
    struct pat p = {fmt->s, fmt->len, 0, false};
    struct pat_item it;

    while (pat_next(&p, &it)) {
        if (it.letter == 0)
            wr_putc(w, it.lit);
        else if (!format_letter(w, &it, c, off))
            return false;
    }
    return !p.quoted;
}

/* ------------------------------------------------------------------ */
/* strftime directives                                                  */

/*
 * strftime(ts, fmt[, tz]) with a '%' in fmt reads C-style directives:
 *   %Y year  %y two digits  %m month  %d day  %e day space-padded  %j day of year
 *   %H hour  %I hour 1-12  %p AM/PM  %M minute  %S second  %L millis (3)
 *   %f micros (6)  %a %A day name  %b %h %B month name  %u 1-7 (Monday 1)
 *   %w 0-6 (Sunday 0)  %s epoch seconds  %z +hhmm  %Z UTC or +hh:mm
 *   %F = %Y-%m-%d  %T = %H:%M:%S  %% %n %t
 * An unknown directive is copied as written. Without a '%', strftime
 * reads a Java pattern like formatDate.
 */
static void format_directive(struct wr *w, char d, const struct civil *c,
                             int off, int64_t ms)
{
    switch (d) {
    case 'Y': wr_num(w, c->year, 4); break;
    case 'y': wr_num(w, (c->year % 100 + 100) % 100, 2); break;
    case 'm': wr_num(w, c->month, 2); break;
    case 'd': wr_num(w, c->day, 2); break;
    case 'e':
        if (c->day < 10)
            wr_putc(w, ' ');
        wr_num(w, c->day, 1);
        break;
    case 'j': wr_num(w, c->yday, 3); break;
    case 'H': wr_num(w, c->hour, 2); break;
    case 'I': wr_num(w, c->hour % 12 == 0 ? 12 : c->hour % 12, 2); break;
    case 'p': wr_puts(w, c->hour < 12 ? "AM" : "PM", 2); break;
    case 'M': wr_num(w, c->min, 2); break;
    case 'S': wr_num(w, c->sec, 2); break;
    case 'L': wr_num(w, c->ms, 3); break;
    case 'f': wr_num(w, (int64_t)c->ms * 1000, 6); break;
    case 'a': wr_name(w, day_names[c->wday], 3); break;
    case 'A': wr_name(w, day_names[c->wday], 4); break;
    case 'b':
    case 'h': wr_name(w, month_names[c->month - 1], 3); break;
    case 'B': wr_name(w, month_names[c->month - 1], 4); break;
    case 'u': wr_num(w, c->wday == 0 ? 7 : c->wday, 1); break;
    case 'w': wr_num(w, c->wday, 1); break;
    case 's': wr_num(w, fn_floor_div(ms, 1000), 1); break;
    case 'z': wr_offset(w, off, false, false, false); break;
    case 'Z': format_zone(w, 'z', 1, off); break;
    case 'F':
        format_directive(w, 'Y', c, off, ms);
        wr_putc(w, '-');
        format_directive(w, 'm', c, off, ms);
        wr_putc(w, '-');
        format_directive(w, 'd', c, off, ms);
        break;
    case 'T':
        format_directive(w, 'H', c, off, ms);
        wr_putc(w, ':');
        format_directive(w, 'M', c, off, ms);
        wr_putc(w, ':');
        format_directive(w, 'S', c, off, ms);
        break;
    case '%': wr_putc(w, '%'); break;
    case 'n': wr_putc(w, '\n'); break;
    case 't': wr_putc(w, '\t'); break;
    default:
        wr_putc(w, '%');
        wr_putc(w, d);
        break;
    }
}

static void format_strftime(struct wr *w, const struct fn_text *fmt,
                            const struct civil *c, int off, int64_t ms)
{
    for (size_t i = 0; i < fmt->len; i++) {
        if (fmt->s[i] == '%' && i + 1 < fmt->len)
            format_directive(w, fmt->s[++i], c, off, ms);
        else
            wr_putc(w, fmt->s[i]);
    }
}

/* formatDate / strftime: ts rendered in the tz offset (UTC by default).
 * A bad timestamp, pattern or tz gives null. */
enum sl_status fn_time_format(struct fn_ctx *ctx, const struct val *ts,
                              const struct val *fmt, const struct val *tz,
                              bool strftime_dialect, struct val *out)
{
    struct fn_text f;
    struct civil c;
    struct wr w = {NULL, 0};
    int64_t ms;
    int off;
    bool c_style;
    enum sl_status st;

    if (!val_to_ms(ts, &ms) || ms < -FN_MS_LIMIT || ms > FN_MS_LIMIT)
        return SL_OK;
    st = fn_text_of(ctx, fmt, &f);
    if (st != SL_OK || f.s == NULL)
        return st;
    if (!tz_offset(ctx, tz, &off, &st))
        return st;
    split_ms(ms + (int64_t)off * SL_MS_PER_MIN, &c);
    c_style = strftime_dialect && memchr(f.s, '%', f.len) != NULL;
    /* Two passes: measure, then write into an exact allocation. */
    if (c_style)
        format_strftime(&w, &f, &c, off, ms);
    else if (!format_java(&w, &f, &c, off))
        return SL_OK;
    w.p = fn_alloc(ctx, w.len);
    if (w.p == NULL)
        return SL_NOMEM;
    w.len = 0;
    if (c_style)
        format_strftime(&w, &f, &c, off, ms);
    else
        (void)format_java(&w, &f, &c, off);
    return fn_out_str(out, w.p, w.len);
}

/* ------------------------------------------------------------------ */
/* parseDate                                                            */

/* Fields read so far; -1 where the text has not given one. */
struct parsed {
    int64_t year;
    int64_t month, day, yday, hour, min, sec, ms;
    int pm;          /* -1 none, 0 AM, 1 PM */
    bool hour12;     /* hour came from h or K */
    bool has_off;    /* the text carried an offset */
    int off;         /* minutes east of UTC */
};

/* Digits of a numeric field of n letters: one letter takes 1-2 digits
 * (a year up to 9), more take exactly n (yyyy: 4). */
static bool eat_field(const char *s, size_t len, size_t *pos, int n,
                      bool year, int64_t *out)
{
    if (n == 1)
        return eat_digits(s, len, pos, 1, year ? 9 : 2, out);
    return eat_digits(s, len, pos, n, n, out);
}

static bool parse_letter(const char *s, size_t len, size_t *pos,
                         const struct pat_item *it, struct parsed *r)
{
    int n = it->count;
    int64_t v;

    switch (it->letter) {
    case 'y':
    case 'u':
        if (!eat_field(s, len, pos, n, true, &v))
            return false;
        r->year = n == 2 ? 2000 + v : v;
        return true;
    case 'M':
    case 'L':
        if (n >= 3)
            return (r->month = eat_name(s, len, pos, month_names, 12)) != 0;
        return eat_field(s, len, pos, n, false, &r->month);
    case 'd': return eat_field(s, len, pos, n, false, &r->day);
    case 'D': return eat_digits(s, len, pos, n == 1 ? 1 : n, n < 3 ? 3 : n, &r->yday);
    case 'H': return eat_field(s, len, pos, n, false, &r->hour);
    case 'k':
        if (!eat_field(s, len, pos, n, false, &r->hour))
            return false;
        r->hour = r->hour == 24 ? 0 : r->hour;
        return true;
    case 'h':
    case 'K':
        r->hour12 = true;
        if (!eat_field(s, len, pos, n, false, &r->hour))
            return false;
        r->hour = r->hour == 12 ? 0 : r->hour;  /* 12 AM is 0h */
        return true;
    case 'm': return eat_field(s, len, pos, n, false, &r->min);
    case 's': return eat_field(s, len, pos, n, false, &r->sec);
    case 'S':
        if (!eat_digits(s, len, pos, n, n, &v))
            return false;
        for (int k = n; k > 3; k--)
            v /= 10;
        for (int k = n; k < 3; k++)
            v *= 10;
        r->ms = v;
        return true;
    case 'a':
        if (eat_word(s, len, pos, "AM", 2))
            r->pm = 0;
        else if (eat_word(s, len, pos, "PM", 2))
            r->pm = 1;
        else
            return false;
        return true;
    case 'E': return eat_name(s, len, pos, day_names, 7) != 0;
    case 'X':
    case 'x':
    case 'Z':
    case 'z':
        r->has_off = eat_offset(s, len, pos, &r->off);
        return r->has_off;
    default:
        return false;
    }
}

/* Fills defaults and checks ranges; false for an impossible date. */
static bool resolve(struct parsed *r)
{
    if (r->year == -1)
        r->year = 1970;
    if (r->year > 200000)
        return false;
    if (r->yday != -1 && r->month == -1 && r->day == -1) {
        int64_t m = 1, d = r->yday;
        if (d < 1 || d > (is_leap(r->year) ? 366 : 365))
            return false;
        while (d > days_in_month(r->year, (int)m)) {
            d -= days_in_month(r->year, (int)m);
            m++;
        }
        r->month = m;
        r->day = d;
    }
    r->month = r->month == -1 ? 1 : r->month;
    r->day = r->day == -1 ? 1 : r->day;
    r->hour = r->hour == -1 ? 0 : r->hour;
    r->min = r->min == -1 ? 0 : r->min;
    r->sec = r->sec == -1 ? 0 : r->sec;
    r->ms = r->ms == -1 ? 0 : r->ms;
    if (r->month < 1 || r->month > 12 || r->day < 1 ||
        r->day > days_in_month(r->year, (int)r->month))
        return false;
    if (r->hour12 && r->hour > 11)
        return false;
    if (r->pm == 1 && r->hour < 12)
        r->hour += 12;
    return r->hour <= 23 && r->min <= 59 && r->sec <= 59;
}

/* parseDate(s, javaPattern[, tz]) -> VAL_TIME; null when s does not match
 * the whole pattern or names an impossible date. */
enum sl_status fn_time_parse(struct fn_ctx *ctx, const struct val *s,
                             const struct val *fmt, const struct val *tz,
                             struct val *out)
{
    struct fn_text t, f;
    struct parsed r = {-1, -1, -1, -1, -1, -1, -1, -1, -1, false, false, 0};
    struct pat p;
    struct pat_item it;
    size_t pos = 0;
    int off;
    int64_t days, ms;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st == SL_OK)
        st = fn_text_of(ctx, fmt, &f);
    if (st != SL_OK || t.s == NULL || f.s == NULL)
        return st;
    if (!tz_offset(ctx, tz, &off, &st))
        return st;
    p = (struct pat){f.s, f.len, 0, false};
    while (pat_next(&p, &it)) {
        if (it.letter == 0) {
            if (pos >= t.len || t.s[pos] != it.lit)
                return SL_OK;
            pos++;
        } else if (!parse_letter(t.s, t.len, &pos, &it, &r)) {
            return SL_OK;
        }
    }
    if (p.quoted || pos != t.len || !resolve(&r))
        return SL_OK;
    if (r.has_off)
        off = r.off;
    days = sl_days_from_civil(r.year, (unsigned)r.month, (unsigned)r.day);
    ms = days * SL_MS_PER_DAY + r.hour * SL_MS_PER_HOUR + r.min * SL_MS_PER_MIN +
         r.sec * SL_MS_PER_SEC + r.ms - (int64_t)off * SL_MS_PER_MIN;
    if (ms >= -FN_MS_LIMIT && ms <= FN_MS_LIMIT)
        *out = val_time(ms);
    return SL_OK;
}
