/* api/rest_query.c: native REST for Logs Insights queries: start (202 and
 * an id), poll, stop, list, explain, and POST /api/v1/query, which answers
 * once the query ends: the request waits suspended (no HTTP thread held)
 * until the registry says the query ended or the wait passed. Requests name
 * their log groups in the body or in the query's SOURCE header; both are
 * resolved through the catalogue (query_groups.c) before anything runs. */
#include "api/api_int.h"

#include "api/json_out.h"
#include "api/query_common.h"
#include "common/clock.h"
#include "common/timeparse.h"
#include "query/exec.h"
#include "query/lexer.h"
#include "query/registry.h"
#include "storage/catalog.h"

#include <string.h>
#include <strings.h>

#define WAIT_DEFAULT_MS    30000   /* POST /api/v1/query: "wait" */
#define WAIT_MAX_MS        300000
#define LIST_MAX           1000    /* DescribeQueries' maxResults */
#define EXPLAIN_MAX_BYTES  (16u << 20)

/* A query request, read from its body; strings live in the request arena. */
struct qbody {
    const char *text;
    size_t len;
    const char **names;          /* groups named in the body */
    size_t nnames;
    int64_t now;                 /* the request's clock reading */
    int64_t start, end;          /* ms, both inclusive */
    int64_t limit;               /* 0: not given */
    int64_t wait_ms;             /* POST /api/v1/query only */
};

/* ------------------------------------------------------------------ */
/* The request body                                                    */

static enum sl_status read_time(json_t *v, const char *name, int64_t now,
                                int64_t dflt, int64_t *out, struct sl_err *err)
{
    struct sl_err terr = {0};

    if (v == NULL || json_is_null(v)) {
        *out = dflt;
        return SL_OK;
    }
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return SL_OK;
    }
    if (json_is_string(v)) {
        if (sl_time_parse(json_string_value(v), json_string_length(v), now, out,
                          &terr) == SL_OK)
            return SL_OK;
        return sl_fail(err, SL_INVALID, "%s: %s", name, terr.msg);
    }
    return sl_fail(err, SL_INVALID,
                   "%s must be milliseconds since the epoch (an integer), "
                   "ISO 8601 text such as \"2026-11-26T21:40:00Z\" or a "
                   "relative time such as \"-1h\"", name);
}

/* Code points of UTF-8 text (the limit counts characters). */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

static enum sl_status read_groups(json_t *v, struct arena *a, struct qbody *b,
                                  struct sl_err *err)
{
    size_t i;
    json_t *g;

    if (v == NULL || json_is_null(v))
        return SL_OK;
    if (!json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > QC_NAMED_MAX)
        return sl_fail(err, SL_INVALID,
                       "groups must be a list of 1 to %d log group names",
                       QC_NAMED_MAX);
    b->names = arena_alloc(a, json_array_size(v) * sizeof(*b->names));
    if (b->names == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory");
    json_array_foreach(v, i, g) {
        if (!json_is_string(g))
            return sl_fail(err, SL_INVALID,
                           "groups[%zu] must be a log group name (a string)", i);
        if (name_check_group(json_string_value(g), err) != SL_OK)
            return err->code;
        b->names[b->nnames] = arena_strndup(a, json_string_value(g),
                                            json_string_length(g));
        if (b->names[b->nnames] == NULL)
            return sl_fail(err, SL_NOMEM, "out of memory");
        b->nnames++;
    }
    return SL_OK;
}

static enum sl_status read_wait(json_t *v, struct qbody *b, struct sl_err *err)
{
    double s;

    b->wait_ms = WAIT_DEFAULT_MS;
    if (v == NULL || json_is_null(v))
        return SL_OK;
    s = json_is_number(v) ? json_number_value(v) : -1;
    if (!(s > 0 && s <= WAIT_MAX_MS / 1000))
        return sl_fail(err, SL_INVALID,
                       "wait must be a number of seconds above 0 and at most "
                       "%d (how long to wait before answering 408 with the "
                       "queryId)", WAIT_MAX_MS / 1000);
    b->wait_ms = (int64_t)(s * 1000);
    if (b->wait_ms < 1)
        b->wait_ms = 1;
    return SL_OK;
}

static enum sl_status read_body(struct route *r, bool sync, struct qbody *b,
                                struct sl_err *err)
{
    static const char *const keys[] = {"query", "groups", "start", "end",
                                       "limit", "wait", NULL};
    struct arena *a = r->req->arena;
    json_t *body = NULL, *v;
    const char *k;
    enum sl_status st;

