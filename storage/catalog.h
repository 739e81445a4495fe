/* storage/catalog.h: log groups and log streams, the catalogue half of
 * storage. Read functions run on any read connection; write functions run
 * only inside the writer's transaction (through wr_run), so every write
 * goes down one path. Names are validated by the caller (api/); this module
 * enforces uniqueness and existence. Deleted groups and streams are marked,
 * not removed: their ids are never reused and cat_purge_step() removes their
 * segments in the background. */
#ifndef SLUICE_STORAGE_CATALOG_H
#define SLUICE_STORAGE_CATALOG_H

#include "common/arena.h"
#include "common/status.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#define CAT_NAME_MAX 512
#define CAT_NONE INT64_MIN   /* an absent time */

struct cat_group {
    int64_t id;
    char name[CAT_NAME_MAX + 1];
    int64_t created_ms;
    int retention_days;        /* 0: never expire */
    const char *tags;          /* JSON object text, arena-owned */
    const char *field_format;  /* custom field format or NULL, arena-owned */
    int64_t stored_bytes;
    int64_t first_event_ms;    /* CAT_NONE when the group has no events */
    int64_t last_event_ms;
    int64_t last_ingest_ms;
    /* v2 settings */
    const char *log_group_class; /* "STANDARD" etc., arena-owned */
    const char *kms_key_id;      /* NULL when none, arena-owned */
    bool deletion_protection;
    int64_t metric_filter_count;
};

/* Group settings given at creation (schema v2). */
struct cat_group_settings {
    const char *log_group_class; /* NULL: STANDARD */
    const char *kms_key_id;      /* NULL: none */
    bool deletion_protection;
};

struct cat_stream {
    int64_t id;
    int64_t group_id;
    char name[CAT_NAME_MAX + 1];
    int64_t created_ms;
    int64_t first_event_ms;    /* CAT_NONE until the first event */
    int64_t last_event_ms;
    int64_t last_ingest_ms;
    int64_t stored_bytes;
    int64_t segment_count;
};

enum cat_stream_order { CAT_ORDER_NAME, CAT_ORDER_LAST_EVENT };

/* Where a listing continues: after this key (exclusive). */
struct cat_cursor {
    bool set;                  /* false: from the beginning */
    int64_t last_event_ms;     /* CAT_ORDER_LAST_EVENT only */
    char name[CAT_NAME_MAX + 1];
};

/* ---- reads (any read connection) ---- */

/* The id of the live group called name; SL_NOT_FOUND (with AWS's message)
 * when there is none. */
enum sl_status cat_group_id(sqlite3 *db, const char *name, int64_t *id,
                            struct sl_err *err) SL_MUST_CHECK;
/* The live group called name, whole: its stored bytes and event times
 * come from one pass over its streams. SL_NOT_FOUND when no live group
 * has this name. Strings go to a. */
enum sl_status cat_group_get(sqlite3 *db, const char *name, struct arena *a,
                             struct cat_group *out, struct sl_err *err)
    SL_MUST_CHECK;
/* The same without that pass (stored_bytes 0, event times CAT_NONE): for
 * callers that want the group's id and settings, e.g. every read of its
 * events, which should not cost a walk over thousands of streams. */
enum sl_status cat_group_find(sqlite3 *db, const char *name, struct arena *a,
                              struct cat_group *out, struct sl_err *err)
    SL_MUST_CHECK;
/* Lists live groups by name. prefix and substring may be NULL. Fills up to
 * limit entries in out (caller array), *n; *more says whether any follow. */
enum sl_status cat_group_list(sqlite3 *db, const char *prefix,
                              const char *substring,
                              const struct cat_cursor *after, int limit,
                              struct arena *a, struct cat_group *out, int *n,
                              bool *more, struct sl_err *err) SL_MUST_CHECK;
