/* log: one line per event, logfmt, to stderr.
 *
 *   ts=2025-10-25T12:00:00.123Z level=info event=startup version=0.1.0 ...
 *
 * Every line is written with one write(2), so lines from different threads
 * never interleave. The level comes from SWOOSH_LOG_LEVEL (debug, info, warn,
 * error; default info) or sw_log_set_level(). Values are quoted only when
 * they need it (space, '=', '"', control bytes or empty).
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sw_log_level {
    SW_LOG_DEBUG,
    SW_LOG_INFO,
    SW_LOG_WARN,
    SW_LOG_ERROR,
    SW_LOG_OFF
} sw_log_level_t;

/* Parses "debug", "info", "warn"/"warning", "error", "off" (any case).
 * Returns false and leaves *out alone when unknown. */
bool sw_log_level_parse(const char *s, sw_log_level_t *out);
void sw_log_set_level(sw_log_level_t level);
/* True when a line at `level` would be written (to skip building values). */
bool sw_log_enabled(sw_log_level_t level);
/* Redirects lines to `fd` (default 2). Tests use it. */
void sw_log_set_fd(int fd);

/* Writes one event line: `event` then key/value pairs of strings, terminated
 * by a NULL key. A NULL value is written as an empty string. Example:
 *   sw_log(SW_LOG_INFO, "listening", "addr", "127.0.0.1", "port", "8080",
 *          NULL);
 * Lines longer than 4 KiB are truncated (and end with "…"). Any thread. */
void sw_log(sw_log_level_t level, const char *event, ...)
    __attribute__((sentinel));

/* Same, but the pairs are one printf-formatted string that the caller has
 * already made logfmt-safe (use sw_log_quote() for free text). */
void sw_logf(sw_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes `v` into out (size n, NUL-terminated, truncated) as a logfmt value:
 * bare when safe, else quoted with \" \\ \n \t and \xNN escapes. Returns out.
 */
const char *sw_log_quote(const char *v, char *out, size_t n);

#endif
