// LABEL: unit
// TIMEOUT: 120
/* test_state: the OrchestratorState projection of SPEC §3, its cached
 * canonical form and hash, loading and validating projections, and the
 * public hashing API. The genesis hash below was computed independently
 * with python3 from SPEC §3's description (see docs/HASH.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "statecheck.h"
#include "buf.h"
#include "canon.h"
#include "hash.h"
#include "state.h"
#include "swoosh.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* python3: json.dumps(genesis, sort_keys=True, separators=(",",":"),
 * ensure_ascii=False).encode() → hashlib.sha256 (docs/HASH.md). */
#define GENESIS_HASH                                                           \
    "801e44b0af699ef2403050147eadd2d19000a05dd4412ffe986f0028bce18941"

static void sha_hex(const void *p, size_t n, char hex[65])
{
    sw_sha256_t h;
    sw_sha256_init(&h);
    sw_sha256_update(&h, p, n);
    sw_sha256_final_hex(&h, hex);
    sw_sha256_destroy(&h);
}

/* Parses the state's canonical text back with jansson. New reference. */
static json_t *as_json(sw_state_t *s)
{
    size_t n;
    const char *t = sw_state_canonical(s, &n);
    json_error_t e;
    json_t *v = json_loadb(t, n, JSON_REJECT_DUPLICATES, &e);
    if (!v)
        fail_msg("canonical text does not parse: %s", e.text);
    return v;
}

/* Genesis hashes to the value python3 computes from SPEC §3's genesis, and
 * the streamed hash equals SHA-256 of the full canonical text. */
static void test_genesis_hash_pinned(void **state)
{
    (void)state;
    sw_state_t *s = sw_state_new_genesis();
    char hex[65], full[65];
    sw_state_hash(s, hex);
    assert_string_equal(hex, GENESIS_HASH);
    size_t n;
    const char *t = sw_state_canonical(s, &n);
    assert_int_equal(strlen(t), n);
    sha_hex(t, n, full);
    assert_string_equal(full, GENESIS_HASH);
    assert_non_null(strstr(t, "\"HLCLast\":\"0-0-0000000000000000\""));
    assert_non_null(strstr(t, "\"Phase\":\"PLAN_ROLES\""));
    sw_state_free(s);

    swoosh_state_t *p = swoosh_state_new_genesis();
    swoosh_state_hash(p, hex);
    assert_string_equal(hex, GENESIS_HASH);
    t = swoosh_state_canonical(p, &n);
    sha_hex(t, n, full);
    assert_string_equal(full, GENESIS_HASH);
    assert_ptr_equal(swoosh_state_canonical(p, NULL), t);
    swoosh_state_free(p);
    swoosh_state_free(NULL);
}

/* The hand-ordered section writers agree with generic JCS of the same
 * value, for every section and for the whole projection. */
static void test_writers_match_generic_jcs(void **state)
{
    (void)state;
    sw_state_t *s = th_state_typical(8, 40);
    json_t *v = as_json(s);
    sw_buf_t b = SW_BUF_INIT;
    assert_true(sw_canon_json(&b, v));
    size_t n;
    const char *t = sw_state_canonical(s, &n);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, t, n);
    for (int i = 0; i < SW_SEC__COUNT; i++) {
        sw_buf_t want = SW_BUF_INIT, got = SW_BUF_INIT;
        const char *name = sw_section_name((sw_section_t)i);
        assert_true(sw_canon_json(&want, json_object_get(v, name)));
        sw_state_section_jcs(s, (sw_section_t)i, &got);
        assert_string_equal(got.data, want.data);
        sw_buf_free(&want);
        sw_buf_free(&got);
    }
    /* The non-ASCII task ids sit in UTF-16 order: emoji before U+E000. */
    const char *emoji = strstr(t, "\"\xf0\x9f\x98\x80\":{");
    const char *pua = strstr(t, "\"\xee\x80\x80\":{");
    assert_non_null(emoji);
    assert_non_null(pua);
    assert_true(emoji < pua);
    sw_buf_free(&b);
    json_decref(v);
    sw_state_free(s);
}

