/* executor: the one thread that owns the state (see executor.h). */
#include "executor.h"

#include "buf.h"
#include "canon.h"
#include "catalog.h"
#include "fsio.h"
#include "log.h"
#include "recovery.h"
#include "snapshot.h"
#include "wal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One submission: the proposal (owned), its guard outcome, the waiter, and
 * what the batch decided for it. */
typedef struct item {
    struct item *next;
    sw_proposal_t p;
    sw_guards_t g;
    sw_done_fn done;
    void *arg;
    sw_reply_t reply;
    struct item *dup_of; /* in-batch original this duplicates */
    bool logged;
    size_t rec_off, rec_len;
    /* The proposal's canonical JSON, written by the submitting thread so the
     * executor only splices in the stamped hlc: without an hlc, pj holds
     * `{<members before "hlc">` then `<members after>}` split at pj_split;
     * with one, the whole object (pj_split = SIZE_MAX). */
    sw_buf_t pj;
    size_t pj_split;
    bool pj_head, pj_tail; /* members before / after the split */
    bool pj_bad;           /* a value outside JSON's integer/string space */
} item_t;

typedef struct idem_slot {
    const char *key;
    item_t *it;
} idem_slot_t;

struct sw_executor {
    sw_exec_config_t cfg;
    char *wal_dir, *snapshot_dir, *genesis_path;
    int snap_lock_fd; /* SW_SNAPSHOT_LOCK_FILE: one process per directory */
    sw_wal_t *wal;
    char genesis_hash[SWOOSH_HASH_HEX_SIZE];

    /* Owned by the executor thread after open. */
    sw_state_t *state; /* working state == last published when idle */
    char cur_hash[SWOOSH_HASH_HEX_SIZE];
    sw_snapshotter_t *snap;
    uint64_t last_snapshot_index;
    item_t **batch;
    sw_wal_record_t *recs;
    sw_buf_t recbuf, pbuf;
    idem_slot_t *slots;
    size_t nslots;
    size_t *used_slots;
    size_t nused;
    const sw_catalog_entry_t *catalog;
    size_t catalog_n;

    /* Submission queue (bounded MPSC). */
    pthread_mutex_t qmu;
    pthread_cond_t qcv, qspace;
    item_t *head, *tail;
    size_t qlen;
    bool stopping, exec_waiting;
    unsigned space_waiters;
    /* Finished items, handed back under qmu and freed by the next submitter
     * (outside the lock): the proposals were allocated on submitting
     * threads, and freeing them there keeps the executor thread — the one
     * serial stage — out of malloc's cross-thread free path. */
    item_t *garbage;
    atomic_bool storage_failed;

    pthread_t thread;
    bool thread_started;

    /* Published view. */
    pthread_mutex_t vmu;
    sw_view_t *view;

    /* Stats (written once per batch). */
    pthread_mutex_t smu;
    sw_exec_stats_t stats;
    _Atomic uint64_t commit_start_ns; /* CLOCK_MONOTONIC; 0: no commit */
};

static uint64_t real_now_ms(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Never 0, which marks "no commit in flight". */
static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + 1;
}

/* Defaults of SPEC §4/§8 so every caller starts from the same settings. */
void sw_exec_config_defaults(sw_exec_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->snapshot_every = SW_EXEC_SNAPSHOT_EVERY_DEFAULT;
    c->node_id = 0;
    c->batch_max = SW_EXEC_BATCH_MAX_DEFAULT;
    c->queue_max = SW_EXEC_QUEUE_MAX_DEFAULT;
    c->block_when_full = false;
}

/* ------------------------------------------------------------------ views */

static sw_view_t *build_view(sw_state_t *s, const char *hash)
{
    sw_view_t *v = sw_xcalloc(1, sizeof *v);
    atomic_init(&v->refs, 1);
    v->index = s->meta.index;
    memcpy(v->state_hash, hash, SWOOSH_HASH_HEX_SIZE);
    sw_hlc_format(&s->meta.hlc_last, v->hlc_last);
    v->licensed = s->boot.licensed;
    v->quarantined = s->control.quarantined;
    v->degraded = s->control.degraded;
    v->recovering = s->control.recovering;

    sw_buf_t b = SW_BUF_INIT;
    sw_buf_putc(&b, '{');
    for (int sec = 0; sec < SW_SEC__COUNT; sec++) {
        if (sec)
            sw_buf_putc(&b, ',');
        sw_buf_putc(&b, '"');
        sw_buf_puts(&b, sw_section_name((sw_section_t)sec));
        sw_buf_append(&b, "\":", 2);
        v->sec_off[sec] = b.len;
        sw_state_section_jcs(s, (sw_section_t)sec, &b);
        v->sec_len[sec] = b.len - v->sec_off[sec];
    }
    sw_buf_putc(&b, '}');
    v->projection = sw_buf_steal(&b, &v->projection_len);

    sw_view_state_json(v, SW_SEC__COUNT, &b);
    v->state_body = sw_buf_steal(&b, &v->state_body_len);
    return v;
}

