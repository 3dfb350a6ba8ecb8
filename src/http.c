/* http: libmicrohttpd server core (see http.h).
 *
 * Request life cycle, per libmicrohttpd's access-handler protocol:
 *  1. first call (headers complete): route, token, Content-Type and
 *     Content-Length checks; an error is answered at once (the body is then
 *     never read and the connection closes after the answer);
 *  2. upload calls: the body is accumulated up to the limit; beyond it the
 *     bytes are counted and dropped (413 at the end), and a client that keeps
 *     streaming far past the limit is disconnected;
 *  3. final call: the handler runs; it answers or suspends the connection;
 *  4. after sw_http_complete() resumed it: the stored answer is queued.
 * A reaper thread closes connections whose current request has not fully
 * arrived within the timeout (slow-loris), which libmicrohttpd's inactivity
 * timeout alone does not catch (a byte every few seconds keeps it alive).
 */
#include "http.h"

#include "auth.h"
#include "log.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUTES 64
#define MAX_PARAMS 4
/* Bytes a client may stream past the body limit before we stop reading and
 * close instead of answering 413 (bounds the work a flood can cause). */
#define DISCARD_SLACK (1024 * 1024)

typedef struct route_entry {
    sw_route_t r;
    void *arg;
    unsigned metric;
} route_entry_t;

/* Per-connection record for the slow-request reaper. */
typedef struct conn {
    struct conn *prev, *next;
    int fd;
    uint64_t window_start_ns; /* when the current request began to arrive */
    bool busy;                /* request fully received: being answered */
    bool reaped;
} conn_t;

enum req_state {
    RS_RECEIVING, /* headers seen, body arriving */
    RS_ANSWERED,  /* a response was queued */
    RS_SUSPENDED, /* handler suspended the connection */
    RS_READY /* sw_http_complete[_with]() stored the answer or its writer */
};

struct sw_http_req {
    sw_http_t *srv;
    struct MHD_Connection *mc;
    conn_t *conn;
    const route_entry_t *route;
    const char *method, *path; /* borrowed from libmicrohttpd */
    char *params[MAX_PARAMS];
    sw_buf_t body;
    size_t body_seen;
    bool too_large;
    bool has_body;
    sw_code_t early; /* error decided on the first call, SW_C_OK if none */
    char allow[64];
    _Atomic int state;
    int status;
    const char *ctype;
    char *resp;
    size_t resp_len;
    sw_http_answer_fn answer; /* writes resp on the worker (complete_with) */
    void *answer_arg;
    uint64_t t0;
    unsigned metric;
};

struct sw_http {
    sw_http_limits_t lim;
    char *token;
    bool token_reads, access_log;
    sw_metrics_t *metrics;
    sw_http_error_fn error_fn;
    void *error_arg;
    route_entry_t routes[MAX_ROUTES];
    size_t n_routes;
    struct MHD_Daemon *d;
    uint16_t port;

    atomic_bool closing;
    atomic_long active;    /* requests between first call and completion */
    atomic_long suspended; /* suspended and not yet completed */
    pthread_mutex_t mu;    /* guards conns, and the drain condition */
    pthread_cond_t cv;
    conn_t conns; /* list head (sentinel) */

    char too_large_msg[64]; /* BODY_TOO_LARGE's sentence with the limit */

