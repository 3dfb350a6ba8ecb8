// LABEL: unit
// TIMEOUT: 120
/* test_decode_fuzz: seeded mutations of the two on-disk formats through
 * their decoders: state projections (snapshots, genesis files, rollback;
 * SPEC §3, §4) through sw_state_from_json(), and WAL records (SPEC §4)
 * through sw_wal_decode_record(). Both read bytes a crash, a full disk or an
 * operator may have damaged, so every input must be refused cleanly or
 * accepted with nothing lost or invented.
 *
 * Projections: the text of real states (genesis, a state driven through the
 * reducer, one built with the state API) is mutated, parsed with jansson
 * (cases jansson refuses are skipped) and loaded. A refusal must carry
 * SWOOSH_EINVAL and a message; an accepted state must serialise to exactly
 * the generic JCS of the object it was loaded from (the loader neither drops
 * nor normalises anything, so the hash is the hash of what was on disk), and
 * that text must load again to the same bytes and state hash.
 *
 * Records: records written by sw_wal_encode_record() for applied and
 * quarantined outcomes are mutated and decoded. A refusal must carry a
 * message; an accepted record must have its proposal inside the input,
 * braced, a 64-digit lowercase hex state hash, and must re-encode from its
 * decoded members to the very same bytes (the decoder is documented as
 * strict: only the proposal's inside is left to the JSON parser). Each
 * record is decoded twice with the same answer, from a heap block of its
 * exact length so that ASan sees any read past the end.
 *
 * Memory errors and leaks are caught by the ASan build. The mutation
 * sequence is fixed (xorshift64 from a constant seed), so a failure names a
 * reproducible case number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "buf.h"
#include "canon.h"
#include "fuzz.h"
#include "statecheck.h"
#include "err.h"
#include "proposal.h"
#include "reducer.h"
#include "state.h"
#include "wal.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECV 1700000000000ull /* received_at_ms of every reduced step */

#define COUNT(a) (sizeof(a) / sizeof(*(a)))

/* ------------------------------------------------------ state seeds */

/* One reducer step: transition, payload (JSON text or NULL), signer
 * (NULL = "op"), and whether PolicyOK fails (a quarantine). */
typedef struct step {
    const char *t, *payload, *signer;
    bool policy_fails;
} step_t;

static const step_t steps[] = {
    {"LICENSE_GRANTED", "{\"license_id\":\"lic-1\"}", NULL, false},
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c1\",\"roles\":[{\"role\":\"lead\",\"required\":true},"
     "{\"role\":\"dev\",\"required\":true},{\"role\":\"qa\",\"required\":"
     "false}],\"quorum\":2}",
     NULL, false},
    {"COUNCIL_ROLE_CLAIMED",
     "{\"council_id\":\"c1\",\"role\":\"lead\",\"agent_id\":\"a1\"}", NULL,
     false},
    {"COUNCIL_ROLE_CLAIMED",
     "{\"council_id\":\"c1\",\"role\":\"dev\",\"agent_id\":\"a2\"}", NULL,
     false},
    {"COUNCIL_ROLE_CLAIMED",
     "{\"council_id\":\"c1\",\"role\":\"qa\",\"agent_id\":\"a3\"}", NULL,
     false},
    {"COUNCIL_QUORUM_CERT", "{\"council_id\":\"c1\",\"cert_hash\":\"cert1\"}",
     NULL, false},
    {"COUNCIL_ELECT_COMPLETE", "{\"council_id\":\"c1\"}", NULL, false},
    {"COUNCIL_TOOLING_SYNCED", "{\"council_id\":\"c1\"}", NULL, false},
    {"ENV_ALLOCATION_REQUESTED",
     "{\"resources\":{\"mem\":\"8Gi\",\"cpu\":\"4\",\"gpu\":\"\"}}", NULL,
     false},
    {"ENV_ALLOCATED", NULL, NULL, false},
    {"ENV_PROVISIONED", NULL, NULL, false},
    {"ENV_HEALTH_GREEN", NULL, NULL, false},
    {"INGESTION_STARTED",
     "{\"sources\":[{\"id\":\"s2\",\"uri\":\"ucxl://b\"},{\"id\":\"s1\","
     "\"uri\":\"https://a/\\u00e9?q=1\"}]}",
     NULL, false},
    {"INGESTION_FETCHED", "{\"content_hash\":\"abc123\"}", NULL, false},
    {"INGESTION_VALIDATED", NULL, NULL, false},
    {"INGESTION_INDEXED", NULL, NULL, false},
    {"EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w1\"}", NULL, false},
    {"EXECUTION_TASK_CREATED", "{\"task_id\":\"t1\",\"title\":\"One\"}", NULL,
     false},
    {"EXECUTION_TASK_CREATED",
     "{\"task_id\":\"t2\",\"title\":\"Two \\u2713 \\\"q\\\"\\n\"}", NULL,
     false},
    {"EXECUTION_TASK_CREATED", "{\"task_id\":\"t3\",\"title\":\"Three\"}", NULL,
     false},
    {"EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t2\",\"agent_id\":\"a1\"}", NULL,
     false},
    {"EXECUTION_TASK_COMPLETE",
     "{\"task_id\":\"t2\",\"agent_id\":\"a1\",\"result\":\"ok\"}", NULL, false},
    {"EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t3\",\"agent_id\":\"a2\"}", NULL,
     false},
    {"EXECUTION_PLAN_LOCKED", NULL, NULL, false},
    {"EXECUTION_REVIEW_STARTED", NULL, NULL, false},
    {"EXECUTION_APPROVAL", NULL, "a1", false},
    {"POLICY_UPDATED",
     "{\"admins\":[\"op\",\"root\"],\"params\":{\"zone\":\"eu-1\",\"mode\":"
     "\"strict\"},\"max_tasks\":100,\"max_clock_skew_ms\":600000}",
     NULL, false},
    {"CONTROL_PAUSE", NULL, NULL, true},
};

