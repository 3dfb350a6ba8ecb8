// LABEL: integration
// TIMEOUT: 120
/* test_fd_limit: the server fits its connection limit to the open-files
 * limit. Every connection holds a descriptor, and the usual soft limit
 * (1024) equals the default connection limit, so without this a server full
 * of idle connections stops accepting (new clients wait in the backlog for
 * the 30 s idle timeout) and cannot open files for snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The soft "Max open files" limit of a running process, from /proc. */
static unsigned long long soft_nofile(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    unsigned long long soft = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Max open files", 14))
            soft = strtoull(line + 14, NULL, 10);
    fclose(f);
    return soft;
}

/* swoosh_snapshots_written_total from GET /metrics, or -1. */
static long snapshots_written(int port)
{
    th_resp_t r;
    if (th_http(port, "GET", "/metrics", NULL, NULL, &r) != 0)
        return -1;
    const char *k = "\nswoosh_snapshots_written_total ";
    const char *p = r.body ? strstr(r.body, k) : NULL;
    long n = p ? strtol(p + strlen(k), NULL, 10) : -1;
    th_resp_free(&r);
    return n;
}

/* A soft limit below the hard one is raised to it at start-up, so the
 * default 1024 connections fit whenever the hard limit allows. */
static void test_soft_limit_raised(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 512)
        skip(); /* no room to show a raise */
    struct rlimit low = {256, rl.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    th_server_t *s = th_server_new(NULL);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_non_null(s);
    unsigned long long want =
        rl.rlim_max == RLIM_INFINITY ? 0 : (unsigned long long)rl.rlim_max;
    if (want)
        assert_int_equal(soft_nofile(s->pid), want);
    else
        assert_true(soft_nofile(s->pid) > 256);
    assert_int_equal(th_server_log_has(s, "max_connections_lowered"),
                     want != 0 && want < 1024 + 64);
    assert_int_equal(th_server_free_clean(s), 0);
}

/* With a hard limit of 200 descriptors the connection limit becomes 136 and
 * the log says so, and a server holding 120 idle connections still answers
 * proposals and writes snapshots (files it opens while full of clients).
 * This test lowers the hard limit for the rest of this process, so it runs
 * last. */
static void test_connection_limit_lowered(void **state)
{
    (void)state;
    struct rlimit hard = {200, 200};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &hard), 0);
    const char *const extra[] = {"--snapshot-every", "2", NULL};
    th_server_t *s = th_server_new(extra);
    assert_non_null(s);
    assert_true(th_server_log_has(s, "event=max_connections_lowered"));
    assert_true(th_server_log_has(s, "from=1024"));
    assert_true(th_server_log_has(s, "to=136"));
    assert_true(th_server_log_has(s, "open_files_limit=200"));

    enum { IDLE = 120 };
    int fds[IDLE];
    for (int i = 0; i < IDLE; i++) {
        fds[i] = th_connect(s->port);
        assert_true(fds[i] >= 0);
    }
    for (int i = 0; i < 4; i++) {
        char body[160];
        snprintf(
            body, sizeof body,
            "{\"transition\":\"%s\",\"signer\":\"t\",\"idem_key\":\"f%d\"}",
            i % 2 ? "CONTROL_RESUME" : "CONTROL_PAUSE", i);
        int st = 0;
        json_t *j = th_post_json(s->port, "/transition", body, &st);
        json_decref(j);
        assert_int_equal(st, 200);
    }
    /* Snapshots are due at index 2 and 4 and written off the request path
     * (the newer replaces one not yet started): wait, up to 10 s, until the
     * server counts one, with the clients still connected. */
    long written = -1;
    for (int i = 0; i < 1000 && written < 1; i++) {
        written = snapshots_written(s->port);
        if (written < 1)
            usleep(10000);
    }
    assert_true(written >= 1);
    assert_false(th_server_log_has(s, "snapshot_failed"));
    for (int i = 0; i < IDLE; i++)
        close(fds[i]);
    assert_int_equal(th_server_free_clean(s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soft_limit_raised),
        cmocka_unit_test(test_connection_limit_lowered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
