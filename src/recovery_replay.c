/* recovery_replay: verified replay of the log onto a state (see
 * recovery.h, SPEC §1.5, §4). Each record is replayed in two halves: parsing
 * (split the record, parse and validate its proposal), which needs no state,
 * and applying (run the reducer, compare outcome and hash with the log),
 * which must go in index order. Short replays do both per row; long ones
 * parse on other threads while this one applies. */
#include "recovery.h"

#include "buf.h"
#include "canon.h"
#include "err.h"
#include "proposal.h"
#include "reducer.h"
#include "wal.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct replay {
    sw_state_t *s;
    uint64_t expect; /* next index */
    uint64_t upto;   /* 0 = no bound */
    uint64_t count;
    swoosh_err_t rc;
    swoosh_error *err;
} replay_t;

static int diverged(replay_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int diverged(replay_t *r, const char *fmt, ...)
{
    char msg[SWOOSH_MSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->rc = sw_error_set(r->err, SWOOSH_EDIVERGED, 0, "%s", msg);
    return 1;
}

/* A logged proposal as a jansson value: the canonical-subset fast path
 * (canon.h), else jansson itself, so the accepted language is jansson's.
 * NULL with je filled when not JSON. */
static json_t *load_proposal(const char *text, size_t len, json_error_t *je)
{
    json_t *v = sw_canon_parse_subset(text, len);
    if (v)
        return v;
    return json_loadb(text, len, JSON_REJECT_DUPLICATES, je);
}

/* One record between parsing and applying. */
typedef struct pitem {
    uint64_t index;
    bool ok;     /* split, parsed and validated; else msg says why */
    json_t *obj; /* the proposal's JSON (owned) */
    bool has_p;  /* p validated from obj (holds its own reference) */
    sw_proposal_t p;
    sw_wal_decoded_t d;
    char col_hash[SWOOSH_HASH_HEX_SIZE];
    char msg[200];
} pitem_t;

/* The state-independent half of replaying a record: split it and parse its
 * proposal. */
static void parse_item(const sw_wal_record_t *rec, pitem_t *it)
{
    char msg[SWOOSH_MSG_SIZE];
    it->index = rec->index;
    it->ok = false;
    it->obj = NULL;
    it->has_p = false;
    size_t hl = strnlen(rec->state_hash, 64);
    memcpy(it->col_hash, rec->state_hash, hl);
    it->col_hash[hl] = '\0';
    if (!sw_wal_decode_record(rec->record, rec->record_len, &it->d, msg)) {
        snprintf(it->msg, sizeof it->msg, "%.190s", msg);
        return;
    }
    if (it->d.index != rec->index) {
        snprintf(it->msg, sizeof it->msg, "its text says index %" PRIu64,
                 it->d.index);
        return;
    }
    json_error_t je;
    it->obj = load_proposal(it->d.proposal, it->d.proposal_len, &je);
    it->d.proposal = NULL; /* points into the row; gone after this call */
    if (!it->obj) {
        snprintf(it->msg, sizeof it->msg, "proposal is not JSON (%.100s)",
                 je.text);
        return;
    }
    sw_code_t c = sw_proposal_from_json_flags(it->obj, &it->p, msg,
                                              SW_PROPOSAL_NO_CONTENT_HASH);
    if (c != SW_C_OK) {
        snprintf(it->msg, sizeof it->msg, "proposal is invalid: %s: %.150s",
                 sw_code_name(c), msg);
        return;
    }
    it->has_p = true;
    if (!it->p.has_hlc) {
        snprintf(it->msg, sizeof it->msg, "proposal has no hlc");
        return;
    }
    it->ok = true;
}

/* Frees what parse_item made; called by the thread that parsed, so every
 * allocation of a record is freed by the thread that made it. */
static void release_item(pitem_t *it)
{
    if (it->has_p)
        sw_proposal_destroy(&it->p);
    json_decref(it->obj);
    it->obj = NULL;
    it->has_p = false;
    it->ok = false;
}

/* The state-dependent half: run the reducer with the recorded guards and
 * receive time and compare outcome and hash with the log (SPEC §1.5).
 * Leaves it->p to the caller. Returns non-zero to stop. */
static int apply_item(replay_t *r, pitem_t *it)
{
    if (it->index != r->expect) {
        return diverged(r,
                        "log gap: expected record %" PRIu64 ", found %" PRIu64,
                        r->expect, it->index);
    }
    if (!it->ok)
        return diverged(r, "record %" PRIu64 ": %s", it->index, it->msg);
    sw_result_t res;
    sw_reduce(r->s, &it->p, &it->d.guards, it->d.received_at_ms, &res);
    if (res.outcome != it->d.outcome)
        return diverged(r,
                        "record %" PRIu64
                        ": outcome is %s in the log but %s on replay (%s)",
                        it->index, sw_outcome_name(it->d.outcome),
                        sw_outcome_name(res.outcome), sw_code_name(res.code));
    char h[SWOOSH_HASH_HEX_SIZE];
    sw_state_hash(r->s, h);
    if (memcmp(h, it->d.state_hash, SWOOSH_HASH_HEX_SIZE) != 0)
        return diverged(r,
                        "record %" PRIu64 ": state hash mismatch: log has %s, "
                        "replay computes %s",
                        it->index, it->d.state_hash, h);
    if (strcmp(it->col_hash, it->d.state_hash) != 0)
        return diverged(r,
                        "record %" PRIu64 ": the state_hash column (%s) "
                        "differs from the record's state_hash (%s)",
                        it->index, it->col_hash, it->d.state_hash);
    r->count++;
    r->expect++;
    if (r->upto && it->index >= r->upto)
        return 1;
    return 0;
}

/* Sequential path: parse and apply each row as it is read. */
static int replay_one(void *arg, const sw_wal_record_t *rec)
{
    pitem_t it;
    parse_item(rec, &it);
    int stop = apply_item(arg, &it);
    release_item(&it);
    return stop;
}

/* Pipelined path for long replays. The state-independent work (splitting
 * records, parsing proposals: ~4/5 of the cost) runs on parser threads while
 * this thread applies records strictly in order:
 *
 *   reader thread: rows → raw chunks (FREE → RAW), in sequence order
 *   parser threads: RAW → PARSED (any chunk), and free the proposals of the
 *                   chunks they parsed once applied (DONE → FREE), so every
 *                   allocation is freed by the thread that made it
 *   this thread:   PARSED chunk `seq` → apply → DONE
 */
#define CHUNK       256
#define SLOTS       16
#define MAX_PARSERS 4

enum { SL_FREE, SL_RAW, SL_PARSING, SL_PARSED, SL_DONE, SL_CLEARING };

typedef struct slot {
    int state;
    int owner; /* parser that parsed it */
    uint64_t seq;
    size_t n;
    bool last;
    swoosh_err_t rc;
    swoosh_error err;
    sw_buf_t text; /* record texts back to back */
    size_t off[CHUNK], len[CHUNK];
    uint64_t idx[CHUNK];
    char col[CHUNK][SWOOSH_HASH_HEX_SIZE];
    pitem_t items[CHUNK];
} slot_t;

typedef struct pipeline {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot_t *slots; /* SLOTS */
    bool stop, reader_done;
    /* With one spare core the reader parses its own chunks: a separate
     * parser thread would only add a copy and a cross-core hand-off. The
     * reader then also frees what it parsed (DONE chunks it takes back). */
    bool inline_parse;
    sw_wal_t *log;
    uint64_t from;
    uint64_t fill_seq; /* reader: chunk being filled */
    slot_t *fill;
} pipeline_t;

static void slot_clear(slot_t *sl)
{
    for (size_t i = 0; i < sl->n; i++)
        release_item(&sl->items[i]);
    sl->n = 0;
    sw_buf_reset(&sl->text);
}

/* Waits until the slot for fill_seq is free; false when stopping. */
static bool reader_take(pipeline_t *q)
{
    slot_t *sl = &q->slots[q->fill_seq % SLOTS];
    pthread_mutex_lock(&q->mu);
    while (sl->state != SL_FREE && !(q->inline_parse && sl->state == SL_DONE) &&
           !q->stop)
        pthread_cond_wait(&q->cv, &q->mu);
    bool ok = !q->stop;
    pthread_mutex_unlock(&q->mu);
    if (!ok)
        return false;
    slot_clear(sl); /* inline mode: a DONE chunk this thread parsed */
    sl->n = 0;
    sl->last = false;
    sl->rc = SWOOSH_OK;
    sw_buf_reset(&sl->text);
    q->fill = sl;
    return true;
}

static void parse_slot(slot_t *sl)
{
    for (size_t i = 0; i < sl->n; i++) {
        sw_wal_record_t rec = {.index = sl->idx[i],
                               .state_hash = sl->col[i],
                               .record = sl->text.data + sl->off[i],
                               .record_len = sl->len[i]};
        parse_item(&rec, &sl->items[i]);
    }
}

static void reader_publish(pipeline_t *q)
{
    if (q->inline_parse)
        parse_slot(q->fill);
    pthread_mutex_lock(&q->mu);
    q->fill->seq = q->fill_seq++;
    q->fill->state = q->inline_parse ? SL_PARSED : SL_RAW;
    q->fill = NULL;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static int reader_row(void *arg, const sw_wal_record_t *rec)
{
    pipeline_t *q = arg;
    if (!q->fill && !reader_take(q))
        return 1;
    slot_t *sl = q->fill;
    size_t i = sl->n++;
    sl->off[i] = sl->text.len;
    sl->len[i] = rec->record_len;
    sw_buf_append(&sl->text, rec->record, rec->record_len);
    sl->idx[i] = rec->index;
    size_t hl = strnlen(rec->state_hash, 64);
    memcpy(sl->col[i], rec->state_hash, hl);
    sl->col[i][hl] = '\0';
    if (sl->n == CHUNK)
        reader_publish(q);
    return 0;
}

static void *reader_main(void *arg)
{
    pipeline_t *q = arg;
    pthread_setname_np(pthread_self(), "sw-replay-read");
    swoosh_error err = {0};
    swoosh_err_t rc = sw_wal_read_from(q->log, q->from, 0, reader_row, q, &err);
    if (q->fill || reader_take(q)) {
        q->fill->last = true;
        q->fill->rc = rc;
        q->fill->err = err;
        reader_publish(q);
    }
    pthread_mutex_lock(&q->mu);
    q->reader_done = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

typedef struct parser_arg {
    pipeline_t *q;
    int id;
} parser_arg_t;

static void *parser_main(void *arg)
{
    parser_arg_t *pa = arg;
    pipeline_t *q = pa->q;
    pthread_setname_np(pthread_self(), "sw-replay-parse");
    pthread_mutex_lock(&q->mu);
    for (;;) {
        slot_t *raw = NULL, *done = NULL;
        for (int i = 0; i < SLOTS && !raw && !done; i++) {
            slot_t *sl = &q->slots[i];
            if (sl->state == SL_DONE && sl->owner == pa->id)
                done = sl;
            else if (sl->state == SL_RAW)
                raw = sl;
        }
        if (done) {
            done->state = SL_CLEARING;
            pthread_mutex_unlock(&q->mu);
            slot_clear(done);
            pthread_mutex_lock(&q->mu);
            done->state = SL_FREE;
            pthread_cond_broadcast(&q->cv);
            continue;
        }
        if (raw) {
            raw->state = SL_PARSING;
            raw->owner = pa->id;
            pthread_mutex_unlock(&q->mu);
            parse_slot(raw);
            pthread_mutex_lock(&q->mu);
            raw->state = SL_PARSED;
            pthread_cond_broadcast(&q->cv);
            continue;
        }
        if (q->stop)
            break;
        pthread_cond_wait(&q->cv, &q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static int parser_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 2)
        return 1;
    return n - 1 > MAX_PARSERS ? MAX_PARSERS : (int)(n - 1);
}

static swoosh_err_t replay_pipelined(sw_wal_t *log, replay_t *r,
                                     swoosh_error *err)
{
    pipeline_t q;
    memset(&q, 0, sizeof q);
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cv, NULL);
    q.slots = sw_xcalloc(SLOTS, sizeof *q.slots);
    q.log = log;
    q.from = r->expect;
    int np = parser_count();
    q.inline_parse = np <= 1;
    if (q.inline_parse)
        np = 0;
    pthread_t reader, parsers[MAX_PARSERS];
    parser_arg_t pargs[MAX_PARSERS];
    int started = 0;
    bool reader_started = pthread_create(&reader, NULL, reader_main, &q) == 0;
    for (int i = 0; reader_started && i < np; i++) {
        pargs[i] = (parser_arg_t){&q, i};
        if (pthread_create(&parsers[i], NULL, parser_main, &pargs[i]) != 0)
            break;
        started++;
    }
    swoosh_err_t rc = SWOOSH_OK;
    if (!reader_started || (started == 0 && !q.inline_parse)) {
        pthread_mutex_lock(&q.mu);
        q.stop = true;
        pthread_cond_broadcast(&q.cv);
        pthread_mutex_unlock(&q.mu);
        if (reader_started)
            pthread_join(reader, NULL);
        rc = sw_wal_read_from(log, r->expect, 0, replay_one, r, err);
        goto out;
    }
    for (uint64_t seq = 0;; seq++) {
        slot_t *sl = &q.slots[seq % SLOTS];
        pthread_mutex_lock(&q.mu);
        while (!(sl->state == SL_PARSED && sl->seq == seq))
            pthread_cond_wait(&q.cv, &q.mu);
        pthread_mutex_unlock(&q.mu);
        bool stop = false;
        for (size_t i = 0; i < sl->n && !stop; i++)
            stop = apply_item(r, &sl->items[i]) != 0;
        bool last = sl->last;
        if (last && !stop && sl->rc != SWOOSH_OK) {
            rc = sl->rc;
            if (err)
                *err = sl->err;
        }
        pthread_mutex_lock(&q.mu);
        sl->state = SL_DONE;
        if (stop || last)
            q.stop = true;
        pthread_cond_broadcast(&q.cv);
        pthread_mutex_unlock(&q.mu);
        if (stop || last)
            break;
    }
    pthread_join(reader, NULL);
    for (int i = 0; i < started; i++)
        pthread_join(parsers[i], NULL);
out:
    for (int i = 0; i < SLOTS; i++) {
        slot_clear(&q.slots[i]);
        sw_buf_free(&q.slots[i].text);
    }
    free(q.slots);
    pthread_mutex_destroy(&q.mu);
    pthread_cond_destroy(&q.cv);
    return rc;
}

/* Replay is the heart of verifiability (SPEC §1.5, §4): the same reducer,
 * the recorded guards and receive times, and a hash check per record. */
swoosh_err_t sw_recovery_replay(sw_wal_t *log, sw_state_t *s, uint64_t upto,
                                uint64_t *replayed, swoosh_error *err)
{
    replay_t r = {.s = s,
                  .expect = s->meta.index + 1,
                  .upto = upto,
                  .rc = SWOOSH_OK,
                  .err = err};
    if (replayed)
        *replayed = 0;
    if (upto && upto <= s->meta.index)
        return SWOOSH_OK;
    uint64_t last = sw_wal_last_index(log);
    uint64_t remaining = last >= r.expect ? last - r.expect + 1 : 0;
    if (upto && upto - s->meta.index < remaining)
        remaining = upto - s->meta.index;
    swoosh_err_t rc =
        remaining >= 4 * CHUNK
            ? replay_pipelined(log, &r, err)
            : sw_wal_read_from(log, r.expect, 0, replay_one, &r, err);
    if (replayed)
        *replayed = r.count;
    if (r.rc != SWOOSH_OK)
        return r.rc;
    if (rc != SWOOSH_OK)
        return rc;
    if (upto && r.expect <= upto)
        return sw_error_set(err, SWOOSH_EDIVERGED, 0,
                            "log ends at %" PRIu64 ", expected %" PRIu64,
                            r.expect - 1, upto);
    return SWOOSH_OK;
}
