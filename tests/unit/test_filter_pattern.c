/* tests/unit/test_filter_pattern.c: CloudWatch Logs filter patterns
 * (query/filter_pattern.h) as tables: every form of reference 3 with
 * matching and non-matching messages from its examples, compile errors and
 * their messages, canonical renderings, metric values and dimensions,
 * concurrent matching, and out-of-memory paths. */
#include "common/arena.h"
#include "common/buf.h"
#include "query/filter_pattern.h"
#include "tests/harness.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef SLUICE_TESTING
#include "common/alloc.h"
#endif

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

struct mcase {
    const char *pat;
    const char *msg;
    bool want;
};

/* Runs a table of pattern/message/expected rows; names the failing row. */
static void run_cases(const struct mcase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct fpat *p = NULL;
        struct sl_err err = {0};
        if (fpat_compile(cases[i].pat, strlen(cases[i].pat), &p, &err) != SL_OK) {
            TEST_FAIL_AT("row %zu: pattern %s\n    failed: %s", i, cases[i].pat,
                         err.msg);
            continue;
        }
        if (fpat_match(p, cases[i].msg, strlen(cases[i].msg)) != cases[i].want)
            TEST_FAIL_AT("row %zu: pattern %s\n    message %s\n    want %s", i,
                         cases[i].pat, cases[i].msg,
                         cases[i].want ? "match" : "no match");
        fpat_free(p);
    }
}

#define RUN_CASES(t) run_cases((t), sizeof(t) / sizeof((t)[0]))

struct ecase {
    const char *pat;
    const char *want;   /* substring of err.msg */
    int col;            /* err.col, 0 = not checked */
};

/* Every row must fail with SL_INVALID, a message holding want, and col. */
static void run_errors(const struct ecase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct fpat *p = (struct fpat *)1;
        struct sl_err err = {0};
        enum sl_status st = fpat_compile(cases[i].pat, strlen(cases[i].pat), &p, &err);
        if (st != SL_INVALID || p != NULL) {
            TEST_FAIL_AT("row %zu: pattern %s compiled (status %d)", i,
                         cases[i].pat, st);
            fpat_free(st == SL_OK ? p : NULL);
            continue;
        }
        if (strstr(err.msg, cases[i].want) == NULL)
            TEST_FAIL_AT("row %zu: pattern %s\n    message: %s\n    want: %s", i,
                         cases[i].pat, err.msg, cases[i].want);
        if (cases[i].col != 0 && err.col != cases[i].col)
            TEST_FAIL_AT("row %zu: pattern %s: column %d, want %d (%s)", i,
                         cases[i].pat, err.col, cases[i].col, err.msg);
        CHECK_EQ_INT(err.code, SL_INVALID);
        CHECK_EQ_INT(err.line, 1);
    }
}

#define RUN_ERRORS(t) run_errors((t), sizeof(t) / sizeof((t)[0]))

static struct fpat *compile_ok(const char *pat)
{
    struct fpat *p = NULL;
    struct sl_err err = {0};

    if (fpat_compile(pat, strlen(pat), &p, &err) != SL_OK)
        TEST_FAIL_AT("pattern %s failed: %s", pat, err.msg);
    return p;
}

/* The AWS example log lines used throughout. */
static const char APACHE[] =
    "127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "
    "\"GET /index.html HTTP/1.0\" 404 1534";

static const char TRAIL[] =
    "{\"eventType\": \"UpdateTrail\", \"sourceIPAddress\": \"111.111.111.111\","
    " \"arrayKey\": [\"value\", \"another value\"],"
    " \"objectList\": [{\"name\": \"a\", \"id\": 1}, {\"name\": \"b\", \"id\": 2}],"
    " \"SomeObject\": null, \"ThisFlag\": true, \"ThatFlag\": false}";

static const char USERS[] =
    "{\"user\": {\"id\": 1, \"email\": \"John.Doe@example.com\"},"
    " \"users\": [{\"id\": 2, \"email\": \"John.Doe@example.com\"},"
    " {\"id\": 3, \"email\": \"Jane.Doe@example.com\"}],"
    " \"actions\": [\"GET\", \"PUT\", \"DELETE\"],"
    " \"coordinates\": [[0, 1], [2, 3]], \"latency\": 54.5}";

/* ------------------------------------------------------------------ */
/* Empty and term patterns (reference 3, 3.1)                           */

TEST(empty_and_blank_patterns_match_everything)
{
    static const char *const pats[] = {"", " ", "  \t ", "\"\"", "\" \"", " \"\"  "};
    for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
        struct fpat *p = compile_ok(pats[i]);
        REQUIRE(p != NULL);
        CHECK_EQ_INT(fpat_kind(p), FPAT_ALL);
        CHECK(fpat_match(p, "", 0));
        CHECK(fpat_match(p, APACHE, strlen(APACHE)));
        CHECK(fpat_match(p, NULL, 0));
        CHECK_EQ_INT(fpat_nfields(p), 0);
        fpat_free(p);
    }
    struct fpat *p = NULL;
    struct sl_err err = {0};
    CHECK_OK(fpat_compile(NULL, 0, &p, &err));
    REQUIRE(p != NULL);
    CHECK(fpat_match(p, "x", 1));
    fpat_free(p);
    fpat_free(NULL);
}

