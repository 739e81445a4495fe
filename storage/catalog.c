/* storage/catalog.c: groups and streams in SQLite; see catalog.h. */
#include "storage/catalog.h"

#include "storage/db.h"

#include <stdio.h>
#include <string.h>

/* The group's own row; group_totals() adds what its streams sum up to. */
#define GROUP_COLS                                                          \
    "g.id, g.name, g.created_ms, g.retention_days, g.tags, g.field_format,"  \
    " g.log_group_class, g.kms_key_id, g.deletion_protection,"              \
    " (SELECT count(*) FROM metric_filters m WHERE m.group_id = g.id)"

/* Stored bytes and event times of a group: one pass over its live
 * streams (schema v4 keeps no copy on the group row). */
#define GROUP_TOTALS_SQL                                                    \
    "SELECT coalesce(sum(stored_bytes), 0), min(first_event_ms),"           \
    " max(last_event_ms), max(last_ingest_ms) FROM streams"                 \
    " WHERE group_id = ?1 AND deleted_ms IS NULL"

#define STREAM_COLS                                                         \
    "id, group_id, name, created_ms, first_event_ms, last_event_ms,"        \
    " last_ingest_ms, stored_bytes, segment_count"

static void copy_name(char *dst, const unsigned char *src)
{
    snprintf(dst, CAT_NAME_MAX + 1, "%s", src ? (const char *)src : "");
}

static const char *col_arena_text(sqlite3_stmt *q, int i, struct arena *a)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    if (t == NULL)
        return NULL;
    return arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(q, i));
}

static void read_group(sqlite3_stmt *q, struct arena *a, struct cat_group *g)
{
    g->id = sqlite3_column_int64(q, 0);
    copy_name(g->name, sqlite3_column_text(q, 1));
    g->created_ms = sqlite3_column_int64(q, 2);
    g->retention_days = (int)db_col_opt_int(q, 3, 0);
    g->tags = col_arena_text(q, 4, a);
    if (g->tags == NULL)
        g->tags = "{}";
    g->field_format = col_arena_text(q, 5, a);
    g->log_group_class = col_arena_text(q, 6, a);
    if (g->log_group_class == NULL)
        g->log_group_class = "STANDARD";
    g->kms_key_id = col_arena_text(q, 7, a);
    g->deletion_protection = sqlite3_column_int(q, 8) != 0;
    g->metric_filter_count = sqlite3_column_int64(q, 9);
    g->stored_bytes = 0;
    g->first_event_ms = g->last_event_ms = g->last_ingest_ms = CAT_NONE;
}

/* Fills g's stored bytes and event times; t is GROUP_TOTALS_SQL prepared. */
static enum sl_status group_totals(sqlite3_stmt *t, struct cat_group *g,
                                   struct sl_err *err)
{
    bool row;
    enum sl_status st;

    sqlite3_reset(t);
    sqlite3_bind_int64(t, 1, g->id);
    st = db_step_row(t, &row, err);
    if (st == SL_OK && row) {
        g->stored_bytes = sqlite3_column_int64(t, 0);
        g->first_event_ms = db_col_opt_int(t, 1, CAT_NONE);
        g->last_event_ms = db_col_opt_int(t, 2, CAT_NONE);
        g->last_ingest_ms = db_col_opt_int(t, 3, CAT_NONE);
    }
    sqlite3_reset(t);
    return st;
}

static void read_stream(sqlite3_stmt *q, struct cat_stream *s)
{
    s->id = sqlite3_column_int64(q, 0);
    s->group_id = sqlite3_column_int64(q, 1);
    copy_name(s->name, sqlite3_column_text(q, 2));
    s->created_ms = sqlite3_column_int64(q, 3);
    s->first_event_ms = db_col_opt_int(q, 4, CAT_NONE);
    s->last_event_ms = db_col_opt_int(q, 5, CAT_NONE);
    s->last_ingest_ms = db_col_opt_int(q, 6, CAT_NONE);
    s->stored_bytes = sqlite3_column_int64(q, 7);
    s->segment_count = sqlite3_column_int64(q, 8);
}

