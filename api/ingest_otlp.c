/* api/ingest_otlp.c: POST /v1/logs, OpenTelemetry OTLP/HTTP logs in the
 * JSON (application/json) or protobuf (application/x-protobuf) encoding.
 * The target comes from the x-aws-log-group / x-aws-log-stream headers
 * only, as AWS has it. Every log record becomes one event: a JSON object
 * holding its body, severity, attributes, trace context, resource
 * attributes and scope; its time is timeUnixNano, else
 * observedTimeUnixNano, else the arrival time. Records that cannot be
 * stored are counted in partialSuccess (rejectedLogRecords, errorMessage);
 * failures of the whole request answer a google.rpc.Status in the
 * request's encoding, as the OTLP/HTTP spec asks. */
#include "api/ingest_http.h"
#include "api/ingest_otlp.h"

#include "common/clock.h"

#include <stdlib.h>
#include <string.h>

/* AnyValue {"stringValue": ...} etc. as a plain JSON value (new ref). */
static json_t *any_value(json_t *v, int depth)
{
    json_t *x;

    if (!json_is_object(v) || depth > 32)
        return json_null();
    if ((x = json_object_get(v, "stringValue")) != NULL)
        return json_is_string(x) ? json_incref(x) : json_null();
    if ((x = json_object_get(v, "boolValue")) != NULL)
        return json_boolean(json_is_true(x));
    if ((x = json_object_get(v, "intValue")) != NULL) {
        if (json_is_integer(x))
            return json_incref(x);
        if (json_is_string(x)) {
            char *end;
            long long n = strtoll(json_string_value(x), &end, 10);
            if (*end == '\0' && end != json_string_value(x))
                return json_integer((json_int_t)n);
        }
        return json_incref(x);
    }
    if ((x = json_object_get(v, "doubleValue")) != NULL) {
        if (json_is_number(x))
            return json_real(json_number_value(x));
        return json_incref(x);   /* "NaN", "Infinity" */
    }
    if ((x = json_object_get(v, "bytesValue")) != NULL)
        return json_incref(x);
    if ((x = json_object_get(v, "arrayValue")) != NULL) {
        json_t *out = json_array(), *e;
        size_t i;
        json_array_foreach(json_object_get(x, "values"), i, e)
            json_array_append_new(out, any_value(e, depth + 1));
        return out;
    }
    if ((x = json_object_get(v, "kvlistValue")) != NULL) {
        json_t *out = json_object(), *e;
        size_t i;
        json_array_foreach(json_object_get(x, "values"), i, e) {
            json_t *k = json_object_get(e, "key");
            if (json_is_string(k))
                json_object_set_new(out, json_string_value(k),
                                    any_value(json_object_get(e, "value"),
                                              depth + 1));
        }
        return out;
    }
    return json_null();
}

/* A KeyValue list as a plain object, or NULL when empty. */
static json_t *attributes(json_t *list)
{
    json_t *out, *e;
    size_t i;

    if (!json_is_array(list) || json_array_size(list) == 0)
        return NULL;
    out = json_object();
    json_array_foreach(list, i, e) {
        json_t *k = json_object_get(e, "key");
        if (json_is_string(k))
            json_object_set_new(out, json_string_value(k),
                                any_value(json_object_get(e, "value"), 1));
    }
    return out;
}

/* Nanoseconds (JSON string or number) to ms; 0 when absent or bad. */
static int64_t nanos_ms(json_t *v)
{
    if (json_is_integer(v))
        return (int64_t)(json_integer_value(v) / 1000000);
    if (json_is_real(v) && json_real_value(v) > 0 && json_real_value(v) < 9e18)
        return (int64_t)(json_real_value(v) / 1e6);
    if (json_is_string(v)) {
        char *end;
        unsigned long long n = strtoull(json_string_value(v), &end, 10);
        if (*end == '\0' && end != json_string_value(v))
            return (int64_t)(n / 1000000ULL);
    }
    return 0;
}

