/* storage/segment.c: the segment codec; see segment.h. */
#include "storage/segment.h"

#include "common/alloc.h"
#include "common/varint.h"

#include <lz4.h>
#include <lz4hc.h>
#include <stdlib.h>
#include <string.h>

/*
 * Segment blob format (version 1)
 * ===============================
 *
 *   +---------+-------+-------------+---------+----------------------------+
 *   | version | flags | payload_len | count   | LZ4 block (payload)        |
 *   | u8 = 1  | u8    | varint      | varint  | rest of the blob           |
 *   +---------+-------+-------------+---------+----------------------------+
 *
 *   flags bit 0: the payload holds a seq column (compacted segments).
 *
 * The payload is columnar so that each column compresses on its own terms
 * and so that message bytes end up contiguous (a term search can run over
 * them in one pass):
 *
 *   ts      count varints: zigzag(ts[0]), then ts[i]-ts[i-1] (sorted, >= 0)
 *   ingest  count varints: zigzag(ingest[i] - ingest[i-1]), ingest[-1] = ts[0]
 *   seq     (flag) count varints: seq[0], then seq[i]-seq[i-1]-1... see below
 *   len     count varints: message lengths
 *   bytes   the messages back to back
 *
 * Seqs inside a compacted segment are not contiguous (merged from several
 * segments) and not monotonic either (two events with equal ts sort by seq,
 * but a later ts may carry a smaller seq), so they are stored zigzag-delta.
 * A fresh segment has no seq column: its events got seq = base + index at
 * commit, in sorted order, and base lives in the catalogue row.
 */

int seg_event_cmp(const void *a, const void *b)
{
    const struct seg_event *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void seg_events_sort(struct seg_event *ev, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (seg_event_cmp(&ev[i - 1], &ev[i]) > 0) {
            qsort(ev, n, sizeof(*ev), seg_event_cmp);
            return;
        }
    }
}

#define SEG_HEADER_MAX (2 + 2 * VARINT_MAX_LEN)
#define SEG_EVENT_OVERHEAD 26

void seg_scratch_init(struct seg_scratch *sc)
{
    buf_init(&sc->payload, SIZE_MAX / 2);
    sc->hc = NULL;
}

void seg_scratch_fini(struct seg_scratch *sc)
{
    buf_fini(&sc->payload);
    if (sc->hc != NULL)
        LZ4_freeStreamHC(sc->hc);
    sc->hc = NULL;
}

/* seg_encode with a scratch. */
static enum sl_status encode(const struct seg_event *ev, size_t n, bool with_seqs,
                             int level, struct seg_scratch *sc, struct buf *out,
                             struct seg_meta *meta, struct sl_err *err)
{
    size_t payload_len = 0, msg_bytes = 0, hdr_len = 0, bound;
    unsigned char *payload, *p, hdr[SEG_HEADER_MAX];
    bool seq_column = false;
    int clen;
    enum sl_status st;

