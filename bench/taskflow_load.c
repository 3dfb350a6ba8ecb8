/* taskflow_load: the task-flow load of bench/compare's second SWOOSH row.
 *
 * Each keep-alive connection runs task flows one after another: create a
 * task, claim it, complete it (three logged transitions, each measured from
 * its first byte sent to its last byte received, like `swoosh bench`). The
 * state holds at most Policy.MaxTasks tasks, and a COMPLETED task stays until
 * the next EXECUTION_WINDOW_OPENED evicts it; so when the window is full the
 * client stops starting flows, lets the running ones finish, and rotates the
 * window on one connection (PLAN_LOCKED, REVIEW_STARTED, APPROVAL,
 * REVIEW_PASSED, WINDOW_OPENED: five more logged transitions, counted apart
 * and not in the latency figures), then resumes. The bound is never hit.
 *
 * It expects the server in phase PLAN of an open window whose council has
 * the member named by --approver (bench/window_setup.sh leaves exactly
 * that), and leaves it in phase PLAN again: flows started before the end
 * are finished (unmeasured) so no task is left OPEN or CLAIMED.
 *
 * Built by bench/compare with the system compiler (it is not a bench_*.c:
 * bench/run.sh runs those without arguments, and this needs a server).
 *
 * usage: taskflow_load --url http://HOST:PORT [--connections N]
 *        [--duration S] [--warmup S] [--max-tasks N] [--tasks N]
 *        [--prefix P] [--approver ID] [--json]
 *   --max-tasks  the server's Policy.MaxTasks (default 4096)
 *   --tasks      tasks already in the state (default 0)
 */
#include "netc.h"

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

enum { STEP_IDLE, STEP_CREATE, STEP_CLAIM, STEP_COMPLETE, STEP_ROT1 };
#define ROT_STEPS 5
#define IN_CAP    16384
#define OUT_CAP   2048

typedef struct conn {
    int fd;
    char out[OUT_CAP];
    size_t out_len, out_off;
    char in[IN_CAP];
    size_t in_len;
    uint64_t t0;
    bool busy, measured, waiting;
    int step;
    unsigned long long task;
} conn_t;

