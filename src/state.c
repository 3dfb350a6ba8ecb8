/* state: OrchestratorState, its cached canonical form and hash (state.h).
 *
 * Canonical text is cached per section; Execution's cache stops right before
 * the Tasks value, whose text (tasks_jcs) is assembled from one cached member
 * text per task. A transition therefore re-serialises only what it touched,
 * and the hash streams SHA-256 over the pieces without concatenating them.
 * Loading a projection (sw_state_from_json) is in state_load.c.
 */
#include "state.h"

#include "canon.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

/* Tasks per chunk of the Tasks text: the unit of incremental rebuilding and
 * the spacing of hash checkpoints (one midstate copy per chunk per hash). */
#define TASK_CHUNK 64
/* Below this many projection bytes a hash from scratch is as cheap as
 * keeping checkpoints, so none are kept (genesis stays at ~1 us). */
#define CK_MIN_BYTES 8192

/* Appends a string literal without strlen. */
#define PUTL(b, lit) sw_buf_append((b), (lit), sizeof(lit) - 1)

/* ------------------------------------------------------------- names */

static const char *const section_names[SW_SEC__COUNT] = {
    "Boot",      "Control",   "Council", "Environment",
    "Execution", "Ingestion", "Meta",    "Policy",
};

static const char *const ing_phases[SW_ING__COUNT] = {
    "IDLE", "FETCH", "VALIDATE", "INDEX", "READY", "FAILED"};
static const char *const cnc_phases[SW_CNC__COUNT] = {"PLAN_ROLES", "ELECT",
                                                      "TOOLING_SYNC", "READY"};
static const char *const env_phases[SW_ENV__COUNT] = {
    "IDLE", "ALLOCATE", "PROVISION", "HEALTHCHECK", "READY", "DEGRADED"};
static const char *const exe_phases[SW_EXE__COUNT] = {"IDLE", "PLAN", "WORK",
                                                      "REVIEW", "REVERB"};
static const char *const task_statuses[SW_TASK__COUNT] = {
    "OPEN", "CLAIMED", "COMPLETED", "FAILED"};

/* Section names are the projection's keys (SPEC §3). */
const char *sw_section_name(sw_section_t s)
{
    return (unsigned)s < SW_SEC__COUNT ? section_names[s] : NULL;
}

/* Used by GET /state?projection=<Section> (SPEC §6). */
sw_section_t sw_section_by_name(const char *name)
{
    for (int i = 0; name && i < SW_SEC__COUNT; i++)
        if (strcmp(section_names[i], name) == 0)
            return (sw_section_t)i;
    return SW_SEC__COUNT;
}

static const char *const *phase_table(sw_section_t sec, int *count)
{
    switch (sec) {
    case SW_SEC_INGESTION:
        *count = SW_ING__COUNT;
        return ing_phases;
    case SW_SEC_COUNCIL:
        *count = SW_CNC__COUNT;
        return cnc_phases;
    case SW_SEC_ENVIRONMENT:
        *count = SW_ENV__COUNT;
        return env_phases;
    case SW_SEC_EXECUTION:
        *count = SW_EXE__COUNT;
        return exe_phases;
    default:
        *count = 0;
        return NULL;
    }
}

/* Phase names are part of the projection and so of the hash (SPEC §3). */
const char *sw_phase_name(sw_section_t sec, int phase)
{
    int n;
    const char *const *t = phase_table(sec, &n);
    return t && phase >= 0 && phase < n ? t[phase] : NULL;
}

/* The inverse of sw_phase_name(), for loading projections. */
int sw_phase_by_name(sw_section_t sec, const char *name)
{
    int n;
    const char *const *t = phase_table(sec, &n);
    for (int i = 0; t && name && i < n; i++)
        if (strcmp(t[i], name) == 0)
            return i;
    return -1;
}

/* The sections whose transitions are gated by a phase (SPEC §3): the
 * reducer checks against it and GET /transitions lists the names. */
int sw_phase_count(sw_section_t sec)
{
    int n = 0;
    return phase_table(sec, &n) ? n : 0;
}

/* Reads a section's phase generically so the catalog can name the section a
 * transition is gated by instead of carrying a function per row. */
int sw_state_phase(const sw_state_t *s, sw_section_t sec)
{
    switch (sec) {
    case SW_SEC_INGESTION:
        return (int)s->ingestion.phase;
    case SW_SEC_COUNCIL:
        return (int)s->council.phase;
    case SW_SEC_ENVIRONMENT:
        return (int)s->environment.phase;
    case SW_SEC_EXECUTION:
        return (int)s->execution.phase;
    default:
        return -1;
    }
}

/* Task statuses of SPEC §3 (OPEN|CLAIMED|COMPLETED|FAILED). */
const char *sw_task_status_name(sw_task_status_t st)
{
    return (unsigned)st < SW_TASK__COUNT ? task_statuses[st] : NULL;
}

/* The inverse of sw_task_status_name() (exact, upper case), for loading a
 * projection. */
