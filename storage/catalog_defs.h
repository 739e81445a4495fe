/* storage/catalog_defs.h: stored definitions (schema v2): a log group's
 * metric filters and the account's saved Logs Insights query definitions.
 * Like catalog.h, reads run on any read connection and writes only inside
 * the writer's transaction (wr_run). The caller validates and normalises
 * the texts (pattern, transformations JSON, names); this module enforces
 * existence, uniqueness and the count limits it is given. */
#ifndef SLUICE_STORAGE_CATALOG_DEFS_H
#define SLUICE_STORAGE_CATALOG_DEFS_H

#include "common/arena.h"
#include "common/status.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- metric filters ---- */

struct cat_mfilter {
    int64_t group_id;
    const char *group;           /* strings arena-owned */
    const char *name;
    const char *pattern;
    const char *transformations; /* JSON array text */
    int64_t created_ms;
    bool apply_on_transformed;
};

/* Where a listing continues: after (group_id, name). */
struct cat_mfilter_cursor {
    bool set;
    int64_t group_id;
    const char *name;
};

/* Selection of a listing; NULL members select everything. */
struct cat_mfilter_sel {
    const char *group;           /* one group (SL_NOT_FOUND when missing) */
    const char *name_prefix;     /* only with group */
    const char *metric_name;     /* with metric_namespace */
    const char *metric_namespace;
};

/* Lists by (group id, filter name), up to limit; *more when any follow. */
enum sl_status cat_mfilter_list(sqlite3 *db, const struct cat_mfilter_sel *sel,
                                const struct cat_mfilter_cursor *after,
                                int limit, struct arena *a,
                                struct cat_mfilter *out, int *n, bool *more,
                                struct sl_err *err) SL_MUST_CHECK;

/* Creates or replaces (group, name); a replaced filter keeps its creation
 * time. SL_NOT_FOUND for a missing group, SL_LIMIT when a new filter would
 * make more than max_per_group. */
struct cat_mfilter_put {
    const char *group, *name, *pattern, *transformations;
    const char *metric_name, *metric_namespace;
    bool apply_on_transformed;
    int max_per_group;
    int64_t now_ms;
};
enum sl_status cat_mfilter_put(sqlite3 *db, const struct cat_mfilter_put *p,
                               struct sl_err *err) SL_MUST_CHECK;
/* SL_NOT_FOUND for a missing group or filter. */
enum sl_status cat_mfilter_delete(sqlite3 *db, const char *group,
                                  const char *name, struct sl_err *err)
    SL_MUST_CHECK;

/* ---- query definitions ---- */

struct cat_qdef {
    int64_t seq;                 /* orders equal names; paging only */
    const char *id;              /* strings arena-owned */
    const char *name;
    const char *query;
    const char *log_group_names; /* JSON array text */
    const char *language;
    int64_t modified_ms;
};

/* Where a listing continues: after (name, seq). */
struct cat_qdef_cursor {
    bool set;
    const char *name;
    int64_t seq;
};

/* Lists by (name, seq); prefix and language may be NULL. */
enum sl_status cat_qdef_list(sqlite3 *db, const char *prefix,
                             const char *language,
                             const struct cat_qdef_cursor *after, int limit,
                             struct arena *a, struct cat_qdef *out, int *n,
                             bool *more, struct sl_err *err) SL_MUST_CHECK;

/* create: inserts id (SL_LIMIT when max_defs exist already); otherwise
 * replaces every field of id (SL_NOT_FOUND when missing). */
struct cat_qdef_put {
    bool create;
    const char *id, *name, *query, *log_group_names, *language;
    int max_defs;
    int64_t now_ms;
};
enum sl_status cat_qdef_put(sqlite3 *db, const struct cat_qdef_put *p,
                            struct sl_err *err) SL_MUST_CHECK;
/* SL_NOT_FOUND when id is missing. */
enum sl_status cat_qdef_delete(sqlite3 *db, const char *id,
                               struct sl_err *err) SL_MUST_CHECK;

#endif
