/* query/funcs_str.c: the string functions of Insights (trim, substr,
 * replace, split, URL/base64/hex codings, regexReplace, ...); see
 * funcs_int.h for the contracts and funcs.c for the null rules. Strings
 * are UTF-8 bytes: lengths and offsets count code points, and a byte that
 * is not valid UTF-8 counts as one. Results point into an argument when
 * they are a slice of it, else live in ctx->scratch. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "query/funcs_int.h"

#include "common/hex.h"
#include "query/check.h"

#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

/* Space, tab, newline, vertical tab, form feed, carriage return: the
 * default set of trim and of isblank (ASCII only, like C's isspace). */
static bool is_ascii_space(int32_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static enum sl_status out_copy(struct fn_ctx *ctx, const char *s, size_t len,
                               struct val *out)
{
    char *p = fn_alloc(ctx, len);

    if (p == NULL)
        return SL_NOMEM;
    if (len > 0)
        memcpy(p, s, len);
    return fn_out_str(out, p, len);
}

/* ------------------------------------------------------------------ */
/* Emptiness, concat, trim, length, case                                */

bool fn_str_isempty(const struct val *v)
{
    if (v->kind == VAL_NULL)
        return true;
    return (v->kind == VAL_STR || v->kind == VAL_JSON) && v->len == 0;
}

bool fn_str_isblank(const struct val *v)
{
    if (v->kind == VAL_NULL)
        return true;
    if (v->kind != VAL_STR)
        return false;
    for (size_t i = 0; i < v->len; i++)
        if (!is_ascii_space((unsigned char)v->u.s[i]))
            return false;
    return true;
}

/* concat: the texts of the non-null arguments, in order; null when every
 * argument is null (so concat of missing fields stays missing). */
enum sl_status fn_str_concat(struct fn_ctx *ctx, const struct fn_args *a,
                             struct val *out)
{
    struct fn_text *parts;
    size_t total = 0, present = 0, last = 0;
    char *p;

    parts = arena_alloc(ctx->scratch, (a->n ? a->n : 1) * sizeof(*parts));
    if (parts == NULL)
        return SL_NOMEM;
    for (size_t i = 0; i < a->n; i++) {
        enum sl_status st = fn_text_of(ctx, &a->args[i], &parts[i]);
        if (st != SL_OK)
            return st;
        if (parts[i].s != NULL) {
            total += parts[i].len;
            present++;
            last = i;
        }
    }
    if (present == 0)
        return SL_OK;
    if (present == 1)
        return fn_out_str(out, parts[last].s, parts[last].len);
    p = fn_alloc(ctx, total);
    if (p == NULL)
        return SL_NOMEM;
    total = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (parts[i].s != NULL && parts[i].len > 0) {
            memcpy(p + total, parts[i].s, parts[i].len);
            total += parts[i].len;
        }
    }
    return fn_out_str(out, p, total);
}

/* Whether code point c is in set (a UTF-8 string of characters), or is
 * ASCII whitespace when there is no set. */
static bool in_set(int32_t c, const struct fn_text *set)
{
    size_t i = 0;

    if (set == NULL)
        return is_ascii_space(c);
    while (i < set->len) {
        int32_t m;
        i += fn_utf8_next(set->s, set->len, i, &m);
        if (m == c)
            return true;
    }
    return false;
}

/* trim/ltrim/rtrim(s[, chars]): strips, from the chosen ends, every
 * character of chars (any order, any count), else ASCII whitespace. The
 * reference's trim("xyZxyfooxyxyZ", "xyZ") = "foo". */
enum sl_status fn_str_trim(struct fn_ctx *ctx, const struct val *s,
                           const struct val *chars, enum fn_trim_side side,
                           struct val *out)
{
    struct fn_text t, set;
    size_t start = 0, end, i;
    int32_t c;
    enum sl_status st;

    st = fn_text_of(ctx, s, &t);
    if (st == SL_OK && chars != NULL)
        st = fn_text_of(ctx, chars, &set);
    if (st != SL_OK || t.s == NULL || (chars != NULL && set.s == NULL))
        return st;
    end = t.len;
    if (side & FN_TRIM_LEFT) {
        while (start < t.len) {
            size_t n = fn_utf8_next(t.s, t.len, start, &c);
            if (!in_set(c, chars != NULL ? &set : NULL))
                break;
            start += n;
        }
    }
    if (side & FN_TRIM_RIGHT) {
        /* Forward scan: the end of the last character to keep. */
        end = start;
        for (i = start; i < t.len;) {
            i += fn_utf8_next(t.s, t.len, i, &c);
            if (!in_set(c, chars != NULL ? &set : NULL))
                end = i;
        }
    }
    return fn_out_str(out, t.s + start, end - start);
}

