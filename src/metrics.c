/* metrics: Prometheus text exposition (see metrics.h). */
#include "metrics.h"

#include "catalog.h"
#include "executor.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const double lat_bounds[SW_METRICS_LAT_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   5.0};

#define MIN_STATUS 100
#define N_STATUS   500 /* 100..599 */

typedef struct route_hist {
    const char *label;
    atomic_uint_fast64_t buckets[SW_METRICS_LAT_BUCKETS + 1]; /* per bucket,
                                                                 last = +Inf */
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_ns;
} route_hist_t;

struct sw_metrics {
    route_hist_t routes[SW_METRICS_MAX_ROUTES];
    unsigned n_routes;
    atomic_uint_fast64_t status[N_STATUS];
    atomic_uint_fast64_t rejections[SW_C__COUNT];
};

/* One allocation per server; slot 0 collects unmatched requests. */
sw_metrics_t *sw_metrics_new(void)
{
    sw_metrics_t *m = sw_xcalloc(1, sizeof(*m));
    m->routes[0].label = "unmatched";
    m->n_routes = 1;
    return m;
}

/* Frees the counters; NULL is a no-op. */
void sw_metrics_free(sw_metrics_t *m)
{
    free(m);
}

/* Route labels are registered once so the request path only indexes. */
unsigned sw_metrics_route(sw_metrics_t *m, const char *label)
{
    for (unsigned i = 0; i < m->n_routes; i++)
        if (strcmp(m->routes[i].label, label) == 0)
            return i;
    if (m->n_routes >= SW_METRICS_MAX_ROUTES)
        return 0;
    m->routes[m->n_routes].label = label;
    return m->n_routes++;
}

/* Relaxed atomics: counts may be momentarily inconsistent with each other
 * while a scrape runs, which Prometheus tolerates. */
void sw_metrics_observe_request(sw_metrics_t *m, unsigned route, int status,
                                uint64_t ns)
{
    if (route >= m->n_routes)
        route = 0;
    route_hist_t *h = &m->routes[route];
    unsigned b = 0;
    while (b < SW_METRICS_LAT_BUCKETS && (double)ns / 1e9 > lat_bounds[b])
        b++;
    atomic_fetch_add_explicit(&h->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
    if (status >= MIN_STATUS && status < MIN_STATUS + N_STATUS)
        atomic_fetch_add_explicit(&m->status[status - MIN_STATUS], 1,
                                  memory_order_relaxed);
}

/* Errors answered before the executor sees the request (parse, auth, route,
 * limits) are counted here so swoosh_rejections_total covers them. */
void sw_metrics_count_rejection(sw_metrics_t *m, sw_code_t code)
{
    if ((unsigned)code < SW_C__COUNT)
        atomic_fetch_add_explicit(&m->rejections[code], 1,
                                  memory_order_relaxed);
}

static uint64_t ld(atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void header(sw_buf_t *out, const char *name, const char *type,
                   const char *help)
{
    sw_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void exec_hist(sw_buf_t *out, const char *name, const char *help,
                      const double *bounds, const uint64_t *cum, uint64_t count,
                      double sum)
{
    header(out, name, "histogram", help);
    for (unsigned i = 0; i < SW_HIST_BUCKETS; i++) {
        if (i > 0 && bounds[i] <= bounds[i - 1])
            break; /* unused tail of the fixed-size bounds array */
        sw_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i],
                      (unsigned long long)cum[i]);
    }
    sw_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                  (unsigned long long)count);
    sw_buf_printf(out, "%s_sum %.9g\n%s_count %llu\n", name, sum, name,
                  (unsigned long long)count);
}

