/* storage/segstore.c: segment rows and blobs in SQLite; see segstore.h. */
#include "storage/segstore.h"

#include "storage/db.h"

static const char SQL_INS_SEG[] =
    "INSERT INTO segments(stream_id, group_id, min_ts, max_ts, min_seq,"
    " max_seq, count, raw_bytes, stored_bytes, compacted, fresh)"
    " VALUES(?,?,?,?,?,?,?,?,?,?,?)";
/* A fresh row's id is at or above meta 'fresh_from' (schema v4), even when
 * deletions brought the table's largest id below it. */
static const char SQL_INS_FRESH[] =
    "INSERT INTO segments(id, stream_id, group_id, min_ts, max_ts, min_seq,"
    " max_seq, count, raw_bytes, stored_bytes, compacted, fresh)"
    " VALUES(max((SELECT coalesce(max(id), 0) + 1 FROM segments),"
    "            (SELECT value FROM meta WHERE key = 'fresh_from')),"
    " ?,?,?,?,?,?,?,?,?,?,?)";
static const char SQL_INS_DATA[] = "INSERT INTO segment_data(id, bytes) VALUES(?, ?)";
static const char SQL_DEL_SEG[] = "DELETE FROM segments WHERE id = ?1";
static const char SQL_DEL_DATA[] = "DELETE FROM segment_data WHERE id = ?1";
static const char SQL_GET_DATA[] = "SELECT bytes FROM segment_data WHERE id = ?1";

void segstore_stmts_fini(struct segstore_stmts *c)
{
    sqlite3_finalize(c->ins_seg);
    sqlite3_finalize(c->ins_fresh);
    sqlite3_finalize(c->ins_data);
    sqlite3_finalize(c->del_seg);
    sqlite3_finalize(c->del_data);
    sqlite3_finalize(c->get_data);
    sqlite3_blob_close(c->blob);
    *c = (struct segstore_stmts){0};
}

enum sl_status segstore_put(sqlite3 *db, struct segstore_stmts *c,
                            int64_t stream_id, int64_t group_id,
                            const struct seg_meta *m, const void *blob,
                            bool compacted, bool fresh, int64_t *id,
                            struct sl_err *err)
{
    sqlite3_stmt **cached = fresh ? &c->ins_fresh : &c->ins_seg;
    enum sl_status st = db_cached(db, cached, fresh ? SQL_INS_FRESH : SQL_INS_SEG,
                                  err);
    sqlite3_stmt *q = *cached;

    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, stream_id);
    sqlite3_bind_int64(q, 2, group_id);
    sqlite3_bind_int64(q, 3, m->min_ts);
    sqlite3_bind_int64(q, 4, m->max_ts);
    sqlite3_bind_int64(q, 5, m->min_seq);
    sqlite3_bind_int64(q, 6, m->max_seq);
    sqlite3_bind_int64(q, 7, m->count);
    sqlite3_bind_int64(q, 8, (int64_t)m->raw_bytes);
    sqlite3_bind_int64(q, 9, (int64_t)m->stored_bytes);
    sqlite3_bind_int(q, 10, compacted);
    sqlite3_bind_int(q, 11, fresh);
    st = db_step_done(q, err);
    if (st != SL_OK)
        return st;
    *id = sqlite3_last_insert_rowid(db);
    st = db_cached(db, &c->ins_data, SQL_INS_DATA, err);
    if (st != SL_OK)
        return st;
    q = c->ins_data;
    sqlite3_bind_int64(q, 1, *id);
    sqlite3_bind_blob(q, 2, blob, (int)m->stored_bytes, SQLITE_STATIC);
    st = db_step_done(q, err);
    sqlite3_bind_null(q, 2); /* do not keep pointing at the caller's blob */
    return st;
}

