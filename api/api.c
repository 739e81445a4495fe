/* api/api.c: the api handle and the router. Routes match on the raw path
 * split at '/', so a percent-encoded '/' inside a group name (%2F) never
 * splits it; each name segment is decoded only after matching. */
#include "api/api_int.h"
#include "api/ingest_http.h"

#include "api/tail.h"
#include "common/alloc.h"

#include <stdio.h>
#include <string.h>

void api_config_defaults(struct api_config *c)
{
    c->max_batch_events = 10000;
    c->max_batch_bytes = 1048576;
    c->max_event_bytes = 262144;
    c->max_age_ms = 14LL * 86400000;
    c->max_ahead_ms = 2LL * 3600000;
    c->max_inflight_bytes = 64u << 20;
    snprintf(c->account_id, sizeof(c->account_id), "000000000000");
    snprintf(c->region, sizeof(c->region), "us-east-1");
    c->max_queries = 20;
    c->query_timeout_ms = 15 * 60000;
    c->query_mem = 256u << 20;
}

struct api *api_create(struct store *s, const struct api_config *c)
{
    struct sl_err err = {0};
    struct api *a = sl_calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->store = s;
    a->cfg = *c;
    atomic_init(&a->inflight, 0);
    a->tail = tail_hub_create(s);
    if (a->tail == NULL || rest_query_init(a, &err) != SL_OK) {
        tail_hub_destroy(a->tail);
        sl_free(a);
        return NULL;
    }
    return a;
}

void api_destroy(struct api *a)
{
    if (a == NULL)
        return;
    rest_query_fini(a);
    tail_hub_destroy(a->tail);
    sl_free(a);
}

void api_streams_end(struct api *a)
{
    tail_hub_shutdown(a->tail);
}

bool api_inflight_admit(struct api *a, size_t bytes)
{
    size_t cur = atomic_load(&a->inflight);
    do {
        if (cur + bytes > a->cfg.max_inflight_bytes && cur > 0)
            return false;
    } while (!atomic_compare_exchange_weak(&a->inflight, &cur, cur + bytes));
    return true;
}

void api_inflight_release(struct api *a, size_t bytes)
{
    atomic_fetch_sub(&a->inflight, bytes);
}

#define MAX_SEGS 8

/* Splits the raw path into segments (not decoded). */
static int split_path(const char *path, const char **seg, size_t *len)
{
    int n = 0;
    const char *p = path;
    if (*p == '/')
        p++;
    while (*p != '\0') {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (n == MAX_SEGS)
            return -1;
        seg[n] = p;
        len[n] = l;
        n++;
        if (slash == NULL)
            break;
        p = slash + 1;
        if (*p == '\0') {           /* trailing slash: an empty segment */
            if (n == MAX_SEGS)
                return -1;
            seg[n] = p;
            len[n] = 0;
            n++;
        }
    }
    return n;
}

static bool seg_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static bool method_is(const struct api_req *req, const char *m)
{
    return strcmp(req->method, m) == 0;
}

static void method_not_allowed(struct route *r, const char *allowed)
{
    apierr_replyf(r->resp, SL_METHOD, "%s is not allowed on %s; use %s",
                  r->req->method, r->req->path, allowed);
}

/* Decodes path segment i into *out; false (and a 400) when malformed. */
static bool decode_name(struct route *r, const char *s, size_t n,
                        const char **out)
{
    *out = args_unescape(r->req->arena, s, n, false);
    if (*out == NULL) {
        apierr_replyf(r->resp, SL_INVALID,
                      "bad percent-encoding in the path %s", r->req->path);
        return false;
    }
    if (**out == '\0') {
        apierr_replyf(r->resp, SL_INVALID, "empty name in the path %s",
                      r->req->path);
        return false;
    }
    return true;
}

enum api_result api_handle(struct api *a, struct api_req *req,
                           struct api_resp *resp)
{
    struct route r = {.api = a, .req = req, .resp = resp};
    const char *seg[MAX_SEGS];
    size_t len[MAX_SEGS];
    int n = split_path(req->path, seg, len);

