/* tests/unit/test_funcs.c: the scalar Insights functions (query/funcs.h)
 * as tables of call -> result kind and output text: every non-aggregate
 * function of fn_table.h, the reference's documented examples, null
 * handling, UTF-8, bad inputs, calendar edges of bin/datefloor/dateceil,
 * subnet edges, regexReplace groups, and running out of scratch memory. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "common/arena.h"
#include "common/buf.h"
#include "query/check.h"
#include "query/fn_table.h"
#include "query/funcs.h"
#include "query/value.h"
#include "tests/harness.h"

#include <math.h>
#include <pcre2.h>
#include <stdlib.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

#define T_2024 1709214312345LL  /* 2024-02-29 13:45:12.345 UTC, a Thursday */

static struct val S(const char *s)
{
    return val_str(s, strlen(s));
}

static struct val N(double d)
{
    return val_num(d);
}

static struct val B(bool b)
{
    return val_bool(b);
}

static struct val TM(int64_t ms)
{
    return val_time(ms);
}

#define NUL val_null()

/* A moment written "YYYY-MM-DD HH:MM:SS.mmm" (UTC), as epoch ms. */
static int64_t ms_of(const char *text)
{
    struct val v = S(text);
    int64_t ms = 0;

    if (!val_to_ms(&v, &ms))
        fprintf(stderr, "  bad test time %s\n", text);
    return ms;
}

static void fmt_time(int64_t ms, char out[24])
{
    val_format_time(ms, out);
}

/* The context every table row runs in. */
static void ctx_init(struct fn_ctx *ctx, struct arena *a)
{
    arena_init(a, 4096, 0);
    memset(ctx, 0, sizeof(*ctx));
    ctx->scratch = a;
    ctx->timestamp_ms = T_2024;
    ctx->query_start_ms = 1700000000000LL;
    ctx->query_end_ms = 1700003600000LL;
    ctx->now_ms = 1700000000999LL;
}

/* One call: function name, arguments, expected kind and output text
 * (val_format; "" for null). */
struct row {
    int line;
    const char *fn;
    enum val_kind kind;
    const char *want;
    size_t n;
    struct val args[12];
};

#define NARGS(...) (sizeof((struct val[]){__VA_ARGS__}) / sizeof(struct val))
#define R(fn, kind, want, ...) {__LINE__, fn, kind, want, NARGS(__VA_ARGS__), {__VA_ARGS__}}
#define R0(fn, kind, want) {__LINE__, fn, kind, want, 0, {{0}}}

static const char *kind_name(enum val_kind k)
{
    static const char *const names[] = {"null", "num", "str", "bool", "time", "json"};
    return names[k];
}

static void run_rows(const struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        const struct fn_def *f = fn_lookup(r->fn, strlen(r->fn));
        struct fn_ctx ctx;
        struct arena a;
        struct fn_args fa = {r->args, NULL, NULL, r->n};
        struct val out;
        struct buf b;
        enum sl_status st;

        if (f == NULL) {
            fprintf(stderr, "  %s:%d: no function %s\n", __FILE__, r->line, r->fn);
            test_failed_now = 1;
            continue;
        }
        ctx_init(&ctx, &a);
        st = fn_call(f, &fa, &ctx, &out);
        buf_init(&b, 1 << 20);
        if (st == SL_OK && val_format(&out, &b) != SL_OK)
            st = SL_INTERNAL;
        if (st != SL_OK || out.kind != r->kind ||
            strcmp(b.data != NULL ? b.data : "", r->want) != 0) {
            fprintf(stderr, "  %s:%d: %s(...): got status %d, %s \"%s\"; want %s \"%s\"\n",
                    __FILE__, r->line, r->fn, (int)st, kind_name(out.kind),
                    b.data != NULL ? b.data : "", kind_name(r->kind), r->want);
            test_failed_now = 1;
        }
        buf_fini(&b);
        arena_fini(&a);
    }
}

#define RUN(rows) run_rows(rows, sizeof(rows) / sizeof(rows[0]))

/* ------------------------------------------------------------------ */
/* Numeric                                                              */

TEST(numeric_core)
{
    const struct row rows[] = {
        R("abs", VAL_NUM, "3.5", N(-3.5)),
        R("abs", VAL_NUM, "2", S("-2")),
        R("abs", VAL_NUM, "1", B(true)),
        R("abs", VAL_NULL, "", S("x")),
        R("abs", VAL_NULL, "", NUL),
        R("ceil", VAL_NUM, "2", N(1.2)),
        R("ceil", VAL_NUM, "-1", N(-1.2)),
        R("floor", VAL_NUM, "-2", N(-1.2)),
        R("floor", VAL_NUM, "7", S("7.9")),
        R("floor", VAL_NULL, "", S("7.9x")),
        R("log", VAL_NUM, "0", N(1)),
        R("log", VAL_NUM, "2.302585092994046", N(10)),
        R("log", VAL_NULL, "", N(0)),
        R("log", VAL_NULL, "", N(-1)),
        R("sqrt", VAL_NUM, "4", N(16)),
        R("sqrt", VAL_NUM, "1.4142135623730951", N(2)),
        R("sqrt", VAL_NULL, "", N(-4)),
        R("sqrt", VAL_NULL, "", NUL),
        R("greatest", VAL_NUM, "5", N(1), N(5), N(3)),
        R("greatest", VAL_STR, "10", NUL, N(2), S("10")),
        R("greatest", VAL_NULL, "", NUL, NUL),
        R("least", VAL_NUM, "-2", N(3), NUL, N(-2)),
        R("least", VAL_STR, "a", S("b"), S("a"), S("c")),
        R("GREATEST", VAL_NUM, "7", N(7)),
    };
    RUN(rows);
}

TEST(numeric_later)
{
    const struct row rows[] = {
        R("round", VAL_NUM, "3", N(2.5)),
        R("round", VAL_NUM, "-3", N(-2.5)),
        R("round", VAL_NUM, "2", N(2.4)),
        R("round", VAL_NUM, "3.14", N(3.14159), N(2)),
        R("round", VAL_NUM, "1.01", N(1.005), N(2)),
        R("round", VAL_NUM, "2.68", N(2.675), N(2)),
        R("round", VAL_NUM, "-1.01", N(-1.005), N(2)),
        R("round", VAL_NUM, "1200", N(1234.5), N(-2)),
        R("round", VAL_NUM, "1300", N(1250), N(-2)),
        R("round", VAL_NUM, "0.1", N(0.1), N(30)),
        R("round", VAL_NUM, "3.1", S("3.14159"), S("1.9")),
        R("round", VAL_NULL, "", S("x")),
        R("round", VAL_NULL, "", N(5), NUL),
        R("haversine", VAL_NUM, "111.19492664455873", N(0), N(0), N(0), N(1)),
        R("haversine", VAL_NUM, "0", N(10), N(20), N(10), N(20)),
        R("haversine", VAL_NULL, "", N(91), N(0), N(0), N(0)),
        R("haversine", VAL_NULL, "", N(0), N(181), N(0), N(0)),
        R("haversine", VAL_NULL, "", N(0), NUL, N(0), N(0)),
        R("toNumber", VAL_NUM, "42", S(" 42 ")),
        R("toNumber", VAL_NUM, "45", S("4.5e1")),
        R("toNumber", VAL_NUM, "-0.5", S("-.5")),
        R("toNumber", VAL_NULL, "", S("abc")),
        R("toNumber", VAL_NULL, "", S("")),
        R("toNumber", VAL_NUM, "1", B(true)),
        R("toDouble", VAL_NUM, "1.5", S("1.5")),
        R("toInt", VAL_NUM, "12", S("12.7")),
        R("toInt", VAL_NUM, "-12", N(-12.7)),
        R("toInt", VAL_NUM, "2147483647", N(3e10)),
        R("toInt", VAL_NUM, "-2147483648", N(-3e10)),
        R("toLong", VAL_NUM, "-5", N(-5.9)),
        R("toLong", VAL_NUM, "1700000000000", S("1700000000000.9")),
        R("toLong", VAL_NULL, "", NUL),
        R("isNumeric", VAL_BOOL, "1", S("12.5")),
        R("isNumeric", VAL_BOOL, "1", S("1e3")),
        R("isNumeric", VAL_BOOL, "1", N(7)),
        R("isNumeric", VAL_BOOL, "0", S("abc")),
        R("isNumeric", VAL_BOOL, "0", S("")),
        R("isNumeric", VAL_BOOL, "0", S("0x1F")),
        R("isNumeric", VAL_BOOL, "0", NUL),
        R("isNumeric", VAL_BOOL, "0", B(true)),
    };
    RUN(rows);
}

TEST(haversine_london_paris)
{
    struct val args[4] = {N(51.5074), N(-0.1278), N(48.8566), N(2.3522)};
    struct fn_args fa = {args, NULL, NULL, 4};
    struct fn_ctx ctx;
    struct arena a;
    struct val out;

    ctx_init(&ctx, &a);
    CHECK_OK(fn_call(fn_get(FN_HAVERSINE), &fa, &ctx, &out));
    CHECK_EQ_INT(out.kind, VAL_NUM);
    CHECK(fabs(out.u.num - 343.556) < 0.001);
    arena_fini(&a);
}