static size_t count_code_points(const char *s, size_t len)
{
    size_t n = 0;
    int32_t c;

    for (size_t i = 0; i < len; n++)
        i += fn_utf8_next(s, len, i, &c);
    return n;
}

enum sl_status fn_str_strlen(struct fn_ctx *ctx, const struct val *s,
                             struct val *out)
{
    struct fn_text t;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st == SL_OK && t.s != NULL)
        *out = val_num((double)count_code_points(t.s, t.len));
    return st;
}

/* toupper/tolower change ASCII letters only; every other byte (UTF-8
 * sequences included) is copied as it is. */
enum sl_status fn_str_case(struct fn_ctx *ctx, const struct val *s,
                           enum fn_case c, struct val *out)
{
    struct fn_text t;
    enum sl_status st = fn_text_of(ctx, s, &t);
    char *p;

    if (st != SL_OK || t.s == NULL)
        return st;
    p = fn_alloc(ctx, t.len);
    if (p == NULL)
        return SL_NOMEM;
    for (size_t i = 0; i < t.len; i++) {
        char ch = t.s[i];
        if (c == FN_CASE_UPPER && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        else if (c == FN_CASE_LOWER && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        p[i] = ch;
    }
    return fn_out_str(out, p, t.len);
}

/* ------------------------------------------------------------------ */
/* substr, replace, find, split                                         */

/* A count argument as a non-negative code point count: truncated toward
 * zero, negative as 0, huge as cap. False when v is not a number. */
static bool count_arg(const struct val *v, size_t cap, size_t *out)
{
    double d;

    if (!val_to_num(v, &d) || isnan(d))
        return false;
    d = trunc(d);
    *out = d <= 0 ? 0 : d >= (double)cap ? cap : (size_t)d;
    return true;
}

/* Byte offset after skipping n code points from byte i. */
static size_t skip_code_points(const char *s, size_t len, size_t i, size_t n)
{
    int32_t c;

    while (n > 0 && i < len) {
        i += fn_utf8_next(s, len, i, &c);
        n--;
    }
    return i;
}

/* substr(s, start[, len]): 0-based, in code points. A negative start
 * counts as 0, a start past the end gives "", a negative len gives "";
 * without len the rest of the string. Non-numeric start/len: null. */
enum sl_status fn_str_substr(struct fn_ctx *ctx, const struct val *s,
                             const struct val *start, const struct val *len,
                             struct val *out)
{
    struct fn_text t;
    size_t from, n = 0, b, e;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st != SL_OK || t.s == NULL)
        return st;
    if (!count_arg(start, t.len, &from) ||
        (len != NULL && !count_arg(len, t.len, &n)))
        return SL_OK;
    b = skip_code_points(t.s, t.len, 0, from);
    e = len != NULL ? skip_code_points(t.s, t.len, b, n) : t.len;
    return fn_out_str(out, t.s + b, e - b);
}

/* replace(s, find, repl): every non-overlapping occurrence of find, left
 * to right, literally. An empty find changes nothing. */
enum sl_status fn_str_replace(struct fn_ctx *ctx, const struct val *s,
                              const struct val *find, const struct val *repl,
                              struct val *out)
{
    struct fn_text t, f, r;
    size_t hits = 0, i = 0, o = 0, total;
    const char *h;
    char *p;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st == SL_OK)
        st = fn_text_of(ctx, find, &f);
    if (st == SL_OK)
        st = fn_text_of(ctx, repl, &r);
    if (st != SL_OK || t.s == NULL || f.s == NULL || r.s == NULL)
        return st;
    if (f.len == 0)
        return fn_out_str(out, t.s, t.len);
    while ((h = memmem(t.s + i, t.len - i, f.s, f.len)) != NULL) {
        hits++;
        i = (size_t)(h - t.s) + f.len;
    }
    if (hits == 0)
        return fn_out_str(out, t.s, t.len);
    total = t.len - hits * f.len + hits * r.len;
    p = fn_alloc(ctx, total);
    if (p == NULL)
        return SL_NOMEM;
    i = 0;
    while ((h = memmem(t.s + i, t.len - i, f.s, f.len)) != NULL) {
        size_t k = (size_t)(h - t.s);
        memcpy(p + o, t.s + i, k - i);
        o += k - i;
        if (r.len > 0)
            memcpy(p + o, r.s, r.len);
        o += r.len;
        i = k + f.len;
    }
    if (t.len > i)
        memcpy(p + o, t.s + i, t.len - i);
    return fn_out_str(out, p, total);
}

