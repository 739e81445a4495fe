/* api/ingest.h: the core of ingest that both fronts share, the native REST
 * POST of events (rest_ingest.c) and CloudWatch PutLogEvents (cwl_put.c):
 * the batch size as CloudWatch counts it, the verdict on one event against
 * the size limit and the time window of the request, and the hand-off of
 * the accepted events to the writer (sort, encode on the request thread,
 * queue, answer after the commit with the connection suspended meanwhile).
 * The fronts decide what fails the whole request and how rejected events
 * are reported: the native front rejects per event in any order, the
 * CloudWatch front refuses whole requests in the order of reference 2.7.
 * Internal to api/. */
#ifndef SLUICE_API_INGEST_H
#define SLUICE_API_INGEST_H

#include "api/api.h"
#include "api/ingest_decode.h"
#include "storage/segment.h"
#include "storage/writer.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes CloudWatch counts per event on top of its message. */
#define INGEST_EVENT_OVERHEAD 26

/* Message bytes plus the per-event overhead of every event in b. */
size_t ingest_batch_bytes(const struct ingest_batch *b);

/* What happens to one well-formed event, in the order checked. */
enum ingest_verdict {
    INGEST_KEEP,
    INGEST_TOO_LARGE,    /* message over max_event_bytes */
    INGEST_TOO_OLD,      /* before now - max_age */
    INGEST_EXPIRED,      /* not too old, but past the group's retention */
    INGEST_TOO_NEW       /* after now + max_ahead */
};

/* The limits of one request, fixed at its arrival time. */
struct ingest_window {
    int64_t too_old_before;      /* ts below this is too old */
    int64_t expired_before;      /* ts below this (and not too old) expired */
    int64_t too_new_after;       /* ts above this is too new */
    size_t max_event_bytes;
};

void ingest_window_init(struct ingest_window *w, const struct api_config *c,
                        int64_t now_ms, int retention_days);
/* Verdict for a valid event (e->invalid false). */
enum ingest_verdict ingest_judge(const struct ingest_window *w,
                                 const struct ingest_event *e);

/* Called once the batch committed or failed (job->status, job->err), on
 * the request's HTTP thread after it was resumed: fill the response. */
typedef void (*ingest_done_fn)(void *ctx, const struct wr_job *job);

/* Sorts ev[0..n) (n > 0; seq holds the arrival index, which keeps the sort
 * stable), encodes it on this thread and queues it to the writer. ev (and
 * what its messages point to) must live in req's arena or body. On SL_OK
 * the caller returns API_PENDING and done(ctx, job) follows; on failure
 * nothing was queued and err says why. */
enum sl_status ingest_submit(struct api *a, struct api_req *req,
                             int64_t group_id, int64_t stream_id,
                             struct seg_event *ev, size_t n, int64_t now_ms,
                             ingest_done_fn done, void *ctx,
                             struct sl_err *err) SL_MUST_CHECK;

#endif
