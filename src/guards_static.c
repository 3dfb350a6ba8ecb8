/* guards_static: the embedded guard provider (SPEC §4 "Guards": static).
 *
 * Without a config file every guard passes. A config file (docs/GUARDS.md)
 * fixes guard outcomes and lists signers/transitions to deny (their required
 * guards fail → GUARD_REJECTED) or to treat as policy violations
 * (PolicyOK=false → quarantine). The file is validated strictly; SIGHUP
 * reloads it by building a new immutable rule set and swapping the pointer
 * under a write lock, so an evaluation sees either the old or the new rules,
 * never a mix, and a bad file leaves the old rules in force.
 */
#include "guards.h"

#include "buf.h"
#include "catalog.h"
#include "fsio.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONFIG_BYTES (1024 * 1024)
#define MAX_LIST         65536

/* A sorted, de-duplicated list of owned strings (binary search). */
typedef struct strset {
    char **v;
    size_t n;
} strset_t;

/* One immutable rule set, built by load_rules() and never changed. */
typedef struct rules {
    bool fixed[SW_GUARD__COUNT]; /* "guards": outcome when evaluated */
    strset_t deny_signers, deny_transitions;
    strset_t policy_signers, policy_transitions;
} rules_t;

typedef struct static_provider {
    char *path; /* owned; NULL = no file */
    pthread_rwlock_t lock;
    rules_t *rules; /* guarded by lock; owned */
} static_provider_t;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool strset_has(const strset_t *s, const char *key)
{
    return s->n > 0 &&
           bsearch(&key, s->v, s->n, sizeof(char *), cmp_str) != NULL;
}

static void strset_free(strset_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void rules_free(rules_t *r)
{
    if (r == NULL)
        return;
    strset_free(&r->deny_signers);
    strset_free(&r->deny_transitions);
    strset_free(&r->policy_signers);
    strset_free(&r->policy_transitions);
    free(r);
}

static rules_t *rules_all_pass(void)
{
    rules_t *r = sw_xcalloc(1, sizeof(*r));
    for (int i = 0; i < SW_GUARD__COUNT; i++)
        r->fixed[i] = true;
    return r;
}

static bool printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

typedef enum list_kind { LIST_SIGNERS, LIST_TRANSITIONS } list_kind_t;

/* Parses one list field into `out`; on failure fills err naming the key and
 * the element. */
static swoosh_err_t parse_list(const char *key, json_t *arr, list_kind_t kind,
                               bool deny, strset_t *out, swoosh_error *err)
{
    if (!json_is_array(arr))
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "%s: expected an array of strings", key);
    size_t n = json_array_size(arr);
    if (n > MAX_LIST)
        return sw_error_set(err, SWOOSH_EINVAL, 0, "%s: more than %d entries",
                            key, MAX_LIST);
    out->v = sw_xcalloc(n > 0 ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        if (!json_is_string(e))
            return sw_error_set(err, SWOOSH_EINVAL, 0,
                                "%s[%zu]: expected a string", key, i);
        const char *s = json_string_value(e);
        size_t len = json_string_length(e);
        if (kind == LIST_SIGNERS &&
            (len == 0 || len > SW_MAX_SIGNER || !printable(s, len)))
            return sw_error_set(err, SWOOSH_EINVAL, 0,
                                "%s[%zu]: a signer is 1..%d printable ASCII "
                                "bytes",
                                key, i, SW_MAX_SIGNER);
        if (kind == LIST_TRANSITIONS) {
            const sw_catalog_entry_t *ce =
                len == strlen(s) ? sw_catalog_find(s) : NULL;
            if (ce == NULL)
                return sw_error_set(err, SWOOSH_EINVAL, 0,
                                    "%s[%zu]: '%.64s' is not a catalogued "
                                    "transition",
                                    key, i, s);
            /* A guard can only reject a transition through a guard it
             * requires (SPEC §5); refuse a rule that would do nothing. */
            if (deny && ce->guards == 0)
                return sw_error_set(err, SWOOSH_EINVAL, 0,
                                    "%s[%zu]: %s requires no guard, so no "
                                    "guard can deny it; list it in "
                                    "policy_violation_transitions to "
                                    "quarantine instead",
                                    key, i, s);
        }
        out->v[out->n++] = sw_xstrdup(s);
    }
    qsort(out->v, out->n, sizeof(char *), cmp_str);
    /* Drop duplicates so lookups stay plain binary searches. */
    size_t w = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (w > 0 && strcmp(out->v[w - 1], out->v[i]) == 0)
            free(out->v[i]);
        else
            out->v[w++] = out->v[i];
    }
    out->n = w;
    return SWOOSH_OK;
}

