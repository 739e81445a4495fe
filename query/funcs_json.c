/* query/funcs_json.c: the JSON functions (jsonParse, jsonStringify,
 * jsonArraySize, jsonArrayContains) over JSON kept as text, with a small
 * RFC 8259 validator of its own: query/ does not link jansson, and a
 * VAL_JSON only needs to be known well-formed, never built as a tree.
 * See funcs_int.h for the contracts. */
#include "query/funcs_int.h"

#include <math.h>
#include <string.h>

/* Deeper nesting is refused rather than recursed into. */
#define JSON_MAX_DEPTH 256

/* A cursor over JSON text s[0..len). */
struct jscan {
    const char *s;
    size_t len;
    size_t i;
};

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct jscan *j)
{
    while (j->i < j->len && is_json_space(j->s[j->i]))
        j->i++;
}

static bool peek(const struct jscan *j, char c)
{
    return j->i < j->len && j->s[j->i] == c;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string at j->i (the opening quote): escapes checked, raw control
 * characters refused; other bytes are taken as they come. */
static bool scan_string(struct jscan *j)
{
    j->i++;
    while (j->i < j->len) {
        unsigned char c = (unsigned char)j->s[j->i++];
        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c != '\\')
            continue;
        if (j->i >= j->len)
            return false;
        c = (unsigned char)j->s[j->i++];
        if (c == 'u') {
            if (j->len - j->i < 4)
                return false;
            for (int k = 0; k < 4; k++)
                if (!is_hex(j->s[j->i++]))
                    return false;
        } else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
            return false;
        }
    }
    return false;
}

static bool scan_digits(struct jscan *j)
{
    size_t start = j->i;
    while (j->i < j->len && is_digit(j->s[j->i]))
        j->i++;
    return j->i > start;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(struct jscan *j)
{
    if (peek(j, '-'))
        j->i++;
    if (peek(j, '0'))
        j->i++;
    else if (!scan_digits(j))
        return false;
    if (peek(j, '.')) {
        j->i++;
        if (!scan_digits(j))
            return false;
    }
    if (peek(j, 'e') || peek(j, 'E')) {
        j->i++;
        if (peek(j, '+') || peek(j, '-'))
            j->i++;
        if (!scan_digits(j))
            return false;
    }
    return true;
}

static bool scan_word(struct jscan *j, const char *w)
{
    size_t n = strlen(w);
    if (j->len - j->i < n || memcmp(j->s + j->i, w, n) != 0)
        return false;
    j->i += n;
    return true;
}

static bool scan_value(struct jscan *j, int depth);

/* An object or array at j->i; members of an object are "key": value. */
static bool scan_container(struct jscan *j, int depth)
{
    char close = j->s[j->i] == '{' ? '}' : ']';
    bool object = close == '}';

    if (depth >= JSON_MAX_DEPTH)
        return false;
    j->i++;
    skip_ws(j);
    if (peek(j, close)) {
        j->i++;
        return true;
    }
    for (;;) {
        if (object) {
            if (!peek(j, '"') || !scan_string(j))
                return false;
            skip_ws(j);
            if (!peek(j, ':'))
                return false;
            j->i++;
        }
        if (!scan_value(j, depth + 1))
            return false;
        skip_ws(j);
        if (peek(j, close)) {
            j->i++;
            return true;
        }
        if (!peek(j, ','))
            return false;
        j->i++;
        skip_ws(j);
    }
}

/* One value after optional whitespace. */
static bool scan_value(struct jscan *j, int depth)
{
    skip_ws(j);
    if (j->i >= j->len)
        return false;
    switch (j->s[j->i]) {
    case '{':
    case '[': return scan_container(j, depth);
    case '"': return scan_string(j);
    case 't': return scan_word(j, "true");
    case 'f': return scan_word(j, "false");
    case 'n': return scan_word(j, "null");
    default: return scan_number(j);
    }
}

bool fn_json_container(const char *s, size_t len, size_t *start, size_t *end)
{
    struct jscan j = {s, len, 0};

    skip_ws(&j);
    if (!peek(&j, '{') && !peek(&j, '['))
        return false;
    *start = j.i;
    if (!scan_container(&j, 0))
        return false;
    *end = j.i;
    skip_ws(&j);
    return j.i == len;
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
        } else if (!is_json_space(c)) {
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

/* Steps through the elements of a validated array text. */
struct elems {
    struct jscan j;
};

static bool elems_begin(struct elems *e, const struct fn_text *arr)
{
    if (arr->len == 0 || arr->s[0] != '[')
        return false;
    e->j = (struct jscan){arr->s, arr->len, 1};
    return true;
}

/* The next element's text; false after the last. */
static bool elems_next(struct elems *e, struct fn_text *el)
{
    size_t start;

    skip_ws(&e->j);
    if (peek(&e->j, ','))
        e->j.i++;
    skip_ws(&e->j);
    if (e->j.i >= e->j.len || peek(&e->j, ']'))
        return false;
    start = e->j.i;
    if (!scan_value(&e->j, 1))
        return false;
    el->s = e->j.s + start;
    el->len = e->j.i - start;
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

static size_t put_utf8(char *dst, uint32_t c)
{
    if (c < 0x80) {
        dst[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        dst[0] = (char)(0xC0 | c >> 6);
        dst[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        dst[0] = (char)(0xE0 | c >> 12);
        dst[1] = (char)(0x80 | (c >> 6 & 0x3F));
        dst[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | c >> 18);
    dst[1] = (char)(0x80 | (c >> 12 & 0x3F));
    dst[2] = (char)(0x80 | (c >> 6 & 0x3F));
    dst[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static uint32_t hex4(const char *s)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v = v << 4 | (uint32_t)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* Decodes a validated JSON string token s[0..len) (quotes included) into
 * dst (room for len bytes); returns the decoded length. A lone surrogate
 * becomes U+FFFD. */
static size_t decode_string(const char *s, size_t len, char *dst)
{
    size_t n = 0, i = 1;

    while (i + 1 < len) {
        char c = s[i++];
        uint32_t u;
        if (c != '\\') {
            dst[n++] = c;
            continue;
        }
        c = s[i++];
        switch (c) {
        case 'b': dst[n++] = '\b'; continue;
        case 'f': dst[n++] = '\f'; continue;
        case 'n': dst[n++] = '\n'; continue;
        case 'r': dst[n++] = '\r'; continue;
        case 't': dst[n++] = '\t'; continue;
        case 'u': break;
        default: dst[n++] = c; continue;
        }
        u = hex4(s + i);
        i += 4;
        if (u >= 0xD800 && u <= 0xDBFF && i + 6 < len && s[i] == '\\' &&
            s[i + 1] == 'u') {
            uint32_t lo = hex4(s + i + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
        }
        if (u >= 0xD800 && u <= 0xDFFF)
            u = 0xFFFD;
        n += put_utf8(dst + n, u);
    }
    return n;
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
        if (p == NULL)
            return SL_NOMEM;
        *eq = same_bytes(p, decode_string(el->s, el->len, p), xt->s, xt->len);
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
