/* state: the OrchestratorState of SPEC §3, its canonical form and its hash.
 *
 * The state is plain C data. Its canonical JSON is cached per section, and
 * within Execution per task, so a transition re-serialises only what it
 * changed: a reducer that changes a section calls sw_state_touch(); one that
 * changes a task calls sw_state_touch_task(). The hash then streams SHA-256
 * over the cached pieces.
 *
 * Strings are owned, NUL-terminated, never NULL (empty = ""). Sorted
 * collections are kept sorted by the functions here. No I/O, clock or thread
 * headers (determinism boundary).
 */
#ifndef SW_STATE_H
#define SW_STATE_H

#include "buf.h"
#include "hash.h"
#include "hlc.h"
#include "swoosh.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Size bounds of SPEC §5, one definition for proposal validation
 * (catalog.c) and the projection loader (state_load.c), so every state the
 * reducer builds is one the loader accepts. */
#define SW_MAX_ID       128   /* ids, roles, map keys */
#define SW_MAX_TEXT     1024  /* titles, results, reasons, map values */
#define SW_MAX_ITEMS    256   /* roles, sources, resources, params, admins */
#define SW_MAX_TASKS    65536 /* Policy.MaxTasks at most */
#define SW_MAX_MEMBERS  4096  /* Policy.MaxMembers at most */
#define SW_MAX_SAFE_INT 9007199254740991ULL /* 2^53-1, JCS's exact range */

/* POLICY_UPDATED's other bounds (SPEC §5). */
#define SW_MAX_APPROVAL_THRESHOLD 4096
#define SW_MAX_CLOCK_SKEW_MS      86400000

/* Policy at genesis (SPEC §3, the values in parentheses). */
#define SW_GENESIS_APPROVAL_THRESHOLD 1
#define SW_GENESIS_MAX_TASKS          4096
#define SW_GENESIS_MAX_MEMBERS        256
#define SW_GENESIS_MAX_CLOCK_SKEW_MS  300000

/* Sections in JCS order (their names sort this way), which is also the order
 * the projection object is written in. */
typedef enum sw_section {
    SW_SEC_BOOT,
    SW_SEC_CONTROL,
    SW_SEC_COUNCIL,
    SW_SEC_ENVIRONMENT,
    SW_SEC_EXECUTION,
    SW_SEC_INGESTION,
    SW_SEC_META,
    SW_SEC_POLICY,
    SW_SEC__COUNT
} sw_section_t;

/* "Boot", "Control", … ; NULL for an out-of-range value. */
const char *sw_section_name(sw_section_t s);
/* Returns SW_SEC__COUNT when unknown. */
sw_section_t sw_section_by_name(const char *name);

/* Phases: one enum per section, names as in SPEC §3. */
typedef enum {
    SW_ING_IDLE,
    SW_ING_FETCH,
    SW_ING_VALIDATE,
    SW_ING_INDEX,
    SW_ING_READY,
    SW_ING_FAILED,
    SW_ING__COUNT
} sw_ingestion_phase_t;
typedef enum {
    SW_CNC_PLAN_ROLES,
    SW_CNC_ELECT,
    SW_CNC_TOOLING_SYNC,
    SW_CNC_READY,
    SW_CNC__COUNT
} sw_council_phase_t;
typedef enum {
    SW_ENV_IDLE,
    SW_ENV_ALLOCATE,
    SW_ENV_PROVISION,
    SW_ENV_HEALTHCHECK,
    SW_ENV_READY,
    SW_ENV_DEGRADED,
    SW_ENV__COUNT
} sw_env_phase_t;
typedef enum {
    SW_EXE_IDLE,
    SW_EXE_PLAN,
    SW_EXE_WORK,
    SW_EXE_REVIEW,
    SW_EXE_REVERB,
    SW_EXE__COUNT
} sw_exec_phase_t;
typedef enum {
    SW_TASK_OPEN,
    SW_TASK_CLAIMED,
    SW_TASK_COMPLETED,
    SW_TASK_FAILED,
    SW_TASK__COUNT
} sw_task_status_t;

