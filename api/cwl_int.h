/* api/cwl_int.h: what the files of the CloudWatch Logs JSON protocol share:
 * the call of one operation, the readers of request members (with AWS's
 * validation messages), ARNs and the identifiers AWS shows as long decimal
 * strings, and the operations themselves. cwl.c dispatches; cwl_*.c hold
 * the operations by subject. Internal to api/. */
#ifndef SLUICE_API_CWL_INT_H
#define SLUICE_API_CWL_INT_H

#include "api/api_int.h"
#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One operation being served. */
struct cwl_call {
    struct api *api;
    struct api_req *req;
    struct api_resp *resp;
    struct arena *arena;         /* the request's */
    const char *op;              /* operation name, e.g. "PutLogEvents" */
    json_t *body;                /* the request object (borrowed), or NULL
                                    for an operation that reads req->body */
    struct sl_err err;           /* the first failure */
    json_t *err_extra;           /* modeled members of the error (owned) */
    bool pending;                /* the answer comes after a commit */
};

/* An operation: SL_OK once it has answered (cwl_reply*) or set pending;
 * otherwise c->err holds the error to send. */
typedef enum sl_status (*cwl_op_fn)(struct cwl_call *c);

enum cwl_need { CWL_OPTIONAL, CWL_REQUIRED };

/* ---- answers (cwl.c) ---- */

/* 200 with o as the body (takes the reference). */
void cwl_reply(struct cwl_call *c, json_t *o);
/* A random UUID (v4) in the arena: request ids, query definition ids,
 * live tail session ids. NULL when the arena is full. */
char *cwl_uuid(struct arena *a);
/* 200 with an empty body: operations without an output shape. */
void cwl_reply_empty(struct cwl_call *c);
/* 200 with JSON text built in b (taken); when st says building failed,
 * frees b and fills c->err instead. Returns the call's status. */
enum sl_status cwl_reply_buf(struct cwl_call *c, struct buf *b,
                             enum sl_status st);

/* ---- members (cwl_args.c) ----
 * Each reader records a failure in c->err and returns its status: a value
 * of the wrong JSON type is a SerializationException, a constraint failure
 * an InvalidParameterException in AWS's "1 validation error detected"
 * form. JSON null counts as absent; unknown members are ignored. */

/* A string of min..max characters; *out NULL when absent and optional. */
enum sl_status cwl_str(struct cwl_call *c, const char *key, enum cwl_need need,
                       size_t min, size_t max, const char **out) SL_MUST_CHECK;
/* An integer in lo..hi; dflt when absent. */
enum sl_status cwl_int(struct cwl_call *c, const char *key, int64_t lo,
                       int64_t hi, int64_t dflt, int64_t *out) SL_MUST_CHECK;
/* Whether key is present (and not null). */
bool cwl_has(const struct cwl_call *c, const char *key);
/* SL_OK when key is present, else AWS's "Member must not be null". */
enum sl_status cwl_require(struct cwl_call *c, const char *key) SL_MUST_CHECK;
enum sl_status cwl_bool(struct cwl_call *c, const char *key, bool dflt,
                        bool *out) SL_MUST_CHECK;
/* One of values[] (NULL-terminated); *out = its index, dflt when absent. */
enum sl_status cwl_enum(struct cwl_call *c, const char *key,
                        const char *const *values, int dflt, int *out)
    SL_MUST_CHECK;
/* A list of min..max strings (each 1..item_max characters), in the arena;
 * *n 0 and *out NULL when absent and optional. */
enum sl_status cwl_str_list(struct cwl_call *c, const char *key,
                            enum cwl_need need, size_t min, size_t max,
                            size_t item_max, const char ***out, size_t *n)
    SL_MUST_CHECK;
/* A tags map (checked by name_check_tags); *out borrowed from the body,
 * NULL when absent and optional. */
enum sl_status cwl_tags(struct cwl_call *c, const char *key,
                        enum cwl_need need, json_t **out) SL_MUST_CHECK;
/* logGroupName, required and valid. */
enum sl_status cwl_group_name(struct cwl_call *c, const char **out)
    SL_MUST_CHECK;
/* logGroupName or logGroupIdentifier (a name or an ARN), exactly one. */
enum sl_status cwl_group_ref(struct cwl_call *c, const char **out)
    SL_MUST_CHECK;