    pthread_t reaper;
    bool reaper_started;
    bool reaper_stop; /* under mu */
    pthread_cond_t reaper_cv;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The limits of SPEC §6 and the brief's defaults come from config.h. */
void sw_http_limits_from_config(sw_http_limits_t *l, const sw_config_t *c)
{
    l->max_connections = (unsigned)c->max_connections;
    l->conn_timeout_s = (unsigned)c->conn_timeout_s;
    l->max_header_bytes = (size_t)c->max_header_bytes;
    l->max_body_bytes = (size_t)c->max_body_bytes;
    l->threads = (unsigned)c->http_threads;
    if (l->threads == 0)
        l->threads = c->guards && !strcmp(c->guards, "http")
                         ? SW_HTTP_THREADS_BLOCKING_GUARDS
                         : 1;
}

/* The server object holds only configuration until sw_http_start(). */
sw_http_t *sw_http_new(const sw_http_limits_t *limits, const char *token,
                       bool token_reads, bool access_log, sw_metrics_t *metrics)
{
    sw_http_t *s = sw_xcalloc(1, sizeof(*s));
    s->lim = *limits;
    if (s->lim.max_body_bytes == 0 || s->lim.max_body_bytes > SW_HTTP_MAX_BODY)
        s->lim.max_body_bytes = SW_HTTP_MAX_BODY;
    size_t lim = s->lim.max_body_bytes;
    if (lim % 1024 == 0)
        snprintf(s->too_large_msg, sizeof s->too_large_msg,
                 "the body exceeds %zu KiB", lim / 1024);
    else
        snprintf(s->too_large_msg, sizeof s->too_large_msg,
                 "the body exceeds %zu bytes", lim);
    if (s->lim.threads == 0)
        s->lim.threads = 1;
    s->token = token && *token ? sw_xstrdup(token) : NULL;
    s->token_reads = token_reads;
    s->access_log = access_log;
    s->metrics = metrics;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->reaper_cv, NULL);
    s->conns.next = s->conns.prev = &s->conns;
    return s;
}

/* Every error the core answers goes through the API layer's builder so its
 * body has SPEC §6's shape (state_hash and quarantined included). */
void sw_http_set_error_fn(sw_http_t *s, sw_http_error_fn fn, void *arg)
{
    s->error_fn = fn;
    s->error_arg = arg;
}

/* Route sets come from several files (http_api.c, http_whoosh.c). */
void sw_http_add_routes(sw_http_t *s, const sw_route_t *routes, size_t n,
                        void *arg)
{
    for (size_t i = 0; i < n; i++) {
        SW_ASSERT(s->n_routes < MAX_ROUTES);
        route_entry_t *e = &s->routes[s->n_routes++];
        e->r = routes[i];
        e->arg = arg;
        e->metric = s->metrics ? sw_metrics_route(s->metrics, e->r.pattern) : 0;
    }
}

/* ---------------------------------------------------------------- routing */

/* Matches `path` against `pattern` segment by segment; "*" takes one
 * non-empty segment, captured into params when given. */
static bool match(const char *pattern, const char *path, char **params)
{
    unsigned np = 0;
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p != '/' || *u != '/')
            return false;
        p++;
        u++;
        const char *pe = strchrnul(p, '/');
        const char *ue = strchrnul(u, '/');
        if (pe - p == 1 && *p == '*') {
            if (ue == u)
                return false;
            if (params && np < MAX_PARAMS)
                params[np] = sw_xstrndup(u, (size_t)(ue - u));
            np++;
        } else if (pe - p != ue - u || memcmp(p, u, (size_t)(pe - p)) != 0) {
            return false;
        }
        p = pe;
        u = ue;
    }
    return *p == '\0' && *u == '\0';
}

static void free_params(sw_http_req_t *r)
{
    for (unsigned i = 0; i < MAX_PARAMS; i++) {
        free(r->params[i]);
        r->params[i] = NULL;
    }
}

/* Finds the route for method+path, or decides 404 / 405 (with Allow). HEAD
 * is served by GET routes (libmicrohttpd drops the body). */
static sw_code_t route(sw_http_t *s, sw_http_req_t *r)
{
    const char *m = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    bool path_known = false;
    r->allow[0] = '\0';
    for (size_t i = 0; i < s->n_routes; i++) {
        const route_entry_t *e = &s->routes[i];
        if (!match(e->r.pattern, r->path, NULL))
            continue;
        if (strcmp(e->r.method, m) == 0) {
            free_params(r);
            match(e->r.pattern, r->path, r->params);
            r->route = e;
            r->metric = e->metric;
            return SW_C_OK;
        }
        /* Collect the allowed methods for a 405. */
        if (!strstr(r->allow, e->r.method)) {
            size_t n = strlen(r->allow);
            snprintf(r->allow + n, sizeof(r->allow) - n, "%s%s", n ? ", " : "",
                     e->r.method);
            if (strcmp(e->r.method, "GET") == 0) {
                n = strlen(r->allow);
                snprintf(r->allow + n, sizeof(r->allow) - n, ", HEAD");
            }
        }
        path_known = true;
    }
    return path_known ? SW_C_METHOD_NOT_ALLOWED : SW_C_NOT_FOUND;
}

