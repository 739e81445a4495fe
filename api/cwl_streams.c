/* api/cwl_streams.c: the log stream operations of the CloudWatch protocol:
 * CreateLogStream, DeleteLogStream and DescribeLogStreams (reference
 * 2.4-2.6), over the same catalogue as the native REST streams. */
#include "api/cwl_int.h"

#include "storage/catalog.h"

#include <string.h>

#define DESCRIBE_MAX_LIMIT 50

enum sl_status cwl_create_log_stream(struct cwl_call *c)
{
    const char *group, *stream;
    if (cwl_group_name(c, &group) != SL_OK ||
        cwl_stream_name(c, "logStreamName", &stream) != SL_OK ||
        store_stream_create(c->api->store, group, stream, &c->err) != SL_OK)
        return c->err.code;
    cwl_reply_empty(c);
    return SL_OK;
}

enum sl_status cwl_delete_log_stream(struct cwl_call *c)
{
    const char *group, *stream;
    if (cwl_group_name(c, &group) != SL_OK ||
        cwl_stream_name(c, "logStreamName", &stream) != SL_OK ||
        store_stream_delete(c->api->store, group, stream, &c->err) != SL_OK)
        return c->err.code;
    cwl_reply_empty(c);
    return SL_OK;
}

/* A LogStream object: the event times only once there are events. */
static json_t *stream_json(struct cwl_call *c, const char *group,
                           const struct cat_stream *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "logStreamName", json_string(s->name));
    json_object_set_new(o, "creationTime", json_integer(s->created_ms));
    if (s->first_event_ms != CAT_NONE) {
        char token[57];
        cwl_seq_token(token, s->id, s->last_ingest_ms);
        json_object_set_new(o, "firstEventTimestamp",
                            json_integer(s->first_event_ms));
        json_object_set_new(o, "lastEventTimestamp",
                            json_integer(s->last_event_ms));
        json_object_set_new(o, "lastIngestionTime",
                            json_integer(s->last_ingest_ms));
        json_object_set_new(o, "uploadSequenceToken", json_string(token));
    }
    json_object_set_new(o, "arn", json_string(cwl_stream_arn(c, group, s->name)));
    json_object_set_new(o, "storedBytes", json_integer(s->stored_bytes));
    return o;
}

enum sl_status cwl_describe_log_streams(struct cwl_call *c)
{
    static const char *const orders[] = {"LogStreamName", "LastEventTime",
                                         NULL};
    struct cat_cursor after = {.set = false};
    struct cat_stream *streams;
    struct cat_group g;
    const char *group, *prefix, *token;
    int64_t limit;
    int n = 0, order;
    bool desc, more = false;
    sqlite3 *db;
    enum sl_status st;
    json_t *arr, *o;

    if (cwl_group_ref(c, &group) != SL_OK ||
        cwl_str(c, "logStreamNamePrefix", CWL_OPTIONAL, 1, CAT_NAME_MAX,
                &prefix) != SL_OK ||
        cwl_enum(c, "orderBy", orders, CAT_ORDER_NAME, &order) != SL_OK ||
        cwl_bool(c, "descending", false, &desc) != SL_OK ||
        cwl_int(c, "limit", 1, DESCRIBE_MAX_LIMIT, DESCRIBE_MAX_LIMIT,
                &limit) != SL_OK ||
        cwl_str(c, "nextToken", CWL_OPTIONAL, 1, 4096, &token) != SL_OK)
        return c->err.code;
    _Static_assert(CAT_ORDER_NAME == 0 && CAT_ORDER_LAST_EVENT == 1,
                   "orders[] follows enum cat_stream_order");
    if (order == CAT_ORDER_LAST_EVENT && prefix != NULL)
        return sl_fail(&c->err, SL_INVALID,
                       "Cannot order by LastEventTime with a "
                       "logStreamNamePrefix.");
    if (token != NULL &&
        !page_streams_after(token, (enum cat_stream_order)order, desc, &after))
        return sl_fail(&c->err, SL_INVALID, "The specified nextToken is invalid.");
    streams = arena_alloc(c->arena, (size_t)limit * sizeof(*streams));
    if (streams == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    db = store_reader(c->api->store);
    st = cat_group_find(db, group, c->arena, &g, &c->err);
    if (st == SL_OK)
        st = cat_stream_list(db, g.id, prefix, (enum cat_stream_order)order,
                             desc, &after, (int)limit, streams, &n, &more,
                             &c->err);
    store_reader_release(c->api->store, db);
    if (st != SL_OK)
        return st;
    arr = json_array();
    o = json_object();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, stream_json(c, g.name, &streams[i]));
    json_object_set_new(o, "logStreams", arr);
    if (more && n > 0)
        page_streams_next(o, &streams[n - 1], (enum cat_stream_order)order,
                          desc);
    cwl_reply(c, o);
    return SL_OK;
}
