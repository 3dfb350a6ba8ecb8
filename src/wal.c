/* wal: the SQLite write-ahead log (see wal.h and docs/WAL-FORMAT.md). The
 * rest of the module: wal_record.c (the record format), wal_fault.c (the
 * fault-injecting wrapper), idem_filter.c (the idempotency key filter). */
#include "wal.h"

#include "err.h"
#include "fsio.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ SQLite log */

/* How long a connection waits on another's lock before SQLITE_BUSY: the
 * writer, reader and checkpointer connections (and CLI readers) share one
 * file and hold its locks for one commit or checkpoint pass, so 10 s rides
 * out a slow sync while a lock that is never released still fails. */
#define BUSY_TIMEOUT_MS 10000
/* The checkpointer's page cache: it copies frames from the WAL to the
 * database file and reads next to nothing, so 2 MiB is plenty and the
 * writer's SW_WAL_CACHE_KIB would be wasted memory. */
#define CKPT_CACHE_KIB 2048u

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_INSERT,
    ST_FIND,
    ST_META_SET,
    ST_COMPACT,
    ST__WCOUNT
};
enum { ST_READ, ST_META_GET, ST__RCOUNT };

static const char *const wsql[ST__WCOUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT] = ("INSERT INTO log(idx, idem_key, transition, signer, "
                   "received_at_ms, state_hash, hlc_last, quarantined, "
                   "message, record) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"),
    [ST_FIND] = ("SELECT idx, idem_key, transition, signer, received_at_ms, "
                 "state_hash, hlc_last, quarantined, message, record "
                 "FROM log WHERE idem_key = ?1"),
    [ST_META_SET] = ("INSERT INTO meta(key, value) VALUES(?1, ?2) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
    [ST_COMPACT] = "DELETE FROM log WHERE idx <= ?1",
};

static const char *const rsql[ST__RCOUNT] = {
    [ST_READ] = ("SELECT idx, idem_key, transition, signer, received_at_ms, "
                 "state_hash, hlc_last, quarantined, message, record "
                 "FROM log WHERE idx >= ?1 ORDER BY idx LIMIT ?2"),
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS log("
    " idx INTEGER PRIMARY KEY,"
    " idem_key TEXT UNIQUE NOT NULL,"
    " transition TEXT,"
    " signer TEXT,"
    " received_at_ms INTEGER,"
    " state_hash TEXT,"
    " record TEXT,"
    " hlc_last TEXT,"
    " quarantined INTEGER,"
    " message TEXT);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);";

typedef struct sqlite_wal {
    sw_wal_t base;
    char *path;
    bool read_only;
    atomic_bool failed;
    _Atomic uint64_t last, first;

    /* Writer connection: append, find_idem, compact, meta_set (one thread
     * at a time; the mutex makes misuse safe). */
    pthread_mutex_t wmu;
    sqlite3 *db;
    sqlite3_stmt *wst[ST__WCOUNT];

    /* Fixed-size Bloom filter of every logged idem_key, so find_idem
     * answers "not logged" — the common case — without touching SQLite,
     * in memory that does not grow with the log (an exact set of every key
     * did). A positive answer is confirmed on the UNIQUE idem_key index, so
     * correctness never depends on the filter. Keys are added after their
     * commit only; compacted keys stay (a harmless false positive). Guarded
     * by wmu. Only writable logs keep one. */
    sw_idem_filter_t *filter;

    /* Reader connection: read_from and meta_get from any thread. */
    pthread_mutex_t rmu;
    sqlite3 *rdb;
    sqlite3_stmt *rst[ST__RCOUNT];

    /* Checkpointer: its own connection and thread (SPEC §4: checkpoints
     * must not stall the executor). */
    unsigned ckpt_pages;
    bool ckpt_started;
    pthread_t ckpt_thread;
    pthread_mutex_t cmu;
    pthread_cond_t ccv;
    bool ckpt_req, ckpt_stop;
    sqlite3 *cdb;
    int ckpt_fd; /* the database file, for the flush before a tail pass */
    int lock_fd; /* SW_WAL_LOCK_FILE, held while a writable log is open */
    _Atomic unsigned frames; /* WAL frames after the last commit */
} sqlite_wal_t;

static swoosh_err_t sql_error(swoosh_error *err, sqlite3 *db, int rc,
                              const char *what)
{
    swoosh_err_t code = SWOOSH_EIO;
    int prim = rc & 0xff;
    if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB)
        code = SWOOSH_ECORRUPT;
    else if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        code = SWOOSH_EBUSY;
    else if (prim == SQLITE_NOMEM)
        code = SWOOSH_ENOMEM;
    return sw_error_set(err, code, 0, "wal: %s: %s (sqlite %d)", what,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
}

/* Opens one connection with the settings of docs/WAL-FORMAT.md. */
static swoosh_err_t open_conn(const char *path, bool read_only,
                              unsigned cache_kib, sqlite3 **out,
                              swoosh_error *err)
{
    int flags = SQLITE_OPEN_NOMUTEX |
                (read_only ? SQLITE_OPEN_READONLY
                           : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        swoosh_err_t code = sql_error(err, db, rc, "open");
        sw_error_prefix(err, "%s", path);
        sqlite3_close(db);
        return code;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%u", cache_kib);
    rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        swoosh_err_t code = sql_error(err, db, rc, "configure connection");
        sqlite3_close(db);
        return code;
    }
    *out = db;
    return SWOOSH_OK;
}

/* Runs one SQL statement returning a single text value (or none). */
static swoosh_err_t query_text(sqlite3 *db, const char *sql, char **out,
                               swoosh_error *err)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_error(err, db, rc, sql);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (t)
            *out = sw_xstrdup((const char *)t);
        rc = SQLITE_DONE;
    }
    swoosh_err_t code = SWOOSH_OK;
    if (rc != SQLITE_DONE)
        code = sql_error(err, db, rc, sql);
    sqlite3_finalize(st);
    return code;
}