/* strcontains / startsWith / endsWith: 1/0; false when either side is
 * missing; an empty needle is found everywhere. Case-sensitive. */
enum sl_status fn_str_find(struct fn_ctx *ctx, const struct val *s,
                           const struct val *needle, enum fn_find where,
                           struct val *out)
{
    struct fn_text t, n;
    bool found = false;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st == SL_OK)
        st = fn_text_of(ctx, needle, &n);
    if (st != SL_OK)
        return st;
    if (t.s != NULL && n.s != NULL && n.len <= t.len) {
        if (n.len == 0)
            found = true;
        else if (where == FN_FIND_PREFIX)
            found = memcmp(t.s, n.s, n.len) == 0;
        else if (where == FN_FIND_SUFFIX)
            found = memcmp(t.s + t.len - n.len, n.s, n.len) == 0;
        else
            found = memmem(t.s, t.len, n.s, n.len) != NULL;
    }
    *out = val_bool(found);
    return SL_OK;
}

/* Walks the pieces of s between occurrences of delim; an empty delim
 * splits into single characters. */
struct splitter {
    struct fn_text s;
    struct fn_text d;
    size_t pos;       /* next byte to look at */
    bool done;        /* the last piece was returned */
};

static bool split_next(struct splitter *sp, struct fn_text *piece)
{
    const char *hit;
    int32_t c;

    if (sp->done)
        return false;
    piece->s = sp->s.s + sp->pos;
    if (sp->d.len == 0) {
        piece->len = sp->pos < sp->s.len
                         ? fn_utf8_next(sp->s.s, sp->s.len, sp->pos, &c)
                         : 0;
        sp->pos += piece->len;
        sp->done = sp->pos >= sp->s.len;
        return true;
    }
    hit = memmem(sp->s.s + sp->pos, sp->s.len - sp->pos, sp->d.s, sp->d.len);
    if (hit == NULL) {
        piece->len = sp->s.len - sp->pos;
        sp->done = true;
        return true;
    }
    piece->len = (size_t)(hit - piece->s);
    sp->pos += piece->len + sp->d.len;
    return true;
}

/* Writes the JSON array of the pieces of s to dst (NULL: measure only)
 * and returns its length. */
static size_t split_write(const struct fn_text *s, const struct fn_text *d,
                          char *dst)
{
    struct splitter sp = {*s, *d, 0, false};
    struct fn_text piece;
    size_t n = 0;
    bool first = true;

    if (dst != NULL)
        dst[n] = '[';
    n++;
    while (split_next(&sp, &piece)) {
        if (!first) {
            if (dst != NULL)
                dst[n] = ',';
            n++;
        }
        first = false;
        n += fn_json_put_str(dst != NULL ? dst + n : NULL, piece.s, piece.len);
    }
    if (dst != NULL)
        dst[n] = ']';
    return n + 1;
}

/* split(s, delim): a JSON array (VAL_JSON) of the pieces, empty ones kept
 * ("a,,b" -> ["a","","b"], as JavaScript and Go split; Java would drop
 * trailing empties). An empty delim splits into characters; "" gives
 * [""]. */
enum sl_status fn_str_split(struct fn_ctx *ctx, const struct val *s,
                            const struct val *delim, struct val *out)
{
    struct fn_text t, d;
    size_t n;
    char *p;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st == SL_OK)
        st = fn_text_of(ctx, delim, &d);
    if (st != SL_OK || t.s == NULL || d.s == NULL)
        return st;
    n = split_write(&t, &d, NULL);
    p = fn_alloc(ctx, n);
    if (p == NULL)
        return SL_NOMEM;
    split_write(&t, &d, p);
    st = fn_out_str(out, p, n);
    out->kind = VAL_JSON;
    return st;
}

