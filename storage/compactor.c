/* storage/compactor.c: choosing and rewriting segment runs; see
 * compactor.h. */
#include "storage/compactor.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/clock.h"
#include "storage/db.h"
#include "storage/segment.h"
#include "storage/segstore.h"

#include <stdlib.h>
#include <string.h>

/* Overlapping segments are merged together up to this much raw data. */
#define COMPACT_OVERLAP_MAX (16 * SEG_TARGET_RAW)

struct seg_row {
    int64_t id, min_ts, max_ts, min_seq, raw, stored;
    bool compacted;     /* LZ4HC already: by the compactor or a big batch */
    int64_t stream_id, group_id;
};

/* The columns every row list selects, in struct seg_row's order. */
#define SEG_ROW_COLUMNS "id, min_ts, max_ts, min_seq, raw_bytes," \
    " stored_bytes, compacted, stream_id, group_id"

/* Steps q (selecting SEG_ROW_COLUMNS) to its end into *rows (owned). */
static enum sl_status read_rows(sqlite3_stmt *q, struct seg_row **rows,
                                size_t *n, struct sl_err *err)
{
    size_t cap = 0;
    bool row;
    enum sl_status st;

    *rows = NULL;
    *n = 0;
    while ((st = db_step_row(q, &row, err)) == SL_OK && row) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct seg_row *more = sl_realloc(*rows, ncap * sizeof(*more));
            if (more == NULL)
                return sl_fail(err, SL_NOMEM, "out of memory compacting");
            *rows = more;
            cap = ncap;
        }
        (*rows)[(*n)++] = (struct seg_row){
            sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
            sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3),
            sqlite3_column_int64(q, 4), sqlite3_column_int64(q, 5),
            sqlite3_column_int(q, 6) != 0, sqlite3_column_int64(q, 7),
            sqlite3_column_int64(q, 8)};
    }
    return st;
}

/* Merged swaps wait for one writer job until they hold this many bytes:
 * the fresh rows of many streams interleave in the same pages, so one
 * transaction for all of them rewrites each page once instead of once a
 * stream. (32 MiB lifted the server's peak RSS past 128 MiB.) */
#define COMPACT_BATCH_BYTES (4 * 1024 * 1024)

/* ...or replace this many old segments. Deleting rows is what takes the
 * writer's time: one job that dropped 75,000 1-event segments stalled
 * ingest for 0.6 s; jobs of a few thousand rows interleave with commits.
 * A run takes at most as many segments. */
#define COMPACT_BATCH_ROWS 8192

/* compact_fresh merges fresh segments smaller than this (raw bytes);
 * bigger ones (a 1 MiB batch) are already worth a segment of their own. */
#define COMPACT_FRESH_SMALL (64 * 1024)

/* One run's replacement, waiting to be swapped in by the writer. */
struct swap {
    int64_t stream_id, group_id;
    struct seg_row *old;        /* owned copies of the replaced rows */
    size_t n_old;
    struct seg_meta *metas;     /* owned */
    size_t *offs;               /* owned: metas[i]'s blob at blobs + offs[i] */
    size_t n_new;
    struct buf blobs;
    bool compacted;             /* new segments are at the pass's level */
    bool applied;
};

/* A pass's state: where to read, what to write, what is pending. */
struct pass {
    sqlite3 *rdb;
    struct segstore_stmts rss;  /* rdb's cached blob reads */
    struct wr *w;
    int level;
    bool thorough;
    int budget;                 /* rewrites left; negative: no cap */
    struct compact_stats *cs;
    struct swap **pending;
    size_t n_pending, cap_pending, pending_bytes, pending_rows;
    bool (*nap)(void *ctx, int ms);
    void *nap_ctx;
    int64_t worked_since;       /* ns: when the pass last started working */
    uint64_t ingests_since;     /* the writer's ingest count then */
};

