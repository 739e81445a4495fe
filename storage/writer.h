/* storage/writer.h: the one write path. A single writer thread owns the
 * write connection; request threads queue jobs and are told the outcome by
 * a callback once the transaction holding their job has committed (group
 * commit: many queued requests cost one fsync). Each job runs inside its
 * own SAVEPOINT, so one failing job never fails its neighbours. Ingest jobs
 * for the same stream that meet in one commit are merged into one segment.
 *
 * Durability: with sync_full the connection commits without syncing and a
 * syncer thread fdatasyncs the WAL before any job of the commit is
 * answered; the writer meanwhile commits the next batch, so the disk flush
 * of one batch overlaps the work of the next (one sync often covers
 * several commits).
 *
 * Threads: wr_submit/wr_run from any thread; callbacks run on the writer
 * thread (or the syncer thread with sync_full) and must be quick (wake a
 * connection, signal a condvar). */
#ifndef SLUICE_STORAGE_WRITER_H
#define SLUICE_STORAGE_WRITER_H

#include "common/status.h"
#include "storage/segment.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wr;
struct wr_job;

/* Work done inside the writer's transaction on its connection. */
typedef enum sl_status (*wr_apply_fn)(sqlite3 *db, void *arg,
                                      struct sl_err *err);
/* Called once the job's fate is sealed (committed or failed). The job may
 * be freed from inside the callback; the writer does not touch it after. */
typedef void (*wr_done_fn)(struct wr_job *job, void *ctx);

/* One pre-encoded piece of an ingest batch: a run of events spanning at
 * most SEG_MAX_SPAN_MS, encoded without a seq column. */
struct wr_piece {
    struct seg_meta meta;   /* seqs filled in by the writer at commit */
    size_t first;           /* index of its first event in the job's ev */
    size_t blob_off;        /* blob bytes are blobs[blob_off .. +meta.stored_bytes) */
};

enum wr_kind { WR_APPLY, WR_INGEST };

/* A queued unit of work. The submitter owns the memory and keeps it (and
 * everything it points to) alive until done is called. */
struct wr_job {
    enum wr_kind kind;
    /* WR_APPLY */
    wr_apply_fn apply;
    void *arg;
    /* WR_INGEST */
    int64_t stream_id;
    int64_t group_id;
    const struct seg_event *ev;   /* n events sorted by ts (stable) */
    size_t n;
    const struct wr_piece *pieces;
    size_t n_pieces;
    const char *blobs;
    int64_t ingest_ms;            /* ingestion time of every event */
    /* completion */
    wr_done_fn done;
    void *ctx;
    enum sl_status status;        /* outcome, set before done */
    struct sl_err err;            /* details when status != SL_OK */
    struct wr_job *next;          /* queue link, writer-owned */
};

struct wr_stats {
    uint64_t commits;       /* transactions committed */
    uint64_t jobs;          /* jobs completed */
    uint64_t merged;        /* ingest jobs merged into a neighbour's segment */
    uint64_t syncs;         /* fdatasyncs of the WAL by the syncer */
    uint64_t ingests;       /* ingest jobs taken into a commit */
    int64_t commit_mean_ns; /* running means of a commit's and a sync's time */
    int64_t sync_mean_ns;
};

/* Takes ownership of db (the write connection, opened with
 * synchronous=NORMAL when sync_full) and starts the threads. sync_full:
 * no job is answered before an fdatasync of the WAL that follows its
 * commit. */
struct wr *wr_create(sqlite3 *db, bool sync_full, struct sl_err *err);
/* Finishes every queued job, stops the thread, closes the connection. */
void wr_destroy(struct wr *w);

/* Queues job; done(job, ctx) follows on the writer thread. Jobs queued
 * before wr_destroy returns are all carried out; none may come after. */
void wr_submit(struct wr *w, struct wr_job *job);
/* Runs apply(db, arg) in the next commit and waits for the outcome. */
enum sl_status wr_run(struct wr *w, wr_apply_fn apply, void *arg,
                      struct sl_err *err) SL_MUST_CHECK;
void wr_get_stats(struct wr *w, struct wr_stats *out);

/* Splits ev[0..n) (sorted by ts) into runs of at most SEG_MAX_SPAN_MS and
 * encodes each into blobs; fills pieces (caller array of n entries at most)
 * and *n_pieces. Used by request threads before wr_submit, so compression
 * runs in parallel outside the writer. With hc, runs of at least
 * WR_HC_MIN_BYTES message bytes are compressed with LZ4HC level
 * WR_HC_LEVEL: VPC flow logs in 1 MiB batches are stored in 25% of their
 * size instead of 33%, at 160 instead of 280 MB/s a core (smaller runs keep
 * the fast level: HC clears a 256 KiB state per call). The writer merges
 * small jobs without hc: every commit waits for it. sc: the calling
 * thread's seg_scratch (or NULL). */
#define WR_HC_LEVEL 1
#define WR_HC_MIN_BYTES (64 * 1024)
enum sl_status wr_encode_pieces(const struct seg_event *ev, size_t n, bool hc,
                                struct seg_scratch *sc, struct buf *blobs,
                                struct wr_piece *pieces, size_t *n_pieces,
                                struct sl_err *err) SL_MUST_CHECK;

#endif