    if (n == 0 || n > UINT32_MAX)
        return sl_fail(err, SL_INTERNAL, "segment must hold 1..2^32 events");
    for (size_t i = 0; i < n; i++)
        msg_bytes += ev[i].len;
    /* Seqs base, base+1, ... need no column: the catalogue's min_seq is
     * the base (a lone fresh segment being recompressed, for one). */
    for (size_t i = 1; with_seqs && !seq_column && i < n; i++)
        seq_column = ev[i].seq != ev[0].seq + (int64_t)i;
    if (msg_bytes > (size_t)LZ4_MAX_INPUT_SIZE / 2)
        return sl_fail(err, SL_TOO_LARGE, "segment of %zu bytes is too large",
                       msg_bytes);
    buf_clear(&sc->payload);
    if (buf_reserve(&sc->payload, n * VARINT_MAX_LEN * 4 + msg_bytes) != SL_OK)
        return sl_fail(err, SL_NOMEM, "out of memory encoding a segment");
    if (level > 0 && sc->hc == NULL && (sc->hc = LZ4_createStreamHC()) == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory encoding a segment");
    payload = p = (unsigned char *)sc->payload.data;
    p += varint_put(p, zigzag_enc(ev[0].ts));
    for (size_t i = 1; i < n; i++)
        p += varint_put(p, (uint64_t)(ev[i].ts - ev[i - 1].ts));
    for (size_t i = 0; i < n; i++)
        p += varint_put(p, zigzag_enc(ev[i].ingest - (i ? ev[i - 1].ingest : ev[0].ts)));
    if (seq_column) {
        p += varint_put(p, (uint64_t)ev[0].seq);
        for (size_t i = 1; i < n; i++)
            p += varint_put(p, zigzag_enc(ev[i].seq - ev[i - 1].seq));
    }
    for (size_t i = 0; i < n; i++)
        p += varint_put(p, ev[i].len);
    for (size_t i = 0; i < n; i++) {
        memcpy(p, ev[i].msg, ev[i].len);
        p += ev[i].len;
    }
    payload_len = (size_t)(p - payload);

    hdr[hdr_len++] = SEG_FORMAT_V1;
    hdr[hdr_len++] = seq_column ? 1 : 0;
    hdr_len += varint_put(hdr + hdr_len, payload_len);
    hdr_len += varint_put(hdr + hdr_len, n);
    bound = (size_t)LZ4_compressBound((int)payload_len);
    st = buf_reserve(out, hdr_len + bound);
    if (st != SL_OK)
        return sl_fail(err, st, "no room for a %zu-byte segment", bound);
    memcpy(out->data + out->len, hdr, hdr_len);
    if (level > 0)
        clen = LZ4_compress_HC_extStateHC(sc->hc, (const char *)payload,
                                          out->data + out->len + hdr_len,
                                          (int)payload_len, (int)bound, level);
    else
        clen = LZ4_compress_default((const char *)payload,
                                    out->data + out->len + hdr_len,
                                    (int)payload_len, (int)bound);
    if (clen <= 0)
        return sl_fail(err, SL_INTERNAL, "LZ4 compression failed");
    out->len += hdr_len + (size_t)clen;
    out->data[out->len] = '\0';

    meta->min_ts = ev[0].ts;
    meta->max_ts = ev[n - 1].ts;
    meta->count = (uint32_t)n;
    meta->raw_bytes = msg_bytes + (uint64_t)n * SEG_EVENT_OVERHEAD;
    meta->stored_bytes = hdr_len + (size_t)clen;
    meta->level = level;
    meta->min_seq = meta->max_seq = 0;
    if (with_seqs) {
        meta->min_seq = meta->max_seq = ev[0].seq;
        for (size_t i = 1; i < n; i++) {
            if (ev[i].seq < meta->min_seq)
                meta->min_seq = ev[i].seq;
            if (ev[i].seq > meta->max_seq)
                meta->max_seq = ev[i].seq;
        }
    }
    return SL_OK;
}

enum sl_status seg_encode(const struct seg_event *ev, size_t n, bool with_seqs,
                          int level, struct seg_scratch *sc, struct buf *out,
                          struct seg_meta *meta, struct sl_err *err)
{
    struct seg_scratch once;
    enum sl_status st;

    if (sc != NULL)
        return encode(ev, n, with_seqs, level, sc, out, meta, err);
    seg_scratch_init(&once);
    st = encode(ev, n, with_seqs, level, &once, out, meta, err);
    seg_scratch_fini(&once);
    return st;
}

#define CORRUPT(what) \
    sl_fail(err, SL_CORRUPT, "corrupt segment: %s (segment.c:%d)", what, __LINE__)

/* Reads one varint column value or bails out as corrupt. */
#define GET_VARINT(dst)                                   \
    do {                                                  \
        size_t k_ = varint_get(p, (size_t)(end - p), &(dst)); \
        if (k_ == 0)                                      \
            return CORRUPT("truncated column");           \
        p += k_;                                          \
    } while (0)

static enum sl_status decode_payload(const unsigned char *p,
                                     const unsigned char *end, bool with_seqs,
                                     int64_t base_seq, struct seg_view *v,
                                     struct sl_err *err)
{
    uint64_t u;
    uint32_t n = v->count;
    size_t total = 0;

