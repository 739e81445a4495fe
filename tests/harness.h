/* tests/harness.h: the whole unit-test harness. A test file defines tests
 * with TEST(name) { ... } and ends with TEST_MAIN(); each test runs in
 * order, CHECK_* counts a failure and goes on, REQUIRE_* stops the test.
 * Failures print file:line and both values. The last line is
 * "N passed, N failed" so ctest logs read the same everywhere. */
#ifndef SLUICE_TESTS_HARNESS_H
#define SLUICE_TESTS_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

#define TEST_MAX 512
static struct test_case test_cases[TEST_MAX];
static int test_count;
static int test_failed_now;

#define TEST(name)                                                        \
    static void test_##name(void);                                        \
    __attribute__((constructor)) static void test_reg_##name(void)        \
    {                                                                     \
        if (test_count < TEST_MAX)                                        \
            test_cases[test_count++] = (struct test_case){#name, test_##name}; \
    }                                                                     \
    static void test_##name(void)

#define TEST_FAIL_AT(...)                                                 \
    do {                                                                  \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                 \
        fprintf(stderr, __VA_ARGS__);                                     \
        fputc('\n', stderr);                                              \
        test_failed_now = 1;                                              \
    } while (0)

#define CHECK(c) do { if (!(c)) TEST_FAIL_AT("CHECK(%s) failed", #c); } while (0)
#define REQUIRE(c) do { if (!(c)) { TEST_FAIL_AT("REQUIRE(%s) failed", #c); return; } } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) TEST_FAIL_AT("%s == %s: %lld != %lld", #a, #b, a_, b_); } while (0)
#define REQUIRE_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { TEST_FAIL_AT("%s == %s: %lld != %lld", #a, #b, a_, b_); return; } } while (0)
#define CHECK_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (strcmp(a_ ? a_ : "(null)", b_ ? b_ : "(null)") != 0) \
        TEST_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define CHECK_EQ_MEM(a, alen, b, blen) do { size_t al_ = (alen), bl_ = (blen); \
    if (al_ != bl_ || memcmp((a), (b), al_) != 0) \
        TEST_FAIL_AT("%s == %s: lengths %zu and %zu or bytes differ", #a, #b, al_, bl_); } while (0)
#define CHECK_OK(expr) do { int st_ = (int)(expr); \
    if (st_ != 0) TEST_FAIL_AT("%s returned status %d, expected 0 (SL_OK)", #expr, st_); } while (0)
#define REQUIRE_OK(expr) do { int st_ = (int)(expr); \
    if (st_ != 0) { TEST_FAIL_AT("%s returned status %d, expected 0 (SL_OK)", #expr, st_); return; } } while (0)

#define TEST_MAIN()                                                       \
    int main(int argc, char **argv)                                       \
    {                                                                     \
        int passed = 0, failed = 0;                                       \
        for (int i = 0; i < test_count; i++) {                            \
            if (argc > 1 && strstr(test_cases[i].name, argv[1]) == NULL)  \
                continue;                                                 \
            test_failed_now = 0;                                          \
            test_cases[i].fn();                                           \
            fprintf(stderr, "%s %s\n", test_failed_now ? "FAIL" : "ok  ", \
                    test_cases[i].name);                                  \
            if (test_failed_now) failed++; else passed++;                 \
        }                                                                 \
        printf("%d passed, %d failed\n", passed, failed);                 \
        return failed != 0;                                               \
    }

#endif
