/* query/funcs_json.c: the JSON functions (jsonParse, jsonStringify,
 * jsonArraySize, jsonArrayContains) over JSON kept as text, checked by
 * query/json_scan.h's RFC 8259 validator: query/ does not link jansson,
 * and a VAL_JSON only needs to be known well-formed, never built as a
 * tree. See funcs_int.h for the contracts. */
#include "query/funcs_int.h"

#include "query/json_scan.h"

#include <math.h>
#include <string.h>

/* Deeper nesting is refused rather than followed. */
#define JSON_MAX_DEPTH 256

bool fn_json_container(const char *s, size_t len, size_t *start, size_t *end)
{
    const char *e = s + len, *p = jscan_ws(s, e), *q;

    if (p == e || (*p != '{' && *p != '['))
        return false;
    *start = (size_t)(p - s);
    q = jscan_check(p, e, JSON_MAX_DEPTH);
    if (q == NULL)
        return false;
    *end = (size_t)(q - s);
    return jscan_ws(q, e) == e;
}

/* The container text of v (a VAL_JSON, or a string holding one). */
static bool container_of(const struct val *v, struct fn_text *t)
{
    size_t start, end;

    if (v->kind == VAL_JSON) {
        t->s = v->u.s;
        t->len = v->len;
        return true;
    }
    if (v->kind != VAL_STR || !fn_json_container(v->u.s, v->len, &start, &end))
        return false;
    t->s = v->u.s + start;
    t->len = end - start;
    return true;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */

static size_t put(char *dst, size_t at, const char *s, size_t n)
{
    if (dst != NULL)
        memcpy(dst + at, s, n);
    return n;
}

size_t fn_json_put_str(char *dst, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0, i = 0;

    n += put(dst, n, "\"", 1);
    while (i < len) {
        int32_t c;
        size_t k = fn_utf8_next(s, len, i, &c);
        if (c < 0) {
            n += put(dst, n, "\xEF\xBF\xBD", 3);  /* U+FFFD */
        } else if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            n += put(dst, n, esc, 2);
        } else if (c < 0x20) {
            const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r"
                              : c == '\t' ? "\\t" : c == '\b' ? "\\b"
                              : c == '\f' ? "\\f" : NULL;
            if (named != NULL) {
                n += put(dst, n, named, 2);
            } else {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                n += put(dst, n, u, 6);
            }
        } else {
            n += put(dst, n, s + i, k);
        }
        i += k;
    }
    n += put(dst, n, "\"", 1);
    return n;
}

/* Copies validated JSON without the whitespace between tokens into dst
 * (room for len bytes) and returns the new length. */
static size_t compact(const char *s, size_t len, char *dst)
{
    size_t n = 0;
    bool in_str = false;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            dst[n++] = c;
            if (c == '\\' && i + 1 < len)
                dst[n++] = s[++i];
            else if (c == '"')
                in_str = false;
        } else if (!jscan_is_blank(c)) {
            dst[n++] = c;
            in_str = c == '"';
        }
    }
    return n;
}

/* t compacted into scratch (or t itself when already compact). */
static enum sl_status compact_text(struct fn_ctx *ctx, const struct fn_text *t,
                                   struct fn_text *out)
{
    char *p = fn_alloc(ctx, t->len);

    if (p == NULL)
        return SL_NOMEM;
    out->len = compact(t->s, t->len, p);
    out->s = out->len == t->len ? t->s : p;
    return SL_OK;
}

/* ------------------------------------------------------------------ */
/* The functions                                                        */

/* jsonParse(s): the object or array s holds, as VAL_JSON (its text less
 * surrounding whitespace, borrowed from s); null for anything else,
 * scalars included ("empty if not JSON" in the reference). */
struct val fn_json_parse(const struct val *v)
{
    struct fn_text t;
    struct val out = val_null();

    if (container_of(v, &t)) {
        out.kind = VAL_JSON;
        out.len = (uint32_t)t.len;
        out.u.s = t.s;
    }
    return out;
}

/* jsonStringify(v): JSON.stringify of v, compact. A map/list (or a
 * string holding an object/array, which is how JSON fields arrive) gives
 * its text without whitespace; a number its digits ("null" when not
 * finite); a boolean true/false; any other string or a timestamp a quoted
 * JSON string. Null stays null. */
enum sl_status fn_json_stringify(struct fn_ctx *ctx, const struct val *v,
                                 struct val *out)
{
    struct fn_text t, c;
    enum sl_status st;
    size_t n;
    char *p;

