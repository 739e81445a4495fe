/* tests/unit/test_ingest_decode.c: the ingest body decoder (JSON, NDJSON,
 * text). Tables of bodies and what they decode to: escapes, UTF-8, per-event
 * rejections, malformed and truncated bodies, limits, nesting, and the
 * zero-copy promise. Bodies are copied into exact-size blocks so ASan sees
 * any read past the end. */
#include "api/ingest_decode.h"
#include "common/alloc.h"
#include "common/arena.h"
#include "tests/harness.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1732650000123LL

/* One decode with its own exact-size copy of the body and arena. */
struct run {
    char *body;
    size_t len;
    struct arena a;
    struct ingest_batch b;
    struct sl_err err;
    enum sl_status st;
};

static void run_fini(struct run *r)
{
    arena_fini(&r->a);
    sl_free(r->body);
    r->body = NULL;
}

static enum sl_status run_n(struct run *r, enum ingest_format fmt,
                            const char *body, size_t len, const char *key,
                            bool allow_array, size_t max_events)
{
    struct ingest_limits lim = {.max_events = max_events};

    memset(r, 0, sizeof(*r));
    r->body = sl_alloc(len ? len : 1);
    if (len)
        memcpy(r->body, body, len);
    r->len = len;
    arena_init(&r->a, 1 << 16, 0);
    r->st = ingest_decode(fmt, r->body, len, key, allow_array, NOW, &lim,
                          &r->a, &r->b, &r->err);
    return r->st;
}

static enum sl_status run_json(struct run *r, const char *body)
{
    return run_n(r, INGEST_JSON, body, strlen(body), "events", true, 10000);
}

static bool in_body(const struct run *r, const char *p)
{
    return p >= r->body && p < r->body + r->len;
}

static size_t valid_bytes(const struct ingest_batch *b)
{
    size_t sum = 0;
    for (size_t i = 0; i < b->n; i++)
        if (!b->ev[i].invalid)
            sum += b->ev[i].len;
    return sum;
}

/* ------------------------------------------------------------------ */
/* Body shapes                                                          */
/* ------------------------------------------------------------------ */

TEST(plain_array)
{
    struct run r;
    REQUIRE_OK(run_json(&r, "[{\"timestamp\":1,\"message\":\"a\"},"
                            "{\"message\":\"bc\",\"timestamp\":2}]"));
    REQUIRE_EQ_INT(r.b.n, 2);
    CHECK_EQ_INT(r.b.ev[0].ts, 1);
    CHECK_EQ_MEM(r.b.ev[0].msg, r.b.ev[0].len, "a", 1);
    CHECK_EQ_INT(r.b.ev[1].ts, 2);
    CHECK_EQ_MEM(r.b.ev[1].msg, r.b.ev[1].len, "bc", 2);
    CHECK(!r.b.ev[0].invalid && !r.b.ev[1].invalid);
    CHECK_EQ_INT(r.b.message_bytes, 3);
    CHECK(!r.b.has_events_key);
    CHECK_EQ_INT(r.b.n_members, 0);
    /* Zero copy: both messages point into the body. */
    CHECK(in_body(&r, r.b.ev[0].msg) && in_body(&r, r.b.ev[1].msg));
    run_fini(&r);
}

TEST(empty_array_and_empty_object)
{
    struct run r;
    REQUIRE_OK(run_json(&r, "[]"));
    CHECK_EQ_INT(r.b.n, 0);
    CHECK_EQ_INT(r.b.message_bytes, 0);
    run_fini(&r);
    REQUIRE_OK(run_json(&r, " { } "));
    CHECK_EQ_INT(r.b.n, 0);
    CHECK(!r.b.has_events_key);
    run_fini(&r);
    REQUIRE_OK(run_json(&r, "{\"events\":[]}"));
    CHECK(r.b.has_events_key);
    CHECK_EQ_INT(r.b.n, 0);
    run_fini(&r);
}

TEST(events_object)
{
    struct run r;
    const struct ingest_member *m;
    REQUIRE_OK(run_json(&r, "{\"note\":\"hi\",\"events\":[{\"timestamp\":5,"
                            "\"message\":\"x\"}],\"n\":3}"));
    CHECK(r.b.has_events_key);
    REQUIRE_EQ_INT(r.b.n, 1);
    CHECK_EQ_INT(r.b.ev[0].ts, 5);
    CHECK_EQ_MEM(r.b.ev[0].msg, r.b.ev[0].len, "x", 1);
    CHECK_EQ_INT(r.b.n_members, 1);
    m = ingest_member_get(&r.b, "note");
    REQUIRE(m != NULL);
    CHECK_EQ_MEM(m->val, m->val_len, "hi", 2);
    CHECK(ingest_member_get(&r.b, "n") == NULL);
    CHECK(ingest_member_get(&r.b, "events") == NULL);
    run_fini(&r);
}

