/* catalog: the one static table of transitions (SPEC §5), the generic payload
 * validator driven by its schemas, and GET /transitions generated from it. */
#include "catalog.h"

#include "reduce.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Field rows. */
#define F_ID(n, req)                                                           \
    {                                                                          \
#n, SW_F_ID, req, 0, 0, offsetof(sw_payload_t, n), 0                   \
    }
#define F_TEXT(n, req)                                                         \
    {                                                                          \
#n, SW_F_TEXT, req, 0, 0, offsetof(sw_payload_t, n), 0                 \
    }
#define F_UINT(n, req, lo, hi)                                                 \
    {                                                                          \
#n, SW_F_UINT, req, lo, hi, offsetof(sw_payload_t, n),                 \
            offsetof(sw_payload_t, has_##n)                                    \
    }
#define F_JSON(n, type, req)                                                   \
    {                                                                          \
#n, type, req, 0, 0, offsetof(sw_payload_t, n), 0                      \
    }
#define F_END                                                                  \
    {                                                                          \
        NULL, SW_F_ID, false, 0, 0, 0, 0                                       \
    }

static const sw_field_spec_t f_none[] = {F_END};
static const sw_field_spec_t f_license[] = {F_ID(license_id, false),
                                            F_ID(node_id, false), F_END};
static const sw_field_spec_t f_sources[] = {F_JSON(sources, SW_F_SOURCES, true),
                                            F_END};
static const sw_field_spec_t f_content_hash[] = {F_ID(content_hash, true),
                                                 F_END};
static const sw_field_spec_t f_reason[] = {F_TEXT(reason, true), F_END};
static const sw_field_spec_t f_reason_opt[] = {F_TEXT(reason, false), F_END};
static const sw_field_spec_t f_profiles[] = {
    F_ID(council_id, true), F_JSON(roles, SW_F_ROLES, true),
    F_UINT(quorum, false, 1, SW_MAX_ITEMS), F_END};
static const sw_field_spec_t f_role_claimed[] = {
    F_ID(council_id, true), F_ID(role, true), F_ID(agent_id, true), F_END};
static const sw_field_spec_t f_role_released[] = {F_ID(council_id, true),
                                                  F_ID(agent_id, true), F_END};
static const sw_field_spec_t f_cert[] = {F_ID(council_id, true),
                                         F_ID(cert_hash, true), F_END};
static const sw_field_spec_t f_council[] = {F_ID(council_id, true), F_END};
static const sw_field_spec_t f_council_opt[] = {F_ID(council_id, false), F_END};
static const sw_field_spec_t f_resources[] = {
    F_JSON(resources, SW_F_STRMAP, true), F_END};
static const sw_field_spec_t f_window[] = {F_ID(window_id, true), F_END};
static const sw_field_spec_t f_task_created[] = {F_ID(task_id, true),
                                                 F_TEXT(title, true), F_END};
static const sw_field_spec_t f_task_agent[] = {F_ID(task_id, true),
                                               F_ID(agent_id, true), F_END};
static const sw_field_spec_t f_task_complete[] = {
    F_ID(task_id, true), F_ID(agent_id, true), F_TEXT(result, false), F_END};
static const sw_field_spec_t f_task_failed[] = {
    F_ID(task_id, true), F_ID(agent_id, true), F_TEXT(reason, true), F_END};
static const sw_field_spec_t f_policy[] = {
    F_UINT(approval_threshold, false, 1, SW_MAX_APPROVAL_THRESHOLD),
    F_UINT(max_tasks, false, 1, SW_MAX_TASKS),
    F_UINT(max_members, false, 1, SW_MAX_MEMBERS),
    F_UINT(max_clock_skew_ms, false, 0, SW_MAX_CLOCK_SKEW_MS),
    F_JSON(admins, SW_F_IDLIST, false),
    F_JSON(params, SW_F_STRMAP, false),
    F_END};

/* Phase sets. */
#define PH(x)   (1u << (x))
#define ANY     SW_SEC__COUNT, 0
#define CTRL    (SW_T_CONTROL | SW_T_ADMIN)
#define EXE_WIN SW_T_WINDOW

/* One row: name, section and phases (ANY = every phase), guards, flags,
 * fields, min_fields, check, apply, doc. Variadic so ANY may expand to two
 * initialisers. ROW_CHECKED also names a payload check for a bound between
 * fields that the field specs cannot state. */
#define ROW_CHECKED(pcheck, ...)                                               \
    {                                                                          \
        __VA_ARGS__, .payload_check = pcheck                                   \
    }
#define ROW(...) ROW_CHECKED(NULL, __VA_ARGS__)

static sw_code_t check_profiles(const sw_payload_t *pl, const char *tn,
                                char msg[SWOOSH_MSG_SIZE]);

static const sw_catalog_entry_t table[] = {
    ROW("LICENSE_GRANTED", ANY, SW_G_LICENSE, SW_T_ADMIN | SW_T_UNLICENSED,
        f_license, 0, NULL, sw_reduce_apply_license_granted,
        "Any phase (\"*\"), also unlicensed: Boot.Licensed=true; "
        "LicenseID/NodeID set when given."),
    ROW("LICENSE_REVOKED", ANY, 0, CTRL, f_none, 0, NULL,
        sw_reduce_apply_license_revoked,
        "Control, any phase (\"*\"): Boot.Licensed=false; LicenseID and "
        "NodeID kept."),
    ROW("INGESTION_STARTED", SW_SEC_INGESTION,
        PH(SW_ING_IDLE) | PH(SW_ING_READY) | PH(SW_ING_FAILED), 0, 0, f_sources,
        0, NULL, sw_reduce_apply_ingestion_started,
        "Ingestion to FETCH, Epoch+1, Sources set (>=1, unique ids), "
        "ContentHash and LastError cleared."),
    ROW("INGESTION_FETCHED", SW_SEC_INGESTION, PH(SW_ING_FETCH), 0, 0,
        f_content_hash, 0, NULL, sw_reduce_apply_ingestion_fetched,
        "Ingestion to VALIDATE; ContentHash recorded."),
    ROW("INGESTION_VALIDATED", SW_SEC_INGESTION, PH(SW_ING_VALIDATE), 0, 0,
        f_none, 0, NULL, sw_reduce_apply_ingestion_validated,
        "Ingestion to INDEX."),
    ROW("INGESTION_INDEXED", SW_SEC_INGESTION, PH(SW_ING_INDEX), 0, 0, f_none,
        0, NULL, sw_reduce_apply_ingestion_indexed, "Ingestion to READY."),
    ROW("INGESTION_FAILED", SW_SEC_INGESTION,
        PH(SW_ING_FETCH) | PH(SW_ING_VALIDATE) | PH(SW_ING_INDEX), 0, 0,
        f_reason, 0, NULL, sw_reduce_apply_ingestion_failed,
        "Ingestion to FAILED; LastError = reason."),
    ROW_CHECKED(
        check_profiles, "COUNCIL_PROFILES_LOADED", SW_SEC_COUNCIL,
        PH(SW_CNC_PLAN_ROLES), 0, 0, f_profiles, 0, NULL,
        sw_reduce_apply_council_profiles_loaded,
        "Council to ELECT with CouncilID, PlannedRoles (>=1, unique) and "
        "Quorum (1..number of roles; default: number of required roles)."),
    ROW("COUNCIL_ROLE_CLAIMED", SW_SEC_COUNCIL,
        PH(SW_CNC_ELECT) | PH(SW_CNC_TOOLING_SYNC) | PH(SW_CNC_READY), 0,
        SW_T_COUNCIL_ID, f_role_claimed, 0,
        sw_reduce_check_council_role_claimed,
        sw_reduce_apply_council_role_claimed,
        "Appends a Member (JoinedIndex = new Index) for a planned, vacant "
        "role; the agent holds no role; Members < MaxMembers."),
    ROW("COUNCIL_ROLE_RELEASED", SW_SEC_COUNCIL,
        PH(SW_CNC_ELECT) | PH(SW_CNC_TOOLING_SYNC) | PH(SW_CNC_READY), 0,
        SW_T_COUNCIL_ID, f_role_released, 0,
        sw_reduce_check_council_role_released,
        sw_reduce_apply_council_role_released,
        "Removes the agent's Member; a vacant required role sends the "
        "council back to ELECT and clears QuorumCertHash."),
    ROW("COUNCIL_QUORUM_CERT", SW_SEC_COUNCIL, PH(SW_CNC_ELECT), SW_G_QUORUM,
        SW_T_COUNCIL_ID, f_cert, 0, sw_reduce_check_council_quorum_cert,
        sw_reduce_apply_council_quorum_cert,
        "Records QuorumCertHash once every required role is filled and "
        "Members >= Quorum."),
    ROW("COUNCIL_ELECT_COMPLETE", SW_SEC_COUNCIL, PH(SW_CNC_ELECT), 0,
        SW_T_COUNCIL_ID, f_council, 0, sw_reduce_check_council_elect_complete,
        sw_reduce_apply_council_elect_complete,
        "Council to TOOLING_SYNC; needs a recorded quorum certificate."),
    ROW("COUNCIL_TOOLING_SYNCED", SW_SEC_COUNCIL, PH(SW_CNC_TOOLING_SYNC),
        SW_G_MCP, SW_T_COUNCIL_ID, f_council, 0, NULL,
        sw_reduce_apply_council_tooling_synced, "Council to READY."),
    ROW("COUNCIL_DISSOLVED", ANY, 0, 0, f_council_opt, 0, NULL,
        sw_reduce_apply_council_dissolved,
        "Any phase (\"*\"): Council to PLAN_ROLES, Epoch+1; CouncilID, "
        "Quorum, PlannedRoles, Members and QuorumCertHash cleared."),
    ROW("ENV_ALLOCATION_REQUESTED", SW_SEC_ENVIRONMENT, PH(SW_ENV_IDLE), 0, 0,
        f_resources, 0, NULL, sw_reduce_apply_env_allocation_requested,
        "Environment to ALLOCATE, Epoch+1, Resources set."),
    ROW("ENV_ALLOCATED", SW_SEC_ENVIRONMENT, PH(SW_ENV_ALLOCATE), 0, 0, f_none,
        0, NULL, sw_reduce_apply_env_allocated, "Environment to PROVISION."),
    ROW("ENV_PROVISIONED", SW_SEC_ENVIRONMENT, PH(SW_ENV_PROVISION), 0, 0,
        f_none, 0, NULL, sw_reduce_apply_env_provisioned,
        "Environment to HEALTHCHECK."),
    ROW("ENV_HEALTH_GREEN", SW_SEC_ENVIRONMENT,
        PH(SW_ENV_HEALTHCHECK) | PH(SW_ENV_DEGRADED), SW_G_MCP, 0, f_none, 0,
        NULL, sw_reduce_apply_env_health_green,
        "Environment to READY; Control.Degraded=false; LastError cleared."),
    ROW("ENV_HEALTH_RED", SW_SEC_ENVIRONMENT,
        PH(SW_ENV_HEALTHCHECK) | PH(SW_ENV_READY), 0, 0, f_reason, 0, NULL,
        sw_reduce_apply_env_health_red,
        "Environment to DEGRADED; Control.Degraded=true; LastError = "
        "reason."),
    ROW("ENV_RELEASED", SW_SEC_ENVIRONMENT,
        PH(SW_ENV_ALLOCATE) | PH(SW_ENV_PROVISION) | PH(SW_ENV_HEALTHCHECK) |
            PH(SW_ENV_READY) | PH(SW_ENV_DEGRADED),
        0, 0, f_none, 0, NULL, sw_reduce_apply_env_released,
        "Environment to IDLE; Resources, LastError and Control.Degraded "
        "cleared."),
    ROW("EXECUTION_WINDOW_OPENED", SW_SEC_EXECUTION,
        PH(SW_EXE_IDLE) | PH(SW_EXE_REVERB), SW_G_BACKBEAT, 0, f_window, 0,
        sw_reduce_check_exec_window_opened, sw_reduce_apply_exec_window_opened,
        "Execution to PLAN with ActiveWindowID = payload window_id, "
        "BeatIndex=0, Approvals=[], Epoch+1; COMPLETED/FAILED tasks evicted. "
        "Needs Council READY, Environment READY, not degraded/recovering."),
    ROW("EXECUTION_PLAN_LOCKED", SW_SEC_EXECUTION, PH(SW_EXE_PLAN), SW_G_QUORUM,
        EXE_WIN, f_none, 0, NULL, sw_reduce_apply_exec_plan_locked,
        "Execution to WORK."),
    ROW("EXECUTION_BEAT", SW_SEC_EXECUTION,
        PH(SW_EXE_PLAN) | PH(SW_EXE_WORK) | PH(SW_EXE_REVIEW) |
            PH(SW_EXE_REVERB),
        SW_G_BACKBEAT, EXE_WIN, f_none, 0, NULL, sw_reduce_apply_exec_beat,
        "BeatIndex+1."),
    ROW("EXECUTION_REVIEW_STARTED", SW_SEC_EXECUTION, PH(SW_EXE_WORK), 0,
        EXE_WIN, f_none, 0, NULL, sw_reduce_apply_exec_review_started,
        "Execution to REVIEW; Approvals=[]."),
    ROW("EXECUTION_APPROVAL", SW_SEC_EXECUTION, PH(SW_EXE_REVIEW), 0, EXE_WIN,
        f_none, 0, sw_reduce_check_exec_approval, sw_reduce_apply_exec_approval,
        "Adds the signer (a council member, not yet approved) to Approvals, "
        "kept sorted."),
    ROW("EXECUTION_REVIEW_PASSED", SW_SEC_EXECUTION, PH(SW_EXE_REVIEW),
        SW_G_QUORUM, EXE_WIN, f_none, 0, sw_reduce_check_exec_review_passed,
        sw_reduce_apply_exec_review_passed,
        "Execution to REVERB; needs Approvals >= Policy.ApprovalThreshold."),
    ROW("EXECUTION_REVIEW_FAILED", SW_SEC_EXECUTION, PH(SW_EXE_REVIEW), 0,
        EXE_WIN, f_reason_opt, 0, NULL, sw_reduce_apply_exec_review_failed,
        "Execution to WORK; Approvals cleared; reason only logged."),
    ROW("EXECUTION_WINDOW_CLOSED", SW_SEC_EXECUTION, PH(SW_EXE_REVERB), 0,
        EXE_WIN, f_none, 0, NULL, sw_reduce_apply_exec_window_closed,
        "Execution to IDLE; ActiveWindowID cleared; BeatIndex, Approvals "
        "and tasks kept."),
    ROW("EXECUTION_TASK_CREATED", SW_SEC_EXECUTION,
        PH(SW_EXE_PLAN) | PH(SW_EXE_WORK), 0, EXE_WIN, f_task_created, 0,
        sw_reduce_check_exec_task_created, sw_reduce_apply_exec_task_created,
        "Creates an OPEN task (new id; fewer than Policy.MaxTasks tasks)."),
    ROW("EXECUTION_TASK_CLAIMED", SW_SEC_EXECUTION,
        PH(SW_EXE_PLAN) | PH(SW_EXE_WORK), 0, EXE_WIN, f_task_agent, 0,
        sw_reduce_check_exec_task_claimed, sw_reduce_apply_exec_task_claimed,
        "An OPEN task becomes CLAIMED by agent_id; not while degraded or "
        "recovering."),
    ROW("EXECUTION_TASK_RELEASED", SW_SEC_EXECUTION,
        PH(SW_EXE_PLAN) | PH(SW_EXE_WORK) | PH(SW_EXE_REVIEW), 0, EXE_WIN,
        f_task_agent, 0, sw_reduce_check_exec_task_released,
        sw_reduce_apply_exec_task_released,
        "A CLAIMED task (by agent_id, or any when the signer is an admin) "
        "becomes OPEN; Claimant cleared."),
    ROW("EXECUTION_TASK_COMPLETE", SW_SEC_EXECUTION,
        PH(SW_EXE_PLAN) | PH(SW_EXE_WORK) | PH(SW_EXE_REVIEW), 0, EXE_WIN,
        f_task_complete, 0, sw_reduce_check_exec_task_finished,
        sw_reduce_apply_exec_task_complete,
        "A task CLAIMED by agent_id becomes COMPLETED; Result = result."),
    ROW("EXECUTION_TASK_FAILED", SW_SEC_EXECUTION,
        PH(SW_EXE_PLAN) | PH(SW_EXE_WORK) | PH(SW_EXE_REVIEW), 0, EXE_WIN,
        f_task_failed, 0, sw_reduce_check_exec_task_finished,
        sw_reduce_apply_exec_task_failed,
        "A task CLAIMED by agent_id becomes FAILED; Result = reason."),
    ROW("CONTROL_PAUSE", ANY, 0, CTRL, f_reason_opt, 0, NULL,
        sw_reduce_apply_control_pause,
        "Control, any phase (\"*\"): Control.Paused=true; reason only "
        "logged."),
    ROW("CONTROL_RESUME", ANY, 0, CTRL, f_reason_opt, 0, NULL,
        sw_reduce_apply_control_resume,
        "Control, any phase (\"*\"): Control.Paused=false; reason only "
        "logged."),
    ROW("QUARANTINE_ENTER", ANY, 0, CTRL, f_reason, 0, NULL,
        sw_reduce_apply_quarantine_enter,
        "Control, any phase (\"*\"): Control.Quarantined=true; "
        "QuarantineReason = reason."),
    ROW("QUARANTINE_RELEASE", ANY, 0, CTRL, f_none, 0, NULL,
        sw_reduce_apply_quarantine_release,
        "Control, any phase (\"*\"): Control.Quarantined=false; "
        "QuarantineReason cleared."),
    ROW("RECOVERY_STARTED", ANY, 0, CTRL, f_none, 0, NULL,
        sw_reduce_apply_recovery_started,
        "Control, any phase (\"*\"): Control.Recovering=true."),
    ROW("RECOVERY_COMPLETE", ANY, 0, CTRL, f_none, 0, NULL,
        sw_reduce_apply_recovery_complete,
        "Control, any phase (\"*\"): Control.Recovering=false."),
    ROW("POLICY_UPDATED", ANY, 0, CTRL, f_policy, 1, NULL,
        sw_reduce_apply_policy_updated,
        "Control, any phase (\"*\"): the given Policy fields replaced "
        "(admins and params wholesale), Version+1; at least one field."),
};

#define TABLE_LEN (sizeof table / sizeof table[0])
_Static_assert(TABLE_LEN <= SW_CATALOG_MAX,
               "raise SW_CATALOG_MAX: the stats have a row per transition");

/* A linear scan over ~40 rows is a handful of strcmp calls per proposal,
 * cheaper than maintaining an index (SPEC §1.4: catalogued names only). */
const sw_catalog_entry_t *sw_catalog_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* Exposes the table so GET /transitions, tests and docs iterate one source
 * of truth (STYLE: tables over switch chains). */
const sw_catalog_entry_t *sw_catalog_all(size_t *n)
{
    if (n)
        *n = TABLE_LEN;
    return table;
}

/* ---------------------------------------------------------- validation */

static sw_code_t bad(char msg[SWOOSH_MSG_SIZE], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static sw_code_t bad(char msg[SWOOSH_MSG_SIZE], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, SWOOSH_MSG_SIZE, fmt, ap);
    va_end(ap);
    return SW_C_BAD_PAYLOAD;
}

/* Checks a string of lo..hi bytes without NUL; returns false and writes
 * msg naming `what` otherwise. */
static bool check_str(const json_t *v, size_t lo, size_t hi, const char *tn,
                      const char *what, char msg[SWOOSH_MSG_SIZE])
{
    if (!json_is_string(v)) {
        bad(msg, "payload field \"%s\" of %s must be a string", what, tn);
        return false;
    }
    size_t n = json_string_length(v);
    if (strlen(json_string_value(v)) != n) {
        bad(msg, "payload field \"%s\" of %s contains a NUL byte", what, tn);
        return false;
    }
    if (n < lo || n > hi) {
        if (lo > 0)
            bad(msg, "payload field \"%s\" of %s must be %zu..%zu bytes", what,
                tn, lo, hi);
        else
            bad(msg, "payload field \"%s\" of %s must be at most %zu bytes",
                what, tn, hi);
        return false;
    }
    return true;
}

/* Finds the first member of o (in jansson's order) whose key is not among
 * `names` and writes it, quoted, to q. The names are read as the `const char
 * *` every `stride` bytes from `names` up to a NULL one, so a plain key list
 * and a row's field specs (pass &fields->name) share this loop. */
static bool unknown_key(const json_t *o, const void *names, size_t stride,
                        char q[SW_QUOTE_MAX + 4])
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        bool known = false;
        for (const char *p = names; *(const char *const *)p; p += stride)
            if (strcmp(*(const char *const *)p, k) == 0)
                known = true;
        if (!known) {
            sw_quote(q, SW_QUOTE_MAX, k, strlen(k));
            return true;
        }
    }
    return false;
}