/* ------------------------------------------------------------------ */
/* URL, base64 and hex codings                                          */

static const char hex_upper[] = "0123456789ABCDEF";

static bool url_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == '~';
}

/* urlencode: RFC 3986 percent-encoding of every byte but the unreserved
 * A-Z a-z 0-9 - _ . ~ (a space is %20, safe in a path and a query alike;
 * uppercase hex). */
enum sl_status fn_str_urlencode(struct fn_ctx *ctx, const struct val *s,
                                struct val *out)
{
    struct fn_text t;
    size_t n = 0, o = 0;
    char *p;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st != SL_OK || t.s == NULL)
        return st;
    for (size_t i = 0; i < t.len; i++)
        n += url_unreserved((unsigned char)t.s[i]) ? 1 : 3;
    p = fn_alloc(ctx, n);
    if (p == NULL)
        return SL_NOMEM;
    for (size_t i = 0; i < t.len; i++) {
        unsigned char c = (unsigned char)t.s[i];
        if (url_unreserved(c)) {
            p[o++] = (char)c;
        } else {
            p[o++] = '%';
            p[o++] = hex_upper[c >> 4];
            p[o++] = hex_upper[c & 15];
        }
    }
    return fn_out_str(out, p, n);
}

/* urldecode: %XX becomes the byte, '+' a space (form encoding, which is
 * what query strings in logs hold); a '%' not followed by two hex digits
 * stays as it is. */
enum sl_status fn_str_urldecode(struct fn_ctx *ctx, const struct val *s,
                                struct val *out)
{
    struct fn_text t;
    size_t o = 0;
    char *p;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st != SL_OK || t.s == NULL)
        return st;
    p = fn_alloc(ctx, t.len);
    if (p == NULL)
        return SL_NOMEM;
    for (size_t i = 0; i < t.len; i++) {
        int hi, lo;
        if (t.s[i] == '+') {
            p[o++] = ' ';
        } else if (t.s[i] == '%' && i + 2 < t.len &&
                   (hi = sl_hex_digit(t.s[i + 1])) >= 0 &&
                   (lo = sl_hex_digit(t.s[i + 2])) >= 0) {
            p[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            p[o++] = t.s[i];
        }
    }
    return fn_out_str(out, p, o);
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64encode: RFC 4648 standard alphabet with '=' padding. */
enum sl_status fn_str_b64encode(struct fn_ctx *ctx, const struct val *s,
                                struct val *out)
{
    struct fn_text t;
    size_t n, o = 0, i;
    const unsigned char *u;
    char *p;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st != SL_OK || t.s == NULL)
        return st;
    n = (t.len + 2) / 3 * 4;
    p = fn_alloc(ctx, n);
    if (p == NULL)
        return SL_NOMEM;
    u = (const unsigned char *)t.s;
    for (i = 0; i + 3 <= t.len; i += 3) {
        uint32_t w = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];
        p[o++] = b64_alphabet[w >> 18];
        p[o++] = b64_alphabet[(w >> 12) & 63];
        p[o++] = b64_alphabet[(w >> 6) & 63];
        p[o++] = b64_alphabet[w & 63];
    }
    if (i < t.len) {
        uint32_t w = (uint32_t)u[i] << 16;
        if (i + 1 < t.len)
            w |= (uint32_t)u[i + 1] << 8;
        p[o++] = b64_alphabet[w >> 18];
        p[o++] = b64_alphabet[(w >> 12) & 63];
        p[o++] = i + 1 < t.len ? b64_alphabet[(w >> 6) & 63] : '=';
        p[o++] = '=';
    }
    return fn_out_str(out, p, n);
}

/* Value of a base64 character, standard or URL-safe alphabet; -1 else. */
static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* base64decode: standard or URL-safe alphabet, padding optional but
 * exact when present; anything else (whitespace included) is not base64
 * and gives null. The result is the raw bytes. */
enum sl_status fn_str_b64decode(struct fn_ctx *ctx, const struct val *s,
                                struct val *out)
{
    struct fn_text t;
    size_t n, pad = 0, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    char *p;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st != SL_OK || t.s == NULL)
        return st;
    n = t.len;
    while (n > 0 && pad < 2 && t.s[n - 1] == '=') {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (pad > 0 && t.len % 4 != 0))
        return SL_OK;
    p = fn_alloc(ctx, n / 4 * 3 + 2);
    if (p == NULL)
        return SL_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(t.s[i]);
        if (v < 0)
            return SL_OK;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            p[o++] = (char)((acc >> bits) & 0xFF);
        }
    }
    return fn_out_str(out, p, o);
}

