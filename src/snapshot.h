/* snapshot: atomic state snapshots (SPEC §4).
 *
 * A snapshot is the file `snapshot-<index, 20 digits>.json` in the snapshot
 * directory, written with sw_fsio_atomic_write() (tmp → fdatasync → rename →
 * fsync dir). Its content is canonical JSON:
 *   {"format":"swoosh-snapshot-v1","genesis_hash":"…",
 *    "idempotency":{"source":"log"},"index":N,"state":{projection},
 *    "state_hash":"…"}
 * "idempotency" says where the idempotency keys up to `index` live: with the
 * full log kept, in the log. The newest SW_SNAPSHOT_KEEP files are kept.
 *
 * Writing is split so the executor never waits on the disk: the executor
 * serialises (sw_snapshot_serialize, cheap: the state's JCS is cached) and a
 * background sw_snapshotter_t writes and syncs.
 */
#ifndef SW_SNAPSHOT_H
#define SW_SNAPSHOT_H

#include "buf.h"
#include "state.h"
#include "swoosh.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_SNAPSHOT_FORMAT "swoosh-snapshot-v1"
#define SW_SNAPSHOT_KEEP   3
/* Locked (flock) by the executor that writes the directory's snapshots. */
#define SW_SNAPSHOT_LOCK_FILE "swoosh-snapshots.lock"
/* Without SWOOSH_SNAPSHOT_DIR or --snapshot-dir (SPEC §8: under ./data). */
#define SW_SNAPSHOT_DIR_DEFAULT "./data/snapshots"

/* Appends the snapshot text for a state whose projection JCS is state_jcs
 * (borrowed) to out. */
void sw_snapshot_serialize(sw_buf_t *out, uint64_t index,
                           const char *state_hash, const char *genesis_hash,
                           const char *state_jcs, size_t state_len);

/* Writes one snapshot file atomically and then removes all but the newest
 * `keep` snapshots (0 = SW_SNAPSHOT_KEEP). Creates dir if needed. */
swoosh_err_t sw_snapshot_write(const char *dir, uint64_t index,
                               const char *content, size_t len, unsigned keep,
                               swoosh_error *err);

/* Lists the indexes of the snapshot files in dir, newest first; with
 * clean_tmp, deletes leftover `snapshot-*.tmp` files (only the owner of the
 * directory may: a running server's write in progress is such a file).
 * *idx: caller owns, free with free() (NULL when *n is 0). A missing dir is
 * an empty list. */
swoosh_err_t sw_snapshot_list(const char *dir, bool clean_tmp, uint64_t **idx,
                              size_t *n, swoosh_error *err);

/* Path of a snapshot file (out must hold PATH_MAX bytes). */
void sw_snapshot_path(const char *dir, uint64_t index, char *out, size_t n);

/* Loads and checks one snapshot: well-formed, format, index equal to the
 * file name's, genesis_hash equal to `genesis_hash` (when non-NULL), a valid
 * state whose recomputed hash equals its state_hash. Returns the state (caller
 * owns, free with sw_state_free) and its hash in hash_out, or NULL with err
 * (SWOOSH_ECORRUPT, SWOOSH_EFORMAT for another genesis/format). */
sw_state_t *sw_snapshot_load(const char *dir, uint64_t index,
                             const char *genesis_hash,
                             char hash_out[SWOOSH_HASH_HEX_SIZE],
                             swoosh_error *err);

/* Background writer: one thread, at most one pending snapshot (a newer one
 * replaces a pending older one). */
typedef struct sw_snapshotter sw_snapshotter_t;

/* Starts the thread. Returns NULL with err if it cannot. dir is copied. */
sw_snapshotter_t *sw_snapshotter_new(const char *dir, unsigned keep,
                                     swoosh_error *err);
/* Queues content (takes ownership; it was allocated with malloc) for index.
 * Never blocks on I/O. */
void sw_snapshotter_submit(sw_snapshotter_t *s, uint64_t index, char *content,
                           size_t len);
/* Waits until nothing is pending or being written. */
void sw_snapshotter_drain(sw_snapshotter_t *s);
/* Snapshots written successfully / failed so far. */
uint64_t sw_snapshotter_written(sw_snapshotter_t *s);
uint64_t sw_snapshotter_failed(sw_snapshotter_t *s);
/* Finishes the pending write, stops the thread, frees. NULL is a no-op. */
void sw_snapshotter_free(sw_snapshotter_t *s);

#endif