/* A required string member of lo..hi bytes of a list entry. */
static bool check_member_str(const json_t *v, size_t lo, size_t hi,
                             const char *what, const char *tn,
                             char msg[SWOOSH_MSG_SIZE])
{
    if (!v) {
        bad(msg, "payload field \"%s\" of %s is required", what, tn);
        return false;
    }
    return check_str(v, lo, hi, tn, what, msg);
}

static bool check_uri(const json_t *v, const char *what, const char *tn,
                      char msg[SWOOSH_MSG_SIZE])
{
    return check_member_str(v, 0, SW_MAX_TEXT, what, tn, msg);
}

static bool check_required_flag(const json_t *v, const char *what,
                                const char *tn, char msg[SWOOSH_MSG_SIZE])
{
    if (json_is_boolean(v))
        return true;
    bad(msg, "payload field \"%s\" of %s is required and must be a boolean",
        what, tn);
    return false;
}

/* A list field of SPEC §5 whose entries are objects of two members, the
 * first an id unique across the list (Sources, PlannedRoles). */
typedef struct list_spec {
    const char *field;       /* payload key */
    const char *noun;        /* "must hold at least one <noun>" */
    const char *const *keys; /* {id member, other member, NULL} */
    const char *repeat_noun; /* "repeats the <repeat_noun> of …" */
    const char *repeat_tail; /* appended to the repeat message */
    bool (*check_other)(const json_t *v, const char *what, const char *tn,
                        char msg[SWOOSH_MSG_SIZE]);
} list_spec_t;

