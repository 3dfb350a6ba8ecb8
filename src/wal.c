/* wal: the SQLite write-ahead log, the fault-injection wrapper and the record
 * format (see wal.h and docs/WAL-FORMAT.md). */
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
#include <unistd.h>

/* ------------------------------------------------------------ SQLite log */

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

static int open_conn(const char *path, bool read_only, unsigned cache_kib,
                     sqlite3 **out, swoosh_error *err)
{
    int flags = SQLITE_OPEN_NOMUTEX |
                (read_only ? SQLITE_OPEN_READONLY
                           : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        sql_error(err, db, rc, "open");
        sw_error_prefix(err, "%s", path);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 10000);
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%u", cache_kib);
    rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sql_error(err, db, rc, "configure connection");
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

/* Runs one SQL statement returning a single text value (or none). */
static int query_text(sqlite3 *db, const char *sql, char **out,
                      swoosh_error *err)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sql_error(err, db, rc, sql);
        return -1;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (t)
            *out = sw_xstrdup((const char *)t);
        rc = SQLITE_DONE;
    }
    if (rc != SQLITE_DONE) {
        sql_error(err, db, rc, sql);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static int query_u64(sqlite3 *db, const char *sql, uint64_t *out, bool *null,
                     swoosh_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sql_error(err, db, rc, sql);
        return -1;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *null = sqlite3_column_type(st, 0) == SQLITE_NULL;
        *out = (uint64_t)sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        sql_error(err, db, rc, sql);
        return -1;
    }
    return 0;
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

/* ------------------------------------------------------ idem key filter */

struct sw_idem_filter {
    uint64_t *bits;   /* nblocks * 8 words */
    uint64_t nblocks; /* a power of two */
    unsigned k;
};

enum { BLOCK_WORDS = 8, BLOCK_BITS = 512 };

static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* FNV-1a over the key, then two independent finalisations: one picks the
 * block, the other supplies k 9-bit positions inside it. */
static void key_hash(const char *s, uint64_t *h1, uint64_t *h2)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    *h1 = fmix64(h);
    *h2 = fmix64(h ^ 0x9e3779b97f4a7c15ULL);
}

/* Sizes the filter once, so its memory never grows with the log (the
 * calloc'd bits are zero pages until touched). */
sw_idem_filter_t *sw_idem_filter_new(unsigned bits_log2, unsigned k)
{
    if (bits_log2 < 9)
        bits_log2 = 9;
    if (bits_log2 > 40)
        bits_log2 = 40;
    if (k < 1)
        k = 1;
    if (k > 7)
        k = 7;
    sw_idem_filter_t *f = sw_xcalloc(1, sizeof *f);
    f->nblocks = (uint64_t)1 << (bits_log2 - 9);
    f->k = k;
    f->bits = sw_xcalloc((size_t)f->nblocks * BLOCK_WORDS, sizeof *f->bits);
    return f;
}

/* Sets the key's k bits; called only for committed keys, so a failed batch
 * never marks its keys. */
void sw_idem_filter_add(sw_idem_filter_t *f, const char *key)
{
    uint64_t h1, h2;
    key_hash(key, &h1, &h2);
    uint64_t *blk = f->bits + (h1 & (f->nblocks - 1)) * BLOCK_WORDS;
    for (unsigned i = 0; i < f->k; i++, h2 >>= 9) {
        unsigned bit = (unsigned)(h2 & (BLOCK_BITS - 1));
        blk[bit >> 6] |= (uint64_t)1 << (bit & 63);
    }
}

/* Answers "never added" exactly and "maybe added" otherwise, which the log
 * confirms on the UNIQUE idem_key index (SPEC §2 idempotency). */