TEST(cloudwatch_object)
{
    static const char body[] =
        "{\"logGroupName\":\"/aws/lambda/f\",\"logStreamName\":\"2024/11/26/"
        "[$LATEST]abc\",\"logEvents\":[{\"timestamp\":1732650000000,"
        "\"message\":\"START RequestId: 1\"},{\"timestamp\":1732650000001,"
        "\"message\":\"END\"}],\"sequenceToken\":\"4963\",\"entity\":{"
        "\"keyAttributes\":{\"Type\":\"Service\"},\"attributes\":{}}}";
    const struct { const char *key, *val; } want[] = {
        {"logGroupName", "/aws/lambda/f"},
        {"logStreamName", "2024/11/26/[$LATEST]abc"},
        {"sequenceToken", "4963"},
    };
    struct run r;

    REQUIRE_OK(run_n(&r, INGEST_JSON, body, strlen(body), "logEvents", false,
                     10000));
    CHECK(r.b.has_events_key);
    REQUIRE_EQ_INT(r.b.n, 2);
    CHECK_EQ_INT(r.b.ev[0].ts, 1732650000000LL);
    CHECK_EQ_MEM(r.b.ev[0].msg, r.b.ev[0].len, "START RequestId: 1", 18);
    CHECK_EQ_INT(r.b.ev[1].ts, 1732650000001LL);
    CHECK_EQ_INT(r.b.message_bytes, 21);
    CHECK_EQ_INT(r.b.n_members, 3);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct ingest_member *m = ingest_member_get(&r.b, want[i].key);
        REQUIRE(m != NULL);
        CHECK_EQ_MEM(m->val, m->val_len, want[i].val, strlen(want[i].val));
        CHECK(in_body(&r, m->key) && in_body(&r, m->val));
    }
    CHECK(ingest_member_get(&r.b, "entity") == NULL);
    CHECK(ingest_member_get(&r.b, "logGroup") == NULL);
    run_fini(&r);

    /* The same body with the native key finds no events. */
    REQUIRE_OK(run_json(&r, body));
    CHECK(!r.b.has_events_key);
    CHECK_EQ_INT(r.b.n, 0);
    run_fini(&r);

    /* A bare array is refused where the contract wants an object. */
    CHECK_EQ_INT(run_n(&r, INGEST_JSON, "[]", 2, "logEvents", false, 10),
                 SL_BAD_JSON);
    CHECK(strstr(r.err.msg, "logEvents") != NULL);
    run_fini(&r);
}

TEST(members_escaped_duplicated_and_capped)
{
    char body[2048];
    size_t o = 0;
    const struct ingest_member *m;
    struct run r;

    o += (size_t)snprintf(body + o, sizeof(body) - o,
                          "{\"log\\u0047roupName\":\"a\\/b\",\"x\":1,"
                          "\"logStreamName\":\"s1\",\"logStreamName\":\"s2\"");
    for (int i = 0; i < 20; i++)
        o += (size_t)snprintf(body + o, sizeof(body) - o, ",\"k%d\":\"v%d\"",
                              i, i);
    snprintf(body + o, sizeof(body) - o, ",\"logGroupName\":\"last\"}");

    REQUIRE_OK(run_json(&r, body));
    CHECK_EQ_INT(r.b.n_members, INGEST_MAX_MEMBERS);
    m = ingest_member_get(&r.b, "logGroupName");   /* key had an escape */
    REQUIRE(m != NULL);
    CHECK_EQ_MEM(m->val, m->val_len, "last", 4);     /* last one wins */
    m = ingest_member_get(&r.b, "logStreamName");
    REQUIRE(m != NULL);
    CHECK_EQ_MEM(m->val, m->val_len, "s2", 2);
    CHECK(ingest_member_get(&r.b, "k13") != NULL);  /* 2 + 14 = 16 */
    CHECK(ingest_member_get(&r.b, "k14") == NULL);
    CHECK(ingest_member_get(&r.b, "x") == NULL);
    run_fini(&r);

    REQUIRE_OK(run_json(&r, "{\"g\":\"a\\/b\\u00e9\"}"));
    m = ingest_member_get(&r.b, "g");
    REQUIRE(m != NULL);
    CHECK_EQ_MEM(m->val, m->val_len, "a/b\xc3\xa9", 5);
    run_fini(&r);
}

TEST(duplicate_events_key_last_wins)
{
    struct run r;
    REQUIRE_OK(run_json(&r, "{\"events\":[{\"timestamp\":1,\"message\":\"a\"},"
                            "{\"timestamp\":2,\"message\":\"b\"}],"
                            "\"events\":[{\"timestamp\":3,"
                            "\"message\":\"cc\"}]}"));
    REQUIRE_EQ_INT(r.b.n, 1);
    CHECK_EQ_INT(r.b.ev[0].ts, 3);
    CHECK_EQ_INT(r.b.message_bytes, 2);
    run_fini(&r);
}

TEST(byte_order_mark_and_null_body)
{
    struct run r;
    struct arena a;
    struct ingest_batch b;
    struct sl_err err = {0};

    REQUIRE_OK(run_json(&r, "\xEF\xBB\xBF"
                            "[{\"timestamp\":1,\"message\":\"a\"}]"));
    CHECK_EQ_INT(r.b.n, 1);
    run_fini(&r);

    arena_init(&a, 4096, 0);
    CHECK_EQ_INT(ingest_decode(INGEST_JSON, NULL, 0, "events", true, NOW,
                               NULL, &a, &b, &err), SL_BAD_JSON);
    CHECK(strstr(err.msg, "empty") != NULL);
    CHECK_OK(ingest_decode(INGEST_TEXT, NULL, 0, NULL, false, NOW, NULL, &a,
                           &b, &err));
    CHECK_EQ_INT(b.n, 0);
    CHECK_OK(ingest_decode(INGEST_NDJSON, NULL, 0, NULL, false, NOW, NULL, &a,
                           &b, &err));
    CHECK_EQ_INT(b.n, 0);
    arena_fini(&a);
}

/* ------------------------------------------------------------------ */
/* Strings                                                              */
/* ------------------------------------------------------------------ */

TEST(escapes_decode)
{
    static const struct {
        const char *json;    /* the message as written between quotes */
        const char *want;    /* decoded bytes */
        size_t want_len;
    } cases[] = {
        {"a\\\"b", "a\"b", 3},
        {"a\\\\b", "a\\b", 3},
        {"a\\/b", "a/b", 3},
        {"\\b\\f\\n\\r\\t", "\b\f\n\r\t", 5},
        {"\\u0041\\u00e9\\u20AC", "A\xc3\xa9\xe2\x82\xac", 6},
        {"\\u07ff\\u0800\\uffff", "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf", 8},
        {"\\ud83d\\ude00", "\xf0\x9f\x98\x80", 4},
        {"\\uD834\\uDD1E!", "\xf0\x9d\x84\x9e!", 5},
        {"\\udbff\\udfff", "\xf4\x8f\xbf\xbf", 4},
        {"a\\u0000b", "a\0b", 3},
        {"\\u0000", "\0", 1},
        {"x\\\\u0041", "x\\u0041", 7},
        {"end\\\\", "end\\", 4},
        {"\\u001f\\u007f", "\x1f\x7f", 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256];
        struct run r;
        snprintf(body, sizeof(body),
                 "[{\"timestamp\":7,\"message\":\"%s\"}]", cases[i].json);
        if (run_json(&r, body) != SL_OK) {
            TEST_FAIL_AT("case %zu (%s): %s", i, cases[i].json, r.err.msg);
            run_fini(&r);
            continue;
        }
        REQUIRE_EQ_INT(r.b.n, 1);
        CHECK(!r.b.ev[0].invalid);
        CHECK_EQ_MEM(r.b.ev[0].msg, r.b.ev[0].len, cases[i].want,
                     cases[i].want_len);
        CHECK_EQ_INT(r.b.message_bytes, cases[i].want_len);
        CHECK(!in_body(&r, r.b.ev[0].msg));   /* decoded into the arena */
        run_fini(&r);
    }
}

