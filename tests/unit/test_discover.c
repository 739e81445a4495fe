/* tests/unit/test_discover.c: field discovery (query/discover.h) as
 * tables of message -> fields: JSON flattening (nesting, arrays, escapes,
 * @-keys, numbers vs strings, malformed text, the field cap), VPC flow logs
 * in the default and custom formats, Lambda platform and runtime lines,
 * Route 53 query logs, empty plans and the disc_each listing. */
#include "common/alloc.h"
#include "common/arena.h"
#include "query/discover.h"
#include "tests/harness.h"

#include <stdio.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

/* "null", "num:4249", "str:abc", "bool:true", "json:{...}". */
static const char *vdesc(const struct val *v, char *buf, size_t n)
{
    switch (v->kind) {
    case VAL_NULL:
        snprintf(buf, n, "null");
        break;
    case VAL_NUM:
        snprintf(buf, n, "num:%.15g", v->u.num);
        break;
    case VAL_STR:
        snprintf(buf, n, "str:%.*s", (int)v->len, v->u.s);
        break;
    case VAL_BOOL:
        snprintf(buf, n, "bool:%s", v->u.b ? "true" : "false");
        break;
    case VAL_TIME:
        snprintf(buf, n, "time:%lld", (long long)v->u.ms);
        break;
    case VAL_JSON:
        snprintf(buf, n, "json:%.*s", (int)v->len, v->u.s);
        break;
    }
    return buf;
}

#define CHECK_VAL(v, want) do { char b_[512]; vdesc(&(v), b_, sizeof(b_)); \
    if (strcmp(b_, (want)) != 0) \
        TEST_FAIL_AT("%s: got \"%s\", want \"%s\"", #v, b_, (want)); } while (0)

#define NAMES(...) ((const char *const[]){__VA_ARGS__})
#define NNAMES(...) (sizeof(NAMES(__VA_ARGS__)) / sizeof(const char *))

/* One plan, one scratch arena, one row of values. */
struct ex {
    struct arena a;
    struct disc_plan *p;
    struct val out[64];
};

static void ex_init(struct ex *x)
{
    memset(x, 0, sizeof(*x));
    arena_init(&x->a, 4096, 0);
}

static void ex_fini(struct ex *x)
{
    arena_fini(&x->a);
}

/* Plans names and extracts them from msg; returns disc_extract's status. */
static enum sl_status ex_run(struct ex *x, const char *const *names, size_t n,
                             const struct disc_flow_format *f, const char *msg)
{
    enum sl_status st = disc_plan_new(names, n, &x->a, &x->p);
    if (st != SL_OK)
        return st;
    return disc_extract(x->p, f, msg, strlen(msg), &x->a, x->out);
}

#define EXTRACT(x, f, msg, ...) \
    ex_run((x), NAMES(__VA_ARGS__), NNAMES(__VA_ARGS__), (f), (msg))

/* What disc_each handed out, one "name=desc" line per field. */
struct listing {
    char text[16384];
    size_t len;
    int count;
    int stop_after;   /* return SL_LIMIT after this many; 0 = never */
};

static enum sl_status collect(void *ctx, const char *name, const struct val *v)
{
    struct listing *l = ctx;
    char d[512];
    int w;

    l->count++;
    w = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s=%s\n",
                 name, vdesc(v, d, sizeof(d)));
    if (w > 0 && (size_t)w < sizeof(l->text) - l->len)
        l->len += (size_t)w;
    if (l->stop_after != 0 && l->count == l->stop_after)
        return SL_LIMIT;
    return SL_OK;
}

/* Lists msg with disc_each into l; returns its status. */
static enum sl_status list(struct listing *l, const struct disc_flow_format *f,
                           const char *msg)
{
    struct arena a;
    enum sl_status st;
    int stop = l->stop_after;

    memset(l, 0, sizeof(*l));
    l->stop_after = stop;
    arena_init(&a, 4096, 0);
    st = disc_each(f, msg, strlen(msg), &a, collect, l);
    arena_fini(&a);
    return st;
}

#define CHECK_LIST(f, msg, want) do { struct listing l_ = {0}; \
    CHECK_OK(list(&l_, (f), (msg))); \
    if (strcmp(l_.text, (want)) != 0) \
        TEST_FAIL_AT("disc_each(%s):\n got:\n%s want:\n%s", #msg, l_.text, (want)); \
    } while (0)

static struct disc_flow_format *compile(struct arena *a, const char *fmt)
{
    struct disc_flow_format *f = NULL;
    struct sl_err err = {0};

    if (disc_flow_format_compile(fmt, strlen(fmt), a, &f, &err) != SL_OK)
        TEST_FAIL_AT("format \"%s\": %s", fmt, err.msg);
    return f;
}

static bool points_into(const struct val *v, const char *msg)
{
    return v->u.s >= msg && v->u.s + v->len <= msg + strlen(msg);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                 */

TEST(json_scalar_types)
{
    struct ex x;
    static const char msg[] =
        "{\"s\":\"x y\",\"n\":42,\"f\":-1.5e3,\"t\":true,\"fa\":false,"
        "\"z\":null,\"q\":\"123\",\"d\":0.25,\"e\":\"\"}";

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "s", "n", "f", "t", "fa", "z", "q",
                       "d", "e", "missing"));
    CHECK_VAL(x.out[0], "str:x y");
    CHECK(points_into(&x.out[0], msg));
    CHECK_VAL(x.out[1], "num:42");
    CHECK_VAL(x.out[2], "num:-1500");
    CHECK_VAL(x.out[3], "bool:true");
    CHECK_VAL(x.out[4], "bool:false");
    CHECK_VAL(x.out[5], "null");
    CHECK_VAL(x.out[6], "str:123");
    CHECK_VAL(x.out[7], "num:0.25");
    CHECK_VAL(x.out[8], "str:");
    CHECK_VAL(x.out[9], "null");
    ex_fini(&x);
}

