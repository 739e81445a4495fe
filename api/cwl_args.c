/* api/cwl_args.c: reading the members of a CloudWatch request object with
 * the checks botocore leaves to the server (lengths, ranges, enums, name
 * patterns). Messages follow AWS's "1 validation error detected: Value 'x'
 * at 'member' failed to satisfy constraint: ..." where AWS has one, and
 * say what to fix where it has none (wrong JSON types). */
#include "api/cwl_int.h"

#include <inttypes.h>
#include <string.h>

#define VALIDATION "1 validation error detected: "

/* The member, or NULL when absent or null. */
static json_t *member(const struct cwl_call *c, const char *key)
{
    json_t *v = c->body != NULL ? json_object_get(c->body, key) : NULL;
    return json_is_null(v) ? NULL : v;
}

bool cwl_has(const struct cwl_call *c, const char *key)
{
    return member(c, key) != NULL;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}

static enum sl_status wrong_type(struct cwl_call *c, const char *key,
                                 const char *want, const json_t *v)
{
    return sl_fail(&c->err, SL_BAD_JSON, "%s must be %s; got %s", key, want,
                   type_name(v));
}

static enum sl_status missing(struct cwl_call *c, const char *key)
{
    return sl_fail(&c->err, SL_INVALID,
                   VALIDATION "Value null at '%s' failed to satisfy "
                   "constraint: Member must not be null", key);
}

enum sl_status cwl_require(struct cwl_call *c, const char *key)
{
    return member(c, key) != NULL ? SL_OK : missing(c, key);
}

