/* query/ast.h: the syntax tree of one Insights query: an optional SOURCE
 * header and a pipeline of commands whose arguments are expressions. Every
 * node, string and array lives in the query's arena (parse_query builds
 * it; arena_fini frees it all). The tree also keeps an arena copy of the
 * query text, so node spans stay valid as long as the arena. Also: a
 * pre-order walker and ast_dump(), the stable text form golden tests read.
 * No locking: one thread owns a query's tree at a time. */
#ifndef SLUICE_QUERY_AST_H
#define SLUICE_QUERY_AST_H

#include "common/arena.h"
#include "common/buf.h"
#include "common/status.h"
#include "query/lexer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fn_def;

/* ------------------------------------------------------------------ */
/* Expressions                                                          */

enum ast_expr_kind {
    AST_NUMBER,   /* 12, 1.5 (a leading '-' on a literal is folded in) */
    AST_STRING,   /* "..." or '...', decoded */
    AST_PERIOD,   /* 5m: only as an argument of bin/datefloor/dateceil */
    AST_REGEX,    /* /.../flags: after like or =~, or an 'r' argument */
    AST_FIELD,    /* @timestamp, a.b.c, `odd-name` */
    AST_STAR,     /* the '*' of count(*) */
    AST_UNARY,    /* neg, not */
    AST_BINARY,   /* arithmetic, comparison, and, or */
    AST_LIKE,     /* subject [not] like "lit" | /re/ */
    AST_MATCH,    /* subject =~ /re/ */
    AST_IN,       /* subject [not] in [lit, ...] */
    AST_CALL      /* name(args): function or aggregation */
};

enum ast_op {
    AST_OP_NEG, AST_OP_NOT,                         /* unary */
    AST_OP_OR, AST_OP_AND,                          /* boolean */
    AST_OP_EQ, AST_OP_NE, AST_OP_LT, AST_OP_LE,     /* comparison */
    AST_OP_GT, AST_OP_GE,
    AST_OP_ADD, AST_OP_SUB, AST_OP_MUL, AST_OP_DIV, /* arithmetic */
    AST_OP_MOD, AST_OP_POW
};

struct ast_expr {
    enum ast_expr_kind kind;
    uint32_t off;             /* source span: first byte in query text */
    uint32_t len;             /* bytes; the span is the text "as written" */
    uint16_t height;          /* 1 for a leaf; the parser caps it */
    union {
        struct {
            double value;
            int64_t ivalue;   /* exact value when is_int */
            bool is_int;      /* written without '.' or exponent, fits int64 */
        } num;
        struct {
            const char *s;    /* decoded, NUL-terminated; may hold no NUL */
            size_t len;
        } str;
        struct lex_period period;
        struct {
            const char *pattern;  /* for PCRE2: '\/' already turned into '/' */
            size_t len;
            unsigned flags;       /* LEX_RE_* from trailing letters */
        } regex;
        struct {
            const char *name;     /* NUL-terminated; back-quotes removed */
            size_t len;
            bool quoted;          /* written in back-quotes */
        } field;
        struct {
            enum ast_op op;       /* AST_OP_NEG or AST_OP_NOT */
            struct ast_expr *operand;
        } unary;
        struct {
            enum ast_op op;
            struct ast_expr *l;
            struct ast_expr *r;
        } binary;
        struct {                  /* AST_LIKE and AST_MATCH */
            struct ast_expr *subject;
            struct ast_expr *pattern;  /* AST_STRING or AST_REGEX */
            bool negated;              /* not like */
        } like;
        struct {
            struct ast_expr *subject;
            struct ast_expr **items;   /* literals: numbers and strings */
            size_t n;
            bool negated;              /* not in */
        } in;
        struct {
            const char *name;          /* as written, NUL-terminated */
            size_t len;
            struct ast_expr **args;    /* AST_STAR allowed for count(*) */
            size_t nargs;
            const struct fn_def *fn;   /* NULL until check_query resolves it */
        } call;
    } u;
};

/* ------------------------------------------------------------------ */
/* Commands                                                             */

enum ast_cmd_kind {
    AST_CMD_FIELDS, AST_CMD_DISPLAY, AST_CMD_FILTER, AST_CMD_STATS,
    AST_CMD_SORT, AST_CMD_LIMIT, AST_CMD_PARSE, AST_CMD_DEDUP,
    AST_CMD_PATTERN
};

enum ast_sort_dir {
    AST_SORT_DEFAULT,  /* neither asc nor desc written */
    AST_SORT_ASC,
    AST_SORT_DESC
};

/* An expression with an optional alias: one element of fields, display,
 * stats, stats ... by, sort, dedup. */
struct ast_item {
    struct ast_expr *expr;
    const char *alias;       /* NULL, or the name after 'as' (NUL-terminated) */
    size_t alias_len;
    uint32_t alias_off;      /* where the alias is written, for errors */
    enum ast_sort_dir dir;   /* sort keys only */
};

/* A name a command defines (parse ... as a, b). */
struct ast_name {
    const char *name;        /* NUL-terminated */
    size_t len;
    uint32_t off;            /* where it is written; 0 for regex captures */
};

