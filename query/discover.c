/* query/discover.c: field discovery behind query/discover.h. It tells a
 * message's type from its first bytes (JSON object, VPC flow log record,
 * Route 53 query log, Lambda platform or runtime line) and reads fields
 * from it in one forward pass: no tree, and on the disc_extract path no
 * allocation unless a wanted JSON string or key has escapes. It knows
 * nothing of segments, the executor or the API. */
#include "query/discover.h"

#include "common/memsearch.h"
#include "query/json_scan.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * How a message is recognised
 * ---------------------------
 * The first bytes decide, and nothing is tried twice:
 *
 *   first bytes                 type                 fields
 *   --------------------------  -------------------  ----------------------
 *   '{' (after blanks)          JSON object          flattened keys
 *   anything, group has format  custom flow log      tokens by the format
 *   "2 "                        default flow log     14 tokens, v2 names
 *   "1.0 "                      Route 53 query log   9 or 10 tokens
 *   "START " "END " "REPORT "   Lambda platform      @type, @requestId, ...
 *   "[LEVEL]\t" or ISO time     Lambda runtime       @requestId, first {...}
 *   anything else               -                    none
 *
 * Space-separated records are cut by one sweep of 16-byte compares that
 * notes where the blanks are, giving up as soon as there are more than the
 * format allows; only the tokens the plan wants are then converted. A
 * record counts only when it has exactly the format's number of non-empty
 * tokens (the default format also wants ACCEPT/REJECT/- and
 * OK/NODATA/SKIPDATA in its last two). "-" is null everywhere.
 *
 * JSON against a plan
 * -------------------
 * The plan keeps its JSON names sorted in an order where the end of a name
 * sorts first, then '.', then every other byte. The names that continue a
 * path with one more key are then a single run, the exact ones first:
 *
 *   sorted plan:     a   a.b   a.b.c   a.x   a-b   ab
 *   key "a" at top: [a | a.b   a.b.c   a.x]              (offset 0)
 *                    ^exact ^children, compared from offset 2
 *   key "b" in a:       [a.b | a.b.c]                    (offset 2)
 *
 * The walker carries that run [lo, hi) and the offset at which the next
 * key is compared; two binary searches narrow it per key. A key whose run
 * is empty has its value skipped undecoded (quotes and brackets only); an
 * exact name takes the value (an object or array as its raw text); a run
 * with children descends. When every name has its value the walk stops, so
 * the first occurrence of a repeated key wins. A key holding '.' needs no
 * care: "a.b" as one key is the same flattened name as a -> b.
 *
 * A top-level key starting with '@' is exposed with one more '@'
 * ("@x" -> "@@x"). The plan stores a wanted "@@x" as "@x" and compares the
 * raw keys, so nothing is rewritten per event.
 *
 * Bad JSON: the walk stops at the first error it meets and keeps what it
 * found before it (a skipped value's structure is checked, but not its
 * strings and numbers, so an error there may pass). Fields are counted in message order, a field
 * being a scalar or an empty object or array, and nothing past the
 * DISC_MAX_FIELDS-th is discovered. Every field owns at least two bytes
 * (its token and the ',' or bracket after it), so text shorter than
 * 2 * DISC_MAX_FIELDS cannot reach the cap and skips without counting.
 */

#define DISC_MAX_DEPTH 100  /* deepest JSON nesting walked; deeper is bad */
#define FLOW_FIELD_MAX 48   /* room for every known flow log field */
#define NUM_TEXT_MAX 512    /* longer numbers stay text */
#define SKIP_MAX_DEPTH 256  /* deepest nesting of a skipped value */

/* ================================================================== */
/* Field tables                                                         */
/* ================================================================== */

struct flow_field {
    const char *aws;   /* name inside ${...} of a format string */
    const char *name;  /* the Insights field name */
    bool numeric;      /* a number, else text */
};

/* The first FLOW_V2_TOKENS are the default format, in its order, so a
 * field's index is also its token there. */
static const struct flow_field flow_fields[] = {
    {"version", "version", true},
    {"account-id", "accountId", false},
    {"interface-id", "interfaceId", false},
    {"srcaddr", "srcAddr", false},
    {"dstaddr", "dstAddr", false},
    {"srcport", "srcPort", true},
    {"dstport", "dstPort", true},
    {"protocol", "protocol", true},
    {"packets", "packets", true},
    {"bytes", "bytes", true},
    {"start", "startTime", true},
    {"end", "endTime", true},
    {"action", "action", false},
    {"log-status", "logStatus", false},
    /* v3 */
    {"vpc-id", "vpcId", false},
    {"subnet-id", "subnetId", false},
    {"instance-id", "instanceId", false},
    {"tcp-flags", "tcpFlags", true},
    {"type", "type", false},
    {"pkt-srcaddr", "pktSrcAddr", false},
    {"pkt-dstaddr", "pktDstAddr", false},
    /* v4 */
    {"region", "region", false},
    {"az-id", "azId", false},
    {"sublocation-type", "sublocationType", false},
    {"sublocation-id", "sublocationId", false},
    /* v5 */
    {"pkt-src-aws-service", "pktSrcAwsService", false},
    {"pkt-dst-aws-service", "pktDstAwsService", false},
    {"flow-direction", "flowDirection", false},
    {"traffic-path", "trafficPath", true},
    /* later: ECS (v7), reject reason (v8), resource and encryption */
    {"ecs-cluster-arn", "ecsClusterArn", false},
    {"ecs-cluster-name", "ecsClusterName", false},
    {"ecs-container-instance-arn", "ecsContainerInstanceArn", false},
    {"ecs-container-instance-id", "ecsContainerInstanceId", false},
    {"ecs-container-id", "ecsContainerId", false},
    {"ecs-second-container-id", "ecsSecondContainerId", false},
    {"ecs-service-name", "ecsServiceName", false},
    {"ecs-task-definition-arn", "ecsTaskDefinitionArn", false},
    {"ecs-task-arn", "ecsTaskArn", false},
    {"ecs-task-id", "ecsTaskId", false},
    {"reject-reason", "rejectReason", false},
    {"resource-id", "resourceId", false},
    {"encryption-status", "encryptionStatus", true},
};
#define FLOW_NFIELDS (sizeof(flow_fields) / sizeof(flow_fields[0]))
#define FLOW_V2_TOKENS 14
#define FLOW_V2_ACTION 12   /* token of action in the default format */
#define FLOW_V2_STATUS 13   /* token of log-status */
_Static_assert(FLOW_NFIELDS <= FLOW_FIELD_MAX, "raise FLOW_FIELD_MAX");

