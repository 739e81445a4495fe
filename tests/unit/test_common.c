/* tests/unit/test_common.c: varints, zigzag, buffers with caps, arenas,
 * time parsing and formatting, the status list. */
#include "common/arena.h"
#include "common/buf.h"
#include "common/status.h"
#include "common/timeparse.h"
#include "common/varint.h"
#include "common/hex.h"
#include "common/memsearch.h"
#include "common/uuid.h"
#include "common/per_thread.h"
#include "tests/harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

TEST(varint_roundtrip_edges)
{
    static const uint64_t vals[] = {0, 1, 127, 128, 255, 300, 16383, 16384,
                                    (1ULL << 32) - 1, 1ULL << 32,
                                    (1ULL << 63) - 1, 1ULL << 63, UINT64_MAX};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        unsigned char b[VARINT_MAX_LEN];
        uint64_t out = 0;
        size_t n = varint_put(b, vals[i]);
        CHECK(n >= 1 && n <= VARINT_MAX_LEN);
        CHECK_EQ_INT(varint_get(b, n, &out), n);
        CHECK(out == vals[i]);
        /* Truncated input is refused, never over-read. */
        if (n > 1)
            CHECK_EQ_INT(varint_get(b, n - 1, &out), 0);
    }
}

TEST(varint_rejects_overlong)
{
    unsigned char b[11];
    uint64_t out;
    memset(b, 0xff, sizeof(b));
    CHECK_EQ_INT(varint_get(b, sizeof(b), &out), 0);
    b[9] = 0x02; /* 10th byte may carry only one bit */
    CHECK_EQ_INT(varint_get(b, 10, &out), 0);
}

TEST(zigzag_roundtrip)
{
    static const int64_t vals[] = {0, -1, 1, -2, 2, INT64_MIN, INT64_MAX, -123456789};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        CHECK(zigzag_dec(zigzag_enc(vals[i])) == vals[i]);
    CHECK_EQ_INT(zigzag_enc(-1), 1);
    CHECK_EQ_INT(zigzag_enc(1), 2);
}

TEST(buf_cap_is_enforced)
{
    struct buf b;
    buf_init(&b, 10);
    CHECK_OK(buf_append(&b, "hello", 5));
    CHECK_OK(buf_printf(&b, "%d", 1234));
    CHECK_EQ_STR(b.data, "hello1234");
    CHECK_EQ_INT(buf_append(&b, "xy", 2), SL_TOO_LARGE);
    CHECK_EQ_INT(b.len, 9); /* a refused append changes nothing */
    CHECK_OK(buf_putc(&b, '!'));
    CHECK_EQ_STR(b.data, "hello1234!");
    buf_fini(&b);
}

TEST(arena_cap_and_reset)
{
    struct arena a;
    arena_init(&a, 64, 1000);
    char *p = arena_alloc(&a, 10);
    REQUIRE(p != NULL);
    memset(p, 'x', 10);
    CHECK(arena_alloc(&a, 500) != NULL); /* bigger than a chunk */
    CHECK(arena_alloc(&a, 600) == NULL); /* over the cap */
    arena_reset(&a);
    CHECK(arena_alloc(&a, 900) != NULL);
    CHECK_EQ_STR(arena_strndup(&a, "abcdef", 3), "abc");
    arena_fini(&a);
}

TEST(arena_adopt_keeps_memory_alive)
{
    struct arena a, b;
    arena_init(&a, 64, 0);
    arena_init(&b, 64, 0);
    char *pa = arena_strndup(&a, "kept by a", 9);
    char *pb1 = arena_strndup(&b, "moved from b", 12);
    char *pb2 = arena_alloc(&b, 300);           /* a big one-off chunk */
    REQUIRE(pa != NULL && pb1 != NULL && pb2 != NULL);
    memset(pb2, 'z', 300);
    arena_adopt(&a, &b);
    CHECK(b.head == NULL && b.used == 0);
    arena_fini(&b);                             /* frees nothing of a's */
    CHECK(arena_alloc(&b, 8) != NULL);          /* b is usable again */
    arena_fini(&b);
    CHECK_EQ_STR(pa, "kept by a");
    CHECK_EQ_STR(pb1, "moved from b");
    CHECK(pb2[0] == 'z' && pb2[299] == 'z');
    CHECK(arena_alloc(&a, 16) != NULL);          /* a allocates as before */
    arena_adopt(&a, &b);                         /* an empty src: no-op */
    arena_init(&b, 64, 0);
    arena_adopt(&b, &a);                         /* into an empty dst */
    CHECK_EQ_STR(pb1, "moved from b");
    arena_fini(&b);                              /* frees all (ASan: no leak) */
}

