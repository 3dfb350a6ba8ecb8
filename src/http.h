/* http: the HTTP server core on libmicrohttpd (SPEC §6).
 *
 * A table of routes (method + path pattern → handler), the request limits
 * (connections, idle/request timeout against slow clients, header memory,
 * body size), bearer-token checks, and suspended connections: a handler may
 * call sw_http_suspend() and answer later, from any thread, with
 * sw_http_complete() — no thread waits per request.
 *
 * The core answers 404 (no route), 405 (route exists for another method,
 * with an Allow header), 401 (token), 415 (non-JSON Content-Type on a body
 * route) and 413 (body over the limit) itself; the JSON error body comes from
 * the error callback the API layer provides, so every error has the SPEC §6
 * shape.
 *
 * Threads: handlers run on libmicrohttpd's worker thread(s) (one poll loop
 * each); a suspended request holds no thread while the executor works.
 */
#ifndef SW_HTTP_H
#define SW_HTTP_H

#include "buf.h"
#include "config.h"
#include "err.h"
#include "metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SPEC §2: bodies are at most 64 KiB. */
#define SW_HTTP_MAX_BODY (64 * 1024)

/* Worker threads when --http-threads is 0 (auto) and the http guard provider
 * is on: its outbound calls block the worker that makes them, so several
 * workers keep other connections moving. With static guards nothing in a
 * handler blocks and one poll loop serves more requests than two on small
 * machines (docs/BENCHMARKS.md), so auto means 1. */
#define SW_HTTP_THREADS_BLOCKING_GUARDS 4

typedef struct sw_http sw_http_t;
typedef struct sw_http_req sw_http_req_t;

/* Route flags. */
enum {
    /* POST-style: needs the bearer token when one is configured, reads a
     * JSON body (415/413 checks apply). */
    SW_ROUTE_WRITE = 1u << 0,
    /* Never needs a token (GET /health: liveness probes). */
    SW_ROUTE_OPEN = 1u << 1,
};

/* A handler answers with sw_http_respond() before returning, or calls
 * sw_http_suspend() and later sw_http_complete(). `arg` is the pointer given
 * at registration. */
typedef void (*sw_route_fn)(sw_http_req_t *req, void *arg);

typedef struct sw_route {
    const char *method;  /* "GET", "POST", … */
    const char *pattern; /* "/state"; a "*" segment matches any one path
                            segment, e.g. "/api/v1/tasks/" "*" "/claim" */
    unsigned flags;      /* SW_ROUTE_* */
    sw_route_fn fn;
} sw_route_t;

/* Builds the JSON error body for a code the core answers itself (the API
 * layer adds state_hash and quarantined). Appends to out. */
typedef void (*sw_http_error_fn)(void *arg, sw_code_t code, const char *msg,
                                 sw_buf_t *out);

typedef struct sw_http_limits {
    unsigned max_connections; /* MHD_OPTION_CONNECTION_LIMIT */
    unsigned conn_timeout_s;  /* idle timeout, and the time a request may
                                 take to arrive (headers + body) */
    size_t max_header_bytes;  /* MHD_OPTION_CONNECTION_MEMORY_LIMIT */
    size_t max_body_bytes;    /* 413 above it (≤ 64 KiB) */
    unsigned threads;         /* worker threads; 1 = one internal poll thread */
} sw_http_limits_t;

/* Fills the limits from a loaded config. */
void sw_http_limits_from_config(sw_http_limits_t *l, const sw_config_t *c);

/* Creates a server (not yet listening). `metrics` is borrowed and must
 * outlive the server; `token` is copied (NULL/"" = no auth); `token_reads`
 * makes GETs need it too. Caller owns; free with sw_http_free(). */
sw_http_t *sw_http_new(const sw_http_limits_t *limits, const char *token,
                       bool token_reads, bool access_log,
                       sw_metrics_t *metrics);

/* Sets the error-body builder (before start; without one, error bodies
 * carry only success, code and error, not state_hash and quarantined). */
void sw_http_set_error_fn(sw_http_t *s, sw_http_error_fn fn, void *arg);

/* Adds n routes (copied; patterns and methods must be static strings) with
 * the handlers' argument. Call before sw_http_start(). Route sets from
 * several files may be added (http_api.c, http_whoosh.c). */
void sw_http_add_routes(sw_http_t *s, const sw_route_t *routes, size_t n,
                        void *arg);

/* Starts listening on host:port ("" = all interfaces; port 0 = any).
 * Returns SWOOSH_OK or SWOOSH_EIO with err. */
swoosh_err_t sw_http_start(sw_http_t *s, const char *host, uint16_t port,
                           bool ipv6, swoosh_error *err);

/* The bound port (useful with port 0). */
uint16_t sw_http_port(const sw_http_t *s);

/* Clean shutdown, step 1: stop accepting new connections; requests that
 * arrive on open connections are answered 503 SHUTTING_DOWN; requests
 * already handed to a handler finish. Then waits up to timeout_ms until no
 * request is in flight. Returns true when drained. */
bool sw_http_drain(sw_http_t *s, unsigned timeout_ms);

/* Stops the daemon (closes every connection) and frees. NULL is a no-op. */
void sw_http_free(sw_http_t *s);

/* ---- request accessors (valid inside the handler, and until
 * sw_http_complete() for a suspended request) ---- */

const char *sw_http_req_method(const sw_http_req_t *r);
/* The path without the query string. */
const char *sw_http_req_path(const sw_http_req_t *r);
/* The i-th "*" segment of the matched pattern (NULL when out of range). */
const char *sw_http_req_param(const sw_http_req_t *r, unsigned i);
/* A query argument (decoded), NULL when absent and "" when given without a
 * value ("?key"); the first of repeated keys wins. */
const char *sw_http_req_query(const sw_http_req_t *r, const char *key);
/* A request header (case-insensitive name), NULL when absent. */
const char *sw_http_req_header(const sw_http_req_t *r, const char *name);
/* The body (NUL-terminated; may contain NULs); borrowed. */
const char *sw_http_req_body(const sw_http_req_t *r, size_t *len);

/* Answers now (from the handler). Takes ownership of `body` (malloc'ed; may
 * be NULL with len 0). content_type NULL = application/json. */
void sw_http_respond(sw_http_req_t *r, int status, const char *content_type,
                     char *body, size_t len);
/* Answers with the SPEC §6 error body for `code` (msg NULL = default). */
void sw_http_respond_error(sw_http_req_t *r, sw_code_t code, const char *msg);

/* Suspends the request: the handler returns without answering and someone
 * calls sw_http_complete() exactly once later. Returns false (nothing
 * suspended; answer now, e.g. 503 SHUTTING_DOWN) once the server drains. */
bool sw_http_suspend(sw_http_req_t *r);
/* Answers a suspended request; any thread. Takes ownership of body. */
void sw_http_complete(sw_http_req_t *r, int status, const char *content_type,
                      char *body, size_t len);

/* Writes the answer of a suspended request: sets *status and *content_type
 * (NULL = application/json) and returns the malloc'ed body, its length in
 * *len. Called exactly once, on the worker thread that sends the answer, or
 * on the one that closes the connection if the client went away first (the
 * answer is then dropped), so it may free `arg`. */
typedef char *(*sw_http_answer_fn)(void *arg, int *status,
                                   const char **content_type, size_t *len);
/* Like sw_http_complete(), but the body is written by `fn` on the worker
 * thread: the completing thread (the executor) only resumes the
 * connection. */
void sw_http_complete_with(sw_http_req_t *r, sw_http_answer_fn fn, void *arg);

#endif
