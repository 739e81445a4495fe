/* storage/schema.c: the schema (v1 to v4) and the migration runner; see
 * schema.h.
 * Each migration is SQL that takes version N-1 to N; they run in order, in
 * one transaction, and never change once released. */
#include "storage/schema.h"

#include "storage/db.h"

#include <stdio.h>

/*
 * Tables (v1)
 *
 *   groups        one row per log group ever created; deleted_ms marks a
 *                 deleted group whose data a background job purges, so a
 *                 re-created name gets a new id and old tokens cannot leak
 *   streams       one row per log stream, same deletion rule
 *   segments      the index the planner scans: one row per immutable
 *                 segment, (stream_id, min_ts) ordered; no blobs here
 *   segment_data  the blobs, keyed by segment id, read only by id
 *   meta          small counters, e.g. next_seq
 *
 * Added in v2
 *
 *   groups.log_group_class, .kms_key_id, .deletion_protection
 *                 settings AWS keeps on a group (CreateLogGroup)
 *   metric_filters   one row per (live or deleted) group's filter; the
 *                 transformations are the JSON array as the client sent it
 *                 (normalised), metric_name/metric_namespace repeat its
 *                 first element for DescribeMetricFilters' lookup
 *   query_definitions   saved Logs Insights queries; id is the UUID the
 *                 API shows, seq only orders equal names for paging
 *
 * Added in v3
 *
 *   segments.fresh   1 for a segment the writer stored from ingest and has
 *                 not yet moved into the (stream_id, min_ts) index, which
 *                 now covers fresh = 0 only; segments_fresh lists fresh
 *                 ones in id order. A commit of N small batches for N
 *                 streams wrote N scattered index pages; fresh rows append
 *                 to one, and the writer merges them per stream every
 *                 WR_FRESH_MAX rows (1-event batches from 32 streams:
 *                 24 pages a commit became 8)
 *   seg_all       every segment, as the union of the two indexed halves:
 *                 readers select from it and SQLite pushes their stream
 *                 and time constraints into both halves
 *
 * Changed in v4, to take pages out of every ingest commit (with 1-event
 * batches each commit wrote ~5 WAL pages, and the fdatasync every request
 * waits for grows with them)
 *
 *   groups.stored_bytes   dropped: a group's stored bytes are the sum over
 *                 its live streams, computed when read like its event
 *                 times. Keeping the copy exact cost every commit a write
 *                 of the group's page, and the delete paths a correction.
 *   segments_fresh   dropped: fresh rows are found as a rowid range
 *                 instead. meta 'fresh_from' is at or below every fresh
 *                 row's id (the writer inserts fresh rows at or above it,
 *                 and moves it past the end once it merged them all), so
 *                 seg_all's fresh half scans the table from there; the
 *                 index cost every commit one more page.
 */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE meta("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES('next_seq', 1);"
    "CREATE TABLE groups("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  retention_days INTEGER,"
    "  tags TEXT NOT NULL DEFAULT '{}',"
    "  field_format TEXT,"
    "  stored_bytes INTEGER NOT NULL DEFAULT 0,"
    "  deleted_ms INTEGER);"
    "CREATE UNIQUE INDEX groups_live_name ON groups(name) WHERE deleted_ms IS NULL;"
    "CREATE TABLE streams("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  group_id INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  first_event_ms INTEGER,"
    "  last_event_ms INTEGER,"
    "  last_ingest_ms INTEGER,"
    "  stored_bytes INTEGER NOT NULL DEFAULT 0,"
    "  segment_count INTEGER NOT NULL DEFAULT 0,"
    "  deleted_ms INTEGER);"
    "CREATE UNIQUE INDEX streams_live_name ON streams(group_id, name)"
    "  WHERE deleted_ms IS NULL;"
    "CREATE INDEX streams_by_group ON streams(group_id);"
    "CREATE TABLE segments("
    "  id INTEGER PRIMARY KEY,"
    "  stream_id INTEGER NOT NULL,"
    "  group_id INTEGER NOT NULL,"
    "  min_ts INTEGER NOT NULL,"
    "  max_ts INTEGER NOT NULL,"
    "  min_seq INTEGER NOT NULL,"
    "  max_seq INTEGER NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  raw_bytes INTEGER NOT NULL,"
    "  stored_bytes INTEGER NOT NULL,"
    "  compacted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX segments_stream_time ON segments(stream_id, min_ts);"
    "CREATE TABLE segment_data("
    "  id INTEGER PRIMARY KEY,"
    "  bytes BLOB NOT NULL);",
    /* 1 -> 2 */
    "ALTER TABLE groups ADD COLUMN log_group_class TEXT NOT NULL"
    "  DEFAULT 'STANDARD';"
    "ALTER TABLE groups ADD COLUMN kms_key_id TEXT;"
    "ALTER TABLE groups ADD COLUMN deletion_protection INTEGER NOT NULL"
    "  DEFAULT 0;"
    "CREATE TABLE metric_filters("
    "  group_id INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  pattern TEXT NOT NULL,"
    "  transformations TEXT NOT NULL,"
    "  metric_name TEXT NOT NULL,"
    "  metric_namespace TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  apply_on_transformed INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(group_id, name)) WITHOUT ROWID;"
    "CREATE INDEX metric_filters_by_metric"
    "  ON metric_filters(metric_namespace, metric_name);"
    "CREATE TABLE query_definitions("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  query_string TEXT NOT NULL,"
    "  log_group_names TEXT NOT NULL DEFAULT '[]',"
    "  query_language TEXT NOT NULL DEFAULT 'CWLI',"
    "  modified_ms INTEGER NOT NULL);"
    "CREATE INDEX query_definitions_by_name ON query_definitions(name, seq);",
    /* 2 -> 3 */
    "ALTER TABLE segments ADD COLUMN fresh INTEGER NOT NULL DEFAULT 0;"
    "DROP INDEX segments_stream_time;"
    "CREATE INDEX segments_stream_time ON segments(stream_id, min_ts)"
    "  WHERE fresh = 0;"
    "CREATE INDEX segments_fresh ON segments(id) WHERE fresh = 1;"
    "CREATE VIEW seg_all AS"
    "  SELECT * FROM segments WHERE fresh = 0"
    "  UNION ALL SELECT * FROM segments WHERE fresh = 1;",
    /* 3 -> 4 */
    "ALTER TABLE groups DROP COLUMN stored_bytes;"
    "DROP VIEW seg_all;"
    "DROP INDEX segments_fresh;"
    "INSERT INTO meta(key, value) SELECT 'fresh_from',"
    "  coalesce((SELECT min(id) FROM segments WHERE fresh = 1),"
    "           (SELECT coalesce(max(id), 0) + 1 FROM segments));"
    "CREATE VIEW seg_all AS"
    "  SELECT * FROM segments WHERE fresh = 0"
    "  UNION ALL SELECT * FROM segments"
    "  WHERE id >= (SELECT value FROM meta WHERE key = 'fresh_from')"
    "  AND fresh = 1;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int schema_version(sqlite3 *db)
{
    sqlite3_stmt *q;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return v;
}

enum sl_status schema_migrate(sqlite3 *db, struct sl_err *err)
{
    enum sl_status st;
    char sql[64];
    int v;

    _Static_assert(N_MIGRATIONS == SCHEMA_VERSION, "one migration per version");
    st = db_exec(db, "BEGIN IMMEDIATE", err);
    if (st != SL_OK)
        return st;
    v = schema_version(db);
    if (v < 0) {
        st = db_fail(db, "reading the schema version", err);
        goto out_rollback;
    }
    if (v > SCHEMA_VERSION) {
        st = sl_fail(err, SL_CORRUPT,
                     "database schema version %d is newer than this sluice "
                     "(%d); use a newer binary", v, SCHEMA_VERSION);
        goto out_rollback;
    }
    for (; v < SCHEMA_VERSION; v++) {
        st = db_exec(db, migrations[v], err);
        if (st != SL_OK)
            goto out_rollback;
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
        st = db_exec(db, sql, err);
        if (st != SL_OK)
            goto out_rollback;
    }
    return db_exec(db, "COMMIT", err);
out_rollback:
    if (db_exec(db, "ROLLBACK", NULL) != SL_OK)
        return st;
    return st;
}