/* Applies every step to genesis; a snapshot of the state before the final
 * (quarantining) step goes to *before. Each logged step's WAL record, built
 * as the executor builds it, is appended to recs[*n_recs]. */
static sw_state_t *reduce_all(sw_state_t **before, sw_buf_t *recs,
                              size_t *n_recs)
{
    sw_state_t *s = sw_state_new_genesis();
    *n_recs = 0;
    for (size_t i = 0; i < COUNT(steps); i++) {
        const step_t *st = &steps[i];
        sw_buf_t body = SW_BUF_INIT;
        sw_buf_printf(&body,
                      "{\"transition\":\"%s\",\"signer\":\"%s\","
                      "\"idem_key\":\"k%zu\"",
                      st->t, st->signer ? st->signer : "op", i);
        if (st->payload)
            sw_buf_printf(&body, ",\"payload\":%s", st->payload);
        sw_buf_putc(&body, '}');
        sw_proposal_t p;
        char msg[256];
        sw_code_t c = sw_proposal_parse(body.data, body.len, &p, msg);
        if (c != SW_C_OK)
            fail_msg("step %zu: %s %s", i, sw_code_name(c), msg);
        sw_hlc_t h = {RECV - 1000 + i, (uint32_t)i, 0x1234abcdULL};
        sw_proposal_set_hlc(&p, &h);
        sw_guards_t g = SW_GUARDS_ALL_OK;
        g.policy_ok = !st->policy_fails;
        if (st->policy_fails)
            *before = sw_state_clone(s);
        sw_result_t r;
        sw_reduce(s, &p, &g, RECV + i, &r);
        sw_outcome_t want =
            st->policy_fails ? SW_OUT_QUARANTINED : SW_OUT_APPLIED;
        if (r.outcome != want)
            fail_msg("step %zu (%s): outcome %d, code %s: %s", i, st->t,
                     (int)r.outcome, sw_code_name(r.code), r.msg);
        sw_buf_t pj = SW_BUF_INIT;
        assert_true(sw_canon_json(&pj, p.raw));
        char hex[65];
        sw_state_hash(s, hex);
        sw_buf_t *rec = &recs[(*n_recs)++];
        *rec = (sw_buf_t)SW_BUF_INIT;
        sw_wal_encode_record(rec, s->meta.index, &g, r.outcome, pj.data, pj.len,
                             RECV + i, hex);
        sw_buf_free(&pj);
        sw_buf_free(&body);
        sw_proposal_destroy(&p);
    }
    return s;
}

/* A state set up with the state API: the shared typical state without
 * council or tasks, then non-ASCII ids whose JCS order differs from code
 * point order, escapes, a council still electing, policy bounds. */
