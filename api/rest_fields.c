/* api/rest_fields.c: GET /api/v1/groups/{group}/fields (GetLogGroupFields):
 * the fields a group's events have and the share of events that have each,
 * sampled by query_fields.c, answered as {"fields":[{"name","percent"}],
 * "sampledEvents"}. */
#include "api/api_int.h"

#include "api/query_common.h"

#include <stdint.h>

void rest_group_fields(struct route *r)
{
    struct sl_err err = {0};
    int64_t start, end, sampled;
    json_t *fields, *o;

    if (args_time(r->req, "start", 0, &start, &err) != SL_OK ||
        args_time(r->req, "end", INT64_MAX - 1, &end, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    if (end < start) {
        apierr_replyf(r->resp, SL_INVALID, "end must not be before start");
        return;
    }
    if (qc_group_fields(r->api, r->group, start, end, r->req->arena, &fields,
                        &sampled, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    o = json_object();
    json_object_set_new(o, "fields", fields);
    json_object_set_new(o, "sampledEvents", json_integer(sampled));
    reply_json(r->resp, 200, o);
}
