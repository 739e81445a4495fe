/* api/ingest_http.c: the parts every HTTP ingest endpoint shares (see
 * ingest_http.h): target and token from headers or query, body decoding,
 * the event list, the hand-off to the ingest core and error answers. */
#include "api/ingest_http.h"

#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *header(struct api_req *req, const char *name)
{
    return req->header != NULL ? req->header(req->header_ctx, name) : NULL;
}

/* One name from header hname or query parameter qname. */
static enum sl_status one_name(struct api_req *req, bool allow_query,
                               const char *hname, const char *qname,
                               const char **out, struct sl_err *err)
{
    const char *h = header(req, hname), *q = NULL;
    bool bad = false;

    if (h != NULL && *h == '\0')
        h = NULL;
    if (allow_query) {
        q = args_get(req, qname, &bad);
        if (bad)
            return sl_fail(err, SL_INVALID,
                           "bad percent-encoding in query parameter %s",
                           qname);
        if (q != NULL && *q == '\0')
            q = NULL;
    }
    if (h != NULL && q != NULL)
        return sl_fail(err, SL_INVALID,
                       "%s is named both by the %s header and the %s query "
                       "parameter; use one of them",
                       qname, hname, qname);
    if (h == NULL && q == NULL) {
        if (allow_query)
            return sl_fail(err, SL_INVALID,
                           "missing %s: send the %s header or the %s query "
                           "parameter",
                           qname, hname, qname);
        return sl_fail(err, SL_INVALID, "missing %s: send the %s header",
                       qname, hname);
    }
    *out = h != NULL ? h : q;
    return SL_OK;
}

enum sl_status ih_target_get(struct api_req *req, bool allow_query,
                             struct ih_target *t, struct sl_err *err)
{
    const char *auth = header(req, "Authorization");

    memset(t, 0, sizeof(*t));
    if (one_name(req, allow_query, "x-aws-log-group", "logGroup", &t->group,
                 err) != SL_OK ||
        one_name(req, allow_query, "x-aws-log-stream", "logStream",
                 &t->stream, err) != SL_OK)
        return err->code;
    if (name_check_group(t->group, err) != SL_OK ||
        name_check_stream(t->stream, err) != SL_OK)
        return err->code;
    /* Bearer tokens are recorded, not checked (that comes with auth). */
    if (auth != NULL && (strncasecmp(auth, "Bearer ", 7) == 0 ||
                         strncasecmp(auth, "Splunk ", 7) == 0)) {
        t->bearer = auth + 7;
        sl_debug("ingest: bearer token of %zu bytes for %s/%s",
                 strlen(t->bearer), t->group, t->stream);
    }
    return SL_OK;
}

enum sl_status ih_body(struct api_req *req, const char **body, size_t *len,
                       struct sl_err *err)
{
    const char *enc = header(req, "Content-Encoding");

    if (enc == NULL || *enc == '\0' || strcasecmp(enc, "identity") == 0) {
        *body = req->body != NULL ? req->body : "";
        *len = req->body_len;
        return SL_OK;
    }
    if (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "x-gzip") == 0 ||
        strcasecmp(enc, "deflate") == 0)
        return ih_gunzip(req->arena, req->body, req->body_len,
                         IH_MAX_INFLATED, body, len, err);
    return sl_fail(err, SL_UNSUPPORTED_MEDIA,
                   "Content-Encoding %s is not supported; send gzip or an "
                   "uncompressed body",
                   enc);
}

enum sl_status ih_parse_admit(struct route *r, size_t len, struct sl_err *err)
{
    if (api_inflight_admit(r->api, len * IH_TREE_FACTOR))
        return SL_OK;
    return sl_fail(err, SL_BUSY,
                   "too many large request bodies are being read; retry "
                   "shortly");
}

void ih_parse_release(struct route *r, size_t len)
{
    api_inflight_release(r->api, len * IH_TREE_FACTOR);
}

bool ih_media_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, want, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

