/* tests/fuzz/fuzz_ingest_http.c: libFuzzer target for the decoders of the
 * CloudWatch HTTP ingest endpoints (Splunk HEC, /ingest/bulk NDJSON,
 * /ingest/json, OTLP JSON and protobuf). The first byte picks the decoder;
 * the rest is the body. A body either fails whole with a status and a
 * message, or yields events that keep the list's invariants: a valid event
 * has a non-empty message, an invalid one a reason, and message_bytes is
 * the sum over the valid ones. Violations abort(). */
#include "api/ingest_http.h"
#include "common/arena.h"
#include "common/status.h"

#include <stdint.h>
#include <stdlib.h>

#define NOW_MS 1732650000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

static void check_list(const struct ih_list *l)
{
    size_t bytes = 0;

    if (l->n > l->cap)
        abort();
    for (size_t i = 0; i < l->n; i++) {
        const struct ih_event *e = &l->ev[i];
        if (e->why != NULL) {
            if (e->why[0] == '\0')
                abort();
            continue;
        }
        if (e->len == 0 || e->msg == NULL)
            abort();
        /* the message is readable to its end (ASan catches a lie) */
        for (size_t k = 0; k < e->len; k++)
            sink += (unsigned char)e->msg[k];
        bytes += e->len;
    }
    if (bytes != l->message_bytes)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct ih_list l = {0};
    struct sl_err err = {0};
    const char *body = (const char *)data + 1;
    size_t len = size ? size - 1 : 0;
    enum sl_status st;

    if (size == 0)
        return 0;
    arena_init(&a, 64 * 1024, 0);
    switch (data[0] % 5) {
    case 0: st = ih_decode_hec(&a, body, len, NOW_MS, &l, &err); break;
    case 1: st = ih_decode_bulk(&a, body, len, NOW_MS, &l, &err); break;
    case 2: st = ih_decode_json(&a, body, len, NOW_MS, &l, &err); break;
    case 3: st = ih_decode_otlp(&a, body, len, false, NOW_MS, &l, &err); break;
    default: st = ih_decode_otlp(&a, body, len, true, NOW_MS, &l, &err); break;
    }
    if (st != SL_OK) {
        if (err.code != st || err.msg[0] == '\0')
            abort();
    } else {
        if (err.code != SL_OK)
            abort();
        check_list(&l);
    }
    arena_fini(&a);
    return 0;
}
