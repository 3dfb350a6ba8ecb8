/* state_load: builds a state from a projection (sw_state_from_json), the
 * way genesis files and snapshots come in. It validates everything SPEC §3
 * and §5 fix — types, enums, bounds, sortedness, uniqueness, exactly the
 * known sections and fields — and refuses states the reducer could never
 * produce, so a loaded state serialises back to the bytes it came from. */
#include "state.h"

#include "canon.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fails with "<path>: <message>" (SWOOSH_EINVAL); always returns false so
 * loaders can `return fail(...)`. */
static bool fail(swoosh_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(swoosh_error *err, const char *path, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sw_error_set(err, SWOOSH_EINVAL, 0, "%s: %s", path, msg);
    return false;
}

/* A field path "Prefix.Name" (or just "Name" with an empty prefix). */
typedef struct path {
    char s[192];
} path_t;

static void path_put(path_t *p, size_t *used, const char *text)
{
    size_t n = strlen(text);
    if (n > sizeof(p->s) - 1 - *used)
        n = sizeof(p->s) - 1 - *used;
    memcpy(p->s + *used, text, n);
    *used += n;
    p->s[*used] = '\0';
}

static path_t path_join(const char *prefix, const char *name)
{
    path_t p;
    size_t used = 0;
    p.s[0] = '\0';
    if (prefix && *prefix) {
        path_put(&p, &used, prefix);
        path_put(&p, &used, ".");
    }
    path_put(&p, &used, name);
    return p;
}

static path_t path_index(const char *prefix, size_t i)
{
    path_t p;
    size_t used = 0;
    char idx[32];
    snprintf(idx, sizeof(idx), "[%zu]", i);
    p.s[0] = '\0';
    path_put(&p, &used, prefix);
    path_put(&p, &used, idx);
    return p;
}

/* Requires `v` to be an object holding exactly `names`. */
static bool check_fields(const json_t *v, const char *path,
                         const char *const *names, size_t n, swoosh_error *err)
{
    if (!json_is_object(v))
        return fail(err, path, "expected an object");
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(v, names[i]))
            return fail(err, path_join(path, names[i]).s, "missing field");
    if (json_object_size(v) != n) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
            size_t i = 0;
            while (i < n && strcmp(names[i], key) != 0)
                i++;
            if (i == n)
                return fail(err, path_join(path, key).s, "unknown field");
        }
    }
    return true;
}

static bool get_uint(const json_t *obj, const char *path, const char *name,
                     uint64_t min, uint64_t max, uint64_t *out,
                     swoosh_error *err)
{
    const json_t *v = json_object_get(obj, name);
    json_int_t x = json_is_integer(v) ? json_integer_value(v) : -1;
    if (x < 0 || (uint64_t)x > SW_MAX_SAFE_INT || (uint64_t)x < min ||
        (uint64_t)x > max) {
        if (min == 0 && max == SW_MAX_SAFE_INT)
            return fail(err, path_join(path, name).s,
                        "expected a non-negative integer");
        return fail(err, path_join(path, name).s,
                    "expected an integer %llu..%llu", (unsigned long long)min,
                    (unsigned long long)max);
    }
    *out = (uint64_t)x;
    return true;
}

static bool get_count(const json_t *obj, const char *path, const char *name,
                      uint64_t *out, swoosh_error *err)
{
    return get_uint(obj, path, name, 0, SW_MAX_SAFE_INT, out, err);
}

static bool get_bool(const json_t *obj, const char *path, const char *name,
                     bool *out, swoosh_error *err)
{
    const json_t *v = json_object_get(obj, name);
    if (!json_is_boolean(v))
        return fail(err, path_join(path, name).s, "expected true or false");
    *out = json_is_true(v);
    return true;
}