bool ih_list_add(struct arena *a, struct ih_list *l, int64_t ts,
                 const char *msg, size_t len, const char *why)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct ih_event *ev = arena_alloc(a, cap * sizeof(*ev));
        if (ev == NULL)
            return false;
        if (l->n > 0)
            memcpy(ev, l->ev, l->n * sizeof(*ev));
        l->ev = ev;
        l->cap = cap;
    }
    if (why == NULL && len == 0)
        why = "message is empty";
    l->ev[l->n++] = (struct ih_event){.ts = ts, .msg = msg, .len = len,
                                      .why = why};
    if (why == NULL)
        l->message_bytes += len;
    return true;
}

bool ih_list_add_copy(struct arena *a, struct ih_list *l, int64_t ts,
                      const char *s, size_t len)
{
    char *m = len ? arena_strndup(a, s, len) : NULL;
    if (len && m == NULL)
        return false;
    return ih_list_add(a, l, ts, m, len, NULL);
}

bool ih_list_add_json(struct arena *a, struct ih_list *l, int64_t ts,
                      json_t *v, const char *raw, size_t raw_len)
{
    char *dump;
    bool ok;

    if (json_is_string(v))
        return ih_list_add_copy(a, l, ts, json_string_value(v),
                                json_string_length(v));
    if (raw != NULL)
        return ih_list_add(a, l, ts, raw, raw_len, NULL);
    dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (dump == NULL)
        return false;
    ok = ih_list_add_copy(a, l, ts, dump, strlen(dump));
    free(dump);
    return ok;
}

/* Lives in the request arena until the writer answers. */
struct submit_ctx {
    struct api_resp *resp;
    struct ih_outcome o;
    ih_done_fn done;
    void *ctx;
};

static void submitted(void *ctx, const struct wr_job *job)
{
    struct submit_ctx *c = ctx;
    c->done(c->resp, c->ctx, &c->o, job);
}

enum api_result ih_submit(struct route *r, const struct ih_target *t,
                          const struct ih_list *l, int64_t now,
                          ih_done_fn done, void *ctx, struct sl_err *err)
{
    const struct api_config *cfg = &r->api->cfg;
    struct arena *a = r->req->arena;
    struct ingest_window win;
    struct submit_ctx *c;
    struct seg_event *ev;
    int64_t group_id, stream_id;
    int retention = 0;
    size_t n_ev = 0, bytes = l->message_bytes + l->n * INGEST_EVENT_OVERHEAD;

    if (l->n > cfg->max_batch_events) {
        sl_fail(err, SL_TOO_LARGE,
                "%zu events in one request exceed the limit of %zu; split "
                "them into smaller requests",
                l->n, cfg->max_batch_events);
        return API_DONE;
    }
    if (bytes > cfg->max_batch_bytes) {
        sl_fail(err, SL_TOO_LARGE,
                "batch of %zu bytes exceeds the limit of %zu bytes (message "
                "bytes + 26 per event); split it into smaller requests",
                bytes, cfg->max_batch_bytes);
        return API_DONE;
    }
    if (store_lookup_stream(r->api->store, t->group, t->stream, &group_id,
                            &stream_id, &retention, err) != SL_OK)
        return API_DONE;
    c = arena_alloc(a, sizeof(*c));
    ev = arena_alloc(a, (l->n ? l->n : 1) * sizeof(*ev));
    if (c == NULL || ev == NULL) {
        sl_fail(err, SL_NOMEM, "out of memory");
        return API_DONE;
    }
    memset(c, 0, sizeof(*c));
    c->resp = r->resp;
    c->done = done;
    c->ctx = ctx;
    ingest_window_init(&win, cfg, now, retention);
    for (size_t i = 0; i < l->n; i++) {
        const struct ih_event *e = &l->ev[i];
        struct ingest_event ie = {.ts = e->ts, .msg = e->msg,
                                  .len = (uint32_t)e->len};
        if (e->why != NULL) {
            if (c->o.invalid++ == 0)
                c->o.first_why = e->why;
            continue;
        }
        switch (ingest_judge(&win, &ie)) {
        case INGEST_KEEP:
            ev[n_ev++] = (struct seg_event){.ts = e->ts, .ingest = now,
                                            .seq = (int64_t)i, .msg = e->msg,
                                            .len = (uint32_t)e->len};
            break;
        case INGEST_TOO_LARGE:
            c->o.too_large++;
            break;
        case INGEST_TOO_OLD:
        case INGEST_EXPIRED:
            c->o.too_old++;
            break;
        case INGEST_TOO_NEW:
            c->o.too_new++;
            break;
        }
    }
    c->o.accepted = n_ev;
    if (n_ev == 0) {
        done(r->resp, ctx, &c->o, NULL);
        return API_DONE;
    }
    if (ingest_submit(r->api, r->req, group_id, stream_id, ev, n_ev, now,
                      submitted, c, err) != SL_OK)
        return API_DONE;
    return API_PENDING;
}

