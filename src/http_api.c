/* http_api: the endpoints of SPEC §6 (see http_api.h). */
#include "http_api.h"

#include "http_whoosh.h"

#include "canon.h"
#include "catalog.h"
#include "log.h"
#include "reducer.h"
#include "state.h"
#include "wal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LOG_LIMIT_DEFAULT 100
#define LOG_LIMIT_MAX     1000
/* A GET /log page also stops once its records pass this many bytes (it
 * always holds at least one): the page stays in memory until its client
 * has read it, and 1,000 records of evidence-heavy proposals would be
 * ~60 MB per connection, which a few clients that never read could turn
 * into an out-of-memory abort. `next` still says where to go on. */
#define LOG_PAGE_BYTES_MAX (1u << 20)

struct sw_api {
    sw_executor_t *ex;
    sw_metrics_t *metrics;
    sw_guard_provider_t *guards; /* borrowed; NULL = every guard passes */
    char *transitions_body;      /* GET /transitions, built once */
    size_t transitions_len;
    /* GET /log reader: reads the log off the HTTP thread (see h_log). */
    pthread_mutex_t log_mu;
    pthread_cond_t log_cv;
    struct log_job *log_head, *log_tail; /* oldest first */
    bool log_stop;
    pthread_t log_reader;
};

/* The guard outcome of a proposal, evaluated in the request path before it
 * is submitted (SPEC §4 "Guards"): the executor only records it, so replay
 * never calls a guard service. */
static void evaluate_guards(sw_api_t *api, const sw_proposal_t *p,
                            sw_guards_t *g)
{
    if (!api->guards) {
        *g = SW_GUARDS_ALL_OK;
        return;
    }
    sw_guards_evaluate(api->guards, p, g, NULL);
}

/* ------------------------------------------------------------ JSON bits */

static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* Escapes like JCS (so bodies stay canonical) and repairs invalid UTF-8. */
void sw_api_json_str(sw_buf_t *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    sw_buf_t clean = SW_BUF_INIT;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 0) {
            sw_buf_puts(&clean, "\xef\xbf\xbd");
            p++;
        } else {
            sw_buf_append(&clean, p, n);
            p += n;
        }
    }
    sw_canon_string(out, clean.data ? clean.data : "", clean.len);
    sw_buf_free(&clean);
}

static void put_bool(sw_buf_t *b, bool v)
{
    sw_buf_puts(b, v ? "true" : "false");
}

/* SPEC §6 error body, keys in JCS order. `index` is written when has_index
 * (POLICY_VIOLATION carries the new index). */
static void error_json(sw_buf_t *b, sw_code_t code, const char *msg,
                       bool duplicate, bool has_index, uint64_t index,
                       const char *state_hash, bool quarantined)
{
    sw_buf_puts(b, "{\"code\":\"");
    sw_buf_puts(b, sw_code_name(code));
    sw_buf_puts(b, "\",");
    if (duplicate)
        sw_buf_puts(b, "\"duplicate\":true,");
    sw_buf_puts(b, "\"error\":");
    sw_api_json_str(b, msg && *msg ? msg : sw_code_message(code));
    if (has_index) {
        sw_buf_puts(b, ",\"index\":");
        sw_buf_put_u64(b, index);
    }
    sw_buf_puts(b, ",\"quarantined\":");
    put_bool(b, quarantined);
    sw_buf_puts(b, ",\"state_hash\":\"");
    sw_buf_puts(b, state_hash);
    sw_buf_puts(b, "\",\"success\":false}");
}

/* Every error carries the current view's hash and quarantine flag
 * (SPEC §6: `quarantined` is always the state's flag after the request). */
void sw_api_error_body(sw_api_t *api, sw_code_t code, const char *msg,
                       sw_buf_t *out)
{
    sw_view_t *v = sw_executor_view(api->ex);
    error_json(out, code, msg, false, false, 0, v->state_hash, v->quarantined);
    sw_view_release(v);
}

static void error_cb(void *arg, sw_code_t code, const char *msg, sw_buf_t *out)
{
    sw_api_error_body(arg, code, msg, out);
}

