// LABEL: unit
/* test_recovery: start-up from genesis, from snapshots (trusted, corrupt,
 * leftover .tmp), refusal of tampered logs, gaps and another genesis (SPEC
 * §1.5, §3, §4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "executor.h"
#include "fsio.h"
#include "log.h"
#include "proposal.h"
#include "recovery.h"
#include "reducer.h"
#include "snapshot.h"
#include "wal.h"
#include "proc.h"
#include "tmpdir.h"

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    char wal[128], snap[128];
    char hash[16][65]; /* state hash after record i */
    uint64_t n;
} fixture_t;

static uint64_t fixed_clock(void *arg)
{
    (void)arg;
    return 1700000000000ULL;
}

static sw_executor_t *open_ex(fixture_t *f, const char *genesis, uint64_t every,
                              swoosh_error *err)
{
    sw_exec_config_t c;
    sw_exec_config_defaults(&c);
    c.wal_dir = f->wal;
    c.snapshot_dir = f->snap;
    c.genesis_path = genesis;
    c.snapshot_every = every;
    c.node_id = 7;
    c.now_ms = fixed_clock;
    return sw_executor_open(&c, err);
}

static void submit_ok(sw_executor_t *ex, const char *json, char hash[65])
{
    sw_proposal_t p;
    char msg[256];
    assert_int_equal(sw_proposal_parse(json, strlen(json), &p, msg), SW_C_OK);
    sw_reply_t r;
    assert_int_equal(sw_executor_submit_wait(ex, &p, &SW_GUARDS_ALL_OK, &r),
                     SW_C_OK);
    assert_int_equal(r.code, SW_C_OK);
    memcpy(hash, r.state_hash, 65);
}

/* Builds a 12-record log with snapshots every 5 (5, 10 and 12 at close). */
static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_int_equal(th_tmpdir_make(f->dir, sizeof f->dir, "rec"), 0);
    snprintf(f->wal, sizeof f->wal, "%s/wal", f->dir);
    snprintf(f->snap, sizeof f->snap, "%s/snap", f->dir);
    sw_fsio_reset_for_tests();
    swoosh_error err = {0};
    sw_executor_t *ex = open_ex(f, NULL, 5, &err);
    assert_non_null(ex);
    for (int i = 1; i <= 12; i++) {
        char json[256];
        if (i % 3 == 1)
            snprintf(json, sizeof json,
                     "{\"transition\":\"LICENSE_GRANTED\",\"signer\":\"op%d\","
                     "\"idem_key\":\"r%d\",\"payload\":{\"license_id\":"
                     "\"L%d\"}}",
                     i, i, i);
        else
            snprintf(json, sizeof json,
                     "{\"transition\":\"%s\",\"signer\":\"op%d\","
                     "\"idem_key\":\"r%d\"}",
                     i % 3 == 2 ? "CONTROL_PAUSE" : "CONTROL_RESUME", i, i);
        submit_ok(ex, json, f->hash[i]);
    }
    f->n = 12;
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    th_rm_tree(f->dir);
    free(f);
    return 0;
}

static swoosh_err_t recover(fixture_t *f, const char *snapdir,
                            sw_recovered_t *out, swoosh_error *err)
{
    char gh[65];
    sw_state_t *g = sw_recovery_genesis(NULL, gh, err);
    sw_wal_t *w = sw_wal_open(f->wal, gh, NULL, err);
    assert_non_null(w);
    swoosh_err_t rc = sw_recovery_run(w, snapdir, g, gh, out, err);
    sw_wal_close(w);
    sw_state_free(g);
    return rc;
}

static void snap_path(fixture_t *f, uint64_t i, char *out)
{
    sw_snapshot_path(f->snap, i, out, 512);
}

static void exec_sql(fixture_t *f, const char *sql)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", f->wal, SW_WAL_FILE);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *e = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &e);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, e);
    sqlite3_close(db);
}

/* Replay from genesis (no snapshots) reaches the last record's hash. */
static void test_from_genesis(void **state)
{
    fixture_t *f = *state;
    sw_recovered_t r;
    swoosh_error err = {0};
    assert_int_equal(recover(f, NULL, &r, &err), SWOOSH_OK);
    assert_int_equal(r.index, 12);
    assert_int_equal(r.snapshot_index, 0);
    assert_int_equal(r.replayed, 12);
    assert_string_equal(r.state_hash, f->hash[12]);
    sw_state_free(r.state);
}

