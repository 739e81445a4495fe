/* api/ingest_hec.c: POST /services/collector/event, the HTTP Log
 * Collector (Splunk HEC style) endpoint of CloudWatch Logs. The body holds
 * event objects, alone, in an array or concatenated; "event" (any JSON
 * value) is the message, "time" is epoch seconds (number or string, with
 * an optional fraction), else the arrival time. Objects without "event"
 * and bare values are skipped, as AWS does; a body that is not JSON
 * fails whole. */
#include "api/ingest_http.h"

#include "common/clock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Epoch seconds as a double to ms; false when not usable. */
static bool secs_to_ms(double s, int64_t *ms)
{
    if (!isfinite(s) || fabs(s) > 9e15)
        return false;
    *ms = (int64_t)llround(s * 1000.0);
    return true;
}

static int64_t event_ts(json_t *t, int64_t now)
{
    int64_t ms;

    if (json_is_number(t) && secs_to_ms(json_number_value(t), &ms))
        return ms;
    if (json_is_string(t) && json_string_length(t) > 0) {
        const char *s = json_string_value(t);
        char *end;
        double v = strtod(s, &end);
        if (*end == '\0' && secs_to_ms(v, &ms))
            return ms;
    }
    return now;
}

static bool add_object(struct arena *a, struct ih_list *l, json_t *o,
                       int64_t now)
{
    json_t *ev = json_is_object(o) ? json_object_get(o, "event") : NULL;
    if (ev == NULL) {
        l->skipped++;
        return true;
    }
    return ih_list_add_json(a, l, event_ts(json_object_get(o, "time"), now),
                            ev, NULL, 0);
}

enum sl_status ih_decode_hec(struct arena *a, const char *body, size_t len,
                             int64_t now, struct ih_list *l,
                             struct sl_err *err)
{
    size_t off = 0;

    for (;;) {
        json_error_t jerr;
        json_t *v;
        bool ok = true;

        while (off < len && (body[off] == ' ' || body[off] == '\t' ||
                             body[off] == '\r' || body[off] == '\n'))
            off++;
        if (off == len)
            break;
        v = json_loadb(body + off, len - off,
                       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &jerr);
        if (v == NULL)
            return sl_fail(err, SL_BAD_JSON,
                           "the body is not valid JSON at byte %zu: %s; send "
                           "event objects like {\"event\":\"text\","
                           "\"time\":1700000000.5}",
                           off + (size_t)jerr.position, jerr.text);
        if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                if (!(ok = add_object(a, l, e, now)))
                    break;
            }
        } else {
            ok = add_object(a, l, v, now);
        }
        json_decref(v);
        if (!ok)
            return sl_fail(err, SL_NOMEM, "out of memory");
        if (jerr.position <= 0)
            break;
        off += (size_t)jerr.position;
    }
    return SL_OK;
}

enum api_result ingest_hec_post(struct route *r)
{
    struct api_req *req = r->req;
    struct sl_err err = {0};
    struct ih_target t;

    if (ih_target_get(req, true, &t, &err) != SL_OK)
        goto fail;
    /* HEC senders often omit the type or send text/plain or (Splunk's
     * own splunk-logging) application/x-www-form-urlencoded: the body is
     * JSON either way, so only other explicit types are refused. */
    if (req->content_type != NULL && *req->content_type != '\0' &&
        !ih_media_is(req->content_type, "application/json") &&
        !ih_media_is(req->content_type, "text/plain") &&
        !ih_media_is(req->content_type,
                     "application/x-www-form-urlencoded")) {
        sl_fail(&err, SL_UNSUPPORTED_MEDIA,
                "Content-Type must be application/json; got %s",
                req->content_type);
        goto fail;
    }
    return ih_decode_submit(r, &t, sl_now_ms(), ih_decode_hec);
fail:
    ih_error_reply(r->resp, &err);
    return API_DONE;
}
