/* query/exec_post.c: the per-row stages (fields, display, filter, parse)
 * that run on every event during the scan and on result rows after it,
 * the stages that run on the whole row set after the scan (stats, sort,
 * limit, dedup), and the result snapshot handed to the caller. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "query/exec_int.h"

#include "common/alloc.h"

#include <pcre2.h>
#include <string.h>

/* ---- per-row stages ---------------------------------------------------- */

static bool text_of(const struct val *v, const char **s, size_t *len)
{
    if (v->kind != VAL_STR && v->kind != VAL_JSON)
        return false;
    *s = v->u.s;
    *len = v->len;
    return true;
}

static void parse_glob(const struct stage *s, struct cx_env *env,
                       const char *t, size_t len)
{
    const char *at = t, *end = t + len;
    const char **caps_s = NULL;
    const char *cs[64];
    size_t cl[64];

    if (s->nstars > 64)
        return;
    (void)caps_s;
    if (s->piece_lens[0] > 0) {
        const char *p = memmem(at, (size_t)(end - at), s->pieces[0], s->piece_lens[0]);
        if (p == NULL)
            return;
        at = p + s->piece_lens[0];
    }
    for (size_t i = 0; i < s->nstars; i++) {
        const char *lit = s->pieces[i + 1];
        size_t ll = s->piece_lens[i + 1];
        const char *p;
        if (ll == 0) {
            /* The last star takes the rest; stars side by side take nothing. */
            p = i + 1 == s->nstars ? end : at;
        } else {
            p = memmem(at, (size_t)(end - at), lit, ll);
            if (p == NULL)
                return; /* no match: the event keeps going without the fields */
        }
        cs[i] = at;
        cl[i] = (size_t)(p - at);
        at = p + ll;
    }
    for (size_t i = 0; i < s->nstars; i++)
        env->slots[s->star_slots[i]] = val_str(cs[i], cl[i]);
}

static void parse_regex(const struct qx *q, const struct stage *s,
                        struct cx_env *env, const char *t, size_t len)
{
    PCRE2_SIZE *ov;
    uint32_t n;

    if (cx_regex_match(&q->regexes, env, s->regex_id, t, len) <= 0)
        return;
    ov = pcre2_get_ovector_pointer(env->match[s->regex_id]);
    n = pcre2_get_ovector_count(env->match[s->regex_id]);
    for (size_t i = 1; i < s->ncaps && i < n; i++) {
        if (s->cap_slots[i] < 0 || ov[2 * i] == PCRE2_UNSET)
            continue;
        env->slots[s->cap_slots[i]] = val_str(t + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
    }
}

enum sl_status qx_row_stage(const struct qx *q, const struct stage *s,
                            struct cx_env *env, bool *keep)
{
    enum sl_status st = SL_OK;
    struct val v;
    const char *t;
    size_t len;

    *keep = true;
    switch (s->kind) {
    case ST_FIELDS:
        for (size_t i = 0; i < s->nassigns && st == SL_OK; i++) {
            st = cx_eval(s->assigns[i].expr, env, &q->regexes, &v);
            env->slots[s->assigns[i].slot] = v;
        }
        return st;
    case ST_FILTER:
        st = cx_eval(s->cond, env, &q->regexes, &v);
        *keep = val_truthy(&v);
        return st;
    case ST_PARSE:
        st = cx_eval(s->source, env, &q->regexes, &v);
        if (st != SL_OK || !text_of(&v, &t, &len))
            return st;
        if (s->regex_id >= 0)
            parse_regex(q, s, env, t, len);
        else
            parse_glob(s, env, t, len);
        return SL_OK;
    default:
        return SL_OK;
    }
}

/* ---- whole-set stages -------------------------------------------------- */

/* Replaces rows with a fresh collector holding the given rows in order. */
static void take(struct collector *rows, struct collector *fresh)
{
    coll_fini(rows);
    *rows = *fresh;
}

static enum sl_status post_rowwise(struct qx *q, const struct stage *s,
                                   struct collector *rows, struct cx_env *env)
{
    struct collector out;
    struct order o = {0};
    struct val *slots = sl_calloc(q->nslots, sizeof(*slots));
    enum sl_status st = slots ? SL_OK : SL_NOMEM;

    coll_init(&out, &o, 0);
    for (size_t i = 0; i < rows->n && st == SL_OK; i++) {
        struct xrow *r = rows->rows[i], *n;
        bool keep;
        memcpy(slots, r->slots, q->nslots * sizeof(*slots));
        env->slots = slots;
        env->fctx->timestamp_ms = r->ts;
        st = qx_row_stage(q, s, env, &keep);
        if (st != SL_OK || !keep)
            continue;
        n = xrow_new(q, slots, NULL, 0);
        if (n == NULL) {
            st = SL_NOMEM;
            break;
        }
        xrow_copy_origin(n, r);
        st = coll_add(&out, n);
        arena_reset(env->fctx->scratch);
    }
    sl_free(slots);
    if (st != SL_OK) {
        coll_fini(&out);
        return st;
    }
    take(rows, &out);
    return SL_OK;
}

static enum sl_status post_stats(struct qx *q, const struct stage *s,
                                 struct collector *rows, struct cx_env *env)
{
    const struct stats_plan *sp = s->stats;
    struct gtable g;
    struct collector out;
    struct order o = {0};
    struct val by[64], args[64];
    struct buf tmpl;
    enum sl_status st = SL_OK;

