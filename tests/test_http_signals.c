// LABEL: integration
// TIMEOUT: 300
/* test_http_signals: process life cycle of `swoosh serve` (SPEC §8, §1.3):
 * SIGTERM stops cleanly with a snapshot, SIGKILL loses no acknowledged
 * transition, SIGHUP reloads without stopping, a diverged log exits 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proc.h"
#include "server.h"

#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *hash_of(int port, long long *index)
{
    int st = 0;
    json_t *h = th_get_json(port, "/health", &st);
    assert_int_equal(st, 200);
    char *hash = strdup(json_string_value(json_object_get(h, "state_hash")));
    if (index)
        *index = json_integer_value(json_object_get(h, "index"));
    json_decref(h);
    return hash;
}

/* Posts a control transition with a unique key; returns the HTTP status and
 * copies the answered hash. */
static int post_n(int port, int n, char hash[65])
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"transition\":\"%s\",\"signer\":\"sig\",\"idem_key\":"
             "\"key-%d\"}",
             n % 2 ? "CONTROL_RESUME" : "CONTROL_PAUSE", n);
    int st = 0;
    json_t *j = th_post_json(port, "/transition", body, &st);
    if (j && hash) {
        const char *h = json_string_value(json_object_get(j, "state_hash"));
        snprintf(hash, 65, "%s", h ? h : "");
    }
    json_decref(j);
    return st;
}

static int count_snapshots(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "snapshot-", 9) && strstr(e->d_name, ".json") &&
            !strstr(e->d_name, ".tmp"))
            n++;
    closedir(d);
    return n;
}

/* SIGTERM: exit 0, a snapshot file exists, and a restart serves the same
 * hash and index. */
static void test_sigterm_clean(void **state)
{
    (void)state;
    th_server_t s;
    assert_int_equal(th_server_start(&s, NULL), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(post_n(s.port, i, NULL), 200);
    long long idx = 0, idx2 = 0;
    char *h1 = hash_of(s.port, &idx);
    assert_int_equal(idx, 5);
    assert_int_equal(th_server_stop(&s, SIGTERM, 20000), 0);
    assert_true(WIFEXITED(s.exit_status));
    assert_int_equal(WEXITSTATUS(s.exit_status), 0);
    assert_true(count_snapshots(s.snap_dir) >= 1);
    assert_true(th_server_log_has(&s, "event=stopped"));
    assert_int_equal(th_server_restart(&s, NULL), 0);
    char *h2 = hash_of(s.port, &idx2);
    assert_string_equal(h1, h2);
    assert_int_equal(idx2, 5);
    free(h1);
    free(h2);
    th_server_cleanup(&s);
}

/* SIGKILL after acknowledged POSTs: a restart serves every one of them
 * (durable before acknowledged, SPEC §1.3). */
static void test_sigkill_keeps_acked(void **state)
{
    (void)state;
    th_server_t s;
    assert_int_equal(th_server_start(&s, NULL), 0);
    char last[65] = "";
    for (int i = 0; i < 20; i++)
        assert_int_equal(post_n(s.port, i, last), 200);
    assert_int_equal(th_server_stop(&s, SIGKILL, 10000), 0);
    assert_true(WIFSIGNALED(s.exit_status));
    assert_int_equal(th_server_restart(&s, NULL), 0);
    long long idx = 0;
    char *h = hash_of(s.port, &idx);
    assert_int_equal(idx, 20);
    assert_string_equal(h, last);
    free(h);
    /* Re-posting an acknowledged key is a duplicate, also after restart. */
    int st = 0;
    json_t *j = th_post_json(s.port, "/transition",
                             "{\"transition\":\"CONTROL_PAUSE\",\"signer\":"
                             "\"sig\",\"idem_key\":\"key-0\"}",
                             &st);
    assert_int_equal(st, 200);
    assert_true(json_is_true(json_object_get(j, "duplicate")));
    json_decref(j);
    th_server_cleanup(&s);
}

typedef struct loader {
    int port;
    atomic_int acked;
    atomic_bool stop;
} loader_t;

static void *load_main(void *arg)
{
    loader_t *l = arg;
    for (int i = 0; !atomic_load(&l->stop); i++) {
        int st = post_n(l->port, i, NULL);
        if (st == 200)
            atomic_fetch_add(&l->acked, 1);
        else
            break; /* 503 SHUTTING_DOWN or connection refused */
    }
    return NULL;
}

/* SIGTERM under load: every request acknowledged before the stop is in
 * the state after restart, and the exit is still clean. */
static void test_sigterm_under_load(void **state)
{
    (void)state;
    th_server_t s;
    assert_int_equal(th_server_start(&s, NULL), 0);
    loader_t l = {.port = s.port};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, load_main, &l), 0);
    long long t0 = th_now_ms();
    while (atomic_load(&l.acked) < 50 && th_now_ms() - t0 < 20000) {
        struct timespec ts = {0, 5000000L};
        nanosleep(&ts, NULL);
    }
    assert_true(atomic_load(&l.acked) >= 50);
    assert_int_equal(th_server_stop(&s, SIGTERM, 20000), 0);
    atomic_store(&l.stop, true);
    pthread_join(t, NULL);
    assert_true(WIFEXITED(s.exit_status));
    assert_int_equal(WEXITSTATUS(s.exit_status), 0);
    assert_int_equal(th_server_restart(&s, NULL), 0);
    long long idx = 0;
    char *h = hash_of(s.port, &idx);
    assert_true(idx >= atomic_load(&l.acked));
    free(h);
    th_server_cleanup(&s);
}

