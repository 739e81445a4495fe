/* storage/compactor.c: choosing and rewriting segment runs; see
 * compactor.h. */
#include "storage/compactor.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "storage/db.h"
#include "storage/segment.h"
#include "storage/segstore.h"

#include <stdlib.h>
#include <string.h>

/* Overlapping segments are merged together up to this much raw data. */
#define COMPACT_OVERLAP_MAX (16 * SEG_TARGET_RAW)

struct seg_row {
    int64_t id, min_ts, max_ts, min_seq, raw, stored;
    bool compacted;     /* written by the compactor (at its level) */
};

/* The swap handed to the writer. */
struct swap {
    int64_t stream_id, group_id;
    const struct seg_row *old;
    size_t n_old;
    const struct seg_meta *metas;
    size_t n_new;
    const char *blobs;
    const size_t *offs;
    bool applied;
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
 * A fresh segment on its own is rewritten too when the compactor has a
 * higher LZ4 level than ingest: request threads compress fast so ingest
 * keeps up, and cold data is recompressed once (LZ4HC level 4 stores VPC
 * flow logs in ~26% of their size where the fast level needs ~37%).
 */
static size_t run_end(const struct seg_row *r, size_t n, size_t i)
{
    int64_t raw = r[i].raw, lo = r[i].min_ts, hi = r[i].max_ts;
    size_t j = i + 1;
    for (; j < n; j++) {
        int64_t nhi = r[j].max_ts > hi ? r[j].max_ts : hi;
        bool overlap = r[j].min_ts < hi && raw + r[j].raw <= COMPACT_OVERLAP_MAX;
        bool fits = raw + r[j].raw <= SEG_TARGET_RAW && nhi - lo < SEG_MAX_SPAN_MS;
        if (!overlap && !fits)
            break;
        raw += r[j].raw;
        hi = nhi;
    }
    return j;
}

static enum sl_status apply_swap(sqlite3 *db, void *arg, struct sl_err *err)
{
    struct swap *sw = arg;
    struct segstore_stmts ss = {0};
    sqlite3_stmt *q = NULL;
    bool row;
    int64_t live = 0, bytes_old = 0, bytes_new = 0;
    enum sl_status st;

    st = db_prepare(db, "SELECT count(*) FROM segments s JOIN streams t"
                        " ON t.id = s.stream_id AND t.deleted_ms IS NULL"
                        " WHERE s.id = ?1 AND s.stream_id = ?2", &q, err);
    if (st != SL_OK)
        return st;
    for (size_t i = 0; i < sw->n_old && st == SL_OK; i++) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, sw->old[i].id);
        sqlite3_bind_int64(q, 2, sw->stream_id);
        st = db_step_row(q, &row, err);
        if (st == SL_OK && row)
            live += sqlite3_column_int64(q, 0);
        bytes_old += sw->old[i].stored;
    }
    sqlite3_finalize(q);
    if (st != SL_OK || live != (int64_t)sw->n_old)
        return st; /* something changed underneath: leave it for next pass */

    for (size_t i = 0; st == SL_OK && i < sw->n_old; i++)
        st = segstore_delete(db, &ss, sw->old[i].id, err);
    for (size_t i = 0; st == SL_OK && i < sw->n_new; i++) {
        int64_t id;
        st = segstore_put(db, &ss, sw->stream_id, sw->group_id, &sw->metas[i],
                          sw->blobs + sw->offs[i], true, &id, err);
        bytes_new += (int64_t)sw->metas[i].stored_bytes;
    }
    segstore_stmts_fini(&ss);
    if (st != SL_OK)
        return st;
    st = db_prepare(db, "UPDATE streams SET stored_bytes = stored_bytes + ?2,"
                        " segment_count = segment_count + ?3 WHERE id = ?1",
                    &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, sw->stream_id);
    sqlite3_bind_int64(q, 2, bytes_new - bytes_old);
    sqlite3_bind_int64(q, 3, (int64_t)sw->n_new - (int64_t)sw->n_old);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    if (st != SL_OK)
        return st;
    st = db_prepare(db, "UPDATE groups SET stored_bytes = stored_bytes + ?2"
                        " WHERE id = ?1", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, sw->group_id);
    sqlite3_bind_int64(q, 2, bytes_new - bytes_old);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    sw->applied = st == SL_OK;
    return st;
}

/* Reads and decodes rows[0..n) into one sorted event array (arena). */
static enum sl_status load_events(sqlite3 *rdb, const struct seg_row *rows,
                                  size_t n, struct arena *a,
                                  struct seg_event **out, size_t *n_out,
                                  struct sl_err *err)
{
    struct segstore_stmts ss = {0};
    struct seg_view *views;
    size_t total = 0, k = 0;
    enum sl_status st = SL_OK;

    views = arena_alloc(a, n * sizeof(*views));
    if (views == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory compacting");
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        st = segstore_load(rdb, &ss, rows[i].id, rows[i].min_seq, a, &views[i],
                           err);
        if (st == SL_OK)
            total += views[i].count;
    }
    segstore_stmts_fini(&ss);
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
    qsort(*out, total, sizeof(**out), seg_event_cmp);
    *n_out = total;
    return SL_OK;
}