TEST(json_nested_objects_and_arrays)
{
    struct ex x;
    static const char msg[] =
        "{\"eventName\":\"RunInstances\",\"userIdentity\":{\"type\":\"IAMUser\","
        "\"arn\":\"arn:aws:iam::1:user/a\"},\"requestParameters\":{"
        "\"instancesSet\":{\"items\":[{\"instanceId\":\"i-1\"},"
        "{\"instanceId\":\"i-2\"}]}},\"arrayKey\":[1,\"two\",[3,{}],[]],"
        "\"o\" : { } }";

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "userIdentity.type", "userIdentity.arn",
                       "requestParameters.instancesSet.items.0.instanceId",
                       "requestParameters.instancesSet.items.1.instanceId",
                       "requestParameters.instancesSet.items.2.instanceId",
                       "arrayKey.0", "arrayKey.1", "arrayKey.2", "arrayKey.2.0",
                       "arrayKey.2.1", "arrayKey.3", "userIdentity",
                       "requestParameters.instancesSet.items", "o",
                       "eventName", "userIdentity.type.x", "arrayKey.x"));
    CHECK_VAL(x.out[0], "str:IAMUser");
    CHECK_VAL(x.out[1], "str:arn:aws:iam::1:user/a");
    CHECK_VAL(x.out[2], "str:i-1");
    CHECK_VAL(x.out[3], "str:i-2");
    CHECK_VAL(x.out[4], "null");
    CHECK_VAL(x.out[5], "num:1");
    CHECK_VAL(x.out[6], "str:two");
    CHECK_VAL(x.out[7], "json:[3,{}]");
    CHECK_VAL(x.out[8], "num:3");
    CHECK_VAL(x.out[9], "json:{}");
    CHECK_VAL(x.out[10], "json:[]");
    CHECK_VAL(x.out[11],
              "json:{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::1:user/a\"}");
    CHECK_VAL(x.out[12], "json:[{\"instanceId\":\"i-1\"},{\"instanceId\":\"i-2\"}]");
    CHECK_VAL(x.out[13], "json:{ }");
    CHECK_VAL(x.out[14], "str:RunInstances");
    CHECK_VAL(x.out[15], "null");
    CHECK_VAL(x.out[16], "null");
    CHECK(points_into(&x.out[11], msg));
    ex_fini(&x);
}

TEST(json_escapes)
{
    struct ex x;
    static const char msg[] =
        "{\"e\":\"caf\\u00e9\",\"p\":\"\\ud83d\\ude00!\",\"l\":\"\\ud800x\","
        "\"lo\":\"\\udc00\",\"n\":\"a\\nb\\\"c\\\\d\\/e\\t\",\"k\\u0065y\":1,"
        "\"plain\":\"abc\",\"q\\\"k\":2,\"bad\":\"\\x\"}";

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "e", "p", "l", "lo", "n", "key",
                       "plain", "q\"k"));
    CHECK_VAL(x.out[0], "str:caf\xc3\xa9");
    CHECK_VAL(x.out[1], "str:\xf0\x9f\x98\x80!");
    CHECK_VAL(x.out[2], "str:\xef\xbf\xbdx");
    CHECK_VAL(x.out[3], "str:\xef\xbf\xbd");
    CHECK_VAL(x.out[4], "str:a\nb\"c\\d/e\t");
    CHECK_VAL(x.out[5], "num:1");
    CHECK_VAL(x.out[6], "str:abc");
    CHECK(points_into(&x.out[6], msg));
    CHECK(!points_into(&x.out[0], msg));    /* unescaped into scratch */
    CHECK_VAL(x.out[7], "num:2");
    ex_fini(&x);

    /* A bad escape in a wanted value stops the walk there. */
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "plain", "bad"));
    CHECK_VAL(x.out[0], "str:abc");
    CHECK_VAL(x.out[1], "null");
    ex_fini(&x);
}

TEST(json_strings_of_every_length)
{
    /* Strings of 0..40 bytes with an escape at each position (or none),
     * so the 16-byte scan meets quotes and backslashes everywhere. */
    for (int len = 0; len <= 40; len++) {
        for (int at = -1; at < len; at++) {
            char msg[128], want[64];
            size_t n = 0, w = 0;
            struct ex x;
            n += (size_t)snprintf(msg, sizeof(msg), "{\"k\":\"");
            for (int i = 0; i < len; i++) {
                if (i == at) {
                    msg[n++] = '\\';
                    msg[n++] = '"';
                    want[w++] = '"';
                } else {
                    msg[n++] = (char)('a' + i % 26);
                    want[w++] = (char)('a' + i % 26);
                }
            }
            snprintf(msg + n, sizeof(msg) - n, "\",\"z\":%d}", len);
            want[w] = '\0';
            ex_init(&x);
            CHECK_OK(EXTRACT(&x, NULL, msg, "z", "k"));
            if (x.out[1].kind != VAL_STR || x.out[1].len != w ||
                memcmp(x.out[1].u.s, want, w) != 0 || x.out[0].kind != VAL_NUM ||
                x.out[0].u.num != len)
                TEST_FAIL_AT("len %d, escape at %d: %s", len, at, msg);
            ex_fini(&x);
            ex_init(&x);   /* and skipped */
            CHECK_OK(EXTRACT(&x, NULL, msg, "z"));
            if (x.out[0].kind != VAL_NUM || x.out[0].u.num != len)
                TEST_FAIL_AT("skipping len %d, escape at %d: %s", len, at, msg);
            ex_fini(&x);
        }
    }
}

TEST(json_at_keys_get_one_more_at)
{
    struct ex x;
    static const char msg[] =
        "{\"@example\":1,\"@timestamp\":\"t\",\"a\":{\"@b\":2},"
        "\"@@x\":3,\"@o\":{\"k\":4}}";

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "@@example", "@example", "@@timestamp",
                       "@timestamp", "a.@b", "@@a.@b", "@@@x", "@@x", "@@o.k",
                       "example"));
    CHECK_VAL(x.out[0], "num:1");
    CHECK_VAL(x.out[1], "null");   /* a single '@' is never JSON */
    CHECK_VAL(x.out[2], "str:t");
    CHECK_VAL(x.out[3], "null");   /* the system field is the executor's */
    CHECK_VAL(x.out[4], "num:2");
    CHECK_VAL(x.out[5], "null");
    CHECK_VAL(x.out[6], "num:3");
    CHECK_VAL(x.out[7], "null");
    CHECK_VAL(x.out[8], "num:4");
    CHECK_VAL(x.out[9], "null");
    ex_fini(&x);
}

TEST(json_dotted_keys_and_name_order)
{
    struct ex x;
    static const char msg[] =
        "{\"a.b\":1,\"a\":{\"b\":2,\"c\":3,\"b-\":6},\"a-b\":4,\"ab\":5,"
        "\"a!\":7}";

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "a.b", "a.c", "a-b", "ab", "a", "a!",
                       "a.b-", "a.b.c"));
    CHECK_VAL(x.out[0], "num:1");   /* first occurrence wins */
    CHECK_VAL(x.out[1], "num:3");
    CHECK_VAL(x.out[2], "num:4");
    CHECK_VAL(x.out[3], "num:5");
    CHECK_VAL(x.out[4], "json:{\"b\":2,\"c\":3,\"b-\":6}");
    CHECK_VAL(x.out[5], "num:7");
    CHECK_VAL(x.out[6], "num:6");
    CHECK_VAL(x.out[7], "null");
    ex_fini(&x);
}