/* Checks a string value against SPEC §5's bounds; `full` is the path. */
static bool check_str(const json_t *v, const char *full, size_t max,
                      bool nonempty, swoosh_error *err)
{
    if (!json_is_string(v))
        return fail(err, full, "expected a string");
    size_t n = json_string_length(v);
    if (strlen(json_string_value(v)) != n)
        return fail(err, full, "contains a NUL character");
    if (n > max)
        return fail(err, full, "longer than %zu bytes", max);
    if (nonempty && n == 0)
        return fail(err, full, "must not be empty");
    return true;
}

/* Replaces *out with a copy of the string field `name`. */
static bool get_str(const json_t *obj, const char *path, const char *name,
                    size_t max, bool nonempty, char **out, swoosh_error *err)
{
    const json_t *v = json_object_get(obj, name);
    if (!check_str(v, path_join(path, name).s, max, nonempty, err))
        return false;
    sw_str_set(out, json_string_value(v));
    return true;
}

/* The text of a string value naming a member of a fixed set, or NULL when v
 * is no string or holds a NUL (a C comparison would stop there, and
 * "READY\u0000" would load as READY: text the state cannot reproduce). */
static const char *name_value(const json_t *v)
{
    if (!json_is_string(v) ||
        strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

static bool get_phase(const json_t *obj, const char *path, sw_section_t sec,
                      int *out, swoosh_error *err)
{
    const char *name = name_value(json_object_get(obj, "Phase"));
    int p = name ? sw_phase_by_name(sec, name) : -1;
    *out = 0; /* defined on failure too */
    if (p < 0) {
        int n = sw_phase_count(sec);
        char names[128] = "";
        for (int i = 0; i < n; i++) {
            strncat(names, sw_phase_name(sec, i),
                    sizeof(names) - strlen(names) - 1);
            if (i + 1 < n)
                strncat(names, "|", sizeof(names) - strlen(names) - 1);
        }
        return fail(err, path_join(path, "Phase").s, "expected one of %s",
                    names);
    }
    *out = p;
    return true;
}

static bool get_array(const json_t *obj, const char *path, const char *name,
                      size_t max, const json_t **out, swoosh_error *err)
{
    const json_t *v = json_object_get(obj, name);
    if (!json_is_array(v))
        return fail(err, path_join(path, name).s, "expected an array");
    if (json_array_size(v) > max)
        return fail(err, path_join(path, name).s, "more than %zu entries", max);
    *out = v;
    return true;
}

/* Admins and Approvals: ids, sorted bytewise and unique (SPEC §5). The
 * hash of a projection must match what it says, so an unsorted list is an
 * error, not something to fix up. */
static bool get_strset(const json_t *obj, const char *path, const char *name,
                       size_t max, sw_strset_t *out, swoosh_error *err)
{
    const json_t *a;
    path_t p = path_join(path, name);
    if (!get_array(obj, path, name, max, &a, err))
        return false;
    size_t n = json_array_size(a);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);
        if (!check_str(v, path_index(p.s, i).s, SW_MAX_ID, true, err))
            return false;
        if (i > 0 && strcmp(json_string_value(json_array_get(a, i - 1)),
                            json_string_value(v)) >= 0)
            return fail(err, p.s, "not sorted bytewise and unique at [%zu]", i);
    }
    sw_strset_clear(out);
    if (n > out->cap) {
        out->items = sw_xrealloc(out->items, n * sizeof(char *));
        out->cap = n;
    }
    for (size_t i = 0; i < n; i++)
        out->items[i] = sw_xstrdup(json_string_value(json_array_get(a, i)));
    out->n = n;
    return true;
}

static int kv_cmp(const void *p, const void *q)
{
    return sw_canon_keycmp(((const sw_kv_t *)p)->key,
                           ((const sw_kv_t *)q)->key);
}

/* Resources and Params: ≤256 members, keys 1..128 bytes, string values
 * ≤1024 bytes (SPEC §5). */
