/* query/exec.c: the query object (compile, groups, range, cancel, @ptr)
 * and the run: plan the segments from the index in one read snapshot,
 * hand them out to worker threads in rounds, merge the workers' partial
 * aggregations or top-k rows after each round (publishing partial results
 * as it goes), then finish the pipeline and publish the final result. */
#include "query/exec_int.h"

#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/memsearch.h"
#include "query/parser.h"
#include "storage/catalog.h"
#include "storage/segstore.h"
#include "storage/store.h"
#include "storage/token.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QX_PTR_KIND      8                    /* token kind of @ptr */
#define QX_ROUND_BYTES   (128ull << 20)       /* raw bytes a round reads */
#define QX_PUBLISH_MS    1000                 /* partial results at most this often */
#define QX_MAX_WORKERS   16

/* Ends a read transaction; a failure only means the snapshot is let go
 * late, so it is logged, not returned. */
static void end_read(sqlite3 *db)
{
    struct sl_err err = {0};
    if (db_exec(db, "COMMIT", &err) != SL_OK)
        sl_warn("query: ending a read transaction: %s", err.msg);
}

/* ---- the query object --------------------------------------------------- */

static int64_t relative_ms(const struct ast_time *t, int64_t now)
{
    int64_t unit = lex_unit_ms(t->rel.unit);
    int64_t d = t->rel.count * (unit ? unit : 86400000LL * 30);
    return t->negative ? now - d : now + d;
}

static void apply_source_times(struct qx *q)
{
    const struct ast_source *s = q->ast->source;
    if (s == NULL)
        return;
    if (s->start.kind == AST_TIME_EPOCH_MS)
        q->start_ms = s->start.ms;
    else if (s->start.kind == AST_TIME_RELATIVE)
        q->start_ms = relative_ms(&s->start, q->opts.now_ms);
    if (s->end.kind == AST_TIME_EPOCH_MS)
        q->end_ms = s->end.ms;
    else if (s->end.kind == AST_TIME_RELATIVE)
        q->end_ms = relative_ms(&s->end, q->opts.now_ms);
}

enum sl_status qx_compile(const char *text, size_t len, int64_t start_ms,
                          int64_t end_ms, int64_t api_limit,
                          const struct qx_opts *o, struct qx **out,
                          struct sl_err *err)
{
    struct qx *q;
    enum sl_status st;

    *out = NULL;
    if (api_limit < 0 || api_limit > QX_MAX_LIMIT)
        return sl_fail(err, SL_INVALID, "limit must be between 1 and %d", QX_MAX_LIMIT);
    q = sl_calloc(1, sizeof(*q));
    if (q == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    arena_init(&q->arena, 64 * 1024, 0);
    atomic_init(&q->cancel, false);
    q->opts = *o;
    if (q->opts.now_ms == 0)
        q->opts.now_ms = sl_now_ms();
    q->start_ms = start_ms;
    q->end_ms = end_ms;
    q->cap = api_limit > 0 ? api_limit : QX_DEFAULT_LIMIT;
    st = parse_query(text, len, &q->arena, &q->ast, err);
    if (st == SL_OK)
        st = check_query(q->ast, &q->arena, &q->check, err);
    if (st == SL_OK)
        st = qx_compile_pipeline(q, err);
    if (st == SL_OK) {
        apply_source_times(q);
        if (q->end_ms < q->start_ms)
            st = sl_fail(err, SL_INVALID,
                         "the end time (%lld) is before the start time (%lld)",
                         (long long)q->end_ms, (long long)q->start_ms);
    }
    if (st != SL_OK) {
        qx_free(q);
        return st;
    }
    *out = q;
    return SL_OK;
}

void qx_free(struct qx *q)
{
    if (q == NULL)
        return;
    cx_regexes_free(&q->regexes);
    arena_fini(&q->arena);
    sl_free(q);
}

const struct ast_source *qx_source(const struct qx *q)
{
    return q->ast->source;
}

void qx_range(const struct qx *q, int64_t *start_ms, int64_t *end_ms)
{
    *start_ms = q->start_ms;
    *end_ms = q->end_ms;
}

void qx_cancel(struct qx *q)
{
    atomic_store(&q->cancel, true);
}

enum sl_status qx_add_group(struct qx *q, const struct qx_group *g,
                            struct sl_err *err)
{
    struct qgroup *x;
    char log[600];

