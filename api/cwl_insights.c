/* api/cwl_insights.c: the Logs Insights operations of the CloudWatch Logs
 * JSON protocol over the query registry: StartQuery (epoch-second range,
 * log groups by name, names, identifiers or the query's SOURCE header),
 * GetQueryResults (rows as lists of {field, value}), StopQuery and
 * DescribeQueries (the query text with AWS's SOURCE header in front).
 * Group resolution and starting are shared with the REST front
 * (query_groups.c). */
#include "api/cwl_int.h"

#include "api/json_out.h"
#include "api/query_common.h"
#include "common/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SECONDS_MAX   (INT64_MAX / 1000 - 1)
#define LIST_MAX      1000             /* DescribeQueries' maxResults */
#define ID_MAX        256              /* queryId's length in the model */

static const char *const languages[] = {"CWLI", "SQL", "PPL", NULL};

_Static_assert(QREG_STATUS_COUNT == 6,
               "DescribeQueries' status names follow enum qreg_status");

/* ------------------------------------------------------------------ */
/* StartQuery                                                          */

static enum sl_status one_name(struct cwl_call *c, const char *key,
                               const char *s, const char **out)
{
    if (strncmp(s, "arn:", 4) == 0 && strcmp(key, "logGroupIdentifiers") == 0)
        return cwl_parse_group_arn(c, key, s, out);
    *out = s;
    return name_check_group(s, &c->err);
}

/* The groups the request names: one of logGroupName, logGroupNames and
 * logGroupIdentifiers (names or ARNs), or none. */
static enum sl_status named_groups(struct cwl_call *c, const char ***out,
                                   size_t *n)
{
    static const char *const keys[] = {"logGroupNames", "logGroupIdentifiers"};
    int given = cwl_has(c, "logGroupName") + cwl_has(c, keys[0]) +
                cwl_has(c, keys[1]);

    *out = NULL;
    *n = 0;
    if (given > 1)
        return sl_fail(&c->err, SL_INVALID,
                       "logGroupName, logGroupNames and logGroupIdentifiers "
                       "are mutually exclusive parameters.");
    if (cwl_has(c, "logGroupName")) {
        *out = arena_alloc(c->arena, sizeof(**out));
        if (*out == NULL)
            return sl_fail(&c->err, SL_NOMEM, "out of memory");
        *n = 1;
        return cwl_group_name(c, &(*out)[0]);
    }
    for (size_t k = 0; k < 2; k++) {
        if (!cwl_has(c, keys[k]))
            continue;
        if (cwl_str_list(c, keys[k], CWL_REQUIRED, 1, QC_NAMED_MAX,
                         k == 0 ? CAT_NAME_MAX : 2048, out, n) != SL_OK)
            return c->err.code;
        for (size_t i = 0; i < *n; i++)
            if (one_name(c, keys[k], (*out)[i], &(*out)[i]) != SL_OK)
                return c->err.code;
    }
    return SL_OK;
}

/* Code points before line/col (both from 1) of text: AWS's char offset. */
static int64_t char_offset(const char *text, size_t len, int line, int col)
{
    int64_t off = 0;
    int l = 1;
    size_t i = 0;

    for (; i < len && l < line; i++) {
        if (((unsigned char)text[i] & 0xc0) != 0x80)
            off++;
        if (text[i] == '\n')
            l++;
    }
    return off + (col > 1 ? col - 1 : 0);
}

/* MalformedQueryException with AWS's queryCompileError member. */
static enum sl_status malformed(struct cwl_call *c, const char *text,
                                size_t len, const struct sl_err *qerr)
{
    json_t *loc = json_object(), *qce = json_object();
    int64_t off = char_offset(text, len, qerr->line, qerr->col);

    json_object_set_new(loc, "startCharOffset", json_integer(off));
    json_object_set_new(loc, "endCharOffset", json_integer(off));
    json_object_set_new(qce, "location", loc);
    json_object_set_new(qce, "message", json_string(qerr->msg));
    json_decref(c->err_extra);
    c->err_extra = json_object();
    json_object_set_new(c->err_extra, "queryCompileError", qce);
    c->err = *qerr;
    return c->err.code;
}

/* What DescribeQueries shows: SOURCE "g".. START=<ms> END=<ms> | text. */
static char *shown_text(struct cwl_call *c, const struct qc_groups *s,
                        int64_t start, int64_t end, const char *text,
                        size_t len, size_t *out_len)
{
    struct buf b;
    enum sl_status st = SL_OK;
    char *out;

    buf_init(&b, 2 * QC_QUERY_MAX_CHARS * 4 + (size_t)s->n * 600);
    st = buf_puts(&b, "SOURCE");
    for (size_t i = 0; st == SL_OK && i < s->n; i++)
        st = buf_printf(&b, " \"%s\"", s->g[i].name);  /* names need no escape */
    if (st == SL_OK)
        st = buf_printf(&b, " START=%" PRId64 " END=%" PRId64 " | ", start, end);
    if (st == SL_OK)
        st = buf_append(&b, text, len);
    out = st == SL_OK ? arena_strndup(c->arena, b.data, b.len) : NULL;
    *out_len = b.len;
    buf_fini(&b);
    return out;
}