/* The newest trusted snapshot is used and only later records replayed. */
static void test_from_snapshot(void **state)
{
    fixture_t *f = *state;
    sw_recovered_t r;
    swoosh_error err = {0};
    assert_int_equal(recover(f, f->snap, &r, &err), SWOOSH_OK);
    assert_int_equal(r.snapshot_index, 12);
    assert_int_equal(r.replayed, 0);
    assert_string_equal(r.state_hash, f->hash[12]);
    sw_state_free(r.state);

    char p[512];
    snap_path(f, 12, p);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(recover(f, f->snap, &r, &err), SWOOSH_OK);
    assert_int_equal(r.snapshot_index, 10);
    assert_int_equal(r.replayed, 2);
    assert_string_equal(r.state_hash, f->hash[12]);
    sw_state_free(r.state);
}

static void write_file(const char *path, const char *data, size_t len)
{
    assert_int_equal(th_write_file(path, data, len), 0);
}

/* A corrupt newest snapshot is skipped for an older trusted one. */
static void test_corrupt_newest_snapshot(void **state)
{
    fixture_t *f = *state;
    char p[512];
    snap_path(f, 12, p);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(sw_fsio_read_file(p, &data, &len, NULL), SWOOSH_OK);
    /* Flip a state value but keep the JSON valid: LicenseID L10 → L99. */
    char *at = strstr(data, "\"L10\"");
    assert_non_null(at);
    memcpy(at, "\"L99\"", 5);
    write_file(p, data, len);
    free(data);

    sw_recovered_t r;
    swoosh_error err = {0};
    assert_int_equal(recover(f, f->snap, &r, &err), SWOOSH_OK);
    assert_int_equal(r.snapshot_index, 10);
    assert_int_equal(r.snapshots_skipped, 1);
    assert_string_equal(r.state_hash, f->hash[12]);
    sw_state_free(r.state);

    /* Truncated as well: still skipped. */
    write_file(p, "{\"format\":\"swoosh-sn", 20);
    assert_int_equal(recover(f, f->snap, &r, &err), SWOOSH_OK);
    assert_int_equal(r.snapshot_index, 10);
    sw_state_free(r.state);
}

/* A truncated .tmp left by a crash mid-write is ignored and removed. */
static void test_tmp_leftover(void **state)
{
    fixture_t *f = *state;
    char p[512], tmp[600];
    snap_path(f, 13, p);
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    write_file(tmp, "{\"format\":\"swoo", 15);
    sw_recovered_t r;
    swoosh_error err = {0};
    assert_int_equal(recover(f, f->snap, &r, &err), SWOOSH_OK);
    assert_int_equal(r.snapshot_index, 12);
    assert_string_equal(r.state_hash, f->hash[12]);
    assert_int_equal(access(tmp, F_OK), -1);
    sw_state_free(r.state);
}

/* A snapshot whose hash disagrees with the log record at its index is not
 * trusted. */
static void test_snapshot_disagrees_with_log(void **state)
{
    fixture_t *f = *state;
    /* Copy snapshot 10's state into a file claiming index 12 would fail its
     * own index check; instead rewrite record 12's hash columns so the log
     * and snapshot 12 disagree, then recover without replaying past 12. */
    char sql[512];
    snprintf(sql, sizeof sql, "UPDATE log SET state_hash='%064d' WHERE idx=12",
             0);
    exec_sql(f, sql);
    sw_recovered_t r;
    swoosh_error err = {0};
    /* Snapshot 12 is skipped; 10 is used; replaying 11..12 then finds the
     * record's hash column inconsistent: divergence at 12. */
    assert_int_equal(recover(f, f->snap, &r, &err), SWOOSH_EDIVERGED);
    assert_non_null(strstr(err.msg, "record 12"));
    /* The message shows both differing values, not one of them twice. */
    assert_non_null(strstr(err.msg, "state_hash column"));
    char zeros[65];
    snprintf(zeros, sizeof zeros, "%064d", 0);
    assert_non_null(strstr(err.msg, zeros));
    assert_non_null(strstr(err.msg, f->hash[12]));
    assert_int_equal(r.snapshots_skipped, 1);
    assert_null(r.state);
}

/* A tampered record (changed signer) stops recovery naming its index and
 * both hashes. */
static void test_tampered_record(void **state)
{
    fixture_t *f = *state;
    exec_sql(f, "UPDATE log SET record=replace(record, '\"signer\":\"op7\"', "
                "'\"signer\":\"evil\"') WHERE idx=7");
    sw_recovered_t r;
    swoosh_error err = {0};
    assert_int_equal(recover(f, NULL, &r, &err), SWOOSH_EDIVERGED);
    assert_non_null(strstr(err.msg, "record 7"));
    assert_non_null(strstr(err.msg, f->hash[7]));
    assert_non_null(strstr(err.msg, "replay computes"));
    assert_null(r.state);

    /* The executor refuses to open on it too (snapshots cover 10..12, so
     * remove them to force the replay through record 7). */
    for (uint64_t i = 1; i <= 12; i++) {
        char p[512];
        snap_path(f, i, p);
        unlink(p);
    }
    sw_exec_config_t c;
    sw_exec_config_defaults(&c);
    c.wal_dir = f->wal;
    c.snapshot_dir = f->snap;
    memset(&err, 0, sizeof err);
    assert_null(sw_executor_open(&c, &err));
    assert_int_equal(err.code, SWOOSH_EDIVERGED);
    assert_non_null(strstr(err.msg, "record 7"));
}

