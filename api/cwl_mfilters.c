/* api/cwl_mfilters.c: metric filters over the CloudWatch protocol
 * (reference 2.17, 6.2): PutMetricFilter, DescribeMetricFilters,
 * DeleteMetricFilter and TestMetricFilter. Patterns, metric values and
 * dimensions compile with the shared matcher (query/filter_pattern.h), so a
 * filter that is stored is one that can be evaluated; the transformation is
 * stored as normalised JSON (storage/catalog_defs.h). */
#include "api/cwl_int.h"

#include "common/clock.h"
#include "query/filter_pattern.h"
#include "storage/catalog_defs.h"
#include "storage/token.h"

#include <stdlib.h>
#include <string.h>

#define VALIDATION "1 validation error detected: "
#define MAX_FILTERS_PER_GROUP 100
#define DESCRIBE_MAX_LIMIT 50
#define MAX_DIMENSIONS 3
#define TEST_MAX_MESSAGES 50
#define MT "metricTransformations.1.member."

static const char *const units[] = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
    "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits",
    "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
    "Gigabits/Second", "Terabits/Second", "Count/Second", "None", NULL};

/* AWS's message for a value outside a member's regular expression. */
static enum sl_status bad_pattern(struct cwl_call *c, const char *key,
                                  const char *v, const char *re)
{
    return sl_fail(&c->err, SL_INVALID,
                   VALIDATION "Value '%.64s' at '%s' failed to satisfy "
                   "constraint: Member must satisfy regular expression "
                   "pattern: %s", v, key, re);
}

/* filterName: 1-512 characters, no ':' or '*'. */
static enum sl_status filter_name(struct cwl_call *c, const char **out)
{
    if (cwl_str(c, "filterName", CWL_REQUIRED, 1, 512, out) != SL_OK)
        return c->err.code;
    if (strpbrk(*out, ":*") != NULL)
        return bad_pattern(c, "filterName", *out, "[^:*]*");
    return SL_OK;
}

/* A string member of a transformation: up to max characters, none of
 * forbid; *out NULL when absent and optional. */
static enum sl_status sub_str(struct cwl_call *c, json_t *obj, const char *key,
                              const char *path, enum cwl_need need, size_t max,
                              const char *forbid, const char *re,
                              const char **out)
{
    json_t *v = json_object_get(obj, key);
    const char *s;

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (need == CWL_OPTIONAL)
            return SL_OK;
        return sl_fail(&c->err, SL_INVALID,
                       VALIDATION "Value null at '%s' failed to satisfy "
                       "constraint: Member must not be null", path);
    }
    if (!json_is_string(v))
        return sl_fail(&c->err, SL_BAD_JSON, "%s must be a string", path);
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return sl_fail(&c->err, SL_INVALID, "%s must not contain NUL "
                       "characters", path);
    if (json_string_length(v) > max)
        return sl_fail(&c->err, SL_INVALID,
                       VALIDATION "Value '%.64s...' at '%s' failed to "
                       "satisfy constraint: Member must have length less "
                       "than or equal to %zu", s, path, max);
    if (forbid != NULL && strpbrk(s, forbid) != NULL)
        return bad_pattern(c, path, s, re);
    *out = s;
    return SL_OK;
}

/* The references a filter compiles; freed by refs_free. */
struct refs {
    struct fpat *pat;
    struct fpat_ref *r[1 + MAX_DIMENSIONS];
    size_t n;
};

static void refs_free(struct refs *r)
{
    for (size_t i = 0; i < r->n; i++)
        fpat_ref_free(r->r[i]);
    fpat_free(r->pat);
    memset(r, 0, sizeof(*r));
}

/* Checks dimensions (a map of up to 3 names to "$field" references). */
static enum sl_status check_dimensions(struct cwl_call *c, json_t *dims,
                                       struct refs *r)
{
    const char *k;
    json_t *v;

