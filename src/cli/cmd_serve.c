/* swoosh serve: the HTTP service (SPEC §6, §8). */
#include "cli.h"

#include "config.h"
#include "executor.h"
#include "guards.h"
#include "http.h"
#include "http_api.h"
#include "log.h"
#include "metrics.h"

#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* How long a clean shutdown waits for requests still arriving. */
#define DRAIN_TIMEOUT_MS 5000

/* SIGHUP re-reads the guard provider's configuration (the static provider's
 * SWOOSH_GUARD_CONFIG file) without a restart. */
static void on_sighup(sw_guard_provider_t *guards)
{
    swoosh_error err = {0};
    if (sw_guards_reload(guards, &err) == SWOOSH_OK)
        sw_log(SW_LOG_INFO, "reload", "result", "ok", NULL);
    else
        sw_log(SW_LOG_ERROR, "reload", "result", "failed", "err", err.msg,
               NULL);
}

static void log_startup(const sw_config_t *c, sw_executor_t *ex, uint16_t port,
                        unsigned http_threads)
{
    sw_view_t *v = sw_executor_view(ex);
    char idx[24], p[8], th[12];
    snprintf(idx, sizeof(idx), "%llu", (unsigned long long)v->index);
    snprintf(p, sizeof(p), "%u", (unsigned)port);
    snprintf(th, sizeof(th), "%u", http_threads);
    sw_log(SW_LOG_INFO, "started", "version", swoosh_version(), "addr",
           c->listen_addr, "host", c->listen_host[0] ? c->listen_host : "*",
           "port", p, "wal_dir", c->wal_dir, "snapshot_dir", c->snapshot_dir,
           "genesis", c->genesis ? c->genesis : "built-in", "index", idx,
           "state_hash", v->state_hash, "hlc_last", v->hlc_last, "guards",
           c->guards, "auth", c->api_token ? "bearer" : "none", "http_threads",
           th, NULL);
    sw_view_release(v);
}

/* Opens the guard provider the configuration names (SPEC §4 "Guards"). */
static sw_guard_provider_t *open_guards(const sw_config_t *c)
{
    sw_guards_config_t gc;
    swoosh_error err = {0};
    sw_guards_config_defaults(&gc);
    if (!sw_guards_kind_parse(c->guards, &gc.kind)) {
        fprintf(stderr, "swoosh: unknown guard provider '%s'\n", c->guards);
        return NULL;
    }
    gc.static_path = c->guard_config;
    for (int i = 0; i < SW_GUARD__COUNT; i++) {
        gc.url[i] = c->guard_url[i];
        gc.fail_open[i] = c->guard_fail_open[i];
    }
    gc.timeout_ms = (unsigned)c->guard_timeout_ms;
    sw_guard_provider_t *g = sw_guards_open(&gc, &err);
    if (!g) {
        sw_log(SW_LOG_ERROR, "guards_failed", "err", err.msg, NULL);
        fprintf(stderr, "swoosh: cannot open the guard provider: %s\n",
                err.msg);
    }
    return g;
}

static sw_executor_t *open_executor(const sw_config_t *c, int *exit_code)
{
    sw_exec_config_t ec;
    swoosh_error err = {0};
    sw_exec_config_defaults(&ec);
    ec.wal_dir = c->wal_dir;
    ec.snapshot_dir = c->snapshot_dir;
    ec.genesis_path = c->genesis;
    ec.snapshot_every = c->snapshot_every;
    ec.node_id = c->node_id;
    ec.batch_max = (unsigned)c->batch_max;
    ec.queue_max = (unsigned)c->queue_max;
    ec.block_when_full = false;
    sw_executor_t *ex = sw_executor_open(&ec, &err);
    if (ex)
        return ex;
    sw_log(SW_LOG_ERROR, "open_failed", "err", err.msg, "code",
           swoosh_err_name(err.code), NULL);
    if (err.code == SWOOSH_EDIVERGED) {
        fprintf(stderr,
                "swoosh: the log diverges from the recomputed state: %s\n"
                "swoosh: nothing is served from a diverged log; run `swoosh "
                "verify --wal-dir %s` to see the first bad record\n",
                err.msg, c->wal_dir);
        *exit_code = SW_EXIT_DIVERGED;
    } else {
        fprintf(stderr, "swoosh: cannot open the state: %s\n", err.msg);
        *exit_code = SW_EXIT_FAIL;
    }
    return NULL;
}

/* Descriptors the server needs besides its connections: stdio, the listen
 * socket, SQLite's files for its connections, the lock files, snapshot
 * writes, eventfds and guard calls. */
