/* query/value.h: the one value type of query evaluation. A field of an
 * event, a literal, a function result and an aggregate are all a struct
 * val: absent (null), a number, a string, a boolean, a timestamp or a JSON
 * map/list kept as its text. Strings are borrowed (from the segment being
 * scanned, the query's arena or a row's scratch arena); whoever keeps a
 * value past its source's lifetime copies it with val_copy. Also: number
 * parsing, the output text of a value (GetQueryResults prints every value
 * as a string), equality and the documented natural sort order. Pure
 * functions, any thread. */
#ifndef SLUICE_QUERY_VALUE_H
#define SLUICE_QUERY_VALUE_H

#include "common/arena.h"
#include "common/buf.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum val_kind {
    VAL_NULL,   /* absent: a missing field, '-' in a flow log, null arithmetic */
    VAL_NUM,    /* a double; integers up to 2^53 are exact */
    VAL_STR,    /* UTF-8 bytes s[0..len), not NUL-terminated */
    VAL_BOOL,   /* printed 1 / 0 as CloudWatch does */
    VAL_TIME,   /* epoch milliseconds; printed YYYY-MM-DD HH:MM:SS.mmm UTC */
    VAL_JSON    /* a JSON object or array, its text s[0..len) */
};

struct val {
    enum val_kind kind;
    uint32_t len;          /* VAL_STR, VAL_JSON: bytes at s */
    union {
        double num;        /* VAL_NUM */
        bool b;            /* VAL_BOOL */
        int64_t ms;        /* VAL_TIME */
        const char *s;     /* VAL_STR, VAL_JSON */
    } u;
};

static inline struct val val_null(void)
{
    struct val v = {.kind = VAL_NULL};
    return v;
}
static inline struct val val_num(double d)
{
    struct val v = {.kind = VAL_NUM, .u.num = d};
    return v;
}
static inline struct val val_str(const char *s, size_t len)
{
    struct val v = {.kind = VAL_STR, .len = (uint32_t)len, .u.s = s};
    return v;
}
static inline struct val val_bool(bool b)
{
    struct val v = {.kind = VAL_BOOL, .u.b = b};
    return v;
}
static inline struct val val_time(int64_t ms)
{
    struct val v = {.kind = VAL_TIME, .u.ms = ms};
    return v;
}
static inline bool val_is_null(const struct val *v)
{
    return v->kind == VAL_NULL;
}

/* Parses s[0..len) as a whole decimal number (optional sign, digits,
 * fraction, exponent; no spaces, no hex, no inf/nan). True and *out set
 * when it is one. */
bool val_parse_num(const char *s, size_t len, double *out);

/* The value as a number: VAL_NUM itself, a string that val_parse_num
 * accepts, a boolean as 1/0, a timestamp as its epoch ms. False for null,
 * JSON and other strings. */
bool val_to_num(const struct val *v, double *out);

/* The value as epoch ms for the datetime functions: VAL_TIME, a number (ms),
 * a numeric string (ms) or an ISO 8601 / "YYYY-MM-DD HH:MM:SS.mmm" string. */
bool val_to_ms(const struct val *v, int64_t *out);

/* Truthiness for filter: a boolean, a non-zero number, a non-empty string
 * other than "false"/"0"; null is false. */
bool val_truthy(const struct val *v);

/* Appends the output text of v (nothing for null): numbers in the shortest
 * form that reads back exactly ("4249", "0.5", "1.0E21" never: plain
 * decimal up to 1e21, else %.17g), booleans 1/0, timestamps as
 * YYYY-MM-DD HH:MM:SS.mmm, strings and JSON as they are. */
enum sl_status val_format(const struct val *v, struct buf *out) SL_MUST_CHECK;

/* Formats epoch ms as YYYY-MM-DD HH:MM:SS.mmm (UTC) into out[24]
 * (23 characters and a NUL). */
void val_format_time(int64_t ms, char out[24]);

/* Equality as '=' and 'in' use it: when both sides read as numbers
 * (val_to_num), by value; else by output text. Null equals nothing. */
bool val_equal(const struct val *a, const struct val *b);

/* Ordering for < <= > >=: numeric when both read as numbers, else byte
 * order of the output text. Sets *cmp (<0, 0, >0); false when either side
 * is null (the comparison is then false). */
bool val_compare(const struct val *a, const struct val *b, int *cmp);

/* The documented natural sort (reference 4.3): non-numeric values before
 * numeric ones; numbers by value; other strings split into digit and
 * non-digit runs, non-digit runs by code point, digit runs by length then
 * value. Null sorts after everything. Returns <0, 0, >0. */
int val_natural_cmp(const struct val *a, const struct val *b);

/* Copies v's bytes (strings, JSON) into a so it outlives its source. */
enum sl_status val_copy(struct arena *a, const struct val *v,
                        struct val *out) SL_MUST_CHECK;

#endif
