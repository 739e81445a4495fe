/* tests/unit/test_storage.c: the storage layer against a real database in
 * a temporary directory: migrations, catalogue rules, ingest through the
 * writer (with merging of one commit's batches), ordered reads both ways
 * from any position, compaction that changes no answer, and exact stored
 * bytes. */
#include "common/alloc.h"
#include "common/buf.h"
#include "storage/catalog.h"
#include "storage/compactor.h"
#include "storage/db.h"
#include "storage/reader.h"
#include "storage/schema.h"
#include "storage/segstore.h"
#include "storage/store.h"
#include "tests/harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static int compact_level;
static enum db_sync sync_mode = DB_SYNC_NORMAL;

static struct store *open_store(void)
{
    struct sl_err err = {0};
    struct store_opts o = {.dir = dir, .sync = sync_mode, .read_conns = 4,
                           .compact_interval_ms = 0,
                           .compact_level = compact_level};
    struct store *s = store_open(&o, &err);
    if (s == NULL)
        fprintf(stderr, "store_open: %s\n", err.msg);
    return s;
}

static void fresh_dir(void)
{
    char cmd[300];
    snprintf(dir, sizeof(dir), "/tmp/sluice-test-storage-%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return;
}

/* Ingests msgs with timestamps ts through the writer, as a request would. */
struct done_flag {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int left;
};

static void job_done(struct wr_job *job, void *ctx)
{
    struct done_flag *d = ctx;
    (void)job;
    pthread_mutex_lock(&d->mu);
    d->left--;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

struct batch {
    struct seg_event ev[64];
    struct wr_piece pieces[64];
    char msgs[64][32];
    struct buf blobs;
    struct wr_job job;
};

static void make_batch(struct batch *b, int64_t sid, int64_t gid,
                       const int64_t *ts, int n, int tag)
{
    size_t np = 0;
    struct sl_err err = {0};
    for (int i = 0; i < n; i++) {
        snprintf(b->msgs[i], sizeof(b->msgs[i]), "m%d-%d", tag, i);
        b->ev[i] = (struct seg_event){.ts = ts[i], .ingest = 5,
                                      .msg = b->msgs[i],
                                      .len = (uint32_t)strlen(b->msgs[i])};
    }
    buf_init(&b->blobs, 1 << 20);
    if (wr_encode_pieces(b->ev, (size_t)n, true, NULL, &b->blobs, b->pieces, &np, &err) != SL_OK)
        abort();
    b->job = (struct wr_job){.kind = WR_INGEST, .stream_id = sid, .group_id = gid,
                             .ev = b->ev, .n = (size_t)n, .pieces = b->pieces,
                             .n_pieces = np, .blobs = b->blobs.data,
                             .ingest_ms = 5, .done = job_done};
}

/* Submits all batches at once (one or a few commits) and waits. */
static void ingest_all(struct store *s, struct batch *bs, int nb)
{
    struct done_flag d = {.left = nb};
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, NULL);
    for (int i = 0; i < nb; i++) {
        bs[i].job.ctx = &d;
        wr_submit(store_writer(s), &bs[i].job);
    }
    pthread_mutex_lock(&d.mu);
    while (d.left > 0)
        pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    for (int i = 0; i < nb; i++) {
        CHECK_EQ_INT(bs[i].job.status, SL_OK);
        buf_fini(&bs[i].blobs);
    }
}

struct collected {
    int n;
    int64_t ts[4096], seq[4096];
    char msg[4096][32];
    int stop_after;
};

static bool collect(void *ctx, const struct rd_event *e)
{
    struct collected *c = ctx;
    if (c->stop_after && c->n == c->stop_after)
        return false;
    c->ts[c->n] = e->ts;
    c->seq[c->n] = e->seq;
    snprintf(c->msg[c->n], sizeof(c->msg[0]), "%.*s", (int)e->len, e->msg);
    c->n++;
    return true;
}

static void scan(struct store *s, struct rd_scan *sc, struct collected *c)
{
    sqlite3 *db = store_reader(s);
    struct sl_err err = {0};
    c->n = 0;
    CHECK_OK(rd_stream_scan(db, sc, collect, c, &err));
    store_reader_release(s, db);
}

TEST(migrations_create_and_reopen)
{
    struct sl_err err = {0};
    char path[300];
    fresh_dir();
    struct store *s = open_store();
    REQUIRE(s != NULL);
    store_close(s);
    snprintf(path, sizeof(path), "%s/sluice.db", dir);
    sqlite3 *db = db_open(path, true, DB_SYNC_NORMAL, &err);
    REQUIRE(db != NULL);
    CHECK_EQ_INT(schema_version(db), SCHEMA_VERSION);
    CHECK_OK(schema_migrate(db, &err)); /* idempotent */
    CHECK_OK(db_exec(db, "PRAGMA user_version=99", &err));
    CHECK_EQ_INT(schema_migrate(db, &err), SL_CORRUPT);
    CHECK(strstr(err.msg, "newer than this sluice") != NULL);
    db_close(db);
    s = open_store();
    CHECK(s == NULL); /* refuses a file from the future */
}

TEST(segment_blobs_are_read_whole_and_missing_ones_reported)
{
    /* segstore_read_blob moves one blob handle from row to row; a missing
     * row spends the handle, and the next read must open another. */
    struct sl_err err = {0};
    struct segstore_stmts c = {0};
    struct seg_event ev[2] = {
        {.ts = 1000, .ingest = 1000, .msg = "first", .len = 5},
        {.ts = 2000, .ingest = 2000, .msg = "the second event", .len = 16},
    };
    struct buf blob[2], out;
    struct seg_meta m;
    struct seg_view v;
    struct arena a;
    int64_t id[2];
    char path[300];
    sqlite3 *db;

    fresh_dir();
    REQUIRE(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof(path), "%s/blobs.db", dir);
    db = db_open(path, true, DB_SYNC_NORMAL, &err);
    REQUIRE(db != NULL);
    REQUIRE_OK(schema_migrate(db, &err));
    buf_init(&out, SIZE_MAX);
    arena_init(&a, 4096, 0);
    for (int i = 0; i < 2; i++) {
        buf_init(&blob[i], 1 << 20);
        REQUIRE_OK(seg_encode(&ev[i], 1, false, 0, NULL, &blob[i], &m, &err));
        REQUIRE_OK(segstore_put(db, &c, 7, 3, &m, blob[i].data, false, true,
                                &id[i], &err));
    }
    REQUIRE_OK(segstore_read_blob(db, &c, id[0], &out, &err));
    CHECK_EQ_INT(out.len, blob[0].len);
    CHECK(memcmp(out.data, blob[0].data, out.len) == 0);
    CHECK_EQ_INT(segstore_read_blob(db, &c, id[1] + 100, &out, &err),
                 SL_NOT_FOUND);
    CHECK(strstr(err.msg, "is gone") != NULL);
    sl_err_clear(&err);
    REQUIRE_OK(segstore_read_blob(db, &c, id[1], &out, &err));
    CHECK_EQ_INT(out.len, blob[1].len);
    REQUIRE_OK(seg_decode(out.data, out.len, 1, &a, &v, &err));
    CHECK_EQ_INT(v.count, 1);
    CHECK_EQ_INT(v.ts[0], 2000);
    CHECK_EQ_INT(v.len[0], 16);
    CHECK(memcmp(v.bytes + v.off[0], "the second event", 16) == 0);
    REQUIRE_OK(segstore_read_blob(db, &c, id[0], &out, &err)); /* and back */
    CHECK(out.len == blob[0].len && memcmp(out.data, blob[0].data, out.len) == 0);
    segstore_stmts_fini(&c);
    db_close(db);
    arena_fini(&a);
    buf_fini(&out);
    buf_fini(&blob[0]);
    buf_fini(&blob[1]);
}

TEST(second_server_on_same_dir_is_refused)
{
    fresh_dir();
    struct store *s = open_store();
    REQUIRE(s != NULL);
    struct sl_err err = {0};
    struct store_opts o = {.dir = dir, .sync = DB_SYNC_NORMAL};
    CHECK(store_open(&o, &err) == NULL);
    CHECK(strstr(err.msg, "in use") != NULL);
    store_close(s);
}

TEST(catalogue_rules)
{
    struct sl_err err = {0};
    struct cat_group g;
    struct arena a;
    fresh_dir();
    struct store *s = open_store();
    REQUIRE(s != NULL);
    arena_init(&a, 4096, 0);
    CHECK_OK(store_group_create(s, "/aws/app", 7, "{\"team\":\"x\"}", &err));
    CHECK_EQ_INT(store_group_create(s, "/aws/app", 0, "{}", &err), SL_EXISTS);
    sl_err_clear(&err);
    CHECK_OK(store_stream_create(s, "/aws/app", "s1", &err));
    CHECK_EQ_INT(store_stream_create(s, "/aws/app", "s1", &err), SL_EXISTS);
    sl_err_clear(&err);
    CHECK_EQ_INT(store_stream_create(s, "/nope", "s1", &err), SL_NOT_FOUND);
    CHECK_EQ_STR(err.msg, "The specified log group does not exist.");
    sl_err_clear(&err);
    sqlite3 *db = store_reader(s);
    CHECK_OK(cat_group_get(db, "/aws/app", &a, &g, &err));
    CHECK_EQ_INT(g.retention_days, 7);
    CHECK_EQ_STR(g.tags, "{\"team\":\"x\"}");
    int64_t old_id = g.id;
    store_reader_release(s, db);
    CHECK_OK(store_group_set_retention(s, "/aws/app", 0, &err));
    CHECK_OK(store_group_delete(s, "/aws/app", &err));
    CHECK_EQ_INT(store_group_delete(s, "/aws/app", &err), SL_NOT_FOUND);
    sl_err_clear(&err);
    CHECK_OK(store_group_create(s, "/aws/app", 0, "{}", &err));
    db = store_reader(s);
    CHECK_OK(cat_group_get(db, "/aws/app", &a, &g, &err));
    CHECK(g.id != old_id); /* a re-created name gets a new id */
    CHECK_EQ_INT(g.retention_days, 0);
    struct cat_stream st;
    CHECK_EQ_INT(cat_stream_get(db, g.id, "s1", &st, &err), SL_NOT_FOUND);
    store_reader_release(s, db);
    arena_fini(&a);
    store_close(s);
}

TEST(ingest_merge_read_compact)
{
    static struct batch bs[40];
    static struct collected c, c2;
    struct sl_err err = {0};
    int64_t gid, sid;
    fresh_dir();
    struct store *s = open_store();
    REQUIRE(s != NULL);
    REQUIRE_OK(store_ensure_stream(s, "g", "s", &gid, &sid, &err));
    /* 40 batches of 50 events, out of order across batches, all sharing a
     * few timestamps so (ts, seq) order matters. */
    for (int b = 0; b < 40; b++) {
        int64_t ts[50];
        for (int i = 0; i < 50; i++)
            ts[i] = 1000000 + ((b * 7919) % 40) * 10 + i / 10;
        make_batch(&bs[b], sid, gid, ts, 50, b);
    }
    ingest_all(s, bs, 20);
    ingest_all(s, bs + 20, 20);
    struct rd_scan sc = {.stream_id = sid, .start = 0, .end = INT64_MAX};
    scan(s, &sc, &c);
    REQUIRE_EQ_INT(c.n, 2000);
    for (int i = 1; i < c.n; i++)
        CHECK(seg_key_less(c.ts[i - 1], c.seq[i - 1], c.ts[i], c.seq[i]));
    /* Backwards is the exact reverse. */
    sc.desc = true;
    scan(s, &sc, &c2);
    REQUIRE_EQ_INT(c2.n, 2000);
    for (int i = 0; i < c.n; i++)
        CHECK(c2.seq[i] == c.seq[c.n - 1 - i]);
    /* Paging from any position continues exactly. */
    sc.desc = false;
    sc.has_after = true;
    sc.after_ts = c.ts[777];
    sc.after_seq = c.seq[777];
    scan(s, &sc, &c2);
    CHECK_EQ_INT(c2.n, 2000 - 778);
    CHECK(c2.seq[0] == c.seq[778]);
    sc.desc = true;
    scan(s, &sc, &c2);
    CHECK_EQ_INT(c2.n, 777);
    CHECK(c2.seq[0] == c.seq[776]);
    /* A time window: [start, end). */
    struct rd_scan win = {.stream_id = sid, .start = 1000100, .end = 1000200};
    scan(s, &win, &c2);
    for (int i = 0; i < c2.n; i++)
        CHECK(c2.ts[i] >= 1000100 && c2.ts[i] < 1000200);
    int expect = 0;
    for (int i = 0; i < c.n; i++)
        expect += c.ts[i] >= 1000100 && c.ts[i] < 1000200;
    CHECK_EQ_INT(c2.n, expect);

    /* Compaction changes nothing a reader sees, and stored bytes follow. */
    struct compact_stats cs;
    int64_t segs_before, segs_after;
    CHECK_OK(store_segment_count(s, &segs_before, &err));
    CHECK_OK(store_compact_now(s, &cs, &err));
    CHECK_OK(store_segment_count(s, &segs_after, &err));
    CHECK(segs_after < segs_before);
    CHECK_EQ_INT(segs_after, 1);
    sc = (struct rd_scan){.stream_id = sid, .start = 0, .end = INT64_MAX};
    scan(s, &sc, &c2);
    REQUIRE_EQ_INT(c2.n, 2000);
    for (int i = 0; i < c.n; i++) {
        CHECK(c2.seq[i] == c.seq[i]);
        CHECK_EQ_STR(c2.msg[i], c.msg[i]);
    }
    sqlite3 *db = store_reader(s);
    sqlite3_stmt *q;
    struct cat_group g;
    struct arena a;
    REQUIRE_OK(db_prepare(db, "SELECT (SELECT sum(stored_bytes) FROM segments),"
                              " (SELECT sum(length(bytes)) FROM segment_data),"
                              " (SELECT stored_bytes FROM streams WHERE id = ?1)",
                          &q, &err));
    sqlite3_bind_int64(q, 1, sid);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1));
    CHECK_EQ_INT(sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 2));
    arena_init(&a, 4096, 0);
    REQUIRE_OK(cat_group_get(db, "g", &a, &g, &err));
    CHECK_EQ_INT(g.stored_bytes, sqlite3_column_int64(q, 0));
    CHECK_EQ_INT(g.first_event_ms, c.ts[0]);
    CHECK_EQ_INT(g.last_event_ms, c.ts[c.n - 1]);
    CHECK_EQ_INT(g.last_ingest_ms, 5);
    /* find: the same group without the pass over its streams */
    struct cat_group f;
    REQUIRE_OK(cat_group_find(db, "g", &a, &f, &err));
    CHECK_EQ_INT(f.id, g.id);
    CHECK_EQ_INT(f.created_ms, g.created_ms);
    CHECK_EQ_INT(f.stored_bytes, 0);
    CHECK_EQ_INT(f.last_event_ms, CAT_NONE);
    CHECK(cat_group_find(db, "nope", &a, &f, &err) == SL_NOT_FOUND);
    arena_fini(&a);
    sqlite3_finalize(q);
    store_reader_release(s, db);
    store_close(s);

    /* After a restart the same events come back in the same order, and new
     * seqs continue above the old ones. */
    s = open_store();
    REQUIRE(s != NULL);
    scan(s, &sc, &c2);
    REQUIRE_EQ_INT(c2.n, 2000);
    CHECK(c2.seq[1999] == c.seq[1999]);
    int64_t ts1[1] = {5};
    make_batch(&bs[0], sid, gid, ts1, 1, 99);
    ingest_all(s, bs, 1);
    scan(s, &sc, &c2);
    CHECK_EQ_INT(c2.n, 2001);
    int64_t maxseq = 0;
    for (int i = 0; i < c.n; i++)
        if (c.seq[i] > maxseq)
            maxseq = c.seq[i];
    CHECK(c2.seq[0] > maxseq);
    /* meta.next_seq stays a reservation above every seq handed out, even
     * once the segments holding the highest ones are gone. */
    db = store_reader(s);
    REQUIRE_OK(db_prepare(db, "SELECT (SELECT value FROM meta"
                              " WHERE key = 'next_seq') > max(max_seq)"
                              " FROM segments", &q, &err));
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK(sqlite3_column_int(q, 0) == 1);
    sqlite3_finalize(q);
    store_reader_release(s, db);
    store_close(s);
    {
        /* as if retention had removed every segment */
        char path[300];
        snprintf(path, sizeof(path), "%s/sluice.db", dir);
        db = db_open(path, true, DB_SYNC_NORMAL, &err);
        REQUIRE(db != NULL);
        REQUIRE_OK(db_exec(db, "DELETE FROM segments;"
                               "DELETE FROM segment_data", &err));
        db_close(db);
    }
    s = open_store();
    REQUIRE(s != NULL);
    REQUIRE_OK(store_ensure_stream(s, "g", "s2", &gid, &sid, &err));
    make_batch(&bs[0], sid, gid, ts1, 1, 98);
    ingest_all(s, bs, 1);
    sc.stream_id = sid;
    scan(s, &sc, &c);
    REQUIRE_EQ_INT(c.n, 1);
    CHECK(c.seq[0] > c2.seq[0]);
    store_close(s);
    fresh_dir();
}

