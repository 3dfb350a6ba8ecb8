/* wal: the write-ahead log of logged transitions (SPEC §1.3, §4).
 *
 * The executor reaches storage only through sw_wal_t, a small struct of
 * function pointers shaped like a future Raft log: append a batch durably,
 * read a range, look a record up by idempotency key, compact a prefix, and a
 * key/value meta table. Implementations:
 *   - sw_wal_open()      SQLite (journal_mode=WAL, synchronous=FULL), the
 *                        production log; docs/WAL-FORMAT.md describes it.
 *   - sw_wal_fault_new() a wrapper that fails the Nth append (fault injection
 *                        at the storage seam, like SQLite's test VFS).
 *
 * A record's text is canonical JSON (RFC 8785):
 *   {"guards":{…},"index":N,"outcome":"applied"|"quarantined",
 *    "proposal":{…as received + stamped "hlc"},"received_at_ms":N,
 *    "state_hash":"…"}
 * sw_wal_encode_record()/sw_wal_decode_record() write and split it.
 *
 * Threads: append_batch, find_idem, compact and meta_set are called by one
 * thread at a time (the executor); read_from, last_index and meta_get may be
 * called from any thread concurrently with them.
 */
#ifndef SW_WAL_H
#define SW_WAL_H

#include "buf.h"
#include "reducer.h"
#include "swoosh.h"

#include <stdatomic.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The SQLite database file inside the WAL directory. */
#define SW_WAL_FILE "swoosh-log.db"
/* Locked (flock) by the one process that has the log open for writing. */
#define SW_WAL_LOCK_FILE "swoosh-log.lock"
/* Where the server, `swoosh verify` and `swoosh log` look without
 * SWOOSH_WAL_DIR or --wal-dir (SPEC §8: under ./data). */
#define SW_WAL_DIR_DEFAULT "./data/wal"
/* Default checkpoint threshold in pages (64 MiB of 4 KiB pages): the WAL
 * file's working size. A checkpoint cycle then lets the next commit rewrite
 * the WAL from its start (see ckpt_cycle in wal.c). Each cycle costs the
 * writer a short pause and shares the device with syncs of the database
 * file, so fewer, larger cycles keep tail latency down: at 64 connections
 * p99 3.9 ms with 16 MiB, 2.25 ms with 64 MiB (docs/DURABILITY.md). */
#define SW_WAL_CHECKPOINT_PAGES 16384u
/* Frames a checkpoint cycle copies with the writer held off, at most: the
 * bound of that pause (one short PASSIVE pass and its syncs). */
#define SW_WAL_CHECKPOINT_TAIL 256u
/* PASSIVE passes alongside the writer per cycle before giving up until the
 * next commit asks again. */
#define SW_WAL_CHECKPOINT_PASSES 8
/* checkpoint_pages value: the checkpoint thread never starts a cycle. */
#define SW_WAL_CHECKPOINT_MANUAL UINT_MAX
/* Default SQLite page cache per connection in KiB. Bounded so the server's
 * memory does not grow with the log: pages beyond it are re-read from the OS
 * page cache. */
#define SW_WAL_CACHE_KIB 16384u
/* Meta keys. */
#define SW_WAL_META_FORMAT  "format_version"
#define SW_WAL_META_GENESIS "genesis_hash"

/* One logged record. Every pointer is borrowed: for append_batch, from the
 * caller for the duration of the call; for read callbacks, from the log for
 * the duration of the callback only. */
typedef struct sw_wal_record {
    uint64_t index;
    const char *idem_key;
    const char *transition;
    const char *signer;
    uint64_t received_at_ms;
    const char *state_hash; /* 64 lowercase hex digits */
    /* The answer fields a duplicate repeats (SPEC §2 idempotency): Meta.
     * HLCLast and Control.Quarantined after this record, and the error
     * sentence of a quarantine (NULL for applied records). */
    const char *hlc_last;
    bool quarantined;
    const char *message;
    const char *record; /* canonical JSON, see above */
    size_t record_len;
} sw_wal_record_t;

/* Read callback: return 0 to continue, non-zero to stop early. */
typedef int (*sw_wal_read_fn)(void *arg, const sw_wal_record_t *r);

typedef struct sw_wal sw_wal_t;