/* A missing record is a gap. */
static void test_gap(void **state)
{
    fixture_t *f = *state;
    exec_sql(f, "DELETE FROM log WHERE idx=5");
    sw_recovered_t r;
    swoosh_error err = {0};
    assert_int_equal(recover(f, NULL, &r, &err), SWOOSH_EDIVERGED);
    assert_non_null(strstr(err.msg, "expected record 5"));
}

/* A record whose outcome differs from the replay's is divergence. */
static void test_outcome_differs(void **state)
{
    fixture_t *f = *state;
    exec_sql(f, "UPDATE log SET record=replace(record, '\"PolicyOK\":true', "
                "'\"PolicyOK\":false') WHERE idx=3");
    sw_recovered_t r;
    swoosh_error err = {0};
    assert_int_equal(recover(f, NULL, &r, &err), SWOOSH_EDIVERGED);
    assert_non_null(strstr(err.msg, "record 3"));
    assert_non_null(strstr(err.msg, "outcome"));
}

/* A snapshot ahead of the log means the log lost records: refused. */
static void test_snapshot_ahead_of_log(void **state)
{
    fixture_t *f = *state;
    exec_sql(f, "DELETE FROM log WHERE idx>=11");
    sw_recovered_t r;
    swoosh_error err = {0};
    assert_int_equal(recover(f, f->snap, &r, &err), SWOOSH_EDIVERGED);
    assert_non_null(strstr(err.msg, "ahead of the log"));
}

/* Starting the log with another genesis is refused; a genesis file must have
 * index 0. */
static void test_other_genesis(void **state)
{
    fixture_t *f = *state;
    char gpath[256];
    snprintf(gpath, sizeof gpath, "%s/genesis.json", f->dir);
    sw_state_t *g = sw_state_new_genesis();
    sw_str_set(&g->boot.license_id, "custom");
    sw_state_touch(g, SW_SEC_BOOT);
    size_t len;
    const char *txt = sw_state_canonical(g, &len);
    write_file(gpath, txt, len);
    sw_state_free(g);

    swoosh_error err = {0};
    assert_null(open_ex(f, gpath, 0, &err));
    assert_int_equal(err.code, SWOOSH_EFORMAT);
    assert_non_null(strstr(err.msg, "genesis"));

    g = sw_state_new_genesis();
    g->meta.index = 3;
    sw_state_touch(g, SW_SEC_META);
    txt = sw_state_canonical(g, &len);
    write_file(gpath, txt, len);
    sw_state_free(g);
    char h[65];
    memset(&err, 0, sizeof err);
    assert_null(sw_recovery_genesis(gpath, h, &err));
    assert_int_equal(err.code, SWOOSH_EINVAL);
    assert_non_null(strstr(err.msg, "Index 0"));
}

/* A genesis file is used as the starting state of a new log. */
static void test_genesis_file(void **state)
{
    fixture_t *f = *state;
    char gpath[256];
    snprintf(gpath, sizeof gpath, "%s/genesis.json", f->dir);
    sw_state_t *g = sw_state_new_genesis();
    g->boot.licensed = true;
    sw_state_touch(g, SW_SEC_BOOT);
    size_t len;
    const char *txt = sw_state_canonical(g, &len);
    write_file(gpath, txt, len);
    char want[65];
    sw_state_hash(g, want);
    sw_state_free(g);

    snprintf(f->wal, sizeof f->wal, "%s/wal2", f->dir);
    snprintf(f->snap, sizeof f->snap, "%s/snap2", f->dir);
    swoosh_error err = {0};
    sw_executor_t *ex = open_ex(f, gpath, 0, &err);
    assert_non_null(ex);
    assert_string_equal(sw_executor_genesis_hash(ex), want);
    sw_view_t *v = sw_executor_view(ex);
    assert_true(v->licensed);
    assert_string_equal(v->state_hash, want);
    sw_view_release(v);
    /* Licensed at genesis: an execution-phase check is reached directly. */
    sw_proposal_t p;
    char msg[256];
    const char *j = "{\"transition\":\"INGESTION_STARTED\",\"signer\":\"o\","
                    "\"idem_key\":\"g1\",\"payload\":{\"sources\":[{\"id\":"
                    "\"s\",\"uri\":\"u\"}]}}";
    assert_int_equal(sw_proposal_parse(j, strlen(j), &p, msg), SW_C_OK);
    sw_reply_t r;
    assert_int_equal(sw_executor_submit_wait(ex, &p, &SW_GUARDS_ALL_OK, &r),
                     SW_C_OK);
    assert_int_equal(r.code, SW_C_OK);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
    ex = open_ex(f, gpath, 0, &err);
    assert_non_null(ex);
    v = sw_executor_view(ex);
    assert_int_equal(v->index, 1);
    assert_string_equal(v->state_hash, r.state_hash);
    sw_view_release(v);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
}

