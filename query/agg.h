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

/* One aggregation's state; which member is live depends on the spec's
 * function, so a group of a count(*) holds 32 bytes, not every field of
 * every aggregation (high-cardinality stats hold one state per group). */
struct agg_state {
    union {
        struct {                 /* count, sum, avg */
            int64_t n;
            double sum;
        } cnt;
        struct {                 /* stddev (Welford) */
            int64_t n;
            double mean, m2;
        } var;
        struct {                 /* min max earliest latest sortsFirst sortsLast */
            struct val v;        /* bytes in the arena passed to agg_add */
            int64_t ts;          /* earliest/latest: @timestamp of v */
            bool set;
        } pick;
        struct {                 /* pct: the values, malloc'd */
            double *nums;
            uint32_t n, cap;
        } pct;
        struct agg_set *distinct;  /* count_distinct, malloc'd */
    } u;
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
void agg_free(struct agg_state *s, const struct agg_spec *sp);
/* Whether states of sp ever allocate outside the arena (agg_free has
 * something to do): a table of 100k+ groups need not be walked otherwise. */
bool agg_allocates(const struct agg_spec *sp);

#endif
