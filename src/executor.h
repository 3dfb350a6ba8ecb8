/* executor: the single thread that owns the state (SPEC §1.1, §4).
 *
 * Callers (HTTP threads, tests, benchmarks) submit parsed proposals with their
 * guard outcome; the executor takes a batch from a bounded queue, stamps
 * receive time and HLC, runs idempotency (step 2), the state-hash
 * precondition (step 3) and the reducer for each in order, appends all logged
 * records in ONE storage transaction (one sync), then publishes an immutable
 * view and completes every waiter. Readers take a reference to the current
 * view and never block the writer.
 */
#ifndef SW_EXECUTOR_H
#define SW_EXECUTOR_H

#include "err.h"
#include "hlc.h"
#include "proposal.h"
#include "reducer.h"
#include "state.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sw_executor sw_executor_t;

/* Defaults of sw_exec_config_defaults(), also shown by `swoosh serve
 * --help` (config.c). */
#define SW_EXEC_SNAPSHOT_EVERY_DEFAULT 10000 /* SPEC §4 */
#define SW_EXEC_BATCH_MAX_DEFAULT      256
#define SW_EXEC_QUEUE_MAX_DEFAULT      65536

typedef struct sw_exec_config {
    const char *wal_dir;      /* the SQLite log's (created; NULL: default) */
    const char *snapshot_dir; /* snapshots' (created; NULL: default) */
    const char *genesis_path; /* NULL = built-in genesis */
    uint64_t snapshot_every;  /* records between snapshots; 0 = only at close */
    uint64_t node_id;         /* HLC node id */
    unsigned batch_max;       /* proposals per batch (0: default) */
    unsigned queue_max;       /* submission queue bound (0: default) */
    bool block_when_full;     /* true: submit blocks; false: SW_C_OVERLOADED */
    /* Clock for receive time and HLC stamps (ms since epoch). NULL = real
     * clock. Tests inject one to be deterministic. */
    uint64_t (*now_ms)(void *arg);
    void *now_arg;
    /* Storage to use instead of opening wal_dir (tests: a fault-injecting
     * wrapper). The executor takes ownership on success and on failure of
     * sw_executor_open. NULL = sw_wal_open(wal_dir). */
    struct sw_wal *wal;
} sw_exec_config_t;

/* Fills the defaults above (paths NULL). */
void sw_exec_config_defaults(sw_exec_config_t *c);

/* An immutable published state: what every reader sees. Reference-counted;
 * the bytes never change after publication. */
typedef struct sw_view {
    atomic_int refs;
    uint64_t index;
    char state_hash[SWOOSH_HASH_HEX_SIZE];
    char hlc_last[SW_HLC_STRLEN];
    bool licensed, quarantined, degraded, recovering;
    char *projection; /* JCS of the projection, owned, NUL-terminated */
    size_t projection_len;
    size_t sec_off[SW_SEC__COUNT], sec_len[SW_SEC__COUNT]; /* section values */
    char *state_body; /* the GET /state answer, prebuilt */
    size_t state_body_len;
} sw_view_t;

/* Appends GET /state's body for `v` (SPEC §6): the whole projection when
 * `sec` is SW_SEC__COUNT, else only that section, with the full hash. */
void sw_view_state_json(const sw_view_t *v, sw_section_t sec, sw_buf_t *b);

/* New reference to the current view (never NULL once opened). Any thread. */
sw_view_t *sw_executor_view(sw_executor_t *ex);
/* Drops a reference; the last one frees. NULL is a no-op. */
void sw_view_release(sw_view_t *v);

/* The answer to one submission, enough to build the HTTP body. */
typedef struct sw_reply {
    sw_code_t code; /* SW_C_OK when applied */
    sw_outcome_t outcome;
    bool duplicate;
    uint64_t index; /* state index after (for rejections: current) */
    char state_hash[SWOOSH_HASH_HEX_SIZE]; /* state hash after (for rejections:
                                              current) */
    char hlc_last[SW_HLC_STRLEN];
    bool quarantined;          /* Control.Quarantined after the request */
    char msg[SWOOSH_MSG_SIZE]; /* sentence for errors */
} sw_reply_t;