    if (!json_is_object(dims))
        return sl_fail(&c->err, SL_BAD_JSON,
                       MT "dimensions must be a map of names to strings");
    if (json_object_size(dims) > MAX_DIMENSIONS)
        return sl_fail(&c->err, SL_INVALID,
                       VALIDATION "Value at '" MT "dimensions' failed to "
                       "satisfy constraint: Member must have length less "
                       "than or equal to %d", MAX_DIMENSIONS);
    json_object_foreach(dims, k, v) {
        if (strlen(k) < 1 || strlen(k) > 255)
            return sl_fail(&c->err, SL_INVALID,
                           VALIDATION "Value '%.64s' at '" MT "dimensions' "
                           "failed to satisfy constraint: Map keys must have "
                           "length between 1 and 255", k);
        if (!json_is_string(v))
            return sl_fail(&c->err, SL_BAD_JSON,
                           MT "dimensions values must be strings");
        if (json_string_length(v) > 255)
            return sl_fail(&c->err, SL_INVALID,
                           VALIDATION "Value at '" MT "dimensions' failed to "
                           "satisfy constraint: Map values must have length "
                           "less than or equal to 255");
        if (fpat_ref_dimension(r->pat, json_string_value(v),
                               json_string_length(v), &r->r[r->n],
                               &c->err) != SL_OK)
            return c->err.code;
        r->n++;
    }
    return SL_OK;
}

/* Validates the one transformation against the compiled pattern and
 * builds its normalised JSON (*out owned); also returns name, namespace. */
static enum sl_status check_transformation(struct cwl_call *c, struct refs *r,
                                           json_t **out, const char **name,
                                           const char **ns)
{
    json_t *arr = cwl_has(c, "metricTransformations")
                      ? json_object_get(c->body, "metricTransformations") : NULL;
    json_t *t, *dv, *dims, *o;
    const char *value, *unit;

    *out = NULL;
    if (cwl_require(c, "metricTransformations") != SL_OK)
        return c->err.code;
    if (!json_is_array(arr))
        return sl_fail(&c->err, SL_BAD_JSON,
                       "metricTransformations must be a list");
    if (json_array_size(arr) != 1)
        return sl_fail(&c->err, SL_INVALID,
                       VALIDATION "Value at 'metricTransformations' failed to "
                       "satisfy constraint: Member must have length %s 1",
                       json_array_size(arr) == 0 ? "greater than or equal to"
                                                 : "less than or equal to");
    t = json_array_get(arr, 0);
    if (!json_is_object(t))
        return sl_fail(&c->err, SL_BAD_JSON,
                       "metricTransformations must hold objects");
    if (sub_str(c, t, "metricName", MT "metricName", CWL_REQUIRED, 255, ":*$",
                "[^:*$]*", name) != SL_OK ||
        sub_str(c, t, "metricNamespace", MT "metricNamespace", CWL_REQUIRED,
                255, ":*$", "[^:*$]*", ns) != SL_OK ||
        sub_str(c, t, "metricValue", MT "metricValue", CWL_REQUIRED, 100, NULL,
                NULL, &value) != SL_OK ||
        sub_str(c, t, "unit", MT "unit", CWL_OPTIONAL, 64, NULL, NULL,
                &unit) != SL_OK)
        return c->err.code;
    if (unit != NULL) {
        int i;
        for (i = 0; units[i] != NULL && strcmp(units[i], unit) != 0; i++)
            ;
        if (units[i] == NULL)
            return sl_fail(&c->err, SL_INVALID,
                           VALIDATION "Value '%.64s' at '" MT "unit' failed "
                           "to satisfy constraint: Member must satisfy enum "
                           "value set: [Seconds, Microseconds, Milliseconds, "
                           "Bytes, ..., Count/Second, None]", unit);
    }
    dv = json_object_get(t, "defaultValue");
    if (json_is_null(dv))
        dv = NULL;
    if (dv != NULL && !json_is_number(dv))
        return sl_fail(&c->err, SL_BAD_JSON, MT "defaultValue must be a number");
    dims = json_object_get(t, "dimensions");
    if (json_is_null(dims))
        dims = NULL;
    if (fpat_ref_value(r->pat, value, strlen(value), &r->r[r->n],
                       &c->err) != SL_OK)
        return c->err.code;
    r->n++;
    if (dims != NULL && check_dimensions(c, dims, r) != SL_OK)
        return c->err.code;
    if (dims != NULL && json_object_size(dims) > 0 && dv != NULL)
        return sl_fail(&c->err, SL_INVALID,
                       "Invalid metric transformation: defaultValue cannot "
                       "be used with dimensions.");
    o = json_object();
    json_object_set_new(o, "metricName", json_string(*name));
    json_object_set_new(o, "metricNamespace", json_string(*ns));
    json_object_set_new(o, "metricValue", json_string(value));
    if (dv != NULL)
        json_object_set_new(o, "defaultValue", json_real(json_number_value(dv)));
    if (dims != NULL && json_object_size(dims) > 0)
        json_object_set(o, "dimensions", dims);
    if (unit != NULL)
        json_object_set_new(o, "unit", json_string(unit));
    *out = json_array();
    json_array_append_new(*out, o);
    return SL_OK;
}