enum sl_status segstore_delete(sqlite3 *db, struct segstore_stmts *c,
                               int64_t id, struct sl_err *err)
{
    enum sl_status st = db_cached(db, &c->del_seg, SQL_DEL_SEG, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(c->del_seg, 1, id);
    st = db_step_done(c->del_seg, err);
    if (st != SL_OK)
        return st;
    st = db_cached(db, &c->del_data, SQL_DEL_DATA, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(c->del_data, 1, id);
    return db_step_done(c->del_data, err);
}

/* Steps the cached blob query to segment id's row; SL_NOT_FOUND when the
 * segment is gone. The caller reads column 0 and resets the statement. */
static enum sl_status find_blob(sqlite3 *db, struct segstore_stmts *c,
                                int64_t id, struct sl_err *err)
{
    bool row;
    enum sl_status st = db_cached(db, &c->get_data, SQL_GET_DATA, err);

    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(c->get_data, 1, id);
    st = db_step_row(c->get_data, &row, err);
    if (st == SL_OK && !row)
        st = sl_fail(err, SL_NOT_FOUND, "segment %lld is gone", (long long)id);
    return st;
}

enum sl_status segstore_load(sqlite3 *db, struct segstore_stmts *c,
                             int64_t id, int64_t min_seq, struct arena *a,
                             struct seg_view *v, struct sl_err *err)
{
    enum sl_status st = find_blob(db, c, id, err);

    if (st == SL_OK)
        st = seg_decode(sqlite3_column_blob(c->get_data, 0),
                        (size_t)sqlite3_column_bytes(c->get_data, 0), min_seq,
                        a, v, err);
    if (c->get_data != NULL)
        sqlite3_reset(c->get_data); /* the blob pointer dies here; v owns a copy */
    return st;
}

/* The index on (stream_id, min_ts) bounds the range: a segment spans at
 * most SEG_MAX_SPAN_MS, so one that reaches start began after
 * start - SEG_MAX_SPAN_MS. */
static const char SQL_LIST_RANGE[] =
    "SELECT id, min_ts, max_ts, min_seq, count, raw_bytes, stored_bytes"
    " FROM seg_all WHERE stream_id = ?1 AND min_ts >= ?2 AND min_ts <= ?3"
    " AND max_ts >= ?4 ORDER BY min_ts";

enum sl_status segstore_list_range(sqlite3 *db, int64_t stream_id,
                                   int64_t start, int64_t end,
                                   segstore_row_fn fn, void *ctx,
                                   struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row = true;
    enum sl_status st = db_prepare(db, SQL_LIST_RANGE, &q, err);

    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, stream_id);
    sqlite3_bind_int64(q, 2, start > INT64_MIN + SEG_MAX_SPAN_MS
                                 ? start - SEG_MAX_SPAN_MS : INT64_MIN);
    sqlite3_bind_int64(q, 3, end);
    sqlite3_bind_int64(q, 4, start);
    while (st == SL_OK) {
        struct segstore_row r;
        st = db_step_row(q, &row, err);
        if (st != SL_OK || !row)
            break;
        r.id = sqlite3_column_int64(q, 0);
        r.stream_id = stream_id;
        r.min_ts = sqlite3_column_int64(q, 1);
        r.max_ts = sqlite3_column_int64(q, 2);
        r.min_seq = sqlite3_column_int64(q, 3);
        r.count = sqlite3_column_int64(q, 4);
        r.raw_bytes = sqlite3_column_int64(q, 5);
        r.stored_bytes = sqlite3_column_int64(q, 6);
        st = fn(ctx, &r);
    }
    sqlite3_finalize(q);
    return st;
}

static const char SQL_TOTALS[] =
    "SELECT count(*), coalesce(sum(count), 0), coalesce(sum(raw_bytes), 0)"
    " FROM seg_all WHERE stream_id = ?1";

enum sl_status segstore_stream_totals(sqlite3 *db, int64_t stream_id,
                                      int64_t *segments, int64_t *records,
                                      int64_t *raw_bytes, struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    enum sl_status st = db_prepare(db, SQL_TOTALS, &q, err);

    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, stream_id);
    st = db_step_row(q, &row, err);
    if (st == SL_OK && row) {
        *segments = sqlite3_column_int64(q, 0);
        *records = sqlite3_column_int64(q, 1);
        *raw_bytes = sqlite3_column_int64(q, 2);
    }
    sqlite3_finalize(q);
    return st;
}

enum sl_status segstore_read_blob(sqlite3 *db, struct segstore_stmts *c,
                                  int64_t id, struct buf *out,
                                  struct sl_err *err)
{
    int rc, n;

    if (c->blob != NULL)
        rc = sqlite3_blob_reopen(c->blob, id);
    else
        rc = sqlite3_blob_open(db, "main", "segment_data", "bytes", id, 0,
                               &c->blob);
    if (rc != SQLITE_OK) {
        /* A handle that failed to move is spent; a missing row is
         * SQLITE_ERROR ("no such rowid"). */
        sqlite3_blob_close(c->blob);
        c->blob = NULL;
        if (rc == SQLITE_ERROR)
            return sl_fail(err, SL_NOT_FOUND, "segment %lld is gone",
                           (long long)id);
        return db_fail(db, "opening a segment", err);
    }
    n = sqlite3_blob_bytes(c->blob);
    buf_clear(out);
    if (buf_reserve(out, (size_t)n) != SL_OK)
        return sl_fail(err, SL_NOMEM, "no memory for a segment of %d bytes", n);
    if (sqlite3_blob_read(c->blob, out->data, n, 0) != SQLITE_OK)
        return db_fail(db, "reading a segment", err);
    out->len = (size_t)n;
    out->data[n] = '\0';
    return SL_OK;
}
