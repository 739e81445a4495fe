/* query/json_scan.c: the out-of-line half of query/json_scan.h: string
 * checks, unescaping, and skipping or checking one whole value with a bit
 * stack instead of recursion. See the header for the contracts. */
#include "query/json_scan.h"

#include "common/hex.h"

#include <string.h>

const unsigned char jscan_class[256] = {
    [' '] = JSCAN_BLANK | JSCAN_DELIM, ['\t'] = JSCAN_BLANK | JSCAN_DELIM,
    ['\n'] = JSCAN_BLANK | JSCAN_DELIM, ['\r'] = JSCAN_BLANK | JSCAN_DELIM,
    [','] = JSCAN_DELIM, [':'] = JSCAN_DELIM, ['{'] = JSCAN_DELIM,
    ['}'] = JSCAN_DELIM, ['['] = JSCAN_DELIM, [']'] = JSCAN_DELIM,
    ['"'] = JSCAN_DELIM,
};

/* The byte each short escape letter stands for; 0: not a short escape. */
static const char short_escape[128] = {
    ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
    ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
};

static bool is_short_escape(char c)
{
    return (unsigned char)c < 128 && short_escape[(unsigned char)c] != 0;
}

const char *jscan_string_end_escaped(const char *p, const char *end)
{
    for (; p < end; p++) {
        if (*p == '\\') {
            if (++p == end)
                return NULL;
        } else if (*p == '"') {
            return p;
        }
    }
    return NULL;
}

/* The code unit of "\uXXXX" at s (n bytes readable), or -1. */
static long json_u4(const char *s, size_t n)
{
    if (n < 6 || s[0] != '\\' || s[1] != 'u')
        return -1;
    return sl_hex4(s + 2);
}

const char *jscan_string_check(const char *p, const char *end)
{
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p;
        if (c < 0x20)
            return NULL;
        if (c != '\\') {
            p++;
        } else if (end - p >= 2 && p[1] == 'u') {
            if (json_u4(p, (size_t)(end - p)) < 0)
                return NULL;
            p += 6;
        } else if (end - p >= 2 && is_short_escape(p[1])) {
            p += 2;
        } else {
            return NULL;
        }
    }
    return NULL;
}

