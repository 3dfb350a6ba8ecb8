// LABEL: integration
// TIMEOUT: 300
/* test_http_fuzz: seeded mutations of real requests against the real binary
 * (SPEC §6; "bad input gets a clear error and changes nothing; a crash, a
 * leak or a hang on hostile input is a bug of the first rank").
 *
 * Each mutant of a valid request (every route, bodies for the write routes)
 * is sent on its own connection, which the client then half-closes, so the
 * server always learns the request is over. Every one must get an HTTP
 * answer, or a close, within a bound: a status in 100..499 or
 * libmicrohttpd's 505 for an HTTP version it does not speak, and every JSON
 * error answer carries a SPEC §6 code. /health stays 200 throughout. After
 * the run the published state_hash is the SHA-256 of the published
 * projection's JCS, a clean SIGTERM exits 0 (under ASan: no leak, no memory
 * error in the server), and a restart recovers the same index and hash.
 * The mutations come from the shared seeded engine (tests/helpers/fuzz.h),
 * so a failure names a reproducible case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "canon.h"
#include "err.h"
#include "fuzz.h"
#include "hash.h"
#include "jsonq.h"
#include "server.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BEAT                                                                   \
    "{\"transition\":\"EXECUTION_BEAT\",\"signer\":\"agent-1\",\"idem_key\":"  \
    "\"b-1\",\"window_id\":\"w1\"}"
#define LICENSE                                                                \
    "{\"current_state_hash\":\"genesis\",\"transition\":\"LICENSE_GRANTED\","  \
    "\"signer\":\"op\",\"idem_key\":\"lic-1\",\"payload\":{\"license_id\":"    \
    "\"L-1\"},\"evidence\":[\"e\"]}"
#define TASK "{\"task_id\":\"t-1\",\"title\":\"T\\u00e9\"}"

/* Valid requests for every route; "Connection: close" so each connection
 * carries one request. Bodies get their Content-Length at build time. */
typedef struct seed {
    const char *head; /* request line and headers, without Content-Length */
    const char *body; /* NULL for none */
} seed_t;

static const seed_t seeds[] = {
    {"POST /transition HTTP/1.1\r\nHost: t\r\nContent-Type: "
     "application/json\r\n",
     LICENSE},
    {"POST /command HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n",
     BEAT},
    {"GET /state?projection=Council HTTP/1.1\r\nHost: t\r\n", NULL},
    {"GET /state HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n", NULL},
    {"HEAD /health HTTP/1.1\r\nHost: t\r\n", NULL},
    {"GET /log?from=1&limit=5 HTTP/1.1\r\nHost: t\r\n", NULL},
    {"GET /metrics HTTP/1.1\r\nHost: t\r\n", NULL},
    {"GET /transitions HTTP/1.1\r\nHost: t\r\n", NULL},
    {"POST /api/v1/tasks HTTP/1.1\r\nHost: t\r\nContent-Type: "
     "application/json\r\nIdempotency-Key: k-1\r\n",
     TASK},
    {"POST /api/v1/tasks/t-1/claim HTTP/1.1\r\nHost: t\r\nContent-Type: "
     "application/json\r\n",
     "{\"agent_id\":\"agent-a\"}"},
    {"POST /api/v1/tasks/t-1/complete HTTP/1.1\r\nHost: t\r\nContent-Type: "
     "application/json\r\n",
     "{\"agent_id\":\"agent-a\",\"result\":\"ok\"}"},
    {"GET /api/v1/tasks?status=open HTTP/1.1\r\nHost: t\r\n", NULL},
    {"POST /api/v1/opportunities/council HTTP/1.1\r\nHost: t\r\n"
     "Content-Type: application/json\r\nIdempotency-Key: opp-1\r\n",
     "{\"council_id\":\"c-1\",\"roles\":[{\"role_name\":\"lead\","
     "\"required\":true}],\"quorum\":1}"},
    {"POST /api/v1/councils/c-1/claims HTTP/1.1\r\nHost: t\r\nContent-Type: "
     "application/json\r\n",
     "{\"agent_id\":\"agent-a\",\"role_name\":\"lead\"}"},
};

/* HTTP's own troublemakers, besides JSON's (added by the engine). */
static const char *const tokens[] = {
    "\r\n",
    "\r\n\r\n",
    "\n",
    "\r",
    "Content-Length: 99999\r\n",
    "Content-Length: -1\r\n",
    "Content-Length: 18446744073709551616\r\n",
    "Transfer-Encoding: chunked\r\n",
    "Content-Type: text/plain\r\n",
    "Authorization: Bearer x\r\n",
    "Expect: 100-continue\r\n",
    "Connection: keep-alive\r\n",
    "%00",
    "%zz",
    "%2F..%2F",
    "?a=1&a=2&",
    "/../..",
    "HTTP/1.0",
    "HTTP/9.9",
    "\x00",
    "\xff\xfe",
    "\xc3\x28",
    "\t",
    "0\r\n\r\n",
    "OPTIONS",
    "DELETE",
};

/* Letters and digits become other ones: many mutants stay valid HTTP with
 * odd values (a method, a path segment, a header name, a JSON string). */
