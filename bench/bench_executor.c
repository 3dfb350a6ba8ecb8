/* bench_executor: durable transitions per second through the executor
 * (in-process, no HTTP) with 1, 8 and 64 concurrent submitters, the mean
 * group-commit batch size, the raw fdatasync rate of the same disk measured
 * in the same run, and the replay speed of recovery over a large log.
 *
 * Workload: the window-opening transitions, then EXECUTION_BEAT with unique
 * idem keys (it applies every time), so every acknowledged proposal is a
 * logged, fsynced record.
 *
 * Two kinds of submitter are measured:
 *   threads      one OS thread per submitter, blocked in
 *                sw_executor_submit_wait (64 submitters = 64 threads the
 *                kernel must wake after every commit);
 *   closed-loop  N logical clients with one proposal in flight each, driven
 *                by a few driver threads (--drivers, default 2): a client's
 *                completion callback hands it back to its driver, which
 *                builds, parses and submits its next proposal. This is how
 *                the HTTP server works (a connection is suspended while its
 *                proposal is in the executor and resumed from the callback;
 *                parsing happens on the server's threads, not the
 *                executor's);
 *   callback     the same clients, but each resubmits from inside its
 *                completion callback: build, parse and submit run on the
 *                executor thread (its CPU figure includes them).
 *
 * usage: bench_executor [--dir D] [--seconds S] [--records N]
 *   --dir D      scratch directory on the disk to measure (default: a new
 *                directory under $TMPDIR or /tmp); removed afterwards
 *   --seconds S  measuring time per submitter count (default 3)
 *   --records N  size of the replay log (default 1000000)
 *   --drivers K  driver threads of the closed-loop clients (default 2)
 *   --keep       keep the scratch directory (its replay/ log can then be
 *                checked with `swoosh verify --wal-dir D/replay/wal`)
 */
#include "executor.h"
#include "fsio.h"
#include "log.h"
#include "proposal.h"
#include "recovery.h"
#include "wal.h"

#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void parse_or_die(const char *json, sw_proposal_t *p)
{
    char msg[256];
    if (sw_proposal_parse(json, strlen(json), p, msg) != SW_C_OK) {
        fprintf(stderr, "bench: parse %s: %s\n", json, msg);
        exit(1);
    }
}

static void must(sw_executor_t *ex, const char *t, const char *payload,
                 const char *extra)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"transition\":\"%s\",\"signer\":\"bench\",\"idem_key\":"
             "\"setup-%s\",\"payload\":%s%s}",
             t, t, payload, extra);
    sw_proposal_t p;
    parse_or_die(json, &p);
    sw_reply_t r;
    if (sw_executor_submit_wait(ex, &p, &SW_GUARDS_ALL_OK, &r) != SW_C_OK ||
        r.code != SW_C_OK) {
        fprintf(stderr, "bench: setup %s: %s %s\n", t, sw_code_name(r.code),
                r.msg);
        exit(1);
    }
}

/* Brings the state to an open execution window (as bench/window_setup.sh
 * does over HTTP). */
static void open_window(sw_executor_t *ex)
{
    must(ex, "LICENSE_GRANTED", "{}", "");
    must(ex, "COUNCIL_PROFILES_LOADED",
         "{\"council_id\":\"c1\",\"roles\":[{\"role\":\"lead\","
         "\"required\":true}]}",
         "");
    must(ex, "COUNCIL_ROLE_CLAIMED",
         "{\"council_id\":\"c1\",\"role\":\"lead\",\"agent_id\":\"a1\"}", "");
    must(ex, "COUNCIL_QUORUM_CERT",
         "{\"council_id\":\"c1\",\"cert_hash\":\"cert1\"}", "");
    must(ex, "COUNCIL_ELECT_COMPLETE", "{\"council_id\":\"c1\"}", "");
    must(ex, "COUNCIL_TOOLING_SYNCED", "{\"council_id\":\"c1\"}", "");
    must(ex, "ENV_ALLOCATION_REQUESTED", "{\"resources\":{\"cpu\":\"2\"}}", "");
    must(ex, "ENV_ALLOCATED", "{}", "");
    must(ex, "ENV_PROVISIONED", "{}", "");
    must(ex, "ENV_HEALTH_GREEN", "{}", "");
    must(ex, "EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w1\"}",
         ",\"window_id\":\"w1\"");
}