    if (container_of(v, &t)) {
        st = compact_text(ctx, &t, &c);
        return st == SL_OK ? fn_out_str(out, c.s, c.len) : st;
    }
    if (v->kind == VAL_BOOL)
        return fn_out_str(out, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
    if (v->kind == VAL_NUM && !isfinite(v->u.num))
        return fn_out_str(out, "null", 4);
    st = fn_text_of(ctx, v, &t);
    if (st != SL_OK || t.s == NULL || v->kind == VAL_NUM)
        return st == SL_OK && t.s != NULL ? fn_out_str(out, t.s, t.len) : st;
    n = fn_json_put_str(NULL, t.s, t.len);
    p = fn_alloc(ctx, n);
    if (p == NULL)
        return SL_NOMEM;
    fn_json_put_str(p, t.s, t.len);
    return fn_out_str(out, p, n);
}

/* Steps through the elements of an array text (checked again one by one:
 * a VAL_JSON from field discovery was only skimmed). */
struct elems {
    const char *p;    /* after '[' or the last element */
    const char *end;  /* one past the closing ']' */
};

static bool elems_begin(struct elems *e, const struct fn_text *arr)
{
    if (arr->len == 0 || arr->s[0] != '[')
        return false;
    e->p = arr->s + 1;
    e->end = arr->s + arr->len;
    return true;
}

/* The next element's text; false after the last or at a malformed one. */
static bool elems_next(struct elems *e, struct fn_text *el)
{
    const char *p = jscan_ws(e->p, e->end), *q;

    if (p < e->end && *p == ',')
        p++;
    p = jscan_ws(p, e->end);
    if (p == e->end || *p == ']')
        return false;
    q = jscan_check(p, e->end, JSON_MAX_DEPTH - 1);
    if (q == NULL)
        return false;
    el->s = p;
    el->len = (size_t)(q - p);
    e->p = q;
    return true;
}

/* jsonArraySize: the number of top-level elements; null for anything
 * that is not an array. */
struct val fn_json_array_size(const struct val *v)
{
    struct fn_text t, el;
    struct elems e;
    size_t n = 0;

    if (!container_of(v, &t) || !elems_begin(&e, &t))
        return val_null();
    while (elems_next(&e, &el))
        n++;
    return val_num((double)n);
}

static bool same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Whether array element el equals x (see fn_json_array_contains). */
static enum sl_status element_equals(struct fn_ctx *ctx, const struct fn_text *el,
                                     const struct val *x, const struct fn_text *xt,
                                     bool *eq)
{
    char first = el->s[0];
    struct fn_text a, b, xc;
    double d, y;
    enum sl_status st = SL_OK;

    *eq = false;
    if (first == '"' && x->kind != VAL_BOOL) {
        char *p = fn_alloc(ctx, el->len);
        long n;
        if (p == NULL)
            return SL_NOMEM;
        n = jscan_unescape(el->s + 1, el->len - 2, p);  /* checked: n >= 0 */
        *eq = n >= 0 && same_bytes(p, (size_t)n, xt->s, xt->len);
    } else if (first == '{' || first == '[') {
        if (container_of(x, &xc) && (st = compact_text(ctx, el, &a)) == SL_OK &&
            (st = compact_text(ctx, &xc, &b)) == SL_OK)
            *eq = same_bytes(a.s, a.len, b.s, b.len);
    } else if (first == 't' || first == 'f') {
        *eq = same_bytes(el->s, el->len, xt->s, xt->len);
    } else if (first != 'n') {
        *eq = x->kind != VAL_BOOL && val_to_num(x, &y) &&
              val_parse_num(el->s, el->len, &d) && d == y;
    }
    return st;
}

/* jsonArrayContains(arr, x): 1 when a top-level element of the array
 * equals x: a string element by its decoded text (x in its output form),
 * a number by value, true/false by a boolean or the words, an object or
 * array by compact text; a JSON null matches nothing, and neither does a
 * missing x. Not an array: 0. */
enum sl_status fn_json_array_contains(struct fn_ctx *ctx,
                                      const struct val *arr,
                                      const struct val *x, struct val *out)
{
    struct fn_text t, el, xt;
    struct elems e;
    bool eq = false;
    enum sl_status st = SL_OK;

    *out = val_bool(false);
    if (val_is_null(x) || !container_of(arr, &t) || !elems_begin(&e, &t))
        return SL_OK;
    if (x->kind == VAL_BOOL) {
        xt.s = x->u.b ? "true" : "false";
        xt.len = strlen(xt.s);
    } else if ((st = fn_text_of(ctx, x, &xt)) != SL_OK) {
        return st;
    }
    while (!eq && st == SL_OK && elems_next(&e, &el))
        st = element_equals(ctx, &el, x, &xt, &eq);
    *out = val_bool(eq);
    return st;
}