int sw_task_status_by_name(const char *name)
{
    for (int i = 0; name && i < SW_TASK__COUNT; i++)
        if (strcmp(task_statuses[i], name) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------ small helpers */

/* State strings are owned and never NULL (state.h), so every write goes
 * through here. */
void sw_str_set(char **dst, const char *src)
{
    char *copy = sw_xstrdup(src ? src : "");
    free(*dst);
    *dst = copy;
}

static char *dup_or_empty(const char *s)
{
    return sw_xstrdup(s ? s : "");
}

static void invalidate(sw_state_t *s)
{
    s->full_dirty = true;
    s->hash_valid = false;
}

/* Records that the task at index i changed, was inserted there, or that
 * tasks from i on were removed: everything before i is unchanged. */
static void note_task(sw_state_t *s, size_t i)
{
    if (i < s->chg_task)
        s->chg_task = i;
    if (i < s->dirty_task_min)
        s->dirty_task_min = i;
    s->tasks_dirty = true;
    invalidate(s);
}

/* ------------------------------------------------------------- tasks */

/* A fresh OPEN task (SPEC §5 EXECUTION_TASK_CREATED): CreatedIndex and
 * UpdatedIndex are the new Meta.Index. Caller owns; its cache is stale. */
sw_task_t *sw_task_new(const char *id, const char *title, uint64_t index)
{
    sw_task_t *t = sw_xcalloc(1, sizeof(*t));
    t->id = dup_or_empty(id);
    t->title = dup_or_empty(title);
    t->claimant = sw_xstrdup("");
    t->result = sw_xstrdup("");
    t->status = SW_TASK_OPEN;
    t->created_index = index;
    t->updated_index = index;
    t->dirty = true;
    return t;
}

/* Pairs with sw_task_new(); NULL is a no-op. */
void sw_task_free(sw_task_t *t)
{
    if (!t)
        return;
    free(t->id);
    free(t->title);
    free(t->claimant);
    free(t->result);
    sw_buf_free(&t->jcs);
    free(t);
}

static sw_task_t *task_clone(const sw_task_t *t)
{
    sw_task_t *c = sw_xcalloc(1, sizeof(*c));
    c->id = sw_xstrdup(t->id);
    c->title = sw_xstrdup(t->title);
    c->claimant = sw_xstrdup(t->claimant);
    c->result = sw_xstrdup(t->result);
    c->status = t->status;
    c->created_index = t->created_index;
    c->updated_index = t->updated_index;
    c->dirty = t->dirty;
    if (t->jcs.len)
        sw_buf_append(&c->jcs, t->jcs.data, t->jcs.len);
    return c;
}

/* Position of `id` in the sorted task array, or where it would go
 * (*found tells which). */
static size_t tasks_lower_bound(const sw_tasks_t *ts, const char *id,
                                bool *found)
{
    size_t lo = 0, hi = ts->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = sw_canon_keycmp(ts->items[mid]->id, id);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < ts->n && strcmp(ts->items[lo]->id, id) == 0;
    return lo;
}

/* Tasks are kept in JCS member order, so lookups are binary searches and
 * serialising needs no sort. */
sw_task_t *sw_tasks_find(const sw_tasks_t *ts, const char *id)
{
    bool found;
    size_t i = tasks_lower_bound(ts, id, &found);
    return found ? ts->items[i] : NULL;
}

/* EXECUTION_TASK_CREATED adds a task (SPEC §5); the Tasks text is rebuilt
 * on the next refresh. */
void sw_tasks_insert(sw_state_t *s, sw_task_t *t)
{
    sw_tasks_t *ts = &s->execution.tasks;
    bool found;
    size_t i = tasks_lower_bound(ts, t->id, &found);
    SW_ASSERT(!found);
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? ts->cap * 2 : 16;
        ts->items = sw_xrealloc(ts->items, ts->cap * sizeof(*ts->items));
    }
    memmove(ts->items + i + 1, ts->items + i, (ts->n - i) * sizeof(*ts->items));
    ts->items[i] = t;
    ts->n++;
    t->dirty = true;
    note_task(s, i);
}

/* EXECUTION_WINDOW_OPENED evicts COMPLETED and FAILED tasks (SPEC §5). */
void sw_tasks_evict_finished(sw_state_t *s)
{
    sw_tasks_t *ts = &s->execution.tasks;
    size_t k = 0, first = SIZE_MAX;
    for (size_t i = 0; i < ts->n; i++) {
        sw_task_t *t = ts->items[i];
        if (t->status == SW_TASK_COMPLETED || t->status == SW_TASK_FAILED) {
            if (first == SIZE_MAX)
                first = i;
            sw_task_free(t);
        } else {
            ts->items[k++] = t;
        }
    }
    if (k != ts->n) {
        ts->n = k;
        note_task(s, first);
    }
}

static void tasks_free(sw_tasks_t *ts)
{
    for (size_t i = 0; i < ts->n; i++)
        sw_task_free(ts->items[i]);
    free(ts->items);
    ts->items = NULL;
    ts->n = ts->cap = 0;
}

static void tasks_copy(sw_tasks_t *dst, const sw_tasks_t *src)
{
    dst->n = dst->cap = src->n;
    dst->items = src->n ? sw_xmalloc(src->n * sizeof(sw_task_t *)) : NULL;
    for (size_t i = 0; i < src->n; i++)
        dst->items[i] = task_clone(src->items[i]);
}

/* ------------------------------------------------- sets and maps */

static size_t strset_lower_bound(const sw_strset_t *ss, const char *v,
                                 bool *found)
{
    size_t lo = 0, hi = ss->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ss->items[mid], v) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < ss->n && strcmp(ss->items[lo], v) == 0;
    return lo;
}

/* Approvals and Admins are sorted bytewise and unique (SPEC §5). */
bool sw_strset_has(const sw_strset_t *ss, const char *v)
{
    bool found;
    strset_lower_bound(ss, v, &found);
    return found;
}

/* Keeps the set sorted and unique as SPEC §5 requires of Approvals and
 * Admins. */
