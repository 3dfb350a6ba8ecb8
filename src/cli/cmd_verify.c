/* swoosh verify: replay the whole log offline from genesis, checking every
 * record's hash, and check every snapshot against the log (SPEC §1.5, §8).
 * Exit 0 ok, 3 diverged, 1 any other problem, 2 usage. */
#include "cli.h"

#include "err.h"
#include "log.h"
#include "recovery.h"
#include "snapshot.h"
#include "state.h"
#include "wal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: swoosh verify [--wal-dir D] [--snapshot-dir D] "
            "[--genesis F]\n\n"
            "Replays the whole log from genesis, recomputing and checking "
            "every record's\nstate hash, then checks each snapshot against "
            "the log. Read-only; safe\nwhile a server runs.\n\n"
            "  --wal-dir D       log directory (SWOOSH_WAL_DIR, "
            "default " SW_WAL_DIR_DEFAULT ")\n"
            "  --snapshot-dir D  snapshot directory (SWOOSH_SNAPSHOT_DIR, "
            "default\n                    " SW_SNAPSHOT_DIR_DEFAULT ")\n"
            "  --genesis F       genesis projection file (SWOOSH_GENESIS, "
            "default built-in)\n\n"
            "Exit status: 0 the log verifies, 3 the log diverges (the "
            "message names the\nfirst bad record), 1 another problem, 2 bad "
            "usage.\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct verify_opts {
    const char *wal_dir;
    const char *snap_dir;
    const char *genesis; /* NULL or "": built in */
} verify_opts_t;

/* What the replay and the snapshot checks found, for print_report. */
typedef struct verify_result {
    uint64_t records;                /* records replayed */
    uint64_t last;                   /* the log's last index at open */
    double seconds;                  /* replay wall time */
    char hash[SWOOSH_HASH_HEX_SIZE]; /* state hash after the replay */
    size_t checked; /* snapshots checked (listed and still present) */
    size_t gone;    /* listed, then pruned by a running server */
    unsigned bad;   /* unreadable snapshots */
    bool diverged;  /* some snapshot disagrees with the log or genesis */
} verify_result_t;

/* Fills o from the environment and argv. Returns -1 to go on, else the exit
 * code (SW_EXIT_OK after --help, SW_EXIT_USAGE after a bad argument). */
static int parse_args(int argc, char **argv, verify_opts_t *o)
{
    o->wal_dir = getenv("SWOOSH_WAL_DIR");
    o->snap_dir = getenv("SWOOSH_SNAPSHOT_DIR");
    o->genesis = getenv("SWOOSH_GENESIS");
    if (!o->wal_dir || !*o->wal_dir)
        o->wal_dir = SW_WAL_DIR_DEFAULT;
    if (!o->snap_dir || !*o->snap_dir)
        o->snap_dir = SW_SNAPSHOT_DIR_DEFAULT;
    const sw_cli_opt_t opts[] = {
        /* An empty directory name would look at /swoosh-log.db. */
        {.name = "--wal-dir",
         .kind = SW_CLI_STRING,
         .dst = &o->wal_dir,
         .nonempty = true},
        {.name = "--snapshot-dir",
         .kind = SW_CLI_STRING,
         .dst = &o->snap_dir,
         .nonempty = true},
        {.name = "--genesis", .kind = SW_CLI_STRING, .dst = &o->genesis},
    };
    const sw_cli_spec_t spec = {
        .prog = "swoosh verify",
        .opts = opts,
        .n_opts = sizeof opts / sizeof opts[0],
        .usage = usage,
        .unknown_fmt = "unknown argument '%s'",
        .missing_fmt = "missing value for '%s'",
        .usage_on = SW_CLI_USAGE_ON_UNKNOWN | SW_CLI_USAGE_ON_MISSING,
    };
    return sw_cli_parse(&spec, argc, argv, stdout, stderr);
}

/* Replays records 1..r->last onto a copy of genesis g, filling r's record
 * count, time and hash. Returns -1 when the log verifies, else the exit code
 * after printing why. */
static int replay(sw_wal_t *w, const sw_state_t *g, verify_result_t *r)
{
    /* A running server keeps appending: verify the log as it was at open,
     * records 1..last (a read from the log sees later commits too). */
    swoosh_error err = {0};
    double t0 = now_s();
    sw_state_t *s = sw_state_clone(g);
    uint64_t n = 0;
    swoosh_err_t vr =
        r->last > 0 ? sw_recovery_replay(w, s, r->last, &n, &err) : SWOOSH_OK;
    r->seconds = now_s() - t0;
    r->records = n;
    int rc = -1;
    if (vr == SWOOSH_EDIVERGED) {
        fprintf(stderr,
                "swoosh verify: DIVERGED: %s\n(%" PRIu64
                " records verified before it)\n",
                err.msg, n);
        rc = SW_EXIT_DIVERGED;
    } else if (vr != SWOOSH_OK) {
        fprintf(stderr, "swoosh verify: %s\n", err.msg);
        rc = SW_EXIT_FAIL;
    } else if (s->meta.index != r->last) {
        fprintf(stderr,
                "swoosh verify: DIVERGED: replay ended at %" PRIu64
                " but the log's last record is %" PRIu64 "\n",
                s->meta.index, r->last);
        rc = SW_EXIT_DIVERGED;
    } else {
        sw_state_hash(s, r->hash);
    }
    sw_state_free(s);
    return rc;
}