/* SIGTERM with GET /log requests in flight (they wait on the log reader
 * thread, suspended): each gets its page or 503 SHUTTING_DOWN or a close,
 * at least one gets its page, and the exit is still clean. */
static void test_sigterm_with_log_reads(void **state)
{
    (void)state;
    th_server_t s;
    assert_int_equal(th_server_start(&s, NULL), 0);
    for (int i = 0; i < 60; i++)
        assert_int_equal(post_n(s.port, i, NULL), 200);
    enum { N = 32 };
    int fds[N];
    static const char req[] = "GET /log?from=1&limit=50 HTTP/1.1\r\nHost: "
                              "t\r\nConnection: close\r\n\r\n";
    for (int i = 0; i < N; i++) {
        fds[i] = th_connect(s.port);
        assert_true(fds[i] >= 0);
        assert_int_equal(write(fds[i], req, sizeof req - 1),
                         (ssize_t)(sizeof req - 1));
    }
    /* The first answer arriving shows the server is serving them. */
    th_resp_t first;
    assert_int_equal(th_read_response(fds[0], 10000, &first), 0);
    assert_int_equal(first.status, 200);
    th_resp_free(&first);
    close(fds[0]);
    assert_int_equal(th_server_stop(&s, SIGTERM, 20000), 0);
    assert_true(WIFEXITED(s.exit_status));
    assert_int_equal(WEXITSTATUS(s.exit_status), 0);
    for (int i = 1; i < N; i++) {
        th_resp_t r;
        assert_int_equal(th_read_response(fds[i], 10000, &r), 0);
        if (r.status == 200) {
            json_t *j = th_json(&r);
            assert_non_null(j);
            assert_int_equal(json_array_size(json_object_get(j, "records")),
                             50);
            json_decref(j);
        } else if (r.status != 0) {
            assert_int_equal(r.status, 503);
            char *retry = th_header(&r, "Retry-After");
            char *conn = th_header(&r, "Connection");
            assert_non_null(retry);
            assert_non_null(conn);
            assert_string_equal(conn, "close");
            free(retry);
            free(conn);
        }
        th_resp_free(&r);
        close(fds[i]);
    }
    th_server_cleanup(&s);
}