TEST(bad_strings_fail_the_body)
{
    static const struct {
        const char *json;    /* the message as written between quotes */
        const char *in_msg;  /* a phrase err.msg must hold */
    } cases[] = {
        {"\\ud83d", "surrogate"},
        {"\\ud83dx", "surrogate"},
        {"\\ud83d\\u0041", "surrogate"},
        {"\\ud83d\\ud83d", "surrogate"},
        {"\\ude00", "surrogate"},
        {"a\\ude00\\ud83d", "surrogate"},
        {"\\x", "after a backslash"},
        {"\\U0041", "after a backslash"},
        {"\\u12", "hex"},
        {"\\u12G4", "hex"},
        {"tab\there", "control character 0x09"},
        {"nl\nhere", "control character 0x0a"},
        {"\x01", "control character 0x01"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256];
        struct run r;
        snprintf(body, sizeof(body),
                 "[{\"timestamp\":7,\"message\":\"%s\"}]", cases[i].json);
        CHECK_EQ_INT(run_json(&r, body), SL_BAD_JSON);
        CHECK_EQ_INT(r.err.code, SL_BAD_JSON);
        CHECK_EQ_INT(r.b.n, 0);
        if (strstr(r.err.msg, cases[i].in_msg) == NULL)
            TEST_FAIL_AT("case %zu: \"%s\" lacks \"%s\"", i, r.err.msg,
                         cases[i].in_msg);
        CHECK(strstr(r.err.msg, "byte ") != NULL);
        run_fini(&r);
    }
}

TEST(multibyte_utf8_passes_through)
{
    static const char msg[] = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e "
                              "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
                              "plus a long ASCII tail to cross 16 bytes";
    char body[512];
    struct run r;

    snprintf(body, sizeof(body), "[{\"timestamp\":1,\"message\":\"%s\"}]", msg);
    REQUIRE_OK(run_json(&r, body));
    REQUIRE_EQ_INT(r.b.n, 1);
    CHECK_EQ_MEM(r.b.ev[0].msg, r.b.ev[0].len, msg, strlen(msg));
    CHECK(in_body(&r, r.b.ev[0].msg));
    run_fini(&r);
}

TEST(invalid_utf8_fails_with_offset)
{
    static const struct {
        const char *bytes;   /* inserted after "abc" in a message */
    } cases[] = {
        {"\x80"},                 /* lone continuation */
        {"\xc0\x80"},             /* overlong NUL */
        {"\xc1\xbf"},             /* overlong */
        {"\xe0\x80\x80"},         /* overlong 3-byte */
        {"\xed\xa0\x80"},         /* UTF-16 surrogate */
        {"\xf0\x80\x80\x80"},     /* overlong 4-byte */
        {"\xf4\x90\x80\x80"},     /* above U+10FFFF */
        {"\xf5\x80\x80\x80"},
        {"\xff"},
        {"\xe2\x82"},             /* cut short by the closing quote */
        {"\xc3"},
    };
    /* [{"timestamp":1,"message":"abc  -> the bad byte is at offset 30 */
    const size_t at = strlen("[{\"timestamp\":1,\"message\":\"abc");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256], want[64];
        struct run r;
        snprintf(body, sizeof(body),
                 "[{\"timestamp\":1,\"message\":\"abc%sdef\"}]",
                 cases[i].bytes);
        CHECK_EQ_INT(run_json(&r, body), SL_BAD_JSON);
        snprintf(want, sizeof(want), "UTF-8 at byte %zu", at);
        if (strstr(r.err.msg, want) == NULL)
            TEST_FAIL_AT("case %zu: \"%s\" lacks \"%s\"", i, r.err.msg, want);
        run_fini(&r);
    }
    /* Also in a key and in a skipped value. */
    {
        struct run r;
        CHECK_EQ_INT(run_json(&r, "[{\"k\xff\":1}]"), SL_BAD_JSON);
        CHECK(strstr(r.err.msg, "UTF-8 at byte 4") != NULL);
        run_fini(&r);
        CHECK_EQ_INT(run_json(&r, "[{\"x\":[\"\xc3\x28\"]}]"), SL_BAD_JSON);
        CHECK(strstr(r.err.msg, "UTF-8 at byte 8") != NULL);
        run_fini(&r);
        CHECK_EQ_INT(run_json(&r, "[\xc3\xa9]"), SL_BAD_JSON);
        run_fini(&r);
    }
}