/* JCS → from_json → JCS gives identical bytes and hash. */
static void test_round_trip(void **state)
{
    (void)state;
    sw_state_t *shapes[] = {sw_state_new_genesis(), th_state_typical(8, 256),
                            th_state_typical(0, 0), th_state_typical(1, 3)};
    for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
        sw_state_t *s = shapes[k];
        json_t *v = as_json(s);
        swoosh_error err = {0};
        sw_state_t *back = sw_state_from_json(v, &err);
        if (!back)
            fail_msg("shape %zu rejected: %s", k, err.msg);
        size_t n1, n2;
        const char *t1 = sw_state_canonical(s, &n1);
        const char *t2 = sw_state_canonical(back, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(t1, t2, n1);
        char h1[65], h2[65];
        sw_state_hash(s, h1);
        sw_state_hash(back, h2);
        assert_string_equal(h1, h2);

        swoosh_state_t *api = swoosh_state_from_json(t1, n1, &err);
        assert_non_null(api);
        swoosh_state_hash(api, h2);
        assert_string_equal(h1, h2);
        swoosh_state_free(api);
        json_decref(v);
        sw_state_free(back);
        sw_state_free(s);
    }
}

/* Touching a section rebuilds that section's text only, touching a task
 * rebuilds that task's text only, and the hash then equals a from-scratch
 * hash. Changes made without a touch stay invisible, which shows the
 * untouched caches were really reused. */
static void test_cache_invalidation(void **state)
{
    (void)state;
    sw_state_t *s = th_state_typical(8, 256);
    char hex[65], want[65];
    sw_state_hash(s, hex);
    for (int i = 0; i < SW_SEC__COUNT; i++)
        assert_false(s->sec_dirty[i]);
    assert_false(s->tasks_dirty);
    for (size_t i = 0; i < s->execution.tasks.n; i++)
        assert_false(s->execution.tasks.items[i]->dirty);

    /* Boot changes silently; only Meta is touched. */
    s->boot.licensed = !s->boot.licensed;
    s->meta.index++;
    sw_state_touch(s, SW_SEC_META);
    for (int i = 0; i < SW_SEC__COUNT; i++)
        assert_int_equal(s->sec_dirty[i], i == SW_SEC_META);
    assert_false(s->tasks_dirty);
    char h_meta[65];
    sw_state_hash(s, h_meta);
    assert_string_not_equal(h_meta, hex);
    assert_non_null(strstr(s->sec_jcs[SW_SEC_META].data, "\"Index\":4243"));
    assert_non_null(strstr(s->sec_jcs[SW_SEC_BOOT].data, "\"Licensed\":true"));
    th_scratch_hash(s, want);
    assert_string_not_equal(h_meta, want);
    sw_state_touch(s, SW_SEC_BOOT);
    sw_state_hash(s, hex);
    assert_string_equal(hex, want);

    /* Execution's head: the Tasks text is kept. */
    s->execution.beat_index++;
    sw_state_touch(s, SW_SEC_EXECUTION);
    assert_false(s->tasks_dirty);
    const char *tasks_before = s->tasks_jcs.data;
    sw_state_hash(s, hex);
    assert_ptr_equal(s->tasks_jcs.data, tasks_before);
    th_scratch_hash(s, want);
    assert_string_equal(hex, want);

    /* Tasks: t5 changes silently, t7 is touched. */
    sw_task_t *t5 = s->execution.tasks.items[5];
    sw_task_t *t7 = s->execution.tasks.items[7];
    sw_str_set(&t5->title, "silent");
    sw_str_set(&t7->title, "loud");
    sw_state_touch_task(s, t7);
    for (size_t i = 0; i < s->execution.tasks.n; i++)
        assert_int_equal(s->execution.tasks.items[i]->dirty,
                         s->execution.tasks.items[i] == t7);
    for (int i = 0; i < SW_SEC__COUNT; i++)
        assert_false(s->sec_dirty[i]);
    sw_state_hash(s, hex);
    assert_non_null(strstr(s->tasks_jcs.data, "\"Title\":\"loud\""));
    assert_null(strstr(s->tasks_jcs.data, "\"Title\":\"silent\""));
    th_scratch_hash(s, want);
    assert_string_not_equal(hex, want);
    sw_state_touch_task(s, t5);
    sw_state_hash(s, hex);
    assert_string_equal(hex, want);

    /* The full text follows the same caches and hashes the same. */
    size_t n;
    const char *t = sw_state_canonical(s, &n);
    sha_hex(t, n, want);
    assert_string_equal(hex, want);
    sw_state_free(s);
}

/* Task, set and map helpers keep JCS / bytewise order, and insert and
 * evict invalidate the caches by themselves. */
