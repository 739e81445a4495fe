/* server/config.c: parsing `sluice serve` flags; see config.h. */
#include "server/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cfg_usage(void)
{
    return "usage: sluice serve [options]\n"
           "  --listen HOST:PORT        address to serve on (127.0.0.1:7600)\n"
           "  --data DIR                data directory (./sluice-data)\n"
           "  --threads N               HTTP worker threads (2 per core)\n"
           "  --max-body BYTES          largest request body (8388608)\n"
           "  --sync full|normal        fsync every commit (full) or rely on\n"
           "                            WAL checkpoints (normal) (full)\n"
           "  --max-batch-events N      events per ingest request (10000)\n"
           "  --max-batch-bytes BYTES   message bytes + 26/event per request (1048576)\n"
           "  --max-event-bytes BYTES   bytes of one message (262144)\n"
           "  --compact-interval MS     background compaction period, 0 = off (5000)\n"
           "  --account-id ID           12-digit account id in ARNs (000000000000)\n"
           "  --region NAME             region in ARNs (us-east-1)\n"
           "  --max-queries N           queries running at once; more get 429 (20)\n"
           "  --query-timeout SECONDS   longest query run, 0 = none (900: 15 min)\n"
           "  --query-mem BYTES         rows and aggregation state per query (268435456)\n"
           "  --log-level debug|info|warn|error (info)\n";
}

static enum sl_status parse_num(const char *flag, const char *v, long long lo,
                                long long hi, long long *out,
                                struct sl_err *err)
{
    char *end;
    long long n;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi)
        return sl_fail(err, SL_INVALID, "%s must be a number from %lld to %lld; got '%s'",
                       flag, lo, hi, v);
    *out = n;
    return SL_OK;
}

static enum sl_status parse_listen(struct cfg *c, const char *v,
                                   struct sl_err *err)
{
    const char *colon = strrchr(v, ':');
    long long port;
    size_t hl;

    if (colon == NULL)
        return sl_fail(err, SL_INVALID, "--listen must be HOST:PORT; got '%s'", v);
    hl = (size_t)(colon - v);
    if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']') { /* [::1]:7600 */
        v++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof(c->host))
        return sl_fail(err, SL_INVALID, "--listen must be HOST:PORT; got '%s'", v);
    if (parse_num("--listen port", colon + 1, 0, 65535, &port, err) != SL_OK)
        return SL_INVALID;
    memcpy(c->host, v, hl);
    c->host[hl] = '\0';
    c->port = (int)port;
    return SL_OK;
}

