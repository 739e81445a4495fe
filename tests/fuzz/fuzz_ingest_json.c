/* tests/fuzz/fuzz_ingest_json.c: libFuzzer target for the ingest body
 * decoder. The first byte picks the options; the rest is decoded as JSON,
 * NDJSON and text. Whatever decodes must hold the batch invariants and
 * re-encode (as a JSON array) to a body that decodes to the same events;
 * whatever fails must fail with a recorded reason. Violations abort(). */
#include "api/ingest_decode.h"
#include "common/arena.h"
#include "common/status.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS 1732650000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An independent UTF-8 check (code point arithmetic, not byte ranges). */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], need;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            need = 1;
        else if ((c & 0xF0) == 0xE0)
            need = 2;
        else if ((c & 0xF8) == 0xF0)
            need = 3;
        else
            return false;
        cp = c & (0x3Fu >> need);
        min = need == 1 ? 0x80 : need == 2 ? 0x800 : 0x10000;
        if (n - i <= need)
            return false;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += need + 1;
    }
    return true;
}

/* Writes the valid events of b as a JSON array into the arena. */
static char *encode_json(const struct ingest_batch *b, bool escape_slash,
                         struct arena *a, size_t *len)
{
    size_t cap = 2 + b->message_bytes * 6 + b->n * 64;
    char *out = arena_alloc(a, cap), *w = out;

    if (out == NULL)
        abort();
    *w++ = '[';
    for (size_t i = 0; i < b->n; i++) {
        const struct ingest_event *e = &b->ev[i];
        if (e->invalid)
            continue;
        w += snprintf(w, 64, "%s{\"timestamp\":%lld,\"message\":\"",
                      w == out + 1 ? "" : ",", (long long)e->ts);
        for (uint32_t k = 0; k < e->len; k++) {
            unsigned char c = (unsigned char)e->msg[k];
            if (c == '"' || c == '\\' || (c == '/' && escape_slash)) {
                *w++ = '\\';
                *w++ = (char)c;
            } else if (c < 0x20) {
                w += snprintf(w, 7, "\\u%04x", c);
            } else {
                *w++ = (char)c;
            }
        }
        *w++ = '"';
        *w++ = '}';
    }
    *w++ = ']';
    if ((size_t)(w - out) > cap)
        abort();
    *len = (size_t)(w - out);
    return out;
}

static void check_batch(const struct ingest_batch *b, enum ingest_format fmt,
                        const char *body, size_t size, size_t max_events)
{
    size_t sum = 0;

    if (max_events != 0 && b->n > max_events)
        abort();
    if (b->n != 0 && b->ev == NULL)
        abort();
    if (b->n_members > INGEST_MAX_MEMBERS)
        abort();
    if (fmt != INGEST_JSON && (b->n_members != 0 || b->has_events_key))
        abort();
    for (size_t i = 0; i < b->n_members; i++)
        if (b->members[i].key == NULL ||
            (b->members[i].val == NULL && b->members[i].val_len != 0))
            abort();
    for (size_t i = 0; i < b->n; i++) {
        const struct ingest_event *e = &b->ev[i];
        if (e->invalid) {
            if (e->invalid_why == NULL || e->msg != NULL || e->len != 0)
                abort();
            if (fmt == INGEST_TEXT)
                abort();        /* text lines cannot be invalid */
            continue;
        }
        if (e->msg == NULL || e->len == 0 || e->invalid_why != NULL)
            abort();
        if (!utf8_ok((const unsigned char *)e->msg, e->len))
            abort();
        if (fmt == INGEST_TEXT) {
            if (e->ts != NOW_MS || e->msg < body ||
                e->msg + e->len > body + size ||
                memchr(e->msg, '\n', e->len) != NULL)
                abort();
        }
        sum += e->len;
    }
    if (sum != b->message_bytes || sum > size)
        abort();
}

/* Re-encodes the valid events and decodes them again: same events. */
static void check_roundtrip(const struct ingest_batch *b, bool escape_slash)
{
    struct arena a;
    struct ingest_batch b2;
    struct sl_err err = {0};
    size_t len, j = 0;
    char *json;

    arena_init(&a, 1 << 16, 0);
    json = encode_json(b, escape_slash, &a, &len);
    if (ingest_decode(INGEST_JSON, json, len, "events", true, 0, NULL, &a,
                      &b2, &err) != SL_OK) {
        fprintf(stderr, "round trip failed: %s\n", err.msg);
        abort();
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct ingest_event *e = &b->ev[i];
        if (e->invalid)
            continue;
        if (j >= b2.n || b2.ev[j].invalid || b2.ev[j].ts != e->ts ||
            b2.ev[j].len != e->len || memcmp(b2.ev[j].msg, e->msg, e->len) != 0)
            abort();
        j++;
    }
    if (j != b2.n || b2.message_bytes != b->message_bytes)
        abort();
    arena_fini(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t max_choices[] = {0, 1, 2, 3, 10, 100, 10000, 0};
    static const enum ingest_format formats[] = {INGEST_JSON, INGEST_NDJSON,
                                                 INGEST_TEXT};
    const char *body;
    uint8_t opt;
    bool allow_array, small_arena;
    const char *key;
    size_t max_events;

    if (size == 0)
        return 0;
    /* opt bits: 0 allow_array, 1-2 events key, 3 small arena, 5-7 limit */
    opt = data[0];
    body = (const char *)data + 1;
    size--;
    allow_array = (opt & 1) == 0;
    key = (opt & 6) == 2 ? "logEvents" : (opt & 6) == 6 ? NULL : "events";
    small_arena = (opt & 8) != 0;
    max_events = max_choices[opt >> 5];

    for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
        struct ingest_limits lim = {.max_events = max_events};
        struct arena a;
        struct ingest_batch b;
        struct sl_err err = {0};
        enum sl_status st;

        arena_init(&a, small_arena ? 256 : 1 << 16, small_arena ? 4096 : 0);
        st = ingest_decode(formats[f], body, size, key, allow_array, NOW_MS,
                           &lim, &a, &b, &err);
        if (st == SL_OK) {
            if (err.code != SL_OK)
                abort();
            check_batch(&b, formats[f], body, size, max_events);
            check_roundtrip(&b, (opt & 16) != 0);
        } else {
            if (st != SL_BAD_JSON && st != SL_TOO_LARGE && st != SL_NOMEM)
                abort();
            if (err.code != st || err.msg[0] == '\0')
                abort();
            if (b.n != 0 || b.ev != NULL || b.n_members != 0)
                abort();
            if (st == SL_NOMEM && !small_arena)
                abort();
            if (st == SL_TOO_LARGE && max_events == 0)
                abort();
        }
        arena_fini(&a);
    }
    return 0;
}
