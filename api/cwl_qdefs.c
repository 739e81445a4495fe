/* api/cwl_qdefs.c: saved Logs Insights queries over the CloudWatch
 * protocol (reference 2.16): PutQueryDefinition (create, or replace every
 * field when queryDefinitionId is given), DescribeQueryDefinitions (by
 * name, paged) and DeleteQueryDefinition. Stored by
 * storage/catalog_defs.h; the query text is kept as given, not compiled. */
#include "api/cwl_int.h"

#include "common/clock.h"
#include "storage/catalog_defs.h"
#include "storage/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEFINITIONS 1000
#define DESCRIBE_MAX_RESULTS 1000

static const char *const languages[] = {"CWLI", "SQL", "PPL", NULL};


/* name: ^([^:*\/]+\/?)*[^:*\/]+$ — folders separated by single '/'. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[0] == '/' || s[n - 1] == '/' || strpbrk(s, ":*") != NULL)
        return false;
    return strstr(s, "//") == NULL;
}

/* logGroupNames as a JSON array text (malloc'ed) of valid group names. */
static enum sl_status group_names(struct cwl_call *c, char **out)
{
    const char **names;
    size_t n;
    json_t *arr;

    *out = NULL;
    if (cwl_str_list(c, "logGroupNames", CWL_OPTIONAL, 0, 50, CAT_NAME_MAX,
                     &names, &n) != SL_OK)
        return c->err.code;
    arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (name_check_group(names[i], &c->err) != SL_OK) {
            json_decref(arr);
            return c->err.code;
        }
        json_array_append_new(arr, json_string(names[i]));
    }
    *out = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return *out != NULL ? SL_OK : sl_fail(&c->err, SL_NOMEM, "out of memory");
}

static enum sl_status apply_put(sqlite3 *db, void *arg, struct sl_err *err)
{
    return cat_qdef_put(db, arg, err);
}

enum sl_status cwl_put_query_definition(struct cwl_call *c)
{
    struct cat_qdef_put p = {.max_defs = MAX_DEFINITIONS,
                             .now_ms = sl_now_ms()};
    const char *id, *token;
    char *groups = NULL;
    int lang;
    enum sl_status st;
    json_t *o;

    if (cwl_str(c, "name", CWL_REQUIRED, 1, 255, &p.name) != SL_OK ||
        cwl_str(c, "queryString", CWL_REQUIRED, 1, 10000, &p.query) != SL_OK ||
        cwl_str(c, "queryDefinitionId", CWL_OPTIONAL, 0, 256, &id) != SL_OK ||
        cwl_str(c, "clientToken", CWL_OPTIONAL, 36, 128, &token) != SL_OK ||
        cwl_enum(c, "queryLanguage", languages, 0, &lang) != SL_OK)
        return c->err.code;
    if (!name_ok(p.name))
        return sl_fail(&c->err, SL_INVALID,
                       "1 validation error detected: Value '%.64s' at 'name' "
                       "failed to satisfy constraint: Member must satisfy "
                       "regular expression pattern: ^([^:*\\/]+\\/?)*[^:*\\/]+$",
                       p.name);
    if (group_names(c, &groups) != SL_OK)
        return c->err.code;
    p.create = id == NULL || *id == '\0';
    p.id = p.create ? cwl_uuid(c->arena) : id;
    p.log_group_names = groups;
    p.language = languages[lang];
    if (p.id == NULL) {
        free(groups);
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    }
    st = wr_run(store_writer(c->api->store), apply_put, &p, &c->err);
    free(groups);
    if (st != SL_OK)
        return st;
    o = json_object();
    json_object_set_new(o, "queryDefinitionId", json_string(p.id));
    cwl_reply(c, o);
    return SL_OK;
}

static json_t *qdef_json(const struct cat_qdef *d)
{
    json_t *o = json_object();
    json_t *groups = json_loads(d->log_group_names, 0, NULL);

    json_object_set_new(o, "queryDefinitionId", json_string(d->id));
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "queryString", json_string(d->query));
    json_object_set_new(o, "lastModified", json_integer(d->modified_ms));
    if (!json_is_array(groups)) {
        json_decref(groups);
        groups = json_array();
    }
    json_object_set_new(o, "logGroupNames", groups);
    json_object_set_new(o, "queryLanguage", json_string(d->language));
    return o;
}

enum sl_status cwl_describe_query_definitions(struct cwl_call *c)
{
    struct cat_qdef_cursor after = {.set = false};
    struct cat_qdef *out;
    const char *prefix, *token;
    int64_t limit;
    int n, lang;
    bool more;
    sqlite3 *db;
    enum sl_status st;
    json_t *o, *arr;

    if (cwl_str(c, "queryDefinitionNamePrefix", CWL_OPTIONAL, 1, 255,
                &prefix) != SL_OK ||
        cwl_int(c, "maxResults", 1, DESCRIBE_MAX_RESULTS, DESCRIBE_MAX_RESULTS,
                &limit) != SL_OK ||
        cwl_str(c, "nextToken", CWL_OPTIONAL, 1, 4096, &token) != SL_OK ||
        cwl_enum(c, "queryLanguage", languages, -1, &lang) != SL_OK)
        return c->err.code;
    if (token != NULL) {
        struct tok t;
        if (!tok_decode(token, strlen(token), &t) ||
            t.kind != TOK_KIND_QUERY_DEFS || t.nvals != 1)
            return sl_fail(&c->err, SL_INVALID,
                           "The specified nextToken is invalid.");
        after.set = true;
        after.seq = t.vals[0];
        after.name = arena_strndup(c->arena, t.str, t.str_len);
    }
    out = arena_alloc(c->arena, (size_t)limit * sizeof(*out));
    if (out == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    db = store_reader(c->api->store);
    st = cat_qdef_list(db, prefix, lang >= 0 ? languages[lang] : NULL, &after,
                       (int)limit, c->arena, out, &n, &more, &c->err);
    store_reader_release(c->api->store, db);
    if (st != SL_OK)
        return st;
    o = json_object();
    arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, qdef_json(&out[i]));
    json_object_set_new(o, "queryDefinitions", arr);
    if (more && n > 0) {
        struct tok t = {.kind = TOK_KIND_QUERY_DEFS, .nvals = 1};
        t.vals[0] = out[n - 1].seq;
        t.str_len = strlen(out[n - 1].name);
        memcpy(t.str, out[n - 1].name, t.str_len + 1);
        page_set_token(o, &t);
    }
    cwl_reply(c, o);
    return SL_OK;
}

static enum sl_status apply_delete(sqlite3 *db, void *arg, struct sl_err *err)
{
    return cat_qdef_delete(db, arg, err);
}

enum sl_status cwl_delete_query_definition(struct cwl_call *c)
{
    const char *id;
    json_t *o;

    if (cwl_str(c, "queryDefinitionId", CWL_REQUIRED, 0, 256, &id) != SL_OK ||
        wr_run(store_writer(c->api->store), apply_delete, (void *)(uintptr_t)id,
               &c->err) != SL_OK)
        return c->err.code;
    o = json_object();
    json_object_set_new(o, "success", json_true());
    cwl_reply(c, o);
    return SL_OK;
}