TEST(json_repeated_keys_and_repeated_names)
{
    struct ex x;

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, "{\"a\":1,\"a\":2,\"b\":null,\"b\":3}",
                       "a", "b", "a"));
    CHECK_VAL(x.out[0], "num:1");
    CHECK_VAL(x.out[1], "null");    /* a JSON null is a value too */
    CHECK_VAL(x.out[2], "num:1");
    ex_fini(&x);
}

TEST(json_numbers)
{
    struct ex x;
    static const char msg[] =
        "{\"a\":12345678901234567890,\"b\":1e400,\"c\":-0.5E-2,"
        "\"d\":9007199254740993,\"e\":1.7976931348623157e308,\"f\":0,"
        "\"g\":123456789012345}";

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "a", "b", "c", "d", "e", "f", "g"));
    CHECK_VAL(x.out[0], "num:1.23456789012346e+19");
    CHECK_VAL(x.out[1], "str:1e400");  /* too large for a double: kept as text */
    CHECK_VAL(x.out[2], "num:-0.005");
    CHECK(x.out[3].kind == VAL_NUM && x.out[3].u.num == 9007199254740992.0);
    CHECK(x.out[4].kind == VAL_NUM && x.out[4].u.num > 1e308);
    CHECK_VAL(x.out[5], "num:0");
    CHECK_VAL(x.out[6], "num:123456789012345");
    ex_fini(&x);
}

TEST(json_malformed_keeps_what_came_before)
{
    static const struct {
        const char *msg;
        const char *a, *b;   /* want for names a and b */
    } cases[] = {
        {"{\"a\":1,\"b\":", "num:1", "null"},
        {"{\"a\":1,\"b\":tru}", "num:1", "null"},
        {"{\"a\":1,\"b\":truex}", "num:1", "null"},
        {"{\"a\" 1,\"b\":2}", "null", "null"},
        {"{\"a\":\"unterminated", "null", "null"},
        {"{\"a\":1", "num:1", "null"},
        {"{\"a\":01,\"b\":2}", "null", "null"},
        {"{\"a\":1e,\"b\":2}", "null", "null"},
        {"{\"a\":-,\"b\":2}", "null", "null"},
        {"{\"a\":1 \"b\":2}", "num:1", "null"},
        {"{\"a\":1,,\"b\":2}", "num:1", "null"},
        {"{\"a\":1,\"b\":2,}", "num:1", "num:2"},
        {"{\"a\":[1,2,\"b\":2}", "null", "null"},
        {"{\"x\":[1,2,\"b\":2}", "null", "null"},
        {"{\"x\":{\"y\":\"}\"},\"a\":1,\"b\":2}", "num:1", "num:2"},
        {"{\"x\":\"\\\"}\",\"a\":1,\"b\":2}", "num:1", "num:2"},
        {"{\"a\":1}trailing \"b\":2}", "num:1", "null"},
        {"   \n{\"a\":1,\"b\":2}", "num:1", "num:2"},
        {"[{\"a\":1}]", "null", "null"},
        {"{", "null", "null"},
        {"{\"", "null", "null"},
        {"{\"a\"", "null", "null"},
        {"{\"a\":", "null", "null"},
        {"{}", "null", "null"},
        {"{\"a\":{}}", "json:{}", "null"},
        {"{a:1}", "null", "null"},
        {"{\"a\":\"x\\", "null", "null"},
        {"{\"a\":\"\\u12\"}", "null", "null"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ex x;
        char got_a[128], got_b[128];
        ex_init(&x);
        CHECK_OK(EXTRACT(&x, NULL, cases[i].msg, "a", "b"));
        vdesc(&x.out[0], got_a, sizeof(got_a));
        vdesc(&x.out[1], got_b, sizeof(got_b));
        if (strcmp(got_a, cases[i].a) != 0 || strcmp(got_b, cases[i].b) != 0)
            TEST_FAIL_AT("%s: got a=%s b=%s, want a=%s b=%s", cases[i].msg,
                         got_a, got_b, cases[i].a, cases[i].b);
        ex_fini(&x);
    }
}

TEST(json_truncated_never_over_reads)
{
    /* Every prefix of a message, in an exact-size buffer: nothing may read
     * past it (ASan), and values must lie inside it. */
    static const char full[] =
        "{\"a\":{\"b\":[1,{\"c\":\"d\\u00e9\"}],\"e\":true},\"f\":\"g\\\"h\","
        "\"n\":-1.5e10,\"z\":null}";
    const char *const names[] = {"a", "a.b.1.c", "f", "n", "z", "a.e"};

    for (size_t len = 0; len <= sizeof(full) - 1; len++) {
        struct arena a;
        struct disc_plan *p;
        struct val out[6];
        struct listing l = {0};
        char *buf;
        arena_init(&a, 4096, 0);
        buf = sl_alloc(len != 0 ? len : 1);   /* exact size: ASan sees over-reads */
        REQUIRE(buf != NULL);
        memcpy(buf, full, len);
        REQUIRE_OK(disc_plan_new(names, 6, &a, &p));
        CHECK_OK(disc_extract(p, NULL, buf, len, &a, out));
        for (int i = 0; i < 6; i++)
            if (out[i].kind == VAL_JSON)
                CHECK(out[i].u.s >= buf && out[i].u.s + out[i].len <= buf + len);
        CHECK_OK(disc_each(NULL, buf, len, &a, collect, &l));
        sl_free(buf);
        arena_fini(&a);
    }
}

TEST(json_deep_nesting)
{
    static char msg[4096], name[1024];
    size_t n = 0, nn = 0;
    struct ex x;
    struct listing l = {0};

    for (int i = 0; i < 150; i++) {
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "{\"a\":");
        if (i < 149)
            nn += (size_t)snprintf(name + nn, sizeof(name) - nn, "%sa",
                                   i ? "." : "");
    }
    n += (size_t)snprintf(msg + n, sizeof(msg) - n, "1");
    for (int i = 0; i < 150; i++)
        msg[n++] = '}';
    msg[n] = '\0';
    /* name is a.a....a (149 levels): past the depth limit, and so is the
     * walk down to it; skipped whole, the value is fine. */
    ex_init(&x);
    CHECK_OK(EXTRACT(&x, NULL, msg, name, "a"));
    CHECK_VAL(x.out[0], "null");
    CHECK_VAL(x.out[1], "null");
    ex_fini(&x);
    ex_init(&x);
    CHECK_OK(EXTRACT(&x, NULL, msg, "a"));
    CHECK(x.out[0].kind == VAL_JSON && x.out[0].len == n - 6);
    ex_fini(&x);
    CHECK_OK(list(&l, NULL, msg));
    CHECK_EQ_INT(l.count, 0);

    /* 50 levels are fine both ways. */
    n = nn = 0;
    for (int i = 0; i < 50; i++) {
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "{\"a\":");
        nn += (size_t)snprintf(name + nn, sizeof(name) - nn, "%sa",
                               i ? "." : "");
    }
    n += (size_t)snprintf(msg + n, sizeof(msg) - n, "7");
    for (int i = 0; i < 50; i++)
        msg[n++] = '}';
    msg[n] = '\0';
    ex_init(&x);
    CHECK_OK(EXTRACT(&x, NULL, msg, name));
    CHECK_VAL(x.out[0], "num:7");
    ex_fini(&x);
    CHECK_OK(list(&l, NULL, msg));
    CHECK_EQ_INT(l.count, 1);
}

