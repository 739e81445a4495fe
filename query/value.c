/* query/value.c: conversions, output text, equality and the natural sort
 * order of query values; see value.h. */
#include "query/value.h"

#include "common/timeparse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool val_parse_num(const char *s, size_t len, double *out)
{
    char tmp[64];
    size_t i = 0;
    bool digits = false;

    if (len == 0 || len >= sizeof(tmp))
        return false;
    if (s[i] == '-' || s[i] == '+')
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits = true;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            digits = true;
        }
    }
    if (!digits)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = ++i;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        e = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e)
            return false;
    }
    if (i != len)
        return false;
    /* Fast path: plain integers up to 15 digits need no strtod. */
    if (len <= 16) {
        size_t j = (s[0] == '-' || s[0] == '+') ? 1 : 0;
        int64_t acc = 0;
        while (j < len && s[j] >= '0' && s[j] <= '9')
            acc = acc * 10 + (s[j++] - '0');
        if (j == len) {
            *out = s[0] == '-' ? -(double)acc : (double)acc;
            return true;
        }
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    *out = strtod(tmp, NULL);
    return true;
}

bool val_to_num(const struct val *v, double *out)
{
    switch (v->kind) {
    case VAL_NUM:
        *out = v->u.num;
        return true;
    case VAL_STR:
        return val_parse_num(v->u.s, v->len, out);
    case VAL_BOOL:
        *out = v->u.b ? 1 : 0;
        return true;
    case VAL_TIME:
        *out = (double)v->u.ms;
        return true;
    default:
        return false;
    }
}

/* "YYYY-MM-DD HH:MM:SS[.mmm]" (the output form) as ms; the ISO forms go
 * through sl_time_parse. */
static bool parse_space_time(const char *s, size_t len, int64_t *out)
{
    char iso[40];
    struct sl_err err = {0};

    if (len < 19 || len >= sizeof(iso) || s[10] != ' ')
        return false;
    memcpy(iso, s, len);
    iso[10] = 'T';
    if (iso[len - 1] != 'Z')
        iso[len++] = 'Z';
    return sl_time_parse(iso, len, 0, out, &err) == SL_OK;
}

bool val_to_ms(const struct val *v, int64_t *out)
{
    double d;
    struct sl_err err = {0};

    if (v->kind == VAL_TIME) {
        *out = v->u.ms;
        return true;
    }
    if (val_to_num(v, &d)) {
        if (!(d > -9.2e18 && d < 9.2e18))
            return false;
        *out = (int64_t)d;
        return true;
    }
    if (v->kind != VAL_STR || v->len < 10)
        return false;
    if (parse_space_time(v->u.s, v->len, out))
        return true;
    /* ISO 8601 only: relative forms ("-5m", "now") are not timestamps. */
    if (v->u.s[4] != '-')
        return false;
    return sl_time_parse(v->u.s, v->len, 0, out, &err) == SL_OK;
}

bool val_truthy(const struct val *v)
{
    switch (v->kind) {
    case VAL_BOOL:
        return v->u.b;
    case VAL_NUM:
        return v->u.num != 0;
    case VAL_TIME:
        return true;
    case VAL_STR:
        if (v->len == 0)
            return false;
        if (v->len == 5 && memcmp(v->u.s, "false", 5) == 0)
            return false;
        return !(v->len == 1 && v->u.s[0] == '0');
    case VAL_JSON:
        return true;
    default:
        return false;
    }
}

void val_format_time(int64_t ms, char out[24])
{
    char iso[32];
    sl_time_format_iso(ms, iso, sizeof(iso));
    /* 2026-11-26T21:40:00.000Z -> 2026-11-26 21:40:00.000 */
    memcpy(out, iso, 23);
    out[10] = ' ';
    out[23] = '\0';
}

/* Numbers: integers as integers, others in the shortest %.*g that reads
 * back to the same double, never in exponent form below 1e21. */
static enum sl_status format_num(double d, struct buf *out)
{
    char tmp[64];

    if (isnan(d) || isinf(d))
        return buf_printf(out, "%s", isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    if (d == floor(d) && fabs(d) < 1e21)
        return buf_printf(out, "%.0f", d == 0 ? 0.0 : d); /* no "-0" */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    if (strchr(tmp, 'e') != NULL && fabs(d) >= 1e-6 && fabs(d) < 1e21)
        snprintf(tmp, sizeof(tmp), "%.17f", d);
    return buf_printf(out, "%s", tmp);
}

enum sl_status val_format(const struct val *v, struct buf *out)
{
    char t[24];