TEST(term_patterns)
{
    static const struct mcase cases[] = {
        {"ERROR", "[ERROR] Caught IllegalArgumentException", true},
        {"ERROR", "[ERROR] Unhandled Exception", true},
        {"ERROR", "[WARN] Some warning", false},
        {"ERROR", "[error] lower case", false},             /* case-sensitive */
        {"ERROR", "", false},
        {"Exception", "[ERROR] NullPointerException", false}, /* whole tokens */
        {"Exception", "java.lang.Exception: boom", true},
        {"ERROR", "[ERROR 400]", true},
        {"ERROR", "ERRORS piled up", false},
        {"\"Exception\"", "[ERROR] NullPointerException", true}, /* phrases: anywhere */
        {"%Exception%", "[ERROR] NullPointerException", true},
        {"ERROR ARGUMENTS", "[ERROR] Unknown ARGUMENTS provided", true},
        {"ERROR ARGUMENTS", "[ERROR] Caught IllegalArgumentException", false},
        {"ERROR ARGUMENTS", "ARGUMENTS then ERROR", true},   /* any order */
        {"?ERROR ?WARN", "[ERROR] Unhandled Exception", true},
        {"?ERROR ?WARN", "[WARN] Some warning", true},
        {"?ERROR ?WARN", "[INFO] Everything fine", false},
        {"\"INTERNAL SERVER ERROR\"", "[ERROR] 500 INTERNAL SERVER ERROR", true},
        {"\"INTERNAL SERVER ERROR\"", "[ERROR] 500 INTERNAL ERROR SERVER", false},
        {"\"ERROR:\"", "ERROR: disk full", true},
        {"\"ERROR:\"", "ERROR disk full", false},
        {"ERROR -ARGUMENTS", "[ERROR] Caught IllegalArgumentException", true},
        {"ERROR -ARGUMENTS", "[ERROR] Unknown ARGUMENTS provided", false},
        {"-DEBUG", "[INFO] fine", true},
        {"-DEBUG", "[DEBUG] noisy", false},
        {"-\"DEBUG:\"", "DEBUG noisy", true},
        /* mixed: all plain, none excluded, one of the ?terms */
        {"ERROR ?disk ?net -retry", "ERROR disk full", true},
        {"ERROR ?disk ?net -retry", "ERROR net down", true},
        {"ERROR ?disk ?net -retry", "ERROR cpu hot", false},
        {"ERROR ?disk ?net -retry", "ERROR disk full, retry", false},
        {"ERROR ?disk ?net -retry", "WARN disk full", false},
        {"caf\xc3\xa9", "un caf\xc3\xa9 noir", true},       /* non-ASCII word */
        {"\"say \\\"hi\\\"\"", "they say \"hi\" here", true},
        {"\"a\\\\b\"", "path a\\b", true},
        {"  ERROR\t\n", "ERROR", true},
        {"1", "HTTP 1.1", true},
        {"-\"\"", "anything", false},                      /* "" is in all */
    };
    RUN_CASES(cases);
}

TEST(regex_patterns)
{
    static const struct mcase cases[] = {
        {"%AUTHORIZED%", "user UNAUTHORIZED", true},
        {"%AUTHORIZED%", "user authorized", false},
        {"%ERR[0-9]+%", "code ERR42 seen", true},
        {"%ERR[0-9]+%", "code ERR seen", false},
        {"%^INFO%", "INFO start", true},
        {"%^INFO%", "x INFO start", false},
        {"%done$%", "all done", true},
        {"%a{2,3}b%", "xaab", true},
        {"%a{2,3}b%", "xab", false},
        {"%\\d{3} ms%", "took 120 ms", true},
        {"%\\(x\\)%", "f(x)", true},                   /* escaped parens */
        {"%100\\%%", "at 100% now", true},             /* escaped percent */
        {"%err|warn%", "a warn", true},
        {"ERROR %5\\d\\d%", "ERROR 503 busy", true},
        {"ERROR %5\\d\\d%", "ERROR 404 gone", false},
        {"?%^A% ?%^B%", "B first", true},
        {"-%DEBUG|TRACE%", "TRACE x", false},
        {"-%DEBUG|TRACE%", "INFO x", true},
        {"%[/;,=@#:-]%", "a:b", true},
    };
    RUN_CASES(cases);
}

TEST(term_pattern_errors)
{
    static const struct ecase cases[] = {
        {"ERROR:", "Invalid character(s) in term 'ERROR:'", 6},
        {"ERROR: x", "quote terms that hold characters other than letters", 6},
        {"ok a-b", "Invalid character(s) in term 'a-b'", 5},
        {"ERR*", "Invalid character(s) in term", 4},
        {"a ? b", "'?' at column 3 must be followed by a term", 3},
        {"a -", "'-' at column 3 must be followed by a term", 3},
        {"\"unterminated", "Unterminated quoted string", 1},
        {"\"a\"b", "Expected a blank after the term", 4},
        {"%abc", "Unterminated regex", 1},
        {"%%", "Empty regex", 1},
        {"%(a)%", "Invalid character '(' in regex at column 2", 2},
        {"%a\"b%", "Invalid character '\"' in regex", 3},
        {"%caf\xc3\xa9%", "Invalid character byte 0xc3 in regex", 5},
        {"%[a%", "Invalid regex %[a%", 0},
        {"%a\\", "Invalid escape in regex", 3},
        {"a\x01", "Invalid control character 0x01 at column 2", 2},
        {"{ $.a = 1 } ERROR", "Unexpected text after the closing '}'", 13},
        {"ERROR {", "Invalid character(s) in term '{'", 7},
    };
    RUN_ERRORS(cases);
}

TEST(pattern_length_limit)
{
    char text[FPAT_MAX_CHARS + 2];
    struct fpat *p = NULL;
    struct sl_err err = {0};

    memset(text, 'a', sizeof(text));
    CHECK_OK(fpat_compile(text, FPAT_MAX_CHARS, &p, &err));
    fpat_free(p);
    CHECK_EQ_INT(fpat_compile(text, FPAT_MAX_CHARS + 1, &p, &err), SL_INVALID);
    CHECK(strstr(err.msg, "1025 characters long; at most 1024") != NULL);
    /* characters, not bytes: 600 two-byte characters fit */
    {
        static char wide[1200];
        for (size_t i = 0; i < sizeof(wide); i += 2) {
            wide[i] = (char)0xc3;
            wide[i + 1] = (char)0xa9;
        }
        p = NULL;
        CHECK_OK(fpat_compile(wide, sizeof(wide), &p, &err));
        fpat_free(p);
    }
}