    memset(b, 0, sizeof(*b));
    b->now = sl_now_ms();
    st = args_json_body(r->req, &body, err);
    if (st != SL_OK)
        return st;
    json_object_foreach(body, k, v) {
        size_t i = 0;
        while (keys[i] != NULL && strcmp(keys[i], k) != 0)
            i++;
        if (keys[i] == NULL || (!sync && strcmp(k, "wait") == 0)) {
            st = sl_fail(err, SL_INVALID,
                         "unknown field '%.64s' in the body; expected query, "
                         "groups, start, end, limit%s", k,
                         sync ? ", wait" : "");
            goto out;
        }
    }
    v = json_object_get(body, "query");
    if (!json_is_string(v) || json_string_length(v) == 0) {
        st = sl_fail(err, SL_INVALID,
                     "query is required: the Logs Insights query text, e.g. "
                     "\"fields @timestamp, @message | limit 20\"");
        goto out;
    }
    b->len = json_string_length(v);
    if (utf8_chars(json_string_value(v), b->len) > QC_QUERY_MAX_CHARS) {
        st = sl_fail(err, SL_INVALID,
                     "query must be at most %d characters; got %zu",
                     QC_QUERY_MAX_CHARS, utf8_chars(json_string_value(v), b->len));
        goto out;
    }
    b->text = arena_strndup(a, json_string_value(v), b->len);
    if (b->text == NULL) {
        st = sl_fail(err, SL_NOMEM, "out of memory");
        goto out;
    }
    st = read_groups(json_object_get(body, "groups"), a, b, err);
    if (st == SL_OK)
        st = read_time(json_object_get(body, "start"), "start", b->now, 0,
                       &b->start, err);
    /* Without an end, everything ingest can have accepted is in range. */
    if (st == SL_OK)
        st = read_time(json_object_get(body, "end"), "end", b->now,
                       b->now + r->api->cfg.max_ahead_ms, &b->end, err);
    if (st != SL_OK)
        goto out;
    v = json_object_get(body, "limit");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > QX_MAX_LIMIT) {
            st = sl_fail(err, SL_INVALID,
                         "limit must be an integer from 1 to %d (rows returned)",
                         QX_MAX_LIMIT);
            goto out;
        }
        b->limit = json_integer_value(v);
    }
    if (sync)
        st = read_wait(json_object_get(body, "wait"), b, err);
out:
    json_decref(body);
    return st;
}

/* 400 MalformedQueryException with line, column and the caret picture. */
static void reply_malformed(struct route *r, const struct qbody *b,
                            const struct sl_err *err)
{
    json_t *o = json_object(), *caret = NULL;
    struct buf out;

    buf_init(&out, 64u << 10);
    if (lex_render_error(b->text, b->len, err, &out) == SL_OK && out.len > 0)
        caret = json_stringn(out.data, out.len);
    buf_fini(&out);
    json_object_set_new(o, "error", json_string(apierr_name(SL_MALFORMED_QUERY)));
    json_object_set_new(o, "message", json_string(err->msg));
    json_object_set_new(o, "line", json_integer(err->line));
    json_object_set_new(o, "column", json_integer(err->col));
    if (caret != NULL)
        json_object_set_new(o, "caret", caret);
    reply_json(r->resp, 400, o);
}

/* ------------------------------------------------------------------ */
/* Log groups: from the body or the SOURCE header                      */

static enum sl_status resolve_groups(struct route *r, const struct qbody *b,
                                     struct qx *q, struct qc_groups *s,
                                     struct sl_err *err)
{
    bool in_source = qc_source_names_groups(q);

    if (in_source && b->nnames > 0)
        return sl_fail(err, SL_INVALID,
                       "name the log groups either in groups or in the "
                       "query's SOURCE header, not both");
    if (!in_source && b->nnames == 0)
        return sl_fail(err, SL_INVALID,
                       "groups is required: a list of log group names (or "
                       "start the query with SOURCE \"group\" | ...)");
    return qc_add_groups(r->api, q, b->names, b->nnames, r->req->arena, s,
                         err);
}

/* Reads the body, compiles the query and adds its groups. NULL when the
 * answer (an error) is already in r->resp. */
