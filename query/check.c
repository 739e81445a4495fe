/* query/check.c: semantic checks over a parsed query; see check.h. One
 * pass over the pipeline in order, with a scope of derived names, and one
 * walker callback for every expression node. Compiles regexes with PCRE2
 * only to validate them (and read capture names); it keeps no code. */
#include "query/check.h"

#include "common/alloc.h"
#include "query/fn_table.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Scope: which names are events' fields
 * -------------------------------------
 * A field reference reads the event unless an earlier command derived that
 * name (or a dotted prefix of it: `m.key` after `jsonParse(x) as m`).
 * stats and pattern reshape the rows: after them only their outputs exist,
 * so references there never reach discovery, and a second stats may use
 * nothing else:
 *
 *   parse @message "* *" as a, b | filter a = 1 | stats count(*) as n by b
 *   ^reads @message      ^derives a, b   ^derived    ^scope becomes {n, b}
 *
 * Inside stats, a field outside any aggregation must be an alias defined
 * earlier in the same stats (max(x) as hi, min(x) as lo, hi - lo as range).
 */

enum ctx {
    CTX_PLAIN,      /* fields, display, filter, sort, pattern, parse */
    CTX_STATS_AGG,  /* an item of stats before 'by' */
    CTX_STATS_BY    /* an item after 'by' */
};

struct name_ent {
    const char *s;   /* NULL: empty slot */
    size_t n;
};

/* Open-addressing set of names (borrowed pointers), in the arena. */
struct name_set {
    struct name_ent *slots;
    size_t cap;      /* power of two, or 0 */
    size_t count;
};

struct checker {
    struct ast_query *q;
    struct arena *a;
    struct sl_err *err;
    struct check_result *out;
    size_t fields_cap;
    struct name_set used;      /* names in out->fields */
    struct name_set defined;   /* derived by earlier commands */
    struct name_set aliases;   /* aliases of the stats being checked */
    const struct ast_cmd *reshaped;  /* the last stats or pattern, if any */
    enum ctx ctx;
    int agg_depth;             /* > 0 inside an aggregation's arguments */
    bool item_has_agg;
    bool item_uses_alias;
    const struct ast_cmd *cmd;
    const struct ast_cmd *sort_or_limit;  /* first one seen */
    const struct ast_cmd *dedup;          /* a dedup seen */
    pcre2_general_context *gctx;
    pcre2_compile_context *cctx;
    enum sl_status st;         /* the first failure */
};

/* ------------------------------------------------------------------ */
/* Errors and name sets                                                 */

static enum sl_status cfail(struct checker *c, size_t off, const char *fmt,
                            ...) SL_PRINTF(3, 4);

static enum sl_status cfail(struct checker *c, size_t off, const char *fmt,
                            ...)
{
    char what[224];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (c->st == SL_OK)
        c->st = SL_MALFORMED_QUERY;
    return lex_fail(c->q->text, c->q->len, off, c->err, "%s", what);
}

static enum sl_status nomem(struct checker *c)
{
    if (c->st == SL_OK)
        c->st = SL_NOMEM;
    return sl_fail(c->err, SL_NOMEM, "out of memory while checking the query");
}

