/* bench_taskflow: the CHORUS task flow through the SPEC §7 endpoints under
 * contention, against a running `swoosh serve` (bench/bench_taskflow.sh
 * starts one on a temp dir and runs this).
 *
 *   setup   POST /transition: license, a one-role council, environment
 *           READY, POLICY_UPDATED max_tasks=65536, window w1 open
 *   create  N tasks, POST /api/v1/tasks, spread over the agents
 *   claim   every task is claimed by two agents racing for it (a shared
 *           cursor hands out each task id twice): one wins (200), the other
 *           gets TASK_NOT_OPEN; the winner completes it at once
 *   verify  GET /api/v1/tasks: every task COMPLETED by the agent that won
 *           it; GET /log: exactly one EXECUTION_TASK_CLAIMED and one
 *           EXECUTION_TASK_COMPLETE record per task
 *
 * Each agent is a thread with one keep-alive connection. Prints claims/s
 * (won claims per second of the claim phase), latency percentiles per
 * endpoint, and a JSON line; exits 1 when any check fails. Without --url it
 * prints how to run it and exits 0 (bench/run.sh runs every bench_*
 * binary without arguments).
 *
 * usage: bench_taskflow --url http://127.0.0.1:PORT [--agents 64]
 *                       [--tasks 4096]
 */
#include <jansson.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char host[256], port[8];
static unsigned n_agents = 64, n_tasks = 4096;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------- keep-alive client */

typedef struct conn {
    int fd;
    char *buf; /* response bytes */
    size_t len, cap;
} conn_t;

static int dial(void)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads one response; returns the status and points *body into c->buf. */
static int read_response(conn_t *c, const char **body, bool *close_after)
{
    c->len = 0;
    size_t head_end = 0, want = 0;
    for (;;) {
        if (c->cap - c->len < 65536) {
            c->cap = c->cap ? c->cap * 2 : 131072;
            c->buf = realloc(c->buf, c->cap);
        }
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
        c->buf[c->len] = '\0';
        if (!head_end) {
            char *e = strstr(c->buf, "\r\n\r\n");
            if (!e)
                continue;
            head_end = (size_t)(e - c->buf) + 4;
            char *cl = strcasestr(c->buf, "\r\ncontent-length:");
            if (!cl || cl > e)
                return -1;
            want = head_end + strtoul(cl + 17, NULL, 10);
            char *cc = strcasestr(c->buf, "\r\nconnection: close");
            *close_after = cc && cc < e;
        }
        if (c->len >= want) {
            c->buf[want] = '\0';
            *body = c->buf + head_end;
            return atoi(c->buf + 9);
        }
    }
}

/* One request; reconnects once on a broken connection (a retried POST is
 * safe: its derived idempotency key makes it a duplicate). */
static int request(conn_t *c, const char *method, const char *path,
                   const char *json, const char **body)
{
    char head[512];
    size_t blen = json ? strlen(json) : 0;
    int hn = snprintf(head, sizeof(head),
                      "%s %s HTTP/1.1\r\nHost: %s\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      method, path, host, blen);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0)
            c->fd = dial();
        bool close_after = false;
        int st = -1;
        if (c->fd >= 0 && send_all(c->fd, head, (size_t)hn) &&
            (!blen || send_all(c->fd, json, blen)))
            st = read_response(c, body, &close_after);
        if (st < 0 || close_after) {
            if (c->fd >= 0)
                close(c->fd);
            c->fd = -1;
        }
        if (st >= 0)
            return st;
    }
    return -1;
}

/* ------------------------------------------------------------ phases */

typedef struct lat {
    uint64_t *v;
    size_t n, cap;
} lat_t;

static void lat_add(lat_t *l, uint64_t ns)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = ns;
}

typedef struct agent {
    unsigned id;
    conn_t c;
    lat_t create, claim, complete;
    uint64_t errors, won, lost, duplicates, double_claims;
} agent_t;

static char prefix[64];
static _Atomic unsigned cursor;
static _Atomic int *winner; /* agent id + 1 per task; 0 = none */

static bool has_code(const char *body, const char *code)
{
    char want[64];
    snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
    return strstr(body, want) != NULL;
}