TEST(message_of_256_kib)
{
    const size_t big = 256 * 1024;
    const char *pre = "[{\"timestamp\":42,\"message\":\"";
    const char *post = "\"}]";
    for (int escaped = 0; escaped < 2; escaped++) {
        size_t n = strlen(pre) + big + strlen(post);
        char *body = sl_alloc(n + 1);
        char *m = body + strlen(pre);
        struct run r;

        REQUIRE(body != NULL);
        memcpy(body, pre, strlen(pre));
        for (size_t i = 0; i < big; i++)
            m[i] = (char)('a' + i * 7 % 26);
        if (escaped)
            memcpy(m + big / 2, "\\n", 2);   /* 2 bytes written, 1 decoded */
        memcpy(m + big, post, strlen(post) + 1);
        REQUIRE_OK(run_n(&r, INGEST_JSON, body, n, "events", true, 10));
        REQUIRE_EQ_INT(r.b.n, 1);
        CHECK_EQ_INT(r.b.ev[0].ts, 42);
        CHECK_EQ_INT(r.b.ev[0].len, big - (size_t)escaped);
        CHECK_EQ_INT(r.b.message_bytes, big - (size_t)escaped);
        CHECK(in_body(&r, r.b.ev[0].msg) == !escaped);
        CHECK_EQ_MEM(r.b.ev[0].msg, 100, m, 100);
        if (escaped)
            CHECK(r.b.ev[0].msg[big / 2] == '\n');
        run_fini(&r);
        sl_free(body);
    }
}

/* ------------------------------------------------------------------ */
/* Per-event problems                                                   */
/* ------------------------------------------------------------------ */