typedef struct load {
    char host[256], port[8], prefix[64], approver[129];
    unsigned nconn;
    double duration_s, warmup_s;
    unsigned max_tasks, tasks;
    bool json;
    int ep;
    conn_t *c;
    uint64_t measure_start, measure_end;
    unsigned flows_active, window_seq;
    bool rotating;
    unsigned long long next_task;
    uint64_t *lat;
    size_t nlat, caplat;
    unsigned long long errors, non2xx, rotations, flows_done;
} load_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool open_conn(load_t *L, unsigned i)
{
    conn_t *c = &L->c[i];
    c->fd = sw_netc_connect(L->host, L->port);
    if (c->fd < 0)
        return false;
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.u32 = i;
    epoll_ctl(L->ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->in_len = 0;
    return true;
}

static void drop_conn(load_t *L, unsigned i)
{
    conn_t *c = &L->c[i];
    if (c->fd >= 0) {
        epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->busy = false;
}

/* The JSON body of connection c's current step. */
static int body_of(const load_t *L, const conn_t *c, unsigned i, char *b,
                   size_t n)
{
    const char *p = L->prefix;
    unsigned long long t = c->task;
    unsigned w = L->window_seq;
    switch (c->step) {
    case STEP_CREATE:
        return snprintf(b, n,
                        "{\"transition\":\"EXECUTION_TASK_CREATED\","
                        "\"signer\":\"bench\",\"idem_key\":\"%s-%llu-c\","
                        "\"payload\":{\"task_id\":\"%s-%llu\",\"title\":"
                        "\"bench task\"}}",
                        p, t, p, t);
    case STEP_CLAIM:
        return snprintf(b, n,
                        "{\"transition\":\"EXECUTION_TASK_CLAIMED\","
                        "\"signer\":\"agent-%u\",\"idem_key\":\"%s-%llu-l\","
                        "\"payload\":{\"task_id\":\"%s-%llu\",\"agent_id\":"
                        "\"agent-%u\"}}",
                        i, p, t, p, t, i);
    case STEP_COMPLETE:
        return snprintf(b, n,
                        "{\"transition\":\"EXECUTION_TASK_COMPLETE\","
                        "\"signer\":\"agent-%u\",\"idem_key\":\"%s-%llu-d\","
                        "\"payload\":{\"task_id\":\"%s-%llu\",\"agent_id\":"
                        "\"agent-%u\",\"result\":\"ok\"}}",
                        i, p, t, p, t, i);
    case STEP_ROT1:
        return snprintf(b, n,
                        "{\"transition\":\"EXECUTION_PLAN_LOCKED\",\"signer\":"
                        "\"bench\",\"idem_key\":\"%s-w%u-lock\"}",
                        p, w);
    case STEP_ROT1 + 1:
        return snprintf(b, n,
                        "{\"transition\":\"EXECUTION_REVIEW_STARTED\","
                        "\"signer\":\"bench\",\"idem_key\":\"%s-w%u-review\"}",
                        p, w);
    case STEP_ROT1 + 2:
        return snprintf(b, n,
                        "{\"transition\":\"EXECUTION_APPROVAL\",\"signer\":"
                        "\"%s\",\"idem_key\":\"%s-w%u-approve\"}",
                        L->approver, p, w);
    case STEP_ROT1 + 3:
        return snprintf(b, n,
                        "{\"transition\":\"EXECUTION_REVIEW_PASSED\","
                        "\"signer\":\"bench\",\"idem_key\":\"%s-w%u-pass\"}",
                        p, w);
    default:
        return snprintf(b, n,
                        "{\"transition\":\"EXECUTION_WINDOW_OPENED\","
                        "\"signer\":\"bench\",\"idem_key\":\"%s-w%u-open\","
                        "\"window_id\":\"%s-w%u\",\"payload\":{\"window_id\":"
                        "\"%s-w%u\"}}",
                        p, w, p, w, p, w);
    }
}

static void send_step(load_t *L, unsigned i)
{
    conn_t *c = &L->c[i];
    if (c->fd < 0 && !open_conn(L, i)) {
        L->errors++;
        c->step = STEP_IDLE;
        return;
    }
    char body[1024];
    int bl = body_of(L, c, i, body, sizeof(body));
    c->out_len = (size_t)snprintf(c->out, sizeof(c->out),
                                  "POST /transition HTTP/1.1\r\nHost: %s:%s\r\n"
                                  "Content-Type: application/json\r\n"
                                  "Content-Length: %d\r\n\r\n%s",
                                  L->host, L->port, bl, body);
    c->out_off = 0;
    c->t0 = now_ns();
    c->measured = c->step < STEP_ROT1 && c->t0 >= L->measure_start &&
                  c->t0 < L->measure_end;
    c->busy = true;
    ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN) {
        L->errors++;
        drop_conn(L, i);
        return;
    }
    c->out_off = w > 0 ? (size_t)w : 0;
    if (c->out_off < c->out_len) {
        struct epoll_event ev = {0};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u32 = i;
        epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
}

static void advance(load_t *L, unsigned i);

static void wake_waiting(load_t *L)
{
    for (unsigned j = 0; j < L->nconn; j++) {
        if (L->c[j].waiting && !L->rotating) {
            L->c[j].waiting = false;
            advance(L, j);
        }
    }
}

/* Connection i finished its step (or is starting): choose its next one. */
static void advance(load_t *L, unsigned i)
{
    conn_t *c = &L->c[i];
    if (c->step == STEP_CREATE || c->step == STEP_CLAIM) {
        c->step++;
        send_step(L, i);
        return;
    }
    if (c->step == STEP_COMPLETE) {
        c->step = STEP_IDLE;
        L->flows_active--;
        L->flows_done++;
    } else if (c->step >= STEP_ROT1) {
        if (c->step < STEP_ROT1 + ROT_STEPS - 1) {
            c->step++;
            send_step(L, i);
            return;
        }
        c->step = STEP_IDLE;
        L->rotating = false;
        L->rotations++;
        L->tasks = 0; /* every task was COMPLETED: all evicted */
        wake_waiting(L);
        if (c->busy)
            return;
    }
    if (now_ns() >= L->measure_end)
        return;
    if (L->rotating || L->tasks >= L->max_tasks) {
        if (!L->rotating && L->flows_active == 0) {
            L->rotating = true;
            L->window_seq++;
            c->step = STEP_ROT1;
            send_step(L, i);
        } else {
            c->waiting = true;
        }
        return;
    }
    L->tasks++;
    L->flows_active++;
    c->task = L->next_task++;
    c->step = STEP_CREATE;
    send_step(L, i);
}

static long parse_response(const conn_t *c, int *status)
{
    if (c->in_len < 12)
        return 0;
    const char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end)
        return c->in_len >= IN_CAP ? -1 : 0;
    if (strncmp(c->in, "HTTP/1.", 7) != 0)
        return -1;
    *status = atoi(c->in + 9);
    long clen = -1;
    for (const char *l = c->in; l < end;) {
        const char *le = memmem(l, (size_t)(end + 2 - l), "\r\n", 2);
        if (!le)
            break;
        if (strncasecmp(l, "Content-Length:", 15) == 0)
            clen = strtol(l + 15, NULL, 10);
        l = le + 2;
    }
    if (clen < 0)
        return -1;
    size_t total = (size_t)(end - c->in) + 4 + (size_t)clen;
    if (total > IN_CAP)
        return -1;
    return c->in_len >= total ? (long)total : 0;
}

static void on_event(load_t *L, unsigned i, uint32_t events)
{
    conn_t *c = &L->c[i];
    if (c->fd < 0)
        return;
    if ((events & EPOLLOUT) && c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);
        if (w > 0)
            c->out_off += (size_t)w;
        if (c->out_off >= c->out_len) {
            struct epoll_event ev = {0};
            ev.events = EPOLLIN;
            ev.data.u32 = i;
            epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    for (;;) {
        if (c->in_len == IN_CAP)
            break;
        ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        /* Closed or failed: the step in flight is lost, the flow dropped. */
        L->errors++;
        bool was_rot = c->step >= STEP_ROT1;
        if (c->step >= STEP_CREATE && c->step <= STEP_COMPLETE)
            L->flows_active--;
        drop_conn(L, i);
        c->step = STEP_IDLE;
        if (was_rot) {
            fprintf(stderr, "taskflow_load: lost the connection while "
                            "rotating the window\n");
            exit(1);
        }
        advance(L, i);
        return;
    }
    if (!c->busy)
        return;
    int status = 0;
    long used = parse_response(c, &status);
    if (used == 0)
        return;
    if (used < 0) {
        L->errors++;
        drop_conn(L, i);
        return;
    }
    uint64_t t1 = now_ns();
    bool ok = status >= 200 && status <= 299;
    if (!ok) {
        if (L->non2xx++ == 0)
            fprintf(stderr, "taskflow_load: %d %.*s\n", status,
                    (int)((size_t)used < c->in_len ? (size_t)used : c->in_len),
                    c->in);
        if (c->step >= STEP_ROT1) {
            fprintf(stderr, "taskflow_load: window rotation refused\n");
            exit(1);
        }
    }
    if (c->measured && t1 <= L->measure_end) {
        if (L->nlat == L->caplat) {
            L->caplat = L->caplat ? L->caplat * 2 : 65536;
            L->lat = realloc(L->lat, L->caplat * sizeof(*L->lat));
            if (!L->lat) {
                perror("taskflow_load");
                exit(1);
            }
        }
        L->lat[L->nlat++] = t1 - c->t0;
    }
    c->busy = false;
    memmove(c->in, c->in + used, c->in_len - (size_t)used);
    c->in_len -= (size_t)used;
    advance(L, i);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const load_t *L, double p)
{
    if (L->nlat == 0)
        return 0;
    return (double)L->lat[(size_t)(p * (double)(L->nlat - 1) + 0.5)] / 1e6;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: taskflow_load --url http://HOST:PORT [--connections N] "
            "[--duration S] [--warmup S] [--max-tasks N] [--tasks N] "
            "[--prefix P] [--approver ID] [--json]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static load_t L;
    bool have_url = false;
    L.nconn = 1;
    L.duration_s = 5;
    L.warmup_s = 1;
    L.max_tasks = 4096;
    snprintf(L.prefix, sizeof(L.prefix), "tf%lld", (long long)time(NULL));
    snprintf(L.approver, sizeof(L.approver), "a1");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            L.json = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--url"))
            have_url = sw_netc_split_url(v, L.host, sizeof L.host, L.port,
                                         sizeof L.port);
        else if (!strcmp(a, "--connections"))
            L.nconn = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--duration"))
            L.duration_s = strtod(v, NULL);
        else if (!strcmp(a, "--warmup"))
            L.warmup_s = strtod(v, NULL);
        else if (!strcmp(a, "--max-tasks"))
            L.max_tasks = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--tasks"))
            L.tasks = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--prefix"))
            snprintf(L.prefix, sizeof(L.prefix), "%s", v);
        else if (!strcmp(a, "--approver"))
            snprintf(L.approver, sizeof(L.approver), "%s", v);
        else
            return usage();
    }
    if (!have_url || L.nconn < 1 || L.nconn > 10000 || L.duration_s <= 0 ||
        L.max_tasks < 1)
        return usage();
    L.ep = epoll_create1(0);
    L.c = calloc(L.nconn, sizeof(conn_t));
    if (!L.c || L.ep < 0) {
        perror("taskflow_load");
        return 1;
    }
    uint64_t start = now_ns();
    L.measure_start = start + (uint64_t)(L.warmup_s * 1e9);
    L.measure_end = L.measure_start + (uint64_t)(L.duration_s * 1e9);
    for (unsigned i = 0; i < L.nconn; i++) {
        L.c[i].fd = -1;
        if (!open_conn(&L, i)) {
            fprintf(stderr, "taskflow_load: cannot connect to %s:%s\n", L.host,
                    L.port);
            return 1;
        }
    }
    for (unsigned i = 0; i < L.nconn; i++)
        if (!L.c[i].busy && !L.c[i].waiting)
            advance(&L, i);
    struct epoll_event evs[256];
    for (;;) {
        bool busy = L.rotating;
        for (unsigned i = 0; i < L.nconn && !busy; i++)
            busy = L.c[i].busy;
        if (!busy)
            break;
        if (now_ns() > L.measure_end + 30000000000ull) {
            L.errors++; /* answers overdue by 30 s: give up */
            break;
        }
        int n = epoll_wait(L.ep, evs, 256, 100);
        for (int k = 0; k < n; k++)
            on_event(&L, evs[k].data.u32, evs[k].events);
    }
    qsort(L.lat, L.nlat, sizeof(uint64_t), cmp_u64);
    double el = L.duration_s;
    double rps = (double)L.nlat / el;
    if (L.json)
        printf("{\"connections\":%u,\"duration_s\":%.3f,\"errors\":%llu,"
               "\"flows\":%llu,\"max_ms\":%.3f,\"non_2xx\":%llu,"
               "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
               "\"requests\":%zu,\"rotations\":%llu,\"rps\":%.1f,"
               "\"tasks_left\":%u}\n",
               L.nconn, el, L.errors, L.flows_done, pct(&L, 1.0), L.non2xx,
               pct(&L, 0.5), pct(&L, 0.9), pct(&L, 0.99), L.nlat, L.rotations,
               rps, L.tasks);
    else
        printf("task flow x%u conns, %.1fs: %zu transitions, %.0f/s, p50 "
               "%.3f ms, p99 %.3f ms, %llu flows, %llu window rotations, "
               "errors %llu, non-2xx %llu\n",
               L.nconn, el, L.nlat, rps, pct(&L, 0.5), pct(&L, 0.99),
               L.flows_done, L.rotations, L.errors, L.non2xx);
    for (unsigned i = 0; i < L.nconn; i++)
        if (L.c[i].fd >= 0)
            close(L.c[i].fd);
    free(L.c);
    free(L.lat);
    close(L.ep);
    return L.errors || L.non2xx ? 1 : 0;
}
