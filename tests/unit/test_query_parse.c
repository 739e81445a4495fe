/* tests/unit/test_query_parse.c: the query front end (lexer, parser,
 * checker, dump) as tables: every command, every function of the
 * reference, operator precedence, the reference's sample queries, error
 * positions and messages, used fields, and the golden file
 * tests/query/parse.test (query -> dump, or %%FAIL -> message and caret). */
#include "common/arena.h"
#include "common/buf.h"
#include "query/ast.h"
#include "query/check.h"
#include "query/fn_table.h"
#include "query/lexer.h"
#include "query/parser.h"
#include "tests/harness.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef SLUICE_TESTING
#include "common/alloc.h"
#endif

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

struct run {
    struct arena a;
    struct ast_query *q;
    struct check_result r;
    struct sl_err err;
    enum sl_status parse_st;  /* SL_OK when parsing passed */
    enum sl_status st;        /* final status: parse, then check */
    char dump[8192];
};

/* Parses and (if that passed) checks text; dumps the tree on success. */
static void run(struct run *x, const char *text)
{
    struct buf b;

    memset(x, 0, sizeof(*x));
    arena_init(&x->a, 4096, 0);
    x->parse_st = parse_query(text, strlen(text), &x->a, &x->q, &x->err);
    x->st = x->parse_st;
    if (x->st == SL_OK)
        x->st = check_query(x->q, &x->a, &x->r, &x->err);
    if (x->st != SL_OK)
        return;
    buf_init(&b, sizeof(x->dump) - 1);
    if (ast_dump(x->q, &b) == SL_OK && b.data != NULL)
        snprintf(x->dump, sizeof(x->dump), "%s", b.data);
    buf_fini(&b);
}

static void done(struct run *x)
{
    arena_fini(&x->a);
}

/* Fails the test (naming the query) when text does not parse and check
 * to exactly want. */
static void expect_dump(const char *text, const char *want)
{
    struct run x;

    run(&x, text);
    if (x.st != SL_OK)
        TEST_FAIL_AT("query: %s\n    failed: %s", text, x.err.msg);
    else if (strcmp(x.dump, want) != 0)
        TEST_FAIL_AT("query: %s\n    got:  %s    want: %s", text, x.dump,
                     want);
    done(&x);
}

/* ------------------------------------------------------------------ */
/* Lexer                                                                */

TEST(lexer_token_kinds)
{
    static const char text[] =
        "fields @timestamp, `a-b`, @@x.y.0 | filter x =~ /a\\/[/]b/i and "
        "y != 'q' # comment\nsort 5m <= 1.5e3 % 2 ^ 3 >= (NOT a) in [-1]";
    static const enum lex_kind want[] = {
        LEX_IDENT, LEX_IDENT, LEX_COMMA, LEX_QIDENT, LEX_COMMA, LEX_IDENT,
        LEX_PIPE, LEX_IDENT, LEX_IDENT, LEX_MATCH, LEX_REGEX, LEX_AND,
        LEX_IDENT, LEX_NE, LEX_STRING, LEX_IDENT, LEX_PERIOD, LEX_LE,
        LEX_NUMBER, LEX_PERCENT, LEX_NUMBER, LEX_CARET, LEX_NUMBER, LEX_GE,
        LEX_LPAREN, LEX_NOT, LEX_IDENT, LEX_RPAREN, LEX_IN, LEX_LBRACKET,
        LEX_MINUS, LEX_NUMBER, LEX_RBRACKET, LEX_EOF,
    };
    struct lexer lx;
    struct lex_token t;
    struct sl_err err = {0};
    size_t i = 0;

    lex_init(&lx, text, strlen(text));
    do {
        /* the parser's rule: '/' after a value divides, else opens a regex */
        enum lex_mode m = (i > 0 && (want[i - 1] == LEX_IDENT ||
                                     want[i - 1] == LEX_NUMBER))
                              ? LEX_MODE_OPERATOR : LEX_MODE_VALUE;
        REQUIRE_OK(lex_next(&lx, m, &t, &err));
        REQUIRE(i < sizeof(want) / sizeof(want[0]));
        if (t.kind != want[i])
            TEST_FAIL_AT("token %zu '%.*s': kind %d, want %d", i, (int)t.len,
                         text + t.off, t.kind, want[i]);
        CHECK(t.line_start == (i == 0 || i == 15));   /* 'sort' */
        i++;
    } while (t.kind != LEX_EOF);
    CHECK_EQ_INT(i, sizeof(want) / sizeof(want[0]));
}

TEST(lexer_slash_depends_on_mode)
{
    struct lexer lx;
    struct lex_token t;
    struct sl_err err = {0};

    lex_init(&lx, "/x/ 2", 5);
    REQUIRE_OK(lex_next(&lx, LEX_MODE_OPERATOR, &t, &err));
    CHECK_EQ_INT(t.kind, LEX_SLASH);
    lex_init(&lx, "/x/ 2", 5);
    REQUIRE_OK(lex_next(&lx, LEX_MODE_VALUE, &t, &err));
    CHECK_EQ_INT(t.kind, LEX_REGEX);
    CHECK_EQ_INT(t.len, 3);
}

