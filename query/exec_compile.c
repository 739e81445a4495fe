/* query/exec_compile.c: from query text to a compiled query: parse and
 * check, give every field a row slot, compile each command into a stage,
 * work out the output columns, and find what the planner can use before
 * reading a byte: the literal terms every matching raw message contains
 * and the @logStream names a filter demands. Also the small qx_* accessors. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "query/exec_int.h"

#include "common/alloc.h"
#include "query/parser.h"

#include <pcre2.h>
#include <string.h>

static const char *const sys_names[SLOT_NSYS] = {
    "@timestamp", "@message", "@logStream", "@log", "@ingestionTime", "@ptr"
};

/* ---- slots ------------------------------------------------------------ */

int qx_slot(struct qx *q, const char *name, size_t len)
{
    for (size_t i = 0; i < q->nslots; i++) {
        if (strlen(q->slot_names[i]) == len && memcmp(q->slot_names[i], name, len) == 0)
            return (int)i;
    }
    if (q->nslots == q->slot_cap) {
        size_t cap = q->slot_cap ? q->slot_cap * 2 : 32;
        const char **n = arena_alloc(&q->arena, cap * sizeof(*n));
        if (n == NULL)
            return -1;
        if (q->nslots)
            memcpy(n, q->slot_names, q->nslots * sizeof(*n));
        q->slot_names = n;
        q->slot_cap = cap;
    }
    q->slot_names[q->nslots] = arena_strndup(&q->arena, name, len);
    if (q->slot_names[q->nslots] == NULL)
        return -1;
    return (int)q->nslots++;
}

static int slot_cb(void *ctx, const char *name, size_t len)
{
    return qx_slot(ctx, name, len);
}

static bool is_system(const char *name)
{
    for (int i = 0; i < SLOT_NSYS; i++) {
        if (strcmp(name, sys_names[i]) == 0)
            return true;
    }
    return false;
}

/* Output slot of an item: its alias, a plain field's own name, else the
 * expression as written ("count(*)"). */
static int item_slot(struct qx *q, const struct ast_item *it)
{
    size_t len;
    const char *t;
    if (it->alias != NULL)
        return qx_slot(q, it->alias, it->alias_len);
    if (it->expr->kind == AST_FIELD)
        return qx_slot(q, it->expr->u.field.name, it->expr->u.field.len);
    t = ast_expr_text(q->ast, it->expr, &len);
    return qx_slot(q, t, len);
}

static struct cx_scope scope(struct qx *q)
{
    struct cx_scope sc = {&q->arena, &q->regexes, slot_cb, NULL, q};
    return sc;
}

/* ---- stages ----------------------------------------------------------- */

static void *alloc_n(struct qx *q, size_t n, size_t size)
{
    void *p = arena_alloc(&q->arena, (n ? n : 1) * size);
    if (p != NULL)
        memset(p, 0, (n ? n : 1) * size);
    return p;
}

/* fields / display: items that are not plain fields are computed. */
static enum sl_status compile_fields(struct qx *q, const struct ast_cmd *c,
                                     struct stage *s, struct sl_err *err)
{
    struct cx_scope sc = scope(q);
    s->kind = ST_FIELDS;
    s->assigns = alloc_n(q, c->u.list.n, sizeof(*s->assigns));
    if (s->assigns == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    for (size_t i = 0; i < c->u.list.n; i++) {
        const struct ast_item *it = &c->u.list.items[i];
        struct assign *a = &s->assigns[s->nassigns];
        enum sl_status st;
        if (it->expr->kind == AST_FIELD && it->alias == NULL)
            continue;
        st = cx_compile(&sc, it->expr, &a->expr, err);
        if (st != SL_OK)
            return st;
        a->slot = item_slot(q, it);
        if (a->slot < 0)
            return sl_fail(err, SL_NOMEM, "out of memory");
        s->nassigns++;
    }
    return SL_OK;
}

static enum sl_status compile_keys(struct qx *q, const struct ast_item *items,
                                   size_t n, struct stage *s,
                                   struct sl_err *err)
{
    struct cx_scope sc = scope(q);
    s->keys = alloc_n(q, n, sizeof(*s->keys));
    s->desc = alloc_n(q, n, sizeof(*s->desc));
    if (s->keys == NULL || s->desc == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    s->nkeys = n;
    for (size_t i = 0; i < n; i++) {
        enum sl_status st = cx_compile(&sc, items[i].expr, &s->keys[i], err);
        if (st != SL_OK)
            return st;
        /* Without asc/desc: descending, as moto and the console do. */
        s->desc[i] = items[i].dir != AST_SORT_ASC;
    }
    return SL_OK;
}

/* Glob: the literal pieces around each '*'. */
static enum sl_status compile_glob(struct qx *q, const struct ast_cmd *c,
                                   struct stage *s, struct sl_err *err)
{
    const char *p = c->u.parse.pattern->u.str.s;
    size_t len = c->u.parse.pattern->u.str.len, start = 0, k = 0;