static sw_state_t *handmade(void)
{
    sw_state_t *s = th_state_typical(0, 0);
    sw_str_set(&s->boot.license_id, "lic-\"quoted\"\\");
    s->council.phase = SW_CNC_ELECT;
    free(s->council.roles); /* the typical state's empty council */
    free(s->council.members);
    s->council.n_roles = 2;
    s->council.roles = sw_xcalloc(2, sizeof(sw_role_t));
    s->council.roles[0].role = sw_xstrdup("zeta");
    s->council.roles[0].required = true;
    s->council.roles[1].role = sw_xstrdup("alpha");
    s->council.members = sw_xcalloc(1, sizeof(sw_member_t));
    s->council.cap_members = 1;
    s->council.n_members = 1;
    s->council.members[0].role = sw_xstrdup("alpha");
    s->council.members[0].agent_id = sw_xstrdup("agent-\xc3\xa9");
    s->council.members[0].joined_index = 12;
    s->council.quorum = 1;
    sw_map_set(&s->environment.resources, "\xef\xac\xb3", "x");
    sw_map_set(&s->environment.resources, "\xf0\x9f\x98\x80", "y\t");
    s->execution.phase = SW_EXE_REVIEW;
    s->execution.beat_index = 77;
    sw_str_set(&s->execution.active_window_id, "w-9");
    sw_tasks_insert(s, sw_task_new("ctl", "control \x01", 4));
    sw_task_t *t = sw_task_new("a", "", 3);
    t->status = SW_TASK_FAILED;
    sw_str_set(&t->claimant, "agent-x");
    sw_str_set(&t->result, "timeout");
    sw_tasks_insert(s, t);
    sw_strset_add(&s->execution.approvals, "b");
    sw_strset_add(&s->execution.approvals, "B");
    s->control.degraded = true;
    s->policy.version = 9;
    s->policy.approval_threshold = 4096;
    s->policy.max_clock_skew_ms = 86400000;
    sw_strset_add(&s->policy.admins, "zed");
    sw_strset_add(&s->policy.admins, "Admin");
    sw_map_set(&s->policy.params, "a", "");
    for (int i = 0; i < SW_SEC__COUNT; i++)
        sw_state_touch(s, (sw_section_t)i);
    return s;
}

enum { MAX_RECS = COUNT(steps) + 2, N_STATES = 4 };

typedef struct seeds {
    char *state[N_STATES]; /* canonical projection texts */
    size_t state_len[N_STATES];
    sw_buf_t recs[MAX_RECS]; /* WAL record texts */
    size_t n_recs;
} seeds_t;