/*
 * Choosing runs
 * =============
 * Segments are walked in min_ts order and gathered greedily:
 *
 *   take the next one if it overlaps the run (min_ts < run.max_ts) and the
 *   run stays under COMPACT_OVERLAP_MAX, or if it fits (run + it <= target
 *   raw bytes and the run still spans < SEG_MAX_SPAN_MS);
 *   a run of two or more is rewritten.
 *
 * Outputs never overlap and are either ~target sized or cut by the span
 * limit, so a second pass finds nothing to do: compaction converges.
 *
 * Background passes are tiered: a run is rewritten whole only when its
 * smaller segments add up to at least a quarter of its biggest one;
 * otherwise the biggest stays and the rest is considered again on its own
 * (the rest may then overlap it, which readers handle). Without this, a
 * trickle of late events into a stream rewrote its 1 MiB segment (or a
 * 16 MiB overlapping run) every pass for a few new KiB: with 1-event
 * batches the WAL grew by gigabytes a minute. Each byte is now rewritten
 * O(log) times. On-demand passes (thorough) merge every run whole.
 *
 * A fresh segment on its own is rewritten too when it was compressed at
 * the fast level (small batches, and what the writer merged of them) and
 * the compactor has an LZ4HC level: cold data is recompressed once (level
 * 4 stores VPC flow logs in ~23% of their size where the fast level needs
 * ~33%). Big batches arrive compressed with LZ4HC level 1 (~26%, see
 * wr_encode_pieces) and are left as they are: recompressing them would
 * spend a core-second per 100 MB to save a tenth of their size.
 */
static size_t run_end(const struct seg_row *r, size_t n, size_t i)
{
    int64_t raw = r[i].raw, lo = r[i].min_ts, hi = r[i].max_ts;
    size_t j = i + 1;
    for (; j < n; j++) {
        int64_t nhi = r[j].max_ts > hi ? r[j].max_ts : hi;
        bool overlap = r[j].min_ts < hi && raw + r[j].raw <= COMPACT_OVERLAP_MAX;
        bool fits = raw + r[j].raw <= SEG_TARGET_RAW && nhi - lo < SEG_MAX_SPAN_MS;
        if ((!overlap && !fits) || j - i >= COMPACT_BATCH_ROWS)
            break;
        raw += r[j].raw;
        hi = nhi;
    }
    return j;
}

static enum sl_status apply_swap(sqlite3 *db, struct compact_stmts *c,
                                 struct swap *sw, struct sl_err *err)
{
    bool row;
    int64_t live = 0, bytes_old = 0, bytes_new = 0;
    enum sl_status st = SL_OK;

    for (size_t i = 0; i < sw->n_old && st == SL_OK; i++) {
        st = db_cached(db, &c->live,
                       "SELECT count(*) FROM segments s JOIN streams t"
                       " ON t.id = s.stream_id AND t.deleted_ms IS NULL"
                       " WHERE s.id = ?1 AND s.stream_id = ?2", err);
        if (st != SL_OK)
            break;
        sqlite3_bind_int64(c->live, 1, sw->old[i].id);
        sqlite3_bind_int64(c->live, 2, sw->stream_id);
        st = db_step_row(c->live, &row, err);
        if (st == SL_OK && row)
            live += sqlite3_column_int64(c->live, 0);
        sqlite3_reset(c->live);
        bytes_old += sw->old[i].stored;
    }
    if (st != SL_OK || live != (int64_t)sw->n_old)
        return st; /* something changed underneath: leave it for next pass */