TEST(event_rejections_are_per_event)
{
    static const char TS[] =
        "timestamp must be an integer (milliseconds since the epoch)";
    static const char STR[] = "message must be a string";
    static const char EMPTY[] = "message must not be empty";
    static const struct {
        const char *event;
        const char *why;     /* NULL: valid */
        int64_t ts;
        const char *msg;
    } cases[] = {
        {"{\"timestamp\":2}", "message is missing", 0, NULL},
        {"{}", "message is missing", 0, NULL},
        {"{\"timestamp\":2,\"message\":5}", STR, 0, NULL},
        {"{\"timestamp\":2,\"message\":null}", STR, 0, NULL},
        {"{\"timestamp\":2,\"message\":[\"a\"]}", STR, 0, NULL},
        {"{\"timestamp\":2,\"message\":{\"a\":1}}", STR, 0, NULL},
        {"{\"timestamp\":2,\"message\":true}", STR, 0, NULL},
        {"{\"timestamp\":2,\"message\":\"\"}", EMPTY, 0, NULL},
        {"{\"message\":\"x\"}", "timestamp is missing", 0, NULL},
        {"{\"timestamp\":1.5,\"message\":\"x\"}", TS, 0, NULL},
        {"{\"timestamp\":1.0,\"message\":\"x\"}", TS, 0, NULL},
        {"{\"timestamp\":1e3,\"message\":\"x\"}", TS, 0, NULL},
        {"{\"timestamp\":1E+3,\"message\":\"x\"}", TS, 0, NULL},
        {"{\"timestamp\":\"1\",\"message\":\"x\"}", TS, 0, NULL},
        {"{\"timestamp\":null,\"message\":\"x\"}", TS, 0, NULL},
        {"{\"timestamp\":[1],\"message\":\"x\"}", TS, 0, NULL},
        {"{\"timestamp\":9223372036854775808,\"message\":\"x\"}", TS, 0, NULL},
        {"{\"timestamp\":-9223372036854775809,\"message\":\"x\"}", TS, 0, NULL},
        {"{\"timestamp\":99999999999999999999999,\"message\":\"x\"}", TS, 0,
         NULL},
        {"5", "event must be a JSON object", 0, NULL},
        {"\"text\"", "event must be a JSON object", 0, NULL},
        {"[1,{\"a\":2}]", "event must be a JSON object", 0, NULL},
        {"null", "event must be a JSON object", 0, NULL},
        /* Message problems are named before timestamp problems. */
        {"{\"timestamp\":1.5,\"message\":\"\"}", EMPTY, 0, NULL},
        /* Valid edge cases. */
        {"{\"timestamp\":-5,\"message\":\"x\"}", NULL, -5, "x"},
        {"{\"timestamp\":0,\"message\":\"x\"}", NULL, 0, "x"},
        {"{\"timestamp\":-0,\"message\":\"x\"}", NULL, 0, "x"},
        {"{\"timestamp\":9223372036854775807,\"message\":\"x\"}", NULL,
         INT64_MAX, "x"},
        {"{\"timestamp\":-9223372036854775808,\"message\":\"x\"}", NULL,
         INT64_MIN, "x"},
        {"{\"timestamp\":1.5,\"timestamp\":7,\"message\":\"a\","
         "\"message\":\"b\"}",
         NULL, 7, "b"},
        {"{\"message\":5,\"message\":\"ok\",\"timestamp\":3}", NULL, 3, "ok"},
        {"{\"message\":\"ok\",\"message\":5,\"timestamp\":3}",
         "message must be a string", 0, NULL},
        {"{\"timestamp\":3,\"message\":\"a\",\"timestamp\":\"x\"}", TS, 0,
         NULL},
        {"{\"Message\":\"a\",\"message\":\"m\",\"TimeStamp\":1,"
         "\"timestamp\":8}",
         NULL, 8, "m"},
        {"{\"mess\\u0061ge\":\"esc key\",\"timestamp\":4}", NULL, 4, "esc key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[512];
        struct run r;
        const struct ingest_event *e;

        snprintf(body, sizeof(body),
                 "[{\"timestamp\":1,\"message\":\"first\"}, %s ,"
                 "{\"timestamp\":3,\"message\":\"last\"}]", cases[i].event);
        if (run_json(&r, body) != SL_OK) {
            TEST_FAIL_AT("case %zu (%s): %s", i, cases[i].event, r.err.msg);
            run_fini(&r);
            continue;
        }
        REQUIRE_EQ_INT(r.b.n, 3);
        CHECK(!r.b.ev[0].invalid && !r.b.ev[2].invalid);
        CHECK_EQ_MEM(r.b.ev[2].msg, r.b.ev[2].len, "last", 4);
        e = &r.b.ev[1];
        if (cases[i].why != NULL) {
            if (!e->invalid)
                TEST_FAIL_AT("case %zu (%s): not invalid", i, cases[i].event);
            CHECK_EQ_STR(e->invalid_why, cases[i].why);
            CHECK(e->msg == NULL && e->len == 0);
            CHECK_EQ_INT(r.b.message_bytes, 9);
        } else {
            if (e->invalid)
                TEST_FAIL_AT("case %zu (%s): invalid: %s", i, cases[i].event,
                             e->invalid_why);
            CHECK_EQ_INT(e->ts, cases[i].ts);
            CHECK_EQ_MEM(e->msg, e->len, cases[i].msg, strlen(cases[i].msg));
            CHECK_EQ_INT(r.b.message_bytes, 9 + strlen(cases[i].msg));
        }
        CHECK_EQ_INT(r.b.message_bytes, valid_bytes(&r.b));
        run_fini(&r);
    }
}

TEST(unknown_members_skipped)
{
    static const char body[] =
        "[{\"a\":{\"b\":[1,2,{\"c\":null,\"d\":[[],{}]}],\"e\":\"x\\\"}\"},"
        "\"timestamp\":11,\"t\":true,\"f\":false,\"n\":null,"
        "\"num\":-1.5e+10,\"z\":0,\"big\":123456789012345678901234567890,"
        "\"arr\":[],\"obj\":{},\"s\":\"x\\u00e9]\",\"message\":\"m\","
        "\"after\":[true,false,null,\"]\",0.5E-3]}]";
    struct run r;

    REQUIRE_OK(run_json(&r, body));
    REQUIRE_EQ_INT(r.b.n, 1);
    CHECK(!r.b.ev[0].invalid);
    CHECK_EQ_INT(r.b.ev[0].ts, 11);
    CHECK_EQ_MEM(r.b.ev[0].msg, r.b.ev[0].len, "m", 1);
    run_fini(&r);
}

TEST(whitespace_everywhere)
{
    static const char body[] =
        " \t\r\n{ \"events\" \n:\t[ \r\n{ \"timestamp\" : 1 , \"message\" : "
        "\"a\" , \"x\" : [ 1 , { \"y\" : null } ] } \n , {\"timestamp\":2,"
        "\"message\":\"b\"}\t] , \"g\" : \"v\" } \r\n\t ";
    struct run r;

    REQUIRE_OK(run_json(&r, body));
    REQUIRE_EQ_INT(r.b.n, 2);
    CHECK_EQ_MEM(r.b.ev[0].msg, r.b.ev[0].len, "a", 1);
    CHECK_EQ_MEM(r.b.ev[1].msg, r.b.ev[1].len, "b", 1);
    CHECK(ingest_member_get(&r.b, "g") != NULL);
    run_fini(&r);
}

/* ------------------------------------------------------------------ */
/* Malformed bodies                                                     */
/* ------------------------------------------------------------------ */

TEST(malformed_bodies)
{
#define B(s) {s, sizeof(s) - 1}
    static const struct {
        const char *body;
        size_t len;          /* bodies may hold NUL bytes */
    } cases[] = {
        B(""), B("   "), B("["), B("]"), B("{"), B("[{]"), B("[{}"), B("[,]"),
        B("[{},]"),
        B("[{\"timestamp\":1,\"message\":\"x\"},]"),
        B("[{\"timestamp\":1,\"message\":\"x\",}]"),
        B("[{\"timestamp\":1 \"message\":\"x\"}]"),
        B("[{\"timestamp\":01,\"message\":\"x\"}]"),
        B("[{\"timestamp\":-,\"message\":\"x\"}]"),
        B("[{\"timestamp\":1.,\"message\":\"x\"}]"),
        B("[{\"timestamp\":.5,\"message\":\"x\"}]"),
        B("[{\"timestamp\":1e,\"message\":\"x\"}]"),
        B("[{\"timestamp\":+1,\"message\":\"x\"}]"),
        B("[{\"timestamp\":0x10,\"message\":\"x\"}]"),
        B("[{\"timestamp\":1,\"message\":'x'}]"),
        B("[{timestamp:1}]"), B("[{\"a\" 1}]"), B("[{1:2}]"),
        B("[{\"x\":[1,]}]"),
        B("[{\"x\":[1 2]}]"), B("[{\"x\":{\"a\":1,}}]"), B("[{\"x\":{\"a\"}}]"),
        B("[tru]"), B("[nul]"), B("[falsey]"), B("[True]"), B("[NaN]"),
        B("[Infinity]"),
        B("[{\"x\":\"unterminated}]"), B("\"str\""), B("123"), B("null"),
        B("true"),
        B("{\"events\":{}}"), B("{\"events\":\"x\"}"), B("{\"events\":null}"),
        B("{\"a\":1 \"b\":2}"), B("{\"a\":1,}"), B("{,}"),
        /* Trailing garbage after the top-level value. */
        B("[] x"), B("[]]"), B("{}{}"), B("[][]"), B("[]\0"), B("{} ,"),
        B("[]\x01"),
        B("{\"events\":[]} {\"events\":[]}"),
        /* NUL raw inside the body. */
        B("[\0]"),
    };
#undef B
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run r;
        enum sl_status st = run_n(&r, INGEST_JSON, cases[i].body, cases[i].len,
                                  "events", true, 100);
        if (st != SL_BAD_JSON)
            TEST_FAIL_AT("case %zu \"%s\": status %d, want SL_BAD_JSON", i,
                         cases[i].body, st);
        CHECK_EQ_INT(r.err.code, SL_BAD_JSON);
        CHECK(r.err.msg[0] != '\0');
        CHECK_EQ_INT(r.b.n, 0);
        CHECK(r.b.ev == NULL);
        run_fini(&r);
    }
}

TEST(error_messages_name_the_offset)
{
    struct run r;
    CHECK_EQ_INT(run_json(&r, "[{\"timestamp\":1,\"message\":\"x\"} x]"),
                 SL_BAD_JSON);
    CHECK_EQ_STR(r.err.msg, "malformed JSON at byte 31: expected ',' or ']' "
                            "after an event, found 'x'");
    run_fini(&r);
    CHECK_EQ_INT(run_json(&r, "[{\"timestamp\":1"), SL_BAD_JSON);
    CHECK_EQ_STR(r.err.msg, "malformed JSON: input ends at byte 15 where "
                            "',' or '}' in an event was expected");
    run_fini(&r);
    CHECK_EQ_INT(run_json(&r, "[] ]"), SL_BAD_JSON);
    CHECK_EQ_STR(r.err.msg, "malformed JSON at byte 3: unexpected data after "
                            "the JSON value");
    run_fini(&r);
}