static void test_collections(void **state)
{
    (void)state;
    sw_state_t *s = th_state_typical(3, 8);
    char before[65], after[65], want[65];
    sw_state_hash(s, before);

    sw_task_t *t = sw_task_new("task-0003x", "new", 9);
    sw_tasks_insert(s, t);
    assert_ptr_equal(sw_tasks_find(&s->execution.tasks, "task-0003x"), t);
    assert_null(sw_tasks_find(&s->execution.tasks, "task-9"));
    for (size_t i = 1; i < s->execution.tasks.n; i++)
        assert_true(sw_canon_keycmp(s->execution.tasks.items[i - 1]->id,
                                    s->execution.tasks.items[i]->id) < 0);
    sw_state_hash(s, after);
    assert_string_not_equal(before, after);
    th_scratch_hash(s, want);
    assert_string_equal(after, want);

    size_t finished = 0;
    for (size_t i = 0; i < s->execution.tasks.n; i++)
        finished += s->execution.tasks.items[i]->status >= SW_TASK_COMPLETED;
    size_t total = s->execution.tasks.n;
    assert_true(finished > 0);
    sw_tasks_evict_finished(s);
    assert_int_equal(s->execution.tasks.n, total - finished);
    for (size_t i = 0; i < s->execution.tasks.n; i++)
        assert_true(s->execution.tasks.items[i]->status < SW_TASK_COMPLETED);
    sw_state_hash(s, after);
    th_scratch_hash(s, want);
    assert_string_equal(after, want);

    sw_strset_t ss = {0};
    sw_strset_add(&ss, "b");
    sw_strset_add(&ss, "a");
    sw_strset_add(&ss, "B");
    sw_strset_add(&ss, "a");
    assert_int_equal(ss.n, 3);
    assert_string_equal(ss.items[0], "B");
    assert_string_equal(ss.items[2], "b");
    assert_true(sw_strset_has(&ss, "a"));
    assert_false(sw_strset_has(&ss, "c"));
    sw_strset_clear(&ss);
    assert_int_equal(ss.n, 0);
    free(ss.items);

    sw_map_t m = {0};
    sw_map_set(&m, "\xee\x80\x80", "pua");
    sw_map_set(&m, "\xf0\x9f\x98\x80", "emoji");
    sw_map_set(&m, "k", "1");
    sw_map_set(&m, "k", "2");
    assert_int_equal(m.n, 3);
    assert_string_equal(m.items[0].key, "k");
    assert_string_equal(m.items[1].value, "emoji");
    assert_string_equal(sw_map_get(&m, "k"), "2");
    assert_null(sw_map_get(&m, "x"));
    sw_map_clear(&m);
    free(m.items);

    assert_int_equal(sw_council_find_member(s, "agent-2"), 2);
    assert_int_equal(sw_council_find_member(s, "nobody"), -1);
    assert_int_equal(sw_council_find_role(s, "role-3"), 0);
    assert_int_equal(sw_council_role_holder(s, "role-1"), 2);
    assert_int_equal(sw_council_role_holder(s, "role-9"), -1);
    sw_state_free(s);
}

/* A clone is deep: changing it leaves the original's text and hash alone,
 * and an unchanged clone hashes like the original. */
static void test_clone_is_deep(void **state)
{
    (void)state;
    sw_state_t *s = th_state_typical(4, 16);
    char h1[65], h2[65];
    sw_state_hash(s, h1);
    sw_state_t *c = sw_state_clone(s);
    sw_state_hash(c, h2);
    assert_string_equal(h1, h2);
    sw_str_set(&c->execution.tasks.items[0]->title, "changed");
    sw_state_touch_task(c, c->execution.tasks.items[0]);
    sw_str_set(&c->council.members[0].agent_id, "other");
    sw_map_set(&c->policy.params, "a", "9");
    sw_strset_add(&c->policy.admins, "new-admin");
    sw_state_touch(c, SW_SEC_COUNCIL);
    sw_state_touch(c, SW_SEC_POLICY);
    sw_state_hash(c, h2);
    assert_string_not_equal(h1, h2);
    char h3[65];
    th_scratch_hash(s, h3);
    assert_string_equal(h1, h3);
    assert_string_equal(s->council.members[0].agent_id, "agent-0");
    assert_string_equal(sw_map_get(&s->policy.params, "a"), "1");
    sw_state_free(c);
    sw_state_free(s);
}

/* A clone copies every source, role, member and task into memory of its
 * own: the values match, no string or array is shared, and the clone keeps
 * its canonical text after the original is freed; empty lists stay NULL. */
