// LABEL: integration
/* test_bench_cli: `swoosh bench`, the load client of make bench and
 * bench/compare, against the real server: it sends exactly the requests
 * it is asked for, each {n} and {h} key is unique (every proposal applies),
 * its figures are consistent, and a server it cannot reach is an error, not
 * a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proc.h"
#include "server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* GET /health: exactly the requests asked for, all 2xx, and percentiles in
 * order. */
static void test_counts_and_percentiles(void **state)
{
    th_server_t *s = *state;
    char args[256];
    snprintf(args, sizeof args,
             "--url http://127.0.0.1:%d --connections 4 --requests 200 "
             "--warmup 0 --duration 30",
             s->port);
    int st;
    json_t *j = run_bench(args, &st);
    assert_int_equal(st, 0);
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

/* A port nobody listens on: exit 1, one error, no requests. The figures of
 * an empty run come from no samples at all (this once sorted a NULL array,
 * which UBSan stops on). */
static void test_unreachable(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd); /* bound, never listened: connecting is refused */
    char args[256];
    snprintf(args, sizeof args,
             "--url http://127.0.0.1:%d --connections 2 --duration 1 "
             "--warmup 0",
             ntohs(a.sin_port));
    int st;
    json_t *j = run_bench(args, &st);
    assert_int_equal(st, 1);
    assert_int_equal((int)num(j, "requests"), 0);
    assert_true(num(j, "errors") >= 1);
    assert_true(num(j, "p99_ms") == 0);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_percentiles),
        cmocka_unit_test(test_unique_keys_all_apply),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
