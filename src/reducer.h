/* reducer: the pure, deterministic transition function (SPEC §1.2, §5).
 *
 *   reduce(state, proposal, guard_outcome, received_at_ms) -> (state', result)
 *
 * It runs steps 4–7 of SPEC §5's evaluation order (HLC_SKEW, pause/quarantine/
 * license/admin, guards, window/phase/own conditions) and applies the effect in
 * place. Step 1 is sw_proposal_parse(); steps 2–3 (idempotency and the
 * current_state_hash precondition) need the log and the hash, so the executor
 * runs them (sw_check_precondition below). A rejected proposal leaves the
 * state untouched. No clock, randomness, I/O or floating point.
 */
#ifndef SW_REDUCER_H
#define SW_REDUCER_H

#include "catalog.h"
#include "proposal.h"
#include "state.h"

/* A guard outcome (SPEC §4), one flag per row of SW_GUARD_MAP. */
typedef struct sw_guards {
#define SW_GUARD_FIELD_(G_ID, G_FIELD, G_NAME, G_BIT) bool G_FIELD;
    SW_GUARD_MAP(SW_GUARD_FIELD_)
#undef SW_GUARD_FIELD_
} sw_guards_t;

/* All guards passing (the static provider's default). */
extern const sw_guards_t SW_GUARDS_ALL_OK;

typedef enum sw_outcome {
    SW_OUT_REJECTED,    /* nothing changed, nothing logged */
    SW_OUT_APPLIED,     /* state changed, logged as "applied" */
    SW_OUT_QUARANTINED, /* PolicyOK=false: quarantine entered, logged */
    SW_OUT__COUNT
} sw_outcome_t;

typedef struct sw_result {
    sw_outcome_t outcome;
    sw_code_t
        code; /* SW_C_OK when applied; POLICY_VIOLATION when quarantined */
    char msg[SWOOSH_MSG_SIZE]; /* sentence: what was expected (e.g.
                                * current/allowed phases)
                                */
} sw_result_t;

/* Applies p to s (SPEC §5 steps 4–7). p->has_hlc should be true (the
 * executor stamps one); HLCLast = max(HLCLast, p->hlc). */
void sw_reduce(sw_state_t *s, const sw_proposal_t *p, const sw_guards_t *g,
               uint64_t received_at_ms, sw_result_t *r);

/* Step 3: the current_state_hash precondition. "genesis" = index 0. Returns
 * SW_C_OK or SW_C_STATE_HASH_MISMATCH with msg. */
sw_code_t sw_check_precondition(const sw_proposal_t *p, uint64_t index,
                                const char *current_hash,
                                char msg[SWOOSH_MSG_SIZE]);

/* Names for WAL records and logs. */
const char *sw_outcome_name(sw_outcome_t o);

#endif