    if (sp->nby > 64 || sp->naggs > 64)
        return SL_LIMIT;
    buf_init(&tmpl, SIZE_MAX);
    gt_init(&g, sp);
    for (size_t i = 0; i < rows->n && st == SL_OK; i++) {
        struct xrow *r = rows->rows[i];
        env->slots = r->slots;
        env->fctx->timestamp_ms = r->ts;
        if (s->kind == ST_PATTERN) {
            st = pat_key(q, s, env, &tmpl, by, args);
        } else {
            for (size_t j = 0; j < sp->nby && st == SL_OK; j++)
                st = cx_eval(sp->by[j], env, &q->regexes, &by[j]);
            for (size_t j = 0; j < sp->naggs && st == SL_OK; j++) {
                args[j] = val_null();
                if (sp->aggs[j].arg != NULL)
                    st = cx_eval(sp->aggs[j].arg, env, &q->regexes, &args[j]);
            }
        }
        if (st == SL_OK)
            st = gt_add(&g, by, args, r->ts);
        arena_reset(env->fctx->scratch);
    }
    coll_init(&out, &o, 0);
    if (st == SL_OK)
        st = s->kind == ST_PATTERN ? pat_rows(&g, q, s, env, &out) : gt_rows(&g, q, env, NULL, &out);
    gt_fini(&g);
    buf_fini(&tmpl);
    if (st != SL_OK) {
        coll_fini(&out);
        return st;
    }
    take(rows, &out);
    return SL_OK;
}

static enum sl_status post_sort(struct qx *q, const struct stage *s,
                                struct collector *rows, struct cx_env *env)
{
    struct collector out;
    struct order o = {s->desc, s->nkeys, false};
    struct val keys[32];
    enum sl_status st = SL_OK;

    if (s->nkeys > 32)
        return SL_LIMIT;
    coll_init(&out, &o, 0);
    for (size_t i = 0; i < rows->n && st == SL_OK; i++) {
        struct xrow *r = rows->rows[i], *n;
        env->slots = r->slots;
        env->fctx->timestamp_ms = r->ts;
        for (size_t j = 0; j < s->nkeys && st == SL_OK; j++)
            st = cx_eval(s->keys[j], env, &q->regexes, &keys[j]);
        if (st != SL_OK)
            break;
        n = xrow_new(q, r->slots, keys, s->nkeys);
        if (n == NULL) {
            st = SL_NOMEM;
            break;
        }
        xrow_copy_origin(n, r);
        st = coll_add(&out, n);
        arena_reset(env->fctx->scratch);
    }
    if (st != SL_OK) {
        coll_fini(&out);
        return st;
    }
    coll_sort(&out);
    take(rows, &out);
    return SL_OK;
}

static void post_limit(struct collector *rows, int64_t n)
{
    while ((int64_t)rows->n > n && rows->n > 0)
        xrow_free(rows->rows[--rows->n]);
}

/* Keeps the first row of each distinct key; rows with a missing key value
 * are always kept (nulls are never duplicates). */
static enum sl_status post_dedup(struct qx *q, const struct stage *s,
                                 struct collector *rows, struct cx_env *env)
{
    struct agg_spec spec = {.fn = FN_COUNT_DISTINCT};
    struct agg_state seen = {0};
    struct arena a;
    struct buf key;
    size_t kept = 0;
    enum sl_status st = SL_OK;

    arena_init(&a, 64 * 1024, 0);
    buf_init(&key, SIZE_MAX);
    for (size_t i = 0; i < rows->n; i++) {
        struct xrow *r = rows->rows[i];
        bool has_null = false, dup = false;
        buf_clear(&key);
        env->slots = r->slots;
        for (size_t j = 0; j < s->nkeys && st == SL_OK && !has_null; j++) {
            struct val v;
            st = cx_eval(s->keys[j], env, &q->regexes, &v);
            if (st == SL_OK && val_is_null(&v))
                has_null = true;
            else if (st == SL_OK) {
                st = val_format(&v, &key);
                if (st == SL_OK)
                    st = buf_putc(&key, '\0');
            }
        }
        if (st == SL_OK && !has_null) {
            struct val kv = val_str(key.data ? key.data : "", key.len);
            int64_t before = (int64_t)agg_result(&seen, &spec).u.num;
            size_t grew = 0;
            st = agg_add(&seen, &spec, &kv, 0, &a, &grew);
            dup = st == SL_OK && (int64_t)agg_result(&seen, &spec).u.num == before;
        }
        if (st != SL_OK || dup)
            xrow_free(r);
        else
            rows->rows[kept++] = r;
        arena_reset(env->fctx->scratch);
    }
    rows->n = kept;
    agg_free(&seen, &spec);
    buf_fini(&key);
    arena_fini(&a);
    return st;
}

enum sl_status qx_post(struct qx *q, struct collector *rows, size_t from,
                       struct cx_env *env, struct sl_err *err)
{
    enum sl_status st = SL_OK;

