/* query/agg.h: the stats aggregations (count, count_distinct, sum, avg,
 * min, max, pct, stddev, earliest, latest, sortsFirst, sortsLast) as
 * states that take values one at a time, merge with another state of the
 * same aggregation (the partial results of two scan threads) and yield a
 * result. Choices where CloudWatch documents nothing: stddev is the sample
 * standard deviation (n - 1); pct is the nearest-rank percentile, a value
 * that occurred; count_distinct is exact. A state belongs to one thread;
 * its strings live in the arena passed in (the group's). */
#ifndef SLUICE_QUERY_AGG_H
#define SLUICE_QUERY_AGG_H

#include "common/arena.h"
#include "common/status.h"
#include "query/expr.h"
#include "query/fn_table.h"
#include "query/value.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agg_spec {
    enum fn_id fn;
    struct cx *arg;              /* NULL for count() / count(*) */
    double pct;                  /* pct(): 0..100 */
};

struct agg_set;                  /* count_distinct's distinct texts */

struct agg_state {
    int64_t n;                   /* values taken (count, avg, stddev) */
    double sum, mean, m2;        /* sum/avg; stddev (Welford) */
    bool set;                    /* v holds a value */
    struct val v;                /* min max earliest latest sortsFirst sortsLast */
    int64_t ts;                  /* earliest/latest: @timestamp of v */
    double *nums;                /* pct: values, malloc'd */
    size_t nnums, capnums;
    struct agg_set *distinct;    /* count_distinct, malloc'd */
};

/* Takes one value (null values count for nothing except count(*), which
 * the caller signals with counted_star). ts: the row's @timestamp.
 * *grew: bytes of memory the state took on, for the query's cap. */
enum sl_status agg_add(struct agg_state *s, const struct agg_spec *sp,
                       const struct val *v, int64_t ts, struct arena *a,
                       size_t *grew) SL_MUST_CHECK;

/* Folds src into dst (same spec); src is left empty. */
enum sl_status agg_merge(struct agg_state *dst, struct agg_state *src,
                         const struct agg_spec *sp, struct arena *a,
                         size_t *grew) SL_MUST_CHECK;

/* The aggregate value (sorts pct's values in place, so call it when no
 * more values come, or accept the cost of re-sorting). */
struct val agg_result(struct agg_state *s, const struct agg_spec *sp);

/* Frees what the state allocated outside the arena. */
void agg_free(struct agg_state *s);

#endif
