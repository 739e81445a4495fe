/* api/cwl_put.c: PutLogEvents, the CloudWatch front of ingest (reference
 * 2.7). The body goes through the fast decoder, not jansson. A request is
 * refused whole, in this order, for: a malformed body or missing members,
 * a missing group or stream, a batch over 1 MiB (message bytes + 26 per
 * event), an event over the event limit, timestamps out of order, and
 * accepted events spanning more than 24 h. What is left is accepted but
 * for the too old, expired and too new events at the ends, reported in
 * rejectedLogEventsInfo; the core (ingest.c) commits the rest and the
 * answer goes out after the commit. Sequence tokens are ignored, as AWS
 * has done since 2023, and a nextSequenceToken is always returned. */
#include "api/cwl_int.h"

#include "api/ingest.h"
#include "common/clock.h"

#include <string.h>

#define MAX_SPAN_MS (24LL * 3600 * 1000)

/* What the answer needs once the writer is done; in the request arena. */
struct put_ctx {
    struct api_resp *resp;
    int64_t stream_id;
    int64_t now;
    size_t too_old_end;          /* 0: none too old */
    size_t expired_end;          /* 0: none expired */
    size_t too_new_start;        /* SIZE_MAX: none too new */
};

static json_t *put_result(const struct put_ctx *p)
{
    json_t *o = json_object();
    char token[57];

    cwl_seq_token(token, p->stream_id, p->now);
    json_object_set_new(o, "nextSequenceToken", json_string(token));
    if (p->too_old_end > 0 || p->expired_end > 0 || p->too_new_start != SIZE_MAX) {
        json_t *r = json_object();
        if (p->too_new_start != SIZE_MAX)
            json_object_set_new(r, "tooNewLogEventStartIndex",
                                json_integer((json_int_t)p->too_new_start));
        if (p->too_old_end > 0)
            json_object_set_new(r, "tooOldLogEventEndIndex",
                                json_integer((json_int_t)p->too_old_end));
        if (p->expired_end > 0)
            json_object_set_new(r, "expiredLogEventEndIndex",
                                json_integer((json_int_t)p->expired_end));
        json_object_set_new(o, "rejectedLogEventsInfo", r);
    }
    return o;
}

static void put_done(void *ctx, const struct wr_job *job)
{
    struct put_ctx *p = ctx;
    if (job->status != SL_OK) {
        apierr_reply_aws(p->resp, &job->err, NULL);
        return;
    }
    reply_json(p->resp, 200, put_result(p));
    p->resp->content_type = API_AWS_JSON;
}

/* A string member the decoder captured, NUL-terminated in the arena; NULL
 * when it was absent (or not a string). */
static const char *captured(struct cwl_call *c, const struct ingest_batch *b,
                            const char *key)
{
    const struct ingest_member *m = ingest_member_get(b, key);
    if (m == NULL || memchr(m->val, '\0', m->val_len) != NULL)
        return NULL;
    return arena_strndup(c->arena, m->val, m->val_len);
}

/* The group and stream names. When the decoder did not capture them (a
 * member is missing or not a string), the body is read again with jansson
 * only to say exactly what is wrong. */
static enum sl_status names(struct cwl_call *c, const struct ingest_batch *b,
                            const char **group, const char **stream)
{
    *group = captured(c, b, "logGroupName");
    *stream = captured(c, b, "logStreamName");
    if (*group == NULL || *stream == NULL) {
        if (args_json_body(c->req, &c->body, &c->err) != SL_OK)
            return c->err.code;
        return cwl_group_name(c, group) != SL_OK ||
                       cwl_stream_name(c, "logStreamName", stream) != SL_OK
                   ? c->err.code
                   : SL_OK;
    }
    if (name_check_group(*group, &c->err) != SL_OK ||
        name_check_stream(*stream, &c->err) != SL_OK)
        return c->err.code;
    return SL_OK;
}

/* Decodes the body and checks its shape: members, 1..max events, each
 * event well-formed. */