TEST(json_field_cap)
{
    static char msg[32768];
    size_t n = 0;
    struct ex x;
    struct listing l = {0};

    /* 1500 top-level fields: the 1000th is discovered, the 1001st not. */
    n += (size_t)snprintf(msg + n, sizeof(msg) - n, "{");
    for (int i = 0; i < 1500; i++)
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s\"f%d\":%d",
                              i ? "," : "", i, i);
    snprintf(msg + n, sizeof(msg) - n, "}");
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "f0", "f999", "f1000", "f1499"));
    CHECK_VAL(x.out[0], "num:0");
    CHECK_VAL(x.out[1], "num:999");
    CHECK_VAL(x.out[2], "null");
    CHECK_VAL(x.out[3], "null");
    ex_fini(&x);
    CHECK_OK(list(&l, NULL, msg));
    CHECK_EQ_INT(l.count, DISC_MAX_FIELDS);
    CHECK(strstr(l.text, "f999=num:999\n") != NULL);
    CHECK(strstr(l.text, "f1000=") == NULL);

    /* Fields inside a skipped array count too. */
    n = 0;
    n += (size_t)snprintf(msg + n, sizeof(msg) - n, "{\"big\":[");
    for (int i = 0; i < 1200; i++)
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s0", i ? "," : "");
    snprintf(msg + n, sizeof(msg) - n, "],\"x\":1}");
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "x", "big.999", "big.1000", "big"));
    CHECK_VAL(x.out[0], "null");
    CHECK_VAL(x.out[1], "num:0");
    CHECK_VAL(x.out[2], "null");
    CHECK_VAL(x.out[3], "null");   /* the array runs past the cap */
    ex_fini(&x);
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "x"));
    CHECK_VAL(x.out[0], "null");
    ex_fini(&x);

    /* Under the cap, a long message is read to its end. */
    n = 0;
    n += (size_t)snprintf(msg + n, sizeof(msg) - n, "{\"big\":[");
    for (int i = 0; i < 999; i++)
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s\"%020d\"",
                              i ? "," : "", i);
    snprintf(msg + n, sizeof(msg) - n, "],\"x\":1}");
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, msg, "x"));
    CHECK_VAL(x.out[0], "num:1");
    ex_fini(&x);
}

TEST(json_many_names)
{
    static char msg[16384], names_buf[300][16];
    const char *names[300];
    size_t n = 0;
    struct arena a;
    struct disc_plan *p;
    struct val out[300];

    n += (size_t)snprintf(msg + n, sizeof(msg) - n, "{");
    for (int i = 0; i < 150; i++)
        n += (size_t)snprintf(msg + n, sizeof(msg) - n,
                              "%s\"k%d\":%d,\"o%d\":{\"v\":%d}", i ? "," : "",
                              i, i, i, i * 10);
    snprintf(msg + n, sizeof(msg) - n, "}");
    /* Names in a scrambled order, flat and nested. */
    for (int i = 0; i < 300; i++) {
        int j = (i * 7) % 300;
        if (j < 150)
            snprintf(names_buf[i], sizeof(names_buf[i]), "k%d", j);
        else
            snprintf(names_buf[i], sizeof(names_buf[i]), "o%d.v", j - 150);
        names[i] = names_buf[i];
    }
    arena_init(&a, 4096, 0);
    REQUIRE_OK(disc_plan_new(names, 300, &a, &p));
    REQUIRE_OK(disc_extract(p, NULL, msg, strlen(msg), &a, out));
    for (int i = 0; i < 300; i++) {
        int j = (i * 7) % 300;
        double want = j < 150 ? j : (j - 150) * 10;
        if (out[i].kind != VAL_NUM || out[i].u.num != want)
            TEST_FAIL_AT("%s: kind %d", names[i], (int)out[i].kind);
    }
    arena_fini(&a);
}

/* ------------------------------------------------------------------ */
/* VPC flow logs                                                        */

static const char FLOW_OK[] =
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 "
    "22 6 20 4249 1418530010 1418530070 ACCEPT OK";
static const char FLOW_NODATA[] =
    "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 "
    "1431280934 - NODATA";

TEST(flow_default_all_fields)
{
    struct ex x;

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, FLOW_OK, "version", "accountId",
                       "interfaceId", "srcAddr", "dstAddr", "srcPort",
                       "dstPort", "protocol", "packets", "bytes", "startTime",
                       "endTime", "action", "logStatus", "vpcId", "srcaddr",
                       "@message"));
    CHECK_VAL(x.out[0], "num:2");
    CHECK_VAL(x.out[1], "str:123456789010");
    CHECK_VAL(x.out[2], "str:eni-1235b8ca123456789");
    CHECK_VAL(x.out[3], "str:172.31.16.139");
    CHECK(points_into(&x.out[3], FLOW_OK));
    CHECK_VAL(x.out[4], "str:172.31.16.21");
    CHECK_VAL(x.out[5], "num:20641");
    CHECK_VAL(x.out[6], "num:22");
    CHECK_VAL(x.out[7], "num:6");
    CHECK_VAL(x.out[8], "num:20");
    CHECK_VAL(x.out[9], "num:4249");
    CHECK_VAL(x.out[10], "num:1418530010");
    CHECK_VAL(x.out[11], "num:1418530070");
    CHECK_VAL(x.out[12], "str:ACCEPT");
    CHECK_VAL(x.out[13], "str:OK");
    CHECK_VAL(x.out[14], "null");   /* a v3 field: not in the default format */
    CHECK_VAL(x.out[15], "null");
    CHECK_VAL(x.out[16], "null");
    ex_fini(&x);
}

