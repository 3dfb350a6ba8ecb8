/* reduce: the per-transition conditions and effects the catalog table points
 * to (SPEC §5), one reduce_<section>.c file per section.
 *
 * A check function runs after the generic steps (HLC skew, pause, quarantine,
 * licence, admin, guards, window, phase, council id) and tests the row's own
 * conditions in the order SPEC's table lists them. It never changes the
 * state; on failure it writes a sentence into msg and returns the code.
 *
 * An apply function runs only after every check passed, and after the
 * reducer has already advanced Meta: `s->meta.index` is the NEW index (the
 * value JoinedIndex, CreatedIndex and UpdatedIndex take). It calls
 * sw_state_touch()/sw_state_touch_task() for everything it changes.
 *
 * Internal to the reducer and the catalog; not part of any other interface.
 */
#ifndef SW_REDUCE_H
#define SW_REDUCE_H

#include "catalog.h"
#include "err.h"
#include "proposal.h"
#include "state.h"

#define SW_REDUCE_CHECK(name)                                                  \
    sw_code_t sw_reduce_check_##name(const sw_state_t *s,                      \
                                     const sw_proposal_t *p,                   \
                                     char msg[SWOOSH_MSG_SIZE])
#define SW_REDUCE_APPLY(name)                                                  \
    void sw_reduce_apply_##name(sw_state_t *s, const sw_proposal_t *p)

/* Boot, Control and Policy (reduce_control.c). */
SW_REDUCE_APPLY(license_granted);
SW_REDUCE_APPLY(license_revoked);
SW_REDUCE_APPLY(control_pause);
SW_REDUCE_APPLY(control_resume);
SW_REDUCE_APPLY(quarantine_enter);
SW_REDUCE_APPLY(quarantine_release);
SW_REDUCE_APPLY(recovery_started);
SW_REDUCE_APPLY(recovery_complete);
SW_REDUCE_APPLY(policy_updated);

/* Ingestion (reduce_ingestion.c). */
SW_REDUCE_APPLY(ingestion_started);
SW_REDUCE_APPLY(ingestion_fetched);
SW_REDUCE_APPLY(ingestion_validated);
SW_REDUCE_APPLY(ingestion_indexed);
SW_REDUCE_APPLY(ingestion_failed);

/* Council (reduce_council.c). */
SW_REDUCE_APPLY(council_profiles_loaded);
SW_REDUCE_CHECK(council_role_claimed);
SW_REDUCE_APPLY(council_role_claimed);
SW_REDUCE_CHECK(council_role_released);
SW_REDUCE_APPLY(council_role_released);
SW_REDUCE_CHECK(council_quorum_cert);
SW_REDUCE_APPLY(council_quorum_cert);
SW_REDUCE_CHECK(council_elect_complete);
SW_REDUCE_APPLY(council_elect_complete);
SW_REDUCE_APPLY(council_tooling_synced);
SW_REDUCE_APPLY(council_dissolved);

/* Environment (reduce_environment.c). */
SW_REDUCE_APPLY(env_allocation_requested);
SW_REDUCE_APPLY(env_allocated);
SW_REDUCE_APPLY(env_provisioned);
SW_REDUCE_APPLY(env_health_green);
SW_REDUCE_APPLY(env_health_red);
SW_REDUCE_APPLY(env_released);

/* Execution (reduce_execution.c). */
SW_REDUCE_CHECK(exec_window_opened);
SW_REDUCE_APPLY(exec_window_opened);
SW_REDUCE_APPLY(exec_plan_locked);
SW_REDUCE_APPLY(exec_beat);
SW_REDUCE_APPLY(exec_review_started);
SW_REDUCE_CHECK(exec_approval);
SW_REDUCE_APPLY(exec_approval);
SW_REDUCE_CHECK(exec_review_passed);
SW_REDUCE_APPLY(exec_review_passed);
SW_REDUCE_APPLY(exec_review_failed);
SW_REDUCE_APPLY(exec_window_closed);
SW_REDUCE_CHECK(exec_task_created);
SW_REDUCE_APPLY(exec_task_created);
SW_REDUCE_CHECK(exec_task_claimed);
SW_REDUCE_APPLY(exec_task_claimed);
SW_REDUCE_CHECK(exec_task_released);
SW_REDUCE_APPLY(exec_task_released);
SW_REDUCE_CHECK(exec_task_finished);
SW_REDUCE_APPLY(exec_task_complete);
SW_REDUCE_APPLY(exec_task_failed);

/* Writes a printf-style sentence into a 256-byte message buffer. */
void sw_reduce_msg(char msg[SWOOSH_MSG_SIZE], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