typedef struct sw_wal_ops {
    /* Appends n records (indexes consecutive, following last_index) in ONE
     * transaction; durable on SWOOSH_OK. On failure nothing is visible to
     * this process, the log is marked failed (sticky: every later append
     * returns SWOOSH_ESTORAGE) and err says why. */
    swoosh_err_t (*append_batch)(sw_wal_t *w, const sw_wal_record_t *recs,
                                 size_t n, swoosh_error *err);
    /* Highest index in the log, 0 when empty. */
    uint64_t (*last_index)(sw_wal_t *w);
    /* Lowest index in the log (1 unless compacted; last+1 when empty). */
    uint64_t (*first_index)(sw_wal_t *w);
    /* Calls fn for records with index >= from, ascending, at most `limit`
     * (0 = no limit), all inside one read transaction. */
    swoosh_err_t (*read_from)(sw_wal_t *w, uint64_t from, uint64_t limit,
                              sw_wal_read_fn fn, void *arg, swoosh_error *err);
    /* Looks up the record logged with idem_key; *found false when none.
     * fn is called once (with the record) when found. */
    swoosh_err_t (*find_idem)(sw_wal_t *w, const char *idem_key,
                              sw_wal_read_fn fn, void *arg, bool *found,
                              swoosh_error *err);
    /* Deletes records with index <= upto (only when configured); upto must
     * be below the last index (SWOOSH_EINVAL otherwise). */
    swoosh_err_t (*compact)(sw_wal_t *w, uint64_t upto, swoosh_error *err);
    /* *value: caller owns, free with free(); NULL when the key is absent. */
    swoosh_err_t (*meta_get)(sw_wal_t *w, const char *key, char **value,
                             swoosh_error *err);
    swoosh_err_t (*meta_set)(sw_wal_t *w, const char *key, const char *value,
                             swoosh_error *err);
    /* True while no append has failed. */
    bool (*healthy)(sw_wal_t *w);
    /* At a clean shutdown, leaves the log self-contained (SQLite: every
     * frame copied into the database file, the -wal file emptied). An
     * error means it could not; the log is still complete. NULL = nothing
     * to do. */
    swoosh_err_t (*finish)(sw_wal_t *w, swoosh_error *err);
    /* Flushes, closes and frees. NULL-safe via sw_wal_close(). */
    void (*close)(sw_wal_t *w);
} sw_wal_ops_t;

/* Implementations embed this as their first member. */
struct sw_wal {
    const sw_wal_ops_t *ops;
};

/* Dispatch helpers (the log is borrowed). */
static inline swoosh_err_t sw_wal_append_batch(sw_wal_t *w,
                                               const sw_wal_record_t *recs,
                                               size_t n, swoosh_error *err)
{
    return w->ops->append_batch(w, recs, n, err);
}
static inline uint64_t sw_wal_last_index(sw_wal_t *w)
{
    return w->ops->last_index(w);
}
static inline uint64_t sw_wal_first_index(sw_wal_t *w)
{
    return w->ops->first_index(w);
}
static inline swoosh_err_t sw_wal_read_from(sw_wal_t *w, uint64_t from,
                                            uint64_t limit, sw_wal_read_fn fn,
                                            void *arg, swoosh_error *err)
{
    return w->ops->read_from(w, from, limit, fn, arg, err);
}
/* The state_hash of the record at exactly `index` into hash (64 hex + NUL);
 * *found false when the log has no such record. Works on any log. */
swoosh_err_t sw_wal_state_hash_at(sw_wal_t *w, uint64_t index,
                                  char hash[SWOOSH_HASH_HEX_SIZE], bool *found,
                                  swoosh_error *err);
static inline swoosh_err_t sw_wal_find_idem(sw_wal_t *w, const char *key,
                                            sw_wal_read_fn fn, void *arg,
                                            bool *found, swoosh_error *err)
{
    return w->ops->find_idem(w, key, fn, arg, found, err);
}
static inline swoosh_err_t sw_wal_compact(sw_wal_t *w, uint64_t upto,
                                          swoosh_error *err)
{
    return w->ops->compact(w, upto, err);
}
static inline swoosh_err_t sw_wal_meta_get(sw_wal_t *w, const char *key,
                                           char **value, swoosh_error *err)
{
    return w->ops->meta_get(w, key, value, err);
}
static inline swoosh_err_t sw_wal_meta_set(sw_wal_t *w, const char *key,
                                           const char *value, swoosh_error *err)
{
    return w->ops->meta_set(w, key, value, err);
}
static inline bool sw_wal_healthy(sw_wal_t *w)
{
    return w->ops->healthy(w);
}
static inline swoosh_err_t sw_wal_finish(sw_wal_t *w, swoosh_error *err)
{
    return w->ops->finish ? w->ops->finish(w, err) : SWOOSH_OK;
}
/* Closes and frees; NULL is a no-op. */
static inline void sw_wal_close(sw_wal_t *w)
{
    if (w)
        w->ops->close(w);
}

typedef struct sw_wal_options {
    /* Open without creating or writing (verify, log). The genesis check
     * still applies when genesis_hash is given. */
    bool read_only;
    /* Ask the checkpoint thread for a checkpoint cycle once the SQLite
     * WAL file holds this many pages (default SW_WAL_CHECKPOINT_PAGES;
     * 0 = default; SW_WAL_CHECKPOINT_MANUAL = only sw_wal_sqlite_checkpoint
     * checkpoints). */
    unsigned checkpoint_pages;
    /* SQLite page cache per connection in KiB (default
     * SW_WAL_CACHE_KIB; 0 = default). */
    unsigned cache_kib;
} sw_wal_options_t;

