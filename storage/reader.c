/* storage/reader.c: ordered merge over a stream's segments; see reader.h. */
#include "storage/reader.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "storage/db.h"
#include "storage/segment.h"
#include "storage/segstore.h"

#include <string.h>

/*
 * The merge
 * =========
 * Segments come from the index in min_ts order (descending for desc). A
 * segment spans at most SEG_MAX_SPAN_MS, which bounds both the index range
 * to look at and how far ahead the merge must open segments:
 *
 *   forward:   open the next segment while its min_ts <= the heap top's ts
 *   backward:  open the next segment while its min_ts + SPAN >= top's ts
 *
 *        min_ts order ->
 *   seg A  |=====|                 heap holds a cursor into every open
 *   seg B     |========|           segment; the top is the next event
 *   seg C            |===|         in (ts, seq) order
 *                 ^ merge front
 */

struct cursor {
    struct seg_view v;
    struct arena a;
    int64_t i;          /* current index in v */
};

struct scan_state {
    const struct rd_scan *s;
    struct cursor **heap;
    size_t n, cap;
};

static bool before(const struct scan_state *st, const struct cursor *x,
                   const struct cursor *y)
{
    int64_t xt = x->v.ts[x->i], yt = y->v.ts[y->i];
    int64_t xs = x->v.seq[x->i], ys = y->v.seq[y->i];
    if (st->s->desc)
        return seg_key_less(yt, ys, xt, xs);
    return seg_key_less(xt, xs, yt, ys);
}

static void sift_down(struct scan_state *st, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < st->n && before(st, st->heap[l], st->heap[m]))
            m = l;
        if (r < st->n && before(st, st->heap[r], st->heap[m]))
            m = r;
        if (m == i)
            return;
        struct cursor *t = st->heap[i];
        st->heap[i] = st->heap[m];
        st->heap[m] = t;
        i = m;
    }
}

static void sift_up(struct scan_state *st, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(st, st->heap[i], st->heap[p]))
            return;
        struct cursor *t = st->heap[i];
        st->heap[i] = st->heap[p];
        st->heap[p] = t;
        i = p;
    }
}

static void cursor_free(struct cursor *c)
{
    arena_fini(&c->a);
    sl_free(c);
}

/* First index whose key is past the scan's starting point (asc), or the
 * last index before it (desc); -1 / count when none. */
static int64_t start_index(const struct rd_scan *s, const struct seg_view *v)
{
    int64_t lo = 0, hi = v->count; /* first index with key >= bound */
    int64_t bts, bseq;
    bool strict;

    if (!s->desc) {
        /* bound: max((start, -inf), after) ; we want first key > after and ts >= start */
        bts = s->start;
        bseq = INT64_MIN;
        strict = false;
        if (s->has_after && !seg_key_less(s->after_ts, s->after_seq, bts, bseq)) {
            bts = s->after_ts;
            bseq = s->after_seq;
            strict = true;
        }
    } else {
        /* we want the last key < min((end, -inf), before) */
        bts = s->end;
        bseq = INT64_MIN;
        strict = false;
        if (s->has_after && seg_key_less(s->after_ts, s->after_seq, bts, bseq)) {
            bts = s->after_ts;
            bseq = s->after_seq;
        }
    }
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        bool less = seg_key_less(v->ts[mid], v->seq[mid], bts, bseq) ||
                    (strict && v->ts[mid] == bts && v->seq[mid] == bseq);
        if (less)
            lo = mid + 1;
        else
            hi = mid;
    }
    return s->desc ? lo - 1 : lo;
}

static enum sl_status open_segment(struct scan_state *st,
                                   struct segstore_stmts *ss, sqlite3 *db,
                                   int64_t id, int64_t min_seq,
                                   struct sl_err *err)
{
    struct cursor *c;
    enum sl_status rc;

    c = sl_alloc(sizeof(*c));
    if (c == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory reading a segment");
    arena_init(&c->a, 64 * 1024, 0);
    rc = segstore_load(db, ss, id, min_seq, &c->a, &c->v, err);
    if (rc != SL_OK) {
        cursor_free(c);
        /* inside one read transaction an indexed segment has its blob */
        return rc == SL_NOT_FOUND ? SL_CORRUPT : rc;
    }
    c->i = start_index(st->s, &c->v);
    if (c->i < 0 || c->i >= (int64_t)c->v.count) {
        cursor_free(c);
        return SL_OK;
    }
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        struct cursor **h = sl_realloc(st->heap, cap * sizeof(*h));
        if (h == NULL) {
            cursor_free(c);
            return sl_fail(err, SL_NOMEM, "out of memory merging segments");
        }
        st->heap = h;
        st->cap = cap;
    }
    st->heap[st->n++] = c;
    sift_up(st, st->n - 1);
    return SL_OK;
}

