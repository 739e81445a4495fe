/* api/rest_events.c: GET of a stream's events, in either order, paged with
 * position tokens that survive compaction and restarts. */
#include "api/api_int.h"

#include "storage/catalog.h"
#include "storage/reader.h"
#include "storage/token.h"

#include <string.h>

#define EVENTS_MAX_LIMIT   10000
#define EVENTS_PAGE_BYTES  (1024 * 1024)   /* as CloudWatch: 1 MB a page */

struct page {
    json_t *events;
    int64_t limit;
    int64_t count;
    size_t bytes;
    bool more;             /* one more event exists past the page */
    int64_t last_ts, last_seq;
};

static bool collect(void *ctx, const struct rd_event *e)
{
    struct page *p = ctx;
    json_t *o;

    if (p->count == p->limit ||
        (p->count > 0 && p->bytes + e->len > EVENTS_PAGE_BYTES)) {
        p->more = true;
        return false;
    }
    o = json_object();
    json_object_set_new(o, "timestamp", json_integer(e->ts));
    json_object_set_new(o, "ingestionTime", json_integer(e->ingest));
    json_object_set_new(o, "message", json_stringn_nocheck(e->msg, e->len));
    json_array_append_new(p->events, o);
    p->count++;
    p->bytes += e->len;
    p->last_ts = e->ts;
    p->last_seq = e->seq;
    return true;
}

void rest_events_get(struct route *r)
{
    struct sl_err err = {0};
    struct cat_group g;
    struct cat_stream s;
    struct rd_scan scan = {0};
    struct page page = {0};
    struct tok t;
    const char *order, *token;
    bool bad;
    sqlite3 *db;
    enum sl_status st;

    order = args_get(r->req, "order", &bad);
    if (bad || (order != NULL && strcmp(order, "asc") != 0 &&
                strcmp(order, "desc") != 0)) {
        apierr_replyf(r->resp, SL_INVALID, "order must be asc or desc");
        return;
    }
    scan.desc = order != NULL && strcmp(order, "desc") == 0;
    if (args_time(r->req, "start", 0, &scan.start, &err) != SL_OK ||
        args_time(r->req, "end", INT64_MAX, &scan.end, &err) != SL_OK ||
        args_int(r->req, "limit", 1, EVENTS_MAX_LIMIT, 1000, &page.limit,
                 &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    token = args_get(r->req, "nextToken", &bad);
    if (bad || (token != NULL &&
                (!tok_decode(token, strlen(token), &t) ||
                 t.kind != TOK_KIND_EVENTS || t.nvals != 4))) {
        apierr_replyf(r->resp, SL_INVALID, "The specified nextToken is invalid.");
        return;
    }
    db = store_reader(r->api->store);
    st = cat_group_find(db, r->group, r->req->arena, &g, &err);
    if (st == SL_OK)
        st = cat_stream_get(db, g.id, r->stream, &s, &err);
    if (st == SL_OK && token != NULL) {
        if (t.vals[0] != s.id || t.vals[3] != (int64_t)scan.desc) {
            st = sl_fail(&err, SL_INVALID,
                         "The specified nextToken is invalid: it belongs to "
                         "another stream or the other order.");
        } else {
            scan.has_after = true;
            scan.after_ts = t.vals[1];
            scan.after_seq = t.vals[2];
        }
    }
    if (st == SL_OK) {
        scan.stream_id = s.id;
        page.events = json_array();
        st = rd_stream_scan(db, &scan, collect, &page, &err);
    }
    store_reader_release(r->api->store, db);
    if (st != SL_OK) {
        json_decref(page.events);
        apierr_reply(r->resp, &err);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "events", page.events);
    if (page.more) {
        struct tok next = {.kind = TOK_KIND_EVENTS, .nvals = 4,
                           .vals = {s.id, page.last_ts, page.last_seq, scan.desc}};
        page_set_token(o, &next);
    }
    reply_json(r->resp, 200, o);
}
