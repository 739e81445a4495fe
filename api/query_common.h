/* api/query_common.h: the parts of Logs Insights requests that the native
 * REST front (rest_query.c, rest_fields.c, rest_records.c) and the
 * CloudWatch front (cwl_insights.c, cwl_record.c) share, free of either
 * front's request and answer shapes: compile options, log group
 * resolution (request names and the SOURCE header), starting a query in
 * the registry, GetLogGroupFields sampling and GetLogRecord's record.
 * Errors come back in err with the status that picks the error name.
 * Internal to api/. */
#ifndef SLUICE_API_QUERY_COMMON_H
#define SLUICE_API_QUERY_COMMON_H

#include "api/api_int.h"
#include "common/buf.h"
#include "query/exec.h"
#include "query/registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QC_QUERY_MAX_CHARS 10000 /* StartQuery's queryString limit */
#define QC_NAMED_MAX       50    /* groups named in a request */

/* ---- queries (query_groups.c) ---- */

/* The groups a query reads, without repeats; in the arena. */
struct qc_groups {
    struct arena *a;
    struct cat_group *g;
    size_t n, cap;
};

/* Calls fn for every live group whose name starts with prefix (NULL:
 * every group), by name, until fn fails or clears *go_on; pages in a. */
typedef enum sl_status (*qc_group_fn)(void *ctx, const struct cat_group *g,
                                      bool *go_on, struct sl_err *err);
enum sl_status qc_each_group(sqlite3 *db, const char *prefix,
                             struct arena *a, qc_group_fn fn, void *ctx,
                             struct sl_err *err) SL_MUST_CHECK;
/* Appends the statistics object {...} (query_stats.c): the first n of
 * names[] with, in order,
 * records matched, scanned, bytes scanned, records and bytes skipped,
 * groups scanned, segments scanned and skipped (n at most 8). */
enum sl_status qc_write_stats(struct buf *o, const struct qx_stats *s,
                              const char *const *names, size_t n)
    SL_MUST_CHECK;

/* Compile options from the server's configuration, with now_ms. */
void qc_opts(const struct api *a, int64_t now_ms, struct qx_opts *o);
/* Whether q's SOURCE header names log groups (then a request names none). */
bool qc_source_names_groups(const struct qx *q);
/* Resolves the groups of q's SOURCE header and names[0..n) through the
 * catalogue (SL_NOT_FOUND names a missing one) and adds them all to q.
 * s is initialised here, in arena a. */
enum sl_status qc_add_groups(struct api *api, struct qx *q,
                             const char *const *names, size_t n,
                             struct arena *a, struct qc_groups *s,
                             struct sl_err *err) SL_MUST_CHECK;
/* Starts q (takes it, also on failure) with text as DescribeQueries shows
 * it and the groups of s; fills id. SL_LIMIT when too many run. */
enum sl_status qc_start(struct api *api, struct qx *q, const char *text,
                        size_t len, const struct qc_groups *s,
                        char id[QREG_ID_LEN + 1],
                        struct sl_err *err) SL_MUST_CHECK;

/* ---- GetLogGroupFields (query_fields.c) ---- */

/* Samples the newest events of group in [start, end] (ms, inclusive) and
 * sets *fields to a new array of {"name","percent"} (percent descending,
 * then name; empty when no event), *sampled to the events looked at.
 * SL_NOT_FOUND when the group does not exist. */
enum sl_status qc_group_fields(struct api *api, const char *group,
                               int64_t start, int64_t end, struct arena *a,
                               json_t **fields, int64_t *sampled,
                               struct sl_err *err) SL_MUST_CHECK;

/* ---- GetLogRecord (query_record.c) ---- */

/* Appends to out the JSON object of every field (all strings) of the
 * event ptr[0..len) points at. SL_INVALID for text that is no pointer,
 * SL_NOT_FOUND when the group, stream or event is gone. */
enum sl_status qc_record(struct api *api, const char *ptr, size_t len,
                         struct arena *a, struct buf *out,
                         struct sl_err *err) SL_MUST_CHECK;

#endif