/* Every proper prefix of a valid document is refused, never crashes and
 * never reads past the end (each prefix is its own exact-size block). */
TEST(truncated_bodies_fail_at_every_offset)
{
    static const char *const docs[] = {
        "[{\"timestamp\":1732650000000,\"message\":\"a \\\"q\\\" \\u00e9 "
        "\\ud83d\\ude00 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 "
        "long enough to use the 16-byte scan path\"},{\"x\":[1,-2.5e3,"
        "{\"y\":[true,false,null]}],\"timestamp\":-1,\"message\":\"z\"}]",
        "{\"logGroupName\":\"g\\/h\",\"logEvents\":[{\"timestamp\":1,"
        "\"message\":\"m\"}],\"sequenceToken\":\"t\",\"n\":1.5}",
    };
    for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
        size_t full = strlen(docs[d]);
        struct run r;
        const char *key = d == 0 ? "events" : "logEvents";

        REQUIRE_OK(run_n(&r, INGEST_JSON, docs[d], full, key, true, 10));
        CHECK_EQ_INT(r.b.n, d == 0 ? 2 : 1);
        run_fini(&r);
        for (size_t n = 0; n < full; n++) {
            enum sl_status st = run_n(&r, INGEST_JSON, docs[d], n, key, true,
                                      10);
            if (st != SL_BAD_JSON)
                TEST_FAIL_AT("doc %zu prefix %zu: status %d", d, n, st);
            run_fini(&r);
            /* As NDJSON the prefix is one (broken) line: never a crash. */
            st = run_n(&r, INGEST_NDJSON, docs[d], n, NULL, false, 10);
            if (st != SL_OK && st != SL_BAD_JSON)
                TEST_FAIL_AT("ndjson doc %zu prefix %zu: status %d", d, n, st);
            run_fini(&r);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Limits                                                               */
/* ------------------------------------------------------------------ */

TEST(max_events)
{
    static const char three[] = "[{\"timestamp\":1,\"message\":\"a\"},5,"
                                "{\"timestamp\":3,\"message\":\"c\"}]";
    struct run r;

    REQUIRE_OK(run_n(&r, INGEST_JSON, three, strlen(three), "events", true, 3));
    CHECK_EQ_INT(r.b.n, 3);
    run_fini(&r);
    REQUIRE_OK(run_n(&r, INGEST_JSON, three, strlen(three), "events", true, 0));
    CHECK_EQ_INT(r.b.n, 3);                      /* 0: no limit */
    run_fini(&r);
    CHECK_EQ_INT(run_n(&r, INGEST_JSON, three, strlen(three), "events", true,
                       2), SL_TOO_LARGE);
    CHECK_EQ_INT(r.err.code, SL_TOO_LARGE);
    CHECK(strstr(r.err.msg, "limit is 2 events") != NULL);
    CHECK_EQ_INT(r.b.n, 0);
    run_fini(&r);

    CHECK_EQ_INT(run_n(&r, INGEST_NDJSON, "a\n\n{}\nb\n", 8, NULL, false, 2),
                 SL_TOO_LARGE);
    run_fini(&r);
    REQUIRE_OK(run_n(&r, INGEST_NDJSON, "a\n\n{}\n \n", 8, NULL, false, 2));
    CHECK_EQ_INT(r.b.n, 2);
    run_fini(&r);
    CHECK_EQ_INT(run_n(&r, INGEST_TEXT, "a\nb\nc", 5, NULL, false, 2),
                 SL_TOO_LARGE);
    CHECK(strstr(r.err.msg, "2") != NULL);
    run_fini(&r);
}

TEST(many_events_grow_the_array)
{
    const size_t n = 25000;
    const char *one = "{\"timestamp\":1,\"message\":\"m\"},";
    size_t len = 2 + n * strlen(one);
    char *body = sl_alloc(len);
    char *w = body;
    struct run r;

    REQUIRE(body != NULL);
    *w++ = '[';
    for (size_t i = 0; i < n; i++) {
        memcpy(w, one, strlen(one));
        w += strlen(one);
    }
    w[-1] = ']';
    REQUIRE_OK(run_n(&r, INGEST_JSON, body, (size_t)(w - body), "events", true,
                     0));
    CHECK_EQ_INT(r.b.n, n);
    CHECK_EQ_INT(r.b.message_bytes, n);
    CHECK_EQ_MEM(r.b.ev[n - 1].msg, r.b.ev[n - 1].len, "m", 1);
    run_fini(&r);
    sl_free(body);
}

TEST(arena_cap_gives_nomem)
{
    static const char body[] =
        "[{\"timestamp\":1,\"message\":\"a\\nb\"},{\"timestamp\":2,"
        "\"message\":\"c\"}]";
    struct arena a;
    struct ingest_batch b;
    struct sl_err err = {0};

    arena_init(&a, 64, 64);   /* too small for the event array */
    CHECK_EQ_INT(ingest_decode(INGEST_JSON, body, strlen(body), "events", true,
                               NOW, NULL, &a, &b, &err), SL_NOMEM);
    CHECK_EQ_INT(b.n, 0);
    arena_fini(&a);
}

/* Every arena cap from tiny to enough: SL_NOMEM or the full answer, never
 * a crash or a half-filled batch (curl's torture idea, with the cap). */
TEST(arena_cap_sweep)
{
    static const struct {
        enum ingest_format fmt;
        const char *body;
        size_t n;            /* events once the arena is big enough */
    } cases[] = {
        {INGEST_JSON, "{\"g\\u0041\":\"v\\/w\",\"events\":[{\"timestamp\":1,"
                      "\"message\":\"a\\nb\"},{\"timestamp\":2,\"message\":"
                      "\"\\u00e9\\ud83d\\ude00\"}]}", 2},
        {INGEST_NDJSON, "{\"message\":\"a\\tb\"}\n{\"m\\u0065ssage\":\"c\"}\n"
                        "x\n{\"message\":\"\\\"q\\\"\",\"timestamp\":4}\n", 4},
        {INGEST_TEXT, "one\ntwo\nthree\n", 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].body), full_n = 0;
        bool ok_seen = false;
        for (size_t cap = 16; cap <= 4096; cap += 16) {
            struct arena a;
            struct ingest_batch b;
            struct sl_err err = {0};
            enum sl_status st;

            arena_init(&a, 64, cap);
            st = ingest_decode(cases[i].fmt, cases[i].body, len, "events",
                               true, NOW, NULL, &a, &b, &err);
            if (st == SL_NOMEM) {
                CHECK(!ok_seen);           /* more memory never hurts */
                CHECK_EQ_INT(err.code, SL_NOMEM);
                CHECK_EQ_INT(b.n, 0);
            } else {
                CHECK_OK(st);
                if (!ok_seen)
                    full_n = b.n;
                CHECK_EQ_INT(b.n, full_n);
                ok_seen = true;
            }
            arena_fini(&a);
        }
        CHECK(ok_seen);
        CHECK_EQ_INT(full_n, cases[i].n);
    }
}

TEST(deep_nesting_is_an_error_not_a_crash)
{
    const size_t deep = 100000;
    static const char *const opens[] = {"[", "{\"a\":"};
    static const char *const prefixes[] = {"[{\"x\":", "[", "{\"x\":",
                                           "{\"events\":[{\"x\":"};

    for (size_t o = 0; o < 2; o++) {
        for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
            size_t pl = strlen(prefixes[p]), ol = strlen(opens[o]);
            size_t len = pl + deep * ol;
            char *body = sl_alloc(len);
            struct run r;
            REQUIRE(body != NULL);
            memcpy(body, prefixes[p], pl);
            for (size_t i = 0; i < deep; i++)
                memcpy(body + pl + i * ol, opens[o], ol);
            CHECK_EQ_INT(run_n(&r, INGEST_JSON, body, len, "events", true, 0),
                         SL_BAD_JSON);
            if (strstr(r.err.msg, "deeper than 64") == NULL)
                TEST_FAIL_AT("open %zu prefix %zu: %s", o, p, r.err.msg);
            run_fini(&r);
            /* The same as an NDJSON line: one invalid event. */
            REQUIRE_OK(run_n(&r, INGEST_NDJSON, body, len, NULL, false, 0));
            CHECK_EQ_INT(r.b.n, 1);
            CHECK(r.b.ev[0].invalid);
            run_fini(&r);
            sl_free(body);
        }
    }
}