static uint64_t hash_name(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static struct name_ent *ns_slot(const struct name_set *ns, const char *s,
                                size_t n)
{
    size_t i = (size_t)hash_name(s, n) & (ns->cap - 1);

    while (ns->slots[i].s != NULL &&
           !(ns->slots[i].n == n && memcmp(ns->slots[i].s, s, n) == 0))
        i = (i + 1) & (ns->cap - 1);
    return &ns->slots[i];
}

static bool ns_has(const struct name_set *ns, const char *s, size_t n)
{
    return ns->cap != 0 && ns_slot(ns, s, n)->s != NULL;
}

/* Adds s[0..n) (borrowed; must outlive the set). */
static bool ns_add(struct arena *a, struct name_set *ns, const char *s,
                   size_t n)
{
    if ((ns->count + 1) * 2 > ns->cap) {
        struct name_set grown = {NULL, ns->cap ? ns->cap * 2 : 16, 0};
        grown.slots = arena_alloc(a, grown.cap * sizeof(*grown.slots));
        if (grown.slots == NULL)
            return false;
        memset(grown.slots, 0, grown.cap * sizeof(*grown.slots));
        for (size_t i = 0; i < ns->cap; i++)
            if (ns->slots[i].s != NULL)
                *ns_slot(&grown, ns->slots[i].s, ns->slots[i].n) =
                    ns->slots[i];
        grown.count = ns->count;
        *ns = grown;
    }
    struct name_ent *e = ns_slot(ns, s, n);
    if (e->s == NULL) {
        e->s = s;
        e->n = n;
        ns->count++;
    }
    return true;
}

static void ns_clear(struct name_set *ns)
{
    if (ns->cap != 0)
        memset(ns->slots, 0, ns->cap * sizeof(*ns->slots));
    ns->count = 0;
}

/* name, or one of its dotted prefixes, was derived by an earlier command. */
static bool is_derived(const struct checker *c, const char *s, size_t n)
{
    if (ns_has(&c->defined, s, n))
        return true;
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == '.' && ns_has(&c->defined, s, i - 1))
            return true;
    return false;
}

/* Records that the query reads event field s[0..n). */
static enum sl_status use_field(struct checker *c, const char *s, size_t n)
{
    struct check_result *r = c->out;
    const char *copy;

    if (ns_has(&c->used, s, n))
        return SL_OK;
    copy = arena_strndup(c->a, s, n);
    if (copy == NULL || !ns_add(c->a, &c->used, copy, n))
        return nomem(c);
    r->fields = ast_grow(c->a, r->fields, r->nfields, &c->fields_cap,
                         sizeof(*r->fields));
    if (r->fields == NULL)
        return nomem(c);
    r->fields[r->nfields++] = copy;
    return SL_OK;
}

/* The output name of an item: alias, field name, or the text as written. */
static const char *item_name(const struct checker *c,
                             const struct ast_item *it, size_t *n)
{
    if (it->alias != NULL) {
        *n = it->alias_len;
        return it->alias;
    }
    if (it->expr->kind == AST_FIELD) {
        *n = it->expr->u.field.len;
        return it->expr->u.field.name;
    }
    return ast_expr_text(c->q, it->expr, n);
}

/* ------------------------------------------------------------------ */
/* Regexes                                                              */

static void *re_malloc(PCRE2_SIZE n, void *data)
{
    (void)data;
    return sl_alloc(n);
}

static void re_free(void *p, void *data)
{
    (void)data;
    sl_free(p);
}

uint32_t check_pcre2_options(unsigned lex_flags)
{
    uint32_t o = PCRE2_UTF;

    if (lex_flags & LEX_RE_CASELESS)
        o |= PCRE2_CASELESS;
    if (lex_flags & LEX_RE_MULTILINE)
        o |= PCRE2_MULTILINE;
    if (lex_flags & LEX_RE_DOTALL)
        o |= PCRE2_DOTALL;
    if (lex_flags & LEX_RE_EXTENDED)
        o |= PCRE2_EXTENDED;
    return o;
}

/* Compiles the regex (or string used as a regex) e. On SL_OK the caller
 * owns *code when code is non-NULL, else it is freed here. */