    resp->status = 500;
    resp->content_type = "application/json";
    if (n == 0 && method_is(req, "POST"))
        return cwl_handle(a, req, resp);
    if (n == 1 && seg_is(seg[0], len[0], "healthz")) {
        if (!method_is(req, "GET") && !method_is(req, "HEAD")) {
            method_not_allowed(&r, "GET");
            return API_DONE;
        }
        json_t *o = json_object();
        json_object_set_new(o, "status", json_string("ok"));
        reply_json(resp, 200, o);
        return API_DONE;
    }
    {
        enum api_result res;
        if (ih_route(&r, &res))     /* the HTTP ingest endpoints */
            return res;
    }
    if (n < 3 || !seg_is(seg[0], len[0], "api") || !seg_is(seg[1], len[1], "v1"))
        goto not_found;
    if (n == 4 && seg_is(seg[2], len[2], "admin") &&
        seg_is(seg[3], len[3], "compact")) {
        if (!method_is(req, "POST"))
            method_not_allowed(&r, "POST");
        else
            rest_admin_compact(&r);
        return API_DONE;
    }
    if (n == 4 && seg_is(seg[2], len[2], "admin") &&
        seg_is(seg[3], len[3], "stats")) {
        if (!method_is(req, "GET"))
            method_not_allowed(&r, "GET");
        else
            rest_admin_stats(&r);
        return API_DONE;
    }
    if (n == 3 && seg_is(seg[2], len[2], "query")) {
        if (method_is(req, "POST"))
            return rest_query_sync(&r);
        method_not_allowed(&r, "POST");
        return API_DONE;
    }
    if (seg_is(seg[2], len[2], "queries")) {
        if (n == 3 && method_is(req, "GET"))
            rest_queries_list(&r);
        else if (n == 3 && method_is(req, "POST"))
            rest_query_start(&r);
        else if (n == 3)
            method_not_allowed(&r, "GET or POST");
        else if (n == 4 && seg_is(seg[3], len[3], "explain") &&
                 method_is(req, "POST"))
            rest_query_explain(&r);
        else if (n == 4 && seg_is(seg[3], len[3], "explain"))
            method_not_allowed(&r, "POST");
        else if (n == 4 && decode_name(&r, seg[3], len[3], &r.id)) {
            if (method_is(req, "GET"))
                rest_query_get(&r);
            else if (method_is(req, "DELETE"))
                rest_query_stop(&r);
            else
                method_not_allowed(&r, "GET or DELETE");
        } else if (n != 4)
            goto not_found;
        return API_DONE;
    }
    if (n == 4 && seg_is(seg[2], len[2], "records")) {
        if (!decode_name(&r, seg[3], len[3], &r.id))
            return API_DONE;
        if (method_is(req, "GET"))
            rest_record_get(&r);
        else
            method_not_allowed(&r, "GET");
        return API_DONE;
    }
    if (!seg_is(seg[2], len[2], "groups"))
        goto not_found;
    if (n == 3) {
        if (method_is(req, "GET"))
            rest_groups_list(&r);
        else if (method_is(req, "POST"))
            rest_group_create(&r);
        else
            method_not_allowed(&r, "GET or POST");
        return API_DONE;
    }
    if (!decode_name(&r, seg[3], len[3], &r.group))
        return API_DONE;
    if (n == 4) {
        if (method_is(req, "GET"))
            rest_group_get(&r);
        else if (method_is(req, "DELETE"))
            rest_group_delete(&r);
        else
            method_not_allowed(&r, "GET or DELETE");
        return API_DONE;
    }
    if (n == 5 && seg_is(seg[4], len[4], "flow-log-format")) {
        if (method_is(req, "PUT") || method_is(req, "DELETE"))
            rest_group_flow_format(&r, method_is(req, "PUT"));
        else
            method_not_allowed(&r, "PUT or DELETE");
        return API_DONE;
    }
    if (n == 5 && seg_is(seg[4], len[4], "fields")) {
        if (method_is(req, "GET"))
            rest_group_fields(&r);
        else
            method_not_allowed(&r, "GET");
        return API_DONE;
    }
    if (n == 5 && seg_is(seg[4], len[4], "tail")) {
        if (method_is(req, "GET"))
            rest_group_tail(&r);
        else
            method_not_allowed(&r, "GET");
        return API_DONE;
    }
    if (!seg_is(seg[4], len[4], "streams"))
        goto not_found;
    if (n == 5) {
        if (method_is(req, "GET"))
            rest_streams_list(&r);
        else if (method_is(req, "POST"))
            rest_stream_create(&r);
        else
            method_not_allowed(&r, "GET or POST");
        return API_DONE;
    }
    if (!decode_name(&r, seg[5], len[5], &r.stream))
        return API_DONE;
    if (n == 6) {
        if (method_is(req, "GET"))
            rest_stream_get(&r);
        else if (method_is(req, "DELETE"))
            rest_stream_delete(&r);
        else
            method_not_allowed(&r, "GET or DELETE");
        return API_DONE;
    }
    if (n == 7 && seg_is(seg[6], len[6], "events")) {
        if (method_is(req, "GET")) {
            rest_events_get(&r);
            return API_DONE;
        }
        if (method_is(req, "POST"))
            return rest_events_post(&r);
        method_not_allowed(&r, "GET or POST");
        return API_DONE;
    }
not_found:
    apierr_replyf(resp, SL_NOT_FOUND, "no such endpoint: %s %s", req->method,
                  req->path);
    return API_DONE;
}