static sw_executor_t *open_ex(const char *dir, unsigned batch_max,
                              uint64_t snapshot_every)
{
    char wal[700], snap[700];
    snprintf(wal, sizeof wal, "%s/wal", dir);
    snprintf(snap, sizeof snap, "%s/snap", dir);
    sw_exec_config_t c;
    sw_exec_config_defaults(&c);
    c.wal_dir = wal;
    c.snapshot_dir = snap;
    c.snapshot_every = snapshot_every;
    c.batch_max = batch_max;
    c.block_when_full = true;
    c.node_id = 1;
    swoosh_error err = {0};
    sw_executor_t *ex = sw_executor_open(&c, &err);
    if (!ex) {
        fprintf(stderr, "bench: open: %s\n", err.msg);
        exit(1);
    }
    return ex;
}

/* Raw fdatasync rate: 4 KiB appended and fdatasync'd, like a WAL commit. */
/* Raw sync rate of the disk: 4 KiB writes, each followed by fdatasync.
 * Appending extends the file (on ext4 every sync then commits the journal
 * too); overwriting rewrites blocks the file already has, which is what
 * SQLite's WAL does once its checkpoint cycles restart it (src/wal.c). */
static double fdatasync_rate(const char *dir, double seconds, bool overwrite)
{
    char path[600];
    snprintf(path, sizeof path, "%s/fdatasync.probe", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror("bench: fdatasync probe");
        exit(1);
    }
    char block[4096];
    memset(block, 'x', sizeof block);
    enum { SPAN = 4096 }; /* blocks rewritten in turn when overwriting */
    if (overwrite) {
        for (int i = 0; i < SPAN; i++)
            if (write(fd, block, sizeof block) != (ssize_t)sizeof block) {
                perror("bench: fdatasync probe");
                exit(1);
            }
        if (fsync(fd) != 0) {
            perror("bench: fdatasync probe");
            exit(1);
        }
    }
    uint64_t n = 0;
    double t0 = now_s(), t;
    do {
        off_t at = overwrite ? (off_t)(n % SPAN) * (off_t)sizeof block
                             : (off_t)n * (off_t)sizeof block;
        if (pwrite(fd, block, sizeof block, at) != (ssize_t)sizeof block ||
            fdatasync(fd) != 0) {
            perror("bench: fdatasync probe");
            exit(1);
        }
        n++;
        t = now_s();
    } while (t - t0 < seconds);
    close(fd);
    unlink(path);
    return (double)n / (t - t0);
}

/* How submitters pick idempotency keys. Ordered (the default) draws them
 * from one global sequence, as clients using time-ordered keys (UUIDv7,
 * ULID) do: new keys land at the right edge of the UNIQUE idem_key index, so
 * a commit dirties few index pages. Per-client keys ("<client>-<n>") land in
 * one index region per client, so a commit of N clients' records dirties
 * about N index leaves; `--keys per-client` measures that case. */
static bool ordered_keys = true;
static atomic_uint_fast64_t key_seq;

static void format_key(char *out, size_t n, const char *prefix, int id,
                       uint64_t seq)
{
    if (ordered_keys)
        snprintf(out, n, "%s-%020" PRIu64, prefix,
                 (uint64_t)atomic_fetch_add(&key_seq, 1));
    else
        snprintf(out, n, "%s-%d-%" PRIu64, prefix, id, seq);
}