/* ------------------------------------------------------------------ */
/* General                                                              */

TEST(general)
{
    const struct row rows[] = {
        R("ispresent", VAL_BOOL, "0", NUL),
        R("ispresent", VAL_BOOL, "1", S("")),
        R("ispresent", VAL_BOOL, "1", N(0)),
        R("coalesce", VAL_STR, "x", NUL, NUL, S("x"), S("y")),
        R("coalesce", VAL_STR, "", NUL, S(""), S("y")),
        R("coalesce", VAL_NULL, "", NUL),
        R("coalesce", VAL_NUM, "3", N(3)),
        R("if", VAL_STR, "a", N(1), S("a"), S("b")),
        R("if", VAL_STR, "b", N(0), S("a"), S("b")),
        R("if", VAL_STR, "b", NUL, S("a"), S("b")),
        R("if", VAL_STR, "b", S("false"), S("a"), S("b")),
        R("if", VAL_NULL, "", B(true), NUL, S("b")),
        R("case", VAL_STR, "b", N(0), S("a"), N(1), S("b")),
        R("case", VAL_STR, "d", N(0), S("a"), B(false), S("b"), S("d")),
        R("case", VAL_NULL, "", N(0), S("a")),
        R("case", VAL_NUM, "5", B(true), N(5), S("d")),
        R("unmask", VAL_STR, "secret", S("secret")),
        R("unmask", VAL_NULL, "", NUL),
    };
    RUN(rows);
}

/* ------------------------------------------------------------------ */
/* Strings                                                              */

TEST(string_predicates)
{
    const struct row rows[] = {
        R("isempty", VAL_BOOL, "1", NUL),
        R("isempty", VAL_BOOL, "1", S("")),
        R("isempty", VAL_BOOL, "0", S(" ")),
        R("isempty", VAL_BOOL, "0", N(0)),
        R("isblank", VAL_BOOL, "1", S(" \t\n\r")),
        R("isblank", VAL_BOOL, "1", S("")),
        R("isblank", VAL_BOOL, "1", NUL),
        R("isblank", VAL_BOOL, "0", S(" a ")),
        R("isblank", VAL_BOOL, "0", N(5)),
        R("strcontains", VAL_BOOL, "1", S("hello"), S("ell")),
        R("strcontains", VAL_BOOL, "0", S("hello"), S("xyz")),
        R("strcontains", VAL_BOOL, "0", S("hello"), S("Ell")),
        R("strcontains", VAL_BOOL, "1", S("hello"), S("")),
        R("strcontains", VAL_BOOL, "0", NUL, S("a")),
        R("strcontains", VAL_BOOL, "0", S("a"), NUL),
        R("strcontains", VAL_BOOL, "1", N(12345), N(234)),
        R("startsWith", VAL_BOOL, "1", S("hello"), S("he")),
        R("startsWith", VAL_BOOL, "0", S("hello"), S("lo")),
        R("startsWith", VAL_BOOL, "0", S("he"), S("hello")),
        R("endsWith", VAL_BOOL, "1", S("hello"), S("lo")),
        R("endsWith", VAL_BOOL, "0", S("lo"), S("hello")),
        R("endsWith", VAL_BOOL, "1", S("héllo"), S("llo")),
        R("endsWith", VAL_BOOL, "0", NUL, S("")),
    };
    RUN(rows);
}

TEST(string_concat_trim_len_case)
{
    const struct row rows[] = {
        R("concat", VAL_STR, "ab1", S("a"), NUL, S("b"), N(1)),
        R("concat", VAL_STR, "1.51", N(1.5), B(true)),
        R("concat", VAL_STR, "x", S("x")),
        R("concat", VAL_NULL, "", NUL, NUL),
        R("concat", VAL_STR, "", S(""), S("")),
        /* the reference's example */
        R("trim", VAL_STR, "foo", S("xyZxyfooxyxyZ"), S("xyZ")),
        R("trim", VAL_STR, "hi", S(" \t hi \n")),
        R("ltrim", VAL_STR, "hi  ", S("  hi  ")),
        R("rtrim", VAL_STR, "  hi", S("  hi  ")),
        R("ltrim", VAL_STR, "fooxyZ", S("xyZfooxyZ"), S("Zyx")),
        R("rtrim", VAL_STR, "xyZfoo", S("xyZfooxyZ"), S("Zyx")),
        R("trim", VAL_STR, "a", S("ééaéé"), S("é")),
        R("trim", VAL_STR, "éa", S("xéax"), S("x")),
        R("trim", VAL_STR, "", S("xxx"), S("x")),
        R("trim", VAL_STR, "abc", S("abc"), S("")),
        R("trim", VAL_STR, "", S("")),
        R("trim", VAL_NULL, "", NUL),
        R("trim", VAL_NULL, "", S("a"), NUL),
        R("strlen", VAL_NUM, "5", S("héllo")),
        R("strlen", VAL_NUM, "3", S("日本語")),
        R("strlen", VAL_NUM, "1", S("😀")),
        R("strlen", VAL_NUM, "0", S("")),
        R("strlen", VAL_NUM, "5", N(12345)),
        R("strlen", VAL_NUM, "3", S("a\xff\xfe")),
        R("strlen", VAL_NUM, "2", S("\xe6\x97")),  /* truncated sequence */
        R("strlen", VAL_NUM, "2", S("\xc0\xaf")),  /* overlong '/' */
        R("strlen", VAL_NULL, "", NUL),
        R("toupper", VAL_STR, "ABC-é1", S("abc-é1")),
        R("tolower", VAL_STR, "Àbc", S("ÀBC")),
        R("toupper", VAL_STR, "1", B(true)),
        R("tolower", VAL_NULL, "", NUL),
    };
    RUN(rows);
}

TEST(string_substr_replace)
{
    const struct row rows[] = {
        /* the reference's example */
        R("substr", VAL_STR, "foo", S("xyZfooxyZ"), N(3), N(3)),
        R("substr", VAL_STR, "fooxyZ", S("xyZfooxyZ"), N(3)),
        R("substr", VAL_STR, "éll", S("héllo"), N(1), N(3)),
        R("substr", VAL_STR, "本語", S("日本語"), N(1)),
        R("substr", VAL_STR, "", S("abc"), N(5)),
        R("substr", VAL_STR, "ab", S("abc"), N(-1), N(2)),
        R("substr", VAL_STR, "", S("abc"), N(1), N(-1)),
        R("substr", VAL_STR, "bc", S("abc"), N(1.9)),
        R("substr", VAL_STR, "abc", S("abc"), N(0), N(1e300)),
        R("substr", VAL_STR, "b", S("abc"), S("1"), S("1")),
        R("substr", VAL_NULL, "", S("abc"), S("x")),
        R("substr", VAL_NULL, "", S("abc"), N(0), NUL),
        R("substr", VAL_NULL, "", NUL, N(0)),
        R("replace", VAL_STR, "a-b-c", S("a.b.c"), S("."), S("-")),
        R("replace", VAL_STR, "ba", S("aaa"), S("aa"), S("b")),
        R("replace", VAL_STR, "abc", S("abc"), S(""), S("x")),
        R("replace", VAL_STR, "ac", S("abc"), S("b"), S("")),
        R("replace", VAL_STR, "hello", S("héllo"), S("é"), S("e")),
        R("replace", VAL_STR, "xxyyxx", S("xyx"), S("y"), S("xyyx")),
        R("replace", VAL_STR, "abc", S("abc"), S("z"), S("y")),
        R("replace", VAL_NULL, "", NUL, S("a"), S("b")),
        R("replace", VAL_NULL, "", S("abc"), S("a"), NUL),
    };
    RUN(rows);
}

TEST(string_split)
{
    const struct row rows[] = {
        R("split", VAL_JSON, "[\"a\",\"b\",\"\",\"c\"]", S("a,b,,c"), S(",")),
        R("split", VAL_JSON, "[\"a\",\"\"]", S("a,"), S(",")),
        R("split", VAL_JSON, "[\"a\",\"b\",\"c\"]", S("abc"), S("")),
        R("split", VAL_JSON, "[\"日\",\"本\"]", S("日本"), S("")),
        R("split", VAL_JSON, "[\"\"]", S(""), S(",")),
        R("split", VAL_JSON, "[\"\"]", S(""), S("")),
        R("split", VAL_JSON, "[\"a\",\"b\"]", S("a::b"), S("::")),
        R("split", VAL_JSON, "[\"a\\\"b\",\"c\\\\\"]", S("a\"b,c\\"), S(",")),
        R("split", VAL_JSON, "[\"tab\\there\",\"\\u0001\"]", S("tab\there;\x01"), S(";")),
        R("split", VAL_JSON, "[\"abc\"]", S("abc"), S(",")),
        R("split", VAL_NULL, "", NUL, S(",")),
        R("split", VAL_NULL, "", S("a"), NUL),
    };
    RUN(rows);
}

