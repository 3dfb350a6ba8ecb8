// LABEL: unit
/* test_executor: batches, idempotency, preconditions, HLC stamping, group
 * commit, rollback on a failed commit, views and snapshots (SPEC §1.3, §2,
 * §4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "canon.h"
#include "executor.h"
#include "fsio.h"
#include "proposal.h"
#include "snapshot.h"
#include "wal.h"
#include "tmpdir.h"

#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW 1700000000000ULL

typedef struct fixture {
    char dir[64];
    char wal[128], snap[128];
    /* Gate: while `hold` is set, the executor blocks in its clock call at
     * the start of a batch, so a test can queue a whole batch behind it. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool hold, inside;
    unsigned calls;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_int_equal(th_tmpdir_make(f->dir, sizeof f->dir, "exec"), 0);
    snprintf(f->wal, sizeof f->wal, "%s/wal", f->dir);
    snprintf(f->snap, sizeof f->snap, "%s/snap", f->dir);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    sw_fsio_reset_for_tests();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    th_rm_tree(f->dir);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
    return 0;
}

static uint64_t gated_clock(void *arg)
{
    fixture_t *f = arg;
    pthread_mutex_lock(&f->mu);
    f->calls++;
    f->inside = true;
    pthread_cond_broadcast(&f->cv);
    while (f->hold)
        pthread_cond_wait(&f->cv, &f->mu);
    f->inside = false;
    pthread_mutex_unlock(&f->mu);
    return NOW;
}

static void gate_close(fixture_t *f)
{
    pthread_mutex_lock(&f->mu);
    f->hold = true;
    pthread_mutex_unlock(&f->mu);
}

static void gate_wait_inside(fixture_t *f)
{
    pthread_mutex_lock(&f->mu);
    while (!f->inside)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

static void gate_open(fixture_t *f)
{
    pthread_mutex_lock(&f->mu);
    f->hold = false;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static sw_executor_t *open_ex(fixture_t *f, sw_wal_t *wal,
                              uint64_t snapshot_every, swoosh_error *err)
{
    sw_exec_config_t c;
    sw_exec_config_defaults(&c);
    c.wal_dir = f->wal;
    c.snapshot_dir = f->snap;
    c.snapshot_every = snapshot_every;
    c.node_id = 0xabc;
    c.now_ms = gated_clock;
    c.now_arg = f;
    c.wal = wal;
    return sw_executor_open(&c, err);
}

/* A configuration with the fixture's directories and gated clock and the
 * given queue bound and full-queue behaviour. */
static void queue_config(fixture_t *f, unsigned queue_max, bool block,
                         sw_exec_config_t *c)
{
    sw_exec_config_defaults(c);
    c->wal_dir = f->wal;
    c->snapshot_dir = f->snap;
    c->queue_max = queue_max;
    c->block_when_full = block;
    c->now_ms = gated_clock;
    c->now_arg = f;
}

static void parse(const char *json, sw_proposal_t *p)
{
    char msg[256];
    sw_code_t c = sw_proposal_parse(json, strlen(json), p, msg);
    if (c != SW_C_OK)
        fail_msg("parse %s: %s", json, msg);
}

static void submit(sw_executor_t *ex, const char *json, const sw_guards_t *g,
                   sw_reply_t *r)
{
    sw_proposal_t p;
    parse(json, &p);
    sw_code_t c = sw_executor_submit_wait(ex, &p, g ? g : &SW_GUARDS_ALL_OK, r);
    assert_int_equal(c, SW_C_OK);
}

typedef struct async {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    sw_reply_t r[16];
} async_t;

typedef struct slot {
    async_t *a;
    int i;
} slot_t;

static void on_done(void *arg, const sw_reply_t *r)
{
    slot_t *s = arg;
    pthread_mutex_lock(&s->a->mu);
    s->a->r[s->i] = *r;
    s->a->done++;
    pthread_cond_broadcast(&s->a->cv);
    pthread_mutex_unlock(&s->a->mu);
}

static void submit_async(sw_executor_t *ex, const char *json, slot_t *s)
{
    sw_proposal_t p;
    parse(json, &p);
    assert_int_equal(sw_executor_submit(ex, &p, &SW_GUARDS_ALL_OK, on_done, s),
                     SW_C_OK);
}