#define FD_RESERVE 64

/* Every HTTP connection holds a descriptor, and the usual soft limit (1024)
 * equals the default connection limit: at it, accept() fails and new
 * clients wait in the listen backlog until idle connections time out, and
 * snapshots fail with EMFILE. So the soft limit is raised to the hard one,
 * and if the connection limit still does not fit beside FD_RESERVE it is
 * lowered, and the log says so. */
static void fit_fd_limit(sw_config_t *c)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = rl;
        up.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
    }
    if (rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur >= c->max_connections + FD_RESERVE)
        return;
    /* Below 2 * FD_RESERVE descriptors, half go to connections. */
    uint64_t reserve =
        rl.rlim_cur > 2 * FD_RESERVE ? FD_RESERVE : rl.rlim_cur / 2;
    uint64_t fit = rl.rlim_cur - reserve > 0 ? rl.rlim_cur - reserve : 1;
    sw_logf(SW_LOG_WARN, "max_connections_lowered",
            "from=%llu to=%llu open_files_limit=%llu",
            (unsigned long long)c->max_connections, (unsigned long long)fit,
            (unsigned long long)rl.rlim_cur);
    c->max_connections = fit;
}

/* Runs the service until SIGTERM/SIGINT. Signals are blocked in every
 * thread before any thread starts and taken with sigwait() here, so no
 * handler runs at an arbitrary point (SPEC §8 clean shutdown). */
int cmd_serve(int argc, char **argv)
{
    sw_config_t cfg;
    swoosh_error err = {0};
    bool help = false;
    int rc = SW_EXIT_FAIL;
    sw_executor_t *ex = NULL;
    sw_metrics_t *metrics = NULL;
    sw_api_t *api = NULL;
    sw_http_t *http = NULL;
    sw_guard_provider_t *guards = NULL;

    sw_config_defaults(&cfg);
    if (sw_config_load(&cfg, argc, argv, &help, &err) != SWOOSH_OK) {
        fprintf(stderr, "swoosh serve: %s\n", err.msg);
        rc = SW_EXIT_USAGE;
        goto out_config;
    }
    if (help) {
        sw_config_usage(stdout);
        rc = SW_EXIT_OK;
        goto out_config;
    }
    sw_log_level_t lvl = SW_LOG_INFO;
    sw_log_level_parse(cfg.log_level, &lvl);
    sw_log_set_level(lvl);
    fit_fd_limit(&cfg);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    guards = open_guards(&cfg);
    if (!guards)
        goto out_config;
    ex = open_executor(&cfg, &rc);
    if (!ex)
        goto out_guards;
    metrics = sw_metrics_new();
    api = sw_api_new(ex, metrics, guards);
    sw_http_limits_t lim;
    sw_http_limits_from_config(&lim, &cfg);
    http = sw_http_new(&lim, cfg.api_token, cfg.api_token_reads, cfg.access_log,
                       metrics);
    sw_api_register(api, http);
    if (sw_http_start(http, cfg.listen_host, cfg.listen_port, cfg.listen_ipv6,
                      &err) != SWOOSH_OK) {
        sw_log(SW_LOG_ERROR, "listen_failed", "addr", cfg.listen_addr, "err",
               err.msg, NULL);
        fprintf(stderr, "swoosh: %s%s\n", err.msg,
                err.sys_errno == EADDRINUSE
                    ? "; is another server on that port?"
                    : "");
        rc = SW_EXIT_FAIL;
        goto out_http;
    }
    log_startup(&cfg, ex, sw_http_port(http), lim.threads);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            on_sighup(guards);
            continue;
        }
        sw_log(SW_LOG_INFO, "stopping", "signal",
               sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
        break;
    }
    if (!sw_http_drain(http, DRAIN_TIMEOUT_MS))
        sw_log(SW_LOG_WARN, "drain_timeout", "detail",
               "requests still arriving were cut off", NULL);
    rc = SW_EXIT_OK;

out_http:
    sw_http_free(http);
    sw_api_free(api);
    if (sw_executor_close(ex, &err) != SWOOSH_OK) {
        sw_log(SW_LOG_ERROR, "close_failed", "err", err.msg, NULL);
        rc = SW_EXIT_FAIL;
    } else if (rc == SW_EXIT_OK) {
        sw_log(SW_LOG_INFO, "stopped", "result", "clean", NULL);
    }
    sw_metrics_free(metrics);
out_guards:
    sw_guards_close(guards);
out_config:
    sw_config_destroy(&cfg);
    return rc;
}