bool sw_idem_filter_may_contain(const sw_idem_filter_t *f, const char *key)
{
    uint64_t h1, h2;
    key_hash(key, &h1, &h2);
    const uint64_t *blk = f->bits + (h1 & (f->nblocks - 1)) * BLOCK_WORDS;
    for (unsigned i = 0; i < f->k; i++, h2 >>= 9) {
        unsigned bit = (unsigned)(h2 & (BLOCK_BITS - 1));
        if (!(blk[bit >> 6] & ((uint64_t)1 << (bit & 63))))
            return false;
    }
    return true;
}

/* Releases the filter's bits. */
void sw_idem_filter_free(sw_idem_filter_t *f)
{
    if (!f)
        return;
    free(f->bits);
    free(f);
}

/* Builds the idem key filter from every logged key (one scan of the
 * log at open). */
static int filter_load(sqlite_wal_t *w, swoosh_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(w->db, "SELECT idem_key FROM log", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sql_error(err, w->db, rc, "load idem keys");
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        sw_idem_filter_add(w->filter, k ? k : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        sql_error(err, w->db, rc, "load idem keys");
        return -1;
    }
    return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
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

static void *ckpt_main(void *arg)
{
    sqlite_wal_t *w = arg;
    pthread_setname_np(pthread_self(), "sw-checkpoint");
    pthread_mutex_lock(&w->cmu);
    for (;;) {
        while (!w->ckpt_req && !w->ckpt_stop)
            pthread_cond_wait(&w->ccv, &w->cmu);
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

static void sq_close(sw_wal_t *base)
{
    sqlite_wal_t *w = (sqlite_wal_t *)base;
    if (w->ckpt_started) {
        pthread_mutex_lock(&w->cmu);
        w->ckpt_stop = true;
        pthread_cond_signal(&w->ccv);
        pthread_mutex_unlock(&w->cmu);
        pthread_join(w->ckpt_thread, NULL);
    }
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

/* Checks (or, for a new log, records) the format version and genesis hash,
 * so a log is never replayed against another genesis (SPEC §3). */
static swoosh_err_t check_meta(sqlite_wal_t *w, const char *genesis_hash,
                               swoosh_error *err)
{
    char *fmt = NULL, *gen = NULL;
    swoosh_err_t rc = SWOOSH_OK;
    if (query_text(w->db,
                   "SELECT value FROM meta WHERE key='" SW_WAL_META_FORMAT "'",
                   &fmt, err) != 0 ||
        query_text(w->db,
                   "SELECT value FROM meta WHERE key='" SW_WAL_META_GENESIS "'",
                   &gen, err) != 0) {
        rc = err ? err->code : SWOOSH_EIO;
        goto out;
    }
    char want[16];
    snprintf(want, sizeof want, "%d", SWOOSH_FORMAT_VERSION);
    if (!fmt) {
        uint64_t cnt = 0;
        bool null = false;
        if (query_u64(w->db, "SELECT count(*) FROM log", &cnt, &null, err)) {
            rc = err ? err->code : SWOOSH_EIO;
            goto out;
        }
        if (cnt > 0) {
            rc = sw_error_set(err, SWOOSH_EFORMAT, 0,
                              "wal: %s holds records but no format version: "
                              "not a SWOOSH log",
                              w->path);
            goto out;
        }
        if (w->read_only)
            goto out; /* an empty, unstamped log fits any genesis */
        if (!genesis_hash) {
            rc = sw_error_set(err, SWOOSH_EINVAL, 0,
                              "wal: a new log needs a genesis hash");
            goto out;
        }
        char sql[512];
        snprintf(sql, sizeof sql,
                 "BEGIN IMMEDIATE;"
                 "INSERT OR REPLACE INTO meta VALUES('" SW_WAL_META_FORMAT
                 "','%s');"
                 "INSERT OR REPLACE INTO meta VALUES('" SW_WAL_META_GENESIS
                 "','%s');COMMIT;",
                 want, genesis_hash);
        int src = sqlite3_exec(w->db, sql, NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            rc = sql_error(err, w->db, src, "write meta");
            sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        }
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
    sqlite_wal_t *w = sw_xcalloc(1, sizeof *w);
    w->base.ops = &sqlite_ops;
    w->read_only = o.read_only;
    w->ckpt_pages = o.checkpoint_pages;
    w->ckpt_fd = -1;
    w->lock_fd = -1;
    pthread_mutex_init(&w->wmu, NULL);
    pthread_mutex_init(&w->rmu, NULL);
    pthread_mutex_init(&w->cmu, NULL);
    pthread_cond_init(&w->ccv, NULL);
    size_t plen = strlen(dir) + sizeof(SW_WAL_FILE) + 2;
    w->path = sw_xmalloc(plen);
    snprintf(w->path, plen, "%s/%s", dir, SW_WAL_FILE);

    if (!o.read_only &&
        sw_fsio_lock(dir, SW_WAL_LOCK_FILE, &w->lock_fd, err) != SWOOSH_OK)
        goto fail;
    if (o.read_only) {
        FILE *f = fopen(w->path, "rb");
        if (!f) {
            sw_error_set(err, SWOOSH_ENOTFOUND, errno, "wal: %s", w->path);
            goto fail;
        }
        fclose(f);
    }
    if (open_conn(w->path, o.read_only, o.cache_kib, &w->db, err))
        goto fail;
    if (!o.read_only) {
        char *mode = NULL;
        if (query_text(w->db, "PRAGMA journal_mode=WAL", &mode, err))
            goto fail;
        bool ok = mode && strcmp(mode, "wal") == 0;
        free(mode);
        if (!ok) {
            sw_error_set(err, SWOOSH_EIO, 0,
                         "wal: %s: cannot switch to journal_mode=WAL", w->path);
            goto fail;
        }
        sqlite3_wal_autocheckpoint(w->db, 0);
        int src = sqlite3_exec(w->db, schema_sql, NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            sql_error(err, w->db, src, "create tables");
            goto fail;
        }
    } else {
        uint64_t n = 0;
        bool null = false;
        if (query_u64(w->db,
                      "SELECT count(*) FROM sqlite_master WHERE type='table' "
                      "AND name IN ('log','meta')",
                      &n, &null, err))
            goto fail;
        if (n != 2) {
            sw_error_set(err, SWOOSH_EFORMAT, 0,
                         "wal: %s is not a SWOOSH log (tables missing)",
                         w->path);
            goto fail;
        }
    }
    if (check_meta(w, genesis_hash, err) != SWOOSH_OK)
        goto fail;

    uint64_t v = 0;
    bool null = false;
    if (query_u64(w->db, "SELECT max(idx) FROM log", &v, &null, err))
        goto fail;
    atomic_store(&w->last, null ? 0 : v);
    if (query_u64(w->db, "SELECT min(idx) FROM log", &v, &null, err))
        goto fail;
    atomic_store(&w->first, null ? atomic_load(&w->last) + 1 : v);

    if (!o.read_only) {
        w->filter =
            sw_idem_filter_new(SW_IDEM_FILTER_BITS_LOG2, SW_IDEM_FILTER_K);
        if (filter_load(w, err))
            goto fail;
        for (int i = 0; i < ST__WCOUNT; i++) {
            int src =
                sqlite3_prepare_v3(w->db, wsql[i], -1,
                                   SQLITE_PREPARE_PERSISTENT, &w->wst[i], NULL);
            if (src != SQLITE_OK) {
                sql_error(err, w->db, src, "prepare");
                goto fail;
            }
        }
    }
    if (open_conn(w->path, true, o.cache_kib, &w->rdb, err))
        goto fail;
    for (int i = 0; i < ST__RCOUNT; i++) {
        int src = sqlite3_prepare_v3(
            w->rdb, rsql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->rst[i], NULL);
        if (src != SQLITE_OK) {
            sql_error(err, w->rdb, src, "prepare");
            goto fail;
        }
    }
    if (!o.read_only) {
        if (open_conn(w->path, false, 2048, &w->cdb, err))
            goto fail;
        sqlite3_wal_autocheckpoint(w->cdb, 0);
        /* A connection opens the WAL on its first read. Before that, a
         * checkpoint on it can return without copying anything (log and
         * checkpointed frames -1: seen with SQLite 3.40 on a connection
         * opened after the writer), so read once here. */
        uint64_t nt = 0;
        if (query_u64(w->cdb, "SELECT count(*) FROM sqlite_master", &nt, &null,
                      err))
            goto fail;
        w->ckpt_fd = open(w->path, O_RDONLY | O_CLOEXEC);
        sqlite3_wal_hook(w->db, wal_hook, w);
        if (pthread_create(&w->ckpt_thread, NULL, ckpt_main, w) != 0) {
            sw_error_set(err, SWOOSH_EIO, errno,
                         "wal: cannot start the checkpoint thread");
            goto fail;
        }
        w->ckpt_started = true;
    }
    return &w->base;

fail:
    sq_close(&w->base);
    return NULL;
}

/* ------------------------------------------------------- fault injection */

typedef struct fault_wal {
    sw_wal_t base;
    sw_wal_t *inner;
    sw_wal_fault_t *f;
    atomic_bool failed;
} fault_wal_t;

static swoosh_err_t fw_append_batch(sw_wal_t *base, const sw_wal_record_t *recs,
                                    size_t n, swoosh_error *err)
{
    fault_wal_t *w = (fault_wal_t *)base;
    unsigned long call = atomic_fetch_add(&w->f->appends, 1) + 1;
    if (atomic_load(&w->failed))
        return sw_error_set(err, SWOOSH_ESTORAGE, 0,
                            "wal: storage failed earlier; restart required");
    if (atomic_load(&w->f->fail_all) ||
        call == atomic_load(&w->f->fail_append_at)) {
        atomic_store(&w->failed, true);
        return sw_error_set(err, SWOOSH_EIO, EIO,
                            "wal: commit: injected failure of append %lu",
                            call);
    }
    return sw_wal_append_batch(w->inner, recs, n, err);
}

static uint64_t fw_last_index(sw_wal_t *base)
{
    return sw_wal_last_index(((fault_wal_t *)base)->inner);
}

static uint64_t fw_first_index(sw_wal_t *base)
{
    return sw_wal_first_index(((fault_wal_t *)base)->inner);
}

static swoosh_err_t fw_read_from(sw_wal_t *base, uint64_t from, uint64_t limit,
                                 sw_wal_read_fn fn, void *arg,
                                 swoosh_error *err)
{
    return sw_wal_read_from(((fault_wal_t *)base)->inner, from, limit, fn, arg,
                            err);
}

static swoosh_err_t fw_find_idem(sw_wal_t *base, const char *key,
                                 sw_wal_read_fn fn, void *arg, bool *found,
                                 swoosh_error *err)
{
    fault_wal_t *w = (fault_wal_t *)base;
    if (atomic_load(&w->f->fail_find)) {
        *found = false;
        return sw_error_set(err, SWOOSH_EIO, EIO,
                            "wal: find idem_key: injected failure");
    }
    return sw_wal_find_idem(w->inner, key, fn, arg, found, err);
}

static swoosh_err_t fw_compact(sw_wal_t *base, uint64_t upto, swoosh_error *err)
{
    return sw_wal_compact(((fault_wal_t *)base)->inner, upto, err);
}

static swoosh_err_t fw_meta_get(sw_wal_t *base, const char *key, char **value,
                                swoosh_error *err)
{
    return sw_wal_meta_get(((fault_wal_t *)base)->inner, key, value, err);
}

static swoosh_err_t fw_meta_set(sw_wal_t *base, const char *key,
                                const char *value, swoosh_error *err)
{
    return sw_wal_meta_set(((fault_wal_t *)base)->inner, key, value, err);
}

static bool fw_healthy(sw_wal_t *base)
{
    fault_wal_t *w = (fault_wal_t *)base;
    return !atomic_load(&w->failed) && !atomic_load(&w->f->unhealthy) &&
           sw_wal_healthy(w->inner);
}

static void fw_close(sw_wal_t *base)
{
    fault_wal_t *w = (fault_wal_t *)base;
    sw_wal_close(w->inner);
    free(w);
}

static const sw_wal_ops_t fault_ops = {
    .append_batch = fw_append_batch,
    .last_index = fw_last_index,
    .first_index = fw_first_index,
    .read_from = fw_read_from,
    .find_idem = fw_find_idem,
    .compact = fw_compact,
    .meta_get = fw_meta_get,
    .meta_set = fw_meta_set,
    .healthy = fw_healthy,
    .close = fw_close,
};

/* Fault injection at the storage seam (STYLE: SQLite-style fault testing):
 * the selected append fails before it reaches the real log, exactly like a
 * commit whose sync failed, and the failure is sticky. */
sw_wal_t *sw_wal_fault_new(sw_wal_t *inner, sw_wal_fault_t *fault)
{
    fault_wal_t *w = sw_xcalloc(1, sizeof *w);
    w->base.ops = &fault_ops;
    w->inner = inner;
    w->f = fault;
    atomic_init(&w->failed, false);
    return &w->base;
}

/* ---------------------------------------------------------------- records */

static void put_bool(sw_buf_t *b, bool v)
{
    if (v)
        sw_buf_append(b, "true", 4);
    else
        sw_buf_append(b, "false", 5);
}

/* Writes the record by hand: its members and the guards' are in JCS order
 * already, and the proposal arrives canonical, so the result is canonical
 * JSON without building a tree (SPEC §4 record format). */
void sw_wal_encode_record(sw_buf_t *out, uint64_t index, const sw_guards_t *g,
                          sw_outcome_t outcome, const char *proposal_jcs,
                          size_t proposal_len, uint64_t received_at_ms,
                          const char *state_hash)
{
    static const char g1[] = "{\"guards\":{\"BackbeatOK\":";
    sw_buf_append(out, g1, sizeof g1 - 1);
    put_bool(out, g->backbeat_ok);
    sw_buf_append(out, ",\"LicenseOK\":", 13);
    put_bool(out, g->license_ok);
    sw_buf_append(out, ",\"MCPHealthy\":", 14);
    put_bool(out, g->mcp_healthy);
    sw_buf_append(out, ",\"PolicyOK\":", 12);
    put_bool(out, g->policy_ok);
    sw_buf_append(out, ",\"QuorumOK\":", 12);
    put_bool(out, g->quorum_ok);
    sw_buf_append(out, "},\"index\":", 10);
    sw_buf_put_u64(out, index);
    if (outcome == SW_OUT_QUARANTINED)
        sw_buf_puts(out, ",\"outcome\":\"quarantined\",\"proposal\":");
    else
        sw_buf_puts(out, ",\"outcome\":\"applied\",\"proposal\":");
    sw_buf_append(out, proposal_jcs, proposal_len);
    sw_buf_append(out, ",\"received_at_ms\":", 18);
    sw_buf_put_u64(out, received_at_ms);
    sw_buf_append(out, ",\"state_hash\":\"", 15);
    sw_buf_append(out, state_hash, 64);
    sw_buf_append(out, "\"}", 2);
}

typedef struct cursor {
    const char *p, *end;
} cursor_t;

static bool lit(cursor_t *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

static bool boolean(cursor_t *c, bool *v)
{
    if (lit(c, "true")) {
        *v = true;
        return true;
    }
    if (lit(c, "false")) {
        *v = false;
        return true;
    }
    return false;
}

/* Canonical unsigned decimal (no leading zeros, no sign), ≤ 2^53-1. */
static bool parse_u64(const char *p, size_t n, uint64_t *v)
{
    if (n == 0 || n > 16 || (n > 1 && p[0] == '0'))
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(p[i] - '0');
    }
    if (x > ((1ULL << 53) - 1))
        return false;
    *v = x;
    return true;
}

static bool uint_fwd(cursor_t *c, uint64_t *v)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return parse_u64(s, (size_t)(c->p - s), v);
}

static bool decode_fail(char msg[256], const char *what)
{
    snprintf(msg, 256, "record is not in the canonical record format (%s)",
             what);
    return false;
}

/* True when p holds 64 lowercase hex digits. Branch-free over a table:
 * hash digits are random, so a per-character branch mispredicts about half
 * the time (it was most of the cost of decoding a record). */
static bool lower_hex64(const char *p)
{
    static const unsigned char hex[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
        ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
        ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1};
    unsigned ok = 1;
    for (int i = 0; i < 64; i++)
        ok &= hex[(unsigned char)p[i]];
    return ok != 0;
}

/* Splits a record without a JSON parser: the head (guards, index, outcome)
 * is read forwards and the tail (received_at_ms, state_hash) backwards, since
 * only the proposal between them may contain arbitrary keys. Replay reads
 * every record, so this keeps it cheap (SPEC §4 recovery). */
bool sw_wal_decode_record(const char *rec, size_t len, sw_wal_decoded_t *out,
                          char msg[256])
{
    cursor_t c = {rec, rec + len};
    memset(out, 0, sizeof *out);
    if (!lit(&c, "{\"guards\":{\"BackbeatOK\":") ||
        !boolean(&c, &out->guards.backbeat_ok) || !lit(&c, ",\"LicenseOK\":") ||
        !boolean(&c, &out->guards.license_ok) || !lit(&c, ",\"MCPHealthy\":") ||
        !boolean(&c, &out->guards.mcp_healthy) || !lit(&c, ",\"PolicyOK\":") ||
        !boolean(&c, &out->guards.policy_ok) || !lit(&c, ",\"QuorumOK\":") ||
        !boolean(&c, &out->guards.quorum_ok) || !lit(&c, "},\"index\":"))
        return decode_fail(msg, "guards");
    if (!uint_fwd(&c, &out->index))
        return decode_fail(msg, "index");
    if (lit(&c, ",\"outcome\":\"applied\""))
        out->outcome = SW_OUT_APPLIED;
    else if (lit(&c, ",\"outcome\":\"quarantined\""))
        out->outcome = SW_OUT_QUARANTINED;
    else
        return decode_fail(msg, "outcome");
    if (!lit(&c, ",\"proposal\":"))
        return decode_fail(msg, "proposal");
    const char *pstart = c.p;

    /* Tail: ,"received_at_ms":N,"state_hash":"<64 hex>"} */
    static const char sh[] = ",\"state_hash\":\"";
    const size_t shl = sizeof sh - 1;
    if ((size_t)(c.end - pstart) < 2 + 64 + shl + 2)
        return decode_fail(msg, "too short");
    const char *e = c.end;
    if (e[-1] != '}' || e[-2] != '"')
        return decode_fail(msg, "end");
    const char *hx = e - 2 - 64;
    if (!lower_hex64(hx))
        return decode_fail(msg, "state_hash");
    memcpy(out->state_hash, hx, 64);
    out->state_hash[64] = '\0';
    const char *q = hx - shl;
    if (q < pstart || memcmp(q, sh, shl) != 0)
        return decode_fail(msg, "state_hash");
    const char *d = q;
    while (d > pstart && d[-1] >= '0' && d[-1] <= '9')
        d--;
    if (!parse_u64(d, (size_t)(q - d), &out->received_at_ms))
        return decode_fail(msg, "received_at_ms");
    static const char ra[] = ",\"received_at_ms\":";
    const size_t ral = sizeof ra - 1;
    if ((size_t)(d - pstart) < ral + 2 || memcmp(d - ral, ra, ral) != 0)
        return decode_fail(msg, "received_at_ms");
    const char *pend = d - ral;
    if (pstart[0] != '{' || pend[-1] != '}')
        return decode_fail(msg, "proposal");
    out->proposal = pstart;
    out->proposal_len = (size_t)(pend - pstart);
    return true;
}