/* Opens (creating unless read_only) the SQLite log in `dir` (created with
 * its parents). When the log is new, records SWOOSH_FORMAT_VERSION and
 * genesis_hash in meta; when it exists, refuses with SWOOSH_EFORMAT another
 * format or (if genesis_hash is non-NULL) another genesis hash. `opt` may be
 * NULL. Returns a log the caller owns (free with sw_wal_close()), or NULL
 * with err. */
sw_wal_t *sw_wal_open(const char *dir, const char *genesis_hash,
                      const sw_wal_options_t *opt, swoosh_error *err);

/* Fault injection: counters a test sets and reads (any thread). */
typedef struct sw_wal_fault {
    atomic_ulong appends;        /* append_batch calls seen */
    atomic_ulong fail_append_at; /* fail the call with this 1-based number */
    atomic_bool fail_all;        /* fail every append from now on */
    atomic_bool fail_find;       /* find_idem fails */
    atomic_bool unhealthy;       /* the log reports a failure outside a commit,
                                    as after a failed checkpoint sync */
    atomic_bool hold_appends;    /* appends wait while set, like a commit on
                                    a frozen file system */
} sw_wal_fault_t;

/* Wraps `inner` (takes ownership) so that the appends selected by `fault`
 * (borrowed; must outlive the log) fail with SWOOSH_EIO before reaching
 * `inner`, which then marks the wrapper failed (sticky), like a real failed
 * commit, or wait while `hold_appends` is set. Caller owns the result
 * (sw_wal_close closes inner too). */
sw_wal_t *sw_wal_fault_new(sw_wal_t *inner, sw_wal_fault_t *fault);

/* SQLite log only (a log from sw_wal_open): runs one checkpoint cycle now,
 * on the caller's thread, as the checkpoint thread does once the WAL holds
 * checkpoint_pages pages: PASSIVE passes, then the tail with the writer held
 * off, after which the next commit rewrites the WAL from its start. For
 * tests and tools; the server leaves it to the checkpoint thread. */
void sw_wal_sqlite_checkpoint(sw_wal_t *w);

/* SQLite log only: frames in its WAL file after the last commit (0 before the
 * first). */
unsigned sw_wal_sqlite_frames(sw_wal_t *w);

/* ------------------------------------------------------ idem key filter */

/* A fixed-size blocked Bloom filter over idempotency keys: the writable
 * SQLite log consults it before the exact lookup on the UNIQUE idem_key
 * index, so "never logged" (the common case) costs no SQLite call while its
 * memory stays fixed however long the log grows. "Absent" is exact (no false
 * negatives: a key is added after its commit and never removed); "maybe
 * present" falls back to SQLite, so a false positive only costs a lookup.
 * Each key sets k bits inside one 512-bit (cache-line) block. Not
 * thread-safe (the log guards it with its writer mutex). */
typedef struct sw_idem_filter sw_idem_filter_t;

/* The log's filter: 2^26 bits = 8 MiB, 6 bits per key. Expected false-
 * positive rate 1.4e-6 at 1M keys, 4.5% at 10M, 33% at 20M; beyond ~50M
 * keys almost every lookup falls through to SQLite (correct, only slower,
 * like a log without the filter). */
#define SW_IDEM_FILTER_BITS_LOG2 26u
#define SW_IDEM_FILTER_K         6u

/* Creates an empty filter of 2^bits_log2 bits (9..40) setting k bits per
 * key (1..7). Caller owns, free with sw_idem_filter_free(). */
sw_idem_filter_t *sw_idem_filter_new(unsigned bits_log2, unsigned k);
/* Adds a key (NUL-terminated, borrowed). */
void sw_idem_filter_add(sw_idem_filter_t *f, const char *key);
/* False only when the key was never added. */
bool sw_idem_filter_may_contain(const sw_idem_filter_t *f, const char *key);
/* Frees f (NULL is fine). */
void sw_idem_filter_free(sw_idem_filter_t *f);

/* ------------------------------------------------------------ records */

/* Appends the canonical record text (see above) to out. proposal_jcs is the
 * JCS of the proposal as received plus its stamped hlc. */
void sw_wal_encode_record(sw_buf_t *out, uint64_t index, const sw_guards_t *g,
                          sw_outcome_t outcome, const char *proposal_jcs,
                          size_t proposal_len, uint64_t received_at_ms,
                          const char *state_hash);

/* A record split into its members. proposal points into the record text
 * (borrowed, not NUL-terminated). */
typedef struct sw_wal_decoded {
    sw_guards_t guards;
    uint64_t index;
    sw_outcome_t outcome;
    const char *proposal;
    size_t proposal_len;
    uint64_t received_at_ms;
    char state_hash[SWOOSH_HASH_HEX_SIZE];
} sw_wal_decoded_t;

/* Splits a record written by sw_wal_encode_record(). Strict: anything but
 * that exact shape (the proposal is checked later, by the JSON parser)
 * returns false with a sentence in msg. */
bool sw_wal_decode_record(const char *rec, size_t len, sw_wal_decoded_t *out,
                          char msg[SWOOSH_MSG_SIZE]);

#endif
