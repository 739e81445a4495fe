/* api/rest_groups.c: native REST for log groups: create, list, get,
 * delete, and the JSON shape of a group. */
#include "api/api_int.h"
#include "query/discover.h"

#include "storage/catalog.h"

#include <string.h>

#define GROUPS_MAX_LIMIT 1000

static void set_time(json_t *o, const char *key, int64_t ms)
{
    json_object_set_new(o, key, ms == CAT_NONE ? json_null() : json_integer(ms));
}

json_t *rest_group_json(const struct cat_group *g)
{
    json_t *o = json_object();
    json_t *tags = json_loads(g->tags ? g->tags : "{}", 0, NULL);
    json_object_set_new(o, "name", json_string(g->name));
    json_object_set_new(o, "creationTime", json_integer(g->created_ms));
    json_object_set_new(o, "retentionDays", g->retention_days > 0
                                                ? json_integer(g->retention_days)
                                                : json_null());
    json_object_set_new(o, "tags", tags ? tags : json_object());
    json_object_set_new(o, "flowLogFormat", g->field_format && g->field_format[0]
                                                ? json_string(g->field_format)
                                                : json_null());
    json_object_set_new(o, "storedBytes", json_integer(g->stored_bytes));
    set_time(o, "firstEventTime", g->first_event_ms);
    set_time(o, "lastEventTime", g->last_event_ms);
    set_time(o, "lastIngestionTime", g->last_ingest_ms);
    return o;
}

json_t *rest_stream_json(const struct cat_stream *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "creationTime", json_integer(s->created_ms));
    set_time(o, "firstEventTime", s->first_event_ms);
    set_time(o, "lastEventTime", s->last_event_ms);
    set_time(o, "lastIngestionTime", s->last_ingest_ms);
    json_object_set_new(o, "storedBytes", json_integer(s->stored_bytes));
    json_object_set_new(o, "segmentCount", json_integer(s->segment_count));
    return o;
}

static void reply_group(struct route *r, int status, const char *name)
{
    struct sl_err err = {0};
    struct cat_group g;
    sqlite3 *db = store_reader(r->api->store);
    enum sl_status st = cat_group_get(db, name, r->req->arena, &g, &err);
    store_reader_release(r->api->store, db);
    if (st != SL_OK)
        apierr_reply(r->resp, &err);
    else
        reply_json(r->resp, status, rest_group_json(&g));
}

void rest_group_create(struct route *r)
{
    struct sl_err err = {0};
    json_t *body = NULL, *name, *ret, *tags;
    char *tags_text = NULL;
    int days = 0;

    if (args_json_body(r->req, &body, &err) != SL_OK)
        goto fail;
    name = json_object_get(body, "name");
    ret = json_object_get(body, "retentionDays");
    tags = json_object_get(body, "tags");
    if (!json_is_string(name)) {
        sl_fail(&err, SL_INVALID, "name is required and must be a string");
        goto fail;
    }
    if (name_check_group(json_string_value(name), &err) != SL_OK)
        goto fail;
    if (ret != NULL && !json_is_null(ret)) {
        if (!json_is_integer(ret) || !name_retention_ok(json_integer_value(ret))) {
            sl_fail(&err, SL_INVALID, "retentionDays must be one of %s",
                    name_retention_list());
            goto fail;
        }
        days = (int)json_integer_value(ret);
    }
    if (tags != NULL && !json_is_null(tags)) {
        if (name_check_tags(tags, &err) != SL_OK)
            goto fail;
        tags_text = json_dumps(tags, JSON_COMPACT | JSON_SORT_KEYS);
    }
    if (store_group_create(r->api->store, json_string_value(name), days,
                           tags_text ? tags_text : "{}", &err) != SL_OK)
        goto fail;
    reply_group(r, 201, json_string_value(name));
    free(tags_text);
    json_decref(body);
    return;
fail:
    free(tags_text);
    json_decref(body);
    apierr_reply(r->resp, &err);
}

void rest_group_get(struct route *r)
{
    reply_group(r, 200, r->group);
}

void rest_group_delete(struct route *r)
{
    struct sl_err err = {0};
    if (store_group_delete(r->api->store, r->group, &err) != SL_OK)
        apierr_reply(r->resp, &err);
    else
        reply_empty(r->resp, 204);
}

void rest_groups_list(struct route *r)
{
    struct sl_err err = {0};
    struct cat_cursor after = {.set = false};
    struct cat_group *groups;
    int64_t limit;
    int n = 0;
    bool more = false, bad;
    const char *prefix = args_get(r->req, "prefix", &bad);
    const char *token;
    sqlite3 *db;
    enum sl_status st;

    if (bad) {
        apierr_replyf(r->resp, SL_INVALID, "prefix is not valid percent-encoding");
        return;
    }
    if (args_int(r->req, "limit", 1, GROUPS_MAX_LIMIT, 50, &limit, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    token = args_get(r->req, "nextToken", &bad);
    if (bad || (token != NULL && !page_groups_after(token, &after))) {
        apierr_replyf(r->resp, SL_INVALID, "The specified nextToken is invalid.");
        return;
    }
    groups = arena_alloc(r->req->arena, (size_t)limit * sizeof(*groups));
    if (groups == NULL) {
        apierr_replyf(r->resp, SL_NOMEM, "out of memory");
        return;
    }
    db = store_reader(r->api->store);
    st = cat_group_list(db, prefix, NULL, &after, (int)limit, r->req->arena,
                        groups, &n, &more, &err);
    store_reader_release(r->api->store, db);
    if (st != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    json_t *arr = json_array(), *o = json_object();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, rest_group_json(&groups[i]));
    json_object_set_new(o, "groups", arr);
    if (more && n > 0)
        page_groups_next(o, &groups[n - 1]);
    reply_json(r->resp, 200, o);
}

/* PUT /api/v1/groups/{g}/flow-log-format {"format": "${version} ..."}:
 * records of the group are split by this custom VPC flow log format at
 * query time. DELETE goes back to the default v2 format. */
void rest_group_flow_format(struct route *r, bool set)
{
    struct sl_err err = {0};
    json_t *body = NULL, *fmt;
    const char *text = NULL;

    if (set) {
        struct arena a;
        struct disc_flow_format *f;
        if (args_json_body(r->req, &body, &err) != SL_OK)
            goto fail;
        fmt = json_object_get(body, "format");
        if (!json_is_string(fmt)) {
            sl_fail(&err, SL_INVALID, "format is required: a string of ${field} "
                    "tokens, e.g. \"${version} ${srcaddr} ${dstaddr} ${action}\"");
            goto fail;
        }
        text = json_string_value(fmt);
        arena_init(&a, 4096, 0);
        if (disc_flow_format_compile(text, strlen(text), &a, &f, &err) != SL_OK) {
            arena_fini(&a);
            goto fail;
        }
        arena_fini(&a);
    }
    if (store_group_set_field_format(r->api->store, r->group, text, &err) != SL_OK)
        goto fail;
    json_decref(body);
    reply_group(r, 200, r->group);
    return;
fail:
    json_decref(body);
    apierr_reply(r->resp, &err);
}