    s->regex_id = -1;
    s->nstars = c->u.parse.nnames;
    s->pieces = alloc_n(q, s->nstars + 1, sizeof(*s->pieces));
    s->piece_lens = alloc_n(q, s->nstars + 1, sizeof(*s->piece_lens));
    s->star_slots = alloc_n(q, s->nstars, sizeof(*s->star_slots));
    if (s->pieces == NULL || s->piece_lens == NULL || s->star_slots == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    for (size_t i = 0; i <= len; i++) {
        if (i == len || p[i] == '*') {
            if (k > s->nstars)
                break;
            s->pieces[k] = p + start;
            s->piece_lens[k++] = i - start;
            start = i + 1;
        }
    }
    for (size_t i = 0; i < s->nstars; i++) {
        s->star_slots[i] = qx_slot(q, c->u.parse.names[i].name, c->u.parse.names[i].len);
        if (s->star_slots[i] < 0)
            return sl_fail(err, SL_NOMEM, "out of memory");
    }
    return SL_OK;
}

/* Regex: a slot per capture group, by name (or by position with 'as'). */
static enum sl_status compile_parse_regex(struct qx *q, const struct ast_cmd *c,
                                          struct stage *s, struct sl_err *err)
{
    const struct ast_expr *re = c->u.parse.pattern;
    uint32_t ncap = 0, nnames = 0, entry = 0;
    PCRE2_SPTR table;

    s->regex_id = cx_regex_add(&q->regexes, re->u.regex.pattern, re->u.regex.len,
                               re->u.regex.flags, err);
    if (s->regex_id < 0)
        return err->code;
    pcre2_pattern_info(q->regexes.code[s->regex_id], PCRE2_INFO_CAPTURECOUNT, &ncap);
    s->ncaps = ncap + 1;
    s->cap_slots = alloc_n(q, s->ncaps, sizeof(*s->cap_slots));
    if (s->cap_slots == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    for (size_t i = 0; i < s->ncaps; i++)
        s->cap_slots[i] = -1;
    if (c->u.parse.names_written) {
        for (size_t i = 0; i < c->u.parse.nnames && i + 1 < s->ncaps; i++)
            s->cap_slots[i + 1] = qx_slot(q, c->u.parse.names[i].name,
                                          c->u.parse.names[i].len);
        return SL_OK;
    }
    pcre2_pattern_info(q->regexes.code[s->regex_id], PCRE2_INFO_NAMECOUNT, &nnames);
    pcre2_pattern_info(q->regexes.code[s->regex_id], PCRE2_INFO_NAMEENTRYSIZE, &entry);
    pcre2_pattern_info(q->regexes.code[s->regex_id], PCRE2_INFO_NAMETABLE, &table);
    for (uint32_t i = 0; i < nnames; i++) {
        PCRE2_SPTR e = table + (size_t)i * entry;
        unsigned group = (unsigned)(e[0] << 8 | e[1]);
        const char *name = (const char *)e + 2;
        if (group < s->ncaps)
            s->cap_slots[group] = qx_slot(q, name, strlen(name));
    }
    return SL_OK;
}

static enum sl_status compile_parse(struct qx *q, const struct ast_cmd *c,
                                    struct stage *s, struct sl_err *err)
{
    struct cx_scope sc = scope(q);
    enum sl_status st;

