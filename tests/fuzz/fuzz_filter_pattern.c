/* tests/fuzz/fuzz_filter_pattern.c: libFuzzer target for filter patterns.
 * The input is "pattern NUL message" (no NUL: the input is both). The
 * pattern is compiled; a refusal must be SL_INVALID with a message and a
 * column inside the text (or SL_NOMEM). A compiled pattern is rendered,
 * matched, and evaluated with a reference to every field it extracts;
 * nothing may crash, leak or over-read, and match and eval must agree. */
#include "common/arena.h"
#include "common/buf.h"
#include "query/filter_pattern.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_REFS 16

static void check_refusal(size_t len, const struct sl_err *err, enum sl_status st)
{
    if (st == SL_NOMEM)
        return;
    if (st != SL_INVALID || err->code != st || err->msg[0] == '\0')
        abort();
    if (err->line != 1 || err->col < 1 || (size_t)err->col > len + 1)
        abort();
}

/* Evaluates every extracted field; the match must agree with fpat_match. */
static void eval_fields(const struct fpat *p, const char *msg, size_t len,
                        bool want)
{
    struct fpat_ref *refs[FUZZ_MAX_REFS];
    struct fpat_val vals[FUZZ_MAX_REFS];
    struct sl_err err = {0};
    struct arena a;
    size_t n = 0;
    bool matched;

    for (size_t i = 0; i < fpat_nfields(p) && n < FUZZ_MAX_REFS; i++) {
        const char *name = fpat_field(p, i);
        if (fpat_ref_dimension(p, name, strlen(name), &refs[n], &err) != SL_OK)
            abort();                      /* every field name must compile */
        n++;
    }
    arena_init(&a, 4096, 0);
    if (fpat_eval(p, msg, len, refs, n, &a,
                  vals, &matched) != SL_OK || matched != want)
        abort();
    for (size_t i = 0; matched && i < n; i++)
        if (vals[i].found && vals[i].len > 0 && vals[i].text == NULL)
            abort();
    arena_fini(&a);
    for (size_t i = 0; i < n; i++)
        fpat_ref_free(refs[i]);
}

/* A few metric values: must compile or refuse cleanly. */
static void try_values(const struct fpat *p, const char *msg, size_t len)
{
    size_t n = len < 100 ? len : 100;
    struct fpat_ref *r = NULL;
    struct sl_err err = {0};
    enum sl_status st = fpat_ref_value(p, msg, n, &r, &err);

    if (st == SL_OK)
        fpat_ref_free(r);
    else if (st != SL_INVALID || err.msg[0] == '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t plen = nul != NULL ? (size_t)(nul - text) : size;
    const char *msg = nul != NULL ? nul + 1 : text;
    size_t mlen = nul != NULL ? size - plen - 1 : size;
    struct fpat *p = NULL;
    struct sl_err err = {0};
    enum sl_status st;
    struct buf b;
    bool m;

    st = fpat_compile(text, plen, &p, &err);
    if (st != SL_OK) {
        if (p != NULL)
            abort();
        check_refusal(plen, &err, st);
        return 0;
    }
    buf_init(&b, 1 << 20);
    if (fpat_explain(p, &b) != SL_OK)
        abort();
    buf_fini(&b);
    m = fpat_match(p, msg, mlen);
    eval_fields(p, msg, mlen, m);
    try_values(p, msg, mlen);
    fpat_free(p);
    return 0;
}