/* Runs one SQL statement returning a single integer; *null says the value
 * was NULL (max() over an empty log). */
static swoosh_err_t query_u64(sqlite3 *db, const char *sql, uint64_t *out,
                              bool *null, swoosh_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_error(err, db, rc, sql);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *null = sqlite3_column_type(st, 0) == SQLITE_NULL;
        *out = (uint64_t)sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sql_error(err, db, rc, sql);
    return SWOOSH_OK;
}

static void row_to_record(sqlite3_stmt *st, sw_wal_record_t *r)
{
    r->index = (uint64_t)sqlite3_column_int64(st, 0);
    r->idem_key = (const char *)sqlite3_column_text(st, 1);
    r->transition = (const char *)sqlite3_column_text(st, 2);
    r->signer = (const char *)sqlite3_column_text(st, 3);
    r->received_at_ms = (uint64_t)sqlite3_column_int64(st, 4);
    r->state_hash = (const char *)sqlite3_column_text(st, 5);
    r->hlc_last = (const char *)sqlite3_column_text(st, 6);
    r->quarantined = sqlite3_column_int(st, 7) != 0;
    r->message = (const char *)sqlite3_column_text(st, 8);
    r->record = (const char *)sqlite3_column_text(st, 9);
    r->record_len = (size_t)sqlite3_column_bytes(st, 9);
    if (!r->idem_key)
        r->idem_key = "";
    if (!r->transition)
        r->transition = "";
    if (!r->signer)
        r->signer = "";
    if (!r->state_hash)
        r->state_hash = "";
    if (!r->hlc_last)
        r->hlc_last = "";
    if (!r->record) {
        r->record = "";
        r->record_len = 0;
    }
}

/* Builds the idem key filter from every logged key (one scan of the
 * log at open). */