enum sl_status cwl_start_query(struct cwl_call *c)
{
    const char *text, **names;
    size_t len, nnames;
    int64_t start_s, end_s, limit;
    int lang;
    struct sl_err qerr = {0};
    struct qx_opts o;
    struct qx *q = NULL;
    struct qc_groups s;
    char id[QREG_ID_LEN + 1];
    json_t *out;

    if (cwl_enum(c, "queryLanguage", languages, 0, &lang) != SL_OK ||
        cwl_str(c, "queryString", CWL_REQUIRED, 0, QC_QUERY_MAX_CHARS,
                &text) != SL_OK ||
        cwl_require(c, "startTime") != SL_OK ||
        cwl_int(c, "startTime", 0, SECONDS_MAX, 0, &start_s) != SL_OK ||
        cwl_require(c, "endTime") != SL_OK ||
        cwl_int(c, "endTime", 0, SECONDS_MAX, 0, &end_s) != SL_OK ||
        cwl_int(c, "limit", 1, QX_MAX_LIMIT, 0, &limit) != SL_OK ||
        named_groups(c, &names, &nnames) != SL_OK)
        return c->err.code;
    if (lang != 0)
        return sl_fail(&c->err, SL_INVALID,
                       "queryLanguage %s is not supported: Sluice runs "
                       "CloudWatch Logs Insights queries (CWLI) only",
                       languages[lang]);
    if (end_s < start_s)
        return sl_fail(&c->err, SL_INVALID,
                       "endTime (%" PRId64 ") must not be before startTime "
                       "(%" PRId64 ")", end_s, start_s);
    len = strlen(text);
    qc_opts(c->api, sl_now_ms(), &o);
    /* Seconds, both inclusive: [s000, e999] ms, as AWS stores them. */
    if (qx_compile(text, len, start_s * 1000, end_s * 1000 + 999, limit, &o,
                   &q, &qerr) != SL_OK) {
        if (qerr.code == SL_MALFORMED_QUERY)
            return malformed(c, text, len, &qerr);
        c->err = qerr;
        return c->err.code;
    }
    if (qc_source_names_groups(q) && nnames > 0) {
        qx_free(q);
        return sl_fail(&c->err, SL_INVALID,
                       "name the log groups either in the request or in the "
                       "query's SOURCE clause, not both");
    }
    if (!qc_source_names_groups(q) && nnames == 0) {
        qx_free(q);
        return sl_fail(&c->err, SL_INVALID,
                       "one of logGroupName, logGroupNames or "
                       "logGroupIdentifiers is required unless the query "
                       "begins with SOURCE");
    }
    if (qc_add_groups(c->api, q, names, nnames, c->arena, &s,
                      &c->err) != SL_OK) {
        qx_free(q);
        return c->err.code;
    }
    if (!qc_source_names_groups(q)) {
        int64_t rs, re;
        qx_range(q, &rs, &re);
        text = shown_text(c, &s, rs, re, text, len, &len);
        if (text == NULL) {
            qx_free(q);
            return sl_fail(&c->err, SL_NOMEM, "out of memory");
        }
    }
    if (qc_start(c->api, q, text, len, &s, id, &c->err) != SL_OK)
        return c->err.code;
    out = json_object();
    json_object_set_new(out, "queryId", json_string(id));
    cwl_reply(c, out);
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* GetQueryResults                                                     */

static enum sl_status write_stats(struct buf *o, const struct qx_stats *s)
{
    static const char *const names[] = {
        "recordsMatched", "recordsScanned", "bytesScanned",
        "estimatedRecordsSkipped", "estimatedBytesSkipped",
        "logGroupsScanned"};
    enum sl_status st = buf_puts(o, ",\"statistics\":");
    return st == SL_OK
               ? qc_write_stats(o, s, names, sizeof(names) / sizeof(names[0]))
               : st;
}

/* [[{"field","value"}...]...]: every value a string, @ptr last. */
static enum sl_status write_rows(struct buf *o, const struct qx_result *res)
{
    enum sl_status st = buf_puts(o, ",\"results\":[");

    for (size_t i = 0; st == SL_OK && res != NULL && i < res->nrows; i++) {
        const struct qx_row *row = &res->rows[i];
        st = buf_puts(o, i > 0 ? ",[" : "[");
        for (size_t k = 0; st == SL_OK && k < row->ncells; k++) {
            st = buf_puts(o, k > 0 ? ",{\"field\":" : "{\"field\":");
            if (st == SL_OK)
                st = jout_cstr(o, row->cells[k].field);
            if (st == SL_OK)
                st = buf_puts(o, ",\"value\":");
            if (st == SL_OK)
                st = jout_cstr(o, row->cells[k].value);
            if (st == SL_OK)
                st = buf_putc(o, '}');
        }
        if (st == SL_OK)
            st = buf_putc(o, ']');
    }
    return st == SL_OK ? buf_putc(o, ']') : st;
}

enum sl_status cwl_get_query_results(struct cwl_call *c)
{
    static const struct qx_stats zero;
    const char *id;
    struct qreg_info i;
    struct buf o;
    enum sl_status st;

