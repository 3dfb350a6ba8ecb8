/* server: integration-test helpers that run the real `swoosh` binary.
 *
 * th_server_start() spawns $SWOOSH_BIN serve on 127.0.0.1 port 0 with a
 * fresh mkdtemp data directory, reads the bound port from the startup log
 * line, and polls GET /health until it answers (bounded, no fixed sleeps).
 * The tiny HTTP client speaks raw sockets so tests can also send hostile
 * bytes.
 */
#ifndef TH_SERVER_H
#define TH_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct th_server {
    pid_t pid; /* 0 when not running */
    int port;
    char dir[256];      /* temp data dir (removed by th_server_cleanup) */
    char log_path[320]; /* the server's stderr */
    char wal_dir[320], snap_dir[320];
    int exit_status; /* raw wait status of the last stop */
} th_server_t;

/* Creates the data dir and starts the server with extra flags (NULL-
 * terminated list, may be NULL). Returns 0, or -1 (the log is printed). */
int th_server_start(th_server_t *s, const char *const *extra);
/* Starts again on the same data dir (new port). */
int th_server_restart(th_server_t *s, const char *const *extra);
/* Sends `sig` and waits up to timeout_ms for exit; returns 0 when it
 * exited, -1 on timeout (then SIGKILLs). exit_status holds the wait
 * status. */
int th_server_stop(th_server_t *s, int sig, int timeout_ms);
/* SIGTERM and wait; 0 only for a clean exit 0 (under ASan: no leaks, no
 * memory errors). Prints the log otherwise. */
int th_server_stop_clean(th_server_t *s);
/* Kills a running server and removes the data dir. */
void th_server_cleanup(th_server_t *s);
/* Allocates and starts a server (th_server_start). Returns it (caller owns,
 * release with th_server_free or th_server_free_clean) or NULL. */
th_server_t *th_server_new(const char *const *extra);
/* th_server_stop_clean, th_server_cleanup and free; returns the
 * th_server_stop_clean result. */
int th_server_free_clean(th_server_t *s);
/* th_server_cleanup (no clean-exit check) and free. NULL is a no-op. */
void th_server_free(th_server_t *s);
/* True when the server's log contains `needle`. */
bool th_server_log_has(const th_server_t *s, const char *needle);

typedef struct th_resp {
    int status; /* 0 when no status line arrived */
    char *head; /* status line + headers, NUL-terminated */
    char *body; /* NUL-terminated */
    size_t body_len;
    bool closed; /* the server closed the connection */
} th_resp_t;

/* One request on a fresh connection (Connection: close). `headers` are
 * extra header lines each ending in \r\n (may be NULL); a Content-Length
 * is added when body is non-NULL. Returns 0 when a response was read. */
int th_http(int port, const char *method, const char *path, const char *headers,
            const char *body, th_resp_t *out);
/* Sends raw bytes and reads until a complete response, close, or
 * timeout_ms. Returns 0 when something (even a close) was observed,
 * -1 on connect failure or timeout without a response. */
int th_raw(int port, const void *data, size_t len, int timeout_ms,
           th_resp_t *out);
/* Connects to 127.0.0.1:port; returns the fd or -1. */
int th_connect(int port);
/* Reads one response from fd (until complete, close, or timeout). */
int th_read_response(int fd, int timeout_ms, th_resp_t *out);
/* Case-insensitive header lookup; returns a malloc'ed value or NULL. */
char *th_header(const th_resp_t *r, const char *name);
/* Parses the body as JSON (new reference) or NULL. */
json_t *th_json(const th_resp_t *r);
void th_resp_free(th_resp_t *r);

/* Convenience: GET path, body parsed (new reference); *status set. */
json_t *th_get_json(int port, const char *path, int *status);
/* Convenience: POST a JSON body to path, answer parsed; *status set. */
json_t *th_post_json(int port, const char *path, const char *body, int *status);

/* Monotonic milliseconds. */
long long th_now_ms(void);

#endif
