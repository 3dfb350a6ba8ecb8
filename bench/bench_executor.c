/* bench_executor: durable transitions per second through the executor
 * (in-process, no HTTP) with 1, 8 and 64 concurrent submitters, the mean
 * group-commit batch size, the raw fdatasync rate of the same disk measured
 * in the same run, and the replay speed of recovery over a large log.
 *
 * Workload: the window-opening transitions, then EXECUTION_BEAT with unique
 * idem keys (it applies every time), so every acknowledged proposal is a
 * logged, fsynced record.
 *
 * usage: bench_executor [--dir D] [--seconds S] [--records N]
 *   --dir D      scratch directory on the disk to measure (default: a new
 *                directory under $TMPDIR or /tmp); removed afterwards
 *   --seconds S  measuring time per submitter count (default 3)
 *   --records N  size of the replay log (default 1000000)
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
static double fdatasync_rate(const char *dir, double seconds)
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
    uint64_t n = 0;
    double t0 = now_s(), t;
    do {
        if (write(fd, block, sizeof block) != (ssize_t)sizeof block ||
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
        snprintf(json, sizeof json,
                 "{\"transition\":\"EXECUTION_BEAT\",\"signer\":\"a1\","
                 "\"idem_key\":\"beat-%d-%" PRIu64 "\"}",
                 r->id, n);
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

static double run_submitters(const char *base, int nthreads, double seconds,
                             double *mean_batch)
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
    uint64_t batches = s1.commits - s0.commits;
    uint64_t recs = s1.index - s0.index;
    *mean_batch = batches ? (double)recs / (double)batches : 0;
    swoosh_error err = {0};
    sw_executor_close(ex, &err);
    free(rs);
    free(th);
    rm_rf(dir);
    return (double)ok / dt;
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

int main(int argc, char **argv)
{
    const char *dir_arg = NULL;
    double seconds = 3;
    uint64_t records = 1000000;
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir_arg = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            records = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--keep") == 0)
            keep = true;
        else {
            fprintf(stderr, "usage: bench_executor [--dir D] [--seconds S] "
                            "[--records N] [--keep]\n");
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

    double fsr = fdatasync_rate(base, 1.0);
    printf("fdatasync (4 KiB append)   %10.0f /s\n", fsr);

    static const int counts[] = {1, 8, 64};
    double rate[3];
    for (int i = 0; i < 3; i++) {
        double mb = 0;
        rate[i] = run_submitters(base, counts[i], seconds, &mb);
        printf("submitters %-3d durable    %10.0f transitions/s  mean batch "
               "%.1f  (%.2f per fdatasync-rate)\n",
               counts[i], rate[i], mb, rate[i] / fsr);
    }
    printf("speedup 64 vs 1 submitter  %10.1fx\n", rate[2] / rate[0]);

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
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        pr[i] = (producer_t){ex, &g, i, PRODUCERS, records};
        pthread_create(&th[i], NULL, produce, &pr[i]);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(th[i], NULL);
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