typedef struct counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned done, bad;
} counter_t;

static void count_reply(void *arg, const sw_reply_t *r)
{
    counter_t *c = arg;
    pthread_mutex_lock(&c->mu);
    c->done++;
    if (r->code != SW_C_OK)
        c->bad++;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static int take_col_hash(void *arg, const sw_wal_record_t *r)
{
    snprintf(arg, 65, "%s", r->state_hash);
    return 1;
}

/* Long logs replay on the pipelined path: it reaches the same hash, stops
 * at `upto`, and reports a tampered record deep in the log by index. */
static void test_long_log_pipelined(void **state)
{
    fixture_t *f = *state;
    snprintf(f->wal, sizeof f->wal, "%s/walL", f->dir);
    snprintf(f->snap, sizeof f->snap, "%s/snapL", f->dir);
    sw_exec_config_t c;
    sw_exec_config_defaults(&c);
    c.wal_dir = f->wal;
    c.snapshot_dir = f->snap;
    c.snapshot_every = 0;
    c.batch_max = 1024;
    c.queue_max = 8192;
    c.now_ms = fixed_clock;
    swoosh_error err = {0};
    sw_executor_t *ex = sw_executor_open(&c, &err);
    assert_non_null(ex);
    counter_t cnt = {.done = 0};
    pthread_mutex_init(&cnt.mu, NULL);
    pthread_cond_init(&cnt.cv, NULL);
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        char json[200];
        snprintf(json, sizeof json,
                 "{\"transition\":\"LICENSE_GRANTED\",\"signer\":\"s\","
                 "\"idem_key\":\"L%d\",\"payload\":{\"license_id\":\"l%d\"}}",
                 i, i);
        sw_proposal_t p;
        char msg[256];
        assert_int_equal(sw_proposal_parse(json, strlen(json), &p, msg),
                         SW_C_OK);
        assert_int_equal(
            sw_executor_submit(ex, &p, &SW_GUARDS_ALL_OK, count_reply, &cnt),
            SW_C_OK);
    }
    pthread_mutex_lock(&cnt.mu);
    while (cnt.done < N)
        pthread_cond_wait(&cnt.cv, &cnt.mu);
    pthread_mutex_unlock(&cnt.mu);
    assert_int_equal(cnt.bad, 0);
    sw_view_t *v = sw_executor_view(ex);
    char final_hash[65];
    memcpy(final_hash, v->state_hash, 65);
    assert_int_equal(v->index, N);
    sw_view_release(v);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);

    sw_recovered_t r;
    assert_int_equal(recover(f, NULL, &r, &err), SWOOSH_OK);
    assert_int_equal(r.replayed, N);
    assert_string_equal(r.state_hash, final_hash);
    sw_state_free(r.state);

    /* Replay up to 2000 stops there with record 2000's hash. */
    char gh[65], want[65] = "";
    sw_state_t *g = sw_recovery_genesis(NULL, gh, &err);
    sw_wal_t *w = sw_wal_open(f->wal, gh, NULL, &err);
    assert_int_equal(sw_wal_read_from(w, 2000, 1, take_col_hash, want, &err),
                     SWOOSH_OK);
    uint64_t n = 0;
    assert_int_equal(sw_recovery_replay(w, g, 2000, &n, &err), SWOOSH_OK);
    assert_int_equal(n, 2000);
    assert_int_equal(g->meta.index, 2000);
    char h[65];
    sw_state_hash(g, h);
    assert_string_equal(h, want);
    sw_state_free(g);
    sw_wal_close(w);

    exec_sql(f, "UPDATE log SET record=replace(record, '\"l2500\"', "
                "'\"x2500\"') WHERE idx=2501");
    memset(&r, 0, sizeof r);
    assert_int_equal(recover(f, NULL, &r, &err), SWOOSH_EDIVERGED);
    assert_non_null(strstr(err.msg, "record 2501"));
    assert_null(r.state);
    pthread_mutex_destroy(&cnt.mu);
    pthread_cond_destroy(&cnt.cv);
}