TEST(cold_segments_are_recompressed_once)
{
    static struct batch bs[1];
    static struct collected c;
    struct sl_err err = {0};
    struct compact_stats cs;
    int64_t gid, sid, ts[64];
    fresh_dir();
    compact_level = 4;
    struct store *s = open_store();
    REQUIRE(s != NULL);
    REQUIRE_OK(store_ensure_stream(s, "g", "s", &gid, &sid, &err));
    for (int i = 0; i < 64; i++)
        ts[i] = 1000 + i;
    make_batch(&bs[0], sid, gid, ts, 64, 7);
    ingest_all(s, bs, 1);
    CHECK_OK(store_compact_now(s, &cs, &err));
    CHECK_EQ_INT(cs.merges, 1);          /* the lone fresh segment */
    CHECK_EQ_INT(cs.segments_in, 1);
    CHECK_EQ_INT(cs.segments_out, 1);
    CHECK(cs.bytes_out <= cs.bytes_in);
    CHECK_OK(store_compact_now(s, &cs, &err));
    CHECK_EQ_INT(cs.merges, 0);          /* and only once */
    struct rd_scan sc = {.stream_id = sid, .start = 0, .end = INT64_MAX};
    scan(s, &sc, &c);
    CHECK_EQ_INT(c.n, 64);
    CHECK_EQ_STR(c.msg[63], "m7-63");
    store_close(s);
    compact_level = 0;
    fresh_dir();
}

