/* server/http.h: the HTTP server: libmicrohttpd with a thread pool on
 * epoll, raw-URI routing into api/, request bodies capped, and writes that
 * wait for a group commit suspended instead of blocking a pool thread.
 * The only module that knows libmicrohttpd. */
#ifndef SLUICE_SERVER_HTTP_H
#define SLUICE_SERVER_HTTP_H

#include "api/api.h"
#include "common/status.h"
#include "server/config.h"

struct srv_http;

/* Binds cfg's address and starts serving; NULL with err on failure (e.g.
 * "cannot listen on 127.0.0.1:7600: Address already in use"). */
struct srv_http *srv_http_start(const struct cfg *c, struct api *api,
                                struct sl_err *err);
/* Stops accepting, waits (up to grace_ms) for requests in flight to be
 * answered, then stops the daemon and frees everything. */
void srv_http_stop(struct srv_http *h, int grace_ms);

#endif