typedef struct runner {
    sw_executor_t *ex;
    int id;
    atomic_bool *stop;
    uint64_t ok;
} runner_t;

static void *submit_loop(void *arg)
{
    runner_t *r = arg;
    char json[256];
    for (uint64_t n = 0; !atomic_load(r->stop); n++) {
        char key[64];
        format_key(key, sizeof key, "beat", r->id, n);
        snprintf(json, sizeof json,
                 "{\"transition\":\"EXECUTION_BEAT\",\"signer\":\"a1\","
                 "\"idem_key\":\"%s\"}",
                 key);
        sw_proposal_t p;
        parse_or_die(json, &p);
        sw_reply_t rep;
        if (sw_executor_submit_wait(r->ex, &p, &SW_GUARDS_ALL_OK, &rep) !=
                SW_C_OK ||
            rep.code != SW_C_OK) {
            fprintf(stderr, "bench: beat rejected: %s %s\n",
                    sw_code_name(rep.code), rep.msg);
            exit(1);
        }
        r->ok++;
    }
    return NULL;
}

typedef struct phase {
    double rate, mean_batch, commit_ms, cpu_us;
} phase_t;

static void phase_stats(const sw_exec_stats_t *s0, const sw_exec_stats_t *s1,
                        phase_t *ph)
{
    uint64_t batches = s1->commits - s0->commits;
    uint64_t recs = s1->index - s0->index;
    ph->mean_batch = batches ? (double)recs / (double)batches : 0;
    ph->commit_ms = batches
                        ? (s1->commit_seconds_sum - s0->commit_seconds_sum) *
                              1e3 / (double)batches
                        : 0;
    ph->cpu_us =
        recs ? (s1->busy_seconds - s0->busy_seconds) * 1e6 / (double)recs : 0;
}

static void run_submitters(const char *base, int nthreads, double seconds,
                           phase_t *ph)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/s%d", base, nthreads);
    sw_executor_t *ex = open_ex(dir, 256, 10000);
    open_window(ex);
    atomic_bool stop;
    atomic_init(&stop, false);
    runner_t *rs = calloc((size_t)nthreads, sizeof *rs);
    pthread_t *th = calloc((size_t)nthreads, sizeof *th);
    sw_exec_stats_t s0, s1;
    sw_executor_stats(ex, &s0);
    double t0 = now_s();
    for (int i = 0; i < nthreads; i++) {
        rs[i] = (runner_t){ex, i, &stop, 0};
        pthread_create(&th[i], NULL, submit_loop, &rs[i]);
    }
    struct timespec ts = {(time_t)seconds,
                          (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, true);
    uint64_t ok = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        ok += rs[i].ok;
    }
    double dt = now_s() - t0;
    sw_executor_stats(ex, &s1);
    phase_stats(&s0, &s1, ph);
    ph->rate = (double)ok / dt;
    swoosh_error err = {0};
    sw_executor_close(ex, &err);
    free(rs);
    free(th);
    rm_rf(dir);
}

/* ------------------------------------------------- closed-loop clients */

struct driver;

typedef struct client {
    struct client *next;
    struct driver *d;
    int id;
    uint64_t n;
} client_t;

typedef struct driver {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    client_t *ready;
    bool waiting;
    sw_executor_t *ex;
    atomic_bool *stop;
    atomic_int *inflight;
    uint64_t ok;
    pthread_t th;
    bool in_callback; /* resubmit from the completion callback itself */
} driver_t;

static void client_submit(driver_t *d, client_t *c);

/* Runs on the executor thread: hand the client back to its driver (one
 * wake-up per driver sleep, not per completion). */
