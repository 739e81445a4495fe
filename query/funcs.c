/* query/funcs.c: fn_call, the one switch from a function id to its
 * implementation, plus the numeric, general and simple datetime functions
 * and the helpers every category shares; see funcs.h. Strings, calendars,
 * IP addresses and JSON live in funcs_str.c, funcs_time.c, funcs_ip.c and
 * funcs_json.c. Knows nothing of rows, fields or the executor.
 *
 * Null semantics, the one rule behind every case below:
 *
 *   value functions      f(null, ...)  -> null   (abs, concat's result when
 *                                                  every argument is null,
 *                                                  substr, datefloor, ...)
 *   bad argument value   f("abc")      -> null   (abs("abc"), a bad date)
 *   predicates           p(null)       -> false  (isValidIp, strcontains,
 *                                                  startsWith, isNumeric)
 *   null-aware           ispresent, isempty, isblank, coalesce, if, case
 *                        look at nulls on purpose
 *
 * Numbers come out as VAL_NUM doubles and must be finite: a NaN or an
 * infinity (log(0), sqrt(-1)) is null, as arithmetic on nothing is. */
#include "query/funcs.h"

#include "query/funcs_int.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Shared helpers                                                       */

char *fn_alloc(struct fn_ctx *ctx, size_t n)
{
    return arena_alloc(ctx->scratch, n ? n : 1);
}

enum sl_status fn_out_str(struct val *out, const char *s, size_t len)
{
    if (len > UINT32_MAX)
        return SL_NOMEM;
    *out = val_str(s, len);
    return SL_OK;
}

enum sl_status fn_text_of(struct fn_ctx *ctx, const struct val *v,
                          struct fn_text *t)
{
    struct buf b;
    enum sl_status st;
    char *p;

    t->s = NULL;
    t->len = 0;
    if (v->kind == VAL_NULL)
        return SL_OK;
    if (v->kind == VAL_STR || v->kind == VAL_JSON) {
        t->s = v->u.s;
        t->len = v->len;
        return SL_OK;
    }
    buf_init(&b, 64);  /* numbers, booleans and timestamps are short */
    st = val_format(v, &b);
    if (st == SL_OK) {
        p = fn_alloc(ctx, b.len);
        if (p == NULL) {
            st = SL_NOMEM;
        } else {
            if (b.len > 0)
                memcpy(p, b.data, b.len);
            t->s = p;
            t->len = b.len;
        }
    }
    buf_fini(&b);
    return st == SL_OK ? SL_OK : SL_NOMEM;
}

/* Payload bits of a UTF-8 lead byte, the sequence length and the smallest
 * code point that length may encode (shorter is overlong); 0 when b
 * cannot start a multi-byte sequence. */
static size_t utf8_lead(unsigned char b, uint32_t *bits, uint32_t *min)
{
    if (b >= 0xC2 && b <= 0xDF) {
        *bits = b & 0x1Fu;
        *min = 0x80;
        return 2;
    }
    if (b >= 0xE0 && b <= 0xEF) {
        *bits = b & 0x0Fu;
        *min = 0x800;
        return 3;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        *bits = b & 0x07u;
        *min = 0x10000;
        return 4;
    }
    return 0;
}

size_t fn_utf8_next(const char *s, size_t len, size_t i, int32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s + i;
    uint32_t c = 0, min = 0;
    size_t n;

    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    n = utf8_lead(u[0], &c, &min);
    if (n != 0 && n <= len - i) {
        size_t k = 1;
        while (k < n && (u[k] & 0xC0) == 0x80) {
            c = (c << 6) | (u[k] & 0x3Fu);
            k++;
        }
        if (k == n && c >= min && c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF)) {
            *cp = (int32_t)c;
            return n;
        }
    }
    *cp = -1 - (int32_t)u[0];
    return 1;
}

int64_t fn_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Argument i, or null when the call has fewer (the checker prevents it;
 * being total here keeps a bad plan from reading past the array). */