/* GET /state's body (SPEC §6), keys in JCS order, written once per view
 * for the whole projection and per request for one section. */
void sw_view_state_json(const sw_view_t *v, sw_section_t sec, sw_buf_t *b)
{
    bool all = sec >= SW_SEC__COUNT;
    sw_buf_reserve(b, (all ? v->projection_len : v->sec_len[sec]) + 256);
    sw_buf_puts(b, "{\"hlc_last\":\"");
    sw_buf_puts(b, v->hlc_last);
    sw_buf_puts(b, "\",\"index\":");
    sw_buf_put_u64(b, v->index);
    sw_buf_puts(b, ",\"projection\":");
    if (all) {
        sw_buf_append(b, v->projection, v->projection_len);
    } else {
        sw_buf_puts(b, "{\"");
        sw_buf_puts(b, sw_section_name(sec));
        sw_buf_puts(b, "\":");
        sw_buf_append(b, v->projection + v->sec_off[sec], v->sec_len[sec]);
        sw_buf_putc(b, '}');
    }
    sw_buf_puts(b, ",\"state_hash\":\"");
    sw_buf_puts(b, v->state_hash);
    sw_buf_puts(b, "\"}");
}

/* Readers take a reference under a short lock and never hold it across I/O
 * (STYLE: published states are immutable and reference-counted). */
sw_view_t *sw_executor_view(sw_executor_t *ex)
{
    pthread_mutex_lock(&ex->vmu);
    sw_view_t *v = ex->view;
    atomic_fetch_add(&v->refs, 1);
    pthread_mutex_unlock(&ex->vmu);
    return v;
}

/* The last reference frees the view's bytes. */
void sw_view_release(sw_view_t *v)
{
    if (!v)
        return;
    if (atomic_fetch_sub(&v->refs, 1) == 1) {
        free(v->projection);
        free(v->state_body);
        free(v);
    }
}

static void publish(sw_executor_t *ex, sw_view_t *v)
{
    pthread_mutex_lock(&ex->vmu);
    sw_view_t *old = ex->view;
    ex->view = v;
    pthread_mutex_unlock(&ex->vmu);
    sw_view_release(old);
}

/* ---------------------------------------------------- idempotency table */

static item_t *idem_find(sw_executor_t *ex, const char *key)
{
    size_t mask = ex->nslots - 1;
    for (size_t i = sw_fnv1a64(key) & mask;; i = (i + 1) & mask) {
        if (!ex->slots[i].key)
            return NULL;
        if (strcmp(ex->slots[i].key, key) == 0)
            return ex->slots[i].it;
    }
}

static void idem_insert(sw_executor_t *ex, const char *key, item_t *it)
{
    size_t mask = ex->nslots - 1;
    size_t i = sw_fnv1a64(key) & mask;
    while (ex->slots[i].key)
        i = (i + 1) & mask;
    ex->slots[i].key = key;
    ex->slots[i].it = it;
    ex->used_slots[ex->nused++] = i;
}

static void idem_clear(sw_executor_t *ex)
{
    for (size_t i = 0; i < ex->nused; i++)
        ex->slots[ex->used_slots[i]].key = NULL;
    ex->nused = 0;
}

/* ------------------------------------------------------------ evaluation */

/* An answer carries the working state as it is now (SPEC §6: `index`,
 * `state_hash`, `hlc_last` and `quarantined` after the request). */
static void fill_reply(sw_executor_t *ex, sw_reply_t *r, sw_code_t code,
                       sw_outcome_t outcome, const char *msg)
{
    r->code = code;
    r->outcome = outcome;
    r->duplicate = false;
    r->index = ex->state->meta.index;
    memcpy(r->state_hash, ex->cur_hash, SWOOSH_HASH_HEX_SIZE);
    sw_hlc_format(&ex->state->meta.hlc_last, r->hlc_last);
    r->quarantined = ex->state->control.quarantined;
    snprintf(r->msg, sizeof r->msg, "%s", msg);
}

/* A rejection: nothing changed; the sentence defaults to the code's. */
static void reply_current(sw_executor_t *ex, sw_reply_t *r, sw_code_t code,
                          const char *msg)
{
    fill_reply(ex, r, code, SW_OUT_REJECTED,
               msg && *msg ? msg : sw_code_message(code));
}

typedef struct logged_ctx {
    const sw_proposal_t *p;
    sw_reply_t *reply;
    bool same, bad;
} logged_ctx_t;

/* A key already in the log: same content repeats the original answer, other
 * content conflicts (SPEC §2 idempotency, also after a restart). */