static enum sl_status compile_regex(struct checker *c, const struct ast_expr *e,
                                    pcre2_code **code)
{
    const char *pat = e->kind == AST_REGEX ? e->u.regex.pattern : e->u.str.s;
    size_t len = e->kind == AST_REGEX ? e->u.regex.len : e->u.str.len;
    unsigned flags = e->kind == AST_REGEX ? e->u.regex.flags : 0;
    PCRE2_SIZE eoff;
    pcre2_code *re;
    int ec;

    if (c->gctx == NULL) {
        c->gctx = pcre2_general_context_create(re_malloc, re_free, NULL);
        if (c->gctx != NULL)
            c->cctx = pcre2_compile_context_create(c->gctx);
        if (c->cctx == NULL)
            return nomem(c);
    }
    re = pcre2_compile((PCRE2_SPTR)pat, len, check_pcre2_options(flags), &ec,
                       &eoff, c->cctx);
    if (re == NULL) {
        PCRE2_UCHAR msg[120];
        size_t at = e->off + 1 + eoff;
        if (ec == PCRE2_ERROR_HEAP_FAILED || ec == PCRE2_ERROR_NOMEMORY)
            return nomem(c);
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", ec);
        if (at >= (size_t)e->off + e->len)
            at = e->off + e->len - 1;
        return cfail(c, at, "invalid regex: %s", (const char *)msg);
    }
    if (code != NULL)
        *code = re;
    else
        pcre2_code_free(re);
    return SL_OK;
}

struct capture {
    uint32_t group;
    const char *name;
};

static int by_group(const void *x, const void *y)
{
    const struct capture *a = x, *b = y;
    return a->group < b->group ? -1 : a->group > b->group;
}

/* Checks a regex parse and fills its names from the named captures. */
static enum sl_status check_parse_regex(struct checker *c, struct ast_cmd *cmd)
{
    struct ast_expr *pat = cmd->u.parse.pattern;
    uint32_t ncap = 0, nnamed = 0, esize = 0;
    PCRE2_SPTR table = NULL;
    pcre2_code *re = NULL;
    struct capture *caps = NULL;
    enum sl_status st;

    st = compile_regex(c, pat, &re);
    if (st != SL_OK)
        return st;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &ncap);
    pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &nnamed);
    pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &esize);
    pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
    if (cmd->u.parse.names_written) {
        if (ncap != cmd->u.parse.nnames)
            st = cfail(c, pat->off, "the regex has %u capture group%s but "
                       "'as' names %zu field%s", ncap, ncap == 1 ? "" : "s",
                       cmd->u.parse.nnames,
                       cmd->u.parse.nnames == 1 ? "" : "s");
        goto out_free;
    }
    if (nnamed == 0) {
        st = cfail(c, pat->off, "the regex names no field: write groups "
                   "such as (?<name>...)");
        goto out_free;
    }
    caps = arena_alloc(c->a, nnamed * sizeof(*caps));
    cmd->u.parse.names = arena_alloc(c->a, nnamed * sizeof(struct ast_name));
    if (caps == NULL || cmd->u.parse.names == NULL) {
        st = nomem(c);
        goto out_free;
    }
    for (uint32_t i = 0; i < nnamed; i++) {
        PCRE2_SPTR ent = table + (size_t)i * esize;
        caps[i].group = (uint32_t)ent[0] << 8 | ent[1];
        caps[i].name = arena_strndup(c->a, (const char *)ent + 2,
                                     strlen((const char *)ent + 2));
        if (caps[i].name == NULL) {
            st = nomem(c);
            goto out_free;
        }
    }
    qsort(caps, nnamed, sizeof(*caps), by_group);
    cmd->u.parse.nnames = 0;
    for (uint32_t i = 0; i < nnamed; i++) {
        struct ast_name *nm = &cmd->u.parse.names[cmd->u.parse.nnames];
        bool dup = false;
        for (size_t j = 0; j < cmd->u.parse.nnames; j++)
            dup |= strcmp(cmd->u.parse.names[j].name, caps[i].name) == 0;
        if (dup)
            continue;                       /* (?J) reuses a name */
        nm->name = caps[i].name;
        nm->len = strlen(caps[i].name);
        nm->off = 0;
        cmd->u.parse.nnames++;
    }
out_free:
    pcre2_code_free(re);
    return st;
}