/* ------------------------------------------------------------------ */
/* JSON patterns (reference 3.3)                                        */

TEST(json_patterns_reference_examples)
{
    static const struct mcase cases[] = {
        {"{ $.eventType = \"UpdateTrail\" }", TRAIL, true},
        {"{ $.eventType = \"CreateTrail\" }", TRAIL, false},
        {"{ $.eventType = UpdateTrail }", TRAIL, true},
        {"{$.eventType=\"UpdateTrail\"}", TRAIL, true},
        {"{ $.sourceIPAddress != 123.123.* }", TRAIL, true},
        {"{ $.sourceIPAddress != 111.111.* }", TRAIL, false},
        {"{ $.sourceIPAddress = 111.111.* }", TRAIL, true},
        {"{ $.eventType = \"Update*\" }", TRAIL, true},
        {"{ $.eventType = \"*Trail\" }", TRAIL, true},
        {"{ $.eventType = \"*date*\" }", TRAIL, true},
        {"{ $.eventType = \"U*T*l\" }", TRAIL, true},
        {"{ $.eventType = \"U*x*l\" }", TRAIL, false},
        {"{ $.eventType = \"Update\" }", TRAIL, false},     /* whole value */
        {"{ $.arrayKey[0] = \"value\" }", TRAIL, true},
        {"{ $.arrayKey[1] = \"another value\" }", TRAIL, true},
        {"{ $.arrayKey[2] = * }", TRAIL, false},
        {"{ $.objectList[1].id = 2 }", TRAIL, true},
        {"{ $.objectList[0].id = 2 }", TRAIL, false},
        {"{ $.SomeObject IS NULL }", TRAIL, true},
        {"{ $.eventType IS NULL }", TRAIL, false},
        {"{ $.Missing IS NULL }", TRAIL, false},
        {"{ $.SomeOtherObject NOT EXISTS }", TRAIL, true},
        {"{ $.SomeObject NOT EXISTS }", TRAIL, false},      /* null exists */
        {"{ $.ThisFlag IS TRUE }", TRAIL, true},
        {"{ $.ThatFlag IS TRUE }", TRAIL, false},
        {"{ $.ThatFlag IS FALSE }", TRAIL, true},
        {"{ $.eventType IS TRUE }", TRAIL, false},
        {"{ $.ThisFlag is true }", TRAIL, true},            /* keywords any case */
        {"{ $.ThisFlag = true }", TRAIL, true},             /* text of a boolean */
        {"{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }",
         USERS, true},
        {"{ ($.user.id = 2) && ($.users[0].email = \"John.Doe@example.com\") }",
         USERS, false},
        {"{ ($.user.id = 2 && $.users[0].email = \"John.Doe@example.com\") || "
         "$.actions[2] = \"GET\" }", USERS, false},
        {"{ ($.user.id = 2 && $.users[0].email = \"John.Doe@example.com\") || "
         "$.actions[2] = \"DELETE\" }", USERS, true},
        {"{ $.user.email = \"John.Doe@example.com\" || $.coordinates[0][1] = 2 }",
         USERS, true},
        {"{ $.coordinates[0][1] = 1 }", USERS, true},
        {"{ $.coordinates[1][0] = 2 }", USERS, true},
        {"{ $.coordinates[1][2] = 2 }", USERS, false},
        {"{ $.latency = * }", USERS, true},
        {"{ $.latency = \"*\" }", USERS, true},
        {"{ $.nope = * }", USERS, false},
        {"{ $.user = * }", USERS, false},                   /* object */
        {"{ $.actions = * }", USERS, false},                /* array */
        {"{ $.user != 5 }", USERS, false},
        {"{ $.latency > 50 }", USERS, true},
        {"{ $.latency > 54.5 }", USERS, false},
        {"{ $.latency >= 54.5 }", USERS, true},
        {"{ $.latency < 1e2 }", USERS, true},
        {"{ $.latency <= 5.45e+1 }", USERS, true},
        {"{ $.latency = 54.50 }", USERS, true},             /* numerically */
        {"{ $.latency != 54.5 }", USERS, false},
        {"{ $.latency != 54 }", USERS, true},
        {"{ $.user.id > -1 }", USERS, true},
        {"{ $.user.id = 1.0 }", USERS, true},
        {"{ $.user.id = \"1\" }", USERS, true},             /* text of a number */
        {"{ $.users[1].email = \"Jane*\" }", USERS, true},
    };
    RUN_CASES(cases);
}