static size_t utf8_put(char *d, unsigned long cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xe0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

size_t jscan_escape(const char *s, size_t n, char *d, size_t *dlen)
{
    long hi, lo;

    if (n < 2)
        return 0;
    if (s[1] != 'u') {
        if (!is_short_escape(s[1]))
            return 0;
        d[0] = short_escape[(unsigned char)s[1]];
        *dlen = 1;
        return 2;
    }
    if ((hi = json_u4(s, n)) < 0)
        return 0;
    if (hi >= 0xd800 && hi <= 0xdbff && (lo = json_u4(s + 6, n - 6)) >= 0xdc00 &&
        lo <= 0xdfff) {
        *dlen = utf8_put(d, 0x10000 + (((unsigned long)hi - 0xd800) << 10) +
                                ((unsigned long)lo - 0xdc00));
        return 12;
    }
    if (hi >= 0xd800 && hi <= 0xdfff)
        hi = 0xfffd;
    *dlen = utf8_put(d, (unsigned long)hi);
    return 6;
}

long jscan_unescape(const char *s, size_t n, char *d)
{
    size_t i = 0, o = 0;

    while (i < n) {
        const char *bs = memchr(s + i, '\\', n - i);
        size_t run = bs == NULL ? n - i : (size_t)(bs - (s + i));
        size_t used, w;
        memcpy(d + o, s + i, run);
        i += run;
        o += run;
        if (i == n)
            break;
        used = jscan_escape(s + i, n - i, d + o, &w);
        if (used == 0)
            return -1;
        i += used;
        o += w;
    }
    return (long)o;
}

/* A literal or number at p, by the grammar (strict); its end or NULL. */
static const char *scalar_end(const char *p, const char *end)
{
    const char *w;
    size_t n;

    switch (*p) {
    case 't': w = "true"; break;
    case 'f': w = "false"; break;
    case 'n': w = "null"; break;
    default: return jscan_number(p, end, NULL);
    }
    n = strlen(w);
    return (size_t)(end - p) >= n && memcmp(p, w, n) == 0 ? p + n : NULL;
}

/*
 * One walk serves jscan_skip and jscan_check: a loop over tokens that
 * knows what is due next, with a bit a level telling objects from arrays
 * (so a ',' knows whether a key follows, and a close bracket must match):
 *
 *   {"a": [1, {"b": 2}], "c": {}}
 *    due: KEY VALUE AFTER ...       in_obj bits, depth 2:  [0]=1 [1]=0
 *
 * strict only changes how a string or bare token is read, and makes an
 * empty container count against the depth as a full one does. Each
 * exported function calls it with a constant, so the compiler builds two
 * specialised copies and neither pays for the other's test.
 */
static inline const char *walk(const char *p, const char *end,
                               unsigned max_depth, unsigned *values,
                               bool strict)
{
    uint64_t in_obj[JSCAN_MAX_DEPTH / 64];  /* bit d: level d is an object */
    enum { VALUE, KEY, AFTER } due = VALUE;
    size_t depth = 0;
    unsigned n = 0;
    bool esc;

    if (max_depth > JSCAN_MAX_DEPTH)
        max_depth = JSCAN_MAX_DEPTH;
    for (;;) {
        p = jscan_ws(p, end);
        if (p == end)
            return NULL;
        if (due == KEY) {
            if (*p != '"')
                return NULL;
            p = strict ? jscan_string_check(p + 1, end)
                       : jscan_string_end(p + 1, end, &esc);
            if (p == NULL)
                return NULL;
            p = jscan_ws(p + 1, end);
            if (p == end || *p != ':')
                return NULL;
            p++;
            due = VALUE;
        } else if (due == VALUE) {
            if (*p == '{' || *p == '[') {
                bool obj = *p == '{';
                const char *q = jscan_ws(p + 1, end);
                if (q == end || (strict && depth == max_depth))
                    return NULL;
                if (*q == (obj ? '}' : ']')) {
                    p = q + 1;
                    n++;
                    due = AFTER;
                } else if (depth == max_depth) {
                    return NULL;
                } else {
                    if (obj)
                        in_obj[depth / 64] |= UINT64_C(1) << (depth % 64);
                    else
                        in_obj[depth / 64] &= ~(UINT64_C(1) << (depth % 64));
                    depth++;
                    p = q;
                    due = obj ? KEY : VALUE;
                }
            } else {
                const char *q;
                if (*p == '"') {
                    q = strict ? jscan_string_check(p + 1, end)
                               : jscan_string_end(p + 1, end, &esc);
                    q = q == NULL ? NULL : q + 1;
                } else if (strict) {
                    q = scalar_end(p, end);
                } else {
                    q = jscan_token_end(p, end);
                    q = q == p ? NULL : q;
                }
                if (q == NULL)
                    return NULL;
                p = q;
                n++;
                due = AFTER;
            }
        } else {
            bool obj = (in_obj[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1;
            if (*p == ',') {
                p++;
                due = obj ? KEY : VALUE;
            } else if (*p == (obj ? '}' : ']')) {
                p++;
                depth--;
            } else {
                return NULL;
            }
        }
        if (due == AFTER && depth == 0)
            break;
    }
    if (values != NULL)
        *values += n;
    return p;
}

const char *jscan_skip(const char *p, const char *end, unsigned max_depth,
                       unsigned *values)
{
    return walk(p, end, max_depth, values, false);
}

const char *jscan_check(const char *p, const char *end, unsigned max_depth)
{
    return walk(p, end, max_depth, NULL, true);
}
