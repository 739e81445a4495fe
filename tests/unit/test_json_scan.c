/* tests/unit/test_json_scan.c: the shared JSON primitives
 * (query/json_scan.h) as tables of text -> result: blanks and tokens,
 * string ends lenient and strict (at every offset of the 16-byte SSE2
 * step), numbers and their integer fast path, escapes and surrogates,
 * skipping and checking whole values, truncated text and depth limits. */
#include "query/json_scan.h"
#include "tests/harness.h"

#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

/* Where f stopped in s: its offset, or -1 for NULL. */
static long off(const char *s, const char *at)
{
    return at == NULL ? -1 : (long)(at - s);
}

static long skip_off(const char *s, unsigned max_depth, unsigned *values)
{
    return off(s, jscan_skip(s, s + strlen(s), max_depth, values));
}

static long check_off(const char *s, unsigned max_depth)
{
    return off(s, jscan_check(s, s + strlen(s), max_depth));
}

/* The body s unescaped into out (NUL-terminated), or NULL when bad. */
static const char *unesc(const char *s, char *out)
{
    long n = jscan_unescape(s, strlen(s), out);

    if (n < 0)
        return NULL;
    out[n] = '\0';
    return out;
}

/* depth nested containers around a scalar, kinds alternating when mixed:
 * [[[1]]] or {"a":[{"a":1}]}. In a heap buffer the caller frees. */
static char *nested(unsigned depth, bool mixed, const char *inner)
{
    size_t cap = (size_t)depth * 8 + strlen(inner) + 1, n = 0;
    char *s = malloc(cap);

    for (unsigned i = 0; i < depth; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s",
                              mixed && i % 2 == 0 ? "{\"a\":" : "[");
    n += (size_t)snprintf(s + n, cap - n, "%s", inner);
    for (unsigned i = depth; i-- > 0;)
        s[n++] = mixed && i % 2 == 0 ? '}' : ']';
    s[n] = '\0';
    return s;
}

/* ------------------------------------------------------------------ */
/* Blanks, tokens, strings                                              */

TEST(blanks_and_bare_tokens)
{
    const char *s = " \t\r\n x";

    CHECK_EQ_INT(off(s, jscan_ws(s, s + strlen(s))), 5);
    CHECK_EQ_INT(off(s, jscan_ws(s, s + 3)), 3);
    CHECK(!jscan_is_blank('\v') && !jscan_is_blank('\f') && !jscan_is_blank('\0'));
    s = "true,";
    CHECK_EQ_INT(off(s, jscan_token_end(s, s + 5)), 4);
    s = "12e3]";
    CHECK_EQ_INT(off(s, jscan_token_end(s, s + 5)), 4);
    s = "1x\"a";
    CHECK_EQ_INT(off(s, jscan_token_end(s, s + 4)), 2);
    s = "nul";
    CHECK_EQ_INT(off(s, jscan_token_end(s, s + 3)), 3);
    for (const char *d = " \t\n\r,:{}[]\""; *d != '\0'; d++) {
        char t[3] = {'7', *d, '\0'};
        CHECK_EQ_INT(off(t, jscan_token_end(t, t + 2)), 1);
    }
}