TEST(json_pattern_semantics)
{
    static const struct mcase cases[] = {
        /* only messages that are one JSON object */
        {"{ $.a = 1 }", "{\"a\": 1}", true},
        {"{ $.a = 1 }", "  {\"a\":1}\n", true},
        {"{ $.a = 1 }", "a = 1", false},
        {"{ $.a = 1 }", "[{\"a\": 1}]", false},
        {"{ $.a = 1 }", "{\"a\": 1", false},
        {"{ $.a = 1 }", "{\"a\": 1} trailing", false},
        {"{ $.a = 1 }", "{\"a\": 1,}", false},
        {"{ $.a = 1 }", "{\"a\": 01}", false},
        {"{ $.a = 1 }", "{\"a\": 1, \"b\": [1, {\"c\": tru}]}", false},
        {"{ $.a = 1 }", "{\"a\": 1, \"b\": \"\\x\"}", false},
        {"{ $.a NOT EXISTS }", "not json", false},
        {"{ $.a NOT EXISTS }", "{}", true},
        {"{ $.a.b NOT EXISTS }", "{\"a\": \"str\"}", true},
        {"{ $.a[0] NOT EXISTS }", "{\"a\": {\"0\": 1}}", true},
        /* strings are never numbers */
        {"{ $.n > 5 }", "{\"n\": \"60\"}", false},
        {"{ $.n = 60 }", "{\"n\": \"60\"}", false},
        {"{ $.n != 60 }", "{\"n\": \"abc\"}", false},
        {"{ $.n = \"60\" }", "{\"n\": \"60\"}", true},
        /* a missing field never satisfies a comparison, != included */
        {"{ $.x != \"a\" }", "{\"y\": 1}", false},
        {"{ $.x != \"a\" }", "{\"x\": \"b\"}", true},
        {"{ $.x = * }", "{\"x\": null}", false},
        /* escapes in the message */
        {"{ $.m = \"caf\xc3\xa9 \\\"q\\\"\" }", "{\"m\": \"caf\\u00e9 \\\"q\\\"\"}", true},
        {"{ $.m = \"a\\\\b\" }", "{\"m\": \"a\\\\b\"}", true},
        {"{ $.m = \"\xf0\x9f\x98\x80\" }", "{\"m\": \"\\ud83d\\ude00\"}", true},
        {"{ $.k = 1 }", "{\"\\u006b\": 1}", true},
        /* literal star in a quoted value */
        {"{ $.m = \"a\\*\" }", "{\"m\": \"a*\"}", true},
        {"{ $.m = \"a\\*\" }", "{\"m\": \"ab\"}", false},
        /* duplicate keys: the last one wins, as in jansson */
        {"{ $.a = 2 }", "{\"a\": 1, \"a\": 2}", true},
        {"{ $.a = 1 }", "{\"a\": 1, \"a\": 2}", false},
        /* names with - and _; nested objects */
        {"{ $.user-id = u_1 }", "{\"user-id\": \"u_1\"}", true},
        {"{ $.a.b.c = x }", "{\"a\": {\"z\": [1, {\"b\": 2}], \"b\": {\"c\": \"x\"}}}", true},
        /* precedence: && binds tighter than || */
        {"{ $.a = 1 || $.b = 2 && $.c = 3 }", "{\"a\": 1}", true},
        {"{ $.a = 1 || $.b = 2 && $.c = 3 }", "{\"b\": 2}", false},
        {"{ $.a = 1 || $.b = 2 && $.c = 3 }", "{\"b\": 2, \"c\": 3}", true},
        {"{ ($.a = 1 || $.b = 2) && $.c = 3 }", "{\"a\": 1}", false},
        {"{ ((($.a = 1))) }", "{\"a\": 1}", true},
        /* regex values */
        {"{ $.msg = %err[0-9]+% }", "{\"msg\": \"got err42\"}", true},
        {"{ $.msg = %err[0-9]+% }", "{\"msg\": \"got err\"}", false},
        {"{ $.msg != %^ok% }", "{\"msg\": \"failed\"}", true},
        {"{ $.code = %^2% }", "{\"code\": 204}", true},
        /* numbers */
        {"{ $.v >= 1e-3 }", "{\"v\": 0.001}", true},
        {"{ $.v < -2 }", "{\"v\": -2.5E0}", true},
        {"{ $.v = 10 }", "{\"v\": 1e1}", true},
        {"{ $.v > 5 }", "{\"v\": true}", false},
        {"{ $.v = 4* }", "{\"v\": 404}", true},
    };
    RUN_CASES(cases);
}