static void test_clone_copies_lists(void **state)
{
    (void)state;
    sw_state_t *s = th_state_typical(3, 5);
    sw_state_t *c = sw_state_clone(s);
    assert_int_equal(c->ingestion.n_sources, s->ingestion.n_sources);
    assert_ptr_not_equal(c->ingestion.sources, s->ingestion.sources);
    for (size_t i = 0; i < s->ingestion.n_sources; i++) {
        const sw_source_t *a = &s->ingestion.sources[i];
        const sw_source_t *b = &c->ingestion.sources[i];
        assert_string_equal(a->id, b->id);
        assert_string_equal(a->uri, b->uri);
        assert_ptr_not_equal(a->id, b->id);
        assert_ptr_not_equal(a->uri, b->uri);
    }
    assert_int_equal(c->council.n_roles, 3);
    assert_ptr_not_equal(c->council.roles, s->council.roles);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(c->council.roles[i].role, s->council.roles[i].role);
        assert_ptr_not_equal(c->council.roles[i].role,
                             s->council.roles[i].role);
        assert_int_equal(c->council.roles[i].required,
                         s->council.roles[i].required);
    }
    assert_int_equal(c->council.n_members, 3);
    assert_int_equal(c->council.cap_members, 3);
    for (size_t i = 0; i < 3; i++) {
        const sw_member_t *a = &s->council.members[i];
        const sw_member_t *b = &c->council.members[i];
        assert_string_equal(a->role, b->role);
        assert_string_equal(a->agent_id, b->agent_id);
        assert_ptr_not_equal(a->agent_id, b->agent_id);
        assert_int_equal(a->joined_index, b->joined_index);
    }
    assert_true(s->execution.tasks.n >= 5);
    assert_int_equal(c->execution.tasks.n, s->execution.tasks.n);
    for (size_t i = 0; i < s->execution.tasks.n; i++) {
        assert_ptr_not_equal(c->execution.tasks.items[i],
                             s->execution.tasks.items[i]);
        assert_string_equal(c->execution.tasks.items[i]->id,
                            s->execution.tasks.items[i]->id);
    }
    size_t n;
    const char *t = sw_state_canonical(s, &n);
    char *before = malloc(n);
    assert_non_null(before);
    memcpy(before, t, n);
    sw_state_free(s);
    size_t cn;
    const char *ct = sw_state_canonical(c, &cn);
    assert_int_equal(cn, n);
    assert_memory_equal(ct, before, n);
    free(before);
    sw_state_free(c);

    sw_state_t *g = sw_state_new_genesis();
    sw_state_t *gc = sw_state_clone(g);
    assert_null(gc->ingestion.sources);
    assert_null(gc->council.roles);
    assert_null(gc->council.members);
    assert_null(gc->execution.tasks.items);
    sw_state_free(gc);
    sw_state_free(g);
}

/* Sets the value at a dotted path ("Council.Members.0.Role") to the JSON
 * text `val`; val NULL deletes the member. */
static void set_path(json_t *root, const char *path, const char *val)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *node = root;
    char *save = NULL;
    char *tok = strtok_r(buf, ".", &save);
    while (tok) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next) {
            json_t *v = NULL;
            if (val) {
                json_error_t e;
                v = json_loads(val, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
                assert_non_null(v);
            }
            if (json_is_array(node)) {
                if (v)
                    json_array_set_new(node, (size_t)atoi(tok), v);
                else
                    json_array_remove(node, (size_t)atoi(tok));
            } else if (v) {
                json_object_set_new(node, tok, v);
            } else {
                json_object_del(node, tok);
            }
            return;
        }
        node = json_is_array(node) ? json_array_get(node, (size_t)atoi(tok))
                                   : json_object_get(node, tok);
        assert_non_null(node);
        tok = next;
    }
}

/* from_json rejects bad projections and names the offending field: wrong
 * types, unknown or missing sections and fields, bad enums, bounds,
 * non-canonical HLCs and unsorted sets. */