/* One proposal twice over: the canonical text the executor would log and a
 * valid but non-canonical spelling of the same JSON value. */
typedef struct spelling {
    const char *canonical;     /* printf format taking the hlc string */
    const char *non_canonical; /* same, with %s for the hlc */
} spelling_t;

static const spelling_t SPELLINGS[] = {
    /* Escapes (\u00e9, \/) in the signer (printable ASCII only) and a stored
       value. */
    {"{\"hlc\":\"%s\",\"idem_key\":\"n1\",\"payload\":{\"license_id\":"
     "\"L\xc3\xa9/1\"},\"signer\":\"op/1\",\"transition\":"
     "\"LICENSE_GRANTED\"}",
     "{\"transition\":\"LICENSE_GRANTED\",\"signer\":\"op\\/1\","
     "\"idem_key\":\"n1\",\"payload\":{\"license_id\":\"L\\u00E9\\/1\"},"
     "\"hlc\":\"%s\"}"},
    /* Whitespace everywhere between tokens, keys in reverse order. */
    {"{\"hlc\":\"%s\",\"idem_key\":\"n2\",\"payload\":{\"reason\":\"r\"},"
     "\"signer\":\"op2\",\"transition\":\"CONTROL_PAUSE\"}",
     "{ \"transition\" :\t\"CONTROL_PAUSE\" ,\n \"signer\": \"op2\",\r\n"
     " \"payload\" : { \"reason\" : \"r\" } , \"idem_key\":\"n2\", "
     "\"hlc\" : \"%s\" }"},
    /* Only the key order differs. */
    {"{\"hlc\":\"%s\",\"idem_key\":\"n4\",\"signer\":\"op4\",\"transition\":"
     "\"CONTROL_RESUME\"}",
     "{\"signer\":\"op4\",\"idem_key\":\"n4\",\"transition\":"
     "\"CONTROL_RESUME\",\"hlc\":\"%s\"}"},
    /* A surrogate pair and an escaped quote in a stored value. */
    {"{\"hlc\":\"%s\",\"idem_key\":\"n3\",\"payload\":{\"license_id\":"
     "\"x\xf0\x9f\x98\x80\\\"y\"},\"signer\":\"op3\",\"transition\":"
     "\"LICENSE_GRANTED\"}",
     "{\"payload\":{\"license_id\":\"x\\ud83d\\ude00\\u0022y\"},"
     "\"idem_key\":\"n\\u0033\",\"signer\":\"op3\",\"transition\":"
     "\"LICENSE_GRANTED\",\"hlc\":\"%s\"}"},
};
#define NSPELL  (sizeof SPELLINGS / sizeof SPELLINGS[0])
#define RECV_MS 1700000000000ULL

/* Writes the non-canonical spellings as records 1..NSPELL of a new log in
 * `dir`, with the state hashes obtained by reducing the canonical spellings
 * from genesis (hashes[i] after record i+1). When bad_at is non-zero, that
 * record's hash (text and column) has its last hex digit changed. */
static void write_noncanonical_log(const char *dir, uint64_t bad_at,
                                   char hashes[NSPELL][65])
{
    swoosh_error err = {0};
    char gh[65];
    sw_state_t *s = sw_recovery_genesis(NULL, gh, &err);
    assert_non_null(s);
    sw_wal_t *w = sw_wal_open(dir, gh, NULL, &err);
    assert_non_null(w);
    for (size_t i = 0; i < NSPELL; i++) {
        sw_hlc_t h = {.p = RECV_MS + i, .l = 0, .node = 7};
        char hb[SW_HLC_STRLEN];
        sw_hlc_format(&h, hb);
        char canon[512], text[512];
        snprintf(canon, sizeof canon, SPELLINGS[i].canonical, hb);
        snprintf(text, sizeof text, SPELLINGS[i].non_canonical, hb);
        sw_proposal_t p;
        char msg[256];
        if (sw_proposal_parse(canon, strlen(canon), &p, msg) != SW_C_OK)
            fail_msg("parse %s: %s", canon, msg);
        sw_result_t res;
        sw_reduce(s, &p, &SW_GUARDS_ALL_OK, RECV_MS, &res);
        if (res.outcome != SW_OUT_APPLIED)
            fail_msg("reduce %s: %s", canon, res.msg);
        assert_int_equal(s->meta.index, i + 1);
        sw_state_hash(s, hashes[i]);
        char hash[65];
        memcpy(hash, hashes[i], 65);
        if (bad_at == i + 1)
            hash[63] = hash[63] == '0' ? '1' : '0';
        char hl[SW_HLC_STRLEN];
        sw_hlc_format(&s->meta.hlc_last, hl);
        sw_buf_t rec = {0};
        sw_wal_encode_record(&rec, i + 1, &SW_GUARDS_ALL_OK, SW_OUT_APPLIED,
                             text, strlen(text), RECV_MS, hash);
        sw_wal_record_t r = {.index = i + 1,
                             .idem_key = p.idem_key,
                             .transition = p.transition,
                             .signer = p.signer,
                             .received_at_ms = RECV_MS,
                             .state_hash = hash,
                             .hlc_last = hl,
                             .quarantined = s->control.quarantined,
                             .message = NULL,
                             .record = rec.data,
                             .record_len = rec.len};
        assert_int_equal(sw_wal_append_batch(w, &r, 1, &err), SWOOSH_OK);
        sw_buf_free(&rec);
        sw_proposal_destroy(&p);
    }
    /* The spellings must differ in value from one another's effects: each
     * record moves the hash. */
    for (size_t i = 1; i < NSPELL; i++)
        assert_string_not_equal(hashes[i], hashes[i - 1]);
    sw_wal_close(w);
    sw_state_free(s);
}