static int on_logged(void *arg, const sw_wal_record_t *r)
{
    logged_ctx_t *c = arg;
    sw_wal_decoded_t d;
    char msg[SWOOSH_MSG_SIZE];
    if (!sw_wal_decode_record(r->record, r->record_len, &d, msg)) {
        c->bad = true;
        return 1;
    }
    json_error_t je;
    json_t *obj =
        json_loadb(d.proposal, d.proposal_len, JSON_REJECT_DUPLICATES, &je);
    sw_proposal_t op;
    if (!obj || sw_proposal_from_json(obj, &op, msg) != SW_C_OK) {
        json_decref(obj);
        c->bad = true;
        return 1;
    }
    json_decref(obj);
    c->same = strcmp(op.content_hash, c->p->content_hash) == 0;
    sw_proposal_destroy(&op);
    if (!c->same)
        return 1;
    sw_reply_t *rep = c->reply;
    rep->outcome = d.outcome;
    rep->code =
        d.outcome == SW_OUT_QUARANTINED ? SW_C_POLICY_VIOLATION : SW_C_OK;
    rep->duplicate = true;
    rep->index = r->index;
    snprintf(rep->state_hash, sizeof rep->state_hash, "%s", r->state_hash);
    snprintf(rep->hlc_last, sizeof rep->hlc_last, "%s", r->hlc_last);
    rep->quarantined = r->quarantined;
    snprintf(rep->msg, sizeof rep->msg, "%s", r->message ? r->message : "");
    return 1;
}

static const char conflict_msg[] =
    "idem_key was already used for a different proposal";

/* Step 2 (SPEC §2 idempotency), first inside this batch, then in the log.
 * Returns true when it decided the answer: a duplicate (answered with the
 * original's reply), a conflict, or a lookup that failed. */
static bool check_idempotency(sw_executor_t *ex, item_t *it)
{
    const sw_proposal_t *p = &it->p;
    item_t *orig = idem_find(ex, p->idem_key);
    if (orig) {
        if (strcmp(orig->p.content_hash, p->content_hash) == 0)
            it->dup_of = orig;
        else
            reply_current(ex, &it->reply, SW_C_IDEMPOTENCY_CONFLICT,
                          conflict_msg);
        return true;
    }
    logged_ctx_t lc = {.p = p, .reply = &it->reply};
    bool found = false;
    swoosh_error ferr = {0};
    if (sw_wal_find_idem(ex->wal, p->idem_key, on_logged, &lc, &found, &ferr) !=
        SWOOSH_OK) {
        reply_current(ex, &it->reply, SW_C_STORAGE_UNAVAILABLE, ferr.msg);
        return true;
    }
    if (found && lc.bad)
        reply_current(ex, &it->reply, SW_C_INTERNAL,
                      "the logged record for this idem_key is unreadable");
    else if (found && !lc.same)
        reply_current(ex, &it->reply, SW_C_IDEMPOTENCY_CONFLICT, conflict_msg);
    return found;
}

/* Server HLC stamp (SPEC §4), before logging so replay is exact. The
 * record's proposal is the proposal as received (its canonical JSON, which
 * the submitter prepared) with the stamped hlc spliced in; the result is in
 * ex->pbuf. */
static void stamp_proposal(sw_executor_t *ex, item_t *it, uint64_t now)
{
    sw_proposal_t *p = &it->p;
    sw_buf_reset(&ex->pbuf);
    if (p->has_hlc) {
        sw_buf_append(&ex->pbuf, it->pj.data, it->pj.len);
        return;
    }
    p->hlc = sw_hlc_stamp(&ex->state->meta.hlc_last, now, ex->cfg.node_id);
    p->has_hlc = true;
    char hb[SW_HLC_STRLEN];
    sw_hlc_format(&p->hlc, hb);
    sw_buf_append(&ex->pbuf, it->pj.data, it->pj_split);
    if (it->pj_head)
        sw_buf_putc(&ex->pbuf, ',');
    sw_buf_append(&ex->pbuf, "\"hlc\":\"", 7);
    sw_buf_puts(&ex->pbuf, hb);
    sw_buf_putc(&ex->pbuf, '"');
    if (it->pj_tail)
        sw_buf_putc(&ex->pbuf, ',');
    sw_buf_append(&ex->pbuf, it->pj.data + it->pj_split,
                  it->pj.len - it->pj_split);
}

/* Steps 2–7 of SPEC §5 for one proposal against the working state; a logged
 * outcome also becomes a record in recbuf. */
