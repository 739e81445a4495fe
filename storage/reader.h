/* storage/reader.h: reads one stream's events in (timestamp, seq) order,
 * forwards or backwards, from a position, within a time range. Segments may
 * overlap in time (batches arrive out of order), so the reader merges them
 * with a heap, opening each segment only when the merge front reaches it.
 * Runs on a read connection inside its own short read transaction, so a
 * concurrent compaction never changes what one scan sees. */
#ifndef SLUICE_STORAGE_READER_H
#define SLUICE_STORAGE_READER_H

#include "common/status.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

struct rd_event {
    int64_t ts;
    int64_t ingest;
    int64_t seq;
    const char *msg;   /* valid only during the visit callback */
    uint32_t len;
};

/* Return false to stop the scan. */
typedef bool (*rd_visit_fn)(void *ctx, const struct rd_event *e);

struct rd_scan {
    int64_t stream_id;
    int64_t start;        /* first ms included */
    int64_t end;          /* first ms excluded */
    bool desc;            /* newest first */
    bool has_after;       /* continue strictly after (asc) / before (desc) */
    int64_t after_ts;
    int64_t after_seq;
};

enum sl_status rd_stream_scan(sqlite3 *db, const struct rd_scan *s,
                              rd_visit_fn visit, void *ctx,
                              struct sl_err *err) SL_MUST_CHECK;

#endif
