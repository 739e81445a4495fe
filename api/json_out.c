/* api/json_out.c: JSON text straight into a buf; see json_out.h. */
#include "api/json_out.h"

#include "api/api_int.h"
#include "common/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp, min;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2; cp = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3; cp = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

enum sl_status jout_str(struct buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    enum sl_status st = buf_putc(b, '"');

    while (st == SL_OK && i < n) {
        unsigned c = p[i];
        size_t l = c >= 0x20 && c != '"' && c != '\\' ? utf8_len(p + i, n - i) : 0;
        if (l > 0) {            /* plain text: copied in runs */
            i += l;
            run += l;
            continue;
        }
        if (run > 0)
            st = buf_append(b, p + i - run, run);
        run = 0;
        if (st != SL_OK)
            break;
        switch (c) {
        case '"':  st = buf_puts(b, "\\\""); break;
        case '\\': st = buf_puts(b, "\\\\"); break;
        case '\n': st = buf_puts(b, "\\n"); break;
        case '\r': st = buf_puts(b, "\\r"); break;
        case '\t': st = buf_puts(b, "\\t"); break;
        default:
            st = c < 0x20 ? buf_printf(b, "\\u%04x", c) : buf_puts(b, "\\ufffd");
            break;
        }
        i++;
    }
    if (st == SL_OK && run > 0)
        st = buf_append(b, p + i - run, run);
    if (st == SL_OK)
        st = buf_putc(b, '"');
    return st;
}

enum sl_status jout_cstr(struct buf *b, const char *s)
{
    return jout_str(b, s, strlen(s));
}

enum sl_status jout_key(struct buf *b, const char *key)
{
    enum sl_status st = jout_cstr(b, key);
    return st == SL_OK ? buf_putc(b, ':') : st;
}

static size_t digits(const char *s, size_t i, size_t n)
{
    size_t j = i;
    while (j < n && s[j] >= '0' && s[j] <= '9')
        j++;
    return j - i;
}

bool jout_is_number(const char *s, size_t n)
{
    size_t i = 0, d;

    if (i < n && s[i] == '-')
        i++;
    d = digits(s, i, n);
    if (d == 0 || (d > 1 && s[i] == '0'))
        return false;
    i += d;
    if (i < n && s[i] == '.') {
        d = digits(s, ++i, n);
        if (d == 0)
            return false;
        i += d;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        d = digits(s, i, n);
        if (d == 0)
            return false;
        i += d;
    }
    return i == n;
}

enum sl_status jout_number_text(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    return jout_is_number(s, n) ? buf_append(b, s, n) : jout_str(b, s, n);
}

enum sl_status jout_double(struct buf *b, double d)
{
    char tmp[40];

    if (!isfinite(d))
        return buf_puts(b, "null");
    if (d > -9007199254740992.0 && d < 9007199254740992.0 &&
        d == (double)(long long)d)
        return buf_printf(b, "%lld", (long long)d);
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    return buf_puts(b, tmp);
}

void jout_reply(struct api_resp *resp, int status, struct buf *b,
                enum sl_status st)
{
    size_t len = 0;
    char *body;

    if (st == SL_TOO_LARGE) {
        buf_fini(b);
        apierr_replyf(resp, SL_TOO_LARGE,
                      "the answer is larger than this server sends at once; "
                      "ask for fewer rows (limit) or fewer fields");
        return;
    }
    if (st != SL_OK) {
        buf_fini(b);
        apierr_replyf(resp, st, "could not build the answer: %s",
                      sl_status_text(st));
        return;
    }
    body = buf_steal(b, &len);
    sl_free(resp->body);
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = body;
    resp->body_len = body ? len : 0;
}