static void respond_buf(sw_http_req_t *req, int status, const char *ctype,
                        sw_buf_t *b)
{
    size_t len = 0;
    char *body = sw_buf_steal(b, &len);
    sw_http_respond(req, status, ctype, body, len);
}

/* ------------------------------------------------------------ POST paths */

/* An executor reply on its way to the connection that asked. */
typedef struct pending {
    sw_http_req_t *req;
    sw_reply_t reply;
} pending_t;

/* The answer of SPEC §6 for an executor reply, written on the worker thread
 * that sends it (sw_http_answer_fn). */
static char *answer_reply(void *arg, int *status, const char **ctype,
                          size_t *len)
{
    pending_t *pd = arg;
    const sw_reply_t *rep = &pd->reply;
    sw_buf_t b = SW_BUF_INIT;
    sw_buf_reserve(&b, 256);
    *status = 200;
    *ctype = NULL;
    if (rep->code == SW_C_OK) {
        sw_buf_puts(&b, "{\"duplicate\":");
        put_bool(&b, rep->duplicate);
        sw_buf_puts(&b, ",\"hlc_last\":\"");
        sw_buf_puts(&b, rep->hlc_last);
        sw_buf_puts(&b, "\",\"index\":");
        sw_buf_put_u64(&b, rep->index);
        sw_buf_puts(&b, ",\"quarantined\":");
        put_bool(&b, rep->quarantined);
        sw_buf_puts(&b, ",\"state_hash\":\"");
        sw_buf_puts(&b, rep->state_hash);
        sw_buf_puts(&b, "\",\"success\":true}");
    } else {
        *status = sw_code_status(rep->code);
        error_json(&b, rep->code, rep->msg, rep->duplicate,
                   rep->code == SW_C_POLICY_VIOLATION, rep->index,
                   rep->state_hash, rep->quarantined);
    }
    free(pd);
    return sw_buf_steal(&b, len);
}

/* Runs on the executor thread, the one serial stage of the service, so it
 * does the least it can: it copies the reply and resumes the connection (a
 * mutex and an eventfd write inside libmicrohttpd); the worker thread that
 * sends the answer formats it. Together with one HTTP thread (http.h), this
 * answered ~14% more transitions/s at 64 connections than a responder thread
 * that formatted and resumed, one thread wake-up more per batch
 * (docs/BENCHMARKS.md). */
static void on_done(void *arg, const sw_reply_t *rep)
{
    pending_t *pd = arg;
    pd->reply = *rep;
    sw_http_complete_with(pd->req, answer_reply, pd);
}

/* SPEC §4: guards in the request path, then the executor's queue; the
 * connection is suspended so no thread waits for the commit. */
void sw_api_submit(sw_api_t *api, sw_http_req_t *req, sw_proposal_t *p)
{
    /* After a storage failure every proposal is refused (SPEC §4): answer
     * at once rather than call guard services for it first. */
    if (!sw_executor_storage_ok(api->ex)) {
        sw_proposal_destroy(p);
        sw_http_respond_error(req, SW_C_STORAGE_UNAVAILABLE, NULL);
        return;
    }
    sw_guards_t g;
    evaluate_guards(api, p, &g);
    if (!sw_http_suspend(req)) {
        sw_proposal_destroy(p);
        sw_http_respond_error(req, SW_C_SHUTTING_DOWN, NULL);
        return;
    }
    pending_t *pd = sw_xmalloc(sizeof(*pd));
    pd->req = req;
    sw_code_t c = sw_executor_submit(api->ex, p, &g, on_done, pd);
    if (c == SW_C_OK)
        return;
    /* Refused synchronously (queue full, storage failed, shutting down):
     * the proposal is still ours and done will not be called. */
    sw_proposal_destroy(p);
    free(pd);
    sw_metrics_count_rejection(api->metrics, c);
    sw_buf_t b = SW_BUF_INIT;
    sw_api_error_body(api, c, NULL, &b);
    size_t len = 0;
    char *body = sw_buf_steal(&b, &len);
    sw_http_complete(req, sw_code_status(c), NULL, body, len);
}