/* ------------------------------------------------------------------ */
/* Expressions                                                          */

static enum ast_walk_ret visit(struct ast_expr *e, struct ast_expr *parent,
                               void *ctx);

static enum ast_walk_ret stop(enum sl_status st)
{
    return st == SL_OK ? AST_WALK_CONTINUE : AST_WALK_ABORT;
}

static void describe_arity(const struct fn_def *f, char *out, size_t cap)
{
    if (f->max_args == 0)
        snprintf(out, cap, "no arguments");
    else if (f->min_args == f->max_args)
        snprintf(out, cap, "%u argument%s", f->min_args,
                 f->min_args == 1 ? "" : "s");
    else if (f->max_args == FN_MANY)
        snprintf(out, cap, "at least %u argument%s", f->min_args,
                 f->min_args == 1 ? "" : "s");
    else
        snprintf(out, cap, "%u to %u arguments", f->min_args, f->max_args);
}

/* Argument i of call e against its kind letter. */
static enum sl_status check_arg(struct checker *c, const struct ast_expr *e,
                                size_t i)
{
    const struct fn_def *f = e->u.call.fn;
    const struct ast_expr *arg = e->u.call.args[i];
    char k = fn_arg_kind(f, i);

    if (arg->kind == AST_STAR && k != '*')
        return cfail(c, arg->off, "'*' is only allowed in count(*)");
    switch (k) {
    case 'p':
        if (arg->kind != AST_PERIOD)
            return cfail(c, arg->off, "argument %zu of %s() must be a time "
                         "period such as 5m", i + 1, f->name);
        if (arg->u.period.count == 0)
            return cfail(c, arg->off, "a time period must be longer than 0");
        return SL_OK;
    case 'n':
        if (arg->kind != AST_NUMBER)
            return cfail(c, arg->off, "argument %zu of %s() must be a number",
                         i + 1, f->name);
        if (f->id == FN_PCT &&
            !(arg->u.num.value >= 0 && arg->u.num.value <= 100))
            return cfail(c, arg->off, "the percentile of pct() must be "
                         "between 0 and 100");
        return SL_OK;
    case 'r':
        if (arg->kind != AST_REGEX && arg->kind != AST_STRING)
            return cfail(c, arg->off, "argument %zu of %s() must be a /regex/ "
                         "or a string", i + 1, f->name);
        return compile_regex(c, arg, NULL);
    default:
        if (arg->kind == AST_PERIOD)
            return cfail(c, arg->off, "argument %zu of %s() cannot be a time "
                         "period", i + 1, f->name);
        if (arg->kind == AST_REGEX)
            return cfail(c, arg->off, "argument %zu of %s() cannot be a "
                         "/regex/", i + 1, f->name);
        return SL_OK;
    }
}

/* A function that reads @timestamp without naming it. */
static enum sl_status use_timestamp(struct checker *c,
                                    const struct ast_expr *e)
{
    static const char ts[] = "@timestamp";

    if (is_derived(c, ts, sizeof(ts) - 1))
        return SL_OK;
    if (c->reshaped != NULL)
        return cfail(c, e->off, "%s() reads @timestamp, which the %s "
                     "before it does not output (keep it there, e.g. "
                     "max(@timestamp) as t, then use dateceil(t, 1h))",
                     e->u.call.fn->name, ast_cmd_name(c->reshaped->kind));
    return use_field(c, ts, sizeof(ts) - 1);
}

static enum ast_walk_ret visit_call(struct checker *c, struct ast_expr *e)
{
    const struct fn_def *f = fn_lookup(e->u.call.name, e->u.call.len);
    enum sl_status st = SL_OK;
    char arity[48];
    enum ast_walk_ret r;