/* The hex digits of t after an optional 0x/0X prefix. */
static struct fn_text hex_body(struct fn_text t)
{
    if (t.len >= 2 && t.s[0] == '0' && (t.s[1] == 'x' || t.s[1] == 'X')) {
        t.s += 2;
        t.len -= 2;
    }
    return t;
}

/* hexToAscii("48656c6c6f") = "Hello": pairs of hex digits (optional 0x)
 * to bytes; an odd count or a non-hex digit gives null. */
enum sl_status fn_str_hex_to_ascii(struct fn_ctx *ctx, const struct val *s,
                                   struct val *out)
{
    struct fn_text t, h;
    char *p;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st != SL_OK || t.s == NULL)
        return st;
    h = hex_body(t);
    if (h.len % 2 != 0)
        return SL_OK;
    p = fn_alloc(ctx, h.len / 2);
    if (p == NULL)
        return SL_NOMEM;
    for (size_t i = 0; i < h.len; i += 2) {
        int hi = sl_hex_digit(h.s[i]), lo = sl_hex_digit(h.s[i + 1]);
        if (hi < 0 || lo < 0)
            return SL_OK;
        p[i / 2] = (char)(hi * 16 + lo);
    }
    return fn_out_str(out, p, h.len / 2);
}

/* hexToDec("ff") = 255: 1 to 16 hex digits (optional 0x), unsigned;
 * above 2^53 the double is the nearest one. Anything else: null. */
enum sl_status fn_str_hex_to_dec(struct fn_ctx *ctx, const struct val *s,
                                 struct val *out)
{
    struct fn_text t, h;
    uint64_t v = 0;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st != SL_OK || t.s == NULL)
        return st;
    h = hex_body(t);
    if (h.len == 0 || h.len > 16)
        return SL_OK;
    for (size_t i = 0; i < h.len; i++) {
        int d = sl_hex_digit(h.s[i]);
        if (d < 0)
            return SL_OK;
        v = v << 4 | (uint64_t)d;
    }
    *out = val_num((double)v);
    return SL_OK;
}

/* decToHex(255) = "ff": lowercase, no prefix; truncated toward zero;
 * negatives as 64-bit two's complement (decToHex(-1) =
 * "ffffffffffffffff", as Java's Long.toHexString). Null outside the
 * int64 range. */
enum sl_status fn_str_dec_to_hex(struct fn_ctx *ctx, const struct val *n,
                                 struct val *out)
{
    double d;
    char tmp[24];
    int len;