static swoosh_err_t filter_load(sqlite_wal_t *w, swoosh_error *err)
{
    w->filter = sw_idem_filter_new(SW_IDEM_FILTER_BITS_LOG2, SW_IDEM_FILTER_K);
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(w->db, "SELECT idem_key FROM log", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_error(err, w->db, rc, "load idem keys");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        sw_idem_filter_add(w->filter, k ? k : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return sql_error(err, w->db, rc, "load idem keys");
    return SWOOSH_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* True once the database file has no name left (`rm -rf` of the WAL
 * directory under a running server): SQLite goes on committing into the
 * unlinked inode, and all of it is lost when the process exits. One fstat
 * per commit, checked before any waiter is answered. The -wal file is
 * checked by the checkpoint thread instead (check_wal_file): a build with
 * an fstat of it after every commit measured ~5% slower at 64 connections
 * (docs/DURABILITY.md). A file renamed away keeps its name count; network
 * file systems are not supported. */
static bool log_unlinked(const sqlite_wal_t *w)
{
    struct stat st;
    return fstat(w->ckpt_fd, &st) == 0 && st.st_nlink == 0;
}

static swoosh_err_t sq_append_batch(sw_wal_t *base, const sw_wal_record_t *recs,
                                    size_t n, swoosh_error *err)
{
    sqlite_wal_t *w = (sqlite_wal_t *)base;
    if (w->read_only)
        return sw_error_set(err, SWOOSH_EINVAL, 0, "wal: opened read-only");
    if (atomic_load(&w->failed))
        return sw_error_set(err, SWOOSH_ESTORAGE, 0,
                            "wal: storage failed earlier; restart required");
    if (n == 0)
        return SWOOSH_OK;
    uint64_t last = atomic_load(&w->last);
    for (size_t i = 0; i < n; i++)
        if (recs[i].index != last + 1 + i)
            return sw_error_set(err, SWOOSH_EINVAL, 0,
                                "wal: record index %" PRIu64
                                " does not follow %" PRIu64,
                                recs[i].index, last + i);

    swoosh_err_t rc = SWOOSH_OK;
    pthread_mutex_lock(&w->wmu);
    sqlite3_stmt *ins = w->wst[ST_INSERT];
    int src = sqlite3_step(w->wst[ST_BEGIN]);
    sqlite3_reset(w->wst[ST_BEGIN]);
    if (src != SQLITE_DONE) {
        rc = sql_error(err, w->db, src, "begin");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const sw_wal_record_t *r = &recs[i];
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)r->index);
        bind_text(ins, 2, r->idem_key);
        bind_text(ins, 3, r->transition);
        bind_text(ins, 4, r->signer);
        sqlite3_bind_int64(ins, 5, (sqlite3_int64)r->received_at_ms);
        bind_text(ins, 6, r->state_hash);
        bind_text(ins, 7, r->hlc_last);
        sqlite3_bind_int(ins, 8, r->quarantined ? 1 : 0);
        bind_text(ins, 9, r->message);
        sqlite3_bind_text(ins, 10, r->record, (int)r->record_len,
                          SQLITE_STATIC);
        src = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (src != SQLITE_DONE) {
            rc = sql_error(err, w->db, src, "insert");
            sw_error_prefix(err, "record %" PRIu64, r->index);
            goto rollback;
        }
    }
    sqlite3_clear_bindings(ins);
    src = sqlite3_step(w->wst[ST_COMMIT]);
    sqlite3_reset(w->wst[ST_COMMIT]);
    if (src != SQLITE_DONE) {
        rc = sql_error(err, w->db, src, "commit");
        goto rollback;
    }
    if (log_unlinked(w)) {
        rc = sw_error_set(err, SWOOSH_ESTORAGE, 0,
                          "wal: %s was deleted while the server had it open; "
                          "commits to it would be gone at the next start",
                          w->path);
        goto fail;
    }
    atomic_store(&w->last, recs[n - 1].index);
    if (atomic_load(&w->first) > recs[0].index)
        atomic_store(&w->first, recs[0].index);
    for (size_t i = 0; i < n; i++)
        sw_idem_filter_add(w->filter, recs[i].idem_key ? recs[i].idem_key : "");
    pthread_mutex_unlock(&w->wmu);
    return SWOOSH_OK;

rollback:
    sqlite3_clear_bindings(ins);
    if (!sqlite3_get_autocommit(w->db)) {
        sqlite3_step(w->wst[ST_ROLLBACK]);
        sqlite3_reset(w->wst[ST_ROLLBACK]);
    }
fail:
    /* Sticky: after a failed commit the on-disk outcome is unknown (the
     * commit frame may be durable even though the sync failed), so nothing
     * more is written until a restart re-reads the log. */
    atomic_store(&w->failed, true);
    pthread_mutex_unlock(&w->wmu);
    if (rc == SWOOSH_OK)
        rc = SWOOSH_EIO;
    return rc;
}

static uint64_t sq_last_index(sw_wal_t *base)
{
    return atomic_load(&((sqlite_wal_t *)base)->last);
}

static uint64_t sq_first_index(sw_wal_t *base)
{
    return atomic_load(&((sqlite_wal_t *)base)->first);
}

static swoosh_err_t sq_read_from(sw_wal_t *base, uint64_t from, uint64_t limit,
                                 sw_wal_read_fn fn, void *arg,
                                 swoosh_error *err)
{
    sqlite_wal_t *w = (sqlite_wal_t *)base;
    swoosh_err_t rc = SWOOSH_OK;
    pthread_mutex_lock(&w->rmu);
    sqlite3_stmt *st = w->rst[ST_READ];
    sqlite3_bind_int64(st, 1,
                       (sqlite3_int64)(from > INT64_MAX ? INT64_MAX : from));
    sqlite3_bind_int64(
        st, 2, limit == 0 || limit > INT64_MAX ? -1 : (sqlite3_int64)limit);
    for (;;) {
        int src = sqlite3_step(st);
        if (src == SQLITE_DONE)
            break;
        if (src != SQLITE_ROW) {
            rc = sql_error(err, w->rdb, src, "read");
            break;
        }
        sw_wal_record_t r;
        row_to_record(st, &r);
        if (fn(arg, &r) != 0)
            break;
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&w->rmu);
    return rc;
}

static swoosh_err_t sq_find_idem(sw_wal_t *base, const char *key,
                                 sw_wal_read_fn fn, void *arg, bool *found,
                                 swoosh_error *err)
{
    sqlite_wal_t *w = (sqlite_wal_t *)base;
    swoosh_err_t rc = SWOOSH_OK;
    *found = false;
    if (w->read_only)
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "wal: find_idem needs a writable log");
    pthread_mutex_lock(&w->wmu);
    if (!sw_idem_filter_may_contain(w->filter, key)) {
        pthread_mutex_unlock(&w->wmu);
        return SWOOSH_OK;
    }
    sqlite3_stmt *st = w->wst[ST_FIND];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        sw_wal_record_t r;
        row_to_record(st, &r);
        *found = true;
        if (fn)
            fn(arg, &r);
    } else if (src != SQLITE_DONE) {
        rc = sql_error(err, w->db, src, "find idem_key");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&w->wmu);
    return rc;
}