/* Rewrites one run of segments of a stream. */
static enum sl_status rewrite_run(sqlite3 *rdb, struct wr *w, int level,
                                  int64_t stream_id, int64_t group_id,
                                  const struct seg_row *rows, size_t n,
                                  struct compact_stats *cs, struct sl_err *err)
{
    struct arena a;
    struct buf blobs;
    struct seg_event *ev = NULL;
    struct seg_meta *metas = NULL;
    size_t *offs = NULL, n_ev = 0, n_new = 0, i = 0;
    struct swap sw;
    enum sl_status st;

    arena_init(&a, 1 << 20, 0);
    buf_init(&blobs, SIZE_MAX / 2);
    st = db_exec(rdb, "BEGIN", err);
    if (st == SL_OK) {
        st = load_events(rdb, rows, n, &a, &ev, &n_ev, err);
        if (db_exec(rdb, "COMMIT", NULL) != SL_OK && st == SL_OK)
            st = db_fail(rdb, "ending a read", err);
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
    metas = arena_alloc(&a, n_ev * sizeof(*metas));
    offs = arena_alloc(&a, n_ev * sizeof(*offs));
    if (metas == NULL || offs == NULL) {
        st = sl_fail(err, SL_NOMEM, "out of memory compacting");
        goto out;
    }
    while (i < n_ev) {
        size_t j = i, raw = 0;
        while (j < n_ev && ev[j].ts - ev[i].ts < SEG_MAX_SPAN_MS &&
               (raw == 0 || raw + ev[j].len + 26 <= SEG_TARGET_RAW)) {
            raw += ev[j].len + 26;
            j++;
        }
        offs[n_new] = blobs.len;
        st = seg_encode(ev + i, j - i, true, level, &blobs, &metas[n_new], err);
        if (st != SL_OK)
            goto out;
        n_new++;
        i = j;
    }
    sw = (struct swap){.stream_id = stream_id, .group_id = group_id,
                       .old = rows, .n_old = n, .metas = metas, .n_new = n_new,
                       .blobs = blobs.data, .offs = offs};
    st = wr_run(w, apply_swap, &sw, err);
    if (st == SL_OK && sw.applied) {
        cs->merges++;
        cs->segments_in += (int64_t)n;
        cs->segments_out += (int64_t)n_new;
        for (size_t k = 0; k < n; k++)
            cs->bytes_in += rows[k].stored;
        for (size_t k = 0; k < n_new; k++)
            cs->bytes_out += (int64_t)metas[k].stored_bytes;
    }
out:
    buf_fini(&blobs);
    arena_fini(&a);
    return st;
}

static enum sl_status compact_stream(sqlite3 *rdb, struct wr *w, int level,
                                     int64_t stream_id, int64_t group_id,
                                     int *budget, struct compact_stats *cs,
                                     struct sl_err *err)
{
    sqlite3_stmt *q;
    struct seg_row *rows = NULL;
    size_t n = 0, cap = 0;
    bool row;
    enum sl_status st;

    st = db_prepare(rdb, "SELECT id, min_ts, max_ts, min_seq, raw_bytes,"
                         " stored_bytes, compacted FROM segments"
                         " WHERE stream_id = ?1 ORDER BY min_ts, id", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, stream_id);
    while ((st = db_step_row(q, &row, err)) == SL_OK && row) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct seg_row *more = sl_realloc(rows, ncap * sizeof(*rows));
            if (more == NULL) {
                st = sl_fail(err, SL_NOMEM, "out of memory compacting");
                break;
            }
            rows = more;
            cap = ncap;
        }
        rows[n++] = (struct seg_row){
            sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
            sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3),
            sqlite3_column_int64(q, 4), sqlite3_column_int64(q, 5),
            sqlite3_column_int(q, 6) != 0};
    }
    sqlite3_finalize(q);
    for (size_t i = 0; st == SL_OK && i < n && *budget != 0;) {
        size_t j = run_end(rows, n, i);
        if (j - i >= 2 || (level > 0 && !rows[i].compacted)) {
            st = rewrite_run(rdb, w, level, stream_id, group_id, rows + i,
                             j - i, cs, err);
            (*budget)--;
        }
        i = j;
    }
    sl_free(rows);
    return st;
}

enum sl_status compact_pass(sqlite3 *rdb, struct wr *w, int level,
                            int max_merges, struct compact_stats *cs,
                            struct sl_err *err)
{
    sqlite3_stmt *q;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int budget = max_merges > 0 ? max_merges : -1;
    bool row;
    enum sl_status st;

    st = db_prepare(rdb, "SELECT id, group_id FROM streams t"
                         " WHERE deleted_ms IS NULL AND (segment_count >= 2 OR"
                         " (?1 > 0 AND EXISTS (SELECT 1 FROM segments s"
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
    for (size_t i = 0; st == SL_OK && i < n && budget != 0; i += 2)
        st = compact_stream(rdb, w, level, ids[i], ids[i + 1], &budget, cs, err);
    sl_free(ids);
    return st;
}
