/* api/rest_streams.c: native REST for log streams: create, list (by name
 * or last event time, either way), get, delete. */
#include "api/api_int.h"

#include "storage/catalog.h"

#include <string.h>

#define STREAMS_MAX_LIMIT 1000

/* Looks the group up; replies 404 and returns false when missing. */
static bool find_group(struct route *r, sqlite3 *db, struct cat_group *g)
{
    struct sl_err err = {0};
    if (cat_group_find(db, r->group, r->req->arena, g, &err) != SL_OK) {
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
    if (bad || (token != NULL && !page_streams_after(token, order, desc, &after))) {
        apierr_replyf(r->resp, SL_INVALID, "The specified nextToken is invalid.");
        return;
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
    if (more && n > 0)
        page_streams_next(o, &streams[n - 1], order, desc);
    reply_json(r->resp, 200, o);
}
