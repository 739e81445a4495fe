/* query/expr.c: compiling AST expressions into struct cx trees and
 * evaluating them over a row; see expr.h. Semantics follow reference 4.4:
 * comparisons with a missing value are false (!= too), arithmetic on a
 * missing or non-numeric value gives nothing, '=' compares numerically
 * when both sides read as numbers, like "x" is a case-sensitive substring
 * test. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "query/expr.h"

#include "query/check.h"

#include <math.h>
#include <pcre2.h>
#include <string.h>

/* ---- regexes ---------------------------------------------------------- */

int cx_regex_add(struct cx_regexes *t, const char *pattern, size_t len,
                 unsigned lex_flags, struct sl_err *err)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code;

    if (t->n >= CX_MAX_REGEX) {
        sl_fail(err, SL_MALFORMED_QUERY,
                "a query may hold at most %d regular expressions", CX_MAX_REGEX);
        return -1;
    }
    code = pcre2_compile((PCRE2_SPTR)pattern, len,
                         check_pcre2_options(lex_flags), &ec, &eo, NULL);
    if (code == NULL) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        sl_fail(err, SL_MALFORMED_QUERY, "bad regular expression /%.*s/: %s",
                (int)(len > 80 ? 80 : len), pattern, (const char *)msg);
        return -1;
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    t->code[t->n] = code;
    return (int)t->n++;
}

void cx_regexes_free(struct cx_regexes *t)
{
    for (size_t i = 0; i < t->n; i++)
        pcre2_code_free(t->code[i]);
    t->n = 0;
}

enum sl_status cx_env_init(struct cx_env *env, const struct cx_regexes *t)
{
    for (size_t i = 0; i < t->n; i++) {
        env->match[i] = pcre2_match_data_create_from_pattern(t->code[i], NULL);
        if (env->match[i] == NULL)
            return SL_NOMEM;
    }
    return SL_OK;
}

void cx_env_fini(struct cx_env *env, const struct cx_regexes *t)
{
    for (size_t i = 0; i < t->n; i++) {
        pcre2_match_data_free(env->match[i]);
        env->match[i] = NULL;
    }
}

int cx_regex_match(const struct cx_regexes *t, struct cx_env *env, int id,
                   const char *s, size_t len)
{
    int rc = pcre2_match(t->code[id], (PCRE2_SPTR)s, len, 0, 0,
                         env->match[id], NULL);
    return rc >= 0 ? 1 : 0;
}

/* ---- compiling -------------------------------------------------------- */

static struct cx *node(const struct cx_scope *sc, enum cx_kind kind)
{
    struct cx *c = arena_alloc(sc->arena, sizeof(*c));
    if (c != NULL) {
        memset(c, 0, sizeof(*c));
        c->kind = kind;
        c->slot = -1;
    }
    return c;
}

static struct val literal(const struct ast_expr *e)
{
    if (e->kind == AST_NUMBER)
        return val_num(e->u.num.value);
    if (e->kind == AST_STRING)
        return val_str(e->u.str.s, e->u.str.len);
    return val_null();
}

static enum sl_status compile_call(const struct cx_scope *sc,
                                   struct ast_expr *e, struct cx *c,
                                   struct sl_err *err)
{
    size_t n = e->u.call.nargs;
    const struct fn_def *f = e->u.call.fn;