static void test_from_json_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *path, *value, *want;
    } cases[] = {
        {"Council.Quorum", "-1",
         "Council.Quorum: expected a non-negative integer"},
        {"Council.Quorum", "\"3\"",
         "Council.Quorum: expected a non-negative integer"},
        {"Council.Quorum", "9", "Council.Quorum: exceeds"},
        {"Meta.HLCLast", "\"01-0-0000000000000000\"", "Meta.HLCLast:"},
        {"Meta.HLCLast", "\"1-0-000000000000000A\"", "Meta.HLCLast:"},
        {"Meta.SchemaVersion", "2", "Meta.SchemaVersion:"},
        {"Meta.Index", "9007199254740992", "Meta.Index:"},
        {"Meta.Index", "1.0", "Meta.Index:"},
        {"Boot.NodeID", NULL, "Boot.NodeID: missing field"},
        {"Boot.Licensed", "1", "Boot.Licensed: expected true or false"},
        {"Boot.LicenseID",
         "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "\"",
         "Boot.LicenseID: longer than 128 bytes"},
        {"Control.Extra", "true", "Control.Extra: unknown field"},
        {"Extra", "{}", "Extra: unknown section"},
        {"Policy", NULL, "Policy: missing section"},
        {"Meta", "[]", "Meta: expected an object"},
        {"Execution.Phase", "\"RUNNING\"", "Execution.Phase: expected one of"},
        {"Ingestion.Phase", "\"idle\"", "Ingestion.Phase:"},
        {"Council.Phase", "\"IDLE\"", "Council.Phase:"},
        {"Environment.Phase", "null", "Environment.Phase:"},
        {"Policy.Admins", "[\"b\",\"a\"]", "Policy.Admins: not sorted"},
        {"Policy.Admins", "[\"a\",\"a\"]", "Policy.Admins: not sorted"},
        {"Policy.Admins", "[\"\"]", "Policy.Admins[0]: must not be empty"},
        {"Execution.Approvals", "[\"z\",\"a\"]", "Execution.Approvals:"},
        {"Execution.Approvals", "[1]", "Execution.Approvals[0]:"},
        {"Execution.Tasks.task-0001.Status", "\"DONE\"",
         "Execution.Tasks.task-0001.Status:"},
        {"Execution.Tasks.task-0001.CreatedIndex", "1.5",
         "Execution.Tasks.task-0001.CreatedIndex:"},
        {"Execution.Tasks.task-0001.Extra", "1",
         "Execution.Tasks.task-0001.Extra: unknown field"},
        {"Execution.Tasks", "{\"\":{}}", "Execution.Tasks: task ids"},
        {"Execution.Tasks", "[]", "Execution.Tasks: expected an object"},
        {"Environment.Resources.k", "1", "Environment.Resources.k:"},
        {"Policy.Params", "[]", "Policy.Params: expected an object"},
        {"Policy.MaxTasks", "0",
         "Policy.MaxTasks: expected an integer 1..65536"},
        {"Policy.MaxClockSkewMs", "86400001", "Policy.MaxClockSkewMs:"},
        {"Council.Members.0.Role", "\"ghost\"",
         "Council.Members[0].Role: not a planned role"},
        {"Council.Members.1.Role", "\"role-2\"",
         "Council.Members[1].Role: held by another member"},
        {"Council.Members.1.AgentID", "\"agent-0\"",
         "Council.Members[1].AgentID: already holds a role"},
        {"Council.PlannedRoles.1.Role", "\"role-2\"",
         "Council.PlannedRoles[1].Role: duplicate role"},
        {"Council.PlannedRoles.0.Required", "\"yes\"",
         "Council.PlannedRoles[0].Required:"},
        {"Ingestion.Sources", "\"x\"", "Ingestion.Sources: expected an array"},
        {"Ingestion.Sources.1.ID", "\"src-b\"",
         "Ingestion.Sources[1].ID: duplicate"},
        {"Ingestion.Sources.0.URI", NULL,
         "Ingestion.Sources[0].URI: missing field"},
        {"Control.QuarantineReason", "\"a\\u0000b\"",
         "Control.QuarantineReason: contains a NUL"},
        /* A name with a NUL after it once loaded as the name (found by
         * make fuzz, FUZZ_SEED=424242), text the state cannot reproduce. */
        {"Council.Phase", "\"READY\\u0000\"", "Council.Phase: expected one of"},
        {"Execution.Tasks.task-0001.Status", "\"OPEN\\u0000x\"",
         "Execution.Tasks.task-0001.Status: expected one of"},
    };
    sw_state_t *base = th_state_typical(2, 3);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = as_json(base);
        set_path(v, cases[i].path, cases[i].value);
        swoosh_error err = {0};
        sw_state_t *s = sw_state_from_json(v, &err);
        if (s)
            fail_msg("case %zu (%s) accepted", i, cases[i].path);
        assert_int_equal(err.code, SWOOSH_EINVAL);
        if (strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: message \"%s\" does not start with \"%s\"", i,
                     err.msg, cases[i].want);
        json_decref(v);
    }
    /* The unmodified base loads. */
    json_t *v = as_json(base);
    sw_state_t *ok = sw_state_from_json(v, NULL);
    assert_non_null(ok);
    sw_state_free(ok);
    json_decref(v);
    /* Not an object at all; error pointer may be NULL. */
    json_t *arr = json_array();
    assert_null(sw_state_from_json(arr, NULL));
    json_decref(arr);
    sw_state_free(base);
}

/* The public API hashes a bare projection and a GET /state answer the
 * same, and reports bad JSON and values outside the JCS space. */
