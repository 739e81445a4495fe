/* api/rest_streams.c: native REST for log streams: create, list (by name
 * or last event time, either way), get, delete. */
#include "api/api_int.h"

#include "storage/catalog.h"
#include "storage/token.h"

#include <string.h>

#define STREAMS_MAX_LIMIT 1000

/* Looks the group up; replies 404 and returns false when missing. */
static bool find_group(struct route *r, sqlite3 *db, struct cat_group *g)
{
    struct sl_err err = {0};
    if (cat_group_get(db, r->group, r->req->arena, g, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return false;
    }
    return true;
}

static void reply_stream(struct route *r, int status, const char *name)
{
    struct sl_err err = {0};
    struct cat_group g;
    struct cat_stream s;
    sqlite3 *db = store_reader(r->api->store);

    if (find_group(r, db, &g)) {
        if (cat_stream_get(db, g.id, name, &s, &err) != SL_OK)
            apierr_reply(r->resp, &err);
        else
            reply_json(r->resp, status, rest_stream_json(&s));
    }
    store_reader_release(r->api->store, db);
}

void rest_stream_create(struct route *r)
{
    struct sl_err err = {0};
    json_t *body = NULL, *name;

    if (args_json_body(r->req, &body, &err) != SL_OK)
        goto fail;
    name = json_object_get(body, "name");
    if (!json_is_string(name)) {
        sl_fail(&err, SL_INVALID, "name is required and must be a string");
        goto fail;
    }
    if (name_check_stream(json_string_value(name), &err) != SL_OK)
        goto fail;
    if (store_stream_create(r->api->store, r->group, json_string_value(name),
                            &err) != SL_OK)
        goto fail;
    reply_stream(r, 201, json_string_value(name));
    json_decref(body);
    return;
fail:
    json_decref(body);
    apierr_reply(r->resp, &err);
}

void rest_stream_get(struct route *r)
{
    reply_stream(r, 200, r->stream);
}

void rest_stream_delete(struct route *r)
{
    struct sl_err err = {0};
    if (store_stream_delete(r->api->store, r->group, r->stream, &err) != SL_OK)
        apierr_reply(r->resp, &err);
    else
        reply_empty(r->resp, 204);
}

void rest_streams_list(struct route *r)
{
    struct sl_err err = {0};
    struct cat_cursor after = {.set = false};
    struct cat_stream *streams;
    struct cat_group g;
    enum cat_stream_order order = CAT_ORDER_NAME;
    struct tok t;
    int64_t limit;
    int n = 0;
    bool more = false, desc = false, bad;
    const char *prefix = args_get(r->req, "prefix", &bad);
    const char *order_s, *token;
    sqlite3 *db;
    enum sl_status st;

    if (bad) {
        apierr_replyf(r->resp, SL_INVALID, "prefix is not valid percent-encoding");
        return;
    }
    order_s = args_get(r->req, "orderBy", &bad);
    if (order_s != NULL && (strcmp(order_s, "lastEventTime") == 0 ||
                            strcmp(order_s, "LastEventTime") == 0))
        order = CAT_ORDER_LAST_EVENT;
    else if (bad || (order_s != NULL && strcmp(order_s, "name") != 0 &&
                     strcmp(order_s, "LogStreamName") != 0)) {
        apierr_replyf(r->resp, SL_INVALID, "orderBy must be name or lastEventTime");
        return;
    }
    if (args_bool(r->req, "descending", false, &desc, &err) != SL_OK ||
        args_int(r->req, "limit", 1, STREAMS_MAX_LIMIT, 50, &limit, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    token = args_get(r->req, "nextToken", &bad);
    if (bad || (token != NULL &&
                (!tok_decode(token, strlen(token), &t) ||
                 t.kind != TOK_KIND_STREAMS || t.nvals != 3 ||
                 t.vals[0] != (int64_t)order || t.vals[1] != (int64_t)desc))) {
        apierr_replyf(r->resp, SL_INVALID, "The specified nextToken is invalid.");
        return;
    }
    if (token != NULL) {
        after.set = true;
        after.last_event_ms = t.vals[2];
        memcpy(after.name, t.str, t.str_len + 1);
    }
    streams = arena_alloc(r->req->arena, (size_t)limit * sizeof(*streams));
    if (streams == NULL) {
        apierr_replyf(r->resp, SL_NOMEM, "out of memory");
        return;
    }
    db = store_reader(r->api->store);
    if (!find_group(r, db, &g)) {
        store_reader_release(r->api->store, db);
        return;
    }
    st = cat_stream_list(db, g.id, prefix, order, desc, &after, (int)limit,
                         streams, &n, &more, &err);
    store_reader_release(r->api->store, db);
    if (st != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    json_t *arr = json_array(), *o = json_object();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, rest_stream_json(&streams[i]));
    json_object_set_new(o, "streams", arr);
    if (more && n > 0) {
        char buf[TOK_MAX_LEN + 1];
        const struct cat_stream *last = &streams[n - 1];
        struct tok next = {.kind = TOK_KIND_STREAMS, .nvals = 3};
        next.vals[0] = order;
        next.vals[1] = desc;
        next.vals[2] = last->last_event_ms == CAT_NONE ? 0 : last->last_event_ms;
        next.str_len = strlen(last->name);
        memcpy(next.str, last->name, next.str_len + 1);
        if (tok_encode(&next, buf, sizeof(buf)) > 0)
            json_object_set_new(o, "nextToken", json_string(buf));
    }
    reply_json(r->resp, 200, o);
}
