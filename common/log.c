/* common/log.c: timestamped log lines on stderr; see log.h. */
#include "common/log.h"

#include "common/clock.h"
#include "common/timeparse.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum sl_log_level min_level = SL_LOG_INFO;

void sl_log_set_level(enum sl_log_level level)
{
    min_level = level;
}

void sl_log(enum sl_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    char line[1024];
    size_t n;
    int k;
    va_list ap;

    if (level < min_level)
        return;
    n = sl_time_format_iso(sl_now_ms(), line, sizeof(line));
    k = snprintf(line + n, sizeof(line) - n, " %s ", names[level]);
    n += (size_t)k;
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (k < 0)
        k = 0;
    n += (size_t)k;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}
