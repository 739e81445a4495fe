/* query/exec.h: one Insights query from text to result rows. qx_compile
 * parses and checks the text (a bad query never starts a scan) and builds
 * the plan; the caller resolves the log groups (from its request, or the
 * query's SOURCE header that qx_source exposes) and adds them; qx_explain
 * says what a run would read; qx_run scans the groups' segments in the
 * time range on a few worker threads, publishes partial results while it
 * runs and the final result at the end. qx_cancel may be called from any
 * thread while qx_run runs; everything else belongs to one thread at a
 * time. */
#ifndef SLUICE_QUERY_EXEC_H
#define SLUICE_QUERY_EXEC_H

#include "common/arena.h"
#include "common/buf.h"
#include "common/status.h"
#include "query/ast.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define QX_DEFAULT_LIMIT 10000   /* rows without a limit anywhere */
#define QX_MAX_LIMIT     10000   /* the largest API limit */

struct qx_opts {
    int workers;                 /* scan threads; 0 = one per core */
    size_t mem_cap;              /* bytes of rows and aggregation state */
    int64_t timeout_ms;          /* 0 = none */
    int64_t now_ms;              /* the query's start (now(), relative times) */
    uint64_t round_bytes;        /* raw bytes scanned between merges; 0 = default */
    int64_t publish_ms;          /* partial results at most this often; 0 =
                                    default, < 0 after every round */
};

/* One log group to scan. */
struct qx_group {
    int64_t id;
    const char *name;            /* copied by qx_add_group */
    const char *flow_format;     /* the group's custom flow log format or NULL */
    const char *account_id;      /* for @log ("<account>:<group>"); NULL: 000000000000 */
};

struct qx;

/* Parses, checks and plans text[0..len) for the time range [start_ms,
 * end_ms] (both inclusive). api_limit: the request's row cap, 0 when not
 * given. SL_MALFORMED_QUERY with err->line/col and a message (render the
 * caret with lex_render_error), SL_INVALID for a bad range or limit. */
enum sl_status qx_compile(const char *text, size_t len, int64_t start_ms,
                          int64_t end_ms, int64_t api_limit,
                          const struct qx_opts *o, struct qx **out,
                          struct sl_err *err) SL_MUST_CHECK;
void qx_free(struct qx *q);

/* The SOURCE header of the query, or NULL when it has none. When it names
 * START/END they already replaced the range given to qx_compile. */
const struct ast_source *qx_source(const struct qx *q);

/* Adds a group to scan (at least one before qx_run). SL_INVALID when the
 * group's flow format does not compile (message names the format). */
enum sl_status qx_add_group(struct qx *q, const struct qx_group *g,
                            struct sl_err *err) SL_MUST_CHECK;

/* The query's time range after SOURCE START/END, for answers. */
void qx_range(const struct qx *q, int64_t *start_ms, int64_t *end_ms);

/* ---- results ---- */

enum qx_cell_kind { QX_CELL_STR, QX_CELL_NUM };

struct qx_cell {
    const char *field;           /* NUL-terminated */
    const char *value;           /* NUL-terminated output text */
    enum qx_cell_kind kind;      /* QX_CELL_NUM: value is a decimal number */
};

struct qx_row {
    struct qx_cell *cells;       /* only fields with a value, in column order;
                                    @ptr last for event rows */
    size_t ncells;
};

struct qx_stats {
    double records_matched;
    double records_scanned;
    double bytes_scanned;
    double records_skipped;      /* estimated: pruned by time and streams */
    double bytes_skipped;
    double groups_scanned;
    double segments_scanned;
    double segments_skipped;
};

/* A snapshot of results: owns everything it points to. */
struct qx_result {
    struct arena arena;
    struct qx_row *rows;
    size_t nrows;
    const char **columns;        /* the query's output columns, in order */
    size_t ncolumns;
    struct qx_stats stats;
};

void qx_result_free(struct qx_result *r);  /* NULL is fine */

/* Called by qx_run with a partial (final == false) or the final result;
 * the callee owns r from then on. */
typedef void (*qx_publish_fn)(void *ctx, struct qx_result *r, bool final);

/* Runs the scan. Returns SL_OK (complete), SL_CANCELLED (qx_cancel),
 * SL_TIMEOUT, SL_LIMIT (memory cap; message says what to change), or an
 * error from storage. publish gets at least the final result on SL_OK and
 * partial ones along the way. */
enum sl_status qx_run(struct qx *q, struct store *s, qx_publish_fn publish,
                      void *ctx, struct sl_err *err) SL_MUST_CHECK;

/* Asks a running qx_run to stop soon. Any thread. */
void qx_cancel(struct qx *q);

/* Appends, as JSON text, what a run would read without reading any event:
 * {"segments":{"total":..,"inRange":..,"prunedByTime":..,
 *  "prunedByStreams":..}, "bytes":{...same...}, "records":{...},
 *  "streams":{...}, "terms":[...], "fields":[...], "plan":[...commands...]}. */
enum sl_status qx_explain(struct qx *q, struct store *s, struct buf *out,
                          struct sl_err *err) SL_MUST_CHECK;

/* The pointer text of an event (@ptr) and back. */
size_t qx_ptr_encode(int64_t group_id, int64_t stream_id, int64_t ts,
                     int64_t seq, char *out, size_t cap);
bool qx_ptr_decode(const char *s, size_t len, int64_t *group_id,
                   int64_t *stream_id, int64_t *ts, int64_t *seq);

#endif
