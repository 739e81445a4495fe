/* tests/unit/test_segment.c: the segment codec round trip: empty and
 * 256 KiB messages, multibyte UTF-8, many equal timestamps, seq columns,
 * and corrupt input refused without over-reading. Random cases print their
 * seed (SEED=n reruns one). */
#include "common/arena.h"
#include "common/buf.h"
#include "storage/segment.h"
#include "tests/harness.h"

#include <stdlib.h>
#include <time.h>

/* Every roundtrip shares one scratch, as a request thread does: reusing
 * it across sizes and levels must not change a blob. */
static struct seg_scratch scratch;
static bool scratch_ready;

static void roundtrip(const struct seg_event *ev, size_t n, bool with_seqs,
                      int level, int64_t base)
{
    struct buf b;
    struct arena a;
    struct seg_meta m;
    struct seg_view v;
    struct sl_err err = {0};

    buf_init(&b, 1u << 30);
    arena_init(&a, 1 << 16, 0);
    if (!scratch_ready) {
        seg_scratch_init(&scratch);
        scratch_ready = true;
    }
    REQUIRE_OK(seg_encode(ev, n, with_seqs, level, &scratch, &b, &m, &err));
    {
        struct buf once;               /* the same bytes without the scratch */
        struct seg_meta m2;
        buf_init(&once, 1u << 30);
        REQUIRE_OK(seg_encode(ev, n, with_seqs, level, NULL, &once, &m2, &err));
        CHECK_EQ_MEM(once.data, once.len, b.data, b.len);
        buf_fini(&once);
    }
    CHECK_EQ_INT(m.count, n);
    CHECK_EQ_INT(m.min_ts, ev[0].ts);
    CHECK_EQ_INT(m.max_ts, ev[n - 1].ts);
    CHECK_EQ_INT(m.stored_bytes, b.len);
    /* A reader passes the catalogue's min_seq, which is meta's. */
    if (with_seqs)
        base = m.min_seq;
    REQUIRE_OK(seg_decode(b.data, b.len, base, &a, &v, &err));
    REQUIRE_EQ_INT(v.count, n);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(v.ts[i], ev[i].ts);
        CHECK_EQ_INT(v.ingest[i], ev[i].ingest);
        CHECK_EQ_INT(v.seq[i], with_seqs ? ev[i].seq : base + (int64_t)i);
        CHECK_EQ_MEM(v.bytes + v.off[i], v.len[i], ev[i].msg, ev[i].len);
    }
    arena_fini(&a);
    buf_fini(&b);
}

TEST(single_empty_message)
{
    struct seg_event e = {.ts = 1000, .ingest = 2000, .msg = "", .len = 0};
    roundtrip(&e, 1, false, 0, 7);
}

TEST(message_of_256_kib)
{
    static char big[256 * 1024];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i * 7 % 26);
    struct seg_event e[2] = {
        {.ts = 1, .ingest = 1, .msg = big, .len = sizeof(big)},
        {.ts = 2, .ingest = 1, .msg = "x", .len = 1},
    };
    roundtrip(e, 2, false, 0, 1);
    roundtrip(e, 2, false, 9, 1);
}

TEST(multibyte_utf8_and_nul)
{
    static const char m1[] = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80";
    static const char m2[] = "nul\0inside";
    struct seg_event e[2] = {
        {.ts = -5, .ingest = 10, .msg = m1, .len = sizeof(m1) - 1},
        {.ts = 1795729200000LL, .ingest = 1795729200001LL, .msg = m2, .len = sizeof(m2) - 1},
    };
    roundtrip(e, 2, false, 0, 100);
}

TEST(many_equal_timestamps_keep_order)
{
    enum { N = 5000 };
    static struct seg_event e[N];
    static char msgs[N][24];
    for (int i = 0; i < N; i++) {
        snprintf(msgs[i], sizeof(msgs[i]), "event %d", i);
        e[i] = (struct seg_event){.ts = 42, .ingest = 43 + i / 100,
                                  .seq = 1000 + i * 3, .msg = msgs[i],
                                  .len = (uint32_t)strlen(msgs[i])};
    }
    roundtrip(e, N, false, 0, 5);
    roundtrip(e, N, true, 0, 0);
}