    if (!val_to_num(n, &d) || !(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return SL_OK;
    len = snprintf(tmp, sizeof(tmp), "%llx",
                   (unsigned long long)(int64_t)trunc(d));
    return out_copy(ctx, tmp, (size_t)len, out);
}

/* messageSize(f): the size in bytes of f's text (UTF-8). */
enum sl_status fn_str_message_size(struct fn_ctx *ctx, const struct val *s,
                                   struct val *out)
{
    struct fn_text t;
    enum sl_status st = fn_text_of(ctx, s, &t);

    if (st == SL_OK && t.s != NULL)
        *out = val_num((double)t.len);
    return st;
}

/* ------------------------------------------------------------------ */
/* regexReplace                                                         */

/*
 * regexReplace(s, /re/, repl) runs pcre2_substitute with
 * PCRE2_SUBSTITUTE_GLOBAL: every match is replaced, and repl may name
 * groups as $1, ${1} or ${name} ($$ is a dollar), the syntax of Java's and
 * RE2's replaceAll. A group that did not take part inserts nothing.
 *
 * All PCRE2 memory comes from the row's scratch arena through a general
 * context whose free does nothing, so nothing can leak and no free runs
 * per row:
 *
 *   scratch arena --> general context --> match data (+ heap frames)
 *                                      --> compiled code, when the
 *                                          pattern is a field's value
 *
 * The output buffer is sized from the subject first; on
 * PCRE2_ERROR_NOMEMORY PCRE2_SUBSTITUTE_OVERFLOW_LENGTH tells the size
 * needed and the call runs once more. A bad replacement ($7 of a one-group
 * pattern), a subject that is not UTF-8 or an uncompilable field pattern
 * gives null.
 */

static void *rx_alloc(size_t n, void *arena)
{
    return arena_alloc(arena, n);
}

static void rx_free(void *p, void *arena)
{
    (void)p;
    (void)arena;
}

/* Compiles a pattern that arrived as a value (not a literal the executor
 * compiled). NULL when it is missing or is not a valid regex; *st is
 * SL_NOMEM when scratch ran out. */
static pcre2_code *compile_value(struct fn_ctx *ctx, pcre2_general_context *gc,
                                 const struct val *pattern, enum sl_status *st)
{
    struct fn_text t;
    pcre2_compile_context *cc;
    pcre2_code *code;
    PCRE2_SIZE eoff;
    int ec;

    *st = fn_text_of(ctx, pattern, &t);
    if (*st != SL_OK || t.s == NULL)
        return NULL;
    cc = pcre2_compile_context_create(gc);
    if (cc == NULL) {
        *st = SL_NOMEM;
        return NULL;
    }
    code = pcre2_compile((PCRE2_SPTR)t.s, t.len, check_pcre2_options(0), &ec,
                         &eoff, cc);
    if (code == NULL && (ec == PCRE2_ERROR_NOMEMORY || ec == PCRE2_ERROR_HEAP_FAILED))
        *st = SL_NOMEM;
    return code;
}

/* One pcre2_substitute into scratch; returns the PCRE2 code and sets *res
 * and *res_len on success. */
static int substitute(struct fn_ctx *ctx, const pcre2_code *code,
                      pcre2_match_data *md, pcre2_match_context *mc,
                      const struct fn_text *subj, const struct fn_text *repl,
                      char **res, size_t *res_len)
{
    const uint32_t opts = PCRE2_SUBSTITUTE_GLOBAL |
                          PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
                          PCRE2_SUBSTITUTE_UNSET_EMPTY;
    PCRE2_SIZE cap = subj->len + subj->len / 2 + repl->len + 64;
    int rc;

    for (int attempt = 0; attempt < 2; attempt++) {
        PCRE2_SIZE n = cap;
        char *p = fn_alloc(ctx, cap);
        if (p == NULL)
            return PCRE2_ERROR_NOMEMORY;
        rc = pcre2_substitute(code, (PCRE2_SPTR)subj->s, subj->len, 0, opts,
                              md, mc, (PCRE2_SPTR)repl->s, repl->len,
                              (PCRE2_UCHAR *)p, &n);
        if (rc >= 0) {
            *res = p;
            *res_len = n;
            return rc;
        }
        if (rc != PCRE2_ERROR_NOMEMORY)
            return rc;
        cap = n;  /* the length needed, its terminating zero included */
    }
    return rc;
}

enum sl_status fn_str_regex_replace(struct fn_ctx *ctx, const struct val *s,
                                    void *code, const struct val *pattern,
                                    const struct val *repl, struct val *out)
{
    struct fn_text subj, r;
    pcre2_general_context *gc;
    pcre2_match_context *mc;
    pcre2_match_data *md;
    pcre2_code *re = code;
    char *res = NULL;
    size_t res_len = 0;
    int rc;
    enum sl_status st = fn_text_of(ctx, s, &subj);

    if (st == SL_OK)
        st = fn_text_of(ctx, repl, &r);
    if (st != SL_OK || subj.s == NULL || r.s == NULL)
        return st;
    gc = pcre2_general_context_create(rx_alloc, rx_free, ctx->scratch);
    if (gc == NULL)
        return SL_NOMEM;
    if (re == NULL) {
        re = compile_value(ctx, gc, pattern, &st);
        if (re == NULL)
            return st;
    }
    mc = pcre2_match_context_create(gc);
    md = pcre2_match_data_create_from_pattern(re, gc);
    if (mc == NULL || md == NULL)
        return SL_NOMEM;
    rc = substitute(ctx, re, md, mc, &subj, &r, &res, &res_len);
    if (rc == PCRE2_ERROR_NOMEMORY || rc == PCRE2_ERROR_HEAP_FAILED)
        return SL_NOMEM;
    if (rc < 0)
        return SL_OK;
    return fn_out_str(out, res, res_len);
}