void sw_strset_add(sw_strset_t *ss, const char *v)
{
    bool found;
    size_t i = strset_lower_bound(ss, v, &found);
    if (found)
        return;
    if (ss->n == ss->cap) {
        ss->cap = ss->cap ? ss->cap * 2 : 8;
        ss->items = sw_xrealloc(ss->items, ss->cap * sizeof(*ss->items));
    }
    memmove(ss->items + i + 1, ss->items + i, (ss->n - i) * sizeof(*ss->items));
    ss->items[i] = sw_xstrdup(v);
    ss->n++;
}

/* Approvals=[] and Admins replaced wholesale (SPEC §5). */
void sw_strset_clear(sw_strset_t *ss)
{
    for (size_t i = 0; i < ss->n; i++)
        free(ss->items[i]);
    ss->n = 0;
}

static void strset_free(sw_strset_t *ss)
{
    sw_strset_clear(ss);
    free(ss->items);
    ss->items = NULL;
    ss->cap = 0;
}

static void strset_copy(sw_strset_t *dst, const sw_strset_t *src)
{
    dst->n = dst->cap = src->n;
    dst->items = src->n ? sw_xmalloc(src->n * sizeof(char *)) : NULL;
    for (size_t i = 0; i < src->n; i++)
        dst->items[i] = sw_xstrdup(src->items[i]);
}

/* Resources and Params are replaced wholesale (SPEC §5). */
void sw_map_clear(sw_map_t *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->items[i].key);
        free(m->items[i].value);
    }
    m->n = 0;
}

static void map_free(sw_map_t *m)
{
    sw_map_clear(m);
    free(m->items);
    m->items = NULL;
    m->cap = 0;
}

static void map_copy(sw_map_t *dst, const sw_map_t *src)
{
    dst->n = dst->cap = src->n;
    dst->items = src->n ? sw_xmalloc(src->n * sizeof(sw_kv_t)) : NULL;
    for (size_t i = 0; i < src->n; i++) {
        dst->items[i].key = sw_xstrdup(src->items[i].key);
        dst->items[i].value = sw_xstrdup(src->items[i].value);
    }
}

static size_t map_lower_bound(const sw_map_t *m, const char *key, bool *found)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sw_canon_keycmp(m->items[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < m->n && strcmp(m->items[lo].key, key) == 0;
    return lo;
}

/* Maps are kept in JCS member order so serialising needs no sort. */
void sw_map_set(sw_map_t *m, const char *key, const char *value)
{
    bool found;
    size_t i = map_lower_bound(m, key, &found);
    if (found) {
        sw_str_set(&m->items[i].value, value);
        return;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->items = sw_xrealloc(m->items, m->cap * sizeof(*m->items));
    }
    memmove(m->items + i + 1, m->items + i, (m->n - i) * sizeof(*m->items));
    m->items[i].key = sw_xstrdup(key);
    m->items[i].value = dup_or_empty(value);
    m->n++;
}

/* Borrowed value, or NULL when the key is absent. */
const char *sw_map_get(const sw_map_t *m, const char *key)
{
    bool found;
    size_t i = map_lower_bound(m, key, &found);
    return found ? m->items[i].value : NULL;
}

/* ----------------------------------------------------------- council */

/* COUNCIL_ROLE_CLAIMED/RELEASED and EXECUTION_APPROVAL look members up by
 * agent (SPEC §5); councils are small, so a scan is the right tool. */
int sw_council_find_member(const sw_state_t *s, const char *agent_id)
{
    for (size_t i = 0; i < s->council.n_members; i++)
        if (strcmp(s->council.members[i].agent_id, agent_id) == 0)
            return (int)i;
    return -1;
}

/* "role planned" checks of SPEC §5. */
int sw_council_find_role(const sw_state_t *s, const char *role)
{
    for (size_t i = 0; i < s->council.n_roles; i++)
        if (strcmp(s->council.roles[i].role, role) == 0)
            return (int)i;
    return -1;
}

/* "role vacant" checks of SPEC §5. */
int sw_council_role_holder(const sw_state_t *s, const char *role)
{
    for (size_t i = 0; i < s->council.n_members; i++)
        if (strcmp(s->council.members[i].role, role) == 0)
            return (int)i;
    return -1;
}

/* ------------------------------------------------- life cycle */

/* Marks every cached text stale: after genesis, and after a loader wrote
 * the fields directly (state_load.c). */
void sw_state_touch_all(sw_state_t *s)
{
    for (int i = 0; i < SW_SEC__COUNT; i++)
        s->sec_dirty[i] = true;
    s->tasks_dirty = true;
    for (size_t i = 0; i < s->execution.tasks.n; i++)
        s->execution.tasks.items[i]->dirty = true;
    s->chg_sec = 0;
    note_task(s, 0);
}

/* The built-in genesis of SPEC §3: SchemaVersion 1, ApprovalThreshold 1,
 * MaxTasks 4096, MaxMembers 256, MaxClockSkewMs 300000, HLCLast
 * 0-0-0000000000000000, Council PLAN_ROLES, every other phase IDLE, and
 * empty strings, false, 0 and empty collections everywhere else. Boot.NodeID
 * is "" on every node so genesis is identical everywhere (SPEC §6). */
sw_state_t *sw_state_new_genesis(void)
{
    sw_state_t *s = sw_xcalloc(1, sizeof(*s));
    s->meta.schema_version = 1;
    s->meta.last_transition = sw_xstrdup("");
    s->meta.last_signer = sw_xstrdup("");
    s->boot.license_id = sw_xstrdup("");
    s->boot.node_id = sw_xstrdup("");
    s->ingestion.phase = SW_ING_IDLE;
    s->ingestion.content_hash = sw_xstrdup("");
    s->ingestion.last_error = sw_xstrdup("");
    s->council.phase = SW_CNC_PLAN_ROLES;
    s->council.council_id = sw_xstrdup("");
    s->council.quorum_cert_hash = sw_xstrdup("");
    s->environment.phase = SW_ENV_IDLE;
    s->environment.last_error = sw_xstrdup("");
    s->execution.phase = SW_EXE_IDLE;
    s->execution.active_window_id = sw_xstrdup("");
    s->control.quarantine_reason = sw_xstrdup("");
    s->policy.approval_threshold = SW_GENESIS_APPROVAL_THRESHOLD;
    s->policy.max_tasks = SW_GENESIS_MAX_TASKS;
    s->policy.max_members = SW_GENESIS_MAX_MEMBERS;
    s->policy.max_clock_skew_ms = SW_GENESIS_MAX_CLOCK_SKEW_MS;
    sw_state_touch_all(s);
    return s;
}

static void sources_free(sw_source_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(src[i].id);
        free(src[i].uri);
    }
    free(src);
}

