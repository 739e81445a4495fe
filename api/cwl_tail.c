/* api/cwl_tail.c: StartLiveTail (reference 2.20). Validates the request,
 * subscribes to the tail hub and answers with an AWS event stream
 * (evstream.h): an initial-response event (botocore's JSON protocol
 * parser requires one before any other event), sessionStart, then a
 * sessionUpdate each second (empty when nothing arrived) with at most 500
 * events, evenly sampled beyond that or after queue drops. After 3 hours a
 * SessionTimeoutException ends the session; when the server stops, a
 * SessionStreamingException does. The client closing the connection ends
 * it too (the server notices on the next write, within a second). */
#include "api/cwl_int.h"

#include "api/evstream.h"
#include "api/json_out.h"
#include "api/tail.h"
#include "common/alloc.h"
#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LT_UPDATE_MS 1000
#define LT_MAX_RESULTS 500
#define LT_MAX_QUEUE 5000
#define LT_SESSION_MS (3LL * 3600 * 1000)
#define LT_CONTENT_TYPE "application/vnd.amazon.eventstream"

struct lt {
    struct tail_sub *sub;
    struct buf out;
    size_t off;
    int phase;                   /* 0 start to send, 1 updates, 2 ending */
    char *start_json;            /* the sessionStart payload, owned */
    int64_t start_ms, last_update_ms;
};

static enum sl_status lt_result(struct buf *b, const struct tail_ev *e,
                                bool first)
{
    enum sl_status st;
    if ((st = buf_puts(b, first ? "{" : ",{")) != SL_OK ||
        (st = jout_key(b, "logStreamName")) != SL_OK ||
        (st = jout_cstr(b, e->stream)) != SL_OK ||
        (st = buf_putc(b, ',')) != SL_OK ||
        (st = jout_key(b, "logGroupIdentifier")) != SL_OK ||
        (st = jout_cstr(b, e->group_label)) != SL_OK ||
        (st = buf_putc(b, ',')) != SL_OK ||
        (st = jout_key(b, "message")) != SL_OK ||
        (st = jout_str(b, e->msg, e->len)) != SL_OK)
        return st;
    return buf_printf(b, ",\"timestamp\":%lld,\"ingestionTime\":%lld}",
                      (long long)e->ts, (long long)e->ingest);
}

/* One sessionUpdate from what the hub queued since the last one. */
static enum sl_status lt_update(struct lt *t)
{
    struct tail_ev *list, **pick;
    uint64_t dropped;
    bool ended, sampled;
    size_t n = tail_take(t->sub, &list, &dropped, &ended), k = 0, want;
    struct buf p;
    enum sl_status st;

    (void)ended;
    want = n > LT_MAX_RESULTS ? LT_MAX_RESULTS : n;
    sampled = n > LT_MAX_RESULTS || dropped > 0;
    pick = sl_calloc(n ? n : 1, sizeof(*pick));
    if (pick == NULL) {
        tail_ev_free(list);
        return SL_NOMEM;
    }
    for (struct tail_ev *e = list; e != NULL; e = e->next)
        pick[k++] = e;
    buf_init(&p, SIZE_MAX / 2);
    st = buf_printf(&p, "{\"sessionMetadata\":{\"sampled\":%s},"
                        "\"sessionResults\":[", sampled ? "true" : "false");
    for (size_t i = 0; i < want && st == SL_OK; i++)
        st = lt_result(&p, pick[n > want ? i * n / want : i], i == 0);
    if (st == SL_OK)
        st = buf_puts(&p, "]}");
    if (st == SL_OK)
        st = evs_event(&t->out, "sessionUpdate", p.data, p.len);
    buf_fini(&p);
    sl_free(pick);
    tail_ev_free(list);
    return st;
}

static enum sl_status lt_exception(struct lt *t, const char *type,
                                   const char *msg)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);
    return evs_exception(&t->out, type, body, (size_t)n);
}

static long lt_pull(void *ctx, char *out, size_t cap)
{
    struct lt *t = ctx;
    int64_t now = sl_mono_ms();
    enum sl_status st = SL_OK;

    if (t->off < t->out.len)
        return (long)tail_drain(&t->out, &t->off, out, cap);
    if (t->phase == 2)
        return API_STREAM_END;
    if (t->phase == 0) {
        st = evs_event(&t->out, "initial-response", "{}", 2);
        if (st == SL_OK)
            st = evs_event(&t->out, "sessionStart", t->start_json,
                           strlen(t->start_json));
        t->phase = 1;
        t->last_update_ms = now;
    } else if (tail_closing(t->sub)) {
        st = lt_exception(t, "SessionStreamingException",
                          "The server is shutting down.");
        t->phase = 2;
    } else if (now - t->start_ms >= LT_SESSION_MS) {
        st = lt_exception(t, "SessionTimeoutException",
                          "The session timed out after 3 hours.");
        t->phase = 2;
    } else if (now - t->last_update_ms >= LT_UPDATE_MS) {
        st = lt_update(t);
        t->last_update_ms = now;
    }
    if (st != SL_OK) {           /* out of memory: end the stream */
        buf_clear(&t->out);
        t->off = 0;
        t->phase = 2;
        return API_STREAM_END;
    }
    if (t->out.len > 0)
        return (long)tail_drain(&t->out, &t->off, out, cap);
    return t->phase == 2 ? API_STREAM_END : 0;
}