TEST(flow_default_nodata_and_dashes)
{
    struct ex x;

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, FLOW_NODATA, "srcAddr", "bytes", "action",
                       "logStatus", "startTime", "interfaceId"));
    CHECK_VAL(x.out[0], "null");
    CHECK_VAL(x.out[1], "null");
    CHECK_VAL(x.out[2], "null");
    CHECK_VAL(x.out[3], "str:NODATA");
    CHECK_VAL(x.out[4], "num:1431280876");
    CHECK_VAL(x.out[5], "str:eni-1235b8ca123456789");
    ex_fini(&x);
    CHECK_LIST(NULL, FLOW_NODATA,
               "version=num:2\naccountId=str:123456789010\n"
               "interfaceId=str:eni-1235b8ca123456789\n"
               "startTime=num:1431280876\nendTime=num:1431280934\n"
               "logStatus=str:NODATA\n");
}

TEST(flow_default_variants)
{
    static const struct {
        const char *msg;
        const char *src;    /* srcAddr wanted, or "null" when not a record */
    } cases[] = {
        {"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 REJECT SKIPDATA", "str:10.0.0.1"},
        {"2 unknown eni-1 2001:db8::1 2001:db8::2 443 51000 6 3 180 1 2 ACCEPT OK",
         "str:2001:db8::1"},
        {"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n", "str:10.0.0.1"},
        {"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\r\n", "str:10.0.0.1"},
        {"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 ACCEPT OK", "null"},
        {"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 3 ACCEPT OK", "null"},
        {"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ALLOW OK", "null"},
        {"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT FINE", "null"},
        {"2 1 eni-1 10.0.0.1  10.0.0.2 1 2 6 1 1 1 ACCEPT OK", "null"},
        {"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK ", "null"},
        {"3 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK", "null"},
        {"2  1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT", "null"},
        {"2 ", "null"},
        {"2", "null"},
        {"", "null"},
        {"2 a b c d e f g h i j k l m n o p q r s t u v w x y z ACCEPT OK", "null"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ex x;
        char got[128];
        ex_init(&x);
        CHECK_OK(EXTRACT(&x, NULL, cases[i].msg, "srcAddr"));
        vdesc(&x.out[0], got, sizeof(got));
        if (strcmp(got, cases[i].src) != 0)
            TEST_FAIL_AT("\"%s\": got %s, want %s", cases[i].msg, got, cases[i].src);
        ex_fini(&x);
    }
}

TEST(flow_lines_of_every_length)
{
    /* Pad the interface id so the blanks fall at every offset modulo 16,
     * and lines run from shorter than one 16-byte block to several. */
    for (int pad = 0; pad < 40; pad++) {
        char msg[256], eni[64];
        struct ex x;
        memset(eni, 'e', (size_t)pad);
        eni[pad] = '\0';
        snprintf(msg, sizeof(msg), "2 1 x%s 10.0.0.%d 10.0.0.2 1 2 6 1 %d 1 2 "
                 "ACCEPT OK", eni, pad, pad * 7);
        ex_init(&x);
        CHECK_OK(EXTRACT(&x, NULL, msg, "srcAddr", "bytes", "logStatus"));
        if (x.out[0].kind != VAL_STR || x.out[1].kind != VAL_NUM ||
            x.out[1].u.num != pad * 7 || x.out[2].len != 2)
            TEST_FAIL_AT("%s", msg);
        ex_fini(&x);
    }
    {
        struct arena a;
        struct disc_flow_format *f;
        struct ex x;
        arena_init(&a, 4096, 0);
        f = compile(&a, "${srcaddr} ${bytes}");
        REQUIRE(f != NULL);
        ex_init(&x);
        CHECK_OK(EXTRACT(&x, f, "1.2.3.4 5", "srcAddr", "bytes"));
        CHECK_VAL(x.out[0], "str:1.2.3.4");
        CHECK_VAL(x.out[1], "num:5");
        ex_fini(&x);
        arena_fini(&a);
    }
}

TEST(flow_non_numeric_in_numeric_field_stays_text)
{
    struct ex x;

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL,
                       "2 1 eni-1 10.0.0.1 10.0.0.2 http 2 6 1 1 1 2 ACCEPT OK",
                       "srcPort", "dstPort"));
    CHECK_VAL(x.out[0], "str:http");
    CHECK_VAL(x.out[1], "num:2");
    ex_fini(&x);
}

TEST(flow_listing)
{
    CHECK_LIST(NULL, FLOW_OK,
               "version=num:2\naccountId=str:123456789010\n"
               "interfaceId=str:eni-1235b8ca123456789\n"
               "srcAddr=str:172.31.16.139\ndstAddr=str:172.31.16.21\n"
               "srcPort=num:20641\ndstPort=num:22\nprotocol=num:6\n"
               "packets=num:20\nbytes=num:4249\nstartTime=num:1418530010\n"
               "endTime=num:1418530070\naction=str:ACCEPT\nlogStatus=str:OK\n");
}