    if (q->ngroups == q->group_cap) {
        size_t cap = q->group_cap ? q->group_cap * 2 : 8;
        struct qgroup *n = arena_alloc(&q->arena, cap * sizeof(*n));
        if (n == NULL)
            return sl_fail(err, SL_NOMEM, "out of memory");
        if (q->ngroups)
            memcpy(n, q->groups, q->ngroups * sizeof(*n));
        q->groups = n;
        q->group_cap = cap;
    }
    x = &q->groups[q->ngroups];
    memset(x, 0, sizeof(*x));
    x->id = g->id;
    x->name = arena_strndup(&q->arena, g->name, strlen(g->name));
    snprintf(log, sizeof(log), "%s:%s", g->account_id ? g->account_id : "000000000000",
             g->name);
    x->log_value = arena_strndup(&q->arena, log, strlen(log));
    if (x->name == NULL || x->log_value == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    if (g->flow_format != NULL && g->flow_format[0] != '\0') {
        enum sl_status st = disc_flow_format_compile(g->flow_format, strlen(g->flow_format),
                                                     &q->arena, &x->flow, err);
        if (st != SL_OK)
            return st;
    }
    q->ngroups++;
    return SL_OK;
}

size_t qx_ptr_encode(int64_t group_id, int64_t stream_id, int64_t ts,
                     int64_t seq, char *out, size_t cap)
{
    struct tok t = {.kind = QX_PTR_KIND, .nvals = 4,
                    .vals = {group_id, stream_id, ts, seq}};
    return tok_encode(&t, out, cap);
}

bool qx_ptr_decode(const char *s, size_t len, int64_t *group_id,
                   int64_t *stream_id, int64_t *ts, int64_t *seq)
{
    struct tok t;
    if (!tok_decode(s, len, &t) || t.kind != QX_PTR_KIND || t.nvals != 4)
        return false;
    *group_id = t.vals[0];
    *stream_id = t.vals[1];
    *ts = t.vals[2];
    *seq = t.vals[3];
    return true;
}

/* ---- planning ----------------------------------------------------------- */

struct unit {
    struct segstore_row seg;
    int group;
    const char *stream_name;
};

struct plan {
    struct unit *units;
    size_t n, cap;
    struct arena arena;          /* stream names */
    int64_t segs_total, records_total, bytes_total;
    int64_t segs_streams, records_streams, bytes_streams;  /* pruned by streams */
    int64_t streams_total, streams_pruned;
};

struct list_ctx {
    struct plan *p;
    int group;
    const char *stream_name;
};

static enum sl_status add_unit(void *ctx, const struct segstore_row *r)
{
    struct list_ctx *lc = ctx;
    struct plan *p = lc->p;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        struct unit *n = sl_realloc(p->units, cap * sizeof(*n));
        if (n == NULL)
            return SL_NOMEM;
        p->units = n;
        p->cap = cap;
    }
    p->units[p->n].seg = *r;
    p->units[p->n].group = lc->group;
    p->units[p->n].stream_name = lc->stream_name;
    p->n++;
    return SL_OK;
}

static bool stream_wanted(const struct qx *q, const char *name)
{
    if (!q->streams_constrained)
        return true;
    for (size_t i = 0; i < q->nstream_names; i++) {
        if (strcmp(q->stream_names[i], name) == 0)
            return true;
    }
    return false;
}

static enum sl_status plan_build(const struct qx *q, sqlite3 *db,
                                 struct plan *p, struct sl_err *err)
{
    enum sl_status st = SL_OK;