/* Route 53 public DNS query log tokens, in order; a 10th (EDNS client
 * subnet) is allowed and not discovered. */
static const char *const r53_names[] = {
    "version", "queryTimestamp", "hostZoneId", "queryName", "queryType",
    "responseCode", "protocol", "edgeLocation", "resolverIp",
};
#define R53_FIELDS (sizeof(r53_names) / sizeof(r53_names[0]))

/* Lambda fields, by slot. */
enum lam_slot {
    LAM_TYPE,
    LAM_REQUEST_ID,
    LAM_DURATION,
    LAM_BILLED,
    LAM_MEMORY_SIZE,
    LAM_MAX_MEMORY,
    LAM_INIT,
    LAM_XRAY_TRACE,
    LAM_XRAY_SEGMENT,
    LAM_COUNT
};

struct lam_field {
    const char *name;  /* discovered name */
    const char *key;   /* "Key: value" item of a platform line, or NULL */
    double scale;      /* numbers: factor to the unit reported; 0: text */
};

/* MB are decimal: AWS's sample queries divide by 1000 * 1000. */
static const struct lam_field lam_fields[LAM_COUNT] = {
    [LAM_TYPE] = {"@type", NULL, 0},
    [LAM_REQUEST_ID] = {"@requestId", "RequestId", 0},
    [LAM_DURATION] = {"@duration", "Duration", 1},
    [LAM_BILLED] = {"@billedDuration", "Billed Duration", 1},
    [LAM_MEMORY_SIZE] = {"@memorySize", "Memory Size", 1e6},
    [LAM_MAX_MEMORY] = {"@maxMemoryUsed", "Max Memory Used", 1e6},
    [LAM_INIT] = {"@initDuration", "Init Duration", 1},
    [LAM_XRAY_TRACE] = {"@xrayTraceId", "XRAY TraceId", 0},
    [LAM_XRAY_SEGMENT] = {"@xraySegmentId", "SegmentId", 0},
};

/* ================================================================== */
/* Plans and formats                                                    */
/* ================================================================== */

/* A plan name that a space-separated record or a Lambda line can fill. */
struct want {
    uint32_t out;  /* index in out[] */
    uint32_t id;   /* flow field, Route 53 token or Lambda slot */
};

/* A plan name as a flattened JSON name. */
struct json_name {
    const char *s;  /* the name, a wanted "@@x" kept as "@x" */
    uint32_t len;   /* bytes at s */
    uint32_t out;   /* index in out[] */
};

struct disc_plan {
    size_t n;                /* names, and entries of out[] */
    size_t nwant;            /* names some log type can fill */
    struct want *flow;       /* flow log fields of any version */
    size_t nflow;
    size_t nflow_v2;         /* how many of those the default format has */
    struct want *r53;        /* Route 53 fields */
    size_t nr53;
    struct want *lam;        /* Lambda fields */
    size_t nlam;
    struct json_name *json;  /* every name that is not a single-'@' one */
    size_t njson;
};

struct disc_flow_format {
    size_t n;                        /* tokens in a record */
    uint8_t field[FLOW_FIELD_MAX];   /* field of token i */
    int8_t tok[FLOW_FIELD_MAX];      /* token of field f, or -1 */
};

/* Index in flow_fields of the field called s[0..n) by AWS (aws) or by
 * Insights (!aws), or -1. */
static int flow_lookup(const char *s, size_t n, bool aws)
{
    for (size_t i = 0; i < FLOW_NFIELDS; i++) {
        const char *f = aws ? flow_fields[i].aws : flow_fields[i].name;
        if (strlen(f) == n && memcmp(f, s, n) == 0)
            return (int)i;
    }
    return -1;
}

static int r53_lookup(const char *name)
{
    for (size_t i = 0; i < R53_FIELDS; i++)
        if (strcmp(r53_names[i], name) == 0)
            return (int)i;
    return -1;
}

static int lam_lookup_name(const char *name)
{
    for (int i = 0; i < LAM_COUNT; i++)
        if (strcmp(lam_fields[i].name, name) == 0)
            return i;
    return -1;
}

/* The order of plan JSON names: end of name, then '.', then other bytes. */
static unsigned json_order(unsigned char c)
{
    return c == '.' ? 1u : (unsigned)c + 2u;
}