    switch (v->kind) {
    case VAL_NULL:
        return SL_OK;
    case VAL_NUM:
        return format_num(v->u.num, out);
    case VAL_BOOL:
        return buf_append(out, v->u.b ? "1" : "0", 1);
    case VAL_TIME:
        val_format_time(v->u.ms, t);
        return buf_append(out, t, 23);
    case VAL_STR:
    case VAL_JSON:
        return buf_append(out, v->u.s, v->len);
    }
    return SL_OK;
}

/* Text of a non-null value for string comparisons: strings as they are,
 * others formatted into tmp. */
static const char *text_of(const struct val *v, char *tmp, size_t cap,
                           size_t *len)
{
    struct buf b;

    if (v->kind == VAL_STR || v->kind == VAL_JSON) {
        *len = v->len;
        return v->u.s;
    }
    buf_init(&b, cap);
    if (val_format(v, &b) != SL_OK || b.len >= cap) {
        buf_fini(&b);
        *len = 0;
        return "";
    }
    memcpy(tmp, b.data, b.len);
    *len = b.len;
    buf_fini(&b);
    return tmp;
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

bool val_compare(const struct val *a, const struct val *b, int *cmp)
{
    double x, y;
    char ta[64], tb[64];
    size_t la, lb;
    const char *sa, *sb;

    if (a->kind == VAL_NULL || b->kind == VAL_NULL)
        return false;
    if (val_to_num(a, &x) && val_to_num(b, &y)) {
        *cmp = x < y ? -1 : x > y;
        return true;
    }
    sa = text_of(a, ta, sizeof(ta), &la);
    sb = text_of(b, tb, sizeof(tb), &lb);
    *cmp = bytes_cmp(sa, la, sb, lb);
    return true;
}

bool val_equal(const struct val *a, const struct val *b)
{
    int c;
    if (a->kind == VAL_STR && b->kind == VAL_STR && a->len != b->len) {
        double x, y;
        /* Different lengths: equal only as numbers ("5" = "5.0"). */
        if (!val_to_num(a, &x) || !val_to_num(b, &y))
            return false;
        return x == y;
    }
    return val_compare(a, b, &c) && c == 0;
}

/* Natural order of two non-numeric texts: runs of digits against runs of
 * other bytes; digit runs by length, then value; other runs by code point
 * (UTF-8 byte order is code point order). */
static int natural_text_cmp(const char *a, size_t alen, const char *b,
                            size_t blen)
{
    size_t i = 0, j = 0;

    while (i < alen && j < blen) {
        bool da = a[i] >= '0' && a[i] <= '9';
        bool db = b[j] >= '0' && b[j] <= '9';
        if (da && db) {
            size_t si = i, sj = j;
            while (i < alen && a[i] >= '0' && a[i] <= '9')
                i++;
            while (j < blen && b[j] >= '0' && b[j] <= '9')
                j++;
            if (i - si != j - sj)
                return i - si < j - sj ? -1 : 1;
            int c = memcmp(a + si, b + sj, i - si);
            if (c != 0)
                return c;
            continue;
        }
        if ((unsigned char)a[i] != (unsigned char)b[j])
            return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
        i++;
        j++;
    }
    if (i < alen)
        return 1;
    return j < blen ? -1 : 0;
}

/* Whether v sorts as a number: numbers, timestamps, booleans, and strings
 * that are wholly a number. */
static bool natural_num(const struct val *v, double *d)
{
    if (v->kind == VAL_STR)
        return val_parse_num(v->u.s, v->len, d);
    return v->kind != VAL_JSON && val_to_num(v, d);
}

int val_natural_cmp(const struct val *a, const struct val *b)
{
    double x, y;
    bool na, nb;
    char ta[64], tb[64];
    size_t la, lb;
    const char *sa, *sb;

    if (a->kind == VAL_NULL || b->kind == VAL_NULL)
        return (a->kind == VAL_NULL) - (b->kind == VAL_NULL);
    na = natural_num(a, &x);
    nb = natural_num(b, &y);
    if (na && nb) {
        if (x != y)
            return x < y ? -1 : 1;
        /* Same value written differently ("01" and "1"): by text. */
        if (a->kind != VAL_STR || b->kind != VAL_STR)
            return 0;
    } else if (na != nb) {
        return na ? 1 : -1;
    }
    sa = text_of(a, ta, sizeof(ta), &la);
    sb = text_of(b, tb, sizeof(tb), &lb);
    return na ? bytes_cmp(sa, la, sb, lb) : natural_text_cmp(sa, la, sb, lb);
}

enum sl_status val_copy(struct arena *a, const struct val *v, struct val *out)
{
    *out = *v;
    if ((v->kind == VAL_STR || v->kind == VAL_JSON) && v->len > 0) {
        char *p = arena_alloc(a, v->len);
        if (p == NULL)
            return SL_NOMEM;
        memcpy(p, v->u.s, v->len);
        out->u.s = p;
    }
    return SL_OK;
}