    for (size_t g = 0; g < q->ngroups && st == SL_OK; g++) {
        int64_t *ids;
        const char **names;
        int n;
        st = cat_group_streams(db, q->groups[g].id, &p->arena, &ids, &names, &n, err);
        for (int i = 0; i < n && st == SL_OK; i++) {
            int64_t segs = 0, recs = 0, bytes = 0;
            struct list_ctx lc = {p, (int)g, names[i]};
            st = segstore_stream_totals(db, ids[i], &segs, &recs, &bytes, err);
            p->segs_total += segs;
            p->records_total += recs;
            p->bytes_total += bytes;
            p->streams_total++;
            if (st != SL_OK)
                break;
            if (!stream_wanted(q, names[i])) {
                p->segs_streams += segs;
                p->records_streams += recs;
                p->bytes_streams += bytes;
                p->streams_pruned++;
                continue;
            }
            st = segstore_list_range(db, ids[i], q->start_ms, q->end_ms, add_unit, &lc, err);
            if (st == SL_NOMEM)
                sl_fail(err, SL_NOMEM, "out of memory planning the query");
        }
    }
    return st;
}

static void plan_free(struct plan *p)
{
    sl_free(p->units);
    arena_fini(&p->arena);
}

/* ---- the sink: where matching rows go ------------------------------------ */

struct sink {
    const struct stage *stats;   /* stats sink, or NULL: a collector */
    struct order ord;
    size_t k;
    const struct stage *sort;    /* sort keys computed per row, or NULL */
    size_t post_from;            /* first stage after the scan's sink */
};

static void choose_sink(const struct qx *q, struct sink *k)
{
    size_t i = q->scan_end;
    memset(k, 0, sizeof(*k));
    k->k = (size_t)q->cap;
    k->post_from = i;
    if (i == q->nstages)
        return;
    switch (q->stages[i].kind) {
    case ST_STATS:
    case ST_PATTERN:
        k->stats = &q->stages[i];
        k->post_from = i + 1;
        return;
    case ST_LIMIT:
        if (q->stages[i].limit < (int64_t)k->k)
            k->k = (size_t)q->stages[i].limit;
        k->post_from = i + 1;
        return;
    case ST_DEDUP:
        k->k = 0; /* dedup needs every row in order */
        return;
    default: /* ST_SORT */
        break;
    }
    {
        const struct stage *s = &q->stages[i];
        bool by_ts = s->nkeys == 1 && s->keys[0]->kind == CX_SLOT &&
                     s->keys[0]->slot == SLOT_TIMESTAMP;
        if (by_ts) {
            k->ord.ts_asc = !s->desc[0];
        } else {
            k->sort = s;
            k->ord.desc = s->desc;
            k->ord.nkeys = s->nkeys;
        }
        k->post_from = i + 1;
        if (i + 1 < q->nstages && q->stages[i + 1].kind == ST_LIMIT) {
            if (q->stages[i + 1].limit < (int64_t)k->k)
                k->k = (size_t)q->stages[i + 1].limit;
            k->post_from = i + 2;
        }
        for (size_t j = k->post_from; j < q->nstages; j++) {
            if (q->stages[j].kind == ST_DEDUP || q->stages[j].kind == ST_STATS ||
                q->stages[j].kind == ST_PATTERN)
                k->k = 0;
        }
    }
}

/* ---- the run ------------------------------------------------------------- */

struct run;

struct worker {
    struct run *run;
    pthread_t thread;
    struct cx_env env;
    struct fn_ctx fctx;
    struct arena scratch, seg_arena;
    struct buf blob;
    struct buf tmpl;             /* pattern: the current row's template */
    struct val *slots, *disc_vals, *by, *args, *keys;
    struct gtable gt;
    struct collector coll;
    struct qx_stats st;
    enum sl_status status;
    struct sl_err err;
};

struct run {
    struct qx *q;
    sqlite3 *db;
    pthread_mutex_t db_mu;
    struct segstore_stmts stmts;
    struct plan plan;
    struct sink sink;
    atomic_size_t next;
    size_t round_end;
    struct gtable gt;            /* merged */
    struct collector coll;       /* merged */
    struct qx_stats st;          /* merged */
    int64_t deadline;            /* mono ms, 0 none */
    struct worker w[QX_MAX_WORKERS];
    int nworkers;
};

static bool over_memory(const struct run *r, size_t extra)
{
    size_t used = r->gt.mem + r->coll.mem + extra;
    return r->q->opts.mem_cap > 0 && used > r->q->opts.mem_cap;
}

static enum sl_status sink_row(struct worker *w, const struct unit *u,
                               int64_t ts, int64_t seq)
{
    struct run *r = w->run;
    const struct qx *q = r->q;
    enum sl_status st = SL_OK;

    if (r->sink.stats != NULL && r->sink.stats->kind == ST_PATTERN) {
        st = pat_key(q, r->sink.stats, &w->env, &w->tmpl, w->by, w->args);
        return st == SL_OK ? gt_add(&w->gt, w->by, w->args, ts) : st;
    }
    if (r->sink.stats != NULL) {
        const struct stats_plan *sp = r->sink.stats->stats;
        for (size_t j = 0; j < sp->nby && st == SL_OK; j++)
            st = cx_eval(sp->by[j], &w->env, &q->regexes, &w->by[j]);
        for (size_t j = 0; j < sp->naggs && st == SL_OK; j++) {
            w->args[j] = val_null();
            if (sp->aggs[j].arg != NULL)
                st = cx_eval(sp->aggs[j].arg, &w->env, &q->regexes, &w->args[j]);
        }
        return st == SL_OK ? gt_add(&w->gt, w->by, w->args, ts) : st;
    }
    {
        size_t nkeys = r->sink.sort ? r->sink.sort->nkeys : 0;
        struct xrow *x;
        for (size_t j = 0; j < nkeys && st == SL_OK; j++)
            st = cx_eval(r->sink.sort->keys[j], &w->env, &q->regexes, &w->keys[j]);
        if (st != SL_OK)
            return st;
        if (!coll_would_take(&w->coll, w->keys, ts, seq, u->seg.stream_id))
            return SL_OK;
        x = xrow_new(q, w->slots, w->keys, nkeys);
        if (x == NULL)
            return SL_NOMEM;
        x->ts = ts;
        x->seq = seq;
        x->stream_id = u->seg.stream_id;
        x->group = u->group;
        x->stream_name = u->stream_name;
        return coll_add(&w->coll, x);
    }
}

/* Finds the first term in a segment's messages with one memmem over all
 * of them (messages lie back to back), instead of one call per event. */
struct term_scan {
    const char *bytes;
    size_t bytes_len;
    size_t hit;                  /* offset of the next occurrence, or SIZE_MAX */
    bool searched;
};

/* Moves ts->hit to the first occurrence of the first term at or after
 * off (SIZE_MAX: none). */
static void term_seek(const struct qx *q, struct term_scan *ts, size_t off)
{
    const struct term *t0 = &q->terms[0];

    if (!ts->searched || (ts->hit != SIZE_MAX && ts->hit < off)) {
        const char *p = sl_memsearch(ts->bytes + off, ts->bytes_len - off, t0->s, t0->len);
        ts->hit = p ? (size_t)(p - ts->bytes) : SIZE_MAX;
        ts->searched = true;
    }
}

static bool event_has_terms(const struct qx *q, struct term_scan *ts,
                            size_t off, size_t len)
{
    const struct term *t0 = &q->terms[0];

    term_seek(q, ts, off);
    if (ts->hit == SIZE_MAX || ts->hit >= off + len)
        return false;
    if (ts->hit + t0->len > off + len &&
        memmem(ts->bytes + off, len, t0->s, t0->len) == NULL)
        return false; /* the occurrence straddles into the next message */
    for (size_t t = 1; t < q->nterms; t++) {
        if (memmem(ts->bytes + off, len, q->terms[t].s, q->terms[t].len) == NULL)
            return false;
    }
    return true;
}

/* Whether an event at (ts) can still make the top-k: only for orders by
 * time, where a full heap's last row bounds what can enter. */
static bool ts_can_enter(const struct run *r, const struct worker *w, int64_t ts)
{
    if (r->sink.stats != NULL || r->sink.sort != NULL)
        return true;
    return coll_wants_ts(&w->coll, ts, ts) && coll_wants_ts(&r->coll, ts, ts);
}

/* The first event at or after e that holds the next occurrence of the
 * first term (v->count: none). Events lie back to back in v->bytes. */
static uint32_t next_candidate(const struct qx *q, struct term_scan *ts,
                               const struct seg_view *v, uint32_t e)
{
    uint32_t lo = e, hi = v->count - 1;

    term_seek(q, ts, v->off[e]);
    if (ts->hit == SIZE_MAX)
        return v->count;
    while (lo < hi) {            /* the last event starting at or before hit */
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (v->off[mid] <= ts->hit)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static enum sl_status scan_segment(struct worker *w, const struct unit *u,
                                   const struct seg_view *v)
{
    struct run *r = w->run;
    struct qx *q = r->q;
    const struct qgroup *g = &q->groups[u->group];
    enum sl_status st = SL_OK;
    size_t nstream = strlen(u->stream_name), nlog = strlen(g->log_value);
    struct term_scan tsc = {v->bytes, v->bytes_len, SIZE_MAX, false};
    /* When every event is in the time range and any may enter the sink
     * (stats or sort), nothing between two occurrences of the first term
     * can match: those events are counted, not visited. */
    bool leap = q->nterms > 0 && v->count > 0 && v->ts[0] >= q->start_ms &&
                v->ts[v->count - 1] <= q->end_ms &&
                (r->sink.stats != NULL || r->sink.sort != NULL);

    for (uint32_t e = 0; e < v->count && st == SL_OK; e++) {
        int64_t ts;
        const char *msg;
        size_t len;
        bool keep = true;

        if (leap) {
            uint32_t next = next_candidate(q, &tsc, v, e);
            if (next > e) {
                size_t end = next < v->count ? v->off[next] : v->bytes_len;
                w->st.records_scanned += next - e;
                w->st.bytes_scanned += (double)(end - v->off[e]);
                e = next;
                if (e == v->count)
                    break;
            }
        }
        ts = v->ts[e];
        msg = v->bytes + v->off[e];
        len = v->len[e];

        if (ts < q->start_ms || ts > q->end_ms)
            continue;
        w->st.records_scanned++;
        w->st.bytes_scanned += (double)len;
        if (!ts_can_enter(r, w, ts) ||
            (q->nterms > 0 && !event_has_terms(q, &tsc, v->off[e], len)))
            continue;
        for (size_t i = SLOT_NSYS; i < q->nslots; i++)
            w->slots[i] = val_null();
        w->slots[SLOT_TIMESTAMP] = val_time(ts);
        w->slots[SLOT_MESSAGE] = val_str(msg, len);
        w->slots[SLOT_LOGSTREAM] = val_str(u->stream_name, nstream);
        w->slots[SLOT_LOG] = val_str(g->log_value, nlog);
        w->slots[SLOT_INGESTION] = val_time(v->ingest[e]);
        w->slots[SLOT_PTR] = val_null();
        if (q->ndisc > 0) {
            st = disc_extract(q->disc, g->flow, msg, len, &w->scratch, w->disc_vals);
            for (size_t i = 0; i < q->ndisc && st == SL_OK; i++)
                w->slots[q->disc_slots[i]] = w->disc_vals[i];
        }
        w->fctx.timestamp_ms = ts;
        for (size_t s = 0; s < q->scan_end && st == SL_OK && keep; s++)
            st = qx_row_stage(q, &q->stages[s], &w->env, &keep);
        if (st == SL_OK && keep) {
            w->st.records_matched++;
            st = sink_row(w, u, ts, v->seq[e]);
        }
        if (w->scratch.used > 0)
            arena_reset(&w->scratch);
    }
    return st;
}

static enum sl_status scan_unit(struct worker *w, const struct unit *u)
{
    struct run *r = w->run;
    struct seg_view v;
    enum sl_status st;

    if (r->sink.stats == NULL && r->sink.sort == NULL &&
        (!coll_wants_ts(&w->coll, u->seg.max_ts, u->seg.min_ts) ||
         !coll_wants_ts(&r->coll, u->seg.max_ts, u->seg.min_ts))) {
        w->st.segments_skipped++;
        w->st.records_skipped += (double)u->seg.count;
        w->st.bytes_skipped += (double)u->seg.raw_bytes;
        return SL_OK;
    }
    pthread_mutex_lock(&r->db_mu);
    st = segstore_read_blob(r->db, &r->stmts, u->seg.id, &w->blob, &w->err);
    pthread_mutex_unlock(&r->db_mu);
    if (st == SL_NOT_FOUND)
        return SL_OK; /* its stream was deleted and purged meanwhile */
    if (st != SL_OK)
        return st;
    arena_reset(&w->seg_arena);
    st = seg_decode(w->blob.data, w->blob.len, u->seg.min_seq, &w->seg_arena, &v, &w->err);
    if (st != SL_OK)
        return st;
    w->st.segments_scanned++;
    st = scan_segment(w, u, &v);
    if (st == SL_NOMEM)
        sl_fail(&w->err, SL_NOMEM, "out of memory while scanning");
    return st;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    size_t i;

    while (w->status == SL_OK && (i = atomic_fetch_add(&r->next, 1)) < r->round_end) {
        if (atomic_load(&r->q->cancel))
            break;
        if (r->deadline && sl_mono_ms() > r->deadline)
            break;
        w->status = scan_unit(w, &r->plan.units[i]);
        if (w->status == SL_OK && over_memory(r, w->gt.mem + w->coll.mem))
            w->status = sl_fail(&w->err, SL_LIMIT,
                                "the query needs more than its memory limit of %zu MiB:"
                                " narrow the time range, filter first, or group by fewer values",
                                r->q->opts.mem_cap >> 20);
    }
    return NULL;
}

static enum sl_status worker_init(struct worker *w, struct run *r)
{
    const struct qx *q = r->q;
    size_t nby = 0, naggs = 0, nkeys = r->sink.sort ? r->sink.sort->nkeys : 0;

    memset(w, 0, sizeof(*w));
    w->run = r;
    arena_init(&w->scratch, 64 * 1024, 0);
    arena_init(&w->seg_arena, 1 << 20, 0); /* a whole decoded segment: no chunk mapped and unmapped per segment */
    buf_init(&w->blob, SIZE_MAX);
    buf_init(&w->tmpl, SIZE_MAX);
    w->fctx.scratch = &w->scratch;
    w->fctx.query_start_ms = q->start_ms;
    w->fctx.query_end_ms = q->end_ms;
    w->fctx.now_ms = q->opts.now_ms;
    if (r->sink.stats) {
        nby = r->sink.stats->stats->nby;
        naggs = r->sink.stats->stats->naggs;
        gt_init(&w->gt, r->sink.stats->stats);
    }
    coll_init(&w->coll, &r->sink.ord, r->sink.k);
    w->slots = sl_calloc(q->nslots, sizeof(struct val));
    w->disc_vals = sl_calloc(q->ndisc + 1, sizeof(struct val));
    w->by = sl_calloc(nby + 1, sizeof(struct val));
    w->args = sl_calloc(naggs + 1, sizeof(struct val));
    w->keys = sl_calloc(nkeys + 1, sizeof(struct val));
    w->env.slots = w->slots;
    w->env.fctx = &w->fctx;
    if (!w->slots || !w->disc_vals || !w->by || !w->args || !w->keys)
        return SL_NOMEM;
    return cx_env_init(&w->env, &q->regexes);
}

static void worker_fini(struct worker *w)
{
    const struct qx *q = w->run->q;
    cx_env_fini(&w->env, &q->regexes);
    if (w->run->sink.stats)
        gt_fini(&w->gt);
    coll_fini(&w->coll);
    sl_free(w->slots);
    sl_free(w->disc_vals);
    sl_free(w->by);
    sl_free(w->args);
    sl_free(w->keys);
    buf_fini(&w->blob);
    buf_fini(&w->tmpl);
    arena_fini(&w->scratch);
    arena_fini(&w->seg_arena);
}

static void add_stats(struct qx_stats *d, const struct qx_stats *s)
{
    d->records_matched += s->records_matched;
    d->records_scanned += s->records_scanned;
    d->bytes_scanned += s->bytes_scanned;
    d->records_skipped += s->records_skipped;
    d->bytes_skipped += s->bytes_skipped;
    d->segments_scanned += s->segments_scanned;
    d->segments_skipped += s->segments_skipped;
}

/* One round: workers take units [next, round_end); then their partial
 * results fold into the run's. */
static enum sl_status run_round(struct run *r, struct sl_err *err)
{
    enum sl_status st = SL_OK;
    int started = 0;

    for (int i = 0; i < r->nworkers; i++) {
        if (i > 0 && pthread_create(&r->w[i].thread, NULL, worker_main, &r->w[i]) != 0)
            break;
        if (i > 0)
            pthread_setname_np(r->w[i].thread, "sl-scan");
        started = i + 1;
    }
    worker_main(&r->w[0]); /* the calling thread works too */
    for (int i = 1; i < started; i++)
        pthread_join(r->w[i].thread, NULL);
    for (int i = 0; i < r->nworkers; i++) {
        struct worker *w = &r->w[i];
        if (st == SL_OK && w->status != SL_OK) {
            st = w->status;
            *err = w->err;
            if (err->code == SL_OK)
                sl_fail(err, st, "the scan failed");
        }
        add_stats(&r->st, &w->st);
        memset(&w->st, 0, sizeof(w->st));
        if (st == SL_OK && r->sink.stats)
            st = gt_merge(&r->gt, &w->gt);
        else if (st == SL_OK)
            st = coll_merge(&r->coll, &w->coll);
        if (st == SL_NOMEM)
            sl_fail(err, SL_NOMEM, "out of memory merging partial results");
    }
    return st;
}

/* Rows of the run so far, through the rest of the pipeline. */
static struct qx_result *snapshot(struct run *r, struct sl_err *err)
{
    struct qx *q = r->q;
    /* Worker 0's regex match data and scratch (the workers are parked),
     * but slots of its own: finishing points env at rows it then frees. */
    struct cx_env env_copy = r->w[0].env, *env = &env_copy;
    struct collector rows;
    struct order o = {0};
    struct qx_result *res = NULL;
    enum sl_status st = SL_OK;

    size_t from = r->sink.post_from;

    coll_init(&rows, &o, 0);
    if (r->sink.stats && r->sink.stats->kind == ST_PATTERN) {
        st = pat_rows(&r->gt, q, r->sink.stats, env, &rows);
    } else if (r->sink.stats) {
        /* stats | sort [| limit N]: rows go straight into the sort's
         * (top-k) order instead of one row per group, then a full sort. */
        const struct stage *sort = NULL;
        if (from < q->nstages && q->stages[from].kind == ST_SORT) {
            sort = &q->stages[from++];
            rows.ord.desc = sort->desc;
            rows.ord.nkeys = sort->nkeys;
            if (from < q->nstages && q->stages[from].kind == ST_LIMIT &&
                q->stages[from].limit > 0)
                rows.k = (size_t)q->stages[from++].limit;
        }
        st = gt_rows(&r->gt, q, env, sort, &rows);
        if (sort != NULL)
            coll_sort(&rows);
    } else {
        rows.ord = r->coll.ord;
        for (size_t i = 0; i < r->coll.n && st == SL_OK; i++) {
            const struct xrow *x = r->coll.rows[i];
            size_t nkeys = r->sink.sort ? r->sink.sort->nkeys : 0;
            struct xrow *c = xrow_new(q, x->slots, x->keys, nkeys);
            if (c == NULL) {
                st = SL_NOMEM;
                break;
            }
            xrow_copy_origin(c, x);
            st = coll_add(&rows, c);
        }
        coll_sort(&rows);
    }
    if (st == SL_OK)
        st = qx_post(q, &rows, from, env, err);
    else
        sl_fail(err, st, "out of memory building results");
    if (st == SL_OK) {
        struct qx_stats s = r->st;
        /* Skipped: whatever the groups hold that was not scanned, pruned
         * by the index (time, streams) or passed over during the scan.
         * Segment raw bytes count 26 bytes of overhead an event. */
        double msg_bytes = (double)r->plan.bytes_total - 26.0 * (double)r->plan.records_total;
        s.groups_scanned = (double)q->ngroups;
        s.records_skipped = (double)r->plan.records_total - s.records_scanned;
        s.bytes_skipped = msg_bytes - s.bytes_scanned;
        s.segments_skipped += (double)r->plan.segs_total - (double)r->plan.n;
        if (s.records_skipped < 0)
            s.records_skipped = 0;
        if (s.bytes_skipped < 0)
            s.bytes_skipped = 0;
        res = qx_result_build(q, &rows, &s);
        if (res == NULL)
            sl_fail(err, SL_NOMEM, "out of memory building results");
    }
    coll_fini(&rows);
    return res;
}

static int default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > QX_MAX_WORKERS ? QX_MAX_WORKERS : (int)n;
}

static int unit_by_max_ts_desc(const void *a, const void *b)
{
    const struct unit *x = a, *y = b;
    return (x->seg.max_ts < y->seg.max_ts) - (x->seg.max_ts > y->seg.max_ts);
}

static int unit_by_min_ts(const void *a, const void *b)
{
    const struct unit *x = a, *y = b;
    return (x->seg.min_ts > y->seg.min_ts) - (x->seg.min_ts < y->seg.min_ts);
}

static enum sl_status run_rounds(struct run *r, qx_publish_fn publish, void *ctx,
                                 struct sl_err *err)
{
    enum sl_status st = SL_OK;
    int64_t last_publish = sl_mono_ms();
    int64_t every = r->q->opts.publish_ms ? r->q->opts.publish_ms : QX_PUBLISH_MS;
    uint64_t round_bytes = r->q->opts.round_bytes ? r->q->opts.round_bytes : QX_ROUND_BYTES;
    size_t i = 0;

    while (st == SL_OK && i < r->plan.n) {
        uint64_t bytes = 0;
        size_t end = i;
        while (end < r->plan.n && (end == i || bytes < round_bytes))
            bytes += (uint64_t)r->plan.units[end++].seg.raw_bytes;
        atomic_store(&r->next, i);
        r->round_end = end;
        st = run_round(r, err);
        i = end;
        if (st != SL_OK)
            break;
        if (atomic_load(&r->q->cancel))
            return sl_fail(err, SL_CANCELLED, "the query was stopped");
        if (r->deadline && sl_mono_ms() > r->deadline)
            return sl_fail(err, SL_TIMEOUT, "the query ran longer than its timeout of %lld s",
                           (long long)(r->q->opts.timeout_ms / 1000));
        if (i < r->plan.n && sl_mono_ms() - last_publish >= every) {
            struct qx_result *res = snapshot(r, err);
            if (res == NULL)
                return err->code ? err->code : SL_NOMEM;
            publish(ctx, res, false);
            last_publish = sl_mono_ms();
        }
    }
    return st;
}

enum sl_status qx_run(struct qx *q, struct store *s, qx_publish_fn publish,
                      void *ctx, struct sl_err *err)
{
    struct run *r = sl_calloc(1, sizeof(*r));
    enum sl_status st;
    int nw;

    if (r == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    r->q = q;
    pthread_mutex_init(&r->db_mu, NULL);
    arena_init(&r->plan.arena, 16 * 1024, 0);
    choose_sink(q, &r->sink);
    if (r->sink.stats)
        gt_init(&r->gt, r->sink.stats->stats);
    coll_init(&r->coll, &r->sink.ord, r->sink.k);
    if (q->opts.timeout_ms > 0)
        r->deadline = sl_mono_ms() + q->opts.timeout_ms;
    nw = q->opts.workers > 0 ? q->opts.workers : default_workers();
    r->nworkers = nw > QX_MAX_WORKERS ? QX_MAX_WORKERS : nw;
    st = SL_OK;
    for (int i = 0; i < r->nworkers && st == SL_OK; i++)
        st = worker_init(&r->w[i], r);
    if (st != SL_OK)
        sl_fail(err, st, "out of memory starting the query");
    r->db = st == SL_OK ? store_conn_open(s, err) : NULL;
    if (st == SL_OK && r->db == NULL)
        st = err->code ? err->code : SL_IO;
    /* One read transaction: the plan and every blob come from one snapshot,
     * so a compaction committing meanwhile changes nothing we see. */
    if (st == SL_OK)
        st = db_exec(r->db, "BEGIN", err);
    if (st == SL_OK)
        st = plan_build(q, r->db, &r->plan, err);
    if (st == SL_OK && r->plan.n > 1)
        qsort(r->plan.units, r->plan.n, sizeof(*r->plan.units),
              (r->sink.stats || r->sink.sort || r->sink.ord.ts_asc) ? unit_by_min_ts
                                                                    : unit_by_max_ts_desc);
    if (st == SL_OK)
        st = run_rounds(r, publish, ctx, err);
    if (st == SL_OK) {
        struct qx_result *res = snapshot(r, err);
        if (res == NULL)
            st = err->code ? err->code : SL_NOMEM;
        else
            publish(ctx, res, true);
    }
    if (r->db != NULL) {
        segstore_stmts_fini(&r->stmts); /* its blob handle reads */
        end_read(r->db);
        store_conn_close(s, r->db);
    }
    for (int i = 0; i < r->nworkers; i++) {
        if (r->w[i].run != NULL)
            worker_fini(&r->w[i]);
    }
    if (r->sink.stats)
        gt_fini(&r->gt);
    coll_fini(&r->coll);
    plan_free(&r->plan);
    pthread_mutex_destroy(&r->db_mu);
    sl_free(r);
    return st;
}

/* ---- explain ------------------------------------------------------------- */

static enum sl_status json_str(struct buf *b, const char *s)
{
    enum sl_status st = buf_putc(b, '"');
    for (; st == SL_OK && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            st = buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            st = buf_printf(b, "\\u%04x", c);
        else
            st = buf_putc(b, (char)c);
    }
    return st == SL_OK ? buf_putc(b, '"') : st;
}

enum sl_status qx_explain(struct qx *q, struct store *s, struct buf *out,
                          struct sl_err *err)
{
    struct plan p;
    sqlite3 *db = store_reader(s);
    int64_t segs = 0, recs = 0, bytes = 0;
    enum sl_status st;
    struct buf dump;

    memset(&p, 0, sizeof(p));
    arena_init(&p.arena, 16 * 1024, 0);
    st = db_exec(db, "BEGIN", err);
    if (st == SL_OK)
        st = plan_build(q, db, &p, err);
    end_read(db);
    store_reader_release(s, db);
    for (size_t i = 0; i < p.n; i++) {
        segs++;
        recs += p.units[i].seg.count;
        bytes += p.units[i].seg.raw_bytes;
    }
    if (st == SL_OK)
        st = buf_printf(out,
            "{\"start\":%lld,\"end\":%lld,\"groups\":%zu,"
            "\"streams\":{\"total\":%lld,\"prunedByStreams\":%lld},"
            "\"segments\":{\"total\":%lld,\"inRange\":%lld,\"prunedByTime\":%lld,\"prunedByStreams\":%lld},"
            "\"records\":{\"total\":%lld,\"inRange\":%lld,\"prunedByTime\":%lld,\"prunedByStreams\":%lld},"
            "\"bytes\":{\"total\":%lld,\"inRange\":%lld,\"prunedByTime\":%lld,\"prunedByStreams\":%lld},"
            "\"terms\":[",
            (long long)q->start_ms, (long long)q->end_ms, q->ngroups,
            (long long)p.streams_total, (long long)p.streams_pruned,
            (long long)p.segs_total, (long long)segs,
            (long long)(p.segs_total - p.segs_streams - segs), (long long)p.segs_streams,
            (long long)p.records_total, (long long)recs,
            (long long)(p.records_total - p.records_streams - recs), (long long)p.records_streams,
            (long long)p.bytes_total, (long long)bytes,
            (long long)(p.bytes_total - p.bytes_streams - bytes), (long long)p.bytes_streams);
    for (size_t i = 0; st == SL_OK && i < q->nterms; i++) {
        char *t = arena_strndup(&p.arena, q->terms[i].s, q->terms[i].len);
        st = t ? (i ? buf_putc(out, ',') : SL_OK) : SL_NOMEM;
        if (st == SL_OK)
            st = json_str(out, t);
    }
    if (st == SL_OK)
        st = buf_puts(out, "],\"fields\":[");
    for (size_t i = 0; st == SL_OK && i < q->check.nfields; i++) {
        st = i ? buf_putc(out, ',') : SL_OK;
        if (st == SL_OK)
            st = json_str(out, q->check.fields[i]);
    }
    if (st == SL_OK)
        st = buf_puts(out, "],\"plan\":[");
    buf_init(&dump, SIZE_MAX);
    if (st == SL_OK)
        st = ast_dump(q->ast, &dump);
    if (st == SL_OK && dump.len > 0) {
        /* One entry per line of the AST dump. */
        char *line = dump.data, *nl;
        bool first = true;
        dump.data[dump.len] = '\0';
        while (st == SL_OK && *line != '\0') {
            nl = strchr(line, '\n');
            if (nl != NULL)
                *nl = '\0';
            if (*line != '\0') {
                st = first ? SL_OK : buf_putc(out, ',');
                if (st == SL_OK)
                    st = json_str(out, line);
                first = false;
            }
            line = nl ? nl + 1 : line + strlen(line);
        }
    }
    buf_fini(&dump);
    if (st == SL_OK)
        st = buf_puts(out, "]}");
    plan_free(&p);
    if (st == SL_NOMEM)
        sl_fail(err, SL_NOMEM, "out of memory explaining the query");
    return st;
}
