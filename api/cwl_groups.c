/* api/cwl_groups.c: the log group operations of the CloudWatch protocol:
 * CreateLogGroup, DeleteLogGroup, DescribeLogGroups, PutRetentionPolicy and
 * DeleteRetentionPolicy (reference 2.1-2.3, 2.10), over the same catalogue
 * as the native REST groups. */
#include "api/cwl_int.h"

#include "storage/catalog.h"

#include <stdlib.h>
#include <string.h>

#define DESCRIBE_MAX_LIMIT 50

static const char *const group_classes[] = {"STANDARD", "INFREQUENT_ACCESS",
                                            "DELIVERY", NULL};

enum sl_status cwl_create_log_group(struct cwl_call *c)
{
    const char *name, *kms;
    struct cat_group_settings set;
    json_t *tags;
    char *tags_text = NULL;
    int cls;
    bool protect;
    enum sl_status st;

    /* kmsKeyId, logGroupClass and deletionProtectionEnabled are stored
     * and shown by DescribeLogGroups; Sluice does not encrypt with the key
     * and treats every class alike. Protection refuses DeleteLogGroup. */
    if (cwl_group_name(c, &name) != SL_OK ||
        cwl_str(c, "kmsKeyId", CWL_OPTIONAL, 0, 256, &kms) != SL_OK ||
        cwl_tags(c, "tags", CWL_OPTIONAL, &tags) != SL_OK ||
        cwl_enum(c, "logGroupClass", group_classes, 0, &cls) != SL_OK ||
        cwl_bool(c, "deletionProtectionEnabled", false, &protect) != SL_OK)
        return c->err.code;
    if (tags != NULL) {
        tags_text = json_dumps(tags, JSON_COMPACT | JSON_SORT_KEYS);
        if (tags_text == NULL)
            return sl_fail(&c->err, SL_NOMEM, "out of memory");
    }
    set.log_group_class = group_classes[cls];
    set.kms_key_id = kms != NULL && *kms != '\0' ? kms : NULL;
    set.deletion_protection = protect;
    st = store_group_create_ex(c->api->store, name, 0,
                               tags_text ? tags_text : "{}", &set, &c->err);
    free(tags_text);
    if (st == SL_OK)
        cwl_reply_empty(c);
    return st;
}

enum sl_status cwl_delete_log_group(struct cwl_call *c)
{
    const char *name;
    if (cwl_group_name(c, &name) != SL_OK ||
        store_group_delete(c->api->store, name, &c->err) != SL_OK)
        return c->err.code;
    cwl_reply_empty(c);
    return SL_OK;
}

/* A LogGroup object; reduced to what AWS sends when the listing was by
 * logGroupNamePattern. */
static json_t *group_json(struct cwl_call *c, const struct cat_group *g,
                          bool reduced)
{
    json_t *o = json_object();
    json_object_set_new(o, "logGroupName", json_string(g->name));
    json_object_set_new(o, "creationTime", json_integer(g->created_ms));
    if (g->retention_days > 0 && !reduced)
        json_object_set_new(o, "retentionInDays", json_integer(g->retention_days));
    json_object_set_new(o, "metricFilterCount",
                        json_integer(g->metric_filter_count));
    json_object_set_new(o, "arn", json_string(cwl_group_arn(c, g->name, true)));
    json_object_set_new(o, "logGroupArn",
                        json_string(cwl_group_arn(c, g->name, false)));
    if (!reduced) {
        json_object_set_new(o, "storedBytes", json_integer(g->stored_bytes));
        json_object_set_new(o, "deletionProtectionEnabled",
                            json_boolean(g->deletion_protection));
        if (g->kms_key_id != NULL)
            json_object_set_new(o, "kmsKeyId", json_string(g->kms_key_id));
    }
    json_object_set_new(o, "logGroupClass", json_string(g->log_group_class));
    return o;
}

static int group_name_cmp(const void *a, const void *b)
{
    return strcmp(((const struct cat_group *)a)->name,
                  ((const struct cat_group *)b)->name);
}

/* DescribeLogGroups with logGroupIdentifiers: the named groups that exist,
 * by name, on one page. */
static enum sl_status describe_by_ids(struct cwl_call *c, sqlite3 *db,
                                      const char **ids, size_t n_ids,
                                      const char *cls, struct cat_group *out,
                                      int *n)
{
    *n = 0;
    for (size_t i = 0; i < n_ids; i++) {
        const char *name = ids[i];
        struct sl_err e = {0};
        enum sl_status st = SL_OK;
        if (strncmp(name, "arn:", 4) == 0)
            st = cwl_parse_group_arn(c, "logGroupIdentifiers", name, &name);
        else
            st = name_check_group(name, &c->err);
        if (st == SL_NOT_FOUND) {      /* another account: nothing to show */
            sl_err_clear(&c->err);
            continue;
        }
        if (st != SL_OK)
            return st;
        st = cat_group_get(db, name, c->arena, &out[*n], &e);
        if (st == SL_OK) {
            if (cls == NULL || strcmp(out[*n].log_group_class, cls) == 0)
                (*n)++;
        } else if (st != SL_NOT_FOUND) {
            return sl_fail(&c->err, st, "%s", e.msg);
        }
    }
    qsort(out, (size_t)*n, sizeof(*out), group_name_cmp);
    for (int i = 1; i < *n; i++) {      /* the same group named twice */
        if (strcmp(out[i].name, out[i - 1].name) == 0) {
            memmove(&out[i], &out[i + 1], (size_t)(*n - i - 1) * sizeof(*out));
            (*n)--;
            i--;
        }
    }
    return SL_OK;
}