/* Records whose proposal text is valid but not canonical (escapes, key
 * order, whitespace) leave the fast parser for jansson and replay to the
 * hashes of their canonical spellings; a subtly wrong hash on such a record
 * is still refused, naming its index. */
static void test_noncanonical_records(void **state)
{
    fixture_t *f = *state;
    char hashes[NSPELL][65];
    snprintf(f->wal, sizeof f->wal, "%s/walN", f->dir);
    write_noncanonical_log(f->wal, 0, hashes);
    sw_recovered_t r;
    swoosh_error err = {0};
    assert_int_equal(recover(f, NULL, &r, &err), SWOOSH_OK);
    assert_int_equal(r.index, NSPELL);
    assert_int_equal(r.replayed, NSPELL);
    assert_string_equal(r.state_hash, hashes[NSPELL - 1]);
    /* The decoded escapes reached the state as UTF-8. */
    assert_string_equal(r.state->boot.license_id, "x\xf0\x9f\x98\x80\"y");
    sw_state_free(r.state);

    snprintf(f->wal, sizeof f->wal, "%s/walB", f->dir);
    write_noncanonical_log(f->wal, 3, hashes);
    memset(&err, 0, sizeof err);
    assert_int_equal(recover(f, NULL, &r, &err), SWOOSH_EDIVERGED);
    assert_non_null(strstr(err.msg, "record 3"));
    assert_non_null(strstr(err.msg, hashes[2]));
    assert_null(r.state);
}

/* Runs the swoosh binary; returns its exit status and output. */
static int run_cli(const char *args, char *out, size_t n)
{
    const char *bin = getenv("SWOOSH_BIN");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    return th_run(cmd, out, n);
}

/* `swoosh verify` passes a good log (exit 0) and names the bad record of a
 * tampered one (exit 3); `swoosh log` prints records as JSON lines. */
static void test_cli_verify_and_log(void **state)
{
    fixture_t *f = *state;
    if (!getenv("SWOOSH_BIN")) {
        printf("skipped: SWOOSH_BIN is not set (run through ctest)\n");
        skip();
        return;
    }
    char args[512], out[8192];
    snprintf(args, sizeof args, "verify --wal-dir %s --snapshot-dir %s", f->wal,
             f->snap);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "records:     12"));
    assert_non_null(strstr(out, f->hash[12]));
    assert_non_null(strstr(out, "ok"));

    snprintf(args, sizeof args, "log --wal-dir %s --from 11 --limit 5", f->wal);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    char *nl = strchr(out, '\n');
    assert_non_null(nl);
    assert_non_null(strchr(nl + 1, '\n'));
    assert_null(strchr(strchr(nl + 1, '\n') + 1, '\n'));
    assert_true(strncmp(out, "{\"guards\":", 10) == 0);
    assert_non_null(strstr(out, "\"index\":11"));
    assert_non_null(strstr(out, f->hash[12]));

    exec_sql(f, "UPDATE log SET record=replace(record, '\"signer\":\"op7\"', "
                "'\"signer\":\"evil\"') WHERE idx=7");
    snprintf(args, sizeof args, "verify --wal-dir %s --snapshot-dir %s", f->wal,
             f->snap);
    assert_int_equal(run_cli(args, out, sizeof out), 3);
    assert_non_null(strstr(out, "record 7"));

    /* A mistyped snapshot directory is named, not reported as 0 checked. */
    exec_sql(f, "UPDATE log SET record=replace(record, '\"signer\":\"evil\"', "
                "'\"signer\":\"op7\"') WHERE idx=7");
    snprintf(args, sizeof args, "verify --wal-dir %s --snapshot-dir %s/typo",
             f->wal, f->dir);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "typo is not a directory"));

    snprintf(args, sizeof args, "verify --wal-dir %s/none", f->dir);
    assert_int_equal(run_cli(args, out, sizeof out), 1);
    assert_int_equal(run_cli("verify --bogus", out, sizeof out), 2);
}