static void wait_async(async_t *a, int n)
{
    pthread_mutex_lock(&a->mu);
    while (a->done < n)
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
}

#define LIC(key, lid)                                                          \
    "{\"transition\":\"LICENSE_GRANTED\",\"signer\":\"op\",\"idem_key\":"      \
    "\"" key "\",\"payload\":{\"license_id\":\"" lid "\"}}"

static uint64_t count_records(sw_wal_t *w)
{
    return sw_wal_last_index(w);
}

/* The projection in a view hashes to the view's state_hash, and the GET
 * /state body carries the same projection. */
static void check_view(sw_executor_t *ex)
{
    sw_view_t *v = sw_executor_view(ex);
    json_error_t je;
    json_t *proj = json_loadb(v->projection, v->projection_len, 0, &je);
    assert_non_null(proj);
    char h[65];
    assert_true(sw_canon_hash(proj, h));
    assert_string_equal(h, v->state_hash);
    json_t *body = json_loadb(v->state_body, v->state_body_len, 0, &je);
    assert_non_null(body);
    assert_true(json_equal(json_object_get(body, "projection"), proj));
    assert_string_equal(json_string_value(json_object_get(body, "state_hash")),
                        v->state_hash);
    assert_int_equal(json_integer_value(json_object_get(body, "index")),
                     v->index);
    sw_buf_t b = SW_BUF_INIT;
    assert_true(sw_canon_json(&b, body));
    assert_int_equal(b.len, v->state_body_len);
    assert_memory_equal(b.data, v->state_body, b.len);
    sw_buf_free(&b);
    /* Section offsets point at each section's value. */
    json_t *boot = json_loadb(v->projection + v->sec_off[SW_SEC_BOOT],
                              v->sec_len[SW_SEC_BOOT], 0, &je);
    assert_true(json_equal(boot, json_object_get(proj, "Boot")));
    json_decref(boot);
    json_decref(body);
    json_decref(proj);
    sw_view_release(v);
}

/* A fresh executor serves genesis at index 0 with a consistent view. */
static void test_open_genesis(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_executor_t *ex = open_ex(f, NULL, 0, &err);
    assert_non_null(ex);
    sw_view_t *v = sw_executor_view(ex);
    assert_int_equal(v->index, 0);
    assert_string_equal(v->state_hash, sw_executor_genesis_hash(ex));
    assert_string_equal(v->hlc_last, "0-0-0000000000000000");
    assert_false(v->licensed);
    sw_view_release(v);
    check_view(ex);
    assert_true(sw_executor_storage_ok(ex));
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
}

/* One batch of mixed proposals: applied, rejected, in-batch duplicate,
 * in-batch conflict, precondition mismatch; one commit for all, answers in
 * order, and log duplicates after the batch. */
