/* bench_reducer: transitions per second of the executor's inner step —
 * sw_reduce() followed by sw_state_hash() — at three state sizes, and the
 * hash step against plain SHA-256 (OpenSSL EVP) over the same number of
 * bytes in the same run.
 *
 *   genesis: licensed, a one-role council, environment READY, window open
 *   typical: a council of 8 members and 256 tasks
 *   full:    a council of 8 members and 4,096 tasks (Policy.MaxTasks)
 *
 * The workload is EXECUTION_BEAT in the open window (it applies every time);
 * then, on full-size states, task transitions: CLAIMED/COMPLETE pairs at
 * pseudo-random positions among 4,096 tasks, and creates appended after
 * 3,072 tasks. Proposals are parsed before the timed loops. Usage:
 * bench_reducer [scale] where scale multiplies the iteration counts (default
 * 1).
 */
#include "catalog.h"
#include "proposal.h"
#include "reducer.h"
#include "state.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 256

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned idem;

/* Applies one proposal that must apply; exits on anything else. */
static void must(sw_state_t *s, const char *t, const char *payload,
                 const char *signer)
{
    char body[4096], msg[256];
    int n = snprintf(body, sizeof body,
                     "{\"transition\":\"%s\",\"signer\":\"%s\",\"idem_key\":"
                     "\"setup-%u\"%s%s}",
                     t, signer, ++idem, payload ? ",\"payload\":" : "",
                     payload ? payload : "");
    sw_proposal_t p;
    sw_code_t c = sw_proposal_parse(body, (size_t)n, &p, msg);
    if (c != SW_C_OK) {
        fprintf(stderr, "bench setup: %s: %s\n", body, msg);
        exit(1);
    }
    sw_hlc_t h = {1700000000000ull + idem, 0, 1};
    sw_proposal_set_hlc(&p, &h);
    sw_result_t r;
    sw_reduce(s, &p, &SW_GUARDS_ALL_OK, 1700000000000ull + idem, &r);
    sw_proposal_destroy(&p);
    if (r.outcome != SW_OUT_APPLIED) {
        fprintf(stderr, "bench setup: %s rejected: %s %s\n", t,
                sw_code_name(r.code), r.msg);
        exit(1);
    }
}

/* Builds a state with `members` council members and `tasks` tasks (a mix
 * of OPEN, CLAIMED, COMPLETED and FAILED), Execution in WORK. */
static sw_state_t *build(unsigned members, unsigned tasks)
{
    char buf[4096];
    sw_state_t *s = sw_state_new_genesis();
    must(s, "LICENSE_GRANTED", "{\"license_id\":\"bench\"}", "op");
    size_t off = (size_t)snprintf(buf, sizeof buf,
                                  "{\"council_id\":\"council-1\",\"roles\":[");
    for (unsigned i = 0; i < members; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off,
                                "%s{\"role\":\"role-%u\",\"required\":%s}",
                                i ? "," : "", i, i < 3 ? "true" : "false");
    snprintf(buf + off, sizeof buf - off, "]}");
    must(s, "COUNCIL_PROFILES_LOADED", buf, "op");
    for (unsigned i = 0; i < members; i++) {
        snprintf(buf, sizeof buf,
                 "{\"council_id\":\"council-1\",\"role\":\"role-%u\","
                 "\"agent_id\":\"agent-%u\"}",
                 i, i);
        must(s, "COUNCIL_ROLE_CLAIMED", buf, "op");
    }
    must(s, "COUNCIL_QUORUM_CERT",
         "{\"council_id\":\"council-1\",\"cert_hash\":\"cert-1\"}", "op");
    must(s, "COUNCIL_ELECT_COMPLETE", "{\"council_id\":\"council-1\"}", "op");
    must(s, "COUNCIL_TOOLING_SYNCED", "{\"council_id\":\"council-1\"}", "op");
    must(s, "ENV_ALLOCATION_REQUESTED",
         "{\"resources\":{\"cpu\":\"8\",\"mem\":\"32Gi\"}}", "op");
    must(s, "ENV_ALLOCATED", NULL, "op");
    must(s, "ENV_PROVISIONED", NULL, "op");
    must(s, "ENV_HEALTH_GREEN", NULL, "op");
    must(s, "EXECUTION_WINDOW_OPENED", "{\"window_id\":\"window-1\"}", "op");
    for (unsigned i = 0; i < tasks; i++) {
        snprintf(buf, sizeof buf,
                 "{\"task_id\":\"task-%05u\",\"title\":\"Benchmark task "
                 "number %u of the typical workload\"}",
                 i, i);
        must(s, "EXECUTION_TASK_CREATED", buf, "op");
        if (i % 4 == 0)
            continue;
        snprintf(buf, sizeof buf,
                 "{\"task_id\":\"task-%05u\",\"agent_id\":\"agent-%u\"}", i,
                 i % 8);
        must(s, "EXECUTION_TASK_CLAIMED", buf, "op");
        if (i % 4 == 2) {
            snprintf(buf, sizeof buf,
                     "{\"task_id\":\"task-%05u\",\"agent_id\":\"agent-%u\","
                     "\"result\":\"ucxl://result/%u\"}",
                     i, i % 8, i);
            must(s, "EXECUTION_TASK_COMPLETE", buf, "op");
        } else if (i % 4 == 3 && i % 8 == 7) {
            snprintf(buf, sizeof buf,
                     "{\"task_id\":\"task-%05u\",\"agent_id\":\"agent-%u\","
                     "\"reason\":\"timeout\"}",
                     i, i % 8);
            must(s, "EXECUTION_TASK_FAILED", buf, "op");
        }
    }
    must(s, "EXECUTION_PLAN_LOCKED", NULL, "op");
    return s;
}

