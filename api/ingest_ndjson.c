/* api/ingest_ndjson.c: POST /ingest/bulk (NDJSON, one JSON value a line)
 * and POST /ingest/json (one object or an array of objects), the
 * CloudWatch Logs HTTP endpoints for plain JSON. An object is stored whole
 * as the message, its "timestamp" (epoch ms) as the event time, else the
 * arrival time; a string value is stored as its text. Lines that are not
 * JSON are counted as rejected and the rest goes on. Success is 200 {}
 * as AWS answers; when events were rejected the answer also says how many
 * and why. */
#include "api/ingest_http.h"

#include "common/clock.h"

#include <math.h>
#include <string.h>

/* The event time of an object: "timestamp" as epoch ms when a number. */
static int64_t object_ts(json_t *o, int64_t now)
{
    json_t *t = json_object_get(o, "timestamp");
    if (json_is_integer(t))
        return (int64_t)json_integer_value(t);
    if (json_is_real(t) && isfinite(json_real_value(t)) &&
        fabs(json_real_value(t)) < 9e18)
        return (int64_t)json_real_value(t);
    return now;
}

/* One value of the NDJSON body; raw is its line. */
static bool add_value(struct arena *a, struct ih_list *l, json_t *v,
                      const char *raw, size_t raw_len, int64_t now)
{
    if (json_is_object(v))
        return ih_list_add_json(a, l, object_ts(v, now), v, raw, raw_len);
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            int64_t ts = json_is_object(e) ? object_ts(e, now) : now;
            if (!ih_list_add_json(a, l, ts, e, NULL, 0))
                return false;
        }
        return true;
    }
    return ih_list_add_json(a, l, now, v, raw, raw_len);
}

enum sl_status ih_decode_bulk(struct arena *a, const char *body, size_t len,
                              int64_t now, struct ih_list *l,
                              struct sl_err *err)
{
    const char *p = body, *end = body + len;

    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *s = p;
        json_error_t jerr;
        json_t *v;
        bool ok;

        p = nl ? nl + 1 : end;
        while (s < le && (*s == ' ' || *s == '\t'))
            s++;
        while (le > s && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
            le--;
        if (s == le)
            continue;
        v = json_loadb(s, (size_t)(le - s), JSON_DECODE_ANY, &jerr);
        if (v == NULL) {
            if (!ih_list_add(a, l, 0, NULL, 0, "a line is not valid JSON"))
                return sl_fail(err, SL_NOMEM, "out of memory");
            continue;
        }
        ok = add_value(a, l, v, s, (size_t)(le - s), now);
        json_decref(v);
        if (!ok)
            return sl_fail(err, SL_NOMEM, "out of memory");
    }
    return SL_OK;
}

enum sl_status ih_decode_json(struct arena *a, const char *body, size_t len,
                              int64_t now, struct ih_list *l,
                              struct sl_err *err)
{
    json_error_t jerr;
    /* Concatenated objects: only the first is read, as AWS does. */
    json_t *v = json_loadb(body, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK,
                           &jerr);
    bool ok = true;

    if (v == NULL)
        return sl_fail(err, SL_BAD_JSON,
                       "the body is not valid JSON: %s at line %d column %d",
                       jerr.text, jerr.line, jerr.column);
    if (json_is_object(v)) {
        ok = ih_list_add_json(a, l, object_ts(v, now), v, NULL, 0);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (!json_is_object(e)) {
                l->skipped++;
                continue;
            }
            if (!(ok = ih_list_add_json(a, l, object_ts(e, now), e, NULL, 0)))
                break;
        }
    } else {
        l->skipped++;
    }
    json_decref(v);
    return ok ? SL_OK : sl_fail(err, SL_NOMEM, "out of memory");
}

static enum api_result run(struct route *r, bool bulk)
{
    struct api_req *req = r->req;
    struct sl_err err = {0};
    struct ih_target t;
    const char *ct = req->content_type;

    if (ih_target_get(req, true, &t, &err) != SL_OK)
        goto fail;
    if (!ih_media_is(ct, "application/json") &&
        !(bulk && (ih_media_is(ct, "application/x-ndjson") ||
                   ih_media_is(ct, "application/jsonl")))) {
        sl_fail(&err, SL_UNSUPPORTED_MEDIA,
                "Content-Type must be %s; got %s",
                bulk ? "application/json or application/x-ndjson"
                     : "application/json",
                ct ? ct : "none");
        goto fail;
    }
    return ih_decode_submit(r, &t, sl_now_ms(),
                            bulk ? ih_decode_bulk : ih_decode_json);
fail:
    ih_error_reply(r->resp, &err);
    return API_DONE;
}

enum api_result ingest_bulk_post(struct route *r)
{
    return run(r, true);
}

enum api_result ingest_json_post(struct route *r)
{
    return run(r, false);
}