static void test_mixed_batch(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_executor_t *ex = open_ex(f, NULL, 0, &err);
    assert_non_null(ex);

    async_t a = {.done = 0};
    pthread_mutex_init(&a.mu, NULL);
    pthread_cond_init(&a.cv, NULL);
    slot_t s[8];
    for (int i = 0; i < 8; i++)
        s[i] = (slot_t){&a, i};

    gate_close(f);
    submit_async(ex, LIC("k0", "L0"), &s[0]);
    gate_wait_inside(f); /* batch 1 = {k0}, held at its start */
    submit_async(ex, LIC("k1", "L1"), &s[1]);
    submit_async(ex,
                 "{\"transition\":\"INGESTION_FETCHED\",\"signer\":\"op\","
                 "\"idem_key\":\"k2\",\"payload\":{\"content_hash\":\"c\"}}",
                 &s[2]);
    submit_async(ex, LIC("k1", "L1"), &s[3]);
    submit_async(ex, LIC("k1", "OTHER"), &s[4]);
    submit_async(ex,
                 "{\"transition\":\"CONTROL_PAUSE\",\"signer\":\"op\","
                 "\"idem_key\":\"k5\",\"current_state_hash\":\"genesis\"}",
                 &s[5]);
    submit_async(ex,
                 "{\"transition\":\"CONTROL_PAUSE\",\"signer\":\"op\","
                 "\"idem_key\":\"k6\"}",
                 &s[6]);
    gate_open(f);
    wait_async(&a, 7);

    sw_exec_stats_t st;
    sw_executor_stats(ex, &st);
    assert_int_equal(st.batches, 2);
    assert_int_equal(st.batch_size_sum, 7);
    assert_int_equal(st.commits, 2);

    assert_int_equal(a.r[0].code, SW_C_OK);
    assert_int_equal(a.r[0].index, 1);
    assert_int_equal(a.r[1].code, SW_C_OK);
    assert_int_equal(a.r[1].outcome, SW_OUT_APPLIED);
    assert_int_equal(a.r[1].index, 2);
    assert_false(a.r[1].duplicate);
    /* Stamped HLCs: same ms, logical counter increments per record. */
    assert_string_equal(a.r[0].hlc_last, "1700000000000-0-0000000000000abc");
    assert_string_equal(a.r[1].hlc_last, "1700000000000-1-0000000000000abc");
    assert_int_equal(a.r[2].code, SW_C_INVALID_PHASE);
    assert_int_equal(a.r[2].outcome, SW_OUT_REJECTED);
    assert_int_equal(a.r[2].index, 2);
    assert_string_equal(a.r[2].state_hash, a.r[1].state_hash);
    assert_int_equal(a.r[3].code, SW_C_OK);
    assert_true(a.r[3].duplicate);
    assert_int_equal(a.r[3].index, 2);
    assert_string_equal(a.r[3].state_hash, a.r[1].state_hash);
    assert_string_equal(a.r[3].hlc_last, a.r[1].hlc_last);
    assert_int_equal(a.r[4].code, SW_C_IDEMPOTENCY_CONFLICT);
    assert_int_equal(a.r[5].code, SW_C_STATE_HASH_MISMATCH);
    assert_int_equal(a.r[5].index, 2);
    assert_int_equal(a.r[6].code, SW_C_OK);
    assert_int_equal(a.r[6].index, 3);
    assert_string_equal(a.r[6].hlc_last, "1700000000000-2-0000000000000abc");
    assert_int_equal(count_records(sw_executor_wal(ex)), 3);

    sw_executor_stats(ex, &st);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(st.rejections_by_code[SW_C_INVALID_PHASE], 1);
    assert_int_equal(st.rejections_by_code[SW_C_IDEMPOTENCY_CONFLICT], 1);
    assert_int_equal(st.rejections_by_code[SW_C_STATE_HASH_MISMATCH], 1);
    assert_int_equal(st.index, 3);

    /* Duplicates from the log repeat the original answer. */
    sw_reply_t r;
    submit(ex, LIC("k1", "L1"), NULL, &r);
    assert_int_equal(r.code, SW_C_OK);
    assert_true(r.duplicate);
    assert_int_equal(r.index, 2);
    assert_string_equal(r.state_hash, a.r[1].state_hash);
    assert_string_equal(r.hlc_last, a.r[1].hlc_last);
    submit(ex, LIC("k1", "L9"), NULL, &r);
    assert_int_equal(r.code, SW_C_IDEMPOTENCY_CONFLICT);
    assert_int_equal(r.index, 3);
    /* A rejected key stays free for a corrected retry. */
    submit(ex,
           "{\"transition\":\"CONTROL_RESUME\",\"signer\":\"op\","
           "\"idem_key\":\"k5\"}",
           NULL, &r);
    assert_int_equal(r.code, SW_C_OK);
    assert_int_equal(r.index, 4);
    check_view(ex);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
    pthread_mutex_destroy(&a.mu);
    pthread_cond_destroy(&a.cv);
}

/* A policy violation is logged as a quarantine, answered POLICY_VIOLATION,
 * and its duplicate repeats code and message. */
