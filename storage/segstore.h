/* storage/segstore.h: the segment store: immutable segments as an index
 * row (segments) plus a blob (segment_data), written, read and removed
 * together. The one place that knows those two tables' columns, so that
 * another engine (object storage, DESIGN.md "Beyond one machine") can take
 * the blobs without touching the writer, compactor or reader.
 * A struct segstore_stmts caches prepared statements for one connection;
 * callers on that connection's thread own it. */
#ifndef SLUICE_STORAGE_SEGSTORE_H
#define SLUICE_STORAGE_SEGSTORE_H

#include "common/status.h"
#include "storage/segment.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

struct segstore_stmts {
    sqlite3_stmt *ins_seg, *ins_fresh, *ins_data, *del_seg, *del_data,
        *get_data;
    sqlite3_blob *blob;           /* segstore_read_blob's handle */
};

/* Finalizes the cached statements and closes the blob handle (before the
 * connection's transaction ends). */
void segstore_stmts_fini(struct segstore_stmts *c);

/* Inserts the index row and the blob (meta->stored_bytes bytes); returns
 * the new segment id in *id. compacted marks a blob compressed with LZ4HC
 * (the compactor's output, or a big batch), which the compactor does not
 * recompress on its own. */
enum sl_status segstore_put(sqlite3 *db, struct segstore_stmts *c,
                            int64_t stream_id, int64_t group_id,
                            const struct seg_meta *m, const void *blob,
                            bool compacted, bool fresh, int64_t *id,
                            struct sl_err *err) SL_MUST_CHECK;
/* Removes a segment's row and blob. */
enum sl_status segstore_delete(sqlite3 *db, struct segstore_stmts *c,
                               int64_t id, struct sl_err *err) SL_MUST_CHECK;
/* Reads a segment's blob and decodes it into v (allocating from a).
 * SL_NOT_FOUND when the segment is gone. */
enum sl_status segstore_load(sqlite3 *db, struct segstore_stmts *c,
                             int64_t id, int64_t min_seq, struct arena *a,
                             struct seg_view *v, struct sl_err *err)
    SL_MUST_CHECK;

/* One row of the segment index, as a query plans its scan. */
struct segstore_row {
    int64_t id, stream_id;
    int64_t min_ts, max_ts;
    int64_t min_seq;
    int64_t count;
    int64_t raw_bytes, stored_bytes;
};

/* Calls fn for every segment of stream_id that may hold events in
 * [start, end] (inclusive), in min_ts order, from the index alone. A
 * non-SL_OK return from fn stops the listing and is returned. */
typedef enum sl_status (*segstore_row_fn)(void *ctx,
                                          const struct segstore_row *r);
enum sl_status segstore_list_range(sqlite3 *db, int64_t stream_id,
                                   int64_t start, int64_t end,
                                   segstore_row_fn fn, void *ctx,
                                   struct sl_err *err) SL_MUST_CHECK;

/* Totals over every segment of stream_id, whatever its time: what a query
 * over all time would read. */
enum sl_status segstore_stream_totals(sqlite3 *db, int64_t stream_id,
                                      int64_t *segments, int64_t *records,
                                      int64_t *raw_bytes,
                                      struct sl_err *err) SL_MUST_CHECK;

/* Copies the still-compressed blob of segment id into out (replacing its
 * content), so a caller can decode it without holding the connection;
 * read straight into out (incremental blob I/O), without the buffer of
 * the blob's size SQLite allocates for a column value: malloc handed
 * those out as fresh mappings, and their page faults and copies were a
 * tenth of a scan's time. SL_NOT_FOUND when the segment is gone. */
enum sl_status segstore_read_blob(sqlite3 *db, struct segstore_stmts *c,
                                  int64_t id, struct buf *out,
                                  struct sl_err *err) SL_MUST_CHECK;

#endif
