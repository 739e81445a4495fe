/* tests/unit/test_token.c: pagination tokens round trip and garbage,
 * truncation and tampering are refused. */
#include "storage/token.h"
#include "tests/harness.h"

TEST(roundtrip_values_and_string)
{
    struct tok t = {.kind = 3, .nvals = 4,
                    .vals = {42, -1, INT64_MAX, INT64_MIN}};
    struct tok u;
    char out[TOK_MAX_LEN + 1];
    t.str_len = 6;
    memcpy(t.str, "/aws/x", 7);
    size_t n = tok_encode(&t, out, sizeof(out));
    REQUIRE(n > 0);
    REQUIRE(tok_decode(out, n, &u));
    CHECK_EQ_INT(u.kind, 3);
    CHECK_EQ_INT(u.nvals, 4);
    for (int i = 0; i < 4; i++)
        CHECK(u.vals[i] == t.vals[i]);
    CHECK_EQ_STR(u.str, "/aws/x");
    for (size_t i = 0; i < n; i++)
        CHECK(out[i] != '+' && out[i] != '/' && out[i] != '='); /* URL-safe */
}

TEST(garbage_and_tampering_refused)
{
    struct tok t = {.kind = 1, .nvals = 2, .vals = {7, 1795729200000LL}};
    struct tok u;
    char out[TOK_MAX_LEN + 1];
    size_t n = tok_encode(&t, out, sizeof(out));
    REQUIRE(n > 0);
    CHECK(!tok_decode("", 0, &u));
    CHECK(!tok_decode("garbage", 7, &u));
    CHECK(!tok_decode("f/00091539120382912324200901570000096855579456010247667712", 58, &u));
    for (size_t cut = 0; cut < n; cut++)
        CHECK(!tok_decode(out, cut, &u));
    for (size_t i = 0; i < n; i++) {
        char copy[TOK_MAX_LEN + 1];
        memcpy(copy, out, n + 1);
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        CHECK(!tok_decode(copy, n, &u));
    }
}

TEST_MAIN()