TEST(big_batches_arrive_in_lz4hc_and_are_only_merged)
{
    enum { N = 3000 };                   /* ~85 KB of messages */
    static struct seg_event ev[N];
    static struct wr_piece pieces[N], fast[N];
    static char msgs[N][32];
    static struct collected c;
    struct buf blobs, fblobs;
    struct sl_err err = {0};
    struct compact_stats cs;
    size_t np = 0, nf = 0;
    int64_t gid, sid;
    fresh_dir();
    compact_level = 4;
    struct store *s = open_store();
    REQUIRE(s != NULL);
    REQUIRE_OK(store_ensure_stream(s, "g", "s", &gid, &sid, &err));
    for (int i = 0; i < N; i++) {
        snprintf(msgs[i], sizeof(msgs[i]), "2 eni-%04d 10.0.%d.%d ACCEPT",
                 i % 37, i % 251, i % 13);
        ev[i] = (struct seg_event){.ts = 1000 + i / 10, .ingest = 5, .msg = msgs[i],
                                   .len = (uint32_t)strlen(msgs[i])};
    }
    buf_init(&blobs, SIZE_MAX / 2);
    buf_init(&fblobs, SIZE_MAX / 2);
    REQUIRE_OK(wr_encode_pieces(ev, N, true, NULL, &blobs, pieces, &np, &err));
    REQUIRE_OK(wr_encode_pieces(ev, N, false, NULL, &fblobs, fast, &nf, &err));
    CHECK_EQ_INT(np, 1);
    CHECK_EQ_INT(pieces[0].meta.level, WR_HC_LEVEL);
    CHECK_EQ_INT(fast[0].meta.level, 0);
    CHECK(pieces[0].meta.stored_bytes < fast[0].meta.stored_bytes);
    buf_fini(&fblobs);

    struct done_flag d = {.left = 1};
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, NULL);
    struct wr_job job = {.kind = WR_INGEST, .stream_id = sid, .group_id = gid,
                         .ev = ev, .n = N, .pieces = pieces, .n_pieces = np,
                         .blobs = blobs.data, .ingest_ms = 5, .done = job_done,
                         .ctx = &d};
    wr_submit(store_writer(s), &job);
    pthread_mutex_lock(&d.mu);
    while (d.left > 0)
        pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    CHECK_EQ_INT(job.status, SL_OK);
    buf_fini(&blobs);
    CHECK_OK(store_compact_now(s, &cs, &err));
    CHECK_EQ_INT(cs.merges, 0);          /* already LZ4HC: left alone */

    /* A second, small batch overlapping it: the two are merged. */
    static struct batch bs[1];
    int64_t ts[8];
    for (int i = 0; i < 8; i++)
        ts[i] = 1000 + i;
    make_batch(&bs[0], sid, gid, ts, 8, 3);
    ingest_all(s, bs, 1);
    CHECK_OK(store_compact_now(s, &cs, &err));
    CHECK_EQ_INT(cs.segments_in, 2);
    CHECK_EQ_INT(cs.segments_out, 1);
    struct rd_scan sc = {.stream_id = sid, .start = 0, .end = INT64_MAX};
    scan(s, &sc, &c);
    CHECK_EQ_INT(c.n, N + 8);
    CHECK_EQ_STR(c.msg[N + 7], msgs[N - 1]);
    store_close(s);
    compact_level = 0;
    fresh_dir();
}