static void *create_main(void *arg)
{
    agent_t *a = arg;
    char body[256];
    const char *resp;
    for (unsigned j = a->id; j < n_tasks; j += n_agents) {
        snprintf(body, sizeof(body),
                 "{\"task_id\":\"%s%u\",\"title\":\"task %u\"}", prefix, j, j);
        uint64_t t0 = now_ns();
        int st = request(&a->c, "POST", "/api/v1/tasks", body, &resp);
        lat_add(&a->create, now_ns() - t0);
        if (st != 200)
            a->errors++;
    }
    return NULL;
}

static void *claim_main(void *arg)
{
    agent_t *a = arg;
    char path[256], body[256];
    const char *resp;
    for (;;) {
        unsigned k = atomic_fetch_add(&cursor, 1);
        if (k >= 2 * n_tasks)
            break;
        unsigned j = k / 2;
        snprintf(path, sizeof(path), "/api/v1/tasks/%s%u/claim", prefix, j);
        snprintf(body, sizeof(body), "{\"agent_id\":\"agent-%u\"}", a->id);
        uint64_t t0 = now_ns();
        int st = request(&a->c, "POST", path, body, &resp);
        lat_add(&a->claim, now_ns() - t0);
        if (st == 200 && strstr(resp, "\"duplicate\":true")) {
            a->duplicates++; /* this agent's own earlier claim, repeated */
            continue;
        }
        if (st == 400 && has_code(resp, "TASK_NOT_OPEN")) {
            a->lost++;
            continue;
        }
        if (st != 200) {
            a->errors++;
            continue;
        }
        int none = 0;
        if (!atomic_compare_exchange_strong(&winner[j], &none, (int)a->id + 1))
            a->double_claims++;
        a->won++;
        snprintf(path, sizeof(path), "/api/v1/tasks/%s%u/complete", prefix, j);
        snprintf(body, sizeof(body),
                 "{\"agent_id\":\"agent-%u\",\"result\":\"done\"}", a->id);
        t0 = now_ns();
        st = request(&a->c, "POST", path, body, &resp);
        lat_add(&a->complete, now_ns() - t0);
        if (st != 200)
            a->errors++;
    }
    return NULL;
}