static void evaluate(sw_executor_t *ex, item_t *it, uint64_t now)
{
    sw_proposal_t *p = &it->p;
    sw_state_t *st = ex->state;
    char msg[SWOOSH_MSG_SIZE] = "";

    if (check_idempotency(ex, it))
        return;
    /* Step 3: the state-hash precondition. */
    sw_code_t c = sw_check_precondition(p, st->meta.index, ex->cur_hash, msg);
    if (c != SW_C_OK) {
        reply_current(ex, &it->reply, c, msg);
        return;
    }
    if (it->pj_bad) {
        reply_current(ex, &it->reply, SW_C_BAD_PAYLOAD,
                      "the proposal holds values outside JSON's integer "
                      "and string space");
        return;
    }
    stamp_proposal(ex, it, now);

    /* Steps 4–7: the pure reducer. */
    sw_result_t res;
    sw_reduce(st, p, &it->g, now, &res);
    if (res.outcome == SW_OUT_REJECTED) {
        reply_current(ex, &it->reply, res.code, res.msg);
        return;
    }
    sw_state_hash(st, ex->cur_hash);
    bool quarantined = res.outcome == SW_OUT_QUARANTINED;
    fill_reply(ex, &it->reply, quarantined ? SW_C_POLICY_VIOLATION : SW_C_OK,
               res.outcome, quarantined ? res.msg : "");

    it->logged = true;
    it->rec_off = ex->recbuf.len;
    sw_wal_encode_record(&ex->recbuf, st->meta.index, &it->g, res.outcome,
                         ex->pbuf.data, ex->pbuf.len, now, ex->cur_hash);
    it->rec_len = ex->recbuf.len - it->rec_off;
    idem_insert(ex, p->idem_key, it);
}

/* Puts the working state back to the last published one after a failed
 * commit (SPEC §4: the in-memory state stays at the last committed one). */
static void rollback_state(sw_executor_t *ex)
{
    sw_view_t *v = ex->view; /* only this thread replaces it */
    json_error_t je;
    json_t *proj = json_loadb(v->projection, v->projection_len, 0, &je);
    swoosh_error err = {0};
    sw_state_t *s = proj ? sw_state_from_json(proj, &err) : NULL;
    json_decref(proj);
    SW_ASSERT(s != NULL);
    sw_state_free(ex->state);
    ex->state = s;
    memcpy(ex->cur_hash, v->state_hash, SWOOSH_HASH_HEX_SIZE);
}

static void hist_add(const double *bounds, uint64_t *buckets, double v)
{
    for (int i = 0; i < SW_HIST_BUCKETS; i++)
        if (v <= bounds[i])
            buckets[i]++;
}

static void maybe_snapshot(sw_executor_t *ex, const sw_view_t *v)
{
    if (!ex->cfg.snapshot_every || !ex->snap ||
        v->index < ex->last_snapshot_index + ex->cfg.snapshot_every)
        return;
    sw_buf_t b = SW_BUF_INIT;
    sw_snapshot_serialize(&b, v->index, v->state_hash, ex->genesis_hash,
                          v->projection, v->projection_len);
    size_t len;
    char *content = sw_buf_steal(&b, &len);
    sw_snapshotter_submit(ex->snap, v->index, content, len);
    ex->last_snapshot_index = v->index;
}

/* False once any sync failed (fsio: snapshots, the checkpointer's database
 * flush) or the log failed outside a commit (a checkpoint's own write or
 * sync): the commit path must not go on either way (docs/DECISIONS.md). */
static bool storage_healthy(sw_executor_t *ex)
{
    return !sw_fsio_failed() && sw_wal_healthy(ex->wal);
}

/* Every waiter of the batch gets the same 503 (SPEC §4: a failed commit
 * discards the batch; after one, nothing is committed until a restart). */
static void fail_all(sw_executor_t *ex, item_t **b, size_t n, const char *msg)
{
    for (size_t i = 0; i < n; i++) {
        b[i]->dup_of = NULL;
        reply_current(ex, &b[i]->reply, SW_C_STORAGE_UNAVAILABLE, msg);
    }
}

/* The log rows of the batch's logged outcomes, in order; returns how many. */
static size_t build_records(sw_executor_t *ex, item_t **b, size_t n,
                            uint64_t now)
{
    size_t nrec = 0;
    for (size_t i = 0; i < n; i++) {
        item_t *it = b[i];
        if (!it->logged)
            continue;
        sw_wal_record_t *r = &ex->recs[nrec++];
        r->index = it->reply.index;
        r->idem_key = it->p.idem_key;
        r->transition = it->p.transition;
        r->signer = it->p.signer;
        r->received_at_ms = now;
        r->state_hash = it->reply.state_hash;
        r->hlc_last = it->reply.hlc_last;
        r->quarantined = it->reply.quarantined;
        r->message =
            it->reply.outcome == SW_OUT_QUARANTINED ? it->reply.msg : NULL;
        r->record = ex->recbuf.data + it->rec_off;
        r->record_len = it->rec_len;
    }
    return nrec;
}

/* Appends the rows in ONE transaction with one sync (group commit, SPEC
 * §4), then publishes the new state; on failure marks storage failed and
 * puts the working state back. Returns false when the commit failed;
 * *seconds is how long it took. */
static bool commit(sw_executor_t *ex, size_t nrec, double *seconds)
{
    swoosh_error cerr = {0};
    uint64_t t0 = mono_ns();
    atomic_store(&ex->commit_start_ns, t0);
    swoosh_err_t rc = sw_wal_append_batch(ex->wal, ex->recs, nrec, &cerr);
    *seconds = (double)(mono_ns() - t0) / 1e9;
    atomic_store(&ex->commit_start_ns, 0);
    if (rc != SWOOSH_OK) {
        atomic_store(&ex->storage_failed, true);
        sw_log(SW_LOG_ERROR, "storage_failed", "error", cerr.msg, NULL);
        rollback_state(ex);
        return false;
    }
    sw_view_t *v = build_view(ex->state, ex->cur_hash);
    publish(ex, v);
    maybe_snapshot(ex, v);
    return true;
}

