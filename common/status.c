/* common/status.c: names of the status list and the first-failure-wins
 * error recorder. */
#include "common/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
#define SL_STATUS_NAME(name, text) #name,
    SL_STATUS_LIST(SL_STATUS_NAME)
#undef SL_STATUS_NAME
};

static const char *const status_texts[] = {
#define SL_STATUS_TEXT(name, text) text,
    SL_STATUS_LIST(SL_STATUS_TEXT)
#undef SL_STATUS_TEXT
};

const char *sl_status_name(enum sl_status st)
{
    if ((unsigned)st >= SL_STATUS_COUNT)
        return "SL_UNKNOWN";
    return status_names[st];
}

const char *sl_status_text(enum sl_status st)
{
    if ((unsigned)st >= SL_STATUS_COUNT)
        return "unknown status";
    return status_texts[st];
}

enum sl_status sl_fail(struct sl_err *err, enum sl_status code,
                       const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->code != SL_OK)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void sl_err_clear(struct sl_err *err)
{
    memset(err, 0, sizeof(*err));
}