static int json_name_cmp(const void *pa, const void *pb)
{
    const struct json_name *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;

    for (size_t i = 0; i < n; i++) {
        unsigned x = json_order((unsigned char)a->s[i]);
        unsigned y = json_order((unsigned char)b->s[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->out < b->out ? -1 : a->out > b->out;
}

/* Files names[i] under every log type that can have it. */
static void plan_add(struct disc_plan *p, const char *name, uint32_t i)
{
    int id;

    if (name[0] == '@' && name[1] != '@') {
        /* Lambda's fields; system fields and unknown ones stay null. */
        id = lam_lookup_name(name);
        if (id >= 0) {
            p->lam[p->nlam++] = (struct want){i, (uint32_t)id};
            p->nwant++;
        }
        return;
    }
    id = flow_lookup(name, strlen(name), false);
    if (id >= 0) {
        p->flow[p->nflow++] = (struct want){i, (uint32_t)id};
        p->nflow_v2 += id < FLOW_V2_TOKENS;
    }
    id = r53_lookup(name);
    if (id >= 0)
        p->r53[p->nr53++] = (struct want){i, (uint32_t)id};
    if (name[0] == '@')
        name++;
    p->json[p->njson++] = (struct json_name){name, (uint32_t)strlen(name), i};
    p->nwant++;
}

enum sl_status disc_plan_new(const char *const *names, size_t n,
                             struct arena *a, struct disc_plan **out)
{
    struct disc_plan *p;
    size_t each = n != 0 ? n : 1;

    *out = NULL;
    if (n > UINT32_MAX)
        return SL_INVALID;
    p = arena_alloc(a, sizeof(*p));
    if (p == NULL)
        return SL_NOMEM;
    memset(p, 0, sizeof(*p));
    p->n = n;
    p->flow = arena_alloc(a, each * sizeof(*p->flow));
    p->r53 = arena_alloc(a, each * sizeof(*p->r53));
    p->lam = arena_alloc(a, each * sizeof(*p->lam));
    p->json = arena_alloc(a, each * sizeof(*p->json));
    if (p->flow == NULL || p->r53 == NULL || p->lam == NULL || p->json == NULL)
        return SL_NOMEM;
    for (size_t i = 0; i < n; i++)
        plan_add(p, names[i], (uint32_t)i);
    if (p->njson > 1)
        qsort(p->json, p->njson, sizeof(*p->json), json_name_cmp);
    *out = p;
    return SL_OK;
}

bool disc_plan_empty(const struct disc_plan *p)
{
    return p->nwant == 0;
}

/* Reads one "${name}" at fmt[*i]; returns its field or -1 (err filled). */
static int format_token(const char *fmt, size_t len, size_t *i,
                        struct sl_err *err)
{
    size_t at = *i;
    const char *name, *close;
    int id;

    if (len - at < 3 || fmt[at] != '$' || fmt[at + 1] != '{') {
        sl_fail(err, SL_INVALID,
                "flow log format: expected ${field} at offset %zu, got "
                "\"%.*s\"; fields are separated by single spaces",
                at, (int)(len - at < 20 ? len - at : 20), fmt + at);
        return -1;
    }
    name = fmt + at + 2;
    close = memchr(name, '}', len - at - 2);
    if (close == NULL) {
        sl_fail(err, SL_INVALID,
                "flow log format: ${ at offset %zu is never closed with }",
                at);
        return -1;
    }
    id = flow_lookup(name, (size_t)(close - name), true);
    if (id < 0) {
        sl_fail(err, SL_INVALID,
                "flow log format: unknown field ${%.*s} at offset %zu; "
                "use AWS names such as ${srcaddr} or ${log-status}",
                (int)(close - name < 64 ? close - name : 64), name, at);
        return -1;
    }
    *i = (size_t)(close - fmt) + 1;
    return id;
}

enum sl_status disc_flow_format_compile(const char *fmt, size_t len,
                                        struct arena *a,
                                        struct disc_flow_format **out,
                                        struct sl_err *err)
{
    struct disc_flow_format *f;
    size_t i = 0;

    *out = NULL;
    f = arena_alloc(a, sizeof(*f));
    if (f == NULL)
        return sl_fail(err, SL_NOMEM, "out of memory for a flow log format");
    memset(f, 0, sizeof(*f));
    memset(f->tok, -1, sizeof(f->tok));
    while (i < len) {
        int id;
        if (f->n > 0) {
            if (fmt[i] != ' ')
                return sl_fail(err, SL_INVALID,
                               "flow log format: expected one space at "
                               "offset %zu, got '%c'", i, fmt[i]);
            i++;
        }
        id = format_token(fmt, len, &i, err);
        if (id < 0)
            return SL_INVALID;
        if (f->tok[id] >= 0)
            return sl_fail(err, SL_INVALID,
                           "flow log format: field ${%s} is repeated",
                           flow_fields[id].aws);
        f->tok[id] = (int8_t)f->n;
        f->field[f->n++] = (uint8_t)id;
    }
    if (f->n == 0)
        return sl_fail(err, SL_INVALID,
                       "flow log format: needs at least one ${field}, e.g. "
                       "\"${version} ${srcaddr} ${dstaddr}\"");
    *out = f;
    return SL_OK;
}

/* ================================================================== */
/* Scalars                                                              */
/* ================================================================== */

enum num_res {
    NUM_BAD,   /* not a number */
    NUM_OK,    /* *out holds it */
    NUM_TEXT   /* a number, but too long or too large for a double: keep text */
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Converts a number too long or too precise for the fast path. */
static enum num_res num_slow(const char *s, size_t n, double *out)
{
    char buf[NUM_TEXT_MAX];

    if (n >= sizeof(buf))
        return NUM_TEXT;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return isfinite(*out) ? NUM_OK : NUM_TEXT;
}

/* Reads s[0..n) as a whole JSON number (jscan_number's grammar).
 * Integers up to 2^53 need no strtod. */
static enum num_res num_parse(const char *s, size_t n, double *out)
{
    uint64_t mant;
    const char *q = jscan_number(s, s + n, &mant);

    if (q == NULL || q != s + n)
        return NUM_BAD;
    if (mant <= (UINT64_C(1) << 53)) {
        *out = s[0] == '-' ? -(double)mant : (double)mant;
        return NUM_OK;
    }
    return num_slow(s, n, out);
}

static struct val json_raw(const char *s, size_t len)
{
    struct val v = {.kind = VAL_JSON, .len = (uint32_t)len, .u.s = s};
    return v;
}

/* A token of a space-separated record: null for "-", a number for numeric
 * fields that read as one, else the text itself. */
static struct val token_val(const char *t, size_t n, bool numeric)
{
    double d;

    if (n == 1 && t[0] == '-')
        return val_null();
    if (numeric && num_parse(t, n, &d) == NUM_OK)
        return val_num(d);
    return val_str(t, n);
}

/* ================================================================== */
/* Space-separated records (flow logs, Route 53)                        */
/* ================================================================== */

/* Notes the offsets of the blanks of s[0..len) in sp[]; returns how many,
 * or max + 1 as soon as there are more than max. */
static size_t find_blanks(const char *s, size_t len, uint32_t *sp, size_t max)
{
    return sl_memchr_all(s, len, ' ', sp, max);
}

/* True when no token of the record cut at sp[0..nsp) is empty. */
static bool tokens_filled(const uint32_t *sp, size_t nsp, size_t len)
{
    if (sp[0] == 0 || sp[nsp - 1] + 1 == len)
        return false;
    for (size_t i = 1; i < nsp; i++)
        if (sp[i] == sp[i - 1] + 1)
            return false;
    return true;
}

/* Token i of the record s cut at sp[0..nsp). */
static const char *token_at(const char *s, size_t len, const uint32_t *sp,
                            size_t nsp, size_t i, size_t *tlen)
{
    size_t from = i == 0 ? 0 : sp[i - 1] + 1;
    size_t to = i < nsp ? sp[i] : len;

    *tlen = to - from;
    return s + from;
}

/* Whether token t[0..n) is the string literal lit (a macro, so that the
 * length is a constant and memcmp is inlined: it was a twentieth of a
 * flow log query's time as calls). */
#define token_is(t, n, lit) \
    ((n) == sizeof(lit) - 1 && memcmp((t), (lit), sizeof(lit) - 1) == 0)

/* Cuts a default-format (v2) flow log record; false when s is not one. */
static bool flow_v2_cut(const char *s, size_t len, uint32_t *sp)
{
    const char *t;
    size_t n;

    if (find_blanks(s, len, sp, FLOW_V2_TOKENS - 1) != FLOW_V2_TOKENS - 1 ||
        !tokens_filled(sp, FLOW_V2_TOKENS - 1, len))
        return false;
    t = token_at(s, len, sp, FLOW_V2_TOKENS - 1, FLOW_V2_ACTION, &n);
    if (!token_is(t, n, "ACCEPT") && !token_is(t, n, "REJECT") &&
        !token_is(t, n, "-"))
        return false;
    t = token_at(s, len, sp, FLOW_V2_TOKENS - 1, FLOW_V2_STATUS, &n);
    return token_is(t, n, "OK") || token_is(t, n, "NODATA") ||
           token_is(t, n, "SKIPDATA");
}

/* Cuts a record of a custom format; false when the token count differs. */
static bool flow_custom_cut(const struct disc_flow_format *f, const char *s,
                            size_t len, uint32_t *sp)
{
    if (f->n == 1)
        return memchr(s, ' ', len) == NULL;
    return find_blanks(s, len, sp, f->n - 1) == f->n - 1 &&
           tokens_filled(sp, f->n - 1, len);
}

static void flow_extract(const struct disc_plan *p,
                         const struct disc_flow_format *f, const char *s,
                         size_t len, struct val *out)
{
    uint32_t sp[FLOW_FIELD_MAX];
    size_t nsp;

    if (f == NULL) {
        if (p->nflow_v2 == 0 || !flow_v2_cut(s, len, sp))
            return;
        nsp = FLOW_V2_TOKENS - 1;
    } else {
        if (!flow_custom_cut(f, s, len, sp))
            return;
        nsp = f->n - 1;
    }
    for (size_t i = 0; i < p->nflow; i++) {
        uint32_t id = p->flow[i].id;
        int tok = f == NULL ? (id < FLOW_V2_TOKENS ? (int)id : -1) : f->tok[id];
        const char *t;
        size_t n;
        if (tok < 0)
            continue;
        t = token_at(s, len, sp, nsp, (size_t)tok, &n);
        out[p->flow[i].out] = token_val(t, n, flow_fields[id].numeric);
    }
}

/* Cuts a Route 53 query log line; returns its blanks or 0 when it is not
 * one. The caller has seen "1.0 ". */
static size_t r53_cut(const char *s, size_t len, uint32_t *sp)
{
    size_t nsp = find_blanks(s, len, sp, R53_FIELDS);

    if (nsp < R53_FIELDS - 1 || nsp > R53_FIELDS || !tokens_filled(sp, nsp, len))
        return 0;
    return nsp;
}

static void r53_extract(const struct disc_plan *p, const char *s, size_t len,
                        struct val *out)
{
    uint32_t sp[R53_FIELDS + 1];
    size_t nsp;

    if (p->nr53 == 0 || (nsp = r53_cut(s, len, sp)) == 0)
        return;
    for (size_t i = 0; i < p->nr53; i++) {
        size_t n;
        const char *t = token_at(s, len, sp, nsp, p->r53[i].id, &n);
        out[p->r53[i].out] = token_val(t, n, false);
    }
}

/* ================================================================== */
/* Lambda lines                                                         */
/* ================================================================== */

/* What one Lambda line holds. */
struct lam_line {
    struct val v[LAM_COUNT];      /* null where the line lacks the field */
    uint8_t order[LAM_COUNT];     /* slots found, in message order */
    size_t n;                     /* entries of order */
    const char *json;             /* first '{' of a runtime line, or NULL */
};

/* Blanks between tokens of a record or a Lambda line: JSON's four. */
static bool is_blank(char c)
{
    return jscan_is_blank(c);
}

static bool has_prefix(const char *s, size_t len, const char *lit)
{
    size_t l = strlen(lit);
    return len >= l && memcmp(s, lit, l) == 0;
}

static void lam_set(struct lam_line *l, enum lam_slot slot, struct val v)
{
    if (l->v[slot].kind != VAL_NULL)
        return;
    l->v[slot] = v;
    l->order[l->n++] = (uint8_t)slot;
}

/* Slot of a platform line's item key k[0..n), or -1. */
static int lam_lookup_key(const char *k, size_t n)
{
    for (int i = 0; i < LAM_COUNT; i++) {
        const char *key = lam_fields[i].key;
        if (key != NULL && strlen(key) == n && memcmp(key, k, n) == 0)
            return i;
    }
    return -1;
}

/* Reads the "Key: value[ unit]" items of a platform line, separated by
 * tabs, newlines or (START) spaces; unknown items are passed over. */
static void lam_items(const char *p, const char *end, struct lam_line *l)
{
    while (p < end) {
        const char *k, *v;
        size_t klen, vlen;
        int slot;
        double d;

        while (p < end && is_blank(*p))
            p++;
        k = p;
        while (p < end && *p != ':' && *p != '\t' && *p != '\n')
            p++;
        if (p == end || *p != ':')
            continue;
        klen = (size_t)(p - k);
        if (++p < end && *p == ' ')
            p++;
        v = p;
        while (p < end && !is_blank(*p))
            p++;
        vlen = (size_t)(p - v);
        if (end - p >= 3 && p[0] == ' ' &&
            (memcmp(p + 1, "ms", 2) == 0 || memcmp(p + 1, "MB", 2) == 0) &&
            (end - p == 3 || is_blank(p[3])))
            p += 3;
        slot = lam_lookup_key(k, klen);
        if (slot < 0 || vlen == 0)
            continue;
        if (lam_fields[slot].scale == 0)
            lam_set(l, (enum lam_slot)slot, val_str(v, vlen));
        else if (num_parse(v, vlen, &d) == NUM_OK)
            lam_set(l, (enum lam_slot)slot, val_num(d * lam_fields[slot].scale));
    }
}

/* A runtime-prefixed application line: "<ISO time>\t<request id>\t..."
 * (Node.js) or "[LEVEL]\t<ISO time>\t<request id>\t..." (Python). */
static bool lam_runtime(const char *s, size_t len, struct lam_line *l)
{
    const char *p = s, *end = s + len, *tab, *id;

    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p) < 16 ? (size_t)(end - p) : 16);
        if (close == NULL || end - close < 2 || close[1] != '\t')
            return false;
        p = close + 2;
    }
    if (end - p < 20 || !is_digit(p[0]) || !is_digit(p[3]) || p[4] != '-' ||
        p[7] != '-' || p[10] != 'T')
        return false;
    tab = memchr(p, '\t', (size_t)(end - p) < 40 ? (size_t)(end - p) : 40);
    if (tab == NULL)
        return false;
    id = tab + 1;
    for (p = id; p < end && *p != '\t'; p++)
        if (*p == ' ' || *p == '\n' || p - id > 64)
            return false;
    if (p == id)
        return false;
    lam_set(l, LAM_REQUEST_ID, val_str(id, (size_t)(p - id)));
    l->json = memchr(p, '{', (size_t)(end - p));
    return true;
}

/* Reads a Lambda line into l; false when s is not one. */
static bool lam_parse(const char *s, size_t len, struct lam_line *l)
{
    static const char *const types[] = {"START ", "END ", "REPORT "};

    memset(l, 0, sizeof(*l));
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        size_t tl = strlen(types[i]);
        if (has_prefix(s, len, types[i]) &&
            has_prefix(s + tl, len - tl, "RequestId: ")) {
            lam_set(l, LAM_TYPE, val_str(s, tl - 1));
            lam_items(s + tl, s + len, l);
            return true;
        }
    }
    return lam_runtime(s, len, l);
}