/* Characters (code points) of a UTF-8 string. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            k++;
    return k;
}

static enum sl_status check_length(struct cwl_call *c, const char *key,
                                   const char *s, size_t chars, size_t min,
                                   size_t max)
{
    if (chars < min)
        return sl_fail(&c->err, SL_INVALID,
                       VALIDATION "Value '%.64s' at '%s' failed to satisfy "
                       "constraint: Member must have length greater than or "
                       "equal to %zu", s, key, min);
    if (chars > max)
        return sl_fail(&c->err, SL_INVALID,
                       VALIDATION "Value '%.64s...' at '%s' failed to satisfy "
                       "constraint: Member must have length less than or "
                       "equal to %zu", s, key, max);
    return SL_OK;
}

enum sl_status cwl_str(struct cwl_call *c, const char *key, enum cwl_need need,
                       size_t min, size_t max, const char **out)
{
    json_t *v = member(c, key);

    *out = NULL;
    if (v == NULL)
        return need == CWL_REQUIRED ? missing(c, key) : SL_OK;
    if (!json_is_string(v))
        return wrong_type(c, key, "a string", v);
    if (check_length(c, key, json_string_value(v),
                     utf8_chars(json_string_value(v), json_string_length(v)),
                     min, max) != SL_OK)
        return c->err.code;
    if (strlen(json_string_value(v)) != json_string_length(v))
        return sl_fail(&c->err, SL_INVALID, "%s must not contain NUL characters",
                       key);
    *out = json_string_value(v);
    return SL_OK;
}

enum sl_status cwl_int(struct cwl_call *c, const char *key, int64_t lo,
                       int64_t hi, int64_t dflt, int64_t *out)
{
    json_t *v = member(c, key);
    int64_t n;

    *out = dflt;
    if (v == NULL)
        return SL_OK;
    if (!json_is_integer(v))
        return wrong_type(c, key, "an integer", v);
    n = json_integer_value(v);
    if (n < lo)
        return sl_fail(&c->err, SL_INVALID,
                       VALIDATION "Value '%" PRId64 "' at '%s' failed to "
                       "satisfy constraint: Member must have value greater "
                       "than or equal to %" PRId64, n, key, lo);
    if (n > hi)
        return sl_fail(&c->err, SL_INVALID,
                       VALIDATION "Value '%" PRId64 "' at '%s' failed to "
                       "satisfy constraint: Member must have value less "
                       "than or equal to %" PRId64, n, key, hi);
    *out = n;
    return SL_OK;
}

enum sl_status cwl_bool(struct cwl_call *c, const char *key, bool dflt,
                        bool *out)
{
    json_t *v = member(c, key);

    *out = dflt;
    if (v == NULL)
        return SL_OK;
    if (!json_is_boolean(v))
        return wrong_type(c, key, "true or false", v);
    *out = json_is_true(v);
    return SL_OK;
}

enum sl_status cwl_enum(struct cwl_call *c, const char *key,
                        const char *const *values, int dflt, int *out)
{
    const char *s;
    char set[256];
    size_t n = 0;

    *out = dflt;
    if (cwl_str(c, key, CWL_OPTIONAL, 0, SIZE_MAX, &s) != SL_OK)
        return c->err.code;
    if (s == NULL)
        return SL_OK;
    for (int i = 0; values[i] != NULL; i++) {
        if (strcmp(s, values[i]) == 0) {
            *out = i;
            return SL_OK;
        }
    }
    set[0] = '\0';
    for (int i = 0; values[i] != NULL && n < sizeof(set); i++)
        n += (size_t)snprintf(set + n, sizeof(set) - n, "%s%s",
                              i ? ", " : "", values[i]);
    return sl_fail(&c->err, SL_INVALID,
                   VALIDATION "Value '%.64s' at '%s' failed to satisfy "
                   "constraint: Member must satisfy enum value set: [%s]",
                   s, key, set);
}

enum sl_status cwl_str_list(struct cwl_call *c, const char *key,
                            enum cwl_need need, size_t min, size_t max,
                            size_t item_max, const char ***out, size_t *n)
{
    json_t *v = member(c, key), *item;
    size_t i;

    *out = NULL;
    *n = 0;
    if (v == NULL)
        return need == CWL_REQUIRED ? missing(c, key) : SL_OK;
    if (!json_is_array(v))
        return wrong_type(c, key, "a list of strings", v);
    if (json_array_size(v) < min || json_array_size(v) > max)
        return sl_fail(&c->err, SL_INVALID,
                       VALIDATION "Value at '%s' failed to satisfy "
                       "constraint: Member must have length %s %zu", key,
                       json_array_size(v) < min ? "greater than or equal to"
                                                : "less than or equal to",
                       json_array_size(v) < min ? min : max);
    *out = arena_alloc(c->arena, (json_array_size(v) + 1) * sizeof(**out));
    if (*out == NULL)
        return sl_fail(&c->err, SL_NOMEM, "out of memory");
    json_array_foreach(v, i, item) {
        const char *s;
        if (!json_is_string(item))
            return wrong_type(c, key, "a list of strings", item);
        s = json_string_value(item);
        if (check_length(c, key, s, utf8_chars(s, json_string_length(item)), 1,
                         item_max) != SL_OK)
            return c->err.code;
        (*out)[(*n)++] = s;
    }
    return SL_OK;
}

enum sl_status cwl_tags(struct cwl_call *c, const char *key,
                        enum cwl_need need, json_t **out)
{
    json_t *v = member(c, key);

    *out = NULL;
    if (v == NULL)
        return need == CWL_REQUIRED ? missing(c, key) : SL_OK;
    if (!json_is_object(v))
        return wrong_type(c, key, "a map of tag keys to values", v);
    if (json_object_size(v) == 0)
        return sl_fail(&c->err, SL_INVALID,
                       VALIDATION "Value '{}' at '%s' failed to satisfy "
                       "constraint: Member must have length greater than or "
                       "equal to 1", key);
    if (name_check_tags(v, &c->err) != SL_OK)
        return c->err.code;
    *out = v;
    return SL_OK;
}

enum sl_status cwl_group_name(struct cwl_call *c, const char **out)
{
    if (cwl_str(c, "logGroupName", CWL_REQUIRED, 1, CAT_NAME_MAX, out) != SL_OK)
        return c->err.code;
    return name_check_group(*out, &c->err);
}

enum sl_status cwl_group_ref(struct cwl_call *c, const char **out)
{
    const char *id;

    if (cwl_has(c, "logGroupName") && cwl_has(c, "logGroupIdentifier"))
        return sl_fail(&c->err, SL_VALIDATION,
                       "LogGroup name and LogGroup ARN are mutually exclusive "
                       "parameters.");
    if (!cwl_has(c, "logGroupIdentifier")) {
        if (!cwl_has(c, "logGroupName"))
            return sl_fail(&c->err, SL_INVALID,
                           "either logGroupName or logGroupIdentifier (a "
                           "name or an ARN) is required");
        return cwl_group_name(c, out);
    }
    if (cwl_str(c, "logGroupIdentifier", CWL_REQUIRED, 1, 2048, &id) != SL_OK)
        return c->err.code;
    if (strncmp(id, "arn:", 4) == 0)
        return cwl_parse_group_arn(c, "logGroupIdentifier", id, out);
    *out = id;
    return name_check_group(id, &c->err);
}

enum sl_status cwl_stream_name(struct cwl_call *c, const char *key,
                               const char **out)
{
    if (cwl_str(c, key, CWL_REQUIRED, 1, CAT_NAME_MAX, out) != SL_OK)
        return c->err.code;
    return name_check_stream(*out, &c->err);
}
