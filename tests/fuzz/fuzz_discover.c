/* tests/fuzz/fuzz_discover.c: libFuzzer target for field discovery. The
 * input is a message, optionally preceded by "#name name ...\n" (the plan's
 * names; else a fixed plan touching every log type) and "$format\n" (a
 * custom flow log format). The message is extracted and listed with the
 * default format and, when it compiles, the custom one. Nothing may crash
 * or read outside the message; JSON values must lie inside it; disc_each
 * must stop at DISC_MAX_FIELDS. */
#include "common/arena.h"
#include "query/discover.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 32

static const char *const default_names[] = {
    "srcAddr", "bytes", "version", "vpcId", "action", "@requestId",
    "@duration", "@type", "@maxMemoryUsed", "@xrayTraceId", "queryName",
    "resolverIp", "a", "a.b", "a.0", "a.b.c", "a.0.b", "@@x", "@@x.y",
    "userIdentity.arn", "@message", "", ".", "a.",
};
#define NDEFAULT (sizeof(default_names) / sizeof(default_names[0]))

struct seen {
    size_t fields;
    unsigned sum;  /* every byte read, so ASan checks every pointer */
};

static unsigned touch(const char *s, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (unsigned char)s[i];
    return sum;
}

static void check_val(const struct val *v, const char *msg, size_t len,
                      unsigned *sum)
{
    if (v->kind == VAL_STR || v->kind == VAL_JSON) {
        if (v->len != 0 && v->u.s == NULL)
            abort();
        *sum += touch(v->u.s, v->len);
    }
    if (v->kind == VAL_JSON &&
        (v->u.s < msg || v->len > len || v->u.s + v->len > msg + len))
        abort();
}

static enum sl_status on_field(void *ctx, const char *name, const struct val *v)
{
    struct seen *s = ctx;

    if (name == NULL)
        abort();
    s->sum += touch(name, strlen(name));
    if (v->kind == VAL_STR || v->kind == VAL_JSON)
        s->sum += touch(v->u.s, v->len);
    if (++s->fields > DISC_MAX_FIELDS)
        abort();
    return SL_OK;
}

/* Takes a "#names\n" line off the front; returns how many names. */
static size_t read_names(const char **p, const char *end, struct arena *a,
                         const char **names)
{
    const char *nl, *s;
    size_t n = 0;

    if (*p == end || **p != '#' || (nl = memchr(*p, '\n', (size_t)(end - *p))) == NULL)
        return 0;
    s = *p + 1;
    while (s < nl && n < MAX_NAMES) {
        const char *sp = memchr(s, ' ', (size_t)(nl - s));
        const char *e = sp != NULL ? sp : nl;
        char *name = arena_strndup(a, s, (size_t)(e - s));
        if (name == NULL)
            break;
        names[n++] = name;
        s = e + 1;
    }
    *p = nl + 1;
    return n;
}

/* Takes a "$format\n" line off the front and compiles it. */
static struct disc_flow_format *read_format(const char **p, const char *end,
                                            struct arena *a)
{
    const char *nl;
    struct disc_flow_format *f = NULL;
    struct sl_err err = {0};

    if (*p == end || **p != '$' || (nl = memchr(*p, '\n', (size_t)(end - *p))) == NULL)
        return NULL;
    if (disc_flow_format_compile(*p + 1, (size_t)(nl - *p - 1), a, &f, &err) != SL_OK) {
        if (err.code != SL_INVALID && err.code != SL_NOMEM)
            abort();
        f = NULL;
    }
    *p = nl + 1;
    return f;
}

static unsigned run(const struct disc_plan *p, size_t n,
                    const struct disc_flow_format *f, const char *msg,
                    size_t len, struct arena *scratch)
{
    struct val out[NDEFAULT > MAX_NAMES ? NDEFAULT : MAX_NAMES];
    struct seen s = {0};
    enum sl_status st;

    st = disc_extract(p, f, msg, len, scratch, out);
    if (st != SL_OK && st != SL_NOMEM)
        abort();
    if (st == SL_OK)
        for (size_t i = 0; i < n; i++)
            check_val(&out[i], msg, len, &s.sum);
    st = disc_each(f, msg, len, scratch, on_field, &s);
    if (st != SL_OK && st != SL_NOMEM)
        abort();
    return s.sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    const char *names[MAX_NAMES];
    struct arena a, scratch;
    struct disc_plan *plan;
    struct disc_flow_format *f;
    size_t n;
    volatile unsigned sink;

    arena_init(&a, 1 << 12, 0);
    arena_init(&scratch, 1 << 14, 16u << 20);
    n = read_names(&p, end, &a, names);
    f = read_format(&p, end, &a);
    if (n == 0) {
        n = NDEFAULT;
        if (disc_plan_new(default_names, n, &a, &plan) != SL_OK)
            abort();
    } else if (disc_plan_new(names, n, &a, &plan) != SL_OK) {
        abort();
    }
    sink = run(plan, n, NULL, p, (size_t)(end - p), &scratch);
    if (f != NULL)
        sink = run(plan, n, f, p, (size_t)(end - p), &scratch);
    (void)sink;
    arena_fini(&scratch);
    arena_fini(&a);
    return 0;
}
