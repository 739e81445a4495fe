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
    uint32_t len;      /* message bytes (decoded UTF-8) */
    bool invalid;      /* event could not be taken (see invalid_why) */
    const char *invalid_why; /* static text, e.g. "message is missing" */
};

/* A top-level string member of a JSON object body, e.g. logGroupName. */
struct ingest_member {
    const char *key;   /* borrowed from the body, not NUL-terminated */
    uint32_t key_len;
    const char *val;   /* decoded, arena or body, not NUL-terminated */
    uint32_t val_len;
};

#define INGEST_MAX_MEMBERS 16

struct ingest_batch {
    struct ingest_event *ev;  /* arena-owned array of n events, client order */
    size_t n;
    size_t message_bytes;     /* sum of len over valid events */
    struct ingest_member members[INGEST_MAX_MEMBERS]; /* string members of a
                                 top-level object (JSON only), first 16 */
    size_t n_members;
    bool has_events_key;      /* object body held events_key */
};

struct ingest_limits {
    size_t max_events;        /* more events than this: SL_TOO_LARGE */
};

/* Decodes body[0..len). events_key names the array inside an object body
 * ("events" native, "logEvents" CloudWatch); a top-level array is accepted
 * only when allow_array is true. now_ms stamps events without a timestamp
 * (TEXT, and NDJSON lines without one). Output borrows from body and a. */
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
