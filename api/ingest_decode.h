/* api/ingest_decode.h: turns an ingest request body into a list of events
 * without building a DOM. jansson parses about 0.5M events/s a core, which
 * caps ingest; this hand-written decoder walks the bytes once, points at
 * message bytes inside the body when they hold no escapes and decodes into
 * the request arena when they do. It is fuzzed (tests/fuzz/fuzz_ingest_json.c).
 *
 * Accepted bodies:
 *   JSON    [ {"timestamp": ms, "message": "..."} , ... ]
 *           { "events": [ ... ], ... }        native REST (events_key "events")
 *           { "logGroupName": "g", "logStreamName": "s",
 *             "logEvents": [ ... ], "sequenceToken": "..." }   CloudWatch
 *   NDJSON  one JSON object a line; "message" and "timestamp" as above; a
 *           line without a "message" key is stored whole as the message
 *   TEXT    one event a line, timestamp = arrival time
 * Whole-body failures (malformed JSON, invalid UTF-8, wrong top-level shape)
 * return SL_BAD_JSON with the byte offset in the message. Per-event problems
 * (missing or wrongly typed timestamp/message, empty message) mark that event
 * invalid and decoding goes on. Unknown members are skipped. */
#ifndef SLUICE_API_INGEST_DECODE_H
#define SLUICE_API_INGEST_DECODE_H

#include "common/arena.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ingest_format { INGEST_JSON, INGEST_NDJSON, INGEST_TEXT };

struct ingest_event {
    int64_t ts;        /* ms since epoch from the client, or arrival time */
    const char *msg;   /* borrowed from the body or the arena; NOT NUL-terminated */
    uint32_t len;      /* message bytes (decoded UTF-8); > 0 when valid */
    bool invalid;      /* event could not be taken (see invalid_why); then
                          ts is 0, msg NULL and len 0 */
    const char *invalid_why; /* static text, e.g. "message is missing" */
    bool wrong_type;   /* invalid because a value has the wrong JSON type
                          (not because it is missing or empty) */
};

/* A top-level string member of a JSON object body, e.g. logGroupName. */
struct ingest_member {
    const char *key;   /* decoded, arena or body, not NUL-terminated */
    uint32_t key_len;
    const char *val;   /* decoded, arena or body, not NUL-terminated */
    uint32_t val_len;
};

#define INGEST_MAX_MEMBERS 16

struct ingest_batch {
    struct ingest_event *ev;  /* arena-owned array of n events, client order;
                                 NULL when n is 0 */
    size_t n;
    size_t message_bytes;     /* sum of len over valid events */
    struct ingest_member members[INGEST_MAX_MEMBERS]; /* string members of a
                                 top-level object (JSON only), first 16 */
    size_t n_members;
    bool has_events_key;      /* object body held events_key */
};

struct ingest_limits {
    size_t max_events;        /* more events than this: SL_TOO_LARGE; 0 (or
                                 lim NULL): no limit */
};

/* Decodes body[0..len). events_key names the array inside an object body
 * ("events" native, "logEvents" CloudWatch); a top-level array is accepted
 * only when allow_array is true. now_ms stamps events without a timestamp
 * (TEXT, and NDJSON lines without one); in JSON a missing timestamp makes
 * the event invalid. Output borrows from body and a: keep both alive.
 * Details the format list above leaves open:
 *   - "timestamp" must be a JSON integer that fits int64 (negative is
 *     accepted; 1.0, 1e3, "1" and out-of-range are not). A repeated member
 *     counts its last occurrence. An array element that is not an object
 *     is an invalid event.
 *   - NDJSON and TEXT lines end at '\n' with an optional '\r' before it;
 *     lines of only spaces and tabs are skipped. An NDJSON line that is
 *     not one JSON object is an invalid event; a line object without
 *     "message" is stored as its own text and uses its "timestamp" only
 *     when that is an integer (else now_ms).
 *   - A leading UTF-8 byte-order mark is ignored. Unknown values may nest
 *     64 deep.
 *   - The arena grows by at most about 1.5 x len + 64 bytes an event
 *     (decoded copies of escaped strings and the event array).
 * Returns SL_OK; SL_BAD_JSON (body unreadable, offset in err->msg);
 * SL_TOO_LARGE (over max_events); SL_NOMEM (arena full). On failure *out
 * is zeroed. Any thread, with its own arena. */
enum sl_status ingest_decode(enum ingest_format fmt, const char *body,
                             size_t len, const char *events_key,
                             bool allow_array, int64_t now_ms,
                             const struct ingest_limits *lim, struct arena *a,
                             struct ingest_batch *out, struct sl_err *err)
    SL_MUST_CHECK;

/* Finds a string member captured from an object body; NULL when absent. */
const struct ingest_member *ingest_member_get(const struct ingest_batch *b,
                                              const char *key);

#endif