static const char *const source_keys[] = {"id", "uri", NULL};
static const list_spec_t sources_spec = {.field = "sources",
                                         .noun = "source",
                                         .keys = source_keys,
                                         .repeat_noun = "source id",
                                         .repeat_tail = "",
                                         .check_other = check_uri};
static const char *const role_keys[] = {"role", "required", NULL};
static const list_spec_t roles_spec = {.field = "roles",
                                       .noun = "role",
                                       .keys = role_keys,
                                       .repeat_noun = "role",
                                       .repeat_tail = "; roles must be unique",
                                       .check_other = check_required_flag};

/* Shape of a list_spec_t field: an array of at least one entry (the upper
 * bound is check_count's), each an object with only the spec's keys, a valid
 * id not repeated by an earlier entry, and a valid other member. */
static bool check_list(const list_spec_t *ls, const json_t *v, const char *tn,
                       char msg[SWOOSH_MSG_SIZE])
{
    char what[64], id_what[64], q[SW_QUOTE_MAX + 4];
    if (!json_is_array(v)) {
        bad(msg, "payload field \"%s\" of %s must be an array", ls->field, tn);
        return false;
    }
    size_t n = json_array_size(v);
    if (n < 1) {
        bad(msg, "payload field \"%s\" of %s must hold at least one %s",
            ls->field, tn, ls->noun);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(v, i);
        snprintf(what, sizeof what, "%s[%zu]", ls->field, i);
        if (!json_is_object(it)) {
            bad(msg, "payload field \"%s\" of %s must be an object", what, tn);
            return false;
        }
        if (unknown_key(it, ls->keys, sizeof *ls->keys, q)) {
            bad(msg, "payload field \"%s\" of %s has an unknown member \"%s\"",
                what, tn, q);
            return false;
        }
        json_t *id = json_object_get(it, ls->keys[0]);
        snprintf(id_what, sizeof id_what, "%s[%zu].%s", ls->field, i,
                 ls->keys[0]);
        if (!check_member_str(id, 1, SW_MAX_ID, id_what, tn, msg))
            return false;
        snprintf(what, sizeof what, "%s[%zu].%s", ls->field, i, ls->keys[1]);
        if (!ls->check_other(json_object_get(it, ls->keys[1]), what, tn, msg))
            return false;
        for (size_t j = 0; j < i; j++) {
            json_t *o = json_object_get(json_array_get(v, j), ls->keys[0]);
            if (strcmp(json_string_value(o), json_string_value(id)) == 0) {
                bad(msg,
                    "payload field \"%s\" of %s repeats the %s of %s[%zu]%s",
                    id_what, tn, ls->repeat_noun, ls->field, j,
                    ls->repeat_tail);
                return false;
            }
        }
    }
    return true;
}