TEST(string_codings)
{
    const struct row rows[] = {
        R("urlencode", VAL_STR, "a%20b%26c%3Dd%2F%C3%A9~-_.", S("a b&c=d/é~-_.")),
        R("urlencode", VAL_STR, "", S("")),
        R("urlencode", VAL_NULL, "", NUL),
        R("urldecode", VAL_STR, "a b c=é%zz", S("a%20b+c%3d%C3%A9%zz")),
        R("urldecode", VAL_STR, "100%", S("100%")),
        R("urldecode", VAL_STR, "1%2", S("1%2")),
        R("base64encode", VAL_STR, "SGVsbG8=", S("Hello")),
        R("base64encode", VAL_STR, "YWI=", S("ab")),
        R("base64encode", VAL_STR, "YWJj", S("abc")),
        R("base64encode", VAL_STR, "", S("")),
        R("base64encode", VAL_STR, "w6k=", S("é")),
        R("base64decode", VAL_STR, "Hello", S("SGVsbG8=")),
        R("base64decode", VAL_STR, "Hello", S("SGVsbG8")),
        R("base64decode", VAL_STR, "é", S("w6k=")),
        R("base64decode", VAL_STR, "", S("")),
        R("base64decode", VAL_NULL, "", S("SGVsbG8*")),
        R("base64decode", VAL_NULL, "", S("S")),
        R("base64decode", VAL_NULL, "", S("YW=I")),
        R("base64decode", VAL_NULL, "", S("YWI==")),
        R("base64decode", VAL_NULL, "", S("SGVs bG8=")),
        R("base64decode", VAL_NULL, "", NUL),
        R("hexToAscii", VAL_STR, "Hello", S("48656c6c6f")),
        R("hexToAscii", VAL_STR, "Hi", S("0x4869")),
        R("hexToAscii", VAL_STR, "", S("")),
        R("hexToAscii", VAL_NULL, "", S("486")),
        R("hexToAscii", VAL_NULL, "", S("zz")),
        R("hexToDec", VAL_NUM, "255", S("ff")),
        R("hexToDec", VAL_NUM, "255", S("0xFF")),
        R("hexToDec", VAL_NUM, "16", N(10)),
        R("hexToDec", VAL_NUM, "4294967295", S("ffffffff")),
        R("hexToDec", VAL_NULL, "", S("xyz")),
        R("hexToDec", VAL_NULL, "", S("")),
        R("hexToDec", VAL_NULL, "", S("0x")),
        R("hexToDec", VAL_NULL, "", S("fffffffffffffffff")),
        R("decToHex", VAL_STR, "ff", N(255)),
        R("decToHex", VAL_STR, "1000", S("4096")),
        R("decToHex", VAL_STR, "ffffffffffffffff", N(-1)),
        R("decToHex", VAL_STR, "0", N(0)),
        R("decToHex", VAL_STR, "ff", N(255.9)),
        R("decToHex", VAL_NULL, "", S("x")),
        R("decToHex", VAL_NULL, "", N(1e20)),
        R("messageSize", VAL_NUM, "6", S("héllo")),
        R("messageSize", VAL_NUM, "0", S("")),
        R("messageSize", VAL_NULL, "", NUL),
    };
    RUN(rows);
}

TEST(base64_url_safe_and_binary)
{
    struct val args[1] = {S("-_8=")};
    struct fn_args fa = {args, NULL, NULL, 1};
    struct fn_ctx ctx;
    struct arena a;
    struct val out;

    ctx_init(&ctx, &a);
    CHECK_OK(fn_call(fn_get(FN_BASE64DECODE), &fa, &ctx, &out));
    CHECK_EQ_INT(out.kind, VAL_STR);
    CHECK_EQ_MEM(out.u.s, out.len, "\xfb\xff", 2);
    args[0] = val_str("\0\x01", 2);
    CHECK_OK(fn_call(fn_get(FN_BASE64ENCODE), &fa, &ctx, &out));
    CHECK_EQ_MEM(out.u.s, out.len, "AAE=", 4);
    arena_fini(&a);
}

/* ------------------------------------------------------------------ */
/* regexReplace                                                         */

static pcre2_code *compile(const char *re)
{
    int ec;
    PCRE2_SIZE eo;
    return pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
                         check_pcre2_options(0), &ec, &eo, NULL);
}

/* Runs fn(s, re, repl) with re compiled (or, when code_too is false,
 * passed as a string value) and checks the output text (NULL: null). */
static void expect_rx(int line, enum fn_id id, struct val s, const char *re,
                      bool compiled, struct val repl, const char *want)
{
    pcre2_code *code = compiled ? compile(re) : NULL;
    struct val args[3] = {s, compiled ? val_null() : S(re), repl};
    void *rx[3] = {NULL, code, NULL};
    struct fn_args fa = {args, NULL, rx, 3};
    struct fn_ctx ctx;
    struct arena a;
    struct val out;
    enum sl_status st;

    ctx_init(&ctx, &a);
    if (compiled && code == NULL) {
        fprintf(stderr, "  %s:%d: pattern %s does not compile\n", __FILE__, line, re);
        test_failed_now = 1;
        arena_fini(&a);
        return;
    }
    st = fn_call(fn_get(id), &fa, &ctx, &out);
    if (st != SL_OK || (want == NULL) != (out.kind == VAL_NULL) ||
        (want != NULL && (out.kind != VAL_STR || out.len != strlen(want) ||
                          memcmp(out.u.s, want, out.len) != 0))) {
        fprintf(stderr, "  %s:%d: regexReplace /%s/: status %d, got %s \"%.*s\", want \"%s\"\n",
                __FILE__, line, re, (int)st, kind_name(out.kind),
                out.kind == VAL_STR ? (int)out.len : 0,
                out.kind == VAL_STR ? out.u.s : "", want ? want : "(null)");
        test_failed_now = 1;
    }
    pcre2_code_free(code);
    arena_fini(&a);
}

#define EXPECT_RX(s, re, repl, want) \
    do { \
        expect_rx(__LINE__, FN_REGEXREPLACE, s, re, true, repl, want); \
        expect_rx(__LINE__, FN_REGEX_REPLACE, s, re, false, repl, want); \
    } while (0)

TEST(regex_replace)
{
    char big[101], bigout[401];

    EXPECT_RX(S("2024-01-02"), "(\\d+)-(\\d+)-(\\d+)", S("$3/$2/${1}"), "02/01/2024");
    EXPECT_RX(S("a1b22c333"), "\\d+", S("#"), "a#b#c#");
    EXPECT_RX(S("abc"), "x", S("y"), "abc");
    EXPECT_RX(S("abc"), "x*", S("-"), "-a-b-c-");
    EXPECT_RX(S("user=bob"), "user=(?<name>\\w+)", S("${name}!"), "bob!");
    EXPECT_RX(S("ab"), "(x)?b", S("[$1]"), "a[]");
    EXPECT_RX(S("cost $5"), "\\$(\\d)", S("$$$1.00"), "cost $5.00");
    EXPECT_RX(S("héllo wörld"), "[éö]", S("_"), "h_llo w_rld");
    EXPECT_RX(S("Hello"), "(?i)h", S("J"), "Jello");
    EXPECT_RX(N(12345), "3", S("x"), "12x45");
    EXPECT_RX(S("abc"), "b", S("$5"), NULL);           /* no group 5 */
    EXPECT_RX(S("h\xffllo"), "l", S("L"), NULL);      /* not UTF-8 */
    EXPECT_RX(NUL, "a", S("b"), NULL);
    EXPECT_RX(S("a"), "a", NUL, NULL);
    /* The first output buffer is too small: the retry must size it. */
    memset(big, 'a', 100);
    big[100] = '\0';
    memset(bigout, 'b', 400);
    bigout[400] = '\0';
    EXPECT_RX(S(big), "a", S("bbbb"), bigout);
    /* A pattern given as a value that does not compile: null. */
    expect_rx(__LINE__, FN_REGEXREPLACE, S("a(b"), "(", false, S("x"), NULL);
    expect_rx(__LINE__, FN_REGEXREPLACE, S("abc"), "b", false, S("x"), "axc");
}

/* ------------------------------------------------------------------ */
/* Datetime                                                             */

TEST(datetime_simple)
{
    char t[24];
    const struct row rows[] = {
        R("fromMillis", VAL_TIME, "2023-11-14 22:13:20.000", N(1700000000000.0)),
        R("fromMillis", VAL_TIME, "2023-11-14 22:13:20.123", S("1700000000123")),
        R("fromMillis", VAL_TIME, "1969-12-31 23:59:59.999", N(-1)),
        R("fromMillis", VAL_TIME, "1970-01-01 00:00:00.001", N(1.9)),
        R("fromMillis", VAL_NULL, "", S("x")),
        R("fromMillis", VAL_NULL, "", N(1e300)),
        R("fromMillis", VAL_NULL, "", NUL),
        R("toMillis", VAL_NUM, "1700000000000", S("2023-11-14T22:13:20Z")),
        R("toMillis", VAL_NUM, "1709214312345", TM(T_2024)),
        R("toMillis", VAL_NUM, "-1", TM(-1)),
        R("toMillis", VAL_NULL, "", S("yesterday")),
        R("toMillis", VAL_NULL, "", NUL),
        /* now() is the query's start in epoch seconds (reference 4.5) */
        R0("now", VAL_NUM, "1700000000"),
        R0("queryStartTime", VAL_TIME, "2023-11-14 22:13:20.000"),
        R0("queryEndTime", VAL_TIME, "2023-11-14 23:13:20.000"),
        R0("queryTimeRange", VAL_NUM, "3600000"),
    };
    RUN(rows);
    fmt_time(T_2024, t);
    CHECK_EQ_STR(t, "2024-02-29 13:45:12.345");
}