/* The batch's counters for GET /metrics; commit_s < 0: nothing committed. */
static void record_stats(sw_executor_t *ex, item_t **b, size_t n,
                         double commit_s)
{
    pthread_mutex_lock(&ex->smu);
    sw_exec_stats_t *s = &ex->stats;
    for (size_t i = 0; i < n; i++) {
        item_t *it = b[i];
        const sw_reply_t *r = &it->reply;
        if (r->duplicate) {
            s->duplicates++;
            continue;
        }
        size_t row = (size_t)(it->p.entry - ex->catalog);
        if (it->p.entry && row < ex->catalog_n)
            s->by_transition_outcome[row][r->outcome]++;
        if (r->outcome == SW_OUT_REJECTED && (unsigned)r->code < SW_C__COUNT)
            s->rejections_by_code[r->code]++;
    }
    s->batches++;
    s->batch_size_sum += n;
    hist_add(s->batch_size_bounds, s->batch_size_buckets, (double)n);
    if (commit_s >= 0) {
        s->commits++;
        s->commit_seconds_sum += commit_s;
        hist_add(s->commit_seconds_bounds, s->commit_seconds_buckets, commit_s);
    }
    s->index = ex->view->index;
    pthread_mutex_unlock(&ex->smu);
}

/* One batch: evaluate each proposal in order, append every logged record in
 * ONE storage transaction (group commit), then publish and answer (SPEC
 * §1.3, §4). */
static void run_batch(sw_executor_t *ex, item_t **b, size_t n)
{
    double commit_s = -1;
    if (!atomic_load(&ex->storage_failed) && !storage_healthy(ex))
        atomic_store(&ex->storage_failed, true);
    if (atomic_load(&ex->storage_failed)) {
        fail_all(ex, b, n, "storage failed earlier; the node needs a restart");
    } else {
        uint64_t now = ex->cfg.now_ms(ex->cfg.now_arg);
        sw_buf_reset(&ex->recbuf);
        for (size_t i = 0; i < n; i++)
            evaluate(ex, b[i], now);
        size_t nrec = build_records(ex, b, n, now);
        if (nrec > 0 && !commit(ex, nrec, &commit_s)) {
            fail_all(ex, b, n,
                     "the commit failed; nothing in this batch was "
                     "acknowledged and the node needs a restart");
        } else {
            for (size_t i = 0; i < n; i++)
                if (b[i]->dup_of) {
                    b[i]->reply = b[i]->dup_of->reply;
                    b[i]->reply.duplicate = true;
                }
        }
    }
    idem_clear(ex);
    record_stats(ex, b, n, commit_s);

    /* No lock is held while callbacks run, so a callback may submit again
     * (closed-loop clients, resumed HTTP connections). */
    for (size_t i = 0; i < n; i++) {
        item_t *it = b[i];
        it->done(it->arg, &it->reply);
        it->next = i + 1 < n ? b[i + 1] : NULL;
    }
}

static void free_items(item_t *it)
{
    while (it) {
        item_t *next = it->next;
        sw_proposal_destroy(&it->p);
        sw_buf_free(&it->pj);
        free(it);
        it = next;
    }
}

static void *exec_main(void *arg)
{
    sw_executor_t *ex = arg;
    pthread_setname_np(pthread_self(), "sw-executor");
    item_t *done_head = NULL, *done_tail = NULL;
    for (;;) {
        pthread_mutex_lock(&ex->qmu);
        if (done_head) {
            done_tail->next = ex->garbage;
            ex->garbage = done_head;
            done_head = done_tail = NULL;
        }
        while (!ex->head && !ex->stopping) {
            ex->exec_waiting = true;
            pthread_cond_wait(&ex->qcv, &ex->qmu);
            ex->exec_waiting = false;
        }
        if (!ex->head) {
            pthread_mutex_unlock(&ex->qmu);
            break;
        }
        size_t n = 0;
        while (ex->head && n < ex->cfg.batch_max) {
            item_t *it = ex->head;
            ex->head = it->next;
            ex->batch[n++] = it;
        }
        if (!ex->head)
            ex->tail = NULL;
        ex->qlen -= n;
        if (ex->space_waiters)
            pthread_cond_broadcast(&ex->qspace);
        size_t depth = ex->qlen;
        pthread_mutex_unlock(&ex->qmu);

        double c0 = thread_cpu_s();
        run_batch(ex, ex->batch, n);
        double c1 = thread_cpu_s();
        done_head = ex->batch[0];
        done_tail = ex->batch[n - 1];
        pthread_mutex_lock(&ex->smu);
        ex->stats.queue_depth = depth;
        ex->stats.busy_seconds += c1 - c0;
        pthread_mutex_unlock(&ex->smu);
    }
    return NULL;
}

