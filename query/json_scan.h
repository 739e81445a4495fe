/* query/json_scan.h: the JSON scanning primitives query/ shares, for
 * reading JSON text in place without building a tree: blanks, the end of a
 * string, unescaping, number tokens, and skipping or checking one whole
 * value. Field discovery (discover.c, a hot path), JSON filter patterns
 * (filter_pattern.c) and the JSON functions (funcs_json.c) all read JSON
 * through these. Pure functions over the caller's bytes [p, end): nothing
 * is allocated, nothing is global but a constant table, and any thread may
 * call them. The tiny ones are static inline so that a per-byte loop in a
 * caller stays a loop.
 *
 * Two strengths of reading, chosen by the caller:
 *
 *   lenient (jscan_string_end, jscan_token_end, jscan_skip): strings are
 *     only delimited (a backslash hides the next byte), a bare token is
 *     whatever runs up to a delimiter; brackets, keys, ':' and ',' are
 *     checked. For text merely passed over, as fast as a scan can be.
 *   strict (jscan_string_check, jscan_number, jscan_check): RFC 8259, as
 *     a validator: no raw control bytes in strings, only the eight short
 *     escapes and \uXXXX, numbers and literals by the grammar.
 *
 * On valid JSON both find the same ends. */
#ifndef SLUICE_QUERY_JSON_SCAN_H
#define SLUICE_QUERY_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The deepest nesting jscan_skip and jscan_check can follow; a larger
 * max_depth is taken as this. */
#define JSCAN_MAX_DEPTH 1024

/* Byte classes: JSON's four blanks, and the bytes that end a bare token
 * (blanks and , : { } [ ] "). */
enum { JSCAN_BLANK = 1, JSCAN_DELIM = 2 };
extern const unsigned char jscan_class[256];

static inline bool jscan_is_blank(char c)
{
    return jscan_class[(unsigned char)c] & JSCAN_BLANK;
}

/* The first byte at or after p that is not a blank (end when none). */
static inline const char *jscan_ws(const char *p, const char *end)
{
    while (p < end && jscan_is_blank(*p))
        p++;
    return p;
}

/* The end of the bare token (number or literal, lenient) at p: the first
 * delimiter at or after p, or end. */
static inline const char *jscan_token_end(const char *p, const char *end)
{
    while (p < end && !(jscan_class[(unsigned char)*p] & JSCAN_DELIM))
        p++;
    return p;
}

/* jscan_string_end's path once a backslash is met at p: the closing quote,
 * or NULL. Out of line: escapes are rare. */
const char *jscan_string_end_escaped(const char *p, const char *end);

/* Lenient: the closing quote of the string whose body starts at p (the
 * byte after the opening quote), or NULL when there is none before end.
 * *esc tells whether the body holds a backslash (so needs unescaping).
 * Sixteen bytes a step where SSE2 is there. */
static inline const char *jscan_string_end(const char *p, const char *end,
                                           bool *esc)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');

    for (; end - p >= 16; p += 16) {
        __m128i v = _mm_loadu_si128((const void *)p);
        unsigned q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote));
        unsigned b = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, bslash));
        if ((q | b) == 0)
            continue;
        if (b != 0 && (q == 0 || __builtin_ctz(b) < __builtin_ctz(q))) {
            *esc = true;
            return jscan_string_end_escaped(p + __builtin_ctz(b), end);
        }
        *esc = false;
        return p + __builtin_ctz(q);
    }
#endif
    for (; p < end; p++) {
        if (*p == '"') {
            *esc = false;
            return p;
        }
        if (*p == '\\') {
            *esc = true;
            return jscan_string_end_escaped(p, end);
        }
    }
    return NULL;
}

/* Strict: as jscan_string_end, but NULL also when the body holds a raw
 * byte below 0x20 or an escape other than \" \\ \/ \b \f \n \r \t \uXXXX. */
const char *jscan_string_check(const char *p, const char *end);

static inline bool jscan_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Strict: the byte after the number at p,
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, taking as many bytes as
 * the grammar does (what follows is the caller's to judge); NULL when p
 * does not start one ("-", "1.", "1e+", "x"). With mant: the magnitude
 * when the number is an integer of at most 16 digits (exact in a uint64),
 * else UINT64_MAX. */
static inline const char *jscan_number(const char *p, const char *end,
                                       uint64_t *mant)
{
    const char *digits;
    uint64_t m = 0;
    bool whole = true;

    if (p < end && *p == '-')
        p++;
    if (p == end || !jscan_is_digit(*p))
        return NULL;
    digits = p;
    if (*p == '0') {
        p++;
    } else {
        for (; p < end && jscan_is_digit(*p); p++)
            m = m * 10 + (uint64_t)(*p - '0');
    }
    if (p - digits > 16)
        whole = false;
    if (p < end && *p == '.') {
        whole = false;
        if (++p == end || !jscan_is_digit(*p))
            return NULL;
        while (p < end && jscan_is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        whole = false;
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !jscan_is_digit(*p))
            return NULL;
        while (p < end && jscan_is_digit(*p))
            p++;
    }
    if (mant != NULL)
        *mant = whole ? m : UINT64_MAX;
    return p;
}

/* Decodes the one escape at s (s[0] is the backslash; n bytes readable)
 * into d (room for 4 bytes), its length in *dlen. \uXXXX becomes UTF-8; a
 * high surrogate directly followed by a \u low one makes one code point,
 * any other surrogate U+FFFD. Returns the input bytes used, 0 for a bad
 * escape (unknown letter, short or non-hex \u, backslash at the end). */
size_t jscan_escape(const char *s, size_t n, char *d, size_t *dlen);

/* Unescapes the string body s[0..n) into d, which needs room for n bytes
 * (decoding never grows). Escapes as jscan_escape; other bytes, raw
 * control bytes included, are copied. Returns the decoded length, or -1 at
 * the first bad escape. */
long jscan_unescape(const char *s, size_t n, char *d);

/* Lenient: the byte after the value at p (blanks before it skipped), or
 * NULL when it is malformed, runs past end, or nests non-empty containers
 * deeper than max_depth (empty ones do not count). Brackets must match,
 * keys be strings followed by ':', members be separated by ','; strings
 * are only delimited and bare tokens only cut. With values: adds the
 * scalars and empty containers passed (the value itself included). */
const char *jscan_skip(const char *p, const char *end, unsigned max_depth,
                       unsigned *values);

/* Strict: the byte after the one valid JSON value at p (blanks before it
 * skipped), or NULL when it is not one or nests containers (empty ones
 * too) deeper than max_depth. Like jscan_number, a scalar ends where its
 * grammar does: the bytes after the value are the caller's. */
const char *jscan_check(const char *p, const char *end, unsigned max_depth);

#endif