static void copy_member(json_t *dst, const char *key, json_t *src)
{
    json_t *v = json_object_get(src, key);
    if (v != NULL && !json_is_null(v) &&
        !(json_is_string(v) && json_string_length(v) == 0) &&
        !(json_is_integer(v) && json_integer_value(v) == 0))
        json_object_set(dst, key, v);
}

/* One record as its message object and time. */
static bool add_record(struct arena *a, struct ih_list *l, json_t *rec,
                       json_t *resource, json_t *scope, int64_t now)
{
    json_t *m, *x;
    int64_t ts;
    bool ok;

    if (!json_is_object(rec))
        return ih_list_add(a, l, 0, NULL, 0, "a log record is not an object");
    ts = nanos_ms(json_object_get(rec, "timeUnixNano"));
    if (ts == 0)
        ts = nanos_ms(json_object_get(rec, "observedTimeUnixNano"));
    if (ts == 0)
        ts = now;
    m = json_object();
    if ((x = json_object_get(rec, "body")) != NULL)
        json_object_set_new(m, "body", any_value(x, 0));
    copy_member(m, "severityText", rec);
    copy_member(m, "severityNumber", rec);
    if ((x = attributes(json_object_get(rec, "attributes"))) != NULL)
        json_object_set_new(m, "attributes", x);
    copy_member(m, "traceId", rec);
    copy_member(m, "spanId", rec);
    copy_member(m, "eventName", rec);
    if (resource != NULL)
        json_object_set(m, "resource", resource);
    if (scope != NULL)
        json_object_set(m, "scope", scope);
    ok = ih_list_add_json(a, l, ts, m, NULL, 0);
    json_decref(m);
    return ok;
}

