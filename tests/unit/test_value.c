/* tests/unit/test_value.c: query values: number parsing, output text,
 * equality and comparison across kinds, and the natural sort order with
 * the documented example of reference 4.3. */
#include "query/value.h"
#include "tests/harness.h"

#include <stdlib.h>

static const char *fmt(struct val v)
{
    static char out[128];
    struct buf b;
    buf_init(&b, 1024);
    if (val_format(&v, &b) != SL_OK)
        return "<error>";
    snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data ? b.data : "");
    buf_fini(&b);
    return out;
}

static struct val s(const char *t)
{
    return val_str(t, strlen(t));
}

TEST(parse_numbers)
{
    double d;
    CHECK(val_parse_num("42", 2, &d) && d == 42);
    CHECK(val_parse_num("-1.5", 4, &d) && d == -1.5);
    CHECK(val_parse_num("2e3", 3, &d) && d == 2000);
    CHECK(val_parse_num("+7", 2, &d) && d == 7);
    CHECK(val_parse_num(".5", 2, &d) && d == 0.5);
    CHECK(!val_parse_num("", 0, &d));
    CHECK(!val_parse_num("1.2.3", 5, &d));
    CHECK(!val_parse_num("12a", 3, &d));
    CHECK(!val_parse_num(" 1", 2, &d));
    CHECK(!val_parse_num("e5", 2, &d));
    CHECK(!val_parse_num("0x10", 4, &d));
    CHECK(!val_parse_num("-", 1, &d));
}

TEST(output_text)
{
    CHECK_EQ_STR(fmt(val_num(4249)), "4249");
    CHECK_EQ_STR(fmt(val_num(-3)), "-3");
    CHECK_EQ_STR(fmt(val_num(0.5)), "0.5");
    CHECK_EQ_STR(fmt(val_num(1.0 / 3)), "0.3333333333333333");
    CHECK_EQ_STR(fmt(val_num(128000000)), "128000000");
    CHECK_EQ_STR(fmt(val_bool(true)), "1");
    CHECK_EQ_STR(fmt(val_bool(false)), "0");
    CHECK_EQ_STR(fmt(val_time(1716099016682LL)), "2024-05-19 06:10:16.682");
    CHECK_EQ_STR(fmt(val_time(0)), "1970-01-01 00:00:00.000");
    CHECK_EQ_STR(fmt(s("text")), "text");
    CHECK_EQ_STR(fmt(val_null()), "");
}

TEST(equality_and_comparison)
{
    int c;
    struct val n5 = val_num(5), s5 = s("5"), s50 = s("5.0"), sx = s("x");
    struct val nul = val_null();
    CHECK(val_equal(&n5, &s5));
    CHECK(val_equal(&s5, &s50));          /* both read as numbers */
    CHECK(!val_equal(&n5, &sx));
    CHECK(!val_equal(&nul, &nul));        /* null equals nothing */
    CHECK(val_compare(&s5, &n5, &c) && c == 0);
    {
        struct val a = s("10"), b = s("9");
        CHECK(val_compare(&a, &b, &c) && c > 0); /* numerically, not by text */
    }
    {
        struct val a = s("abc"), b = s("abd");
        CHECK(val_compare(&a, &b, &c) && c < 0);
    }
    CHECK(!val_compare(&nul, &n5, &c));
}

TEST(truthiness)
{
    struct val t = s("true"), f = s("false"), z = s("0"), e = s("");
    struct val one = val_num(1), zero = val_num(0), nul = val_null();
    CHECK(val_truthy(&t));
    CHECK(!val_truthy(&f));
    CHECK(!val_truthy(&z));
    CHECK(!val_truthy(&e));
    CHECK(val_truthy(&one));
    CHECK(!val_truthy(&zero));
    CHECK(!val_truthy(&nul));
}

static int cmp_natural(const void *a, const void *b)
{
    struct val x = s(*(const char *const *)a), y = s(*(const char *const *)b);
    return val_natural_cmp(&x, &y);
}

TEST(natural_sort_documented_example)
{
    /* Reference 4.3: the documented ascending order. */
    static const char *const want[] = {
        "!:", "#", "*%04", "0#", "5A", "111A", "2345_", "@", "@_", "A",
        "A9876fghj", "a12345hfh", "0", "01", "1", "2", "3",
    };
    enum { N = sizeof(want) / sizeof(want[0]) };
    const char *got[N];
    /* A fixed shuffle of the expected order. */
    static const int perm[N] = {16, 3, 9, 0, 12, 5, 14, 1, 7, 11, 2, 15, 8, 4, 13, 6, 10};
    for (int i = 0; i < N; i++)
        got[i] = want[perm[i]];
    qsort(got, N, sizeof(got[0]), cmp_natural);
    for (int i = 0; i < N; i++)
        CHECK_EQ_STR(got[i], want[i]);
}

TEST(natural_sort_nulls_and_kinds)
{
    struct val nul = val_null(), n = val_num(3), str = s("abc");
    CHECK(val_natural_cmp(&nul, &n) > 0);   /* missing values last */
    CHECK(val_natural_cmp(&n, &nul) < 0);
    CHECK(val_natural_cmp(&str, &n) < 0);   /* non-numeric before numeric */
    CHECK_EQ_INT(val_natural_cmp(&nul, &nul), 0);
}

TEST(copy_outlives_source)
{
    struct arena a;
    char src[] = "hello";
    struct val v = val_str(src, 5), c;
    arena_init(&a, 1024, 0);
    REQUIRE_OK(val_copy(&a, &v, &c));
    src[0] = 'j';
    CHECK_EQ_MEM(c.u.s, c.len, "hello", 5);
    arena_fini(&a);
}

TEST_MAIN()