/* Floors and ceils at (UTC text) to count unit; compares both. */
static void expect_period(int line, const char *at, int64_t count,
                          enum lex_unit unit, const char *floor_want,
                          const char *ceil_want)
{
    struct lex_period p = {count, unit};
    int64_t ms = ms_of(at);
    char f[24], c[24];

    fmt_time(fn_period_floor(ms, &p), f);
    fmt_time(fn_period_ceil(ms, &p), c);
    if (strcmp(f, floor_want) != 0 || strcmp(c, ceil_want) != 0) {
        fprintf(stderr, "  %s:%d: %s to %lld%s: floor %s ceil %s; want %s and %s\n",
                __FILE__, line, at, (long long)count, lex_unit_name(unit), f, c,
                floor_want, ceil_want);
        test_failed_now = 1;
    }
}

#define EXPECT_PERIOD(at, n, u, fl, ce) expect_period(__LINE__, at, n, u, fl, ce)

TEST(periods_fixed_units)
{
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 5, LEX_UNIT_MIN,
                  "2024-02-29 13:45:00.000", "2024-02-29 13:50:00.000");
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 1, LEX_UNIT_HOUR,
                  "2024-02-29 13:00:00.000", "2024-02-29 14:00:00.000");
    EXPECT_PERIOD("2024-02-29 13:00:00.000", 1, LEX_UNIT_HOUR,
                  "2024-02-29 13:00:00.000", "2024-02-29 13:00:00.000");
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 1, LEX_UNIT_DAY,
                  "2024-02-29 00:00:00.000", "2024-03-01 00:00:00.000");
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 30, LEX_UNIT_SEC,
                  "2024-02-29 13:47:00.000", "2024-02-29 13:47:30.000");
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 100, LEX_UNIT_MS,
                  "2024-02-29 13:47:12.300", "2024-02-29 13:47:12.400");
    EXPECT_PERIOD("2023-12-31 23:59:59.999", 1, LEX_UNIT_DAY,
                  "2023-12-31 00:00:00.000", "2024-01-01 00:00:00.000");
    /* before the epoch: floors go down, not toward zero */
    EXPECT_PERIOD("1969-12-31 23:59:59.999", 1, LEX_UNIT_SEC,
                  "1969-12-31 23:59:59.000", "1970-01-01 00:00:00.000");
    EXPECT_PERIOD("1969-12-31 12:30:00.000", 1, LEX_UNIT_DAY,
                  "1969-12-31 00:00:00.000", "1970-01-01 00:00:00.000");
    /* a zero count leaves the moment alone */
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 0, LEX_UNIT_HOUR,
                  "2024-02-29 13:47:12.345", "2024-02-29 13:47:12.345");
}

TEST(periods_weeks_start_monday)
{
    /* 2024-02-29 is a Thursday; its week began Monday the 26th */
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 1, LEX_UNIT_WEEK,
                  "2024-02-26 00:00:00.000", "2024-03-04 00:00:00.000");
    EXPECT_PERIOD("2024-02-26 00:00:00.000", 1, LEX_UNIT_WEEK,
                  "2024-02-26 00:00:00.000", "2024-02-26 00:00:00.000");
    EXPECT_PERIOD("2024-03-03 23:59:59.999", 1, LEX_UNIT_WEEK,
                  "2024-02-26 00:00:00.000", "2024-03-04 00:00:00.000");
    /* 1970-01-01 was a Thursday: its week began 1969-12-29 */
    EXPECT_PERIOD("1970-01-01 00:00:00.000", 1, LEX_UNIT_WEEK,
                  "1969-12-29 00:00:00.000", "1970-01-05 00:00:00.000");
    EXPECT_PERIOD("1969-12-28 10:00:00.000", 1, LEX_UNIT_WEEK,
                  "1969-12-22 00:00:00.000", "1969-12-29 00:00:00.000");
    /* 2w pairs weeks counted from Monday 1969-12-29 */
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 2, LEX_UNIT_WEEK,
                  "2024-02-26 00:00:00.000", "2024-03-11 00:00:00.000");
    EXPECT_PERIOD("2024-02-25 13:47:12.345", 2, LEX_UNIT_WEEK,
                  "2024-02-12 00:00:00.000", "2024-02-26 00:00:00.000");
}

TEST(fixed_periods_floor_by_step_and_origin)
{
    /* what the executor's inline bin() computes must be fn_period_floor */
    const struct lex_period fixed[] = {
        {1, LEX_UNIT_MS}, {7, LEX_UNIT_SEC}, {5, LEX_UNIT_MIN},
        {3, LEX_UNIT_HOUR}, {1, LEX_UNIT_DAY}, {1, LEX_UNIT_WEEK}, {2, LEX_UNIT_WEEK}};
    const int64_t ms[] = {0, 1, -1, 299999, 300000, -300001, 1716900000123LL,
                          -86400000LL * 400 - 17, 8640000000000000LL,
                          -8640000000000000LL};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        int64_t step = 0, origin = 0;
        CHECK(fn_period_fixed(&fixed[i], &step, &origin));
        for (size_t k = 0; k < sizeof(ms) / sizeof(ms[0]); k++) {
            int64_t d = ms[k] - origin, q = d / step;
            if (d % step < 0)
                q--;
            CHECK_EQ_INT(origin + q * step, fn_period_floor(ms[k], &fixed[i]));
        }
    }
    const struct lex_period calendar[] = {
        {1, LEX_UNIT_MONTH}, {1, LEX_UNIT_QUARTER}, {2, LEX_UNIT_YEAR}, {0, LEX_UNIT_MIN}};
    for (size_t i = 0; i < sizeof(calendar) / sizeof(calendar[0]); i++) {
        int64_t step, origin;
        CHECK(!fn_period_fixed(&calendar[i], &step, &origin));
    }
}

TEST(periods_calendar)
{
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 1, LEX_UNIT_MONTH,
                  "2024-02-01 00:00:00.000", "2024-03-01 00:00:00.000");
    EXPECT_PERIOD("2024-03-31 23:00:00.000", 1, LEX_UNIT_MONTH,
                  "2024-03-01 00:00:00.000", "2024-04-01 00:00:00.000");
    EXPECT_PERIOD("2024-12-15 00:00:00.000", 1, LEX_UNIT_MONTH,
                  "2024-12-01 00:00:00.000", "2025-01-01 00:00:00.000");
    EXPECT_PERIOD("2024-03-01 00:00:00.000", 1, LEX_UNIT_MONTH,
                  "2024-03-01 00:00:00.000", "2024-03-01 00:00:00.000");
    /* 5mo: month index since 1970-01 floored to a multiple of 5 */
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 5, LEX_UNIT_MONTH,
                  "2023-10-01 00:00:00.000", "2024-03-01 00:00:00.000");
    EXPECT_PERIOD("1970-05-31 00:00:00.000", 5, LEX_UNIT_MONTH,
                  "1970-01-01 00:00:00.000", "1970-06-01 00:00:00.000");
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 1, LEX_UNIT_QUARTER,
                  "2024-01-01 00:00:00.000", "2024-04-01 00:00:00.000");
    EXPECT_PERIOD("2024-05-15 00:00:00.000", 1, LEX_UNIT_QUARTER,
                  "2024-04-01 00:00:00.000", "2024-07-01 00:00:00.000");
    EXPECT_PERIOD("2024-12-15 00:00:00.000", 1, LEX_UNIT_QUARTER,
                  "2024-10-01 00:00:00.000", "2025-01-01 00:00:00.000");
    EXPECT_PERIOD("2024-02-29 13:47:12.345", 1, LEX_UNIT_YEAR,
                  "2024-01-01 00:00:00.000", "2025-01-01 00:00:00.000");
    EXPECT_PERIOD("2024-01-01 00:00:00.000", 1, LEX_UNIT_YEAR,
                  "2024-01-01 00:00:00.000", "2024-01-01 00:00:00.000");
    EXPECT_PERIOD("2025-06-01 00:00:00.000", 2, LEX_UNIT_YEAR,
                  "2024-01-01 00:00:00.000", "2026-01-01 00:00:00.000");
    EXPECT_PERIOD("2000-02-29 12:00:00.000", 1, LEX_UNIT_YEAR,
                  "2000-01-01 00:00:00.000", "2001-01-01 00:00:00.000");
    /* before the epoch, and a leap day then */
    EXPECT_PERIOD("1969-12-15 00:00:00.000", 1, LEX_UNIT_MONTH,
                  "1969-12-01 00:00:00.000", "1970-01-01 00:00:00.000");
    EXPECT_PERIOD("1968-02-29 12:00:00.000", 1, LEX_UNIT_MONTH,
                  "1968-02-01 00:00:00.000", "1968-03-01 00:00:00.000");
    EXPECT_PERIOD("1968-02-29 12:00:00.000", 1, LEX_UNIT_DAY,
                  "1968-02-29 00:00:00.000", "1968-03-01 00:00:00.000");
    EXPECT_PERIOD("1969-06-30 00:00:00.000", 1, LEX_UNIT_YEAR,
                  "1969-01-01 00:00:00.000", "1970-01-01 00:00:00.000");
    /* 1969-06 is month index -7; multiples of 5 around it: -10 and -5 */
    EXPECT_PERIOD("1969-06-30 00:00:00.000", 5, LEX_UNIT_MONTH,
                  "1969-03-01 00:00:00.000", "1969-08-01 00:00:00.000");
    EXPECT_PERIOD("1900-03-01 00:00:00.000", 1, LEX_UNIT_QUARTER,
                  "1900-01-01 00:00:00.000", "1900-04-01 00:00:00.000");
}