TEST(nesting_within_the_limit_is_skipped)
{
    char body[512];
    size_t o = 0;
    struct run r;

    o += (size_t)snprintf(body, sizeof(body), "[{\"x\":");
    for (int i = 0; i < 64; i++)
        body[o++] = '[';
    for (int i = 0; i < 64; i++)
        body[o++] = ']';
    snprintf(body + o, sizeof(body) - o,
             ",\"timestamp\":1,\"message\":\"m\"}]");
    REQUIRE_OK(run_json(&r, body));
    REQUIRE_EQ_INT(r.b.n, 1);
    CHECK(!r.b.ev[0].invalid);
    run_fini(&r);
}

/* ------------------------------------------------------------------ */
/* NDJSON                                                               */
/* ------------------------------------------------------------------ */

TEST(ndjson_lines)
{
    static const char body[] =
        "{\"timestamp\":5,\"message\":\"with ts\"}\n"          /* 0 */
        "{\"message\":\"no ts\\u00e9\"}\r\n"                  /* 1 */
        "\n"
        "   \t\r\n"
        "{\"level\":\"info\",\"n\":1}\n"                      /* 2: whole */
        "{\"level\":\"warn\",\"timestamp\":77}\n"             /* 3: whole */
        "{\"level\":\"x\",\"timestamp\":\"2024-01-01\"}\n"    /* 4: whole */
        "plain text\n"                                        /* 5 */
        "[1,2]\n"                                             /* 6 */
        "{\"message\":\"a\"} trailing\n"                      /* 7 */
        "{\"message\":\"unterminated\n"                       /* 8 */
        "{\"message\":5,\"timestamp\":1}\n"                   /* 9 */
        "{\"message\":\"\"}\n"                                /* 10 */
        "{\"message\":\"m\",\"timestamp\":1.5}\n"             /* 11 */
        "\r\n"
        "  {\"message\":\"indented\"}  \r\n"                  /* 12 */
        "{\"message\":\"last, no newline\",\"timestamp\":-3}";/* 13 */
    static const struct {
        const char *why;     /* NULL: valid */
        int64_t ts;
        const char *msg;
    } want[] = {
        {NULL, 5, "with ts"},
        {NULL, NOW, "no ts\xc3\xa9"},
        {NULL, NOW, "{\"level\":\"info\",\"n\":1}"},
        {NULL, 77, "{\"level\":\"warn\",\"timestamp\":77}"},
        {NULL, NOW, "{\"level\":\"x\",\"timestamp\":\"2024-01-01\"}"},
        {"line is not a JSON object", 0, NULL},
        {"line is not a JSON object", 0, NULL},
        {"line is not a JSON object", 0, NULL},
        {"line is not a JSON object", 0, NULL},
        {"message must be a string", 0, NULL},
        {"message must not be empty", 0, NULL},
        {"timestamp must be an integer (milliseconds since the epoch)", 0,
         NULL},
        {NULL, NOW, "indented"},
        {NULL, -3, "last, no newline"},
    };
    const size_t nw = sizeof(want) / sizeof(want[0]);
    struct run r;

    REQUIRE_OK(run_n(&r, INGEST_NDJSON, body, strlen(body), NULL, false, 100));
    REQUIRE_EQ_INT(r.b.n, nw);
    for (size_t i = 0; i < nw; i++) {
        const struct ingest_event *e = &r.b.ev[i];
        if (want[i].why != NULL) {
            if (!e->invalid)
                TEST_FAIL_AT("line event %zu: not invalid", i);
            CHECK_EQ_STR(e->invalid_why, want[i].why);
        } else {
            if (e->invalid)
                TEST_FAIL_AT("line event %zu: invalid: %s", i, e->invalid_why);
            CHECK_EQ_INT(e->ts, want[i].ts);
            CHECK_EQ_MEM(e->msg, e->len, want[i].msg, strlen(want[i].msg));
        }
    }
    CHECK_EQ_INT(r.b.message_bytes, valid_bytes(&r.b));
    CHECK(in_body(&r, r.b.ev[0].msg));    /* zero copy */
    CHECK(!in_body(&r, r.b.ev[1].msg));   /* escaped: arena */
    CHECK(in_body(&r, r.b.ev[2].msg));
    CHECK_EQ_INT(r.b.n_members, 0);
    run_fini(&r);
}