static void test_public_api(void **state)
{
    (void)state;
    sw_state_t *s = th_state_typical(2, 4);
    char want[65], hex[65];
    sw_state_hash(s, want);
    size_t n;
    const char *t = sw_state_canonical(s, &n);
    swoosh_error err = {0};
    assert_int_equal(swoosh_hash_json(t, n, hex, &err), SWOOSH_OK);
    assert_string_equal(hex, want);

    sw_buf_t b = SW_BUF_INIT;
    sw_buf_printf(&b,
                  "{\"state_hash\":\"x\", \"index\": 4242, \"projection\""
                  " : %s}",
                  t);
    assert_int_equal(swoosh_hash_json(b.data, b.len, hex, &err), SWOOSH_OK);
    assert_string_equal(hex, want);
    sw_buf_free(&b);

    sw_buf_printf(&b,
                  "{\"format\":\"swoosh-snapshot-v1\",\"index\":4242,"
                  "\"state_hash\":\"%s\",\"state\":%s}",
                  want, t);
    assert_int_equal(swoosh_hash_json(b.data, b.len, hex, &err), SWOOSH_OK);
    assert_string_equal(hex, want);
    sw_buf_free(&b);
    const char *nostate = "{\"format\":\"swoosh-snapshot-v1\"}";
    assert_int_equal(swoosh_hash_json(nostate, strlen(nostate), hex, &err),
                     SWOOSH_EINVAL);
    assert_non_null(strstr(err.msg, "state:"));

    /* Whitespace and member order do not matter; content does. */
    const char *loose = "{ \"b\" : 1 , \"a\" : [ ] }";
    assert_int_equal(swoosh_hash_json(loose, strlen(loose), hex, NULL),
                     SWOOSH_OK);
    sha_hex("{\"a\":[],\"b\":1}", 14, want);
    assert_string_equal(hex, want);

    const char *real = "{\"a\":1.5}";
    assert_int_equal(swoosh_hash_json(real, strlen(real), hex, &err),
                     SWOOSH_EINVAL);
    assert_non_null(strstr(err.msg, "real"));
    const char *big = "{\"projection\":{\"a\":9007199254740992}}";
    assert_int_equal(swoosh_hash_json(big, strlen(big), hex, &err),
                     SWOOSH_EINVAL);
    const char *dup = "{\"a\":1,\"a\":2}";
    assert_int_equal(swoosh_hash_json(dup, strlen(dup), hex, &err),
                     SWOOSH_ECORRUPT);
    const char *junk = "{\"a\":";
    assert_int_equal(swoosh_hash_json(junk, strlen(junk), hex, &err),
                     SWOOSH_ECORRUPT);
    const char *arr = "[1]";
    assert_int_equal(swoosh_hash_json(arr, strlen(arr), hex, &err),
                     SWOOSH_EINVAL);
    const char *pj = "{\"projection\":[]}";
    assert_int_equal(swoosh_hash_json(pj, strlen(pj), hex, &err),
                     SWOOSH_EINVAL);

    assert_null(swoosh_state_from_json(junk, strlen(junk), &err));
    assert_int_equal(err.code, SWOOSH_ECORRUPT);
    assert_null(swoosh_state_from_json(loose, strlen(loose), &err));
    assert_int_equal(err.code, SWOOSH_EINVAL);

    swoosh_sha256_hex("abc", 3, hex);
    assert_string_equal(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sw_state_free(s);
}

/* Section, phase and status names map both ways and reject strangers. */
static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < SW_SEC__COUNT; i++)
        assert_int_equal(sw_section_by_name(sw_section_name((sw_section_t)i)),
                         i);
    assert_int_equal(sw_section_by_name("boot"), SW_SEC__COUNT);
    assert_null(sw_section_name(SW_SEC__COUNT));
    const struct {
        sw_section_t sec;
        int count;
    } phased[] = {{SW_SEC_INGESTION, SW_ING__COUNT},
                  {SW_SEC_COUNCIL, SW_CNC__COUNT},
                  {SW_SEC_ENVIRONMENT, SW_ENV__COUNT},
                  {SW_SEC_EXECUTION, SW_EXE__COUNT}};
    for (size_t k = 0; k < 4; k++) {
        for (int p = 0; p < phased[k].count; p++)
            assert_int_equal(sw_phase_by_name(phased[k].sec,
                                              sw_phase_name(phased[k].sec, p)),
                             p);
        assert_null(sw_phase_name(phased[k].sec, phased[k].count));
    }
    assert_string_equal(sw_phase_name(SW_SEC_COUNCIL, SW_CNC_TOOLING_SYNC),
                        "TOOLING_SYNC");
    assert_string_equal(sw_phase_name(SW_SEC_ENVIRONMENT, SW_ENV_HEALTHCHECK),
                        "HEALTHCHECK");
    assert_int_equal(sw_phase_by_name(SW_SEC_META, "IDLE"), -1);
    assert_int_equal(sw_phase_by_name(SW_SEC_EXECUTION, "idle"), -1);
    assert_int_equal(sw_task_status_by_name("COMPLETED"), SW_TASK_COMPLETED);
    assert_int_equal(sw_task_status_by_name("open"), -1);
    assert_string_equal(sw_task_status_name(SW_TASK_FAILED), "FAILED");
}

