/* api/errors.c: the one table from status codes to error names and HTTP
 * statuses, for both surfaces: the native REST answer {"error": name,
 * "message": text} and the CloudWatch JSON protocol's {"__type": name,
 * "message": text}. The two differ only in the status: AWS answers every
 * modeled client error with 400 (reference 1.3) and keeps 5xx for faults,
 * where the native API uses the specific 4xx codes. */
#include "api/api_int.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    int http;            /* native REST status */
    int aws;             /* CloudWatch JSON protocol status */
    const char *name;    /* error name (AWS __type) */
} error_table[SL_STATUS_COUNT] = {
    [SL_OK] = {200, 200, "OK"},
    [SL_INVALID] = {400, 400, "InvalidParameterException"},
    [SL_BAD_JSON] = {400, 400, "SerializationException"},
    [SL_NOT_FOUND] = {404, 400, "ResourceNotFoundException"},
    [SL_EXISTS] = {409, 400, "ResourceAlreadyExistsException"},
    [SL_TOO_LARGE] = {413, 413, "PayloadTooLargeException"},
    [SL_UNSUPPORTED_MEDIA] = {415, 415, "UnsupportedMediaTypeException"},
    [SL_METHOD] = {405, 405, "MethodNotAllowedException"},
    [SL_BUSY] = {503, 503, "ServiceUnavailableException"},
    [SL_UNAVAILABLE] = {503, 503, "ServiceUnavailableException"},
    [SL_LIMIT] = {429, 400, "LimitExceededException"},
    [SL_MALFORMED_QUERY] = {400, 400, "MalformedQueryException"},
    [SL_UNKNOWN_OP] = {404, 400, "UnknownOperationException"},
    [SL_VALIDATION] = {400, 400, "ValidationException"},
    [SL_TOO_MANY_TAGS] = {400, 400, "TooManyTagsException"},
    [SL_TIMEOUT] = {408, 408, "TimeoutException"},
    [SL_CANCELLED] = {409, 400, "CancelledException"},
    [SL_CORRUPT] = {500, 500, "InternalFailure"},
    [SL_IO] = {503, 503, "ServiceUnavailableException"},
    [SL_NOMEM] = {503, 503, "ServiceUnavailableException"},
    [SL_INTERNAL] = {500, 500, "InternalFailure"},
};

int apierr_http_status(enum sl_status code)
{
    if ((unsigned)code >= SL_STATUS_COUNT || error_table[code].http == 0)
        return 500;
    return error_table[code].http;
}

int apierr_aws_status(enum sl_status code)
{
    if ((unsigned)code >= SL_STATUS_COUNT || error_table[code].aws == 0)
        return 500;
    return error_table[code].aws;
}

const char *apierr_name(enum sl_status code)
{
    if ((unsigned)code >= SL_STATUS_COUNT || error_table[code].name == NULL)
        return "InternalFailure";
    return error_table[code].name;
}

/* Statuses a client should retry after a pause. */
static bool is_retryable(enum sl_status code)
{
    return code == SL_BUSY || code == SL_UNAVAILABLE || code == SL_LIMIT ||
           code == SL_NOMEM;
}

/* The message as a JSON string. A message that quotes client input cut
 * at a byte limit may end inside a UTF-8 sequence: then every byte
 * outside ASCII becomes '?', so the message is never lost. */
static json_t *message_json(enum sl_status code, const struct sl_err *err)
{
    char safe[sizeof(err->msg)];
    json_t *j;

    if (err->msg[0] == '\0')
        return json_string(sl_status_text(code));
    j = json_string(err->msg);
    if (j != NULL)
        return j;
    for (size_t i = 0; i < sizeof(safe); i++) {
        unsigned char c = (unsigned char)err->msg[i];
        safe[i] = c >= 0x80 ? '?' : (char)c;
        if (c == 0)
            break;
    }
    safe[sizeof(safe) - 1] = '\0';
    return json_string(safe);
}

void apierr_reply(struct api_resp *resp, const struct sl_err *err)
{
    enum sl_status code = err->code == SL_OK ? SL_INTERNAL : err->code;
    json_t *j = json_object();
    json_object_set_new(j, "error", json_string(apierr_name(code)));
    json_object_set_new(j, "message", message_json(code, err));
    reply_json(resp, apierr_http_status(code), j);
    if (is_retryable(code))
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

void apierr_reply_aws(struct api_resp *resp, const struct sl_err *err,
                      json_t *extra)
{
    enum sl_status code = err->code == SL_OK ? SL_INTERNAL : err->code;
    json_t *j = extra != NULL ? extra : json_object();
    json_object_set_new(j, "__type", json_string(apierr_name(code)));
    json_object_set_new(j, "message", message_json(code, err));
    reply_json(resp, apierr_aws_status(code), j);
    resp->content_type = API_AWS_JSON;
    if (is_retryable(code) && code != SL_LIMIT)
        resp->retry_after = 1;
}
