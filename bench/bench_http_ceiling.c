/* bench_http_ceiling: the fastest a libmicrohttpd server can answer on this
 * machine, as the reference for `swoosh serve`'s HTTP numbers.
 *
 * It uses the same daemon flags as src/http.c (internal poll thread(s),
 * suspend/resume allowed, turbo; --epoll uses libmicrohttpd's epoll loop
 * instead, which src/http.c avoids for its 128-event stall), reads the request
 * body like a POST handler must, and answers a fixed small JSON body. No
 * executor, no parsing, no storage: whatever swoosh reaches relative to this is
 * the cost of the real work. Prints "port=N" on stdout once listening; stops on
 * SIGTERM/SIGINT.
 *
 * usage: bench_http_ceiling [--port N] [--threads N] [--epoll]
 * (--threads: libmicrohttpd poll threads, default 1 like the server's.)
 */
#include <microhttpd.h>

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char reply[] =
    "{\"duplicate\":false,\"hlc_last\":\"1-0-0000000000000001\",\"index\":1,"
    "\"quarantined\":false,\"state_hash\":"
    "\"0000000000000000000000000000000000000000000000000000000000000000\","
    "\"success\":true}";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    static int marker;
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    if (*con_cls == NULL) {
        *con_cls = &marker;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* consume the body */
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        sizeof(reply) - 1, (void *)reply, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/json");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    unsigned port = 0, threads = 1;
    bool epoll = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--epoll"))
            epoll = true;
        else if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = (unsigned)atoi(argv[++i]);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    unsigned flags =
        (epoll ? MHD_USE_EPOLL_INTERNAL_THREAD : MHD_USE_POLL_INTERNAL_THREAD) |
        MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    struct MHD_Daemon *d =
        MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, NULL,
                         MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0,
                         MHD_OPTION_CONNECTION_LIMIT, 1024u,
                         MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bench_http_ceiling: cannot listen\n");
        return 1;
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("port=%u\n", di ? (unsigned)di->port : port);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
