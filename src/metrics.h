/* metrics: the Prometheus text exposition of GET /metrics (SPEC §6).
 *
 * The executor counts transitions, rejections, batch sizes and commit (fsync)
 * latency in sw_exec_stats_t; this module adds what the HTTP layer sees
 * (request latency per route, responses per status, errors the HTTP layer
 * answers itself) and renders both in the text format 0.0.4 with # HELP and
 * # TYPE lines. Counters are relaxed atomics: no lock on the request path.
 */
#ifndef SW_METRICS_H
#define SW_METRICS_H

#include "buf.h"
#include "err.h"

#include <stdint.h>

struct sw_exec_stats;
typedef struct sw_metrics sw_metrics_t;

/* Request latency bucket bounds (seconds), ascending; +Inf is implicit. */
#define SW_METRICS_LAT_BUCKETS 14
#define SW_METRICS_MAX_ROUTES  48

/* Caller owns; free with sw_metrics_free(). */
sw_metrics_t *sw_metrics_new(void);
void sw_metrics_free(sw_metrics_t *m);

/* Registers a route label ("POST /transition") and returns its slot; slot 0
 * is "unmatched" (404s and garbage). Not thread-safe: call at start-up. The
 * label must be a static string. Returns 0 when the table is full. */
unsigned sw_metrics_route(sw_metrics_t *m, const char *label);

/* Records one finished request. Any thread. */
void sw_metrics_observe_request(sw_metrics_t *m, unsigned route, int status,
                                uint64_t nanoseconds);
/* Counts an error the HTTP layer answered itself (not via the executor). */
void sw_metrics_count_rejection(sw_metrics_t *m, sw_code_t code);

/* Appends the whole exposition: executor stats (nullable), HTTP metrics,
 * and the gauges index/queue depth from `st`. */
void sw_metrics_render(sw_metrics_t *m, const struct sw_exec_stats *st,
                       sw_buf_t *out);

#endif