/* "application/json" with optional parameters (charset=…), any case. */
static bool is_json_type(const char *ct)
{
    static const char want[] = "application/json";
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
        return false;
    ct += sizeof(want) - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* --------------------------------------------------------------- answers */

static void queue(sw_http_req_t *r, int status, const char *ctype, char *body,
                  size_t len, bool close_after)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body ? body : (char *)"",
        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    SW_ASSERT(resp);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            ctype ? ctype : "application/json");
    if (status == 405 && r->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (status == 401) /* RFC 6750 §3: the scheme the token is for */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer");
    if (status == 503) /* overloaded, stopping, or storage failed: later */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    /* A stopping server keeps no connection open for another request. */
    if (close_after || atomic_load(&r->srv->closing))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    r->status = status;
    atomic_store(&r->state, RS_ANSWERED);
    if (MHD_queue_response(r->mc, (unsigned)status, resp) != MHD_YES)
        sw_log(SW_LOG_WARN, "http_queue_failed", "path", r->path, NULL);
    MHD_destroy_response(resp);
}

static char *error_body(sw_http_t *s, sw_code_t code, const char *msg,
                        size_t *len)
{
    sw_buf_t b = SW_BUF_INIT;
    if (!msg && code == SW_C_BODY_TOO_LARGE)
        msg = s->too_large_msg; /* the configured limit, not the default */
    if (s->error_fn) {
        s->error_fn(s->error_arg, code, msg ? msg : sw_code_message(code), &b);
    } else {
        sw_buf_printf(&b,
                      "{\"code\":\"%s\",\"error\":\"%s\",\"success\":false}",
                      sw_code_name(code), sw_code_message(code));
    }
    return sw_buf_steal(&b, len);
}

/* Handlers answer synchronously with this. */
void sw_http_respond(sw_http_req_t *r, int status, const char *content_type,
                     char *body, size_t len)
{
    queue(r, status, content_type, body, len, false);
}

/* Every SPEC §6 error goes out with the standard body. */
void sw_http_respond_error(sw_http_req_t *r, sw_code_t code, const char *msg)
{
    size_t len = 0;
    char *body = error_body(r->srv, code, msg, &len);
    if (r->srv->metrics)
        sw_metrics_count_rejection(r->srv->metrics, code);
    queue(r, sw_code_status(code), NULL, body, len, false);
}

/* Drops one from a drain counter (active or suspended requests); the last
 * one out while the server is closing wakes sw_http_drain(). */
