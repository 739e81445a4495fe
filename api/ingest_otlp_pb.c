/* api/ingest_otlp_pb.c: the protobuf encoding of OTLP/HTTP logs, with the
 * C that protobuf-c generates from api/otlp_logs.proto. A request is
 * decoded and rewritten as the tree of the OTLP JSON encoding (ids as hex,
 * bytes as base64) for ingest_otlp.c; answers are packed here. */
#include "api/ingest_otlp.h"

#include "common/alloc.h"
#include "otlp_logs.pb-c.h"

#include <string.h>

/* A protobuf string as JSON; bytes that are not UTF-8 become '?'. */
static json_t *str_json(const char *s)
{
    json_t *j;
    char *copy;

    if (s == NULL)
        return json_string("");
    if ((j = json_string(s)) != NULL)
        return j;
    copy = sl_strndup(s, strlen(s));
    if (copy == NULL)
        return json_string("");
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    sl_free(copy);
    return j;
}

static json_t *hex_json(const ProtobufCBinaryData *b)
{
    static const char digits[] = "0123456789abcdef";
    char buf[2 * 64 + 1];
    size_t n = b->len > 64 ? 64 : b->len;

    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = digits[b->data[i] >> 4];
        buf[2 * i + 1] = digits[b->data[i] & 15];
    }
    buf[2 * n] = '\0';
    return json_string(buf);
}

static json_t *base64_json(const ProtobufCBinaryData *b)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, n = b->len;
    char *out = sl_alloc(4 * ((n + 2) / 3) + 1);
    json_t *j;

    if (out == NULL)
        return json_string("");
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b->data[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)b->data[i + 1] << 8;
        if (i + 2 < n)
            v |= b->data[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    j = json_string(out);
    sl_free(out);
    return j;
}

static json_t *kv_list(SluiceOtlp__KeyValue **kv, size_t n, int depth);

/* AnyValue in its JSON encoding ({"stringValue": ...}). */
static json_t *any_json(const SluiceOtlp__AnyValue *v, int depth)
{
    json_t *o = json_object(), *arr;

    if (v == NULL || depth > 32)
        return o;
    switch (v->value_case) {
    case SLUICE_OTLP__ANY_VALUE__VALUE_STRING_VALUE:
        json_object_set_new(o, "stringValue", str_json(v->string_value));
        break;
    case SLUICE_OTLP__ANY_VALUE__VALUE_BOOL_VALUE:
        json_object_set_new(o, "boolValue", json_boolean(v->bool_value));
        break;
    case SLUICE_OTLP__ANY_VALUE__VALUE_INT_VALUE:
        json_object_set_new(o, "intValue", json_integer(v->int_value));
        break;
    case SLUICE_OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE:
        json_object_set_new(o, "doubleValue", json_real(v->double_value));
        break;
    case SLUICE_OTLP__ANY_VALUE__VALUE_ARRAY_VALUE:
        arr = json_array();
        for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++)
            json_array_append_new(arr, any_json(v->array_value->values[i],
                                                depth + 1));
        json_object_set_new(o, "arrayValue", json_pack("{s:o}", "values", arr));
        break;
    case SLUICE_OTLP__ANY_VALUE__VALUE_KVLIST_VALUE:
        json_object_set_new(
            o, "kvlistValue",
            json_pack("{s:o}", "values",
                      kv_list(v->kvlist_value ? v->kvlist_value->values : NULL,
                              v->kvlist_value ? v->kvlist_value->n_values : 0,
                              depth + 1)));
        break;
    case SLUICE_OTLP__ANY_VALUE__VALUE_BYTES_VALUE:
        json_object_set_new(o, "bytesValue", base64_json(&v->bytes_value));
        break;
    default:
        break;
    }
    return o;
}

static json_t *kv_list(SluiceOtlp__KeyValue **kv, size_t n, int depth)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "key", str_json(kv[i]->key));
        json_object_set_new(e, "value", any_json(kv[i]->value, depth));
        json_array_append_new(arr, e);
    }
    return arr;
}

static json_t *nanos_json(uint64_t ns)
{
    return json_integer(ns > (uint64_t)INT64_MAX ? 0 : (json_int_t)ns);
}

static json_t *record_json(const SluiceOtlp__LogRecord *r)
{
    json_t *o = json_object();

    json_object_set_new(o, "timeUnixNano", nanos_json(r->time_unix_nano));
    json_object_set_new(o, "observedTimeUnixNano",
                        nanos_json(r->observed_time_unix_nano));
    if (r->severity_number != 0)
        json_object_set_new(o, "severityNumber",
                            json_integer(r->severity_number));
    if (r->severity_text != NULL && r->severity_text[0] != '\0')
        json_object_set_new(o, "severityText", str_json(r->severity_text));
    if (r->body != NULL)
        json_object_set_new(o, "body", any_json(r->body, 0));
    json_object_set_new(o, "attributes",
                        kv_list(r->attributes, r->n_attributes, 1));
    if (r->trace_id.len > 0)
        json_object_set_new(o, "traceId", hex_json(&r->trace_id));
    if (r->span_id.len > 0)
        json_object_set_new(o, "spanId", hex_json(&r->span_id));
    if (r->event_name != NULL && r->event_name[0] != '\0')
        json_object_set_new(o, "eventName", str_json(r->event_name));
    return o;
}

