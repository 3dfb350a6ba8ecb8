// LABEL: integration
// TIMEOUT: 120
/* test_http_conns: many keep-alive connections whose requests become ready
 * at the same moment are all answered promptly. The server is stopped
 * (SIGSTOP) while one request per connection is written, then continued, so
 * its HTTP thread finds every connection readable at once. With
 * libmicrohttpd 0.9.75's epoll loop, exactly 128 ready sockets (or a
 * multiple) made the thread block again for the whole connection timeout
 * and then close the unanswered connections (clients saw resets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char req[] = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";

/* Sends one GET /health on fd; true when all bytes went out. */
static bool send_req(int fd)
{
    return send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) ==
           (ssize_t)(sizeof(req) - 1);
}

/* Runs the burst against a one-thread server with n keep-alive
 * connections and checks every request is answered 200 within 10 s, far
 * below the 30 s connection timeout the stalled loop waited for. */
static void burst(int n)
{
    th_server_t s;
    const char *args[] = {"--http-threads", "1", "--conn-timeout", "30", NULL};
    assert_int_equal(th_server_start(&s, args), 0);
    int *fds = calloc((size_t)n, sizeof(int));
    assert_non_null(fds);
    /* Every connection is established and idle (one answered request). */
    for (int i = 0; i < n; i++) {
        fds[i] = th_connect(s.port);
        assert_true(fds[i] >= 0);
        assert_true(send_req(fds[i]));
        th_resp_t r;
        assert_int_equal(th_read_response(fds[i], 5000, &r), 0);
        assert_int_equal(r.status, 200);
        assert_false(r.closed);
        th_resp_free(&r);
    }
    /* Stop the server (confirmed by waitpid), make every connection
     * readable, continue it. */
    assert_int_equal(kill(s.pid, SIGSTOP), 0);
    int st = 0;
    assert_int_equal(waitpid(s.pid, &st, WUNTRACED), s.pid);
    assert_true(WIFSTOPPED(st));
    for (int i = 0; i < n; i++)
        assert_true(send_req(fds[i]));
    assert_int_equal(kill(s.pid, SIGCONT), 0);
    long long deadline = th_now_ms() + 10000;
    int answered = 0;
    for (int i = 0; i < n; i++) {
        long long left = deadline - th_now_ms();
        th_resp_t r;
        int rc = th_read_response(fds[i], left > 1 ? (int)left : 1, &r);
        if (rc == 0 && r.status == 200 && !r.closed)
            answered++;
        th_resp_free(&r);
    }
    /* Closed only now: a close wakes the server's loop, which would let the
     * remaining answers out of a stall before they are read. */
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    assert_int_equal(answered, n);
    assert_int_equal(th_server_stop_clean(&s), 0);
    th_server_cleanup(&s);
}

/* 128 connections ready at once (one full epoll_wait batch) are answered. */
static void test_burst_128(void **state)
{
    (void)state;
    burst(128);
}

/* 256 connections ready at once (two full batches) are answered. */
static void test_burst_256(void **state)
{
    (void)state;
    burst(256);
}

/* 127 connections ready at once (below one batch) are answered. */
static void test_burst_127(void **state)
{
    (void)state;
    burst(127);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_127),
        cmocka_unit_test(test_burst_128),
        cmocka_unit_test(test_burst_256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