    s->kind = ST_PARSE;
    if (c->u.parse.source != NULL) {
        st = cx_compile(&sc, c->u.parse.source, &s->source, err);
    } else {
        s->source = alloc_n(q, 1, sizeof(*s->source));
        if (s->source == NULL)
            return sl_fail(err, SL_NOMEM, "out of memory");
        s->source->kind = CX_SLOT;
        s->source->slot = SLOT_MESSAGE;
        st = SL_OK;
    }
    if (st != SL_OK)
        return st;
    return c->u.parse.pattern->kind == AST_REGEX ? compile_parse_regex(q, c, s, err)
                                                 : compile_glob(q, c, s, err);
}

/* Stats: aggregations found inside the items become CX_AGG references. */
struct agg_ctx {
    struct qx *q;
    struct stats_plan *sp;
    size_t cap;
    struct sl_err *err;
    bool failed;
};

static int agg_cb(void *ctx, struct ast_expr *call)
{
    struct agg_ctx *ac = ctx;
    struct stats_plan *sp = ac->sp;
    struct agg_spec *a;
    struct cx_scope sc = scope(ac->q);

    if (sp->naggs == ac->cap) {
        size_t cap = ac->cap ? ac->cap * 2 : 8;
        struct agg_spec *n = alloc_n(ac->q, cap, sizeof(*n));
        if (n == NULL)
            return -1;
        if (sp->naggs)
            memcpy(n, sp->aggs, sp->naggs * sizeof(*n));
        sp->aggs = n;
        ac->cap = cap;
    }
    a = &sp->aggs[sp->naggs];
    memset(a, 0, sizeof(*a));
    a->fn = call->u.call.fn->id;
    if (call->u.call.nargs > 0 && call->u.call.args[0]->kind != AST_STAR) {
        if (cx_compile(&sc, call->u.call.args[0], &a->arg, ac->err) != SL_OK) {
            ac->failed = true;
            return -1;
        }
    }
    if (a->fn == FN_PCT && call->u.call.nargs > 1)
        a->pct = call->u.call.args[1]->u.num.value;
    return (int)sp->naggs++;
}

static enum sl_status compile_stats(struct qx *q, const struct ast_cmd *c,
                                    struct stage *s, struct sl_err *err)
{
    struct stats_plan *sp = alloc_n(q, 1, sizeof(*sp));
    struct agg_ctx ac = {q, sp, 0, err, false};
    struct cx_scope sc = scope(q), asc = scope(q);

