/* api/rest_tail.c: GET /api/v1/groups/{group}/tail?stream=&prefix=&filter=
 * as server-sent events (text/event-stream) for curl and the web page:
 * a ": tailing" comment at once, then one `data: {json}` per committed
 * event (timestamp, ingestionTime, logGroupName, logStreamName, message),
 * `event: dropped` with the count when the queue overflowed, and a
 * ": keep-alive" comment after 15 s of silence. Ends when the server
 * stops or the client goes away. */
#include "api/api_int.h"

#include "api/json_out.h"
#include "api/tail.h"
#include "common/alloc.h"
#include "common/clock.h"

#include <stdio.h>
#include <string.h>

#define SSE_KEEPALIVE_MS 15000
#define SSE_MAX_QUEUE 2000

struct sse {
    struct tail_sub *sub;
    struct buf out;
    size_t off;
    int64_t last_write_ms;
    bool done;                   /* the hub ended: finish after out */
};

static enum sl_status sse_event(struct buf *b, const struct tail_ev *e)
{
    enum sl_status st;
    if ((st = buf_printf(b, "data: {\"timestamp\":%lld,\"ingestionTime\":%lld,"
                            "\"logGroupName\":",
                         (long long)e->ts, (long long)e->ingest)) != SL_OK ||
        (st = jout_cstr(b, e->group_label)) != SL_OK ||
        (st = buf_puts(b, ",\"logStreamName\":")) != SL_OK ||
        (st = jout_cstr(b, e->stream)) != SL_OK ||
        (st = buf_puts(b, ",\"message\":")) != SL_OK ||
        (st = jout_str(b, e->msg, e->len)) != SL_OK)
        return st;
    return buf_puts(b, "}\n\n");
}

static long sse_pull(void *ctx, char *out, size_t cap)
{
    struct sse *s = ctx;
    struct tail_ev *list;
    uint64_t dropped;
    bool ended;
    int64_t now = sl_mono_ms();
    enum sl_status st = SL_OK;

    if (s->off < s->out.len)
        return (long)tail_drain(&s->out, &s->off, out, cap);
    if (s->done)
        return API_STREAM_END;
    tail_take(s->sub, &list, &dropped, &ended);
    for (struct tail_ev *e = list; e != NULL && st == SL_OK; e = e->next)
        st = sse_event(&s->out, e);
    tail_ev_free(list);
    if (st == SL_OK && dropped > 0)
        st = buf_printf(&s->out, "event: dropped\ndata: {\"dropped\":%llu}\n\n",
                        (unsigned long long)dropped);
    if (st == SL_OK && s->out.len == 0 &&
        now - s->last_write_ms >= SSE_KEEPALIVE_MS)
        st = buf_puts(&s->out, ": keep-alive\n\n");
    if (st != SL_OK || ended)
        s->done = true;          /* out of memory: end rather than lie */
    if (s->out.len > 0) {
        s->last_write_ms = now;
        return (long)tail_drain(&s->out, &s->off, out, cap);
    }
    return s->done ? API_STREAM_END : 0;
}

static void sse_close(void *ctx)
{
    struct sse *s = ctx;
    tail_unsubscribe(s->sub);
    buf_fini(&s->out);
    sl_free(s);
}

void rest_group_tail(struct route *r)
{
    struct sl_err err = {0};
    struct cat_group g;
    struct tail_spec spec = {0};
    struct fpat *pat = NULL;
    struct sse *s;
    bool bad1, bad2, bad3;
    const char *stream = args_get(r->req, "stream", &bad1);
    const char *prefix = args_get(r->req, "prefix", &bad2);
    const char *filter = args_get(r->req, "filter", &bad3);
    sqlite3 *db;
    enum sl_status st;

    if (bad1 || bad2 || bad3) {
        apierr_replyf(r->resp, SL_INVALID,
                      "stream, prefix and filter must be valid percent-encoding");
        return;
    }
    db = store_reader(r->api->store);
    st = cat_group_find(db, r->group, r->req->arena, &g, &err);
    store_reader_release(r->api->store, db);
    if (st != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    if (filter != NULL && *filter != '\0' &&
        fpat_compile(filter, strlen(filter), &pat, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    s = sl_calloc(1, sizeof(*s));
    if (s == NULL) {
        fpat_free(pat);
        apierr_replyf(r->resp, SL_NOMEM, "out of memory");
        return;
    }
    buf_init(&s->out, SIZE_MAX / 2);
    spec.n_groups = 1;
    spec.group_ids[0] = g.id;
    spec.group_labels[0] = r->group;
    spec.stream_names = stream ? &stream : NULL;
    spec.n_stream_names = stream ? 1 : 0;
    spec.stream_prefixes = prefix ? &prefix : NULL;
    spec.n_stream_prefixes = prefix ? 1 : 0;
    spec.pattern = pat;
    spec.max_queue = SSE_MAX_QUEUE;
    spec.wake_on_data = true;
    spec.wake = r->req->resume;
    spec.wake_ctx = r->req->resume_ctx;
    if (tail_subscribe(r->api->tail, &spec, &s->sub, &err) != SL_OK ||
        buf_printf(&s->out, ": tailing %s\n\n", r->group) != SL_OK) {
        if (err.code == SL_OK)
            sl_fail(&err, SL_NOMEM, "out of memory");
        tail_unsubscribe(s->sub);
        buf_fini(&s->out);
        sl_free(s);
        apierr_reply(r->resp, &err);
        return;
    }
    s->last_write_ms = sl_mono_ms();
    r->resp->status = 200;
    r->resp->content_type = "text/event-stream";
    r->resp->stream = (struct api_stream){
        .pull = sse_pull, .close = sse_close, .ctx = s};
}
