/* api/names.c: validation of log group and stream names, tags and
 * retention values, with messages that say what is allowed. */
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

/* Length of the UTF-8 sequence at s, 0 when invalid; its code point in
 * *out. */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *out)
{
    unsigned c = s[0];
    size_t k;
    unsigned min;
    unsigned cp;

    *out = c;
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
    *out = cp;
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
        unsigned cp;
        size_t k = utf8_next(s + i, n - i, &cp);
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

/* Whether code point cp may stand in a tag: CloudWatch allows
 * [\p{L}\p{Z}\p{N}_.:/=+\-@]; outside ASCII everything from U+00A0 on is
 * taken as a letter, digit or space (no Unicode tables here). */
static bool tag_char_ok(unsigned cp)
{
    if (cp >= 0xa0)
        return true;
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           (cp >= '0' && cp <= '9') || cp == ' ' || cp == '_' || cp == '.' ||
           cp == ':' || cp == '/' || cp == '=' || cp == '+' || cp == '-' ||
           cp == '@';
}

/* Checks one tag key or value of n bytes: min..max characters, each
 * allowed; what names the part in the message ("tag key 'k'"). */
static enum sl_status check_tag_text(const char *what, const char *key,
                                     const char *s, size_t n, size_t min,
                                     size_t max, struct sl_err *err)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t chars = 0;

    for (size_t i = 0; i < n; chars++) {
        unsigned cp;
        size_t k = utf8_next(u + i, n - i, &cp);
        if (k == 0)
            return sl_fail(err, SL_INVALID, "%s of tag '%.64s' is not valid UTF-8",
                           what, key);
        if (!tag_char_ok(cp))
            return sl_fail(err, SL_INVALID,
                           "%s of tag '%.64s' may hold only letters, digits, "
                           "spaces and _.:/=+-@; character %zu is not allowed",
                           what, key, chars + 1);
        i += k;
    }
    if (chars < min || chars > max)
        return sl_fail(err, SL_INVALID,
                       "%s of tag '%.64s' must be %zu-%zu characters; got %zu",
                       what, key, min, max, chars);
    return SL_OK;
}

enum sl_status name_check_tags(json_t *tags, struct sl_err *err)
{
    const char *k;
    json_t *v;

    if (!json_is_object(tags))
        return sl_fail(err, SL_INVALID, "tags must be an object of strings");
    if (json_object_size(tags) > 50)
        return sl_fail(err, SL_INVALID, "at most 50 tags; got %zu",
                       json_object_size(tags));
    json_object_foreach(tags, k, v) {
        if (!json_is_string(v))
            return sl_fail(err, SL_INVALID,
                           "tag '%.64s' must have a string value of 0-256 "
                           "characters", k);
        if (check_tag_text("the key", k, k, strlen(k), 1, 128, err) != SL_OK ||
            check_tag_text("the value", k, json_string_value(v),
                           json_string_length(v), 0, 256, err) != SL_OK)
            return err->code;
        if (strncmp(k, "aws:", 4) == 0)
            return sl_fail(err, SL_INVALID,
                           "tag keys starting with 'aws:' are reserved; got "
                           "'%.64s'", k);
    }
    return SL_OK;
}