TEST(periods_out_of_range_are_left_alone)
{
    struct lex_period p = {1000000000, LEX_UNIT_YEAR};
    struct lex_period w = {1000000000000000LL, LEX_UNIT_WEEK};
    struct lex_period h = {1, LEX_UNIT_HOUR};

    CHECK_EQ_INT(fn_period_floor(12345, &p), 12345);
    CHECK_EQ_INT(fn_period_ceil(12345, &w), 12345);
    CHECK_EQ_INT(fn_period_floor(INT64_MAX, &h), INT64_MAX);
    CHECK_EQ_INT(fn_period_ceil(INT64_MIN, &h), INT64_MIN);
}

TEST(bin_datefloor_dateceil_through_fn_call)
{
    struct lex_period per[2] = {{5, LEX_UNIT_MIN}, {1, LEX_UNIT_HOUR}};
    struct val args[2] = {NUL, NUL};
    struct fn_args fa = {args, per, NULL, 1};
    struct fn_ctx ctx;
    struct arena a;
    struct val out;
    char t[24];

    ctx_init(&ctx, &a);
    ctx.timestamp_ms = ms_of("2024-02-29 13:47:12.345");
    CHECK_OK(fn_call(fn_get(FN_BIN), &fa, &ctx, &out));
    REQUIRE_EQ_INT(out.kind, VAL_TIME);
    fmt_time(out.u.ms, t);
    CHECK_EQ_STR(t, "2024-02-29 13:45:00.000");

    fa.n = 2;
    args[0] = S("2024-02-29T13:47:12.345Z");
    CHECK_OK(fn_call(fn_get(FN_DATEFLOOR), &fa, &ctx, &out));
    REQUIRE_EQ_INT(out.kind, VAL_TIME);
    fmt_time(out.u.ms, t);
    CHECK_EQ_STR(t, "2024-02-29 13:00:00.000");
    args[0] = N(1709214312345.0);
    CHECK_OK(fn_call(fn_get(FN_DATECEIL), &fa, &ctx, &out));
    REQUIRE_EQ_INT(out.kind, VAL_TIME);
    fmt_time(out.u.ms, t);
    CHECK_EQ_STR(t, "2024-02-29 14:00:00.000");
    args[0] = NUL;
    CHECK_OK(fn_call(fn_get(FN_DATECEIL), &fa, &ctx, &out));
    CHECK_EQ_INT(out.kind, VAL_NULL);
    args[0] = S("not a time");
    CHECK_OK(fn_call(fn_get(FN_DATEFLOOR), &fa, &ctx, &out));
    CHECK_EQ_INT(out.kind, VAL_NULL);
    /* no period data: null, not a crash */
    fa.periods = NULL;
    CHECK_OK(fn_call(fn_get(FN_BIN), &fa, &ctx, &out));
    CHECK_EQ_INT(out.kind, VAL_NULL);
    arena_fini(&a);
}

TEST(parse_date)
{
    const struct row rows[] = {
        R("parseDate", VAL_TIME, "2024-02-29 13:45:12.345",
          S("2024-02-29 13:45:12.345"), S("yyyy-MM-dd HH:mm:ss.SSS")),
        R("parseDate", VAL_NULL, "", S("2023-02-29"), S("yyyy-MM-dd")),
        R("parseDate", VAL_NULL, "", S("1900-02-29"), S("yyyy-MM-dd")),
        R("parseDate", VAL_TIME, "2000-02-29 00:00:00.000", S("2000-02-29"), S("yyyy-MM-dd")),
        R("parseDate", VAL_TIME, "2024-02-29 12:45:12.000",
          S("29/Feb/2024:13:45:12 +0100"), S("dd/MMM/yyyy:HH:mm:ss Z")),
        R("parseDate", VAL_TIME, "2024-01-02 03:04:05.000",
          S("2024-01-02T03:04:05Z"), S("yyyy-MM-dd'T'HH:mm:ssXXX")),
        R("parseDate", VAL_TIME, "2024-01-01 21:34:05.000",
          S("2024-01-02T03:04:05+05:30"), S("yyyy-MM-dd'T'HH:mm:ssXXX")),
        R("parseDate", VAL_TIME, "2024-01-02 15:04:00.000",
          S("01/02/24 3:04 PM"), S("MM/dd/yy h:mm a")),
        R("parseDate", VAL_TIME, "1970-01-01 00:30:00.000", S("12:30 am"), S("hh:mm a")),
        R("parseDate", VAL_TIME, "1970-01-01 12:30:00.000", S("12:30 PM"), S("hh:mm a")),
        R("parseDate", VAL_NULL, "", S("13:30 PM"), S("hh:mm a")),
        R("parseDate", VAL_TIME, "2024-01-02 01:04:00.000",
          S("2024-01-02 03:04"), S("yyyy-MM-dd HH:mm"), S("+02:00")),
        R("parseDate", VAL_TIME, "2024-01-02 06:04:00.000",
          S("2024-01-02 03:04"), S("yyyy-MM-dd HH:mm"), S("UTC-3")),
        R("parseDate", VAL_TIME, "2024-01-02 03:04:00.000",
          S("2024-01-02 03:04"), S("yyyy-MM-dd HH:mm"), S("UTC")),
        /* an offset in the text wins over the tz argument */
        R("parseDate", VAL_TIME, "2024-01-02 03:04:00.000",
          S("2024-01-02 03:04Z"), S("yyyy-MM-dd HH:mmX"), S("+02:00")),
        R("parseDate", VAL_NULL, "",
          S("2024-01-02 03:04"), S("yyyy-MM-dd HH:mm"), S("America/New_York")),
        R("parseDate", VAL_NULL, "", S("2024-01-02 03:04"), S("yyyy-MM-dd HH:mm"), NUL),
        R("parseDate", VAL_NULL, "", S("2024-01-02x"), S("yyyy-MM-dd")),
        R("parseDate", VAL_NULL, "", S("2024-01"), S("yyyy-MM-dd")),
        R("parseDate", VAL_TIME, "2024-01-02 03:04:05.000",
          S("Tue, 02 Jan 2024 03:04:05 GMT"), S("EEE, dd MMM yyyy HH:mm:ss z")),
        R("parseDate", VAL_TIME, "2024-09-02 00:00:00.000",
          S("Monday 2 september 2024"), S("EEEE d MMMM yyyy")),
        R("parseDate", VAL_TIME, "1970-01-01 05:00:00.000", S("o'clock 5"), S("'o''clock' H")),
        R("parseDate", VAL_NULL, "", S("2024"), S("yyyy'")),
        R("parseDate", VAL_NULL, "", S("2024-13-01"), S("yyyy-MM-dd")),
        R("parseDate", VAL_NULL, "", S("2024-04-31"), S("yyyy-MM-dd")),
        R("parseDate", VAL_NULL, "", S("24:00"), S("HH:mm")),
        R("parseDate", VAL_NULL, "", S("10:60"), S("HH:mm")),
        R("parseDate", VAL_TIME, "2024-01-02 00:00:00.000", S("20240102"), S("yyyyMMdd")),
        R("parseDate", VAL_TIME, "2024-02-29 00:00:00.000", S("2024-060"), S("yyyy-DDD")),
        R("parseDate", VAL_NULL, "", S("2023-366"), S("yyyy-DDD")),
        R("parseDate", VAL_TIME, "1969-12-31 23:59:59.999",
          S("1969-12-31 23:59:59.999"), S("yyyy-MM-dd HH:mm:ss.SSS")),
        R("parseDate", VAL_TIME, "2024-01-02 03:04:05.100",
          S("2024-01-02 03:04:05.1"), S("yyyy-MM-dd HH:mm:ss.S")),
        R("parseDate", VAL_TIME, "2024-01-02 03:04:05.123",
          S("2024-01-02 03:04:05.123456"), S("yyyy-MM-dd HH:mm:ss.SSSSSS")),
        R("parseDate", VAL_TIME, "2024-01-02 03:04:05.000",
          S("2024-1-2 3:4:5"), S("yyyy-M-d H:m:s")),
        R("parseDate", VAL_NULL, "", S("x"), S("Q")),
        R("parseDate", VAL_NULL, "", NUL, S("yyyy")),
        R("parseDate", VAL_NULL, "", S("2024"), NUL),
    };
    RUN(rows);
}

