/* api/ingest_http.h: what the HTTP ingest endpoints of CloudWatch Logs
 * share (POST /ingest/bulk, /ingest/json, /services/collector/event and
 * /v1/logs): the target group and stream from x-aws-log-group /
 * x-aws-log-stream headers or logGroup / logStream query parameters, the
 * bearer token (recorded, not checked), gzip bodies, and the hand-off of
 * decoded events to the ingest core (ingest.h) with the per-event verdicts
 * counted. Each front turns its wire format into ih_event and picks its
 * own answer. Internal to api/. */
#ifndef SLUICE_API_INGEST_HTTP_H
#define SLUICE_API_INGEST_HTTP_H

#include "api/api_int.h"
#include "api/ingest.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest body accepted once inflated (gzip). */
#define IH_MAX_INFLATED (8u << 20)

/* Where the events of one request go. */
struct ih_target {
    const char *group;           /* decoded, NUL-terminated */
    const char *stream;
    const char *bearer;          /* token after "Bearer " (or HEC's
                                    "Splunk "), or NULL */
};

/* Reads group and stream from the headers or (when allow_query) the
 * query parameters; naming one both ways, or neither, is an error. */
enum sl_status ih_target_get(struct api_req *req, bool allow_query,
                             struct ih_target *t, struct sl_err *err)
    SL_MUST_CHECK;

/* The request body, inflated into the arena when Content-Encoding is gzip
 * (at most IH_MAX_INFLATED bytes), else as sent. */
enum sl_status ih_body(struct api_req *req, const char **body, size_t *len,
                       struct sl_err *err) SL_MUST_CHECK;

/* Inflates a gzip or zlib stream into the arena, at most cap bytes. */
enum sl_status ih_gunzip(struct arena *a, const char *in, size_t in_len,
                         size_t cap, const char **out, size_t *out_len,
                         struct sl_err *err) SL_MUST_CHECK;

/* A JSON tree takes several times the bytes of its text: while a body is
 * parsed, IH_TREE_FACTOR x its length is held in the api's accounting of
 * request memory (max_inflight_bytes), so concurrent large bodies wait
 * (503 with Retry-After) instead of exhausting memory. */
#define IH_TREE_FACTOR 4
enum sl_status ih_parse_admit(struct route *r, size_t len, struct sl_err *err)
    SL_MUST_CHECK;
void ih_parse_release(struct route *r, size_t len);

/* Whether the Content-Type ct names media type want (parameters ignored). */
bool ih_media_is(const char *ct, const char *want);

/* One decoded event. msg lives in the body or the request arena. An
 * invalid event (why set) is counted as rejected and never stored. */
struct ih_event {
    int64_t ts;
    const char *msg;
    size_t len;
    const char *why;             /* static reason when invalid, else NULL */
};

/* A growing list of events in the request arena. */
struct ih_list {
    struct ih_event *ev;
    size_t n, cap;
    size_t message_bytes;
    size_t skipped;              /* values the format says to skip */
};

/* Appends one event; false when the arena is full. */
bool ih_list_add(struct arena *a, struct ih_list *l, int64_t ts,
                 const char *msg, size_t len, const char *why);
/* Appends s[0..len) copied into the arena. */
bool ih_list_add_copy(struct arena *a, struct ih_list *l, int64_t ts,
                      const char *s, size_t len);

/* Appends one event whose message is JSON value v: a string's text, else
 * raw[0..raw_len) when raw is not NULL, else v compacted. */
bool ih_list_add_json(struct arena *a, struct ih_list *l, int64_t ts,
                      json_t *v, const char *raw, size_t raw_len);

/* The outcome of a request, filled before done is called. */
struct ih_outcome {
    size_t accepted;
    size_t invalid, too_large, too_old, too_new;
    const char *first_why;       /* reason of the first invalid event */
};

/* Called (on the writer thread after the commit, or at once when nothing
 * was stored) to fill the answer. job is NULL when nothing was stored. */