/* xorshift64: a fixed pseudo-random sequence for the incremental tests. */
static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* SHA-256 of the canonical text through OpenSSL directly, not hash.c. */
static void openssl_hash(sw_state_t *s, char hex[65])
{
    size_t n;
    const char *t = sw_state_canonical(s, &n);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    assert_int_equal(EVP_Digest(t, n, md, &mdlen, EVP_sha256(), NULL), 1);
    assert_int_equal(mdlen, 32);
    sw_hex(md, 32, hex);
}

/* A state with `n` tasks "t00000", "t00002", … (even numbers, so inserts
 * can land between them) and, when `pad`, an Environment big enough that
 * the hash keeps checkpoints even without tasks. */
static sw_state_t *tasked(size_t n, bool pad)
{
    sw_state_t *s = sw_state_new_genesis();
    char id[32], val[600];
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "t%05zu", 2 * i);
        sw_task_t *t = sw_task_new(id, "a task of the incremental test", i);
        t->status = (sw_task_status_t)(i % 3);
        sw_tasks_insert(s, t);
    }
    if (pad) {
        memset(val, 'p', sizeof val - 1);
        val[sizeof val - 1] = '\0';
        for (int i = 0; i < 20; i++) {
            snprintf(id, sizeof id, "pad-%02d", i);
            sw_map_set(&s->environment.resources, id, val);
        }
        sw_state_touch(s, SW_SEC_ENVIRONMENT);
    }
    return s;
}

/* One random change, reported through the touch API as a reducer would. */
static void random_change(sw_state_t *s, uint64_t *x, unsigned *serial)
{
    sw_tasks_t *ts = &s->execution.tasks;
    char id[32];
    unsigned op = (unsigned)(rnd(x) % 10);
    if (op <= 2) { /* a section */
        sw_section_t sec = (sw_section_t)(rnd(x) % SW_SEC__COUNT);
        switch (sec) {
        case SW_SEC_BOOT:
            s->boot.licensed = !s->boot.licensed;
            break;
        case SW_SEC_CONTROL:
            s->control.paused = !s->control.paused;
            break;
        case SW_SEC_COUNCIL:
            s->council.epoch++;
            break;
        case SW_SEC_ENVIRONMENT:
            s->environment.epoch++;
            break;
        case SW_SEC_EXECUTION:
            s->execution.beat_index++;
            break;
        case SW_SEC_INGESTION:
            s->ingestion.epoch++;
            break;
        case SW_SEC_META:
            s->meta.index++;
            break;
        default:
            s->policy.version++;
            break;
        }
        sw_state_touch(s, sec);
    } else if (op <= 5) { /* one task at a random position */
        if (!ts->n)
            return;
        sw_task_t *t = ts->items[rnd(x) % ts->n];
        t->updated_index++;
        t->status = (sw_task_status_t)(rnd(x) % SW_TASK__COUNT);
        sw_state_touch_task(s, t);
    } else if (op <= 7) { /* an insert at a random position */
        if (ts->n >= 5000)
            return;
        snprintf(id, sizeof id, "t%05u-%u", (unsigned)(rnd(x) % 10000),
                 ++*serial);
        sw_task_t *t = sw_task_new(id, "inserted", *serial);
        sw_tasks_insert(s, t);
        sw_state_touch_task(s, t);
    } else if (op == 8) { /* an append after every task */
        snprintf(id, sizeof id, "z%06u", ++*serial);
        sw_task_t *t = sw_task_new(id, "appended", *serial);
        sw_tasks_insert(s, t);
        sw_state_touch_task(s, t);
    } else { /* finish a few tasks, then evict every finished one */
        for (int k = 0; k < 3 && ts->n; k++) {
            sw_task_t *t = ts->items[rnd(x) % ts->n];
            t->status = SW_TASK_COMPLETED;
            sw_state_touch_task(s, t);
        }
        sw_tasks_evict_finished(s);
        /* Keep large states large: refill what eviction removed. */
        for (size_t k = ts->n; k < 8 && ts->n < 64; k++) {
            snprintf(id, sizeof id, "r%06u", ++*serial);
            sw_tasks_insert(s, sw_task_new(id, "refill", *serial));
        }
    }
}