TEST(json_deep_nesting_is_bounded)
{
    size_t depth = FPAT_JSON_MAX_DEPTH + 10, n = 0;
    char *msg = malloc(2 * depth + 16);
    struct fpat *p = compile_ok("{ $.a NOT EXISTS }");

    REQUIRE(msg != NULL && p != NULL);
    msg[n++] = '{';
    memcpy(msg + n, "\"x\":", 4);
    n += 4;
    for (size_t i = 0; i < depth; i++)
        msg[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        msg[n++] = ']';
    msg[n++] = '}';
    CHECK(!fpat_match(p, msg, n));                 /* too deep: not JSON */
    n = 5;
    for (size_t i = 0; i < FPAT_JSON_MAX_DEPTH - 1; i++)
        msg[n++] = '[';
    for (size_t i = 0; i < FPAT_JSON_MAX_DEPTH - 1; i++)
        msg[n++] = ']';
    msg[n++] = '}';
    CHECK(fpat_match(p, msg, n));                  /* at the limit */
    fpat_free(p);
    free(msg);
}

TEST(json_pattern_errors)
{
    static const struct ecase cases[] = {
        {"{ $.a = 1", "Expected '&&', '||' or '}' at column 10", 10},
        {"{ $.a = }", "Expected a value after '=' at column 9", 9},
        {"{ $.a == 1 }", "Invalid character(s) in value at column 8", 8},
        {"{ $.a > abc }", "'>' needs a number; got 'abc'", 9},
        {"{ $.a < \"x\" }", "'<' needs a number", 9},
        {"{ $.a > %x% }", "A regex at column 9 can only follow = or !=", 9},
        {"{ $.a[*] = 1 }", "Array wildcard '[*]'", 6},
        {"{ $.a[x] = 1 }", "Expected an array index", 6},
        {"{ $.a[99999999999] = 1 }", "too large", 6},
        {"{ $.a IS NOT NULL }", "Expected NULL, TRUE or FALSE after IS", 10},
        {"{ $.a EXISTS }", "Expected =, !=, <, <=, >, >=, IS or NOT EXISTS", 7},
        {"{ $.a NOT NULL }", "Expected EXISTS after NOT", 11},
        {"{ ($.a = 1 }", "Expected '&&', '||' or ')' at column 12 to close the '(' at column 3", 12},
        {"{ $.a = 1 } x", "Unexpected text after the closing '}'", 13},
        {"{ }", "Expected a selector such as $.field or '('", 3},
        {"{ a = 1 }", "Expected a selector such as $.field", 3},
        {"{ $ = 1 }", "Expected '.field' or '[index]' after '$'", 3},
        {"{ $. = 1 }", "Expected a field name after '.'", 4},
        {"{ $.a#b = 1 }", "Invalid character '#' in selector", 6},
        {"{ $.a = a<b }", "Invalid character(s) in value at column 10", 10},
        {"{ $.a = \"x }", "Unterminated quoted string", 9},
        {"{ $.a = 1 & $.b = 2 }", "Expected '&&', '||' or '}'", 11},
        {"{ $.a = %x% || $.b = %y% || $.c = %z% }",
         "a JSON or space-delimited pattern may hold at most 2", 35},
        {"{ $.a = 1e999 }", "out of range", 9},
    };
    RUN_ERRORS(cases);
}

TEST(json_nesting_limit)
{
    char text[400];
    size_t n = 0;
    struct fpat *p = NULL;
    struct sl_err err = {0};

    text[n++] = '{';
    for (int i = 0; i < 70; i++)
        text[n++] = '(';
    memcpy(text + n, "$.a=1", 5);
    n += 5;
    for (int i = 0; i < 70; i++)
        text[n++] = ')';
    text[n++] = '}';
    CHECK_EQ_INT(fpat_compile(text, n, &p, &err), SL_INVALID);
    CHECK(strstr(err.msg, "Parentheses nested deeper than 64") != NULL);
}

/* ------------------------------------------------------------------ */
/* Space-delimited patterns (reference 3.4)                             */

TEST(delimited_patterns)
{
    static const struct mcase cases[] = {
        {"[ip, user, username, timestamp, request, status_code, bytes]", APACHE, true},
        {"[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE, true},
        {"[ip, user, username, timestamp, request, status_code = 5*, bytes]", APACHE, false},
        {"[ip, user, username, timestamp, request, status_code=404 || status_code=410, bytes]",
         APACHE, true},
        {"[ip, user, username, timestamp, request, status_code=400 || status_code=410, bytes]",
         APACHE, false},
        {"[ip, user, username, timestamp, request, status_code, bytes > 1000]", APACHE, true},
        {"[ip, user, username, timestamp, request, status_code, bytes > 2000]", APACHE, false},
        {"[ip, user, username, timestamp, request = *.html*, status_code, bytes]", APACHE, true},
        {"[ip, user, username, timestamp, request = \"GET /index.html HTTP/1.0\", ...]",
         APACHE, true},
        {"[ip, user, username, timestamp = \"10/Oct/2000:13:25:15 -0700\", ...]", APACHE, true},
        {"[ip = 127.0.0.*, ...]", APACHE, true},
        {"[ip = 10.*, ...]", APACHE, false},
        {"[..., status_code, bytes]", APACHE, true},
        {"[..., status_code = 404, bytes]", APACHE, true},
        {"[..., status_code = 200, bytes]", APACHE, false},
        {"[ip, ..., bytes = 1534]", APACHE, true},
        {"[ip, ..., status_code = 404, ...]", APACHE, true},
        {"[..., user = Prod, ..., bytes]", APACHE, true},
        {"[..., request = *HTTP*, ..., code = 404, ...]", APACHE, true},
        {"[..., request = *HTTP*, ..., code = 200, ...]", APACHE, false},
        {"[...]", APACHE, true},
        {"[..., x]", "", false},
        {"[...]", "", true},
        /* field counts: the last field takes the rest of the line */
        {"[w1=ERROR, w2]", "ERROR disk full", true},
        {"[w1=ERROR, w2]", "WARN disk full", false},
        {"[w1=ERROR]", "ERROR disk full", false},
        {"[w1=ERROR]", "ERROR", true},
        {"[w1=ERROR]", "ERROR   ", true},
        {"[a, b]", "one", false},
        {"[a, b, c, d, e, f, g, h]", APACHE, false},
        {"[a, b = \"two three\"]", "one two three", true},
        {"[w1!=ERROR && w1!=WARNING, w2]", "INFO fine", true},
        {"[w1!=ERROR && w1!=WARNING, w2]", "WARNING hot", false},
        {"[w1!=ERROR && w1!=WARNING, w2]", "ERROR bad", false},
        {"[w1 = A || w1 = B && w1 = C, w2]", "A x", true},
        {"[w1 = A || w1 = B && w1 = C, w2]", "B x", false},
        {"[w1=%^ERR%, ...]", "ERROR oops", true},
        {"[w1=%^ERR%, ...]", "WARN ERROR", false},
        /* numbers: numeric when both read as numbers, else text */
        {"[a = 404, ...]", "404.0 x", true},
        {"[a != 404, ...]", "- x", true},
        {"[a = 404, ...]", "- x", false},
        {"[a > 5, ...]", "- x", false},
        {"[a >= 1e3, ...]", "1000 x", true},
        {"[a < 0, ...]", "-0.5 x", true},
        /* tokens: runs of blanks, unclosed quotes are plain bytes */
        {"[a, b = y, c]", "x   y\tz", true},
        {"[a = \"\\\"x\", b]", "\"x y", true},
        {"[a = \"q *r\", b]", "\"q \\\" r\" s", true},  /* escapes kept */
        {"[a = \"x\", b = y]", "[x] y", true},
        {"[...,a=*]", "", false},
    };
    RUN_CASES(cases);
}

TEST(delimited_pattern_errors)
{
    static const struct ecase cases[] = {
        {"[]", "needs at least one field", 2},
        {"[a, a]", "Field name 'a' at column 5 is used twice", 5},
        {"[a b]", "Expected ',' or ']' at column 4", 4},
        {"[a = ]", "Expected a value after '='", 6},
        {"[a, b = 1 || c = 2]", "names 'c' inside field 'b'", 14},
        {"[a,", "Expected a field name or '...'", 4},
        {"[a", "Expected ',' or ']'", 3},
        {"[a] x", "Unexpected text after the closing ']'", 5},
        {"[a-b]", "Expected ',' or ']'", 3},
        {"[a > x]", "'>' needs a number; got 'x'", 6},
        {"[a = 1 ||]", "Expected =, !=, <, <=, >, >= after 'a'", 10},
        {"[a=%x%, b=%y%, c=%z%]", "may hold at most 2", 18},
        {"[, a]", "Expected a field name or '...'", 2},
    };
    RUN_ERRORS(cases);
}

/* ------------------------------------------------------------------ */
/* Canonical renderings                                                 */

TEST(explain_renders_the_compiled_form)
{
    static const struct {
        const char *pat;
        const char *want;
    } cases[] = {
        {"", "all"},
        {"\"\" ", "all"},
        {"ERROR ?WARN -\"a \\\"b\" %AUTH[0-9]%", "terms +\"ERROR\" ?\"WARN\" -\"a \\\"b\" +%AUTH[0-9]%"},
        {"?%x%", "terms ?%x%"},
        {"{ $.a = \"x*\" && $.n > 5 || $.z NOT EXISTS }",
         "json (or (and (= $.a \"x*\") (> $.n 5)) (not-exists $.z))"},
        {"{ $.a = 1 && $.b = 2 && ($.c = 3 || $.d IS NULL) }",
         "json (and (= $.a 1) (= $.b 2) (or (= $.c 3) (is-null $.d)))"},
        {"{ $.a[007].b = * && $.t IS TRUE && $.f IS FALSE }",
         "json (and (= $.a[7].b \"*\") (is-true $.t) (is-false $.f))"},
        {"{ $.m != %^ok% }", "json (!= $.m %^ok%)"},
        {"{ $.m = \"a\\*b*\" }", "json (= $.m \"a\\*b*\")"},
        {"{ $.m = \"**\" }", "json (= $.m \"*\")"},
        {"[ip, ..., status = 4* || status = 5*, size > 100]",
         "delim [ip, ..., status (or (= \"4*\") (= \"5*\")), size (> 100)]"},
        {"[a=\"x y\",b]", "delim [a (= \"x y\"), b]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fpat *p = compile_ok(cases[i].pat);
        struct buf b;
        if (p == NULL)
            continue;
        buf_init(&b, 4096);
        CHECK_OK(fpat_explain(p, &b));
        CHECK_EQ_STR(b.data, cases[i].want);
        buf_fini(&b);
        fpat_free(p);
    }
}

/* ------------------------------------------------------------------ */
/* Metric values, dimensions, extracted fields                          */

TEST(fields_name_what_a_pattern_extracts)
{
    struct fpat *p = compile_ok("[ip, user, ..., status_code, bytes]");
    REQUIRE(p != NULL);
    REQUIRE_EQ_INT(fpat_nfields(p), 4);
    CHECK_EQ_STR(fpat_field(p, 0), "$ip");
    CHECK_EQ_STR(fpat_field(p, 3), "$bytes");
    CHECK(fpat_field(p, 4) == NULL);
    fpat_free(p);

    p = compile_ok("{ $.a.b = 1 || $.c[0] > 2 && $.a.b != 3 }");
    REQUIRE(p != NULL);
    REQUIRE_EQ_INT(fpat_nfields(p), 2);
    CHECK_EQ_STR(fpat_field(p, 0), "$.a.b");
    CHECK_EQ_STR(fpat_field(p, 1), "$.c[0]");
    fpat_free(p);

    p = compile_ok("ERROR");
    REQUIRE(p != NULL);
    CHECK_EQ_INT(fpat_nfields(p), 0);
    fpat_free(p);
}

/* Compiles refs, evaluates them on msg; checks matched and the values. */
struct vcase {
    const char *pat;
    const char *ref;
    bool dimension;
    const char *msg;
    bool matched;
    bool found;
    bool is_num;
    double num;
    const char *text;
};

static void run_value_case(size_t row, const struct vcase *vc)
{
    struct fpat *p = compile_ok(vc->pat);
    struct fpat_ref *r = NULL;
    struct sl_err err = {0};
    struct arena a;
    struct fpat_val v = {0};
    bool matched = !vc->matched;
    enum sl_status st;

    if (p == NULL)
        return;
    st = vc->dimension ? fpat_ref_dimension(p, vc->ref, strlen(vc->ref), &r, &err)
                       : fpat_ref_value(p, vc->ref, strlen(vc->ref), &r, &err);
    if (st != SL_OK) {
        TEST_FAIL_AT("row %zu: ref %s failed: %s", row, vc->ref, err.msg);
        fpat_free(p);
        return;
    }
    arena_init(&a, 1024, 0);
    struct fpat_ref *refs[] = {r};
    CHECK_OK(fpat_eval(p, vc->msg, strlen(vc->msg), refs, 1, &a, &v, &matched));
    if (matched != vc->matched || (matched && (v.found != vc->found ||
                                               v.is_num != vc->is_num)))
        TEST_FAIL_AT("row %zu: %s / %s: matched %d found %d is_num %d", row,
                     vc->pat, vc->ref, matched, v.found, v.is_num);
    else if (matched && v.is_num && v.num != vc->num)
        TEST_FAIL_AT("row %zu: number %g, want %g", row, v.num, vc->num);
    else if (matched && v.found && vc->text != NULL &&
             (v.len != strlen(vc->text) || memcmp(v.text, vc->text, v.len) != 0))
        TEST_FAIL_AT("row %zu: text '%.*s', want '%s'", row, (int)v.len, v.text,
                     vc->text);
    arena_fini(&a);
    fpat_ref_free(r);
    fpat_free(p);
}

TEST(metric_values_and_dimensions)
{
    static const char DELIM[] = "[ip, user, username, timestamp, request, status_code, bytes]";
    static const struct vcase cases[] = {
        {DELIM, "$bytes", false, APACHE, true, true, true, 1534, "1534"},
        {DELIM, " $bytes ", false, APACHE, true, true, true, 1534, "1534"},
        {DELIM, "$request", true, APACHE, true, true, false, 0, "GET /index.html HTTP/1.0"},
        {DELIM, "$timestamp", true, APACHE, true, true, false, 0, "10/Oct/2000:13:25:15 -0700"},
        {DELIM, "$ip", true, APACHE, true, true, false, 0, "127.0.0.1"},
        {DELIM, "$status_code", false, APACHE, true, true, true, 404, "404"},
        {DELIM, "$bytes", false, "1.2.3.4 - - [x] \"GET /\" 200 -", true, true, false, 0, "-"},
        {DELIM, "$bytes", false, "too short", false, false, false, 0, NULL},
        {"[a, b]", "$b", true, "x y z", true, true, false, 0, "y z"},
        {"[..., code, size]", "$size", false, APACHE, true, true, true, 1534, NULL},
        {"[..., code, size]", "$code", true, APACHE, true, true, true, 404, "404"},
        {DELIM, "1", false, APACHE, true, true, true, 1, "1"},
        {DELIM, "-2.5e1", false, APACHE, true, true, true, -25, NULL},
        {"ERROR", "1", false, "ERROR x", true, true, true, 1, "1"},
        {"ERROR", "1", false, "WARN x", false, false, false, 0, NULL},
        {"", "0", false, "anything", true, true, true, 0, "0"},
        {"{ $.latency = * }", "$.latency", false, USERS, true, true, true, 54.5, "54.5"},
        {"{ $.latency = * }", "$.user.id", false, USERS, true, true, true, 1, "1"},
        {"{ $.latency = * }", "$.users[1].email", true, USERS, true, true, false, 0,
         "Jane.Doe@example.com"},
        {"{ $.latency = * }", "$.nope", false, USERS, true, false, false, 0, NULL},
        {"{ $.latency = * }", "$.user", true, USERS, true, false, false, 0, NULL},
        {"{ $.latency = * }", "$.latency", false, "{\"x\": 1}", false, false, false, 0, NULL},
        {"{ $.a = * }", "$.a", false, "{\"a\": \"12\"}", true, true, true, 12, "12"},
        {"{ $.a = * }", "$.a", true, "{\"a\": \"x\\ty\"}", true, true, false, 0, "x\ty"},
        {"{ $.a = * }", "$.a", true, "{\"a\": true}", true, true, false, 0, "true"},
        {"{ $.a = * }", "$.b", true, "{\"a\": 1, \"b\": null}", true, false, false, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_value_case(i, &cases[i]);
}

TEST(metric_value_errors)
{
    static const struct {
        const char *pat;
        const char *ref;
        bool dimension;
        const char *want;
    } cases[] = {
        {"ERROR", "$.latency", false, "Invalid metric value '$.latency': $.field "
                                      "selects a JSON field, but the filter pattern is not"},
        {"ERROR", "$bytes", false, "is not one"},
        {"ERROR", "abc", false, "Invalid metric value 'abc': use a number, $.field"},
        {"ERROR", "", false, "Invalid metric value: it is empty"},
        {"[a, b]", "$c", false, "Invalid metric value '$c': the filter pattern has no field"},
        {"[a, b]", "$.a", false, "not a JSON pattern"},
        {"[a, b]", "1", true, "Invalid dimension value '1': use $.field"},
        {"{ $.a = 1 }", "$a", false, "not one"},
        {"{ $.a = 1 }", "$.a b", false, "Invalid metric value '$.a b': unexpected text"},
        {"{ $.a = 1 }", "$.a[*]", true, "Invalid dimension value '$.a[*]': Array wildcard"},
        {"{ $.a = 1 }", "$.", false, "Expected a field name after '.'"},
        {"{ $.a = 1 }", "1e999", false, "out of range"},
        {"[a, ...]", "$...", false, "not a JSON pattern"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fpat *p = compile_ok(cases[i].pat);
        struct fpat_ref *r = (struct fpat_ref *)1;
        struct sl_err err = {0};
        enum sl_status st;
        if (p == NULL)
            continue;
        st = cases[i].dimension
                 ? fpat_ref_dimension(p, cases[i].ref, strlen(cases[i].ref), &r, &err)
                 : fpat_ref_value(p, cases[i].ref, strlen(cases[i].ref), &r, &err);
        CHECK_EQ_INT(st, SL_INVALID);
        CHECK(r == NULL);
        if (strstr(err.msg, cases[i].want) == NULL)
            TEST_FAIL_AT("row %zu: message: %s\n    want: %s", i, err.msg,
                         cases[i].want);
        fpat_ref_free(st == SL_OK ? r : NULL);
        fpat_free(p);
    }
}

TEST(eval_fills_every_extracted_field)
{
    struct fpat *p = compile_ok("[ip, user, username, timestamp, request, status_code = 4*, bytes]");
    struct fpat_ref *refs[8];
    struct fpat_val vals[8];
    struct sl_err err = {0};
    struct arena a;
    bool matched = false;
    static const char *const want[] = {
        "127.0.0.1", "Prod", "frank", "10/Oct/2000:13:25:15 -0700",
        "GET /index.html HTTP/1.0", "404", "1534"};
    size_t n;

    REQUIRE(p != NULL);
    n = fpat_nfields(p);
    REQUIRE_EQ_INT(n, 7);
    for (size_t i = 0; i < n; i++)
        REQUIRE_OK(fpat_ref_dimension(p, fpat_field(p, i), strlen(fpat_field(p, i)),
                                      &refs[i], &err));
    arena_init(&a, 1024, 0);
    CHECK_OK(fpat_eval(p, APACHE, strlen(APACHE), refs,
                       n, &a, vals, &matched));
    CHECK(matched);
    for (size_t i = 0; matched && i < n; i++)
        CHECK_EQ_MEM(vals[i].text, vals[i].len, want[i], strlen(want[i]));
    arena_fini(&a);
    for (size_t i = 0; i < n; i++)
        fpat_ref_free(refs[i]);
    fpat_free(p);
}

TEST(eval_reports_arena_exhaustion)
{
    struct fpat *p = compile_ok("[a, b]");
    struct arena a;
    bool matched = true;

    REQUIRE(p != NULL);
    arena_init(&a, 16, 1);          /* cap of one byte: nothing fits */
    CHECK_EQ_INT(fpat_eval(p, "x y", 3, NULL, 0, &a, NULL, &matched), SL_NOMEM);
    CHECK(!matched);
    arena_fini(&a);
    fpat_free(p);
}

/* ------------------------------------------------------------------ */
/* Threads, out of memory, robustness                                   */

struct thread_arg {
    const struct fpat *p;
    int hits;
};

static void *match_many(void *arg)
{
    struct thread_arg *t = arg;
    char msg[128];

    for (int i = 0; i < 20000; i++) {
        int n = snprintf(msg, sizeof(msg), "{\"msg\": \"req %d err%d\", \"n\": %d}",
                         i, i % 7, i);
        t->hits += fpat_match(t->p, msg, (size_t)n);
    }
    return NULL;
}

TEST(many_threads_match_with_one_pattern)
{
    struct fpat *p = compile_ok("{ $.msg = %err[0-3]$% && $.n >= 0 }");
    pthread_t th[4];
    struct thread_arg args[4];

    REQUIRE(p != NULL);
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){p, 0};
        REQUIRE(pthread_create(&th[i], NULL, match_many, &args[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(args[i].hits, 11429);   /* i % 7 in 0..3 for 20000 i */
    }
    fpat_free(p);
}

TEST(runaway_regex_stops)
{
    struct fpat *p = NULL;
    struct sl_err err = {0};

    CHECK_EQ_INT(fpat_compile("%(?:a+)+b%", 10, &p, &err), SL_INVALID);
    p = compile_ok("%a*a*a*a*a*a*a*a*a*a*a*a*a*c%");
    REQUIRE(p != NULL);
    char msg[4096];
    memset(msg, 'a', sizeof(msg));
    CHECK(!fpat_match(p, msg, sizeof(msg)));   /* limit or no match, fast */
    fpat_free(p);
}

#ifdef SLUICE_TESTING
TEST(out_of_memory_while_compiling)
{
    static const char *const pats[] = {
        "ERROR ?WARN -x %a[0-9]%",
        "{ ($.a.b[0] = \"x*\" || $.n > 5) && $.m = %re% }",
        "[ip, ..., status = 4* || status = 5*, size > 100]",
    };
    for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
        int ok_at = 0;
        for (long n = 1; n < 200 && ok_at == 0; n++) {
            struct fpat *p = NULL;
            struct sl_err err = {0};
            sl_alloc_fail_at(n);
            enum sl_status st = fpat_compile(pats[i], strlen(pats[i]), &p, &err);
            sl_alloc_fail_at(0);
            if (st == SL_OK) {
                CHECK(fpat_match(p, "x", 1) || true);
                fpat_free(p);
                ok_at = (int)n;
            } else {
                CHECK_EQ_INT(st, SL_NOMEM);
                CHECK(p == NULL);
            }
        }
        CHECK(ok_at > 1);
    }
}
#endif

/* Random bytes from a small alphabet as patterns and messages: compile
 * either works or fails with a message; matching never crashes. The seed
 * is printed so a failure reproduces. */
TEST(random_patterns_never_crash)
{
    static const char alpha[] = "{}[]()$.*%\"\\ ,=!<>&|?-aZ09_:e+\t";
    unsigned seed = (unsigned)time(NULL);
    const char *env = getenv("FPAT_SEED");

    if (env != NULL)
        seed = (unsigned)strtoul(env, NULL, 10);
    fprintf(stderr, "  random_patterns_never_crash: FPAT_SEED=%u\n", seed);
    srand(seed);
    for (int i = 0; i < 20000; i++) {
        char pat[48], msg[64];
        size_t pn = (size_t)rand() % sizeof(pat), mn = (size_t)rand() % sizeof(msg);
        struct fpat *p = NULL;
        struct sl_err err = {0};
        for (size_t k = 0; k < pn; k++)
            pat[k] = alpha[rand() % (int)(sizeof(alpha) - 1)];
        for (size_t k = 0; k < mn; k++)
            msg[k] = alpha[rand() % (int)(sizeof(alpha) - 1)];
        if (i % 3 == 0 && pn > 0)
            pat[0] = i % 2 ? '{' : '[';
        if (fpat_compile(pat, pn, &p, &err) != SL_OK) {
            if (err.msg[0] == '\0' || err.col < 1)
                TEST_FAIL_AT("pattern %.*s: empty message or column", (int)pn, pat);
            continue;
        }
        (void)fpat_match(p, msg, mn);
        fpat_free(p);
    }
}

TEST(pattern_outlives_its_text)
{
    /* The compiled pattern keeps no pointer into the caller's buffer. */
    char text[] = "ERROR \"disk full\" ?WARN";
    struct fpat *p = NULL;
    struct sl_err err = {0};
    REQUIRE_OK(fpat_compile(text, strlen(text), &p, &err));
    memset(text, 'x', sizeof(text) - 1);
    CHECK(fpat_match(p, "ERROR: disk full, WARN", 22));
    CHECK(!fpat_match(p, "xxxxx", 5));
    fpat_free(p);
}

TEST_MAIN()
