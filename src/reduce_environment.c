/* reduce_environment: the Environment section's effects (SPEC §5). */
#include "reduce.h"

/* SPEC §5: ENV_ALLOCATION_REQUESTED →ALLOCATE, Epoch+1, Resources set. */
SW_REDUCE_APPLY(env_allocation_requested)
{
    const char *k;
    json_t *v;
    sw_map_clear(&s->environment.resources);
    json_object_foreach(p->pl.resources, k, v)
    {
        sw_map_set(&s->environment.resources, k, json_string_value(v));
    }
    s->environment.phase = SW_ENV_ALLOCATE;
    s->environment.epoch++;
    sw_state_touch(s, SW_SEC_ENVIRONMENT);
}

/* SPEC §5: ENV_ALLOCATED →PROVISION. */
SW_REDUCE_APPLY(env_allocated)
{
    (void)p;
    s->environment.phase = SW_ENV_PROVISION;
    sw_state_touch(s, SW_SEC_ENVIRONMENT);
}

/* SPEC §5: ENV_PROVISIONED →HEALTHCHECK. */
SW_REDUCE_APPLY(env_provisioned)
{
    (void)p;
    s->environment.phase = SW_ENV_HEALTHCHECK;
    sw_state_touch(s, SW_SEC_ENVIRONMENT);
}

/* SPEC §5: ENV_HEALTH_GREEN →READY, clears LastError and Control.Degraded. */
SW_REDUCE_APPLY(env_health_green)
{
    (void)p;
    s->environment.phase = SW_ENV_READY;
    sw_str_set(&s->environment.last_error, "");
    s->control.degraded = false;
    sw_state_touch(s, SW_SEC_ENVIRONMENT);
    sw_state_touch(s, SW_SEC_CONTROL);
}

/* SPEC §5: ENV_HEALTH_RED →DEGRADED, LastError = reason, Degraded=true. */
SW_REDUCE_APPLY(env_health_red)
{
    s->environment.phase = SW_ENV_DEGRADED;
    sw_str_set(&s->environment.last_error, p->pl.reason);
    s->control.degraded = true;
    sw_state_touch(s, SW_SEC_ENVIRONMENT);
    sw_state_touch(s, SW_SEC_CONTROL);
}

/* SPEC §5: ENV_RELEASED →IDLE, clears Resources, LastError and
 * Control.Degraded. */
SW_REDUCE_APPLY(env_released)
{
    (void)p;
    s->environment.phase = SW_ENV_IDLE;
    sw_map_clear(&s->environment.resources);
    sw_str_set(&s->environment.last_error, "");
    s->control.degraded = false;
    sw_state_touch(s, SW_SEC_ENVIRONMENT);
    sw_state_touch(s, SW_SEC_CONTROL);
}