static swoosh_err_t parse_fixed(json_t *obj, rules_t *r, swoosh_error *err)
{
    const char *k;
    json_t *v;
    if (!json_is_object(obj))
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "guards: expected an object of guard name → "
                            "boolean");
    json_object_foreach(obj, k, v)
    {
        sw_guard_id_t id = sw_guard_by_name(k);
        if (id == SW_GUARD__COUNT)
            return sw_error_set(err, SWOOSH_EINVAL, 0,
                                "guards: unknown guard '%.64s' (known: "
                                "LicenseOK, BackbeatOK, QuorumOK, PolicyOK, "
                                "MCPHealthy)",
                                k);
        if (!json_is_boolean(v))
            return sw_error_set(err, SWOOSH_EINVAL, 0,
                                "guards.%s: expected true or false", k);
        r->fixed[id] = json_is_true(v);
    }
    return SWOOSH_OK;
}

/* Builds a rule set from the file at `path`; NULL with err on any problem
 * (the caller keeps its old rules). */
static rules_t *load_rules(const char *path, swoosh_error *err)
{
    char *text = NULL;
    size_t len = 0;
    json_t *root = NULL;
    rules_t *r = NULL;
    json_error_t jerr;
    const char *k;
    json_t *v;

    /* A regular file of at most 1 MiB: a FIFO or device named here would
     * block start-up (signals are blocked then) or a SIGHUP reload. */
    if (sw_fsio_read_file_max(path, MAX_CONFIG_BYTES, &text, &len, err) !=
        SWOOSH_OK)
        goto fail;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        sw_error_set(err, SWOOSH_EINVAL, 0, "%s:%d:%d: %s", path, jerr.line,
                     jerr.column, jerr.text);
        goto fail;
    }
    if (!json_is_object(root)) {
        sw_error_set(err, SWOOSH_EINVAL, 0, "%s: expected a JSON object", path);
        goto fail;
    }
    r = rules_all_pass();
    json_object_foreach(root, k, v)
    {
        swoosh_err_t rc;
        if (strcmp(k, "guards") == 0)
            rc = parse_fixed(v, r, err);
        else if (strcmp(k, "deny_signers") == 0)
            rc = parse_list(k, v, LIST_SIGNERS, true, &r->deny_signers, err);
        else if (strcmp(k, "deny_transitions") == 0)
            rc = parse_list(k, v, LIST_TRANSITIONS, true, &r->deny_transitions,
                            err);
        else if (strcmp(k, "policy_violation_signers") == 0)
            rc = parse_list(k, v, LIST_SIGNERS, false, &r->policy_signers, err);
        else if (strcmp(k, "policy_violation_transitions") == 0)
            rc = parse_list(k, v, LIST_TRANSITIONS, false,
                            &r->policy_transitions, err);
        else
            rc = sw_error_set(err, SWOOSH_EINVAL, 0,
                              "unknown key '%.64s' (known: guards, "
                              "deny_signers, deny_transitions, "
                              "policy_violation_signers, "
                              "policy_violation_transitions)",
                              k);
        if (rc != SWOOSH_OK) {
            sw_error_prefix(err, "%s", path);
            goto fail;
        }
    }
    json_decref(root);
    free(text);
    return r;

fail:
    rules_free(r);
    json_decref(root);
    free(text);
    return NULL;
}

/* Decides one required guard under the rules; PolicyOK and the others have
 * separate lists because their failures have different effects (§5 step 6). */