/* Completion callback; runs on the executor thread with no executor lock
 * held, must be quick, and may call sw_executor_submit (a closed-loop client
 * or a resumed connection submitting its next proposal; from the executor
 * thread submit never waits for queue space: it answers SW_C_OVERLOADED
 * instead). `reply` is borrowed for the call. */
typedef void (*sw_done_fn)(void *arg, const sw_reply_t *reply);

/* Opens storage, recovers (snapshot + verified replay) and starts the thread.
 * Returns NULL with err on failure; SWOOSH_EDIVERGED for a diverged log
 * (exit code 3), SWOOSH_EFORMAT for another genesis/format. */
sw_executor_t *sw_executor_open(const sw_exec_config_t *cfg, swoosh_error *err);

/* Queues a proposal. Takes ownership of *p on success only (p is then
 * zeroed); `g` is copied. Returns SW_C_OK (done will be called exactly once),
 * or SW_C_OVERLOADED / SW_C_STORAGE_UNAVAILABLE / SW_C_SHUTTING_DOWN without
 * calling done. Any thread. */
sw_code_t sw_executor_submit(sw_executor_t *ex, sw_proposal_t *p,
                             const sw_guards_t *g, sw_done_fn done, void *arg);

/* Blocking convenience: submit and wait for the reply. */
sw_code_t sw_executor_submit_wait(sw_executor_t *ex, sw_proposal_t *p,
                                  const sw_guards_t *g, sw_reply_t *out);

/* True while storage is healthy (false after a failed commit: sticky). */
bool sw_executor_storage_ok(sw_executor_t *ex);

/* The executor's log (borrowed, valid until sw_executor_close); its
 * read_from and last_index may be used from any thread. */
struct sw_wal *sw_executor_wal(sw_executor_t *ex);

/* The genesis hash the log was opened with (borrowed, 64 hex digits). */
const char *sw_executor_genesis_hash(sw_executor_t *ex);

/* Counters and histograms for GET /metrics, copied out consistently by
 * sw_executor_stats(); counters are monotonic. Bucket bounds are fixed by
 * the executor. */
#define SW_HIST_BUCKETS 16
typedef struct sw_exec_stats {
    /* [catalog row][sw_outcome_t] */
    uint64_t by_transition_outcome[SW_CATALOG_MAX][SW_OUT__COUNT];
    uint64_t rejections_by_code[SW_C__COUNT];
    uint64_t duplicates;
    uint64_t batches, batch_size_sum;
    double batch_size_bounds[SW_HIST_BUCKETS];    /* upper bounds, ascending */
    uint64_t batch_size_buckets[SW_HIST_BUCKETS]; /* cumulative */
    double commit_seconds_bounds[SW_HIST_BUCKETS];
    uint64_t commit_seconds_buckets[SW_HIST_BUCKETS]; /* cumulative */
    double commit_seconds_sum;
    uint64_t commits;
    uint64_t queue_depth;
    uint64_t index;
    uint64_t snapshots_written;
    uint64_t snapshots_failed;
    double busy_seconds; /* CPU time of the executor thread in batches */
    /* Age of the commit in flight, 0 when none: grows while storage hangs
     * (a frozen file system), when /health still says 200. */
    double commit_in_progress_seconds;
} sw_exec_stats_t;
void sw_executor_stats(sw_executor_t *ex, sw_exec_stats_t *out);

/* Clean shutdown: refuses new submissions (SHUTTING_DOWN), finishes what is
 * queued, writes a snapshot, closes storage, joins the thread and frees.
 * NULL is a no-op. */
swoosh_err_t sw_executor_close(sw_executor_t *ex, swoosh_error *err);

#endif