    if (f == NULL)
        return stop(cfail(c, e->off, "unknown function '%.*s'",
                          (int)(e->u.call.len > 40 ? 40 : e->u.call.len),
                          e->u.call.name));
    e->u.call.fn = f;
    if (e->u.call.nargs < f->min_args || e->u.call.nargs > f->max_args) {
        describe_arity(f, arity, sizeof(arity));
        return stop(cfail(c, e->off, "%s() takes %s, found %zu", f->name,
                          arity, e->u.call.nargs));
    }
    if (fn_is_agg(f)) {
        if (c->ctx == CTX_STATS_BY)
            st = cfail(c, e->off, "aggregation %s() is not allowed after "
                       "'by'", f->name);
        else if (c->ctx != CTX_STATS_AGG)
            st = cfail(c, e->off, "aggregation %s() is only allowed in "
                       "stats%s", f->name, c->cmd->kind == AST_CMD_SORT
                       ? " (sort by its alias instead)" : "");
        else if (c->agg_depth > 0)
            st = cfail(c, e->off, "aggregation %s() cannot be inside another "
                       "aggregation", f->name);
        c->item_has_agg = true;
    }
    for (size_t i = 0; i < e->u.call.nargs && st == SL_OK; i++)
        st = check_arg(c, e, i);
    if (st == SL_OK && (f->flags & FN_TS))
        st = use_timestamp(c, e);
    if (st != SL_OK || !fn_is_agg(f))
        return stop(st);
    c->agg_depth++;
    r = ast_walk_children(e, visit, c);
    c->agg_depth--;
    return r == AST_WALK_ABORT ? r : AST_WALK_PRUNE;
}

static enum ast_walk_ret visit_field(struct checker *c, struct ast_expr *e)
{
    const char *s = e->u.field.name;
    size_t n = e->u.field.len;

    if (c->ctx == CTX_STATS_AGG && c->agg_depth == 0) {
        if (!ns_has(&c->aliases, s, n))
            return stop(cfail(c, e->off, "'%.*s' in stats must be inside an "
                              "aggregation such as count(%.*s), or come after "
                              "'by'", (int)(n > 40 ? 40 : n), s,
                              (int)(n > 40 ? 40 : n), s));
        c->item_uses_alias = true;
        return AST_WALK_CONTINUE;
    }
    if (is_derived(c, s, n))
        return AST_WALK_CONTINUE;
    if (c->reshaped != NULL) {
        if (c->cmd->kind != AST_CMD_STATS)
            return AST_WALK_CONTINUE;  /* absent after stats: reads nothing */
        if (c->reshaped->kind == AST_CMD_STATS)
            return stop(cfail(c, e->off, "a second stats can use only what "
                              "the first one outputs; '%.*s' is not one of "
                              "them", (int)(n > 40 ? 40 : n), s));
        return stop(cfail(c, e->off, "after pattern only its outputs "
                          "(@pattern, @ratio, @sampleCount, ...) remain; "
                          "'%.*s' is not one of them",
                          (int)(n > 40 ? 40 : n), s));
    }
    return stop(use_field(c, s, n));
}

/* Literals that can never be a condition or a number. */
static bool is_text_literal(const struct ast_expr *e)
{
    return e->kind == AST_STRING;
}