TEST(ndjson_invalid_utf8_fails_the_body)
{
    static const char body[] =
        "{\"message\":\"ok\"}\n{\"message\":\"b\xff\"}\n";
    struct run r;
    CHECK_EQ_INT(run_n(&r, INGEST_NDJSON, body, strlen(body), NULL, false, 10),
                 SL_BAD_JSON);
    CHECK(strstr(r.err.msg, "UTF-8 at byte 30") != NULL);
    run_fini(&r);
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */
/* ------------------------------------------------------------------ */

TEST(text_lines)
{
    static const struct {
        const char *body;
        size_t n;
        const char *lines[4];
    } cases[] = {
        {"one\ntwo\n", 2, {"one", "two"}},
        {"one\r\ntwo\r\n", 2, {"one", "two"}},
        {"no trailing newline", 1, {"no trailing newline"}},
        {"\n\n  \n\t\r\nx\n\r\n", 1, {"x"}},
        {"", 0, {NULL}},
        {"\n", 0, {NULL}},
        {"  lead and trail  \n", 1, {"  lead and trail  "}},
        {"a\rb\r\r\n", 1, {"a\rb\r"}},
        {"{\"json\":\"kept as text\"}\n", 1, {"{\"json\":\"kept as text\"}"}},
        {"caf\xc3\xa9 \xf0\x9f\x98\x80\nend", 2,
         {"caf\xc3\xa9 \xf0\x9f\x98\x80", "end"}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run r;
        size_t sum = 0;
        REQUIRE_OK(run_n(&r, INGEST_TEXT, cases[i].body,
                         strlen(cases[i].body), NULL, false, 10));
        if (r.b.n != cases[i].n) {
            TEST_FAIL_AT("case %zu: %zu events, want %zu", i, r.b.n,
                         cases[i].n);
            run_fini(&r);
            continue;
        }
        for (size_t j = 0; j < r.b.n; j++) {
            const char *want = cases[i].lines[j];
            CHECK_EQ_INT(r.b.ev[j].ts, NOW);
            CHECK(!r.b.ev[j].invalid);
            CHECK(in_body(&r, r.b.ev[j].msg));
            if (want != NULL)
                CHECK_EQ_MEM(r.b.ev[j].msg, r.b.ev[j].len, want, strlen(want));
            sum += r.b.ev[j].len;
        }
        CHECK_EQ_INT(r.b.message_bytes, sum);
        run_fini(&r);
    }
}

TEST(text_keeps_nul_and_rejects_bad_utf8)
{
    struct run r;
    REQUIRE_OK(run_n(&r, INGEST_TEXT, "a\0b\nc", 5, NULL, false, 10));
    REQUIRE_EQ_INT(r.b.n, 2);
    CHECK_EQ_MEM(r.b.ev[0].msg, r.b.ev[0].len, "a\0b", 3);
    run_fini(&r);
    static const char bad[] = "fine\nbad \xc0\xaf here\n";
    CHECK_EQ_INT(run_n(&r, INGEST_TEXT, bad, sizeof(bad) - 1, NULL, false, 10),
                 SL_BAD_JSON);
    CHECK(strstr(r.err.msg, "UTF-8 at byte 9") != NULL);
    run_fini(&r);
    CHECK_EQ_INT(run_n(&r, INGEST_TEXT, "cut \xe2\x82", 6, NULL, false, 10),
                 SL_BAD_JSON);
    run_fini(&r);
}

/* ------------------------------------------------------------------ */
/* The hot path                                                         */
/* ------------------------------------------------------------------ */

TEST(flow_log_batch_is_zero_copy)
{
    static const char one[] =
        "{\"timestamp\":1732650000000,\"message\":\"2 123456789012 "
        "eni-0a1b2c3d 10.0.1.5 172.31.9.8 443 51234 6 10 840 1732649990 "
        "1732650000 ACCEPT OK\"}";
    const size_t n = 1000, ml = strlen("2 123456789012 eni-0a1b2c3d 10.0.1.5 "
                                       "172.31.9.8 443 51234 6 10 840 "
                                       "1732649990 1732650000 ACCEPT OK");
    size_t len = 2 + n * (sizeof(one));
    char *body = sl_alloc(len), *w = body;
    struct run r;

    REQUIRE(body != NULL);
    *w++ = '[';
    for (size_t i = 0; i < n; i++) {
        memcpy(w, one, sizeof(one) - 1);
        w += sizeof(one) - 1;
        *w++ = ',';
    }
    w[-1] = ']';
    REQUIRE_OK(run_n(&r, INGEST_JSON, body, (size_t)(w - body), "events", true,
                     10000));
    REQUIRE_EQ_INT(r.b.n, n);
    CHECK_EQ_INT(r.b.message_bytes, n * ml);
    for (size_t i = 0; i < n; i++) {
        CHECK(in_body(&r, r.b.ev[i].msg));
        CHECK_EQ_INT(r.b.ev[i].len, ml);
    }
    run_fini(&r);
    sl_free(body);
}

TEST_MAIN()
