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
#include <string.h>
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

/* Takes "--name V" or "--name=V"; returns 1 when matched, -1 when V is
 * missing, 0 otherwise. */
static int opt_value(int argc, char **argv, int *i, const char *name,
                     const char **out)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

/* Offline verification for operators and CI: the same replay as start-up,
 * over the whole log, with throughput figures (SPEC §1.5). */
int cmd_verify(int argc, char **argv)
{
    const char *wal_dir = getenv("SWOOSH_WAL_DIR");
    const char *snap_dir = getenv("SWOOSH_SNAPSHOT_DIR");
    const char *genesis = getenv("SWOOSH_GENESIS");
    if (!wal_dir || !*wal_dir)
        wal_dir = SW_WAL_DIR_DEFAULT;
    if (!snap_dir || !*snap_dir)
        snap_dir = SW_SNAPSHOT_DIR_DEFAULT;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return SW_EXIT_OK;
        }
        int m = opt_value(argc, argv, &i, "--wal-dir", &wal_dir);
        if (!m)
            m = opt_value(argc, argv, &i, "--snapshot-dir", &snap_dir);
        if (!m)
            m = opt_value(argc, argv, &i, "--genesis", &genesis);
        if (m == 1)
            continue;
        fprintf(stderr, "swoosh verify: %s '%s'\n",
                m < 0 ? "missing value for" : "unknown argument", argv[i]);
        usage(stderr);
        return SW_EXIT_USAGE;
    }
    sw_log_set_level(SW_LOG_ERROR);

    int rc = SW_EXIT_FAIL;
    swoosh_error err = {0};
    sw_wal_t *w = NULL;
    sw_state_t *s = NULL;
    uint64_t *idx = NULL;
    size_t nsnap = 0;
    char gh[65];
    sw_state_t *g = sw_recovery_genesis(genesis, gh, &err);
    if (!g) {
        fprintf(stderr, "swoosh verify: %s\n", err.msg);
        goto out;
    }
    sw_wal_options_t ro = {.read_only = true};
    w = sw_wal_open(wal_dir, gh, &ro, &err);
    if (!w) {
        fprintf(stderr, "swoosh verify: %s\n", err.msg);
        goto out;
    }
    uint64_t first = sw_wal_first_index(w), last = sw_wal_last_index(w);
    if (first > 1) {
        fprintf(stderr,
                "swoosh verify: the log was compacted (it starts at record "
                "%" PRIu64 "); a full replay from genesis is impossible\n",
                first);
        goto out;
    }

    /* A running server keeps appending: verify the log as it was at open,
     * records 1..last (a read from the log sees later commits too). */
    double t0 = now_s();
    s = sw_state_clone(g);
    uint64_t n = 0;
    swoosh_err_t vr =
        last > 0 ? sw_recovery_replay(w, s, last, &n, &err) : SWOOSH_OK;
    double dt = now_s() - t0;
    if (vr == SWOOSH_EDIVERGED) {
        fprintf(stderr,
                "swoosh verify: DIVERGED: %s\n(%" PRIu64
                " records verified before it)\n",
                err.msg, n);
        rc = SW_EXIT_DIVERGED;
        goto out;
    }
    if (vr != SWOOSH_OK) {
        fprintf(stderr, "swoosh verify: %s\n", err.msg);
        goto out;
    }
    if (s->meta.index != last) {
        fprintf(stderr,
                "swoosh verify: DIVERGED: replay ended at %" PRIu64
                " but the log's last record is %" PRIu64 "\n",
                s->meta.index, last);
        rc = SW_EXIT_DIVERGED;
        goto out;
    }
    char hash[65];
    sw_state_hash(s, hash);

    /* Every snapshot must be self-consistent and agree with the log. */
    bool snap_diverged = false;
    unsigned bad = 0;
    size_t nsnap_gone = 0;
    if (sw_snapshot_list(snap_dir, false, &idx, &nsnap, &err) != SWOOSH_OK) {
        fprintf(stderr, "swoosh verify: %s\n", err.msg);
        goto out;
    }
    for (size_t i = 0; i < nsnap; i++) {
        char h[65];
        swoosh_error serr = {0};
        sw_state_t *ss = sw_snapshot_load(snap_dir, idx[i], gh, h, &serr);
        if (!ss && serr.code == SWOOSH_ENOTFOUND) {
            nsnap_gone++; /* pruned by a running server since the listing */
            continue;
        }
        if (!ss) {
            fprintf(stderr, "swoosh verify: snapshot %" PRIu64 ": %s\n", idx[i],
                    serr.msg);
            bad++;
            continue;
        }
        sw_state_free(ss);
        if (idx[i] == 0) {
            if (strcmp(h, gh) != 0) {
                fprintf(stderr,
                        "swoosh verify: DIVERGED: snapshot 0 is not the "
                        "genesis\n");
                snap_diverged = true;
            }
            continue;
        }
        /* Read now, not against `last`: a running server may have logged
         * the record (and written the snapshot) after the replay began. */
        char logged[65];
        bool found = false;
        if (sw_wal_state_hash_at(w, idx[i], logged, &found, &serr) !=
            SWOOSH_OK) {
            fprintf(stderr, "swoosh verify: %s\n", serr.msg);
            goto out;
        }
        if (!found) {
            fprintf(stderr,
                    "swoosh verify: DIVERGED: snapshot %" PRIu64
                    " is ahead of the log (no record %" PRIu64 ")\n",
                    idx[i], idx[i]);
            snap_diverged = true;
            continue;
        }
        if (strcmp(logged, h) != 0) {
            fprintf(stderr,
                    "swoosh verify: DIVERGED: snapshot %" PRIu64
                    " has hash %s, the log record has %s\n",
                    idx[i], h, logged);
            snap_diverged = true;
        }
    }

    printf("records:     %" PRIu64 "\n", n);
    printf("last index:  %" PRIu64 "\n", last);
    printf("state hash:  %s\n", hash);
    printf("genesis:     %s\n", gh);
    struct stat sd;
    if (stat(snap_dir, &sd) != 0 || !S_ISDIR(sd.st_mode)) {
        /* Likely a typo in --snapshot-dir: say so instead of "0 checked". */
        printf("snapshots:   none checked: %s is not a directory\n", snap_dir);
    } else {
        printf("snapshots:   %zu checked, %u unreadable", nsnap - nsnap_gone,
               bad);
        if (nsnap_gone)
            printf(", %zu pruned by the server meanwhile", nsnap_gone);
        printf("\n");
    }
    printf("time:        %.3f s\n", dt);
    printf("records/s:   %.0f\n", dt > 0 ? (double)n / dt : 0.0);
    if (snap_diverged) {
        rc = SW_EXIT_DIVERGED;
        goto out;
    }
    if (bad) {
        fprintf(stderr,
                "swoosh verify: the log verifies but %u snapshot(s) "
                "are unreadable; recovery skips them (delete them "
                "to silence this)\n",
                bad);
        goto out;
    }
    printf("ok\n");
    rc = SW_EXIT_OK;

out:
    free(idx);
    sw_state_free(s);
    sw_state_free(g);
    sw_wal_close(w);
    return rc;
}