static struct qx *prepare(struct route *r, bool sync, struct qbody *b,
                          struct qc_groups *s)
{
    struct sl_err err = {0};
    struct qx_opts o = {0};
    struct qx *q = NULL;
    enum sl_status st;

    memset(s, 0, sizeof(*s));
    st = read_body(r, sync, b, &err);
    if (st != SL_OK)
        goto fail;
    qc_opts(r->api, b->now, &o);
    st = qx_compile(b->text, b->len, b->start, b->end, b->limit, &o, &q, &err);
    if (st == SL_MALFORMED_QUERY) {
        reply_malformed(r, b, &err);
        return NULL;
    }
    if (st != SL_OK)
        goto fail;
    st = resolve_groups(r, b, q, s, &err);
    if (st != SL_OK)
        goto fail;
    return q;
fail:
    qx_free(q);
    apierr_reply(r->resp, &err);
    return NULL;
}

/* Starts q; fills id or answers the error. */
static bool start(struct route *r, struct qx *q, const struct qbody *b,
                  const struct qc_groups *s, char id[QREG_ID_LEN + 1])
{
    struct sl_err err = {0};

    if (qc_start(r->api, q, b->text, b->len, s, id, &err) == SL_OK)
        return true;
    apierr_reply(r->resp, &err);
    return false;
}

/* ------------------------------------------------------------------ */
/* Results as JSON                                                     */

static enum sl_status write_stats(struct buf *o, const struct qx_stats *s)
{
    static const char *const names[] = {
        "recordsMatched", "recordsScanned", "bytesScanned", "recordsSkipped",
        "bytesSkipped", "logGroupsScanned", "segmentsScanned", "segmentsSkipped"};
    return qc_write_stats(o, s, names, sizeof(names) / sizeof(names[0]));
}

static enum sl_status write_rows(struct buf *o, const struct qx_result *res)
{
    enum sl_status st = buf_putc(o, '[');

    for (size_t i = 0; st == SL_OK && res != NULL && i < res->nrows; i++) {
        const struct qx_row *row = &res->rows[i];
        st = buf_puts(o, i > 0 ? ",{" : "{");
        for (size_t c = 0; st == SL_OK && c < row->ncells; c++) {
            const struct qx_cell *cell = &row->cells[c];
            if (c > 0)
                st = buf_putc(o, ',');
            if (st == SL_OK)
                st = jout_key(o, cell->field);
            if (st == SL_OK)
                st = cell->kind == QX_CELL_NUM ? jout_number_text(o, cell->value)
                                               : jout_cstr(o, cell->value);
        }
        if (st == SL_OK)
            st = buf_putc(o, '}');
    }
    return st == SL_OK ? buf_putc(o, ']') : st;
}

/* {"queryId","status","fields","results","statistics"[,"error"]} */
static enum sl_status write_result(struct buf *o, const struct qreg_info *i)
{
    static const struct qx_stats zero;
    const struct qx_result *res = i->result;
    enum sl_status st;

    st = buf_putc(o, '{');
    if (st == SL_OK) st = jout_key(o, "queryId");
    if (st == SL_OK) st = jout_cstr(o, i->id);
    if (st == SL_OK) st = buf_putc(o, ',');
    if (st == SL_OK) st = jout_key(o, "status");
    if (st == SL_OK) st = jout_cstr(o, qreg_status_name(i->status));
    if (st == SL_OK) st = buf_puts(o, ",\"fields\":[");
    for (size_t c = 0; st == SL_OK && res != NULL && c < res->ncolumns; c++) {
        if (c > 0)
            st = buf_putc(o, ',');
        if (st == SL_OK)
            st = jout_cstr(o, res->columns[c]);
    }
    if (st == SL_OK) st = buf_puts(o, "],\"results\":");
    if (st == SL_OK) st = write_rows(o, res);
    if (st == SL_OK) st = buf_puts(o, ",\"statistics\":");
    if (st == SL_OK) st = write_stats(o, res ? &res->stats : &zero);
    if (st == SL_OK && (i->status == QREG_FAILED || i->status == QREG_TIMEOUT)) {
        st = buf_puts(o, ",\"error\":{\"type\":");
        if (st == SL_OK) st = jout_cstr(o, apierr_name(i->error.code));
        if (st == SL_OK) st = buf_puts(o, ",\"message\":");
        if (st == SL_OK) st = jout_cstr(o, i->error.msg);
        if (st == SL_OK) st = buf_putc(o, '}');
    }
    return st == SL_OK ? buf_putc(o, '}') : st;
}

