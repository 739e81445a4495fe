/* storage/segment.h: encode one sorted run of events as an immutable
 * segment (delta timestamps, ingestion times, optional seqs, lengths,
 * message bytes; one LZ4 block) and decode it back. Pure functions: no
 * SQLite, no threads, no globals. Callers own every buffer; a decoded view
 * borrows from the arena passed in. */
#ifndef SLUICE_STORAGE_SEGMENT_H
#define SLUICE_STORAGE_SEGMENT_H

#include "common/arena.h"
#include "common/buf.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEG_FORMAT_V1     1
#define SEG_MAX_SPAN_MS   (3600 * 1000LL)  /* event time one segment may span */
#define SEG_TARGET_RAW    (1024 * 1024)    /* size compaction aims for */

/* One event going into a segment. */
struct seg_event {
    int64_t ts;        /* event time, ms */
    int64_t ingest;    /* ingestion time, ms */
    int64_t seq;       /* global sequence number (only with a seq column) */
    const char *msg;   /* borrowed */
    uint32_t len;
};

/* What the catalogue records about a segment (the segments table row). */
struct seg_meta {
    int64_t min_ts, max_ts;
    int64_t min_seq, max_seq;   /* without a seq column: base, base+count-1 */
    uint32_t count;
    uint64_t raw_bytes;         /* message bytes + 26 per event, as CloudWatch counts */
    uint64_t stored_bytes;      /* size of the encoded blob */
    int level;                  /* LZ4 level it was compressed at (the catalogue
                                   keeps whether it is above 0: compacted) */
};

/* Memory seg_encode reuses from one call to the next: the uncompressed
 * payload and LZ4HC's 256 KiB state. Fresh for every 1 MiB batch, they
 * cost a page fault each 4 KiB (glibc gives freed big blocks back to the
 * kernel): a quarter of ingest's faults. One per thread; not shared. */
struct seg_scratch {
    struct buf payload;
    void *hc;                   /* LZ4_streamHC_t, made on first use */
};

void seg_scratch_init(struct seg_scratch *sc);
void seg_scratch_fini(struct seg_scratch *sc);

/* Encodes ev[0..n), which must be sorted by (ts, seq). With with_seqs the
 * seqs are kept (compacted segments: a column, unless they run base,
 * base+1, ... when meta's min_seq is all a reader needs); without, seq =
 * base + index and meta's seqs are left 0 for the writer to fill. level 0 = LZ4 fast,
 * 1..12 = LZ4HC. Appends the blob to out. sc: the caller's scratch, or
 * NULL for one that lives for this call only. */
enum sl_status seg_encode(const struct seg_event *ev, size_t n, bool with_seqs,
                          int level, struct seg_scratch *sc, struct buf *out,
                          struct seg_meta *meta, struct sl_err *err) SL_MUST_CHECK;

/* A decoded segment: parallel arrays, messages are slices of bytes. */
struct seg_view {
    uint32_t count;
    int64_t *ts;
    int64_t *ingest;
    int64_t *seq;
    uint32_t *off;       /* message i is bytes[off[i] .. off[i]+len[i]) */
    uint32_t *len;
    const char *bytes;   /* all messages back to back */
    size_t bytes_len;
};

/* Decodes blob[0..n) into v, allocating from a. base_seq is the segment's
 * min_seq from the catalogue (used when the blob has no seq column).
 * Corrupt input returns SL_CORRUPT naming what was wrong; never over-reads. */
enum sl_status seg_decode(const void *blob, size_t n, int64_t base_seq,
                          struct arena *a, struct seg_view *v,
                          struct sl_err *err) SL_MUST_CHECK;

/* qsort comparator of struct seg_event by (ts, seq): the one order of
 * events everywhere (request threads put the arrival index in seq to make
 * the sort stable). */
int seg_event_cmp(const void *a, const void *b);

/* Sorts ev[0..n) by seg_event_cmp. A batch already in order is only
 * checked, in one pass: glibc's merge sort copies and compares every event
 * even then (for the 6,000 events of a 1 MiB batch, 5% of its ingest CPU). */
void seg_events_sort(struct seg_event *ev, size_t n);

/* True when (ts_a, seq_a) sorts before (ts_b, seq_b). */
static inline bool seg_key_less(int64_t ts_a, int64_t seq_a, int64_t ts_b,
                                int64_t seq_b)
{
    return ts_a < ts_b || (ts_a == ts_b && seq_a < seq_b);
}

#endif
