// LABEL: integration
// TIMEOUT: 180
/* test_bench_cli: `swoosh bench`, the load client of make bench and
 * bench/compare, against the real server: it sends exactly the requests
 * it is asked for, each {n} and {h} key is unique (every proposal applies),
 * its figures are consistent, a server it cannot reach is an error, not
 * a crash, and every numeric flag is parsed strictly: a bad value is a
 * usage error (exit 2) naming the flag and its range, and nothing is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proc.h"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

/* Runs `swoosh bench <args> --json` and returns its JSON line; *status is
 * the exit code (-1 when it did not exit normally). */
static json_t *run_bench(const char *args, int *status)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s bench %s --json 2>/dev/null",
             getenv("SWOOSH_BIN"), args);
    char out[4096];
    *status = th_run(cmd, out, sizeof out);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j)
        fail_msg("bench printed no JSON (%s): %s", je.text, out);
    return j;
}

static double num(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    if (!json_is_number(v))
        fail_msg("bench JSON has no number \"%s\"", key);
    return json_number_value(v);
}

static int setup(void **state)
{
    *state = th_server_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    return th_server_free_clean(*state);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GET /health: exactly the requests asked for, all 2xx, and percentiles in
 * order. A run cut short by --requests reports the time it really took
 * (at most the wall time around the process, not the --duration limit),
 * and its rate is requests over that time. */
static void test_counts_and_percentiles(void **state)
{
    th_server_t *s = *state;
    char args[256];
    snprintf(args, sizeof args,
             "--url http://127.0.0.1:%d --connections 4 --requests 200 "
             "--warmup 0 --duration 30",
             s->port);
    int st;
    double t0 = mono_s();
    json_t *j = run_bench(args, &st);
    double wall = mono_s() - t0;
    assert_int_equal(st, 0);
    double took = num(j, "duration_s");
    assert_true(took > 0 && took <= wall + 0.001);
    /* rps × duration = requests, up to duration_s's printed millisecond. */
    double rps = num(j, "rps");
    assert_true(fabs(rps * took - 200) <= rps * 0.0005 + 0.5);
    assert_int_equal((int)num(j, "requests"), 200);
    assert_int_equal((int)num(j, "connections"), 4);
    assert_int_equal((int)num(j, "errors"), 0);
    assert_int_equal((int)num(j, "non_2xx"), 0);
    assert_true(num(j, "rps") > 0);
    assert_true(num(j, "p50_ms") > 0);
    assert_true(num(j, "p50_ms") <= num(j, "p90_ms"));
    assert_true(num(j, "p90_ms") <= num(j, "p99_ms"));
    assert_true(num(j, "p99_ms") <= num(j, "max_ms"));
    json_decref(j);
}

/* Every {n} and {h} key is new, so every proposal applies: the index grows
 * by exactly the number of requests. */
static void test_unique_keys_all_apply(void **state)
{
    th_server_t *s = *state;
    int http;
    json_t *before = th_get_json(s->port, "/state", &http);
    assert_int_equal(http, 200);
    json_int_t i0 = json_integer_value(json_object_get(before, "index"));
    json_decref(before);

    static const char *const keys[] = {"lic-n-{n}", "lic-h-{h}"};
    for (size_t k = 0; k < 2; k++) {
        char args[512];
        snprintf(args, sizeof args,
                 "--url http://127.0.0.1:%d --connections 4 --requests 50 "
                 "--warmup 0 --duration 30 --body-template "
                 "'{\"transition\":\"LICENSE_GRANTED\",\"signer\":\"op\","
                 "\"idem_key\":\"%s\",\"payload\":{\"license_id\":\"L\"}}'",
                 s->port, keys[k]);
        int st;
        json_t *j = run_bench(args, &st);
        assert_int_equal(st, 0);
        assert_int_equal((int)num(j, "requests"), 50);
        assert_int_equal((int)num(j, "errors"), 0);
        assert_int_equal((int)num(j, "non_2xx"), 0);
        json_decref(j);
    }
    json_t *after = th_get_json(s->port, "/state", &http);
    assert_int_equal(http, 200);
    assert_int_equal(json_integer_value(json_object_get(after, "index")),
                     i0 + 100);
    json_decref(after);
}

/* A loopback socket bound to a free port; with `listen_too` a listener
 * that never accepts (non-blocking, so accept() tells whether anybody
 * connected), else a port on which connecting is refused. Sets *port. */
static int loopback_socket(bool listen_too, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    if (listen_too) {
        assert_int_equal(listen(fd, 64), 0);
        assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    }
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A port nobody listens on: exit 1, one error, no requests. The figures of
 * an empty run come from no samples at all (this once sorted a NULL array,
 * which UBSan stops on). */
static void test_unreachable(void **state)
{
    (void)state;
    /* Kept bound until bench returns, so no other test takes the port. */
    int port;
    int fd = loopback_socket(false, &port);
    char args[256];
    snprintf(args, sizeof args,
             "--url http://127.0.0.1:%d --connections 2 --duration 1 "
             "--warmup 0",
             port);
    int st;
    json_t *j = run_bench(args, &st);
    assert_int_equal(st, 1);
    assert_int_equal((int)num(j, "requests"), 0);
    assert_true(num(j, "errors") >= 1);
    assert_true(num(j, "p99_ms") == 0);
    json_decref(j);
    close(fd);
}

typedef struct bad_case {
    const char *args;  /* shell words after --url */
    const char *flag;  /* the flag the message must name */
    const char *range; /* the range the message must state */
} bad_case_t;

/* Every malformed, non-finite or out-of-range number is refused before any
 * connection: exit 2 (not a hang, not a silent 0-request run), a message
 * naming the flag and its range, and the listener sees no connection. The
 * run is bounded by timeout(1) because a NaN duration once looped forever. */
static void test_bad_numbers_refused(void **state)
{
    (void)state;
    static const bad_case_t cases[] = {
        {"--duration nan --warmup 0", "--duration", "0.001..86400"},
        {"--duration inf --requests 10", "--duration", "0.001..86400"},
        {"--duration 1e300 --requests 10", "--duration", "0.001..86400"},
        {"--duration 1e1 --requests 10", "--duration", "0.001..86400"},
        {"--duration 0x10 --requests 10", "--duration", "0.001..86400"},
        {"--duration 0 --requests 1", "--duration", "0.001..86400"},
        {"--duration 0.0009 --requests 1", "--duration", "0.001..86400"},
        {"--duration 86400.001 --requests 1", "--duration", "0.001..86400"},
        {"--duration -1 --requests 1", "--duration", "0.001..86400"},
        {"--duration +1 --requests 1", "--duration", "0.001..86400"},
        {"--duration ' 1' --requests 1", "--duration", "0.001..86400"},
        {"--duration 1s --requests 1", "--duration", "0.001..86400"},
        {"--duration . --requests 1", "--duration", "0.001..86400"},
        {"--duration '' --requests 1", "--duration", "0.001..86400"},
        {"--warmup nan --requests 1", "--warmup", "0..3600"},
        {"--warmup inf --requests 1", "--warmup", "0..3600"},
        {"--warmup -0.5 --requests 1", "--warmup", "0..3600"},
        {"--warmup 3600.5 --requests 1", "--warmup", "0..3600"},
        {"--warmup 1,5 --requests 1", "--warmup", "0..3600"},
        {"--connections 4294967297 --requests 1", "--connections", "1..10000"},
        {"--connections 5x --requests 1", "--connections", "1..10000"},
        {"--connections 0 --requests 1", "--connections", "1..10000"},
        {"--connections 10001 --requests 1", "--connections", "1..10000"},
        {"--connections +4 --requests 1", "--connections", "1..10000"},
        {"--connections -1 --requests 1", "--connections", "1..10000"},
        {"--connections 2.0 --requests 1", "--connections", "1..10000"},
        {"--requests abc --duration 0.2", "--requests",
         "0..18446744073709551615"},
        {"--requests -1 --duration 0.2", "--requests",
         "0..18446744073709551615"},
        {"--requests 18446744073709551616 --duration 0.2", "--requests",
         "0..18446744073709551615"},
        {"--requests 1e3 --duration 0.2", "--requests",
         "0..18446744073709551615"},
        {"--requests ' 5' --duration 0.2", "--requests",
         "0..18446744073709551615"},
    };
    int port;
    int lfd = loopback_socket(true, &port);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char cmd[1024], out[4096];
        snprintf(cmd, sizeof cmd,
                 "timeout 10 %s bench --url http://127.0.0.1:%d %s 2>&1",
                 getenv("SWOOSH_BIN"), port, cases[k].args);
        int st = th_run(cmd, out, sizeof out);
        if (st != 2)
            fail_msg("`bench %s`: exit %d, want 2; output: %s", cases[k].args,
                     st, out);
        if (!strstr(out, cases[k].flag) || !strstr(out, cases[k].range))
            fail_msg("`bench %s`: message lacks \"%s\" or \"%s\": %s",
                     cases[k].args, cases[k].flag, cases[k].range, out);
        int c = accept(lfd, NULL, NULL);
        if (c >= 0) {
            close(c);
            fail_msg("`bench %s` connected before refusing", cases[k].args);
        }
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    }
    close(lfd);
}

/* Valid values at and near the edges of the documented ranges still run:
 * the largest duration with a request cap, the largest request cap with a
 * short duration, fractional seconds in both spellings, and leading zeros;
 * the reported connections are the ones given, and so is the duration when
 * it ends the run (a run its request cap ends reports less). The largest
 * connection count is checked by parsing alone (a trailing --help stops
 * before 10000 sockets are opened, and only after every earlier flag has
 * been accepted). */
static void test_valid_edges_run(void **state)
{
    th_server_t *s = *state;
    static const struct {
        const char *flags;
        double connections, duration_s, requests; /* requests 0: at least 1 */
    } runs[] = {
        {"--connections 2 --requests 5 --warmup 0 --duration 86400", 2, 86400,
         5},
        {"--connections 1 --duration 0.3 --warmup .1 --requests "
         "18446744073709551615",
         1, 0.3, 0},
        {"--connections 0003 --duration 0.25 --warmup 0. --requests 0", 3, 0.25,
         0},
    };
    char args[256];
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        snprintf(args, sizeof args, "--url http://127.0.0.1:%d %s", s->port,
                 runs[i].flags);
        int st;
        json_t *j = run_bench(args, &st);
        assert_int_equal(st, 0);
        assert_true(num(j, "connections") == runs[i].connections);
        if (runs[i].requests > 0) {
            assert_true(num(j, "requests") == runs[i].requests);
            assert_true(num(j, "duration_s") < runs[i].duration_s);
        } else {
            assert_true(num(j, "requests") >= 1);
            assert_true(num(j, "duration_s") == runs[i].duration_s);
        }
        assert_int_equal((int)num(j, "errors"), 0);
        json_decref(j);
    }

    snprintf(args, sizeof args,
             "--url http://127.0.0.1:%d --connections 10000 --requests 1 "
             "--warmup 0 --duration 1 --help",
             s->port);
    char cmd[512], out[4096];
    snprintf(cmd, sizeof cmd, "%s bench %s", getenv("SWOOSH_BIN"), args);
    assert_int_equal(th_run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "1..10000"));
    assert_non_null(strstr(out, "0.001..86400"));
    assert_non_null(strstr(out, "0..3600"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_percentiles),
        cmocka_unit_test(test_unique_keys_all_apply),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_bad_numbers_refused),
        cmocka_unit_test(test_valid_edges_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