static enum sl_status group_not_found(struct sl_err *err)
{
    return sl_fail(err, SL_NOT_FOUND, "The specified log group does not exist.");
}

static enum sl_status stream_not_found(struct sl_err *err)
{
    return sl_fail(err, SL_NOT_FOUND, "The specified log stream does not exist.");
}

enum sl_status cat_group_find(sqlite3 *db, const char *name, struct arena *a,
                              struct cat_group *out, struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    enum sl_status st = db_prepare(db,
        "SELECT " GROUP_COLS " FROM groups g"
        " WHERE g.name = ?1 AND g.deleted_ms IS NULL", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    st = db_step_row(q, &row, err);
    if (st == SL_OK && !row)
        st = group_not_found(err);
    if (st == SL_OK)
        read_group(q, a, out);
    sqlite3_finalize(q);
    return st;
}

enum sl_status cat_group_get(sqlite3 *db, const char *name, struct arena *a,
                             struct cat_group *out, struct sl_err *err)
{
    sqlite3_stmt *t;
    enum sl_status st = cat_group_find(db, name, a, out, err);
    if (st != SL_OK)
        return st;
    st = db_prepare(db, GROUP_TOTALS_SQL, &t, err);
    if (st != SL_OK)
        return st;
    st = group_totals(t, out, err);
    sqlite3_finalize(t);
    return st;
}

/* Escapes LIKE wildcards so a user's prefix matches literally. */
static char *like_pattern(struct arena *a, const char *lead, const char *s,
                          const char *trail)
{
    size_t n = strlen(s), k = 0;
    char *p = arena_alloc(a, 2 * n + 3);
    if (p == NULL)
        return NULL;
    if (*lead)
        p[k++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' || s[i] == '_' || s[i] == '\\')
            p[k++] = '\\';
        p[k++] = s[i];
    }
    if (*trail)
        p[k++] = '%';
    p[k] = '\0';
    return p;
}

enum sl_status cat_group_list(sqlite3 *db, const char *prefix,
                              const char *substring,
                              const struct cat_cursor *after, int limit,
                              struct arena *a, struct cat_group *out, int *n,
                              bool *more, struct sl_err *err)
{
    return cat_group_list_class(db, prefix, substring, NULL, after, limit, a,
                                out, n, more, err);
}

enum sl_status cat_group_list_class(sqlite3 *db, const char *prefix,
                                    const char *substring,
                                    const char *log_group_class,
                                    const struct cat_cursor *after, int limit,
                                    struct arena *a, struct cat_group *out,
                                    int *n, bool *more, struct sl_err *err)
{
    sqlite3_stmt *q, *t;
    bool row;
    char *sub = NULL;
    enum sl_status st;

    *n = 0;
    *more = false;
    st = db_prepare(db, GROUP_TOTALS_SQL, &t, err);
    if (st != SL_OK)
        return st;
    /* Prefix as a range on the name index: name >= p AND name < p||0xff;
     * names are ASCII so 0x7f..0xff never occur in them. */
    st = db_prepare(db,
        "SELECT " GROUP_COLS " FROM groups g WHERE g.deleted_ms IS NULL"
        " AND (?1 IS NULL OR (g.name >= ?1 AND g.name < ?1 || char(127)))"
        " AND (?2 IS NULL OR g.name LIKE ?2 ESCAPE '\\')"
        " AND (?3 IS NULL OR g.name > ?3)"
        " AND (?5 IS NULL OR g.log_group_class = ?5)"
        " ORDER BY g.name LIMIT ?4", &q, err);
    if (st != SL_OK) {
        sqlite3_finalize(t);
        return st;
    }
    if (substring != NULL && *substring != '\0') {
        sub = like_pattern(a, "%", substring, "%");
        if (sub == NULL) {
            sqlite3_finalize(q);
            sqlite3_finalize(t);
            return sl_fail(err, SL_NOMEM, "out of memory");
        }
    }
    if (prefix != NULL && *prefix != '\0')
        sqlite3_bind_text(q, 1, prefix, -1, SQLITE_STATIC);
    if (sub != NULL)
        sqlite3_bind_text(q, 2, sub, -1, SQLITE_STATIC);
    if (after != NULL && after->set)
        sqlite3_bind_text(q, 3, after->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 4, limit + 1);
    if (log_group_class != NULL)
        sqlite3_bind_text(q, 5, log_group_class, -1, SQLITE_STATIC);
    /* LIKE is case-insensitive for ASCII by default; the pattern filter
     * must be case-sensitive as in CloudWatch. */
    if (sub != NULL)
        sqlite3_exec(db, "PRAGMA case_sensitive_like=ON", NULL, NULL, NULL);
    while ((st = db_step_row(q, &row, err)) == SL_OK && row) {
        if (*n == limit) {
            *more = true;
            break;
        }
        read_group(q, a, &out[*n]);
        st = group_totals(t, &out[(*n)++], err);
        if (st != SL_OK)
            break;
    }
    if (sub != NULL)
        sqlite3_exec(db, "PRAGMA case_sensitive_like=OFF", NULL, NULL, NULL);
    sqlite3_finalize(q);
    sqlite3_finalize(t);
    return st;
}

enum sl_status cat_stream_get(sqlite3 *db, int64_t group_id, const char *name,
                              struct cat_stream *out, struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    enum sl_status st = db_prepare(db,
        "SELECT " STREAM_COLS " FROM streams"
        " WHERE group_id = ?1 AND name = ?2 AND deleted_ms IS NULL", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    st = db_step_row(q, &row, err);
    if (st == SL_OK && !row)
        st = stream_not_found(err);
    if (st == SL_OK)
        read_stream(q, out);
    sqlite3_finalize(q);
    return st;
}

enum sl_status cat_stream_list(sqlite3 *db, int64_t group_id,
                               const char *prefix, enum cat_stream_order order,
                               bool descending, const struct cat_cursor *after,
                               int limit, struct cat_stream *out, int *n,
                               bool *more, struct sl_err *err)
{
    static const char *const sql[2][2] = {
        {"SELECT " STREAM_COLS " FROM streams WHERE group_id = ?1"
         " AND deleted_ms IS NULL"
         " AND (?2 IS NULL OR (name >= ?2 AND name < ?2 || char(1114111)))"
         " AND (?4 IS NULL OR name > ?4) ORDER BY name LIMIT ?5",
         "SELECT " STREAM_COLS " FROM streams WHERE group_id = ?1"
         " AND deleted_ms IS NULL"
         " AND (?2 IS NULL OR (name >= ?2 AND name < ?2 || char(1114111)))"
         " AND (?4 IS NULL OR name < ?4) ORDER BY name DESC LIMIT ?5"},
        {"SELECT " STREAM_COLS " FROM streams WHERE group_id = ?1"
         " AND deleted_ms IS NULL"
         " AND (?2 IS NULL OR (name >= ?2 AND name < ?2 || char(1114111)))"
         " AND (?4 IS NULL OR (coalesce(last_event_ms, 0), name) > (?3, ?4))"
         " ORDER BY coalesce(last_event_ms, 0), name LIMIT ?5",
         "SELECT " STREAM_COLS " FROM streams WHERE group_id = ?1"
         " AND deleted_ms IS NULL"
         " AND (?2 IS NULL OR (name >= ?2 AND name < ?2 || char(1114111)))"
         " AND (?4 IS NULL OR (coalesce(last_event_ms, 0), name) < (?3, ?4))"
         " ORDER BY coalesce(last_event_ms, 0) DESC, name DESC LIMIT ?5"},
    };
    sqlite3_stmt *q;
    bool row;
    enum sl_status st;

    *n = 0;
    *more = false;
    st = db_prepare(db, sql[order == CAT_ORDER_LAST_EVENT][descending], &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, group_id);
    if (prefix != NULL && *prefix != '\0')
        sqlite3_bind_text(q, 2, prefix, -1, SQLITE_STATIC);
    if (after != NULL && after->set) {
        sqlite3_bind_int64(q, 3, after->last_event_ms);
        sqlite3_bind_text(q, 4, after->name, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(q, 5, limit + 1);
    while ((st = db_step_row(q, &row, err)) == SL_OK && row) {
        if (*n == limit) {
            *more = true;
            break;
        }
        read_stream(q, &out[(*n)++]);
    }
    sqlite3_finalize(q);
    return st;
}

enum sl_status cat_group_streams(sqlite3 *db, int64_t group_id,
                                 struct arena *a, int64_t **ids,
                                 const char ***names, int *n,
                                 struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    int cap = 64;
    enum sl_status st;

    *n = 0;
    *ids = arena_alloc(a, (size_t)cap * sizeof(**ids));
    *names = arena_alloc(a, (size_t)cap * sizeof(**names));
    if (*ids == NULL || *names == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    st = db_prepare(db, "SELECT id, name FROM streams WHERE group_id = ?1"
                        " AND deleted_ms IS NULL ORDER BY id", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, group_id);
    while ((st = db_step_row(q, &row, err)) == SL_OK && row) {
        const char *name = (const char *)sqlite3_column_text(q, 1);
        if (*n == cap) {
            int64_t *more = arena_alloc(a, (size_t)cap * 2 * sizeof(*more));
            const char **more_names = arena_alloc(a, (size_t)cap * 2 * sizeof(*more_names));
            if (more == NULL || more_names == NULL) {
                st = sl_fail(err, SL_NOMEM, "out of memory");
                break;
            }
            memcpy(more, *ids, (size_t)cap * sizeof(*more));
            memcpy(more_names, *names, (size_t)cap * sizeof(*more_names));
            *ids = more;
            *names = more_names;
            cap *= 2;
        }
        (*ids)[*n] = sqlite3_column_int64(q, 0);
        (*names)[*n] = arena_strndup(a, name ? name : "", name ? strlen(name) : 0);
        if ((*names)[*n] == NULL) {
            st = sl_fail(err, SL_NOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    sqlite3_finalize(q);
    return st;
}

/* ---- writes ---------------------------------------------------------- */

enum sl_status cat_group_id(sqlite3 *db, const char *name, int64_t *id,
                            struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    enum sl_status st = db_prepare(db,
        "SELECT id FROM groups WHERE name = ?1 AND deleted_ms IS NULL", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    st = db_step_row(q, &row, err);
    if (st == SL_OK && !row)
        st = group_not_found(err);
    if (st == SL_OK)
        *id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return st;
}

static enum sl_status stream_id_of(sqlite3 *db, int64_t group_id,
                                   const char *name, int64_t *id,
                                   struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    enum sl_status st = db_prepare(db,
        "SELECT id FROM streams WHERE group_id = ?1 AND name = ?2"
        " AND deleted_ms IS NULL", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    st = db_step_row(q, &row, err);
    if (st == SL_OK && !row)
        st = stream_not_found(err);
    if (st == SL_OK)
        *id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return st;
}

enum sl_status cat_group_create(sqlite3 *db, const char *name,
                                int retention_days, const char *tags,
                                int64_t now_ms, struct sl_err *err)
{
    sqlite3_stmt *q;
    int64_t id;
    enum sl_status st;

    if (cat_group_id(db, name, &id, NULL) == SL_OK)
        return sl_fail(err, SL_EXISTS, "The specified log group already exists");
    st = db_prepare(db,
        "INSERT INTO groups(name, created_ms, retention_days, tags)"
        " VALUES(?1, ?2, ?3, ?4)", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now_ms);
    if (retention_days > 0)
        sqlite3_bind_int(q, 3, retention_days);
    sqlite3_bind_text(q, 4, tags ? tags : "{}", -1, SQLITE_STATIC);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    return st;
}

static enum sl_status exec_named(sqlite3 *db, const char *sql, int64_t a1,
                                 int64_t a2, struct sl_err *err)
{
    sqlite3_stmt *q;
    enum sl_status st = db_prepare(db, sql, &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, a1);
    sqlite3_bind_int64(q, 2, a2);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    return st;
}

/* Whether the live group id has deletion protection on. */
static enum sl_status protected_group(sqlite3 *db, int64_t id, bool *on,
                                      struct sl_err *err)
{
    sqlite3_stmt *q;
    bool row;
    enum sl_status st = db_prepare(db,
        "SELECT deletion_protection FROM groups WHERE id = ?1", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, id);
    st = db_step_row(q, &row, err);
    *on = st == SL_OK && row && sqlite3_column_int(q, 0) != 0;
    sqlite3_finalize(q);
    return st;
}

enum sl_status cat_group_delete(sqlite3 *db, const char *name, int64_t now_ms,
                                struct sl_err *err)
{
    int64_t id;
    bool protect;
    enum sl_status st = cat_group_id(db, name, &id, err);
    if (st != SL_OK)
        return st;
    st = protected_group(db, id, &protect, err);
    if (st != SL_OK)
        return st;
    if (protect)
        return sl_fail(err, SL_VALIDATION,
                       "Log group %.300s has deletion protection enabled; "
                       "turn it off before deleting the log group.", name);
    st = exec_named(db, "DELETE FROM metric_filters WHERE group_id = ?1",
                    id, 0, err);
    if (st != SL_OK)
        return st;
    st = exec_named(db, "UPDATE streams SET deleted_ms = ?2"
                        " WHERE group_id = ?1 AND deleted_ms IS NULL",
                    id, now_ms, err);
    if (st != SL_OK)
        return st;
    return exec_named(db, "UPDATE groups SET deleted_ms = ?2 WHERE id = ?1",
                      id, now_ms, err);
}

enum sl_status cat_group_set_retention(sqlite3 *db, const char *name,
                                       int days, struct sl_err *err)
{
    int64_t id;
    enum sl_status st = cat_group_id(db, name, &id, err);
    if (st != SL_OK)
        return st;
    /* NULLIF stores "no policy" as NULL. */
    return exec_named(db, "UPDATE groups SET retention_days = NULLIF(?2, 0)"
                          " WHERE id = ?1", id, days > 0 ? days : 0, err);
}

enum sl_status cat_group_set_field_format(sqlite3 *db, const char *name,
                                         const char *format, struct sl_err *err)
{
    sqlite3_stmt *q;
    int64_t id;
    enum sl_status st = cat_group_id(db, name, &id, err);
    if (st != SL_OK)
        return st;
    st = db_prepare(db, "UPDATE groups SET field_format = ?2 WHERE id = ?1", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, id);
    if (format != NULL)
        sqlite3_bind_text(q, 2, format, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, 2);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    return st;
}

enum sl_status cat_group_set_settings(sqlite3 *db, const char *name,
                                      const struct cat_group_settings *set,
                                      struct sl_err *err)
{
    sqlite3_stmt *q;
    int64_t id;
    enum sl_status st = cat_group_id(db, name, &id, err);
    if (st != SL_OK)
        return st;
    st = db_prepare(db, "UPDATE groups SET log_group_class = ?2,"
                        " kms_key_id = ?3, deletion_protection = ?4"
                        " WHERE id = ?1", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, set->log_group_class ? set->log_group_class
                                                 : "STANDARD", -1,
                      SQLITE_STATIC);
    if (set->kms_key_id != NULL)
        sqlite3_bind_text(q, 3, set->kms_key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 4, set->deletion_protection ? 1 : 0);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    return st;
}

enum sl_status cat_group_set_protection(sqlite3 *db, const char *name,
                                        bool on, struct sl_err *err)
{
    int64_t id;
    enum sl_status st = cat_group_id(db, name, &id, err);
    if (st != SL_OK)
        return st;
    return exec_named(db, "UPDATE groups SET deletion_protection = ?2"
                          " WHERE id = ?1", id, on ? 1 : 0, err);
}

enum sl_status cat_group_set_tags(sqlite3 *db, const char *name,
                                  const char *tags, struct sl_err *err)
{
    sqlite3_stmt *q;
    int64_t id;
    enum sl_status st = cat_group_id(db, name, &id, err);
    if (st != SL_OK)
        return st;
    st = db_prepare(db, "UPDATE groups SET tags = ?2 WHERE id = ?1", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, tags, -1, SQLITE_STATIC);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    return st;
}

static enum sl_status stream_insert(sqlite3 *db, int64_t group_id,
                                    const char *stream, int64_t now_ms,
                                    int64_t *id, struct sl_err *err)
{
    sqlite3_stmt *q;
    enum sl_status st = db_prepare(db,
        "INSERT INTO streams(group_id, name, created_ms) VALUES(?1, ?2, ?3)",
        &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, now_ms);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    if (st == SL_OK && id != NULL)
        *id = sqlite3_last_insert_rowid(db);
    return st;
}

enum sl_status cat_stream_create(sqlite3 *db, const char *group,
                                 const char *stream, int64_t now_ms,
                                 struct sl_err *err)
{
    int64_t gid, sid;
    enum sl_status st = cat_group_id(db, group, &gid, err);
    if (st != SL_OK)
        return st;
    if (stream_id_of(db, gid, stream, &sid, NULL) == SL_OK)
        return sl_fail(err, SL_EXISTS, "The specified log stream already exists");
    return stream_insert(db, gid, stream, now_ms, NULL, err);
}

enum sl_status cat_stream_delete(sqlite3 *db, const char *group,
                                 const char *stream, int64_t now_ms,
                                 struct sl_err *err)
{
    int64_t gid, sid;
    enum sl_status st = cat_group_id(db, group, &gid, err);
    if (st != SL_OK)
        return st;
    st = stream_id_of(db, gid, stream, &sid, err);
    if (st != SL_OK)
        return st;
    return exec_named(db, "UPDATE streams SET deleted_ms = ?2 WHERE id = ?1",
                      sid, now_ms, err);
}

enum sl_status cat_ensure(sqlite3 *db, const char *group, const char *stream,
                          int64_t now_ms, int64_t *group_id,
                          int64_t *stream_id, struct sl_err *err)
{
    enum sl_status st = cat_group_id(db, group, group_id, NULL);
    if (st == SL_NOT_FOUND) {
        st = cat_group_create(db, group, 0, "{}", now_ms, err);
        if (st != SL_OK)
            return st;
        *group_id = sqlite3_last_insert_rowid(db);
    } else if (st != SL_OK) {
        return cat_group_id(db, group, group_id, err);
    }
    st = stream_id_of(db, *group_id, stream, stream_id, NULL);
    if (st == SL_NOT_FOUND)
        return stream_insert(db, *group_id, stream, now_ms, stream_id, err);
    if (st != SL_OK)
        return stream_id_of(db, *group_id, stream, stream_id, err);
    return SL_OK;
}

enum sl_status cat_purge_step(sqlite3 *db, int max_segments, int *done,
                              struct sl_err *err)
{
    sqlite3_stmt *q;
    enum sl_status st;

    *done = 0;
    st = db_exec(db,
        "CREATE TEMP TABLE IF NOT EXISTS purge_ids(id INTEGER PRIMARY KEY);"
        "DELETE FROM purge_ids;", err);
    if (st != SL_OK)
        return st;
    st = db_prepare(db,
        "INSERT INTO purge_ids SELECT g.id FROM seg_all g"
        " JOIN streams s ON s.id = g.stream_id"
        " WHERE s.deleted_ms IS NOT NULL LIMIT ?1", &q, err);
    if (st != SL_OK)
        return st;
    sqlite3_bind_int(q, 1, max_segments);
    st = db_step_done(q, err);
    sqlite3_finalize(q);
    if (st != SL_OK)
        return st;
    *done = sqlite3_changes(db);
    if (*done == 0)
        return SL_OK;
    return db_exec(db,
        "DELETE FROM segment_data WHERE id IN (SELECT id FROM purge_ids);"
        "DELETE FROM segments WHERE id IN (SELECT id FROM purge_ids);"
        "DELETE FROM purge_ids;", err);
}