static void roles_free(sw_role_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(r[i].role);
    free(r);
}

static void members_free(sw_member_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].role);
        free(m[i].agent_id);
    }
    free(m);
}

static sw_source_t *sources_copy(const sw_source_t *src, size_t n)
{
    sw_source_t *c = n ? sw_xmalloc(n * sizeof(*c)) : NULL;
    for (size_t i = 0; i < n; i++) {
        c[i].id = sw_xstrdup(src[i].id);
        c[i].uri = sw_xstrdup(src[i].uri);
    }
    return c;
}

static sw_role_t *roles_copy(const sw_role_t *r, size_t n)
{
    sw_role_t *c = n ? sw_xmalloc(n * sizeof(*c)) : NULL;
    for (size_t i = 0; i < n; i++) {
        c[i].role = sw_xstrdup(r[i].role);
        c[i].required = r[i].required;
    }
    return c;
}

static sw_member_t *members_copy(const sw_member_t *m, size_t n)
{
    sw_member_t *c = n ? sw_xmalloc(n * sizeof(*c)) : NULL;
    for (size_t i = 0; i < n; i++) {
        c[i].role = sw_xstrdup(m[i].role);
        c[i].agent_id = sw_xstrdup(m[i].agent_id);
        c[i].joined_index = m[i].joined_index;
    }
    return c;
}

/* Frees everything a state owns; NULL is a no-op. */
void sw_state_free(sw_state_t *s)
{
    if (!s)
        return;
    free(s->meta.last_transition);
    free(s->meta.last_signer);
    free(s->boot.license_id);
    free(s->boot.node_id);
    sources_free(s->ingestion.sources, s->ingestion.n_sources);
    free(s->ingestion.content_hash);
    free(s->ingestion.last_error);
    free(s->council.council_id);
    free(s->council.quorum_cert_hash);
    roles_free(s->council.roles, s->council.n_roles);
    members_free(s->council.members, s->council.n_members);
    map_free(&s->environment.resources);
    free(s->environment.last_error);
    free(s->execution.active_window_id);
    tasks_free(&s->execution.tasks);
    strset_free(&s->execution.approvals);
    free(s->control.quarantine_reason);
    strset_free(&s->policy.admins);
    map_free(&s->policy.params);
    for (int i = 0; i < SW_SEC__COUNT; i++)
        sw_buf_free(&s->sec_jcs[i]);
    sw_buf_free(&s->tasks_jcs);
    sw_buf_free(&s->full_jcs);
    sw_sha256_destroy(&s->hasher);
    free(s->tk_off);
    sw_sha256_destroy(&s->ck_exec);
    sw_sha256_destroy(&s->ck_after);
    for (size_t i = 0; i < s->ck_tasks_cap; i++)
        sw_sha256_destroy(&s->ck_tasks[i]);
    free(s->ck_tasks);
    free(s);
}

static void buf_copy(sw_buf_t *dst, const sw_buf_t *src)
{
    *dst = (sw_buf_t)SW_BUF_INIT;
    if (src->len)
        sw_buf_append(dst, src->data, src->len);
}

/* The executor works on a copy and publishes it only after the WAL commit
 * (SPEC §4), so a copy must be complete, text caches included, to keep the
 * next serialisation incremental. Hash contexts and checkpoints are not
 * shared: a copy makes its own and its first hash runs from scratch. */
