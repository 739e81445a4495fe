/* api/json_out.h: JSON text written straight into a buf, for answers that
 * are too big or must be too exact for a jansson tree: query results with
 * thousands of rows, whose numbers must read back exactly as the executor
 * printed them. Strings are escaped and kept valid UTF-8 (a byte that is
 * not becomes U+FFFD). Every function returns SL_OK or the buf's
 * SL_TOO_LARGE / SL_NOMEM. */
#ifndef SLUICE_API_JSON_OUT_H
#define SLUICE_API_JSON_OUT_H

#include "api/api.h"
#include "common/buf.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>

/* "s[0..n)" quoted and escaped. */
enum sl_status jout_str(struct buf *b, const char *s, size_t n) SL_MUST_CHECK;
/* Same for a NUL-terminated string. */
enum sl_status jout_cstr(struct buf *b, const char *s) SL_MUST_CHECK;
/* "key": */
enum sl_status jout_key(struct buf *b, const char *key) SL_MUST_CHECK;
/* s as a JSON number when it is one in JSON's grammar, else as a string. */
enum sl_status jout_number_text(struct buf *b, const char *s) SL_MUST_CHECK;
/* d in the shortest form that reads back exactly; whole numbers without a
 * fraction; null when not finite. */
enum sl_status jout_double(struct buf *b, double d) SL_MUST_CHECK;
/* Whether s[0..n) is a number in JSON's grammar. */
bool jout_is_number(const char *s, size_t n);

/* Hands b's bytes to resp as an application/json body with status. On a
 * failed build (st != SL_OK) answers the error instead. Empties b. */
void jout_reply(struct api_resp *resp, int status, struct buf *b,
                enum sl_status st);

#endif