static swoosh_err_t sq_compact(sw_wal_t *base, uint64_t upto, swoosh_error *err)
{
    sqlite_wal_t *w = (sqlite_wal_t *)base;
    if (w->read_only)
        return sw_error_set(err, SWOOSH_EINVAL, 0, "wal: opened read-only");
    if (atomic_load(&w->failed))
        return sw_error_set(err, SWOOSH_ESTORAGE, 0, "wal: storage failed");
    /* The last record stays: the log's last index is read back from it at
     * the next open, and without it the log would restart at 1. */
    uint64_t last = atomic_load(&w->last);
    if (upto >= last)
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "wal: compaction through %" PRIu64
                            " would remove the last record (%" PRIu64 ")",
                            upto, last);
    swoosh_err_t rc = SWOOSH_OK;
    pthread_mutex_lock(&w->wmu);
    sqlite3_stmt *st = w->wst[ST_COMPACT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)upto);
    int src = sqlite3_step(st);
    sqlite3_reset(st);
    if (src != SQLITE_DONE) {
        rc = sql_error(err, w->db, src, "compact");
    } else {
        uint64_t first = atomic_load(&w->first);
        if (upto + 1 > first)
            atomic_store(&w->first, upto + 1);
    }
    pthread_mutex_unlock(&w->wmu);
    return rc;
}

static swoosh_err_t sq_meta_get(sw_wal_t *base, const char *key, char **value,
                                swoosh_error *err)
{
    sqlite_wal_t *w = (sqlite_wal_t *)base;
    swoosh_err_t rc = SWOOSH_OK;
    *value = NULL;
    pthread_mutex_lock(&w->rmu);
    sqlite3_stmt *st = w->rst[ST_META_GET];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        *value = sw_xstrdup(t ? (const char *)t : "");
    } else if (src != SQLITE_DONE) {
        rc = sql_error(err, w->rdb, src, "meta get");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&w->rmu);
    return rc;
}

static swoosh_err_t sq_meta_set(sw_wal_t *base, const char *key,
                                const char *value, swoosh_error *err)
{
    sqlite_wal_t *w = (sqlite_wal_t *)base;
    if (w->read_only)
        return sw_error_set(err, SWOOSH_EINVAL, 0, "wal: opened read-only");
    swoosh_err_t rc = SWOOSH_OK;
    pthread_mutex_lock(&w->wmu);
    sqlite3_stmt *st = w->wst[ST_META_SET];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (src != SQLITE_DONE)
        rc = sql_error(err, w->db, src, "meta set");
    pthread_mutex_unlock(&w->wmu);
    return rc;
}

static bool sq_healthy(sw_wal_t *base)
{
    return !atomic_load(&((sqlite_wal_t *)base)->failed);
}

/* The writer's WAL hook runs after every commit with the WAL's page count; it
 * only wakes the checkpointer, so the commit path never copies pages. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    sqlite_wal_t *w = arg;
    atomic_store(&w->frames, pages >= 0 ? (unsigned)pages : 0u);
    if (pages >= 0 && (unsigned)pages >= w->ckpt_pages) {
        pthread_mutex_lock(&w->cmu);
        w->ckpt_req = true;
        pthread_cond_signal(&w->ccv);
        pthread_mutex_unlock(&w->cmu);
    }
    return SQLITE_OK;
}

/* A checkpoint that could not write or sync the database file fails the log
 * like a failed commit (docs/DURABILITY.md "Failed syncs are not retried"):
 * SQLite may already count pages as copied that never reached the disk, and
 * their only good copy is in the WAL. So nothing more is committed (a commit
 * on a checkpointed WAL would restart it over those frames), no further
 * cycle runs, and sq_close() leaves the WAL file for the next start's
 * recovery, which copies every frame again. */
static void ckpt_failed(sqlite_wal_t *w, const char *rc, const char *error)
{
    atomic_store(&w->failed, true);
    sw_log(SW_LOG_ERROR, "wal_checkpoint_failed", "rc", rc, "error", error,
           "storage", "failed", NULL);
}

/* One PASSIVE checkpoint pass on the checkpointer's connection; returns the
 * frames in the WAL and how many of them are now in the database file.
 * BUSY and LOCKED only mean a reader or the writer was in the way. */
