/* api/api_int.h: what the api/ files share and nobody else sees: the api
 * handle, the route context, and the helpers every handler uses to read
 * arguments and write answers. */
#ifndef SLUICE_API_API_INT_H
#define SLUICE_API_API_INT_H

#include "api/api.h"
#include "storage/catalog.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>

struct qreg;

struct api {
    struct store *store;
    struct api_config cfg;
    atomic_size_t inflight;      /* bytes of bodies held right now */
    struct qreg *queries;        /* the query registry (rest_query.c) */
    struct tail_hub *tail;       /* live-tail subscribers (tail.c) */
};

/* A routed request: the decoded path parameters. */
struct route {
    struct api *api;
    struct api_req *req;
    struct api_resp *resp;
    const char *group;           /* decoded, NUL-terminated, or NULL */
    const char *stream;
    const char *id;              /* a query id or an @ptr, decoded */
};

/* Content type of the CloudWatch JSON protocol, requests and answers. */
#define API_AWS_JSON "application/x-amz-json-1.1"

/* ---- answers (errors.c, reply.c) ---- */

/* Fills resp with {"error": <name>, "message": err->msg}, status by code. */
void apierr_reply(struct api_resp *resp, const struct sl_err *err);
/* Same, straight from a code and a message. */
void apierr_replyf(struct api_resp *resp, enum sl_status code,
                   const char *fmt, ...) SL_PRINTF(3, 4);
/* HTTP status (native, and in the CloudWatch protocol) and error name of
 * a status code. */
int apierr_http_status(enum sl_status code);
int apierr_aws_status(enum sl_status code);
const char *apierr_name(enum sl_status code);
/* The CloudWatch protocol's error: {"__type": <name>, "message": ...} plus
 * the members of extra (taken; NULL for none), AWS status, AWS content
 * type. */
void apierr_reply_aws(struct api_resp *resp, const struct sl_err *err,
                      json_t *extra);

/* Serialises j (takes the reference) as the JSON body with status. */
void reply_json(struct api_resp *resp, int status, json_t *j);
/* An empty body with status (e.g. 204). */
void reply_empty(struct api_resp *resp, int status);

/* ---- arguments (args.c) ---- */

/* Percent-decodes s[0..len) into the arena; plus_is_space for query
 * strings. NULL for a bad escape or an embedded NUL. */
char *args_unescape(struct arena *a, const char *s, size_t len,
                    bool plus_is_space);
/* Finds query parameter name; returns the decoded value or NULL when
 * absent. *bad is set when present but not decodable. */
const char *args_get(struct api_req *req, const char *name, bool *bad);
/* Integer parameter in [lo, hi], dflt when absent. */
enum sl_status args_int(struct api_req *req, const char *name, int64_t lo,
                        int64_t hi, int64_t dflt, int64_t *out,
                        struct sl_err *err) SL_MUST_CHECK;
/* Time parameter (ms, ISO 8601, relative), dflt when absent. */
enum sl_status args_time(struct api_req *req, const char *name, int64_t dflt,
                         int64_t *out, struct sl_err *err) SL_MUST_CHECK;
/* Boolean parameter: true/false/1/0. */
enum sl_status args_bool(struct api_req *req, const char *name, bool dflt,
                         bool *out, struct sl_err *err) SL_MUST_CHECK;
/* Parses the body as a JSON object (SL_BAD_JSON with position on error). */
enum sl_status args_json_body(struct api_req *req, json_t **out,
                              struct sl_err *err) SL_MUST_CHECK;

/* ---- names (names.c) ---- */

/* 1-512 chars of [A-Za-z0-9._/#-]. */
enum sl_status name_check_group(const char *name, struct sl_err *err)
    SL_MUST_CHECK;
/* 1-512 bytes of valid UTF-8 without ':' '*' or control characters. */
enum sl_status name_check_stream(const char *name, struct sl_err *err)
    SL_MUST_CHECK;
/* A tags object as CloudWatch allows it: at most 50; keys 1-128 and
 * values 0-256 characters of letters, digits, white space and _.:/=+-@;
 * no key starting with "aws:". */
enum sl_status name_check_tags(json_t *tags, struct sl_err *err)
    SL_MUST_CHECK;
/* Whether days is a retention CloudWatch allows. */
bool name_retention_ok(int64_t days);
/* The allowed retention values as text, for error messages. */
const char *name_retention_list(void);

/* ---- listing pages (pages.c): nextToken of group and stream lists ---- */

struct tok;
/* Encodes t as o's "nextToken" (every paged answer's way). */
void page_set_token(json_t *o, const struct tok *t);
/* Decodes a group-list token into after; false when it is not one. */
bool page_groups_after(const char *token, struct cat_cursor *after);
/* Sets "nextToken" on o to continue after last. */
void page_groups_next(json_t *o, const struct cat_group *last);
/* Same for stream lists, whose tokens also hold the order asked for. */
bool page_streams_after(const char *token, enum cat_stream_order order,
                        bool desc, struct cat_cursor *after);
void page_streams_next(json_t *o, const struct cat_stream *last,
                       enum cat_stream_order order, bool desc);

/* ---- handlers ---- */

/* The CloudWatch Logs JSON protocol (cwl.c): POST / with X-Amz-Target. */
enum api_result cwl_handle(struct api *a, struct api_req *req,
                           struct api_resp *resp);
void rest_groups_list(struct route *r);
void rest_group_create(struct route *r);
void rest_group_get(struct route *r);
void rest_group_delete(struct route *r);
void rest_group_flow_format(struct route *r, bool set);
void rest_streams_list(struct route *r);
void rest_stream_create(struct route *r);
void rest_stream_get(struct route *r);
void rest_stream_delete(struct route *r);
void rest_events_get(struct route *r);
/* Returns API_PENDING when the answer comes after the commit. */
enum api_result rest_events_post(struct route *r);
void rest_admin_compact(struct route *r);
void rest_admin_stats(struct route *r);
/* Queries (rest_query.c); rest_query_sync may answer API_PENDING. */
void rest_query_start(struct route *r);
void rest_query_get(struct route *r);
void rest_query_stop(struct route *r);
void rest_queries_list(struct route *r);
void rest_query_explain(struct route *r);
enum api_result rest_query_sync(struct route *r);
/* The registry inside the api handle: api_create / api_destroy. */
enum sl_status rest_query_init(struct api *a, struct sl_err *err)
    SL_MUST_CHECK;
void rest_query_fini(struct api *a);
/* GetLogGroupFields (rest_fields.c) and GetLogRecord (rest_records.c). */
void rest_group_fields(struct route *r);
/* GET /api/v1/groups/{group}/tail: server-sent events (rest_tail.c). */
void rest_group_tail(struct route *r);
void rest_record_get(struct route *r);

/* JSON of catalogue objects (rest_groups.c). */
json_t *rest_group_json(const struct cat_group *g);
json_t *rest_stream_json(const struct cat_stream *s);

/* Token kinds. */
enum {
    TOK_KIND_EVENTS = 1,        /* native event pages */
    TOK_KIND_GROUPS = 2,        /* group lists (both surfaces) */
    TOK_KIND_STREAMS = 3,       /* stream lists (both surfaces) */
    TOK_KIND_CWL_EVENTS = 4,    /* GetLogEvents f/ and b/ tokens */
    TOK_KIND_CWL_FILTER = 5,    /* FilterLogEvents */
    TOK_KIND_METRIC_FILTERS = 10, /* DescribeMetricFilters */
    TOK_KIND_QUERY_DEFS = 11    /* DescribeQueryDefinitions */
};

#endif