static bool get_map(const json_t *obj, const char *path, const char *name,
                    sw_map_t *out, swoosh_error *err)
{
    const json_t *m = json_object_get(obj, name);
    path_t p = path_join(path, name);
    if (!json_is_object(m))
        return fail(err, p.s, "expected an object");
    if (json_object_size(m) > SW_MAX_ITEMS)
        return fail(err, p.s, "more than %d entries", SW_MAX_ITEMS);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)m, key, val)
    {
        size_t klen = strlen(key);
        if (klen == 0 || klen > SW_MAX_ID)
            return fail(err, p.s, "keys must be 1..%d bytes", SW_MAX_ID);
        if (!check_str(val, path_join(p.s, key).s, SW_MAX_TEXT, false, err))
            return false;
    }
    sw_map_clear(out);
    size_t n = json_object_size(m);
    if (n > out->cap) {
        out->items = sw_xrealloc(out->items, n * sizeof(sw_kv_t));
        out->cap = n;
    }
    json_object_foreach((json_t *)m, key, val)
    {
        out->items[out->n].key = sw_xstrdup(key);
        out->items[out->n].value = sw_xstrdup(json_string_value(val));
        out->n++;
    }
    if (out->n > 1)
        qsort(out->items, out->n, sizeof(sw_kv_t), kv_cmp);
    return true;
}

#define FIELDS(...)                                                            \
    (const char *const[]){__VA_ARGS__},                                        \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

static bool load_meta(sw_state_t *s, const json_t *v, swoosh_error *err)
{
    const char *P = "Meta";
    if (!check_fields(v, P,
                      FIELDS("SchemaVersion", "Index", "HLCLast",
                             "LastTransition", "LastSigner"),
                      err))
        return false;
    if (!get_uint(v, P, "SchemaVersion", 1, 1, &s->meta.schema_version, err) ||
        !get_count(v, P, "Index", &s->meta.index, err))
        return false;
    const json_t *h = json_object_get(v, "HLCLast");
    if (!json_is_string(h) ||
        !sw_hlc_parse(json_string_value(h), json_string_length(h),
                      &s->meta.hlc_last))
        return fail(err, "Meta.HLCLast",
                    "expected a canonical HLC P-L-NNNNNNNNNNNNNNNN");
    return get_str(v, P, "LastTransition", SW_MAX_ID, false,
                   &s->meta.last_transition, err) &&
           get_str(v, P, "LastSigner", SW_MAX_ID, false, &s->meta.last_signer,
                   err);
}

static bool load_boot(sw_state_t *s, const json_t *v, swoosh_error *err)
{
    const char *P = "Boot";
    return check_fields(v, P, FIELDS("Licensed", "LicenseID", "NodeID"), err) &&
           get_bool(v, P, "Licensed", &s->boot.licensed, err) &&
           get_str(v, P, "LicenseID", SW_MAX_ID, false, &s->boot.license_id,
                   err) &&
           get_str(v, P, "NodeID", SW_MAX_ID, false, &s->boot.node_id, err);
}

static bool load_ingestion(sw_state_t *s, const json_t *v, swoosh_error *err)
{
    const char *P = "Ingestion";
    int phase;
    const json_t *a;
    if (!check_fields(
            v, P,
            FIELDS("Phase", "Epoch", "Sources", "ContentHash", "LastError"),
            err) ||
        !get_phase(v, P, SW_SEC_INGESTION, &phase, err) ||
        !get_count(v, P, "Epoch", &s->ingestion.epoch, err) ||
        !get_str(v, P, "ContentHash", SW_MAX_ID, false,
                 &s->ingestion.content_hash, err) ||
        !get_str(v, P, "LastError", SW_MAX_TEXT, false,
                 &s->ingestion.last_error, err) ||
        !get_array(v, P, "Sources", SW_MAX_ITEMS, &a, err))
        return false;
    s->ingestion.phase = (sw_ingestion_phase_t)phase;
    size_t n = json_array_size(a);
    s->ingestion.sources = n ? sw_xcalloc(n, sizeof(sw_source_t)) : NULL;
    for (size_t i = 0; i < n; i++) {
        path_t p = path_index("Ingestion.Sources", i);
        const json_t *e = json_array_get(a, i);
        sw_source_t *src = &s->ingestion.sources[i];
        s->ingestion.n_sources = i + 1;
        if (!check_fields(e, p.s, FIELDS("ID", "URI"), err) ||
            !get_str(e, p.s, "ID", SW_MAX_ID, true, &src->id, err) ||
            !get_str(e, p.s, "URI", SW_MAX_TEXT, false, &src->uri, err))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->ingestion.sources[j].id, src->id) == 0)
                return fail(err, path_join(p.s, "ID").s, "duplicate source id");
    }
    return true;
}

