/* storage/db.h: thin helpers over SQLite so the rest of storage/ reads as
 * plain steps: open a connection with the project's settings, prepare,
 * bind, step, and turn SQLite result codes into sl_status with a message.
 * A connection belongs to one thread at a time. */
#ifndef SLUICE_STORAGE_DB_H
#define SLUICE_STORAGE_DB_H

#include "common/status.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/* Page size and auto_vacuum are fixed when the file is created (schema v1)
 * and cannot change later. Measured here with 32 clients posting 1-event
 * batches (wrk, group commit): 4 KiB pages 17.7k req/s, 16 KiB 11.6k,
 * 64 KiB 6.1k, because every commit rewrites a handful of whole pages into
 * the WAL. 64 KiB pages read blobs faster, but 4 KiB pages still read
 * compressed blobs at ~2.3 GB/s a core, ~7 GB/s of raw text at a 3:1
 * ratio: ingest cost decides. */
#define DB_PAGE_SIZE 4096

/* How hard a commit presses on the disk (PRAGMA synchronous). */
enum db_sync { DB_SYNC_FULL, DB_SYNC_NORMAL };

/* The write connection checkpoints itself only once the WAL holds this
 * many pages (32 MiB); the checkpoint thread does the bulk of the copying
 * meanwhile, so this one finds little left. It is still needed: under
 * steady ingest the thread's checkpoints never catch up with the newest
 * commit, and SQLite rewinds the WAL only after one that does, so without
 * it the WAL grew by ~100 MB a second with 1-event batches. */
#define DB_WRITER_CHECKPOINT_PAGES 8192

/* Opens path (created when missing) with WAL, busy_timeout and sync set.
 * writer=true checkpoints automatically only past
 * DB_WRITER_CHECKPOINT_PAGES. Returns owned handle or NULL. */
sqlite3 *db_open(const char *path, bool writer, enum db_sync sync,
                 struct sl_err *err);
void db_close(sqlite3 *db);

/* Maps the connection's last error to a status and fills err with what
 * (e.g. "disk full while committing: ..."). */
enum sl_status db_fail(sqlite3 *db, const char *what, struct sl_err *err);

enum sl_status db_exec(sqlite3 *db, const char *sql, struct sl_err *err)
    SL_MUST_CHECK;
enum sl_status db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out,
                          struct sl_err *err) SL_MUST_CHECK;
/* A statement cached by its caller: prepares *q on first use, resets it on
 * every later one. The caller finalizes *q with the connection's other
 * statements. */
enum sl_status db_cached(sqlite3 *db, sqlite3_stmt **q, const char *sql,
                         struct sl_err *err) SL_MUST_CHECK;
/* Steps a statement that returns no rows. */
enum sl_status db_step_done(sqlite3_stmt *q, struct sl_err *err) SL_MUST_CHECK;
/* Steps once: SL_OK with *row=true for a row, *row=false when done. */
enum sl_status db_step_row(sqlite3_stmt *q, bool *row, struct sl_err *err)
    SL_MUST_CHECK;
/* Binds a nullable integer: INT64_MIN binds NULL. */
void db_bind_opt_int(sqlite3_stmt *q, int idx, int64_t v);
/* Reads a nullable integer column: NULL reads as dflt. */
int64_t db_col_opt_int(sqlite3_stmt *q, int idx, int64_t dflt);

#endif