TEST(flow_custom_formats)
{
    struct arena a;
    struct disc_flow_format *v3, *v5, *ecs, *one;
    struct ex x;

    arena_init(&a, 4096, 0);
    v3 = compile(&a, "${version} ${vpc-id} ${subnet-id} ${instance-id} "
                     "${interface-id} ${account-id} ${type} ${srcaddr} "
                     "${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} "
                     "${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} "
                     "${end} ${action} ${tcp-flags} ${log-status}");
    v5 = compile(&a, "${version} ${srcaddr} ${dstaddr} ${region} ${az-id} "
                     "${sublocation-type} ${sublocation-id} "
                     "${pkt-src-aws-service} ${pkt-dst-aws-service} "
                     "${flow-direction} ${traffic-path}");
    ecs = compile(&a, "${ecs-cluster-name} ${ecs-task-id} ${reject-reason} "
                      "${ecs-container-id} ${ecs-service-name} ${bytes}");
    one = compile(&a, "${srcaddr}");
    REQUIRE(v3 != NULL && v5 != NULL && ecs != NULL && one != NULL);

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, v3,
                       "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 "
                       "i-01234567890123456 eni-1235b8ca123456789 123456789012 "
                       "IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 "
                       "10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 19 OK",
                       "version", "vpcId", "subnetId", "instanceId", "type",
                       "pktSrcAddr", "pktDstAddr", "tcpFlags", "bytes",
                       "packets", "logStatus", "region", "srcAddr"));
    CHECK_VAL(x.out[0], "num:3");
    CHECK_VAL(x.out[1], "str:vpc-abcdefab012345678");
    CHECK_VAL(x.out[2], "str:subnet-aaaaaaaa012345678");
    CHECK_VAL(x.out[3], "str:i-01234567890123456");
    CHECK_VAL(x.out[4], "str:IPv4");
    CHECK_VAL(x.out[5], "str:52.213.180.42");
    CHECK_VAL(x.out[6], "str:10.0.0.62");
    CHECK_VAL(x.out[7], "num:19");
    CHECK_VAL(x.out[8], "num:568");
    CHECK_VAL(x.out[9], "num:8");
    CHECK_VAL(x.out[10], "str:OK");
    CHECK_VAL(x.out[11], "null");   /* not in this format */
    CHECK_VAL(x.out[12], "str:52.213.180.42");
    ex_fini(&x);

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, v5,
                       "5 10.0.1.5 52.95.128.10 us-east-1 use1-az4 - - - S3 "
                       "egress 8",
                       "region", "azId", "sublocationType", "pktSrcAwsService",
                       "pktDstAwsService", "flowDirection", "trafficPath",
                       "version"));
    CHECK_VAL(x.out[0], "str:us-east-1");
    CHECK_VAL(x.out[1], "str:use1-az4");
    CHECK_VAL(x.out[2], "null");
    CHECK_VAL(x.out[3], "null");
    CHECK_VAL(x.out[4], "str:S3");
    CHECK_VAL(x.out[5], "str:egress");
    CHECK_VAL(x.out[6], "num:8");
    CHECK_VAL(x.out[7], "num:5");
    ex_fini(&x);

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, ecs, "prod 0abc1234 1 cont-9 web 77",
                       "ecsClusterName", "ecsTaskId", "rejectReason",
                       "ecsContainerId", "ecsServiceName", "bytes"));
    CHECK_VAL(x.out[0], "str:prod");
    CHECK_VAL(x.out[1], "str:0abc1234");
    CHECK_VAL(x.out[2], "str:1");
    CHECK_VAL(x.out[3], "str:cont-9");
    CHECK_VAL(x.out[4], "str:web");
    CHECK_VAL(x.out[5], "num:77");
    ex_fini(&x);

    /* Token counts must match the format. */
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, v5, "5 10.0.1.5 52.95.128.10 us-east-1", "srcAddr"));
    CHECK_VAL(x.out[0], "null");
    ex_fini(&x);
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, one, "10.1.1.1", "srcAddr", "dstAddr"));
    CHECK_VAL(x.out[0], "str:10.1.1.1");
    CHECK_VAL(x.out[1], "null");
    ex_fini(&x);
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, one, "10.1.1.1 x", "srcAddr"));
    CHECK_VAL(x.out[0], "null");
    ex_fini(&x);

    /* A custom format replaces the default one; JSON still is JSON. */
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, one, FLOW_OK, "srcAddr"));
    CHECK_VAL(x.out[0], "null");
    ex_fini(&x);
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, one, "{\"srcAddr\":\"j\"}", "srcAddr"));
    CHECK_VAL(x.out[0], "str:j");
    ex_fini(&x);

    CHECK_LIST(v5, "5 10.0.1.5 52.95.128.10 us-east-1 use1-az4 - - - S3 egress 8",
               "version=num:5\nsrcAddr=str:10.0.1.5\ndstAddr=str:52.95.128.10\n"
               "region=str:us-east-1\nazId=str:use1-az4\n"
               "pktDstAwsService=str:S3\nflowDirection=str:egress\n"
               "trafficPath=num:8\n");
    arena_fini(&a);
}

