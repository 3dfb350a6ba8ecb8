/* swoosh bench: a keep-alive HTTP/1.1 load generator (SPEC §8).
 *
 * A single thread drives N non-blocking connections with epoll and measures
 * each request from its first byte sent to its last byte received. It is a
 * raw-socket client rather than libcurl's multi interface because the bench
 * runs on the same 2 cores as the server: libcurl spends several times more
 * CPU per request (handle state machine, header callbacks, URL parsing), and
 * that CPU would be taken from the server being measured. Responses must
 * carry Content-Length (libmicrohttpd's buffer responses do); chunked
 * answers count as errors.
 */
#include "cli.h"

#include "buf.h"
#include "netc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct opts {
    char host[256];
    char port[8];
    const char *path, *method, *body_tpl, *token;
    unsigned connections;
    double duration_s, warmup_s;
    uint64_t requests; /* 0 = until the duration ends */
    bool json;
} opts_t;

typedef struct conn {
    int fd;
    sw_buf_t out;
    size_t out_off;
    sw_buf_t in;
    uint64_t t0;
    bool measured; /* sent after warm-up */
    bool busy;
} conn_t;

typedef struct stats {
    uint64_t *lat; /* ns */
    size_t n, cap;
    uint64_t errors, non2xx, sent;
} stats_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: swoosh bench [flags]\n\n"
            "  --url URL              server (default http://127.0.0.1:8080)\n"
            "  --connections N        keep-alive connections, 1..10000 "
            "(default 1)\n"
            "  --duration S           measured seconds, 0.001..86400 "
            "(default 5)\n"
            "  --warmup S             unmeasured seconds first, 0..3600 "
            "(default 1)\n"
            "  --requests N           stop after N measured requests, "
            "0..2^64-1\n"
            "                         (default 0: until the duration ends)\n"
            "  --body-template JSON   body; each {n} becomes a unique "
            "number,\n"
            "                         each {h} 16 hex digits unique per "
            "request in\n"
            "                         random order (like UUID keys)\n"
            "  --path PATH            default /transition with a body, else "
            "/health\n"
            "  --method M             default POST with a body, else GET\n"
            "  --token TOKEN          bearer token (default "
            "$SWOOSH_API_TOKEN)\n"
            "  --json                 machine-readable result\n\n"
            "Numbers are plain decimals: digits, and for seconds an optional "
            "fraction\n(5, 0.5); no sign, exponent, spaces or suffix. A bad "
            "value exits 2.\n"
            "A flag's value may also follow an '=': --duration=0.5.\n");
}

/* splitmix64's finaliser: a bijection of 64-bit values, so distinct request
 * numbers give distinct {h} keys, in an order unrelated to n. */