static void h_transition(sw_http_req_t *req, void *arg)
{
    sw_api_t *api = arg;
    size_t len = 0;
    const char *body = sw_http_req_body(req, &len);
    sw_proposal_t p;
    char msg[SWOOSH_MSG_SIZE] = "";
    sw_code_t c = sw_proposal_parse(body, len, &p, msg);
    if (c != SW_C_OK) {
        sw_http_respond_error(req, c, msg);
        return;
    }
    sw_api_submit(api, req, &p);
}

/* -------------------------------------------------------------- GET paths */

static void h_state(sw_http_req_t *req, void *arg)
{
    sw_api_t *api = arg;
    const char *proj = sw_http_req_query(req, "projection");
    sw_view_t *v = sw_executor_view(api->ex);
    sw_buf_t b = SW_BUF_INIT;
    if (!proj) {
        sw_buf_append(&b, v->state_body, v->state_body_len);
        sw_view_release(v);
        respond_buf(req, 200, NULL, &b);
        return;
    }
    sw_section_t sec = sw_section_by_name(proj);
    if (sec == SW_SEC__COUNT) {
        sw_view_release(v);
        char q[SW_QUOTE_MAX + 4];
        sw_quote(q, SW_QUOTE_MAX, proj, strlen(proj));
        sw_buf_puts(&b, "projection: unknown section '");
        sw_buf_puts(&b, q);
        sw_buf_puts(&b, "'; one of ");
        for (int i = 0; i < SW_SEC__COUNT; i++)
            sw_buf_printf(&b, "%s%s", i ? ", " : "",
                          sw_section_name((sw_section_t)i));
        sw_http_respond_error(req, SW_C_BAD_FIELD, b.data);
        sw_buf_free(&b);
        return;
    }
    sw_view_state_json(v, sec, &b);
    sw_view_release(v);
    respond_buf(req, 200, NULL, &b);
}

static void h_health(sw_http_req_t *req, void *arg)
{
    sw_api_t *api = arg;
    bool ok = sw_executor_storage_ok(api->ex);
    sw_view_t *v = sw_executor_view(api->ex);
    sw_buf_t b = SW_BUF_INIT;
    sw_buf_puts(&b, "{\"degraded\":");
    put_bool(&b, v->degraded);
    sw_buf_puts(&b, ",\"hlc_last\":\"");
    sw_buf_puts(&b, v->hlc_last);
    sw_buf_puts(&b, "\",\"index\":");
    sw_buf_put_u64(&b, v->index);
    sw_buf_puts(&b, ",\"licensed\":");
    put_bool(&b, v->licensed);
    sw_buf_puts(&b, ",\"quarantined\":");
    put_bool(&b, v->quarantined);
    sw_buf_puts(&b, ",\"recovering\":");
    put_bool(&b, v->recovering);
    sw_buf_puts(&b, ",\"state_hash\":\"");
    sw_buf_puts(&b, v->state_hash);
    sw_buf_puts(&b, "\",\"storage\":\"");
    sw_buf_puts(&b, ok ? "ok" : "failed");
    sw_buf_puts(&b, "\"}");
    sw_view_release(v);
    respond_buf(req, ok ? 200 : 503, NULL, &b);
}

static void h_transitions(sw_http_req_t *req, void *arg)
{
    sw_api_t *api = arg;
    char *body = sw_xstrndup(api->transitions_body, api->transitions_len);
    sw_http_respond(req, 200, NULL, body, api->transitions_len);
}

/* Parses a decimal query argument in [min, max]; absent = def. */
static bool query_u64(sw_http_req_t *req, const char *key, uint64_t def,
                      uint64_t min, uint64_t max, uint64_t *out)
{
    const char *v = sw_http_req_query(req, key);
    if (!v) {
        *out = def;
        return true;
    }
    uint64_t n = 0;
    if (!sw_parse_u64(v, &n) || n < min || n > max)
        return false;
    *out = n;
    return true;
}

typedef struct log_acc {
    sw_buf_t *b;
    uint64_t last;
    unsigned n;
} log_acc_t;