/* sw_recovery_check_snapshot agrees with the logged hash at every index and
 * with the genesis at index 0, and names each disagreement: another hash, no
 * record at the index, a snapshot 0 that is not the genesis; a log that
 * cannot be read is an error, not a verdict. */
static void test_check_snapshot(void **state)
{
    fixture_t *f = *state;
    char gh[65], msg[SW_SNAPCHECK_MSG], want[SW_SNAPCHECK_MSG];
    swoosh_error err = {0};
    sw_state_t *g = sw_recovery_genesis(NULL, gh, &err);
    assert_non_null(g);
    sw_wal_t *w = sw_wal_open(f->wal, gh, NULL, &err);
    assert_non_null(w);
    for (uint64_t i = 1; i <= f->n; i++) {
        strcpy(msg, "stale");
        assert_int_equal(
            sw_recovery_check_snapshot(w, i, f->hash[i], gh, msg, &err),
            SW_SNAPCHECK_AGREES);
        assert_string_equal(msg, "");
    }
    assert_int_equal(sw_recovery_check_snapshot(w, 0, gh, gh, msg, &err),
                     SW_SNAPCHECK_AGREES);

    assert_int_equal(
        sw_recovery_check_snapshot(w, 5, f->hash[4], gh, msg, &err),
        SW_SNAPCHECK_DIFFERS);
    snprintf(want, sizeof want, "snapshot 5 has hash %s, the log record has %s",
             f->hash[4], f->hash[5]);
    assert_string_equal(msg, want);
    assert_int_equal(
        sw_recovery_check_snapshot(w, 5, f->hash[4], gh, NULL, &err),
        SW_SNAPCHECK_DIFFERS);

    assert_int_equal(
        sw_recovery_check_snapshot(w, 13, f->hash[12], gh, msg, &err),
        SW_SNAPCHECK_AHEAD);
    assert_string_equal(msg, "snapshot 13 is ahead of the log (no record 13)");

    assert_int_equal(
        sw_recovery_check_snapshot(w, 0, f->hash[1], gh, msg, &err),
        SW_SNAPCHECK_NOT_GENESIS);
    assert_string_equal(msg, "snapshot 0 is not the genesis");

    /* With the log's table gone the record cannot be read at all. */
    exec_sql(f, "ALTER TABLE log RENAME TO log_moved");
    memset(&err, 0, sizeof err);
    assert_int_equal(
        sw_recovery_check_snapshot(w, 5, f->hash[5], gh, msg, &err),
        SW_SNAPCHECK_LOG_ERROR);
    assert_int_not_equal(err.code, SWOOSH_OK);
    exec_sql(f, "ALTER TABLE log_moved RENAME TO log");
    sw_wal_close(w);
    sw_state_free(g);
}

/* Writes a self-consistent snapshot 0 of a state that is not the built-in
 * genesis, claiming the built-in genesis. */
static void write_false_genesis_snapshot(fixture_t *f)
{
    char gh[65], h[65];
    sw_state_t *g = sw_state_new_genesis();
    sw_state_hash(g, gh);
    sw_str_set(&g->boot.license_id, "custom");
    sw_state_touch(g, SW_SEC_BOOT);
    sw_state_hash(g, h);
    size_t len;
    const char *txt = sw_state_canonical(g, &len);
    sw_buf_t b = SW_BUF_INIT;
    sw_snapshot_serialize(&b, 0, h, gh, txt, len);
    swoosh_error err = {0};
    assert_int_equal(sw_snapshot_write(f->snap, 0, b.data, b.len, 10, &err),
                     SWOOSH_OK);
    sw_buf_free(&b);
    sw_state_free(g);
}

/* Start-up recovery judges a snapshot 0 like verify does: one that is not
 * the genesis is skipped (replaying the log onto it would diverge at record
 * 1), and the state is rebuilt from the genesis. */
static void test_false_genesis_snapshot_skipped(void **state)
{
    fixture_t *f = *state;
    uint64_t keep[] = {5, 10, 12};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        char p[512];
        snap_path(f, keep[i], p);
        assert_int_equal(unlink(p), 0);
    }
    write_false_genesis_snapshot(f);
    sw_recovered_t r;
    swoosh_error err = {0};
    assert_int_equal(recover(f, f->snap, &r, &err), SWOOSH_OK);
    assert_int_equal(r.snapshots_skipped, 1);
    assert_int_equal(r.snapshot_index, 0);
    assert_int_equal(r.replayed, 12);
    assert_string_equal(r.state_hash, f->hash[12]);
    sw_state_free(r.state);
}