static bool load_council(sw_state_t *s, const json_t *v, swoosh_error *err)
{
    const char *P = "Council";
    int phase;
    const json_t *roles, *members;
    if (!check_fields(v, P,
                      FIELDS("Phase", "Epoch", "CouncilID", "Quorum",
                             "PlannedRoles", "Members", "QuorumCertHash"),
                      err) ||
        !get_phase(v, P, SW_SEC_COUNCIL, &phase, err) ||
        !get_count(v, P, "Epoch", &s->council.epoch, err) ||
        !get_str(v, P, "CouncilID", SW_MAX_ID, false, &s->council.council_id,
                 err) ||
        !get_count(v, P, "Quorum", &s->council.quorum, err) ||
        !get_str(v, P, "QuorumCertHash", SW_MAX_ID, false,
                 &s->council.quorum_cert_hash, err) ||
        !get_array(v, P, "PlannedRoles", SW_MAX_ITEMS, &roles, err) ||
        !get_array(v, P, "Members", SW_MAX_MEMBERS, &members, err))
        return false;
    s->council.phase = (sw_council_phase_t)phase;

    size_t n = json_array_size(roles);
    s->council.roles = n ? sw_xcalloc(n, sizeof(sw_role_t)) : NULL;
    for (size_t i = 0; i < n; i++) {
        path_t p = path_index("Council.PlannedRoles", i);
        const json_t *e = json_array_get(roles, i);
        sw_role_t *r = &s->council.roles[i];
        s->council.n_roles = i + 1;
        if (!check_fields(e, p.s, FIELDS("Role", "Required"), err) ||
            !get_str(e, p.s, "Role", SW_MAX_ID, true, &r->role, err) ||
            !get_bool(e, p.s, "Required", &r->required, err))
            return false;
        if (sw_council_find_role(s, r->role) != (int)i)
            return fail(err, path_join(p.s, "Role").s, "duplicate role");
    }
    if (s->council.quorum > s->council.n_roles)
        return fail(err, "Council.Quorum",
                    "exceeds the number of planned roles (%zu)",
                    s->council.n_roles);

    n = json_array_size(members);
    s->council.members = n ? sw_xcalloc(n, sizeof(sw_member_t)) : NULL;
    s->council.cap_members = n;
    for (size_t i = 0; i < n; i++) {
        path_t p = path_index("Council.Members", i);
        const json_t *e = json_array_get(members, i);
        sw_member_t *m = &s->council.members[i];
        s->council.n_members = i + 1;
        if (!check_fields(e, p.s, FIELDS("Role", "AgentID", "JoinedIndex"),
                          err) ||
            !get_str(e, p.s, "Role", SW_MAX_ID, true, &m->role, err) ||
            !get_str(e, p.s, "AgentID", SW_MAX_ID, true, &m->agent_id, err) ||
            !get_count(e, p.s, "JoinedIndex", &m->joined_index, err))
            return false;
        if (sw_council_find_role(s, m->role) < 0)
            return fail(err, path_join(p.s, "Role").s, "not a planned role");
        if (sw_council_role_holder(s, m->role) != (int)i)
            return fail(err, path_join(p.s, "Role").s,
                        "held by another member");
        if (sw_council_find_member(s, m->agent_id) != (int)i)
            return fail(err, path_join(p.s, "AgentID").s,
                        "already holds a role");
    }
    return true;
}