sw_state_t *sw_state_clone(const sw_state_t *s)
{
    sw_state_t *c = sw_xcalloc(1, sizeof(*c));
    c->meta = s->meta;
    c->meta.last_transition = sw_xstrdup(s->meta.last_transition);
    c->meta.last_signer = sw_xstrdup(s->meta.last_signer);
    c->boot = s->boot;
    c->boot.license_id = sw_xstrdup(s->boot.license_id);
    c->boot.node_id = sw_xstrdup(s->boot.node_id);

    c->ingestion = s->ingestion;
    c->ingestion.content_hash = sw_xstrdup(s->ingestion.content_hash);
    c->ingestion.last_error = sw_xstrdup(s->ingestion.last_error);
    c->ingestion.sources =
        sources_copy(s->ingestion.sources, s->ingestion.n_sources);

    c->council = s->council;
    c->council.council_id = sw_xstrdup(s->council.council_id);
    c->council.quorum_cert_hash = sw_xstrdup(s->council.quorum_cert_hash);
    c->council.roles = roles_copy(s->council.roles, s->council.n_roles);
    c->council.cap_members = s->council.n_members;
    c->council.members = members_copy(s->council.members, s->council.n_members);

    c->environment = s->environment;
    c->environment.last_error = sw_xstrdup(s->environment.last_error);
    map_copy(&c->environment.resources, &s->environment.resources);

    c->execution = s->execution;
    c->execution.active_window_id = sw_xstrdup(s->execution.active_window_id);
    strset_copy(&c->execution.approvals, &s->execution.approvals);
    tasks_copy(&c->execution.tasks, &s->execution.tasks);

    c->control = s->control;
    c->control.quarantine_reason = sw_xstrdup(s->control.quarantine_reason);

    c->policy = s->policy;
    strset_copy(&c->policy.admins, &s->policy.admins);
    map_copy(&c->policy.params, &s->policy.params);

    for (int i = 0; i < SW_SEC__COUNT; i++) {
        buf_copy(&c->sec_jcs[i], &s->sec_jcs[i]);
        c->sec_dirty[i] = s->sec_dirty[i];
    }
    buf_copy(&c->tasks_jcs, &s->tasks_jcs);
    c->tasks_dirty = s->tasks_dirty;
    buf_copy(&c->full_jcs, &s->full_jcs);
    c->full_dirty = s->full_dirty;
    c->hasher.ctx = NULL;
    memcpy(c->hash_hex, s->hash_hex, sizeof(c->hash_hex));
    c->hash_valid = s->hash_valid;
    c->tk_off_n = c->tk_off_cap = s->tk_off_n;
    if (s->tk_off_n) {
        c->tk_off = sw_xmalloc(s->tk_off_n * sizeof(*c->tk_off));
        memcpy(c->tk_off, s->tk_off, s->tk_off_n * sizeof(*c->tk_off));
    }
    c->dirty_task_min = s->dirty_task_min;
    /* No checkpoints are copied: the copy's next hash starts from scratch. */
    c->chg_sec = 0;
    c->chg_task = 0;
    return c;
}

/* --------------------------------------------------- serialisation */

static void put_uint(sw_buf_t *b, uint64_t v)
{
    sw_buf_put_u64(b, v);
}

static void put_bool(sw_buf_t *b, bool v)
{
    if (v)
        PUTL(b, "true");
    else
        PUTL(b, "false");
}

static void put_strset(sw_buf_t *b, const sw_strset_t *ss)
{
    sw_buf_putc(b, '[');
    for (size_t i = 0; i < ss->n; i++) {
        if (i)
            sw_buf_putc(b, ',');
        sw_canon_cstr(b, ss->items[i]);
    }
    sw_buf_putc(b, ']');
}

static void put_map(sw_buf_t *b, const sw_map_t *m)
{
    sw_buf_putc(b, '{');
    for (size_t i = 0; i < m->n; i++) {
        if (i)
            sw_buf_putc(b, ',');
        sw_canon_cstr(b, m->items[i].key);
        sw_buf_putc(b, ':');
        sw_canon_cstr(b, m->items[i].value);
    }
    sw_buf_putc(b, '}');
}

/* Each writer emits members in JCS order; the names are ASCII, so that
 * order is plain byte order (checked against a generic JCS in tests). */
static void write_boot(const sw_state_t *s, sw_buf_t *b)
{
    PUTL(b, "{\"LicenseID\":");
    sw_canon_cstr(b, s->boot.license_id);
    PUTL(b, ",\"Licensed\":");
    put_bool(b, s->boot.licensed);
    PUTL(b, ",\"NodeID\":");
    sw_canon_cstr(b, s->boot.node_id);
    sw_buf_putc(b, '}');
}

static void write_control(const sw_state_t *s, sw_buf_t *b)
{
    PUTL(b, "{\"Degraded\":");
    put_bool(b, s->control.degraded);
    PUTL(b, ",\"Paused\":");
    put_bool(b, s->control.paused);
    PUTL(b, ",\"QuarantineReason\":");
    sw_canon_cstr(b, s->control.quarantine_reason);
    PUTL(b, ",\"Quarantined\":");
    put_bool(b, s->control.quarantined);
    PUTL(b, ",\"Recovering\":");
    put_bool(b, s->control.recovering);
    sw_buf_putc(b, '}');
}

static void write_council(const sw_state_t *s, sw_buf_t *b)
{
    PUTL(b, "{\"CouncilID\":");
    sw_canon_cstr(b, s->council.council_id);
    PUTL(b, ",\"Epoch\":");
    put_uint(b, s->council.epoch);
    PUTL(b, ",\"Members\":[");
    for (size_t i = 0; i < s->council.n_members; i++) {
        const sw_member_t *m = &s->council.members[i];
        if (i)
            sw_buf_putc(b, ',');
        PUTL(b, "{\"AgentID\":");
        sw_canon_cstr(b, m->agent_id);
        PUTL(b, ",\"JoinedIndex\":");
        put_uint(b, m->joined_index);
        PUTL(b, ",\"Role\":");
        sw_canon_cstr(b, m->role);
        sw_buf_putc(b, '}');
    }
    PUTL(b, "],\"Phase\":\"");
    sw_buf_puts(b, cnc_phases[s->council.phase]);
    PUTL(b, "\",\"PlannedRoles\":[");
    for (size_t i = 0; i < s->council.n_roles; i++) {
        if (i)
            sw_buf_putc(b, ',');
        PUTL(b, "{\"Required\":");
        put_bool(b, s->council.roles[i].required);
        PUTL(b, ",\"Role\":");
        sw_canon_cstr(b, s->council.roles[i].role);
        sw_buf_putc(b, '}');
    }
    PUTL(b, "],\"Quorum\":");
    put_uint(b, s->council.quorum);
    PUTL(b, ",\"QuorumCertHash\":");
    sw_canon_cstr(b, s->council.quorum_cert_hash);
    sw_buf_putc(b, '}');
}