typedef void (*ih_done_fn)(struct api_resp *resp, void *ctx,
                           const struct ih_outcome *o,
                           const struct wr_job *job);

/* Checks the batch limits (whole request: SL_TOO_LARGE), finds the
 * stream (SL_NOT_FOUND when missing), judges every event and submits the
 * kept ones. Returns API_PENDING when done follows from the writer; on
 * API_DONE done has run, or *err holds a whole-request failure (code !=
 * SL_OK) for the caller to answer. */
enum api_result ih_submit(struct route *r, const struct ih_target *t,
                          const struct ih_list *l, int64_t now,
                          ih_done_fn done, void *ctx, struct sl_err *err);

/* The answer of the JSON endpoints (ctx: the request arena): 200 {} as
 * AWS answers, plus acceptedLogEvents, rejectedLogEvents and a message
 * when events were rejected; a failed commit answers its error. */
void ih_json_done(struct api_resp *resp, void *ctx,
                  const struct ih_outcome *o, const struct wr_job *job);

/* Rejected events of o in one sentence, into the arena ("" when none). */
const char *ih_outcome_text(struct arena *a, const struct ih_outcome *o);

/* An error answer of the CloudWatch HTTP endpoints: {"__type", "message"}
 * as application/json with the specific HTTP status (400, 404, 413, ...). */
void ih_error_reply(struct api_resp *resp, const struct sl_err *err);

/* Routes the four endpoints by raw path: true (and *res) when r->req's
 * path is one of them, whatever the method (405 unless POST). */
bool ih_route(struct route *r, enum api_result *res);

/* The decoders: body to events in l (arena-backed), now being the arrival
 * time for events without one. A body that cannot be read at all fails
 * whole (SL_BAD_JSON, or what the protobuf decoder says); single bad
 * events are listed with a reason. Pure; fuzzed (tests/fuzz). */
/* /services/collector/event: HEC event objects, alone, in an array or
 * concatenated (ingest_hec.c) */
enum sl_status ih_decode_hec(struct arena *a, const char *body, size_t len,
                             int64_t now, struct ih_list *l,
                             struct sl_err *err) SL_MUST_CHECK;
/* /ingest/bulk: one JSON value a line (ingest_ndjson.c) */
enum sl_status ih_decode_bulk(struct arena *a, const char *body, size_t len,
                              int64_t now, struct ih_list *l,
                              struct sl_err *err) SL_MUST_CHECK;
/* /ingest/json: one object or an array of them (ingest_ndjson.c) */
enum sl_status ih_decode_json(struct arena *a, const char *body, size_t len,
                              int64_t now, struct ih_list *l,
                              struct sl_err *err) SL_MUST_CHECK;
/* /v1/logs: an OTLP ExportLogsServiceRequest, protobuf or JSON
 * (ingest_otlp.c) */
enum sl_status ih_decode_otlp(struct arena *a, const char *body, size_t len,
                              bool proto, int64_t now, struct ih_list *l,
                              struct sl_err *err) SL_MUST_CHECK;

/* The signature of the JSON decoders above. */
typedef enum sl_status (*ih_decode_fn)(struct arena *a, const char *body,
                                       size_t len, int64_t now,
                                       struct ih_list *l, struct sl_err *err);

/* The rest of a JSON endpoint once target and Content-Type are checked:
 * reads the body (inflated), decodes it with decode while its parse memory
 * is admitted, submits the events and answers with ih_json_done, or
 * answers the failure with ih_error_reply. */
enum api_result ih_decode_submit(struct route *r, const struct ih_target *t,
                                 int64_t now, ih_decode_fn decode);

/* The handlers (ingest_ndjson.c, ingest_hec.c, ingest_otlp.c). */
enum api_result ingest_bulk_post(struct route *r);
enum api_result ingest_json_post(struct route *r);
enum api_result ingest_hec_post(struct route *r);
enum api_result ingest_otlp_post(struct route *r);

#endif