static void counter_release(sw_http_t *s, atomic_long *ctr)
{
    if (atomic_fetch_sub(ctr, 1) == 1 && atomic_load(&s->closing)) {
        pthread_mutex_lock(&s->mu);
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

/* Suspension lets the executor answer without a thread waiting per
 * request (SPEC §4: HTTP threads enqueue; the executor answers). The
 * counter is raised before `closing` is read, and sw_http_drain() sets
 * `closing` before it reads the counter, so either this call refuses or the
 * drain waits for the request. */
bool sw_http_suspend(sw_http_req_t *r)
{
    sw_http_t *s = r->srv;
    atomic_fetch_add(&s->suspended, 1);
    if (atomic_load(&s->closing)) {
        counter_release(s, &s->suspended);
        return false;
    }
    atomic_store(&r->state, RS_SUSPENDED);
    MHD_suspend_connection(r->mc);
    return true;
}

/* Resumes a request whose answer is stored; the request may be freed by a
 * worker as soon as MHD_resume_connection() is called, so nothing touches it
 * afterwards. */
static void resume_ready(sw_http_req_t *r)
{
    sw_http_t *s = r->srv;
    atomic_store(&r->state, RS_READY);
    MHD_resume_connection(r->mc);
    counter_release(s, &s->suspended);
}

/* Runs on the executor thread (or any other). */
void sw_http_complete(sw_http_req_t *r, int status, const char *content_type,
                      char *body, size_t len)
{
    r->status = status;
    r->ctype = content_type;
    r->resp = body;
    r->resp_len = len;
    resume_ready(r);
}

/* The executor's way of answering: it only resumes; the worker that sends
 * the answer runs `fn` (take_answer), keeping formatting off the executor. */
void sw_http_complete_with(sw_http_req_t *r, sw_http_answer_fn fn, void *arg)
{
    r->answer = fn;
    r->answer_arg = arg;
    resume_ready(r);
}

/* Runs a deferred answer writer (sw_http_complete_with) once. */
static void take_answer(sw_http_req_t *r)
{
    sw_http_answer_fn fn = r->answer;
    if (!fn)
        return;
    r->answer = NULL;
    r->resp = fn(r->answer_arg, &r->status, &r->ctype, &r->resp_len);
}

/* --------------------------------------------------------- access handler */

static conn_t *conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? (conn_t *)ci->socket_context : NULL;
}

/* Counts Content-Length headers and whether their values differ. */
typedef struct cl_scan {
    unsigned n;
    const char *first;
    bool differ;
} cl_scan_t;

static enum MHD_Result scan_cl(void *arg, enum MHD_ValueKind kind,
                               const char *key, const char *value)
{
    cl_scan_t *c = arg;
    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
        return MHD_YES;
    if (c->n++ == 0)
        c->first = value ? value : "";
    else if (strcmp(c->first, value ? value : "") != 0)
        c->differ = true;
    return MHD_YES;
}

/* RFC 9112 §6.3: a body framed two ways (differing Content-Length values,
 * or Content-Length beside Transfer-Encoding) is how requests are smuggled
 * past a proxy that reads the other framing; libmicrohttpd 0.9.75 would pick
 * one silently. */
static bool ambiguous_framing(sw_http_req_t *r, const char *cl, const char *te)
{
    if (!cl)
        return false;
    if (te)
        return true;
    cl_scan_t c = {0, NULL, false};
    MHD_get_connection_values(r->mc, MHD_HEADER_KIND, scan_cl, &c);
    return c.differ;
}

static sw_code_t first_checks(sw_http_t *s, sw_http_req_t *r)
{
    const char *cl = MHD_lookup_connection_value(
        r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(
        r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    r->has_body = (cl && strspn(cl, "0") != strlen(cl)) || te != NULL;
    if (atomic_load(&s->closing))
        return SW_C_SHUTTING_DOWN;
    if (ambiguous_framing(r, cl, te)) {
        r->has_body = true; /* answer now and close: the body is unknown */
        return SW_C_BAD_FRAMING;
    }
    /* libmicrohttpd 0.9.75 frames only "chunked"; with any other coding it
     * waits for a body end that never comes, until the connection timeout.
     * RFC 9112 §6.1: answer 501 for a coding the server does not know. */
    if (te && strcasecmp(te, "chunked") != 0)
        return SW_C_UNSUPPORTED_TRANSFER_ENCODING;
    sw_code_t c = route(s, r);
    if (c != SW_C_OK)
        return c;
    unsigned flags = r->route->r.flags;
    bool needs_token = s->token && !(flags & SW_ROUTE_OPEN) &&
                       ((flags & SW_ROUTE_WRITE) || s->token_reads);
    if (needs_token &&
        !sw_auth_bearer_ok(s->token, MHD_lookup_connection_value(
                                         r->mc, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_AUTHORIZATION)))
        return SW_C_UNAUTHORIZED;
    if (flags & SW_ROUTE_WRITE) {
        const char *ct = MHD_lookup_connection_value(
            r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (ct && !is_json_type(ct))
            return SW_C_UNSUPPORTED_MEDIA_TYPE;
    }
    if (cl) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || n > s->lim.max_body_bytes)
            return SW_C_BODY_TOO_LARGE;
        if (n > 0 && (flags & SW_ROUTE_WRITE))
            sw_buf_reserve(&r->body, (size_t)n);
    }
    return SW_C_OK;
}

/* Phase 1, headers complete: the request object and the checks that need
 * no body. A failing request with a body is answered now and closed (the
 * body is never read); a bodiless one is answered on the final call, so the
 * connection stays usable (keep-alive). */
static sw_http_req_t *begin_request(sw_http_t *s, struct MHD_Connection *mc,
                                    const char *url, const char *method)
{
    sw_http_req_t *r = sw_xcalloc(1, sizeof(*r));
    r->srv = s;
    r->mc = mc;
    r->method = method;
    r->path = url;
    r->t0 = now_ns();
    r->conn = conn_of(mc);
    atomic_fetch_add(&s->active, 1);
    r->early = first_checks(s, r);
    if (r->early != SW_C_OK &&
        (r->has_body || r->early == SW_C_SHUTTING_DOWN)) {
        size_t len = 0;
        char *body = error_body(s, r->early, NULL, &len);
        if (s->metrics)
            sw_metrics_count_rejection(s->metrics, r->early);
        queue(r, sw_code_status(r->early), NULL, body, len, true);
    }
    return r;
}

/* Phase 2, a piece of the body: kept for a write route within the limit,
 * else counted and dropped. False closes the connection (a flood far past
 * the limit is not read to its end). */
static bool take_body(sw_http_t *s, sw_http_req_t *r, const char *upload,
                      size_t n)
{
    bool keep =
        r->early == SW_C_OK && r->route && (r->route->r.flags & SW_ROUTE_WRITE);
    r->body_seen += n;
    if (keep && !r->too_large) {
        if (r->body.len + n <= s->lim.max_body_bytes)
            sw_buf_append(&r->body, upload, n);
        else
            r->too_large = true;
    }
    return r->body_seen <= s->lim.max_body_bytes + DISCARD_SLACK;
}

/* Phase 3, the whole request has arrived: an early error or an oversized
 * body is answered, otherwise the route's handler runs (it answers or
 * suspends). */
static void dispatch(sw_http_t *s, sw_http_req_t *r)
{
    if (r->early != SW_C_OK) {
        sw_http_respond_error(r, r->early, NULL);
        return;
    }
    if (r->conn) { /* the reaper leaves a complete request alone */
        pthread_mutex_lock(&s->mu);
        r->conn->busy = true;
        pthread_mutex_unlock(&s->mu);
    }
    if (r->too_large) {
        sw_http_respond_error(r, SW_C_BODY_TOO_LARGE, NULL);
        return;
    }
    if (r->body.data == NULL)
        sw_buf_reserve(&r->body, 0);
    r->route->r.fn(r, r->route->arg);
    SW_ASSERT(atomic_load(&r->state) != RS_RECEIVING);
}

/* libmicrohttpd calls this once with the headers, once per piece of body,
 * once at the end, and once more after a suspended request is resumed
 * (phase 4: the answer the executor's callback left is queued). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    sw_http_t *s = cls;
    sw_http_req_t *r = *con_cls;
    (void)version;
    if (!r) {
        *con_cls = begin_request(s, mc, url, method);
        return MHD_YES;
    }
    int st = atomic_load(&r->state);
    if (st == RS_READY) {
        take_answer(r);
        queue(r, r->status, r->ctype, r->resp, r->resp_len, false);
        r->resp = NULL;
        return MHD_YES;
    }
    if (st != RS_RECEIVING) {
        /* Answered already; drop any further body bytes. */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!take_body(s, r, upload, *upload_size))
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    dispatch(s, r);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    sw_http_t *s = cls;
    sw_http_req_t *r = *con_cls;
    (void)mc;
    if (!r)
        return;
    *con_cls = NULL;
    if (r->answer) { /* the client went away before its answer was queued */
        take_answer(r);
        r->status = 0; /* counted as 499 below */
    }
    uint64_t dt = now_ns() - r->t0;
    int status = r->status ? r->status : 0;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && status == 0)
        status = 499; /* client went away before an answer */
    if (s->metrics)
        sw_metrics_observe_request(s->metrics, r->metric, status, dt);
    if (s->access_log) {
        char st_txt[16], us[24];
        snprintf(st_txt, sizeof(st_txt), "%d", status);
        snprintf(us, sizeof(us), "%llu", (unsigned long long)(dt / 1000));
        sw_log(SW_LOG_INFO, "http_request", "method", r->method, "path",
               r->path, "status", st_txt, "duration_us", us, "completed",
               toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "true" : "false",
               NULL);
    }
    if (r->conn) {
        pthread_mutex_lock(&s->mu);
        r->conn->busy = false;
        r->conn->window_start_ns = now_ns();
        pthread_mutex_unlock(&s->mu);
    }
    free(r->resp);
    free_params(r);
    sw_buf_free(&r->body);
    free(r);
    counter_release(s, &s->active);
}

