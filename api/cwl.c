/* api/cwl.c: the front door of the CloudWatch Logs JSON protocol (awsJson
 * 1.1, reference 1): POST / with X-Amz-Target: Logs_20140328.<Operation>
 * and a JSON object body. Finds the operation in one table, records the
 * SigV4 access key id, gives every answer an x-amzn-RequestId, parses the
 * body and runs the operation; errors go out as {"__type", "message"}
 * with AWS's statuses (errors.c).
 *
 *   POST /  X-Amz-Target  ->  ops[] (bsearch)  ->  body: jansson object
 *                                              ->  op(call) -> reply / error
 *                                              (PutLogEvents decodes the raw
 *                                               body with the fast decoder) */
#include "api/cwl_int.h"

#include "api/json_out.h"
#include "common/log.h"
#include "common/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_PREFIX "Logs_20140328."

struct cwl_op {
    const char *name;
    cwl_op_fn fn;
    bool raw_body;               /* reads req->body itself */
};

/* Sorted by name (bsearch). */
static const struct cwl_op ops[] = {
    {"CreateLogGroup", cwl_create_log_group, false},
    {"CreateLogStream", cwl_create_log_stream, false},
    {"DeleteLogGroup", cwl_delete_log_group, false},
    {"DeleteLogStream", cwl_delete_log_stream, false},
    {"DeleteMetricFilter", cwl_delete_metric_filter, false},
    {"DeleteQueryDefinition", cwl_delete_query_definition, false},
    {"DeleteRetentionPolicy", cwl_delete_retention_policy, false},
    {"DescribeLogGroups", cwl_describe_log_groups, false},
    {"DescribeLogStreams", cwl_describe_log_streams, false},
    {"DescribeMetricFilters", cwl_describe_metric_filters, false},
    {"DescribeQueries", cwl_describe_queries, false},
    {"DescribeQueryDefinitions", cwl_describe_query_definitions, false},
    {"FilterLogEvents", cwl_filter_log_events, false},
    {"GetLogEvents", cwl_get_log_events, false},
    {"GetLogGroupFields", cwl_get_log_group_fields, false},
    {"GetLogRecord", cwl_get_log_record, false},
    {"GetQueryResults", cwl_get_query_results, false},
    {"ListTagsForResource", cwl_list_tags_for_resource, false},
    {"ListTagsLogGroup", cwl_list_tags_log_group, false},
    {"PutLogEvents", cwl_put_log_events, true},
    {"PutLogGroupDeletionProtection", cwl_put_log_group_deletion_protection, false},
    {"PutMetricFilter", cwl_put_metric_filter, false},
    {"PutQueryDefinition", cwl_put_query_definition, false},
    {"PutRetentionPolicy", cwl_put_retention_policy, false},
    {"StartLiveTail", cwl_start_live_tail, false},
    {"StartQuery", cwl_start_query, false},
    {"StopQuery", cwl_stop_query, false},
    {"TagLogGroup", cwl_tag_log_group, false},
    {"TagResource", cwl_tag_resource, false},
    {"TestMetricFilter", cwl_test_metric_filter, false},
    {"UntagLogGroup", cwl_untag_log_group, false},
    {"UntagResource", cwl_untag_resource, false},
};

static int op_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct cwl_op *)elem)->name);
}

char *cwl_uuid(struct arena *a)
{
    char *s = arena_alloc(a, SL_UUID_LEN + 1);
    if (s != NULL)
        (void)sl_uuid4(s);   /* without entropy still unique enough */
    return s;
}

static const char *header(const struct api_req *req, const char *name)
{
    return req->header != NULL ? req->header(req->header_ctx, name) : NULL;
}


void cwl_reply(struct cwl_call *c, json_t *o)
{
    reply_json(c->resp, 200, o);
    c->resp->content_type = API_AWS_JSON;
}

void cwl_reply_empty(struct cwl_call *c)
{
    reply_empty(c->resp, 200);
    c->resp->content_type = API_AWS_JSON;
}

enum sl_status cwl_reply_buf(struct cwl_call *c, struct buf *b,
                             enum sl_status st)
{
    if (st != SL_OK) {
        buf_fini(b);
        return sl_fail(&c->err, st,
                       "could not build the answer: %s%s", sl_status_text(st),
                       st == SL_TOO_LARGE ? " (ask for fewer rows or fields)"
                                          : "");
    }
    jout_reply(c->resp, 200, b, SL_OK);
    c->resp->content_type = API_AWS_JSON;
    return SL_OK;
}

/* Finds the operation named by X-Amz-Target; NULL with c->err set. */
static const struct cwl_op *find_op(struct cwl_call *c)
{
    const char *t = header(c->req, "X-Amz-Target");
    const struct cwl_op *op;
    size_t pl = strlen(TARGET_PREFIX);

    if (t == NULL) {
        sl_fail(&c->err, SL_UNKNOWN_OP,
                "POST / is the CloudWatch Logs JSON protocol: send the "
                "header X-Amz-Target: " TARGET_PREFIX "<Operation>");
        return NULL;
    }
    if (strncmp(t, TARGET_PREFIX, pl) != 0) {
        sl_fail(&c->err, SL_UNKNOWN_OP,
                "unknown X-Amz-Target '%.100s': it must be " TARGET_PREFIX
                "<Operation>", t);
        return NULL;
    }
    op = bsearch(t + pl, ops, sizeof(ops) / sizeof(ops[0]), sizeof(ops[0]),
                 op_cmp);
    if (op == NULL)
        sl_fail(&c->err, SL_UNKNOWN_OP,
                "Sluice does not implement the operation '%.100s'", t + pl);
    return op;
}

enum api_result cwl_handle(struct api *a, struct api_req *req,
                           struct api_resp *resp)
{
    struct cwl_call c = {.api = a, .req = req, .resp = resp,
                         .arena = req->arena};
    const struct cwl_op *op;
    enum sl_status st = SL_OK;

    resp->request_id = cwl_uuid(req->arena);
    req->access_key_id =
        cwl_sigv4_access_key(req->arena, header(req, "Authorization"));
    op = find_op(&c);
    if (op == NULL) {
        st = c.err.code;
        goto out;
    }
    c.op = op->name;
    sl_debug("cwl: %s (access key %s)", op->name,
             req->access_key_id ? req->access_key_id : "none");
    if (!op->raw_body) {
        st = args_json_body(req, &c.body, &c.err);
        if (st != SL_OK)
            goto out;
    }
    st = op->fn(&c);
    json_decref(c.body);
out:
    if (st != SL_OK) {
        apierr_reply_aws(resp, &c.err, c.err_extra);
        return API_DONE;
    }
    json_decref(c.err_extra);
    return c.pending ? API_PENDING : API_DONE;
}