/* Runs SQL that yields one integer. */
static int64_t query_int(struct store *s, const char *sql)
{
    struct sl_err err = {0};
    sqlite3 *db = store_reader(s);
    sqlite3_stmt *q;
    int64_t v = -1;
    if (db_prepare(db, sql, &q, &err) == SL_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            v = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    store_reader_release(s, db);
    return v;
}

static bool segment_exists(struct store *s, int64_t id)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM segments WHERE id = %lld",
             (long long)id);
    return query_int(s, sql) == 1;
}

/* One background (tiered) pass at level 0. */
static struct compact_stats background_pass(struct store *s)
{
    struct sl_err err = {0};
    struct compact_stats cs = {0};
    sqlite3 *db = store_reader(s);
    struct compact_opts co = {.level = 0, .thorough = false};
    CHECK_OK(compact_pass(db, store_writer(s), &co, &cs, &err));
    store_reader_release(s, db);
    return cs;
}

TEST(background_compaction_is_tiered)
{
    static struct batch bs[20];
    static struct collected c;
    struct sl_err err = {0};
    struct compact_stats cs;
    int64_t gid, sid, ts[32], big;
    fresh_dir();
    struct store *s = open_store();
    REQUIRE(s != NULL);
    REQUIRE_OK(store_ensure_stream(s, "g", "s", &gid, &sid, &err));
    /* One compacted segment of 64 events... */
    for (int b = 0; b < 2; b++) {
        for (int i = 0; i < 32; i++)
            ts[i] = 1000 + 32 * b + i;
        make_batch(&bs[b], sid, gid, ts, 32, b);
    }
    ingest_all(s, bs, 1);
    ingest_all(s, bs + 1, 1);
    CHECK_OK(store_compact_now(s, &cs, &err));
    REQUIRE_EQ_INT(query_int(s, "SELECT count(*) FROM segments"), 1);
    big = query_int(s, "SELECT id FROM segments");
    /* ...and two late 1-event batches inside its time range: they are
     * merged with each other, the big segment stays as it is. */
    for (int b = 0; b < 2; b++) {
        ts[0] = 1010 + 10 * b;
        make_batch(&bs[b], sid, gid, ts, 1, 10 + b);
        ingest_all(s, bs + b, 1);
    }
    cs = background_pass(s);
    CHECK_EQ_INT(cs.merges, 1);
    CHECK_EQ_INT(cs.segments_in, 2);
    CHECK(segment_exists(s, big));
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM segments"), 2);
    cs = background_pass(s);
    CHECK_EQ_INT(cs.merges, 0);                  /* converged */
    /* Once the small ones add up to a quarter of the big one, all merge. */
    for (int b = 0; b < 16; b++) {
        ts[0] = 1001 + b;
        make_batch(&bs[b], sid, gid, ts, 1, 20 + b);
        ingest_all(s, bs + b, 1);
    }
    cs = background_pass(s);
    CHECK_EQ_INT(cs.merges, 1);
    CHECK_EQ_INT(cs.segments_in, 1 + 1 + 16);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM segments"), 1);
    struct rd_scan sc = {.stream_id = sid, .start = 0, .end = INT64_MAX};
    scan(s, &sc, &c);
    REQUIRE_EQ_INT(c.n, 64 + 2 + 16);
    for (int i = 1; i < c.n; i++)
        CHECK(seg_key_less(c.ts[i - 1], c.seq[i - 1], c.ts[i], c.seq[i]));
    store_close(s);
    fresh_dir();
}

