/* guard_server: a small loopback guard service for tests (libmicrohttpd,
 * 127.0.0.1, an ephemeral port, one thread per connection).
 *
 * Each route ("/license", "/policy", ...) has a behaviour set by the test and
 * counts its calls; the server also records the largest number of requests
 * in flight at once and the number of TCP connections accepted, so tests can
 * check concurrency and connection reuse without timing anything.
 */
#ifndef GUARD_SERVER_H
#define GUARD_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef enum gs_behaviour {
    GS_PASS,       /* 200 {"ok":true} */
    GS_DENY,       /* 200 {"ok":false,"reason":"denied by test"} */
    GS_GARBAGE,    /* 200 with a body that is not JSON */
    GS_NOT_BOOL,   /* 200 {"ok":"yes"} */
    GS_STATUS_500, /* 500 {"ok":true}: the status alone must fail it */
    GS_HANG,       /* waits `ms` (or until stop), then 200 {"ok":true} */
    GS_RENDEZVOUS  /* waits until `n` requests are in flight at once (at most
                      `ms`), then 200 {"ok":true}; 503 if they never were */
} gs_behaviour_t;

typedef struct guard_server guard_server_t;

/* Starts a server on 127.0.0.1:0; NULL on failure. Routes default to
 * GS_PASS once configured; unknown routes answer 404. */
guard_server_t *guard_server_start(void);
/* Stops the server (wakes hanging handlers first) and frees it. */
void guard_server_stop(guard_server_t *gs);
uint16_t guard_server_port(const guard_server_t *gs);
/* Writes "http://127.0.0.1:<port><route>" into out. */
void guard_server_url(const guard_server_t *gs, const char *route, char *out,
                      size_t n);
/* Sets the behaviour of `route` (created on first use, ≤ 8 routes). `ms` is
 * the wait of GS_HANG / GS_RENDEZVOUS, `n` the rendezvous size. */
void guard_server_set(guard_server_t *gs, const char *route, gs_behaviour_t b,
                      unsigned ms, unsigned n);
/* Calls `route` has received (complete requests). */
unsigned guard_server_calls(guard_server_t *gs, const char *route);
/* The body of the last request to `route`; caller owns, free(); NULL if
 * none. */
char *guard_server_last_body(guard_server_t *gs, const char *route);
/* The largest number of requests (all routes) in flight at once. */
unsigned guard_server_max_inflight(guard_server_t *gs);
/* TCP connections accepted so far. */
unsigned guard_server_connections(guard_server_t *gs);
/* Clears call counts, bodies, max in flight and the connection count. */
void guard_server_reset_counts(guard_server_t *gs);

#endif