    if (fn_is_agg(f)) {
        if (sc->agg_of == NULL)
            return sl_fail(err, SL_MALFORMED_QUERY,
                           "%s() is an aggregation: use it inside stats", f->name);
        c->kind = CX_AGG;
        c->slot = sc->agg_of(sc->ctx, e);
        return c->slot < 0 ? sl_fail(err, SL_NOMEM, "out of memory") : SL_OK;
    }
    c->fn = f;
    c->nargs = n;
    c->args = arena_alloc(sc->arena, (n ? n : 1) * sizeof(*c->args));
    c->periods = arena_alloc(sc->arena, (n ? n : 1) * sizeof(*c->periods));
    c->regex_ids = arena_alloc(sc->arena, (n ? n : 1) * sizeof(*c->regex_ids));
    if (c->args == NULL || c->periods == NULL || c->regex_ids == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct ast_expr *a = e->u.call.args[i];
        char kind = fn_arg_kind(f, i);
        enum sl_status st;

        c->args[i] = NULL;
        c->regex_ids[i] = -1;
        memset(&c->periods[i], 0, sizeof(c->periods[i]));
        if (a->kind == AST_PERIOD) {
            c->periods[i] = a->u.period;
            continue;
        }
        if (kind == 'r' && (a->kind == AST_REGEX || a->kind == AST_STRING)) {
            const char *p = a->kind == AST_REGEX ? a->u.regex.pattern : a->u.str.s;
            size_t plen = a->kind == AST_REGEX ? a->u.regex.len : a->u.str.len;
            c->regex_ids[i] = cx_regex_add(sc->regexes, p, plen,
                                           a->kind == AST_REGEX ? a->u.regex.flags : 0,
                                           err);
            if (c->regex_ids[i] < 0)
                return err->code;
            continue;
        }
        st = cx_compile(sc, a, &c->args[i], err);
        if (st != SL_OK)
            return st;
    }
    /* bin(5m) of every row of a stats query went through fn_call's switch
     * to the calendar-aware floor: a tenth of a query's time. */
    if (f->id == FN_BIN && n == 1 &&
        !fn_period_fixed(&c->periods[0], &c->bin_step, &c->bin_origin))
        c->bin_step = 0;
    return SL_OK;
}

enum sl_status cx_compile(const struct cx_scope *sc, struct ast_expr *e,
                          struct cx **out, struct sl_err *err)
{
    struct cx *c = node(sc, CX_CONST);
    enum sl_status st = SL_OK;