/* Creates streams s0 .. s<n-1> of group g. */
static void make_streams(struct store *s, int n, int64_t *gid, int64_t *sid)
{
    struct sl_err err = {0};
    for (int k = 0; k < n; k++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", k);
        REQUIRE_OK(store_ensure_stream(s, "g", name, gid, &sid[k], &err));
    }
}

/* Deletes the three segments with the largest ids (writer job). */
static enum sl_status drop_top_segments(sqlite3 *db, void *arg,
                                        struct sl_err *err)
{
    (void)arg;
    return db_exec(db, "DELETE FROM segment_data WHERE id IN"
                       " (SELECT id FROM segments ORDER BY id DESC LIMIT 3);"
                       "DELETE FROM segments WHERE id IN"
                       " (SELECT id FROM segments ORDER BY id DESC LIMIT 3)",
                   err);
}

static enum sl_status nothing(sqlite3 *db, void *arg, struct sl_err *err)
{
    (void)db;
    (void)arg;
    (void)err;
    return SL_OK;
}

/* Returns once the writer finished what follows the commits so far (the
 * merge of fresh segments runs after the commit that reached the mark,
 * when its jobs may already be answered). */
static void writer_settled(struct store *s)
{
    struct sl_err err = {0};
    CHECK_OK(wr_run(store_writer(s), nothing, NULL, &err));
}