static void test_quarantine_logged(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_executor_t *ex = open_ex(f, NULL, 0, &err);
    assert_non_null(ex);
    sw_guards_t g = SW_GUARDS_ALL_OK;
    g.policy_ok = false;
    sw_reply_t r, d;
    submit(ex, LIC("q1", "L"), &g, &r);
    assert_int_equal(r.code, SW_C_POLICY_VIOLATION);
    assert_int_equal(r.outcome, SW_OUT_QUARANTINED);
    assert_true(r.quarantined);
    assert_int_equal(r.index, 1);
    submit(ex, LIC("q1", "L"), &g, &d);
    assert_true(d.duplicate);
    assert_int_equal(d.code, SW_C_POLICY_VIOLATION);
    assert_int_equal(d.outcome, SW_OUT_QUARANTINED);
    assert_true(d.quarantined);
    assert_string_equal(d.msg, r.msg);
    assert_string_equal(d.state_hash, r.state_hash);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
}

/* An injected commit failure discards the batch: state, view and log stay at
 * the last commit, storage is failed (sticky), and a reopen serves exactly
 * the last committed state. */
static void test_rollback_on_commit_failure(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_wal_t *inner = sw_wal_open(f->wal, NULL, NULL, &err);
    assert_null(inner); /* a new log needs the genesis hash */
    sw_executor_t *probe = open_ex(f, NULL, 0, &err);
    assert_non_null(probe);
    assert_int_equal(sw_executor_close(probe, &err), SWOOSH_OK);

    inner = sw_wal_open(f->wal, NULL, NULL, &err);
    assert_non_null(inner);
    sw_wal_fault_t fault;
    memset(&fault, 0, sizeof fault);
    atomic_store(&fault.fail_append_at, 3);
    sw_executor_t *ex = open_ex(f, sw_wal_fault_new(inner, &fault), 0, &err);
    assert_non_null(ex);
    sw_reply_t r;
    submit(ex, LIC("a", "L1"), NULL, &r);
    assert_int_equal(r.code, SW_C_OK);
    submit(ex, LIC("b", "L2"), NULL, &r);
    assert_int_equal(r.code, SW_C_OK);
    sw_view_t *before = sw_executor_view(ex);
    assert_int_equal(before->index, 2);

    submit(ex, LIC("c", "L3"), NULL, &r);
    assert_int_equal(r.code, SW_C_STORAGE_UNAVAILABLE);
    assert_int_equal(r.index, 2);
    assert_string_equal(r.state_hash, before->state_hash);
    assert_false(sw_executor_storage_ok(ex));
    sw_view_t *after = sw_executor_view(ex);
    assert_int_equal(after->index, 2);
    assert_string_equal(after->state_hash, before->state_hash);
    assert_string_equal(after->projection, before->projection);
    sw_view_release(after);
    assert_int_equal(sw_wal_last_index(sw_executor_wal(ex)), 2);

    /* Later submissions are refused up front. */
    sw_proposal_t p;
    parse(LIC("d", "L4"), &p);
    assert_int_equal(sw_executor_submit_wait(ex, &p, &SW_GUARDS_ALL_OK, &r),
                     SW_C_STORAGE_UNAVAILABLE);
    sw_proposal_destroy(&p);
    /* Closing says the run's storage failed (the exit status of serve). */
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_ESTORAGE);
    assert_non_null(strstr(err.msg, "storage failed during the run"));

    ex = open_ex(f, NULL, 0, &err);
    assert_non_null(ex);
    sw_view_t *v = sw_executor_view(ex);
    assert_int_equal(v->index, 2);
    assert_string_equal(v->state_hash, before->state_hash);
    assert_string_equal(v->projection, before->projection);
    sw_view_release(v);
    /* The failed key was never logged, so it is free. */
    submit(ex, LIC("c", "L3"), NULL, &r);
    assert_int_equal(r.code, SW_C_OK);
    assert_false(r.duplicate);
    assert_int_equal(r.index, 3);
    sw_view_release(before);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
}

/* An executor on a log (created first, then reopened) behind the
 * fault-injecting wrapper, with every fault off in *fault. */