static void lt_close(void *ctx)
{
    struct lt *t = ctx;
    tail_unsubscribe(t->sub);
    buf_fini(&t->out);
    free(t->start_json);         /* from json_dumps */
    sl_free(t);
}


static json_t *str_array(const char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* The sessionStart payload. */
static char *start_json(struct cwl_call *c, const char **ids, size_t n_ids,
                        const char **names, size_t n_names,
                        const char **prefixes, size_t n_prefixes,
                        const char *pattern)
{
    json_t *o = json_object();
    const char *sid = cwl_uuid(c->arena);
    char *text;

    json_object_set_new(o, "requestId",
                        json_string(c->resp->request_id ? c->resp->request_id : ""));
    json_object_set_new(o, "sessionId", json_string(sid ? sid : ""));
    json_object_set_new(o, "logGroupIdentifiers", str_array(ids, n_ids));
    if (n_names > 0)
        json_object_set_new(o, "logStreamNames", str_array(names, n_names));
    if (n_prefixes > 0)
        json_object_set_new(o, "logStreamNamePrefixes",
                            str_array(prefixes, n_prefixes));
    if (pattern != NULL)
        json_object_set_new(o, "logEventFilterPattern", json_string(pattern));
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* The group of one identifier (a name or an ARN): its id. */
static enum sl_status resolve_group(struct cwl_call *c, const char *ident,
                                    int64_t *id)
{
    const char *name = ident;
    struct cat_group g;
    sqlite3 *db;
    enum sl_status st;

    if (strncmp(ident, "arn:", 4) == 0) {
        if (cwl_parse_group_arn(c, "logGroupIdentifiers", ident, &name) != SL_OK)
            return c->err.code;
    } else if (name_check_group(ident, &c->err) != SL_OK) {
        return c->err.code;
    }
    db = store_reader(c->api->store);
    st = cat_group_find(db, name, c->arena, &g, &c->err);
    store_reader_release(c->api->store, db);
    if (st == SL_NOT_FOUND)
        return sl_fail(&c->err, SL_NOT_FOUND,
                       "The specified log group does not exist.");
    if (st == SL_OK)
        *id = g.id;
    return st;
}

enum sl_status cwl_start_live_tail(struct cwl_call *c)
{
    const char **ids = NULL, **names = NULL, **prefixes = NULL;
    size_t n_ids = 0, n_names = 0, n_prefixes = 0;
    const char *pattern = NULL;
    struct tail_spec spec = {0};
    struct fpat *pat = NULL;
    struct lt *t;

    if (cwl_str_list(c, "logGroupIdentifiers", CWL_REQUIRED, 1,
                     TAIL_MAX_GROUPS, 2048, &ids, &n_ids) != SL_OK ||
        cwl_str_list(c, "logStreamNames", CWL_OPTIONAL, 1, 100, CAT_NAME_MAX,
                     &names, &n_names) != SL_OK ||
        cwl_str_list(c, "logStreamNamePrefixes", CWL_OPTIONAL, 1, 100,
                     CAT_NAME_MAX, &prefixes, &n_prefixes) != SL_OK ||
        cwl_str(c, "logEventFilterPattern", CWL_OPTIONAL, 0, FPAT_MAX_CHARS,
                &pattern) != SL_OK)
        return c->err.code;
    if (n_names > 0 && n_prefixes > 0)
        return sl_fail(&c->err, SL_INVALID,
                       "logStreamNames and logStreamNamePrefixes are mutually "
                       "exclusive.");
    if ((n_names > 0 || n_prefixes > 0) && n_ids != 1)
        return sl_fail(&c->err, SL_INVALID,
                       "logStreamNames and logStreamNamePrefixes need exactly "
                       "one log group in logGroupIdentifiers.");
    for (size_t i = 0; i < n_ids; i++) {
        if (resolve_group(c, ids[i], &spec.group_ids[i]) != SL_OK)
            return c->err.code;
        spec.group_labels[i] = ids[i];
    }
    /* The arena outlives the subscription; the body does not. */
    if (pattern != NULL &&
        (pattern = arena_strndup(c->arena, pattern, strlen(pattern))) == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    if (pattern != NULL &&
        fpat_compile(pattern, strlen(pattern), &pat, &c->err) != SL_OK)
        return c->err.code;
    t = sl_calloc(1, sizeof(*t));
    if (t == NULL) {
        fpat_free(pat);
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    }
    buf_init(&t->out, SIZE_MAX / 2);
    t->start_json = start_json(c, ids, n_ids, names, n_names, prefixes,
                               n_prefixes, pattern);
    spec.n_groups = n_ids;
    spec.stream_names = names;
    spec.n_stream_names = n_names;
    spec.stream_prefixes = prefixes;
    spec.n_stream_prefixes = n_prefixes;
    spec.pattern = pat;
    spec.max_queue = LT_MAX_QUEUE;
    spec.wake = c->req->resume;
    spec.wake_ctx = c->req->resume_ctx;
    if (t->start_json == NULL) {
        fpat_free(pat);
        sl_free(t);
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    }
    if (tail_subscribe(c->api->tail, &spec, &t->sub, &c->err) != SL_OK) {
        free(t->start_json);
        sl_free(t);
        return c->err.code;
    }
    t->start_ms = sl_mono_ms();
    c->resp->status = 200;
    c->resp->content_type = LT_CONTENT_TYPE;
    c->resp->stream = (struct api_stream){
        .pull = lt_pull, .close = lt_close, .ctx = t};
    return SL_OK;
}
