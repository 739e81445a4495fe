/* api/errors.c: the one table from status codes to HTTP statuses and error
 * names, and the error answer {"error": name, "message": text}. */
#include "api/api_int.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    int http;
    const char *name;
} error_table[SL_STATUS_COUNT] = {
    [SL_OK] = {200, "OK"},
    [SL_INVALID] = {400, "InvalidParameterException"},
    [SL_BAD_JSON] = {400, "SerializationException"},
    [SL_NOT_FOUND] = {404, "ResourceNotFoundException"},
    [SL_EXISTS] = {409, "ResourceAlreadyExistsException"},
    [SL_TOO_LARGE] = {413, "PayloadTooLargeException"},
    [SL_UNSUPPORTED_MEDIA] = {415, "UnsupportedMediaTypeException"},
    [SL_METHOD] = {405, "MethodNotAllowedException"},
    [SL_BUSY] = {503, "ServiceUnavailableException"},
    [SL_UNAVAILABLE] = {503, "ServiceUnavailableException"},
    [SL_LIMIT] = {429, "LimitExceededException"},
    [SL_MALFORMED_QUERY] = {400, "MalformedQueryException"},
    [SL_TIMEOUT] = {408, "TimeoutException"},
    [SL_CANCELLED] = {409, "CancelledException"},
    [SL_CORRUPT] = {500, "InternalFailure"},
    [SL_IO] = {503, "ServiceUnavailableException"},
    [SL_NOMEM] = {503, "ServiceUnavailableException"},
    [SL_INTERNAL] = {500, "InternalFailure"},
};

int apierr_http_status(enum sl_status code)
{
    if ((unsigned)code >= SL_STATUS_COUNT || error_table[code].http == 0)
        return 500;
    return error_table[code].http;
}

const char *apierr_name(enum sl_status code)
{
    if ((unsigned)code >= SL_STATUS_COUNT || error_table[code].name == NULL)
        return "InternalFailure";
    return error_table[code].name;
}

void apierr_reply(struct api_resp *resp, const struct sl_err *err)
{
    enum sl_status code = err->code == SL_OK ? SL_INTERNAL : err->code;
    json_t *j = json_object();
    json_object_set_new(j, "error", json_string(apierr_name(code)));
    json_object_set_new(j, "message",
                        json_string(err->msg[0] ? err->msg : sl_status_text(code)));
    reply_json(resp, apierr_http_status(code), j);
    if (code == SL_BUSY || code == SL_UNAVAILABLE || code == SL_LIMIT ||
        code == SL_NOMEM)
        resp->retry_after = 1;
}

void apierr_replyf(struct api_resp *resp, enum sl_status code,
                   const char *fmt, ...)
{
    struct sl_err err = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    va_end(ap);
    apierr_reply(resp, &err);
}
