/* tests/fuzz/fuzz_query.c: libFuzzer target for the query front end:
 * arbitrary bytes are lexed, parsed, checked, dumped and, when refused,
 * rendered with a caret line. Nothing may crash or over-read; a refusal
 * must be SL_MALFORMED_QUERY (or SL_NOMEM under the arena cap) with a
 * position inside the text and a message. */
#include "common/arena.h"
#include "common/buf.h"
#include "query/ast.h"
#include "query/check.h"
#include "query/lexer.h"
#include "query/parser.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every token lies inside the text, in order; '/' read as the parser
 * would after the previous token. */
static void lex_all(const char *text, size_t len)
{
    struct lexer lx;
    struct lex_token t;
    struct sl_err err = {0};
    enum lex_mode mode = LEX_MODE_VALUE;
    size_t last = 0;

    lex_init(&lx, text, len);
    for (;;) {
        if (lex_next(&lx, mode, &t, &err) != SL_OK) {
            if (err.code != SL_MALFORMED_QUERY || err.line < 1 || err.col < 1)
                abort();
            return;
        }
        if (t.off < last || (size_t)t.off + t.len > len)
            abort();
        if (t.kind == LEX_EOF)
            return;
        if (t.len == 0)
            abort();
        last = (size_t)t.off + t.len;
        switch (t.kind) {
        case LEX_IDENT: case LEX_QIDENT: case LEX_NUMBER: case LEX_STRING:
        case LEX_PERIOD: case LEX_REGEX: case LEX_RPAREN: case LEX_RBRACKET:
            mode = LEX_MODE_OPERATOR;
            break;
        default:
            mode = LEX_MODE_VALUE;
            break;
        }
    }
}

static void check_refusal(const char *text, size_t len,
                          const struct sl_err *err, enum sl_status st)
{
    struct buf b;
    int lines = 1;

    if (st == SL_NOMEM)
        return;
    if (st != SL_MALFORMED_QUERY || err->code != st || err->msg[0] == '\0')
        abort();
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (err->line < 1 || err->line > lines || err->col < 1)
        abort();
    buf_init(&b, 1 << 16);
    if (lex_render_error(text, len, err, &b) != SL_OK || b.len == 0)
        abort();
    buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct arena a;
    struct ast_query *q = NULL;
    struct check_result r;
    struct sl_err err = {0};
    enum sl_status st;
    struct buf dump;

    lex_all(text, size);
    arena_init(&a, 1 << 14, 64u << 20);
    st = parse_query(text, size, &a, &q, &err);
    if (st == SL_OK) {
        if (q == NULL)
            abort();
        buf_init(&dump, 1 << 24);
        if (ast_dump(q, &dump) != SL_OK)
            abort();
        st = check_query(q, &a, &r, &err);
        if (st == SL_OK) {
            for (size_t i = 0; i < r.nfields; i++)
                if (r.fields[i] == NULL)
                    abort();
            buf_clear(&dump);
            if (ast_dump(q, &dump) != SL_OK)      /* with capture names */
                abort();
        }
        buf_fini(&dump);
    }
    if (st != SL_OK)
        check_refusal(text, size, &err, st);
    arena_fini(&a);
    return 0;
}
