/* common/status.h: the one list of outcomes every layer returns, and the
 * error record that carries the details of the first failure.
 * The list is an X-macro so the enum and the names come from one place;
 * api/errors.c maps each status to an HTTP code and an error type. */
#ifndef SLUICE_COMMON_STATUS_H
#define SLUICE_COMMON_STATUS_H

#include <stdbool.h>

#define SL_MUST_CHECK __attribute__((warn_unused_result))
#define SL_PRINTF(f, a) __attribute__((format(printf, f, a)))

/*        name              short name used in logs */
#define SL_STATUS_LIST(X)                                   \
    X(SL_OK,                "ok")                            \
    X(SL_INVALID,           "invalid parameter")             \
    X(SL_BAD_JSON,          "malformed body")                \
    X(SL_NOT_FOUND,         "not found")                     \
    X(SL_EXISTS,            "already exists")                \
    X(SL_TOO_LARGE,         "too large")                     \
    X(SL_UNSUPPORTED_MEDIA, "unsupported media type")        \
    X(SL_METHOD,            "method not allowed")            \
    X(SL_BUSY,              "busy, retry later")             \
    X(SL_UNAVAILABLE,       "service unavailable")           \
    X(SL_LIMIT,             "limit exceeded")                \
    X(SL_MALFORMED_QUERY,   "malformed query")               \
    X(SL_UNKNOWN_OP,        "unknown operation")             \
    X(SL_VALIDATION,        "validation failed")             \
    X(SL_TOO_MANY_TAGS,     "too many tags")                 \
    X(SL_TIMEOUT,           "timed out")                     \
    X(SL_CANCELLED,         "cancelled")                     \
    X(SL_CORRUPT,           "corrupt data")                  \
    X(SL_IO,                "i/o error")                     \
    X(SL_NOMEM,             "out of memory")                 \
    X(SL_INTERNAL,          "internal error")

enum sl_status {
#define SL_STATUS_ENUM(name, text) name,
    SL_STATUS_LIST(SL_STATUS_ENUM)
#undef SL_STATUS_ENUM
    SL_STATUS_COUNT
};

/* Details of a failure. The first failure fills it; later ones leave it. */
struct sl_err {
    enum sl_status code;  /* SL_OK while nothing failed */
    int line;             /* source line (query errors) or __LINE__ (corruption) */
    int col;              /* column for query errors, else 0 */
    char msg[256];        /* what went wrong and what to fix */
};

/* The enum's name, e.g. "SL_NOT_FOUND". */
const char *sl_status_name(enum sl_status st);
/* A short human phrase, e.g. "not found". */
const char *sl_status_text(enum sl_status st);

/* Records a failure in err (if err is non-NULL and still clear) and returns
 * code, so callers can write `return sl_fail(err, SL_INVALID, "...")`. */
enum sl_status sl_fail(struct sl_err *err, enum sl_status code,
                       const char *fmt, ...) SL_PRINTF(3, 4);
/* Clears err for reuse. */
void sl_err_clear(struct sl_err *err);

#endif
