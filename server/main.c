/* server/main.c: the sluice command: `sluice serve [flags]`, `--help`,
 * `--version`. Opens the store, starts HTTP, waits for SIGINT/SIGTERM and
 * shuts down in order: stop accepting, answer what is in flight, commit,
 * close the database. */
#include "api/api.h"
#include "common/log.h"
#include "server/config.h"
#include "server/http.h"
#include "storage/store.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "sluice " SLUICE_VERSION " - a self-hosted log store and query server\n"
    "\n"
    "usage: sluice serve [options]   run the server (sluice serve --help)\n"
    "       sluice --version\n"
    "       sluice --help\n";

static int serve(int argc, char **argv)
{
    struct sl_err err = {0};
    struct cfg c;
    struct store *store;
    struct api *api;
    struct srv_http *http;
    struct store_opts so;
    sigset_t sigs;
    int sig = 0;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(cfg_usage(), stdout);
            return 0;
        }
    }
    if (cfg_parse(&c, argc, argv, &err) != SL_OK) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        return 2;
    }
    sl_log_set_level(c.log_level);
    /* Every thread inherits the blocked set; only sigwait below sees them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    so = (struct store_opts){.dir = c.data_dir, .sync = c.sync,
                             .read_conns = c.threads * 2 + 2,
                             .compact_interval_ms = c.compact_interval_ms,
                             .compact_level = 4};
    store = store_open(&so, &err);
    if (store == NULL) {
        sl_error("%s", err.msg);
        return 1;
    }
    api = api_create(store, &c.api);
    if (api == NULL) {
        sl_error("out of memory");
        store_close(store);
        return 1;
    }
    http = srv_http_start(&c, api, &err);
    if (http == NULL) {
        sl_error("%s", err.msg);
        api_destroy(api);
        store_close(store);
        return 1;
    }
    sl_info("listening on %s:%d (data in %s, %d threads, sync %s)", c.host,
            c.port, c.data_dir, c.threads,
            c.sync == DB_SYNC_FULL ? "full" : "normal");
    sigwait(&sigs, &sig);
    sl_info("received %s: finishing requests in flight",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    api_shutdown(api);           /* queries end; their waiters are answered */
    api_streams_end(api);        /* live tails end */
    srv_http_stop(http, 30000);
    api_destroy(api);
    store_close(store);
    sl_info("stopped cleanly");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return serve(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        fputs("\n", stdout);
        fputs(cfg_usage(), stdout);
        return 0;
    }
    fputs(usage, stderr);
    if (argc >= 2)
        fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
    return 2;
}