static bool load_environment(sw_state_t *s, const json_t *v, swoosh_error *err)
{
    const char *P = "Environment";
    int phase;
    if (!check_fields(v, P, FIELDS("Phase", "Epoch", "Resources", "LastError"),
                      err) ||
        !get_phase(v, P, SW_SEC_ENVIRONMENT, &phase, err) ||
        !get_count(v, P, "Epoch", &s->environment.epoch, err) ||
        !get_map(v, P, "Resources", &s->environment.resources, err) ||
        !get_str(v, P, "LastError", SW_MAX_TEXT, false,
                 &s->environment.last_error, err))
        return false;
    s->environment.phase = (sw_env_phase_t)phase;
    return true;
}

static int task_ptr_cmp(const void *p, const void *q)
{
    return sw_canon_keycmp((*(sw_task_t *const *)p)->id,
                           (*(sw_task_t *const *)q)->id);
}

static bool load_task(sw_task_t *t, const json_t *e, const char *path,
                      swoosh_error *err)
{
    int status;
    if (!check_fields(e, path,
                      FIELDS("Title", "Status", "Claimant", "CreatedIndex",
                             "UpdatedIndex", "Result"),
                      err) ||
        !get_str(e, path, "Title", SW_MAX_TEXT, false, &t->title, err) ||
        !get_str(e, path, "Claimant", SW_MAX_ID, false, &t->claimant, err) ||
        !get_str(e, path, "Result", SW_MAX_TEXT, false, &t->result, err) ||
        !get_count(e, path, "CreatedIndex", &t->created_index, err) ||
        !get_count(e, path, "UpdatedIndex", &t->updated_index, err))
        return false;
    const char *name = name_value(json_object_get(e, "Status"));
    status = name ? sw_task_status_by_name(name) : -1;
    if (status < 0)
        return fail(err, path_join(path, "Status").s,
                    "expected one of OPEN|CLAIMED|COMPLETED|FAILED");
    t->status = (sw_task_status_t)status;
    return true;
}

static bool load_execution(sw_state_t *s, const json_t *v, swoosh_error *err)
{
    const char *P = "Execution";
    int phase;
    if (!check_fields(v, P,
                      FIELDS("Phase", "Epoch", "ActiveWindowID", "BeatIndex",
                             "Tasks", "Approvals"),
                      err) ||
        !get_phase(v, P, SW_SEC_EXECUTION, &phase, err) ||
        !get_count(v, P, "Epoch", &s->execution.epoch, err) ||
        !get_str(v, P, "ActiveWindowID", SW_MAX_ID, false,
                 &s->execution.active_window_id, err) ||
        !get_count(v, P, "BeatIndex", &s->execution.beat_index, err) ||
        !get_strset(v, P, "Approvals", SW_MAX_MEMBERS, &s->execution.approvals,
                    err))
        return false;
    s->execution.phase = (sw_exec_phase_t)phase;

    const json_t *tasks = json_object_get(v, "Tasks");
    if (!json_is_object(tasks))
        return fail(err, "Execution.Tasks", "expected an object");
    size_t n = json_object_size(tasks);
    if (n > SW_MAX_TASKS)
        return fail(err, "Execution.Tasks", "more than %d tasks", SW_MAX_TASKS);
    sw_tasks_t *ts = &s->execution.tasks;
    ts->items = n ? sw_xmalloc(n * sizeof(sw_task_t *)) : NULL;
    ts->cap = n;
    const char *key;
    json_t *e;
    json_object_foreach((json_t *)tasks, key, e)
    {
        size_t klen = strlen(key);
        if (klen == 0 || klen > SW_MAX_ID)
            return fail(err, "Execution.Tasks", "task ids must be 1..%d bytes",
                        SW_MAX_ID);
        sw_task_t *t = sw_task_new(key, "", 0);
        ts->items[ts->n++] = t;
        if (!load_task(t, e, path_join("Execution.Tasks", key).s, err))
            return false;
    }
    if (ts->n > 1)
        qsort(ts->items, ts->n, sizeof(sw_task_t *), task_ptr_cmp);
    return true;
}

