/* api/names.c: validation of log group and stream names and retention
 * values, with messages that say what is allowed. */
#include "api/api_int.h"

#include <string.h>

static const int retention_values[] = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150,
                                       180, 365, 400, 545, 731, 1096, 1827,
                                       2192, 2557, 2922, 3288, 3653};

bool name_retention_ok(int64_t days)
{
    for (size_t i = 0; i < sizeof(retention_values) / sizeof(retention_values[0]); i++)
        if (retention_values[i] == days)
            return true;
    return false;
}

const char *name_retention_list(void)
{
    return "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, "
           "1096, 1827, 2192, 2557, 2922, 3288, 3653";
}

enum sl_status name_check_group(const char *name, struct sl_err *err)
{
    size_t n = strlen(name);
    if (n < 1 || n > 512)
        return sl_fail(err, SL_INVALID,
                       "log group name must be 1-512 characters; got %zu", n);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '/' ||
              c == '#' || c == '-'))
            return sl_fail(err, SL_INVALID,
                           "log group name must use only [A-Za-z0-9._/#-]; "
                           "character %zu is not allowed", i + 1);
    }
    return SL_OK;
}

/* Length of the UTF-8 sequence at s, 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k;
    unsigned min;
    unsigned cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        k = 2;
        min = 0x80;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        min = 0x800;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        min = 0x10000;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k;
}

enum sl_status name_check_stream(const char *name, struct sl_err *err)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t n = strlen(name);

    if (n < 1 || n > 512)
        return sl_fail(err, SL_INVALID,
                       "log stream name must be 1-512 characters; got %zu", n);
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(s + i, n - i);
        if (k == 0)
            return sl_fail(err, SL_INVALID,
                           "log stream name is not valid UTF-8 at byte %zu", i + 1);
        if (s[i] == ':' || s[i] == '*' || s[i] < 0x20 || s[i] == 0x7f)
            return sl_fail(err, SL_INVALID,
                           "log stream name must not contain ':', '*' or "
                           "control characters; character %zu is not allowed",
                           i + 1);
        i += k;
    }
    return SL_OK;
}