/* Connection start/close: keeps the reaper's list. libmicrohttpd reports
 * CLOSED before it closes the socket, so the reaper (which holds mu) never
 * shuts down a reused descriptor. */
static void on_connection(void *cls, struct MHD_Connection *mc,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    sw_http_t *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_t *c = sw_xcalloc(1, sizeof(*c));
        c->fd = ci ? ci->connect_fd : -1;
        c->window_start_ns = now_ns();
        pthread_mutex_lock(&s->mu);
        c->next = s->conns.next;
        c->prev = &s->conns;
        s->conns.next->prev = c;
        s->conns.next = c;
        pthread_mutex_unlock(&s->mu);
        *socket_context = c;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_t *c = *socket_context;
        if (!c)
            return;
        pthread_mutex_lock(&s->mu);
        c->prev->next = c->next;
        c->next->prev = c->prev;
        pthread_mutex_unlock(&s->mu);
        free(c);
        *socket_context = NULL;
    }
}

/* How often the reaper looks for slow requests, and the longest a drain
 * waits before it re-checks its counter (a safety net under the wake-up). */
#define REAPER_TICK_NS 250000000ull
#define DRAIN_TICK_NS  50000000ull

/* Waits on cv (with mu held) until woken or `ns` from now has passed. */
static void timedwait_ns(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ns += (uint64_t)ts.tv_nsec;
    ts.tv_sec += (time_t)(ns / 1000000000ull);
    ts.tv_nsec = (long)(ns % 1000000000ull);
    pthread_cond_timedwait(cv, mu, &ts);
}

