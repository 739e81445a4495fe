/* api/query_groups.c: the log groups of a query and its start, for both
 * fronts: groups named by the request or by the query's SOURCE header
 * (names, or logGroups() with name prefixes) are looked up in the
 * catalogue once, without repeats, added to the compiled query, and the
 * query goes to the registry with what DescribeQueries will show. */
#include "api/query_common.h"

#include "storage/catalog.h"
#include "storage/store.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SOURCE_MAX_GROUPS  10000   /* groups a SOURCE logGroups() may match */
#define GROUP_PAGE         200     /* catalogue page while walking groups */

void qc_opts(const struct api *a, int64_t now_ms, struct qx_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->workers = 0;
    o->mem_cap = a->cfg.query_mem;
    o->timeout_ms = a->cfg.query_timeout_ms;
    o->now_ms = now_ms;
}

bool qc_source_names_groups(const struct qx *q)
{
    const struct ast_source *src = qx_source(q);
    return src != NULL && (src->groups.n > 0 || src->log_groups);
}

static enum sl_status gset_add(struct qc_groups *s, const struct cat_group *g,
                               struct sl_err *err)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->g[i].id == g->id)
            return SL_OK;
    if (s->n == SOURCE_MAX_GROUPS)
        return sl_fail(err, SL_LIMIT,
                       "the query would read more than %d log groups; narrow "
                       "SOURCE logGroups() with namePrefix", SOURCE_MAX_GROUPS);
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        struct cat_group *more = arena_alloc(s->a, cap * sizeof(*more));
        if (more == NULL)
            return sl_fail(err, SL_NOMEM, "out of memory");
        if (s->n > 0)
            memcpy(more, s->g, s->n * sizeof(*more));
        s->g = more;
        s->cap = cap;
    }
    s->g[s->n++] = *g;
    return SL_OK;
}

static enum sl_status add_named(sqlite3 *db, const char *account,
                                struct qc_groups *s, const char *name,
                                struct sl_err *err)
{
    struct sl_err gerr = {0};
    struct cat_group g;
    enum sl_status st = cat_group_find(db, name, s->a, &g, &gerr);

    if (st == SL_NOT_FOUND)   /* AWS's words */
        return sl_fail(err, SL_NOT_FOUND,
                       "Log group '%.200s' does not exist for account ID "
                       "'%s'", name, account);
    if (st != SL_OK) {
        *err = gerr;
        return st;
    }
    return gset_add(s, &g, err);
}

enum sl_status qc_each_group(sqlite3 *db, const char *prefix,
                             struct arena *a, qc_group_fn fn, void *ctx,
                             struct sl_err *err)
{
    struct cat_group *page = arena_alloc(a, GROUP_PAGE * sizeof(*page));
    struct cat_cursor cur = {0};
    bool more = true, go_on = true;
    enum sl_status st = SL_OK;

    if (page == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    while (st == SL_OK && more && go_on) {
        int n = 0;
        st = cat_group_list(db, prefix, NULL, &cur, GROUP_PAGE, a, page, &n,
                            &more, err);
        for (int i = 0; st == SL_OK && go_on && i < n; i++)
            st = fn(ctx, &page[i], &go_on, err);
        if (n > 0) {
            cur.set = true;
            snprintf(cur.name, sizeof(cur.name), "%s", page[n - 1].name);
        }
    }
    return st;
}

struct prefixed {
    struct qc_groups *s;
    size_t *matched;
};

static enum sl_status add_one(void *ctx, const struct cat_group *g,
                              bool *go_on, struct sl_err *err)
{
    struct prefixed *p = ctx;
    (void)go_on;
    ++*p->matched;
    return gset_add(p->s, g, err);
}

/* Every group whose name starts with prefix (NULL: every group). */
static enum sl_status add_prefixed(sqlite3 *db, struct qc_groups *s,
                                   const char *prefix, size_t *matched,
                                   struct sl_err *err)
{
    struct prefixed p = {.s = s, .matched = matched};
    return qc_each_group(db, prefix, s->a, add_one, &p, err);
}

static enum sl_status source_groups(sqlite3 *db, const char *account,
                                    const struct ast_source *src,
                                    struct qc_groups *s, struct sl_err *err)
{
    enum sl_status st = SL_OK;
    size_t matched = 0;

    for (size_t i = 0; st == SL_OK && i < src->groups.n; i++)
        st = add_named(db, account, s, src->groups.s[i], err);
    if (st != SL_OK || !src->log_groups)
        return st;
    if (src->class_name != NULL && strcasecmp(src->class_name, "STANDARD") != 0)
        return sl_fail(err, SL_NOT_FOUND,
                       "no log group has the class %.40s: every Sluice log "
                       "group is STANDARD", src->class_name);
    if (src->prefixes.n == 0)
        return add_prefixed(db, s, NULL, &matched, err);
    for (size_t i = 0; st == SL_OK && i < src->prefixes.n; i++)
        st = add_prefixed(db, s, src->prefixes.s[i], &matched, err);
    if (st == SL_OK && matched == 0)
        st = sl_fail(err, SL_NOT_FOUND,
                     "no log group name starts with '%.200s'%s",
                     src->prefixes.s[0],
                     src->prefixes.n > 1 ? " or the other prefixes" : "");
    return st;
}

enum sl_status qc_add_groups(struct api *api, struct qx *q,
                             const char *const *names, size_t n,
                             struct arena *a, struct qc_groups *s,
                             struct sl_err *err)
{
    const char *account = api->cfg.account_id;
    struct store *store = api->store;
    enum sl_status st = SL_OK;
    sqlite3 *db;

    memset(s, 0, sizeof(*s));
    s->a = a;
    db = store_reader(store);
    if (qc_source_names_groups(q))
        st = source_groups(db, account, qx_source(q), s, err);
    for (size_t i = 0; st == SL_OK && i < n; i++)
        st = add_named(db, account, s, names[i], err);
    store_reader_release(store, db);
    for (size_t i = 0; st == SL_OK && i < s->n; i++) {
        struct qx_group g = {.id = s->g[i].id, .name = s->g[i].name,
                             .flow_format = s->g[i].field_format,
                             .account_id = account};
        st = qx_add_group(q, &g, err);
    }
    return st;
}

enum sl_status qc_start(struct api *api, struct qx *q, const char *text,
                        size_t len, const struct qc_groups *s,
                        char id[QREG_ID_LEN + 1], struct sl_err *err)
{
    struct qreg_meta m = {.text = text, .len = len};
    const char **names = arena_alloc(s->a, (s->n ? s->n : 1) * sizeof(*names));
    struct sl_err serr = {0};

    if (names == NULL) {
        qx_free(q);
        return sl_fail(err, SL_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->n; i++)
        names[i] = s->g[i].name;
    m.groups = names;
    m.ngroups = s->n;
    if (qreg_start(api->queries, q, api->store, &m, id, &serr) == SL_OK)
        return SL_OK;
    if (serr.code == SL_LIMIT)
        return sl_fail(err, SL_LIMIT, "%.200s (the server's --max-queries)",
                       serr.msg);
    *err = serr;
    return err->code;
}