/* Compiles filterPattern (0-1024 characters) into r->pat; *text its text. */
static enum sl_status compile_pattern(struct cwl_call *c, struct refs *r,
                                      const char **text)
{
    if (cwl_str(c, "filterPattern", CWL_REQUIRED, 0, FPAT_MAX_CHARS,
                text) != SL_OK)
        return c->err.code;
    return fpat_compile(*text, strlen(*text), &r->pat, &c->err);
}

static enum sl_status apply_put(sqlite3 *db, void *arg, struct sl_err *err)
{
    return cat_mfilter_put(db, arg, err);
}

enum sl_status cwl_put_metric_filter(struct cwl_call *c)
{
    struct cat_mfilter_put p = {.max_per_group = MAX_FILTERS_PER_GROUP,
                                .now_ms = sl_now_ms()};
    struct refs r = {0};
    json_t *tr = NULL;
    char *text = NULL;
    enum sl_status st;

    if (cwl_group_name(c, &p.group) != SL_OK ||
        filter_name(c, &p.name) != SL_OK ||
        cwl_bool(c, "applyOnTransformedLogs", false,
                 &p.apply_on_transformed) != SL_OK ||
        compile_pattern(c, &r, &p.pattern) != SL_OK ||
        check_transformation(c, &r, &tr, &p.metric_name,
                             &p.metric_namespace) != SL_OK) {
        st = c->err.code;
        goto out;
    }
    text = json_dumps(tr, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL) {
        st = sl_fail(&c->err, SL_NOMEM, "out of memory");
        goto out;
    }
    p.transformations = text;
    st = wr_run(store_writer(c->api->store), apply_put, &p, &c->err);
    if (st == SL_OK)
        cwl_reply_empty(c);
out:
    free(text);
    json_decref(tr);
    refs_free(&r);
    return st;
}

static json_t *filter_json(const struct cat_mfilter *f)
{
    json_t *o = json_object();
    json_t *tr = json_loads(f->transformations, 0, NULL);

    json_object_set_new(o, "filterName", json_string(f->name));
    json_object_set_new(o, "filterPattern", json_string(f->pattern));
    json_object_set_new(o, "metricTransformations",
                        json_is_array(tr) ? tr : json_array());
    if (!json_is_array(tr))
        json_decref(tr);
    json_object_set_new(o, "creationTime", json_integer(f->created_ms));
    json_object_set_new(o, "logGroupName", json_string(f->group));
    json_object_set_new(o, "applyOnTransformedLogs",
                        json_boolean(f->apply_on_transformed));
    return o;
}

enum sl_status cwl_describe_metric_filters(struct cwl_call *c)
{
    struct cat_mfilter_sel sel = {0};
    struct cat_mfilter_cursor after = {.set = false};
    struct cat_mfilter *out;
    const char *token;
    int64_t limit;
    int n;
    bool more;
    sqlite3 *db;
    enum sl_status st;
    json_t *o, *arr;

    if (cwl_str(c, "logGroupName", CWL_OPTIONAL, 1, CAT_NAME_MAX,
                &sel.group) != SL_OK ||
        (sel.group != NULL && name_check_group(sel.group, &c->err) != SL_OK) ||
        cwl_str(c, "filterNamePrefix", CWL_OPTIONAL, 1, 512,
                &sel.name_prefix) != SL_OK ||
        cwl_str(c, "metricName", CWL_OPTIONAL, 0, 255, &sel.metric_name) != SL_OK ||
        cwl_str(c, "metricNamespace", CWL_OPTIONAL, 0, 255,
                &sel.metric_namespace) != SL_OK ||
        cwl_int(c, "limit", 1, DESCRIBE_MAX_LIMIT, DESCRIBE_MAX_LIMIT,
                &limit) != SL_OK ||
        cwl_str(c, "nextToken", CWL_OPTIONAL, 1, 4096, &token) != SL_OK)
        return c->err.code;
    if ((sel.metric_name == NULL) != (sel.metric_namespace == NULL))
        return sl_fail(&c->err, SL_INVALID,
                       "metricName and metricNamespace must be specified "
                       "together.");
    if (sel.group == NULL)          /* AWS honours the prefix only so */
        sel.name_prefix = NULL;
    if (token != NULL) {
        struct tok t;
        if (!tok_decode(token, strlen(token), &t) ||
            t.kind != TOK_KIND_METRIC_FILTERS || t.nvals != 1)
            return sl_fail(&c->err, SL_INVALID,
                           "The specified nextToken is invalid.");
        after.set = true;
        after.group_id = t.vals[0];
        after.name = arena_strndup(c->arena, t.str, t.str_len);
    }
    out = arena_alloc(c->arena, (size_t)limit * sizeof(*out));
    if (out == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    db = store_reader(c->api->store);
    st = cat_mfilter_list(db, &sel, &after, (int)limit, c->arena, out, &n,
                          &more, &c->err);
    store_reader_release(c->api->store, db);
    if (st != SL_OK)
        return st;
    o = json_object();
    arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, filter_json(&out[i]));
    json_object_set_new(o, "metricFilters", arr);
    if (more && n > 0) {
        struct tok t = {.kind = TOK_KIND_METRIC_FILTERS, .nvals = 1};
        t.vals[0] = out[n - 1].group_id;
        t.str_len = strlen(out[n - 1].name);
        memcpy(t.str, out[n - 1].name, t.str_len + 1);
        page_set_token(o, &t);
    }
    cwl_reply(c, o);
    return SL_OK;
}