static void run(const char *label, sw_state_t *s, unsigned iters)
{
    /* Prebuilt proposals: a ring of beats with distinct signers and HLCs. */
    static sw_proposal_t ring[RING];
    char msg[256];
    for (unsigned i = 0; i < RING; i++) {
        char body[256];
        int n = snprintf(body, sizeof body,
                         "{\"transition\":\"EXECUTION_BEAT\",\"signer\":"
                         "\"agent-%u\",\"idem_key\":\"beat-%u\",\"window_id\":"
                         "\"window-1\"}",
                         i % 8, i);
        if (sw_proposal_parse(body, (size_t)n, &ring[i], msg) != SW_C_OK) {
            fprintf(stderr, "bench: %s\n", msg);
            exit(1);
        }
        sw_hlc_t h = {1800000000000ull + i, 0, 1};
        sw_proposal_set_hlc(&ring[i], &h);
    }
    const uint64_t recv = 1800000000000ull;
    char hex[65];
    sw_result_t r;
    size_t bytes;
    sw_state_hash(s, hex);
    sw_state_canonical(s, &bytes);

    /* Warm-up, then reduce + hash (the executor's step). */
    for (unsigned i = 0; i < iters / 10 + 1; i++) {
        sw_reduce(s, &ring[i % RING], &SW_GUARDS_ALL_OK, recv, &r);
        sw_state_hash(s, hex);
    }
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < iters; i++) {
        sw_reduce(s, &ring[i % RING], &SW_GUARDS_ALL_OK, recv, &r);
        if (r.outcome != SW_OUT_APPLIED) {
            fprintf(stderr, "bench: beat rejected: %s\n", r.msg);
            exit(1);
        }
        sw_state_hash(s, hex);
    }
    uint64_t t_both = now_ns() - t0;

    /* Reduce alone, to split the step into its two parts. */
    t0 = now_ns();
    for (unsigned i = 0; i < iters; i++)
        sw_reduce(s, &ring[i % RING], &SW_GUARDS_ALL_OK, recv, &r);
    uint64_t t_reduce = now_ns() - t0;
    sw_state_hash(s, hex);

    /* Plain SHA-256 over the same number of bytes, same iteration count. */
    const char *canon = sw_state_canonical(s, &bytes);
    unsigned char *plain = malloc(bytes);
    memcpy(plain, canon, bytes);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    t0 = now_ns();
    for (unsigned i = 0; i < iters; i++) {
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
        EVP_DigestUpdate(ctx, plain, bytes);
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        plain[0] ^= md[0]; /* keep the work observable */
    }
    uint64_t t_plain = now_ns() - t0;
    EVP_MD_CTX_free(ctx);
    free(plain);

    double per_step = (double)t_both / iters;
    double per_reduce = (double)t_reduce / iters;
    double per_hash = per_step - per_reduce;
    double per_plain = (double)t_plain / iters;
    if (per_hash < 0)
        per_hash = 0;
    printf("[%s] tasks=%zu members=%zu projection_bytes=%zu iterations=%u\n",
           label, s->execution.tasks.n, s->council.n_members, bytes, iters);
    printf("[%s] state_hash=%s index=%llu\n", label, hex,
           (unsigned long long)s->meta.index);
    printf("[%s] reduce+hash: %.0f transitions/s (%.0f ns/transition)\n", label,
           1e9 / per_step, per_step);
    printf("[%s] reduce only: %.0f ns/transition\n", label, per_reduce);
    printf("[%s] hash step: %.0f ns/hash\n", label, per_hash);
    printf("[%s] plain SHA-256 (EVP) over %zu bytes: %.0f ns/hash\n", label,
           bytes, per_plain);
    printf("[%s] ratio hash/plain: %.2f\n", label, per_hash / per_plain);
    for (unsigned i = 0; i < RING; i++)
        sw_proposal_destroy(&ring[i]);
}

/* Parses one proposal for the timed loops; exits on a parse error. */
static void parse_one(sw_proposal_t *p, const char *body, uint64_t hlc)
{
    char msg[256];
    if (sw_proposal_parse(body, strlen(body), p, msg) != SW_C_OK) {
        fprintf(stderr, "bench: %s: %s\n", body, msg);
        exit(1);
    }
    sw_hlc_t h = {hlc, 0, 1};
    sw_proposal_set_hlc(p, &h);
}