enum sl_status cwl_describe_log_groups(struct cwl_call *c)
{
    struct cat_cursor after = {.set = false};
    struct cat_group *groups;
    const char *prefix, *pattern, *token, **ids, **accts;
    size_t n_ids, n_acct;
    int64_t limit;
    int n = 0, cls;
    bool more = false, linked;
    sqlite3 *db;
    enum sl_status st;
    json_t *arr, *o;

    if (cwl_str(c, "logGroupNamePrefix", CWL_OPTIONAL, 1, CAT_NAME_MAX,
                &prefix) != SL_OK ||
        cwl_str(c, "logGroupNamePattern", CWL_OPTIONAL, 0, CAT_NAME_MAX,
                &pattern) != SL_OK ||
        cwl_str_list(c, "logGroupIdentifiers", CWL_OPTIONAL, 1, 50, 2048,
                     &ids, &n_ids) != SL_OK ||
        cwl_int(c, "limit", 1, DESCRIBE_MAX_LIMIT, DESCRIBE_MAX_LIMIT,
                &limit) != SL_OK ||
        cwl_str(c, "nextToken", CWL_OPTIONAL, 1, 4096, &token) != SL_OK ||
        cwl_enum(c, "logGroupClass", group_classes, -1, &cls) != SL_OK ||
        cwl_bool(c, "includeLinkedAccounts", false, &linked) != SL_OK ||
        cwl_str_list(c, "accountIdentifiers", CWL_OPTIONAL, 0, 20, 12, &accts,
                     &n_acct) != SL_OK)
        return c->err.code;
    if (prefix != NULL && pattern != NULL)
        return sl_fail(&c->err, SL_INVALID,
                       "LogGroup name prefix and LogGroup name pattern are "
                       "mutually exclusive parameters.");
    if (n_ids > 0 && (prefix != NULL || pattern != NULL))
        return sl_fail(&c->err, SL_INVALID,
                       "logGroupIdentifiers cannot be combined with "
                       "logGroupNamePrefix or logGroupNamePattern");
    if (token != NULL && !page_groups_after(token, &after))
        return sl_fail(&c->err, SL_INVALID, "The specified nextToken is invalid.");
    groups = arena_alloc(c->arena, (size_t)(n_ids > (size_t)limit ? n_ids
                                                                 : (size_t)limit) *
                                       sizeof(*groups));
    if (groups == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    db = store_reader(c->api->store);
    if (n_ids > 0)
        st = describe_by_ids(c, db, ids, n_ids, cls >= 0 ? group_classes[cls]
                                                         : NULL, groups, &n);
    else
        st = cat_group_list_class(db, prefix, pattern,
                                  cls >= 0 ? group_classes[cls] : NULL, &after,
                                  (int)limit, c->arena, groups, &n, &more,
                                  &c->err);
    store_reader_release(c->api->store, db);
    if (st != SL_OK)
        return st;
    arr = json_array();
    o = json_object();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, group_json(c, &groups[i], pattern != NULL));
    json_object_set_new(o, "logGroups", arr);
    if (more && n > 0)
        page_groups_next(o, &groups[n - 1]);
    cwl_reply(c, o);
    return SL_OK;
}

enum sl_status cwl_put_retention_policy(struct cwl_call *c)
{
    const char *name;
    int64_t days;

    if (cwl_group_name(c, &name) != SL_OK ||
        cwl_require(c, "retentionInDays") != SL_OK ||
        cwl_int(c, "retentionInDays", INT32_MIN, INT32_MAX, 0, &days) != SL_OK)
        return c->err.code;
    if (!name_retention_ok(days))
        return sl_fail(&c->err, SL_INVALID,
                       "1 validation error detected: Value '%d' at "
                       "'retentionInDays' failed to satisfy constraint: "
                       "Member must satisfy enum value set: [%s]",
                       (int)days, name_retention_list());
    if (store_group_set_retention(c->api->store, name, (int)days,
                                  &c->err) != SL_OK)
        return c->err.code;
    cwl_reply_empty(c);
    return SL_OK;
}

enum sl_status cwl_put_log_group_deletion_protection(struct cwl_call *c)
{
    const char *name;
    bool on;

    if (cwl_group_ref(c, &name) != SL_OK ||
        cwl_require(c, "deletionProtectionEnabled") != SL_OK ||
        cwl_bool(c, "deletionProtectionEnabled", false, &on) != SL_OK ||
        store_group_set_protection(c->api->store, name, on, &c->err) != SL_OK)
        return c->err.code;
    cwl_reply_empty(c);
    return SL_OK;
}

enum sl_status cwl_delete_retention_policy(struct cwl_call *c)
{
    const char *name;
    if (cwl_group_name(c, &name) != SL_OK ||
        store_group_set_retention(c->api->store, name, 0, &c->err) != SL_OK)
        return c->err.code;
    cwl_reply_empty(c);
    return SL_OK;
}
