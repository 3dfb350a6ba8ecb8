/* log: logfmt event lines on stderr (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static atomic_int current_level = SW_LOG_INFO;
static atomic_int out_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error",
                                          "off"};

/* Level names follow the common logfmt vocabulary so operators can filter
 * with the usual tools. */
bool sw_log_level_parse(const char *s, sw_log_level_t *out)
{
    if (!s)
        return false;
    for (int i = 0; i <= SW_LOG_OFF; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (sw_log_level_t)i;
            return true;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = SW_LOG_WARN;
        return true;
    }
    return false;
}

/* The level is an atomic so any thread may change or test it. */
void sw_log_set_level(sw_log_level_t level)
{
    atomic_store(&current_level, (int)level);
}

/* Lets hot paths skip formatting when the line would be dropped. */
bool sw_log_enabled(sw_log_level_t level)
{
    return level != SW_LOG_OFF && (int)level >= atomic_load(&current_level);
}

/* Tests capture log lines through a pipe or file. */
void sw_log_set_fd(int fd)
{
    atomic_store(&out_fd, fd);
}

static bool needs_quote(const char *v)
{
    if (!*v)
        return true;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p == '=' || *p == '"' || *p == '\\' || *p == 0x7f)
            return true;
    return false;
}

/* Quoting keeps one event on one line whatever a client sent us. */
const char *sw_log_quote(const char *v, char *out, size_t n)
{
    size_t o = 0;
    if (n == 0)
        return out;
    if (!v)
        v = "";
    if (!needs_quote(v)) {
        snprintf(out, n, "%s", v);
        return out;
    }
#define PUT(c)                                                                 \
    do {                                                                       \
        if (o + 1 < n)                                                         \
            out[o++] = (c);                                                    \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (o + 6 >= n)
            break;
        if (*p == '"' || *p == '\\') {
            PUT('\\');
            PUT((char)*p);
        } else if (*p == '\n') {
            PUT('\\');
            PUT('n');
        } else if (*p == '\t') {
            PUT('\\');
            PUT('t');
        } else if (*p < 0x20 || *p == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            PUT('\\');
            PUT('x');
            PUT(hex[*p >> 4]);
            PUT(hex[*p & 15]);
        } else {
            PUT((char)*p);
        }
    }
    PUT('"');
#undef PUT
    out[o] = '\0';
    return out;
}

static size_t prefix(char *line, sw_log_level_t level, const char *event)
{
    struct timespec ts;
    struct tm tm;
    char ev[128];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, LINE_MAX_BYTES,
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s "
                     "event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
                     level_names[level], sw_log_quote(event, ev, sizeof(ev)));
    return n < 0 ? 0 : (size_t)n;
}

static void emit(char *line, size_t len)
{
    if (len >= LINE_MAX_BYTES - 1) {
        len = LINE_MAX_BYTES - 5;
        memcpy(line + len, "\xe2\x80\xa6", 3); /* "…" */
        len += 3;
    }
    line[len++] = '\n';
    const char *p = line;
    int fd = atomic_load(&out_fd);
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w <= 0)
            return; /* nowhere to report a failing stderr */
        p += w;
        len -= (size_t)w;
    }
}

/* One write(2) per event keeps concurrent lines whole (SPEC §8 operators
 * read these with grep/awk). */
void sw_log(sw_log_level_t level, const char *event, ...)
{
    if (!sw_log_enabled(level))
        return;
    char line[LINE_MAX_BYTES + 8];
    char val[1024];
    size_t len = prefix(line, level, event);
    va_list ap;
    va_start(ap, event);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        if (len >= LINE_MAX_BYTES - 1)
            continue;
        int n = snprintf(line + len, LINE_MAX_BYTES - len, " %s=%s", k,
                         sw_log_quote(v, val, sizeof(val)));
        if (n < 0)
            break;
        len += (size_t)n;
        if (len > LINE_MAX_BYTES - 1)
            len = LINE_MAX_BYTES - 1;
    }
    va_end(ap);
    emit(line, len);
}

/* For callers with numbers to format; the caller keeps values logfmt-safe. */
void sw_logf(sw_log_level_t level, const char *event, const char *fmt, ...)
{
    if (!sw_log_enabled(level))
        return;
    char line[LINE_MAX_BYTES + 8];
    size_t len = prefix(line, level, event);
    if (fmt && *fmt && len < LINE_MAX_BYTES - 2) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line + len, LINE_MAX_BYTES - len, fmt, ap);
        va_end(ap);
        if (n > 0)
            len += (size_t)n;
        if (len > LINE_MAX_BYTES - 1)
            len = LINE_MAX_BYTES - 1;
    }
    emit(line, len);
}