static bool check_strmap(const json_t *v, const char *name, const char *tn,
                         char msg[SWOOSH_MSG_SIZE])
{
    char what[200];
    if (!json_is_object(v)) {
        bad(msg, "payload field \"%s\" of %s must be an object", name, tn);
        return false;
    }
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val)
    {
        size_t kn = strlen(k);
        if (kn < 1 || kn > SW_MAX_ID) {
            bad(msg,
                "payload field \"%s\" of %s has a key of %zu bytes; keys "
                "must be 1..%d bytes",
                name, tn, kn, SW_MAX_ID);
            return false;
        }
        char q[SW_QUOTE_MAX + 4];
        sw_quote(q, SW_QUOTE_MAX, k, kn);
        snprintf(what, sizeof what, "%s.%s", name, q);
        if (!check_str(val, 0, SW_MAX_TEXT, tn, what, msg))
            return false;
    }
    return true;
}

static bool check_idlist(const json_t *v, const char *name, const char *tn,
                         char msg[SWOOSH_MSG_SIZE])
{
    char what[64];
    if (!json_is_array(v)) {
        bad(msg, "payload field \"%s\" of %s must be an array", name, tn);
        return false;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        snprintf(what, sizeof what, "%s[%zu]", name, i);
        if (!check_str(json_array_get(v, i), 1, SW_MAX_ID, tn, what, msg))
            return false;
    }
    return true;
}