/* A stream name member (logStreamName), required and valid. */
enum sl_status cwl_stream_name(struct cwl_call *c, const char *key,
                               const char **out) SL_MUST_CHECK;

/* ---- identifiers (cwl_ids.c) ---- */

/* arn:aws:logs:<region>:<account>:log-group:<name>, with ":*" appended
 * when star (the "arn" member) or without (logGroupArn, tagging). */
char *cwl_group_arn(struct cwl_call *c, const char *group, bool star);
char *cwl_stream_arn(struct cwl_call *c, const char *group,
                     const char *stream);
/* The group name of a log group ARN of this account and region (":*"
 * allowed at the end); SL_INVALID for something that is no log group ARN,
 * SL_NOT_FOUND for another account or region. */
enum sl_status cwl_parse_group_arn(struct cwl_call *c, const char *key,
                                   const char *arn, const char **group)
    SL_MUST_CHECK;
/* A sequence token (56 digits, AWS's shape) for a stream and a time; AWS
 * ignores them since 2023, so any value is right, but the same (stream,
 * last ingestion) gives the same token in PutLogEvents and
 * DescribeLogStreams. */
void cwl_seq_token(char out[57], int64_t stream_id, int64_t ms);
/* An eventId: 56 digits, time then sequence number, so ids sort as
 * events do and never repeat. */
void cwl_event_id(char out[57], int64_t ts, int64_t seq);
/* The access key id of a SigV4 Authorization header, in the arena; NULL
 * when the header is absent or not SigV4. */
const char *cwl_sigv4_access_key(struct arena *a, const char *auth);

/* ---- operations ---- */

/* cwl_groups.c */
enum sl_status cwl_create_log_group(struct cwl_call *c);
enum sl_status cwl_delete_log_group(struct cwl_call *c);
enum sl_status cwl_describe_log_groups(struct cwl_call *c);
enum sl_status cwl_put_retention_policy(struct cwl_call *c);
enum sl_status cwl_delete_retention_policy(struct cwl_call *c);
enum sl_status cwl_put_log_group_deletion_protection(struct cwl_call *c);
/* cwl_streams.c */
enum sl_status cwl_create_log_stream(struct cwl_call *c);
enum sl_status cwl_delete_log_stream(struct cwl_call *c);
enum sl_status cwl_describe_log_streams(struct cwl_call *c);
/* cwl_put.c (reads req->body itself) */
enum sl_status cwl_put_log_events(struct cwl_call *c);
/* cwl_get.c */
enum sl_status cwl_get_log_events(struct cwl_call *c);
/* cwl_filter.c */
enum sl_status cwl_filter_log_events(struct cwl_call *c);
/* cwl_insights.c */
enum sl_status cwl_start_query(struct cwl_call *c);
enum sl_status cwl_get_query_results(struct cwl_call *c);
enum sl_status cwl_stop_query(struct cwl_call *c);
enum sl_status cwl_describe_queries(struct cwl_call *c);
/* cwl_record.c */
enum sl_status cwl_get_log_record(struct cwl_call *c);
enum sl_status cwl_get_log_group_fields(struct cwl_call *c);
/* cwl_tail.c: answers with an event stream (resp->stream) */
enum sl_status cwl_start_live_tail(struct cwl_call *c);
/* cwl_tags.c */
enum sl_status cwl_tag_log_group(struct cwl_call *c);
enum sl_status cwl_untag_log_group(struct cwl_call *c);
enum sl_status cwl_list_tags_log_group(struct cwl_call *c);
enum sl_status cwl_tag_resource(struct cwl_call *c);
enum sl_status cwl_untag_resource(struct cwl_call *c);
enum sl_status cwl_list_tags_for_resource(struct cwl_call *c);
/* cwl_mfilters.c */
enum sl_status cwl_put_metric_filter(struct cwl_call *c);
enum sl_status cwl_describe_metric_filters(struct cwl_call *c);
enum sl_status cwl_delete_metric_filter(struct cwl_call *c);
enum sl_status cwl_test_metric_filter(struct cwl_call *c);
/* cwl_qdefs.c */
enum sl_status cwl_put_query_definition(struct cwl_call *c);
enum sl_status cwl_describe_query_definitions(struct cwl_call *c);
enum sl_status cwl_delete_query_definition(struct cwl_call *c);

#endif
