/* storage/compactor.h: merges a stream's small or overlapping segments into
 * sorted segments of about SEG_TARGET_RAW bytes, each spanning at most
 * SEG_MAX_SPAN_MS. Events keep their (timestamp, seq), so every read and
 * every token gives the same answer before and after. The merge is computed
 * on a read connection and swapped in by one writer job, which gives up if
 * any input segment changed meanwhile. */
#ifndef SLUICE_STORAGE_COMPACTOR_H
#define SLUICE_STORAGE_COMPACTOR_H

#include "common/status.h"
#include "storage/segstore.h"
#include "storage/writer.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

struct compact_stats {
    int64_t merges;            /* groups of segments rewritten */
    int64_t segments_in;       /* segments those groups held */
    int64_t segments_out;      /* segments written in their place */
    int64_t bytes_in;          /* stored bytes before */
    int64_t bytes_out;         /* stored bytes after */
    int64_t stale;             /* merges dropped: their segments changed
                                  before the writer got to them */
};

/* How a pass goes about it. */
struct compact_opts {
    int level;          /* LZ4 level of new segments (0 fast, 1..12 HC) */
    bool thorough;      /* merge every run whole (on demand) instead of
                           tiered (background: see compactor.c) */
    int max_merges;     /* rewrites at most (0: no cap) */
    /* Background passes yield to ingest: when ingest jobs reached the
     * writer while the pass worked, it naps nine times as long as it
     * worked (a tenth of a core), by calling nap(nap_ctx, ms), which
     * returns false when the pass should stop (shutdown). NULL: no naps
     * (compaction on demand). */
    bool (*nap)(void *ctx, int ms);
    void *nap_ctx;
};

/* One pass over every live stream. Adds to *st. */
enum sl_status compact_pass(sqlite3 *rdb, struct wr *w,
                            const struct compact_opts *o,
                            struct compact_stats *st,
                            struct sl_err *err) SL_MUST_CHECK;

/* The statements compact_fresh runs on one connection, prepared on first
 * use and kept by the caller between calls: preparing them afresh for
 * every stream was half of what merging 1,024 fresh rows cost. Starts
 * zeroed; compact_stmts_fini finalizes them. */
struct compact_stmts {
    struct segstore_stmts ss;
    sqlite3_stmt *live, *acct_stream, *fresh, *flip, *fresh_from;
};
void compact_stmts_fini(struct compact_stmts *c);

/* In db's open write transaction (the writer's): merges each stream's
 * fresh segments (schema v3; a rowid range since v4) into one run of
 * segments at the fast level, outside the fresh range and inside the
 * stream index, then moves the range past the end, so a burst of small
 * batches leaves a few segments a stream instead of one a batch. The
 * background compactor still recompresses and merges them later. c holds
 * db's statements. */
enum sl_status compact_fresh(sqlite3 *db, struct compact_stmts *c,
                             struct sl_err *err) SL_MUST_CHECK;

#endif