    GET_VARINT(u);
    v->ts[0] = zigzag_dec(u);
    for (uint32_t i = 1; i < n; i++) {
        GET_VARINT(u);
        v->ts[i] = (int64_t)((uint64_t)v->ts[i - 1] + u);
        if (u > (uint64_t)INT64_MAX || v->ts[i] < v->ts[i - 1])
            return CORRUPT("timestamps out of order");
    }
    for (uint32_t i = 0; i < n; i++) {
        GET_VARINT(u);
        v->ingest[i] = (int64_t)((uint64_t)(i ? v->ingest[i - 1] : v->ts[0]) +
                                 (uint64_t)zigzag_dec(u));
    }
    if (with_seqs) {
        GET_VARINT(u);
        v->seq[0] = (int64_t)u;
        for (uint32_t i = 1; i < n; i++) {
            GET_VARINT(u);
            v->seq[i] = (int64_t)((uint64_t)v->seq[i - 1] + (uint64_t)zigzag_dec(u));
        }
    } else {
        for (uint32_t i = 0; i < n; i++)
            v->seq[i] = base_seq + (int64_t)i;
    }
    for (uint32_t i = 0; i < n; i++) {
        GET_VARINT(u);
        if (u > UINT32_MAX || total > (size_t)(end - p) ||
            u > (size_t)(end - p) - total)
            return CORRUPT("message length out of range");
        v->off[i] = (uint32_t)total;
        v->len[i] = (uint32_t)u;
        total += u;
    }
    if (total != (size_t)(end - p))
        return CORRUPT("message bytes do not match lengths");
    v->bytes = (const char *)p;
    v->bytes_len = total;
    return SL_OK;
}

enum sl_status seg_decode(const void *blob, size_t n, int64_t base_seq,
                          struct arena *a, struct seg_view *v,
                          struct sl_err *err)
{
    const unsigned char *p = blob, *end = p + n;
    uint64_t payload_len, count;
    unsigned char *payload;
    bool with_seqs;
    int got;
    size_t k;

    if (n < 4 || p[0] != SEG_FORMAT_V1)
        return CORRUPT("unknown format version");
    if (p[1] & ~1u)
        return CORRUPT("unknown flags");
    with_seqs = p[1] & 1;
    p += 2;
    if ((k = varint_get(p, (size_t)(end - p), &payload_len)) == 0)
        return CORRUPT("bad payload length");
    p += k;
    if ((k = varint_get(p, (size_t)(end - p), &count)) == 0)
        return CORRUPT("bad event count");
    p += k;
    /* Every event costs at least 3 payload bytes (ts, ingest, len). */
    /* LZ4 expands at most ~255x: a larger claim is a lie, not a big blob. */
    if (count == 0 || count > payload_len / 3 ||
        payload_len > (uint64_t)LZ4_MAX_INPUT_SIZE ||
        payload_len > (uint64_t)(end - p) * 255 + 64)
        return CORRUPT("event count does not fit the payload");
    payload = arena_alloc(a, payload_len);
    v->count = (uint32_t)count;
    v->ts = arena_alloc(a, count * sizeof(*v->ts));
    v->ingest = arena_alloc(a, count * sizeof(*v->ingest));
    v->seq = arena_alloc(a, count * sizeof(*v->seq));
    v->off = arena_alloc(a, count * sizeof(*v->off));
    v->len = arena_alloc(a, count * sizeof(*v->len));
    if (payload == NULL || v->ts == NULL || v->ingest == NULL ||
        v->seq == NULL || v->off == NULL || v->len == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory decoding a segment");
    got = LZ4_decompress_safe((const char *)p, (char *)payload,
                              (int)(end - p), (int)payload_len);
    if (got < 0 || (uint64_t)got != payload_len)
        return CORRUPT("LZ4 block does not decompress to its length");
    return decode_payload(payload, payload + payload_len, with_seqs, base_seq,
                          v, err);
}
