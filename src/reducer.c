/* reducer: SPEC §5 steps 4–7 over the catalog table, Meta bookkeeping, the
 * quarantine record, and the step-3 precondition (see reducer.h). */
#include "reducer.h"

#include "reduce.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const sw_guards_t SW_GUARDS_ALL_OK = {true, true, true, true, true};

/* One sentence per rejection keeps every answer self-explanatory; shared by
 * the per-section files so they format messages the same way. */
void sw_reduce_msg(char msg[SWOOSH_MSG_SIZE], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, SWOOSH_MSG_SIZE, fmt, ap);
    va_end(ap);
    /* Sentences echo client ids, which may hold any bytes (and %.Ns may cut
     * a UTF-8 sequence): make them printable ASCII here, once for every
     * check, as sw_quote does (it works in place, byte for byte). */
    sw_quote(msg, SWOOSH_MSG_SIZE - 1, msg, strlen(msg));
}

static void reject(sw_result_t *r, sw_code_t code)
{
    r->outcome = SW_OUT_REJECTED;
    r->code = code;
}

/* "EXECUTION_BEAT needs Execution phase PLAN, WORK, REVIEW or REVERB; it is
 * IDLE". */
static void phase_msg(const sw_catalog_entry_t *e, int cur,
                      char msg[SWOOSH_MSG_SIZE])
{
    char list[160] = "";
    size_t off = 0;
    int total = 0, seen = 0;
    int np = sw_phase_count(e->phase_section);
    for (int ph = 0; ph < np; ph++)
        if (e->phases & (1u << ph))
            total++;
    for (int ph = 0; ph < np; ph++) {
        if (!(e->phases & (1u << ph)))
            continue;
        const char *sep = seen == 0 ? "" : seen == total - 1 ? " or " : ", ";
        int w = snprintf(list + off, sizeof list - off, "%s%s", sep,
                         sw_phase_name(e->phase_section, ph));
        if (w > 0 && (size_t)w < sizeof list - off)
            off += (size_t)w;
        seen++;
    }
    sw_reduce_msg(msg, "%s needs %s phase %s; it is %s", e->name,
                  sw_section_name(e->phase_section), list,
                  sw_phase_name(e->phase_section, cur));
}

/* Meta of every logged record (SPEC §5 "Every applied transition sets
 * Meta.Index+1, LastTransition, LastSigner, HLCLast"; the quarantine record
 * too). */
static void advance_meta(sw_state_t *s, const sw_proposal_t *p)
{
    s->meta.index++;
    if (strcmp(s->meta.last_transition, p->entry->name) != 0)
        sw_str_set(&s->meta.last_transition, p->entry->name);
    if (strcmp(s->meta.last_signer, p->signer) != 0)
        sw_str_set(&s->meta.last_signer, p->signer);
    if (p->has_hlc)
        s->meta.hlc_last = sw_hlc_max(&s->meta.hlc_last, &p->hlc);
    sw_state_touch(s, SW_SEC_META);
}

static bool str_nonempty(const char *v)
{
    return v && v[0] != '\0';
}

/* Step 4: HLC_SKEW, written without an overflowing addition. */
static sw_code_t check_skew(const sw_state_t *s, const sw_proposal_t *p,
                            uint64_t received_at_ms, char msg[SWOOSH_MSG_SIZE])
{
    if (!p->has_hlc || p->hlc.p <= received_at_ms ||
        p->hlc.p - received_at_ms <= s->policy.max_clock_skew_ms)
        return SW_C_OK;
    sw_reduce_msg(msg,
                  "hlc physical time %llu ms is more than "
                  "Policy.MaxClockSkewMs=%llu ms ahead of the server clock "
                  "(%llu ms)",
                  (unsigned long long)p->hlc.p,
                  (unsigned long long)s->policy.max_clock_skew_ms,
                  (unsigned long long)received_at_ms);
    return SW_C_HLC_SKEW;
}

/* Step 5: paused, quarantined, not licensed, not an admin, in that order;
 * Control transitions pass the first three. */
static sw_code_t check_gates(const sw_state_t *s, const sw_proposal_t *p,
                             char msg[SWOOSH_MSG_SIZE])
{
    const sw_catalog_entry_t *e = p->entry;
    bool control = (e->flags & SW_T_CONTROL) != 0;
    if (!control && s->control.paused) {
        sw_reduce_msg(msg,
                      "the system is paused; %s is not a Control transition",
                      e->name);
        return SW_C_PAUSED;
    }
    if (!control && s->control.quarantined) {
        sw_reduce_msg(msg,
                      "the system is quarantined (%.150s); %s is not a "
                      "Control transition",
                      s->control.quarantine_reason, e->name);
        return SW_C_QUARANTINED;
    }
    if (!control && !(e->flags & SW_T_UNLICENSED) && !s->boot.licensed) {
        sw_reduce_msg(msg,
                      "the node is not licensed; %s needs LICENSE_GRANTED "
                      "first",
                      e->name);
        return SW_C_NOT_LICENSED;
    }
    if ((e->flags & SW_T_ADMIN) && s->policy.admins.n > 0 &&
        !sw_strset_has(&s->policy.admins, p->signer)) {
        sw_reduce_msg(msg,
                      "signer \"%.128s\" is not in Policy.Admins; %s needs "
                      "an admin",
                      p->signer, e->name);
        return SW_C_UNAUTHORIZED_SIGNER;
    }
    return SW_C_OK;
}

/* Step 6, second half: a guard the row requires that failed (PolicyOK, bit
 * 0 in SW_GUARD_MAP, is decided before, as a quarantine). */