enum sl_status cfg_parse(struct cfg *c, int argc, char **argv,
                         struct sl_err *err)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    memset(c, 0, sizeof(*c));
    snprintf(c->host, sizeof(c->host), "127.0.0.1");
    c->port = 7600;
    c->data_dir = "./sluice-data";
    /* Two per core: measured with 32 clients posting 1-event batches on 2
     * cores, 2 threads gave 17.5k req/s, 4 gave 21.5k, 8 gave 15.9k. */
    c->threads = ncpu > 1 ? 2 * (int)ncpu : 2;
    c->max_body = 8u << 20;
    c->sync = DB_SYNC_FULL;
    c->compact_interval_ms = 5000;
    c->log_level = SL_LOG_INFO;
    api_config_defaults(&c->api);

    for (int i = 0; i < argc; i++) {
        const char *f = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        if (v == NULL)
            return sl_fail(err, SL_INVALID, "unknown or incomplete option '%s'\n%s",
                           f, cfg_usage());
        i++;
        if (strcmp(f, "--listen") == 0) {
            if (parse_listen(c, v, err) != SL_OK)
                return SL_INVALID;
        } else if (strcmp(f, "--data") == 0) {
            if (*v == '\0')
                return sl_fail(err, SL_INVALID, "--data needs a directory");
            c->data_dir = v;
        } else if (strcmp(f, "--threads") == 0) {
            if (parse_num(f, v, 1, 256, &n, err) != SL_OK)
                return SL_INVALID;
            c->threads = (int)n;
        } else if (strcmp(f, "--max-body") == 0) {
            if (parse_num(f, v, 1024, 1LL << 30, &n, err) != SL_OK)
                return SL_INVALID;
            c->max_body = (size_t)n;
        } else if (strcmp(f, "--sync") == 0) {
            if (strcmp(v, "full") == 0)
                c->sync = DB_SYNC_FULL;
            else if (strcmp(v, "normal") == 0)
                c->sync = DB_SYNC_NORMAL;
            else
                return sl_fail(err, SL_INVALID, "--sync must be full or normal; got '%s'", v);
        } else if (strcmp(f, "--max-batch-events") == 0) {
            if (parse_num(f, v, 1, 1000000, &n, err) != SL_OK)
                return SL_INVALID;
            c->api.max_batch_events = (size_t)n;
        } else if (strcmp(f, "--max-batch-bytes") == 0) {
            if (parse_num(f, v, 1, 1LL << 30, &n, err) != SL_OK)
                return SL_INVALID;
            c->api.max_batch_bytes = (size_t)n;
        } else if (strcmp(f, "--max-event-bytes") == 0) {
            if (parse_num(f, v, 1, 64LL << 20, &n, err) != SL_OK)
                return SL_INVALID;
            c->api.max_event_bytes = (size_t)n;
        } else if (strcmp(f, "--compact-interval") == 0) {
            if (parse_num(f, v, 0, 86400000, &n, err) != SL_OK)
                return SL_INVALID;
            c->compact_interval_ms = (int)n;
        } else if (strcmp(f, "--max-queries") == 0) {
            if (parse_num(f, v, 1, 10000, &n, err) != SL_OK)
                return SL_INVALID;
            c->api.max_queries = (int)n;
        } else if (strcmp(f, "--query-timeout") == 0) {
            if (parse_num(f, v, 0, 7 * 86400, &n, err) != SL_OK)
                return SL_INVALID;
            c->api.query_timeout_ms = n * 1000;
        } else if (strcmp(f, "--query-mem") == 0) {
            if (parse_num(f, v, 1 << 20, 1LL << 40, &n, err) != SL_OK)
                return SL_INVALID;
            c->api.query_mem = (size_t)n;
        } else if (strcmp(f, "--account-id") == 0) {
            if (strlen(v) != 12 || strspn(v, "0123456789") != 12)
                return sl_fail(err, SL_INVALID,
                               "--account-id must be 12 digits; got '%s'", v);
            snprintf(c->api.account_id, sizeof(c->api.account_id), "%s", v);
        } else if (strcmp(f, "--region") == 0) {
            size_t vl = strlen(v);
            if (vl == 0 || vl >= sizeof(c->api.region) ||
                strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != vl)
                return sl_fail(err, SL_INVALID,
                               "--region must be 1-63 characters of [a-z0-9-], "
                               "e.g. us-east-1; got '%s'", v);
            snprintf(c->api.region, sizeof(c->api.region), "%s", v);
        } else if (strcmp(f, "--log-level") == 0) {
            if (strcmp(v, "debug") == 0) c->log_level = SL_LOG_DEBUG;
            else if (strcmp(v, "info") == 0) c->log_level = SL_LOG_INFO;
            else if (strcmp(v, "warn") == 0) c->log_level = SL_LOG_WARN;
            else if (strcmp(v, "error") == 0) c->log_level = SL_LOG_ERROR;
            else
                return sl_fail(err, SL_INVALID, "--log-level must be debug, info, warn or error");
        } else {
            return sl_fail(err, SL_INVALID, "unknown option '%s'\n%s", f, cfg_usage());
        }
    }
    /* The raw body must hold a legal batch even when JSON escaping inflates it. */
    if (c->max_body < c->api.max_batch_bytes)
        return sl_fail(err, SL_INVALID,
                       "--max-body (%zu) must be at least --max-batch-bytes (%zu)",
                       c->max_body, c->api.max_batch_bytes);
    return SL_OK;
}