/* ------------------------------------------------------------- lifecycle */

static void init_stats(sw_exec_stats_t *s)
{
    static const double commit_b[SW_HIST_BUCKETS] = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
    for (int i = 0; i < SW_HIST_BUCKETS; i++) {
        s->batch_size_bounds[i] = (double)(1u << i);
        s->commit_seconds_bounds[i] = commit_b[i];
    }
}

static void free_executor(sw_executor_t *ex)
{
    free_items(ex->garbage);
    sw_snapshotter_free(ex->snap);
    sw_wal_close(ex->wal);
    sw_state_free(ex->state);
    sw_view_release(ex->view);
    free(ex->batch);
    free(ex->recs);
    free(ex->slots);
    free(ex->used_slots);
    sw_buf_free(&ex->recbuf);
    sw_buf_free(&ex->pbuf);
    free(ex->wal_dir);
    free(ex->snapshot_dir);
    free(ex->genesis_path);
    if (ex->snap_lock_fd >= 0)
        close(ex->snap_lock_fd);
    pthread_mutex_destroy(&ex->qmu);
    pthread_cond_destroy(&ex->qcv);
    pthread_cond_destroy(&ex->qspace);
    pthread_mutex_destroy(&ex->vmu);
    pthread_mutex_destroy(&ex->smu);
    free(ex);
}

/* Opening = genesis, storage, verified recovery, then the thread (SPEC §4:
 * nothing is served from a diverged log). */