/* SPEC §3: a transition that would exceed a bound of §5 is LIMIT_EXCEEDED.
 * Step 1's BAD_PAYLOAD covers shape, types and string lengths; the count
 * bounds (≤ 256 planned roles, sources, resources, params, admins) are
 * bounds, so more entries than that answer LIMIT_EXCEEDED, checked before
 * the entries themselves. */
static sw_code_t check_count(const sw_field_spec_t *f, const json_t *v,
                             const char *tn, char msg[SWOOSH_MSG_SIZE])
{
    size_t n;
    switch (f->type) {
    case SW_F_SOURCES:
    case SW_F_ROLES:
    case SW_F_IDLIST:
        n = json_is_array(v) ? json_array_size(v) : 0;
        break;
    case SW_F_STRMAP:
        n = json_is_object(v) ? json_object_size(v) : 0;
        break;
    default:
        return SW_C_OK;
    }
    if (n <= SW_MAX_ITEMS)
        return SW_C_OK;
    snprintf(msg, SWOOSH_MSG_SIZE,
             "payload field \"%s\" of %s holds %zu entries; at most %d are "
             "allowed",
             f->name, tn, n, SW_MAX_ITEMS);
    return SW_C_LIMIT_EXCEEDED;
}

/* Validates one present field and stores it into pl. */
static bool parse_field(const sw_field_spec_t *f, json_t *v, const char *tn,
                        sw_payload_t *pl, char msg[SWOOSH_MSG_SIZE])
{
    char *base = (char *)pl;
    switch (f->type) {
    case SW_F_ID:
    case SW_F_TEXT:
        if (!check_str(v, f->type == SW_F_ID ? 1 : 0,
                       f->type == SW_F_ID ? SW_MAX_ID : SW_MAX_TEXT, tn,
                       f->name, msg))
            return false;
        *(const char **)(base + f->offset) = json_string_value(v);
        return true;
    case SW_F_UINT: {
        if (!json_is_integer(v)) {
            bad(msg, "payload field \"%s\" of %s must be an integer", f->name,
                tn);
            return false;
        }
        json_int_t x = json_integer_value(v);
        if (x < 0 || (uint64_t)x < f->min || (uint64_t)x > f->max) {
            bad(msg, "payload field \"%s\" of %s must be %llu..%llu", f->name,
                tn, (unsigned long long)f->min, (unsigned long long)f->max);
            return false;
        }
        *(uint64_t *)(base + f->offset) = (uint64_t)x;
        *(bool *)(base + f->has_offset) = true;
        return true;
    }
    case SW_F_SOURCES:
        if (!check_list(&sources_spec, v, tn, msg))
            return false;
        break;
    case SW_F_ROLES:
        if (!check_list(&roles_spec, v, tn, msg))
            return false;
        break;
    case SW_F_STRMAP:
        if (!check_strmap(v, f->name, tn, msg))
            return false;
        break;
    case SW_F_IDLIST:
        if (!check_idlist(v, f->name, tn, msg))
            return false;
        break;
    }
    *(json_t **)(base + f->offset) = v;
    return true;
}