TEST(string_ends)
{
    static const struct {
        const char *body;  /* after the opening quote */
        long end;          /* offset of the closing quote, -1: none */
        bool esc;
    } cases[] = {
        {"\"", 0, false},
        {"abc\" x", 3, false},
        {"a\\\"b\"", 4, true},
        {"a\\\\\"", 3, true},
        {"\\u0022\"", 6, true},
        {"abc", -1, false},
        {"abc\\", -1, true},
        {"abc\\\"", -1, true},
        {"", -1, false},
        {"tab\there\x01\"", 9, false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *b = cases[i].body;
        bool esc = !cases[i].esc;
        long got = off(b, jscan_string_end(b, b + strlen(b), &esc));
        CHECK_EQ_INT(got, cases[i].end);
        if (got >= 0 || cases[i].esc)
            CHECK_EQ_INT(esc, cases[i].esc);
    }
}

TEST(string_ends_at_every_offset_of_a_long_body)
{
    char s[80];

    for (size_t at = 0; at < 70; at++) {
        bool esc = true;
        memset(s, 'x', sizeof(s));
        s[at] = '"';
        CHECK_EQ_INT(off(s, jscan_string_end(s, s + sizeof(s), &esc)), (long)at);
        CHECK(!esc);
        CHECK_EQ_INT(off(s, jscan_string_check(s, s + sizeof(s))), (long)at);
        /* an escaped quote first, the real one 3 bytes on */
        s[at] = '\\';
        s[at + 1] = '"';
        s[at + 3] = '"';
        esc = false;
        CHECK_EQ_INT(off(s, jscan_string_end(s, s + sizeof(s), &esc)), (long)at + 3);
        CHECK(esc);
        CHECK_EQ_INT(off(s, jscan_string_check(s, s + sizeof(s))), (long)at + 3);
        /* cut before the closing quote */
        CHECK(jscan_string_end(s, s + at + 3, &esc) == NULL);
        CHECK(jscan_string_check(s, s + at + 3) == NULL);
    }
}

TEST(strict_strings)
{
    static const struct {
        const char *body;  /* after the opening quote */
        size_t len;        /* 0: strlen */
        long end;
    } cases[] = {
        {"plain\"", 0, 5},
        {"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 0, 16},
        {"\\u00e9\\uD83D\\uDE00\"", 0, 18},
        {"\\ud800\"", 0, 6},          /* lone surrogates are well-formed */
        {"\xc3\xa9\xff\"", 0, 3},     /* bytes >= 0x80 as they come */
        {"tab\there\"", 0, -1},       /* raw control byte */
        {"nul\0\"", 5, -1},
        {"\\x\"", 0, -1},
        {"\\u12\"", 0, -1},
        {"\\u12g4\"", 0, -1},
        {"\\u123", 0, -1},
        {"abc\\", 0, -1},
        {"abc", 0, -1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *b = cases[i].body;
        size_t n = cases[i].len != 0 ? cases[i].len : strlen(b);
        CHECK_EQ_INT(off(b, jscan_string_check(b, b + n)), cases[i].end);
    }
}

/* ------------------------------------------------------------------ */
/* Numbers                                                              */

TEST(numbers)
{
    static const struct {
        const char *s;
        long end;        /* -1: not a number */
        uint64_t mant;   /* when end >= 0 */
    } cases[] = {
        {"0", 1, 0},
        {"-0", 2, 0},
        {"42,", 2, 42},
        {"-17]", 3, 17},
        {"1234567890123456", 16, 1234567890123456u},
        {"12345678901234567", 17, UINT64_MAX},  /* 17 digits: no fast path */
        {"1.5", 3, UINT64_MAX},
        {"1e5", 3, UINT64_MAX},
        {"2E+10 ", 5, UINT64_MAX},
        {"-2.5e-3", 7, UINT64_MAX},
        {"01", 1, 0},                /* the grammar stops; the caller judges */
        {"1x", 1, 1},
        {"1.", -1, 0},
        {"1.e5", -1, 0},
        {"1e", -1, 0},
        {"1e+", -1, 0},
        {"-", -1, 0},
        {"+1", -1, 0},
        {".5", -1, 0},
        {"", -1, 0},
        {"x", -1, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *s = cases[i].s;
        uint64_t mant = 7;
        long got = off(s, jscan_number(s, s + strlen(s), &mant));
        if (got != cases[i].end)
            TEST_FAIL_AT("\"%s\": end %ld, want %ld", s, got, cases[i].end);
        else if (got >= 0 && mant != cases[i].mant)
            TEST_FAIL_AT("\"%s\": mant %llu, want %llu", s,
                         (unsigned long long)mant, (unsigned long long)cases[i].mant);
        CHECK_EQ_INT(off(s, jscan_number(s, s + strlen(s), NULL)), cases[i].end);
    }
    /* Cut short: "12" of "123" is a number, "1." of "1.5" is not. */
    const char *t = "123";
    CHECK_EQ_INT(off(t, jscan_number(t, t + 2, NULL)), 2);
    t = "1.5";
    CHECK(jscan_number(t, t + 2, NULL) == NULL);
}

/* ------------------------------------------------------------------ */
/* Escapes                                                              */

TEST(unescape_short_escapes)
{
    char out[64];

    CHECK_EQ_STR(unesc("plain", out), "plain");
    CHECK_EQ_STR(unesc("", out), "");
    CHECK_EQ_STR(unesc("a\\\"b\\\\c\\/d", out), "a\"b\\c/d");
    CHECK_EQ_STR(unesc("\\b\\f\\n\\r\\t", out), "\b\f\n\r\t");
    CHECK_EQ_STR(unesc("raw\tcontrol\x01", out), "raw\tcontrol\x01");
    CHECK(unesc("\\x", out) == NULL);
    CHECK(unesc("ok\\", out) == NULL);
    CHECK(unesc("\\a", out) == NULL);
    CHECK(unesc("\\\xc3\xa9", out) == NULL);
}

TEST(unescape_unicode_and_surrogates)
{
    char out[64];
    static const struct {
        const char *in, *out;  /* out NULL: a bad escape */
    } cases[] = {
        {"\\u0041", "A"},
        {"\\u00e9", "\xc3\xa9"},
        {"\\u00E9", "\xc3\xa9"},
        {"\\u20ac", "\xe2\x82\xac"},
        {"\\u0000x", "\0x"},
        {"\\ud83d\\ude00", "\xf0\x9f\x98\x80"},        /* a pair: one code point */
        {"\\uD83D\\uDE00!", "\xf0\x9f\x98\x80!"},
        {"\\udbff\\udfff", "\xf4\x8f\xbf\xbf"},
        {"\\ud800", "\xef\xbf\xbd"},                     /* lone high */
        {"\\udc00", "\xef\xbf\xbd"},                     /* lone low */
        {"\\ud800x", "\xef\xbf\xbdx"},
        {"\\ud800\\u0041", "\xef\xbf\xbd" "A"},          /* high, then no low */
        {"\\ud800\\ud800", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\\udc00\\ud800", "\xef\xbf\xbd\xef\xbf\xbd"},  /* wrong order */
        {"\\ud800\\n", "\xef\xbf\xbd\n"},
        {"\\ud800\\u12", NULL},                          /* the second is bad */
        {"\\u12", NULL},
        {"\\u12g4", NULL},
        {"\\u", NULL},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long n = jscan_unescape(cases[i].in, strlen(cases[i].in), out);
        if (cases[i].out == NULL) {
            CHECK_EQ_INT(n, -1);
            continue;
        }
        /* "\u0000x" decodes to 2 bytes; strlen would stop at the NUL */
        size_t want = i == 4 ? 2 : strlen(cases[i].out);
        CHECK_EQ_MEM(out, n < 0 ? 0 : (size_t)n, cases[i].out, want);
        CHECK(n >= 0 && (size_t)n <= strlen(cases[i].in));  /* never grows */
    }
}

TEST(one_escape_at_a_time)
{
    char d[4];
    size_t w = 0;

    CHECK_EQ_INT(jscan_escape("\\n", 2, d, &w), 2);
    CHECK_EQ_INT(w, 1);
    CHECK_EQ_INT(d[0], '\n');
    CHECK_EQ_INT(jscan_escape("\\u00e9", 6, d, &w), 6);
    CHECK_EQ_MEM(d, w, "\xc3\xa9", 2);
    CHECK_EQ_INT(jscan_escape("\\ud83d\\ude00", 12, d, &w), 12);
    CHECK_EQ_MEM(d, w, "\xf0\x9f\x98\x80", 4);
    /* the low half out of reach counts as missing */
    CHECK_EQ_INT(jscan_escape("\\ud83d\\ude00", 11, d, &w), 6);
    CHECK_EQ_MEM(d, w, "\xef\xbf\xbd", 3);
    CHECK_EQ_INT(jscan_escape("\\u00e9", 5, d, &w), 0);
    CHECK_EQ_INT(jscan_escape("\\", 1, d, &w), 0);
    CHECK_EQ_INT(jscan_escape("\\q", 2, d, &w), 0);
}

/* ------------------------------------------------------------------ */
/* Whole values                                                         */

TEST(skip_and_check_whole_values)
{
    static const struct {
        const char *s;
        long skip, check;   /* end offsets, -1: refused */
        unsigned values;    /* counted by jscan_skip */
    } cases[] = {
        {"{}", 2, 2, 1},
        {" [ ] x", 4, 4, 1},
        {"{\"a\":1,\"b\":[true,null,{}],\"c\":\"x\"} tail", 34, 34, 5},
        {"[[[[1]]],[2,[3,[4]]]]", 21, 21, 4},
        {"{\"a\\\"b\":{\"c\":[\"]\",\"}\"]}}", 24, 24, 2},
        {"\"str\\\"ing\",", 10, 10, 1},
        {"-1.5e3]", 6, 6, 1},
        {"true ", 4, 4, 1},
        /* lenient only: strings merely delimited, tokens merely cut */
        {"[1x]", 4, -1, 1},
        {"[01]", 4, -1, 1},
        {"[tru]", 5, -1, 1},
        {"[\"a\tb\"]", 7, -1, 1},
        {"[\"\\x\"]", 6, -1, 1},
        {"{\"a\":--}", 8, -1, 1},
        /* a top-level scalar ends where its grammar does when strict */
        {"1x", 2, 1, 1},
        {"truex", 5, 4, 1},
        /* structure is checked by both */
        {"{\"a\" 1}", -1, -1, 0},
        {"{a:1}", -1, -1, 0},
        {"{\"a\":1,}", -1, -1, 0},
        {"[1,]", -1, -1, 0},
        {"[1 2]", -1, -1, 0},
        {"[,1]", -1, -1, 0},
        {"{\"a\":1]", -1, -1, 0},
        {"[1}", -1, -1, 0},
        {"{\"a\"}", -1, -1, 0},
        {"{\"a\":}", -1, -1, 0},
        {"]", -1, -1, 0},
        {"", -1, -1, 0},
        {"   ", -1, -1, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *s = cases[i].s;
        unsigned values = 0;
        long sk = skip_off(s, 64, &values), ck = check_off(s, 64);
        if (sk != cases[i].skip || ck != cases[i].check)
            TEST_FAIL_AT("'%s': skip %ld check %ld, want %ld %ld", s, sk, ck,
                         cases[i].skip, cases[i].check);
        if (sk >= 0 && values != cases[i].values)
            TEST_FAIL_AT("'%s': %u values, want %u", s, values, cases[i].values);
        if (sk < 0)
            CHECK_EQ_INT(values, 0);  /* untouched when refused */
    }
    CHECK_EQ_INT(skip_off("[1]", 64, NULL), 3);
}

TEST(truncated_values_are_refused_at_every_length)
{
    static const char *const docs[] = {
        "{\"a\":[1,{\"b\":\"x\\\"y\"},null],\"c\":{\"d\":true}}",
        "[\"\\ud83d\\ude00\",-0.5e+3,[[]],{}]",
        "  {\"k\\u00e9y\" : \"v\" }",
    };

    for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
        const char *s = docs[d];
        size_t n = strlen(s);
        CHECK(jscan_skip(s, s + n, 64, NULL) == s + n);
        CHECK(jscan_check(s, s + n, 64) == s + n);
        for (size_t cut = 0; cut < n; cut++) {
            /* a copy exactly cut bytes long, so ASan sees any over-read */
            char *t = malloc(cut + 1);
            memcpy(t, s, cut);
            if (jscan_skip(t, t + cut, 64, NULL) != NULL ||
                jscan_check(t, t + cut, 64) != NULL)
                TEST_FAIL_AT("doc %zu cut at %zu was accepted", d, cut);
            free(t);
        }
    }
}

TEST(depth_limits)
{
    char *s;

    /* max_depth containers are fine, one more is refused. */
    for (int mixed = 0; mixed < 2; mixed++) {
        s = nested(40, mixed, "1");
        CHECK(jscan_skip(s, s + strlen(s), 40, NULL) == s + strlen(s));
        CHECK(jscan_check(s, s + strlen(s), 40) == s + strlen(s));
        CHECK(jscan_skip(s, s + strlen(s), 39, NULL) == NULL);
        CHECK(jscan_check(s, s + strlen(s), 39) == NULL);
        free(s);
    }
    /* An empty innermost container counts when strict, not when lenient. */
    s = nested(40, false, "[]");
    CHECK(jscan_skip(s, s + strlen(s), 40, NULL) == s + strlen(s));
    CHECK(jscan_check(s, s + strlen(s), 40) == NULL);
    CHECK(jscan_check(s, s + strlen(s), 41) == s + strlen(s));
    free(s);
    /* The bit stack holds JSCAN_MAX_DEPTH levels; more is refused. */
    s = nested(JSCAN_MAX_DEPTH, true, "\"x\"");
    CHECK(jscan_skip(s, s + strlen(s), JSCAN_MAX_DEPTH, NULL) == s + strlen(s));
    CHECK(jscan_check(s, s + strlen(s), JSCAN_MAX_DEPTH) == s + strlen(s));
    free(s);
    s = nested(JSCAN_MAX_DEPTH + 1, true, "\"x\"");
    CHECK(jscan_skip(s, s + strlen(s), JSCAN_MAX_DEPTH + 1, NULL) == NULL);
    CHECK(jscan_check(s, s + strlen(s), (unsigned)-1) == NULL);
    free(s);
    /* Depth 0: scalars and (lenient) empty containers only. */
    CHECK_EQ_INT(skip_off("7", 0, NULL), 1);
    CHECK_EQ_INT(skip_off("[]", 0, NULL), 2);
    CHECK_EQ_INT(check_off("[]", 0), -1);
    CHECK_EQ_INT(skip_off("[1]", 0, NULL), -1);
}

TEST_MAIN()