static void client_done(void *arg, const sw_reply_t *r)
{
    client_t *c = arg;
    driver_t *d = c->d;
    if (r->code != SW_C_OK) {
        fprintf(stderr, "bench: beat rejected: %s %s\n", sw_code_name(r->code),
                r->msg);
        exit(1);
    }
    if (d->in_callback) {
        d->ok++; /* only the executor thread counts in this mode */
        if (!atomic_load(d->stop))
            client_submit(d, c);          /* counted in flight before ... */
        atomic_fetch_sub(d->inflight, 1); /* ... this one leaves */
        return;
    }
    pthread_mutex_lock(&d->mu);
    d->ok++;
    c->next = d->ready;
    d->ready = c;
    bool wake = d->waiting;
    d->waiting = false;
    pthread_mutex_unlock(&d->mu);
    if (wake)
        pthread_cond_signal(&d->cv);
    atomic_fetch_sub(d->inflight, 1);
}

static void client_submit(driver_t *d, client_t *c)
{
    char json[256];
    char key[64];
    format_key(key, sizeof key, "loop", c->id, c->n++);
    snprintf(json, sizeof json,
             "{\"transition\":\"EXECUTION_BEAT\",\"signer\":\"a1\","
             "\"idem_key\":\"%s\"}",
             key);
    sw_proposal_t p;
    parse_or_die(json, &p);
    atomic_fetch_add(d->inflight, 1);
    if (sw_executor_submit(d->ex, &p, &SW_GUARDS_ALL_OK, client_done, c) !=
        SW_C_OK) {
        fprintf(stderr, "bench: closed-loop submit refused\n");
        exit(1);
    }
}

