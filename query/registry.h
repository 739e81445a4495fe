/* query/registry.h: the queries of the server by id, for the asynchronous
 * query API (start -> id -> poll -> stop) and DescribeQueries. Each query
 * runs on a thread of its own; the registry keeps its status, its error and
 * the newest result it published (partial while it runs, final at the end)
 * as a reference-counted snapshot, so readers format results outside any
 * lock while the query goes on. Finished queries stay for keep_ms and at
 * most max_kept of them (oldest first out). A waiter is told once when a
 * query ends or when its deadline passes, so an HTTP request can wait
 * suspended instead of blocking a thread. Every function is thread-safe.
 *
 *   qreg_start ──> Scheduled ──> Running ──> Complete
 *                      │            ├──────> Failed     (error kept)
 *                      │            ├──────> Timeout    (timeout_ms passed)
 *                      └────────────┴──────> Cancelled  (qreg_stop, shutdown)
 */
#ifndef SLUICE_QUERY_REGISTRY_H
#define SLUICE_QUERY_REGISTRY_H

#include "common/status.h"
#include "query/exec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct qreg;

#define QREG_ID_LEN 36           /* a UUID v4 in text: 8-4-4-4-12 hex */

enum qreg_status {
    QREG_SCHEDULED,              /* accepted, its thread not yet running */
    QREG_RUNNING,
    QREG_COMPLETE,
    QREG_FAILED,
    QREG_CANCELLED,
    QREG_TIMEOUT,
    QREG_STATUS_COUNT
};

/* CloudWatch's spelling: "Scheduled", "Running", "Complete", ... */
const char *qreg_status_name(enum qreg_status s);
/* Parses a status name (any case); false when it is none. */
bool qreg_status_parse(const char *s, enum qreg_status *out);
/* Scheduled or Running. */
bool qreg_is_active(enum qreg_status s);

struct qreg_config {
    int max_active;              /* Scheduled + Running at once (20) */
    int64_t timeout_ms;          /* longest run; 0 = none (15 min) */
    int64_t keep_ms;             /* how long finished queries stay (7 days) */
    size_t max_kept;             /* most finished queries kept (1000) */
};

void qreg_config_defaults(struct qreg_config *c);

/* NULL with err filled when a thread or memory is missing. */
struct qreg *qreg_create(const struct qreg_config *c, struct sl_err *err);
/* Refuses new queries (SL_UNAVAILABLE), cancels the running ones and waits
 * (a few seconds at most) for them to end, so that every waiter has been
 * told before the HTTP server stops. Idempotent. */
void qreg_shutdown(struct qreg *r);
/* qreg_shutdown, then joins every thread and frees everything. No
 * qreg_info may be held any more. NULL is fine. */
void qreg_free(struct qreg *r);

/* What DescribeQueries shows of a query besides its status. */
struct qreg_meta {
    const char *text;            /* the query text (copied) */
    size_t len;
    const char *const *groups;   /* log group names (copied) */
    size_t ngroups;
};

/* Starts q (compiled, its groups added) on a thread of its own; takes q,
 * also on failure. Fills id (NUL-terminated). SL_LIMIT when max_active
 * queries are already running (the message names the cap),
 * SL_UNAVAILABLE when shutting down, SL_NOMEM. s is borrowed until the
 * query ends. */
enum sl_status qreg_start(struct qreg *r, struct qx *q, struct store *s,
                          const struct qreg_meta *m,
                          char id[QREG_ID_LEN + 1],
                          struct sl_err *err) SL_MUST_CHECK;

/* The registry runs anything shaped like qx_run; qreg_start wraps a qx in
 * one of these. run is called once on the query's thread and returns as
 * qx_run does (SL_OK, SL_CANCELLED, SL_TIMEOUT, or a failure with err);
 * cancel may be called from any thread before or during run; destroy is
 * called once after run returned (or instead of it). */
struct qreg_job_ops {
    enum sl_status (*run)(void *job, qx_publish_fn publish, void *pctx,
                          struct sl_err *err);
    void (*cancel)(void *job);
    void (*destroy)(void *job);
};

/* qreg_start for any job; takes job (destroyed on failure too). */
enum sl_status qreg_start_job(struct qreg *r, const struct qreg_job_ops *ops,
                              void *job, const struct qreg_meta *m,
                              char id[QREG_ID_LEN + 1],
                              struct sl_err *err) SL_MUST_CHECK;

/* A query as seen at one moment. From qreg_get it holds references: every
 * pointer stays valid, and result stays the same snapshot, until
 * qreg_info_release (the query itself goes on). */
struct qreg_info {
    const char *id;
    const char *text;            /* NUL-terminated */
    const char *const *groups;
    size_t ngroups;
    int64_t create_ms;           /* wall clock, ms since the epoch */
    int64_t duration_ms;         /* run time so far, or in total */
    enum qreg_status status;
    struct sl_err error;         /* Failed and Timeout: what happened */
    const struct qx_result *result; /* newest published result, or NULL */
    void *entry_;                /* private */
    void *snap_;                 /* private */
};

/* SL_NOT_FOUND (message names the id) for an unknown or expired id. */
enum sl_status qreg_get(struct qreg *r, const char *id, struct qreg_info *out,
                        struct sl_err *err) SL_MUST_CHECK;
void qreg_info_release(struct qreg_info *i);

/* Asks a Scheduled or Running query to stop; it ends Cancelled soon after.
 * SL_NOT_FOUND for an unknown id, SL_INVALID (the message says it is not
 * running and what it is) for a finished query. */
enum sl_status qreg_stop(struct qreg *r, const char *id,
                         struct sl_err *err) SL_MUST_CHECK;

/* Calls fn for every query, newest first, that has the status (when
 * has_status) and reads the group (when group is non-NULL). fn runs under
 * the registry lock: it must be quick and must not call the registry; i
 * and what it points to are valid during the call only. fn returns false
 * to stop. */
typedef bool (*qreg_list_fn)(void *ctx, const struct qreg_info *i);
void qreg_list(struct qreg *r, bool has_status, enum qreg_status status,
               const char *group, qreg_list_fn fn, void *ctx);

/* ---- waiting without a thread ---- */

/* ended: the query finished (read it with qreg_get); false: the deadline
 * passed first, or the registry shut down before the query ended. */
typedef void (*qreg_wait_fn)(void *ctx, bool ended);

/* Caller-owned; must stay valid until fn has been called. */
struct qreg_waiter {
    qreg_wait_fn fn;
    void *ctx;
    int64_t deadline_ms;         /* on the sl_mono_ms() clock */
    struct qreg_waiter *next_;   /* private */
};

/* Arranges for w->fn to be called exactly once, from a registry thread
 * and never from inside this call, when query id ends or at
 * w->deadline_ms, whichever comes first. When the query has already ended
 * nothing is registered and *ended is set: answer at once. SL_NOT_FOUND
 * for an unknown id. */
enum sl_status qreg_wait(struct qreg *r, const char *id,
                         struct qreg_waiter *w, bool *ended,
                         struct sl_err *err) SL_MUST_CHECK;

#endif
