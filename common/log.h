/* common/log.h: readable one-line log messages on stderr, e.g.
 *   2026-11-26T21:40:00.123Z INFO  listening on 127.0.0.1:7600
 * Thread-safe (one write(2) per line). The level is set once at start-up. */
#ifndef SLUICE_COMMON_LOG_H
#define SLUICE_COMMON_LOG_H

#include "common/status.h"

enum sl_log_level { SL_LOG_DEBUG, SL_LOG_INFO, SL_LOG_WARN, SL_LOG_ERROR };

void sl_log_set_level(enum sl_log_level level);
void sl_log(enum sl_log_level level, const char *fmt, ...) SL_PRINTF(2, 3);

#define sl_debug(...) sl_log(SL_LOG_DEBUG, __VA_ARGS__)
#define sl_info(...)  sl_log(SL_LOG_INFO, __VA_ARGS__)
#define sl_warn(...)  sl_log(SL_LOG_WARN, __VA_ARGS__)
#define sl_error(...) sl_log(SL_LOG_ERROR, __VA_ARGS__)

#endif