TEST(format_date_and_strftime)
{
    const struct row rows[] = {
        R("formatDate", VAL_STR, "2024-02-29T13:45:12.345Z",
          TM(T_2024), S("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")),
        R("formatDate", VAL_STR, "2024-02-29 19:15", TM(T_2024), S("yyyy-MM-dd HH:mm"), S("+05:30")),
        R("formatDate", VAL_STR, "Thu, 29 Feb 2024 5:45 AM",
          TM(T_2024), S("EEE, d MMM yyyy h:mm a"), S("-08:00")),
        R("formatDate", VAL_STR, "Thursday February 29 24", TM(T_2024), S("EEEE MMMM dd yy")),
        /* X writes minutes only when there are some, as java.time does */
        R("formatDate", VAL_STR, "+05:30 +0530 GMT+05:30 +05:30 +0530",
          TM(T_2024), S("XXX Z ZZZZ z X"), S("+05:30")),
        R("formatDate", VAL_STR, "Z +00 +0000 GMT UTC Z", TM(T_2024), S("X x Z ZZZZ z XXX")),
        R("formatDate", VAL_STR, "-03 -0300", TM(T_2024), S("X XX"), S("GMT-3")),
        R("formatDate", VAL_STR, "60 day ' 1 13 01 1", TM(T_2024), S("D 'day' '' K H hh h")),
        R("formatDate", VAL_STR, "345000 3 34", TM(T_2024), S("SSSSSS S SS")),
        R("formatDate", VAL_STR, "2023", N(1700000000000.0), S("yyyy")),
        R("formatDate", VAL_STR, "2024-01-02", S("2024-01-02T03:04:05Z"), S("yyyy-MM-dd")),
        R("formatDate", VAL_STR, "1969-12-31 23:59:59.999", TM(-1), S("yyyy-MM-dd HH:mm:ss.SSS")),
        R("formatDate", VAL_STR, "1970-01-01 (Thu)", TM(0), S("yyyy-MM-dd (E)")),
        R("formatDate", VAL_STR, "", TM(T_2024), S("")),
        R("formatDate", VAL_NULL, "", TM(T_2024), S("yyyy-MM-dd"), S("Mars/Olympus")),
        R("formatDate", VAL_NULL, "", TM(T_2024), S("yyyy-MM-dd"), S("+19:00")),
        R("formatDate", VAL_NULL, "", TM(T_2024), S("Q")),
        R("formatDate", VAL_NULL, "", TM(T_2024), S("'open")),
        R("formatDate", VAL_NULL, "", NUL, S("yyyy")),
        R("formatDate", VAL_NULL, "", S("soon"), S("yyyy")),
        R("strftime", VAL_STR, "2024-02-29T13:45:12.345+0000",
          TM(T_2024), S("%Y-%m-%dT%H:%M:%S.%L%z")),
        R("strftime", VAL_STR,
          "Thu Thursday Feb February 29 060 01 PM 1709214312 4 4 2024-02-29 13:45:12 % %q 24 345000",
          TM(T_2024), S("%a %A %b %B %e %j %I %p %s %u %w %F %T %% %q %y %f")),
        R("strftime", VAL_STR, " 2 UTC", TM(ms_of("2024-01-02 00:00:00.000")), S("%e %Z")),
        R("strftime", VAL_STR, "19:15 +0530 +05:30", TM(T_2024), S("%H:%M %z %Z"), S("+05:30")),
        R("strftime", VAL_STR, "2024/02/29", TM(T_2024), S("yyyy/MM/dd")),
        R("strftime", VAL_STR, "100%", TM(T_2024), S("100%")),
        R("strftime", VAL_NULL, "", NUL, S("%Y")),
    };
    RUN(rows);
}

/* ------------------------------------------------------------------ */
/* IP                                                                   */

TEST(ip_validity)
{
    const struct row rows[] = {
        R("isValidIp", VAL_BOOL, "1", S("192.168.0.1")),
        R("isValidIp", VAL_BOOL, "1", S("0.0.0.0")),
        R("isValidIp", VAL_BOOL, "1", S("255.255.255.255")),
        R("isValidIp", VAL_BOOL, "0", S("256.1.1.1")),
        R("isValidIp", VAL_BOOL, "0", S("01.2.3.4")),
        R("isValidIp", VAL_BOOL, "0", S("1.2.3.04")),
        R("isValidIp", VAL_BOOL, "0", S("1.2.3")),
        R("isValidIp", VAL_BOOL, "0", S("1.2.3.4.5")),
        R("isValidIp", VAL_BOOL, "0", S("1.2.3.4 ")),
        R("isValidIp", VAL_BOOL, "0", S("1.2.3.")),
        R("isValidIp", VAL_BOOL, "0", S("1..3.4")),
        R("isValidIp", VAL_BOOL, "0", S("1.2.3.0004")),
        R("isValidIp", VAL_BOOL, "0", S("+1.2.3.4")),
        R("isValidIp", VAL_BOOL, "1", S("::1")),
        R("isValidIp", VAL_BOOL, "1", S("::")),
        R("isValidIp", VAL_BOOL, "1", S("2001:db8::8a2e:370:7334")),
        R("isValidIp", VAL_BOOL, "1", S("2001:DB8:0:0:0:0:0:1")),
        R("isValidIp", VAL_BOOL, "1", S("::ffff:1.2.3.4")),
        R("isValidIp", VAL_BOOL, "0", S("::ffff:01.2.3.4")),
        R("isValidIp", VAL_BOOL, "0", S("1::2::3")),
        R("isValidIp", VAL_BOOL, "0", S("fe80::1%eth0")),
        R("isValidIp", VAL_BOOL, "0", S("[::1]")),
        R("isValidIp", VAL_BOOL, "0", S("12345::")),
        R("isValidIp", VAL_BOOL, "0", S("")),
        R("isValidIp", VAL_BOOL, "0", NUL),
        R("isValidIp", VAL_BOOL, "0", N(1234)),
        R("isValidIp", VAL_BOOL, "0", val_str("1.2.3.4\0", 8)),
        R("isValidIpV4", VAL_BOOL, "1", S("1.2.3.4")),
        R("isValidIpV4", VAL_BOOL, "0", S("::1")),
        R("isValidIpV4", VAL_BOOL, "0", S("::ffff:1.2.3.4")),
        R("isValidIpV6", VAL_BOOL, "1", S("::1")),
        R("isValidIpV6", VAL_BOOL, "1", S("::ffff:1.2.3.4")),
        R("isValidIpV6", VAL_BOOL, "0", S("1.2.3.4")),
        R("isValidIpV6", VAL_BOOL, "0", NUL),
        R("ipv4ToNumber", VAL_NUM, "16909060", S("1.2.3.4")),
        R("ipv4ToNumber", VAL_NUM, "4294967295", S("255.255.255.255")),
        R("ipv4ToNumber", VAL_NUM, "0", S("0.0.0.0")),
        R("ipv4ToNumber", VAL_NULL, "", S("::1")),
        R("ipv4ToNumber", VAL_NULL, "", S("1.2.3")),
        R("ipv4ToNumber", VAL_NULL, "", NUL),
    };
    RUN(rows);
}