static sw_executor_t *open_faulty(fixture_t *f, sw_wal_fault_t *fault)
{
    swoosh_error err = {0};
    sw_executor_t *probe = open_ex(f, NULL, 0, &err);
    assert_non_null(probe);
    assert_int_equal(sw_executor_close(probe, &err), SWOOSH_OK);
    sw_wal_t *inner = sw_wal_open(f->wal, NULL, NULL, &err);
    assert_non_null(inner);
    memset(fault, 0, sizeof *fault);
    sw_executor_t *ex = open_ex(f, sw_wal_fault_new(inner, fault), 0, &err);
    assert_non_null(ex);
    return ex;
}

/* A log that fails outside a commit (a checkpoint whose sync failed) fails
 * storage at once: /health's flag drops, and the next batch is answered 503
 * without another append, at the last committed index. */
static void test_log_failed_outside_commit(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_wal_fault_t fault;
    sw_executor_t *ex = open_faulty(f, &fault);
    sw_reply_t r;
    submit(ex, LIC("a", "L1"), NULL, &r);
    assert_int_equal(r.code, SW_C_OK);
    assert_true(sw_executor_storage_ok(ex));

    atomic_store(&fault.unhealthy, true);
    assert_false(sw_executor_storage_ok(ex));
    unsigned long appends = atomic_load(&fault.appends);
    submit(ex, LIC("b", "L2"), NULL, &r);
    assert_int_equal(r.code, SW_C_STORAGE_UNAVAILABLE);
    assert_int_equal(r.index, 1);
    assert_int_equal(atomic_load(&fault.appends), appends);
    assert_int_equal(sw_wal_last_index(sw_executor_wal(ex)), 1);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_ESTORAGE);
}

/* A commit that hangs (a frozen file system) shows as the age of the commit
 * in flight in the stats, which grows until the commit returns and is 0
 * otherwise; the waiter is answered once it returns. */
static void test_commit_in_progress_age(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_wal_fault_t fault;
    sw_executor_t *ex = open_faulty(f, &fault);
    sw_exec_stats_t st;
    sw_executor_stats(ex, &st);
    assert_true(st.commit_in_progress_seconds == 0.0);

    atomic_store(&fault.hold_appends, true);
    async_t a = {.mu = PTHREAD_MUTEX_INITIALIZER,
                 .cv = PTHREAD_COND_INITIALIZER};
    slot_t s = {&a, 0};
    submit_async(ex, LIC("held", "L1"), &s);
    while (atomic_load(&fault.appends) == 0) /* the commit has begun */
        sched_yield();
    sw_executor_stats(ex, &st);
    double first = st.commit_in_progress_seconds;
    assert_true(first > 0.0);
    do { /* the age is read from the clock, not frozen at the first read */
        sched_yield();
        sw_executor_stats(ex, &st);
    } while (st.commit_in_progress_seconds <= first);
    pthread_mutex_lock(&a.mu);
    assert_int_equal(a.done, 0);
    pthread_mutex_unlock(&a.mu);

    atomic_store(&fault.hold_appends, false);
    wait_async(&a, 1);
    assert_int_equal(a.r[0].code, SW_C_OK);
    sw_executor_stats(ex, &st);
    assert_true(st.commit_in_progress_seconds == 0.0);
    assert_int_equal(st.commits, 1);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
}

/* Duplicates are recognised after a restart, with the original answer. */
static void test_duplicate_after_restart(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_executor_t *ex = open_ex(f, NULL, 0, &err);
    sw_reply_t r1, r2;
    submit(ex, LIC("x", "L1"), NULL, &r1);
    submit(ex,
           "{\"transition\":\"CONTROL_PAUSE\",\"signer\":\"op\","
           "\"idem_key\":\"y\"}",
           NULL, &r2);
    assert_int_equal(r2.index, 2);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
    ex = open_ex(f, NULL, 0, &err);
    assert_non_null(ex);
    sw_reply_t d;
    submit(ex, LIC("x", "L1"), NULL, &d);
    assert_true(d.duplicate);
    assert_int_equal(d.code, SW_C_OK);
    assert_int_equal(d.index, 1);
    assert_string_equal(d.state_hash, r1.state_hash);
    assert_string_equal(d.hlc_last, r1.hlc_last);
    assert_int_equal(d.quarantined, r1.quarantined);
    sw_view_t *v = sw_executor_view(ex);
    assert_int_equal(v->index, 2);
    sw_view_release(v);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
}