static int log_one(void *arg, const sw_wal_record_t *r)
{
    log_acc_t *a = arg;
    if (a->n++)
        sw_buf_putc(a->b, ',');
    sw_buf_append(a->b, r->record, r->record_len);
    a->last = r->index;
    return a->b->len >= LOG_PAGE_BYTES_MAX;
}

/* One suspended GET /log waiting for the reader thread. */
typedef struct log_job {
    struct log_job *next;
    sw_http_req_t *req;
    uint64_t from, limit;
} log_job_t;

/* Reads one page of the log and answers the suspended request. */
static void run_log_job(sw_api_t *api, const log_job_t *job)
{
    sw_buf_t recs = SW_BUF_INIT;
    log_acc_t acc = {&recs, 0, 0};
    swoosh_error err = {0};
    /* The executor's own log, read-only from this thread (wal.h allows
     * read_from concurrently with the executor's appends). */
    swoosh_err_t rc = sw_wal_read_from(sw_executor_wal(api->ex), job->from,
                                       job->limit, log_one, &acc, &err);
    sw_buf_t b = SW_BUF_INIT;
    int status = 200;
    if (rc != SWOOSH_OK) {
        char q[300];
        sw_logf(SW_LOG_ERROR, "log_read_failed", "err=%s",
                sw_log_quote(err.msg, q, sizeof(q)));
        status = sw_code_status(SW_C_STORAGE_UNAVAILABLE);
        sw_metrics_count_rejection(api->metrics, SW_C_STORAGE_UNAVAILABLE);
        sw_api_error_body(api, SW_C_STORAGE_UNAVAILABLE,
                          "the log could not be read", &b);
    } else {
        sw_buf_reserve(&b, recs.len + 64);
        sw_buf_puts(&b, "{\"next\":");
        sw_buf_put_u64(&b, acc.n ? acc.last + 1 : job->from);
        sw_buf_puts(&b, ",\"records\":[");
        if (recs.len)
            sw_buf_append(&b, recs.data, recs.len);
        sw_buf_puts(&b, "]}");
    }
    sw_buf_free(&recs);
    size_t len = 0;
    char *body = sw_buf_steal(&b, &len);
    sw_http_complete(job->req, status, NULL, body, len);
}

/* Runs GET /log jobs one at a time, oldest first, until stopped with none
 * left: a page of up to 1,000 records takes ~1.5 ms to read and format,
 * which on the HTTP thread would hold every other connection that long. */
static void *log_reader_main(void *arg)
{
    sw_api_t *api = arg;
    pthread_setname_np(pthread_self(), "sw-log-reader");
    pthread_mutex_lock(&api->log_mu);
    for (;;) {
        while (!api->log_head && !api->log_stop)
            pthread_cond_wait(&api->log_cv, &api->log_mu);
        log_job_t *job = api->log_head;
        if (!job)
            break; /* stopping, and every job was answered */
        api->log_head = job->next;
        if (!api->log_head)
            api->log_tail = NULL;
        pthread_mutex_unlock(&api->log_mu);
        run_log_job(api, job);
        free(job);
        pthread_mutex_lock(&api->log_mu);
    }
    pthread_mutex_unlock(&api->log_mu);
    return NULL;
}

static void h_log(sw_http_req_t *req, void *arg)
{
    sw_api_t *api = arg;
    uint64_t from, limit;
    if (!query_u64(req, "from", 1, 1, UINT64_MAX - 1, &from)) {
        sw_http_respond_error(req, SW_C_BAD_FIELD,
                              "from: must be an integer in "
                              "1..18446744073709551614");
        return;
    }
    if (!query_u64(req, "limit", LOG_LIMIT_DEFAULT, 1, LOG_LIMIT_MAX, &limit)) {
        char msg[64];
        snprintf(msg, sizeof msg, "limit: must be an integer in 1..%d",
                 LOG_LIMIT_MAX);
        sw_http_respond_error(req, SW_C_BAD_FIELD, msg);
        return;
    }
    if (!sw_http_suspend(req)) {
        sw_http_respond_error(req, SW_C_SHUTTING_DOWN, NULL);
        return;
    }
    log_job_t *job = sw_xcalloc(1, sizeof(*job));
    job->req = req;
    job->from = from;
    job->limit = limit;
    pthread_mutex_lock(&api->log_mu);
    if (api->log_tail)
        api->log_tail->next = job;
    else
        api->log_head = job;
    api->log_tail = job;
    pthread_mutex_unlock(&api->log_mu);
    pthread_cond_signal(&api->log_cv);
}