    for (size_t i = from; i < q->nstages && st == SL_OK; i++) {
        const struct stage *s = &q->stages[i];
        switch (s->kind) {
        case ST_FIELDS:
        case ST_FILTER:
        case ST_PARSE:
            st = post_rowwise(q, s, rows, env);
            break;
        case ST_STATS:
        case ST_PATTERN:
            st = post_stats(q, s, rows, env);
            break;
        case ST_SORT:
            st = post_sort(q, s, rows, env);
            break;
        case ST_LIMIT:
            post_limit(rows, s->limit);
            break;
        case ST_DEDUP:
            st = post_dedup(q, s, rows, env);
            break;
        }
    }
    if (st == SL_NOMEM)
        return sl_fail(err, SL_NOMEM, "out of memory while finishing the query");
    if (st == SL_LIMIT)
        return sl_fail(err, SL_LIMIT, "too many sort, dedup or stats by expressions (at most 32)");
    return st;
}

/* ---- the result snapshot ------------------------------------------------ */

static const char *fmt_val(struct arena *a, const struct val *v)
{
    struct buf b;
    char *s;
    buf_init(&b, SIZE_MAX);
    if (val_format(v, &b) != SL_OK) {
        buf_fini(&b);
        return NULL;
    }
    s = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_fini(&b);
    return s;
}

static bool add_cell(struct arena *a, struct qx_row *row, const char *field,
                     const char *value, enum qx_cell_kind kind)
{
    if (value == NULL)
        return false;
    row->cells[row->ncells].field = field;
    row->cells[row->ncells].value = value;
    row->cells[row->ncells].kind = kind;
    row->ncells++;
    (void)a;
    return true;
}

static bool build_row(const struct qx *q, struct qx_result *res,
                      const struct xrow *r, struct qx_row *row)
{
    struct arena *a = &res->arena;
    bool ptr_done = false;
    char ptr[128];

    row->ncells = 0;
    row->cells = arena_alloc(a, (q->ncolumns + 1) * sizeof(*row->cells));
    if (row->cells == NULL)
        return false;
    if (q->event_rows && r->group >= 0)
        qx_ptr_encode(q->groups[r->group].id, r->stream_id, r->ts, r->seq, ptr, sizeof(ptr));
    for (size_t c = 0; c < q->ncolumns; c++) {
        int slot = q->columns[c];
        const struct val *v = &r->slots[slot];
        if (slot == SLOT_PTR && q->event_rows && r->group >= 0) {
            if (!add_cell(a, row, "@ptr", arena_strndup(a, ptr, strlen(ptr)), QX_CELL_STR))
                return false;
            ptr_done = true;
            continue;
        }
        if (val_is_null(v))
            continue;
        if (!add_cell(a, row, res->columns[c], fmt_val(a, v),
                      (v->kind == VAL_NUM || v->kind == VAL_BOOL) ? QX_CELL_NUM : QX_CELL_STR))
            return false;
    }
    if (q->event_rows && r->group >= 0 && !ptr_done)
        return add_cell(a, row, "@ptr", arena_strndup(a, ptr, strlen(ptr)), QX_CELL_STR);
    return true;
}

struct qx_result *qx_result_build(const struct qx *q,
                                  const struct collector *rows,
                                  const struct qx_stats *st)
{
    struct qx_result *res = sl_calloc(1, sizeof(*res));
    size_t n = rows->n < (size_t)q->cap ? rows->n : (size_t)q->cap;

    if (res == NULL)
        return NULL;
    arena_init(&res->arena, 64 * 1024, 0);
    res->stats = *st;
    res->rows = arena_alloc(&res->arena, (n ? n : 1) * sizeof(*res->rows));
    res->columns = arena_alloc(&res->arena, (q->ncolumns + 1) * sizeof(*res->columns));
    if (res->rows == NULL || res->columns == NULL)
        goto fail;
    /* The result outlives the query: it owns copies of the names. */
    for (size_t c = 0; c < q->ncolumns; c++) {
        const char *name = q->slot_names[q->columns[c]];
        res->columns[c] = arena_strndup(&res->arena, name, strlen(name));
        if (res->columns[c] == NULL)
            goto fail;
        res->ncolumns++;
    }
    for (size_t i = 0; i < n; i++) {
        if (!build_row(q, res, rows->rows[i], &res->rows[i]))
            goto fail;
        res->nrows++;
    }
    return res;
fail:
    qx_result_free(res);
    return NULL;
}

void qx_result_free(struct qx_result *r)
{
    if (r == NULL)
        return;
    arena_fini(&r->arena);
    sl_free(r);
}
