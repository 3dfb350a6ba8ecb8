/* recovery: rebuild the state from snapshots and the log, checking every
 * record (SPEC §1.5, §4).
 *
 * Start from the newest trusted snapshot (its recomputed hash equals its
 * state_hash and, when the log still holds its index, the log record there
 * carries the same hash), else an older one, else genesis; then replay every
 * later record: parse its proposal, run the reducer with the recorded guards
 * and receive time, recompute the hash and compare. A gap, an unparseable
 * record, a different outcome or a hash mismatch is SWOOSH_EDIVERGED with a
 * message naming the index and both hashes; nothing is served from such a log.
 */
#ifndef SW_RECOVERY_H
#define SW_RECOVERY_H

#include "state.h"
#include "swoosh.h"
#include "wal.h"

#include <stdbool.h>
#include <stdint.h>

/* Loads the genesis state: the built-in one when path is NULL or "", else
 * the projection in the file, which must be valid and have Meta.Index 0.
 * Returns the state (caller owns, free with sw_state_free) and its hash, or
 * NULL with err (SWOOSH_EIO, SWOOSH_ECORRUPT, SWOOSH_EINVAL). */
sw_state_t *sw_recovery_genesis(const char *path,
                                char hash[SWOOSH_HASH_HEX_SIZE],
                                swoosh_error *err);

/* Replays the records after s's index (up to `upto`, 0 = the log's end) onto
 * s, checking each. On SWOOSH_EDIVERGED s is left at the last good record.
 * *replayed (nullable) receives the number of records applied. */
swoosh_err_t sw_recovery_replay(sw_wal_t *log, sw_state_t *s, uint64_t upto,
                                uint64_t *replayed, swoosh_error *err);

/* How a snapshot compares with the log (sw_recovery_check_snapshot). */
typedef enum sw_snapcheck {
    SW_SNAPCHECK_AGREES = 0,  /* the record at its index has its hash; for
                                 index 0, it is the genesis */
    SW_SNAPCHECK_NOT_GENESIS, /* index 0 with a hash other than genesis's */
    SW_SNAPCHECK_AHEAD,       /* the log has no record at its index */
    SW_SNAPCHECK_DIFFERS,     /* the record at its index has another hash */
    SW_SNAPCHECK_LOG_ERROR,   /* reading the log failed: see err */
} sw_snapcheck_t;

/* Size of the message buffer of sw_recovery_check_snapshot. */
#define SW_SNAPCHECK_MSG SWOOSH_MSG_SIZE

/* Checks a loaded snapshot (its index and recomputed hash, 64 hex) against
 * the log as it is now: snapshot 0 against genesis_hash (borrowed), any
 * other against the state_hash of the log record at its index (a record
 * compacted away reads as missing, so callers decide about those first).
 * On a disagreement msg (nullable, SW_SNAPCHECK_MSG bytes) receives one
 * sentence naming the snapshot, e.g. "snapshot 7 has hash …, the log record
 * has …", and is "" otherwise; on SW_SNAPCHECK_LOG_ERROR err says why. */
sw_snapcheck_t sw_recovery_check_snapshot(sw_wal_t *log, uint64_t index,
                                          const char *hash,
                                          const char *genesis_hash, char *msg,
                                          swoosh_error *err);

typedef struct sw_recovered {
    sw_state_t *state; /* caller owns, free with sw_state_free */
    char state_hash[SWOOSH_HASH_HEX_SIZE];
    uint64_t index;             /* == state->meta.index */
    uint64_t snapshot_index;    /* snapshot started from; 0 = genesis */
    uint64_t replayed;          /* records replayed */
    unsigned snapshots_skipped; /* untrusted snapshots passed over */
    double seconds;             /* wall time of the whole recovery */
} sw_recovered_t;

/* The whole start-up recovery. genesis (borrowed) and genesis_hash are what
 * sw_recovery_genesis() returned; snapshot_dir may be NULL (replay from
 * genesis). On success fills out; on failure returns the error (out->state
 * NULL): SWOOSH_EDIVERGED for a diverged log or a snapshot ahead of the log.
 */
swoosh_err_t sw_recovery_run(sw_wal_t *log, const char *snapshot_dir,
                             const sw_state_t *genesis,
                             const char *genesis_hash, sw_recovered_t *out,
                             swoosh_error *err);

#endif
