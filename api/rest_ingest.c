/* api/rest_ingest.c: POST of events to a stream, the native front of
 * ingest. Picks the body format from Content-Type, optionally creates the
 * group and stream, refuses whole requests only for batch limits, and
 * rejects single events (invalid, too large, outside the time window)
 * reporting them in the client's order; the core (ingest.c) sorts,
 * encodes and commits the rest, and the answer goes out after the commit. */
#include "api/api_int.h"

#include "api/ingest.h"
#include "common/clock.h"
#include "storage/catalog.h"

#include <string.h>
#include <strings.h>

struct rejection {
    size_t index;
    const char *reason;    /* tooOld, tooNew, tooLarge, invalid */
    const char *detail;    /* what is wrong with an invalid event, or NULL */
};

/* Lives in the request arena until the writer answers. */
struct ingest_ctx {
    struct api_resp *resp;
    size_t accepted;
    struct rejection *rej;
    size_t n_rej;
};

static bool media_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, want, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static enum sl_status pick_format(const char *ct, enum ingest_format *f,
                                  struct sl_err *err)
{
    if (ct != NULL && media_is(ct, "application/json")) {
        *f = INGEST_JSON;
    } else if (ct != NULL && (media_is(ct, "application/x-ndjson") ||
                              media_is(ct, "application/jsonl") ||
                              media_is(ct, "application/jsonlines"))) {
        *f = INGEST_NDJSON;
    } else if (ct != NULL && media_is(ct, "text/plain")) {
        *f = INGEST_TEXT;
    } else {
        return sl_fail(err, SL_UNSUPPORTED_MEDIA,
                       "Content-Type must be application/json, "
                       "application/x-ndjson or text/plain; got %s%s",
                       ct ? ct : "none",
                       ct && media_is(ct, "application/x-www-form-urlencoded")
                           ? " (curl -d sends that: add -H 'Content-Type: "
                             "application/json')"
                           : "");
    }
    return SL_OK;
}

static json_t *result_json(const struct ingest_ctx *c)
{
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "accepted", json_integer((json_int_t)c->accepted));
    for (size_t i = 0; i < c->n_rej; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "index", json_integer((json_int_t)c->rej[i].index));
        json_object_set_new(e, "reason", json_string(c->rej[i].reason));
        if (c->rej[i].detail != NULL)
            json_object_set_new(e, "detail", json_string(c->rej[i].detail));
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "rejected", arr);
    return o;
}

static void ingest_done(void *ctx, const struct wr_job *job)
{
    struct ingest_ctx *c = ctx;
    if (job->status != SL_OK)
        apierr_reply(c->resp, &job->err);
    else
        reply_json(c->resp, 200, result_json(c));
}

/* The native name of a verdict; expired events are reported as too old. */
static const char *verdict_name(enum ingest_verdict v)
{
    switch (v) {
    case INGEST_TOO_LARGE:
        return "tooLarge";
    case INGEST_TOO_OLD:
    case INGEST_EXPIRED:
        return "tooOld";
    case INGEST_TOO_NEW:
        return "tooNew";
    case INGEST_KEEP:
        break;
    }
    return NULL;
}

/* Finds the group and stream, creating them when asked to. */
static enum sl_status resolve(struct route *r, bool create, int64_t *group_id,
                              int64_t *stream_id, int *retention,
                              struct sl_err *err)
{
    struct store *s = r->api->store;
    enum sl_status st = store_lookup_stream(s, r->group, r->stream, group_id,
                                            stream_id, retention,
                                            create ? NULL : err);
    if (st != SL_NOT_FOUND || !create)
        return st;
    if (name_check_group(r->group, err) != SL_OK ||
        name_check_stream(r->stream, err) != SL_OK)
        return err->code;
    st = store_ensure_stream(s, r->group, r->stream, group_id, stream_id, err);
    if (st != SL_OK)
        return st;
    /* The group may have existed already, with a retention policy. */
    return store_lookup_stream(s, r->group, r->stream, group_id, stream_id,
                               retention, err);
}

enum api_result rest_events_post(struct route *r)
{
    const struct api_config *cfg = &r->api->cfg;
    struct arena *a = r->req->arena;
    struct sl_err err = {0};
    struct ingest_batch batch;
    struct ingest_limits lim = {.max_events = cfg->max_batch_events};
    struct ingest_window win;
    struct ingest_ctx *c;
    struct seg_event *ev;
    enum ingest_format fmt = INGEST_JSON;
    int64_t now = sl_now_ms(), group_id, stream_id;
    size_t n_ev = 0, batch_bytes;
    int retention = 0;
    bool create;

    if (args_bool(r->req, "create", false, &create, &err) != SL_OK ||
        pick_format(r->req->content_type, &fmt, &err) != SL_OK)
        goto fail;
    if (ingest_decode(fmt, r->req->body, r->req->body_len, "events", true, now,
                      &lim, a, &batch, &err) != SL_OK)
        goto fail;
    batch_bytes = ingest_batch_bytes(&batch);
    if (batch_bytes > cfg->max_batch_bytes) {
        sl_fail(&err, SL_TOO_LARGE,
                "batch of %zu bytes exceeds the limit of %zu bytes (message "
                "bytes + 26 per event); split it into smaller requests",
                batch_bytes, cfg->max_batch_bytes);
        goto fail;
    }
    if (resolve(r, create, &group_id, &stream_id, &retention, &err) != SL_OK)
        goto fail;

    c = arena_alloc(a, sizeof(*c));
    ev = arena_alloc(a, (batch.n ? batch.n : 1) * sizeof(*ev));
    if (c == NULL || ev == NULL) {
        sl_fail(&err, SL_NOMEM, "out of memory");
        goto fail;
    }
    memset(c, 0, sizeof(*c));
    c->resp = r->resp;
    c->rej = arena_alloc(a, (batch.n ? batch.n : 1) * sizeof(*c->rej));
    if (c->rej == NULL) {
        sl_fail(&err, SL_NOMEM, "out of memory");
        goto fail;
    }
    ingest_window_init(&win, cfg, now, retention);
    for (size_t i = 0; i < batch.n; i++) {
        const struct ingest_event *e = &batch.ev[i];
        const char *why;
        if (e->invalid) {
            c->rej[c->n_rej++] = (struct rejection){i, "invalid", e->invalid_why};
            continue;
        }
        why = verdict_name(ingest_judge(&win, e));
        if (why != NULL) {
            c->rej[c->n_rej++] = (struct rejection){i, why, NULL};
            continue;
        }
        ev[n_ev++] = (struct seg_event){.ts = e->ts, .ingest = now,
                                        .seq = (int64_t)i, .msg = e->msg,
                                        .len = e->len};
    }
    c->accepted = n_ev;
    if (n_ev == 0) {
        reply_json(r->resp, 200, result_json(c));
        return API_DONE;
    }
    if (ingest_submit(r->api, r->req, group_id, stream_id, ev, n_ev, now,
                      ingest_done, c, &err) != SL_OK)
        goto fail;
    return API_PENDING;
fail:
    apierr_reply(r->resp, &err);
    return API_DONE;
}
