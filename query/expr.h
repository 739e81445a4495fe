/* query/expr.h: expressions compiled for evaluation. The executor turns
 * each AST expression into a tree of struct cx once per query: field names
 * become row slots, literals become values, regexes are compiled (and JIT
 * compiled) once, calls point at their fn_table entry, and aggregation
 * calls inside stats become references to aggregate results. cx_eval then
 * evaluates a tree over one row. Compiled trees are read-only and shared by
 * the scan threads; per-thread state (regex match data, scratch memory)
 * lives in struct cx_env. */
#ifndef SLUICE_QUERY_EXPR_H
#define SLUICE_QUERY_EXPR_H

#include "common/arena.h"
#include "common/status.h"
#include "query/ast.h"
#include "query/funcs.h"
#include "query/value.h"

#include <stdbool.h>
#include <stddef.h>

enum cx_kind {
    CX_CONST,   /* val */
    CX_SLOT,    /* the row's value in slot */
    CX_AGG,     /* aggregate result number slot (stats outputs) */
    CX_NOT,     /* l */
    CX_NEG,     /* l */
    CX_AND,     /* l r */
    CX_OR,      /* l r */
    CX_CMP,     /* op l r: = != < <= > >= */
    CX_ARITH,   /* op l r: + - * / % ^ */
    CX_LIKE,    /* l contains lit (case-sensitive substring) */
    CX_REGEX,   /* l matches regex number slot */
    CX_IN,      /* l in items */
    CX_CALL     /* fn(args) */
};

struct cx {
    enum cx_kind kind;
    enum ast_op op;
    bool negated;               /* not like, not in */
    int slot;                   /* CX_SLOT, CX_AGG, CX_REGEX */
    struct val v;               /* CX_CONST */
    struct cx *l, *r;
    const char *lit;            /* CX_LIKE */
    size_t lit_len;
    struct val *items;          /* CX_IN */
    size_t nitems;
    const struct fn_def *fn;    /* CX_CALL */
    struct cx **args;
    size_t nargs;
    struct lex_period *periods; /* per argument, for kind 'p' */
    int *regex_ids;             /* per argument, for kind 'r' (-1 none) */
    int64_t bin_step;           /* bin() of a fixed period: evaluated in */
    int64_t bin_origin;         /* place (0: by fn_call) */
};

/* The query's regexes: compiled once, matched by any thread with its own
 * match data. */
#define CX_MAX_REGEX 64

struct cx_regexes {
    void *code[CX_MAX_REGEX];   /* pcre2_code_8 * */
    size_t n;
};

/* What compiling needs from the executor: a slot for a field name (created
 * on first use) and, inside stats, an aggregate number for an aggregation
 * call (NULL agg_of: aggregations are not allowed here). */
struct cx_scope {
    struct arena *arena;
    struct cx_regexes *regexes;
    int (*slot_of)(void *ctx, const char *name, size_t len);
    int (*agg_of)(void *ctx, struct ast_expr *call);
    void *ctx;
};

/* Compiles e. SL_MALFORMED_QUERY for a regex PCRE2 refuses or too many
 * regexes, SL_NOMEM; err says which. */
enum sl_status cx_compile(const struct cx_scope *sc, struct ast_expr *e,
                          struct cx **out, struct sl_err *err) SL_MUST_CHECK;

/* Compiles a regex into the table; returns its number or -1 with err. */
int cx_regex_add(struct cx_regexes *t, const char *pattern, size_t len,
                 unsigned lex_flags, struct sl_err *err);
void cx_regexes_free(struct cx_regexes *t);

/* Per-thread evaluation state. */
struct cx_env {
    struct val *slots;          /* the row */
    const struct val *aggs;     /* aggregate results (stats finalize) */
    struct fn_ctx *fctx;        /* scratch arena, times */
    void *match[CX_MAX_REGEX];  /* pcre2_match_data_8 * per regex */
};

/* Creates match data for every regex of t (call once per thread). */
enum sl_status cx_env_init(struct cx_env *env, const struct cx_regexes *t)
    SL_MUST_CHECK;
void cx_env_fini(struct cx_env *env, const struct cx_regexes *t);

/* Evaluates e over env's row. SL_NOMEM when the scratch arena is full. */
enum sl_status cx_eval(const struct cx *e, struct cx_env *env,
                       const struct cx_regexes *t, struct val *out)
    SL_MUST_CHECK;

/* Regex t->code[id] against s[0..len): >0 matched (ovector in
 * env->match[id]), 0 no match. */
int cx_regex_match(const struct cx_regexes *t, struct cx_env *env, int id,
                   const char *s, size_t len);

#endif