/* Phase name of section `sec` (one of INGESTION, COUNCIL, ENVIRONMENT,
 * EXECUTION); NULL when out of range. */
const char *sw_phase_name(sw_section_t sec, int phase);
/* -1 when unknown. */
int sw_phase_by_name(sw_section_t sec, const char *name);
/* Number of phases of section `sec`; 0 for a section without phases. */
int sw_phase_count(sw_section_t sec);
/* Current phase of section `sec` in s; -1 for a section without phases. */
int sw_state_phase(const struct swoosh_state *s, sw_section_t sec);
const char *sw_task_status_name(sw_task_status_t st);
/* Accepts "OPEN" etc.; -1 when unknown. */
int sw_task_status_by_name(const char *name);

typedef struct sw_source {
    char *id, *uri;
} sw_source_t;
typedef struct sw_role {
    char *role;
    bool required;
} sw_role_t;
typedef struct sw_member {
    char *role, *agent_id;
    uint64_t joined_index;
} sw_member_t;
typedef struct sw_kv {
    char *key, *value;
} sw_kv_t;

/* A string→string map kept sorted by sw_canon_keycmp (JCS member order). */
typedef struct sw_map {
    sw_kv_t *items;
    size_t n, cap;
} sw_map_t;

/* A set of strings kept sorted bytewise (strcmp) and unique. */
typedef struct sw_strset {
    char **items;
    size_t n, cap;
} sw_strset_t;

typedef struct sw_task {
    char *id, *title, *claimant, *result;
    sw_task_status_t status;
    uint64_t created_index, updated_index;
    sw_buf_t jcs; /* cache: `"<id>":{…}` member text */
    bool dirty;   /* cache stale */
} sw_task_t;

/* Tasks kept sorted by id with sw_canon_keycmp (JCS member order). */
typedef struct sw_tasks {
    sw_task_t **items;
    size_t n, cap;
} sw_tasks_t;

struct swoosh_state {
    struct {
        uint64_t schema_version, index;
        sw_hlc_t hlc_last;
        char *last_transition, *last_signer;
    } meta;
    struct {
        bool licensed;
        char *license_id, *node_id;
    } boot;
    struct {
        sw_ingestion_phase_t phase;
        uint64_t epoch;
        sw_source_t *sources;
        size_t n_sources;
        char *content_hash, *last_error;
    } ingestion;
    struct {
        sw_council_phase_t phase;
        uint64_t epoch, quorum;
        char *council_id, *quorum_cert_hash;
        sw_role_t *roles;
        size_t n_roles;
        sw_member_t *members; /* in join order */
        size_t n_members, cap_members;
    } council;
    struct {
        sw_env_phase_t phase;
        uint64_t epoch;
        sw_map_t resources;
        char *last_error;
    } environment;
    struct {
        sw_exec_phase_t phase;
        uint64_t epoch, beat_index;
        char *active_window_id;
        sw_tasks_t tasks;
        sw_strset_t approvals;
    } execution;
    struct {
        bool paused, degraded, recovering, quarantined;
        char *quarantine_reason;
    } control;
    struct {
        uint64_t version, approval_threshold, max_tasks, max_members,
            max_clock_skew_ms;
        sw_strset_t admins;
        sw_map_t params;
    } policy;

    /* Canonical caches (private to state.c). For Execution the cached text
     * stops before the Tasks value; tasks_jcs holds `{…}` of Tasks. */
    sw_buf_t sec_jcs[SW_SEC__COUNT];
    bool sec_dirty[SW_SEC__COUNT];
    sw_buf_t tasks_jcs;
    bool tasks_dirty;
    sw_buf_t full_jcs; /* whole projection, built on demand */
    bool full_dirty;
    /* Hash cache (private to state.c): a reusable SHA-256 context, created
     * on the first hash and never copied by sw_state_clone(), and the last
     * hash, valid until the next touch. */
    sw_sha256_t hasher;
    char hash_hex[SWOOSH_HASH_HEX_SIZE];
    bool hash_valid;
    /* Incremental Tasks text and hash (private to state.c). Tasks are cut
     * into chunks of a fixed number of tasks; tk_off[j] is where chunk j
     * starts in tasks_jcs (tk_off_n entries valid). Hash checkpoints are
     * SHA-256 midstates: ck_exec before the Execution label, ck_tasks[j]
     * before chunk j, ck_after right after the Tasks text. chg_sec and
     * chg_task are the earliest section and task index changed since the
     * last hash (SW_SEC__COUNT / SIZE_MAX: none); dirty_task_min is the
     * earliest task index changed since tasks_jcs was last built. A clone
     * or a loaded state starts without checkpoints. */
    size_t *tk_off;
    size_t tk_off_n, tk_off_cap;
    size_t dirty_task_min, chg_task;
    int chg_sec;
    sw_sha256_t ck_exec, ck_after;
    sw_sha256_t *ck_tasks; /* ck_tasks_cap initialised contexts */
    size_t ck_tasks_cap, ck_tasks_valid;
    bool ck_exec_valid, ck_after_valid;
};
typedef struct swoosh_state sw_state_t;

