/* server/config.h: the command line of `sluice serve` parsed into one
 * struct, with the embedded defaults (127.0.0.1:7600, ./sluice-data). */
#ifndef SLUICE_SERVER_CONFIG_H
#define SLUICE_SERVER_CONFIG_H

#include "api/api.h"
#include "common/log.h"
#include "storage/store.h"

#include <stddef.h>

struct cfg {
    char host[256];            /* listen address */
    int port;
    const char *data_dir;
    int threads;               /* HTTP worker threads */
    size_t max_body;           /* raw HTTP body cap */
    enum db_sync sync;
    int compact_interval_ms;
    enum sl_log_level log_level;
    struct api_config api;     /* ingest limits, account id and region */
};

/* Fills defaults, then applies argv[0..argc) (the words after "serve").
 * Returns SL_OK, or SL_INVALID with a message naming the bad flag. */
enum sl_status cfg_parse(struct cfg *c, int argc, char **argv,
                         struct sl_err *err) SL_MUST_CHECK;
/* The usage text of `sluice serve`. */
const char *cfg_usage(void);

#endif