TEST(ip_subnets)
{
    const struct row rows[] = {
        R("isIpInSubnet", VAL_BOOL, "1", S("192.0.2.55"), S("192.0.2.0/24")),
        R("isIpInSubnet", VAL_BOOL, "0", S("192.0.3.1"), S("192.0.2.0/24")),
        R("isIpInSubnet", VAL_BOOL, "1", S("10.1.2.3"), S("0.0.0.0/0")),
        R("isIpInSubnet", VAL_BOOL, "1", S("10.1.2.3"), S("10.1.2.3/32")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.4"), S("10.1.2.3/32")),
        R("isIpInSubnet", VAL_BOOL, "1", S("10.1.2.3"), S("10.1.2.3")),
        R("isIpInSubnet", VAL_BOOL, "1", S("10.1.2.3"), S("10.9.9.9/8")),
        R("isIpInSubnet", VAL_BOOL, "1", S("172.31.255.255"), S("172.16.0.0/12")),
        R("isIpInSubnet", VAL_BOOL, "0", S("172.32.0.1"), S("172.16.0.0/12")),
        R("isIpInSubnet", VAL_BOOL, "1", S("10.1.2.1"), S("10.1.2.0/31")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.3"), S("10.1.2.0/31")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.3"), S("10.1.2.0/30x")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.3"), S("10.0.0.0/33")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.3"), S("10.0.0.0/")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.3"), S("10.0.0.0/abc")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.3"), S("10.0.0.0/+8")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.3"), S("10.0.0.0/-1")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.3"), S("10.0.0/8")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.3"), S("/8")),
        R("isIpInSubnet", VAL_BOOL, "1", S("2001:db8::1"), S("2001:db8::/32")),
        R("isIpInSubnet", VAL_BOOL, "0", S("2001:db9::1"), S("2001:db8::/32")),
        R("isIpInSubnet", VAL_BOOL, "0", S("2001:db8::1"), S("2001:db8::/33x")),
        R("isIpInSubnet", VAL_BOOL, "1", S("::1"), S("::1/128")),
        R("isIpInSubnet", VAL_BOOL, "0", S("::2"), S("::1/128")),
        R("isIpInSubnet", VAL_BOOL, "1", S("2001:db8::1"), S("::/0")),
        R("isIpInSubnet", VAL_BOOL, "0", S("2001:db8::1"), S("2001:db8::/129")),
        R("isIpInSubnet", VAL_BOOL, "1", S("2001:db8:7fff::1"), S("2001:db8::/33")),
        R("isIpInSubnet", VAL_BOOL, "0", S("2001:db8:8000::1"), S("2001:db8::/33")),
        /* IPv4-mapped addresses meet IPv4 networks, both ways */
        R("isIpInSubnet", VAL_BOOL, "1", S("::ffff:10.1.2.3"), S("10.0.0.0/8")),
        R("isIpInSubnet", VAL_BOOL, "1", S("10.1.2.3"), S("::ffff:10.0.0.0/104")),
        R("isIpInSubnet", VAL_BOOL, "1", S("10.1.2.3"), S("::ffff:0:0/96")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.1.2.3"), S("2001:db8::/32")),
        R("isIpInSubnet", VAL_BOOL, "0", S("2001:db8::1"), S("0.0.0.0/0")),
        R("isIpInSubnet", VAL_BOOL, "0", S("bad"), S("10.0.0.0/8")),
        R("isIpInSubnet", VAL_BOOL, "0", NUL, S("10.0.0.0/8")),
        R("isIpInSubnet", VAL_BOOL, "0", S("10.0.0.1"), NUL),
        /* the reference's sample: isIpv4InSubnet(srcAddr, "192.0.2.0/24") */
        R("isIpv4InSubnet", VAL_BOOL, "1", S("192.0.2.55"), S("192.0.2.0/24")),
        R("isIpv4InSubnet", VAL_BOOL, "0", S("192.0.1.255"), S("192.0.2.0/24")),
        R("isIpv4InSubnet", VAL_BOOL, "1", S("1.2.3.4"), S("0.0.0.0/0")),
        R("isIpv4InSubnet", VAL_BOOL, "0", S("::ffff:192.0.2.55"), S("192.0.2.0/24")),
        R("isIpv4InSubnet", VAL_BOOL, "0", S("192.0.2.55"), S("::ffff:192.0.2.0/120")),
        R("isIpv6InSubnet", VAL_BOOL, "1", S("2001:db8::1"), S("2001:db8::/32")),
        R("isIpv6InSubnet", VAL_BOOL, "1", S("::"), S("::/128")),
        R("isIpv6InSubnet", VAL_BOOL, "0", S("192.0.2.1"), S("::/0")),
        R("isIpv6InSubnet", VAL_BOOL, "1", S("::ffff:192.0.2.1"), S("::ffff:192.0.2.0/120")),
        R("isIpv6InSubnet", VAL_BOOL, "0", S("2001:db8::1"), S("10.0.0.0/8")),
    };
    RUN(rows);
}

