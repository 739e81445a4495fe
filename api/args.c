/* api/args.c: reading request arguments: percent-decoding of raw paths and
 * query strings, typed query parameters, JSON bodies. Every failure says
 * which parameter and what is accepted. */
#include "api/api_int.h"

#include "common/clock.h"
#include "common/hex.h"
#include "common/timeparse.h"

#include <string.h>

char *args_unescape(struct arena *a, const char *s, size_t len,
                    bool plus_is_space)
{
    char *out = arena_alloc(a, len + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return NULL;
            hi = sl_hex_digit(s[i + 1]);
            lo = sl_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return NULL;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

const char *args_get(struct api_req *req, const char *name, bool *bad)
{
    const char *p = req->query;
    size_t nlen = strlen(name);

    *bad = false;
    while (p != NULL && *p != '\0') {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        if ((size_t)(kend - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : end;
            char *out = args_unescape(req->arena, v, (size_t)(end - v), true);
            if (out == NULL)
                *bad = true;
            return out;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

enum sl_status args_int(struct api_req *req, const char *name, int64_t lo,
                        int64_t hi, int64_t dflt, int64_t *out,
                        struct sl_err *err)
{
    bool bad;
    const char *v = args_get(req, name, &bad);
    int64_t n = 0;
    size_t i = 0;

    if (v == NULL && !bad) {
        *out = dflt;
        return SL_OK;
    }
    if (v != NULL && v[0] == '-')
        i = 1;
    if (v == NULL || v[i] == '\0')
        goto fail;
    for (; v[i] != '\0'; i++) {
        if (v[i] < '0' || v[i] > '9' || n > (INT64_MAX - 9) / 10)
            goto fail;
        n = n * 10 + (v[i] - '0');
    }
    if (v[0] == '-')
        n = -n;
    if (n < lo || n > hi)
        goto fail;
    *out = n;
    return SL_OK;
fail:
    return sl_fail(err, SL_INVALID, "%s must be an integer from %lld to %lld",
                   name, (long long)lo, (long long)hi);
}

enum sl_status args_time(struct api_req *req, const char *name, int64_t dflt,
                         int64_t *out, struct sl_err *err)
{
    bool bad;
    const char *v = args_get(req, name, &bad);
    struct sl_err terr = {0};

    if (v == NULL && !bad) {
        *out = dflt;
        return SL_OK;
    }
    if (v == NULL || sl_time_parse(v, strlen(v), sl_now_ms(), out, &terr) != SL_OK)
        return sl_fail(err, SL_INVALID, "%s: %s", name,
                       terr.msg[0] ? terr.msg : "bad percent-encoding");
    return SL_OK;
}

enum sl_status args_bool(struct api_req *req, const char *name, bool dflt,
                         bool *out, struct sl_err *err)
{
    bool bad;
    const char *v = args_get(req, name, &bad);

    if (v == NULL && !bad) {
        *out = dflt;
        return SL_OK;
    }
    if (v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || *v == '\0')) {
        *out = true;
        return SL_OK;
    }
    if (v != NULL && (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)) {
        *out = false;
        return SL_OK;
    }
    return sl_fail(err, SL_INVALID, "%s must be true or false", name);
}

enum sl_status args_json_body(struct api_req *req, json_t **out,
                              struct sl_err *err)
{
    json_error_t jerr;
    json_t *j;

    if (req->body_len == 0)
        return sl_fail(err, SL_BAD_JSON, "the request body must be a JSON object");
    j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL)
        return sl_fail(err, SL_BAD_JSON,
                       "the body is not valid JSON: %s at line %d column %d",
                       jerr.text, jerr.line, jerr.column);
    if (!json_is_object(j)) {
        json_decref(j);
        return sl_fail(err, SL_BAD_JSON, "the request body must be a JSON object");
    }
    *out = j;
    return SL_OK;
}