/* Runs `rounds` rounds of 1–3 random changes on a state of `n` tasks and
 * checks that every incremental hash equals the hash of a rebuilt copy and
 * SHA-256 of the canonical text computed by OpenSSL directly. */
static void check_incremental(size_t n, bool pad, unsigned rounds,
                              uint64_t seed)
{
    sw_state_t *s = tasked(n, pad);
    uint64_t x = seed;
    unsigned serial = 0;
    char inc[65], ref[65], ossl[65];
    sw_state_hash(s, inc);
    for (unsigned r = 0; r < rounds; r++) {
        unsigned k = 1 + (unsigned)(rnd(&x) % 3);
        for (unsigned i = 0; i < k; i++)
            random_change(s, &x, &serial);
        unsigned how = (unsigned)(rnd(&x) % 8);
        if (how == 0) { /* a copy hashes from scratch */
            sw_state_t *c = sw_state_clone(s);
            sw_state_free(s);
            s = c;
        } else if (how == 1) { /* caches refreshed before the hash */
            size_t len;
            sw_state_canonical(s, &len);
        }
        sw_state_hash(s, inc);
        th_scratch_hash(s, ref);
        openssl_hash(s, ossl);
        if (strcmp(inc, ref) != 0 || strcmp(inc, ossl) != 0)
            fail_msg("n=%zu pad=%d round %u: incremental %s, scratch %s, "
                     "openssl %s",
                     n, (int)pad, r, inc, ref, ossl);
    }
    /* A loaded copy of the final state hashes to the same value. */
    json_t *j = as_json(s);
    swoosh_error err;
    sw_state_t *l = sw_state_from_json(j, &err);
    assert_non_null(l);
    sw_state_hash(l, ref);
    assert_string_equal(inc, ref);
    sw_state_free(l);
    json_decref(j);
    sw_state_free(s);
}

/* Random section, task, insert and eviction changes on states of 0, 1, 63,
 * 64, 65, 300 and 4,096 tasks keep the checkpointed hash equal to the hash
 * from scratch and to OpenSSL's SHA-256 of the canonical bytes. */
static void test_incremental_hash(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 63, 64, 65, 300};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check_incremental(sizes[i], true, 300, 0x9e3779b97f4a7c15ull + i);
        check_incremental(sizes[i], false, 100, 0x2545f4914f6cdd1dull + i);
    }
    check_incremental(4096, false, 120, 0x853c49e6748fea9bull);
}

/* A hash that resumes from a checkpoint sees a change in every section:
 * after one hash, changing any single section, task or the task count
 * changes the hash, and changing it back restores the old one. */
static void test_incremental_hash_sensitive(void **state)
{
    (void)state;
    sw_state_t *s = tasked(200, true);
    char h0[65], h1[65], h2[65];
    sw_state_hash(s, h0);
    for (int sec = 0; sec < SW_SEC__COUNT; sec++) {
        uint64_t *field[SW_SEC__COUNT] = {
            &s->council.quorum,    &s->council.epoch,      &s->council.epoch,
            &s->environment.epoch, &s->execution.epoch,    &s->ingestion.epoch,
            &s->meta.index,        &s->policy.max_members,
        };
        /* Boot and Control have no counters: use Council's for them and
         * touch both, which is still a change before Execution. */
        (*field[sec])++;
        sw_state_touch(s, (sw_section_t)sec);
        sw_state_touch(s, SW_SEC_COUNCIL);
        sw_state_hash(s, h1);
        assert_string_not_equal(h0, h1);
        (*field[sec])--;
        sw_state_touch(s, (sw_section_t)sec);
        sw_state_touch(s, SW_SEC_COUNCIL);
        sw_state_hash(s, h2);
        assert_string_equal(h0, h2);
    }
    for (size_t i = 0; i < s->execution.tasks.n; i += 37) {
        sw_task_t *t = s->execution.tasks.items[i];
        t->created_index += 1000;
        sw_state_touch_task(s, t);
        sw_state_hash(s, h1);
        assert_string_not_equal(h0, h1);
        t->created_index -= 1000;
        sw_state_touch_task(s, t);
        sw_state_hash(s, h2);
        assert_string_equal(h0, h2);
    }
    sw_state_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genesis_hash_pinned),
        cmocka_unit_test(test_writers_match_generic_jcs),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_cache_invalidation),
        cmocka_unit_test(test_collections),
        cmocka_unit_test(test_clone_is_deep),
        cmocka_unit_test(test_clone_copies_lists),
        cmocka_unit_test(test_from_json_rejects),
        cmocka_unit_test(test_public_api),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_incremental_hash),
        cmocka_unit_test(test_incremental_hash_sensitive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