static void write_environment(const sw_state_t *s, sw_buf_t *b)
{
    PUTL(b, "{\"Epoch\":");
    put_uint(b, s->environment.epoch);
    PUTL(b, ",\"LastError\":");
    sw_canon_cstr(b, s->environment.last_error);
    PUTL(b, ",\"Phase\":\"");
    sw_buf_puts(b, env_phases[s->environment.phase]);
    PUTL(b, "\",\"Resources\":");
    put_map(b, &s->environment.resources);
    sw_buf_putc(b, '}');
}

/* Execution's head: everything up to and including `"Tasks":`. Tasks is
 * the last member in JCS order, so head + tasks_jcs + "}" is the whole
 * section. */
static void write_execution_head(const sw_state_t *s, sw_buf_t *b)
{
    PUTL(b, "{\"ActiveWindowID\":");
    sw_canon_cstr(b, s->execution.active_window_id);
    PUTL(b, ",\"Approvals\":");
    put_strset(b, &s->execution.approvals);
    PUTL(b, ",\"BeatIndex\":");
    put_uint(b, s->execution.beat_index);
    PUTL(b, ",\"Epoch\":");
    put_uint(b, s->execution.epoch);
    PUTL(b, ",\"Phase\":\"");
    sw_buf_puts(b, exe_phases[s->execution.phase]);
    PUTL(b, "\",\"Tasks\":");
}

static void write_task(const sw_task_t *t, sw_buf_t *b)
{
    sw_canon_cstr(b, t->id);
    PUTL(b, ":{\"Claimant\":");
    sw_canon_cstr(b, t->claimant);
    PUTL(b, ",\"CreatedIndex\":");
    put_uint(b, t->created_index);
    PUTL(b, ",\"Result\":");
    sw_canon_cstr(b, t->result);
    PUTL(b, ",\"Status\":\"");
    sw_buf_puts(b, task_statuses[t->status]);
    PUTL(b, "\",\"Title\":");
    sw_canon_cstr(b, t->title);
    PUTL(b, ",\"UpdatedIndex\":");
    put_uint(b, t->updated_index);
    sw_buf_putc(b, '}');
}

static void write_ingestion(const sw_state_t *s, sw_buf_t *b)
{
    PUTL(b, "{\"ContentHash\":");
    sw_canon_cstr(b, s->ingestion.content_hash);
    PUTL(b, ",\"Epoch\":");
    put_uint(b, s->ingestion.epoch);
    PUTL(b, ",\"LastError\":");
    sw_canon_cstr(b, s->ingestion.last_error);
    PUTL(b, ",\"Phase\":\"");
    sw_buf_puts(b, ing_phases[s->ingestion.phase]);
    PUTL(b, "\",\"Sources\":[");
    for (size_t i = 0; i < s->ingestion.n_sources; i++) {
        if (i)
            sw_buf_putc(b, ',');
        PUTL(b, "{\"ID\":");
        sw_canon_cstr(b, s->ingestion.sources[i].id);
        PUTL(b, ",\"URI\":");
        sw_canon_cstr(b, s->ingestion.sources[i].uri);
        sw_buf_putc(b, '}');
    }
    PUTL(b, "]}");
}

static void write_meta(const sw_state_t *s, sw_buf_t *b)
{
    char hlc[SW_HLC_STRLEN];
    size_t n = sw_hlc_format(&s->meta.hlc_last, hlc);
    PUTL(b, "{\"HLCLast\":\"");
    sw_buf_append(b, hlc, n);
    PUTL(b, "\",\"Index\":");
    put_uint(b, s->meta.index);
    PUTL(b, ",\"LastSigner\":");
    sw_canon_cstr(b, s->meta.last_signer);
    PUTL(b, ",\"LastTransition\":");
    sw_canon_cstr(b, s->meta.last_transition);
    PUTL(b, ",\"SchemaVersion\":");
    put_uint(b, s->meta.schema_version);
    sw_buf_putc(b, '}');
}

static void write_policy(const sw_state_t *s, sw_buf_t *b)
{
    PUTL(b, "{\"Admins\":");
    put_strset(b, &s->policy.admins);
    PUTL(b, ",\"ApprovalThreshold\":");
    put_uint(b, s->policy.approval_threshold);
    PUTL(b, ",\"MaxClockSkewMs\":");
    put_uint(b, s->policy.max_clock_skew_ms);
    PUTL(b, ",\"MaxMembers\":");
    put_uint(b, s->policy.max_members);
    PUTL(b, ",\"MaxTasks\":");
    put_uint(b, s->policy.max_tasks);
    PUTL(b, ",\"Params\":");
    put_map(b, &s->policy.params);
    PUTL(b, ",\"Version\":");
    put_uint(b, s->policy.version);
    sw_buf_putc(b, '}');
}

typedef void (*writer_fn)(const sw_state_t *, sw_buf_t *);

static const writer_fn writers[SW_SEC__COUNT] = {
    write_boot,           write_control,   write_council, write_environment,
    write_execution_head, write_ingestion, write_meta,    write_policy,
};

/* What goes before each section's value in the projection text; the
 * Execution section's closing brace is folded into the next label. */