/* ================================================================== */
/* JSON: strings, scalars, skipping                                     */
/* ================================================================== */

/* Outcome of a step of a JSON walk. */
enum jres {
    J_GO,   /* go on */
    J_STOP  /* stop: done, cap reached, malformed, or a failure in st */
};

/* The value of the string body s[0..n): a slice of the message without
 * escapes, else a copy unescaped into scratch. */
static enum jres json_string_val(const char *s, size_t n, bool esc,
                                 struct arena *scratch, struct val *v,
                                 enum sl_status *st)
{
    char *d;
    long dn;

    if (!esc) {
        *v = val_str(s, n);
        return J_GO;
    }
    d = arena_alloc(scratch, n + 1);
    if (d == NULL) {
        *st = SL_NOMEM;
        return J_STOP;
    }
    dn = jscan_unescape(s, n, d);
    if (dn < 0)
        return J_STOP;
    d[dn] = '\0';
    *v = val_str(d, (size_t)dn);
    return J_GO;
}

/* Reads the scalar at *pp (string, number, true, false, null) into v and
 * moves *pp past it. */
static enum jres json_scalar(const char **pp, const char *end,
                             struct arena *scratch, struct val *v,
                             enum sl_status *st)
{
    const char *p = *pp, *q;
    bool esc;
    double d;