/* SPEC §5: COUNCIL_PROFILES_LOADED's quorum is 1..number of roles, a bound
 * between two fields; still step 1's BAD_PAYLOAD. */
static sw_code_t check_profiles(const sw_payload_t *pl, const char *tn,
                                char msg[SWOOSH_MSG_SIZE])
{
    if (pl->has_quorum && pl->roles && pl->quorum > json_array_size(pl->roles))
        return bad(msg,
                   "payload field \"quorum\" of %s must be 1..%zu (the number "
                   "of roles)",
                   tn, json_array_size(pl->roles));
    return SW_C_OK;
}

/* Generic over the row's schema so every transition validates its payload
 * the same way (SPEC §5 step 1: BAD_PAYLOAD for unknown fields, missing
 * required ones, wrong types and lengths; LIMIT_EXCEEDED, SPEC §3, for
 * more entries than a collection may hold). JSON null counts as absent, as
 * for the proposal's own optional fields (SPEC §2). */
sw_code_t sw_catalog_parse_payload(const sw_catalog_entry_t *e, json_t *payload,
                                   sw_payload_t *pl, char msg[SWOOSH_MSG_SIZE])
{
    const char *tn = e->name;
    memset(pl, 0, sizeof *pl);
    msg[0] = '\0';
    if (payload && json_is_null(payload))
        payload = NULL;
    if (payload && !json_is_object(payload))
        return bad(msg, "payload of %s must be a JSON object", tn);
    char q[SW_QUOTE_MAX + 4];
    if (payload &&
        unknown_key(payload, &e->fields->name, sizeof *e->fields, q)) {
        if (!e->fields[0].name)
            return bad(msg,
                       "payload field \"%s\" is not an input of %s, which "
                       "takes no payload fields",
                       q, tn);
        return bad(msg, "payload field \"%s\" is not an input of %s", q, tn);
    }
    unsigned present = 0;
    for (const sw_field_spec_t *f = e->fields; f->name; f++) {
        json_t *v = payload ? json_object_get(payload, f->name) : NULL;
        if (v && json_is_null(v))
            v = NULL;
        if (!v) {
            if (f->required)
                return bad(msg, "payload field \"%s\" is required for %s",
                           f->name, tn);
            continue;
        }
        sw_code_t c = check_count(f, v, tn, msg);
        if (c == SW_C_OK && !parse_field(f, v, tn, pl, msg))
            c = SW_C_BAD_PAYLOAD;
        if (c != SW_C_OK) {
            memset(pl, 0, sizeof *pl);
            return c;
        }
        present++;
    }
    if (present < e->min_fields) {
        char names[200] = "";
        size_t off = 0;
        for (const sw_field_spec_t *f = e->fields; f->name; f++)
            off += (size_t)snprintf(names + off,
                                    off < sizeof names ? sizeof names - off : 0,
                                    "%s%s", off ? ", " : "", f->name);
        memset(pl, 0, sizeof *pl);
        return bad(msg, "the payload of %s needs at least one of: %s", tn,
                   names);
    }
    if (e->payload_check) {
        sw_code_t c = e->payload_check(pl, tn, msg);
        if (c != SW_C_OK) {
            memset(pl, 0, sizeof *pl);
            return c;
        }
    }
    return SW_C_OK;
}