sw_executor_t *sw_executor_open(const sw_exec_config_t *cfg, swoosh_error *err)
{
    sw_executor_t *ex = sw_xcalloc(1, sizeof *ex);
    ex->snap_lock_fd = -1;
    ex->cfg = *cfg;
    ex->wal_dir = sw_xstrdup(cfg->wal_dir ? cfg->wal_dir : SW_WAL_DIR_DEFAULT);
    ex->snapshot_dir = sw_xstrdup(cfg->snapshot_dir ? cfg->snapshot_dir
                                                    : SW_SNAPSHOT_DIR_DEFAULT);
    ex->genesis_path = cfg->genesis_path ? sw_xstrdup(cfg->genesis_path) : NULL;
    ex->cfg.wal_dir = ex->wal_dir;
    ex->cfg.snapshot_dir = ex->snapshot_dir;
    ex->cfg.genesis_path = ex->genesis_path;
    ex->cfg.wal = NULL;
    if (!ex->cfg.now_ms)
        ex->cfg.now_ms = real_now_ms;
    if (ex->cfg.batch_max == 0)
        ex->cfg.batch_max = SW_EXEC_BATCH_MAX_DEFAULT;
    if (ex->cfg.queue_max == 0)
        ex->cfg.queue_max = SW_EXEC_QUEUE_MAX_DEFAULT;
    pthread_mutex_init(&ex->qmu, NULL);
    pthread_cond_init(&ex->qcv, NULL);
    pthread_cond_init(&ex->qspace, NULL);
    pthread_mutex_init(&ex->vmu, NULL);
    pthread_mutex_init(&ex->smu, NULL);
    atomic_init(&ex->storage_failed, false);
    init_stats(&ex->stats);
    ex->catalog = sw_catalog_all(&ex->catalog_n);

    unsigned bm = ex->cfg.batch_max;
    ex->batch = sw_xcalloc(bm, sizeof *ex->batch);
    ex->recs = sw_xcalloc(bm, sizeof *ex->recs);
    ex->nslots = 16;
    while (ex->nslots < 2 * (size_t)bm)
        ex->nslots *= 2;
    ex->slots = sw_xcalloc(ex->nslots, sizeof *ex->slots);
    ex->used_slots = sw_xcalloc(bm, sizeof *ex->used_slots);

    sw_state_t *genesis =
        sw_recovery_genesis(ex->genesis_path, ex->genesis_hash, err);
    if (!genesis) {
        sw_wal_close(cfg->wal);
        goto fail;
    }
    if (cfg->wal) {
        ex->wal = cfg->wal;
        char *gh = NULL;
        if (sw_wal_meta_get(ex->wal, SW_WAL_META_GENESIS, &gh, err) !=
            SWOOSH_OK)
            goto fail_genesis;
        bool same = gh && strcmp(gh, ex->genesis_hash) == 0;
        free(gh);
        if (!same) {
            sw_error_set(err, SWOOSH_EFORMAT, 0,
                         "wal: the log was created from another genesis");
            goto fail_genesis;
        }
    } else {
        ex->wal = sw_wal_open(ex->wal_dir, ex->genesis_hash, NULL, err);
        if (!ex->wal)
            goto fail_genesis;
    }
    if (sw_fsio_mkdirs(ex->snapshot_dir, err) != SWOOSH_OK ||
        sw_fsio_lock(ex->snapshot_dir, SW_SNAPSHOT_LOCK_FILE, &ex->snap_lock_fd,
                     err) != SWOOSH_OK)
        goto fail_genesis;

    sw_recovered_t rec;
    swoosh_err_t rc = sw_recovery_run(ex->wal, ex->snapshot_dir, genesis,
                                      ex->genesis_hash, &rec, err);
    sw_state_free(genesis);
    if (rc != SWOOSH_OK)
        goto fail;
    ex->state = rec.state;
    memcpy(ex->cur_hash, rec.state_hash, SWOOSH_HASH_HEX_SIZE);
    ex->last_snapshot_index = rec.snapshot_index;
    {
        char a[24], b[24], c[24], d[32];
        snprintf(a, sizeof a, "%" PRIu64, rec.index);
        snprintf(b, sizeof b, "%" PRIu64, rec.snapshot_index);
        snprintf(c, sizeof c, "%" PRIu64, rec.replayed);
        snprintf(d, sizeof d, "%.3f", rec.seconds);
        sw_log(SW_LOG_INFO, "recovered", "index", a, "snapshot", b, "replayed",
               c, "seconds", d, "state_hash", rec.state_hash, NULL);
    }
    ex->view = build_view(ex->state, ex->cur_hash);
    ex->stats.index = ex->view->index;

    ex->snap = sw_snapshotter_new(ex->snapshot_dir, SW_SNAPSHOT_KEEP, err);
    if (!ex->snap)
        goto fail;
    int e = pthread_create(&ex->thread, NULL, exec_main, ex);
    if (e != 0) {
        sw_error_set(err, SWOOSH_EIO, e, "executor: cannot start the thread");
        goto fail;
    }
    ex->thread_started = true;
    return ex;

fail_genesis:
    sw_state_free(genesis);
fail:
    free_executor(ex);
    return NULL;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The submitter's share of the record (see item_t.pj): JCS of the proposal
 * object with a gap where the executor puts the stamped hlc. Top-level keys
 * are the few of SPEC §2 (validated), printable ASCII, so byte order is
 * JCS order. */
static void prepare_jcs(item_t *it)
{
    json_t *raw = it->p.raw;
    if (it->p.has_hlc) {
        it->pj_split = SIZE_MAX;
        it->pj_bad = !sw_canon_json(&it->pj, raw);
        return;
    }
    if (json_object_size(raw) > 16) { /* validation allows at most 9 */
        it->pj_bad = true;
        return;
    }
    const char *keys[16];
    size_t nk = 0;
    const char *k;
    json_t *v;
    json_object_foreach(raw, k, v) keys[nk++] = k;
    qsort(keys, nk, sizeof *keys, key_cmp);
    sw_buf_t *b = &it->pj;
    sw_buf_putc(b, '{');
    size_t i = 0;
    for (; i < nk && strcmp(keys[i], "hlc") < 0; i++) {
        if (i)
            sw_buf_putc(b, ',');
        sw_canon_string(b, keys[i], strlen(keys[i]));
        sw_buf_putc(b, ':');
        if (!sw_canon_json(b, json_object_get(raw, keys[i])))
            it->pj_bad = true;
    }
    it->pj_head = i > 0;
    it->pj_split = b->len;
    it->pj_tail = i < nk;
    for (size_t j = i; j < nk; j++) {
        if (j > i)
            sw_buf_putc(b, ',');
        sw_canon_string(b, keys[j], strlen(keys[j]));
        sw_buf_putc(b, ':');
        if (!sw_canon_json(b, json_object_get(raw, keys[j])))
            it->pj_bad = true;
    }
    sw_buf_putc(b, '}');
}

/* Hands a proposal to the executor thread; the bounded queue is the
 * back-pressure point (block or OVERLOADED per configuration). */
sw_code_t sw_executor_submit(sw_executor_t *ex, sw_proposal_t *p,
                             const sw_guards_t *g, sw_done_fn done, void *arg)
{
    if (atomic_load(&ex->storage_failed))
        return SW_C_STORAGE_UNAVAILABLE;
    item_t *it = sw_xcalloc(1, sizeof *it);
    it->g = *g;
    it->done = done;
    it->arg = arg;
    it->p = *p; /* read only until the queue accepts it */
    prepare_jcs(it);
    /* The executor thread itself (a done callback) must never wait for
     * queue space: only it makes space. */
    bool may_block =
        ex->cfg.block_when_full &&
        !(ex->thread_started && pthread_equal(pthread_self(), ex->thread));
    pthread_mutex_lock(&ex->qmu);
    item_t *garbage = ex->garbage;
    ex->garbage = NULL;
    for (;;) {
        if (ex->stopping) {
            pthread_mutex_unlock(&ex->qmu);
            sw_buf_free(&it->pj);
            free(it);
            free_items(garbage);
            return SW_C_SHUTTING_DOWN;
        }
        if (ex->qlen < ex->cfg.queue_max)
            break;
        if (!may_block) {
            pthread_mutex_unlock(&ex->qmu);
            sw_buf_free(&it->pj);
            free(it);
            free_items(garbage);
            return SW_C_OVERLOADED;
        }
        ex->space_waiters++;
        pthread_cond_wait(&ex->qspace, &ex->qmu);
        ex->space_waiters--;
    }
    memset(p, 0, sizeof *p);
    if (ex->tail)
        ex->tail->next = it;
    else
        ex->head = it;
    ex->tail = it;
    ex->qlen++;
    bool wake = ex->exec_waiting;
    ex->exec_waiting = false; /* one signal per sleep, not per submission */
    pthread_mutex_unlock(&ex->qmu);
    if (wake)
        pthread_cond_signal(&ex->qcv);
    free_items(garbage);
    return SW_C_OK;
}

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    sw_reply_t *out;
} waiter_t;