    if (*p == '"') {
        q = jscan_string_end(p + 1, end, &esc);
        if (q == NULL ||
            json_string_val(p + 1, (size_t)(q - p - 1), esc, scratch, v, st) != J_GO)
            return J_STOP;
        *pp = q + 1;
        return J_GO;
    }
    q = jscan_token_end(p, end);
    if (token_is(p, (size_t)(q - p), "true") || token_is(p, (size_t)(q - p), "false")) {
        *v = val_bool(*p == 't');
    } else if (token_is(p, (size_t)(q - p), "null")) {
        *v = val_null();
    } else {
        switch (num_parse(p, (size_t)(q - p), &d)) {
        case NUM_OK:
            *v = val_num(d);
            break;
        case NUM_TEXT:
            *v = val_str(p, (size_t)(q - p));
            break;
        case NUM_BAD:
            return J_STOP;
        }
    }
    *pp = q;
    return J_GO;
}

/* Reads an object key at *pp (blanks, string, blanks, ':') into k[0..*klen)
 * (a slice of the message, or unescaped into scratch). */
static enum jres json_key(const char **pp, const char *end,
                          struct arena *scratch, const char **k, size_t *klen,
                          enum sl_status *st)
{
    const char *p = jscan_ws(*pp, end);
    struct val v;

