/* api/reply.c: writing JSON answers into an api_resp. Bodies are owned
 * buffers that server/ hands to the HTTP library to free. */
#include "api/api_int.h"

#include "common/alloc.h"

#include <string.h>

void reply_json(struct api_resp *resp, int status, json_t *j)
{
    size_t n = j ? json_dumpb(j, NULL, 0, JSON_COMPACT) : 0;
    char *body = n ? sl_alloc(n + 1) : NULL;

    sl_free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->content_type = "application/json";
    if (body == NULL) {
        static const char oom[] =
            "{\"error\":\"ServiceUnavailableException\",\"message\":\"out of memory\"}";
        json_decref(j);
        resp->status = 503;
        resp->body = sl_strndup(oom, sizeof(oom) - 1);
        resp->body_len = resp->body ? sizeof(oom) - 1 : 0;
        resp->retry_after = 1;
        return;
    }
    json_dumpb(j, body, n, JSON_COMPACT);
    body[n] = '\0';
    json_decref(j);
    resp->status = status;
    resp->body = body;
    resp->body_len = n;
}

void reply_empty(struct api_resp *resp, int status)
{
    sl_free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->status = status;
    resp->content_type = "application/json";
}
