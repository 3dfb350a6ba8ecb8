/* server: spawn the real binary and talk raw HTTP to it (see server.h). */
#include "server.h"
#include "tmpdir.h"

#include "buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 30000
#define MAX_ARGS         64

long long th_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = sw_xmalloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = sw_xrealloc(buf, cap);
        }
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

bool th_server_log_has(const th_server_t *s, const char *needle)
{
    char *log = slurp(s->log_path);
    bool has = log && strstr(log, needle);
    free(log);
    return has;
}

static void dump_log(const th_server_t *s)
{
    char *log = slurp(s->log_path);
    fprintf(stderr, "---- server log %s ----\n%s\n----\n", s->log_path,
            log ? log : "(none)");
    free(log);
}

/* Finds "port=N" on the line with event=started. */
static int read_port(const th_server_t *s)
{
    char *log = slurp(s->log_path);
    int port = -1;
    char *line = log ? strstr(log, "event=started") : NULL;
    if (line) {
        char *eol = strchr(line, '\n');
        char *p = strstr(line, " port=");
        if (p && (!eol || p < eol))
            port = atoi(p + 6);
    }
    free(log);
    return port;
}

static int spawn(th_server_t *s, const char *const *extra)
{
    const char *bin = getenv("SWOOSH_BIN");
    if (!bin) {
        fprintf(stderr, "SWOOSH_BIN is not set\n");
        return -1;
    }
    const char *argv[MAX_ARGS];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--wal-dir";
    argv[n++] = s->wal_dir;
    argv[n++] = "--snapshot-dir";
    argv[n++] = s->snap_dir;
    for (int i = 0; extra && extra[i] && n < MAX_ARGS - 1; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    int fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return -1;
    }
    if (pid == 0) {
        /* A test that fails an assertion skips its cleanup: the server
         * must not outlive the test process. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fd);
    s->pid = pid;
    s->port = -1;
    long long deadline = th_now_ms() + START_TIMEOUT_MS;
    while (th_now_ms() < deadline) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            s->exit_status = st;
            dump_log(s);
            return -1;
        }
        if (s->port < 0)
            s->port = read_port(s);
        if (s->port > 0) {
            int status = 0;
            json_t *h = th_get_json(s->port, "/health", &status);
            json_decref(h);
            if (status == 200)
                return 0;
        }
        nap_ms(10);
    }
    dump_log(s);
    return -1;
}

int th_server_start(th_server_t *s, const char *const *extra)
{
    memset(s, 0, sizeof(*s));
    if (th_tmpdir_make(s->dir, sizeof(s->dir), "srv") != 0)
        return -1;
    snprintf(s->log_path, sizeof(s->log_path), "%s/server.log", s->dir);
    snprintf(s->wal_dir, sizeof(s->wal_dir), "%s/wal", s->dir);
    snprintf(s->snap_dir, sizeof(s->snap_dir), "%s/snapshots", s->dir);
    return spawn(s, extra);
}

int th_server_restart(th_server_t *s, const char *const *extra)
{
    return spawn(s, extra);
}

int th_server_stop(th_server_t *s, int sig, int timeout_ms)
{
    if (!s->pid)
        return 0;
    kill(s->pid, sig);
    long long deadline = th_now_ms() + timeout_ms;
    while (th_now_ms() < deadline) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            s->exit_status = st;
            if (sig != SIGKILL && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
                dump_log(s);
            return 0;
        }
        nap_ms(5);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &s->exit_status, 0);
    s->pid = 0;
    dump_log(s);
    return -1;
}

void th_server_cleanup(th_server_t *s)
{
    if (s->pid) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &s->exit_status, 0);
        s->pid = 0;
    }
    if (s->dir[0])
        th_rm_tree(s->dir);
    s->dir[0] = '\0';
}

/* Most integration groups run one server per test: the cmocka state holds
 * it, so it lives on the heap. */
th_server_t *th_server_new(const char *const *extra)
{
    th_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (th_server_start(s, extra) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* Teardown that also fails the test when the server did not exit cleanly
 * (under ASan: any leak or memory error in the server). */
int th_server_free_clean(th_server_t *s)
{
    int rc = th_server_stop_clean(s);
    th_server_cleanup(s);
    free(s);
    return rc;
}

/* Teardown for tests that do not judge the server's exit. */
void th_server_free(th_server_t *s)
{
    if (!s)
        return;
    th_server_cleanup(s);
    free(s);
}

/* ------------------------------------------------------------ HTTP client */

int th_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static bool split(th_resp_t *out, const char *buf, size_t len, bool eof)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return false;
    size_t hl = (size_t)(end - buf) + 4;
    long clen = -1;
    for (const char *l = buf; l < end;) {
        const char *le = memmem(l, (size_t)(end - l) + 2, "\r\n", 2);
        if (!le)
            break;
        if ((size_t)(le - l) > 15 && strncasecmp(l, "Content-Length:", 15) == 0)
            clen = strtol(l + 15, NULL, 10);
        l = le + 2;
    }
    size_t bl;
    if (clen >= 0 && len >= hl + (size_t)clen) {
        bl = (size_t)clen;
    } else if (clen >= 0 && !eof) {
        return false;
    } else {
        if (!eof)
            return false;
        bl = len - hl;
    }
    out->head = strndup(buf, hl);
    out->body = sw_xmalloc(bl + 1);
    memcpy(out->body, buf + hl, bl);
    out->body[bl] = '\0';
    out->body_len = bl;
    if (strncmp(buf, "HTTP/1.", 7) == 0 && len > 12)
        out->status = atoi(buf + 9);
    return true;
}

int th_read_response(int fd, int timeout_ms, th_resp_t *out)
{
    memset(out, 0, sizeof(*out));
    size_t cap = 8192, len = 0;
    char *buf = sw_xmalloc(cap);
    long long deadline = th_now_ms() + timeout_ms;
    int rc = -1;
    for (;;) {
        long long left = deadline - th_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)left);
        if (pr <= 0)
            continue;
        if (cap - len < 4096) {
            cap *= 2;
            buf = sw_xrealloc(buf, cap);
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0) {
            out->closed = true;
            split(out, buf, len, true);
            rc = 0;
            break;
        }
        len += (size_t)n;
        if (split(out, buf, len, false)) {
            rc = 0;
            break;
        }
    }
    free(buf);
    return rc;
}

static int send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int th_raw(int port, const void *data, size_t len, int timeout_ms,
           th_resp_t *out)
{
    memset(out, 0, sizeof(*out));
    int fd = th_connect(port);
    if (fd < 0)
        return -1;
    /* A server may answer and close before reading everything (413): a
     * failed send is then not an error, the answer is what counts. */
    send_all(fd, data, len);
    int rc = th_read_response(fd, timeout_ms, out);
    close(fd);
    return rc;
}

int th_http(int port, const char *method, const char *path, const char *headers,
            const char *body, th_resp_t *out)
{
    char *req = NULL;
    size_t blen = body ? strlen(body) : 0;
    int n;
    if (body)
        n = asprintf(&req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: "
                     "close\r\nContent-Length: %zu\r\n%s\r\n%s",
                     method, path, port, blen, headers ? headers : "", body);
    else
        n = asprintf(&req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: "
                     "close\r\n%s\r\n",
                     method, path, port, headers ? headers : "");
    if (n < 0)
        return -1;
    int rc = th_raw(port, req, (size_t)n, 30000, out);
    free(req);
    return rc == 0 && out->status > 0 ? 0 : -1;
}

char *th_header(const th_resp_t *r, const char *name)
{
    size_t nl = strlen(name);
    if (!r->head)
        return NULL;
    for (const char *l = strstr(r->head, "\r\n"); l && l[2];) {
        l += 2;
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            return strndup(v, e ? (size_t)(e - v) : strlen(v));
        }
        l = strstr(l, "\r\n");
    }
    return NULL;
}

json_t *th_json(const th_resp_t *r)
{
    if (!r->body)
        return NULL;
    return json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
}

void th_resp_free(th_resp_t *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

json_t *th_get_json(int port, const char *path, int *status)
{
    th_resp_t r;
    *status = 0;
    if (th_http(port, "GET", path, NULL, NULL, &r) != 0) {
        th_resp_free(&r);
        return NULL;
    }
    *status = r.status;
    json_t *j = th_json(&r);
    th_resp_free(&r);
    return j;
}

json_t *th_post_json(int port, const char *path, const char *body, int *status)
{
    th_resp_t r;
    *status = 0;
    if (th_http(port, "POST", path, "Content-Type: application/json\r\n", body,
                &r) != 0) {
        th_resp_free(&r);
        return NULL;
    }
    *status = r.status;
    json_t *j = th_json(&r);
    th_resp_free(&r);
    return j;
}

int th_server_stop_clean(th_server_t *s)
{
    if (th_server_stop(s, SIGTERM, 30000) != 0)
        return -1;
    return WIFEXITED(s->exit_status) && WEXITSTATUS(s->exit_status) == 0 ? 0
                                                                         : -1;
}