/* `swoosh verify` judges snapshots after a good replay: a snapshot 0 that is
 * not the genesis and a snapshot ahead of the log exit 3 naming the
 * snapshot, an unreadable snapshot alone exits 1; the figures are printed
 * in every case. */
static void test_cli_verify_snapshot_verdicts(void **state)
{
    fixture_t *f = *state;
    if (!getenv("SWOOSH_BIN")) {
        printf("skipped: SWOOSH_BIN is not set (run through ctest)\n");
        skip();
        return;
    }
    char args[512], out[8192], p[512];
    snprintf(args, sizeof args, "verify --wal-dir %s --snapshot-dir %s", f->wal,
             f->snap);

    write_false_genesis_snapshot(f);
    assert_int_equal(run_cli(args, out, sizeof out), 3);
    assert_non_null(strstr(
        out, "swoosh verify: DIVERGED: snapshot 0 is not the genesis\n"));
    assert_non_null(strstr(out, "snapshots:   4 checked, 0 unreadable\n"));
    assert_null(strstr(out, "\nok\n"));
    snap_path(f, 0, p);
    assert_int_equal(unlink(p), 0);

    snap_path(f, 5, p);
    write_file(p, "{\"format\":\"swoosh-sn", 20);
    assert_int_equal(run_cli(args, out, sizeof out), 1);
    assert_non_null(strstr(out, "swoosh verify: snapshot 5: "));
    assert_non_null(strstr(out, "snapshots:   3 checked, 1 unreadable\n"));
    assert_non_null(strstr(out, "swoosh verify: the log verifies but 1 "
                                "snapshot(s) are unreadable"));
    assert_null(strstr(out, "DIVERGED"));

    /* Divergence outranks an unreadable snapshot. */
    exec_sql(f, "DELETE FROM log WHERE idx>=11");
    assert_int_equal(run_cli(args, out, sizeof out), 3);
    assert_non_null(strstr(out, "swoosh verify: DIVERGED: snapshot 12 is "
                                "ahead of the log (no record 12)\n"));
    assert_non_null(strstr(out, "records:     10\n"));
    assert_null(strstr(out, "the log verifies but"));
}

/* Keeps committing (pause/resume pairs with fresh keys) until told to stop. */
typedef struct writer {
    sw_executor_t *ex;
    atomic_bool stop;
    unsigned n;
} writer_t;

static void *writer_main(void *arg)
{
    writer_t *w = arg;
    while (!atomic_load(&w->stop)) {
        char json[160];
        snprintf(json, sizeof json,
                 "{\"transition\":\"%s\",\"signer\":\"w\","
                 "\"idem_key\":\"w%u\"}",
                 w->n % 2 ? "CONTROL_RESUME" : "CONTROL_PAUSE", w->n);
        char hash[65];
        submit_ok(w->ex, json, hash);
        w->n++;
    }
    return NULL;
}

/* `swoosh verify` beside an executor that keeps committing and writing
 * snapshots (every 10 records) verifies the log as it was when it opened
 * it: exit 0 every time, never a false DIVERGED for records or snapshots
 * that arrived during the replay. */
static void test_cli_verify_while_writing(void **state)
{
    fixture_t *f = *state;
    if (!getenv("SWOOSH_BIN")) {
        printf("skipped: SWOOSH_BIN is not set (run through ctest)\n");
        skip();
        return;
    }
    swoosh_error err = {0};
    writer_t w = {.n = 0};
    atomic_init(&w.stop, false);
    w.ex = open_ex(f, NULL, 10, &err);
    assert_non_null(w.ex);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
    char args[512], out[8192];
    snprintf(args, sizeof args, "verify --wal-dir %s --snapshot-dir %s", f->wal,
             f->snap);
    for (int i = 0; i < 8; i++) {
        int rc = run_cli(args, out, sizeof out);
        if (rc != 0)
            print_error("%s", out);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(out, "ok"));
    }
    atomic_store(&w.stop, true);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(w.n > 0);
    assert_int_equal(sw_executor_close(w.ex, &err), SWOOSH_OK);
}

int main(void)
{
    sw_log_set_level(SW_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_from_genesis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_newest_snapshot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tmp_leftover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_disagrees_with_log, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tampered_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcome_differs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_ahead_of_log, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_other_genesis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_genesis_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_log_pipelined, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_noncanonical_records, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cli_verify_while_writing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cli_verify_and_log, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_check_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_false_genesis_snapshot_skipped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_verify_snapshot_verdicts,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