/* A proposal's own HLC is logged as given; HLCLast keeps the max. */
static void test_client_hlc(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_executor_t *ex = open_ex(f, NULL, 0, &err);
    sw_reply_t r;
    submit(ex,
           "{\"transition\":\"CONTROL_PAUSE\",\"signer\":\"op\","
           "\"idem_key\":\"h1\",\"hlc\":\"5-7-0000000000000001\"}",
           NULL, &r);
    assert_int_equal(r.code, SW_C_OK);
    assert_string_equal(r.hlc_last, "5-7-0000000000000001");
    submit(ex,
           "{\"transition\":\"CONTROL_RESUME\",\"signer\":\"op\","
           "\"idem_key\":\"h2\",\"hlc\":\"3-0-0000000000000001\"}",
           NULL, &r);
    assert_int_equal(r.code, SW_C_OK);
    assert_string_equal(r.hlc_last, "5-7-0000000000000001");
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
}

/* A full queue answers OVERLOADED when configured not to block. */
static void test_overloaded(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_exec_config_t c;
    queue_config(f, 1, false, &c);
    sw_executor_t *ex = sw_executor_open(&c, &err);
    assert_non_null(ex);
    async_t a = {.done = 0};
    pthread_mutex_init(&a.mu, NULL);
    pthread_cond_init(&a.cv, NULL);
    slot_t s[2] = {{&a, 0}, {&a, 1}};
    gate_close(f);
    submit_async(ex, LIC("o1", "L"), &s[0]);
    gate_wait_inside(f);
    submit_async(ex, LIC("o2", "L"), &s[1]);
    sw_proposal_t p;
    parse(LIC("o3", "L"), &p);
    assert_int_equal(
        sw_executor_submit(ex, &p, &SW_GUARDS_ALL_OK, on_done, &s[1]),
        SW_C_OVERLOADED);
    sw_proposal_destroy(&p);
    gate_open(f);
    wait_async(&a, 2);
    assert_int_equal(a.r[1].index, 2);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
    pthread_mutex_destroy(&a.mu);
    pthread_cond_destroy(&a.cv);
}

enum { LOOP_CHAINS = 4, LOOP_PER = 50, LOOP_N = LOOP_CHAINS * LOOP_PER };

typedef struct loop loop_t;

/* One closed-loop client: submits its next proposal from the completion of
 * the previous one. */
typedef struct chain {
    loop_t *l;
    int k;    /* client number */
    int sent; /* proposals submitted so far */
} chain_t;

struct loop {
    sw_executor_t *ex;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, bad, submit_failed;
    unsigned char by_index[LOOP_N + 1];          /* replies per index */
    unsigned char by_key[LOOP_CHAINS][LOOP_PER]; /* replies per proposal */
    unsigned char logged[LOOP_CHAINS][LOOP_PER]; /* records per idem key */
    uint64_t records;
    chain_t ch[LOOP_CHAINS];
};

static void loop_done(void *arg, const sw_reply_t *r);

/* Submits chain c's next proposal; returns the submit code. Runs on the
 * test thread for the first and on the executor thread afterwards, so it
 * reports failures instead of asserting. */
static sw_code_t loop_submit(chain_t *c)
{
    char json[200];
    snprintf(json, sizeof json,
             "{\"transition\":\"LICENSE_GRANTED\",\"signer\":\"op\","
             "\"idem_key\":\"c%d-%d\",\"payload\":{\"license_id\":\"l%d-%d\"}}",
             c->k, c->sent, c->k, c->sent);
    sw_proposal_t p;
    char msg[256];
    if (sw_proposal_parse(json, strlen(json), &p, msg) != SW_C_OK)
        return SW_C_BAD_PAYLOAD;
    c->sent++;
    sw_code_t rc =
        sw_executor_submit(c->l->ex, &p, &SW_GUARDS_ALL_OK, loop_done, c);
    if (rc != SW_C_OK)
        sw_proposal_destroy(&p);
    return rc;
}