struct filter_ref {
    const char *group, *name;
};

static enum sl_status apply_delete(sqlite3 *db, void *arg, struct sl_err *err)
{
    struct filter_ref *f = arg;
    return cat_mfilter_delete(db, f->group, f->name, err);
}

enum sl_status cwl_delete_metric_filter(struct cwl_call *c)
{
    struct filter_ref f;
    if (cwl_group_name(c, &f.group) != SL_OK ||
        filter_name(c, &f.name) != SL_OK ||
        wr_run(store_writer(c->api->store), apply_delete, &f,
               &c->err) != SL_OK)
        return c->err.code;
    cwl_reply_empty(c);
    return SL_OK;
}

/* One TestMetricFilter match: {eventNumber, eventMessage, extractedValues}. */
static json_t *match_json(size_t i, const char *msg, const struct refs *r,
                          const struct fpat_val *vals)
{
    json_t *m = json_object(), *ex = json_object();

    for (size_t k = 0; k < r->n; k++) {
        if (vals[k].found)
            json_object_set_new(ex, fpat_field(r->pat, k),
                                json_stringn(vals[k].text, vals[k].len));
    }
    json_object_set_new(m, "eventNumber", json_integer((json_int_t)i + 1));
    json_object_set_new(m, "eventMessage", json_string(msg));
    json_object_set_new(m, "extractedValues", ex);
    return m;
}

enum sl_status cwl_test_metric_filter(struct cwl_call *c)
{
    struct refs r = {0};
    struct fpat_ref **refs = NULL;
    struct fpat_val *vals = NULL;
    const char *text, **msgs;
    size_t n_msgs, nf = 0;
    json_t *arr = NULL, *o;
    enum sl_status st;

    if (compile_pattern(c, &r, &text) != SL_OK ||
        cwl_str_list(c, "logEventMessages", CWL_REQUIRED, 1,
                     TEST_MAX_MESSAGES, 1 << 20, &msgs, &n_msgs) != SL_OK) {
        st = c->err.code;
        goto out;
    }
    /* Every value the pattern names, as TestMetricFilter shows them. */
    nf = fpat_nfields(r.pat);
    refs = calloc(nf + 1, sizeof(*refs));
    vals = calloc(nf + 1, sizeof(*vals));
    if (refs == NULL || vals == NULL) {
        st = sl_fail(&c->err, SL_NOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < nf; k++) {
        const char *f = fpat_field(r.pat, k);
        st = fpat_ref_dimension(r.pat, f, strlen(f), &refs[k], &c->err);
        if (st != SL_OK)
            goto out;
    }
    arr = json_array();
    for (size_t i = 0; i < n_msgs; i++) {
        bool matched = false;
        struct refs view = {.pat = r.pat, .n = nf};
        st = fpat_eval(r.pat, msgs[i], strlen(msgs[i]), refs, nf, c->arena,
                       vals, &matched);
        if (st != SL_OK) {
            sl_fail(&c->err, st, "out of memory");
            goto out;
        }
        if (matched)
            json_array_append_new(arr, match_json(i, msgs[i], &view, vals));
    }
    o = json_object();
    json_object_set_new(o, "matches", arr);
    arr = NULL;
    cwl_reply(c, o);
    st = SL_OK;
out:
    json_decref(arr);
    for (size_t k = 0; refs != NULL && k < nf; k++)
        fpat_ref_free(refs[k]);
    free(refs);
    free(vals);
    refs_free(&r);
    return st;
}