static json_t *scope_logs_json(const SluiceOtlp__ScopeLogs *sl)
{
    json_t *o = json_object(), *recs = json_array();

    if (sl->scope != NULL) {
        json_t *s = json_object();
        json_object_set_new(s, "name", str_json(sl->scope->name));
        json_object_set_new(s, "version", str_json(sl->scope->version));
        json_object_set_new(s, "attributes",
                            kv_list(sl->scope->attributes,
                                    sl->scope->n_attributes, 1));
        json_object_set_new(o, "scope", s);
    }
    for (size_t i = 0; i < sl->n_log_records; i++)
        json_array_append_new(recs, record_json(sl->log_records[i]));
    json_object_set_new(o, "logRecords", recs);
    return o;
}

/* protobuf-c unpacks nested messages by recursion without a depth limit,
 * so a small body of nested AnyValues could exhaust the stack: the wire
 * is walked first, with the descriptors, and refused past MAX_DEPTH.
 * Malformed input passes here and fails in the unpack. */
#define MAX_DEPTH 48

static bool read_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *i < len; shift += 7) {
        uint8_t b = p[(*i)++];
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

static bool depth_ok(const ProtobufCMessageDescriptor *d, const uint8_t *p,
                     size_t len, int depth)
{
    size_t i = 0;
    uint64_t key, v;

    if (depth > MAX_DEPTH)
        return false;
    while (i < len) {
        if (!read_varint(p, len, &i, &key))
            return true;
        switch (key & 7) {
        case 0:
            if (!read_varint(p, len, &i, &v))
                return true;
            break;
        case 1:
            i += 8;
            break;
        case 5:
            i += 4;
            break;
        case 2: {
            const ProtobufCFieldDescriptor *f;
            if (!read_varint(p, len, &i, &v) || v > len - i)
                return true;
            f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
            if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !depth_ok(f->descriptor, p + i, (size_t)v, depth + 1))
                return false;
            i += (size_t)v;
            break;
        }
        default:
            return true;
        }
    }
    return true;
}

enum sl_status otlp_pb_decode(const char *body, size_t len, json_t **out,
                              struct sl_err *err)
{
    SluiceOtlp__ExportLogsServiceRequest *req;
    json_t *root, *rls;

    *out = NULL;
    if (!depth_ok(&sluice_otlp__export_logs_service_request__descriptor,
                  (const uint8_t *)body, len, 0))
        return sl_fail(err, SL_BAD_JSON,
                       "the request nests values more than %d deep",
                       MAX_DEPTH);
    req = sluice_otlp__export_logs_service_request__unpack(
        NULL, len, (const uint8_t *)body);
    if (req == NULL)
        return sl_fail(err, SL_BAD_JSON,
                       "the body is not a protobuf ExportLogsServiceRequest "
                       "(%zu bytes); send OTLP logs, or application/json",
                       len);
    root = json_object();
    rls = json_array();
    for (size_t i = 0; i < req->n_resource_logs; i++) {
        const SluiceOtlp__ResourceLogs *rl = req->resource_logs[i];
        json_t *o = json_object(), *sls = json_array();
        if (rl->resource != NULL)
            json_object_set_new(
                o, "resource",
                json_pack("{s:o}", "attributes",
                          kv_list(rl->resource->attributes,
                                  rl->resource->n_attributes, 1)));
        for (size_t j = 0; j < rl->n_scope_logs; j++)
            json_array_append_new(sls, scope_logs_json(rl->scope_logs[j]));
        json_object_set_new(o, "scopeLogs", sls);
        json_array_append_new(rls, o);
    }
    json_object_set_new(root, "resourceLogs", rls);
    sluice_otlp__export_logs_service_request__free_unpacked(req, NULL);
    *out = root;
    return SL_OK;
}

/* protobuf-c's messages hold char *, even when only packed: a const
 * string goes in without a cast that drops the qualifier. */
static char *unconst(const char *s)
{
    char *p;
    memcpy(&p, &s, sizeof(p));
    return p;
}

/* Packs a message into resp's body. */
static void reply_packed(struct api_resp *resp, int status,
                         const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = sl_alloc(n ? n : 1);

    sl_free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    if (buf == NULL) {
        resp->status = 503;
        resp->retry_after = 1;
        resp->content_type = "application/x-protobuf";
        return;
    }
    protobuf_c_message_pack(m, buf);
    resp->status = status;
    resp->content_type = "application/x-protobuf";
    resp->body = (char *)buf;
    resp->body_len = n;
}

void otlp_pb_reply_ok(struct api_resp *resp, int64_t rejected,
                      const char *message)
{
    SluiceOtlp__ExportLogsServiceResponse r;
    SluiceOtlp__ExportLogsPartialSuccess ps;

    /* The init functions, not the INIT macros: those cast const away. */
    sluice_otlp__export_logs_service_response__init(&r);
    sluice_otlp__export_logs_partial_success__init(&ps);
    if (rejected > 0) {
        ps.rejected_log_records = rejected;
        ps.error_message = unconst(message);
        r.partial_success = &ps;
    }
    reply_packed(resp, 200, &r.base);
}

void otlp_pb_reply_status(struct api_resp *resp, int http, int grpc_code,
                          const char *message)
{
    SluiceOtlp__Status s;

    sluice_otlp__status__init(&s);
    s.code = grpc_code;
    s.message = unconst(message);
    reply_packed(resp, http, &s.base);
}