static enum sl_status merge(struct scan_state *st, sqlite3_stmt *segq,
                            struct segstore_stmts *ss, rd_visit_fn visit,
                            void *ctx, struct sl_err *err)
{
    const struct rd_scan *s = st->s;
    bool have_next, row;
    int64_t next_id = 0, next_min_ts = 0, next_min_seq = 0;
    enum sl_status rc;

    rc = db_step_row(segq, &have_next, err);
    if (rc != SL_OK)
        return rc;
    for (;;) {
        while (have_next) {
            next_id = sqlite3_column_int64(segq, 0);
            next_min_ts = sqlite3_column_int64(segq, 1);
            next_min_seq = sqlite3_column_int64(segq, 3);
            if (st->n > 0) {
                struct cursor *top = st->heap[0];
                int64_t tts = top->v.ts[top->i];
                if (!s->desc && next_min_ts > tts)
                    break;
                if (s->desc && next_min_ts + SEG_MAX_SPAN_MS < tts)
                    break;
            }
            rc = open_segment(st, ss, sqlite3_db_handle(segq), next_id,
                              next_min_seq, err);
            if (rc != SL_OK)
                return rc;
            rc = db_step_row(segq, &row, err);
            if (rc != SL_OK)
                return rc;
            have_next = row;
        }
        if (st->n == 0)
            return SL_OK;

        struct cursor *c = st->heap[0];
        struct rd_event e = {
            .ts = c->v.ts[c->i],
            .ingest = c->v.ingest[c->i],
            .seq = c->v.seq[c->i],
            .msg = c->v.bytes + c->v.off[c->i],
            .len = c->v.len[c->i],
        };
        if (s->desc ? e.ts < s->start : e.ts >= s->end)
            return SL_OK;
        if (!visit(ctx, &e))
            return SL_OK;
        c->i += s->desc ? -1 : 1;
        if (c->i < 0 || c->i >= (int64_t)c->v.count) {
            cursor_free(c);
            st->heap[0] = st->heap[--st->n];
        }
        if (st->n > 0)
            sift_down(st, 0);
    }
}

enum sl_status rd_stream_scan(sqlite3 *db, const struct rd_scan *s,
                              rd_visit_fn visit, void *ctx,
                              struct sl_err *err)
{
    static const char sql_asc[] =
        "SELECT id, min_ts, max_ts, min_seq FROM seg_all"
        " WHERE stream_id = ?1 AND min_ts >= ?2 - ?4 AND min_ts <= ?3"
        " AND max_ts >= ?2 ORDER BY min_ts, id";
    static const char sql_desc[] =
        "SELECT id, min_ts, max_ts, min_seq FROM seg_all"
        " WHERE stream_id = ?1 AND min_ts >= ?2 - ?4 AND min_ts <= ?3"
        " AND max_ts >= ?2 ORDER BY min_ts DESC, id DESC";
    struct scan_state st = {.s = s};
    sqlite3_stmt *segq = NULL;
    struct segstore_stmts ss = {0};
    int64_t lo = s->start, hi = s->end - 1;
    enum sl_status rc;

    if (s->start >= s->end)
        return SL_OK;
    if (s->has_after) {
        if (!s->desc && s->after_ts > lo)
            lo = s->after_ts;
        if (s->desc && s->after_ts < hi)
            hi = s->after_ts;
    }
    rc = db_exec(db, "BEGIN", err);
    if (rc != SL_OK)
        return rc;
    rc = db_prepare(db, s->desc ? sql_desc : sql_asc, &segq, err);
    if (rc != SL_OK)
        goto out;
    sqlite3_bind_int64(segq, 1, s->stream_id);
    sqlite3_bind_int64(segq, 2, lo);
    sqlite3_bind_int64(segq, 3, hi);
    sqlite3_bind_int64(segq, 4, SEG_MAX_SPAN_MS);
    rc = merge(&st, segq, &ss, visit, ctx, err);
out:
    for (size_t i = 0; i < st.n; i++)
        cursor_free(st.heap[i]);
    sl_free(st.heap);
    sqlite3_finalize(segq);
    segstore_stmts_fini(&ss);
    if (db_exec(db, "COMMIT", NULL) != SL_OK && rc == SL_OK)
        rc = db_fail(db, "ending a read", err);
    return rc;
}