static uint64_t scramble(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void build_request(const opts_t *o, uint64_t n, sw_buf_t *out)
{
    sw_buf_t body = SW_BUF_INIT;
    if (o->body_tpl) {
        for (const char *p = o->body_tpl; *p;) {
            const char *pn = strstr(p, "{n}"), *ph = strstr(p, "{h}");
            const char *at = pn && (!ph || pn < ph) ? pn : ph;
            if (!at) {
                sw_buf_puts(&body, p);
                break;
            }
            sw_buf_append(&body, p, (size_t)(at - p));
            if (at == pn)
                sw_buf_put_u64(&body, n);
            else
                sw_buf_printf(&body, "%016llx",
                              (unsigned long long)scramble(n));
            p = at + 3;
        }
    }
    sw_buf_reset(out);
    sw_buf_printf(out, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n", o->method, o->path,
                  o->host, o->port);
    if (o->token && *o->token)
        sw_buf_printf(out, "Authorization: Bearer %s\r\n", o->token);
    if (o->body_tpl)
        sw_buf_printf(out,
                      "Content-Type: application/json\r\nContent-Length: "
                      "%zu\r\n",
                      body.len);
    sw_buf_puts(out, "\r\n");
    if (body.len)
        sw_buf_append(out, body.data, body.len);
    sw_buf_free(&body);
}

/* Parses one complete response at the start of `in`; returns its total
 * length, 0 when more bytes are needed, -1 when malformed. */
static long parse_response(const sw_buf_t *in, int *status, bool *close_after)
{
    if (in->len < 12)
        return 0;
    const char *end = memmem(in->data, in->len, "\r\n\r\n", 4);
    if (!end)
        return in->len > 65536 ? -1 : 0;
    if (strncmp(in->data, "HTTP/1.", 7) != 0)
        return -1;
    *status = atoi(in->data + 9);
    long clen = -1;
    *close_after = false;
    for (const char *l = strstr(in->data, "\r\n") + 2; l < end;) {
        const char *le = strstr(l, "\r\n");
        if (strncasecmp(l, "Content-Length:", 15) == 0)
            clen = strtol(l + 15, NULL, 10);
        else if (strncasecmp(l, "Connection:", 11) == 0 &&
                 strcasestr(l, "close") && strcasestr(l, "close") < le)
            *close_after = true;
        l = le + 2;
    }
    if (clen < 0)
        return -1;
    size_t total = (size_t)(end - in->data) + 4 + (size_t)clen;
    return in->len >= total ? (long)total : 0;
}

static void record(stats_t *st, uint64_t ns)
{
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 65536;
        st->lat = sw_xrealloc(st->lat, st->cap * sizeof(*st->lat));
    }
    st->lat[st->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const stats_t *st, double p)
{
    if (st->n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(st->n - 1) + 0.5);
    return (double)st->lat[i] / 1e6;
}

typedef struct run {
    const opts_t *o;
    int ep;
    conn_t *conns;
    uint64_t counter; /* the {n} of the next request */
    uint64_t measure_start, measure_end;
    uint64_t measured_started;
    stats_t st;
} run_t;

static bool want_more(run_t *r, uint64_t now)
{
    if (now >= r->measure_end)
        return false;
    if (r->o->requests && now >= r->measure_start &&
        r->measured_started >= r->o->requests)
        return false;
    return true;
}

static int arm(run_t *r, conn_t *c, unsigned idx, bool want_write)
{
    struct epoll_event ev = {0};
    ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0);
    ev.data.u32 = idx;
    return epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static bool open_conn(run_t *r, unsigned idx)
{
    conn_t *c = &r->conns[idx];
    c->fd = sw_netc_connect(r->o->host, r->o->port);
    if (c->fd < 0)
        return false;
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.u32 = idx;
    epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev);
    sw_buf_reset(&c->in);
    c->busy = false;
    return true;
}

static void drop_conn(run_t *r, unsigned idx)
{
    conn_t *c = &r->conns[idx];
    if (c->fd >= 0) {
        epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->busy = false;
}

static void send_next(run_t *r, unsigned idx)
{
    conn_t *c = &r->conns[idx];
    uint64_t now = now_ns();
    if (!want_more(r, now))
        return;
    if (c->fd < 0 && !open_conn(r, idx)) {
        r->st.errors++;
        return;
    }
    build_request(r->o, r->counter++, &c->out);
    c->out_off = 0;
    c->t0 = now_ns();
    c->measured = c->t0 >= r->measure_start;
    if (c->measured)
        r->measured_started++;
    c->busy = true;
    r->st.sent++;
    ssize_t w = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) {
        r->st.errors++;
        drop_conn(r, idx);
        return;
    }
    c->out_off = w > 0 ? (size_t)w : 0;
    if (c->out_off < c->out.len)
        arm(r, c, idx, true);
}