    if (sp == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    s->kind = ST_STATS;
    s->stats = sp;
    asc.agg_of = agg_cb;
    asc.ctx = &ac;
    sp->nby = c->u.stats.nby;
    sp->by = alloc_n(q, sp->nby, sizeof(*sp->by));
    sp->by_slots = alloc_n(q, sp->nby, sizeof(*sp->by_slots));
    sp->outs = alloc_n(q, c->u.stats.naggs, sizeof(*sp->outs));
    if (sp->by == NULL || sp->by_slots == NULL || sp->outs == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    for (size_t i = 0; i < sp->nby; i++) {
        enum sl_status st = cx_compile(&sc, c->u.stats.by[i].expr, &sp->by[i], err);
        if (st != SL_OK)
            return st;
        sp->by_slots[i] = item_slot(q, &c->u.stats.by[i]);
    }
    for (size_t i = 0; i < c->u.stats.naggs; i++) {
        struct assign *o = &sp->outs[sp->nouts++];
        /* The slot first, so an item can use an earlier item's alias. */
        enum sl_status st;
        o->slot = item_slot(q, &c->u.stats.aggs[i]);
        st = cx_compile(&asc, c->u.stats.aggs[i].expr, &o->expr, err);
        if (st != SL_OK || ac.failed)
            return st != SL_OK ? st : err->code;
    }
    return SL_OK;
}

/* pattern: a stats plan keyed by the template (computed by pat_key, so
 * by[0] has no expression) counting rows and keeping the newest value. */
static enum sl_status compile_pattern(struct qx *q, const struct ast_cmd *c,
                                      struct stage *s, struct sl_err *err)
{
    static const char *const outs[5] = {
        "@pattern", "@ratio", "@sampleCount", "@severityLabel", "@logSamples"
    };
    struct cx_scope sc = scope(q);
    struct stats_plan *sp = alloc_n(q, 1, sizeof(*sp));
    enum sl_status st;

    if (sp == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    s->kind = ST_PATTERN;
    s->stats = sp;
    st = cx_compile(&sc, c->u.pattern.expr, &s->source, err);
    if (st != SL_OK)
        return st;
    for (int i = 0; i < 5; i++) {
        s->pattern_slots[i] = qx_slot(q, outs[i], strlen(outs[i]));
        if (s->pattern_slots[i] < 0)
            return sl_fail(err, SL_NOMEM, "out of memory");
    }
    sp->nby = 1;
    sp->by = alloc_n(q, 1, sizeof(*sp->by));
    sp->by_slots = alloc_n(q, 1, sizeof(*sp->by_slots));
    sp->naggs = 2;
    sp->aggs = alloc_n(q, 2, sizeof(*sp->aggs));
    sp->nouts = 2;
    sp->outs = alloc_n(q, 2, sizeof(*sp->outs));
    if (sp->by == NULL || sp->by_slots == NULL || sp->aggs == NULL || sp->outs == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    sp->by_slots[0] = s->pattern_slots[0];
    sp->aggs[0].fn = FN_COUNT;
    sp->aggs[1].fn = FN_LATEST;
    sp->aggs[1].arg = s->source;
    for (int i = 0; i < 2; i++) {
        sp->outs[i].expr = alloc_n(q, 1, sizeof(struct cx));
        if (sp->outs[i].expr == NULL)
            return sl_fail(err, SL_NOMEM, "out of memory");
        sp->outs[i].expr->kind = CX_AGG;
        sp->outs[i].expr->slot = i;
        sp->outs[i].slot = s->pattern_slots[i == 0 ? 2 : 4];
    }
    return SL_OK;
}

static enum sl_status compile_stage(struct qx *q, const struct ast_cmd *c,
                                    struct stage *s, struct sl_err *err)
{
    struct cx_scope sc = scope(q);

    switch (c->kind) {
    case AST_CMD_FIELDS:
    case AST_CMD_DISPLAY:
        return compile_fields(q, c, s, err);
    case AST_CMD_FILTER:
        s->kind = ST_FILTER;
        return cx_compile(&sc, c->u.filter.cond, &s->cond, err);
    case AST_CMD_PARSE:
        return compile_parse(q, c, s, err);
    case AST_CMD_STATS:
        return compile_stats(q, c, s, err);
    case AST_CMD_SORT:
        s->kind = ST_SORT;
        return compile_keys(q, c->u.sort.keys, c->u.sort.n, s, err);
    case AST_CMD_DEDUP:
        s->kind = ST_DEDUP;
        return compile_keys(q, c->u.list.items, c->u.list.n, s, err);
    case AST_CMD_LIMIT:
        s->kind = ST_LIMIT;
        s->limit = c->u.limit.n;
        return SL_OK;
    case AST_CMD_PATTERN:
        return compile_pattern(q, c, s, err);
    }
    return sl_fail(err, SL_INTERNAL, "unknown command");
}

/* ---- output columns --------------------------------------------------- */

static enum sl_status add_column(struct qx *q, int *cols, size_t *n, int slot)
{
    for (size_t i = 0; i < *n; i++) {
        if (cols[i] == slot)
            return SL_OK;
    }
    (void)q;
    cols[(*n)++] = slot;
    return SL_OK;
}

static enum sl_status compile_columns(struct qx *q, struct sl_err *err)
{
    size_t cap = q->nslots + SLOT_NSYS, n = 0, dn = 0;
    int *cols = alloc_n(q, cap, sizeof(int)), *disp = alloc_n(q, cap, sizeof(int));
    bool have_cols = false, have_disp = false;
    const struct ast_cmd *c = q->ast->first;

    if (cols == NULL || disp == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    q->event_rows = true;
    for (size_t i = 0; c != NULL; c = c->next, i++) {
        const struct stage *s = &q->stages[i];
        if (c->kind == AST_CMD_FIELDS) {
            if (!have_cols)
                n = 0;
            have_cols = true;
            for (size_t j = 0; j < c->u.list.n; j++)
                add_column(q, cols, &n, item_slot(q, &c->u.list.items[j]));
        } else if (c->kind == AST_CMD_DISPLAY) {
            have_disp = true;
            dn = 0;
            for (size_t j = 0; j < c->u.list.n; j++)
                add_column(q, disp, &dn, item_slot(q, &c->u.list.items[j]));
        } else if (c->kind == AST_CMD_PATTERN) {
            q->event_rows = false;
            have_cols = true;
            have_disp = false;
            n = 0;
            for (size_t j = 0; j < 5; j++)
                add_column(q, cols, &n, s->pattern_slots[j]);
        } else if (c->kind == AST_CMD_STATS) {
            q->event_rows = false;
            have_cols = true;
            have_disp = false;
            n = 0;
            for (size_t j = 0; j < s->stats->nby; j++)
                add_column(q, cols, &n, s->stats->by_slots[j]);
            for (size_t j = 0; j < s->stats->nouts; j++)
                add_column(q, cols, &n, s->stats->outs[j].slot);
        }
    }
    if (have_disp) {
        q->columns = disp;
        q->ncolumns = dn;
    } else if (have_cols) {
        q->columns = cols;
        q->ncolumns = n;
    } else {
        cols[0] = SLOT_TIMESTAMP;
        cols[1] = SLOT_MESSAGE;
        q->columns = cols;
        q->ncolumns = 2;
    }
    return SL_OK;
}

/* ---- what the planner can use ----------------------------------------- */

/* A literal that appears verbatim in any raw message holding the value:
 * not a number (17 may be written 17.0) and nothing a JSON writer might
 * escape. */
static bool plain_literal(const struct val *v)
{
    double d;
    if (v->kind != VAL_STR || v->len == 0 || val_parse_num(v->u.s, v->len, &d))
        return false;
    for (uint32_t i = 0; i < v->len; i++) {
        unsigned char ch = (unsigned char)v->u.s[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' || ch == '/')
            return false;
    }
    return true;
}

static void add_term(struct qx *q, const char *s, size_t len)
{
    struct term *t;
    if (q->nterms >= 16)
        return;
    if (q->terms == NULL)
        q->terms = alloc_n(q, 16, sizeof(*q->terms));
    if (q->terms == NULL)
        return;
    t = &q->terms[q->nterms++];
    t->s = s;
    t->len = len;
}

static void add_stream_names(struct qx *q, const struct val *items, size_t n)
{
    if (q->streams_constrained)
        return; /* the first constraint prunes; the filter checks the rest */
    q->stream_names = alloc_n(q, n, sizeof(*q->stream_names));
    if (q->stream_names == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        if (items[i].kind != VAL_STR)
            return;
        q->stream_names[i] = arena_strndup(&q->arena, items[i].u.s, items[i].len);
        if (q->stream_names[i] == NULL)
            return;
    }
    q->nstream_names = n;
    q->streams_constrained = true;
}

/* Walks the AND-ed conjuncts of a filter. defined[slot]: a command before
 * this filter computed the slot, so it is no raw event field. */
static void scan_conjunct(struct qx *q, const struct cx *e, const bool *defined)
{
    const struct cx *f, *k;

    if (e->kind == CX_AND) {
        scan_conjunct(q, e->l, defined);
        scan_conjunct(q, e->r, defined);
        return;
    }
    if (e->kind == CX_LIKE && !e->negated && e->l->kind == CX_SLOT &&
        e->l->slot == SLOT_MESSAGE && e->lit_len > 0) {
        add_term(q, e->lit, e->lit_len);
        return;
    }
    if (e->kind == CX_IN && !e->negated && e->l->kind == CX_SLOT &&
        e->l->slot == SLOT_LOGSTREAM) {
        add_stream_names(q, e->items, e->nitems);
        return;
    }
    if (e->kind != CX_CMP || e->op != AST_OP_EQ)
        return;
    f = e->l->kind == CX_SLOT ? e->l : e->r;
    k = f == e->l ? e->r : e->l;
    if (f->kind != CX_SLOT || k->kind != CX_CONST || defined[f->slot])
        return;
    if (f->slot == SLOT_LOGSTREAM && k->v.kind == VAL_STR)
        add_stream_names(q, &k->v, 1);
    else if ((f->slot == SLOT_MESSAGE || f->slot >= SLOT_NSYS) && plain_literal(&k->v))
        add_term(q, k->v.u.s, k->v.len);
}

static enum sl_status find_terms(struct qx *q, struct sl_err *err)
{
    bool *defined = alloc_n(q, q->nslots, sizeof(bool));

    if (defined == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    for (size_t i = 0; i < q->scan_end; i++) {
        const struct stage *s = &q->stages[i];
        if (s->kind == ST_FILTER) {
            scan_conjunct(q, s->cond, defined);
        } else if (s->kind == ST_FIELDS) {
            for (size_t j = 0; j < s->nassigns; j++)
                defined[s->assigns[j].slot] = true;
        } else if (s->kind == ST_PARSE) {
            for (size_t j = 0; j < s->nstars; j++)
                defined[s->star_slots[j]] = true;
            for (size_t j = 0; j < s->ncaps; j++) {
                if (s->cap_slots[j] >= 0)
                    defined[s->cap_slots[j]] = true;
            }
        }
    }
    return SL_OK;
}

/* ---- the whole pipeline ----------------------------------------------- */

static enum sl_status compile_discovery(struct qx *q, struct sl_err *err)
{
    q->disc_names = alloc_n(q, q->check.nfields, sizeof(*q->disc_names));
    q->disc_slots = alloc_n(q, q->check.nfields, sizeof(*q->disc_slots));
    if (q->disc_names == NULL || q->disc_slots == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    for (size_t i = 0; i < q->check.nfields; i++) {
        const char *name = q->check.fields[i];
        if (is_system(name))
            continue;
        q->disc_names[q->ndisc] = name;
        q->disc_slots[q->ndisc] = qx_slot(q, name, strlen(name));
        if (q->disc_slots[q->ndisc] < 0)
            return sl_fail(err, SL_NOMEM, "out of memory");
        q->ndisc++;
    }
    if (disc_plan_new(q->disc_names, q->ndisc, &q->arena, &q->disc) != SL_OK)
        return sl_fail(err, SL_NOMEM, "out of memory");
    return SL_OK;
}

enum sl_status qx_compile_pipeline(struct qx *q, struct sl_err *err)
{
    const struct ast_cmd *c;
    size_t i = 0;
    enum sl_status st;

    for (int s = 0; s < SLOT_NSYS; s++) {
        if (qx_slot(q, sys_names[s], strlen(sys_names[s])) != s)
            return sl_fail(err, SL_NOMEM, "out of memory");
    }
    st = compile_discovery(q, err);
    if (st != SL_OK)
        return st;
    q->nstages = q->ast->ncmds;
    q->stages = alloc_n(q, q->nstages, sizeof(*q->stages));
    if (q->stages == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    q->scan_end = q->nstages;
    for (c = q->ast->first; c != NULL; c = c->next, i++) {
        st = compile_stage(q, c, &q->stages[i], err);
        if (st != SL_OK)
            return st;
        if (q->scan_end == q->nstages &&
            (q->stages[i].kind == ST_STATS || q->stages[i].kind == ST_PATTERN ||
             q->stages[i].kind == ST_SORT ||
             q->stages[i].kind == ST_LIMIT || q->stages[i].kind == ST_DEDUP))
            q->scan_end = i;
    }
    st = compile_columns(q, err);
    if (st == SL_OK)
        st = find_terms(q, err);
    return st;
}