static const struct {
    const char *text;
    size_t len;
} labels[SW_SEC__COUNT] = {
#define LABEL(s)                                                               \
    {                                                                          \
        s, sizeof(s) - 1                                                       \
    }
    LABEL("{\"Boot\":"),      LABEL(",\"Control\":"),
    LABEL(",\"Council\":"),   LABEL(",\"Environment\":"),
    LABEL(",\"Execution\":"), LABEL("},\"Ingestion\":"),
    LABEL(",\"Meta\":"),      LABEL(",\"Policy\":"),
#undef LABEL
};

/* The reducer calls this for every section it changes (Meta included);
 * for Execution it covers the head only, task changes go through
 * sw_state_touch_task() or the task collection functions. */
void sw_state_touch(sw_state_t *s, sw_section_t sec)
{
    SW_ASSERT((unsigned)sec < SW_SEC__COUNT);
    s->sec_dirty[sec] = true;
    if ((int)sec < s->chg_sec)
        s->chg_sec = (int)sec;
    invalidate(s);
}

/* One changed task re-serialises that task only; the Tasks object text is
 * then re-assembled from the cached member texts. */
void sw_state_touch_task(sw_state_t *s, sw_task_t *t)
{
    bool found;
    size_t i = tasks_lower_bound(&s->execution.tasks, t->id, &found);
    t->dirty = true;
    /* A task not (or not yet) in the collection: assume the worst. */
    note_task(s, found && s->execution.tasks.items[i] == t ? i : 0);
}

/* Re-serialises the dirty tasks and rebuilds the Tasks text from the chunk
 * holding the first changed task; tk_off[] records where each chunk starts
 * (the ',' before its first task, or just after '{' for chunk 0). */
static void refresh_tasks(sw_state_t *s)
{
    const sw_tasks_t *ts = &s->execution.tasks;
    size_t from = s->dirty_task_min < ts->n ? s->dirty_task_min : ts->n;
    for (size_t i = from; i < ts->n; i++) {
        sw_task_t *t = ts->items[i];
        if (t->dirty) {
            sw_buf_reset(&t->jcs);
            write_task(t, &t->jcs);
            t->dirty = false;
        }
    }
    size_t j0 = from / TASK_CHUNK;
    if (j0 + 1 > s->tk_off_n)
        j0 = s->tk_off_n ? s->tk_off_n - 1 : 0;
    size_t need = ts->n / TASK_CHUNK + 1;
    if (need > s->tk_off_cap) {
        s->tk_off_cap = need * 2;
        s->tk_off = sw_xrealloc(s->tk_off, s->tk_off_cap * sizeof(*s->tk_off));
    }
    sw_buf_t *b = &s->tasks_jcs;
    if (j0 == 0 || !b->data) {
        j0 = 0;
        sw_buf_reset(b);
        sw_buf_putc(b, '{');
    } else {
        b->len = s->tk_off[j0];
        b->data[b->len] = '\0';
    }
    size_t total = 1;
    for (size_t i = j0 * TASK_CHUNK; i < ts->n; i++)
        total += ts->items[i]->jcs.len + 1;
    sw_buf_reserve(b, total);
    for (size_t i = j0 * TASK_CHUNK; i < ts->n; i++) {
        if (i % TASK_CHUNK == 0)
            s->tk_off[i / TASK_CHUNK] = b->len;
        if (i)
            sw_buf_putc(b, ',');
        sw_buf_append(b, ts->items[i]->jcs.data, ts->items[i]->jcs.len);
    }
    if (ts->n % TASK_CHUNK == 0)
        s->tk_off[ts->n / TASK_CHUNK] = b->len;
    sw_buf_putc(b, '}');
    s->tk_off_n = need;
    s->dirty_task_min = SIZE_MAX;
    s->tasks_dirty = false;
}

/* Brings every stale cache up to date: called before hashing or
 * serialising, so only what changed since the last call is rewritten. */
void sw_state_canon_refresh(sw_state_t *s)
{
    for (int i = 0; i < SW_SEC__COUNT; i++) {
        if (!s->sec_dirty[i])
            continue;
        sw_buf_reset(&s->sec_jcs[i]);
        writers[i](s, &s->sec_jcs[i]);
        s->sec_dirty[i] = false;
    }
    if (s->tasks_dirty)
        refresh_tasks(s);
}

static void ck_save(sw_sha256_t *ck, const sw_sha256_t *h)
{
    if (!ck->ctx)
        sw_sha256_init(ck);
    sw_sha256_copy(ck, h);
}

static void ck_tasks_reserve(sw_state_t *s, size_t n)
{
    if (n <= s->ck_tasks_cap)
        return;
    size_t cap = n * 2;
    s->ck_tasks = sw_xrealloc(s->ck_tasks, cap * sizeof(*s->ck_tasks));
    for (size_t i = s->ck_tasks_cap; i < cap; i++)
        s->ck_tasks[i].ctx = NULL;
    s->ck_tasks_cap = cap;
}

static void put_section(sw_sha256_t *h, const sw_state_t *s, int i)
{
    sw_sha256_update(h, labels[i].text, labels[i].len);
    sw_sha256_update(h, s->sec_jcs[i].data, s->sec_jcs[i].len);
}

enum { FROM_SCRATCH, FROM_EXEC, FROM_CHUNK, FROM_AFTER };

/* Picks the latest checkpoint before the earliest change (chunk *j for
 * FROM_CHUNK). */
