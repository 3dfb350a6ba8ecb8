// LABEL: unit
/* test_wal: the SQLite log, its meta checks, the fault-injection wrapper and
 * the record format (SPEC §4 WAL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "fsio.h"
#include "wal.h"
#include "tmpdir.h"

#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GEN_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define GEN_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HASH1 "1111111111111111111111111111111111111111111111111111111111111111"

static int setup(void **state)
{
    char *dir = th_tmpdir_new("wal");
    assert_non_null(dir);
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    return th_tmpdir_teardown(state);
}

/* A record whose text is a real encoded record for index i and key k. */
typedef struct rec {
    sw_buf_t text;
    char key[32];
    sw_wal_record_t r;
} rec_t;

static void make_rec(rec_t *x, uint64_t i, const char *key)
{
    memset(x, 0, sizeof *x);
    snprintf(x->key, sizeof x->key, "%s", key);
    char prop[256];
    snprintf(prop, sizeof prop,
             "{\"hlc\":\"%llu-0-0000000000000001\",\"idem_key\":\"%s\","
             "\"signer\":\"s\",\"transition\":\"LICENSE_REVOKED\"}",
             (unsigned long long)i, key);
    sw_wal_encode_record(&x->text, i, &SW_GUARDS_ALL_OK, SW_OUT_APPLIED, prop,
                         strlen(prop), 1000 + i, HASH1);
    x->r = (sw_wal_record_t){.index = i,
                             .idem_key = x->key,
                             .transition = "LICENSE_REVOKED",
                             .signer = "s",
                             .received_at_ms = 1000 + i,
                             .state_hash = HASH1,
                             .hlc_last = "1-0-0000000000000001",
                             .quarantined = false,
                             .message = NULL,
                             .record = x->text.data,
                             .record_len = x->text.len};
}

static swoosh_err_t append_keys(sw_wal_t *w, uint64_t first, int n,
                                const char *prefix, swoosh_error *err)
{
    rec_t *xs = calloc((size_t)n, sizeof *xs);
    sw_wal_record_t *rs = calloc((size_t)n, sizeof *rs);
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s%llu", prefix,
                 (unsigned long long)(first + (uint64_t)i));
        make_rec(&xs[i], first + (uint64_t)i, key);
        rs[i] = xs[i].r;
    }
    swoosh_err_t rc = sw_wal_append_batch(w, rs, (size_t)n, err);
    for (int i = 0; i < n; i++)
        sw_buf_free(&xs[i].text);
    free(xs);
    free(rs);
    return rc;
}

typedef struct collect {
    uint64_t idx[64];
    char keys[64][32];
    int n;
} collect_t;

static int collect_fn(void *arg, const sw_wal_record_t *r)
{
    collect_t *c = arg;
    if (c->n < 64) {
        c->idx[c->n] = r->index;
        snprintf(c->keys[c->n], 32, "%s", r->idem_key);
        c->n++;
    }
    return 0;
}

/* A new log is empty and records the format version and genesis hash. */
static void test_open_new(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(sw_wal_last_index(w), 0);
    assert_int_equal(sw_wal_first_index(w), 1);
    char *v = NULL;
    assert_int_equal(sw_wal_meta_get(w, SW_WAL_META_GENESIS, &v, &err),
                     SWOOSH_OK);
    assert_string_equal(v, GEN_A);
    free(v);
    assert_int_equal(sw_wal_meta_get(w, SW_WAL_META_FORMAT, &v, &err),
                     SWOOSH_OK);
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(sw_wal_meta_get(w, "nope", &v, &err), SWOOSH_OK);
    assert_null(v);
    assert_true(sw_wal_healthy(w));
    sw_wal_close(w);
}

/* Appended records come back in order with every column, and survive a
 * reopen. */