static const struct val *arg(const struct fn_args *a, size_t i)
{
    static const struct val null_val = {.kind = VAL_NULL};
    return i < a->n ? &a->args[i] : &null_val;
}

/* Argument i when present in the call, else NULL (optional arguments). */
static const struct val *opt_arg(const struct fn_args *a, size_t i)
{
    return i < a->n ? &a->args[i] : NULL;
}

static const struct lex_period *period(const struct fn_args *a, size_t i)
{
    return (a->periods != NULL && i < a->n) ? &a->periods[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* Numeric                                                              */

static struct val finite_num(double d)
{
    return isfinite(d) ? val_num(d) : val_null();
}

static struct val num1(const struct val *v, double (*f)(double))
{
    double x;
    return val_to_num(v, &x) ? finite_num(f(x)) : val_null();
}

/* greatest (sign 1) / least (sign -1): the winning argument itself, so a
 * timestamp stays a timestamp. Nulls are skipped, as SQL engines do;
 * numbers compare by value, other values by text (val_compare). */
static struct val extreme(const struct fn_args *a, int sign)
{
    const struct val *best = NULL;
    int c;

    for (size_t i = 0; i < a->n; i++) {
        const struct val *v = &a->args[i];
        if (val_is_null(v))
            continue;
        if (best == NULL || (val_compare(v, best, &c) && c * sign > 0))
            best = v;
    }
    return best != NULL ? *best : val_null();
}

/* Rounds half away from zero. y was scaled by a power of ten, so a value
 * a few ulps from .5 (1.005 * 100 = 100.49999999999999) is taken as the
 * .5 the user wrote. */
static double round_half_away(double y)
{
    double lo = floor(y);
    double frac = y - lo;

    if (fabs(frac - 0.5) <= 4 * DBL_EPSILON * fmax(1.0, fabs(y)))
        return y < 0 ? lo : lo + 1;
    return round(y);
}

/* round(x[, d]): d decimal places (truncated to an integer; negative
 * rounds to tens, hundreds, ...). Half away from zero, as C and most
 * spreadsheets do (Java's Math.round would give round(-2.5) = -2). */
static struct val num_round(const struct val *x, const struct val *d)
{
    double v, digits = 0;

    if (!val_to_num(x, &v) || (d != NULL && !val_to_num(d, &digits)))
        return val_null();
    digits = trunc(digits);
    if (digits == 0)
        return finite_num(round(v));
    if (digits > 22)  /* beyond double precision: nothing to round */
        return finite_num(v);
    if (digits < -308)
        return finite_num(v * 0.0);
    if (digits > 0) {
        double p = pow(10, digits);
        double y = v * p;
        return isfinite(y) ? finite_num(round_half_away(y) / p) : finite_num(v);
    }
    {
        double p = pow(10, -digits);
        return finite_num(round_half_away(v / p) * p);
    }
}

/* The number a value converts to for toNumber and friends: like
 * val_to_num, but a string may carry surrounding ASCII whitespace, as
 * Java's Double.parseDouble allows. */
static bool to_number(const struct val *v, double *out)
{
    if (v->kind == VAL_STR) {
        const char *s = v->u.s;
        size_t len = v->len;
        while (len > 0 && (*s == ' ' || (*s >= '\t' && *s <= '\r'))) {
            s++;
            len--;
        }
        while (len > 0 && (s[len - 1] == ' ' ||
                           (s[len - 1] >= '\t' && s[len - 1] <= '\r')))
            len--;
        return val_parse_num(s, len, out);
    }
    return val_to_num(v, out);
}

/* toInt / toLong: truncated toward zero and saturated to the type's range,
 * as Java's narrowing of a double does. */
static struct val to_integer(const struct val *v, double lo, double hi)
{
    double x;

    if (!to_number(v, &x) || isnan(x))
        return val_null();
    x = trunc(x);
    return val_num(x < lo ? lo : x > hi ? hi : x);
}

static bool is_numeric(const struct val *v)
{
    double x;
    return (v->kind == VAL_NUM || v->kind == VAL_STR) && to_number(v, &x);
}

#define EARTH_RADIUS_KM 6371.0  /* mean radius (IUGG), as most tools use */

static double radians(double deg)
{
    return deg * (M_PI / 180.0);
}

/* haversine(lat1, lon1, lat2, lon2): great-circle distance in km between
 * two points in degrees. Latitudes outside [-90, 90] or longitudes outside
 * [-180, 180] give null. */
static struct val haversine(const struct fn_args *a)
{
    double c[4];

    for (size_t i = 0; i < 4; i++)
        if (!val_to_num(arg(a, i), &c[i]))
            return val_null();
    if (fabs(c[0]) > 90 || fabs(c[2]) > 90 || fabs(c[1]) > 180 || fabs(c[3]) > 180)
        return val_null();
    {
        double dlat = radians(c[2] - c[0]), dlon = radians(c[3] - c[1]);
        double h = sin(dlat / 2) * sin(dlat / 2) +
                   cos(radians(c[0])) * cos(radians(c[2])) *
                       sin(dlon / 2) * sin(dlon / 2);
        if (h > 1)
            h = 1;
        return finite_num(2 * EARTH_RADIUS_KM * asin(sqrt(h)));
    }
}

/* ------------------------------------------------------------------ */
/* General                                                              */

static struct val coalesce(const struct fn_args *a)
{
    for (size_t i = 0; i < a->n; i++)
        if (!val_is_null(&a->args[i]))
            return a->args[i];
    return val_null();
}

/* case(c1, v1, c2, v2, ..., [default]): the value after the first truthy
 * condition; an odd argument count makes the last one the default; no
 * match and no default is null. */
static struct val case_of(const struct fn_args *a)
{
    size_t i;

    for (i = 0; i + 1 < a->n; i += 2)
        if (val_truthy(&a->args[i]))
            return a->args[i + 1];
    return i < a->n ? a->args[i] : val_null();
}

/* ------------------------------------------------------------------ */
/* Datetime (the calendar work is in funcs_time.c)                      */

static bool in_ms_range(int64_t ms)
{
    return ms >= -FN_MS_LIMIT && ms <= FN_MS_LIMIT;
}

/* bin, datefloor, dateceil: ts (or the row's @timestamp) floored or
 * ceiled to the period; a missing period (no plan data) is null. */
static struct val time_round(const struct val *ts, int64_t row_ms,
                             const struct lex_period *p, bool up)
{
    int64_t ms = row_ms;

    if (p == NULL || (ts != NULL && !val_to_ms(ts, &ms)) || !in_ms_range(ms))
        return val_null();
    return val_time(up ? fn_period_ceil(ms, p) : fn_period_floor(ms, p));
}

/* fromMillis(n): a number (or numeric string) of epoch ms, truncated. */
static struct val from_millis(const struct val *v)
{
    double x;

    if (!val_to_num(v, &x) || !(fabs(x) <= (double)FN_MS_LIMIT))
        return val_null();
    return val_time((int64_t)x);
}

static struct val to_millis(const struct val *v)
{
    int64_t ms;
    return val_to_ms(v, &ms) ? val_num((double)ms) : val_null();
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                             */

/* Scalar functions of a fixed result that cannot fail. */
static bool call_simple(const struct fn_def *f, const struct fn_args *a,
                        struct fn_ctx *ctx, struct val *out)
{
    const struct val *a0 = arg(a, 0), *a1 = arg(a, 1);

    switch (f->id) {
    case FN_ABS: *out = num1(a0, fabs); break;
    case FN_CEIL: *out = num1(a0, ceil); break;
    case FN_FLOOR: *out = num1(a0, floor); break;
    case FN_LOG: *out = num1(a0, log); break;
    case FN_SQRT: *out = num1(a0, sqrt); break;
    case FN_GREATEST: *out = extreme(a, 1); break;
    case FN_LEAST: *out = extreme(a, -1); break;
    case FN_ROUND: *out = num_round(a0, opt_arg(a, 1)); break;
    case FN_HAVERSINE: *out = haversine(a); break;
    case FN_TONUMBER:
    case FN_TODOUBLE: {
        double x;
        *out = to_number(a0, &x) ? finite_num(x) : val_null();
        break;
    }
    case FN_TOINT: *out = to_integer(a0, -2147483648.0, 2147483647.0); break;
    case FN_TOLONG:
        *out = to_integer(a0, -9223372036854775808.0, 9223372036854775807.0);
        break;
    case FN_ISNUMERIC: *out = val_bool(is_numeric(a0)); break;
    case FN_ISPRESENT: *out = val_bool(!val_is_null(a0)); break;
    case FN_COALESCE: *out = coalesce(a); break;
    case FN_IF: *out = val_truthy(a0) ? *a1 : *arg(a, 2); break;
    case FN_CASE: *out = case_of(a); break;
    case FN_UNMASK: *out = *a0; break;  /* no masking here: identity */
    case FN_ISEMPTY: *out = val_bool(fn_str_isempty(a0)); break;
    case FN_ISBLANK: *out = val_bool(fn_str_isblank(a0)); break;
    case FN_BIN:
        *out = time_round(NULL, ctx->timestamp_ms, period(a, 0), false);
        break;
    case FN_DATEFLOOR: *out = time_round(a0, 0, period(a, 1), false); break;
    case FN_DATECEIL: *out = time_round(a0, 0, period(a, 1), true); break;
    case FN_FROMMILLIS: *out = from_millis(a0); break;
    case FN_TOMILLIS: *out = to_millis(a0); break;
    case FN_NOW:  /* epoch seconds of the query's start (reference 4.5) */
        *out = val_num((double)fn_floor_div(ctx->now_ms, 1000));
        break;
    case FN_QUERYSTARTTIME: *out = val_time(ctx->query_start_ms); break;
    case FN_QUERYENDTIME: *out = val_time(ctx->query_end_ms); break;
    case FN_QUERYTIMERANGE:
        *out = val_num((double)(ctx->query_end_ms - ctx->query_start_ms));
        break;
    case FN_ISVALIDIP: *out = val_bool(fn_ip_valid(a0, FN_IP_ANY)); break;
    case FN_ISVALIDIPV4: *out = val_bool(fn_ip_valid(a0, FN_IP_V4)); break;
    case FN_ISVALIDIPV6: *out = val_bool(fn_ip_valid(a0, FN_IP_V6)); break;
    case FN_ISIPINSUBNET:
        *out = val_bool(fn_ip_in_subnet(a0, a1, FN_IP_ANY));
        break;
    case FN_ISIPV4INSUBNET:
        *out = val_bool(fn_ip_in_subnet(a0, a1, FN_IP_V4));
        break;
    case FN_ISIPV6INSUBNET:
        *out = val_bool(fn_ip_in_subnet(a0, a1, FN_IP_V6));
        break;
    case FN_IPV4TONUMBER: *out = fn_ip_v4_to_number(a0); break;
    case FN_ISPRIVATEIP: *out = val_bool(fn_ip_is(a0, FN_IP_PRIVATE)); break;
    case FN_ISPUBLICIP: *out = val_bool(fn_ip_is(a0, FN_IP_PUBLIC)); break;
    case FN_ISRESERVEDIP: *out = val_bool(fn_ip_is(a0, FN_IP_RESERVED)); break;
    case FN_JSONPARSE: *out = fn_json_parse(a0); break;
    case FN_JSONARRAYSIZE: *out = fn_json_array_size(a0); break;
    default:
        return false;
    }
    return true;
}

/* Functions that build strings in scratch (and so may run out of it). */
static enum sl_status call_alloc(const struct fn_def *f, const struct fn_args *a,
                                 struct fn_ctx *ctx, struct val *out)
{
    const struct val *a0 = arg(a, 0), *a1 = arg(a, 1), *a2 = arg(a, 2);

    switch (f->id) {
    case FN_CONCAT: return fn_str_concat(ctx, a, out);
    case FN_LTRIM: return fn_str_trim(ctx, a0, opt_arg(a, 1), FN_TRIM_LEFT, out);
    case FN_RTRIM: return fn_str_trim(ctx, a0, opt_arg(a, 1), FN_TRIM_RIGHT, out);
    case FN_TRIM: return fn_str_trim(ctx, a0, opt_arg(a, 1), FN_TRIM_BOTH, out);
    case FN_STRLEN: return fn_str_strlen(ctx, a0, out);
    case FN_TOUPPER: return fn_str_case(ctx, a0, FN_CASE_UPPER, out);
    case FN_TOLOWER: return fn_str_case(ctx, a0, FN_CASE_LOWER, out);
    case FN_SUBSTR: return fn_str_substr(ctx, a0, a1, opt_arg(a, 2), out);
    case FN_REPLACE: return fn_str_replace(ctx, a0, a1, a2, out);
    case FN_STRCONTAINS: return fn_str_find(ctx, a0, a1, FN_FIND_ANYWHERE, out);
    case FN_STARTSWITH: return fn_str_find(ctx, a0, a1, FN_FIND_PREFIX, out);
    case FN_ENDSWITH: return fn_str_find(ctx, a0, a1, FN_FIND_SUFFIX, out);
    case FN_SPLIT: return fn_str_split(ctx, a0, a1, out);
    case FN_URLENCODE: return fn_str_urlencode(ctx, a0, out);
    case FN_URLDECODE: return fn_str_urldecode(ctx, a0, out);
    case FN_BASE64ENCODE: return fn_str_b64encode(ctx, a0, out);
    case FN_BASE64DECODE: return fn_str_b64decode(ctx, a0, out);
    case FN_HEXTOASCII: return fn_str_hex_to_ascii(ctx, a0, out);
    case FN_HEXTODEC: return fn_str_hex_to_dec(ctx, a0, out);
    case FN_DECTOHEX: return fn_str_dec_to_hex(ctx, a0, out);
    case FN_MESSAGESIZE: return fn_str_message_size(ctx, a0, out);
    case FN_REGEXREPLACE:
    case FN_REGEX_REPLACE:
        return fn_str_regex_replace(ctx, a0,
                                    (a->regexes != NULL && a->n > 1) ? a->regexes[1] : NULL,
                                    a1, a2, out);
    case FN_PARSEDATE: return fn_time_parse(ctx, a0, a1, opt_arg(a, 2), out);
    case FN_FORMATDATE:
        return fn_time_format(ctx, a0, a1, opt_arg(a, 2), false, out);
    case FN_STRFTIME:
        return fn_time_format(ctx, a0, a1, opt_arg(a, 2), true, out);
    case FN_JSONSTRINGIFY: return fn_json_stringify(ctx, a0, out);
    case FN_JSONARRAYCONTAINS: return fn_json_array_contains(ctx, a0, a1, out);
    default:
        return SL_INTERNAL;  /* an aggregation: the executor's, not ours */
    }
}

enum sl_status fn_call(const struct fn_def *f, const struct fn_args *a,
                       struct fn_ctx *ctx, struct val *out)
{
    enum sl_status st;

    *out = val_null();
    if (fn_is_agg(f))
        return SL_INTERNAL;
    if (call_simple(f, a, ctx, out))
        return SL_OK;
    st = call_alloc(f, a, ctx, out);
    if (st != SL_OK)
        *out = val_null();
    return st;
}