static void wake(void *arg, const sw_reply_t *r)
{
    waiter_t *w = arg;
    pthread_mutex_lock(&w->mu);
    *w->out = *r;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Blocking submit for tests, benchmarks and the CLI. */
sw_code_t sw_executor_submit_wait(sw_executor_t *ex, sw_proposal_t *p,
                                  const sw_guards_t *g, sw_reply_t *out)
{
    waiter_t w = {.done = false, .out = out};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    sw_code_t c = sw_executor_submit(ex, p, g, wake, &w);
    if (c == SW_C_OK) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
    }
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return c;
}

/* /health's storage field (SPEC §6): false after any failed commit. */
bool sw_executor_storage_ok(sw_executor_t *ex)
{
    return !atomic_load(&ex->storage_failed) && storage_healthy(ex);
}

/* Lets readers (GET /log) share the executor's log. */
sw_wal_t *sw_executor_wal(sw_executor_t *ex)
{
    return ex->wal;
}

/* The genesis identity, for /health and tools. */
const char *sw_executor_genesis_hash(sw_executor_t *ex)
{
    return ex->genesis_hash;
}

/* A consistent copy of the counters for GET /metrics. */
void sw_executor_stats(sw_executor_t *ex, sw_exec_stats_t *out)
{
    pthread_mutex_lock(&ex->smu);
    *out = ex->stats;
    pthread_mutex_unlock(&ex->smu);
    pthread_mutex_lock(&ex->qmu);
    out->queue_depth = ex->qlen;
    pthread_mutex_unlock(&ex->qmu);
    uint64_t t0 = atomic_load(&ex->commit_start_ns);
    uint64_t now = mono_ns();
    out->commit_in_progress_seconds =
        t0 && now > t0 ? (double)(now - t0) / 1e9 : 0.0;
    if (ex->snap) {
        out->snapshots_written = sw_snapshotter_written(ex->snap);
        out->snapshots_failed = sw_snapshotter_failed(ex->snap);
    }
}

/* Clean shutdown (SPEC §8): finish what is queued, snapshot, close. */
swoosh_err_t sw_executor_close(sw_executor_t *ex, swoosh_error *err)
{
    if (!ex)
        return SWOOSH_OK;
    pthread_mutex_lock(&ex->qmu);
    ex->stopping = true;
    pthread_cond_broadcast(&ex->qcv);
    pthread_cond_broadcast(&ex->qspace);
    pthread_mutex_unlock(&ex->qmu);
    if (ex->thread_started)
        pthread_join(ex->thread, NULL);
    ex->thread_started = false;

    swoosh_err_t rc = SWOOSH_OK;
    sw_snapshotter_free(ex->snap);
    ex->snap = NULL;
    sw_view_t *v = ex->view;
    char path[PATH_MAX];
    sw_snapshot_path(ex->snapshot_dir, v->index, path, sizeof path);
    struct stat sb;
    if (v->index > 0 && sw_executor_storage_ok(ex) && stat(path, &sb) != 0) {
        sw_buf_t b = SW_BUF_INIT;
        sw_snapshot_serialize(&b, v->index, v->state_hash, ex->genesis_hash,
                              v->projection, v->projection_len);
        rc = sw_snapshot_write(ex->snapshot_dir, v->index, b.data, b.len, 0,
                               err);
        sw_buf_free(&b);
    }
    /* The exit status tells a supervisor what /health told clients: a run
     * whose storage failed, or a log left in two files, is no clean stop. */
    swoosh_error ferr = {0};
    swoosh_err_t frc = sw_executor_storage_ok(ex)
                           ? sw_wal_finish(ex->wal, &ferr)
                           : sw_error_set(&ferr, SWOOSH_ESTORAGE, 0,
                                          "storage failed during the run; the "
                                          "log holds every acknowledged "
                                          "transition, and a restart "
                                          "recovers it");
    if (frc != SWOOSH_OK && rc == SWOOSH_OK) {
        rc = frc;
        if (err)
            *err = ferr;
    }
    free_executor(ex);
    return rc;
}