static void render_exec(const sw_exec_stats_t *st, sw_metrics_t *m,
                        sw_buf_t *out)
{
    size_t n = 0;
    const sw_catalog_entry_t *rows = sw_catalog_all(&n);
    header(out, "swoosh_transitions_total", "counter",
           "Proposals evaluated by the executor, by transition and outcome.");
    for (size_t i = 0; i < n; i++)
        for (int o = 0; o < SW_OUT__COUNT; o++)
            sw_buf_printf(out,
                          "swoosh_transitions_total{transition=\"%s\","
                          "outcome=\"%s\"} %llu\n",
                          rows[i].name, sw_outcome_name((sw_outcome_t)o),
                          (unsigned long long)st->by_transition_outcome[i][o]);
    header(out, "swoosh_rejections_total", "counter",
           "Rejected requests by error code (executor and HTTP layer).");
    for (unsigned c = 1; c < SW_C__COUNT; c++)
        sw_buf_printf(out, "swoosh_rejections_total{code=\"%s\"} %llu\n",
                      sw_code_name((sw_code_t)c),
                      (unsigned long long)(st->rejections_by_code[c] +
                                           ld(&m->rejections[c])));
    header(out, "swoosh_duplicates_total", "counter",
           "Proposals answered as idempotent duplicates.");
    sw_buf_printf(out, "swoosh_duplicates_total %llu\n",
                  (unsigned long long)st->duplicates);
    exec_hist(out, "swoosh_batch_size", "Proposals per executor batch.",
              st->batch_size_bounds, st->batch_size_buckets, st->batches,
              (double)st->batch_size_sum);
    exec_hist(out, "swoosh_commit_duration_seconds",
              "WAL commit latency, one fsync per batch (group commit).",
              st->commit_seconds_bounds, st->commit_seconds_buckets,
              st->commits, st->commit_seconds_sum);
    header(out, "swoosh_snapshots_written_total", "counter",
           "Snapshots written since start.");
    sw_buf_printf(out, "swoosh_snapshots_written_total %llu\n",
                  (unsigned long long)st->snapshots_written);
    header(out, "swoosh_snapshots_failed_total", "counter",
           "Snapshots that could not be written since start (logged and "
           "skipped; the log is complete without them).");
    sw_buf_printf(out, "swoosh_snapshots_failed_total %llu\n",
                  (unsigned long long)st->snapshots_failed);
    header(out, "swoosh_index", "gauge",
           "Meta.Index of the published state (logged records).");
    sw_buf_printf(out, "swoosh_index %llu\n", (unsigned long long)st->index);
    header(out, "swoosh_queue_depth", "gauge",
           "Proposals waiting in the executor queue.");
    sw_buf_printf(out, "swoosh_queue_depth %llu\n",
                  (unsigned long long)st->queue_depth);
    header(out, "swoosh_commit_in_progress_seconds", "gauge",
           "Age of the WAL commit in flight, 0 when none; grows while "
           "storage hangs.");
    sw_buf_printf(out, "swoosh_commit_in_progress_seconds %.6f\n",
                  st->commit_in_progress_seconds);
}

static void render_http(sw_metrics_t *m, sw_buf_t *out)
{
    const char *name = "swoosh_http_request_duration_seconds";
    header(out, name, "histogram",
           "HTTP request latency from full headers to response sent, by "
           "route.");
    for (unsigned r = 0; r < m->n_routes; r++) {
        route_hist_t *h = &m->routes[r];
        uint64_t cum = 0;
        for (unsigned b = 0; b < SW_METRICS_LAT_BUCKETS; b++) {
            cum += ld(&h->buckets[b]);
            sw_buf_printf(out, "%s_bucket{route=\"%s\",le=\"%g\"} %llu\n", name,
                          h->label, lat_bounds[b], (unsigned long long)cum);
        }
        cum += ld(&h->buckets[SW_METRICS_LAT_BUCKETS]);
        sw_buf_printf(out, "%s_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", name,
                      h->label, (unsigned long long)cum);
        sw_buf_printf(out, "%s_sum{route=\"%s\"} %.9g\n", name, h->label,
                      (double)ld(&h->sum_ns) / 1e9);
        sw_buf_printf(out, "%s_count{route=\"%s\"} %llu\n", name, h->label,
                      (unsigned long long)cum);
    }
    header(out, "swoosh_http_responses_total", "counter",
           "HTTP responses sent, by status.");
    for (unsigned s = 0; s < N_STATUS; s++) {
        uint64_t v = ld(&m->status[s]);
        if (v)
            sw_buf_printf(out,
                          "swoosh_http_responses_total{status=\"%u\"} "
                          "%llu\n",
                          s + MIN_STATUS, (unsigned long long)v);
    }
}

/* SPEC §6: transitions by name/outcome, rejections by code, batch sizes,
 * fsync and request latency histograms, index. */
void sw_metrics_render(sw_metrics_t *m, const sw_exec_stats_t *st,
                       sw_buf_t *out)
{
    if (st)
        render_exec(st, m, out);
    render_http(m, out);
}