static bool load_control(sw_state_t *s, const json_t *v, swoosh_error *err)
{
    const char *P = "Control";
    return check_fields(v, P,
                        FIELDS("Paused", "Degraded", "Recovering",
                               "Quarantined", "QuarantineReason"),
                        err) &&
           get_bool(v, P, "Paused", &s->control.paused, err) &&
           get_bool(v, P, "Degraded", &s->control.degraded, err) &&
           get_bool(v, P, "Recovering", &s->control.recovering, err) &&
           get_bool(v, P, "Quarantined", &s->control.quarantined, err) &&
           get_str(v, P, "QuarantineReason", SW_MAX_TEXT, false,
                   &s->control.quarantine_reason, err);
}

/* Bounds are those POLICY_UPDATED enforces (SPEC §5). */
static bool load_policy(sw_state_t *s, const json_t *v, swoosh_error *err)
{
    const char *P = "Policy";
    return check_fields(v, P,
                        FIELDS("Version", "ApprovalThreshold", "MaxTasks",
                               "MaxMembers", "MaxClockSkewMs", "Admins",
                               "Params"),
                        err) &&
           get_count(v, P, "Version", &s->policy.version, err) &&
           get_uint(v, P, "ApprovalThreshold", 1, SW_MAX_APPROVAL_THRESHOLD,
                    &s->policy.approval_threshold, err) &&
           get_uint(v, P, "MaxTasks", 1, SW_MAX_TASKS, &s->policy.max_tasks,
                    err) &&
           get_uint(v, P, "MaxMembers", 1, SW_MAX_MEMBERS,
                    &s->policy.max_members, err) &&
           get_uint(v, P, "MaxClockSkewMs", 0, SW_MAX_CLOCK_SKEW_MS,
                    &s->policy.max_clock_skew_ms, err) &&
           get_strset(v, P, "Admins", SW_MAX_ITEMS, &s->policy.admins, err) &&
           get_map(v, P, "Params", &s->policy.params, err);
}

typedef bool (*loader_fn)(sw_state_t *, const json_t *, swoosh_error *);

static const loader_fn loaders[SW_SEC__COUNT] = {
    load_boot,      load_control,   load_council, load_environment,
    load_execution, load_ingestion, load_meta,    load_policy,
};

/* Genesis files, snapshots and GET /state answers come back in through
 * here (SPEC §3, §4), so everything the projection can say is checked:
 * exactly the 8 sections and their fields, types, enum names, SPEC §5's
 * bounds, and the sortedness the hash depends on. The error names the
 * first offending field. */
sw_state_t *sw_state_from_json(const json_t *proj, swoosh_error *err)
{
    if (!json_is_object(proj)) {
        fail(err, "projection", "expected a JSON object");
        return NULL;
    }
    for (int i = 0; i < SW_SEC__COUNT; i++)
        if (!json_object_get(proj, sw_section_name((sw_section_t)i))) {
            fail(err, sw_section_name((sw_section_t)i), "missing section");
            return NULL;
        }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)proj, key, val)
    {
        if (sw_section_by_name(key) == SW_SEC__COUNT) {
            fail(err, key, "unknown section");
            return NULL;
        }
    }
    sw_state_t *s = sw_state_new_genesis();
    for (int i = 0; i < SW_SEC__COUNT; i++) {
        if (!loaders[i](s,
                        json_object_get(proj, sw_section_name((sw_section_t)i)),
                        err)) {
            sw_state_free(s);
            return NULL;
        }
    }
    sw_state_touch_all(s);
    return s;
}
