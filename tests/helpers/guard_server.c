/* guard_server: loopback guard services for the guard provider tests (see
 * guard_server.h). Thread per connection, so a hanging handler blocks only
 * its own connection and concurrent calls really overlap. */
#include "guard_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GS_MAX_ROUTES 8
#define GS_MAX_BODY   (256 * 1024)

typedef struct gs_route {
    char path[64];
    gs_behaviour_t b;
    unsigned ms, n;
    unsigned calls;
    char *last_body;
} gs_route_t;

struct guard_server {
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* in-flight changes and stop */
    bool stopping;
    gs_route_t routes[GS_MAX_ROUTES];
    int n_routes;
    unsigned inflight, max_inflight, connections;
};

typedef struct gs_req {
    char *body;
    size_t len;
    bool too_big;
} gs_req_t;

static gs_route_t *find_route(guard_server_t *gs, const char *path)
{
    for (int i = 0; i < gs->n_routes; i++)
        if (strcmp(gs->routes[i].path, path) == 0)
            return &gs->routes[i];
    return NULL;
}

static struct timespec deadline_after(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
                              const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Decides the answer for one complete request under the route's behaviour;
 * called with gs->mu held, returns with it held. */
static unsigned behave(guard_server_t *gs, gs_route_t *rt, const char **body)
{
    gs_behaviour_t b = rt->b;
    unsigned ms = rt->ms, n = rt->n;
    struct timespec until;
    *body = "{\"ok\":true}";
    switch (b) {
    case GS_PASS:
        return 200;
    case GS_DENY:
        *body = "{\"ok\":false,\"reason\":\"denied by test\"}";
        return 200;
    case GS_GARBAGE:
        *body = "this is not json {";
        return 200;
    case GS_NOT_BOOL:
        *body = "{\"ok\":\"yes\"}";
        return 200;
    case GS_STATUS_500:
        return 500;
    case GS_HANG:
        until = deadline_after(ms);
        while (!gs->stopping &&
               pthread_cond_timedwait(&gs->cv, &gs->mu, &until) != ETIMEDOUT)
            ;
        return 200;
    case GS_RENDEZVOUS:
        until = deadline_after(ms);
        while (!gs->stopping && gs->max_inflight < n &&
               pthread_cond_timedwait(&gs->cv, &gs->mu, &until) != ETIMEDOUT)
            ;
        if (gs->max_inflight >= n)
            return 200;
        *body = "{\"error\":\"rendezvous not reached\"}";
        return 503;
    }
    return 500;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **req_cls)
{
    guard_server_t *gs = cls;
    gs_req_t *rq = *req_cls;
    (void)version;
    if (rq == NULL) {
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return MHD_NO;
        *req_cls = rq;
        return MHD_YES;
    }
    if (*data_size > 0) {
        if (rq->len + *data_size > GS_MAX_BODY) {
            rq->too_big = true;
        } else {
            char *nb = realloc(rq->body, rq->len + *data_size + 1);
            if (nb == NULL)
                return MHD_NO;
            rq->body = nb;
            memcpy(rq->body + rq->len, data, *data_size);
            rq->len += *data_size;
            rq->body[rq->len] = '\0';
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0)
        return answer(c, 405, "{\"error\":\"POST only\"}");
    if (rq->too_big)
        return answer(c, 413, "{\"error\":\"too big\"}");

    pthread_mutex_lock(&gs->mu);
    gs_route_t *rt = find_route(gs, url);
    if (rt == NULL) {
        pthread_mutex_unlock(&gs->mu);
        return answer(c, 404, "{\"error\":\"no such guard\"}");
    }
    rt->calls++;
    free(rt->last_body);
    rt->last_body = strdup(rq->body != NULL ? rq->body : "");
    gs->inflight++;
    if (gs->inflight > gs->max_inflight)
        gs->max_inflight = gs->inflight;
    pthread_cond_broadcast(&gs->cv);
    const char *body;
    unsigned status = behave(gs, rt, &body);
    gs->inflight--;
    pthread_mutex_unlock(&gs->mu);
    return answer(c, status, body);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    gs_req_t *rq = *req_cls;
    if (rq != NULL) {
        free(rq->body);
        free(rq);
        *req_cls = NULL;
    }
}

static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    guard_server_t *gs = cls;
    (void)c;
    (void)socket_context;
    if (toe != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    pthread_mutex_lock(&gs->mu);
    gs->connections++;
    pthread_mutex_unlock(&gs->mu);
}

/* Binds 127.0.0.1:0 so parallel test runs never collide, and reads the
 * port back from the daemon instead of guessing a free one. */
guard_server_t *guard_server_start(void)
{
    guard_server_t *gs = calloc(1, sizeof(*gs));
    if (gs == NULL)
        return NULL;
    pthread_mutex_init(&gs->mu, NULL);
    pthread_cond_init(&gs->cv, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    gs->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_USE_ITC,
        0, NULL, NULL, on_request, gs, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, gs,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, gs,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (gs->d == NULL)
        goto fail;
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(gs->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0)
        goto fail;
    gs->port = info->port;
    return gs;
fail:
    if (gs->d != NULL)
        MHD_stop_daemon(gs->d);
    pthread_cond_destroy(&gs->cv);
    pthread_mutex_destroy(&gs->mu);
    free(gs);
    return NULL;
}

/* Wakes hanging handlers first: MHD_stop_daemon joins the connection
 * threads, which would otherwise wait out their hang. */
void guard_server_stop(guard_server_t *gs)
{
    if (gs == NULL)
        return;
    pthread_mutex_lock(&gs->mu);
    gs->stopping = true;
    pthread_cond_broadcast(&gs->cv);
    pthread_mutex_unlock(&gs->mu);
    MHD_stop_daemon(gs->d);
    for (int i = 0; i < gs->n_routes; i++)
        free(gs->routes[i].last_body);
    pthread_cond_destroy(&gs->cv);
    pthread_mutex_destroy(&gs->mu);
    free(gs);
}

/* Tests build URLs and expectations from the bound port. */
uint16_t guard_server_port(const guard_server_t *gs)
{
    return gs->port;
}

/* Tests configure providers with URLs, so the helper spells them once. */
void guard_server_url(const guard_server_t *gs, const char *route, char *out,
                      size_t n)
{
    snprintf(out, n, "http://127.0.0.1:%u%s", (unsigned)gs->port, route);
}

/* Behaviour changes take the lock, so a test may switch a route between
 * evaluations while connections stay open. */
void guard_server_set(guard_server_t *gs, const char *route, gs_behaviour_t b,
                      unsigned ms, unsigned n)
{
    pthread_mutex_lock(&gs->mu);
    gs_route_t *rt = find_route(gs, route);
    if (rt == NULL && gs->n_routes < GS_MAX_ROUTES) {
        rt = &gs->routes[gs->n_routes++];
        snprintf(rt->path, sizeof(rt->path), "%s", route);
    }
    if (rt != NULL) {
        rt->b = b;
        rt->ms = ms;
        rt->n = n;
    }
    pthread_mutex_unlock(&gs->mu);
}

/* Call counts show which guards a provider consulted. */
unsigned guard_server_calls(guard_server_t *gs, const char *route)
{
    pthread_mutex_lock(&gs->mu);
    gs_route_t *rt = find_route(gs, route);
    unsigned n = rt != NULL ? rt->calls : 0;
    pthread_mutex_unlock(&gs->mu);
    return n;
}

/* The last body lets tests check the request contract of docs/GUARDS.md. */
char *guard_server_last_body(guard_server_t *gs, const char *route)
{
    pthread_mutex_lock(&gs->mu);
    gs_route_t *rt = find_route(gs, route);
    char *b =
        rt != NULL && rt->last_body != NULL ? strdup(rt->last_body) : NULL;
    pthread_mutex_unlock(&gs->mu);
    return b;
}

/* Overlap of requests proves concurrency without timing anything. */
unsigned guard_server_max_inflight(guard_server_t *gs)
{
    pthread_mutex_lock(&gs->mu);
    unsigned n = gs->max_inflight;
    pthread_mutex_unlock(&gs->mu);
    return n;
}

/* Accepted connections versus calls shows keep-alive reuse. */
unsigned guard_server_connections(guard_server_t *gs)
{
    pthread_mutex_lock(&gs->mu);
    unsigned n = gs->connections;
    pthread_mutex_unlock(&gs->mu);
    return n;
}

/* Lets one test measure a phase of its own; requests still in flight keep
 * counting toward max_inflight. */
void guard_server_reset_counts(guard_server_t *gs)
{
    pthread_mutex_lock(&gs->mu);
    for (int i = 0; i < gs->n_routes; i++) {
        gs->routes[i].calls = 0;
        free(gs->routes[i].last_body);
        gs->routes[i].last_body = NULL;
    }
    gs->max_inflight = gs->inflight;
    gs->connections = 0;
    pthread_mutex_unlock(&gs->mu);
}
