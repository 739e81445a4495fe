/* query/funcs_int.h: internals shared by the files of the scalar function
 * module (funcs.c dispatches; funcs_str.c, funcs_time.c, funcs_ip.c and
 * funcs_json.c implement). Not for use outside query/funcs*.c: the public
 * contract is query/funcs.h. Every function here borrows its arguments; a
 * result string points into an argument, into ctx->scratch or at static
 * text ("true"), never at the heap. */
#ifndef SLUICE_QUERY_FUNCS_INT_H
#define SLUICE_QUERY_FUNCS_INT_H

#include "query/funcs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed byte slice; s is NULL for an absent value. */
struct fn_text {
    const char *s;
    size_t len;
};

/* ---- funcs.c: helpers every category uses ----------------------------- */

/* The text of v: strings and JSON as they are (borrowed), numbers,
 * booleans and timestamps in their output form (copied into scratch).
 * t->s is NULL when v is null. SL_NOMEM when scratch is exhausted. */
enum sl_status fn_text_of(struct fn_ctx *ctx, const struct val *v,
                          struct fn_text *t) SL_MUST_CHECK;
/* n bytes (at least 1) from scratch, or NULL. */
char *fn_alloc(struct fn_ctx *ctx, size_t n);
/* Sets *out to the string s[0..len); SL_NOMEM when len does not fit a
 * value (over 4 GiB). */
enum sl_status fn_out_str(struct val *out, const char *s,
                          size_t len) SL_MUST_CHECK;
/* Decodes the UTF-8 sequence at s[i] (i < len) and returns its length in
 * bytes (1-4). A byte that does not start a valid sequence (bad lead,
 * truncated, overlong, surrogate, > U+10FFFF) counts alone, with *cp set
 * to -1 - byte so it never equals a real code point. */
size_t fn_utf8_next(const char *s, size_t len, size_t i, int32_t *cp);
/* Floor division (rounds toward minus infinity); b > 0. */
int64_t fn_floor_div(int64_t a, int64_t b);

/* ---- funcs_str.c ------------------------------------------------------ */

enum fn_trim_side { FN_TRIM_LEFT = 1, FN_TRIM_RIGHT = 2, FN_TRIM_BOTH = 3 };
enum fn_case { FN_CASE_UPPER, FN_CASE_LOWER };
enum fn_find { FN_FIND_ANYWHERE, FN_FIND_PREFIX, FN_FIND_SUFFIX };

/* isempty / isblank: null counts as empty. */
bool fn_str_isempty(const struct val *v);
bool fn_str_isblank(const struct val *v);
enum sl_status fn_str_concat(struct fn_ctx *ctx, const struct fn_args *a,
                             struct val *out) SL_MUST_CHECK;
/* chars is NULL for the one-argument form (ASCII whitespace). */
enum sl_status fn_str_trim(struct fn_ctx *ctx, const struct val *s,
                           const struct val *chars, enum fn_trim_side side,
                           struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_strlen(struct fn_ctx *ctx, const struct val *s,
                             struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_case(struct fn_ctx *ctx, const struct val *s,
                           enum fn_case c, struct val *out) SL_MUST_CHECK;
/* len is NULL for the two-argument form. */
enum sl_status fn_str_substr(struct fn_ctx *ctx, const struct val *s,
                             const struct val *start, const struct val *len,
                             struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_replace(struct fn_ctx *ctx, const struct val *s,
                              const struct val *find, const struct val *repl,
                              struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_find(struct fn_ctx *ctx, const struct val *s,
                           const struct val *needle, enum fn_find where,
                           struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_split(struct fn_ctx *ctx, const struct val *s,
                            const struct val *delim,
                            struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_urlencode(struct fn_ctx *ctx, const struct val *s,
                                struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_urldecode(struct fn_ctx *ctx, const struct val *s,
                                struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_b64encode(struct fn_ctx *ctx, const struct val *s,
                                struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_b64decode(struct fn_ctx *ctx, const struct val *s,
                                struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_hex_to_ascii(struct fn_ctx *ctx, const struct val *s,
                                   struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_hex_to_dec(struct fn_ctx *ctx, const struct val *s,
                                 struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_dec_to_hex(struct fn_ctx *ctx, const struct val *n,
                                 struct val *out) SL_MUST_CHECK;
/* code is the executor's compiled pcre2_code_8 *, or NULL: then pattern
 * (a string value) is compiled here, into scratch. */
enum sl_status fn_str_regex_replace(struct fn_ctx *ctx, const struct val *s,
                                    void *code, const struct val *pattern,
                                    const struct val *repl,
                                    struct val *out) SL_MUST_CHECK;
enum sl_status fn_str_message_size(struct fn_ctx *ctx, const struct val *s,
                                   struct val *out) SL_MUST_CHECK;

/* ---- funcs_time.c ----------------------------------------------------- */

/* parseDate(s, fmt[, tz]); tz is NULL for the two-argument form. */
enum sl_status fn_time_parse(struct fn_ctx *ctx, const struct val *s,
                             const struct val *fmt, const struct val *tz,
                             struct val *out) SL_MUST_CHECK;
/* formatDate(ts, fmt[, tz]); with strftime true a format containing '%'
 * is read as C strftime directives. */
enum sl_status fn_time_format(struct fn_ctx *ctx, const struct val *ts,
                              const struct val *fmt, const struct val *tz,
                              bool strftime_dialect,
                              struct val *out) SL_MUST_CHECK;

/* ---- funcs_ip.c ------------------------------------------------------- */

enum fn_ip_family { FN_IP_ANY, FN_IP_V4, FN_IP_V6 };
enum fn_ip_class { FN_IP_PRIVATE, FN_IP_PUBLIC, FN_IP_RESERVED };

bool fn_ip_valid(const struct val *v, enum fn_ip_family fam);
bool fn_ip_in_subnet(const struct val *ip, const struct val *cidr,
                     enum fn_ip_family fam);
bool fn_ip_is(const struct val *ip, enum fn_ip_class cls);
/* ipv4ToNumber: the 32-bit value of a dotted quad, else null. */
struct val fn_ip_v4_to_number(const struct val *ip);

/* ---- funcs_json.c ----------------------------------------------------- */

/* True when s[0..len), less surrounding whitespace, is one JSON object or
 * array; *start and *end bound it. */
bool fn_json_container(const char *s, size_t len, size_t *start,
                       size_t *end);
/* Writes s[0..len) as a quoted JSON string to dst (when dst is not NULL)
 * and returns its length; invalid UTF-8 bytes become U+FFFD. */
size_t fn_json_put_str(char *dst, const char *s, size_t len);
/* jsonParse: v itself when it is (or holds) a JSON object/array. */
struct val fn_json_parse(const struct val *v);
enum sl_status fn_json_stringify(struct fn_ctx *ctx, const struct val *v,
                                 struct val *out) SL_MUST_CHECK;
struct val fn_json_array_size(const struct val *v);
enum sl_status fn_json_array_contains(struct fn_ctx *ctx,
                                      const struct val *arr,
                                      const struct val *x,
                                      struct val *out) SL_MUST_CHECK;

#endif
