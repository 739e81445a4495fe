/* api/cwl_tags.c: log group tags through both AWS API families (reference
 * 2.18): the legacy TagLogGroup, UntagLogGroup and ListTagsLogGroup by
 * group name, and TagResource, UntagResource and ListTagsForResource by
 * log group ARN. Both read and write the one tags object a group keeps.
 * A change reads, merges and writes the tags inside one writer
 * transaction, so concurrent changes never lose each other's keys. */
#include "api/cwl_int.h"

#include "storage/catalog.h"

#include <stdlib.h>

#define MAX_TAGS 50

/* One change of a group's tags, applied on the writer thread. */
struct tag_change {
    const char *group;
    json_t *add;                 /* tags to set (borrowed), or NULL */
    const char **remove;         /* keys to drop */
    size_t n_remove;
    enum sl_status over_limit;   /* error for more than MAX_TAGS */
    struct arena *arena;         /* the request's; the request thread waits */
};

static enum sl_status apply_tags(sqlite3 *db, void *arg, struct sl_err *err)
{
    struct tag_change *t = arg;
    struct cat_group g;
    json_t *cur;
    char *text;
    enum sl_status st = cat_group_find(db, t->group, t->arena, &g, err);

    if (st != SL_OK)
        return st;
    cur = json_loads(g.tags, 0, NULL);
    if (!json_is_object(cur)) {            /* never stored so; start over */
        json_decref(cur);
        cur = json_object();
    }
    if (t->add != NULL)
        json_object_update(cur, t->add);
    for (size_t i = 0; i < t->n_remove; i++)
        json_object_del(cur, t->remove[i]);
    if (json_object_size(cur) > MAX_TAGS) {
        st = sl_fail(err, t->over_limit,
                     "a log group has at most %d tags; this would make %zu",
                     MAX_TAGS, json_object_size(cur));
        goto out;
    }
    text = json_dumps(cur, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL) {
        st = sl_fail(err, SL_NOMEM, "out of memory");
        goto out;
    }
    st = cat_group_set_tags(db, t->group, text, err);
    free(text);
out:
    json_decref(cur);
    return st;
}

static enum sl_status change_tags(struct cwl_call *c, struct tag_change *t)
{
    t->arena = c->arena;
    if (wr_run(store_writer(c->api->store), apply_tags, t, &c->err) != SL_OK)
        return c->err.code;
    cwl_reply_empty(c);
    return SL_OK;
}

/* Answers {"tags": {...}} for a group. */
static enum sl_status list_tags(struct cwl_call *c, const char *group)
{
    struct cat_group g;
    sqlite3 *db = store_reader(c->api->store);
    enum sl_status st = cat_group_find(db, group, c->arena, &g, &c->err);
    json_t *tags, *o;

    store_reader_release(c->api->store, db);
    if (st != SL_OK)
        return st;
    tags = json_loads(g.tags, 0, NULL);
    if (!json_is_object(tags)) {
        json_decref(tags);
        tags = json_object();
    }
    o = json_object();
    json_object_set_new(o, "tags", tags);
    cwl_reply(c, o);
    return SL_OK;
}

/* resourceArn: a log group ARN of this server. */
static enum sl_status resource_group(struct cwl_call *c, const char **arn,
                                     const char **group)
{
    if (cwl_str(c, "resourceArn", CWL_REQUIRED, 1, 1011, arn) != SL_OK)
        return c->err.code;
    return cwl_parse_group_arn(c, "resourceArn", *arn, group);
}

enum sl_status cwl_tag_log_group(struct cwl_call *c)
{
    struct tag_change t = {.over_limit = SL_INVALID};
    if (cwl_group_name(c, &t.group) != SL_OK ||
        cwl_tags(c, "tags", CWL_REQUIRED, &t.add) != SL_OK)
        return c->err.code;
    return change_tags(c, &t);
}

enum sl_status cwl_untag_log_group(struct cwl_call *c)
{
    struct tag_change t = {.over_limit = SL_INVALID};
    /* Here "tags" is a list of keys, not a map. */
    if (cwl_group_name(c, &t.group) != SL_OK ||
        cwl_str_list(c, "tags", CWL_REQUIRED, 1, MAX_TAGS, 128, &t.remove,
                     &t.n_remove) != SL_OK)
        return c->err.code;
    return change_tags(c, &t);
}

enum sl_status cwl_list_tags_log_group(struct cwl_call *c)
{
    const char *group;
    if (cwl_group_name(c, &group) != SL_OK)
        return c->err.code;
    return list_tags(c, group);
}

enum sl_status cwl_tag_resource(struct cwl_call *c)
{
    struct tag_change t = {.over_limit = SL_TOO_MANY_TAGS};
    const char *arn;
    enum sl_status st;

    if (resource_group(c, &arn, &t.group) != SL_OK ||
        cwl_tags(c, "tags", CWL_REQUIRED, &t.add) != SL_OK)
        return c->err.code;
    st = change_tags(c, &t);
    if (st == SL_TOO_MANY_TAGS) {          /* modeled member of the error */
        c->err_extra = json_object();
        json_object_set_new(c->err_extra, "resourceName", json_string(arn));
    }
    return st;
}

enum sl_status cwl_untag_resource(struct cwl_call *c)
{
    struct tag_change t = {.over_limit = SL_INVALID};
    const char *arn;
    if (resource_group(c, &arn, &t.group) != SL_OK ||
        cwl_str_list(c, "tagKeys", CWL_REQUIRED, 0, MAX_TAGS, 128, &t.remove,
                     &t.n_remove) != SL_OK)
        return c->err.code;
    return change_tags(c, &t);
}

enum sl_status cwl_list_tags_for_resource(struct cwl_call *c)
{
    const char *arn, *group;
    if (resource_group(c, &arn, &group) != SL_OK)
        return c->err.code;
    return list_tags(c, group);
}