    if (cwl_str(c, "queryId", CWL_REQUIRED, 0, ID_MAX, &id) != SL_OK)
        return c->err.code;
    if (qreg_get(c->api->queries, id, &i, &c->err) != SL_OK)
        return c->err.code;
    buf_init(&o, 4 * c->api->cfg.query_mem + (1u << 20));
    st = buf_puts(&o, "{\"queryLanguage\":\"CWLI\",\"status\":");
    if (st == SL_OK)
        st = jout_cstr(&o, qreg_status_name(i.status));
    if (st == SL_OK)
        st = write_stats(&o, i.result ? &i.result->stats : &zero);
    if (st == SL_OK)
        st = write_rows(&o, i.result);
    if (st == SL_OK)
        st = buf_putc(&o, '}');
    qreg_info_release(&i);
    return cwl_reply_buf(c, &o, st);
}

/* ------------------------------------------------------------------ */
/* StopQuery                                                           */

enum sl_status cwl_stop_query(struct cwl_call *c)
{
    const char *id;
    json_t *out;

    if (cwl_str(c, "queryId", CWL_REQUIRED, 0, ID_MAX, &id) != SL_OK ||
        qreg_stop(c->api->queries, id, &c->err) != SL_OK)
        return c->err.code;
    out = json_object();
    json_object_set_new(out, "success", json_true());
    cwl_reply(c, out);
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* DescribeQueries                                                     */

struct describe {
    json_t *arr;
    int64_t max;
    const char *after;           /* nextToken: the last id of the page before */
    bool skipping;
    bool more;                   /* more follow the page */
};

static bool describe_one(void *ctx, const struct qreg_info *i)
{
    struct describe *d = ctx;
    json_t *o;

    if (d->skipping) {
        d->skipping = strcmp(i->id, d->after) != 0;
        return true;
    }
    if ((int64_t)json_array_size(d->arr) == d->max) {
        d->more = true;          /* the token is the page's last id */
        return false;
    }
    o = json_object();
    json_object_set_new(o, "queryId", json_string(i->id));
    json_object_set_new(o, "queryLanguage", json_string("CWLI"));
    json_object_set_new(o, "queryString", json_string(i->text));
    json_object_set_new(o, "status", json_string(qreg_status_name(i->status)));
    json_object_set_new(o, "createTime", json_integer(i->create_ms));
    if (i->ngroups > 0)
        json_object_set_new(o, "logGroupName", json_string(i->groups[0]));
    json_array_append_new(d->arr, o);
    return true;
}

enum sl_status cwl_describe_queries(struct cwl_call *c)
{
    static const char *const statuses[] = {
        "Scheduled", "Running", "Complete", "Failed", "Cancelled", "Timeout",
        "Unknown", NULL};        /* in enum qreg_status order, then Unknown */
    enum { STATUS_UNKNOWN = QREG_STATUS_COUNT };
    struct describe d = {0};
    const char *group = NULL;
    int status, lang;
    json_t *out;

    if (cwl_str(c, "logGroupName", CWL_OPTIONAL, 1, CAT_NAME_MAX,
                &group) != SL_OK ||
        (group != NULL && name_check_group(group, &c->err) != SL_OK) ||
        cwl_enum(c, "status", statuses, -1, &status) != SL_OK ||
        cwl_enum(c, "queryLanguage", languages, 0, &lang) != SL_OK ||
        cwl_int(c, "maxResults", 1, LIST_MAX, LIST_MAX, &d.max) != SL_OK ||
        cwl_str(c, "nextToken", CWL_OPTIONAL, 1, SIZE_MAX, &d.after) != SL_OK)
        return c->err.code;
    d.skipping = d.after != NULL;
    d.arr = json_array();
    /* "Unknown" and other languages match no query of this server. */
    if (lang == 0 && status != STATUS_UNKNOWN)
        qreg_list(c->api->queries, status >= 0,
                  status >= 0 ? (enum qreg_status)status : QREG_RUNNING, group,
                  describe_one, &d);
    if (d.skipping && lang == 0 && status != STATUS_UNKNOWN) {
        json_decref(d.arr);
        return sl_fail(&c->err, SL_INVALID,
                       "The specified nextToken is invalid.");
    }
    out = json_object();
    if (d.more) {
        json_t *last = json_array_get(d.arr, json_array_size(d.arr) - 1);
        json_object_set(out, "nextToken", json_object_get(last, "queryId"));
    }
    json_object_set_new(out, "queries", d.arr);
    cwl_reply(c, out);
    return SL_OK;
}