/* The scope as {"name", "version", "attributes"}, or NULL when empty. */
static json_t *scope_json(json_t *s)
{
    json_t *out = json_object(), *x;
    copy_member(out, "name", s);
    copy_member(out, "version", s);
    if ((x = attributes(json_object_get(s, "attributes"))) != NULL)
        json_object_set_new(out, "attributes", x);
    if (json_object_size(out) == 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static enum sl_status walk(struct arena *a, json_t *req, int64_t now,
                           struct ih_list *l, struct sl_err *err)
{
    json_t *rl_list = json_object_get(req, "resourceLogs"), *rl;
    size_t i;

    if (!json_is_object(req))
        return sl_fail(err, SL_BAD_JSON,
                       "the body must be an ExportLogsServiceRequest object "
                       "{\"resourceLogs\": [...]}");
    if (rl_list != NULL && !json_is_array(rl_list))
        return sl_fail(err, SL_BAD_JSON, "resourceLogs must be an array");
    json_array_foreach(rl_list, i, rl) {
        json_t *res = attributes(json_object_get(
            json_object_get(rl, "resource"), "attributes"));
        json_t *sl;
        size_t j;
        bool ok = true;
        json_array_foreach(json_object_get(rl, "scopeLogs"), j, sl) {
            json_t *scope = scope_json(json_object_get(sl, "scope")), *rec;
            size_t k;
            json_array_foreach(json_object_get(sl, "logRecords"), k, rec) {
                if (!(ok = add_record(a, l, rec, res, scope, now)))
                    break;
            }
            json_decref(scope);
            if (!ok)
                break;
        }
        json_decref(res);
        if (!ok)
            return sl_fail(err, SL_NOMEM, "out of memory");
    }
    return SL_OK;
}

/* Parses either encoding and walks the tree into l. */
enum sl_status ih_decode_otlp(struct arena *a, const char *body, size_t len,
                              bool proto, int64_t now, struct ih_list *l,
                              struct sl_err *err)
{
    json_t *tree = NULL;
    enum sl_status st;

    if (proto) {
        if (otlp_pb_decode(body, len, &tree, err) != SL_OK)
            return err->code;
    } else {
        json_error_t jerr;
        tree = json_loadb(body, len, 0, &jerr);
        if (tree == NULL)
            return sl_fail(err, SL_BAD_JSON,
                           "the body is not valid JSON: %s at line %d "
                           "column %d",
                           jerr.text, jerr.line, jerr.column);
    }
    st = walk(a, tree, now, l, err);
    json_decref(tree);
    return st;
}

/* The gRPC code that goes with a failure. */
static int grpc_code(enum sl_status code)
{
    switch (code) {
    case SL_NOT_FOUND:
        return 5;                /* NOT_FOUND */
    case SL_TOO_LARGE:
        return 8;                /* RESOURCE_EXHAUSTED */
    case SL_BUSY:
    case SL_UNAVAILABLE:
    case SL_IO:
    case SL_NOMEM:
        return 14;               /* UNAVAILABLE */
    case SL_INTERNAL:
    case SL_CORRUPT:
        return 13;               /* INTERNAL */
    default:
        return 3;                /* INVALID_ARGUMENT */
    }
}

struct otlp_ctx {
    bool proto;                  /* answer in protobuf */
    struct arena *arena;
};

static void otlp_error(struct api_resp *resp, bool proto,
                       const struct sl_err *err)
{
    enum sl_status code = err->code == SL_OK ? SL_INTERNAL : err->code;
    int http = apierr_http_status(code);
    const char *msg = err->msg[0] ? err->msg : sl_status_text(code);

    if (proto) {
        otlp_pb_reply_status(resp, http, grpc_code(code), msg);
    } else {
        json_t *j = json_object();
        json_object_set_new(j, "code", json_integer(grpc_code(code)));
        json_object_set_new(j, "message", json_string(msg));
        reply_json(resp, http, j);
    }
    if (code == SL_BUSY || code == SL_UNAVAILABLE || code == SL_NOMEM)
        resp->retry_after = 1;
}

static void otlp_done(struct api_resp *resp, void *ctx,
                      const struct ih_outcome *o, const struct wr_job *job)
{
    struct otlp_ctx *c = ctx;
    size_t rejected = o->invalid + o->too_large + o->too_old + o->too_new;
    const char *msg;
    json_t *j, *ps;

    if (job != NULL && job->status != SL_OK) {
        otlp_error(resp, c->proto, &job->err);
        return;
    }
    msg = rejected ? ih_outcome_text(c->arena, o) : "";
    if (c->proto) {
        otlp_pb_reply_ok(resp, (int64_t)rejected, msg);
        return;
    }
    j = json_object();
    if (rejected > 0) {
        ps = json_object();
        json_object_set_new(ps, "rejectedLogRecords",
                            json_integer((json_int_t)rejected));
        json_object_set_new(ps, "errorMessage", json_string(msg));
        json_object_set_new(j, "partialSuccess", ps);
    }
    reply_json(resp, 200, j);
}

enum api_result ingest_otlp_post(struct route *r)
{
    struct api_req *req = r->req;
    struct sl_err err = {0};
    struct ih_target t;
    struct ih_list l = {0};
    struct otlp_ctx *c = arena_alloc(req->arena, sizeof(*c));
    const char *body, *ct = req->content_type;
    size_t len;
    int64_t now = sl_now_ms();
    enum sl_status st;
    bool proto = ih_media_is(ct, "application/x-protobuf");
    enum api_result res;

    if (c == NULL) {
        sl_fail(&err, SL_NOMEM, "out of memory");
        goto fail;
    }
    c->proto = proto;
    c->arena = req->arena;
    if (!proto && !ih_media_is(ct, "application/json")) {
        sl_fail(&err, SL_UNSUPPORTED_MEDIA,
                "Content-Type must be application/x-protobuf or "
                "application/json; got %s",
                ct ? ct : "none");
        goto fail;
    }
    if (ih_target_get(req, false, &t, &err) != SL_OK ||
        ih_body(req, &body, &len, &err) != SL_OK)
        goto fail;
    if (ih_parse_admit(r, len, &err) != SL_OK)
        goto fail;
    st = ih_decode_otlp(req->arena, body, len, proto, now, &l, &err);
    ih_parse_release(r, len);
    if (st != SL_OK)
        goto fail;
    res = ih_submit(r, &t, &l, now, otlp_done, c, &err);
    if (res == API_PENDING || err.code == SL_OK)
        return res;
fail:
    otlp_error(r->resp, proto, &err);
    return API_DONE;
}