TEST(ip_classes)
{
    const struct row rows[] = {
        R("isPrivateIP", VAL_BOOL, "1", S("10.0.0.1")),
        R("isPrivateIP", VAL_BOOL, "1", S("172.16.0.1")),
        R("isPrivateIP", VAL_BOOL, "1", S("172.31.255.255")),
        R("isPrivateIP", VAL_BOOL, "0", S("172.32.0.1")),
        R("isPrivateIP", VAL_BOOL, "1", S("192.168.1.1")),
        R("isPrivateIP", VAL_BOOL, "0", S("192.169.1.1")),
        R("isPrivateIP", VAL_BOOL, "0", S("127.0.0.1")),
        R("isPrivateIP", VAL_BOOL, "0", S("8.8.8.8")),
        R("isPrivateIP", VAL_BOOL, "1", S("fd00::1")),
        R("isPrivateIP", VAL_BOOL, "1", S("fc00::1")),
        R("isPrivateIP", VAL_BOOL, "0", S("fe80::1")),
        R("isPrivateIP", VAL_BOOL, "1", S("::ffff:10.0.0.1")),
        R("isPrivateIP", VAL_BOOL, "0", S("bad")),
        R("isPrivateIP", VAL_BOOL, "0", NUL),
        R("isReservedIP", VAL_BOOL, "1", S("127.0.0.1")),
        R("isReservedIP", VAL_BOOL, "1", S("169.254.1.1")),
        R("isReservedIP", VAL_BOOL, "1", S("100.64.0.1")),
        R("isReservedIP", VAL_BOOL, "0", S("100.128.0.1")),
        R("isReservedIP", VAL_BOOL, "1", S("224.0.0.1")),
        R("isReservedIP", VAL_BOOL, "1", S("255.255.255.255")),
        R("isReservedIP", VAL_BOOL, "1", S("0.0.0.0")),
        R("isReservedIP", VAL_BOOL, "1", S("192.0.2.1")),
        R("isReservedIP", VAL_BOOL, "1", S("198.19.255.255")),
        R("isReservedIP", VAL_BOOL, "0", S("198.20.0.0")),
        R("isReservedIP", VAL_BOOL, "0", S("10.0.0.1")),
        R("isReservedIP", VAL_BOOL, "0", S("8.8.8.8")),
        R("isReservedIP", VAL_BOOL, "1", S("::1")),
        R("isReservedIP", VAL_BOOL, "1", S("::")),
        R("isReservedIP", VAL_BOOL, "1", S("fe80::1")),
        R("isReservedIP", VAL_BOOL, "1", S("ff02::1")),
        R("isReservedIP", VAL_BOOL, "1", S("2001:db8::1")),
        R("isReservedIP", VAL_BOOL, "0", S("2606:4700::1111")),
        R("isReservedIP", VAL_BOOL, "1", S("::ffff:127.0.0.1")),
        R("isReservedIP", VAL_BOOL, "0", NUL),
        R("isPublicIP", VAL_BOOL, "1", S("8.8.8.8")),
        R("isPublicIP", VAL_BOOL, "1", S("1.1.1.1")),
        R("isPublicIP", VAL_BOOL, "1", S("100.63.255.255")),
        R("isPublicIP", VAL_BOOL, "0", S("100.64.0.0")),
        R("isPublicIP", VAL_BOOL, "0", S("10.0.0.1")),
        R("isPublicIP", VAL_BOOL, "0", S("127.0.0.1")),
        R("isPublicIP", VAL_BOOL, "1", S("2606:4700::1111")),
        R("isPublicIP", VAL_BOOL, "0", S("fd00::1")),
        R("isPublicIP", VAL_BOOL, "1", S("::ffff:8.8.8.8")),
        R("isPublicIP", VAL_BOOL, "0", S("bad")),
        R("isPublicIP", VAL_BOOL, "0", NUL),
    };
    RUN(rows);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                 */

TEST(json_parse_stringify)
{
    const struct row rows[] = {
        R("jsonParse", VAL_JSON, "{\"a\": [1, 2]}", S("{\"a\": [1, 2]}")),
        R("jsonParse", VAL_JSON, "[1,2]", S("  [1,2] \n")),
        R("jsonParse", VAL_JSON, "{}", S("{}")),
        R("jsonParse", VAL_JSON, "[\"\\u00e9\\n\",true,false,null,-0.5e+3]",
          S("[\"\\u00e9\\n\",true,false,null,-0.5e+3]")),
        R("jsonParse", VAL_NULL, "", S("5")),
        R("jsonParse", VAL_NULL, "", S("\"s\"")),
        R("jsonParse", VAL_NULL, "", S("{bad}")),
        R("jsonParse", VAL_NULL, "", S("{\"a\" 1}")),
        R("jsonParse", VAL_NULL, "", S("[1,]")),
        R("jsonParse", VAL_NULL, "", S("[1 2]")),
        R("jsonParse", VAL_NULL, "", S("{\"a\":1} x")),
        R("jsonParse", VAL_NULL, "", S("[01]")),
        R("jsonParse", VAL_NULL, "", S("[1.]")),
        R("jsonParse", VAL_NULL, "", S("[\"\\x\"]")),
        R("jsonParse", VAL_NULL, "", S("[\"\\u12\"]")),
        R("jsonParse", VAL_NULL, "", S("[\"a\tb\"]")),
        R("jsonParse", VAL_NULL, "", S("[tru]")),
        R("jsonParse", VAL_NULL, "", S("[")),
        R("jsonParse", VAL_NULL, "", S("")),
        R("jsonParse", VAL_NULL, "", NUL),
        R("jsonStringify", VAL_STR, "{\"a\":[1,\"x y\"]}", S("{ \"a\" : [ 1 , \"x y\" ] }")),
        R("jsonStringify", VAL_STR, "[\"a \\\" b\"]", S("[ \"a \\\" b\" ]")),
        R("jsonStringify", VAL_STR, "\"abc\"", S("abc")),
        R("jsonStringify", VAL_STR, "\"line\\n\\\"q\\\"\"", S("line\n\"q\"")),
        R("jsonStringify", VAL_STR, "\"\xEF\xBF\xBD\"", S("\xff")),
        R("jsonStringify", VAL_STR, "5", N(5)),
        R("jsonStringify", VAL_STR, "true", B(true)),
        R("jsonStringify", VAL_STR, "\"2024-02-29 13:45:12.345\"", TM(T_2024)),
        R("jsonStringify", VAL_NULL, "", NUL),
    };
    RUN(rows);
}

TEST(json_parse_then_stringify_and_depth)
{
    char deep[602];
    struct val args[1];
    struct fn_args fa = {args, NULL, NULL, 1};
    struct fn_ctx ctx;
    struct arena a;
    struct val parsed, out;

    ctx_init(&ctx, &a);
    args[0] = S(" { \"k\" : { \"n\" : [ ] } } ");
    CHECK_OK(fn_call(fn_get(FN_JSONPARSE), &fa, &ctx, &parsed));
    REQUIRE_EQ_INT(parsed.kind, VAL_JSON);
    args[0] = parsed;
    CHECK_OK(fn_call(fn_get(FN_JSONSTRINGIFY), &fa, &ctx, &out));
    REQUIRE_EQ_INT(out.kind, VAL_STR);
    CHECK_EQ_MEM(out.u.s, out.len, "{\"k\":{\"n\":[]}}", 14);

    /* 200 levels parse; 300 are refused instead of recursed into */
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    args[0] = val_str(deep, 400);
    CHECK_OK(fn_call(fn_get(FN_JSONPARSE), &fa, &ctx, &out));
    CHECK_EQ_INT(out.kind, VAL_JSON);
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    args[0] = val_str(deep, 600);
    CHECK_OK(fn_call(fn_get(FN_JSONPARSE), &fa, &ctx, &out));
    CHECK_EQ_INT(out.kind, VAL_NULL);
    arena_fini(&a);
}

TEST(json_arrays)
{
    const char *arr = "[1, \"two\", true, null, [3, {\"a\": 4}], \"1\", 2.50]";
    const struct row rows[] = {
        R("jsonArraySize", VAL_NUM, "3", S("[1, [2, 3], {\"a\": 4}]")),
        R("jsonArraySize", VAL_NUM, "0", S("[ ]")),
        R("jsonArraySize", VAL_NUM, "7", S(arr)),
        R("jsonArraySize", VAL_NULL, "", S("{}")),
        R("jsonArraySize", VAL_NULL, "", S("x")),
        R("jsonArraySize", VAL_NULL, "", NUL),
        R("jsonArrayContains", VAL_BOOL, "1", S(arr), N(1)),
        R("jsonArrayContains", VAL_BOOL, "1", S(arr), S("1")),
        R("jsonArrayContains", VAL_BOOL, "1", S(arr), S("two")),
        R("jsonArrayContains", VAL_BOOL, "0", S(arr), S("tw")),
        R("jsonArrayContains", VAL_BOOL, "1", S(arr), B(true)),
        R("jsonArrayContains", VAL_BOOL, "1", S(arr), S("true")),
        R("jsonArrayContains", VAL_BOOL, "0", S(arr), B(false)),
        R("jsonArrayContains", VAL_BOOL, "1", S(arr), S("[3,{\"a\":4}]")),
        R("jsonArrayContains", VAL_BOOL, "1", S(arr), S("[ 3, { \"a\" : 4 } ]")),
        R("jsonArrayContains", VAL_BOOL, "0", S(arr), N(4)),
        R("jsonArrayContains", VAL_BOOL, "1", S(arr), N(2.5)),
        R("jsonArrayContains", VAL_BOOL, "0", S(arr), S("null")),
        R("jsonArrayContains", VAL_BOOL, "0", S(arr), NUL),
        R("jsonArrayContains", VAL_BOOL, "1", S("[\"\\u00e9\"]"), S("é")),
        R("jsonArrayContains", VAL_BOOL, "1", S("[\"\\ud83d\\ude00\"]"), S("😀")),
        R("jsonArrayContains", VAL_BOOL, "1", S("[\"a\\\"b\\\\\"]"), S("a\"b\\")),
        R("jsonArrayContains", VAL_BOOL, "1", S("[\"1\"]"), N(1)),
        R("jsonArrayContains", VAL_BOOL, "1", S("[1.0]"), N(1)),
        R("jsonArrayContains", VAL_BOOL, "0", S("{\"a\": 1}"), N(1)),
        R("jsonArrayContains", VAL_BOOL, "0", S("[1"), N(1)),
        R("jsonArrayContains", VAL_BOOL, "0", NUL, N(1)),
    };
    RUN(rows);
}

TEST(split_result_is_a_json_array)
{
    struct val args[2] = {S("a,b,c"), S(",")};
    struct fn_args fa = {args, NULL, NULL, 2};
    struct fn_ctx ctx;
    struct arena a;
    struct val list, out;

    ctx_init(&ctx, &a);
    CHECK_OK(fn_call(fn_get(FN_SPLIT), &fa, &ctx, &list));
    fa.n = 1;
    args[0] = list;
    CHECK_OK(fn_call(fn_get(FN_JSONARRAYSIZE), &fa, &ctx, &out));
    CHECK_EQ_INT(out.kind, VAL_NUM);
    CHECK(out.u.num == 3);
    fa.n = 2;
    args[1] = S("b");
    CHECK_OK(fn_call(fn_get(FN_JSONARRAYCONTAINS), &fa, &ctx, &out));
    CHECK(out.kind == VAL_BOOL && out.u.b);
    arena_fini(&a);
}

/* ------------------------------------------------------------------ */
/* Every function, and running out of memory                            */

TEST(every_scalar_function_answers)
{
    struct val args[FN_MANY];
    struct lex_period per[FN_MANY];
    void *rx[FN_MANY];

    for (size_t i = 0; i < FN_MANY; i++) {
        per[i] = (struct lex_period){1, LEX_UNIT_HOUR};
        rx[i] = NULL;
    }
    for (int id = 0; id < FN_NUM_IDS; id++) {
        const struct fn_def *f = fn_get((enum fn_id)id);
        size_t n = f->min_args;
        struct fn_ctx ctx;
        struct arena a;
        struct val out;
        enum sl_status st;

        ctx_init(&ctx, &a);
        for (int round = 0; round < 3; round++) {
            for (size_t i = 0; i < FN_MANY; i++)
                args[i] = round == 0 ? val_null() : round == 1 ? S("1.2.3.4") : N(-7.5);
            {
                struct fn_args fa = {args, per, rx, n};
                st = fn_call(f, &fa, &ctx, &out);
            }
            if (fn_is_agg(f)) {
                CHECK_EQ_INT(st, SL_INTERNAL);
            } else if (st != SL_OK) {
                fprintf(stderr, "  %s: status %d on round %d\n", f->name, (int)st, round);
                test_failed_now = 1;
            }
        }
        arena_fini(&a);
    }
}

TEST(scratch_exhaustion_is_nomem)
{
    static const enum fn_id ids[] = {
        FN_CONCAT, FN_TOUPPER, FN_REPLACE, FN_SPLIT, FN_URLENCODE,
        FN_BASE64ENCODE, FN_FORMATDATE, FN_JSONSTRINGIFY};
    char big[512];
    struct val args[3];
    struct fn_ctx ctx;
    struct arena a;
    struct val out;

    memset(big, 'x', sizeof(big));
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        const struct fn_def *f = fn_get(ids[i]);
        struct fn_args fa = {args, NULL, NULL, f->min_args < 2 ? 2 : f->min_args};
        if (f->max_args < fa.n)
            fa.n = f->max_args;
        args[0] = val_str(big, sizeof(big));
        args[1] = S("x");
        args[2] = S("yy");
        if (ids[i] == FN_FORMATDATE) {
            args[0] = TM(T_2024);
            args[1] = S("EEEE EEEE EEEE EEEE EEEE EEEE EEEE EEEE EEEE EEEE");
        }
        ctx_init(&ctx, &a);
        arena_fini(&a);
        arena_init(&a, 64, 64);
        ctx.scratch = &a;
        if (fn_call(f, &fa, &ctx, &out) != SL_NOMEM) {
            fprintf(stderr, "  %s: expected SL_NOMEM\n", f->name);
            test_failed_now = 1;
        }
        CHECK_EQ_INT(out.kind, VAL_NULL);
        arena_fini(&a);
    }
}

TEST(regex_replace_nomem)
{
    pcre2_code *code = compile("x");
    char big[512];
    struct val args[3];
    void *rx[3] = {NULL, code, NULL};
    struct fn_args fa = {args, NULL, rx, 3};
    struct fn_ctx ctx;
    struct arena a;
    struct val out;

    REQUIRE(code != NULL);
    memset(big, 'x', sizeof(big));
    args[0] = val_str(big, sizeof(big));
    args[1] = NUL;
    args[2] = S("yy");
    ctx_init(&ctx, &a);
    arena_fini(&a);
    arena_init(&a, 256, 256);
    ctx.scratch = &a;
    CHECK_EQ_INT(fn_call(fn_get(FN_REGEXREPLACE), &fa, &ctx, &out), SL_NOMEM);
    arena_fini(&a);
    pcre2_code_free(code);
}

TEST_MAIN()
