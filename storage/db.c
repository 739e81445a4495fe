/* storage/db.c: SQLite connection set-up and error mapping; see db.h. */
#include "storage/db.h"

#include <pthread.h>
#include <stdio.h>

enum sl_status db_fail(sqlite3 *db, const char *what, struct sl_err *err)
{
    int rc = sqlite3_extended_errcode(db) & 0xff;
    enum sl_status st;

    switch (rc) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: st = SL_BUSY; break;
    case SQLITE_NOMEM: st = SL_NOMEM; break;
    case SQLITE_FULL: st = SL_IO; break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: st = SL_IO; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: st = SL_CORRUPT; break;
    case SQLITE_CONSTRAINT: st = SL_EXISTS; break;
    default: st = SL_INTERNAL; break;
    }
    return sl_fail(err, st, "%s: %s", what, sqlite3_errmsg(db));
}

/* Process-wide SQLite settings, before any connection. Memory statistics
 * off: with them every sqlite3_malloc takes one global mutex, and the
 * writer, the syncer, the checkpointer and the request threads all queued
 * on it (a sixth of the writer's time with 1-event batches, most of it
 * waiting). */
static void db_global_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

sqlite3 *db_open(const char *path, bool writer, enum db_sync sync,
                 struct sl_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    sqlite3 *db = NULL;
    char sql[256];
    int rc;

    pthread_once(&once, db_global_init);
    rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                 SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        sl_fail(err, SL_IO, "cannot open database %s: %s", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 10000);
    snprintf(sql, sizeof(sql),
             "PRAGMA page_size=%d; PRAGMA auto_vacuum=INCREMENTAL;"
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
             "PRAGMA secure_delete=OFF; PRAGMA foreign_keys=OFF;"
             "PRAGMA temp_store=MEMORY; PRAGMA cache_size=%d;"
             "PRAGMA wal_autocheckpoint=%d;",
             DB_PAGE_SIZE, sync == DB_SYNC_FULL ? "FULL" : "NORMAL",
             writer ? -8192 : -2048,
             writer ? DB_WRITER_CHECKPOINT_PAGES : 1000);
    if (db_exec(db, sql, err) != SL_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

void db_close(sqlite3 *db)
{
    if (db != NULL)
        sqlite3_close_v2(db);
}

enum sl_status db_exec(sqlite3 *db, const char *sql, struct sl_err *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, "sql", err);
    return SL_OK;
}

enum sl_status db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out,
                          struct sl_err *err)
{
    if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK)
        return db_fail(db, "prepare", err);
    return SL_OK;
}

enum sl_status db_cached(sqlite3 *db, sqlite3_stmt **q, const char *sql,
                         struct sl_err *err)
{
    if (*q != NULL) {
        sqlite3_reset(*q);
        return SL_OK;
    }
    return db_prepare(db, sql, q, err);
}

enum sl_status db_step_done(sqlite3_stmt *q, struct sl_err *err)
{
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return SL_OK;
    return db_fail(sqlite3_db_handle(q), "step", err);
}

enum sl_status db_step_row(sqlite3_stmt *q, bool *row, struct sl_err *err)
{
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *row = true;
        return SL_OK;
    }
    *row = false;
    if (rc == SQLITE_DONE)
        return SL_OK;
    return db_fail(sqlite3_db_handle(q), "step", err);
}

void db_bind_opt_int(sqlite3_stmt *q, int idx, int64_t v)
{
    if (v == INT64_MIN)
        sqlite3_bind_null(q, idx);
    else
        sqlite3_bind_int64(q, idx, v);
}

int64_t db_col_opt_int(sqlite3_stmt *q, int idx, int64_t dflt)
{
    if (sqlite3_column_type(q, idx) == SQLITE_NULL)
        return dflt;
    return sqlite3_column_int64(q, idx);
}