    for (size_t i = 0; st == SL_OK && i < sw->n_old; i++)
        st = segstore_delete(db, &c->ss, sw->old[i].id, err);
    for (size_t i = 0; st == SL_OK && i < sw->n_new; i++) {
        int64_t id;
        st = segstore_put(db, &c->ss, sw->stream_id, sw->group_id,
                          &sw->metas[i], sw->blobs.data + sw->offs[i],
                          sw->compacted, false, &id, err);
        bytes_new += (int64_t)sw->metas[i].stored_bytes;
    }
    if (st == SL_OK)
        st = db_cached(db, &c->acct_stream,
                       "UPDATE streams SET stored_bytes = stored_bytes + ?2,"
                       " segment_count = segment_count + ?3 WHERE id = ?1",
                       err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(c->acct_stream, 1, sw->stream_id);
    sqlite3_bind_int64(c->acct_stream, 2, bytes_new - bytes_old);
    sqlite3_bind_int64(c->acct_stream, 3,
                       (int64_t)sw->n_new - (int64_t)sw->n_old);
    st = db_step_done(c->acct_stream, err);
    sw->applied = st == SL_OK;
    return st;
}

/* Reads and decodes rows[0..n) into one sorted event array (arena). */
static enum sl_status load_events(sqlite3 *rdb, struct segstore_stmts *ss,
                                  const struct seg_row *rows, size_t n,
                                  struct arena *a, struct seg_event **out,
                                  size_t *n_out, struct sl_err *err)
{
    struct seg_view *views;
    size_t total = 0, k = 0;
    enum sl_status st = SL_OK;

    views = arena_alloc(a, n * sizeof(*views));
    if (views == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory compacting");
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        st = segstore_load(rdb, ss, rows[i].id, rows[i].min_seq, a, &views[i],
                           err);
        if (st == SL_OK)
            total += views[i].count;
    }
    if (st != SL_OK)
        return st;
    *out = arena_alloc(a, total * sizeof(**out));
    if (*out == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory compacting");
    for (size_t i = 0; i < n; i++) {
        for (uint32_t e = 0; e < views[i].count; e++) {
            (*out)[k++] = (struct seg_event){
                .ts = views[i].ts[e],
                .ingest = views[i].ingest[e],
                .seq = views[i].seq[e],
                .msg = views[i].bytes + views[i].off[e],
                .len = views[i].len[e],
            };
        }
    }
    seg_events_sort(*out, total);
    *n_out = total;
    return SL_OK;
}

static void swap_free(struct swap *sw)
{
    if (sw == NULL)
        return;
    sl_free(sw->old);
    sl_free(sw->metas);
    sl_free(sw->offs);
    buf_fini(&sw->blobs);
    sl_free(sw);
}

/* Writer job: swaps in every pending merge, in one transaction. */
static enum sl_status apply_pending(sqlite3 *db, void *arg, struct sl_err *err)
{
    struct pass *p = arg;
    struct compact_stmts c = {0};
    enum sl_status st = SL_OK;
    for (size_t i = 0; i < p->n_pending && st == SL_OK; i++)
        st = apply_swap(db, &c, p->pending[i], err);
    compact_stmts_fini(&c);
    return st;
}

/* Hands the pending swaps to the writer and counts what was applied. */
static enum sl_status flush_pending(struct pass *p, struct sl_err *err)
{
    enum sl_status st = SL_OK;

    if (p->n_pending > 0)
        st = wr_run(p->w, apply_pending, p, err);
    for (size_t i = 0; i < p->n_pending; i++) {
        struct swap *sw = p->pending[i];
        if (st == SL_OK && sw->applied) {
            p->cs->merges++;
            p->cs->segments_in += (int64_t)sw->n_old;
            p->cs->segments_out += (int64_t)sw->n_new;
            for (size_t k = 0; k < sw->n_old; k++)
                p->cs->bytes_in += sw->old[k].stored;
            for (size_t k = 0; k < sw->n_new; k++)
                p->cs->bytes_out += (int64_t)sw->metas[k].stored_bytes;
        } else if (st == SL_OK) {
            p->cs->stale++;
        }
        swap_free(sw);
    }
    p->n_pending = 0;
    p->pending_bytes = 0;
    p->pending_rows = 0;
    return st;
}

/* Encodes the sorted events ev[0..n_ev) into sw's new segments. */
static enum sl_status encode_swap(struct swap *sw, const struct seg_event *ev,
                                  size_t n_ev, int level, struct sl_err *err)
{
    size_t i = 0, cap = 0;

    while (i < n_ev) {
        size_t j = i, raw = 0;
        enum sl_status st;
        while (j < n_ev && ev[j].ts - ev[i].ts < SEG_MAX_SPAN_MS &&
               (raw == 0 || raw + ev[j].len + 26 <= SEG_TARGET_RAW)) {
            raw += ev[j].len + 26;
            j++;
        }
        if (sw->n_new == cap) {
            /* pending swaps live a while: size these to the outputs */
            size_t ncap = cap ? 2 * cap : 4;
            struct seg_meta *m = sl_realloc(sw->metas, ncap * sizeof(*m));
            size_t *o = m ? sl_realloc(sw->offs, ncap * sizeof(*o)) : NULL;
            if (m != NULL)
                sw->metas = m;
            if (o == NULL)
                return sl_fail(err, SL_NOMEM, "out of memory compacting");
            sw->offs = o;
            cap = ncap;
        }
        sw->offs[sw->n_new] = sw->blobs.len;
        st = seg_encode(ev + i, j - i, true, level, NULL, &sw->blobs,
                        &sw->metas[sw->n_new], err);
        if (st != SL_OK)
            return st;
        sw->n_new++;
        i = j;
    }
    return SL_OK;
}

/*
 * A background pass's share of the machine. Recompressing what 1 MiB
 * batches left (LZ4HC, ~50 MB/s a core) took over half a core for
 * seconds; beside 1-event batches from 32 clients that halved their rate
 * (14k -> 9k requests/s) and its 4 MiB swaps stretched their syncs. While
 * ingest jobs keep reaching the writer the pass naps nine times as long as
 * it worked since its last nap; with no ingest it runs flat out. Small
 * batches do not wait for this: the writer merges them itself
 * (compact_fresh). Returns false when the pass should stop.
 */
static bool pace(struct pass *p)
{
    struct wr_stats ws;
    int64_t now;

    if (p->nap == NULL)
        return true;
    wr_get_stats(p->w, &ws);
    now = sl_mono_ns();
    if (p->worked_since != 0 && ws.ingests != p->ingests_since) {
        int64_t ms = (now - p->worked_since) * 9 / 1000000 + 1;
        if (!p->nap(p->nap_ctx, ms > 1000 ? 1000 : (int)ms))
            return false;
        wr_get_stats(p->w, &ws);
        now = sl_mono_ns();
    }
    p->worked_since = now;
    p->ingests_since = ws.ingests;
    return true;
}

/* Merges one run of segments of a stream and queues the swap. */
static enum sl_status rewrite_run(struct pass *p, int64_t stream_id,
                                  int64_t group_id, const struct seg_row *rows,
                                  size_t n, struct sl_err *err)
{
    struct arena a;
    struct seg_event *ev = NULL;
    size_t n_ev = 0;
    struct swap *sw = NULL;
    enum sl_status st;

    if (!pace(p)) {
        p->budget = 0;            /* shutting down: swap in what is done */
        return SL_OK;
    }
    p->budget--;
    arena_init(&a, 1 << 20, 0);
    st = db_exec(p->rdb, "BEGIN", err);
    if (st == SL_OK) {
        st = load_events(p->rdb, &p->rss, rows, n, &a, &ev, &n_ev, err);
        if (db_exec(p->rdb, "COMMIT", NULL) != SL_OK && st == SL_OK)
            st = db_fail(p->rdb, "ending a read", err);
    }
    if (st == SL_NOT_FOUND) {
        /* A purge got there first; nothing to merge. */
        st = SL_OK;
        if (err != NULL)
            sl_err_clear(err);
        goto out;
    }
    if (st != SL_OK)
        goto out;
    sw = sl_calloc(1, sizeof(*sw));
    if (sw == NULL) {
        st = sl_fail(err, SL_NOMEM, "out of memory compacting");
        goto out;
    }
    buf_init(&sw->blobs, SIZE_MAX / 2);
    sw->compacted = true;
    sw->stream_id = stream_id;
    sw->group_id = group_id;
    sw->old = sl_alloc(n * sizeof(*sw->old));
    if (sw->old == NULL) {
        st = sl_fail(err, SL_NOMEM, "out of memory compacting");
        goto out;
    }
    memcpy(sw->old, rows, n * sizeof(*sw->old));
    sw->n_old = n;
    st = encode_swap(sw, ev, n_ev, p->level, err);
    if (st != SL_OK)
        goto out;
    if (p->n_pending == p->cap_pending) {
        size_t ncap = p->cap_pending ? 2 * p->cap_pending : 16;
        struct swap **more = sl_realloc(p->pending, ncap * sizeof(*more));
        if (more == NULL) {
            st = sl_fail(err, SL_NOMEM, "out of memory compacting");
            goto out;
        }
        p->pending = more;
        p->cap_pending = ncap;
    }
    p->pending[p->n_pending++] = sw;
    p->pending_bytes += sw->blobs.len;
    p->pending_rows += sw->n_old;
    sw = NULL;
    if (p->pending_bytes >= COMPACT_BATCH_BYTES ||
        p->pending_rows >= COMPACT_BATCH_ROWS)
        st = flush_pending(p, err);
out:
    swap_free(sw);
    arena_fini(&a);
    return st;
}

/* Rewrites run[0..n) or, tiered (see above), part of it. */
static enum sl_status plan_run(struct pass *p, int64_t stream_id,
                               int64_t group_id, const struct seg_row *run,
                               size_t n, struct sl_err *err)
{
    struct seg_row *rest;
    enum sl_status st = SL_OK;

    if (n == 1) {
        if (p->level > 0 && !run[0].compacted)
            return rewrite_run(p, stream_id, group_id, run, 1, err);
        return SL_OK;
    }
    if (p->thorough)
        return rewrite_run(p, stream_id, group_id, run, n, err);
    rest = sl_alloc(n * sizeof(*rest));
    if (rest == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory compacting");
    memcpy(rest, run, n * sizeof(*rest));
    while (n >= 2 && st == SL_OK && p->budget != 0) {
        size_t big = 0;
        int64_t total = 0;
        for (size_t k = 0; k < n; k++) {
            total += rest[k].raw;
            if (rest[k].raw > rest[big].raw)
                big = k;
        }
        if (4 * (total - rest[big].raw) >= rest[big].raw) {
            st = rewrite_run(p, stream_id, group_id, rest, n, err);
            n = 0;
            break;
        }
        if (p->level > 0 && !rest[big].compacted)
            st = rewrite_run(p, stream_id, group_id, rest + big, 1, err);
        memmove(rest + big, rest + big + 1, (n - big - 1) * sizeof(*rest));
        n--;
    }
    if (n == 1 && st == SL_OK && p->budget != 0)
        st = plan_run(p, stream_id, group_id, rest, 1, err);
    sl_free(rest);
    return st;
}

static enum sl_status compact_stream(struct pass *p, int64_t stream_id,
                                     int64_t group_id, struct sl_err *err)
{
    sqlite3_stmt *q;
    struct seg_row *rows = NULL;
    size_t n = 0;
    enum sl_status st;

    st = db_prepare(p->rdb, "SELECT " SEG_ROW_COLUMNS " FROM seg_all"
                            " WHERE stream_id = ?1 ORDER BY min_ts, id", &q,
                    err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, stream_id);
    st = read_rows(q, &rows, &n, err);
    sqlite3_finalize(q);
    for (size_t i = 0; st == SL_OK && i < n && p->budget != 0;) {
        size_t j = run_end(rows, n, i);
        st = plan_run(p, stream_id, group_id, rows + i, j - i, err);
        i = j;
    }
    sl_free(rows);
    return st;
}

enum sl_status compact_pass(sqlite3 *rdb, struct wr *w,
                            const struct compact_opts *o,
                            struct compact_stats *cs, struct sl_err *err)
{
    struct pass p = {.rdb = rdb, .w = w, .level = o->level,
                     .thorough = o->thorough,
                     .budget = o->max_merges > 0 ? o->max_merges : -1,
                     .cs = cs, .nap = o->nap, .nap_ctx = o->nap_ctx};
    int level = o->level;
    sqlite3_stmt *q;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    bool row;
    enum sl_status st, fst;

    st = db_prepare(rdb, "SELECT id, group_id FROM streams t"
                         " WHERE deleted_ms IS NULL AND (segment_count >= 2 OR"
                         " (?1 > 0 AND EXISTS (SELECT 1 FROM seg_all s"
                         "  WHERE s.stream_id = t.id AND s.compacted = 0)))",
                    &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int(q, 1, level);
    while ((st = db_step_row(q, &row, err)) == SL_OK && row) {
        if (n + 2 > cap) {
            size_t ncap = cap ? cap * 2 : 64;
            int64_t *more = sl_realloc(ids, ncap * sizeof(*ids));
            if (more == NULL) {
                st = sl_fail(err, SL_NOMEM, "out of memory compacting");
                break;
            }
            ids = more;
            cap = ncap;
        }
        ids[n++] = sqlite3_column_int64(q, 0);
        ids[n++] = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    for (size_t i = 0; st == SL_OK && i < n && p.budget != 0; i += 2)
        st = compact_stream(&p, ids[i], ids[i + 1], err);
    /* What was merged is swapped in even when a later stream failed. */
    fst = flush_pending(&p, st == SL_OK ? err : NULL);
    if (st == SL_OK)
        st = fst;
    segstore_stmts_fini(&p.rss);
    sl_free(p.pending);
    sl_free(ids);
    return st;
}

/* Merges one stream's fresh rows (n >= 2) into unindexed-no-more segments
 * at the fast level, in db's open transaction. */
static enum sl_status merge_fresh_stream(sqlite3 *db,
                                         struct compact_stmts *c,
                                         int64_t stream_id, int64_t group_id,
                                         struct seg_row *rows, size_t n,
                                         struct sl_err *err)
{
    struct arena a;
    struct seg_event *ev = NULL;
    size_t n_ev = 0;
    struct swap sw = {.stream_id = stream_id, .group_id = group_id,
                      .old = rows, .n_old = n};
    enum sl_status st;

    arena_init(&a, 1 << 16, 0);
    buf_init(&sw.blobs, SIZE_MAX / 2);
    st = load_events(db, &c->ss, rows, n, &a, &ev, &n_ev, err);
    if (st == SL_OK)
        st = encode_swap(&sw, ev, n_ev, 0, err);
    if (st == SL_OK)
        st = apply_swap(db, c, &sw, err);
    sl_free(sw.metas);
    sl_free(sw.offs);
    buf_fini(&sw.blobs);
    arena_fini(&a);
    return st;
}

void compact_stmts_fini(struct compact_stmts *c)
{
    segstore_stmts_fini(&c->ss);
    sqlite3_finalize(c->live);
    sqlite3_finalize(c->acct_stream);
    sqlite3_finalize(c->fresh);
    sqlite3_finalize(c->flip);
    sqlite3_finalize(c->fresh_from);
    *c = (struct compact_stmts){0};
}

enum sl_status compact_fresh(sqlite3 *db, struct compact_stmts *c,
                             struct sl_err *err)
{
    sqlite3_stmt *flip;
    struct seg_row *rows = NULL;
    size_t n = 0;
    enum sl_status st;

    st = db_cached(db, &c->fresh,
                   "SELECT " SEG_ROW_COLUMNS " FROM segments"
                   " WHERE id >= (SELECT value FROM meta"
                   "              WHERE key = 'fresh_from')"
                   " AND fresh = 1 ORDER BY stream_id, min_ts, id", err);
    if (st != SL_OK)
        return st;
    st = read_rows(c->fresh, &rows, &n, err);
    sqlite3_reset(c->fresh);
    if (st == SL_OK)
        st = db_cached(db, &c->flip,
                       "UPDATE segments SET fresh = 0 WHERE id = ?1", err);
    flip = c->flip;
    for (size_t i = 0; st == SL_OK && i < n;) {
        size_t j = i, k = i;
        /* per stream: big ones are just indexed, small ones merged */
        for (; j < n && rows[j].stream_id == rows[i].stream_id; j++) {
            if (rows[j].raw < COMPACT_FRESH_SMALL) {
                rows[k++] = rows[j];
                continue;
            }
            sqlite3_reset(flip);
            sqlite3_bind_int64(flip, 1, rows[j].id);
            st = db_step_done(flip, err);
            if (st != SL_OK)
                break;
        }
        if (st == SL_OK && k - i == 1) {
            sqlite3_reset(flip);
            sqlite3_bind_int64(flip, 1, rows[i].id);
            st = db_step_done(flip, err);
        } else if (st == SL_OK && k - i > 1) {
            st = merge_fresh_stream(db, c, rows[i].stream_id,
                                    rows[i].group_id, rows + i, k - i, err);
        }
        i = j;
    }
    /* none is fresh now: later ones start past every id there is */
    if (st == SL_OK)
        st = db_cached(db, &c->fresh_from,
                       "UPDATE meta SET value ="
                       " (SELECT coalesce(max(id), 0) + 1 FROM segments)"
                       " WHERE key = 'fresh_from'", err);
    if (st == SL_OK)
        st = db_step_done(c->fresh_from, err);
    sl_free(rows);
    return st;
}