/* --------------------------------------------------------------- JSON */

static const char *ftype_name(sw_ftype_t t)
{
    switch (t) {
    case SW_F_ID:
        return "id";
    case SW_F_TEXT:
        return "text";
    case SW_F_UINT:
        return "integer";
    case SW_F_SOURCES:
        return "sources";
    case SW_F_ROLES:
        return "roles";
    case SW_F_STRMAP:
        return "map";
    case SW_F_IDLIST:
        return "ids";
    }
    return "unknown";
}

/* Builds GET /transitions from the table so the published catalog can never
 * drift from what the reducer does (SPEC §6). `phases` is ["*"] for
 * transitions allowed in any phase; `section` names the section whose phase
 * gates the transition (null for "*"). */
json_t *sw_catalog_to_json(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const sw_catalog_entry_t *e = &table[i];
        json_t *phases = json_array();
        json_t *guards = json_array();
        json_t *payload = json_array();
        if (e->phase_section == SW_SEC__COUNT) {
            json_array_append_new(phases, json_string("*"));
        } else {
            int np = sw_phase_count(e->phase_section);
            for (int ph = 0; ph < np; ph++)
                if (e->phases & PH(ph))
                    json_array_append_new(phases, json_string(sw_phase_name(
                                                      e->phase_section, ph)));
        }
#define GUARD_NAME_(G_ID, G_FIELD, G_NAME, G_BIT)                              \
    if ((G_BIT)&e->guards)                                                     \
        json_array_append_new(guards, json_string(G_NAME));
        SW_GUARD_MAP(GUARD_NAME_)
#undef GUARD_NAME_
        for (const sw_field_spec_t *f = e->fields; f->name; f++) {
            json_t *fo =
                json_pack("{s:s, s:s, s:b}", "name", f->name, "type",
                          ftype_name(f->type), "required", f->required);
            if (f->type == SW_F_UINT) {
                json_object_set_new(fo, "min",
                                    json_integer((json_int_t)f->min));
                json_object_set_new(fo, "max",
                                    json_integer((json_int_t)f->max));
            }
            json_array_append_new(payload, fo);
        }
        json_t *row = json_object();
        json_object_set_new(row, "name", json_string(e->name));
        json_object_set_new(
            row, "section",
            e->phase_section == SW_SEC__COUNT
                ? json_null()
                : json_string(sw_section_name(e->phase_section)));
        json_object_set_new(row, "phases", phases);
        json_object_set_new(row, "guards", guards);
        json_object_set_new(row, "control",
                            json_boolean(e->flags & SW_T_CONTROL));
        json_object_set_new(row, "payload", payload);
        json_object_set_new(row, "doc", json_string(e->doc));
        json_array_append_new(arr, row);
    }
    json_t *root = json_object();
    json_object_set_new(root, "transitions", arr);
    return root;
}