TEST(flow_format_errors)
{
    static const struct {
        const char *fmt;
        const char *in_msg;   /* a piece of the message */
    } cases[] = {
        {"${version} ${bogus-field}", "${bogus-field}"},
        {"${srcaddr} ${dstaddr} ${srcaddr}", "${srcaddr} is repeated"},
        {"${srcaddr}  ${dstaddr}", "offset 11"},
        {" ${srcaddr}", "offset 0"},
        {"${srcaddr} ", "offset 11"},
        {"${srcaddr},${dstaddr}", "offset 10"},
        {"${srcaddr} dstaddr", "offset 11"},
        {"${srcaddr} ${dstaddr", "never closed"},
        {"", "at least one"},
        {"${srcAddr}", "${srcAddr}"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena a;
        struct disc_flow_format *f = (struct disc_flow_format *)&a;
        struct sl_err err = {0};
        enum sl_status st;
        arena_init(&a, 4096, 0);
        st = disc_flow_format_compile(cases[i].fmt, strlen(cases[i].fmt), &a,
                                      &f, &err);
        CHECK_EQ_INT(st, SL_INVALID);
        CHECK(f == NULL);
        CHECK_EQ_INT(err.code, SL_INVALID);
        if (strstr(err.msg, cases[i].in_msg) == NULL)
            TEST_FAIL_AT("format \"%s\": message \"%s\" lacks \"%s\"",
                         cases[i].fmt, err.msg, cases[i].in_msg);
        arena_fini(&a);
    }
}

/* ------------------------------------------------------------------ */
/* Lambda                                                               */

#define REQ "8f507cfc-1b47-4b2b-8a33-0c7e4d4cbb3a"

TEST(lambda_platform_lines)
{
    struct ex x;
    const char *const names[] = {"@type", "@requestId", "@duration",
                                 "@billedDuration", "@memorySize",
                                 "@maxMemoryUsed", "@initDuration",
                                 "@xrayTraceId", "@xraySegmentId"};

    ex_init(&x);
    REQUIRE_OK(ex_run(&x, names, 9, NULL,
                      "REPORT RequestId: " REQ "\tDuration: 102.25 ms\t"
                      "Billed Duration: 103 ms\tMemory Size: 128 MB\t"
                      "Max Memory Used: 70 MB\t\n"));
    CHECK_VAL(x.out[0], "str:REPORT");
    CHECK_VAL(x.out[1], "str:" REQ);
    CHECK_VAL(x.out[2], "num:102.25");
    CHECK_VAL(x.out[3], "num:103");
    CHECK_VAL(x.out[4], "num:128000000");
    CHECK_VAL(x.out[5], "num:70000000");
    CHECK_VAL(x.out[6], "null");
    CHECK_VAL(x.out[7], "null");
    CHECK_VAL(x.out[8], "null");
    ex_fini(&x);

    ex_init(&x);
    REQUIRE_OK(ex_run(&x, names, 9, NULL,
                      "REPORT RequestId: " REQ "\tDuration: 1.5 ms\t"
                      "Billed Duration: 2 ms\tMemory Size: 1024 MB\t"
                      "Max Memory Used: 99 MB\tInit Duration: 150.2 ms\t\n"
                      "XRAY TraceId: 1-5e8f-abc\tSegmentId: 3c4d5e\t"
                      "Sampled: true\t\n"));
    CHECK_VAL(x.out[2], "num:1.5");
    CHECK_VAL(x.out[4], "num:1024000000");
    CHECK_VAL(x.out[6], "num:150.2");
    CHECK_VAL(x.out[7], "str:1-5e8f-abc");
    CHECK_VAL(x.out[8], "str:3c4d5e");
    ex_fini(&x);

    ex_init(&x);
    REQUIRE_OK(ex_run(&x, names, 9, NULL,
                      "START RequestId: " REQ " Version: $LATEST\n"));
    CHECK_VAL(x.out[0], "str:START");
    CHECK_VAL(x.out[1], "str:" REQ);
    CHECK_VAL(x.out[2], "null");
    ex_fini(&x);

    ex_init(&x);
    REQUIRE_OK(ex_run(&x, names, 9, NULL, "END RequestId: " REQ));
    CHECK_VAL(x.out[0], "str:END");
    CHECK_VAL(x.out[1], "str:" REQ);
    ex_fini(&x);

    /* Not platform lines. */
    ex_init(&x);
    REQUIRE_OK(ex_run(&x, names, 9, NULL, "REPORT something else"));
    CHECK_VAL(x.out[0], "null");
    ex_fini(&x);
    ex_init(&x);
    REQUIRE_OK(ex_run(&x, names, 9, NULL, "STARTRequestId: x"));
    CHECK_VAL(x.out[0], "null");
    ex_fini(&x);
}

TEST(lambda_runtime_lines)
{
    struct ex x;

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL,
                       "2024-01-01T00:00:00.000Z\t" REQ "\tINFO\tgot "
                       "{\"a\":1,\"b\":{\"c\":\"d\"}} and {\"e\":2}",
                       "@requestId", "a", "b.c", "e", "@type"));
    CHECK_VAL(x.out[0], "str:" REQ);
    CHECK_VAL(x.out[1], "num:1");
    CHECK_VAL(x.out[2], "str:d");
    CHECK_VAL(x.out[3], "null");   /* only the first fragment */
    CHECK_VAL(x.out[4], "null");
    ex_fini(&x);

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, "2024-01-01T00:00:00Z\tabc-123\tINFO\t{\"a\":1}",
                       "a", "@requestId"));
    CHECK_VAL(x.out[0], "num:1");
    CHECK_VAL(x.out[1], "str:abc-123");
    ex_fini(&x);

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL,
                       "[ERROR]\t2024-05-01T10:00:00.123Z\t" REQ "\tboom {\"code\":500}\n",
                       "@requestId", "code"));
    CHECK_VAL(x.out[0], "str:" REQ);
    CHECK_VAL(x.out[1], "num:500");
    ex_fini(&x);

    /* Plain text with a brace is not a Lambda line. */
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, "hello {\"a\":1}", "a", "@requestId"));
    CHECK_VAL(x.out[0], "null");
    CHECK_VAL(x.out[1], "null");
    ex_fini(&x);
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, "2024-01-01 00:00:00\tx\t{\"a\":1}", "a"));
    CHECK_VAL(x.out[0], "null");
    ex_fini(&x);
}

TEST(lambda_listing)
{
    CHECK_LIST(NULL,
               "REPORT RequestId: " REQ "\tDuration: 102.25 ms\t"
               "Billed Duration: 103 ms\tMemory Size: 128 MB\t"
               "Max Memory Used: 70 MB\tInit Duration: 150.2 ms\t\n"
               "XRAY TraceId: 1-abc\tSegmentId: 3c\tSampled: true\t\n",
               "@type=str:REPORT\n@requestId=str:" REQ "\n"
               "@duration=num:102.25\n@billedDuration=num:103\n"
               "@memorySize=num:128000000\n@maxMemoryUsed=num:70000000\n"
               "@initDuration=num:150.2\n@xrayTraceId=str:1-abc\n"
               "@xraySegmentId=str:3c\n");
    CHECK_LIST(NULL, "START RequestId: " REQ " Version: $LATEST",
               "@type=str:START\n@requestId=str:" REQ "\n");
    CHECK_LIST(NULL,
               "2024-01-01T00:00:00.000Z\t" REQ "\tINFO\t{\"@a\":[1],\"b\":true}",
               "@requestId=str:" REQ "\n@@a.0=num:1\nb=bool:true\n");
}

/* ------------------------------------------------------------------ */
/* Route 53                                                             */

static const char R53[] =
    "1.0 2017-12-13T08:16:02.130Z Z123412341234 example.com A NOERROR UDP "
    "FRA6 192.168.1.1 -";

