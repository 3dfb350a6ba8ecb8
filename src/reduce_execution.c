/* reduce_execution: the Execution section's conditions and effects, windows
 * and tasks (SPEC §5). */
#include "reduce.h"

#include <string.h>

/* SPEC §5 order: Council READY and Environment READY (NOT_READY), then not
 * Degraded (DEGRADED) and not Recovering (RECOVERING). */
SW_REDUCE_CHECK(exec_window_opened)
{
    (void)p;
    if (s->council.phase != SW_CNC_READY) {
        sw_reduce_msg(msg,
                      "EXECUTION_WINDOW_OPENED needs Council phase READY; it "
                      "is %s",
                      sw_phase_name(SW_SEC_COUNCIL, (int)s->council.phase));
        return SW_C_NOT_READY;
    }
    if (s->environment.phase != SW_ENV_READY) {
        sw_reduce_msg(
            msg,
            "EXECUTION_WINDOW_OPENED needs Environment phase READY; "
            "it is %s",
            sw_phase_name(SW_SEC_ENVIRONMENT, (int)s->environment.phase));
        return SW_C_NOT_READY;
    }
    if (s->control.degraded) {
        sw_reduce_msg(msg, "the system is degraded; no window can open");
        return SW_C_DEGRADED;
    }
    if (s->control.recovering) {
        sw_reduce_msg(msg, "the system is recovering; no window can open");
        return SW_C_RECOVERING;
    }
    return SW_C_OK;
}

/* SPEC §5: →PLAN, ActiveWindowID = payload window_id, BeatIndex=0,
 * Approvals=[], Epoch+1; OPEN and CLAIMED tasks stay, the rest are evicted. */
SW_REDUCE_APPLY(exec_window_opened)
{
    s->execution.phase = SW_EXE_PLAN;
    sw_str_set(&s->execution.active_window_id, p->pl.window_id);
    s->execution.beat_index = 0;
    sw_strset_clear(&s->execution.approvals);
    s->execution.epoch++;
    sw_tasks_evict_finished(s);
    sw_state_touch(s, SW_SEC_EXECUTION);
}

/* SPEC §5: EXECUTION_PLAN_LOCKED →WORK. */
SW_REDUCE_APPLY(exec_plan_locked)
{
    (void)p;
    s->execution.phase = SW_EXE_WORK;
    sw_state_touch(s, SW_SEC_EXECUTION);
}

/* SPEC §5: EXECUTION_BEAT advances BeatIndex. */
SW_REDUCE_APPLY(exec_beat)
{
    (void)p;
    s->execution.beat_index++;
    sw_state_touch(s, SW_SEC_EXECUTION);
}

/* SPEC §5: →REVIEW with empty Approvals. */
SW_REDUCE_APPLY(exec_review_started)
{
    (void)p;
    s->execution.phase = SW_EXE_REVIEW;
    sw_strset_clear(&s->execution.approvals);
    sw_state_touch(s, SW_SEC_EXECUTION);
}

/* SPEC §5 order: the signer is a council member (NOT_A_MEMBER) and has not
 * approved yet (ALREADY_APPROVED). */
SW_REDUCE_CHECK(exec_approval)
{
    if (sw_council_find_member(s, p->signer) < 0) {
        sw_reduce_msg(msg, "signer \"%.128s\" is not a council member",
                      p->signer);
        return SW_C_NOT_A_MEMBER;
    }
    if (sw_strset_has(&s->execution.approvals, p->signer)) {
        sw_reduce_msg(msg, "signer \"%.128s\" has already approved", p->signer);
        return SW_C_ALREADY_APPROVED;
    }
    return SW_C_OK;
}

/* SPEC §5: adds the signer to Approvals (kept sorted and unique). */
SW_REDUCE_APPLY(exec_approval)
{
    sw_strset_add(&s->execution.approvals, p->signer);
    sw_state_touch(s, SW_SEC_EXECUTION);
}

/* SPEC §5: Approvals >= Policy.ApprovalThreshold. */
SW_REDUCE_CHECK(exec_review_passed)
{
    (void)p;
    if (s->execution.approvals.n < s->policy.approval_threshold) {
        sw_reduce_msg(msg, "%zu approvals; Policy.ApprovalThreshold is %llu",
                      s->execution.approvals.n,
                      (unsigned long long)s->policy.approval_threshold);
        return SW_C_APPROVALS_BELOW_THRESHOLD;
    }
    return SW_C_OK;
}

/* SPEC §5: EXECUTION_REVIEW_PASSED →REVERB. */
SW_REDUCE_APPLY(exec_review_passed)
{
    (void)p;
    s->execution.phase = SW_EXE_REVERB;
    sw_state_touch(s, SW_SEC_EXECUTION);
}

/* SPEC §5: →WORK and Approvals cleared; the reason is logged only. */
SW_REDUCE_APPLY(exec_review_failed)
{
    (void)p;
    s->execution.phase = SW_EXE_WORK;
    sw_strset_clear(&s->execution.approvals);
    sw_state_touch(s, SW_SEC_EXECUTION);
}

/* SPEC §5: →IDLE, ActiveWindowID cleared; BeatIndex, Approvals and tasks
 * kept. */
SW_REDUCE_APPLY(exec_window_closed)
{
    (void)p;
    s->execution.phase = SW_EXE_IDLE;
    sw_str_set(&s->execution.active_window_id, "");
    sw_state_touch(s, SW_SEC_EXECUTION);
}

/* SPEC §5 order: fewer than MaxTasks tasks (LIMIT_EXCEEDED; COMPLETED and
 * FAILED count until evicted), then a new id (TASK_EXISTS). */