/* The same, only groups of log_group_class (NULL: any). */
enum sl_status cat_group_list_class(sqlite3 *db, const char *prefix,
                                    const char *substring,
                                    const char *log_group_class,
                                    const struct cat_cursor *after, int limit,
                                    struct arena *a, struct cat_group *out,
                                    int *n, bool *more, struct sl_err *err)
    SL_MUST_CHECK;
enum sl_status cat_stream_get(sqlite3 *db, int64_t group_id, const char *name,
                              struct cat_stream *out, struct sl_err *err)
    SL_MUST_CHECK;
enum sl_status cat_stream_list(sqlite3 *db, int64_t group_id,
                               const char *prefix, enum cat_stream_order order,
                               bool descending, const struct cat_cursor *after,
                               int limit, struct cat_stream *out, int *n,
                               bool *more, struct sl_err *err) SL_MUST_CHECK;
/* Fills ids and names (arena) of the live streams of a group, by id. */
enum sl_status cat_group_streams(sqlite3 *db, int64_t group_id,
                                 struct arena *a, int64_t **ids,
                                 const char ***names, int *n,
                                 struct sl_err *err) SL_MUST_CHECK;

/* ---- writes (writer transaction only) ---- */

/* SL_EXISTS when a live group has the name. tags: JSON object text. */
enum sl_status cat_group_create(sqlite3 *db, const char *name,
                                int retention_days, const char *tags,
                                int64_t now_ms, struct sl_err *err)
    SL_MUST_CHECK;
/* Sets (NULL: clears) the group's custom field format, e.g. a VPC flow log
 * format string, for discovery at query time. SL_NOT_FOUND when missing. */
enum sl_status cat_group_set_field_format(sqlite3 *db, const char *name,
                                         const char *format,
                                         struct sl_err *err) SL_MUST_CHECK;
/* Sets the v2 settings of a live group (right after cat_group_create). */
enum sl_status cat_group_set_settings(sqlite3 *db, const char *name,
                                      const struct cat_group_settings *set,
                                      struct sl_err *err) SL_MUST_CHECK;
/* Turns deletion protection on or off. SL_NOT_FOUND when missing. */
enum sl_status cat_group_set_protection(sqlite3 *db, const char *name,
                                        bool on, struct sl_err *err)
    SL_MUST_CHECK;
/* Marks the group and its streams deleted and drops its metric filters.
 * SL_NOT_FOUND when missing, SL_VALIDATION while deletion protection is
 * on. */
enum sl_status cat_group_delete(sqlite3 *db, const char *name, int64_t now_ms,
                                struct sl_err *err) SL_MUST_CHECK;
/* days 0 removes the policy. */
enum sl_status cat_group_set_retention(sqlite3 *db, const char *name,
                                       int days, struct sl_err *err)
    SL_MUST_CHECK;
/* Replaces the tags object. */
enum sl_status cat_group_set_tags(sqlite3 *db, const char *name,
                                  const char *tags, struct sl_err *err)
    SL_MUST_CHECK;
/* SL_NOT_FOUND when the group is missing, SL_EXISTS for a live stream. */
enum sl_status cat_stream_create(sqlite3 *db, const char *group,
                                 const char *stream, int64_t now_ms,
                                 struct sl_err *err) SL_MUST_CHECK;
enum sl_status cat_stream_delete(sqlite3 *db, const char *group,
                                 const char *stream, int64_t now_ms,
                                 struct sl_err *err) SL_MUST_CHECK;
/* Creates the group and/or stream when missing; returns both ids. */
enum sl_status cat_ensure(sqlite3 *db, const char *group, const char *stream,
                          int64_t now_ms, int64_t *group_id,
                          int64_t *stream_id, struct sl_err *err)
    SL_MUST_CHECK;
/* Deletes up to max_segments segments of deleted streams and their blobs;
 * *done = number removed (0: nothing left to purge). */
enum sl_status cat_purge_step(sqlite3 *db, int max_segments, int *done,
                              struct sl_err *err) SL_MUST_CHECK;

#endif
