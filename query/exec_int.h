/* query/exec_int.h: what the executor's files share: the compiled query
 * (slots, stages, projection, literal terms), result rows, the row
 * collector and the stats group table. Not for use outside query/exec*.c. */
#ifndef SLUICE_QUERY_EXEC_INT_H
#define SLUICE_QUERY_EXEC_INT_H

#include "query/agg.h"
#include "query/ast.h"
#include "query/check.h"
#include "query/discover.h"
#include "query/exec.h"
#include "query/expr.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* System field slots: always the first ones. */
enum {
    SLOT_TIMESTAMP, SLOT_MESSAGE, SLOT_LOGSTREAM, SLOT_LOG,
    SLOT_INGESTION, SLOT_PTR, SLOT_NSYS
};

enum stage_kind {
    ST_FIELDS,   /* fields and display: compute assigns */
    ST_FILTER,
    ST_PARSE,
    ST_STATS,
    ST_SORT,
    ST_LIMIT,
    ST_DEDUP,
    ST_PATTERN   /* stats-like: by template, count and a sample */
};

struct assign {
    int slot;
    struct cx *expr;
};

struct stats_plan {
    struct cx **by;              /* evaluated per input row */
    int *by_slots;               /* where each by value goes in output rows */
    size_t nby;
    struct agg_spec *aggs;
    size_t naggs;
    struct assign *outs;         /* stats items over CX_AGG results, in order */
    size_t nouts;
};

struct stage {
    enum stage_kind kind;
    struct assign *assigns;      /* ST_FIELDS */
    size_t nassigns;
    struct cx *cond;             /* ST_FILTER */
    struct cx *source;           /* ST_PARSE */
    int regex_id;                /* ST_PARSE: regex, or -1 for a glob */
    int *cap_slots;              /* regex: slot per capture group (index 1..) */
    size_t ncaps;
    const char **pieces;         /* glob: literal text between the stars */
    size_t *piece_lens;
    int *star_slots;             /* glob: slot per star */
    size_t nstars;
    struct stats_plan *stats;    /* ST_STATS */
    struct cx **keys;            /* ST_SORT, ST_DEDUP */
    bool *desc;
    size_t nkeys;
    int64_t limit;               /* ST_LIMIT */
    int pattern_slots[5];        /* ST_PATTERN: @pattern @ratio @sampleCount
                                    @severityLabel @logSamples */
};

/* A term every matching raw message contains. */
struct term {
    const char *s;
    size_t len;
};

struct qgroup {
    int64_t id;
    const char *name;
    const char *log_value;       /* @log: "<account>:<name>" */
    struct disc_flow_format *flow;
};

struct qx {
    struct arena arena;          /* the tree, the plan, everything compiled */
    struct ast_query *ast;
    struct check_result check;
    struct qx_opts opts;
    int64_t start_ms, end_ms;    /* inclusive */
    int64_t cap;                 /* row cap: min(API limit, 10000) */
    /* slots */
    const char **slot_names;
    size_t nslots, slot_cap;
    int *disc_slots;             /* slot of each plan field */
    const char **disc_names;
    size_t ndisc;
    struct disc_plan *disc;
    struct cx_regexes regexes;
    /* pipeline */
    struct stage *stages;
    size_t nstages;
    size_t scan_end;             /* stages [0, scan_end) run per event */
    /* output */
    int *columns;                /* projection slots */
    size_t ncolumns;
    bool event_rows;             /* rows are events: @ptr, default order */
    /* planning */
    struct term *terms;
    size_t nterms;
    const char **stream_names;   /* @logStream = / in constraints, or NULL */
    size_t nstream_names;
    bool streams_constrained;
    struct qgroup *groups;
    size_t ngroups, group_cap;
    atomic_bool cancel;
};

/* ---- compile (exec_compile.c) ---- */

enum sl_status qx_compile_pipeline(struct qx *q, struct sl_err *err)
    SL_MUST_CHECK;
int qx_slot(struct qx *q, const char *name, size_t len);

/* ---- rows (exec_rows.c) ---- */

struct xrow {
    int64_t ts, seq, stream_id;
    int group;                   /* index in q->groups, -1 for stats rows */
    const char *stream_name;     /* borrowed from the plan */
    size_t bytes;                /* allocation size, for the memory cap */
    const struct val *keys;      /* sort key values (nkeys), after slots */
    struct val slots[];          /* q->nslots */
};

/* Copies slots (and key values) into one allocation. */
struct xrow *xrow_new(const struct qx *q, const struct val *slots,
                      const struct val *keys, size_t nkeys);
