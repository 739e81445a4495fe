/* storage/catalog_defs.c: metric filters and query definitions in SQLite;
 * see catalog_defs.h. */
#include "storage/catalog_defs.h"

#include "storage/catalog.h"
#include "storage/db.h"

#include <string.h>

static const char *col_text(sqlite3_stmt *q, int i, struct arena *a)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    if (t == NULL)
        return "";
    return arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(q, i));
}

/* Runs sql (one row of one integer) and returns that integer in *out. */
static enum sl_status scalar_of(sqlite3 *db, const char *sql, int64_t *out,
                                struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    enum sl_status st = db_prepare(db, sql, &q, err);
    if (st != SL_OK)
        return st;
    st = db_step_row(q, &row, err);
    *out = st == SL_OK && row ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return st;
}

/* ---- metric filters -------------------------------------------------- */

enum sl_status cat_mfilter_list(sqlite3 *db, const struct cat_mfilter_sel *sel,
                                const struct cat_mfilter_cursor *after,
                                int limit, struct arena *a,
                                struct cat_mfilter *out, int *n, bool *more,
                                struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    int64_t gid = 0;
    enum sl_status st;

    *n = 0;
    *more = false;
    if (sel->group != NULL) {
        st = cat_group_id(db, sel->group, &gid, err);
        if (st != SL_OK)
            return st;
    }
    /* Prefix as a range: names are below U+10FFFF. */
    st = db_prepare(db,
        "SELECT m.group_id, g.name, m.name, m.pattern, m.transformations,"
        " m.created_ms, m.apply_on_transformed"
        " FROM metric_filters m JOIN groups g ON g.id = m.group_id"
        " WHERE g.deleted_ms IS NULL"
        " AND (?1 IS NULL OR m.group_id = ?1)"
        " AND (?2 IS NULL OR (m.name >= ?2 AND m.name < ?2 || char(1114111)))"
        " AND (?3 IS NULL OR (m.metric_name = ?3 AND m.metric_namespace = ?4))"
        " AND (?5 IS NULL OR (m.group_id, m.name) > (?5, ?6))"
        " ORDER BY m.group_id, m.name LIMIT ?7", &q, err);
    if (st != SL_OK)
        return st;
    if (sel->group != NULL) {
        sqlite3_bind_int64(q, 1, gid);
        if (sel->name_prefix != NULL && *sel->name_prefix != '\0')
            sqlite3_bind_text(q, 2, sel->name_prefix, -1, SQLITE_STATIC);
    }
    if (sel->metric_name != NULL && sel->metric_namespace != NULL) {
        sqlite3_bind_text(q, 3, sel->metric_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, sel->metric_namespace, -1, SQLITE_STATIC);
    }
    if (after != NULL && after->set) {
        sqlite3_bind_int64(q, 5, after->group_id);
        sqlite3_bind_text(q, 6, after->name, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(q, 7, limit + 1);
    while ((st = db_step_row(q, &row, err)) == SL_OK && row) {
        struct cat_mfilter *f;
        if (*n == limit) {
            *more = true;
            break;
        }
        f = &out[(*n)++];
        f->group_id = sqlite3_column_int64(q, 0);
        f->group = col_text(q, 1, a);
        f->name = col_text(q, 2, a);
        f->pattern = col_text(q, 3, a);
        f->transformations = col_text(q, 4, a);
        f->created_ms = sqlite3_column_int64(q, 5);
        f->apply_on_transformed = sqlite3_column_int(q, 6) != 0;
        if (f->group == NULL || f->name == NULL || f->pattern == NULL ||
            f->transformations == NULL) {
            st = sl_fail(err, SL_NOMEM, "out of memory");
            break;
        }
    }
    sqlite3_finalize(q);
    return st;
}

enum sl_status cat_mfilter_put(sqlite3 *db, const struct cat_mfilter_put *p,
                               struct sl_err *err)
{
    sqlite3_stmt *q;
    int64_t gid, count;
    enum sl_status st = cat_group_id(db, p->group, &gid, err);

    if (st != SL_OK)
        return st;
    st = db_prepare(db, "SELECT count(*), coalesce(sum(name = ?2), 0)"
                        " FROM metric_filters WHERE group_id = ?1", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, gid);
    sqlite3_bind_text(q, 2, p->name, -1, SQLITE_STATIC);
    {
        bool row;
        st = db_step_row(q, &row, err);
        count = st == SL_OK && row ? sqlite3_column_int64(q, 0) : 0;
        if (st == SL_OK && row && sqlite3_column_int64(q, 1) > 0)
            count = -1;          /* a replacement never counts */
    }
    sqlite3_finalize(q);
    if (st != SL_OK)
        return st;
    if (count >= p->max_per_group)
        return sl_fail(err, SL_LIMIT, "Resource limit exceeded. A log group "
                       "has at most %d metric filters.", p->max_per_group);
    st = db_prepare(db,
        "INSERT INTO metric_filters(group_id, name, pattern, transformations,"
        " metric_name, metric_namespace, created_ms, apply_on_transformed)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT(group_id, name) DO UPDATE SET pattern = excluded.pattern,"
        " transformations = excluded.transformations,"
        " metric_name = excluded.metric_name,"
        " metric_namespace = excluded.metric_namespace,"
        " apply_on_transformed = excluded.apply_on_transformed", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, gid);
    sqlite3_bind_text(q, 2, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, p->pattern, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, p->transformations, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, p->metric_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, p->metric_namespace, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, p->now_ms);
    sqlite3_bind_int(q, 8, p->apply_on_transformed ? 1 : 0);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    return st;
}

enum sl_status cat_mfilter_delete(sqlite3 *db, const char *group,
                                  const char *name, struct sl_err *err)
{
    sqlite3_stmt *q;
    int64_t gid;
    enum sl_status st = cat_group_id(db, group, &gid, err);

    if (st != SL_OK)
        return st;
    st = db_prepare(db, "DELETE FROM metric_filters WHERE group_id = ?1"
                        " AND name = ?2", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, gid);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    if (st == SL_OK && sqlite3_changes(db) == 0)
        st = sl_fail(err, SL_NOT_FOUND,
                     "The specified metric filter does not exist.");
    return st;
}

/* ---- query definitions ----------------------------------------------- */

enum sl_status cat_qdef_list(sqlite3 *db, const char *prefix,
                             const char *language,
                             const struct cat_qdef_cursor *after, int limit,
                             struct arena *a, struct cat_qdef *out, int *n,
                             bool *more, struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    enum sl_status st;

    *n = 0;
    *more = false;
    st = db_prepare(db,
        "SELECT seq, id, name, query_string, log_group_names, query_language,"
        " modified_ms FROM query_definitions"
        " WHERE (?1 IS NULL OR (name >= ?1 AND name < ?1 || char(1114111)))"
        " AND (?2 IS NULL OR query_language = ?2)"
        " AND (?3 IS NULL OR (name, seq) > (?3, ?4))"
        " ORDER BY name, seq LIMIT ?5", &q, err);
    if (st != SL_OK)
        return st;
    if (prefix != NULL && *prefix != '\0')
        sqlite3_bind_text(q, 1, prefix, -1, SQLITE_STATIC);
    if (language != NULL)
        sqlite3_bind_text(q, 2, language, -1, SQLITE_STATIC);
    if (after != NULL && after->set) {
        sqlite3_bind_text(q, 3, after->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, after->seq);
    }
    sqlite3_bind_int(q, 5, limit + 1);
    while ((st = db_step_row(q, &row, err)) == SL_OK && row) {
        struct cat_qdef *d;
        if (*n == limit) {
            *more = true;
            break;
        }
        d = &out[(*n)++];
        d->seq = sqlite3_column_int64(q, 0);
        d->id = col_text(q, 1, a);
        d->name = col_text(q, 2, a);
        d->query = col_text(q, 3, a);
        d->log_group_names = col_text(q, 4, a);
        d->language = col_text(q, 5, a);
        d->modified_ms = sqlite3_column_int64(q, 6);
        if (d->id == NULL || d->name == NULL || d->query == NULL ||
            d->log_group_names == NULL || d->language == NULL) {
            st = sl_fail(err, SL_NOMEM, "out of memory");
            break;
        }
    }
    sqlite3_finalize(q);
    return st;
}

static enum sl_status qdef_missing(struct sl_err *err)
{
    return sl_fail(err, SL_NOT_FOUND,
                   "The specified query definition does not exist.");
}

enum sl_status cat_qdef_put(sqlite3 *db, const struct cat_qdef_put *p,
                            struct sl_err *err)
{
    sqlite3_stmt *q;
    int64_t count;
    enum sl_status st;

    if (p->create) {
        st = scalar_of(db, "SELECT count(*) FROM query_definitions", &count,
                       err);
        if (st != SL_OK)
            return st;
        if (count >= p->max_defs)
            return sl_fail(err, SL_LIMIT, "Resource limit exceeded. At most "
                           "%d query definitions can be saved.", p->max_defs);
        st = db_prepare(db,
            "INSERT INTO query_definitions(id, name, query_string,"
            " log_group_names, query_language, modified_ms)"
            " VALUES(?1, ?2, ?3, ?4, ?5, ?6)", &q, err);
    } else {
        st = db_prepare(db,
            "UPDATE query_definitions SET name = ?2, query_string = ?3,"
            " log_group_names = ?4, query_language = ?5, modified_ms = ?6"
            " WHERE id = ?1", &q, err);
    }
    if (st != SL_OK)
        return st;
    sqlite3_bind_text(q, 1, p->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, p->query, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, p->log_group_names ? p->log_group_names : "[]", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(q, 5, p->language ? p->language : "CWLI", -1,
                      SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, p->now_ms);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    if (st == SL_OK && !p->create && sqlite3_changes(db) == 0)
        st = qdef_missing(err);
    return st;
}

enum sl_status cat_qdef_delete(sqlite3 *db, const char *id, struct sl_err *err)
{
    sqlite3_stmt *q;
    enum sl_status st = db_prepare(db,
        "DELETE FROM query_definitions WHERE id = ?1", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    if (st == SL_OK && sqlite3_changes(db) == 0)
        st = qdef_missing(err);
    return st;
}