TEST(fresh_segments_are_merged_per_stream_in_bulk)
{
    enum { STREAMS = 4, ROUNDS = 300 };
    static struct batch bs[STREAMS];
    static struct collected c;
    struct sl_err err = {0};
    int64_t gid, sid[STREAMS];
    fresh_dir();
    struct store *s = open_store();
    REQUIRE(s != NULL);
    make_streams(s, STREAMS, &gid, sid);
    for (int r = 0; r < ROUNDS; r++) {
        for (int k = 0; k < STREAMS; k++) {
            int64_t ts = 5000 + (r * 37) % ROUNDS;
            make_batch(&bs[k], sid[k], gid, &ts, 1, r);
        }
        ingest_all(s, bs, STREAMS);
    }
    writer_settled(s);
    int64_t total = query_int(s, "SELECT count(*) FROM segments");
    int64_t fresh = query_int(s, "SELECT count(*) FROM segments WHERE fresh = 1");
    CHECK_EQ_INT(query_int(s, "SELECT sum(count) FROM segments"),
                 STREAMS * ROUNDS);
    CHECK(fresh > 0 && fresh <= 1024 + STREAMS);  /* some merged, some not */
    /* every 1024 rows became one run a stream: 1024/4 events a segment */
    CHECK_EQ_INT(total, fresh + STREAMS);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM segments WHERE fresh = 0"
                              " AND count = 256"), STREAMS);
    /* Readers find both kinds, in order. */
    for (int k = 0; k < STREAMS; k++) {
        struct rd_scan sc = {.stream_id = sid[k], .start = 0, .end = INT64_MAX};
        scan(s, &sc, &c);
        REQUIRE_EQ_INT(c.n, ROUNDS);
        for (int i = 1; i < c.n; i++)
            CHECK(seg_key_less(c.ts[i - 1], c.seq[i - 1], c.ts[i], c.seq[i]));
    }
    /* ...through both indexes, not a table scan. */
    sqlite3 *db = store_reader(s);
    sqlite3_stmt *q;
    struct buf plan;
    buf_init(&plan, 1 << 16);
    REQUIRE_OK(db_prepare(db, "EXPLAIN QUERY PLAN SELECT id FROM seg_all"
                              " WHERE stream_id = 1 AND min_ts >= 0"
                              " AND min_ts <= 10 ORDER BY min_ts", &q, &err));
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(q, 3);
        CHECK_OK(buf_append(&plan, d, strlen(d)));
        CHECK_OK(buf_append(&plan, "\n", 1));
    }
    CHECK_OK(buf_append(&plan, "", 1));
    sqlite3_finalize(q);
    store_reader_release(s, db);
    CHECK(strstr(plan.data, "USING INDEX segments_stream_time") != NULL);
    CHECK(strstr(plan.data, "USING INTEGER PRIMARY KEY (rowid>?)") != NULL);
    buf_fini(&plan);
    store_close(s);
    /* A restart merges what was left fresh right after its first commit,
     * and later fresh rows start past every id. */
    s = open_store();
    REQUIRE(s != NULL);
    int64_t ts = 9999;
    make_batch(&bs[0], sid[0], gid, &ts, 1, 1);
    ingest_all(s, bs, 1);
    writer_settled(s);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM segments WHERE fresh = 1"),
                 0);
    CHECK_EQ_INT(query_int(s, "SELECT value FROM meta WHERE key = 'fresh_from'"),
                 query_int(s, "SELECT max(id) + 1 FROM segments"));
    /* Rows at the top deleted (as a compaction swap does): the next fresh
     * row still lands at or past fresh_from, so readers find it. */
    CHECK_OK(wr_run(store_writer(s), drop_top_segments, NULL, &err));
    struct rd_scan sc1 = {.stream_id = sid[1], .start = 0, .end = INT64_MAX};
    scan(s, &sc1, &c);
    int before = c.n;
    ts = 10000;
    make_batch(&bs[1], sid[1], gid, &ts, 1, 2);
    ingest_all(s, bs + 1, 1);
    CHECK_EQ_INT(query_int(s, "SELECT count(*) FROM segments WHERE fresh = 1"
                              " AND id >= (SELECT value FROM meta"
                              " WHERE key = 'fresh_from')"), 1);
    scan(s, &sc1, &c);
    CHECK_EQ_INT(c.n, before + 1);
    CHECK_EQ_INT(c.ts[c.n - 1], 10000);
    store_close(s);
    fresh_dir();
}