TEST(route53_fields)
{
    struct ex x;

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, R53, "version", "queryTimestamp",
                       "hostZoneId", "queryName", "queryType", "responseCode",
                       "protocol", "edgeLocation", "resolverIp", "srcAddr"));
    CHECK_VAL(x.out[0], "str:1.0");
    CHECK_VAL(x.out[1], "str:2017-12-13T08:16:02.130Z");
    CHECK_VAL(x.out[2], "str:Z123412341234");
    CHECK_VAL(x.out[3], "str:example.com");
    CHECK_VAL(x.out[4], "str:A");
    CHECK_VAL(x.out[5], "str:NOERROR");
    CHECK_VAL(x.out[6], "str:UDP");
    CHECK_VAL(x.out[7], "str:FRA6");
    CHECK_VAL(x.out[8], "str:192.168.1.1");
    CHECK_VAL(x.out[9], "null");
    ex_fini(&x);

    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL,
                       "1.0 2017-12-13T08:16:02.130Z Z1 a.example. AAAA "
                       "SERVFAIL TCP IAD79 10.0.0.1 10.0.0.0/24",
                       "responseCode", "resolverIp"));
    CHECK_VAL(x.out[0], "str:SERVFAIL");
    CHECK_VAL(x.out[1], "str:10.0.0.1");
    ex_fini(&x);

    ex_init(&x);   /* nine tokens: no EDNS subnet */
    REQUIRE_OK(EXTRACT(&x, NULL, "1.0 t Z1 q A NOERROR UDP FRA6 1.2.3.4",
                       "resolverIp"));
    CHECK_VAL(x.out[0], "str:1.2.3.4");
    ex_fini(&x);

    ex_init(&x);   /* too many / too few tokens */
    REQUIRE_OK(EXTRACT(&x, NULL, "1.0 t Z1 q A NOERROR UDP FRA6 1.2.3.4 - x",
                       "queryName"));
    CHECK_VAL(x.out[0], "null");
    ex_fini(&x);
    ex_init(&x);
    REQUIRE_OK(EXTRACT(&x, NULL, "1.0 t Z1 q A NOERROR UDP FRA6", "queryName"));
    CHECK_VAL(x.out[0], "null");
    ex_fini(&x);

    CHECK_LIST(NULL, R53,
               "version=str:1.0\nqueryTimestamp=str:2017-12-13T08:16:02.130Z\n"
               "hostZoneId=str:Z123412341234\nqueryName=str:example.com\n"
               "queryType=str:A\nresponseCode=str:NOERROR\nprotocol=str:UDP\n"
               "edgeLocation=str:FRA6\nresolverIp=str:192.168.1.1\n");
}

/* ------------------------------------------------------------------ */
/* Plans, listings, failures                                            */

TEST(empty_plans)
{
    struct arena a;
    struct disc_plan *p;
    struct val out[6];
    const char *const sys[] = {"@timestamp", "@message", "@logStream", "@log",
                               "@ingestionTime", "@ptr"};
    const char *const some[] = {"@timestamp", "srcAddr"};

    arena_init(&a, 4096, 0);
    REQUIRE_OK(disc_plan_new(sys, 6, &a, &p));
    CHECK(disc_plan_empty(p));
    for (int i = 0; i < 6; i++)
        out[i] = val_num(1);
    CHECK_OK(disc_extract(p, NULL, FLOW_OK, strlen(FLOW_OK), &a, out));
    for (int i = 0; i < 6; i++)
        CHECK_VAL(out[i], "null");
    REQUIRE_OK(disc_plan_new(NULL, 0, &a, &p));
    CHECK(disc_plan_empty(p));
    CHECK_OK(disc_extract(p, NULL, "{\"a\":1}", 7, &a, out));
    REQUIRE_OK(disc_plan_new(some, 2, &a, &p));
    CHECK(!disc_plan_empty(p));
    CHECK_OK(disc_extract(p, NULL, FLOW_OK, strlen(FLOW_OK), &a, out));
    CHECK_VAL(out[0], "null");
    CHECK_VAL(out[1], "str:172.31.16.139");
    arena_fini(&a);
}

TEST(other_text_yields_nothing)
{
    static const char *const msgs[] = {
        "hello world", "", " ", "ERROR something failed", "1.0", "[INFO]",
        "[INFO]\tnot a time", "2024-01-01T00:00:00Z no tab", "\n",
    };

    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        struct ex x;
        struct listing l = {0};
        ex_init(&x);
        CHECK_OK(EXTRACT(&x, NULL, msgs[i], "a", "srcAddr", "@requestId",
                         "queryName"));
        for (int j = 0; j < 4; j++)
            CHECK_VAL(x.out[j], "null");
        ex_fini(&x);
        CHECK_OK(list(&l, NULL, msgs[i]));
        CHECK_EQ_INT(l.count, 0);
    }
}

TEST(json_listing)
{
    CHECK_LIST(NULL,
               "{\"a\":1,\"b\":{\"c\":\"x\",\"d\":[true,null,{\"e\":2.5}],"
               "\"f\":{},\"g\":[]},\"@h\":\"y\",\"i\\u00e9\":\"\\n\",\"a\":3}",
               "a=num:1\nb.c=str:x\nb.d.0=bool:true\nb.d.1=null\n"
               "b.d.2.e=num:2.5\nb.f=json:{}\nb.g=json:[]\n@@h=str:y\n"
               "i\xc3\xa9=str:\n\na=num:3\n");
    /* Stops at the first error, keeping what came before. */
    CHECK_LIST(NULL, "{\"a\":1,\"b\":[2,}", "a=num:1\nb.0=num:2\n");
    CHECK_LIST(NULL, "{}", "");
}

TEST(each_stops_when_told)
{
    struct listing l = {0};

    l.stop_after = 2;
    CHECK_EQ_INT(list(&l, NULL, "{\"a\":1,\"b\":2,\"c\":3}"), SL_LIMIT);
    CHECK_EQ_INT(l.count, 2);
    l.stop_after = 3;
    CHECK_EQ_INT(list(&l, NULL, FLOW_OK), SL_LIMIT);
    CHECK_EQ_INT(l.count, 3);
}

TEST(scratch_exhausted_is_nomem)
{
    struct arena plan_arena, scratch;
    struct disc_plan *p;
    struct val out[1];
    const char *const names[] = {"a"};
    static const char msg[] = "{\"a\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                              "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}";
    struct listing l = {0};

    arena_init(&plan_arena, 4096, 0);
    arena_init(&scratch, 16, 16);
    REQUIRE_OK(disc_plan_new(names, 1, &plan_arena, &p));
    CHECK_EQ_INT(disc_extract(p, NULL, msg, strlen(msg), &scratch, out), SL_NOMEM);
    arena_reset(&scratch);
    CHECK_EQ_INT(disc_each(NULL, msg, strlen(msg), &scratch, collect, &l),
                 SL_NOMEM);
    /* A flow line needs no scratch at all. */
    arena_reset(&scratch);
    {
        const char *const f[] = {"srcAddr"};
        REQUIRE_OK(disc_plan_new(f, 1, &plan_arena, &p));
        CHECK_OK(disc_extract(p, NULL, FLOW_OK, strlen(FLOW_OK), &scratch, out));
        CHECK_VAL(out[0], "str:172.31.16.139");
        CHECK_EQ_INT(scratch.used, 0);
    }
    arena_fini(&scratch);
    arena_fini(&plan_arena);
}

TEST_MAIN()
