// LABEL: integration
/* test_cli_tools: `swoosh submit` and `swoosh hash` against the real server
 * (README "The binary", docs/API.md): submit's exit codes (0 accepted or
 * duplicate, 1 rejected or unreachable, 2 usage) and answers, its stdin
 * form, and hash agreeing with the server and with `swoosh genesis`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proc.h"
#include "jsonq.h"
#include "server.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `swoosh submit --url <server> <args>`, stderr dropped. */
static int submit(const th_server_t *s, const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s submit --url http://127.0.0.1:%d %s 2>/dev/null",
             getenv("SWOOSH_BIN"), s->port, args);
    return th_run(cmd, out, cap);
}

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("not JSON (%s): %s", je.text, text);
    return j;
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

/* Flags build the proposal; the answer is the server's, and a retry is a
 * duplicate that changes nothing. */
static void test_submit_flags_and_retry(void **state)
{
    th_server_t *s = *state;
    static const char args[] =
        "--transition LICENSE_GRANTED --signer root --idem-key cli-lic-1 "
        "--payload '{\"license_id\":\"L-1\"}' --evidence ucxl://proof/1";
    char out[4096];
    json_int_t before = (json_int_t)th_health_index(s->port);
    assert_int_equal(submit(s, args, out, sizeof out), 0);
    json_t *a = parse(out);
    assert_true(json_is_true(json_object_get(a, "success")));
    assert_true(json_is_false(json_object_get(a, "duplicate")));
    assert_int_equal(json_integer_value(json_object_get(a, "index")),
                     before + 1);

    assert_int_equal(submit(s, args, out, sizeof out), 0);
    json_t *b = parse(out);
    assert_true(json_is_true(json_object_get(b, "duplicate")));
    assert_true(json_equal(json_object_get(a, "state_hash"),
                           json_object_get(b, "state_hash")));
    assert_int_equal((json_int_t)th_health_index(s->port), before + 1);
    json_decref(a);
    json_decref(b);
}

/* `-` posts stdin as the body, as it is. */
static void test_submit_stdin(void **state)
{
    th_server_t *s = *state;
    char cmd[2048], out[4096];
    json_int_t before = (json_int_t)th_health_index(s->port);
    snprintf(cmd, sizeof cmd,
             "echo '{\"transition\":\"CONTROL_PAUSE\",\"signer\":\"root\","
             "\"idem_key\":\"cli-stdin-1\"}' | %s submit --url "
             "http://127.0.0.1:%d - 2>/dev/null",
             getenv("SWOOSH_BIN"), s->port);
    assert_int_equal(th_run(cmd, out, sizeof out), 0);
    json_t *a = parse(out);
    assert_true(json_is_true(json_object_get(a, "success")));
    json_decref(a);
    assert_int_equal((json_int_t)th_health_index(s->port), before + 1);
}

/* A rejection prints the error body and exits 1; a usage error exits 2
 * and an unreachable server 1, all without changing the state. */
static void test_submit_failures(void **state)
{
    th_server_t *s = *state;
    char out[4096];
    json_int_t before = (json_int_t)th_health_index(s->port);
    assert_int_equal(
        submit(s, "--transition NO_SUCH --signer root --idem-key cli-x", out,
               sizeof out),
        1);
    json_t *e = parse(out);
    assert_string_equal(json_string_value(json_object_get(e, "code")),
                        "UNKNOWN_TRANSITION");
    assert_true(json_is_false(json_object_get(e, "success")));
    json_decref(e);

    assert_int_equal(submit(s, "--transition CONTROL_PAUSE", out, sizeof out),
                     2);
    assert_int_equal(submit(s,
                            "--transition CONTROL_PAUSE --signer root "
                            "--idem-key cli-y --payload '{'",
                            out, sizeof out),
                     2);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "%s submit --url http://127.0.0.1:1 --transition CONTROL_PAUSE "
             "--signer root --idem-key cli-z 2>/dev/null",
             getenv("SWOOSH_BIN"));
    assert_int_equal(th_run(cmd, out, sizeof out), 1);
    assert_int_equal((json_int_t)th_health_index(s->port), before);
}

/* `swoosh hash` of a saved GET /state answer is the server's state_hash,
 * and of `swoosh genesis`'s projection on stdin the hash genesis prints;
 * bad input fails. */
static void test_hash(void **state)
{
    th_server_t *s = *state;
    const char *bin = getenv("SWOOSH_BIN");
    char cmd[1024], out[256];
    th_resp_t r;
    assert_int_equal(th_http(s->port, "GET", "/state", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *st = th_json(&r);
    char path[512];
    snprintf(path, sizeof path, "%s/state.json", s->dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(r.body, 1, r.body_len, f), r.body_len);
    assert_int_equal(fclose(f), 0);
    th_resp_free(&r);
    snprintf(cmd, sizeof cmd, "%s hash %s 2>/dev/null", bin, path);
    assert_int_equal(th_run(cmd, out, sizeof out), 0);
    out[strcspn(out, "\n")] = '\0';
    assert_string_equal(out,
                        json_string_value(json_object_get(st, "state_hash")));
    json_decref(st);

    snprintf(cmd, sizeof cmd, "%s genesis | head -n 1 | %s hash -", bin, bin);
    assert_int_equal(th_run(cmd, out, sizeof out), 0);
    char want[256];
    snprintf(cmd, sizeof cmd, "%s genesis | sed -n 's/^state_hash //p'", bin);
    assert_int_equal(th_run(cmd, want, sizeof want), 0);
    assert_int_equal(strlen(want), 65); /* 64 hex digits and a newline */
    assert_string_equal(out, want);

    snprintf(cmd, sizeof cmd, "echo nope | %s hash - 2>/dev/null", bin);
    assert_true(th_run(cmd, out, sizeof out) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_flags_and_retry),
        cmocka_unit_test(test_submit_stdin),
        cmocka_unit_test(test_submit_failures),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