/* Checks every snapshot in dir: it must load (self-consistent, same
 * genesis) and agree with the log or the genesis (gh). Prints each problem
 * and counts them in r. Returns -1 to go on, or SW_EXIT_FAIL when the
 * directory or the log cannot be read. */
static int check_snapshots(sw_wal_t *w, const char *dir, const char *gh,
                           verify_result_t *r)
{
    swoosh_error err = {0};
    uint64_t *idx = NULL;
    size_t n = 0;
    if (sw_snapshot_list(dir, false, &idx, &n, &err) != SWOOSH_OK) {
        fprintf(stderr, "swoosh verify: %s\n", err.msg);
        return SW_EXIT_FAIL;
    }
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        char h[SWOOSH_HASH_HEX_SIZE];
        swoosh_error serr = {0};
        sw_state_t *ss = sw_snapshot_load(dir, idx[i], gh, h, &serr);
        if (!ss && serr.code == SWOOSH_ENOTFOUND) {
            r->gone++; /* pruned by a running server since the listing */
            continue;
        }
        if (!ss) {
            fprintf(stderr, "swoosh verify: snapshot %" PRIu64 ": %s\n", idx[i],
                    serr.msg);
            r->bad++;
            continue;
        }
        sw_state_free(ss);
        /* Checked against the log now, not against `last`: a running server
         * may have logged the record (and written the snapshot) after the
         * replay began. */
        char msg[SW_SNAPCHECK_MSG];
        sw_snapcheck_t c =
            sw_recovery_check_snapshot(w, idx[i], h, gh, msg, &serr);
        if (c == SW_SNAPCHECK_LOG_ERROR) {
            fprintf(stderr, "swoosh verify: %s\n", serr.msg);
            rc = SW_EXIT_FAIL;
            break;
        }
        if (c != SW_SNAPCHECK_AGREES) {
            fprintf(stderr, "swoosh verify: DIVERGED: %s\n", msg);
            r->diverged = true;
        }
    }
    r->checked = n - r->gone;
    free(idx);
    return rc;
}

/* Prints the figures to stdout, then the verdict. Returns the exit code. */
static int print_report(const verify_opts_t *o, const char *gh,
                        const verify_result_t *r)
{
    printf("records:     %" PRIu64 "\n", r->records);
    printf("last index:  %" PRIu64 "\n", r->last);
    printf("state hash:  %s\n", r->hash);
    printf("genesis:     %s\n", gh);
    struct stat sd;
    if (stat(o->snap_dir, &sd) != 0 || !S_ISDIR(sd.st_mode)) {
        /* Likely a typo in --snapshot-dir: say so instead of "0 checked". */
        printf("snapshots:   none checked: %s is not a directory\n",
               o->snap_dir);
    } else {
        printf("snapshots:   %zu checked, %u unreadable", r->checked, r->bad);
        if (r->gone)
            printf(", %zu pruned by the server meanwhile", r->gone);
        printf("\n");
    }
    printf("time:        %.3f s\n", r->seconds);
    printf("records/s:   %.0f\n",
           r->seconds > 0 ? (double)r->records / r->seconds : 0.0);
    if (r->diverged)
        return SW_EXIT_DIVERGED;
    if (r->bad) {
        fprintf(stderr,
                "swoosh verify: the log verifies but %u snapshot(s) "
                "are unreadable; recovery skips them (delete them "
                "to silence this)\n",
                r->bad);
        return SW_EXIT_FAIL;
    }
    printf("ok\n");
    return SW_EXIT_OK;
}

/* Offline verification for operators and CI: the same replay as start-up,
 * over the whole log, with throughput figures (SPEC §1.5). */
int cmd_verify(int argc, char **argv)
{
    verify_opts_t o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    sw_log_set_level(SW_LOG_ERROR);

    rc = SW_EXIT_FAIL;
    swoosh_error err = {0};
    sw_wal_t *w = NULL;
    verify_result_t r = {0};
    char gh[SWOOSH_HASH_HEX_SIZE];
    sw_state_t *g = sw_recovery_genesis(o.genesis, gh, &err);
    if (!g) {
        fprintf(stderr, "swoosh verify: %s\n", err.msg);
        goto out;
    }
    sw_wal_options_t ro = {.read_only = true};
    w = sw_wal_open(o.wal_dir, gh, &ro, &err);
    if (!w) {
        fprintf(stderr, "swoosh verify: %s\n", err.msg);
        goto out;
    }
    uint64_t first = sw_wal_first_index(w);
    r.last = sw_wal_last_index(w);
    if (first > 1) {
        fprintf(stderr,
                "swoosh verify: the log was compacted (it starts at record "
                "%" PRIu64 "); a full replay from genesis is impossible\n",
                first);
        goto out;
    }
    rc = replay(w, g, &r);
    if (rc < 0)
        rc = check_snapshots(w, o.snap_dir, gh, &r);
    if (rc < 0)
        rc = print_report(&o, gh, &r);

out:
    sw_state_free(g);
    sw_wal_close(w);
    return rc;
}