SW_REDUCE_CHECK(exec_task_created)
{
    if (s->execution.tasks.n >= s->policy.max_tasks) {
        sw_reduce_msg(msg, "there are %zu tasks; Policy.MaxTasks is %llu",
                      s->execution.tasks.n,
                      (unsigned long long)s->policy.max_tasks);
        return SW_C_LIMIT_EXCEEDED;
    }
    if (sw_tasks_find(&s->execution.tasks, p->pl.task_id)) {
        sw_reduce_msg(msg, "task \"%.128s\" exists", p->pl.task_id);
        return SW_C_TASK_EXISTS;
    }
    return SW_C_OK;
}

/* SPEC §5: a new OPEN task; CreatedIndex = UpdatedIndex = new Index. */
SW_REDUCE_APPLY(exec_task_created)
{
    sw_task_t *t = sw_task_new(p->pl.task_id, p->pl.title, s->meta.index);
    sw_tasks_insert(s, t);
    sw_state_touch_task(s, t);
}

static sw_code_t find_task(const sw_state_t *s, const char *id, sw_task_t **out,
                           char msg[SWOOSH_MSG_SIZE])
{
    *out = sw_tasks_find(&s->execution.tasks, id);
    if (!*out) {
        sw_reduce_msg(msg, "no task has id \"%.128s\"", id);
        return SW_C_UNKNOWN_TASK;
    }
    return SW_C_OK;
}

/* SPEC §5 order: the task exists (UNKNOWN_TASK) and is OPEN (TASK_NOT_OPEN);
 * not Degraded (DEGRADED) or Recovering (RECOVERING). */
SW_REDUCE_CHECK(exec_task_claimed)
{
    sw_task_t *t;
    sw_code_t c = find_task(s, p->pl.task_id, &t, msg);
    if (c != SW_C_OK)
        return c;
    if (t->status != SW_TASK_OPEN) {
        sw_reduce_msg(msg, "task \"%.128s\" is %s, not OPEN", t->id,
                      sw_task_status_name(t->status));
        return SW_C_TASK_NOT_OPEN;
    }
    if (s->control.degraded) {
        sw_reduce_msg(msg, "the system is degraded; tasks cannot be claimed");
        return SW_C_DEGRADED;
    }
    if (s->control.recovering) {
        sw_reduce_msg(msg, "the system is recovering; tasks cannot be claimed");
        return SW_C_RECOVERING;
    }
    return SW_C_OK;
}

/* SPEC §5: CLAIMED by agent_id; UpdatedIndex = new Index. */
SW_REDUCE_APPLY(exec_task_claimed)
{
    sw_task_t *t = sw_tasks_find(&s->execution.tasks, p->pl.task_id);
    t->status = SW_TASK_CLAIMED;
    sw_str_set(&t->claimant, p->pl.agent_id);
    t->updated_index = s->meta.index;
    sw_state_touch_task(s, t);
}

/* Shared by release/complete/fail: UNKNOWN_TASK, then TASK_NOT_CLAIMED
 * (admins included), then NOT_CLAIMANT unless `admin_ok`. */
static sw_code_t check_claimed(const sw_state_t *s, const sw_proposal_t *p,
                               bool admin_ok, char msg[SWOOSH_MSG_SIZE])
{
    sw_task_t *t;
    sw_code_t c = find_task(s, p->pl.task_id, &t, msg);
    if (c != SW_C_OK)
        return c;
    if (t->status != SW_TASK_CLAIMED) {
        sw_reduce_msg(msg, "task \"%.128s\" is %s, not CLAIMED", t->id,
                      sw_task_status_name(t->status));
        return SW_C_TASK_NOT_CLAIMED;
    }
    if (strcmp(t->claimant, p->pl.agent_id) != 0 &&
        !(admin_ok && sw_strset_has(&s->policy.admins, p->signer))) {
        sw_reduce_msg(msg,
                      "task \"%.100s\" is claimed by \"%.128s\", not "
                      "by agent_id",
                      t->id, t->claimant);
        return SW_C_NOT_CLAIMANT;
    }
    return SW_C_OK;
}

/* SPEC §5: the claimant, or any admin signer, may release a CLAIMED task. */
SW_REDUCE_CHECK(exec_task_released)
{
    return check_claimed(s, p, true, msg);
}

/* SPEC §5: OPEN again, Claimant cleared, UpdatedIndex = new Index. */
SW_REDUCE_APPLY(exec_task_released)
{
    sw_task_t *t = sw_tasks_find(&s->execution.tasks, p->pl.task_id);
    t->status = SW_TASK_OPEN;
    sw_str_set(&t->claimant, "");
    t->updated_index = s->meta.index;
    sw_state_touch_task(s, t);
}

/* SPEC §5: only the claimant completes or fails a task. */
SW_REDUCE_CHECK(exec_task_finished)
{
    return check_claimed(s, p, false, msg);
}

/* SPEC §5: COMPLETED with Result = result ("" when absent). */
SW_REDUCE_APPLY(exec_task_complete)
{
    sw_task_t *t = sw_tasks_find(&s->execution.tasks, p->pl.task_id);
    t->status = SW_TASK_COMPLETED;
    sw_str_set(&t->result, p->pl.result ? p->pl.result : "");
    t->updated_index = s->meta.index;
    sw_state_touch_task(s, t);
}

/* SPEC §5: FAILED with Result = reason. */
SW_REDUCE_APPLY(exec_task_failed)
{
    sw_task_t *t = sw_tasks_find(&s->execution.tasks, p->pl.task_id);
    t->status = SW_TASK_FAILED;
    sw_str_set(&t->result, p->pl.reason);
    t->updated_index = s->meta.index;
    sw_state_touch_task(s, t);
}