/* SIGHUP reloads (logged) and the server keeps serving. */
static void test_sighup_reload(void **state)
{
    (void)state;
    th_server_t s;
    assert_int_equal(th_server_start(&s, NULL), 0);
    kill(s.pid, SIGHUP);
    long long t0 = th_now_ms();
    while (!th_server_log_has(&s, "event=reload") && th_now_ms() - t0 < 10000) {
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    assert_true(th_server_log_has(&s, "event=reload"));
    assert_int_equal(post_n(s.port, 0, NULL), 200);
    th_server_cleanup(&s);
}

/* A log whose recorded hash does not match the recomputed state is refused
 * at start with exit code 3 (SPEC §4 recovery). */
static void test_diverged_log_exit_3(void **state)
{
    (void)state;
    th_server_t s;
    assert_int_equal(th_server_start(&s, NULL), 0);
    char h2[65] = "";
    assert_int_equal(post_n(s.port, 0, NULL), 200);
    assert_int_equal(post_n(s.port, 1, h2), 200);
    assert_int_equal(th_server_stop(&s, SIGKILL, 10000), 0);
    char db[400];
    snprintf(db, sizeof(db), "%s/swoosh-log.db", s.wal_dir);
    sqlite3 *conn = NULL;
    assert_int_equal(sqlite3_open(db, &conn), SQLITE_OK);
    const char *bad =
        "0000000000000000000000000000000000000000000000000000000000000000";
    char sql[600];
    snprintf(sql, sizeof(sql),
             "UPDATE log SET state_hash='%s', record=replace(record,'%s','%s')"
             " WHERE idx=2",
             bad, h2, bad);
    assert_int_equal(sqlite3_exec(conn, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(conn), 1);
    sqlite3_close(conn);
    assert_int_not_equal(th_server_restart(&s, NULL), 0);
    assert_true(WIFEXITED(s.exit_status));
    assert_int_equal(WEXITSTATUS(s.exit_status), 3);
    th_server_cleanup(&s);
}

/* One server owns a port and a data directory (SPEC §1: one executor, one
 * state): a second `swoosh serve` on the same port, or on the same log or
 * snapshot directory, exits 1 with a clear message instead of serving a
 * second, diverging state, and the first server is unaffected. */
static void test_one_owner(void **state)
{
    (void)state;
    th_server_t s;
    assert_int_equal(th_server_start(&s, NULL), 0);
    char h1[65] = "";
    assert_int_equal(post_n(s.port, 0, h1), 200);
    char other[300];
    snprintf(other, sizeof other, "%s/other", s.dir);
    const char *bin = getenv("SWOOSH_BIN");
    char cmd[2048], out[4096];
    /* timeout(1) bounds a regression that would start and keep running. */
    snprintf(cmd, sizeof cmd,
             "timeout 20 %s serve --listen 127.0.0.1:%d --wal-dir %s/wal "
             "--snapshot-dir %s/snap 2>&1",
             bin, s.port, other, other);
    assert_int_equal(th_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "Address already in use"));
    snprintf(cmd, sizeof cmd,
             "timeout 20 %s serve --listen 127.0.0.1:0 --wal-dir %s "
             "--snapshot-dir %s/snap 2>&1",
             bin, s.wal_dir, other);
    assert_int_equal(th_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "in use by another swoosh process"));
    snprintf(cmd, sizeof cmd,
             "timeout 20 %s serve --listen 127.0.0.1:0 --wal-dir %s/wal "
             "--snapshot-dir %s 2>&1",
             bin, other, s.snap_dir);
    assert_int_equal(th_run(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "in use by another swoosh process"));

    long long idx = 0;
    char *h = hash_of(s.port, &idx);
    assert_string_equal(h, h1);
    assert_int_equal(idx, 1);
    free(h);
    /* The lock goes with the process: a restart after SIGKILL owns the
     * directories again. */
    assert_int_equal(th_server_stop(&s, SIGKILL, 10000), 0);
    assert_int_equal(th_server_restart(&s, NULL), 0);
    h = hash_of(s.port, &idx);
    assert_string_equal(h, h1);
    free(h);
    assert_int_equal(th_server_stop_clean(&s), 0);
    th_server_cleanup(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_clean),
        cmocka_unit_test(test_sigkill_keeps_acked),
        cmocka_unit_test(test_sigterm_under_load),
        cmocka_unit_test(test_sigterm_with_log_reads),
        cmocka_unit_test(test_sighup_reload),
        cmocka_unit_test(test_diverged_log_exit_3),
        cmocka_unit_test(test_one_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