static size_t answer_cap(const struct api *a)
{
    return 4 * a->cfg.query_mem + (1u << 20);
}

static void reply_result(struct api *a, struct api_resp *resp,
                         const struct qreg_info *i)
{
    struct buf o;
    enum sl_status st;

    buf_init(&o, answer_cap(a));
    st = write_result(&o, i);
    jout_reply(resp, 200, &o, st);
}

/* ------------------------------------------------------------------ */
/* Handlers                                                            */

void rest_query_start(struct route *r)
{
    struct qbody b;
    struct qc_groups s;
    char id[QREG_ID_LEN + 1];
    struct qx *q = prepare(r, false, &b, &s);
    json_t *o;

    if (q == NULL || !start(r, q, &b, &s, id))
        return;
    o = json_object();
    json_object_set_new(o, "queryId", json_string(id));
    reply_json(r->resp, 202, o);
}

void rest_query_get(struct route *r)
{
    struct sl_err err = {0};
    struct qreg_info i;

    if (qreg_get(r->api->queries, r->id, &i, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    reply_result(r->api, r->resp, &i);
    qreg_info_release(&i);
}

void rest_query_stop(struct route *r)
{
    struct sl_err err = {0};
    json_t *o;

    if (qreg_stop(r->api->queries, r->id, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    o = json_object();
    json_object_set_new(o, "queryId", json_string(r->id));
    json_object_set_new(o, "success", json_true());
    reply_json(r->resp, 200, o);
}

struct list_ctx {
    json_t *arr;
    int64_t limit;
};

static bool list_one(void *ctx, const struct qreg_info *i)
{
    struct list_ctx *c = ctx;
    json_t *o = json_object(), *groups = json_array();

    for (size_t g = 0; g < i->ngroups; g++)
        json_array_append_new(groups, json_string(i->groups[g]));
    json_object_set_new(o, "queryId", json_string(i->id));
    json_object_set_new(o, "query", json_string(i->text));
    json_object_set_new(o, "status", json_string(qreg_status_name(i->status)));
    json_object_set_new(o, "createTime", json_integer(i->create_ms));
    json_object_set_new(o, "groups", groups);
    json_object_set_new(o, "duration", json_integer(i->duration_ms));
    json_object_set_new(o, "bytesScanned",
                        json_integer(i->result ? (json_int_t)i->result->stats.bytes_scanned
                                               : 0));
    json_array_append_new(c->arr, o);
    return (int64_t)json_array_size(c->arr) < c->limit;
}

void rest_queries_list(struct route *r)
{
    struct sl_err err = {0};
    struct list_ctx c = {0};
    enum qreg_status status = QREG_RUNNING;
    const char *sname, *group;
    bool bad_s, bad_g;
    json_t *o;

    sname = args_get(r->req, "status", &bad_s);
    group = args_get(r->req, "group", &bad_g);
    if (bad_s || (sname != NULL && !qreg_status_parse(sname, &status))) {
        apierr_replyf(r->resp, SL_INVALID,
                      "status must be one of Scheduled, Running, Complete, "
                      "Failed, Cancelled, Timeout");
        return;
    }
    if (bad_g || (group != NULL && name_check_group(group, &err) != SL_OK)) {
        if (err.code == SL_OK)
            sl_fail(&err, SL_INVALID, "group: bad percent-encoding");
        apierr_reply(r->resp, &err);
        return;
    }
    if (args_int(r->req, "limit", 1, LIST_MAX, LIST_MAX, &c.limit, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return;
    }
    c.arr = json_array();
    qreg_list(r->api->queries, sname != NULL, status, group, list_one, &c);
    o = json_object();
    json_object_set_new(o, "queries", c.arr);
    reply_json(r->resp, 200, o);
}

void rest_query_explain(struct route *r)
{
    struct sl_err err = {0};
    struct qbody b;
    struct qc_groups s;
    struct buf out;
    struct qx *q = prepare(r, false, &b, &s);
    enum sl_status st;

    if (q == NULL)
        return;
    buf_init(&out, EXPLAIN_MAX_BYTES);
    st = qx_explain(q, r->api->store, &out, &err);
    qx_free(q);
    if (st != SL_OK) {
        buf_fini(&out);
        apierr_reply(r->resp, &err);
        return;
    }
    jout_reply(r->resp, 200, &out, SL_OK);
}

/* ---- POST /api/v1/query: answer when the query ends ---- */

/* Lives in the request arena until the answer is out. */
struct sync_wait {
    struct qreg_waiter w;
    struct api *api;
    struct api_req *req;
    struct api_resp *resp;
    int64_t wait_ms;
    char id[QREG_ID_LEN + 1];
};

static void reply_query_error(struct api_resp *resp, enum sl_status code,
                              const char *msg, const struct qreg_info *i)
{
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(apierr_name(code)));
    json_object_set_new(o, "message", json_string(msg));
    json_object_set_new(o, "queryId", json_string(i->id));
    json_object_set_new(o, "status", json_string(qreg_status_name(i->status)));
    reply_json(resp, apierr_http_status(code), o);
}

static void sync_answer(struct sync_wait *c)
{
    struct sl_err err = {0};
    struct qreg_info i;
    char msg[256];

    if (qreg_get(c->api->queries, c->id, &i, &err) != SL_OK) {
        apierr_reply(c->resp, &err);
        return;
    }
    switch (i.status) {
    case QREG_COMPLETE:
        reply_result(c->api, c->resp, &i);
        break;
    case QREG_FAILED:
    case QREG_TIMEOUT:
        reply_query_error(c->resp, i.error.code != SL_OK ? i.error.code : SL_INTERNAL,
                          i.error.msg, &i);
        break;
    case QREG_CANCELLED:
        snprintf(msg, sizeof(msg),
                 "query %s was stopped before it finished (DELETE, or the "
                 "server is shutting down)", i.id);
        reply_query_error(c->resp, SL_CANCELLED, msg, &i);
        break;
    default:
        snprintf(msg, sizeof(msg),
                 "the query did not finish within the wait of %.3g s and "
                 "goes on: poll GET /api/v1/queries/%s for its results, or "
                 "stop it with DELETE", (double)c->wait_ms / 1000.0, i.id);
        reply_query_error(c->resp, SL_TIMEOUT, msg, &i);
        break;
    }
    qreg_info_release(&i);
}

/* A registry thread: the query ended or the wait passed. */
static void sync_wake(void *ctx, bool ended)
{
    struct sync_wait *c = ctx;
    (void)ended;                 /* the status says it all */
    sync_answer(c);
    c->req->resume(c->req->resume_ctx);
}

enum api_result rest_query_sync(struct route *r)
{
    struct sl_err err = {0};
    struct qbody b;
    struct qc_groups s;
    struct sync_wait *c = arena_alloc(r->req->arena, sizeof(*c));
    struct qx *q;
    bool ended = false;

    if (c == NULL) {
        apierr_replyf(r->resp, SL_NOMEM, "out of memory");
        return API_DONE;
    }
    q = prepare(r, true, &b, &s);
    if (q == NULL || !start(r, q, &b, &s, c->id))
        return API_DONE;
    c->api = r->api;
    c->req = r->req;
    c->resp = r->resp;
    c->wait_ms = b.wait_ms;
    c->w = (struct qreg_waiter){.fn = sync_wake, .ctx = c,
                                .deadline_ms = sl_mono_ms() + b.wait_ms};
    if (qreg_wait(r->api->queries, c->id, &c->w, &ended, &err) != SL_OK) {
        apierr_reply(r->resp, &err);
        return API_DONE;
    }
    if (!ended)
        return API_PENDING;      /* from here on sync_wake owns resp */
    sync_answer(c);
    return API_DONE;
}

/* ------------------------------------------------------------------ */
/* The registry's life, inside the api handle                          */

enum sl_status rest_query_init(struct api *a, struct sl_err *err)
{
    struct qreg_config c;

    qreg_config_defaults(&c);
    c.max_active = a->cfg.max_queries;
    c.timeout_ms = a->cfg.query_timeout_ms;
    a->queries = qreg_create(&c, err);
    return a->queries ? SL_OK : err->code;
}

void rest_query_fini(struct api *a)
{
    qreg_free(a->queries);
    a->queries = NULL;
}

void api_shutdown(struct api *a)
{
    if (a->queries != NULL)
        qreg_shutdown(a->queries);
}