static void *driver_main(void *arg)
{
    driver_t *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->ready && !atomic_load(d->stop)) {
            d->waiting = true;
            pthread_cond_wait(&d->cv, &d->mu);
        }
        if (atomic_load(d->stop))
            break;
        client_t *c = d->ready;
        d->ready = NULL;
        pthread_mutex_unlock(&d->mu);
        while (c) {
            client_t *next = c->next;
            client_submit(d, c);
            c = next;
        }
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static void run_closed_loop(const char *base, int nclients, int ndrivers,
                            double seconds, phase_t *ph)
{
    bool in_callback = ndrivers == 0;
    if (in_callback)
        ndrivers = 1; /* one bookkeeping record, no thread */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/c%d", base, nclients);
    sw_executor_t *ex = open_ex(dir, 256, 10000);
    open_window(ex);
    atomic_bool stop;
    atomic_init(&stop, false);
    atomic_int inflight;
    atomic_init(&inflight, 0);
    driver_t *ds = calloc((size_t)ndrivers, sizeof *ds);
    client_t *cs = calloc((size_t)nclients, sizeof *cs);
    for (int i = 0; i < ndrivers; i++) {
        pthread_mutex_init(&ds[i].mu, NULL);
        pthread_cond_init(&ds[i].cv, NULL);
        ds[i].ex = ex;
        ds[i].stop = &stop;
        ds[i].inflight = &inflight;
        ds[i].in_callback = in_callback;
    }
    for (int i = 0; i < nclients; i++) {
        cs[i].id = i;
        cs[i].d = &ds[i % ndrivers];
        cs[i].next = cs[i].d->ready;
        cs[i].d->ready = &cs[i];
    }
    sw_exec_stats_t s0, s1;
    sw_executor_stats(ex, &s0);
    double t0 = now_s();
    if (in_callback) {
        client_t *c = ds[0].ready;
        ds[0].ready = NULL;
        while (c) {
            client_t *next = c->next;
            client_submit(&ds[0], c);
            c = next;
        }
    } else {
        for (int i = 0; i < ndrivers; i++)
            pthread_create(&ds[i].th, NULL, driver_main, &ds[i]);
    }
    struct timespec ts = {(time_t)seconds,
                          (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, true);
    for (int i = 0; i < ndrivers && !in_callback; i++) {
        pthread_mutex_lock(&ds[i].mu);
        pthread_cond_signal(&ds[i].cv);
        pthread_mutex_unlock(&ds[i].mu);
        pthread_join(ds[i].th, NULL);
    }
    while (atomic_load(&inflight) > 0) {
        struct timespec w = {0, 100000};
        nanosleep(&w, NULL);
    }
    double dt = now_s() - t0;
    uint64_t ok = 0;
    for (int i = 0; i < ndrivers; i++) {
        pthread_mutex_lock(&ds[i].mu);
        ok += ds[i].ok;
        pthread_mutex_unlock(&ds[i].mu);
    }
    sw_executor_stats(ex, &s1);
    phase_stats(&s0, &s1, ph);
    ph->rate = (double)ok / dt;
    swoosh_error err = {0};
    sw_executor_close(ex, &err);
    for (int i = 0; i < ndrivers; i++) {
        pthread_mutex_destroy(&ds[i].mu);
        pthread_cond_destroy(&ds[i].cv);
    }
    free(ds);
    free(cs);
    rm_rf(dir);
}

typedef struct gen {
    atomic_uint_fast64_t done;
} gen_t;

static void count_done(void *arg, const sw_reply_t *r)
{
    gen_t *g = arg;
    if (r->code != SW_C_OK) {
        fprintf(stderr, "bench: generator rejected: %s\n",
                sw_code_name(r->code));
        exit(1);
    }
    atomic_fetch_add(&g->done, 1);
}

typedef struct producer {
    sw_executor_t *ex;
    gen_t *g;
    int id, of;
    uint64_t n;
} producer_t;

static void *produce(void *arg)
{
    producer_t *pr = arg;
    char json[256];
    for (uint64_t i = (uint64_t)pr->id; i < pr->n; i += (uint64_t)pr->of) {
        snprintf(json, sizeof json,
                 "{\"transition\":\"EXECUTION_BEAT\",\"signer\":\"a1\","
                 "\"idem_key\":\"gen-%" PRIu64 "\"}",
                 i);
        sw_proposal_t p;
        parse_or_die(json, &p);
        if (sw_executor_submit(pr->ex, &p, &SW_GUARDS_ALL_OK, count_done,
                               pr->g) != SW_C_OK) {
            fprintf(stderr, "bench: generator submit refused\n");
            exit(1);
        }
    }
    return NULL;
}

/* One kind of submitter at 1, 8 and 64 submitters, a line each, then the
 * 64-vs-1 speed-up. drivers < 0: one OS thread per submitter; 0: resubmit
 * from the callback; > 0: closed-loop clients on that many drivers. */
static void run_kind(const char *base, const char *label, const char *tag,
                     int drivers, double seconds)
{
    static const int counts[] = {1, 8, 64};
    phase_t ph[3];
    for (int i = 0; i < 3; i++) {
        if (drivers < 0)
            run_submitters(base, counts[i], seconds, &ph[i]);
        else
            run_closed_loop(base, counts[i], drivers, seconds, &ph[i]);
        printf("%-11s %-3d durable    %10.0f transitions/s  mean batch "
               "%5.1f  commit %.3f ms  executor %.2f us/transition\n",
               label, counts[i], ph[i].rate, ph[i].mean_batch, ph[i].commit_ms,
               ph[i].cpu_us);
    }
    char what[40];
    snprintf(what, sizeof what, "speedup 64 vs 1 (%s)", tag);
    printf("%-26s %10.1fx\n", what, ph[2].rate / ph[0].rate);
}

int main(int argc, char **argv)
{
    const char *dir_arg = NULL;
    double seconds = 3;
    uint64_t records = 1000000;
    bool keep = false;
    int drivers = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir_arg = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            records = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--drivers") == 0 && i + 1 < argc)
            drivers = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
        else if (strcmp(argv[i], "--keep") == 0)
            keep = true;
        else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc &&
                 (strcmp(argv[i + 1], "ordered") == 0 ||
                  strcmp(argv[i + 1], "per-client") == 0))
            ordered_keys = strcmp(argv[++i], "ordered") == 0;
        else {
            fprintf(stderr, "usage: bench_executor [--dir D] [--seconds S] "
                            "[--records N] [--drivers K] [--keep] "
                            "[--keys ordered|per-client]\n");
            return 2;
        }
    }
    sw_log_set_level(SW_LOG_ERROR);
    char base[512];
    if (dir_arg) {
        snprintf(base, sizeof base, "%s/bench-executor-XXXXXX", dir_arg);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof base, "%s/bench-executor-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
    }
    if (sw_fsio_mkdirs(dir_arg ? dir_arg : "/tmp", NULL) != SWOOSH_OK ||
        !mkdtemp(base)) {
        perror("bench: scratch dir");
        return 1;
    }
    printf("bench_executor: scratch %s\n", base);
    printf("idempotency keys: %s\n",
           ordered_keys ? "ordered (one global sequence, like UUIDv7/ULID)"
                        : "per-client (\"<client>-<n>\")");

    double fsr = fdatasync_rate(base, 1.0, false);
    printf("fdatasync (4 KiB append)   %10.0f /s\n", fsr);
    printf("fdatasync (4 KiB overwrite)%10.0f /s\n",
           fdatasync_rate(base, 1.0, true));

    printf("threads: one OS thread per submitter, blocked until its answer\n");
    run_kind(base, "threads", "threads", -1, seconds);
    printf("closed-loop: N clients, one proposal in flight each, resubmitted "
           "from the completion callback by %d driver thread(s) (as HTTP "
           "connections)\n",
           drivers);
    run_kind(base, "closed-loop", "closed", drivers, seconds);
    printf("callback: N clients, each resubmitted from inside its completion "
           "callback (parse and submit on the executor thread)\n");
    run_kind(base, "callback", "callback", 0, seconds);

    /* Replay: generate a log through the executor with large batches, then
     * time a full recovery from genesis. */
    char gdir[600];
    snprintf(gdir, sizeof gdir, "%s/replay", base);
    sw_executor_t *ex = open_ex(gdir, 8192, 0);
    open_window(ex);
    gen_t g;
    atomic_init(&g.done, 0);
    double t0 = now_s();
    enum { PRODUCERS = 2 };
    producer_t pr[PRODUCERS];
    pthread_t pth[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        pr[i] = (producer_t){ex, &g, i, PRODUCERS, records};
        pthread_create(&pth[i], NULL, produce, &pr[i]);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(pth[i], NULL);
    while (atomic_load(&g.done) < records) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    double gen_s = now_s() - t0;
    sw_exec_stats_t st;
    sw_executor_stats(ex, &st);
    swoosh_error err = {0};
    sw_executor_close(ex, &err);
    printf("generated %" PRIu64 " records in %.1f s (%.0f/s, batches up to "
           "8192)\n",
           records, gen_s, (double)records / gen_s);
    printf("executor thread CPU        %10.2f us/transition (all steps: "
           "idempotency, reducer, hash, record, commit syscalls, publish)\n",
           st.busy_seconds * 1e6 / (double)st.index);

    char wal[800];
    snprintf(wal, sizeof wal, "%s/wal", gdir);
    char gh[65];
    sw_state_t *gen = sw_recovery_genesis(NULL, gh, &err);
    sw_wal_t *w = sw_wal_open(wal, gh, NULL, &err);
    if (!w) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    sw_recovered_t rec;
    if (sw_recovery_run(w, NULL, gen, gh, &rec, &err) != SWOOSH_OK) {
        fprintf(stderr, "bench: replay: %s\n", err.msg);
        return 1;
    }
    printf("replay %" PRIu64 " records    %10.0f records/s  (%.2f s, "
           "index %" PRIu64 ")\n",
           rec.replayed, (double)rec.replayed / rec.seconds, rec.seconds,
           rec.index);
    sw_state_free(rec.state);
    sw_state_free(gen);
    sw_wal_close(w);
    if (!keep)
        rm_rf(base);
    return 0;
}