/* Posts 1-event batches to one stream until told to stop. */
struct trickle {
    struct store *s;
    int64_t gid, sid;
    atomic_bool stop;
    atomic_int posted;
};

static void *trickle_main(void *arg)
{
    struct trickle *t = arg;
    static struct batch b;
    while (!atomic_load(&t->stop)) {
        int n = atomic_fetch_add(&t->posted, 1);
        int64_t ts = 7000 + n;
        make_batch(&b, t->sid, t->gid, &ts, 1, n);
        ingest_all(t->s, &b, 1);
    }
    return NULL;
}

/* compact_opts.nap of the test: counts, never sleeps; stops the pass at
 * the first call when *stop_at_first. */
struct naps {
    int calls;
    bool stop_at_first;
};

static bool count_nap(void *ctx, int ms)
{
    struct naps *n = ctx;
    CHECK(ms >= 1 && ms <= 1000);
    n->calls++;
    return !n->stop_at_first;
}

TEST(background_compaction_naps_while_ingest_runs)
{
    enum { STREAMS = 300 };
    static struct batch bs[STREAMS];
    struct sl_err err = {0};
    struct compact_stats cs = {0};
    struct trickle t = {0};
    struct naps naps = {0};
    pthread_t th;
    int64_t gid, sid[STREAMS], ts = 1000;
    fresh_dir();
    struct store *s = open_store();
    REQUIRE(s != NULL);
    make_streams(s, STREAMS, &gid, sid);
    REQUIRE_OK(store_ensure_stream(s, "g", "live", &t.gid, &t.sid, &err));
    /* two small segments a stream: one rewrite each */
    for (int r = 0; r < 2; r++) {
        for (int k = 0; k < STREAMS; k++)
            make_batch(&bs[k], sid[k], gid, &ts, 1, r);
        ingest_all(s, bs, STREAMS);
    }
    int64_t segs = query_int(s, "SELECT count(*) FROM segments");
    char others[96];                  /* segments of all but the live stream */
    snprintf(others, sizeof(others),
             "SELECT count(*) FROM segments WHERE stream_id != %lld",
             (long long)t.sid);
    struct compact_opts co = {.level = 0, .nap = count_nap, .nap_ctx = &naps};
    sqlite3 *db = store_reader(s);

    /* Without ingest beside it a pass never naps. */
    naps.stop_at_first = true;
    CHECK_OK(compact_pass(db, store_writer(s), &co, &cs, &err));
    CHECK_EQ_INT(naps.calls, 0);
    CHECK_EQ_INT(cs.merges, STREAMS);

    /* Again, with ingest running: it naps, and a nap that says stop ends
     * the pass early with what it did swapped in. */
    for (int k = 0; k < STREAMS; k++)
        make_batch(&bs[k], sid[k], gid, &ts, 1, 2);
    ingest_all(s, bs, STREAMS);
    t.s = s;
    REQUIRE(pthread_create(&th, NULL, trickle_main, &t) == 0);
    while (atomic_load(&t.posted) < 3)
        usleep(1000);
    memset(&cs, 0, sizeof(cs));
    CHECK_OK(compact_pass(db, store_writer(s), &co, &cs, &err));
    CHECK_EQ_INT(naps.calls, 1);
    CHECK(cs.merges >= 1 && cs.merges < STREAMS);
    naps.stop_at_first = false;
    memset(&cs, 0, sizeof(cs));
    CHECK_OK(compact_pass(db, store_writer(s), &co, &cs, &err));
    atomic_store(&t.stop, true);
    pthread_join(th, NULL);
    CHECK(naps.calls > 1);
    store_reader_release(s, db);
    /* nothing lost: every stream holds its three events */
    CHECK_EQ_INT(query_int(s, "SELECT sum(count) FROM segments"),
                 3 * STREAMS + atomic_load(&t.posted));
    CHECK(query_int(s, others) < segs); /* the last pass merged them all */
    store_close(s);
    fresh_dir();
}

TEST(sync_full_answers_after_a_sync)
{
    static struct batch bs[8];
    struct sl_err err = {0};
    struct wr_stats ws;
    int64_t gid, sid, ts = 100;
    fresh_dir();
    sync_mode = DB_SYNC_FULL;
    struct store *s = open_store();
    REQUIRE(s != NULL);
    REQUIRE_OK(store_ensure_stream(s, "g", "s", &gid, &sid, &err));
    for (int r = 0; r < 10; r++) {
        for (int b = 0; b < 8; b++)
            make_batch(&bs[b], sid, gid, &ts, 1, b);
        ingest_all(s, bs, 8);
    }
    wr_get_stats(store_writer(s), &ws);
    CHECK(ws.syncs >= 10);           /* each round waited for one */
    CHECK(ws.syncs <= ws.commits);
    CHECK_EQ_INT(query_int(s, "SELECT sum(count) FROM segments"), 80);
    store_close(s);
    sync_mode = DB_SYNC_NORMAL;
    fresh_dir();
}

TEST_MAIN()