    if (p == end || *p != '"' || json_scalar(&p, end, scratch, &v, st) != J_GO)
        return J_STOP;
    p = jscan_ws(p, end);
    if (p == end || *p != ':')
        return J_STOP;
    *k = v.u.s;
    *klen = v.len;
    *pp = p + 1;
    return J_GO;
}

/* Writes array index i in decimal; returns its length. */
static size_t fmt_index(char *buf, unsigned i)
{
    char tmp[12];
    size_t n = 0, o = 0;

    do {
        tmp[n++] = (char)('0' + i % 10);
        i /= 10;
    } while (i != 0);
    while (n > 0)
        buf[o++] = tmp[--n];
    return o;
}

/* ================================================================== */
/* JSON against a plan (disc_extract)                                   */
/* ================================================================== */

struct jx {
    const char *end;                /* one past the last byte of the text */
    struct arena *scratch;          /* unescaped strings and keys */
    const struct json_name *names;  /* the plan's, sorted (see the essay) */
    struct val *out;                /* disc_extract's out[] */
    uint8_t *found;                 /* per name: it has its value */
    size_t left;                    /* names still without a value */
    unsigned fields;                /* fields passed, when counting */
    bool counting;                  /* the text could exceed the cap */
    enum sl_status st;              /* SL_NOMEM when scratch ran out */
};

/* Where name e lies against the names continuing the path with key k at
 * offset off: -1 before them, 0 one of them, 1 after them. */
static int json_rank(const struct json_name *e, size_t off, const char *k,
                     size_t klen)
{
    const unsigned char *s = (const unsigned char *)e->s + off;
    size_t n = e->len - off, m = n < klen ? n : klen;

    for (size_t i = 0; i < m; i++) {
        unsigned a = json_order(s[i]), b = json_order((unsigned char)k[i]);
        if (a != b)
            return a < b ? -1 : 1;
    }
    if (n < klen)
        return -1;
    return n == klen || s[klen] == '.' ? 0 : 1;
}

/* True when name e continues the path with key k at offset off. */
static bool json_match(const struct json_name *e, size_t off, const char *k,
                       size_t klen)
{
    size_t end = off + klen;

    if (e->len < end || (e->len > end && e->s[end] != '.'))
        return false;
    return klen == 0 || (e->s[off] == k[0] && memcmp(e->s + off, k, klen) == 0);
}

/* Narrows [*lo, *hi) to the names continuing the path with key k at off:
 * a scan when few (most fail on their first byte), else two binary
 * searches by json_rank. */
static void json_bounds(const struct json_name *nm, size_t off, const char *k,
                        size_t klen, size_t *lo, size_t *hi)
{
    size_t a = *lo, b = *hi, first;

    if (b - a <= 8) {
        while (a < b && !json_match(&nm[a], off, k, klen))
            a++;
        first = a;
        while (a < b && json_match(&nm[a], off, k, klen))
            a++;
        *lo = first;
        *hi = a;
        return;
    }
    while (a < b) {
        size_t c = a + (b - a) / 2;
        if (json_rank(&nm[c], off, k, klen) < 0)
            a = c + 1;
        else
            b = c;
    }
    first = a;
    b = *hi;
    while (a < b) {
        size_t c = a + (b - a) / 2;
        if (json_rank(&nm[c], off, k, klen) <= 0)
            a = c + 1;
        else
            b = c;
    }
    *lo = first;
    *hi = a;
}

/* json_bounds, then [*lo, *mid) end with k and [*mid, *hi) go deeper. */
static void json_narrow(const struct json_name *nm, size_t off, const char *k,
                        size_t klen, size_t *lo, size_t *mid, size_t *hi)
{
    size_t m;

    json_bounds(nm, off, k, klen, lo, hi);
    for (m = *lo; m < *hi && nm[m].len == off + klen; m++)
        ;
    *mid = m;
}

/* Gives names [a, m) the value v, unless they already have one. */
static void jx_take(struct jx *x, size_t a, size_t m, struct val v)
{
    for (size_t i = a; i < m; i++) {
        if (x->found[i])
            continue;
        x->found[i] = 1;
        x->out[x->names[i].out] = v;
        x->left--;
    }
}

static enum jres jx_count(struct jx *x)
{
    return x->counting && ++x->fields > DISC_MAX_FIELDS ? J_STOP : J_GO;
}

/* Skips the value at *pp; a scalar directly, a container by jscan_skip
 * (strings only delimited, bare tokens only cut). */
static enum jres jx_skip(struct jx *x, const char **pp)
{
    const char *p = jscan_ws(*pp, x->end);
    bool esc;

    if (p == x->end)
        return J_STOP;
    if (*p == '{' || *p == '[') {
        p = jscan_skip(p, x->end, SKIP_MAX_DEPTH, x->counting ? &x->fields : NULL);
        if (p == NULL || x->fields > DISC_MAX_FIELDS)
            return J_STOP;
        *pp = p;
        return J_GO;
    }
    if (*p == '"') {
        p = jscan_string_end(p + 1, x->end, &esc);
        if (p == NULL)
            return J_STOP;
        p++;
    } else {
        const char *q = jscan_token_end(p, x->end);
        if (q == p)
            return J_STOP;
        p = q;
    }
    *pp = p;
    return jx_count(x);
}

static enum jres jx_container(struct jx *x, const char **pp, size_t lo,
                              size_t hi, size_t off, unsigned depth);

/* The value at *pp for names [a, m) (exact) and [m, b) (below it, their
 * next key compared at off). */
static enum jres jx_value(struct jx *x, const char **pp, size_t a, size_t m,
                          size_t b, size_t off, unsigned depth)
{
    const char *p = jscan_ws(*pp, x->end), *start = p;
    struct val v;
    enum jres r;

    if (p == x->end)
        return J_STOP;
    if (*p == '{' || *p == '[') {
        if (m == b)
            r = jx_skip(x, &p);
        else if (depth >= DISC_MAX_DEPTH)
            r = J_STOP;
        else
            r = jx_container(x, &p, m, b, off, depth + 1);
        v = json_raw(start, (size_t)(p - start));
    } else if (a == m) {
        r = jx_skip(x, &p);
        v = val_null();
    } else {
        r = json_scalar(&p, x->end, x->scratch, &v, &x->st);
        if (r == J_GO)
            r = jx_count(x);
    }
    if (r != J_GO)
        return r;
    jx_take(x, a, m, v);
    *pp = p;
    return x->left == 0 ? J_STOP : J_GO;
}