/* Genesis defaults (SPEC §3). Caller owns; free with sw_state_free(). */
sw_state_t *sw_state_new_genesis(void);
void sw_state_free(sw_state_t *s);
/* Deep copy (text caches included; hash checkpoints are not, so the
 * copy's first hash runs from scratch). Caller owns. */
sw_state_t *sw_state_clone(const sw_state_t *s);

/* Builds a state from a parsed projection object; validates every field
 * (types, enums, bounds, sortedness and uniqueness where SPEC requires it,
 * exactly the 8 sections and their fields, no extras). On failure returns
 * NULL and err names the field ("Execution.Tasks.t1.Status: …"). `proj` is
 * borrowed. */
sw_state_t *sw_state_from_json(const json_t *proj, swoosh_error *err);

/* Marks every section's and task's cache stale (a state whose fields were
 * written directly, as the loader does). */
void sw_state_touch_all(sw_state_t *s);
/* Marks a section's cache stale; the reducer calls it for every section it
 * changes (Meta too). */
void sw_state_touch(sw_state_t *s, sw_section_t sec);
/* Marks one task's cache stale (and Execution's tasks text). */
void sw_state_touch_task(sw_state_t *s, sw_task_t *t);

/* Refreshes stale caches. */
void sw_state_canon_refresh(sw_state_t *s);
/* Hash of the projection (refreshes caches first). */
void sw_state_hash(sw_state_t *s, char hex[SWOOSH_HASH_HEX_SIZE]);
/* Whole projection JCS (borrowed, valid until the next change). */
const char *sw_state_canonical(sw_state_t *s, size_t *len);
/* JCS of one section's value (`{…}`), appended to out. */
void sw_state_section_jcs(sw_state_t *s, sw_section_t sec, sw_buf_t *out);

/* Collections. Lookups return NULL / index -1 when absent. */
sw_task_t *sw_tasks_find(const sw_tasks_t *ts, const char *id);
/* Inserts a new task (takes ownership) keeping order; id must be absent. */
void sw_tasks_insert(sw_state_t *s, sw_task_t *t);
/* Removes every task whose status is COMPLETED or FAILED. */
void sw_tasks_evict_finished(sw_state_t *s);
sw_task_t *sw_task_new(const char *id, const char *title, uint64_t index);
void sw_task_free(sw_task_t *t);

bool sw_strset_has(const sw_strset_t *ss, const char *v);
/* Adds keeping order; no-op when present. */
void sw_strset_add(sw_strset_t *ss, const char *v);
void sw_strset_clear(sw_strset_t *ss);
void sw_map_clear(sw_map_t *m);
/* Sets key=value keeping JCS order (replaces an existing value). */
void sw_map_set(sw_map_t *m, const char *key, const char *value);
const char *sw_map_get(const sw_map_t *m, const char *key);

int sw_council_find_member(const sw_state_t *s, const char *agent_id);
int sw_council_find_role(const sw_state_t *s, const char *role);
/* Index of the member holding `role`, -1 if vacant. */
int sw_council_role_holder(const sw_state_t *s, const char *role);

/* Replaces *dst with a copy of src (NULL → ""). */
void sw_str_set(char **dst, const char *src);

#endif