static void run_phase(agent_t *agents, void *(*fn)(void *))
{
    pthread_t *th = calloc(n_agents, sizeof(*th));
    for (unsigned i = 0; i < n_agents; i++)
        pthread_create(&th[i], NULL, fn, &agents[i]);
    for (unsigned i = 0; i < n_agents; i++)
        pthread_join(th[i], NULL);
    free(th);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Merges the agents' latencies of one kind and returns p50/p99/max in ms. */
static void percentiles(agent_t *agents, size_t off, double out[3],
                        size_t *count)
{
    lat_t all = {0};
    for (unsigned i = 0; i < n_agents; i++) {
        lat_t *l = (lat_t *)((char *)&agents[i] + off);
        for (size_t k = 0; k < l->n; k++)
            lat_add(&all, l->v[k]);
    }
    *count = all.n;
    out[0] = out[1] = out[2] = 0;
    if (all.n) {
        qsort(all.v, all.n, sizeof(*all.v), cmp_u64);
        out[0] = (double)all.v[all.n / 2] / 1e6;
        out[1] = (double)all.v[(all.n * 99) / 100] / 1e6;
        out[2] = (double)all.v[all.n - 1] / 1e6;
    }
    free(all.v);
}

static bool setup(conn_t *c)
{
    static const char *const steps[][3] = {
        {"LICENSE_GRANTED", "{}", NULL},
        {"POLICY_UPDATED", "{\"max_tasks\":65536}", NULL},
        {"COUNCIL_PROFILES_LOADED",
         "{\"council_id\":\"c1\",\"roles\":[{\"role\":\"lead\","
         "\"required\":true}]}",
         NULL},
        {"COUNCIL_ROLE_CLAIMED",
         "{\"council_id\":\"c1\",\"role\":\"lead\",\"agent_id\":\"lead\"}",
         NULL},
        {"COUNCIL_QUORUM_CERT", "{\"council_id\":\"c1\",\"cert_hash\":\"h\"}",
         NULL},
        {"COUNCIL_ELECT_COMPLETE", "{\"council_id\":\"c1\"}", NULL},
        {"COUNCIL_TOOLING_SYNCED", "{\"council_id\":\"c1\"}", NULL},
        {"ENV_ALLOCATION_REQUESTED", "{\"resources\":{\"cpu\":\"2\"}}", NULL},
        {"ENV_ALLOCATED", "{}", NULL},
        {"ENV_PROVISIONED", "{}", NULL},
        {"ENV_HEALTH_GREEN", "{}", NULL},
        {"EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w1\"}", "w1"},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        char body[512];
        snprintf(body, sizeof(body),
                 "{\"transition\":\"%s\",\"signer\":\"lead\",\"idem_key\":"
                 "\"taskflow-%s\",\"payload\":%s%s%s%s}",
                 steps[i][0], steps[i][0], steps[i][1],
                 steps[i][2] ? ",\"window_id\":\"" : "",
                 steps[i][2] ? steps[i][2] : "", steps[i][2] ? "\"" : "");
        const char *resp = "";
        int st = request(c, "POST", "/transition", body, &resp);
        if (st != 200) {
            fprintf(stderr,
                    "bench_taskflow: setup %s: HTTP %d %s (needs a fresh "
                    "server)\n",
                    steps[i][0], st, resp);
            return false;
        }
    }
    return true;
}

/* GET /api/v1/tasks: every task COMPLETED by the agent that won it. */
static uint64_t verify_tasks(conn_t *c)
{
    const char *resp;
    if (request(c, "GET", "/api/v1/tasks", NULL, &resp) != 200)
        return n_tasks;
    json_t *j = json_loads(resp, 0, NULL);
    json_t *arr = json_object_get(j, "tasks");
    uint64_t bad = 0, seen = 0;
    size_t i;
    json_t *t;
    size_t pl = strlen(prefix);
    json_array_foreach(arr, i, t)
    {
        const char *id = json_string_value(json_object_get(t, "id"));
        if (!id || strncmp(id, prefix, pl) != 0)
            continue;
        unsigned k = (unsigned)strtoul(id + pl, NULL, 10);
        char want[32];
        snprintf(want, sizeof(want), "agent-%d",
                 k < n_tasks ? winner[k] - 1 : -1);
        const char *st = json_string_value(json_object_get(t, "Status"));
        const char *cl = json_string_value(json_object_get(t, "Claimant"));
        seen++;
        if (k >= n_tasks || !st || strcmp(st, "COMPLETED") != 0 || !cl ||
            strcmp(cl, want) != 0)
            bad++;
    }
    json_decref(j);
    return bad + (seen == n_tasks ? 0 : n_tasks);
}

/* GET /log: exactly one claim and one completion record per task. */
static uint64_t verify_log(conn_t *c)
{
    unsigned *claims = calloc(n_tasks, sizeof(*claims));
    unsigned *completes = calloc(n_tasks, sizeof(*completes));
    uint64_t from = 1, bad = 0;
    size_t pl = strlen(prefix);
    for (;;) {
        char path[64];
        snprintf(path, sizeof(path), "/log?from=%llu&limit=1000",
                 (unsigned long long)from);
        const char *resp;
        if (request(c, "GET", path, NULL, &resp) != 200) {
            bad++;
            break;
        }
        json_t *j = json_loads(resp, 0, NULL);
        json_t *recs = json_object_get(j, "records");
        size_t i;
        json_t *r;
        json_array_foreach(recs, i, r)
        {
            json_t *p = json_object_get(r, "proposal");
            const char *tn =
                json_string_value(json_object_get(p, "transition"));
            const char *id = json_string_value(
                json_object_get(json_object_get(p, "payload"), "task_id"));
            if (!tn || !id || strncmp(id, prefix, pl) != 0)
                continue;
            unsigned k = (unsigned)strtoul(id + pl, NULL, 10);
            if (k >= n_tasks)
                continue;
            if (strcmp(tn, "EXECUTION_TASK_CLAIMED") == 0)
                claims[k]++;
            else if (strcmp(tn, "EXECUTION_TASK_COMPLETE") == 0)
                completes[k]++;
        }
        uint64_t next =
            (uint64_t)json_integer_value(json_object_get(j, "next"));
        size_t n = json_array_size(recs);
        json_decref(j);
        if (n == 0)
            break;
        from = next;
    }
    for (unsigned k = 0; k < n_tasks; k++)
        bad += claims[k] != 1 || completes[k] != 1;
    free(claims);
    free(completes);
    return bad;
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--url") && i + 1 < argc)
            url = argv[++i];
        else if (!strcmp(argv[i], "--agents") && i + 1 < argc)
            n_agents = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--tasks") && i + 1 < argc)
            n_tasks = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_taskflow --url http://HOST:PORT "
                            "[--agents N] [--tasks N]\n");
            return 2;
        }
    }
    if (!url) {
        printf("bench_taskflow: an HTTP bench; bench/bench_taskflow.sh "
               "starts a server and runs it (skipped here)\n");
        return 0;
    }
    if (sscanf(url, "http://%255[^:/]:%7[0-9]", host, port) != 2 ||
        n_agents < 1 || n_agents > 1024 || n_tasks < 1 || n_tasks > 65536) {
        fprintf(stderr, "bench_taskflow: need --url http://HOST:PORT, "
                        "1..1024 agents, 1..65536 tasks\n");
        return 2;
    }
    snprintf(prefix, sizeof(prefix), "tf%ld-", (long)getpid());
    winner = calloc(n_tasks, sizeof(*winner));
    agent_t *agents = calloc(n_agents, sizeof(*agents));
    for (unsigned i = 0; i < n_agents; i++) {
        agents[i].id = i;
        agents[i].c.fd = -1;
    }
    conn_t ctl = {.fd = -1};
    if (!setup(&ctl))
        return 1;

    uint64_t t0 = now_ns();
    run_phase(agents, create_main);
    double create_s = (double)(now_ns() - t0) / 1e9;
    t0 = now_ns();
    run_phase(agents, claim_main);
    double claim_s = (double)(now_ns() - t0) / 1e9;

    uint64_t errors = 0, won = 0, lost = 0, dups = 0, doubles = 0;
    for (unsigned i = 0; i < n_agents; i++) {
        errors += agents[i].errors;
        won += agents[i].won;
        lost += agents[i].lost;
        dups += agents[i].duplicates;
        doubles += agents[i].double_claims;
    }
    uint64_t bad_tasks = verify_tasks(&ctl);
    uint64_t bad_log = verify_log(&ctl);

    double cr[3], cl[3], co[3];
    size_t ncr, ncl, nco;
    percentiles(agents, offsetof(agent_t, create), cr, &ncr);
    percentiles(agents, offsetof(agent_t, claim), cl, &ncl);
    percentiles(agents, offsetof(agent_t, complete), co, &nco);
    double claims_per_s = claim_s > 0 ? (double)won / claim_s : 0;
    printf("task flow: %u agents, %u tasks, each claimed by 2 racing agents\n",
           n_agents, n_tasks);
    printf("  create   %7.0f req/s  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n",
           create_s > 0 ? (double)ncr / create_s : 0, cr[0], cr[1], cr[2]);
    printf("  claim    %7.0f won claims/s (%zu attempts, %llu lost races, "
           "%llu own duplicates)  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n",
           claims_per_s, ncl, (unsigned long long)lost,
           (unsigned long long)dups, cl[0], cl[1], cl[2]);
    printf("  complete p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", co[0], co[1],
           co[2]);
    printf("  checks: won=%llu/%u double_claims=%llu errors=%llu "
           "tasks_bad=%llu log_bad=%llu\n",
           (unsigned long long)won, n_tasks, (unsigned long long)doubles,
           (unsigned long long)errors, (unsigned long long)bad_tasks,
           (unsigned long long)bad_log);
    printf("{\"agents\":%u,\"tasks\":%u,\"claims_per_s\":%.0f,"
           "\"claim_p50_ms\":%.3f,\"claim_p99_ms\":%.3f,"
           "\"create_p99_ms\":%.3f,\"complete_p99_ms\":%.3f,"
           "\"double_claims\":%llu,\"errors\":%llu,\"tasks_bad\":%llu,"
           "\"log_bad\":%llu}\n",
           n_agents, n_tasks, claims_per_s, cl[0], cl[1], cr[1], co[1],
           (unsigned long long)doubles, (unsigned long long)errors,
           (unsigned long long)bad_tasks, (unsigned long long)bad_log);
    bool ok = won == n_tasks && doubles == 0 && errors == 0 && bad_tasks == 0 &&
              bad_log == 0;
    for (unsigned i = 0; i < n_agents; i++) {
        if (agents[i].c.fd >= 0)
            close(agents[i].c.fd);
        free(agents[i].c.buf);
        free(agents[i].create.v);
        free(agents[i].claim.v);
        free(agents[i].complete.v);
    }
    if (ctl.fd >= 0)
        close(ctl.fd);
    free(ctl.buf);
    free(agents);
    free(winner);
    if (!ok)
        fprintf(stderr, "bench_taskflow: CHECK FAILED\n");
    return ok ? 0 : 1;
}
