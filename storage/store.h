/* storage/store.h: the storage layer as one handle. It opens the database
 * in a data directory, migrates it, owns the writer thread, a pool of read
 * connections, the checkpoint thread and the maintenance thread (compaction
 * and purging of deleted streams). Upper layers use this header, catalog.h
 * (reads, with a pooled connection) and reader.h; they never open SQLite
 * themselves. All functions are thread-safe. */
#ifndef SLUICE_STORAGE_STORE_H
#define SLUICE_STORAGE_STORE_H

#include "common/status.h"
#include "storage/catalog.h"
#include "storage/compactor.h"
#include "storage/db.h"
#include "storage/writer.h"

#include <sqlite3.h>
#include <stdbool.h>

struct store;

struct store_opts {
    const char *dir;            /* data directory, created when missing */
    enum db_sync sync;          /* DB_SYNC_FULL by default */
    int read_conns;             /* size of the read pool */
    int compact_interval_ms;    /* background compaction period; 0 = off */
    int compact_level;          /* LZ4 level of compacted segments */
};

/* Opens or creates the store. NULL with err filled on failure (for example
 * "data directory /x is not writable: Permission denied"). */
struct store *store_open(const struct store_opts *o, struct sl_err *err);
/* Stops background threads, finishes queued writes, closes the database. */
void store_close(struct store *s);

/* Borrows a read connection (waits for one when all are busy). */
sqlite3 *store_reader(struct store *s);
void store_reader_release(struct store *s, sqlite3 *db);
/* A read connection of its own, for a long read such as a query scan that
 * holds one read transaction (one snapshot) for its whole run and must not
 * starve the pool; it maps the database file. NULL with err filled on
 * failure. Give it back with store_conn_close (kept for the next scan, or
 * closed). */
sqlite3 *store_conn_open(struct store *s, struct sl_err *err);
void store_conn_close(struct store *s, sqlite3 *db);
/* The writer, for ingest jobs and catalogue changes (wr_submit / wr_run). */
struct wr *store_writer(struct store *s);

/* Catalogue changes through the writer; wait for the commit. */
enum sl_status store_group_create(struct store *s, const char *name,
                                  int retention_days, const char *tags,
                                  struct sl_err *err) SL_MUST_CHECK;
/* The same with the v2 settings (class, KMS key, deletion protection). */
enum sl_status store_group_create_ex(struct store *s, const char *name,
                                     int retention_days, const char *tags,
                                     const struct cat_group_settings *set,
                                     struct sl_err *err) SL_MUST_CHECK;
enum sl_status store_group_delete(struct store *s, const char *name,
                                  struct sl_err *err) SL_MUST_CHECK;
enum sl_status store_group_set_retention(struct store *s, const char *name,
                                         int days, struct sl_err *err)
    SL_MUST_CHECK;
/* The group's custom flow log format (NULL clears it). */
enum sl_status store_group_set_field_format(struct store *s, const char *name,
                                            const char *format,
                                            struct sl_err *err) SL_MUST_CHECK;
/* Deletion protection on or off (DeleteLogGroup is refused while on). */
enum sl_status store_group_set_protection(struct store *s, const char *name,
                                          bool on, struct sl_err *err)
    SL_MUST_CHECK;
enum sl_status store_group_set_tags(struct store *s, const char *name,
                                    const char *tags, struct sl_err *err)
    SL_MUST_CHECK;
enum sl_status store_stream_create(struct store *s, const char *group,
                                   const char *stream, struct sl_err *err)
    SL_MUST_CHECK;
enum sl_status store_stream_delete(struct store *s, const char *group,
                                   const char *stream, struct sl_err *err)
    SL_MUST_CHECK;
/* Creates whatever of group/stream is missing; returns their ids. */
enum sl_status store_ensure_stream(struct store *s, const char *group,
                                   const char *stream, int64_t *group_id,
                                   int64_t *stream_id, struct sl_err *err)
    SL_MUST_CHECK;

/* Resolves group/stream names to ids (and the group's retention) for the
 * ingest hot path, from a cache that any catalogue change invalidates;
 * SL_NOT_FOUND names which of the two is missing. A stream deleted after
 * the lookup is still caught by the writer at commit. */
enum sl_status store_lookup_stream(struct store *s, const char *group,
                                   const char *stream, int64_t *group_id,
                                   int64_t *stream_id, int *retention_days,
                                   struct sl_err *err) SL_MUST_CHECK;

/* Compacts every stream until nothing is left to merge. */
enum sl_status store_compact_now(struct store *s, struct compact_stats *out,
                                 struct sl_err *err) SL_MUST_CHECK;
/* Segments in live streams. */
enum sl_status store_segment_count(struct store *s, int64_t *n,
                                   struct sl_err *err) SL_MUST_CHECK;

#endif