/* The object or array at *pp, for names [lo, hi) whose next key is
 * compared at off. */
static enum jres jx_container(struct jx *x, const char **pp, size_t lo,
                              size_t hi, size_t off, unsigned depth)
{
    const char *p = *pp, *end = x->end;
    bool obj = *p == '{';
    char close = obj ? '}' : ']';
    unsigned idx = 0;

    p = jscan_ws(p + 1, end);
    if (p == end)
        return J_STOP;
    if (*p == close) {
        *pp = p + 1;
        return jx_count(x);
    }
    for (;;) {
        char ib[16];
        const char *k = ib;
        size_t klen, a = lo, m, b = hi;
        enum jres r;

        if (obj) {
            if (json_key(&p, end, x->scratch, &k, &klen, &x->st) != J_GO)
                return J_STOP;
        } else {
            klen = fmt_index(ib, idx++);
        }
        json_narrow(x->names, off, k, klen, &a, &m, &b);
        if (a == b)
            r = jx_skip(x, &p);
        else
            r = jx_value(x, &p, a, m, b, off + klen + 1, depth);
        if (r != J_GO)
            return r;
        p = jscan_ws(p, end);
        if (p == end)
            return J_STOP;
        if (*p == close) {
            *pp = p + 1;
            return J_GO;
        }
        if (*p != ',')
            return J_STOP;
        p++;
    }
}

/* Fills the plan's JSON names from the object at s[0..end); prior is the
 * number of fields the line already yielded (Lambda). */
static enum sl_status json_extract(const struct disc_plan *p, const char *s,
                                   const char *end, unsigned prior,
                                   struct arena *scratch, struct val *out)
{
    uint8_t small[256];
    struct jx x = {
        .end = end, .scratch = scratch, .names = p->json, .out = out,
        .left = p->njson, .fields = prior, .st = SL_OK,
    };

    x.counting = (size_t)(end - s) + 2 * (size_t)prior > 2 * DISC_MAX_FIELDS;
    x.found = p->njson <= sizeof(small) ? small : arena_alloc(scratch, p->njson);
    if (x.found == NULL)
        return SL_NOMEM;
    memset(x.found, 0, p->njson);
    (void)jx_container(&x, &s, 0, p->njson, 0, 0);
    return x.st;
}

/* ================================================================== */
/* Every field (disc_each)                                              */
/* ================================================================== */

struct emit {
    disc_field_fn fn;       /* the caller's callback */
    void *ctx;              /* its context */
    unsigned fields;        /* fields handed out */
    enum sl_status st;      /* why the walk stopped, if not SL_OK */
};

/* Hands one field out; J_STOP at the cap or when fn says stop. */
static enum jres emit_field(struct emit *em, const char *name,
                            const struct val *v)
{
    enum sl_status st;

    if (em->fields >= DISC_MAX_FIELDS)
        return J_STOP;
    em->fields++;
    st = em->fn(em->ctx, name, v);
    if (st != SL_OK) {
        em->st = st;
        return J_STOP;
    }
    return J_GO;
}

/* Emits the non-null tokens of a record cut at sp[0..nsp): token i is
 * flow field ids[i] (flow logs) or Route 53 field i (ids NULL). */
static void record_each(const char *s, size_t len, const uint32_t *sp,
                        size_t nsp, const uint8_t *ids, struct emit *em)
{
    for (size_t i = 0; i <= nsp; i++) {
        size_t n;
        const char *t = token_at(s, len, sp, nsp, i, &n);
        const char *name = ids != NULL ? flow_fields[ids[i]].name
                           : i < R53_FIELDS ? r53_names[i] : NULL;
        struct val v;
        if (name == NULL)
            break;
        v = token_val(t, n, ids != NULL && flow_fields[ids[i]].numeric);
        if (v.kind != VAL_NULL && emit_field(em, name, &v) != J_GO)
            break;
    }
}

static void flow_each(const struct disc_flow_format *f, const char *s,
                      size_t len, struct emit *em)
{
    static const uint8_t v2[FLOW_V2_TOKENS] = {0, 1, 2, 3, 4, 5, 6,
                                               7, 8, 9, 10, 11, 12, 13};
    uint32_t sp[FLOW_FIELD_MAX];

    if (f == NULL) {
        if (flow_v2_cut(s, len, sp))
            record_each(s, len, sp, FLOW_V2_TOKENS - 1, v2, em);
    } else if (flow_custom_cut(f, s, len, sp)) {
        record_each(s, len, sp, f->n - 1, f->field, em);
    }
}

struct je {
    const char *end;        /* one past the last byte of the text */
    struct arena *scratch;  /* names, unescaped strings */
    struct emit *em;        /* where fields go */
};

/* The flattened name of a member: parent.key, or at the top the key
 * itself, with one more '@' when it starts with '@'. In scratch. */
static const char *je_name(struct je *e, const char *parent, size_t plen,
                           const char *k, size_t klen, size_t *nlen)
{
    size_t pre = parent == NULL ? (klen > 0 && k[0] == '@') : plen + 1;
    char *s = arena_alloc(e->scratch, pre + klen + 1);

    if (s == NULL) {
        e->em->st = SL_NOMEM;
        return NULL;
    }
    if (parent == NULL) {
        if (pre)
            s[0] = '@';
    } else {
        memcpy(s, parent, plen);
        s[plen] = '.';
    }
    memcpy(s + pre, k, klen);
    s[pre + klen] = '\0';
    *nlen = pre + klen;
    return s;
}

static enum jres je_container(struct je *e, const char **pp, const char *name,
                              size_t nlen, unsigned depth);

