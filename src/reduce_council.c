/* reduce_council: the Council section's conditions and effects (SPEC §5). */
#include "reduce.h"

#include <stdlib.h>
#include <string.h>

static void free_members(sw_state_t *s)
{
    for (size_t i = 0; i < s->council.n_members; i++) {
        free(s->council.members[i].role);
        free(s->council.members[i].agent_id);
    }
    s->council.n_members = 0;
}

static void free_roles(sw_state_t *s)
{
    for (size_t i = 0; i < s->council.n_roles; i++)
        free(s->council.roles[i].role);
    free(s->council.roles);
    s->council.roles = NULL;
    s->council.n_roles = 0;
}

/* The first required role nobody holds, or NULL when all are filled. */
static const char *vacant_required_role(const sw_state_t *s)
{
    for (size_t i = 0; i < s->council.n_roles; i++)
        if (s->council.roles[i].required &&
            sw_council_role_holder(s, s->council.roles[i].role) < 0)
            return s->council.roles[i].role;
    return NULL;
}

/* SPEC §5: COUNCIL_PROFILES_LOADED →ELECT with CouncilID, PlannedRoles (in
 * payload order) and Quorum (default: the number of required roles). */
SW_REDUCE_APPLY(council_profiles_loaded)
{
    size_t n = json_array_size(p->pl.roles);
    sw_role_t *roles = sw_xcalloc(n, sizeof *roles);
    uint64_t required = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(p->pl.roles, i);
        roles[i].role =
            sw_xstrdup(json_string_value(json_object_get(it, "role")));
        roles[i].required = json_is_true(json_object_get(it, "required"));
        required += roles[i].required;
    }
    free_roles(s);
    s->council.roles = roles;
    s->council.n_roles = n;
    s->council.quorum = p->pl.has_quorum ? p->pl.quorum : required;
    sw_str_set(&s->council.council_id, p->pl.council_id);
    s->council.phase = SW_CNC_ELECT;
    sw_state_touch(s, SW_SEC_COUNCIL);
}

/* SPEC §5 order: role planned (UNKNOWN_ROLE) and vacant (ROLE_TAKEN); the
 * agent holds no role (ALREADY_MEMBER); Members < MaxMembers
 * (LIMIT_EXCEEDED). */
SW_REDUCE_CHECK(council_role_claimed)
{
    const sw_payload_t *pl = &p->pl;
    if (sw_council_find_role(s, pl->role) < 0) {
        sw_reduce_msg(msg, "role \"%.128s\" is not planned in council %.100s",
                      pl->role, s->council.council_id);
        return SW_C_UNKNOWN_ROLE;
    }
    int holder = sw_council_role_holder(s, pl->role);
    if (holder >= 0) {
        sw_reduce_msg(msg, "role \"%.100s\" is already held by \"%.128s\"",
                      pl->role, s->council.members[holder].agent_id);
        return SW_C_ROLE_TAKEN;
    }
    int m = sw_council_find_member(s, pl->agent_id);
    if (m >= 0) {
        sw_reduce_msg(msg, "agent \"%.100s\" already holds role \"%.128s\"",
                      pl->agent_id, s->council.members[m].role);
        return SW_C_ALREADY_MEMBER;
    }
    if (s->council.n_members >= s->policy.max_members) {
        sw_reduce_msg(
            msg, "the council has %zu members; Policy.MaxMembers is %llu",
            s->council.n_members, (unsigned long long)s->policy.max_members);
        return SW_C_LIMIT_EXCEEDED;
    }
    return SW_C_OK;
}

/* SPEC §5: appends a Member whose JoinedIndex is the new Meta.Index. */
SW_REDUCE_APPLY(council_role_claimed)
{
    if (s->council.n_members == s->council.cap_members) {
        size_t cap = s->council.cap_members ? s->council.cap_members * 2 : 8;
        s->council.members =
            sw_xrealloc(s->council.members, cap * sizeof *s->council.members);
        s->council.cap_members = cap;
    }
    sw_member_t *m = &s->council.members[s->council.n_members++];
    m->role = sw_xstrdup(p->pl.role);
    m->agent_id = sw_xstrdup(p->pl.agent_id);
    m->joined_index = s->meta.index;
    sw_state_touch(s, SW_SEC_COUNCIL);
}