    if (c == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    *out = c;
    switch (e->kind) {
    case AST_NUMBER:
    case AST_STRING:
    case AST_PERIOD:
    case AST_STAR:
        c->v = literal(e);
        return SL_OK;
    case AST_REGEX:
        /* A bare regex as a value: its text. */
        c->v = val_str(e->u.regex.pattern, e->u.regex.len);
        return SL_OK;
    case AST_FIELD:
        c->kind = CX_SLOT;
        c->slot = sc->slot_of(sc->ctx, e->u.field.name, e->u.field.len);
        return c->slot < 0 ? sl_fail(err, SL_NOMEM, "out of memory") : SL_OK;
    case AST_UNARY:
        c->kind = e->u.unary.op == AST_OP_NOT ? CX_NOT : CX_NEG;
        return cx_compile(sc, e->u.unary.operand, &c->l, err);
    case AST_BINARY:
        c->op = e->u.binary.op;
        switch (c->op) {
        case AST_OP_AND: c->kind = CX_AND; break;
        case AST_OP_OR: c->kind = CX_OR; break;
        case AST_OP_EQ: case AST_OP_NE: case AST_OP_LT: case AST_OP_LE:
        case AST_OP_GT: case AST_OP_GE: c->kind = CX_CMP; break;
        default: c->kind = CX_ARITH; break;
        }
        st = cx_compile(sc, e->u.binary.l, &c->l, err);
        if (st == SL_OK)
            st = cx_compile(sc, e->u.binary.r, &c->r, err);
        return st;
    case AST_LIKE:
    case AST_MATCH: {
        struct ast_expr *p = e->u.like.pattern;
        c->negated = e->u.like.negated;
        st = cx_compile(sc, e->u.like.subject, &c->l, err);
        if (st != SL_OK)
            return st;
        if (p->kind == AST_STRING && e->kind == AST_LIKE) {
            c->kind = CX_LIKE;
            c->lit = p->u.str.s;
            c->lit_len = p->u.str.len;
            return SL_OK;
        }
        c->kind = CX_REGEX;
        c->slot = p->kind == AST_REGEX
                      ? cx_regex_add(sc->regexes, p->u.regex.pattern,
                                     p->u.regex.len, p->u.regex.flags, err)
                      : cx_regex_add(sc->regexes, p->u.str.s, p->u.str.len, 0, err);
        return c->slot < 0 ? err->code : SL_OK;
    }
    case AST_IN:
        c->kind = CX_IN;
        c->negated = e->u.in.negated;
        c->nitems = e->u.in.n;
        c->items = arena_alloc(sc->arena, (c->nitems ? c->nitems : 1) * sizeof(struct val));
        if (c->items == NULL)
            return sl_fail(err, SL_NOMEM, "out of memory");
        for (size_t i = 0; i < c->nitems; i++)
            c->items[i] = literal(e->u.in.items[i]);
        return cx_compile(sc, e->u.in.subject, &c->l, err);
    case AST_CALL:
        c->kind = CX_CALL;
        return compile_call(sc, e, c, err);
    }
    return SL_OK;
}

/* ---- evaluating ------------------------------------------------------- */

static bool cmp_holds(enum ast_op op, const struct val *a, const struct val *b)
{
    int c;
    switch (op) {
    case AST_OP_EQ:
        return val_equal(a, b);
    case AST_OP_NE:
        return !val_is_null(a) && !val_is_null(b) && !val_equal(a, b);
    default:
        break;
    }
    if (!val_compare(a, b, &c))
        return false;
    switch (op) {
    case AST_OP_LT: return c < 0;
    case AST_OP_LE: return c <= 0;
    case AST_OP_GT: return c > 0;
    default: return c >= 0;
    }
}

static struct val arith(enum ast_op op, const struct val *a, const struct val *b)
{
    double x, y, r;
    if (!val_to_num(a, &x) || !val_to_num(b, &y))
        return val_null();
    switch (op) {
    case AST_OP_ADD: r = x + y; break;
    case AST_OP_SUB: r = x - y; break;
    case AST_OP_MUL: r = x * y; break;
    case AST_OP_DIV:
        if (y == 0)
            return val_null();
        r = x / y;
        break;
    case AST_OP_MOD:
        if (y == 0)
            return val_null();
        r = fmod(x, y);
        break;
    default: r = pow(x, y); break;
    }
    return isfinite(r) ? val_num(r) : val_null();
}

/* The text of v for like/regex: strings as they are, other values in
 * their output form (in the scratch arena). */
static bool subject_text(const struct val *v, struct cx_env *env,
                         const char **s, size_t *len)
{
    struct buf b;
    if (v->kind == VAL_STR || v->kind == VAL_JSON) {
        *s = v->u.s;
        *len = v->len;
        return true;
    }
    if (v->kind == VAL_NULL)
        return false;
    buf_init(&b, 64);
    if (val_format(v, &b) != SL_OK || b.len == 0) {
        buf_fini(&b);
        return false;
    }
    {
        char *p = arena_strndup(env->fctx->scratch, b.data, b.len);
        buf_fini(&b);
        if (p == NULL)
            return false;
        *s = p;
        *len = strlen(p);
    }
    return true;
}

static enum sl_status eval_call(const struct cx *e, struct cx_env *env,
                                const struct cx_regexes *t, struct val *out)
{
    struct val argv[32];
    void *regexes[32];
    struct val *args = argv;
    void **rx = regexes;
    struct fn_args fa;
    enum sl_status st = SL_OK;

    if (e->nargs > 32) {
        args = arena_alloc(env->fctx->scratch, e->nargs * sizeof(*args));
        rx = arena_alloc(env->fctx->scratch, e->nargs * sizeof(*rx));
        if (args == NULL || rx == NULL)
            return SL_NOMEM;
    }
    for (size_t i = 0; i < e->nargs && st == SL_OK; i++) {
        rx[i] = e->regex_ids[i] >= 0 ? t->code[e->regex_ids[i]] : NULL;
        if (e->args[i] != NULL)
            st = cx_eval(e->args[i], env, t, &args[i]);
        else
            args[i] = val_null();
    }
    if (st != SL_OK)
        return st;
    fa.args = args;
    fa.periods = e->periods;
    fa.regexes = rx;
    fa.n = e->nargs;
    return fn_call(e->fn, &fa, env->fctx, out);
}

enum sl_status cx_eval(const struct cx *e, struct cx_env *env,
                       const struct cx_regexes *t, struct val *out)
{
    struct val a, b;
    enum sl_status st;
    const char *s;
    size_t len;

    switch (e->kind) {
    case CX_CONST:
        *out = e->v;
        return SL_OK;
    case CX_SLOT:
        *out = env->slots[e->slot];
        return SL_OK;
    case CX_AGG:
        *out = env->aggs != NULL ? env->aggs[e->slot] : val_null();
        return SL_OK;
    case CX_NOT:
        st = cx_eval(e->l, env, t, &a);
        *out = val_bool(!val_truthy(&a));
        return st;
    case CX_NEG:
        st = cx_eval(e->l, env, t, &a);
        {
            double x;
            *out = val_to_num(&a, &x) ? val_num(-x) : val_null();
        }
        return st;
    case CX_AND:
    case CX_OR:
        st = cx_eval(e->l, env, t, &a);
        if (st != SL_OK)
            return st;
        if (val_truthy(&a) == (e->kind == CX_OR)) {
            *out = val_bool(e->kind == CX_OR);
            return SL_OK;
        }
        st = cx_eval(e->r, env, t, &b);
        *out = val_bool(val_truthy(&b));
        return st;
    case CX_CMP:
    case CX_ARITH:
        st = cx_eval(e->l, env, t, &a);
        if (st == SL_OK)
            st = cx_eval(e->r, env, t, &b);
        if (st != SL_OK)
            return st;
        *out = e->kind == CX_CMP ? val_bool(cmp_holds(e->op, &a, &b))
                                 : arith(e->op, &a, &b);
        return SL_OK;
    case CX_LIKE:
    case CX_REGEX:
        st = cx_eval(e->l, env, t, &a);
        if (st != SL_OK)
            return st;
        if (!subject_text(&a, env, &s, &len)) {
            /* A missing value neither matches nor fails to match. */
            *out = val_bool(false);
            return SL_OK;
        }
        if (e->kind == CX_LIKE)
            *out = val_bool((e->lit_len == 0 ||
                             memmem(s, len, e->lit, e->lit_len) != NULL) != e->negated);
        else
            *out = val_bool((cx_regex_match(t, env, e->slot, s, len) > 0) != e->negated);
        return SL_OK;
    case CX_IN: {
        bool found = false;
        st = cx_eval(e->l, env, t, &a);
        if (st != SL_OK)
            return st;
        if (val_is_null(&a)) {
            *out = val_bool(false);
            return SL_OK;
        }
        for (size_t i = 0; i < e->nitems && !found; i++)
            found = val_equal(&a, &e->items[i]);
        *out = val_bool(found != e->negated);
        return SL_OK;
    }
    case CX_CALL:
        if (e->bin_step > 0 && env->fctx->timestamp_ms >= -FN_MS_LIMIT &&
            env->fctx->timestamp_ms <= FN_MS_LIMIT) {
            int64_t ms = env->fctx->timestamp_ms - e->bin_origin;
            int64_t q = ms / e->bin_step;
            if (ms % e->bin_step < 0)
                q--;                     /* floor, not truncation */
            *out = val_time(q * e->bin_step + e->bin_origin);
            return SL_OK;
        }
        return eval_call(e, env, t, out);
    }
    *out = val_null();
    return SL_OK;
}