struct ast_cmd {
    enum ast_cmd_kind kind;
    uint32_t off;            /* the command keyword in the text */
    uint32_t len;
    struct ast_cmd *next;    /* next command of the pipeline, or NULL */
    union {
        struct {             /* fields, display, dedup (no aliases) */
            struct ast_item *items;
            size_t n;
        } list;
        struct {
            struct ast_expr *cond;
            bool index_only;     /* written filterIndex (treated as filter) */
        } filter;
        struct {
            struct ast_item *aggs;
            size_t naggs;
            struct ast_item *by; /* after 'by' (or 'group by') */
            size_t nby;
        } stats;
        struct {
            struct ast_item *keys;
            size_t n;
        } sort;
        struct {
            int64_t n;
            uint32_t n_off;      /* where N is written */
            bool any;            /* limit any N: stop once N rows match */
        } limit;
        struct {
            struct ast_expr *source;   /* AST_FIELD, or NULL for @message */
            struct ast_expr *pattern;  /* AST_STRING glob or AST_REGEX */
            struct ast_name *names;    /* after 'as'; for a regex without
                                        * 'as', check_query fills the named
                                        * captures here */
            size_t nnames;
            bool names_written;        /* names came from 'as' */
        } parse;
        struct {
            struct ast_expr *expr;
        } pattern;
    } u;
};

/* ------------------------------------------------------------------ */
/* The SOURCE header                                                    */

enum ast_time_kind {
    AST_TIME_NONE,      /* not written */
    AST_TIME_EPOCH_MS,  /* START=1700000000000 */
    AST_TIME_RELATIVE   /* START=-3600s: relative to the query's start */
};

struct ast_time {
    enum ast_time_kind kind;
    int64_t ms;                 /* AST_TIME_EPOCH_MS */
    struct lex_period rel;      /* AST_TIME_RELATIVE: magnitude */
    bool negative;              /* AST_TIME_RELATIVE: written with '-' */
    uint32_t off;               /* where the value is written */
};

struct ast_strlist {
    const char **s;             /* decoded, NUL-terminated */
    uint32_t *off;              /* where each is written */
    size_t n;
};

struct ast_source {
    uint32_t off;               /* the SOURCE keyword */
    struct ast_strlist groups;  /* SOURCE "g1" "g2" */
    bool log_groups;            /* SOURCE logGroups(...) written */
    struct ast_strlist prefixes;   /* logGroups(namePrefix: [...]) */
    struct ast_strlist accounts;   /* logGroups(accountIdentifiers: [...]) */
    const char *class_name;     /* logGroups(class: "..."), or NULL */
    uint32_t class_off;
    struct ast_time start;
    struct ast_time end;
};

struct ast_query {
    const char *text;           /* arena copy of the query, NUL-terminated */
    size_t len;
    struct ast_source *source;  /* NULL without a SOURCE header */
    struct ast_cmd *first;      /* the pipeline; NULL only after a bare SOURCE */
    size_t ncmds;
};

/* ------------------------------------------------------------------ */
/* Construction helpers (the parser's; each returns NULL when the arena
 * is exhausted)                                                        */

struct ast_expr *ast_new_expr(struct arena *a, enum ast_expr_kind kind,
                              uint32_t off, uint32_t len);
/* Makes room for element n of an arena array of *cap elements of size
 * bytes (items may be NULL when *cap is 0). Grows by doubling; the old
 * block stays in the arena. Returns the array, moved if it grew, or NULL
 * when the arena is exhausted. */
void *ast_grow(struct arena *a, void *items, size_t n, size_t *cap,
               size_t size);

/* ------------------------------------------------------------------ */
/* Walking                                                              */

enum ast_walk_ret {
    AST_WALK_CONTINUE,  /* visit the children, then go on */
    AST_WALK_PRUNE,     /* skip this node's children, go on */
    AST_WALK_ABORT      /* stop the whole walk */
};

/* Called for each node before its children; parent is NULL at the root. */
typedef enum ast_walk_ret (*ast_visit_fn)(struct ast_expr *e,
                                          struct ast_expr *parent, void *ctx);

/* Walks e (may be NULL) in pre-order. Returns AST_WALK_ABORT when a
 * callback aborted, else AST_WALK_CONTINUE. Recursion depth is bounded by
 * the parser's height cap. */
enum ast_walk_ret ast_walk(struct ast_expr *e, ast_visit_fn visit, void *ctx);

/* Walks each child of e (not e itself) with e as its parent: a callback
 * uses it to walk a subtree in a context of its own, then prunes. */
enum ast_walk_ret ast_walk_children(struct ast_expr *e, ast_visit_fn visit,
                                    void *ctx);

/* Walks every expression of cmd (items, aliases excluded; parse's source
 * field and pattern included), each from its own root. */
enum ast_walk_ret ast_walk_cmd(struct ast_cmd *cmd, ast_visit_fn visit,
                               void *ctx);

/* ------------------------------------------------------------------ */
/* Names and the debug view                                             */

/* The command keyword as the dump and messages write it ("filter"). */
const char *ast_cmd_name(enum ast_cmd_kind kind);
/* The operator as written ("+", "and", "neg" for unary minus). */
const char *ast_op_name(enum ast_op op);

/* The expression's text as written in the query (no NUL at *len). This is
 * the output column name of an un-aliased item, e.g. "count(*)". */
const char *ast_expr_text(const struct ast_query *q, const struct ast_expr *e,
                          size_t *len);

/* Appends the expression as an S-expression, e.g.
 *   (and (= protocol 17) (like @message /Exc/))   (count *)   (neg x) */
enum sl_status ast_dump_expr(const struct ast_expr *e,
                             struct buf *out) SL_MUST_CHECK;

/* Appends the whole query, one line per header and command:
 *   source "g1" "g2" start=-3600s end=0s
 *   filter (= action "REJECT")
 *   stats (count *) as n by srcAddr, (bin 5m) as t
 *   sort n desc
 *   limit 20
 *   parse @message glob "[*] *" as level, msg
 * The format is stable: golden tests compare it byte for byte. */
enum sl_status ast_dump(const struct ast_query *q,
                        struct buf *out) SL_MUST_CHECK;

#endif