/* Closes connections whose request has not fully arrived within the
 * timeout: shutdown() makes libmicrohttpd see EOF and clean up itself. */
static void *reaper_main(void *arg)
{
    sw_http_t *s = arg;
    uint64_t limit = (uint64_t)s->lim.conn_timeout_s * 1000000000ull;
    pthread_mutex_lock(&s->mu);
    while (!s->reaper_stop) {
        timedwait_ns(&s->reaper_cv, &s->mu, REAPER_TICK_NS);
        uint64_t now = now_ns();
        for (conn_t *c = s->conns.next; c != &s->conns; c = c->next) {
            if (c->busy || c->reaped || c->fd < 0)
                continue;
            if (now - c->window_start_ns > limit) {
                c->reaped = true;
                shutdown(c->fd, SHUT_RDWR);
                sw_log(SW_LOG_DEBUG, "http_slow_request_closed", NULL);
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char msg[512], q[600];
    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    sw_logf(SW_LOG_DEBUG, "mhd", "msg=%s", sw_log_quote(msg, q, sizeof(q)));
}

static bool resolve(const char *host, uint16_t port, bool ipv6,
                    struct sockaddr_storage *ss, swoosh_error *err)
{
    memset(ss, 0, sizeof(*ss));
    if (!*host) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        a->sin_addr.s_addr = htonl(INADDR_ANY);
        return true;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = ipv6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        sw_error_set(err, SWOOSH_EINVAL, 0, "listen: cannot resolve '%s': %s",
                     host, gai_strerror(rc));
        return false;
    }
    /* Prefer IPv4 for names like "localhost" unless [::] was given. */
    struct addrinfo *pick = res;
    for (struct addrinfo *a = res; a && !ipv6; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    freeaddrinfo(res);
    return true;
}

/* Starts libmicrohttpd with its own poll thread(s) and suspend/resume, the
 * limits of SPEC §6, and the reaper thread. */
swoosh_err_t sw_http_start(sw_http_t *s, const char *host, uint16_t port,
                           bool ipv6, swoosh_error *err)
{
    struct sockaddr_storage ss;
    if (!resolve(host ? host : "", port, ipv6, &ss, err))
        return SWOOSH_EINVAL;
    /* ":PORT" means every interface, IPv6 ones included: one dual-stack
     * socket when the host has IPv6, else IPv4 alone. */
    bool any = !host || !*host;
    if (any) {
        int probe = socket(AF_INET6, SOCK_STREAM, 0);
        if (probe >= 0) {
            close(probe);
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            memset(&ss, 0, sizeof ss);
            a->sin6_family = AF_INET6;
            a->sin6_port = htons(port);
            a->sin6_addr = in6addr_any;
        }
    }
    /* poll(), not epoll: libmicrohttpd 0.9.75's epoll loop fetches at most
     * 128 events per epoll_wait() and, when it got exactly 128, calls
     * epoll_wait() again with the same blocking timeout before serving them;
     * if nothing else becomes ready, the 128 connections (edge-triggered, so
     * never reported again) wait until the connection timeout closes them
     * unread (the client sees a reset). poll() is level-triggered and has no
     * such cap. */
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6)
        flags |= any ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    unsigned pool = s->lim.threads > 1 ? s->lim.threads : 0;
    s->d = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_logger, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_CONNECTION_LIMIT,
        s->lim.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        s->lim.conn_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        s->lim.max_header_bytes, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
    if (!s->d)
        return sw_error_set(err, SWOOSH_EIO, errno,
                            "http: cannot listen on %s:%u",
                            host && *host ? host : "*", (unsigned)port);
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : port;
    int e = pthread_create(&s->reaper, NULL, reaper_main, s);
    if (e != 0) { /* no server without its slow-request limit */
        MHD_stop_daemon(s->d);
        s->d = NULL;
        return sw_error_set(err, SWOOSH_EIO, e,
                            "http: cannot start the connection reaper");
    }
    s->reaper_started = true;
    return SWOOSH_OK;
}

/* Lets the caller log the port actually bound (port 0 = any). */
uint16_t sw_http_port(const sw_http_t *s)
{
    return s->port;
}

static bool wait_zero(sw_http_t *s, atomic_long *ctr, uint64_t deadline_ns)
{
    bool ok = true;
    pthread_mutex_lock(&s->mu);
    while (atomic_load(ctr) > 0) {
        uint64_t now = now_ns();
        if (now >= deadline_ns) {
            ok = false;
            break;
        }
        uint64_t step = deadline_ns - now;
        timedwait_ns(&s->cv, &s->mu,
                     step < DRAIN_TICK_NS ? step : DRAIN_TICK_NS);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* SPEC §8 SIGTERM: stop accepting, finish what is in flight. Suspended
 * requests are always waited for (the executor answers each exactly once);
 * requests still arriving are waited for up to timeout_ms. */
bool sw_http_drain(sw_http_t *s, unsigned timeout_ms)
{
    if (!s->d)
        return true;
    atomic_store(&s->closing, true);
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
    bool ok = wait_zero(s, &s->active, deadline);
    wait_zero(s, &s->suspended, UINT64_MAX);
    return ok;
}

/* Stops threads and daemon, then frees. */
void sw_http_free(sw_http_t *s)
{
    if (!s)
        return;
    if (s->d && !atomic_load(&s->closing))
        sw_http_drain(s, 0);
    if (s->reaper_started) {
        pthread_mutex_lock(&s->mu);
        s->reaper_stop = true;
        pthread_cond_broadcast(&s->reaper_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->reaper, NULL);
    }
    if (s->d)
        MHD_stop_daemon(s->d);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->reaper_cv);
    pthread_mutex_destroy(&s->mu);
    free(s->token);
    free(s);
}

/* ------------------------------------------------------------- accessors */

/* Handlers that serve several methods (WHOOSH adapters) need it. */
const char *sw_http_req_method(const sw_http_req_t *r)
{
    return r->method;
}

/* SPEC §7 derives idempotency keys from method and path. */
const char *sw_http_req_path(const sw_http_req_t *r)
{
    return r->path;
}

/* Path segments matched by "*" (task and council ids of SPEC §7). */
const char *sw_http_req_param(const sw_http_req_t *r, unsigned i)
{
    return i < MAX_PARAMS ? r->params[i] : NULL;
}

/* Query arguments (?projection=, ?from=, ?status=), already decoded. */
const char *sw_http_req_query(const sw_http_req_t *r, const char *key)
{
    const char *v = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(r->mc, MHD_GET_ARGUMENT_KIND, key,
                                      strlen(key), &v, &n) != MHD_YES)
        return NULL;
    return v ? v : ""; /* "?key" without "=": given, and empty */
}

/* Request headers (Idempotency-Key of SPEC §7, for instance). */
const char *sw_http_req_header(const sw_http_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, name);
}

/* The accumulated body; never NULL so parsers need no special case. */
const char *sw_http_req_body(const sw_http_req_t *r, size_t *len)
{
    *len = r->body.len;
    return r->body.data ? r->body.data : "";
}