static void on_event(run_t *r, unsigned idx, uint32_t events)
{
    conn_t *c = &r->conns[idx];
    if (c->fd < 0)
        return;
    if ((events & EPOLLOUT) && c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off,
                         c->out.len - c->out_off, MSG_NOSIGNAL);
        if (w > 0)
            c->out_off += (size_t)w;
        if (c->out_off >= c->out.len)
            arm(r, c, idx, false);
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    char buf[16384];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            sw_buf_append(&c->in, buf, (size_t)n);
            if ((size_t)n < sizeof(buf))
                break;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        /* Closed or failed. */
        if (c->busy)
            r->st.errors++;
        drop_conn(r, idx);
        send_next(r, idx);
        return;
    }
    if (!c->busy)
        return;
    int status = 0;
    bool close_after = false;
    long used = parse_response(&c->in, &status, &close_after);
    if (used == 0)
        return;
    uint64_t t1 = now_ns();
    if (used < 0) {
        r->st.errors++;
        drop_conn(r, idx);
    } else {
        if (c->measured && t1 <= r->measure_end) {
            record(&r->st, t1 - c->t0);
            if (status < 200 || status > 299)
                r->st.non2xx++;
        }
        c->busy = false;
        size_t rest = c->in.len - (size_t)used;
        memmove(c->in.data, c->in.data + used, rest);
        c->in.len = rest;
        if (close_after)
            drop_conn(r, idx);
    }
    send_next(r, idx);
}

/* Fills o from the defaults, the environment and argv. Returns -1 to go on,
 * else the exit code (SW_EXIT_OK after --help, SW_EXIT_USAGE after a bad
 * argument, its message and the usage printed). */
static int parse_args(int argc, char **argv, opts_t *o)
{
    memset(o, 0, sizeof(*o));
    const char *url = "http://127.0.0.1:8080";
    uint64_t connections = 1;
    o->duration_s = 5;
    o->warmup_s = 1;
    o->token = getenv("SWOOSH_API_TOKEN");
    const sw_cli_opt_t opts[] = {
        {.name = "--json", .kind = SW_CLI_FLAG, .dst = &o->json},
        {.name = "--url", .kind = SW_CLI_STRING, .dst = &url},
        {.name = "--connections",
         .kind = SW_CLI_U64,
         .dst = &connections,
         .min = 1,
         .max = 10000},
        {.name = "--duration",
         .kind = SW_CLI_DOUBLE,
         .dst = &o->duration_s,
         .dmin = 0.001,
         .dmax = 86400,
         .what = "a decimal number of seconds in 0.001..86400"},
        {.name = "--warmup",
         .kind = SW_CLI_DOUBLE,
         .dst = &o->warmup_s,
         .dmax = 3600,
         .what = "a decimal number of seconds in 0..3600"},
        {.name = "--requests",
         .kind = SW_CLI_U64,
         .dst = &o->requests,
         .max = UINT64_MAX,
         .what = "a whole number in 0..18446744073709551615 (0: until the "
                 "duration ends)"},
        {.name = "--body-template", .kind = SW_CLI_STRING, .dst = &o->body_tpl},
        {.name = "--path", .kind = SW_CLI_STRING, .dst = &o->path},
        {.name = "--method", .kind = SW_CLI_STRING, .dst = &o->method},
        {.name = "--token", .kind = SW_CLI_STRING, .dst = &o->token},
    };
    const sw_cli_spec_t spec = {
        .prog = "swoosh bench",
        .opts = opts,
        .n_opts = sizeof opts / sizeof opts[0],
        .usage = usage,
        .unknown_fmt = "unknown flag '%s'; see `swoosh bench --help`",
        .missing_fmt = "%s needs a value",
        .usage_on = SW_CLI_USAGE_ON_UNKNOWN | SW_CLI_USAGE_ON_MISSING |
                    SW_CLI_USAGE_ON_VALUE,
    };
    int rc = sw_cli_parse(&spec, argc, argv, stdout, stderr);
    if (rc >= 0)
        return rc;
    if (!sw_netc_split_url(url, o->host, sizeof o->host, o->port,
                           sizeof o->port)) {
        fprintf(stderr, "swoosh bench: bad --url '%s'\n", url);
        usage(stderr);
        return SW_EXIT_USAGE;
    }
    o->connections = (unsigned)connections;
    if (!o->path)
        o->path = o->body_tpl ? "/transition" : "/health";
    if (!o->method)
        o->method = o->body_tpl ? "POST" : "GET";
    return -1;
}