TEST(random_batches_with_seq_columns)
{
    unsigned seed = getenv("SEED") ? (unsigned)strtoul(getenv("SEED"), NULL, 10)
                                   : (unsigned)time(NULL);
    fprintf(stderr, "  random_batches seed=%u (SEED=%u reruns)\n", seed, seed);
    srand(seed);
    for (int round = 0; round < 50; round++) {
        size_t n = 1 + (size_t)(rand() % 300);
        struct seg_event *e = calloc(n, sizeof(*e));
        char *pool = malloc(n * 64);
        int64_t ts = (int64_t)rand() * 1000;
        for (size_t i = 0; i < n; i++) {
            uint32_t len = (uint32_t)(rand() % 64);
            for (uint32_t k = 0; k < len; k++)
                pool[i * 64 + k] = (char)(rand() % 256);
            ts += rand() % 3;
            e[i] = (struct seg_event){.ts = ts, .ingest = ts + rand() % 5000 - 2500,
                                      .seq = (int64_t)(rand() % 100000),
                                      .msg = pool + i * 64, .len = len};
        }
        roundtrip(e, n, round % 2 == 0, round % 3 == 0 ? 1 : 0, 1);
        free(e);
        free(pool);
    }
}

TEST(corrupt_input_is_refused)
{
    struct seg_event e[3] = {
        {.ts = 1, .ingest = 1, .msg = "alpha", .len = 5},
        {.ts = 2, .ingest = 1, .msg = "beta", .len = 4},
        {.ts = 3, .ingest = 1, .msg = "gamma", .len = 5},
    };
    struct buf b;
    struct seg_meta m;
    struct sl_err err = {0};
    buf_init(&b, 1 << 20);
    REQUIRE_OK(seg_encode(e, 3, false, 0, NULL, &b, &m, &err));
    /* Every truncation and every single-byte flip decodes or is refused as
     * corrupt; none may crash (ASan watches the reads). */
    for (size_t cut = 0; cut < b.len; cut++) {
        struct arena a;
        struct seg_view v;
        struct sl_err e2 = {0};
        arena_init(&a, 4096, 0);
        CHECK_EQ_INT(seg_decode(b.data, cut, 1, &a, &v, &e2), SL_CORRUPT);
        arena_fini(&a);
    }
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            struct arena a;
            struct seg_view v;
            struct sl_err e2 = {0};
            char *copy = malloc(b.len);
            memcpy(copy, b.data, b.len);
            copy[i] = (char)(copy[i] ^ (1 << bit));
            arena_init(&a, 4096, 0);
            enum sl_status st = seg_decode(copy, b.len, 1, &a, &v, &e2);
            CHECK(st == SL_OK || st == SL_CORRUPT);
            if (st == SL_CORRUPT)
                CHECK(strstr(e2.msg, "corrupt segment") != NULL);
            arena_fini(&a);
            free(copy);
        }
    }
    buf_fini(&b);
}

TEST(flow_logs_compress_well)
{
    enum { N = 6000 };
    static char msgs[N][160];
    static struct seg_event e[N];
    struct buf b;
    struct seg_meta m;
    struct sl_err err = {0};
    srand(7);
    for (int i = 0; i < N; i++) {
        int len = snprintf(msgs[i], sizeof(msgs[i]),
                           "2 123456789012 eni-0a1b2c3d%04d 10.0.%d.%d 172.31.%d.%d %d %d 6 %d %d %d %d %s OK",
                           rand() % 50, rand() % 4, rand() % 255, rand() % 16,
                           rand() % 255, 443, 32768 + rand() % 28000,
                           1 + rand() % 20, 40 + rand() % 5000,
                           1732650000 + i / 10, 1732650060 + i / 10,
                           rand() % 10 ? "ACCEPT" : "REJECT");
        e[i] = (struct seg_event){.ts = 1732650000000LL + i * 10,
                                  .ingest = 1732650100000LL, .msg = msgs[i],
                                  .len = (uint32_t)len};
    }
    buf_init(&b, 1 << 24);
    REQUIRE_OK(seg_encode(e, N, false, 0, NULL, &b, &m, &err));
    /* A generous bound: the codec must compress, not merely store. */
    CHECK(m.stored_bytes * 2 < m.raw_bytes);
    buf_fini(&b);
}

TEST(scratch_is_released)
{
    if (scratch_ready)
        seg_scratch_fini(&scratch);
    scratch_ready = false;
    CHECK(scratch.hc == NULL);
}

TEST(events_sort_by_time_then_seq)
{
    struct seg_event ev[6] = {
        {.ts = 5, .seq = 0}, {.ts = 3, .seq = 1}, {.ts = 5, .seq = 2},
        {.ts = 3, .seq = 3}, {.ts = 1, .seq = 4}, {.ts = 9, .seq = 5}};
    const int64_t want_ts[6] = {1, 3, 3, 5, 5, 9}, want_seq[6] = {4, 1, 3, 0, 2, 5};
    seg_events_sort(ev, 6);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_INT(ev[i].ts, want_ts[i]);
        CHECK_EQ_INT(ev[i].seq, want_seq[i]);
    }
    seg_events_sort(ev, 6);              /* sorted already: unchanged */
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(ev[i].seq, want_seq[i]);
    seg_events_sort(ev, 0);
}

TEST_MAIN()