/* Task transitions on a full state: `n` pairs CLAIMED then COMPLETE on OPEN
 * tasks picked in a fixed pseudo-random order (mode 0), or `n` creates of
 * tasks that sort after every existing one (mode 1). Every step applies
 * once, so the step is timed as reduce and hash separately. */
static void run_tasks(const char *label, sw_state_t *s, unsigned n, int mode)
{
    unsigned steps = mode == 0 ? 2 * n : n;
    sw_proposal_t *ps = calloc(steps, sizeof *ps);
    unsigned *open = calloc(s->execution.tasks.n, sizeof *open);
    unsigned n_open = 0;
    for (size_t i = 0; i < s->execution.tasks.n; i++)
        if (s->execution.tasks.items[i]->status == SW_TASK_OPEN)
            open[n_open++] = (unsigned)i;
    uint64_t rng = 88172645463325252ull;
    for (unsigned i = n_open; i > 1; i--) { /* Fisher-Yates, xorshift64 */
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        unsigned k = (unsigned)(rng % i), tmp = open[i - 1];
        open[i - 1] = open[k];
        open[k] = tmp;
    }
    if (mode == 0 && n > n_open) {
        fprintf(stderr, "bench: only %u open tasks\n", n_open);
        exit(1);
    }
    char body[512];
    for (unsigned i = 0; i < n; i++) {
        if (mode == 0) {
            const char *id = s->execution.tasks.items[open[i]]->id;
            snprintf(body, sizeof body,
                     "{\"transition\":\"EXECUTION_TASK_CLAIMED\",\"signer\":"
                     "\"op\",\"idem_key\":\"c-%u\",\"payload\":{\"task_id\":"
                     "\"%s\",\"agent_id\":\"agent-%u\"}}",
                     i, id, i % 8);
            parse_one(&ps[2 * i], body, 1900000000000ull + 2 * i);
            snprintf(body, sizeof body,
                     "{\"transition\":\"EXECUTION_TASK_COMPLETE\",\"signer\":"
                     "\"op\",\"idem_key\":\"d-%u\",\"payload\":{\"task_id\":"
                     "\"%s\",\"agent_id\":\"agent-%u\",\"result\":"
                     "\"ucxl://r/%u\"}}",
                     i, id, i % 8, i);
            parse_one(&ps[2 * i + 1], body, 1900000000000ull + 2 * i + 1);
        } else {
            snprintf(body, sizeof body,
                     "{\"transition\":\"EXECUTION_TASK_CREATED\",\"signer\":"
                     "\"op\",\"idem_key\":\"n-%u\",\"payload\":{\"task_id\":"
                     "\"zz-task-%05u\",\"title\":\"Appended task %u\"}}",
                     i, i, i);
            parse_one(&ps[i], body, 1900000000000ull + i);
        }
    }
    free(open);
    char hex[65];
    sw_result_t r;
    size_t bytes;
    sw_state_hash(s, hex);
    sw_state_canonical(s, &bytes);
    uint64_t t_reduce = 0, t_hash = 0;
    for (unsigned i = 0; i < steps; i++) {
        uint64_t t0 = now_ns();
        sw_reduce(s, &ps[i], &SW_GUARDS_ALL_OK, 1900000000000ull, &r);
        uint64_t t1 = now_ns();
        if (r.outcome != SW_OUT_APPLIED) {
            fprintf(stderr, "bench: %s rejected: %s\n", label, r.msg);
            exit(1);
        }
        sw_state_hash(s, hex);
        t_hash += now_ns() - t1;
        t_reduce += t1 - t0;
    }
    double per_step = (double)(t_reduce + t_hash) / steps;
    printf("[%s] tasks=%zu steps=%u projection_bytes=%zu\n", label,
           s->execution.tasks.n, steps, bytes);
    printf("[%s] state_hash=%s index=%llu\n", label, hex,
           (unsigned long long)s->meta.index);
    printf("[%s] reduce+hash: %.0f transitions/s (%.0f ns/transition)\n", label,
           1e9 / per_step, per_step);
    printf("[%s] reduce only: %.0f ns/transition\n", label,
           (double)t_reduce / steps);
    printf("[%s] hash step: %.0f ns/hash\n", label, (double)t_hash / steps);
    for (unsigned i = 0; i < steps; i++)
        sw_proposal_destroy(&ps[i]);
    free(ps);
}

int main(int argc, char **argv)
{
    unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    if (scale == 0)
        scale = 1;
    sw_state_t *g = build(1, 0);
    run("genesis", g, 400000 * scale);
    sw_state_free(g);
    sw_state_t *t = build(8, 256);
    run("typical", t, 40000 * scale);
    sw_state_free(t);
    sw_state_t *f = build(8, 4096);
    run("full", f, 4000 * scale);
    sw_state_free(f);
    f = build(8, 4096);
    run_tasks("full-tasks", f, 1000, 0);
    sw_state_free(f);
    f = build(8, 3072);
    run_tasks("full-append", f, 1000, 1);
    sw_state_free(f);
    return 0;
}