static const char hash_a[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* Builds the seeds once for all tests: four projection texts and the WAL
 * records of the reduced run plus two hand-built ones. */
static int setup(void **state)
{
    seeds_t *sd = sw_xcalloc(1, sizeof *sd);
    sw_state_t *before = NULL;
    sw_state_t *st[N_STATES];
    st[0] = sw_state_new_genesis();
    st[2] = reduce_all(&before, sd->recs, &sd->n_recs);
    st[1] = before;
    st[3] = handmade();
    for (int i = 0; i < N_STATES; i++) {
        size_t n;
        const char *t = sw_state_canonical(st[i], &n);
        sd->state[i] = sw_xstrndup(t, n);
        sd->state_len[i] = n;
        sw_state_free(st[i]);
    }
    /* Two hand-built records whose proposal holds the tail's own keys and
     * braces inside strings, the case the backwards tail scan must get
     * right; extreme integers. */
    sw_guards_t g = {.license_ok = false,
                     .backbeat_ok = true,
                     .quorum_ok = false,
                     .policy_ok = true,
                     .mcp_healthy = false};
    const char *p1 = "{\"a\":{\"received_at_ms\":1},\"b\":\"}\",\"state_hash\":"
                     "\"\\\"}\"}";
    sw_buf_t *r = &sd->recs[sd->n_recs++];
    sw_wal_encode_record(r, 9007199254740991ULL, &g, SW_OUT_QUARANTINED, p1,
                         strlen(p1), 0, hash_a);
    r = &sd->recs[sd->n_recs++];
    sw_wal_encode_record(r, 0, &SW_GUARDS_ALL_OK, SW_OUT_APPLIED, "{}", 2,
                         9007199254740991ULL, hash_a);
    *state = sd;
    return 0;
}

static int teardown(void **state)
{
    seeds_t *sd = *state;
    for (int i = 0; i < N_STATES; i++)
        free(sd->state[i]);
    for (size_t i = 0; i < sd->n_recs; i++)
        sw_buf_free(&sd->recs[i]);
    free(sd);
    return 0;
}

/* ------------------------------------------------------- projections */

/* Fragments for projections: JSON structure, escapes, numbers at the
 * loader's bounds, HLC spellings, section and field names, enum names. */
static const char *const state_tokens[] = {
    "-1",
    "0",
    "1.0",
    "1e2",
    "4096",
    "4097",
    "65536",
    "65537",
    "86400000",
    "86400001",
    "9007199254740991",
    "9007199254740992",
    "18446744073709551616",
    "\\u0000",
    "\\ud83d\\ude00",
    "\xff",
    "\xc3\xa9",
    "\"0-0-0000000000000000\"",
    "\"18446744073709551615-4294967295-ffffffffffffffff\"",
    "\"18446744073709551616-0-0000000000000000\"",
    "\"01-0-0000000000000000\"",
    "\"1-0-000000000000000A\"",
    "\"Meta\":",
    "\"Tasks\":{}",
    ("\"t9\":{\"Claimant\":\"\",\"CreatedIndex\":1,\"Result\":\"\","
     "\"Status\":\"OPEN\",\"Title\":\"\",\"UpdatedIndex\":1},"),
    "{\"AgentID\":\"a9\",\"JoinedIndex\":3,\"Role\":\"lead\"},",
    "{\"ID\":\"s1\",\"URI\":\"\"},",
    "{\"Required\":false,\"Role\":\"dev\"},",
    "\"OPEN\"",
    "\"CLAIMED\"",
    "\"READY\"",
    "\"IDLE\"",
    "\"x\":\"y\",",
    "\"Phase\":\"WORK\",",
    "\"Extra\":1,",
    "\"Tasks\":{\"\":{}},",
    "\"\",",
    "\"a\",",
    "\"z\",",
};

/* Characters that keep a JSON string valid: ASCII, escapes, UTF-8. */
static const char *const str_gentle[] = {"a",
                                         "Z",
                                         "0",
                                         " ",
                                         "~",
                                         "\\n",
                                         "\\u00e9",
                                         "\\\"",
                                         "\\u0000",
                                         "\xc3\xa9",
                                         "\xe2\x9c\x93",
                                         "\xf0\x9f\x98\x80",
                                         "\\ud83d\\ude00",
                                         "\\u001f"};

/* Where `at` sits in the JSON text: 0 outside strings, 1 on a plain ASCII
 * character inside a string value, 2 anywhere else in a string (a member
 * name, a quote, an escape sequence, a byte of a multi-byte character). */
static int string_role(const sw_buf_t *b, size_t at)
{
    size_t i = 0;
    while (i < b->len) {
        if (b->data[i] != '"') {
            if (i == at)
                return 0;
            i++;
            continue;
        }
        size_t start = i++;
        bool plain = false;
        while (i < b->len && b->data[i] != '"') {
            unsigned char c = (unsigned char)b->data[i];
            size_t w = c == '\\'
                           ? (i + 1 < b->len && b->data[i + 1] == 'u' ? 6 : 2)
                           : 1;
            if (at >= i && at < i + w)
                plain = w == 1 && c >= 0x20 && c < 0x7f;
            i += w;
        }
        size_t end = i++;
        if (at >= start && at <= end) {
            while (i < b->len && (b->data[i] == ' ' || b->data[i] == '\n'))
                i++;
            bool key = i < b->len && b->data[i] == ':';
            return plain && !key && at != start && at != end ? 1 : 2;
        }
    }
    return 0;
}

/* A plain character of a string value becomes something from str_gentle;
 * a digit of a number becomes another digit. */
static bool state_gentle(sw_buf_t *out, size_t at)
{
    char ch = out->data[at];
    int role = string_role(out, at);
    if (role == 0 && ch >= '0' && ch <= '9') {
        out->data[at] = (char)('0' + th_fuzz_below(10));
        return true;
    }
    if (role != 1)
        return false;
    const char *g = str_gentle[th_fuzz_below(COUNT(str_gentle))];
    th_fuzz_splice(out, at, 1, g, strlen(g));
    return true;
}

static const th_mutator_t state_mut = {state_tokens, COUNT(state_tokens),
                                       state_gentle};

/* A place in a parsed projection: a member of an object or an element of
 * an array (borrowed references). */
typedef struct slot {
    json_t *parent;
    const char *key; /* NULL for an array element */
    size_t index;
} slot_t;

enum { MAX_SLOTS = 4096 };

static void collect(json_t *v, slot_t *slots, size_t *n)
{
    if (json_is_object(v)) {
        const char *key;
        json_t *m;
        json_object_foreach(v, key, m)
        {
            if (*n < MAX_SLOTS)
                slots[(*n)++] = (slot_t){v, key, 0};
            collect(m, slots, n);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (*n < MAX_SLOTS)
                slots[(*n)++] = (slot_t){v, NULL, i};
            collect(json_array_get(v, i), slots, n);
        }
    }
}

static json_t *slot_get(const slot_t *s)
{
    return s->key ? json_object_get(s->parent, s->key)
                  : json_array_get(s->parent, s->index);
}

/* Replaces the value at s (takes the reference to v). */
static void slot_set(const slot_t *s, json_t *v)
{
    if (s->key)
        json_object_set_new(s->parent, s->key, v);
    else
        json_array_set_new(s->parent, s->index, v);
}

/* Values the loader must tell apart: bounds, wrong types, enum names. */
static json_t *odd_value(void)
{
    switch (th_fuzz_below(14)) {
    case 0:
        return json_integer(0);
    case 1:
        return json_integer(-1);
    case 2:
        return json_integer(9007199254740991LL);
    case 3:
        return json_integer(9007199254740992LL);
    case 4:
        return json_real(1.0);
    case 5:
        return json_string("");
    case 6:
        return json_string("OPEN");
    case 7:
        return json_string("READY");
    case 8:
        return json_true();
    case 9:
        return json_null();
    case 10:
        return json_object();
    case 11:
        return json_array();
    case 12:
        return json_integer((json_int_t)th_fuzz_below(5000));
    default:
        return json_string("1-0-0000000000000001");
    }
}

/* Tree-level mutations of a projection, written back as text: replace a
 * value with an odd one or with a copy of another value (which makes
 * duplicate roles, ids and agents), delete, duplicate or swap elements,
 * rename a member. These reach the loader's semantic checks, which text
 * mutations mostly stop short of. */
static void mutate_tree(sw_buf_t *out, const char *in, size_t len)
{
    json_error_t je;
    json_t *root = json_loadb(in, len, 0, &je);
    SW_ASSERT(root != NULL);
    static slot_t slots[MAX_SLOTS];
    unsigned rounds = 1 + (unsigned)th_fuzz_below(2);
    for (unsigned r = 0; r < rounds; r++) {
        size_t n = 0;
        collect(root, slots, &n);
        if (n == 0)
            break;
        const slot_t *s = &slots[th_fuzz_below(n)];
        switch (th_fuzz_below(6)) {
        case 0:
            slot_set(s, odd_value());
            break;
        case 1: { /* copy of another value */
            json_t *o = json_deep_copy(slot_get(&slots[th_fuzz_below(n)]));
            slot_set(s, o);
            break;
        }
        case 2: /* delete */
            if (s->key)
                json_object_del(s->parent, s->key);
            else
                json_array_remove(s->parent, s->index);
            break;
        case 3: { /* duplicate: an element again, a member under a new name */
            json_t *c = json_deep_copy(slot_get(s));
            if (s->key) {
                char k[160];
                snprintf(k, sizeof k, "%.120s%c", s->key,
                         "xZ\x01"[th_fuzz_below(3)]);
                json_object_set_new(s->parent, k, c);
            } else {
                json_array_insert_new(s->parent, th_fuzz_below(s->index + 1),
                                      c);
            }
            break;
        }
        case 4: /* swap two elements of an array */
            if (!s->key && json_array_size(s->parent) > 1) {
                size_t j = th_fuzz_below(json_array_size(s->parent));
                json_t *a = json_incref(json_array_get(s->parent, s->index));
                json_t *b = json_incref(json_array_get(s->parent, j));
                json_array_set_new(s->parent, s->index, b);
                json_array_set_new(s->parent, j, a);
            }
            break;
        default: /* rename a member to another member's name */
            if (s->key) {
                const slot_t *o = &slots[th_fuzz_below(n)];
                if (o->key && strcmp(o->key, s->key) != 0) {
                    char k[256];
                    snprintf(k, sizeof k, "%s", o->key);
                    json_t *v = json_incref(slot_get(s));
                    json_object_del(s->parent, s->key);
                    json_object_set_new(s->parent, k, v);
                }
            }
            break;
        }
    }
    char *t = json_dumps(root, JSON_COMPACT |
                                   (th_fuzz_below(2) ? JSON_SORT_KEYS : 0));
    SW_ASSERT(t != NULL);
    sw_buf_reset(out);
    sw_buf_puts(out, t);
    free(t);
    json_decref(root);
}

/* jansson flags of the loaders: snapshot and genesis reject duplicate
 * members, the executor's rollback reads its own text with none; NUL in
 * strings is let through in some cases to reach the loader's own check. */
static const size_t json_flags[] = {JSON_REJECT_DUPLICATES, 0,
                                    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL};

/* Checks a loaded state: it serialises to JCS(v) exactly, its hash is the
 * SHA-256 of that, and the text loads again to the same bytes and hash. */
static void check_accepted(size_t i, sw_state_t *s, const json_t *v)
{
    size_t n;
    const char *t = sw_state_canonical(s, &n);
    sw_buf_t want = SW_BUF_INIT;
    if (!sw_canon_json(&want, v))
        fail_msg("case %zu: loaded a projection outside the JCS value space: "
                 "%s",
                 i, t);
    if (want.len != n || memcmp(want.data, t, n) != 0)
        fail_msg("case %zu: state text differs from JCS of its input\n"
                 "input: %s\nstate: %s",
                 i, want.data, t);
    char h1[65], h2[65], hv[65];
    sw_state_hash(s, h1);
    assert_true(sw_canon_hash(v, hv));
    assert_string_equal(h1, hv);

    json_error_t je;
    json_t *v2 = json_loadb(t, n, JSON_REJECT_DUPLICATES, &je);
    if (!v2)
        fail_msg("case %zu: canonical text does not parse: %s", i, je.text);
    swoosh_error err = {0};
    sw_state_t *back = sw_state_from_json(v2, &err);
    if (!back)
        fail_msg("case %zu: canonical text of a loaded state is refused: %s", i,
                 err.msg);
    size_t n2;
    const char *t2 = sw_state_canonical(back, &n2);
    assert_int_equal(n, n2);
    assert_memory_equal(t, t2, n);
    sw_state_hash(back, h2);
    assert_string_equal(h1, h2);
    sw_state_free(back);
    json_decref(v2);
    sw_buf_free(&want);
}

/* Every state seed loads back to its own text. */
static void test_state_seeds_load(void **state)
{
    seeds_t *sd = *state;
    for (int k = 0; k < N_STATES; k++) {
        json_error_t je;
        json_t *v = json_loadb(sd->state[k], sd->state_len[k],
                               JSON_REJECT_DUPLICATES, &je);
        assert_non_null(v);
        swoosh_error err = {0};
        sw_state_t *s = sw_state_from_json(v, &err);
        if (!s)
            fail_msg("seed %d refused: %s", k, err.msg);
        size_t n;
        const char *t = sw_state_canonical(s, &n);
        assert_int_equal(n, sd->state_len[k]);
        assert_memory_equal(t, sd->state[k], n);
        check_accepted((size_t)k, s, v);
        sw_state_free(s);
        json_decref(v);
    }
    /* The seeds differ: genesis, reduced, quarantined, handmade. */
    for (int a = 0; a < N_STATES; a++)
        for (int b = a + 1; b < N_STATES; b++)
            assert_false(sd->state_len[a] == sd->state_len[b] &&
                         memcmp(sd->state[a], sd->state[b], sd->state_len[a]) ==
                             0);
}

/* Mutated projections are refused with a message or loaded losslessly and
 * round-trip stably; loading the same object twice gives the same answer. */
static void test_state_mutations(void **state)
{
    seeds_t *sd = *state;
    const size_t rounds = th_fuzz_rounds(20000);
    size_t accepted = 0, changed = 0, rejected = 0, unparsed = 0;
    sw_buf_t text = SW_BUF_INIT;
    for (size_t i = 0; i < rounds; i++) {
        int k = (int)(i % N_STATES);
        if (th_fuzz_below(3) == 0)
            mutate_tree(&text, sd->state[k], sd->state_len[k]);
        else
            th_fuzz_mutate(&text, sd->state[k], sd->state_len[k], &state_mut);
        size_t flags = json_flags[th_fuzz_below(COUNT(json_flags))];
        json_error_t je;
        json_t *v =
            json_loadb(text.data ? text.data : "", text.len, flags, &je);
        if (!v) {
            unparsed++;
            continue;
        }
        swoosh_error e1 = {0}, e2 = {0};
        sw_state_t *s1 = sw_state_from_json(v, &e1);
        sw_state_t *s2 = sw_state_from_json(v, &e2);
        if (!s1 != !s2)
            fail_msg("case %zu: loaded once, refused once (%s%s)", i, e1.msg,
                     e2.msg);
        if (s1) {
            accepted++;
            size_t n;
            const char *t = sw_state_canonical(s1, &n);
            if (n != sd->state_len[k] || memcmp(t, sd->state[k], n) != 0)
                changed++;
            check_accepted(i, s1, v);
            char h1[65], h2[65];
            sw_state_hash(s1, h1);
            sw_state_hash(s2, h2);
            assert_string_equal(h1, h2);
        } else {
            rejected++;
            if (e1.code != SWOOSH_EINVAL || e1.msg[0] == '\0' ||
                memchr(e1.msg, '\0', sizeof e1.msg) == NULL)
                fail_msg("case %zu: refusal code %d message \"%.255s\"", i,
                         (int)e1.code, e1.msg);
            assert_string_equal(e1.msg, e2.msg);
        }
        sw_state_free(s1);
        sw_state_free(s2);
        json_decref(v);
    }
    sw_buf_free(&text);
    print_message("projections: accepted %zu (%zu changed), rejected %zu, "
                  "not JSON %zu\n",
                  accepted, changed, rejected, unparsed);
    /* Both paths must have been exercised for the checks to mean much. */
    assert_true(changed >= rounds / 20);
    assert_true(rejected >= rounds / 10);
}

/* ------------------------------------------------------------ records */

/* Fragments for records: the record's own keys and literals, numbers at
 * the 2^53 bound, hex digits of the wrong case, quotes and braces. */
static const char *const rec_tokens[] = {
    "\"}",
    "}\"",
    "0",
    "00",
    "-1",
    "9007199254740991",
    "9007199254740992",
    "99999999999999999",
    "tru",
    "A",
    "g",
    "\"applied\"",
    "\"quarantined\"",
    "\"rejected\"",
    ",\"received_at_ms\":",
    ",\"received_at_ms\":1",
    ",\"state_hash\":\"",
    ",\"proposal\":",
    ",\"outcome\":\"applied\"",
    "},\"index\":",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "\"}",
    "\xff",
    " ",
};

/* A digit or hex letter becomes another one; the t/f of a literal flips it
 * to the other boolean; "applied" and "quarantined" trade places. Most
 * records stay in the canonical shape. */
static bool rec_gentle(sw_buf_t *out, size_t at)
{
    char ch = out->data[at];
    size_t left = out->len - at;
    if (left >= 4 && memcmp(out->data + at, "true", 4) == 0) {
        th_fuzz_splice(out, at, 4, "false", 5);
        return true;
    }
    if (left >= 5 && memcmp(out->data + at, "false", 5) == 0) {
        th_fuzz_splice(out, at, 5, "true", 4);
        return true;
    }
    if (left >= 9 && memcmp(out->data + at, "\"applied\"", 9) == 0) {
        th_fuzz_splice(out, at, 9, "\"quarantined\"", 13);
        return true;
    }
    if (left >= 13 && memcmp(out->data + at, "\"quarantined\"", 13) == 0) {
        th_fuzz_splice(out, at, 13, "\"applied\"", 9);
        return true;
    }
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) {
        out->data[at] = "0123456789abcdef"[th_fuzz_below(16)];
        return true;
    }
    return false;
}