static bool ckpt_pass(sqlite_wal_t *w, int *nlog, int *nckpt)
{
    *nlog = *nckpt = 0;
    int rc = sqlite3_wal_checkpoint_v2(w->cdb, "main",
                                       SQLITE_CHECKPOINT_PASSIVE, nlog, nckpt);
    int prim = rc & 0xff;
    if (prim == SQLITE_OK || prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        return *nlog >= 0;
    char buf[16];
    snprintf(buf, sizeof buf, "%d", rc);
    ckpt_failed(w, buf, sqlite3_errmsg(w->cdb));
    return false;
}

/* One checkpoint cycle. SQLite restarts the WAL from its first frame only
 * when a commit begins on a fully checkpointed WAL, which a checkpointer
 * racing a busy writer never produces: the WAL would grow without bound and
 * every commit would extend the file, which costs the filesystem a journal
 * commit on each sync (about twice the time of overwriting blocks already
 * written). So: PASSIVE passes alongside the writer until the frames left
 * are at most SW_WAL_CHECKPOINT_TAIL, then one last pass with the writer held
 * off (wmu), which copies just that tail. The next commit then finds the WAL
 * fully checkpointed and rewrites it from the start; the WAL file stays at
 * about ckpt_pages pages and commits overwrite. */
static void ckpt_cycle(sqlite_wal_t *w, int min_frames)
{
    int nlog, nckpt;
    for (int i = 0; i < SW_WAL_CHECKPOINT_PASSES; i++) {
        if (!ckpt_pass(w, &nlog, &nckpt))
            return;
        if (nlog - nckpt <= (int)SW_WAL_CHECKPOINT_TAIL)
            break;
    }
    if (nlog < min_frames)
        return; /* the WAL restarted meanwhile: nothing left to do */
    if (nlog - nckpt > (int)SW_WAL_CHECKPOINT_TAIL)
        return; /* a reader holds frames back; the next commit asks again */
    /* A pass that did not reach the WAL's end leaves the database file
     * unsynced; flush those pages now, so the pass under wmu syncs only
     * the tail. */
    swoosh_error err = {0};
    if (w->ckpt_fd >= 0 &&
        sw_fsio_fdatasync(w->ckpt_fd, "log database file", &err) != SWOOSH_OK) {
        ckpt_failed(w, "fdatasync", err.msg);
        return;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&w->wmu);
    int before = nlog - nckpt;
    if (!atomic_load(&w->failed))
        ckpt_pass(w, &nlog, &nckpt);
    pthread_mutex_unlock(&w->wmu);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (sw_log_enabled(SW_LOG_DEBUG)) {
        char frames[24], pause[32];
        snprintf(frames, sizeof frames, "%d", before);
        snprintf(pause, sizeof pause, "%.3f",
                 (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
        sw_log(SW_LOG_DEBUG, "wal_checkpoint", "tail_frames", frames,
               "writer_pause_ms", pause, NULL);
    }
}

/* How often the checkpoint thread looks for a deleted -wal file. */
#define WAL_FILE_CHECK_S 1

/* The -wal file, which every commit goes into, must keep its name while
 * the log is open: after an operator deletes it, every commit since the
 * last checkpoint is gone at the next start. The commit path checks only
 * the database file (log_unlinked); this check runs on the checkpoint
 * thread about once a second, so commits in the second after a deletion
 * can still be lost, but none later (docs/DURABILITY.md). */
static void check_wal_file(sqlite_wal_t *w)
{
    char p[PATH_MAX + 8];
    snprintf(p, sizeof p, "%s-wal", w->path);
    struct stat st;
    if (stat(p, &st) == 0 || errno != ENOENT || atomic_load(&w->failed))
        return;
    atomic_store(&w->failed, true);
    sw_log(SW_LOG_ERROR, "wal_file_deleted", "path", p, "storage", "failed",
           NULL);
}

static void *ckpt_main(void *arg)
{
    sqlite_wal_t *w = arg;
    pthread_setname_np(pthread_self(), "sw-checkpoint");
    struct timespec last;
    clock_gettime(CLOCK_MONOTONIC, &last);
    pthread_mutex_lock(&w->cmu);
    for (;;) {
        while (!w->ckpt_req && !w->ckpt_stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += WAL_FILE_CHECK_S;
            pthread_cond_timedwait(&w->ccv, &w->cmu, &ts);
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (!w->ckpt_stop && now.tv_sec - last.tv_sec >= WAL_FILE_CHECK_S) {
                last = now;
                pthread_mutex_unlock(&w->cmu);
                check_wal_file(w);
                pthread_mutex_lock(&w->cmu);
            }
        }
        if (w->ckpt_stop)
            break;
        w->ckpt_req = false;
        pthread_mutex_unlock(&w->cmu);
        if (!atomic_load(&w->failed))
            ckpt_cycle(w, (int)w->ckpt_pages);
        pthread_mutex_lock(&w->cmu);
        /* Requests made during the cycle counted frames it checkpointed. */
        w->ckpt_req = false;
    }
    pthread_mutex_unlock(&w->cmu);
    return NULL;
}

static void ckpt_stop(sqlite_wal_t *w)
{
    if (!w->ckpt_started)
        return;
    pthread_mutex_lock(&w->cmu);
    w->ckpt_stop = true;
    pthread_cond_signal(&w->ccv);
    pthread_mutex_unlock(&w->cmu);
    pthread_join(w->ckpt_thread, NULL);
    w->ckpt_started = false;
}

/* A clean shutdown leaves the log in one file, as docs/DURABILITY.md tells
 * operators who copy it: a TRUNCATE checkpoint copies every frame and
 * empties the -wal file, which the close then removes. When it cannot (a
 * full disk, say), the -wal file stays, still part of the database, and the
 * caller says so. */
static swoosh_err_t sq_finish(sw_wal_t *base, swoosh_error *err)
{
    sqlite_wal_t *w = (sqlite_wal_t *)base;
    if (w->read_only || atomic_load(&w->failed))
        return SWOOSH_OK;
    ckpt_stop(w);
    pthread_mutex_lock(&w->wmu);
    int nlog = 0, nckpt = 0;
    int rc = sqlite3_wal_checkpoint_v2(
        w->db, "main", SQLITE_CHECKPOINT_TRUNCATE, &nlog, &nckpt);
    swoosh_err_t code = SWOOSH_OK;
    if (rc != SQLITE_OK) {
        code = sql_error(err, w->db, rc, "final checkpoint");
        sw_error_prefix(err,
                        "%s-wal stays and holds committed records "
                        "(copy it with the database, or restart "
                        "once the cause is fixed)",
                        w->path);
    }
    pthread_mutex_unlock(&w->wmu);
    return code;
}

static void sq_close(sw_wal_t *base)
{
    sqlite_wal_t *w = (sqlite_wal_t *)base;
    ckpt_stop(w);
    for (int i = 0; i < ST__WCOUNT; i++)
        sqlite3_finalize(w->wst[i]);
    for (int i = 0; i < ST__RCOUNT; i++)
        sqlite3_finalize(w->rst[i]);
    /* Closing the last connection checkpoints and removes the -wal file. A
     * failed log must keep it: after a failed sync the database file is not
     * trusted, and the next start's recovery copies every frame again. */
    if (atomic_load(&w->failed)) {
        sqlite3 *conns[] = {w->cdb, w->rdb, w->db};
        for (size_t i = 0; i < sizeof conns / sizeof conns[0]; i++)
            if (conns[i] != NULL)
                sqlite3_db_config(conns[i], SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
                                  NULL);
    }
    sqlite3_close(w->cdb);
    sqlite3_close(w->rdb);
    sqlite3_close(w->db);
    /* Only now: closing any descriptor of the file drops every POSIX lock
     * this process holds on it, SQLite's included. */
    if (w->ckpt_fd >= 0)
        close(w->ckpt_fd);
    if (w->lock_fd >= 0)
        close(w->lock_fd);
    pthread_mutex_destroy(&w->wmu);
    pthread_mutex_destroy(&w->rmu);
    pthread_mutex_destroy(&w->cmu);
    pthread_cond_destroy(&w->ccv);
    sw_idem_filter_free(w->filter);
    free(w->path);
    free(w);
}

static const sw_wal_ops_t sqlite_ops = {
    .append_batch = sq_append_batch,
    .last_index = sq_last_index,
    .first_index = sq_first_index,
    .read_from = sq_read_from,
    .find_idem = sq_find_idem,
    .compact = sq_compact,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .healthy = sq_healthy,
    .finish = sq_finish,
    .close = sq_close,
};

/* Runs a checkpoint cycle on the caller's thread (see wal.h). */
void sw_wal_sqlite_checkpoint(sw_wal_t *base)
{
    SW_ASSERT(base->ops == &sqlite_ops);
    sqlite_wal_t *w = (sqlite_wal_t *)base;
    if (!w->read_only)
        ckpt_cycle(w, 1);
}

/* The WAL's frame count as the writer's hook last saw it (see wal.h). */
unsigned sw_wal_sqlite_frames(sw_wal_t *base)
{
    SW_ASSERT(base->ops == &sqlite_ops);
    return atomic_load(&((sqlite_wal_t *)base)->frames);
}

/* Stamps a new log with the format version and genesis hash in one
 * transaction; the values are bound, never pasted into the SQL. */
static swoosh_err_t write_meta(sqlite3 *db, const char *format,
                               const char *genesis_hash, swoosh_error *err)
{
    const char *const keys[] = {SW_WAL_META_FORMAT, SW_WAL_META_GENESIS};
    const char *const values[] = {format, genesis_hash};
    sqlite3_stmt *st = NULL;
    int src = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_prepare_v2(
            db, "INSERT OR REPLACE INTO meta VALUES(?1, ?2)", -1, &st, NULL);
    for (size_t i = 0; src == SQLITE_OK && i < sizeof keys / sizeof keys[0];
         i++) {
        sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, values[i], -1, SQLITE_STATIC);
        src = sqlite3_step(st);
        sqlite3_reset(st);
        if (src == SQLITE_DONE)
            src = SQLITE_OK;
    }
    if (src == SQLITE_OK)
        src = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    swoosh_err_t rc = SWOOSH_OK;
    if (src != SQLITE_OK) {
        rc = sql_error(err, db, src, "write meta");
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_finalize(st);
    return rc;
}

/* A log without a format version: an empty one gets stamped (a writable
 * open with a genesis hash) or, read-only, fits any genesis; one that holds
 * records was not written by SWOOSH. */
static swoosh_err_t stamp_new_log(sqlite_wal_t *w, const char *format,
                                  const char *genesis_hash, swoosh_error *err)
{
    uint64_t cnt = 0;
    bool null = false;
    swoosh_err_t rc =
        query_u64(w->db, "SELECT count(*) FROM log", &cnt, &null, err);
    if (rc != SWOOSH_OK)
        return rc;
    if (cnt > 0)
        return sw_error_set(err, SWOOSH_EFORMAT, 0,
                            "wal: %s holds records but no format version: "
                            "not a SWOOSH log",
                            w->path);
    if (w->read_only)
        return SWOOSH_OK;
    if (!genesis_hash)
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "wal: a new log needs a genesis hash");
    return write_meta(w->db, format, genesis_hash, err);
}

/* Checks (or, for a new log, records) the format version and genesis hash,
 * so a log is never replayed against another genesis (SPEC §3). */
static swoosh_err_t check_meta(sqlite_wal_t *w, const char *genesis_hash,
                               swoosh_error *err)
{
    char *fmt = NULL, *gen = NULL;
    char want[16];
    snprintf(want, sizeof want, "%d", SWOOSH_FORMAT_VERSION);
    swoosh_err_t rc = query_text(
        w->db, "SELECT value FROM meta WHERE key='" SW_WAL_META_FORMAT "'",
        &fmt, err);
    if (rc == SWOOSH_OK)
        rc = query_text(
            w->db, "SELECT value FROM meta WHERE key='" SW_WAL_META_GENESIS "'",
            &gen, err);
    if (rc != SWOOSH_OK)
        goto out;
    if (!fmt) {
        rc = stamp_new_log(w, want, genesis_hash, err);
        goto out;
    }
    if (strcmp(fmt, want) != 0) {
        rc = sw_error_set(err, SWOOSH_EFORMAT, 0,
                          "wal: %s has format version %s, this build reads "
                          "%s: use a matching swoosh version",
                          w->path, fmt, want);
        goto out;
    }
    if (genesis_hash && (!gen || strcmp(gen, genesis_hash) != 0)) {
        rc = sw_error_set(err, SWOOSH_EFORMAT, 0,
                          "wal: %s was created from genesis %s, not %s: start "
                          "with the same genesis (SWOOSH_GENESIS) or use "
                          "another wal dir",
                          w->path, gen ? gen : "(none)", genesis_hash);
        goto out;
    }
out:
    free(fmt);
    free(gen);
    return rc;
}

/* A log with no connection open yet; sq_close() releases it at any stage. */
static sqlite_wal_t *wal_alloc(const char *dir, const sw_wal_options_t *o)
{
    sqlite_wal_t *w = sw_xcalloc(1, sizeof *w);
    w->base.ops = &sqlite_ops;
    w->read_only = o->read_only;
    w->ckpt_pages = o->checkpoint_pages;
    w->ckpt_fd = -1;
    w->lock_fd = -1;
    pthread_mutex_init(&w->wmu, NULL);
    pthread_mutex_init(&w->rmu, NULL);
    pthread_mutex_init(&w->cmu, NULL);
    pthread_cond_init(&w->ccv, NULL);
    size_t plen = strlen(dir) + sizeof(SW_WAL_FILE) + 2;
    w->path = sw_xmalloc(plen);
    snprintf(w->path, plen, "%s/%s", dir, SW_WAL_FILE);
    return w;
}

/* Switches the writer to journal_mode=WAL with SQLite's own automatic
 * checkpoints off (the checkpointer thread does them). */
static swoosh_err_t use_wal_journal(sqlite_wal_t *w, swoosh_error *err)
{
    char *mode = NULL;
    swoosh_err_t rc = query_text(w->db, "PRAGMA journal_mode=WAL", &mode, err);
    if (rc != SWOOSH_OK)
        return rc;
    bool ok = mode && strcmp(mode, "wal") == 0;
    free(mode);
    if (!ok)
        return sw_error_set(err, SWOOSH_EIO, 0,
                            "wal: %s: cannot switch to journal_mode=WAL",
                            w->path);
    sqlite3_wal_autocheckpoint(w->db, 0);
    return SWOOSH_OK;
}

/* Takes the directory's lock file and opens the writer connection, creating
 * the tables of a new log. */
static swoosh_err_t open_writer(sqlite_wal_t *w, const char *dir,
                                unsigned cache_kib, swoosh_error *err)
{
    swoosh_err_t rc = sw_fsio_lock(dir, SW_WAL_LOCK_FILE, &w->lock_fd, err);
    if (rc != SWOOSH_OK)
        return rc;
    rc = open_conn(w->path, false, cache_kib, &w->db, err);
    if (rc != SWOOSH_OK)
        return rc;
    /* SQLite opens a file it may not write read-only without a word; the
     * first commit would then fail storage for good. Refuse to start. */
    if (sqlite3_db_readonly(w->db, "main") == 1)
        return sw_error_set(err, SWOOSH_EIO, EACCES,
                            "wal: %s cannot be written (check its owner, mode "
                            "and attributes)",
                            w->path);
    rc = use_wal_journal(w, err);
    if (rc != SWOOSH_OK)
        return rc;
    int src = sqlite3_exec(w->db, schema_sql, NULL, NULL, NULL);
    if (src != SQLITE_OK)
        return sql_error(err, w->db, src, "create tables");
    return SWOOSH_OK;
}

/* A read-only open creates nothing, so both tables must already exist. */
static swoosh_err_t check_tables(sqlite_wal_t *w, swoosh_error *err)
{
    uint64_t n = 0;
    bool null = false;
    swoosh_err_t rc =
        query_u64(w->db,
                  "SELECT count(*) FROM sqlite_master WHERE type='table' "
                  "AND name IN ('log','meta')",
                  &n, &null, err);
    if (rc != SWOOSH_OK)
        return rc;
    if (n != 2)
        return sw_error_set(err, SWOOSH_EFORMAT, 0,
                            "wal: %s is not a SWOOSH log (tables missing)",
                            w->path);
    return SWOOSH_OK;
}

/* Opens an existing log read-only. A missing file is checked first so it
 * reports SWOOSH_ENOTFOUND, not the I/O error SQLite's open would give. */
static swoosh_err_t open_read_only(sqlite_wal_t *w, unsigned cache_kib,
                                   swoosh_error *err)
{
    FILE *f = fopen(w->path, "rb");
    if (!f)
        return sw_error_set(err, SWOOSH_ENOTFOUND, errno, "wal: %s", w->path);
    fclose(f);
    swoosh_err_t rc = open_conn(w->path, true, cache_kib, &w->db, err);
    if (rc != SWOOSH_OK)
        return rc;
    return check_tables(w, err);
}

/* Reads the first and last index back from the log; an empty log has
 * first = last + 1. */
static swoosh_err_t load_bounds(sqlite_wal_t *w, swoosh_error *err)
{
    uint64_t v = 0;
    bool null = false;
    swoosh_err_t rc =
        query_u64(w->db, "SELECT max(idx) FROM log", &v, &null, err);
    if (rc != SWOOSH_OK)
        return rc;
    atomic_store(&w->last, null ? 0 : v);
    rc = query_u64(w->db, "SELECT min(idx) FROM log", &v, &null, err);
    if (rc != SWOOSH_OK)
        return rc;
    atomic_store(&w->first, null ? atomic_load(&w->last) + 1 : v);
    return SWOOSH_OK;
}

static swoosh_err_t prepare_statements(sqlite3 *db, const char *const *sql,
                                       int n, sqlite3_stmt **out,
                                       swoosh_error *err)
{
    for (int i = 0; i < n; i++) {
        int src = sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                     &out[i], NULL);
        if (src != SQLITE_OK)
            return sql_error(err, db, src, "prepare");
    }
    return SWOOSH_OK;
}

/* Opens the checkpointer's connection and descriptor, hooks the writer's
 * commits to it and starts its thread (SPEC §4). */
static swoosh_err_t start_checkpointer(sqlite_wal_t *w, swoosh_error *err)
{
    swoosh_err_t rc = open_conn(w->path, false, CKPT_CACHE_KIB, &w->cdb, err);
    if (rc != SWOOSH_OK)
        return rc;
    sqlite3_wal_autocheckpoint(w->cdb, 0);
    /* A connection opens the WAL on its first read. Before that, a
     * checkpoint on it can return without copying anything (log and
     * checkpointed frames -1: seen with SQLite 3.40 on a connection
     * opened after the writer), so read once here. */
    uint64_t nt = 0;
    bool null = false;
    rc = query_u64(w->cdb, "SELECT count(*) FROM sqlite_master", &nt, &null,
                   err);
    if (rc != SWOOSH_OK)
        return rc;
    w->ckpt_fd = open(w->path, O_RDONLY | O_CLOEXEC);
    if (w->ckpt_fd < 0)
        return sw_error_set(err, SWOOSH_EIO, errno, "wal: open %s", w->path);
    sqlite3_wal_hook(w->db, wal_hook, w);
    int e = pthread_create(&w->ckpt_thread, NULL, ckpt_main, w);
    if (e != 0) /* pthread_create returns its error; errno is not set */
        return sw_error_set(err, SWOOSH_EIO, e,
                            "wal: cannot start the checkpoint thread");
    w->ckpt_started = true;
    return SWOOSH_OK;
}

/* Opens the SQLite log: WAL journal, synchronous=FULL, automatic checkpoints
 * off on the writer and a checkpoint thread on its own connection (SPEC §4).
 */
sw_wal_t *sw_wal_open(const char *dir, const char *genesis_hash,
                      const sw_wal_options_t *opt, swoosh_error *err)
{
    sw_wal_options_t o = {0};
    if (opt)
        o = *opt;
    if (o.checkpoint_pages == 0)
        o.checkpoint_pages = SW_WAL_CHECKPOINT_PAGES;
    if (o.cache_kib == 0)
        o.cache_kib = SW_WAL_CACHE_KIB;

    if (!o.read_only && sw_fsio_mkdirs(dir, err) != SWOOSH_OK)
        return NULL;
    sqlite_wal_t *w = wal_alloc(dir, &o);
    if (o.read_only) {
        if (open_read_only(w, o.cache_kib, err) != SWOOSH_OK)
            goto fail;
    } else if (open_writer(w, dir, o.cache_kib, err) != SWOOSH_OK) {
        goto fail;
    }
    if (check_meta(w, genesis_hash, err) != SWOOSH_OK)
        goto fail;
    if (load_bounds(w, err) != SWOOSH_OK)
        goto fail;
    if (!o.read_only &&
        (filter_load(w, err) != SWOOSH_OK ||
         prepare_statements(w->db, wsql, ST__WCOUNT, w->wst, err) != SWOOSH_OK))
        goto fail;
    if (open_conn(w->path, true, o.cache_kib, &w->rdb, err) != SWOOSH_OK ||
        prepare_statements(w->rdb, rsql, ST__RCOUNT, w->rst, err) != SWOOSH_OK)
        goto fail;
    if (!o.read_only && start_checkpointer(w, err) != SWOOSH_OK)
        goto fail;
    return &w->base;

fail:
    sq_close(&w->base);
    return NULL;
}