TEST(time_parse_forms)
{
    static const struct {
        const char *in;
        int64_t want;
    } cases[] = {
        {"0", 0},
        {"1732650000123", 1732650000123LL},
        {"1970-01-01T00:00:00Z", 0},
        {"2026-11-26T21:40:00Z", 1795729200000LL},
        {"2026-11-26T21:40:00.5Z", 1795729200500LL},
        {"2026-11-26T21:40:00.123Z", 1795729200123LL},
        {"2026-11-26T22:40:00+01:00", 1795729200000LL},
        {"2026-11-26", 1795651200000LL},
        {"2000-02-29T00:00:00Z", 951782400000LL},
        {"-15m", 1000000000000LL - 15 * 60000},
        {"-2h", 1000000000000LL - 2 * 3600000},
        {"-7d", 1000000000000LL - 7 * 86400000LL},
        {"now", 1000000000000LL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sl_err err = {0};
        int64_t got = -1;
        CHECK_OK(sl_time_parse(cases[i].in, strlen(cases[i].in),
                               1000000000000LL, &got, &err));
        if (got != cases[i].want)
            TEST_FAIL_AT("%s: got %lld want %lld", cases[i].in,
                         (long long)got, (long long)cases[i].want);
    }
}

TEST(time_parse_rejects_garbage)
{
    static const char *const bad[] = {"", "abc", "-15x", "-m", "2026-13-01",
                                      "2026-11-26T25:00:00Z", "12ab",
                                      "2026-11-26T10:00:00Zjunk"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sl_err err = {0};
        int64_t got;
        CHECK_EQ_INT(sl_time_parse(bad[i], strlen(bad[i]), 0, &got, &err),
                     SL_INVALID);
        CHECK(strstr(err.msg, "invalid time") != NULL);
    }
}

TEST(time_format_iso)
{
    char out[32];
    CHECK_EQ_INT(sl_time_format_iso(1795729200123LL, out, sizeof(out)), 24);
    CHECK_EQ_STR(out, "2026-11-26T21:40:00.123Z");
    sl_time_format_iso(0, out, sizeof(out));
    CHECK_EQ_STR(out, "1970-01-01T00:00:00.000Z");
}

TEST(status_names_and_first_failure_wins)
{
    struct sl_err err = {0};
    CHECK_EQ_STR(sl_status_name(SL_NOT_FOUND), "SL_NOT_FOUND");
    CHECK_EQ_INT(sl_fail(&err, SL_INVALID, "first %d", 1), SL_INVALID);
    CHECK_EQ_INT(sl_fail(&err, SL_IO, "second"), SL_IO);
    CHECK_EQ_INT(err.code, SL_INVALID);
    CHECK_EQ_STR(err.msg, "first 1");
}

TEST(hex_digits)
{
    CHECK_EQ_INT(sl_hex_digit('0'), 0);
    CHECK_EQ_INT(sl_hex_digit('9'), 9);
    CHECK_EQ_INT(sl_hex_digit('a'), 10);
    CHECK_EQ_INT(sl_hex_digit('F'), 15);
    CHECK_EQ_INT(sl_hex_digit('g'), -1);
    CHECK_EQ_INT(sl_hex_digit('/'), -1);
    CHECK_EQ_INT(sl_hex4("00e9"), 0xe9);
    CHECK_EQ_INT(sl_hex4("FFfe"), 0xfffe);
    CHECK_EQ_INT(sl_hex4("12x4"), -1);
}

TEST(uuid4_format)
{
    char a[SL_UUID_LEN + 1], b[SL_UUID_LEN + 1];
    CHECK(sl_uuid4(a));
    CHECK(sl_uuid4(b));
    CHECK_EQ_INT((int64_t)strlen(a), SL_UUID_LEN);
    for (int i = 0; i < SL_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            CHECK(a[i] == '-');
        else
            CHECK(sl_hex_digit(a[i]) >= 0 && !(a[i] >= 'A' && a[i] <= 'F'));
    }
    CHECK(a[14] == '4');                             /* version 4 */
    CHECK(strchr("89ab", a[19]) != NULL);            /* RFC 4122 variant */
    CHECK(strcmp(a, b) != 0);
}

TEST(memsearch_agrees_with_memmem)
{
    /* Random haystacks over a small alphabet (many partial matches), every
     * needle length up to 40, needles cut from the haystack and not; the
     * AVX2 loop (where the CPU has it) and the SSE2 loop. */
    static char hay[4096];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 400; round++) {
#ifdef SLUICE_TESTING
        sl_memsearch_no_avx2(round % 2 == 1);
#endif
        size_t n = (size_t)(x % sizeof(hay));
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            hay[i] = "ab c."[x % 5];
        }
        for (size_t m = 0; m <= 40; m++) {
            char needle[41];
            size_t at = n > m ? (size_t)(x % (n - m + 1)) : 0;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (m <= n && (x & 1))
                memcpy(needle, hay + at, m);
            else
                for (size_t i = 0; i < m; i++)
                    needle[i] = "ab c."[(x >> i) % 5];
            CHECK(sl_memsearch(hay, n, needle, m) == memmem(hay, n, needle, m));
        }
    }