/* Drives the load and prints throughput and latency percentiles; the exit
 * code is 1 when any request failed at the transport level. */
int cmd_bench(int argc, char **argv)
{
    opts_t o;
    int pr = parse_args(argc, argv, &o);
    if (pr >= 0)
        return pr;
    run_t r = {0};
    r.o = &o;
    r.ep = epoll_create1(0);
    r.conns = sw_xcalloc(o.connections, sizeof(conn_t));
    uint64_t start = now_ns();
    r.measure_start = start + (uint64_t)(o.warmup_s * 1e9);
    r.measure_end = r.measure_start + (uint64_t)(o.duration_s * 1e9);
    r.counter = (uint64_t)time(NULL) * 1000000ull; /* unique across runs */
    for (unsigned i = 0; i < o.connections; i++) {
        r.conns[i].fd = -1;
        if (!open_conn(&r, i)) {
            fprintf(stderr, "swoosh bench: cannot connect to %s:%s\n", o.host,
                    o.port);
            r.st.errors++;
            goto out;
        }
    }
    for (unsigned i = 0; i < o.connections; i++)
        send_next(&r, i);
    struct epoll_event evs[256];
    for (;;) {
        uint64_t now = now_ns();
        bool any_busy = false;
        for (unsigned i = 0; i < o.connections && !any_busy; i++)
            any_busy = r.conns[i].busy;
        if (!any_busy && !want_more(&r, now))
            break;
        if (now > r.measure_end + 10000000000ull) {
            r.st.errors++; /* answers overdue by 10 s: give up */
            break;
        }
        int n = epoll_wait(r.ep, evs, 256, 100);
        for (int i = 0; i < n; i++)
            on_event(&r, evs[i].data.u32, evs[i].events);
    }
out:;
    /* A run cut short by --requests (or an error) took less than the
     * duration limit: the rate is over the time it really measured. */
    uint64_t end = now_ns();
    if (end > r.measure_end)
        end = r.measure_end;
    double elapsed =
        end > r.measure_start ? (double)(end - r.measure_start) / 1e9 : 0;
    if (r.st.n > 1) /* lat is NULL when no request finished */
        qsort(r.st.lat, r.st.n, sizeof(uint64_t), cmp_u64);
    double rps = elapsed > 0 ? (double)r.st.n / elapsed : 0;
    double p50 = pct(&r.st, 0.50), p90 = pct(&r.st, 0.90),
           p99 = pct(&r.st, 0.99), mx = pct(&r.st, 1.0);
    if (o.json)
        printf("{\"connections\":%u,\"duration_s\":%.3f,\"errors\":%llu,"
               "\"max_ms\":%.3f,\"non_2xx\":%llu,\"p50_ms\":%.3f,"
               "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"requests\":%zu,"
               "\"rps\":%.1f}\n",
               o.connections, elapsed, (unsigned long long)r.st.errors, mx,
               (unsigned long long)r.st.non2xx, p50, p90, p99, r.st.n, rps);
    else
        printf("%s %s x%u conns, %.1fs: %zu requests, %.0f req/s, p50 %.3f "
               "ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms, errors %llu, "
               "non-2xx %llu\n",
               o.method, o.path, o.connections, elapsed, r.st.n, rps, p50, p90,
               p99, mx, (unsigned long long)r.st.errors,
               (unsigned long long)r.st.non2xx);
    for (unsigned i = 0; i < o.connections; i++) {
        if (r.conns[i].fd >= 0)
            close(r.conns[i].fd);
        sw_buf_free(&r.conns[i].out);
        sw_buf_free(&r.conns[i].in);
    }
    free(r.conns);
    free(r.st.lat);
    close(r.ep);
    return r.st.errors ? SW_EXIT_FAIL : SW_EXIT_OK;
}