static void h_metrics(sw_http_req_t *req, void *arg)
{
    sw_api_t *api = arg;
    sw_exec_stats_t *st = sw_xcalloc(1, sizeof(*st));
    sw_executor_stats(api->ex, st);
    sw_buf_t b = SW_BUF_INIT;
    sw_buf_reserve(&b, 32768);
    sw_metrics_render(api->metrics, st, &b);
    free(st);
    respond_buf(req, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}

/* ----------------------------------------------------------- route table */

static const sw_route_t api_routes[] = {
    {"POST", "/transition", SW_ROUTE_WRITE, h_transition},
    {"POST", "/command", SW_ROUTE_WRITE, h_transition},
    {"GET", "/state", 0, h_state},
    {"GET", "/health", SW_ROUTE_OPEN, h_health},
    {"GET", "/transitions", 0, h_transitions},
    {"GET", "/log", 0, h_log},
    {"GET", "/metrics", 0, h_metrics},
};

static void core_routes(sw_api_t *api, sw_http_t *srv)
{
    sw_http_add_routes(srv, api_routes,
                       sizeof(api_routes) / sizeof(api_routes[0]), api);
}

/* Route sets, one register function per route file: SPEC §6 here, SPEC §7
 * in http_whoosh.c. A new route file adds one row. */
typedef void (*route_set_fn)(sw_api_t *api, sw_http_t *srv);
static const route_set_fn route_sets[] = {
    core_routes,
    sw_whoosh_routes,
};

/* ------------------------------------------------------------- lifecycle */

/* GET /transitions never changes while the binary runs, so its body is
 * built once (SPEC §6: generated from the catalog table). */
sw_api_t *sw_api_new(sw_executor_t *ex, sw_metrics_t *metrics,
                     sw_guard_provider_t *guards)
{
    sw_api_t *api = sw_xcalloc(1, sizeof(*api));
    api->ex = ex;
    api->metrics = metrics;
    api->guards = guards;
    pthread_mutex_init(&api->log_mu, NULL);
    pthread_cond_init(&api->log_cv, NULL);
    int rc = pthread_create(&api->log_reader, NULL, log_reader_main, api);
    SW_ASSERT(rc == 0); /* like out-of-memory: fatal */
    json_t *cat = sw_catalog_to_json();
    sw_buf_t b = SW_BUF_INIT;
    SW_ASSERT(cat && sw_canon_json(&b, cat));
    json_decref(cat);
    api->transitions_body = sw_buf_steal(&b, &api->transitions_len);
    return api;
}

/* Frees the API; the http server using it must be freed first. */
void sw_api_free(sw_api_t *api)
{
    if (!api)
        return;
    pthread_mutex_lock(&api->log_mu);
    api->log_stop = true;
    pthread_mutex_unlock(&api->log_mu);
    pthread_cond_signal(&api->log_cv);
    pthread_join(api->log_reader, NULL);
    pthread_cond_destroy(&api->log_cv);
    pthread_mutex_destroy(&api->log_mu);
    free(api->transitions_body);
    free(api);
}

/* One call wires every route file and the SPEC §6 error body. */
void sw_api_register(sw_api_t *api, sw_http_t *srv)
{
    sw_http_set_error_fn(srv, error_cb, api);
    for (size_t i = 0; i < sizeof(route_sets) / sizeof(route_sets[0]); i++)
        route_sets[i](api, srv);
}

/* Route files reach the executor through the API. */
sw_executor_t *sw_api_executor(sw_api_t *api)
{
    return api->ex;
}