void xrow_free(struct xrow *r);
/* Copies where a row came from (time, seq, stream, group) onto dst. */
void xrow_copy_origin(struct xrow *dst, const struct xrow *src);

/* Row order: by key values with directions, or by (ts, seq) newest first
 * when nkeys == 0. */
struct order {
    const bool *desc;
    size_t nkeys;
    bool ts_asc;                 /* nkeys == 0: oldest first instead */
};
int xrow_cmp(const struct order *o, const struct xrow *a, const struct xrow *b);

/* Keeps the k first rows by an order (k == 0: all rows). */
struct collector {
    struct order ord;
    size_t k;
    struct xrow **rows;
    size_t n, cap;
    size_t mem;                  /* bytes held */
};
void coll_init(struct collector *c, const struct order *o, size_t k);
/* Whether a row with this (ts, seq) could still enter (for skipping whole
 * segments by time when the order is by time). */
bool coll_wants_ts(const struct collector *c, int64_t max_ts, int64_t min_ts);
/* Whether a row with these sort keys and origin would make the cut, so a
 * caller can skip building rows that would be thrown away at once. */
bool coll_would_take(const struct collector *c, const struct val *keys,
                     int64_t ts, int64_t seq, int64_t stream_id);
/* Takes ownership of r (frees it when it does not make the cut). */
enum sl_status coll_add(struct collector *c, struct xrow *r) SL_MUST_CHECK;
/* Moves every row of src into dst. */
enum sl_status coll_merge(struct collector *dst, struct collector *src)
    SL_MUST_CHECK;
/* Sorts the rows into order (the heap becomes a sorted array). */
void coll_sort(struct collector *c);
void coll_fini(struct collector *c);

/* ---- stats group table (exec_groups.c) ---- */

struct xgroup;
struct gslot;

struct gtable {
    const struct stats_plan *sp;
    struct gslot *buckets;
    size_t nbuckets, n;
    struct xgroup *first;        /* insertion order list */
    struct xgroup **tail;
    struct xgroup *last;         /* the group of the previous row: rows in
                                    time order repeat it (bin()) */
    struct arena arena;          /* groups, keys, kept values */
    size_t mem;                  /* bytes, for the memory cap */
};

void gt_init(struct gtable *g, const struct stats_plan *sp);
void gt_fini(struct gtable *g);
/* Adds one input row: by values and the aggregations' argument values.
 * ts: the row's @timestamp (earliest/latest). */
enum sl_status gt_add(struct gtable *g, const struct val *by,
                      const struct val *args, int64_t ts) SL_MUST_CHECK;
enum sl_status gt_merge(struct gtable *dst, struct gtable *src)
    SL_MUST_CHECK;
/* Output rows of the stats: one per group, in first-seen order. Rows get
 * their by values and the stats outputs evaluated with env. With sort
 * (a sort stage right after the stats), each row also gets that sort's
 * key values, so out may be a top-k collector in the sort's order: a
 * 'stats ... | sort ... | limit N' keeps N rows, not one per group. */
enum sl_status gt_rows(struct gtable *g, const struct qx *q,
                       struct cx_env *env, const struct stage *sort,
                       struct collector *out) SL_MUST_CHECK;

/* ---- the pattern command (exec_pattern.c) ---- */

/* The template of s[0..len) into out. */
enum sl_status pat_template(const char *s, size_t len, struct buf *out)
    SL_MUST_CHECK;
/* The group key and aggregation arguments of one row for a pattern stage
 * (tmpl: a buffer of the caller's that by[0] then points into). */
enum sl_status pat_key(const struct qx *q, const struct stage *s,
                       struct cx_env *env, struct buf *tmpl, struct val *by,
                       struct val *args) SL_MUST_CHECK;
/* The output rows of a pattern stage from its group table. */
enum sl_status pat_rows(struct gtable *g, const struct qx *q,
                        const struct stage *s, struct cx_env *env,
                        struct collector *out) SL_MUST_CHECK;

/* ---- after the scan (exec_post.c) ---- */

/* Runs stages [from, nstages) over rows (sorted in the current order),
 * replacing them. */
enum sl_status qx_post(struct qx *q, struct collector *rows, size_t from,
                       struct cx_env *env, struct sl_err *err) SL_MUST_CHECK;

/* Evaluates a per-row stage over env->slots; false: the row is dropped. */
enum sl_status qx_row_stage(const struct qx *q, const struct stage *s,
                            struct cx_env *env, bool *keep) SL_MUST_CHECK;

/* Builds a result snapshot from rows in order (at most q->cap rows). */
struct qx_result *qx_result_build(const struct qx *q,
                                  const struct collector *rows,
                                  const struct qx_stats *st);

#endif