static bool gentle(sw_buf_t *out, size_t at)
{
    char ch = out->data[at];
    bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    if (!alpha && !(ch >= '0' && ch <= '9'))
        return false;
    static const char repl[] = "aZ09-_.~%";
    out->data[at] = repl[th_fuzz_below(sizeof repl - 1)];
    return true;
}

static const th_mutator_t mutator = {tokens, sizeof tokens / sizeof *tokens,
                                     gentle};

static int setup(void **state)
{
    const char *args[] = {"--conn-timeout", "2", NULL};
    *state = th_server_new(args);
    return *state ? 0 : -1;
}

/* Stops with SIGTERM and requires a clean exit 0 (under ASan also: no leak
 * and no memory error in the server). */
static int teardown(void **state)
{
    return th_server_free_clean(*state);
}

/* One mutant on its own connection, half-closed after sending. Returns the
 * answer's status (0 for a close without one); fails the test when nothing
 * comes back within the bound. */
static int exchange(int port, const sw_buf_t *req, size_t i)
{
    int fd = th_connect(port);
    assert_true(fd >= 0);
    /* A server may answer and close before reading it all: a failed send is
     * then not an error, the answer is what counts. */
    (void)send(fd, req->data, req->len, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    th_resp_t r;
    int rc = th_read_response(fd, 10000, &r);
    close(fd);
    if (rc != 0)
        fail_msg("case %zu: no answer and no close within 10 s", i);
    int status = r.status;
    if (status != 0 && (status < 100 || status > 599))
        fail_msg("case %zu: status %d", i, status);
    if (status >= 400 && r.body && r.body[0] == '{') {
        json_t *j = th_json(&r);
        const char *code =
            j ? json_string_value(json_object_get(j, "code")) : NULL;
        if (!code || sw_code_by_name(code) == SW_C__COUNT)
            fail_msg("case %zu: status %d without a SPEC code: %.200s", i,
                     status, r.body);
        json_decref(j);
    }
    /* 5xx only as libmicrohttpd's 505 for an HTTP version it does not
     * speak and 501 for a transfer coding the server does not know (RFC
     * 9112 §6.1); a fault of the server (500) is never an answer to bad
     * input. */
    bool coding = status == 501 && r.body &&
                  strstr(r.body, "\"UNSUPPORTED_TRANSFER_ENCODING\"");
    if (status >= 500 && status != 505 && !coding)
        fail_msg("case %zu: status %d: %.200s", i, status,
                 r.body ? r.body : "");
    th_resp_free(&r);
    return status;
}

/* GET /state's state_hash is the SHA-256 of its projection's JCS. */
static void check_published_hash(int port, char hash[65], uint64_t *index)
{
    int st = 0;
    json_t *j = th_get_json(port, "/state", &st);
    assert_int_equal(st, 200);
    sw_buf_t b = SW_BUF_INIT;
    assert_true(sw_canon_json(&b, json_object_get(j, "projection")));
    char want[65];
    sw_sha256_hex(b.data, b.len, want);
    sw_buf_free(&b);
    assert_string_equal(th_jstr(j, "state_hash"), want);
    memcpy(hash, want, 65);
    *index = th_jint(j, "index");
    json_decref(j);
}

static void test_mutated_requests(void **state)
{
    th_server_t *s = *state;
    const size_t rounds = th_fuzz_rounds(20000);
    size_t n_seeds = sizeof seeds / sizeof *seeds;
    size_t by_class[7] = {0}; /* closes, 1xx .. 5xx, other */
    sw_buf_t seed = SW_BUF_INIT, req = SW_BUF_INIT;
    for (size_t i = 0; i < rounds; i++) {
        const seed_t *sd = &seeds[i % n_seeds];
        sw_buf_reset(&seed);
        sw_buf_puts(&seed, sd->head);
        if (sd->body)
            sw_buf_printf(&seed, "Content-Length: %zu\r\n", strlen(sd->body));
        sw_buf_puts(&seed, "Connection: close\r\n\r\n");
        if (sd->body)
            sw_buf_puts(&seed, sd->body);
        th_fuzz_mutate(&req, seed.data, seed.len, &mutator);
        int status = exchange(s->port, &req, i);
        by_class[status == 0 ? 0 : status / 100 <= 5 ? status / 100 : 6]++;
        if (i % 250 == 249) {
            char *h = th_health_hash(s->port); /* fails unless 200 */
            free(h);
        }
    }
    sw_buf_free(&seed);
    sw_buf_free(&req);
    print_message("closes %zu, 2xx %zu, 3xx %zu, 4xx %zu, 5xx %zu\n",
                  by_class[0], by_class[2], by_class[3], by_class[4],
                  by_class[5]);
    /* The accepting and the refusing paths both ran. */
    assert_true(by_class[2] >= rounds / 20);
    assert_true(by_class[4] >= rounds / 4);

    char hash[65], hash2[65];
    uint64_t index = 0, index2 = 0;
    check_published_hash(s->port, hash, &index);
    assert_int_equal(th_server_stop_clean(s), 0);
    assert_int_equal(th_server_restart(s, NULL), 0);
    check_published_hash(s->port, hash2, &index2);
    assert_int_equal(index2, index);
    assert_string_equal(hash2, hash);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mutated_requests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
