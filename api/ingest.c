/* api/ingest.c: the ingest core shared by the native and the CloudWatch
 * fronts; see ingest.h. Knows the limits and the writer, not the wire
 * format of either front. Committed batches go to the live-tail hub. */
#include "api/ingest.h"

#include "api/api_int.h"
#include "api/tail.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/per_thread.h"

#include <stdlib.h>
#include <string.h>

#define MS_PER_DAY 86400000LL

size_t ingest_batch_bytes(const struct ingest_batch *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        n += b->ev[i].len + INGEST_EVENT_OVERHEAD;
    return n;
}

void ingest_window_init(struct ingest_window *w, const struct api_config *c,
                        int64_t now_ms, int retention_days)
{
    w->too_old_before = now_ms - c->max_age_ms;
    w->expired_before = w->too_old_before;
    if (retention_days > 0 &&
        now_ms - retention_days * MS_PER_DAY > w->expired_before)
        w->expired_before = now_ms - retention_days * MS_PER_DAY;
    w->too_new_after = now_ms + c->max_ahead_ms;
    w->max_event_bytes = c->max_event_bytes;
}

enum ingest_verdict ingest_judge(const struct ingest_window *w,
                                 const struct ingest_event *e)
{
    if (e->len > w->max_event_bytes)
        return INGEST_TOO_LARGE;
    if (e->ts < w->too_old_before)
        return INGEST_TOO_OLD;
    if (e->ts < w->expired_before)
        return INGEST_EXPIRED;
    if (e->ts > w->too_new_after)
        return INGEST_TOO_NEW;
    return INGEST_KEEP;
}

/* Each request thread's seg_scratch, made on its first batch and freed
 * when the thread ends. */
static void *scratch_make(void)
{
    struct seg_scratch *sc = sl_alloc(sizeof(*sc));
    if (sc != NULL)
        seg_scratch_init(sc);
    return sc;
}

static void scratch_free(void *p)
{
    seg_scratch_fini(p);
    sl_free(p);
}

static struct sl_per_thread thread_scratch = {.make = scratch_make,
                                              .destroy = scratch_free};

/* Lives in the request arena until the writer answers. */
struct submission {
    struct wr_job job;
    struct api_req *req;
    struct buf blobs;            /* the encoded pieces */
    ingest_done_fn done;
    void *ctx;
    struct api *api;
    const char *stream_name;     /* for live tails; NULL: nobody tails */
};

/* The writer's callback, on its syncer thread with sync full. */
static void submission_done(struct wr_job *job, void *ctx)
{
    struct submission *s = ctx;
    /* Only committed events may reach tailers. */
    if (job->status == SL_OK && s->stream_name != NULL)
        tail_publish(s->api->tail, job->group_id, s->stream_name, job->ev,
                     job->n, job->ingest_ms);
    buf_fini(&s->blobs);
    s->req->resume(s->req->resume_ctx);
}

/* req->finish: the answer, built on the HTTP thread. */
static void submission_finish(void *ctx)
{
    struct submission *s = ctx;
    s->done(s->ctx, &s->job);
}

enum sl_status ingest_submit(struct api *a, struct api_req *req,
                             int64_t group_id, int64_t stream_id,
                             struct seg_event *ev, size_t n, int64_t now_ms,
                             ingest_done_fn done, void *ctx,
                             struct sl_err *err)
{
    struct submission *s = arena_alloc(req->arena, sizeof(*s));
    struct wr_piece *pieces = arena_alloc(req->arena, n * sizeof(*pieces));
    size_t n_pieces = 0;

    if (s == NULL || pieces == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    memset(s, 0, sizeof(*s));
    s->req = req;
    s->done = done;
    s->ctx = ctx;
    s->api = a;
    if (tail_wanted(a->tail, group_id))
        s->stream_name = tail_stream_name(a->tail, group_id, stream_id,
                                          req->arena);
    seg_events_sort(ev, n);
    buf_init(&s->blobs, SIZE_MAX / 2);
    if (wr_encode_pieces(ev, n, true, sl_per_thread_get(&thread_scratch),
                         &s->blobs, pieces, &n_pieces, err) != SL_OK) {
        buf_fini(&s->blobs);
        return err->code;
    }
    s->job = (struct wr_job){
        .kind = WR_INGEST,
        .stream_id = stream_id,
        .group_id = group_id,
        .ev = ev,
        .n = n,
        .pieces = pieces,
        .n_pieces = n_pieces,
        .blobs = s->blobs.data,
        .ingest_ms = now_ms,
        .done = submission_done,
        .ctx = s,
    };
    req->finish = submission_finish;
    req->finish_ctx = s;
    wr_submit(store_writer(a->store), &s->job);
    return SL_OK;
}