static enum ast_walk_ret visit(struct ast_expr *e, struct ast_expr *parent,
                               void *ctx)
{
    struct checker *c = ctx;

    switch (e->kind) {
    case AST_CALL:
        return visit_call(c, e);
    case AST_FIELD:
        return visit_field(c, e);
    case AST_PERIOD:
        if (parent == NULL || parent->kind != AST_CALL)
            return stop(cfail(c, e->off, "a time period such as 5m is only "
                              "allowed in bin(), datefloor() and dateceil()"));
        return AST_WALK_CONTINUE;
    case AST_REGEX:
        if (parent == NULL ||
            !(parent->kind == AST_CALL ||
              ((parent->kind == AST_LIKE || parent->kind == AST_MATCH) &&
               parent->u.like.pattern == e)))
            return stop(cfail(c, e->off, "a /regex/ can only follow like or "
                              "=~"));
        return AST_WALK_CONTINUE;
    case AST_LIKE:
    case AST_MATCH:
        if (e->kind == AST_MATCH || e->u.like.pattern->kind == AST_REGEX)
            return stop(compile_regex(c, e->u.like.pattern, NULL));
        return AST_WALK_CONTINUE;
    case AST_UNARY:
        if (is_text_literal(e->u.unary.operand))
            return stop(cfail(c, e->u.unary.operand->off, "'%s' needs a %s, "
                              "found a string", e->u.unary.op == AST_OP_NOT
                              ? "not" : "-", e->u.unary.op == AST_OP_NOT
                              ? "condition" : "number"));
        return AST_WALK_CONTINUE;
    case AST_BINARY: {
        enum ast_op op = e->u.binary.op;
        bool logic = op == AST_OP_AND || op == AST_OP_OR;
        bool arith = op >= AST_OP_ADD;
        const struct ast_expr *bad = is_text_literal(e->u.binary.l)
                                         ? e->u.binary.l
                                         : is_text_literal(e->u.binary.r)
                                               ? e->u.binary.r : NULL;
        if ((logic || arith) && bad != NULL)
            return stop(cfail(c, bad->off, "'%s' needs %s, found a string",
                              ast_op_name(op), logic ? "conditions"
                                                     : "numbers"));
        return AST_WALK_CONTINUE;
    }
    default:
        return AST_WALK_CONTINUE;
    }
}

static enum sl_status walk_expr(struct checker *c, struct ast_expr *e,
                                enum ctx ctx)
{
    c->ctx = ctx;
    if (ast_walk(e, visit, c) == AST_WALK_ABORT)
        return c->st != SL_OK ? c->st : SL_INTERNAL;
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */

/* Walks items in ctx; each one's output name joins the scope after it. */
static enum sl_status check_projection(struct checker *c, struct ast_item *it,
                                       size_t n)
{
    enum sl_status st = SL_OK;

    for (size_t i = 0; i < n && st == SL_OK; i++) {
        size_t len;
        const char *name;
        st = walk_expr(c, it[i].expr, CTX_PLAIN);
        name = item_name(c, &it[i], &len);
        if (st == SL_OK && (it[i].alias != NULL || c->reshaped != NULL) &&
            !ns_add(c->a, &c->defined, name, len))
            st = nomem(c);
    }
    return st;
}

static enum sl_status check_stats(struct checker *c, struct ast_cmd *cmd)
{
    struct ast_item *aggs = cmd->u.stats.aggs, *by = cmd->u.stats.by;
    enum sl_status st = SL_OK;
    size_t n;
    const char *name;

    if (++c->out->nstats > CHECK_MAX_STATS)
        return cfail(c, cmd->off, "a query may have at most %d stats "
                     "commands", CHECK_MAX_STATS);
    if (c->out->nstats == 2 && c->sort_or_limit != NULL)
        return cfail(c, c->sort_or_limit->off, "%s must come after the "
                     "second stats", ast_cmd_name(c->sort_or_limit->kind));
    ns_clear(&c->aliases);
    for (size_t i = 0; i < cmd->u.stats.naggs && st == SL_OK; i++) {
        c->item_has_agg = false;
        c->item_uses_alias = false;
        st = walk_expr(c, aggs[i].expr, CTX_STATS_AGG);
        if (st == SL_OK && !c->item_has_agg && !c->item_uses_alias)
            st = cfail(c, aggs[i].expr->off, "stats needs aggregations such "
                       "as count(*) or sum(x); this item has none");
        name = item_name(c, &aggs[i], &n);
        if (st == SL_OK && !ns_add(c->a, &c->aliases, name, n))
            st = nomem(c);
    }
    for (size_t i = 0; i < cmd->u.stats.nby && st == SL_OK; i++)
        st = walk_expr(c, by[i].expr, CTX_STATS_BY);
    if (st != SL_OK)
        return st;
    /* from here on the rows are the groups: scope = this stats' outputs */
    ns_clear(&c->defined);
    for (size_t i = 0; i < cmd->u.stats.naggs; i++) {
        name = item_name(c, &aggs[i], &n);
        if (!ns_add(c->a, &c->defined, name, n))
            return nomem(c);
    }
    for (size_t i = 0; i < cmd->u.stats.nby; i++) {
        name = item_name(c, &by[i], &n);
        if (!ns_add(c->a, &c->defined, name, n))
            return nomem(c);
    }
    c->reshaped = cmd;
    return SL_OK;
}

static enum sl_status check_parse(struct checker *c, struct ast_cmd *cmd)
{
    struct ast_expr *pat = cmd->u.parse.pattern;
    enum sl_status st;