static void loop_done(void *arg, const sw_reply_t *r)
{
    chain_t *c = arg;
    loop_t *l = c->l;
    pthread_mutex_lock(&l->mu);
    if (r->code != SW_C_OK || r->duplicate || r->index < 1 || r->index > LOOP_N)
        l->bad++;
    else
        l->by_index[r->index]++;
    l->by_key[c->k][c->sent - 1]++;
    l->done++;
    pthread_mutex_unlock(&l->mu);
    if (c->sent < LOOP_PER && loop_submit(c) != SW_C_OK) {
        pthread_mutex_lock(&l->mu);
        l->submit_failed++;
        pthread_mutex_unlock(&l->mu);
    }
    pthread_mutex_lock(&l->mu);
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static int loop_count_record(void *arg, const sw_wal_record_t *r)
{
    loop_t *l = arg;
    int k, j;
    l->records++;
    if (sscanf(r->idem_key, "c%d-%d", &k, &j) == 2 && k >= 0 &&
        k < LOOP_CHAINS && j >= 0 && j < LOOP_PER)
        l->logged[k][j]++;
    return 0;
}

/* Completion callbacks that submit the next proposal drive closed loops of
 * clients to the end: every proposal is applied and logged exactly once and
 * the final index is the number of proposals. */
static void test_closed_loop_from_callbacks(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_exec_config_t c;
    /* At most one proposal per client is outstanding, so the queue never
     * fills and every submit from a callback must be accepted. */
    queue_config(f, LOOP_CHAINS, true, &c);
    loop_t *l = calloc(1, sizeof *l);
    assert_non_null(l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->ex = sw_executor_open(&c, &err);
    assert_non_null(l->ex);
    for (int k = 0; k < LOOP_CHAINS; k++) {
        l->ch[k] = (chain_t){.l = l, .k = k, .sent = 0};
        assert_int_equal(loop_submit(&l->ch[k]), SW_C_OK);
    }
    pthread_mutex_lock(&l->mu);
    while (l->done < LOOP_N && l->submit_failed == 0)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    assert_int_equal(l->submit_failed, 0);
    assert_int_equal(l->done, LOOP_N);
    assert_int_equal(l->bad, 0);
    for (int i = 1; i <= LOOP_N; i++)
        assert_int_equal(l->by_index[i], 1);
    for (int k = 0; k < LOOP_CHAINS; k++) {
        assert_int_equal(l->ch[k].sent, LOOP_PER);
        for (int j = 0; j < LOOP_PER; j++)
            assert_int_equal(l->by_key[k][j], 1);
    }
    sw_view_t *v = sw_executor_view(l->ex);
    assert_int_equal(v->index, LOOP_N);
    sw_view_release(v);
    sw_wal_t *w = sw_executor_wal(l->ex);
    assert_int_equal(sw_wal_last_index(w), LOOP_N);
    assert_int_equal(sw_wal_read_from(w, 1, 0, loop_count_record, l, &err),
                     SWOOSH_OK);
    assert_int_equal(l->records, LOOP_N);
    for (int k = 0; k < LOOP_CHAINS; k++)
        for (int j = 0; j < LOOP_PER; j++)
            assert_int_equal(l->logged[k][j], 1);
    assert_int_equal(sw_executor_close(l->ex, &err), SWOOSH_OK);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

typedef struct resubmit {
    sw_executor_t *ex;
    slot_t *spare; /* completion target if the resubmit were accepted */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool called;
    sw_code_t first_code, rc;
} resubmit_t;

static void resubmit_done(void *arg, const sw_reply_t *r)
{
    resubmit_t *rs = arg;
    char msg[256];
    sw_proposal_t p;
    sw_code_t rc = SW_C_BAD_PAYLOAD;
    const char *j = LIC("q3", "L3");
    if (sw_proposal_parse(j, strlen(j), &p, msg) == SW_C_OK) {
        rc = sw_executor_submit(rs->ex, &p, &SW_GUARDS_ALL_OK, on_done,
                                rs->spare);
        if (rc != SW_C_OK)
            sw_proposal_destroy(&p);
    }
    pthread_mutex_lock(&rs->mu);
    rs->called = true;
    rs->first_code = r->code;
    rs->rc = rc;
    pthread_cond_broadcast(&rs->cv);
    pthread_mutex_unlock(&rs->mu);
}

/* A submit from a completion callback into a full queue answers OVERLOADED
 * at once, even with block_when_full, instead of waiting for the executor
 * thread it runs on. */
static void test_callback_submit_overloaded(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_exec_config_t c;
    queue_config(f, 1, true, &c);
    resubmit_t rs = {.called = false};
    pthread_mutex_init(&rs.mu, NULL);
    pthread_cond_init(&rs.cv, NULL);
    rs.ex = sw_executor_open(&c, &err);
    assert_non_null(rs.ex);
    async_t a = {.done = 0};
    pthread_mutex_init(&a.mu, NULL);
    pthread_cond_init(&a.cv, NULL);
    slot_t s = {&a, 0}, spare = {&a, 1};
    rs.spare = &spare;
    /* q1 is taken into a batch and held; q2 then fills the queue, so q1's
     * callback finds it full. */
    gate_close(f);
    sw_proposal_t p;
    parse(LIC("q1", "L1"), &p);
    assert_int_equal(
        sw_executor_submit(rs.ex, &p, &SW_GUARDS_ALL_OK, resubmit_done, &rs),
        SW_C_OK);
    gate_wait_inside(f);
    submit_async(rs.ex, LIC("q2", "L2"), &s);
    gate_open(f);
    pthread_mutex_lock(&rs.mu);
    while (!rs.called)
        pthread_cond_wait(&rs.cv, &rs.mu);
    pthread_mutex_unlock(&rs.mu);
    assert_int_equal(rs.first_code, SW_C_OK);
    assert_int_equal(rs.rc, SW_C_OVERLOADED);
    wait_async(&a, 1);
    assert_int_equal(a.r[0].code, SW_C_OK);
    assert_int_equal(a.r[0].index, 2);
    assert_int_equal(sw_wal_last_index(sw_executor_wal(rs.ex)), 2);
    assert_int_equal(sw_executor_close(rs.ex, &err), SWOOSH_OK);
    pthread_mutex_destroy(&a.mu);
    pthread_cond_destroy(&a.cv);
    pthread_mutex_destroy(&rs.mu);
    pthread_cond_destroy(&rs.cv);
}

/* Snapshots are written every N records and at close; at most the newest 3
 * are kept and each matches the state hash acknowledged at its index. The
 * snapshot thread replaces a pending snapshot by a newer one, so which
 * multiples of N reach the disk (and so how many files there are) depends
 * on timing; the one written at close is always there. Retention itself is
 * test_snapshot's (sw_snapshot_write keeps exactly the newest N). */
static void test_snapshots(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_executor_t *ex = open_ex(f, NULL, 3, &err);
    assert_non_null(ex);
    sw_reply_t r;
    char hashes[11][65];
    for (int i = 0; i < 10; i++) {
        char json[200];
        snprintf(json, sizeof json,
                 "{\"transition\":\"%s\",\"signer\":\"op\",\"idem_key\":"
                 "\"s%d\"}",
                 i % 2 ? "CONTROL_RESUME" : "CONTROL_PAUSE", i);
        submit(ex, json, NULL, &r);
        assert_int_equal(r.code, SW_C_OK);
        assert_int_equal(r.index, (uint64_t)i + 1);
        memcpy(hashes[i + 1], r.state_hash, 65);
    }
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
    uint64_t *idx = NULL;
    size_t n = 0;
    assert_int_equal(sw_snapshot_list(f->snap, false, &idx, &n, &err),
                     SWOOSH_OK);
    assert_true(n >= 1 && n <= 3);
    assert_int_equal(idx[0], 10);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            assert_true(idx[i] < idx[i - 1]);
            assert_int_equal(idx[i] % 3, 0);
        }
        char h[65];
        sw_state_t *s = sw_snapshot_load(f->snap, idx[i], NULL, h, &err);
        assert_non_null(s);
        assert_string_equal(h, hashes[idx[i]]);
        sw_state_free(s);
    }
    free(idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_genesis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quarantine_logged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_on_commit_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_failed_outside_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit_in_progress_age, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_after_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_hlc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overloaded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closed_loop_from_callbacks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_callback_submit_overloaded, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