#ifdef SLUICE_TESTING
    sl_memsearch_no_avx2(false);
#endif
    CHECK(sl_memsearch("abc", 3, "abcd", 4) == NULL);
    CHECK(sl_memsearch("", 0, "", 0) != NULL);
}

TEST(memchr_all_agrees_with_a_byte_loop)
{
    /* Every length up to 200 (the 16- and 32-byte loops and their
     * overlapping tails), dense and sparse hits, caps below, at and above
     * the count; the AVX2 loop (where the CPU has it) and the SSE2 loop. */
    static char s[200];
    uint32_t got[201], want[201];
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (int round = 0; round < 2; round++) {
#ifdef SLUICE_TESTING
        sl_memsearch_no_avx2(round == 1);
#endif
        for (size_t len = 0; len <= sizeof(s); len++) {
            size_t nwant = 0;
            for (size_t i = 0; i < len; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                s[i] = (x % (len % 3 + 2)) == 0 ? ' ' : 'x';
                if (s[i] == ' ')
                    want[nwant++] = (uint32_t)i;
            }
            CHECK(sl_memchr_all(s, len, ' ', got, 200) == nwant);
            CHECK(memcmp(got, want, nwant * sizeof(*got)) == 0);
            if (nwant > 0) {
                /* one fewer allowed: max + 1, and the first max written */
                CHECK(sl_memchr_all(s, len, ' ', got, nwant - 1) == nwant);
                CHECK(memcmp(got, want, (nwant - 1) * sizeof(*got)) == 0);
            }
            CHECK(sl_memchr_all(s, len, '#', got, 0) == 0);
        }
    }
#ifdef SLUICE_TESTING
    sl_memsearch_no_avx2(false);
#endif
}

static atomic_int pt_made, pt_destroyed;

static void *pt_make(void)
{
    atomic_fetch_add(&pt_made, 1);
    return malloc(16);
}

static void pt_destroy(void *p)
{
    atomic_fetch_add(&pt_destroyed, 1);
    free(p);
}

static struct sl_per_thread pt = {.make = pt_make, .destroy = pt_destroy};

static void *pt_thread(void *arg)
{
    void *a = sl_per_thread_get(&pt), *b = sl_per_thread_get(&pt);
    *(void **)arg = a == b ? a : NULL;
    return NULL;
}

TEST(per_thread_objects_are_one_per_thread_and_die_with_it)
{
    pthread_t th[2];
    void *got[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&th[i], NULL, pt_thread, &got[i]) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK(got[0] != NULL && got[1] != NULL);   /* the same object twice */
    CHECK_EQ_INT(atomic_load(&pt_made), 2);      /* one each */
    CHECK_EQ_INT(atomic_load(&pt_destroyed), 2); /* freed as they ended */
}

TEST_MAIN()