const char *ih_outcome_text(struct arena *a, const struct ih_outcome *o)
{
    char buf[512];
    size_t n = 0;

#define PART(count, ...)                                                   \
    if ((count) > 0 && n < sizeof(buf))                                    \
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, __VA_ARGS__);
    buf[0] = '\0';
    PART(o->invalid, "%zu invalid (%s); ", o->invalid,
         o->first_why ? o->first_why : "unreadable")
    PART(o->too_large, "%zu larger than the event limit; ", o->too_large)
    PART(o->too_old, "%zu older than the accepted window or the group's "
         "retention; ", o->too_old)
    PART(o->too_new, "%zu too far in the future; ", o->too_new)
#undef PART
    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    if (n >= 2 && buf[n - 2] == ';')
        n -= 2;
    return arena_strndup(a, buf, n);
}

void ih_json_done(struct api_resp *resp, void *ctx,
                  const struct ih_outcome *o, const struct wr_job *job)
{
    struct arena *a = ctx;
    size_t rejected = o->invalid + o->too_large + o->too_old + o->too_new;
    json_t *j;

    if (job != NULL && job->status != SL_OK) {
        ih_error_reply(resp, &job->err);
        return;
    }
    j = json_object();
    if (rejected > 0) {
        json_object_set_new(j, "acceptedLogEvents",
                            json_integer((json_int_t)o->accepted));
        json_object_set_new(j, "rejectedLogEvents",
                            json_integer((json_int_t)rejected));
        json_object_set_new(j, "message",
                            json_string(ih_outcome_text(a, o)));
    }
    reply_json(resp, 200, j);
}

void ih_error_reply(struct api_resp *resp, const struct sl_err *err)
{
    enum sl_status code = err->code == SL_OK ? SL_INTERNAL : err->code;
    apierr_reply_aws(resp, err, NULL);
    resp->status = apierr_http_status(code);
    resp->content_type = "application/json";
}

bool ih_route(struct route *r, enum api_result *res)
{
    static const struct {
        const char *path;
        enum api_result (*fn)(struct route *);
    } routes[] = {
        {"/ingest/bulk", ingest_bulk_post},
        {"/ingest/json", ingest_json_post},
        {"/services/collector/event", ingest_hec_post},
        {"/services/collector/event/1.0", ingest_hec_post},
        {"/v1/logs", ingest_otlp_post},
    };
    const char *path = r->req->path;

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(path, routes[i].path) != 0)
            continue;
        if (strcmp(r->req->method, "POST") != 0) {
            apierr_replyf(r->resp, SL_METHOD, "%s is not allowed on %s; use POST",
                          r->req->method, path);
            *res = API_DONE;
        } else {
            *res = routes[i].fn(r);
        }
        return true;
    }
    return false;
}

enum api_result ih_decode_submit(struct route *r, const struct ih_target *t,
                                 int64_t now, ih_decode_fn decode)
{
    struct api_req *req = r->req;
    struct sl_err err = {0};
    struct ih_list l = {0};
    const char *body;
    size_t len;
    enum api_result res;
    enum sl_status st;

    if (ih_body(req, &body, &len, &err) != SL_OK ||
        ih_parse_admit(r, len, &err) != SL_OK)
        goto fail;
    st = decode(req->arena, body, len, now, &l, &err);
    ih_parse_release(r, len);
    if (st != SL_OK)
        goto fail;
    res = ih_submit(r, t, &l, now, ih_json_done, req->arena, &err);
    if (res == API_PENDING || err.code == SL_OK)
        return res;
fail:
    ih_error_reply(r->resp, &err);
    return API_DONE;
}