static sw_code_t check_guards(const sw_catalog_entry_t *e, const sw_guards_t *g,
                              char msg[SWOOSH_MSG_SIZE])
{
#define CHECK_GUARD_(G_ID, G_FIELD, G_NAME, G_BIT)                             \
    if (((G_BIT)&e->guards) && !g->G_FIELD) {                                  \
        sw_reduce_msg(msg, "guard %s rejected %s", G_NAME, e->name);           \
        return SW_C_GUARD_REJECTED;                                            \
    }
    SW_GUARD_MAP(CHECK_GUARD_)
#undef CHECK_GUARD_
    return SW_C_OK;
}

/* Step 7: window, phase, council id, then the row's own conditions in the
 * order SPEC §5's table lists them. */
static sw_code_t check_row(const sw_state_t *s, const sw_proposal_t *p,
                           char msg[SWOOSH_MSG_SIZE])
{
    const sw_catalog_entry_t *e = p->entry;
    if ((e->flags & SW_T_WINDOW) && str_nonempty(p->window_id) &&
        str_nonempty(s->execution.active_window_id) &&
        strcmp(p->window_id, s->execution.active_window_id) != 0) {
        sw_reduce_msg(msg,
                      "window_id \"%.100s\" is not the active window "
                      "\"%.100s\"",
                      p->window_id, s->execution.active_window_id);
        return SW_C_WINDOW_MISMATCH;
    }
    if (e->phase_section != SW_SEC__COUNT) {
        int cur = sw_state_phase(s, e->phase_section);
        if (cur < 0 || !(e->phases & (1u << cur))) {
            phase_msg(e, cur, msg);
            return SW_C_INVALID_PHASE;
        }
    }
    const char *council = p->pl.council_id ? p->pl.council_id : "";
    if ((e->flags & SW_T_COUNCIL_ID) &&
        strcmp(council, s->council.council_id) != 0) {
        sw_reduce_msg(msg,
                      "council_id \"%.100s\" is not the current council "
                      "\"%.100s\"",
                      council, s->council.council_id);
        return SW_C_COUNCIL_MISMATCH;
    }
    return e->check ? e->check(s, p, msg) : SW_C_OK;
}

/* Step 6, first half (SPEC §4): PolicyOK=false is not applied but logged as
 * a quarantine record, with Meta advanced as for an applied one. */
static void quarantine(sw_state_t *s, const sw_proposal_t *p, sw_result_t *r)
{
    char reason[300];
    snprintf(reason, sizeof reason, "policy violation: %s by %s",
             p->entry->name, p->signer);
    advance_meta(s, p);
    s->control.quarantined = true;
    sw_str_set(&s->control.quarantine_reason, reason);
    sw_state_touch(s, SW_SEC_CONTROL);
    r->outcome = SW_OUT_QUARANTINED;
    r->code = SW_C_POLICY_VIOLATION;
    sw_reduce_msg(r->msg, "%.250s; the system is quarantined", reason);
}

/* Steps 4–7 of SPEC §5 in its order; the first failing step decides. All
 * checks read the state only, so a rejection leaves it byte-identical; the
 * effect (and Meta) is written only once everything passed. */
void sw_reduce(sw_state_t *s, const sw_proposal_t *p, const sw_guards_t *g,
               uint64_t received_at_ms, sw_result_t *r)
{
    const sw_catalog_entry_t *e = p->entry;
    r->outcome = SW_OUT_REJECTED;
    r->code = SW_C_OK;
    r->msg[0] = '\0';
    if (!g)
        g = &SW_GUARDS_ALL_OK;

    sw_code_t c = check_skew(s, p, received_at_ms, r->msg);
    if (c == SW_C_OK)
        c = check_gates(s, p, r->msg);
    if (c == SW_C_OK && !g->policy_ok) {
        quarantine(s, p, r);
        return;
    }
    if (c == SW_C_OK)
        c = check_guards(e, g, r->msg);
    if (c == SW_C_OK)
        c = check_row(s, p, r->msg);
    if (c != SW_C_OK) {
        reject(r, c);
        return;
    }
    advance_meta(s, p);
    e->apply(s, p);
    r->outcome = SW_OUT_APPLIED;
    r->code = SW_C_OK;
    sw_reduce_msg(r->msg, "%s applied", e->name);
}

/* Step 3 of SPEC §5: an optimistic-concurrency precondition; "genesis" is a
 * convenience for "nothing applied yet" (the seed's curl example). */
sw_code_t sw_check_precondition(const sw_proposal_t *p, uint64_t index,
                                const char *current_hash,
                                char msg[SWOOSH_MSG_SIZE])
{
    const char *want = p->current_state_hash;
    msg[0] = '\0';
    if (!want || want[0] == '\0' || strcmp(want, "*") == 0)
        return SW_C_OK;
    if (strcmp(want, "genesis") == 0) {
        if (index == 0)
            return SW_C_OK;
        sw_reduce_msg(msg,
                      "current_state_hash \"genesis\" needs index 0; the "
                      "state is at index %llu with hash %s",
                      (unsigned long long)index, current_hash);
        return SW_C_STATE_HASH_MISMATCH;
    }
    if (strcmp(want, current_hash) == 0)
        return SW_C_OK;
    sw_reduce_msg(msg,
                  "current_state_hash does not match; the current state "
                  "hash is %s",
                  current_hash);
    return SW_C_STATE_HASH_MISMATCH;
}

/* WAL records and logs name outcomes in lowercase (SPEC §4). */
const char *sw_outcome_name(sw_outcome_t o)
{
    switch (o) {
    case SW_OUT_APPLIED:
        return "applied";
    case SW_OUT_QUARANTINED:
        return "quarantined";
    case SW_OUT_REJECTED:
    case SW_OUT__COUNT:
        break;
    }
    return "rejected";
}