TEST(lexer_decodes_bodies)
{
    static const struct {
        const char *text;
        const char *want;
        unsigned flags;
    } cases[] = {
        {"\"a\\\"b\\\\c\\n\"", "a\"b\\c\n", 0},
        {"'it\\'s'", "it's", 0},
        {"\"\\d+ \\w\"", "\\d+ \\w", 0},            /* unknown escapes kept */
        {"\"C:\\temp\"", "C:\temp", 0},                  /* \t is a tab */
        {"`foo-bar`", "foo-bar", 0},
        {"`a\\`b`", "a`b", 0},
        {"/a\\/b\\d/", "a/b\\d", 0},
        {"/x/imsx", "x", LEX_RE_CASELESS | LEX_RE_MULTILINE | LEX_RE_DOTALL |
                         LEX_RE_EXTENDED},
        {"/(?i)err/", "(?i)err", 0},
        {"/[/]/", "[/]", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lexer lx;
        struct lex_token t;
        struct sl_err err = {0};
        char out[64];
        unsigned flags = 99;
        lex_init(&lx, cases[i].text, strlen(cases[i].text));
        REQUIRE_OK(lex_next(&lx, LEX_MODE_VALUE, &t, &err));
        CHECK_EQ_INT(t.len, strlen(cases[i].text));
        size_t n = lex_decode(cases[i].text, &t, out, &flags);
        CHECK_EQ_MEM(out, n, cases[i].want, strlen(cases[i].want));
        CHECK_EQ_INT(flags, cases[i].flags);
    }
}

TEST(lexer_time_units)
{
    static const struct {
        const char *text;
        int64_t count;
        enum lex_unit unit;
    } cases[] = {
        {"5ms", 5, LEX_UNIT_MS}, {"5msec", 5, LEX_UNIT_MS},
        {"2milliseconds", 2, LEX_UNIT_MS}, {"30s", 30, LEX_UNIT_SEC},
        {"30sec", 30, LEX_UNIT_SEC}, {"30secs", 30, LEX_UNIT_SEC},
        {"1second", 1, LEX_UNIT_SEC}, {"5m", 5, LEX_UNIT_MIN},
        {"5min", 5, LEX_UNIT_MIN}, {"5mins", 5, LEX_UNIT_MIN},
        {"5minutes", 5, LEX_UNIT_MIN}, {"1h", 1, LEX_UNIT_HOUR},
        {"2hr", 2, LEX_UNIT_HOUR}, {"2hrs", 2, LEX_UNIT_HOUR},
        {"1hour", 1, LEX_UNIT_HOUR}, {"1d", 1, LEX_UNIT_DAY},
        {"3days", 3, LEX_UNIT_DAY}, {"1w", 1, LEX_UNIT_WEEK},
        {"2weeks", 2, LEX_UNIT_WEEK}, {"1mo", 1, LEX_UNIT_MONTH},
        {"1mon", 1, LEX_UNIT_MONTH}, {"6months", 6, LEX_UNIT_MONTH},
        {"1q", 1, LEX_UNIT_QUARTER}, {"1qtr", 1, LEX_UNIT_QUARTER},
        {"2quarters", 2, LEX_UNIT_QUARTER}, {"1y", 1, LEX_UNIT_YEAR},
        {"1yr", 1, LEX_UNIT_YEAR}, {"10years", 10, LEX_UNIT_YEAR},
        {"5M", 5, LEX_UNIT_MIN}, {"0s", 0, LEX_UNIT_SEC},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lexer lx;
        struct lex_token t;
        struct lex_period per;
        struct sl_err err = {0};
        const char *s = cases[i].text;
        lex_init(&lx, s, strlen(s));
        REQUIRE_OK(lex_next(&lx, LEX_MODE_VALUE, &t, &err));
        if (t.kind != LEX_PERIOD) {
            TEST_FAIL_AT("%s: not a period", s);
            continue;
        }
        REQUIRE_OK(lex_period_value(s, strlen(s), &t, &per, &err));
        CHECK_EQ_INT(per.count, cases[i].count);
        CHECK_EQ_INT(per.unit, cases[i].unit);
    }
    CHECK_EQ_INT(lex_unit_ms(LEX_UNIT_HOUR), 3600000);
    CHECK_EQ_INT(lex_unit_ms(LEX_UNIT_MONTH), 0);
}

TEST(lexer_positions_count_characters)
{
    static const char text[] = "ab\n\xC3\xA9t\xC3\xA9 x";  /* "été x" */
    int line, col;

    lex_position(text, strlen(text), 0, &line, &col);
    CHECK_EQ_INT(line, 1);
    CHECK_EQ_INT(col, 1);
    lex_position(text, strlen(text), 3, &line, &col);
    CHECK_EQ_INT(line, 2);
    CHECK_EQ_INT(col, 1);
    lex_position(text, strlen(text), 9, &line, &col);  /* the x */
    CHECK_EQ_INT(line, 2);
    CHECK_EQ_INT(col, 5);
}

/* ------------------------------------------------------------------ */
/* Commands and the dump                                                */

TEST(every_command_parses_to_its_dump)
{
    static const struct {
        const char *query;
        const char *dump;
    } cases[] = {
        {"fields @timestamp, @message, bytes * 8 as bits",
         "fields @timestamp, @message, (* bytes 8) as bits\n"},
        {"fields `foo-bar`, a.b.0.c as `x y`",
         "fields `foo-bar`, a.b.0.c as `x y`\n"},
        {"display a, concat(b, \"-\") as c", "display a, (concat b \"-\") as c\n"},
        {"filter a > 1", "filter (> a 1)\n"},
        {"where a > 1", "filter (> a 1)\n"},
        {"filterIndex region = \"us-east-1\"",
         "filterIndex (= region \"us-east-1\")\n"},
        {"filter isApi", "filter isApi\n"},
        {"stats count(*)", "stats (count *)\n"},
        {"stats count()", "stats (count)\n"},
        {"stats count(*) as n, avg(x), pct(x, 99.5) by a, bin(5m) as t",
         "stats (count *) as n, (avg x), (pct x 99.5) by a, (bin 5m) as t\n"},
        {"stats sum(x) group by host", "stats (sum x) by host\n"},
        {"stats count(*) as c by x | stats avg(c) as m",
         "stats (count *) as c by x\nstats (avg c) as m\n"},
        {"sort a", "sort a\n"},
        {"sort a asc, b desc, c", "sort a asc, b desc, c\n"},
        {"sort by @timestamp desc", "sort @timestamp desc\n"},
        {"limit 25", "limit 25\n"},
        {"limit any 5", "limit any 5\n"},
        {"parse \"[*] *\" as level, msg",
         "parse @message glob \"[*] *\" as level, msg\n"},
        {"parse url \"/api/*/users/*\" as v, id",
         "parse url glob \"/api/*/users/*\" as v, id\n"},
        {"parse `odd-field` 'k=*' as v", "parse `odd-field` glob \"k=*\" as v\n"},
        {"parse @message /(?<level>\\w+) (?<code>\\d+)/",
         "parse @message regex /(?<level>\\w+) (?<code>\\d+)/ captures level, "
         "code\n"},
        {"parse /(?<b>x)(?<a>y)/", "parse @message regex /(?<b>x)(?<a>y)/ "
                                   "captures b, a\n"},
        {"parse @message /(\\d+)-(\\d+)/ as lo, hi",
         "parse @message regex /(\\d+)-(\\d+)/ as lo, hi\n"},
        {"dedup a, `b c`", "dedup a, `b c`\n"},
        {"pattern @message", "pattern @message\n"},
        {"pattern @message | limit 5", "pattern @message\nlimit 5\n"},
        {"SOURCE \"g1\" \"/aws/lambda/f\" START=-3600s END=0s | fields a",
         "source \"g1\" \"/aws/lambda/f\" start=-3600s end=0s\nfields a\n"},
        {"SOURCE logGroups(namePrefix: [\"p1\", \"p2\"], class: \"STANDARD\", "
         "accountIdentifiers: [\"123456789012\"]) START=1700000000000 "
         "END=1700000360000 | stats count(*)",
         "source logGroups(namePrefix: [\"p1\", \"p2\"], class: \"STANDARD\", "
         "accountIdentifiers: [\"123456789012\"]) start=1700000000000 "
         "end=1700000360000\nstats (count *)\n"},
        {"SOURCE logGroups() | fields a", "source logGroups()\nfields a\n"},
        {"SOURCE \"g\"", "source \"g\"\n"},
        {"SOURCE \"g\"\nfields a", "source \"g\"\nfields a\n"},
        /* separators: '|', new lines, comments, keyword case */
        {"fields a\nfilter b = 1\n| sort a",
         "fields a\nfilter (= b 1)\nsort a\n"},
        {"# leading comment\nfields a, # trailing\n  b\n# gap\nlimit 3",
         "fields a, b\nlimit 3\n"},
        {"filter a = 1\n  and b = 2\nstats count(*)\n  by c",
         "filter (and (= a 1) (= b 2))\nstats (count *) by c\n"},
        {"FIELDS a | FILTER b IN [1] | STATS COUNT(*) AS n BY c | SORT n DESC "
         "| LIMIT 5",
         "fields a\nfilter (in b [1])\nstats (COUNT *) as n by c\nsort n desc\n"
         "limit 5\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_dump(cases[i].query, cases[i].dump);
}

TEST(operator_precedence)
{
    static const struct {
        const char *expr;
        const char *sexpr;
    } cases[] = {
        {"a + b * c", "(+ a (* b c))"},
        {"a * b + c", "(+ (* a b) c)"},
        {"a - b - c", "(- (- a b) c)"},
        {"a / b / c", "(/ (/ a b) c)"},
        {"a % b * c", "(* (% a b) c)"},
        {"2 ^ 3 ^ 2", "(^ 2 (^ 3 2))"},
        {"a * b ^ 2", "(* a (^ b 2))"},
        {"-2 ^ 2", "(neg (^ 2 2))"},
        {"-x * y", "(* (neg x) y)"},
        {"2 ^ -1", "(^ 2 -1)"},
        {"-5", "-5"},
        {"- -5", "5"},
        {"-1.5", "-1.5"},
        {"(a + b) * c", "(* (+ a b) c)"},
        {"a + b > c * 2", "(> (+ a b) (* c 2))"},
        {"a = 1 and b = 2 or c = 3", "(or (and (= a 1) (= b 2)) (= c 3))"},
        {"a = 1 or b = 2 and c = 3", "(or (= a 1) (and (= b 2) (= c 3)))"},
        {"not a = 1 and b", "(and (not (= a 1)) b)"},
        {"not not a", "(not (not a))"},
        {"not (a or b)", "(not (or a b))"},
        {"a != 1 and b <= 2 and c >= 3 and d < 4 and e > 5",
         "(and (and (and (and (!= a 1) (<= b 2)) (>= c 3)) (< d 4)) (> e 5))"},
        {"a like \"x\" or b not like /y/i", "(or (like a \"x\") (not-like b /y/i))"},
        {"not a like \"x\"", "(not (like a \"x\"))"},
        {"a =~ /x+/ and b in [1, \"two\", -3.5]",
         "(and (=~ a /x+/) (in b [1, \"two\", -3.5]))"},
        {"a not in ['x']", "(not-in a [\"x\"])"},
        {"a + 1 in [2]", "(in (+ a 1) [2])"},
        {"f(a, b + 1) * 2", "(* (f a (+ b 1)) 2)"},
        {"abs(-x) / 1000 / 1000", "(/ (/ (abs (neg x)) 1000) 1000)"},
        {"1.5e3 + 0.1 + 2.0 + 7", "(+ (+ (+ 1500.0 0.1) 2.0) 7)"},
        {"9223372036854775807", "9223372036854775807"},
        {"\"tab\\there\" = 'q\"'", "(= \"tab\\there\" \"q\\\"\")"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char q[256], want[256];
        snprintf(q, sizeof(q), "display %s", cases[i].expr);
        snprintf(want, sizeof(want), "display %s\n", cases[i].sexpr);
        /* f() is not a function: dump without checking */
        struct arena a;
        struct ast_query *tree;
        struct sl_err err = {0};
        struct buf b;
        arena_init(&a, 4096, 0);
        buf_init(&b, 4096);
        if (parse_query(q, strlen(q), &a, &tree, &err) != SL_OK) {
            TEST_FAIL_AT("%s: %s", q, err.msg);
        } else {
            REQUIRE_OK(ast_dump(tree, &b));
            if (strcmp(b.data, want) != 0)
                TEST_FAIL_AT("%s\n    got:  %s    want: %s", q, b.data, want);
        }
        buf_fini(&b);
        arena_fini(&a);
    }
}

TEST(spans_are_the_text_as_written)
{
    struct run x;
    size_t n;
    const char *s;

    run(&x, "stats count(*), avg( bytes ) by bin(5m), (a + b)");
    REQUIRE_OK(x.st);
    struct ast_cmd *c = x.q->first;
    s = ast_expr_text(x.q, c->u.stats.aggs[0].expr, &n);
    CHECK_EQ_MEM(s, n, "count(*)", 8);
    s = ast_expr_text(x.q, c->u.stats.aggs[1].expr, &n);
    CHECK_EQ_MEM(s, n, "avg( bytes )", 12);
    s = ast_expr_text(x.q, c->u.stats.by[0].expr, &n);
    CHECK_EQ_MEM(s, n, "bin(5m)", 7);
    s = ast_expr_text(x.q, c->u.stats.by[1].expr, &n);
    CHECK_EQ_MEM(s, n, "(a + b)", 7);
    done(&x);
}

/* ------------------------------------------------------------------ */
/* Functions                                                            */

/* The functions and aggregations of reference sections 4.5 and 4.6. */
static const char *const reference_functions[] = {
    "abs", "ceil", "floor", "greatest", "least", "log", "sqrt", "ispresent",
    "coalesce", "isempty", "isblank", "concat", "ltrim", "rtrim", "trim",
    "strlen", "toupper", "tolower", "substr", "replace", "strcontains", "bin",
    "datefloor", "dateceil", "fromMillis", "toMillis", "isValidIp",
    "isValidIpV4", "isValidIpV6", "isIpInSubnet", "isIpv4InSubnet",
    "isIpv6InSubnet", "jsonParse", "jsonStringify",
    /* later additions */
    "round", "haversine", "toNumber", "toInt", "toLong", "toDouble", "case",
    "if", "isNumeric", "messageSize", "queryStartTime", "queryEndTime",
    "queryTimeRange", "regexReplace", "regex_replace", "startsWith",
    "endsWith", "split", "urlencode", "urldecode", "base64encode",
    "base64decode", "hexToAscii", "hexToDec", "decToHex", "now", "parseDate",
    "formatDate", "strftime", "ipv4ToNumber", "isPrivateIP", "isPublicIP",
    "isReservedIP", "jsonArraySize", "jsonArrayContains",
    /* aggregations */
    "avg", "count", "count_distinct", "max", "min", "pct", "stddev", "sum",
    "earliest", "latest", "sortsFirst", "sortsLast",
};

static const char *const reference_aggregations[] = {
    "avg", "count", "count_distinct", "max", "min", "pct", "stddev", "sum",
    "earliest", "latest", "sortsFirst", "sortsLast",
};

TEST(every_reference_function_is_in_the_table)
{
    for (size_t i = 0; i < sizeof(reference_functions) / sizeof(char *); i++) {
        const char *name = reference_functions[i];
        const struct fn_def *f = fn_lookup(name, strlen(name));
        if (f == NULL) {
            TEST_FAIL_AT("%s missing from fn_table", name);
            continue;
        }
        CHECK_EQ_STR(f->name, name);
        CHECK(fn_get(f->id) == f);
    }
    for (size_t i = 0; i < sizeof(reference_aggregations) / sizeof(char *);
         i++) {
        const char *name = reference_aggregations[i];
        CHECK(fn_is_agg(fn_lookup(name, strlen(name))));
    }
    CHECK(fn_lookup("ISVALIDIPV4", 11) == fn_get(FN_ISVALIDIPV4));
    CHECK(fn_lookup("Count", 5) == fn_get(FN_COUNT));
    CHECK(fn_lookup("counts", 6) == NULL);
    CHECK(fn_lookup("coun", 4) == NULL);
    CHECK(!fn_is_agg(fn_get(FN_BIN)));
}

/* Writes a call of f with n arguments that suit its kinds. */
static void make_call(const struct fn_def *f, size_t n, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "%s(", f->name);
    for (size_t i = 0; i < n && o < cap; i++) {
        const char *arg;
        switch (fn_arg_kind(f, i)) {
        case 'p': arg = "5m"; break;
        case 'n': arg = "50"; break;
        case 'r': arg = "/a+(b)/"; break;
        case '*': arg = "*"; break;
        default: arg = "x"; break;
        }
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", arg);
    }
    if (o < cap)
        snprintf(out + o, cap - o, ")");
}

TEST(every_function_checks_at_min_and_max_arity)
{
    for (int id = 0; id < FN_NUM_IDS; id++) {
        const struct fn_def *f = fn_get((enum fn_id)id);
        size_t counts[2] = {f->min_args,
                            f->max_args == FN_MANY ? f->min_args + 3
                                                   : f->max_args};
        for (int k = 0; k < 2; k++) {
            char call[256], q[320];
            struct run x;
            make_call(f, counts[k], call, sizeof(call));
            if (fn_is_agg(f))
                snprintf(q, sizeof(q), "stats %s as out by y", call);
            else
                snprintf(q, sizeof(q), "fields %s as out | filter out = 1",
                         call);
            run(&x, q);
            if (x.st != SL_OK) {
                TEST_FAIL_AT("%s: %s", q, x.err.msg);
            } else {
                struct ast_expr *e = x.q->first->kind == AST_CMD_STATS
                                         ? x.q->first->u.stats.aggs[0].expr
                                         : x.q->first->u.list.items[0].expr;
                CHECK(e->kind == AST_CALL && e->u.call.fn == f);
            }
            done(&x);
        }
    }
}

TEST(every_function_refuses_wrong_arity)
{
    for (int id = 0; id < FN_NUM_IDS; id++) {
        const struct fn_def *f = fn_get((enum fn_id)id);
        size_t bad[2];
        int nbad = 0;
        if (f->min_args > 0)
            bad[nbad++] = f->min_args - 1;
        if (f->max_args != FN_MANY)
            bad[nbad++] = (size_t)f->max_args + 1;
        for (int k = 0; k < nbad; k++) {
            char call[256], q[320], want[64];
            struct run x;
            make_call(f, bad[k], call, sizeof(call));
            snprintf(q, sizeof(q), "%s %s", fn_is_agg(f) ? "stats" : "fields",
                     call);
            snprintf(want, sizeof(want), "%s() takes ", f->name);
            run(&x, q);
            CHECK_EQ_INT(x.parse_st, SL_OK);
            CHECK_EQ_INT(x.st, SL_MALFORMED_QUERY);
            if (strstr(x.err.msg, want) == NULL)
                TEST_FAIL_AT("%s: message \"%s\" lacks \"%s\"", q, x.err.msg,
                             want);
            CHECK_EQ_INT(x.err.col, fn_is_agg(f) ? 7 : 8);
            done(&x);
        }
    }
}

TEST(aggregations_only_in_stats)
{
    for (size_t i = 0; i < sizeof(reference_aggregations) / sizeof(char *);
         i++) {
        const struct fn_def *f = fn_lookup(reference_aggregations[i],
                                           strlen(reference_aggregations[i]));
        char call[128], q[200];
        struct run x;
        make_call(f, f->min_args ? f->min_args : 1, call, sizeof(call));
        snprintf(q, sizeof(q), "filter %s > 1", call);
        run(&x, q);
        CHECK_EQ_INT(x.st, SL_MALFORMED_QUERY);
        CHECK(strstr(x.err.msg, "is only allowed in stats") != NULL);
        done(&x);
    }
}

/* ------------------------------------------------------------------ */
/* The reference's sample queries (4.8) and more real-world shapes      */

TEST(reference_sample_queries_parse_and_check)
{
    static const char *const queries[] = {
        "stats avg(bytes), min(bytes), max(bytes) by srcAddr, dstAddr",
        "filter protocol=17 | stats count(*) by srcAddr",
        "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort "
        "bytesTransferred desc | limit 10",
        "filter action=\"REJECT\" | stats count(*) as numRejections by srcAddr "
        "| sort numRejections desc | limit 20",
        "stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort "
        "packetsTransferred desc | limit 15",
        "filter isIpv4InSubnet(srcAddr, \"192.0.2.0/24\") | stats sum(bytes) "
        "as bytesTransferred by dstAddr | sort bytesTransferred desc | limit "
        "15",
        "filter logStatus=\"SKIPDATA\" | stats count(*) by bin(1h) as t | sort "
        "t",
        "filter (dstAddr like 'x.x.x.x' and srcAddr like 'y.y.') | stats "
        "sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort "
        "bytesTransferred desc | limit 10",
        "fields @timestamp, @message | sort @timestamp desc | limit 25",
        "filter @message like /Exception/ | stats count(*) as exceptionCount "
        "by bin(5m) | sort exceptionCount desc",
        "fields @message | filter @message not like /Exception/",
        "filter @type = \"REPORT\" | stats avg(@duration), max(@duration), "
        "min(@duration) by bin(5m)",
        "filter @type = \"REPORT\" | fields @requestId, @billedDuration | sort "
        "by @billedDuration desc",
        "filter @type = \"REPORT\" | stats max(@memorySize / 1000 / 1000) as "
        "provisonedMemoryMB, min(@maxMemoryUsed / 1000 / 1000) as "
        "smallestMemoryRequestMB, avg(@maxMemoryUsed / 1000 / 1000) as "
        "avgMemoryUsedMB, max(@maxMemoryUsed / 1000 / 1000) as "
        "maxMemoryUsedMB, provisonedMemoryMB - maxMemoryUsedMB as "
        "overProvisionedMB",
        "stats count(*) by queryType, bin(1h)",
        "stats count(*) as numRequests by resolverIp | sort numRequests desc "
        "| limit 10",
        "filter responseCode=\"SERVFAIL\" | stats count(*) by queryName",
        "stats count(*) by eventSource, eventName, awsRegion",
        "filter eventName=\"CreateUser\" | fields awsRegion, "
        "requestParameters.userName, responseElements.user.arn",
        "parse @message \"[*] *\" as loggingType, loggingMessage | filter "
        "loggingType = \"ERROR\" | display loggingMessage",
        "parse @message /\\[(?<level>\\S+)\\]\\s+(?<config>\\{.*\\})\\s+The "
        "error was: (?<exception>\\S+)/",
        /* documented elsewhere in the reference */
        "stats max(@timestamp) as t by x | stats count(*) by dateceil(t, 10m)",
        "fields ispresent(@initDuration) as coldstart | stats count(*) by "
        "coldstart",
        "stats count(*) by ispresent(@initDuration) as coldstart",
        "stats count(*) by srcAddr as SourceIP",
        "filter @message like /(?i)timeout/ | stats count(*) by bin(1h)",
        "fields trim(\"xyZxyfooxyxyZ\", \"xyZ\") as t, substr(\"xyZfooxyZ\", "
        "3, 3) as s",
        "filter items.0.instanceId = \"i-1\" and `foo-bar` in [\"foo\", "
        "\"bar\", 1]",
        "pattern @message | sort @sampleCount desc",
        "dedup srcAddr, dstAddr | limit 5",
        "fields jsonParse(@message) as js | display js.user.id",
        "SOURCE \"a\" START=-3600s END=0s | filter x = 1 | stats count(*)",
        "sort @timestamp desc | dedup @logStream",
    };
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        struct run x;
        run(&x, queries[i]);
        if (x.st != SL_OK)
            TEST_FAIL_AT("%s\n    %s", queries[i], x.err.msg);
        done(&x);
    }
}

/* ------------------------------------------------------------------ */
/* Errors: stage, position and exact message                            */

TEST(malformed_queries_say_where_and_what)
{
    static const struct {
        char stage;          /* 'P' parser refuses, 'C' checker refuses */
        const char *query;
        const char *msg;
    } cases[] = {
        {'P', "stats count(*) by | sort x", "line 1, column 19: expected a "
         "field name or expression after 'by', found '|'"},
        {'P', "", "line 1, column 1: the query is empty: write a command such "
         "as fields, filter or stats"},
        {'P', "  # only a comment\n", "line 2, column 1: the query is empty: "
         "write a command such as fields, filter or stats"},
        {'P', "fields a |", "line 1, column 11: expected a command after '|', "
         "found the end of the query"},
        {'P', "fields a || sort a", "line 1, column 11: expected a command "
         "such as fields, filter or stats after '|', found '|'"},
        {'P', "fields a b", "line 1, column 10: expected '|' or the end of "
         "the query after 'a', found 'b'"},
        {'P', "filter a = ", "line 1, column 12: expected a value after '=', "
         "found the end of the query"},
        {'P', "filter a < b < c", "line 1, column 14: comparisons do not "
         "chain: join them with 'and'"},
        {'P', "filter x like 5", "line 1, column 15: expected a \"string\" or "
         "a /regex/ after 'like', found '5'"},
        {'P', "filter x =~ 5", "line 1, column 13: expected a /regex/ after "
         "'=~', found '5'"},
        {'P', "filter x in \"a\"", "line 1, column 13: expected '[' and a list "
         "of values after 'in', found \"a\""},
        {'P', "filter x in [a]", "line 1, column 14: expected a string or a "
         "number after '[', found 'a'"},
        {'P', "filter x not in [1, 2", "line 1, column 22: expected ',' or ']' "
         "after '2', found the end of the query"},
        {'P', "fields (a + b", "line 1, column 14: expected ')' after 'b', "
         "found the end of the query"},
        {'P', "fields concat(a b)", "line 1, column 17: expected ',' or ')' "
         "after 'a', found 'b'"},
        {'P', "filter a = \"abc", "line 1, column 12: string not closed with "
         "\" before the end of the line"},
        {'P', "filter @message like /abc", "line 1, column 22: regex not "
         "closed with / before the end of the line (write \\/ for a slash "
         "inside it)"},
        {'P', "fields a ~ b", "line 1, column 10: unexpected character '~'"},
        {'P', "fields a ! b", "line 1, column 10: '!' must be followed by '=' "
         "(write 'not' to negate)"},
        {'P', "fields \xC3\xA9t\xC3\xA9", "line 1, column 8: unexpected byte "
         "0xC3: text outside the ASCII range goes inside quotes or "
         "back-quotes"},
        {'P', "stats count(*) by bin(5x)", "line 1, column 23: unknown time "
         "unit in '5x'; use ms, s, m, h, d, w, mo, q or y (e.g. 5m)"},
        {'P', "stats count(*) by bin(1.5h)", "line 1, column 23: a time "
         "period needs a whole number, found '1.5h'"},
        {'P', "filter x =~ /a/g", "line 1, column 16: unknown regex flag 'g'; "
         "use i, m, s or x, or (?i) inside the regex"},
        {'P', "limit 2.5", "line 1, column 7: expected a whole number of rows "
         "after 'limit', found '2.5'"},
        {'P', "limit -1", "line 1, column 7: expected a whole number of rows "
         "after 'limit', found '-'"},
        {'P', "unnest x into y", "line 1, column 1: command 'unnest' is not "
         "supported"},
        {'P', "fields a | lookup t", "line 1, column 12: command 'lookup' is "
         "not supported"},
        {'P', "pattern @message | anomaly", "line 1, column 20: command "
         "'anomaly' is not supported"},
        {'P', "fields a\ndiff previousDay", "line 2, column 1: command 'diff' "
         "is not supported"},
        {'P', "fields a | foo", "line 1, column 12: unknown command 'foo'; "
         "expected fields, display, filter, stats, sort, limit, parse, dedup "
         "or pattern"},
        {'P', "parse @message \"[*]\"", "line 1, column 21: expected 'as' and "
         "one field name for each * after \"[*]\", found the end of the "
         "query"},
        {'P', "parse @message logfmt as m", "line 1, column 16: 'parse ... "
         "logfmt' is not supported"},
        {'P', "parse @message /(?<a>x)/ multi", "line 1, column 26: 'parse ... "
         "multi' is not supported"},
        {'P', "parse @message 5", "line 1, column 16: expected a \"glob*\" "
         "pattern or a /regex/ after '@message', found '5'"},
        {'P', "SOURCE fields x", "line 1, column 8: expected a \"log group "
         "name\" or logGroups(...) after 'SOURCE', found 'fields'"},
        {'P', "SOURCE \"g\" START=abc | fields x", "line 1, column 18: "
         "expected epoch milliseconds or a time period such as -3600s after "
         "'=', found 'abc'"},
        {'P', "SOURCE \"g\" START=1 START=2 | fields x", "line 1, column 20: "
         "START is given twice"},
        {'P', "SOURCE \"g\" fields x", "line 1, column 12: expected START=, "
         "END= or '|' after \"g\", found 'fields'"},
        {'P', "SOURCE logGroups(owner: \"me\") | fields x", "line 1, column "
         "18: unknown logGroups() argument 'owner'; expected namePrefix, "
         "class or accountIdentifiers"},
        {'P', "fields a | SOURCE \"g\"", "line 1, column 12: SOURCE may only "
         "begin the query"},
        {'P', "fields @", "line 1, column 8: '@' must begin a field name such "
         "as @timestamp"},
        {'P', "fields ``", "line 1, column 8: empty back-quoted name ``"},
        {'P', "stats by x", "line 1, column 7: expected an aggregation such "
         "as count(*) after 'stats', found 'by'"},
        {'P', "stats count(*) group x", "line 1, column 22: expected 'by' "
         "after 'group', found 'x'"},
        {'P', "filter not", "line 1, column 11: expected a value after 'not', "
         "found the end of the query"},
        {'P', "fields a\n| filter b =\n| sort c", "line 3, column 1: expected "
         "a value after '=', found '|'"},
        {'P', "stats count(*) by\nsort x", "line 2, column 1: expected a field "
         "name or expression after 'by', found 'sort'"},
        {'P', "fields a as 5", "line 1, column 13: expected a field name after "
         "'as', found '5'"},
        {'P', "fields a,", "line 1, column 10: expected a field name or "
         "expression after ',', found the end of the query"},
        {'P', "filter /x/", "line 1, column 8: expected a condition after "
         "'filter', found '/'"},
        {'P', "dedup a + b", "line 1, column 9: expected '|' or the end of the "
         "query after 'a', found '+'"},
        {'P', "dedup count(*)", "line 1, column 12: expected '|' or the end "
         "of the query after 'count', found '('"},
        {'P', "fields 5.x", "line 1, column 8: malformed number '5.'"},
        {'P', "filter x in [-1 ^ 2]", "line 1, column 17: expected ',' or ']' "
         "after '1', found '^'"},
        {'P', "fields 1e999", "line 1, column 8: number '1e999' is out of "
         "range"},
        {'P', "limit 99999999999999999999", "line 1, column 7: limit "
         "99999999999999999999 is too large"},
        {'P', "SOURCE \"g\" START=1.5", "line 1, column 18: START must be "
         "whole milliseconds since the epoch or a time period such as "
         "-3600s"},
        {'P', "SOURCE \"g\" END=-5", "line 1, column 17: expected a time "
         "period such as 3600s after '-', found '5'"},
        {'P', "SOURCE logGroups(namePrefix: [5]) | fields x", "line 1, column "
         "31: expected a \"string\" after '[', found '5'"},
        {'P', "SOURCE logGroups(class \"STANDARD\")", "line 1, column 24: "
         "expected ':' after 'class', found \"STANDARD\""},
        {'C', "SOURCE logGroups(namePrefix: \"bad prefix\") | fields x",
         "line 1, column 30: a name prefix has 1 to 512 characters of A-Z "
         "a-z 0-9 . _ / # -"},
        {'C', "fields -\"a\"", "line 1, column 9: '-' needs a number, found "
         "a string"},
        {'C', "fields foo(1)", "line 1, column 8: unknown function 'foo'"},
        {'C', "fields abs(1, 2)", "line 1, column 8: abs() takes 1 argument, "
         "found 2"},
        {'C', "fields substr(\"a\")", "line 1, column 8: substr() takes 2 to 3 "
         "arguments, found 1"},
        {'C', "fields concat()", "line 1, column 8: concat() takes at least 1 "
         "argument, found 0"},
        {'C', "fields now(1)", "line 1, column 8: now() takes no arguments, "
         "found 1"},
        {'C', "fields count(*)", "line 1, column 8: aggregation count() is "
         "only allowed in stats"},
        {'C', "sort count(*) desc", "line 1, column 6: aggregation count() is "
         "only allowed in stats (sort by its alias instead)"},
        {'C', "stats count(*) by sum(x)", "line 1, column 19: aggregation "
         "sum() is not allowed after 'by'"},
        {'C', "stats sum(count(*))", "line 1, column 11: aggregation count() "
         "cannot be inside another aggregation"},
        {'C', "stats bytes by x", "line 1, column 7: 'bytes' in stats must be "
         "inside an aggregation such as count(bytes), or come after 'by'"},
        {'C', "stats sum(x) + y", "line 1, column 16: 'y' in stats must be "
         "inside an aggregation such as count(y), or come after 'by'"},
        {'C', "stats 1", "line 1, column 7: stats needs aggregations such as "
         "count(*) or sum(x); this item has none"},
        {'C', "stats count(*) | stats count(*) | stats count(*)", "line 1, "
         "column 35: a query may have at most 2 stats commands"},
        {'C', "sort x | stats count(*) as c by y | stats count(*) by c",
         "line 1, column 1: sort must come after the second stats"},
        {'C', "stats count(*) as c by x | stats avg(y)", "line 1, column 38: "
         "a second stats can use only what the first one outputs; 'y' is not "
         "one of them"},
        {'C', "stats count(*) as c by x | stats avg(c) by bin(5m)", "line 1, "
         "column 44: bin() reads @timestamp, which the stats before it does "
         "not output (keep it there, e.g. max(@timestamp) as t, then use "
         "dateceil(t, 1h))"},
        {'C', "pattern @message | stats count(*) by @message", "line 1, "
         "column 38: after pattern only its outputs (@pattern, @ratio, "
         "@sampleCount, ...) remain; '@message' is not one of them"},
        {'C', "pattern @message | fields bin(1h)", "line 1, column 27: bin() "
         "reads @timestamp, which the pattern before it does not output "
         "(keep it there, e.g. max(@timestamp) as t, then use dateceil(t, "
         "1h))"},
        {'C', "limit 0", "line 1, column 7: limit must be between 1 and "
         "10000, found 0"},
        {'C', "limit 10001", "line 1, column 7: limit must be between 1 and "
         "10000, found 10001"},
        {'C', "dedup a | sort a", "line 1, column 11: only limit may follow "
         "dedup, found sort"},
        {'C', "parse @message \"* *\" as a", "line 1, column 16: the pattern "
         "has 2 '*' but 'as' names 1 field"},
        {'C', "parse @message /(x)/", "line 1, column 16: the regex names no "
         "field: write groups such as (?<name>...)"},
        {'C', "parse @message /(x)(y)/ as a", "line 1, column 16: the regex "
         "has 2 capture groups but 'as' names 1 field"},
        {'C', "stats count(*) as n | parse \"x*\" as y", "line 1, column 23: "
         "parse reads @message, which is gone after stats; name a field to "
         "parse"},
        {'C', "filter @message like /(unclosed/", "line 1, column 32: invalid "
         "regex: missing closing parenthesis"},
        {'C', "filter x =~ \"a[\"", "line 1, column 16: invalid regex: missing "
         "terminating ] for character class"},
        {'C', "stats pct(x, 101)", "line 1, column 14: the percentile of pct() "
         "must be between 0 and 100"},
        {'C', "stats pct(x, y)", "line 1, column 14: argument 2 of pct() must "
         "be a number"},
        {'C', "fields bin(5)", "line 1, column 12: argument 1 of bin() must be "
         "a time period such as 5m"},
        {'C', "fields bin(0m)", "line 1, column 12: a time period must be "
         "longer than 0"},
        {'C', "fields datefloor(@timestamp, 1)", "line 1, column 30: argument "
         "2 of datefloor() must be a time period such as 5m"},
        {'C', "fields abs(5m)", "line 1, column 12: argument 1 of abs() cannot "
         "be a time period"},
        {'C', "fields abs(/x/)", "line 1, column 12: argument 1 of abs() "
         "cannot be a /regex/"},
        {'C', "fields abs(*)", "line 1, column 12: '*' is only allowed in "
         "count(*)"},
        {'C', "fields regexReplace(a, 5, \"x\")", "line 1, column 24: argument "
         "2 of regexReplace() must be a /regex/ or a string"},
        {'C', "fields 5m", "line 1, column 8: a time period such as 5m is only "
         "allowed in bin(), datefloor() and dateceil()"},
        {'C', "filter (/x/) like \"a\"", "line 1, column 8: a /regex/ can "
         "only follow like or =~"},
        {'C', "filter \"abc\"", "line 1, column 8: filter needs a condition, "
         "found a string"},
        {'C', "filter a and \"x\"", "line 1, column 14: 'and' needs "
         "conditions, found a string"},
        {'C', "fields \"a\" + 1", "line 1, column 8: '+' needs numbers, found "
         "a string"},
        {'C', "SOURCE \"bad name\" | fields x", "line 1, column 8: a log group "
         "name has 1 to 512 characters of A-Z a-z 0-9 . _ / # -"},
        {'C', "SOURCE logGroups(class: \"COLD\") | fields x", "line 1, column "
         "25: class must be \"STANDARD\" or \"INFREQUENT_ACCESS\""},
        {'C', "SOURCE logGroups(namePrefix: [\"a\", \"b\", \"c\", \"d\", \"e\", "
         "\"f\"]) | fields x", "line 1, column 56: logGroups() takes at most 5 "
         "name prefixes"},
        {'C', "SOURCE logGroups(accountIdentifiers: [\"12\"]) | fields x",
         "line 1, column 39: an account identifier is 12 digits"},
        {'C', "SOURCE \"g\" START=2000 END=1000 | fields x", "line 1, column "
         "27: END is before START"},
    };
    int n = 0;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run x;
        n++;
        run(&x, cases[i].query);
        if (x.st != SL_MALFORMED_QUERY) {
            TEST_FAIL_AT("%s: status %d, want SL_MALFORMED_QUERY",
                         cases[i].query, x.st);
        } else {
            bool parse_failed = x.parse_st != SL_OK;
            if (parse_failed != (cases[i].stage == 'P'))
                TEST_FAIL_AT("%s: refused by the %s, want the %s",
                             cases[i].query, parse_failed ? "parser"
                                                          : "checker",
                             cases[i].stage == 'P' ? "parser" : "checker");
            if (strcmp(x.err.msg, cases[i].msg) != 0)
                TEST_FAIL_AT("%s\n    got:  %s\n    want: %s", cases[i].query,
                             x.err.msg, cases[i].msg);
            int line = 0, col = 0;
            sscanf(cases[i].msg, "line %d, column %d:", &line, &col);
            CHECK_EQ_INT(x.err.line, line);
            CHECK_EQ_INT(x.err.col, col);
        }
        done(&x);
    }
    CHECK(n >= 25);
}

TEST(regex_literal_only_after_like)
{
    struct run x;

    run(&x, "fields a | filter /x/ like \"a\"");
    CHECK_EQ_INT(x.parse_st, SL_MALFORMED_QUERY);   /* '/' divides there */
    done(&x);
    run(&x, "fields concat(/x/, \"a\")");
    CHECK_EQ_INT(x.st, SL_MALFORMED_QUERY);
    CHECK_EQ_STR(x.err.msg, "line 1, column 15: argument 1 of concat() cannot "
                            "be a /regex/");
    done(&x);
}

TEST(caret_line_in_jq_style)
{
    static const struct {
        const char *query;
        const char *want;
    } cases[] = {
        {"stats count(*) by | sort x",
         "line 1, column 19: expected a field name or expression after 'by', "
         "found '|'\n"
         "    stats count(*) by | sort x\n"
         "                      ^\n"},
        {"fields a\n\t| filter x =\n| sort b",
         "line 3, column 1: expected a value after '=', found '|'\n"
         "    | sort b\n"
         "    ^\n"},
        {"fields a\n\t| filter x ! 1",
         "line 2, column 13: '!' must be followed by '=' (write 'not' to "
         "negate)\n"
         "    \t| filter x ! 1\n"
         "    \t           ^\n"},
        {"fields \"\xC3\xA9t\xC3\xA9\" | foo",
         "line 1, column 16: unknown command 'foo'; expected fields, display, "
         "filter, stats, sort, limit, parse, dedup or pattern\n"
         "    fields \"\xC3\xA9t\xC3\xA9\" | foo\n"
         "                   ^\n"},
        {"fields a |",
         "line 1, column 11: expected a command after '|', found the end of "
         "the query\n"
         "    fields a |\n"
         "              ^\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run x;
        struct buf b;
        run(&x, cases[i].query);
        buf_init(&b, 4096);
        REQUIRE_OK(lex_render_error(cases[i].query, strlen(cases[i].query),
                                    &x.err, &b));
        CHECK_EQ_STR(b.data, cases[i].want);
        buf_fini(&b);
        done(&x);
    }
}

TEST(caret_window_on_long_lines)
{
    char q[500];
    struct run x;
    struct buf b;

    memset(q, 'a', 400);
    memcpy(q, "fields ", 7);
    memcpy(q + 250, " zz", 3);
    q[400] = '\0';
    run(&x, q);
    REQUIRE_EQ_INT(x.st, SL_MALFORMED_QUERY);
    CHECK_EQ_INT(x.err.col, 252);
    buf_init(&b, 4096);
    REQUIRE_OK(lex_render_error(q, strlen(q), &x.err, &b));
    /* message, "    ..." + 100 characters + "...", caret under 'zz' */
    char *l2 = strchr(b.data, '\n') + 1;
    char *l3 = strchr(l2, '\n') + 1;
    CHECK_EQ_INT(l3 - l2 - 1, 4 + 3 + 100 + 3);
    CHECK_EQ_INT(strchr(l3, '^') - l3, 4 + 3 + 50);
    CHECK(l2[4 + 3 + 50] == 'z');
    buf_fini(&b);
    done(&x);
}

/* ------------------------------------------------------------------ */
/* What the checker adds                                                */

TEST(used_fields_for_the_planner)
{
    static const struct {
        const char *query;
        const char *fields;   /* space-separated, in first-use order */
    } cases[] = {
        {"fields @timestamp, @message", "@timestamp @message"},
        {"filter action = \"REJECT\" | stats count(*) as c by srcAddr | sort c "
         "desc", "action srcAddr"},
        {"stats sum(bytes) by bin(5m)", "bytes @timestamp"},
        {"stats latest(x) by y", "@timestamp x y"},
        {"parse @message \"[*] *\" as level, msg | filter level = \"E\" | "
         "display msg", "@message"},
        {"parse \"a=*\" as a | filter b = a", "@message b"},
        {"filter level = 1 | parse \"x*\" as level", "level @message"},
        {"fields jsonParse(@message) as m | filter m.user.id = 1 and "
         "mx.y = 2", "@message mx.y"},
        {"fields x + 1 as y | filter y > 2 and x > 1", "x"},
        {"stats count(*) as n by host | filter n > 5 | sort n", "host"},
        {"filter `odd-name` = 1 and `odd-name` = 2", "odd-name"},
        {"dedup a, b | limit 3", "a b"},
        {"pattern @message | filter @sampleCount > 3", "@message"},
        {"fields a", "a"},
        {"SOURCE \"g\" | filter a = 1", "a"},
        {"stats count(*) as n by host | filter zzz > 5", "host"},
        {"fields f01, f02, f03, f04, f05, f06, f07, f08, f09, f10, f11, f12, "
         "f13, f14, f15, f16, f17, f18, f19, f20, f01, f20 | stats count(*) "
         "as a1, sum(f1) as a2, sum(f2) as a3, sum(f3) as a4, sum(f4) as a5, "
         "sum(f5) as a6, sum(f6) as a7, sum(f7) as a8, sum(f8) as a9, a1 + a9",
         "f01 f02 f03 f04 f05 f06 f07 f08 f09 f10 f11 f12 f13 f14 f15 f16 "
         "f17 f18 f19 f20 f1 f2 f3 f4 f5 f6 f7 f8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run x;
        char got[256] = "";
        size_t o = 0;
        run(&x, cases[i].query);
        if (x.st != SL_OK) {
            TEST_FAIL_AT("%s: %s", cases[i].query, x.err.msg);
            done(&x);
            continue;
        }
        for (size_t j = 0; j < x.r.nfields && o < sizeof(got); j++)
            o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s",
                                  j ? " " : "", x.r.fields[j]);
        if (strcmp(got, cases[i].fields) != 0)
            TEST_FAIL_AT("%s\n    got:  %s\n    want: %s", cases[i].query,
                         got, cases[i].fields);
        done(&x);
    }
}

struct walk_count {
    int fields;
    int nodes;
    int stop_at;    /* abort when nodes reaches it; 0 = never */
};

static enum ast_walk_ret count_node(struct ast_expr *e,
                                    struct ast_expr *parent, void *ctx)
{
    struct walk_count *w = ctx;
    (void)parent;
    w->nodes++;
    w->fields += e->kind == AST_FIELD;
    if (w->stop_at != 0 && w->nodes == w->stop_at)
        return AST_WALK_ABORT;
    /* do not look inside calls */
    return e->kind == AST_CALL ? AST_WALK_PRUNE : AST_WALK_CONTINUE;
}

TEST(walker_continue_prune_abort)
{
    struct run x;
    struct walk_count w = {0};

    run(&x, "filter a = 1 and b in [1, 2] and c like /x/ and f(d, e) > 0 | "
            "stats count(*) by g | sort h | parse i \"*\" as j | dedup k | "
            "pattern l");
    REQUIRE_EQ_INT(x.parse_st, SL_OK);
    for (struct ast_cmd *c = x.q->first; c != NULL; c = c->next)
        CHECK_EQ_INT(ast_walk_cmd(c, count_node, &w), AST_WALK_CONTINUE);
    /* a b c (d e pruned) g h i k l */
    CHECK_EQ_INT(w.fields, 8);
    w = (struct walk_count){0, 0, 3};
    CHECK_EQ_INT(ast_walk_cmd(x.q->first, count_node, &w), AST_WALK_ABORT);
    CHECK_EQ_INT(w.nodes, 3);
    done(&x);
    CHECK_EQ_STR(lex_kind_name(LEX_MATCH), "'=~'");
    CHECK_EQ_STR(lex_kind_name(LEX_EOF), "the end of the query");
    CHECK_EQ_STR(ast_op_name(AST_OP_POW), "^");
    CHECK_EQ_STR(ast_cmd_name(AST_CMD_PATTERN), "pattern");
    CHECK(parse_is_command("FilterIndex", 11));
    CHECK(!parse_is_command("filters", 7));
}

TEST(checker_resolves_calls_and_counts_stats)
{
    struct run x;

    run(&x, "stats COUNT(*) as c by bin(1h) | stats avg(c)");
    REQUIRE_OK(x.st);
    CHECK_EQ_INT(x.r.nstats, 2);
    struct ast_expr *e = x.q->first->u.stats.aggs[0].expr;
    REQUIRE(e->u.call.fn != NULL);
    CHECK_EQ_INT(e->u.call.fn->id, FN_COUNT);
    CHECK_EQ_INT(x.q->first->u.stats.by[0].expr->u.call.fn->id, FN_BIN);
    done(&x);
}

TEST(numbers_keep_ints_exact)
{
    struct run x;

    run(&x, "filter a = 9007199254740993 and b = -7 and c = 2.5 and d = "
            "99999999999999999999");
    REQUIRE_OK(x.st);
    /* (and (and (and (= a N) (= b -7)) (= c 2.5)) (= d big)) */
    struct ast_expr *top = x.q->first->u.filter.cond;
    struct ast_expr *d = top->u.binary.r->u.binary.r;
    struct ast_expr *abc = top->u.binary.l;
    struct ast_expr *c = abc->u.binary.r->u.binary.r;
    struct ast_expr *ab = abc->u.binary.l;
    struct ast_expr *a = ab->u.binary.l->u.binary.r;
    struct ast_expr *b = ab->u.binary.r->u.binary.r;
    CHECK(a->u.num.is_int && a->u.num.ivalue == 9007199254740993LL);
    CHECK(b->u.num.is_int && b->u.num.ivalue == -7);
    CHECK(!c->u.num.is_int && c->u.num.value == 2.5);
    CHECK(!d->u.num.is_int && d->u.num.value > 9.9e19);
    done(&x);
}

TEST(deep_nesting_is_refused_not_crashed)
{
    static char q[40000];
    struct run x;
    size_t o = 0;

    o += (size_t)snprintf(q, sizeof(q), "fields ");
    for (int i = 0; i < 5000; i++)
        q[o++] = '(';
    q[o++] = 'a';
    q[o] = '\0';
    run(&x, q);
    CHECK_EQ_INT(x.st, SL_MALFORMED_QUERY);
    CHECK(strstr(x.err.msg, "nested more than 128 levels") != NULL);
    done(&x);
    /* a long flat chain: left-deep tree, capped by height */
    o = (size_t)snprintf(q, sizeof(q), "fields a");
    for (int i = 0; i < 5000; i++)
        o += (size_t)snprintf(q + o, sizeof(q) - o, " + a");
    run(&x, q);
    CHECK_EQ_INT(x.st, SL_MALFORMED_QUERY);
    CHECK(strstr(x.err.msg, "nested more than 256 levels") != NULL);
    done(&x);
    o = (size_t)snprintf(q, sizeof(q), "fields a");
    for (int i = 0; i < 200; i++)
        o += (size_t)snprintf(q + o, sizeof(q) - o, " + a");
    run(&x, q);
    CHECK_OK(x.st);
    done(&x);
}

/* Every arena cap between nothing and enough answers SL_NOMEM cleanly. */
TEST(arena_exhaustion_is_clean)
{
    static const char q[] =
        "SOURCE logGroups(namePrefix: [\"a\"]) START=-1h | parse @message "
        "/(?<lvl>\\w+) (?<rest>.*)/ | filter lvl in [\"E\", \"W\"] and rest "
        "like /x/ | stats count(*) as n, pct(x, 50) by bin(5m), host | sort "
        "n desc | limit 10";
    bool reached_ok = false;

    for (size_t cap = 0; cap < 64 * 1024 && !reached_ok; cap += 64) {
        struct arena a;
        struct ast_query *tree;
        struct check_result r;
        struct sl_err err = {0};
        enum sl_status st;
        arena_init(&a, 256, cap);
        st = parse_query(q, sizeof(q) - 1, &a, &tree, &err);
        if (st == SL_OK)
            st = check_query(tree, &a, &r, &err);
        if (st != SL_OK && st != SL_NOMEM)
            TEST_FAIL_AT("cap %zu: status %d: %s", cap, st, err.msg);
        reached_ok = st == SL_OK;
        arena_fini(&a);
    }
    CHECK(reached_ok);
}

#ifdef SLUICE_TESTING
/* PCRE2 allocates through sl_alloc: failing any call is SL_NOMEM. */
TEST(regex_allocation_failures_are_clean)
{
    static const char q[] = "filter @message like /a(b|c)+/ | parse "
                            "/(?<x>\\d+)/";
    for (long n = 1; n < 40; n++) {
        struct arena a;
        struct ast_query *tree;
        struct check_result r;
        struct sl_err err = {0};
        enum sl_status st;
        arena_init(&a, 1 << 16, 0);
        st = parse_query(q, sizeof(q) - 1, &a, &tree, &err);
        REQUIRE_OK(st);
        sl_alloc_fail_at(1 + n % 4);
        st = check_query(tree, &a, &r, &err);
        sl_alloc_fail_at(0);
        CHECK(st == SL_OK || st == SL_NOMEM);
        arena_fini(&a);
    }
}
#endif

/* ------------------------------------------------------------------ */
/* Golden file                                                          */

/* tests/query/parse.test, found next to this file's folder. */
static FILE *open_golden(char *path, size_t cap)
{
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    int dir = slash ? (int)(slash - file) : 1;

    snprintf(path, cap, "%.*s/../query/parse.test", dir, slash ? file : ".");
    return fopen(path, "r");
}

/* Reads lines up to a line equal to stop (or a blank line when stop is
 * NULL) into out. Returns false at the end of the file. */
static bool read_block(FILE *f, const char *stop, struct buf *out, int *lineno)
{
    char line[4096];

    while (fgets(line, sizeof(line), f) != NULL) {
        (*lineno)++;
        if (stop != NULL && strcmp(line, stop) == 0)
            return true;
        if (stop == NULL && line[0] == '\n')
            return true;
        if (buf_puts(out, line) != SL_OK)
            return false;
    }
    return stop == NULL && out->len > 0;
}

TEST(golden_file)
{
    char path[1024], line[4096];
    FILE *f = open_golden(path, sizeof(path));
    int lineno = 0, cases = 0;

    if (f == NULL) {
        TEST_FAIL_AT("cannot open %s", path);
        return;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        struct buf query, want, got;
        bool fail = strcmp(line, "%%FAIL\n") == 0;
        int at = ++lineno;
        struct run x;

        if (line[0] == '#' || line[0] == '\n')
            continue;                  /* comments between cases */
        buf_init(&query, 1 << 16);
        buf_init(&want, 1 << 16);
        buf_init(&got, 1 << 16);
        if (!fail && buf_puts(&query, line) != SL_OK)
            break;
        read_block(f, "---\n", &query, &lineno);
        read_block(f, NULL, &want, &lineno);
        if (query.len > 0 && query.data[query.len - 1] == '\n')
            query.data[--query.len] = '\0';   /* the last newline is not */
        run(&x, query.data ? query.data : "");
        if (fail) {
            if (x.st == SL_OK)
                TEST_FAIL_AT("%s:%d: parsed, but %%FAIL expected", path, at);
            else if (lex_render_error(query.data, query.len, &x.err, &got) !=
                     SL_OK)
                TEST_FAIL_AT("%s:%d: render failed", path, at);
        } else if (x.st != SL_OK) {
            TEST_FAIL_AT("%s:%d: %s", path, at, x.err.msg);
        } else if (buf_puts(&got, x.dump) != SL_OK) {
            TEST_FAIL_AT("%s:%d: out of memory", path, at);
        }
        if (strcmp(got.data ? got.data : "", want.data ? want.data : "") != 0)
            TEST_FAIL_AT("%s:%d:\n--- got\n%s--- want\n%s", path, at,
                         got.data ? got.data : "", want.data ? want.data : "");
        cases++;
        done(&x);
        buf_fini(&query);
        buf_fini(&want);
        buf_fini(&got);
    }
    fclose(f);
    CHECK(cases >= 10);
}

TEST_MAIN()
