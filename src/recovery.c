/* recovery: genesis, snapshot selection and start-up recovery (see
 * recovery.h); the replay itself is in recovery_replay.c. */
#include "recovery.h"

#include "err.h"
#include "fsio.h"
#include "log.h"
#include "snapshot.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The genesis is either built in or an operator's file; a file must be a
 * valid projection at index 0 (SPEC §3), since the log's first record is
 * index 1. */
sw_state_t *sw_recovery_genesis(const char *path,
                                char hash[SWOOSH_HASH_HEX_SIZE],
                                swoosh_error *err)
{
    sw_state_t *s = NULL;
    if (!path || !*path) {
        s = sw_state_new_genesis();
        sw_state_hash(s, hash);
        return s;
    }
    char *data = NULL;
    size_t len = 0;
    if (sw_fsio_read_file(path, &data, &len, err) != SWOOSH_OK) {
        sw_error_prefix(err, "genesis");
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    free(data);
    if (!root || !json_is_object(root)) {
        sw_error_set(err, SWOOSH_ECORRUPT, 0,
                     "genesis: %s: not a JSON object (%s)", path,
                     root ? "other type" : je.text);
        json_decref(root);
        return NULL;
    }
    swoosh_error serr = {0};
    s = sw_state_from_json(root, &serr);
    json_decref(root);
    if (!s) {
        sw_error_set(err, SWOOSH_EINVAL, 0, "genesis: %s: %.200s", path,
                     serr.msg);
        return NULL;
    }
    if (s->meta.index != 0) {
        sw_error_set(err, SWOOSH_EINVAL, 0,
                     "genesis: %s: Meta.Index is %" PRIu64
                     ", a genesis must have Index 0",
                     path, s->meta.index);
        sw_state_free(s);
        return NULL;
    }
    sw_state_hash(s, hash);
    return s;
}

/* A snapshot is only as good as its agreement with the log (SPEC §4): the
 * record at its index must carry its hash, and snapshot 0 must be the
 * genesis. Start-up recovery and `swoosh verify` both judge snapshots here. */
sw_snapcheck_t sw_recovery_check_snapshot(sw_wal_t *log, uint64_t index,
                                          const char *hash,
                                          const char *genesis_hash, char *msg,
                                          swoosh_error *err)
{
    char dummy[SW_SNAPCHECK_MSG];
    if (!msg)
        msg = dummy;
    msg[0] = '\0';
    if (index == 0) {
        if (strcmp(hash, genesis_hash) == 0)
            return SW_SNAPCHECK_AGREES;
        snprintf(msg, SW_SNAPCHECK_MSG, "snapshot 0 is not the genesis");
        return SW_SNAPCHECK_NOT_GENESIS;
    }
    char logged[SWOOSH_HASH_HEX_SIZE];
    bool found = false;
    if (sw_wal_state_hash_at(log, index, logged, &found, err) != SWOOSH_OK)
        return SW_SNAPCHECK_LOG_ERROR;
    if (!found) {
        snprintf(msg, SW_SNAPCHECK_MSG,
                 "snapshot %" PRIu64 " is ahead of the log (no record %" PRIu64
                 ")",
                 index, index);
        return SW_SNAPCHECK_AHEAD;
    }
    if (strcmp(logged, hash) != 0) {
        snprintf(msg, SW_SNAPCHECK_MSG,
                 "snapshot %" PRIu64 " has hash %s, the log record has %s",
                 index, hash, logged);
        return SW_SNAPCHECK_DIFFERS;
    }
    return SW_SNAPCHECK_AGREES;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Passes over a snapshot recovery will not start from, with a warning. */
static void skip_snapshot(sw_recovered_t *out, const char *index,
                          const char *reason)
{
    sw_log(SW_LOG_WARN, "snapshot_skipped", "index", index, "reason", reason,
           NULL);
    out->snapshots_skipped++;
}

/* Chooses the state to start from among the snapshots in dir (SPEC §4),
 * newest first, for a log holding records first..last. A snapshot is passed
 * over (skip_snapshot) when it is older than the compacted log, does not
 * load (sw_snapshot_load's checks, genesis_hash included), or disagrees with
 * the log record at its index (snapshot 0: is not the genesis); one whose
 * record was compacted away is trusted on its own checks. Returns SWOOSH_OK
 * with *picked the chosen state (caller owns, free with sw_state_free) and
 * out->snapshot_index set, or *picked NULL when dir is NULL or no snapshot
 * qualifies. Fails with SWOOSH_EDIVERGED when a snapshot is ahead of the log
 * (committed records were lost: an operator must decide), or with the error of
 * listing the directory or reading the log. */
static swoosh_err_t pick_snapshot(sw_wal_t *log, const char *dir,
                                  const char *genesis_hash, uint64_t first,
                                  uint64_t last, sw_state_t **picked,
                                  sw_recovered_t *out, swoosh_error *err)
{
    *picked = NULL;
    if (!dir)
        return SWOOSH_OK;
    uint64_t *idx = NULL;
    size_t n = 0;
    swoosh_err_t rc = sw_snapshot_list(dir, true, &idx, &n, err);
    if (rc != SWOOSH_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        uint64_t si = idx[i];
        char ibuf[24];
        snprintf(ibuf, sizeof ibuf, "%" PRIu64, si);
        if (si > last) {
            rc = sw_error_set(
                err, SWOOSH_EDIVERGED, 0,
                "snapshot %" PRIu64 " is ahead of the log (last record %" PRIu64
                "): the log lost committed records; restore the log from a "
                "backup, or move the snapshot away to start from the log",
                si, last);
            break;
        }
        if (si + 1 < first) {
            skip_snapshot(out, ibuf, "older than the compacted log");
            continue;
        }
        swoosh_error lerr = {0};
        char h[SWOOSH_HASH_HEX_SIZE];
        sw_state_t *cand = sw_snapshot_load(dir, si, genesis_hash, h, &lerr);
        if (!cand) {
            skip_snapshot(out, ibuf, lerr.msg);
            continue;
        }
        if (si == 0 || si >= first) {
            swoosh_error rerr = {0};
            char why[SW_SNAPCHECK_MSG];
            sw_snapcheck_t c = sw_recovery_check_snapshot(
                log, si, h, genesis_hash, why, &rerr);
            if (c == SW_SNAPCHECK_LOG_ERROR) {
                sw_state_free(cand);
                if (err)
                    *err = rerr;
                rc = rerr.code;
                break;
            }
            if (c != SW_SNAPCHECK_AGREES) {
                skip_snapshot(out, ibuf, why);
                sw_state_free(cand);
                continue;
            }
        }
        *picked = cand;
        out->snapshot_index = si;
        break;
    }
    free(idx);
    return rc;
}

/* Start-up recovery (SPEC §4): newest trusted snapshot, else an older one,
 * else genesis, then a verified replay of the rest of the log. */
swoosh_err_t sw_recovery_run(sw_wal_t *log, const char *snapshot_dir,
                             const sw_state_t *genesis,
                             const char *genesis_hash, sw_recovered_t *out,
                             swoosh_error *err)
{
    double t0 = now_s();
    memset(out, 0, sizeof *out);
    sw_state_t *s = NULL;
    uint64_t last = sw_wal_last_index(log);
    uint64_t first = sw_wal_first_index(log);

    swoosh_err_t rc = pick_snapshot(log, snapshot_dir, genesis_hash, first,
                                    last, &s, out, err);
    if (rc != SWOOSH_OK)
        goto fail;
    if (!s) {
        if (first > 1) {
            rc = sw_error_set(err, SWOOSH_EDIVERGED, 0,
                              "the log starts at record %" PRIu64
                              " and no trusted snapshot covers the records "
                              "before it",
                              first);
            goto fail;
        }
        s = sw_state_clone(genesis);
    }
    rc = sw_recovery_replay(log, s, 0, &out->replayed, err);
    if (rc != SWOOSH_OK)
        goto fail;
    if (s->meta.index != last) {
        rc = sw_error_set(err, SWOOSH_EDIVERGED, 0,
                          "replay ended at index %" PRIu64
                          " but the log's last record is %" PRIu64,
                          s->meta.index, last);
        goto fail;
    }
    out->state = s;
    out->index = s->meta.index;
    sw_state_hash(s, out->state_hash);
    out->seconds = now_s() - t0;
    return SWOOSH_OK;

fail:
    sw_state_free(s);
    out->state = NULL;
    return rc;
}