    if (cmd->u.parse.source != NULL) {
        st = walk_expr(c, cmd->u.parse.source, CTX_PLAIN);
    } else if (c->reshaped != NULL) {
        st = cfail(c, cmd->off, "parse reads @message, which is gone after "
                   "%s; name a field to parse",
                   ast_cmd_name(c->reshaped->kind));
    } else {
        st = use_field(c, "@message", 8);
    }
    if (st != SL_OK)
        return st;
    if (pat->kind == AST_REGEX) {
        st = check_parse_regex(c, cmd);
    } else {
        size_t stars = 0;
        for (size_t i = 0; i < pat->u.str.len; i++)
            stars += pat->u.str.s[i] == '*';
        if (stars != cmd->u.parse.nnames)
            st = cfail(c, pat->off, "the pattern has %zu '*' but 'as' "
                       "names %zu field%s", stars, cmd->u.parse.nnames,
                       cmd->u.parse.nnames == 1 ? "" : "s");
    }
    for (size_t i = 0; i < cmd->u.parse.nnames && st == SL_OK; i++)
        if (!ns_add(c->a, &c->defined, cmd->u.parse.names[i].name,
                    cmd->u.parse.names[i].len))
            st = nomem(c);
    return st;
}

static enum sl_status check_pattern(struct checker *c, struct ast_cmd *cmd)
{
    static const char *const outputs[] = {
        "@pattern", "@ratio", "@sampleCount", "@severityLabel",
        "@visualization", "@tokens", "@logSamples",
    };
    enum sl_status st = walk_expr(c, cmd->u.pattern.expr, CTX_PLAIN);

    if (st != SL_OK)
        return st;
    ns_clear(&c->defined);
    for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++)
        if (!ns_add(c->a, &c->defined, outputs[i], strlen(outputs[i])))
            return nomem(c);
    c->reshaped = cmd;
    return SL_OK;
}

static enum sl_status check_cmd(struct checker *c, struct ast_cmd *cmd)
{
    enum sl_status st = SL_OK;

