/* tests/unit/test_json_out.c: the JSON writer of query answers: string
 * escaping (control characters, quotes, invalid UTF-8 as U+FFFD), JSON's
 * number grammar, and doubles that read back exactly. */
#include "../harness.h"

#include "api/json_out.h"

#include <stdlib.h>

static const char *str(const char *s, size_t n)
{
    static struct buf b;
    buf_fini(&b);
    buf_init(&b, 1 << 20);
    if (jout_str(&b, s, n) != SL_OK)
        return "(error)";
    return b.data;
}

static const char *dbl(double d)
{
    static struct buf b;
    buf_fini(&b);
    buf_init(&b, 1 << 20);
    if (jout_double(&b, d) != SL_OK)
        return "(error)";
    return b.data;
}

TEST(strings_escape_and_stay_utf8)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"l1\nl2\tx\r", 8, "\"l1\\nl2\\tx\\r\""},
        {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
        {"nul\0x", 5, "\"nul\\u0000x\""},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
         "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
        {"bad\xff!", 5, "\"bad\\ufffd!\""},
        {"cut\xe2\x82", 5, "\"cut\\ufffd\\ufffd\""},
        {"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""},            /* overlong '/' */
        {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""},  /* a surrogate */
        {"", 0, "\"\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_EQ_STR(str(cases[i].in, cases[i].len), cases[i].out);
}

TEST(number_grammar)
{
    static const char *const yes[] = {"0", "-0", "12", "-3.5", "1e21", "1E+2",
                                      "2.5e-3", "123456789012"};
    static const char *const no[] = {"", "-", "01", "1.", ".5", "1e", "+1",
                                     "inf", "nan", "0x10", "1 ", "1.0E21x"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        CHECK(jout_is_number(yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        CHECK(!jout_is_number(no[i], strlen(no[i])));
}

TEST(number_text_falls_back_to_a_string)
{
    struct buf b;
    buf_init(&b, 1024);
    CHECK_OK(jout_number_text(&b, "4249"));
    CHECK_OK(buf_putc(&b, ','));
    CHECK_OK(jout_number_text(&b, "NaN"));
    CHECK_EQ_STR(b.data, "4249,\"NaN\"");
    buf_fini(&b);
}

TEST(doubles_read_back_exactly)
{
    static const double vals[] = {0.1, 1.0 / 3, 2.5, -7.125, 1e-7, 123456.789,
                                  6.02214076e23, 9007199254740993.0};
    CHECK_EQ_STR(dbl(3000), "3000");
    CHECK_EQ_STR(dbl(-42), "-42");
    CHECK_EQ_STR(dbl(0.1), "0.1");
    CHECK_EQ_STR(dbl(2.5), "2.5");
    CHECK_EQ_STR(dbl(1.0 / 0.0), "null");
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        const char *s = dbl(vals[i]);
        CHECK(strtod(s, NULL) == vals[i]);
        CHECK(jout_is_number(s, strlen(s)));
    }
}

TEST(cap_gives_too_large)
{
    struct buf b;
    char big[100];
    memset(big, 'x', sizeof(big));
    buf_init(&b, 50);
    CHECK_EQ_INT(jout_str(&b, big, sizeof(big)), SL_TOO_LARGE);
    buf_fini(&b);
}

TEST_MAIN()