static enum sl_status decode(struct cwl_call *c, int64_t now,
                             struct ingest_batch *b, const char **group,
                             const char **stream)
{
    const struct api_config *cfg = &c->api->cfg;
    struct ingest_limits lim = {.max_events = cfg->max_batch_events};
    enum sl_status st;

    st = ingest_decode(INGEST_JSON, c->req->body, c->req->body_len,
                       "logEvents", false, now, &lim, c->arena, b, &c->err);
    if (st == SL_TOO_LARGE) {
        sl_err_clear(&c->err);
        return sl_fail(&c->err, SL_INVALID,
                       "1 validation error detected: Value at 'logEvents' "
                       "failed to satisfy constraint: Member must have "
                       "length less than or equal to %zu",
                       cfg->max_batch_events);
    }
    if (st != SL_OK || names(c, b, group, stream) != SL_OK)
        return c->err.code;
    if (!b->has_events_key)
        return sl_fail(&c->err, SL_INVALID,
                       "1 validation error detected: Value null at "
                       "'logEvents' failed to satisfy constraint: Member "
                       "must not be null");
    if (b->n == 0)
        return sl_fail(&c->err, SL_INVALID,
                       "1 validation error detected: Value '[]' at "
                       "'logEvents' failed to satisfy constraint: Member "
                       "must have length greater than or equal to 1");
    for (size_t i = 0; i < b->n; i++)
        if (b->ev[i].invalid)
            return sl_fail(&c->err,
                           b->ev[i].wrong_type ? SL_BAD_JSON : SL_INVALID,
                           "log event %zu (counting from 0): %s", i,
                           b->ev[i].invalid_why);
    return SL_OK;
}

/* The whole-request limits of reference 2.7, steps 2 to 4. */
static enum sl_status check_batch(struct cwl_call *c,
                                  const struct ingest_batch *b)
{
    const struct api_config *cfg = &c->api->cfg;
    size_t bytes = ingest_batch_bytes(b);

    if (bytes > cfg->max_batch_bytes)
        return sl_fail(&c->err, SL_INVALID,
                       "Upload too large: %zu bytes exceeds limit of %zu",
                       bytes, cfg->max_batch_bytes);
    for (size_t i = 0; i < b->n; i++)
        if (b->ev[i].len > cfg->max_event_bytes)
            return sl_fail(&c->err, SL_INVALID,
                           "Log event too large: %u bytes exceeds limit of %zu",
                           (unsigned)b->ev[i].len, cfg->max_event_bytes);
    for (size_t i = 1; i < b->n; i++)
        if (b->ev[i].ts < b->ev[i - 1].ts)
            return sl_fail(&c->err, SL_INVALID,
                           "Log events in a single PutLogEvents request must "
                           "be in chronological order.");
    return SL_OK;
}

enum sl_status cwl_put_log_events(struct cwl_call *c)
{
    struct ingest_batch batch;
    struct ingest_window win;
    struct put_ctx *p;
    struct seg_event *ev;
    const char *group, *stream;
    int64_t now = sl_now_ms(), group_id;
    size_t n_ev = 0;
    int retention;

    if (decode(c, now, &batch, &group, &stream) != SL_OK)
        return c->err.code;
    p = arena_alloc(c->arena, sizeof(*p));
    ev = arena_alloc(c->arena, batch.n * sizeof(*ev));
    if (p == NULL || ev == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    *p = (struct put_ctx){.resp = c->resp, .now = now,
                          .too_new_start = SIZE_MAX};
    if (store_lookup_stream(c->api->store, group, stream, &group_id,
                            &p->stream_id, &retention, &c->err) != SL_OK ||
        check_batch(c, &batch) != SL_OK)
        return c->err.code;
    /* Events are in time order, so each verdict covers a run: too old,
     * then expired, then kept, then too new. */
    ingest_window_init(&win, &c->api->cfg, now, retention);
    for (size_t i = 0; i < batch.n; i++) {
        const struct ingest_event *e = &batch.ev[i];
        switch (ingest_judge(&win, e)) {
        case INGEST_TOO_OLD:
            p->too_old_end = i + 1;
            break;
        case INGEST_EXPIRED:
            p->expired_end = i + 1;
            break;
        case INGEST_TOO_NEW:
            if (p->too_new_start == SIZE_MAX)
                p->too_new_start = i;
            break;
        case INGEST_TOO_LARGE:     /* refused above */
        case INGEST_KEEP:
            ev[n_ev++] = (struct seg_event){.ts = e->ts, .ingest = now,
                                            .seq = (int64_t)i, .msg = e->msg,
                                            .len = e->len};
            break;
        }
    }
    if (n_ev > 0 && ev[n_ev - 1].ts - ev[0].ts > MAX_SPAN_MS)
        return sl_fail(&c->err, SL_INVALID,
                       "The batch of log events in a single PutLogEvents "
                       "request cannot span more than 24 hours.");
    if (n_ev == 0) {
        cwl_reply(c, put_result(p));
        return SL_OK;
    }
    if (ingest_submit(c->api, c->req, group_id, p->stream_id, ev, n_ev, now,
                      put_done, p, &c->err) != SL_OK)
        return c->err.code;
    c->pending = true;
    return SL_OK;
}