    c->cmd = cmd;
    if (c->dedup != NULL && cmd->kind != AST_CMD_LIMIT)
        return cfail(c, cmd->off, "only limit may follow dedup, found %s",
                     ast_cmd_name(cmd->kind));
    switch (cmd->kind) {
    case AST_CMD_FIELDS:
    case AST_CMD_DISPLAY:
        return check_projection(c, cmd->u.list.items, cmd->u.list.n);
    case AST_CMD_FILTER:
        if (is_text_literal(cmd->u.filter.cond))
            return cfail(c, cmd->u.filter.cond->off, "filter needs a "
                         "condition, found a string");
        return walk_expr(c, cmd->u.filter.cond, CTX_PLAIN);
    case AST_CMD_STATS:
        return check_stats(c, cmd);
    case AST_CMD_SORT:
        if (c->sort_or_limit == NULL)
            c->sort_or_limit = cmd;
        for (size_t i = 0; i < cmd->u.sort.n && st == SL_OK; i++)
            st = walk_expr(c, cmd->u.sort.keys[i].expr, CTX_PLAIN);
        return st;
    case AST_CMD_LIMIT:
        if (c->sort_or_limit == NULL)
            c->sort_or_limit = cmd;
        if (cmd->u.limit.n < 1 || cmd->u.limit.n > CHECK_LIMIT_MAX)
            return cfail(c, cmd->u.limit.n_off, "limit must be between 1 and "
                         "%d, found %lld", CHECK_LIMIT_MAX,
                         (long long)cmd->u.limit.n);
        return SL_OK;
    case AST_CMD_PARSE:
        return check_parse(c, cmd);
    case AST_CMD_DEDUP:
        for (size_t i = 0; i < cmd->u.list.n && st == SL_OK; i++)
            st = walk_expr(c, cmd->u.list.items[i].expr, CTX_PLAIN);
        c->dedup = cmd;
        return st;
    case AST_CMD_PATTERN:
        return check_pattern(c, cmd);
    }
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* SOURCE header                                                        */

/* CloudWatch log group names: 1-512 characters of [A-Za-z0-9._/#-]. */
static bool is_group_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 512)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || strchr("._/#-", s[i]) != NULL))
            return false;
    return true;
}

static enum sl_status check_source(struct checker *c,
                                   const struct ast_source *s)
{
    const struct ast_strlist *g = &s->groups, *p = &s->prefixes,
                             *ac = &s->accounts;

    for (size_t i = 0; i < g->n; i++)
        if (!is_group_name(g->s[i]))
            return cfail(c, g->off[i], "a log group name has 1 to 512 "
                         "characters of A-Z a-z 0-9 . _ / # -");
    if (p->n > CHECK_MAX_PREFIX)
        return cfail(c, p->off[CHECK_MAX_PREFIX], "logGroups() takes at most "
                     "%d name prefixes", CHECK_MAX_PREFIX);
    for (size_t i = 0; i < p->n; i++)
        if (!is_group_name(p->s[i]))
            return cfail(c, p->off[i], "a name prefix has 1 to 512 "
                         "characters of A-Z a-z 0-9 . _ / # -");
    if (ac->n > CHECK_MAX_ACCOUNT)
        return cfail(c, ac->off[CHECK_MAX_ACCOUNT], "logGroups() takes at "
                     "most %d account identifiers", CHECK_MAX_ACCOUNT);
    for (size_t i = 0; i < ac->n; i++)
        if (strlen(ac->s[i]) != 12 ||
            strspn(ac->s[i], "0123456789") != 12)
            return cfail(c, ac->off[i], "an account identifier is 12 "
                         "digits");
    if (s->class_name != NULL && strcmp(s->class_name, "STANDARD") != 0 &&
        strcmp(s->class_name, "INFREQUENT_ACCESS") != 0)
        return cfail(c, s->class_off, "class must be \"STANDARD\" or "
                     "\"INFREQUENT_ACCESS\"");
    if (s->start.kind == AST_TIME_EPOCH_MS &&
        s->end.kind == AST_TIME_EPOCH_MS && s->start.ms > s->end.ms)
        return cfail(c, s->end.off, "END is before START");
    return SL_OK;
}

/* ------------------------------------------------------------------ */

enum sl_status check_query(struct ast_query *q, struct arena *a,
                           struct check_result *out, struct sl_err *err)
{
    struct checker c;
    enum sl_status st = SL_OK;

    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    c.q = q;
    c.a = a;
    c.err = err;
    c.out = out;
    if (q->source != NULL)
        st = check_source(&c, q->source);
    for (struct ast_cmd *cmd = q->first; cmd != NULL && st == SL_OK;
         cmd = cmd->next)
        st = check_cmd(&c, cmd);
    pcre2_compile_context_free(c.cctx);
    pcre2_general_context_free(c.gctx);
    return st;
}