static void decide(const rules_t *r, const sw_proposal_t *p, sw_guard_id_t id,
                   bool *ok, sw_guard_report_t *rep)
{
    const char *name = p->entry != NULL ? p->entry->name : p->transition;
    char *detail = rep->detail[id];
    size_t dn = sizeof(rep->detail[id]);
    if (id == SW_GUARD_POLICY) {
        if (strset_has(&r->policy_signers, p->signer)) {
            snprintf(detail, dn,
                     "static config: signer %.64s is in "
                     "policy_violation_signers",
                     p->signer);
            *ok = false;
        } else if (strset_has(&r->policy_transitions, name)) {
            snprintf(detail, dn,
                     "static config: %.64s is in "
                     "policy_violation_transitions",
                     name);
            *ok = false;
        } else {
            *ok = r->fixed[id];
        }
    } else if (strset_has(&r->deny_signers, p->signer)) {
        snprintf(detail, dn, "static config: signer %.64s is in deny_signers",
                 p->signer);
        *ok = false;
    } else if (strset_has(&r->deny_transitions, name)) {
        snprintf(detail, dn, "static config: %.64s is in deny_transitions",
                 name);
        *ok = false;
    } else {
        *ok = r->fixed[id];
    }
    if (!*ok && detail[0] == '\0')
        snprintf(detail, dn, "static config: guards.%s is false",
                 sw_guard_name(id));
    rep->status[id] = *ok ? SW_GS_PASS : SW_GS_DENY;
}

static void static_evaluate(void *self, const sw_proposal_t *p,
                            sw_guards_t *out, sw_guard_report_t *rep)
{
    static_provider_t *sp = self;
    pthread_rwlock_rdlock(&sp->lock);
    for (int i = 0; i < SW_GUARD__COUNT; i++) {
        if (!sw_guard_required(p, (sw_guard_id_t)i))
            continue;
        bool ok;
        decide(sp->rules, p, (sw_guard_id_t)i, &ok, rep);
        sw_guard_set(out, (sw_guard_id_t)i, ok);
    }
    pthread_rwlock_unlock(&sp->lock);
}

static swoosh_err_t static_reload(void *self, swoosh_error *err)
{
    static_provider_t *sp = self;
    if (sp->path == NULL)
        return SWOOSH_OK;
    rules_t *fresh = load_rules(sp->path, err);
    if (fresh == NULL)
        return err != NULL ? err->code : SWOOSH_EINVAL;
    pthread_rwlock_wrlock(&sp->lock);
    rules_t *old = sp->rules;
    sp->rules = fresh;
    pthread_rwlock_unlock(&sp->lock);
    rules_free(old);
    return SWOOSH_OK;
}

static void static_close(void *self)
{
    static_provider_t *sp = self;
    rules_free(sp->rules);
    pthread_rwlock_destroy(&sp->lock);
    free(sp->path);
    free(sp);
}

static const sw_guard_impl_t static_impl = {
    .evaluate = static_evaluate,
    .reload = static_reload,
    .close = static_close,
};

/* The embedded default provider (SPEC §4): all true unless a config file
 * says otherwise; the file must be valid at start-up. */
void *sw_guards_static_open(const sw_guards_config_t *cfg,
                            const sw_guard_impl_t **impl, swoosh_error *err)
{
    rules_t *r = NULL;
    if (cfg->static_path != NULL && cfg->static_path[0] != '\0') {
        r = load_rules(cfg->static_path, err);
        if (r == NULL) {
            sw_error_prefix(err, "static config");
            return NULL;
        }
    } else {
        r = rules_all_pass();
    }
    static_provider_t *sp = sw_xcalloc(1, sizeof(*sp));
    if (pthread_rwlock_init(&sp->lock, NULL) != 0) {
        rules_free(r);
        free(sp);
        sw_error_set(err, SWOOSH_ENOMEM, 0, "cannot create a lock");
        return NULL;
    }
    sp->rules = r;
    if (cfg->static_path != NULL && cfg->static_path[0] != '\0')
        sp->path = sw_xstrdup(cfg->static_path);
    *impl = &static_impl;
    return sp;
}