static int resume_point(const sw_state_t *s, size_t *j)
{
    if (!s->hasher.ctx || s->chg_sec < SW_SEC_EXECUTION)
        return FROM_SCRATCH;
    if (s->chg_sec > SW_SEC_EXECUTION) {
        if (s->chg_task == SIZE_MAX && s->ck_after_valid)
            return FROM_AFTER;
        if (s->ck_tasks_valid) {
            *j = s->chg_task / TASK_CHUNK;
            if (*j > s->ck_tasks_valid - 1)
                *j = s->ck_tasks_valid - 1;
            return FROM_CHUNK;
        }
    }
    return s->ck_exec_valid ? FROM_EXEC : FROM_SCRATCH;
}

/* One pass of the projection hash from the chosen checkpoint, saving the
 * checkpoints after it; the bytes are those of sw_state_canonical(). */
static void hash_pass(sw_state_t *s)
{
    sw_sha256_t *h = &s->hasher;
    const sw_buf_t *tj = &s->tasks_jcs;
    size_t j = 0;
    int from = resume_point(s, &j);
    bool save = from != FROM_SCRATCH;
    if (from == FROM_SCRATCH) {
        size_t total = tj->len;
        for (int i = 0; i < SW_SEC__COUNT; i++)
            total += s->sec_jcs[i].len;
        save = total >= CK_MIN_BYTES;
        s->ck_exec_valid = s->ck_after_valid = false;
        s->ck_tasks_valid = 0;
        for (int i = 0; i < SW_SEC_EXECUTION; i++)
            put_section(h, s, i);
        if (save) {
            ck_save(&s->ck_exec, h);
            s->ck_exec_valid = true;
        }
    } else if (from == FROM_EXEC) {
        sw_sha256_copy(h, &s->ck_exec);
    } else if (from == FROM_CHUNK) {
        sw_sha256_copy(h, &s->ck_tasks[j]);
    } else {
        sw_sha256_copy(h, &s->ck_after);
    }
    if (from <= FROM_EXEC) {
        put_section(h, s, SW_SEC_EXECUTION);
        sw_sha256_update(h, tj->data, s->tk_off[0]);
    }
    if (from <= FROM_CHUNK) {
        size_t n = s->tk_off_n;
        if (save)
            ck_tasks_reserve(s, n);
        for (size_t k = j; k < n; k++) {
            if (save && !(from == FROM_CHUNK && k == j))
                ck_save(&s->ck_tasks[k], h);
            size_t end = k + 1 < n ? s->tk_off[k + 1] : tj->len;
            sw_sha256_update(h, tj->data + s->tk_off[k], end - s->tk_off[k]);
        }
        if (save) {
            s->ck_tasks_valid = n;
            ck_save(&s->ck_after, h);
            s->ck_after_valid = true;
        }
    }
    for (int i = SW_SEC_INGESTION; i < SW_SEC__COUNT; i++)
        put_section(h, s, i);
    sw_sha256_update(h, "}", 1);
    sw_sha256_final_hex(h, s->hash_hex);
    s->chg_sec = SW_SEC__COUNT;
    s->chg_task = SIZE_MAX;
}

/* state_hash = hex SHA-256 of JCS(projection) (SPEC §1.5, §3), streamed
 * over the cached pieces in projection order; the same bytes as
 * sw_state_canonical() without building them. SHA-256 midstates saved at
 * checkpoints let a transition re-hash only from its first change. */
void sw_state_hash(sw_state_t *s, char hex[SWOOSH_HASH_HEX_SIZE])
{
    if (!s->hash_valid) {
        sw_state_canon_refresh(s);
        if (!s->hasher.ctx)
            sw_sha256_init(&s->hasher);
        hash_pass(s);
        s->hash_valid = true;
    }
    memcpy(hex, s->hash_hex, SWOOSH_HASH_HEX_SIZE);
}

/* The whole projection text for GET /state, snapshots and `swoosh
 * genesis`; built from the caches and kept until the next change. */
const char *sw_state_canonical(sw_state_t *s, size_t *len)
{
    if (s->full_dirty || !s->full_jcs.data) {
        sw_state_canon_refresh(s);
        size_t total = 2 + s->tasks_jcs.len;
        for (int i = 0; i < SW_SEC__COUNT; i++)
            total += labels[i].len + s->sec_jcs[i].len;
        sw_buf_t *b = &s->full_jcs;
        sw_buf_reset(b);
        sw_buf_reserve(b, total);
        for (int i = 0; i < SW_SEC__COUNT; i++) {
            sw_buf_append(b, labels[i].text, labels[i].len);
            sw_buf_append(b, s->sec_jcs[i].data, s->sec_jcs[i].len);
            if (i == SW_SEC_EXECUTION)
                sw_buf_append(b, s->tasks_jcs.data, s->tasks_jcs.len);
        }
        sw_buf_putc(b, '}');
        s->full_dirty = false;
    }
    if (len)
        *len = s->full_jcs.len;
    return s->full_jcs.data;
}

/* GET /state?projection=<Section> answers one section's value (SPEC §6). */
void sw_state_section_jcs(sw_state_t *s, sw_section_t sec, sw_buf_t *out)
{
    SW_ASSERT((unsigned)sec < SW_SEC__COUNT);
    sw_state_canon_refresh(s);
    sw_buf_append(out, s->sec_jcs[sec].data, s->sec_jcs[sec].len);
    if (sec == SW_SEC_EXECUTION) {
        sw_buf_append(out, s->tasks_jcs.data, s->tasks_jcs.len);
        sw_buf_putc(out, '}');
    }
}
