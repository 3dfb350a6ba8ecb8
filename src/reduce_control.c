/* reduce_control: Boot (licence), Control and Policy effects (SPEC §5). */
#include "reduce.h"

#include <string.h>

/* SPEC §5: LICENSE_GRANTED sets Licensed and, when given, LicenseID/NodeID. */
SW_REDUCE_APPLY(license_granted)
{
    s->boot.licensed = true;
    if (p->pl.license_id)
        sw_str_set(&s->boot.license_id, p->pl.license_id);
    if (p->pl.node_id)
        sw_str_set(&s->boot.node_id, p->pl.node_id);
    sw_state_touch(s, SW_SEC_BOOT);
}

/* SPEC §5: LICENSE_REVOKED keeps LicenseID and NodeID. */
SW_REDUCE_APPLY(license_revoked)
{
    (void)p;
    s->boot.licensed = false;
    sw_state_touch(s, SW_SEC_BOOT);
}

/* SPEC §5: CONTROL_* reasons are logged only, never stored. */
SW_REDUCE_APPLY(control_pause)
{
    (void)p;
    s->control.paused = true;
    sw_state_touch(s, SW_SEC_CONTROL);
}

/* SPEC §5: CONTROL_RESUME clears Paused. */
SW_REDUCE_APPLY(control_resume)
{
    (void)p;
    s->control.paused = false;
    sw_state_touch(s, SW_SEC_CONTROL);
}

/* SPEC §5: QUARANTINE_ENTER stores the payload reason. */
SW_REDUCE_APPLY(quarantine_enter)
{
    s->control.quarantined = true;
    sw_str_set(&s->control.quarantine_reason, p->pl.reason);
    sw_state_touch(s, SW_SEC_CONTROL);
}

/* SPEC §5: QUARANTINE_RELEASE clears the flag and the reason. */
SW_REDUCE_APPLY(quarantine_release)
{
    (void)p;
    s->control.quarantined = false;
    sw_str_set(&s->control.quarantine_reason, "");
    sw_state_touch(s, SW_SEC_CONTROL);
}

/* SPEC §5: RECOVERY_STARTED sets Recovering. */
SW_REDUCE_APPLY(recovery_started)
{
    (void)p;
    s->control.recovering = true;
    sw_state_touch(s, SW_SEC_CONTROL);
}

/* SPEC §5: RECOVERY_COMPLETE clears Recovering. */
SW_REDUCE_APPLY(recovery_complete)
{
    (void)p;
    s->control.recovering = false;
    sw_state_touch(s, SW_SEC_CONTROL);
}

/* SPEC §5: the given Policy fields are replaced (admins and params
 * wholesale, admins kept sorted and unique) and Version+1. */
SW_REDUCE_APPLY(policy_updated)
{
    const sw_payload_t *pl = &p->pl;
    if (pl->has_approval_threshold)
        s->policy.approval_threshold = pl->approval_threshold;
    if (pl->has_max_tasks)
        s->policy.max_tasks = pl->max_tasks;
    if (pl->has_max_members)
        s->policy.max_members = pl->max_members;
    if (pl->has_max_clock_skew_ms)
        s->policy.max_clock_skew_ms = pl->max_clock_skew_ms;
    if (pl->admins) {
        sw_strset_clear(&s->policy.admins);
        for (size_t i = 0; i < json_array_size(pl->admins); i++)
            sw_strset_add(&s->policy.admins,
                          json_string_value(json_array_get(pl->admins, i)));
    }
    if (pl->params) {
        const char *k;
        json_t *v;
        sw_map_clear(&s->policy.params);
        json_object_foreach(pl->params, k, v)
        {
            sw_map_set(&s->policy.params, k, json_string_value(v));
        }
    }
    s->policy.version++;
    sw_state_touch(s, SW_SEC_POLICY);
}