/* SPEC §5: the agent must be a member (NOT_A_MEMBER). */
SW_REDUCE_CHECK(council_role_released)
{
    if (sw_council_find_member(s, p->pl.agent_id) < 0) {
        sw_reduce_msg(msg, "agent \"%.128s\" is not a member of council %.100s",
                      p->pl.agent_id, s->council.council_id);
        return SW_C_NOT_A_MEMBER;
    }
    return SW_C_OK;
}

/* SPEC §5: removes the Member (join order of the rest kept); when a required
 * role is then vacant the council returns to ELECT and its cert is cleared. */
SW_REDUCE_APPLY(council_role_released)
{
    int i = sw_council_find_member(s, p->pl.agent_id);
    sw_member_t *ms = s->council.members;
    free(ms[i].role);
    free(ms[i].agent_id);
    memmove(&ms[i], &ms[i + 1],
            (s->council.n_members - (size_t)i - 1) * sizeof *ms);
    s->council.n_members--;
    if (vacant_required_role(s)) {
        s->council.phase = SW_CNC_ELECT;
        sw_str_set(&s->council.quorum_cert_hash, "");
    }
    sw_state_touch(s, SW_SEC_COUNCIL);
}

/* SPEC §5: every required role filled and Members >= Quorum, else
 * QUORUM_NOT_REACHED. */
SW_REDUCE_CHECK(council_quorum_cert)
{
    (void)p;
    const char *vacant = vacant_required_role(s);
    if (vacant) {
        sw_reduce_msg(msg, "required role \"%.128s\" is vacant", vacant);
        return SW_C_QUORUM_NOT_REACHED;
    }
    if (s->council.n_members < s->council.quorum) {
        sw_reduce_msg(msg, "the council has %zu members; Quorum is %llu",
                      s->council.n_members,
                      (unsigned long long)s->council.quorum);
        return SW_C_QUORUM_NOT_REACHED;
    }
    return SW_C_OK;
}

/* SPEC §5: records QuorumCertHash. */
SW_REDUCE_APPLY(council_quorum_cert)
{
    sw_str_set(&s->council.quorum_cert_hash, p->pl.cert_hash);
    sw_state_touch(s, SW_SEC_COUNCIL);
}

/* SPEC §5: ELECT needs a recorded cert (NO_QUORUM_CERT). */
SW_REDUCE_CHECK(council_elect_complete)
{
    (void)p;
    if (s->council.quorum_cert_hash[0] == '\0') {
        sw_reduce_msg(msg,
                      "council %.100s has no quorum certificate; send "
                      "COUNCIL_QUORUM_CERT first",
                      s->council.council_id);
        return SW_C_NO_QUORUM_CERT;
    }
    return SW_C_OK;
}

/* SPEC §5: COUNCIL_ELECT_COMPLETE →TOOLING_SYNC. */
SW_REDUCE_APPLY(council_elect_complete)
{
    (void)p;
    s->council.phase = SW_CNC_TOOLING_SYNC;
    sw_state_touch(s, SW_SEC_COUNCIL);
}

/* SPEC §5: COUNCIL_TOOLING_SYNCED →READY. */
SW_REDUCE_APPLY(council_tooling_synced)
{
    (void)p;
    s->council.phase = SW_CNC_READY;
    sw_state_touch(s, SW_SEC_COUNCIL);
}

/* SPEC §5: COUNCIL_DISSOLVED →PLAN_ROLES, Epoch+1, and clears CouncilID,
 * Quorum, PlannedRoles, Members and QuorumCertHash. */
SW_REDUCE_APPLY(council_dissolved)
{
    (void)p;
    free_members(s);
    free_roles(s);
    s->council.phase = SW_CNC_PLAN_ROLES;
    s->council.epoch++;
    s->council.quorum = 0;
    sw_str_set(&s->council.council_id, "");
    sw_str_set(&s->council.quorum_cert_hash, "");
    sw_state_touch(s, SW_SEC_COUNCIL);
}