static void test_append_read(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(append_keys(w, 1, 3, "k", &err), SWOOSH_OK);
    assert_int_equal(append_keys(w, 4, 2, "k", &err), SWOOSH_OK);
    assert_int_equal(sw_wal_last_index(w), 5);
    collect_t c = {0};
    assert_int_equal(sw_wal_read_from(w, 1, 0, collect_fn, &c, &err),
                     SWOOSH_OK);
    assert_int_equal(c.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(c.idx[i], (uint64_t)i + 1);
    assert_string_equal(c.keys[3], "k4");
    memset(&c, 0, sizeof c);
    assert_int_equal(sw_wal_read_from(w, 2, 2, collect_fn, &c, &err),
                     SWOOSH_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.idx[0], 2);
    assert_int_equal(c.idx[1], 3);
    sw_wal_close(w);

    w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(sw_wal_last_index(w), 5);
    memset(&c, 0, sizeof c);
    assert_int_equal(sw_wal_read_from(w, 5, 0, collect_fn, &c, &err),
                     SWOOSH_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.keys[0], "k5");
    sw_wal_close(w);
}

typedef struct found {
    uint64_t index;
    char hash[65];
    char hlc[64];
} found_t;

static int found_fn(void *arg, const sw_wal_record_t *r)
{
    found_t *f = arg;
    f->index = r->index;
    snprintf(f->hash, sizeof f->hash, "%s", r->state_hash);
    snprintf(f->hlc, sizeof f->hlc, "%s", r->hlc_last);
    return 0;
}

/* find_idem finds a logged key with its answer columns and reports absent
 * keys as not found. */
static void test_find_idem(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(append_keys(w, 1, 3, "key-", &err), SWOOSH_OK);
    found_t f = {0};
    bool found = false;
    assert_int_equal(sw_wal_find_idem(w, "key-2", found_fn, &f, &found, &err),
                     SWOOSH_OK);
    assert_true(found);
    assert_int_equal(f.index, 2);
    assert_string_equal(f.hash, HASH1);
    assert_string_equal(f.hlc, "1-0-0000000000000001");
    assert_int_equal(sw_wal_find_idem(w, "key-9", found_fn, &f, &found, &err),
                     SWOOSH_OK);
    assert_false(found);
    sw_wal_close(w);
}

/* A batch whose indexes do not follow the log is refused without failing the
 * log. */
static void test_index_must_follow(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(append_keys(w, 2, 1, "k", &err), SWOOSH_EINVAL);
    assert_true(sw_wal_healthy(w));
    assert_int_equal(sw_wal_last_index(w), 0);
    assert_int_equal(append_keys(w, 1, 1, "k", &err), SWOOSH_OK);
    sw_wal_close(w);
}

/* A failing insert inside a batch rolls the whole batch back, and the
 * failure is sticky until the log is reopened. */
static void test_failed_batch_rolls_back(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(append_keys(w, 1, 2, "k", &err), SWOOSH_OK);
    /* keys k3, k4 and then k1 again: UNIQUE violation on the third. */
    rec_t xs[3];
    make_rec(&xs[0], 3, "k3");
    make_rec(&xs[1], 4, "k4");
    make_rec(&xs[2], 5, "k1");
    sw_wal_record_t rs[3] = {xs[0].r, xs[1].r, xs[2].r};
    assert_int_not_equal(sw_wal_append_batch(w, rs, 3, &err), SWOOSH_OK);
    assert_non_null(strstr(err.msg, "record 5"));
    assert_false(sw_wal_healthy(w));
    assert_int_equal(sw_wal_last_index(w), 2);
    assert_int_equal(append_keys(w, 3, 1, "z", &err), SWOOSH_ESTORAGE);
    for (int i = 0; i < 3; i++)
        sw_buf_free(&xs[i].text);
    sw_wal_close(w);

    w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(sw_wal_last_index(w), 2);
    bool found = true;
    assert_int_equal(sw_wal_find_idem(w, "k3", NULL, NULL, &found, &err),
                     SWOOSH_OK);
    assert_false(found);
    assert_true(sw_wal_healthy(w));
    sw_wal_close(w);
}

/* A log made from one genesis refuses to open with another (SPEC §3). */
static void test_refuses_other_genesis(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    sw_wal_close(w);
    memset(&err, 0, sizeof err);
    w = sw_wal_open(*state, GEN_B, NULL, &err);
    assert_null(w);
    assert_int_equal(err.code, SWOOSH_EFORMAT);
    assert_non_null(strstr(err.msg, "genesis"));
    assert_non_null(strstr(err.msg, GEN_A));
}

/* A log with another format version is refused with a clear message. */
static void test_refuses_other_format(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    sw_wal_close(w);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", (char *)*state, SW_WAL_FILE);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE meta SET value='99' WHERE "
                                  "key='format_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_null(w);
    assert_int_equal(err.code, SWOOSH_EFORMAT);
    assert_non_null(strstr(err.msg, "format version 99"));
}

/* The fault wrapper fails exactly the selected append, before any record
 * reaches the log, and stays failed. */
static void test_fault_wrapper(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *inner = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(inner);
    sw_wal_fault_t f;
    memset(&f, 0, sizeof f);
    atomic_store(&f.fail_append_at, 2);
    sw_wal_t *w = sw_wal_fault_new(inner, &f);
    assert_int_equal(append_keys(w, 1, 2, "k", &err), SWOOSH_OK);
    assert_int_equal(append_keys(w, 3, 2, "k", &err), SWOOSH_EIO);
    assert_false(sw_wal_healthy(w));
    assert_int_equal(sw_wal_last_index(w), 2);
    assert_int_equal(append_keys(w, 3, 1, "k", &err), SWOOSH_ESTORAGE);
    assert_int_equal(atomic_load(&f.appends), 3);
    atomic_store(&f.fail_find, true);
    bool found;
    assert_int_equal(sw_wal_find_idem(w, "k1", NULL, NULL, &found, &err),
                     SWOOSH_EIO);
    sw_wal_close(w);
}

/* A read-only open reads but never writes, and a missing log is reported. */
static void test_read_only(void **state)
{
    swoosh_error err = {0};
    sw_wal_options_t ro = {.read_only = true};
    char missing[512];
    snprintf(missing, sizeof missing, "%s/none", (char *)*state);
    assert_null(sw_wal_open(missing, NULL, &ro, &err));
    assert_int_equal(err.code, SWOOSH_ENOTFOUND);
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_int_equal(append_keys(w, 1, 3, "k", &err), SWOOSH_OK);
    sw_wal_t *r = sw_wal_open(*state, NULL, &ro, &err);
    assert_non_null(r);
    assert_int_equal(sw_wal_last_index(r), 3);
    collect_t c = {0};
    assert_int_equal(sw_wal_read_from(r, 1, 0, collect_fn, &c, &err),
                     SWOOSH_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(append_keys(r, 4, 1, "k", &err), SWOOSH_EINVAL);
    sw_wal_close(r);
    sw_wal_close(w);
}

static long file_size(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Makes path immutable (or not); false when this process or filesystem
 * cannot (immutable files need root and ext2/3/4, XFS, btrfs...). */
static bool set_immutable(const char *path, bool on)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    int flags = 0;
    bool ok = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    if (ok) {
        flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
        ok = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
    close(fd);
    return ok;
}

/* A log file SQLite could open only read-only (here: immutable, as root
 * would see a file it may not write) is refused at open with a clear error,
 * instead of a server that starts healthy and fails its first commit. */
static void test_unwritable_file(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(append_keys(w, 1, 2, "k", &err), SWOOSH_OK);
    sw_wal_close(w);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", (char *)*state, SW_WAL_FILE);
    if (!set_immutable(path, true)) {
        printf("skipped: cannot make %s immutable here\n", path);
        skip();
        return;
    }
    swoosh_error err2 = {0};
    w = sw_wal_open(*state, GEN_A, NULL, &err2);
    bool refused = w == NULL;
    sw_wal_close(w);
    assert_true(set_immutable(path, false));
    assert_true(refused);
    assert_non_null(strstr(err2.msg, "cannot be written"));
    /* Writable again once the attribute is gone. */
    w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(sw_wal_last_index(w), 2);
    sw_wal_close(w);
}

/* A log whose file is deleted under the writer (`rm -rf` of the WAL
 * directory) refuses the next commit: SQLite would go on committing into the
 * unlinked file, and every record after the deletion would be lost at the
 * next start. The failure is sticky. */
static void test_deleted_file(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(append_keys(w, 1, 2, "d", &err), SWOOSH_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", (char *)*state, SW_WAL_FILE);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(append_keys(w, 3, 1, "d", &err), SWOOSH_ESTORAGE);
    assert_non_null(strstr(err.msg, "was deleted"));
    assert_false(sw_wal_healthy(w));
    assert_int_equal(sw_wal_last_index(w), 2);
    assert_int_equal(append_keys(w, 3, 1, "e", &err), SWOOSH_ESTORAGE);
    sw_wal_close(w);
}

/* Deleting only the -wal file, where the commits go, is noticed by the
 * checkpoint thread within about a second: the log turns unhealthy and
 * refuses commits (the commit path itself checks only the database file). A
 * reopened log (no -wal file after a clean close) stays healthy meanwhile:
 * SQLite recreates the file on open. */
static void test_deleted_wal_file(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(append_keys(w, 1, 2, "d", &err), SWOOSH_OK);
    sw_wal_close(w);
    char path[512];
    snprintf(path, sizeof path, "%s/%s-wal", (char *)*state, SW_WAL_FILE);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0); /* a clean close removed it */
    w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(append_keys(w, 3, 1, "d", &err), SWOOSH_OK);
    assert_int_equal(unlink(path), 0);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do { /* the check runs about once a second */
        nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (sw_wal_healthy(w) && now.tv_sec - t0.tv_sec < 10);
    assert_false(sw_wal_healthy(w));
    assert_int_equal(append_keys(w, 4, 1, "d", &err), SWOOSH_ESTORAGE);
    sw_wal_close(w);
}

/* At a clean shutdown finish leaves the log in one file (the -wal file
 * emptied, then removed by the close). When it cannot (here SQLite may not
 * truncate an immutable -wal file), it says the -wal file stays, and no
 * record is lost. */
static void test_finish(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(append_keys(w, 1, 3, "f", &err), SWOOSH_OK);
    assert_true(file_size(*state, SW_WAL_FILE "-wal") > 0);
    assert_int_equal(sw_wal_finish(w, &err), SWOOSH_OK);
    assert_int_equal(file_size(*state, SW_WAL_FILE "-wal"), 0);
    sw_wal_close(w);
    assert_int_equal(file_size(*state, SW_WAL_FILE "-wal"), -1);

    w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(append_keys(w, 4, 3, "f", &err), SWOOSH_OK);
    char walpath[512];
    snprintf(walpath, sizeof walpath, "%s/%s-wal", (char *)*state, SW_WAL_FILE);
    if (!set_immutable(walpath, true)) {
        sw_wal_close(w);
        printf("skipped: cannot make %s immutable here\n", walpath);
        skip();
        return;
    }
    swoosh_error ferr = {0};
    swoosh_err_t rc = sw_wal_finish(w, &ferr);
    sw_wal_close(w);
    assert_true(set_immutable(walpath, false));
    assert_int_not_equal(rc, SWOOSH_OK);
    assert_non_null(strstr(ferr.msg, "-wal stays"));
    w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(sw_wal_last_index(w), 6);
    sw_wal_close(w);
}

/* One writer per log: a second writable open of the same directory fails
 * with SWOOSH_EBUSY while the first is open (readers are fine), and
 * succeeds once it is closed. */
static void test_one_writer(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(append_keys(w, 1, 2, "k", &err), SWOOSH_OK);
    swoosh_error err2 = {0};
    assert_null(sw_wal_open(*state, GEN_A, NULL, &err2));
    assert_int_equal(err2.code, SWOOSH_EBUSY);
    assert_non_null(strstr(err2.msg, "in use by another swoosh process"));
    sw_wal_options_t ro = {.read_only = true};
    sw_wal_t *r = sw_wal_open(*state, NULL, &ro, &err);
    assert_non_null(r);
    sw_wal_close(r);
    assert_int_equal(append_keys(w, 3, 1, "k", &err), SWOOSH_OK);
    sw_wal_close(w);
    w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_non_null(w);
    assert_int_equal(sw_wal_last_index(w), 3);
    sw_wal_close(w);
}

/* Compaction drops a prefix and moves first_index; it never removes the
 * last record, from which the next open reads the last index. */
static void test_compact(void **state)
{
    swoosh_error err = {0};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_int_equal(append_keys(w, 1, 5, "k", &err), SWOOSH_OK);
    assert_int_equal(sw_wal_compact(w, 5, &err), SWOOSH_EINVAL);
    assert_int_equal(sw_wal_first_index(w), 1);
    assert_int_equal(sw_wal_compact(w, 2, &err), SWOOSH_OK);
    assert_int_equal(sw_wal_first_index(w), 3);
    collect_t c = {0};
    assert_int_equal(sw_wal_read_from(w, 1, 0, collect_fn, &c, &err),
                     SWOOSH_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.idx[0], 3);
    sw_wal_close(w);
    w = sw_wal_open(*state, GEN_A, NULL, &err);
    assert_int_equal(sw_wal_first_index(w), 3);
    assert_int_equal(sw_wal_last_index(w), 5);
    sw_wal_close(w);
}

/* Encoding then decoding a record gives back every member. */
static void test_record_roundtrip(void **state)
{
    (void)state;
    sw_guards_t g = {.license_ok = true,
                     .backbeat_ok = false,
                     .quorum_ok = true,
                     .policy_ok = false,
                     .mcp_healthy = true};
    const char *prop = "{\"a\":{\"received_at_ms\":1},\"b\":\"}\"}";
    sw_buf_t b = SW_BUF_INIT;
    sw_wal_encode_record(&b, 42, &g, SW_OUT_QUARANTINED, prop, strlen(prop),
                         1700000000000ULL, HASH1);
    assert_string_equal(
        b.data,
        "{\"guards\":{\"BackbeatOK\":false,\"LicenseOK\":true,\"MCPHealthy\":"
        "true,\"PolicyOK\":false,\"QuorumOK\":true},\"index\":42,\"outcome\":"
        "\"quarantined\",\"proposal\":{\"a\":{\"received_at_ms\":1},\"b\":"
        "\"}\"},\"received_at_ms\":1700000000000,\"state_hash\":\"" HASH1
        "\"}");
    sw_wal_decoded_t d;
    char msg[256];
    assert_true(sw_wal_decode_record(b.data, b.len, &d, msg));
    assert_int_equal(d.index, 42);
    assert_int_equal(d.outcome, SW_OUT_QUARANTINED);
    assert_false(d.guards.backbeat_ok);
    assert_true(d.guards.license_ok);
    assert_true(d.guards.mcp_healthy);
    assert_false(d.guards.policy_ok);
    assert_true(d.guards.quorum_ok);
    assert_int_equal(d.received_at_ms, 1700000000000ULL);
    assert_string_equal(d.state_hash, HASH1);
    assert_int_equal(d.proposal_len, strlen(prop));
    assert_memory_equal(d.proposal, prop, strlen(prop));
    sw_buf_free(&b);
}

/* Records that are not in the exact canonical shape are refused. */
static void test_record_decode_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{}",
        "{\"guards\":{\"BackbeatOK\":true,\"LicenseOK\":true,\"MCPHealthy\":"
        "true,\"PolicyOK\":true,\"QuorumOK\":true},\"index\":01,\"outcome\":"
        "\"applied\",\"proposal\":{},\"received_at_ms\":1,\"state_hash\":"
        "\"" HASH1 "\"}",
        "{\"guards\":{\"BackbeatOK\":true,\"LicenseOK\":true,\"MCPHealthy\":"
        "true,\"PolicyOK\":true,\"QuorumOK\":true},\"index\":1,\"outcome\":"
        "\"rejected\",\"proposal\":{},\"received_at_ms\":1,\"state_hash\":"
        "\"" HASH1 "\"}",
        "{\"guards\":{\"BackbeatOK\":true,\"LicenseOK\":true,\"MCPHealthy\":"
        "true,\"PolicyOK\":true,\"QuorumOK\":true},\"index\":1,\"outcome\":"
        "\"applied\",\"proposal\":{},\"received_at_ms\":1,\"state_hash\":"
        "\"" HASH1 "X\"}",
        "{\"guards\":{\"BackbeatOK\":true,\"LicenseOK\":true,\"MCPHealthy\":"
        "true,\"PolicyOK\":true,\"QuorumOK\":true},\"index\":1,\"outcome\":"
        "\"applied\",\"proposal\":{},\"state_hash\":\"" HASH1 "\"}",
        "{\"guards\":{\"BackbeatOK\":true,\"LicenseOK\":true,\"MCPHealthy\":"
        "true,\"PolicyOK\":true,\"QuorumOK\":true},\"index\":1,\"outcome\":"
        "\"applied\",\"proposal\":[],\"received_at_ms\":1,\"state_hash\":"
        "\"" HASH1 "\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_wal_decoded_t d;
        char msg[256] = "";
        assert_false(sw_wal_decode_record(bad[i], strlen(bad[i]), &d, msg));
        assert_non_null(strstr(msg, "canonical record format"));
    }
}

static int count_fn(void *arg, const sw_wal_record_t *r)
{
    uint64_t *n = arg;
    (*n)++;
    return r->index == *n ? 0 : 1; /* stops early on a gap */
}

/* A checkpoint cycle lets the next commit rewrite SQLite's WAL from its
 * start: under a steady stream of commits the WAL file stops growing after
 * the first cycle, and every record stays readable, also after a reopen. */
static void test_checkpoint_restarts_wal(void **state)
{
    swoosh_error err = {0};
    sw_wal_options_t o = {.checkpoint_pages = SW_WAL_CHECKPOINT_MANUAL};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, &o, &err);
    assert_non_null(w);
    assert_int_equal(sw_wal_sqlite_frames(w), 0);
    uint64_t next = 1;
    unsigned max_frames = 0;
    const long page = 4096; /* SQLite's default page size, which we keep */
    for (int cycle = 0; cycle < 12; cycle++) {
        for (int b = 0; b < 30; b++) {
            assert_int_equal(append_keys(w, next, 8, "ck-", &err), SWOOSH_OK);
            next += 8;
        }
        unsigned grown = sw_wal_sqlite_frames(w);
        assert_true(grown >= 30); /* each commit added frames */
        sw_wal_sqlite_checkpoint(w);
        assert_int_equal(append_keys(w, next, 8, "ck-", &err), SWOOSH_OK);
        next += 8;
        /* The commit after the cycle started a new WAL. */
        assert_true(sw_wal_sqlite_frames(w) < grown / 10);
        /* The file holds at most the largest cycle's frames (SQLite's WAL
         * format: a 32-byte header, then 24 bytes + a page per frame);
         * without restarts it would hold every cycle's. */
        if (grown > max_frames)
            max_frames = grown;
        long size = file_size(*state, SW_WAL_FILE "-wal");
        assert_true(size > 0);
        assert_true(size <= 32 + (long)max_frames * (24 + page));
    }
    uint64_t last = next - 1;
    assert_int_equal(sw_wal_last_index(w), last);
    bool found = false;
    found_t f = {0};
    assert_int_equal(sw_wal_find_idem(w, "ck-5", found_fn, &f, &found, &err),
                     SWOOSH_OK);
    assert_true(found);
    assert_int_equal(f.index, 5);
    sw_wal_close(w);

    w = sw_wal_open(*state, GEN_A, &o, &err);
    assert_non_null(w);
    assert_int_equal(sw_wal_last_index(w), last);
    uint64_t count = 0;
    assert_int_equal(sw_wal_read_from(w, 1, 0, count_fn, &count, &err),
                     SWOOSH_OK);
    assert_int_equal(count, last);
    sw_wal_close(w);
}

/* A checkpoint whose flush of the database file fails marks the log failed
 * (docs/DURABILITY.md, failed syncs): later commits are refused, and the
 * WAL file is kept at close, so the next open recovers every committed
 * record from it; a healthy close removes it. */
static void test_checkpoint_sync_failure(void **state)
{
    swoosh_error err = {0};
    sw_wal_options_t o = {.checkpoint_pages = SW_WAL_CHECKPOINT_MANUAL};
    sw_wal_t *w = sw_wal_open(*state, GEN_A, &o, &err);
    assert_non_null(w);
    for (uint64_t next = 1; next <= 160; next += 8)
        assert_int_equal(append_keys(w, next, 8, "cf-", &err), SWOOSH_OK);
    assert_true(sw_wal_healthy(w));
    sw_fsio_inject_sync_failures(1);
    sw_wal_sqlite_checkpoint(w);
    assert_false(sw_wal_healthy(w));
    assert_true(sw_fsio_failed());
    assert_int_equal(append_keys(w, 161, 1, "cf-", &err), SWOOSH_ESTORAGE);
    assert_int_equal(sw_wal_last_index(w), 160);
    sw_wal_close(w);
    assert_true(file_size(*state, SW_WAL_FILE "-wal") > 0);

    sw_fsio_reset_for_tests();
    w = sw_wal_open(*state, GEN_A, &o, &err);
    assert_non_null(w);
    assert_true(sw_wal_healthy(w));
    assert_int_equal(sw_wal_last_index(w), 160);
    uint64_t count = 0;
    assert_int_equal(sw_wal_read_from(w, 1, 0, count_fn, &count, &err),
                     SWOOSH_OK);
    assert_int_equal(count, 160);
    assert_int_equal(append_keys(w, 161, 1, "cf-", &err), SWOOSH_OK);
    sw_wal_close(w);
    assert_int_equal(file_size(*state, SW_WAL_FILE "-wal"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_idem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_must_follow, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_rolls_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refuses_other_genesis, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refuses_other_format, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fault_wrapper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_wal_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_restarts_wal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_sync_failure, setup,
                                        teardown),
        cmocka_unit_test(test_record_roundtrip),
        cmocka_unit_test(test_record_decode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