static enum jres je_value(struct je *e, const char **pp, const char *name,
                          size_t nlen, unsigned depth)
{
    const char *p = jscan_ws(*pp, e->end);
    struct val v;

    if (p == e->end)
        return J_STOP;
    if (*p == '{' || *p == '[') {
        if (depth >= DISC_MAX_DEPTH)
            return J_STOP;
        *pp = p;
        return je_container(e, pp, name, nlen, depth + 1);
    }
    if (json_scalar(&p, e->end, e->scratch, &v, &e->em->st) != J_GO ||
        emit_field(e->em, name, &v) != J_GO)
        return J_STOP;
    *pp = p;
    return J_GO;
}

/* The object or array at *pp named name (NULL: the message itself). An
 * empty one is a field of its own, its text "{}" or "[]". */
static enum jres je_container(struct je *e, const char **pp, const char *name,
                              size_t nlen, unsigned depth)
{
    const char *p = *pp, *start = p, *end = e->end;
    bool obj = *p == '{';
    char close = obj ? '}' : ']';
    unsigned idx = 0;

    p = jscan_ws(p + 1, end);
    if (p == end)
        return J_STOP;
    if (*p == close) {
        struct val v = json_raw(start, (size_t)(p + 1 - start));
        *pp = p + 1;
        return name == NULL ? J_GO : emit_field(e->em, name, &v);
    }
    for (;;) {
        char ib[16];
        const char *k = ib, *child;
        size_t klen, clen;

        if (obj) {
            if (json_key(&p, end, e->scratch, &k, &klen, &e->em->st) != J_GO)
                return J_STOP;
        } else {
            klen = fmt_index(ib, idx++);
        }
        child = je_name(e, name, nlen, k, klen, &clen);
        if (child == NULL || je_value(e, &p, child, clen, depth) != J_GO)
            return J_STOP;
        p = jscan_ws(p, end);
        if (p == end)
            return J_STOP;
        if (*p == close) {
            *pp = p + 1;
            return J_GO;
        }
        if (*p != ',')
            return J_STOP;
        p++;
    }
}

static void json_each(const char *s, const char *end, struct arena *scratch,
                      struct emit *em)
{
    struct je e = {.end = end, .scratch = scratch, .em = em};

    (void)je_container(&e, &s, NULL, 0, 0);
}

static void lam_each(const struct lam_line *l, const char *end,
                     struct arena *scratch, struct emit *em)
{
    for (size_t i = 0; i < l->n; i++)
        if (emit_field(em, lam_fields[l->order[i]].name, &l->v[l->order[i]]) != J_GO)
            return;
    if (l->json != NULL)
        json_each(l->json, end, scratch, em);
}

/* ================================================================== */
/* Entry points                                                         */
/* ================================================================== */

/* The message without a trailing line break. */
static size_t trim_eol(const char *msg, size_t len)
{
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        len--;
    return len;
}

/* The '{' opening a JSON message, or NULL when msg is not one. */
static const char *json_start(const char *msg, size_t len)
{
    const char *p = jscan_ws(msg, msg + len);
    return p < msg + len && *p == '{' ? p : NULL;
}

static bool is_flow_v2_start(const char *msg, size_t len)
{
    return len > 2 && msg[0] == '2' && msg[1] == ' ';
}

static void lam_extract(const struct disc_plan *p, const struct lam_line *l,
                        struct val *out)
{
    for (size_t i = 0; i < p->nlam; i++)
        out[p->lam[i].out] = l->v[p->lam[i].id];
}

enum sl_status disc_extract(const struct disc_plan *p,
                            const struct disc_flow_format *flow,
                            const char *msg, size_t len, struct arena *scratch,
                            struct val *out)
{
    const char *js;
    struct lam_line l;

    for (size_t i = 0; i < p->n; i++)
        out[i] = val_null();
    if (p->nwant == 0 || len == 0 || len > UINT32_MAX)
        return SL_OK;
    if (msg[0] == '{' || is_blank(msg[0])) {
        js = json_start(msg, len);
        if (js == NULL || p->njson == 0)
            return SL_OK;
        return json_extract(p, js, msg + len, 0, scratch, out);
    }
    len = trim_eol(msg, len);
    if (flow != NULL || is_flow_v2_start(msg, len)) {
        if (p->nflow != 0)
            flow_extract(p, flow, msg, len, out);
        return SL_OK;
    }
    if (has_prefix(msg, len, "1.0 ")) {
        r53_extract(p, msg, len, out);
        return SL_OK;
    }
    if ((p->nlam == 0 && p->njson == 0) || !lam_parse(msg, len, &l))
        return SL_OK;
    lam_extract(p, &l, out);
    if (l.json == NULL || p->njson == 0)
        return SL_OK;
    return json_extract(p, l.json, msg + len, (unsigned)l.n, scratch, out);
}

enum sl_status disc_each(const struct disc_flow_format *flow, const char *msg,
                         size_t len, struct arena *scratch, disc_field_fn fn,
                         void *ctx)
{
    struct emit em = {.fn = fn, .ctx = ctx, .st = SL_OK};
    const char *js;
    struct lam_line l;
    uint32_t sp[R53_FIELDS + 1];
    size_t nsp;

    if (len == 0 || len > UINT32_MAX)
        return SL_OK;
    if (msg[0] == '{' || is_blank(msg[0])) {
        js = json_start(msg, len);
        if (js != NULL)
            json_each(js, msg + len, scratch, &em);
        return em.st;
    }
    len = trim_eol(msg, len);
    if (flow != NULL || is_flow_v2_start(msg, len))
        flow_each(flow, msg, len, &em);
    else if (has_prefix(msg, len, "1.0 ") && (nsp = r53_cut(msg, len, sp)) != 0)
        record_each(msg, len, sp, nsp, NULL, &em);
    else if (lam_parse(msg, len, &l))
        lam_each(&l, msg + len, scratch, &em);
    return em.st;
}