static const th_mutator_t rec_mut = {rec_tokens, COUNT(rec_tokens), rec_gentle};

static bool lower_hex64(const char *h)
{
    for (int i = 0; i < 64; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return false;
    return h[64] == '\0';
}

/* Checks an accepted record against the encoder's contract and re-encodes
 * it from its decoded members, which must give back the input bytes. */
static void check_record(size_t i, const char *rec, size_t len,
                         const sw_wal_decoded_t *d)
{
    if (!d->proposal || d->proposal < rec || d->proposal_len < 2 ||
        d->proposal_len > len || d->proposal > rec + (len - d->proposal_len))
        fail_msg("case %zu: proposal %p+%zu outside record %p+%zu", i,
                 (const void *)d->proposal, d->proposal_len, (const void *)rec,
                 len);
    assert_true(d->proposal[0] == '{');
    assert_true(d->proposal[d->proposal_len - 1] == '}');
    if (!lower_hex64(d->state_hash))
        fail_msg("case %zu: state_hash \"%.65s\"", i, d->state_hash);
    assert_true(d->outcome == SW_OUT_APPLIED ||
                d->outcome == SW_OUT_QUARANTINED);
    assert_true(d->index <= 9007199254740991ULL);
    assert_true(d->received_at_ms <= 9007199254740991ULL);
    sw_buf_t again = SW_BUF_INIT;
    sw_wal_encode_record(&again, d->index, &d->guards, d->outcome, d->proposal,
                         d->proposal_len, d->received_at_ms, d->state_hash);
    if (again.len != len || memcmp(again.data, rec, len) != 0)
        fail_msg("case %zu: accepted a record that re-encodes differently\n"
                 "input:   %.*s\nencoded: %s",
                 i, (int)len, rec, again.data);
    sw_buf_free(&again);
}

static bool same_decoded(const sw_wal_decoded_t *a, const sw_wal_decoded_t *b)
{
    return a->guards.license_ok == b->guards.license_ok &&
           a->guards.backbeat_ok == b->guards.backbeat_ok &&
           a->guards.quorum_ok == b->guards.quorum_ok &&
           a->guards.policy_ok == b->guards.policy_ok &&
           a->guards.mcp_healthy == b->guards.mcp_healthy &&
           a->index == b->index && a->outcome == b->outcome &&
           a->proposal == b->proposal && a->proposal_len == b->proposal_len &&
           a->received_at_ms == b->received_at_ms &&
           strcmp(a->state_hash, b->state_hash) == 0;
}

/* Every record seed decodes and re-encodes to itself; the reduced ones
 * include applied and quarantined outcomes. */
static void test_record_seeds_decode(void **state)
{
    seeds_t *sd = *state;
    size_t quarantined = 0;
    assert_true(sd->n_recs >= COUNT(steps));
    for (size_t k = 0; k < sd->n_recs; k++) {
        sw_wal_decoded_t d;
        char msg[256] = "";
        if (!sw_wal_decode_record(sd->recs[k].data, sd->recs[k].len, &d, msg))
            fail_msg("seed %zu refused: %s", k, msg);
        check_record(k, sd->recs[k].data, sd->recs[k].len, &d);
        quarantined += d.outcome == SW_OUT_QUARANTINED;
    }
    assert_int_equal(quarantined, 2);
}

/* Mutated records are refused with a message or accepted in exactly the
 * encoder's shape; decoding the same bytes twice gives the same answer. */
static void test_record_mutations(void **state)
{
    seeds_t *sd = *state;
    const size_t rounds = th_fuzz_rounds(120000);
    size_t accepted = 0, changed = 0, rejected = 0;
    sw_buf_t text = SW_BUF_INIT;
    for (size_t i = 0; i < rounds; i++) {
        const sw_buf_t *seed = &sd->recs[i % sd->n_recs];
        th_fuzz_mutate(&text, seed->data, seed->len, &rec_mut);
        /* An exact-size heap copy: ASan flags any read past its end. */
        size_t len = text.len;
        char *rec = sw_xmalloc(len ? len : 1);
        if (len)
            memcpy(rec, text.data, len);
        sw_wal_decoded_t d1, d2;
        char m1[256], m2[256];
        memset(m1, 'x', sizeof m1);
        memset(m2, 'y', sizeof m2);
        bool ok1 = sw_wal_decode_record(rec, len, &d1, m1);
        bool ok2 = sw_wal_decode_record(rec, len, &d2, m2);
        if (ok1 != ok2)
            fail_msg("case %zu: decoded once, refused once", i);
        if (ok1) {
            accepted++;
            if (len != seed->len || memcmp(rec, seed->data, len) != 0)
                changed++;
            check_record(i, rec, len, &d1);
            if (!same_decoded(&d1, &d2))
                fail_msg("case %zu: two decodes differ", i);
        } else {
            rejected++;
            if (memchr(m1, '\0', sizeof m1) == NULL || m1[0] == '\0')
                fail_msg("case %zu: refusal without a message", i);
            assert_string_equal(m1, m2);
        }
        free(rec);
    }
    sw_buf_free(&text);
    print_message("records: accepted %zu (%zu changed), rejected %zu\n",
                  accepted, changed, rejected);
    assert_true(changed >= rounds / 10);
    assert_true(rejected >= rounds / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_seeds_load),
        cmocka_unit_test(test_state_mutations),
        cmocka_unit_test(test_record_seeds_decode),
        cmocka_unit_test(test_record_mutations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
