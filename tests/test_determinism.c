// LABEL: unit
// TIMEOUT: 300
/* test_determinism: a seeded generator (xorshift64*, fixed seed) produces a
 * long run of mixed valid and invalid proposals over every transition,
 * biased towards what the current phase allows so that most phases are
 * visited and many proposals apply. The run is applied twice from genesis:
 * the second pass regenerates it from the seed and, at random points,
 * replaces its state by a clone or by a state re-parsed from its canonical
 * JSON. Hashes must agree at every step; at random points the cached hash
 * must equal one computed from scratch (stale caches) and a serialise/parse
 * round trip must preserve it (SPEC §1.2, §1.5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "statecheck.h"
#include "catalog.h"
#include "proposal.h"
#include "reducer.h"
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED  0x5eed5300d5ull
#define STEPS 12000

typedef struct rng {
    uint64_t s;
} rng_t;

/* xorshift64* (Vigna): small, fast, good enough for test generation. */
static uint64_t rnd(rng_t *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

static unsigned below(rng_t *r, unsigned n)
{
    return (unsigned)(rnd(r) % n);
}

static bool chance(rng_t *r, unsigned percent)
{
    return below(r, 100) < percent;
}

static json_t *pick_id(rng_t *r, const char *prefix, unsigned n)
{
    char b[32];
    snprintf(b, sizeof b, "%s%u", prefix, below(r, n));
    return json_string(b);
}

/* Weight of a transition in the current state: what the phase allows is
 * likely, escape hatches from pause/quarantine/unlicensed are very likely,
 * disruptive Control transitions are rare. */
static unsigned weight(const sw_state_t *s, const sw_catalog_entry_t *e)
{
    const char *n = e->name;
    if (strcmp(n, "LICENSE_GRANTED") == 0)
        return s->boot.licensed ? 1 : 60;
    if (strcmp(n, "CONTROL_RESUME") == 0)
        return s->control.paused ? 60 : 1;
    if (strcmp(n, "QUARANTINE_RELEASE") == 0)
        return s->control.quarantined ? 60 : 1;
    if (strcmp(n, "RECOVERY_COMPLETE") == 0)
        return s->control.recovering ? 20 : 1;
    if (strcmp(n, "POLICY_UPDATED") == 0)
        return 2;
    if (e->phase_section == SW_SEC__COUNT)
        return 1;
    if (e->phases & (1u << sw_state_phase(s, e->phase_section))) {
        if (strcmp(n, "EXECUTION_TASK_CREATED") == 0 ||
            strcmp(n, "EXECUTION_TASK_CLAIMED") == 0 ||
            strcmp(n, "EXECUTION_TASK_COMPLETE") == 0)
            return 25;
        if (strcmp(n, "ENV_HEALTH_RED") == 0 ||
            strcmp(n, "ENV_RELEASED") == 0 ||
            strcmp(n, "INGESTION_FAILED") == 0)
            return 4;
        return 12;
    }
    return 1;
}

static const char *council_id(rng_t *r, const sw_state_t *s)
{
    return chance(r, 92) ? s->council.council_id : "c9";
}

static json_t *window_field(rng_t *r, const sw_state_t *s)
{
    unsigned x = below(r, 100);
    if (x < 80)
        return NULL;
    if (x < 95)
        return json_string(s->execution.active_window_id);
    return pick_id(r, "w", 4);
}

static const char *existing_task(rng_t *r, const sw_state_t *s)
{
    if (s->execution.tasks.n == 0 || chance(r, 10))
        return NULL;
    return s->execution.tasks.items[below(r, (unsigned)s->execution.tasks.n)]
        ->id;
}

/* Builds the payload of transition `t` for state s; sometimes invalid. */
static json_t *gen_payload(rng_t *r, const sw_state_t *s, const char *t,
                           const char **signer)
{
    json_t *p = json_object();
    char b[64];
    if (strcmp(t, "LICENSE_GRANTED") == 0) {
        if (chance(r, 50))
            json_object_set_new(p, "license_id", pick_id(r, "lic", 3));
        if (chance(r, 30))
            json_object_set_new(p, "node_id", pick_id(r, "node", 3));
    } else if (strcmp(t, "INGESTION_STARTED") == 0) {
        json_t *src = json_array();
        unsigned n = 1 + below(r, 3);
        for (unsigned i = 0; i < n; i++) {
            snprintf(b, sizeof b, "s%u", chance(r, 3) ? 0 : i);
            json_array_append_new(src, json_pack("{s:s, s:o}", "id", b, "uri",
                                                 pick_id(r, "ucxl://x/", 9)));
        }
        json_object_set_new(p, "sources", src);
    } else if (strcmp(t, "INGESTION_FETCHED") == 0) {
        json_object_set_new(p, "content_hash", pick_id(r, "h", 1000));
    } else if (strcmp(t, "INGESTION_FAILED") == 0 ||
               strcmp(t, "ENV_HEALTH_RED") == 0 ||
               strcmp(t, "QUARANTINE_ENTER") == 0) {
        json_object_set_new(p, "reason", pick_id(r, "reason ", 5));
    } else if (strcmp(t, "COUNCIL_PROFILES_LOADED") == 0) {
        json_object_set_new(p, "council_id", pick_id(r, "c", 3));
        json_t *roles = json_array();
        unsigned n = 1 + below(r, 5), start = below(r, 2);
        for (unsigned i = 0; i < n; i++) {
            snprintf(b, sizeof b, "r%u", start + i);
            json_array_append_new(roles, json_pack("{s:s, s:b}", "role", b,
                                                   "required", chance(r, 60)));
        }
        json_object_set_new(p, "roles", roles);
        if (chance(r, 40))
            json_object_set_new(p, "quorum", json_integer(1 + below(r, n + 1)));
    } else if (strcmp(t, "COUNCIL_ROLE_CLAIMED") == 0) {
        json_object_set_new(p, "council_id", json_string(council_id(r, s)));
        if (s->council.n_roles && chance(r, 85))
            json_object_set_new(
                p, "role",
                json_string(
                    s->council.roles[below(r, (unsigned)s->council.n_roles)]
                        .role));
        else
            json_object_set_new(p, "role", pick_id(r, "r", 8));
        json_object_set_new(p, "agent_id", pick_id(r, "a", 12));
    } else if (strcmp(t, "COUNCIL_ROLE_RELEASED") == 0) {
        json_object_set_new(p, "council_id", json_string(council_id(r, s)));
        if (s->council.n_members && chance(r, 60))
            json_object_set_new(
                p, "agent_id",
                json_string(
                    s->council.members[below(r, (unsigned)s->council.n_members)]
                        .agent_id));
        else
            json_object_set_new(p, "agent_id", pick_id(r, "a", 12));
    } else if (strcmp(t, "COUNCIL_QUORUM_CERT") == 0) {
        json_object_set_new(p, "council_id", json_string(council_id(r, s)));
        json_object_set_new(p, "cert_hash", pick_id(r, "cert", 100));
    } else if (strcmp(t, "COUNCIL_ELECT_COMPLETE") == 0 ||
               strcmp(t, "COUNCIL_TOOLING_SYNCED") == 0) {
        json_object_set_new(p, "council_id", json_string(council_id(r, s)));
    } else if (strcmp(t, "COUNCIL_DISSOLVED") == 0) {
        if (chance(r, 50))
            json_object_set_new(p, "council_id", pick_id(r, "c", 3));
    } else if (strcmp(t, "ENV_ALLOCATION_REQUESTED") == 0) {
        json_t *res = json_object();
        unsigned n = below(r, 4);
        for (unsigned i = 0; i < n; i++) {
            snprintf(b, sizeof b, "k%u", below(r, 6));
            json_object_set_new(res, b, pick_id(r, "v", 10));
        }
        json_object_set_new(p, "resources", res);
    } else if (strcmp(t, "EXECUTION_WINDOW_OPENED") == 0) {
        json_object_set_new(p, "window_id", pick_id(r, "w", 4));
    } else if (strcmp(t, "EXECUTION_REVIEW_FAILED") == 0 ||
               strcmp(t, "CONTROL_PAUSE") == 0 ||
               strcmp(t, "CONTROL_RESUME") == 0) {
        if (chance(r, 50))
            json_object_set_new(p, "reason", pick_id(r, "why", 3));
    } else if (strcmp(t, "EXECUTION_APPROVAL") == 0) {
        if (s->council.n_members && chance(r, 75))
            *signer =
                s->council.members[below(r, (unsigned)s->council.n_members)]
                    .agent_id;
    } else if (strcmp(t, "EXECUTION_TASK_CREATED") == 0) {
        json_object_set_new(p, "task_id", pick_id(r, "t", 60));
        json_object_set_new(p, "title", pick_id(r, "Task ", 5));
    } else if (strcmp(t, "EXECUTION_TASK_CLAIMED") == 0 ||
               strcmp(t, "EXECUTION_TASK_RELEASED") == 0 ||
               strcmp(t, "EXECUTION_TASK_COMPLETE") == 0 ||
               strcmp(t, "EXECUTION_TASK_FAILED") == 0) {
        const char *id = existing_task(r, s);
        json_object_set_new(p, "task_id",
                            id ? json_string(id) : pick_id(r, "t", 60));
        sw_task_t *tk = id ? sw_tasks_find(&s->execution.tasks, id) : NULL;
        if (tk && tk->claimant[0] && chance(r, 80))
            json_object_set_new(p, "agent_id", json_string(tk->claimant));
        else
            json_object_set_new(p, "agent_id", pick_id(r, "a", 12));
        if (strcmp(t, "EXECUTION_TASK_FAILED") == 0)
            json_object_set_new(p, "reason", pick_id(r, "err", 4));
        if (strcmp(t, "EXECUTION_TASK_COMPLETE") == 0 && chance(r, 70))
            json_object_set_new(p, "result", pick_id(r, "res", 4));
    } else if (strcmp(t, "POLICY_UPDATED") == 0) {
        if (chance(r, 30))
            json_object_set_new(p, "approval_threshold",
                                json_integer(1 + below(r, 3)));
        if (chance(r, 30))
            json_object_set_new(
                p, "max_tasks",
                json_integer(chance(r, 20) ? 3 : 20 + below(r, 60)));
        if (chance(r, 30))
            json_object_set_new(p, "max_members",
                                json_integer(2 + below(r, 10)));
        if (chance(r, 20))
            json_object_set_new(p, "max_clock_skew_ms",
                                json_integer(1000 + below(r, 600000)));
        if (chance(r, 25)) {
            json_t *adm = json_array();
            if (chance(r, 50))
                json_array_append_new(adm, json_string("root"));
            json_object_set_new(p, "admins", adm);
        }
        if (chance(r, 25))
            json_object_set_new(p, "params",
                                json_pack("{s:o}", "mode", pick_id(r, "m", 3)));
    }
    /* Occasionally damage the payload: an unknown field. */
    if (chance(r, 2))
        json_object_set_new(p, "bogus", json_true());
    return p;
}

typedef struct gen {
    char *body;
    sw_guards_t g;
    uint64_t hlc_p, recv;
} gen_t;

/* Generates step i's proposal body, guards, HLC and receive time. */
static void generate(rng_t *r, const sw_state_t *s, uint64_t *clock, unsigned i,
                     gen_t *out)
{
    size_t n;
    const sw_catalog_entry_t *all = sw_catalog_all(&n);
    unsigned total = 0, w[64];
    for (size_t k = 0; k < n; k++)
        total += (w[k] = weight(s, &all[k]));
    unsigned x = below(r, total);
    size_t k = 0;
    while (x >= w[k])
        x -= w[k++];
    const char *t = all[k].name;
    const char *signer = chance(r, 60) ? "root" : "op";
    json_t *pl = gen_payload(r, s, t, &signer);
    json_t *o = json_object();
    json_object_set_new(o, "transition",
                        json_string(chance(r, 1) ? "NOT_A_TRANSITION" : t));
    json_object_set_new(o, "signer", json_string(signer));
    char key[32];
    snprintf(key, sizeof key, "k%u", i);
    json_object_set_new(o, "idem_key", json_string(key));
    if (json_object_size(pl) || chance(r, 30))
        json_object_set_new(o, "payload", pl);
    else
        json_decref(pl);
    if (all[k].flags & SW_T_WINDOW) {
        json_t *wf = window_field(r, s);
        if (wf)
            json_object_set_new(o, "window_id", wf);
    }
    out->body = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    out->g = SW_GUARDS_ALL_OK;
    unsigned gx = below(r, 100);
    if (gx < 1)
        out->g.policy_ok = false;
    else if (gx < 3)
        out->g.license_ok = false;
    else if (gx < 5)
        out->g.backbeat_ok = false;
    else if (gx < 7)
        out->g.quorum_ok = false;
    else if (gx < 9)
        out->g.mcp_healthy = false;

    *clock += 1 + below(r, 50);
    out->recv = *clock;
    unsigned hx = below(r, 100);
    if (hx < 3)
        out->hlc_p = *clock + s->policy.max_clock_skew_ms + 1 + below(r, 9);
    else if (hx < 8)
        out->hlc_p = *clock - below(r, 100000);
    else
        out->hlc_p = *clock + below(r, 1000);
}

/* Parses and applies one generated step; returns the outcome, or -1 when
 * the body fails step 1 (nothing reaches the reducer). */
static int apply(sw_state_t *s, const gen_t *gn, unsigned i, sw_result_t *res)
{
    sw_proposal_t p;
    char msg[256];
    if (sw_proposal_parse(gn->body, strlen(gn->body), &p, msg) != SW_C_OK)
        return -1;
    sw_hlc_t h = {gn->hlc_p, 0, 1 + (i % 3)};
    sw_proposal_set_hlc(&p, &h);
    sw_reduce(s, &p, &gn->g, gn->recv, res);
    sw_proposal_destroy(&p);
    return (int)res->outcome;
}

/* Serialises and re-parses s; the copy must have the same canonical bytes
 * and hash. Returns the copy (caller owns). */
static sw_state_t *round_trip(sw_state_t *s)
{
    size_t len;
    const char *txt = sw_state_canonical(s, &len);
    json_error_t jerr;
    json_t *j = json_loadb(txt, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        fail_msg("canonical state does not parse: %s", jerr.text);
    swoosh_error err;
    memset(&err, 0, sizeof err);
    sw_state_t *c = sw_state_from_json(j, &err);
    json_decref(j);
    if (!c)
        fail_msg("canonical state does not load: %s", err.msg);
    char a[65], b[65];
    sw_state_hash(s, a);
    sw_state_hash(c, b);
    assert_string_equal(a, b);
    size_t len2;
    const char *txt2 = sw_state_canonical(c, &len2);
    txt = sw_state_canonical(s, &len);
    assert_int_equal(len, len2);
    assert_memory_equal(txt, txt2, len);
    return c;
}

/* Two passes over the same seeded run agree hash for hash, with caches,
 * clones and serialisation round trips in between; rejections never change
 * the state and logged outcomes advance the index by one. */
static void test_replay_twice(void **unused)
{
    (void)unused;
    char(*hashes)[65] = calloc(STEPS, sizeof *hashes);
    size_t n;
    const sw_catalog_entry_t *all = sw_catalog_all(&n);
    unsigned applied_by[64] = {0};
    unsigned applied = 0, quarantined = 0, rejected = 0, bad = 0;
    unsigned codes[SW_C__COUNT] = {0};
    bool seen[SW_SEC__COUNT][8] = {{false}};

    /* Pass 1. */
    rng_t r = {SEED}, pick = {SEED ^ 0x9e3779b97f4a7c15ull};
    uint64_t clock = 1700000000000ull;
    sw_state_t *s = sw_state_new_genesis();
    for (unsigned i = 0; i < STEPS; i++) {
        gen_t gn;
        generate(&r, s, &clock, i, &gn);
        char before[65];
        sw_state_hash(s, before);
        uint64_t idx = s->meta.index;
        sw_result_t res;
        int out = apply(s, &gn, i, &res);
        sw_state_hash(s, hashes[i]);
        if (out < 0) {
            bad++;
            assert_string_equal(before, hashes[i]);
        } else if (out == SW_OUT_REJECTED) {
            rejected++;
            codes[res.code]++;
            assert_string_equal(before, hashes[i]);
            assert_int_equal(s->meta.index, idx);
        } else {
            assert_int_equal(s->meta.index, idx + 1);
            if (out == SW_OUT_APPLIED) {
                applied++;
                applied_by[sw_catalog_find(s->meta.last_transition) - all]++;
            } else {
                quarantined++;
            }
        }
        for (int sec = SW_SEC_COUNCIL; sec <= SW_SEC_INGESTION; sec++)
            if (sec != SW_SEC_BOOT && sec != SW_SEC_CONTROL)
                seen[sec][sw_state_phase(s, (sw_section_t)sec)] = true;
        if (below(&pick, 40) == 0) {
            char fresh[65];
            th_scratch_hash(s, fresh);
            assert_string_equal(hashes[i], fresh);
        }
        if (below(&pick, 150) == 0)
            sw_state_free(round_trip(s));
        free(gn.body);
    }
    sw_state_free(s);

    /* Pass 2: same seed, state swapped for clones and re-parsed copies. */
    r = (rng_t){SEED};
    pick = (rng_t){SEED ^ 0x1234567ull};
    clock = 1700000000000ull;
    s = sw_state_new_genesis();
    for (unsigned i = 0; i < STEPS; i++) {
        gen_t gn;
        generate(&r, s, &clock, i, &gn);
        sw_result_t res;
        apply(s, &gn, i, &res);
        free(gn.body);
        unsigned what = below(&pick, 100);
        if (what < 3) {
            sw_state_t *c = sw_state_clone(s);
            sw_state_free(s);
            s = c;
        } else if (what < 5) {
            sw_state_t *c = round_trip(s);
            sw_state_free(s);
            s = c;
        }
        char h[65];
        sw_state_hash(s, h);
        if (strcmp(h, hashes[i]) != 0)
            fail_msg("step %u: pass 2 hash %s differs from pass 1 %s", i, h,
                     hashes[i]);
    }
    sw_state_free(s);
    free(hashes);

    print_message("determinism: %u steps, %u applied, %u quarantined, %u "
                  "rejected, %u failed step 1\n",
                  STEPS, applied, quarantined, rejected, bad);
    /* The generator's bias works: many apply, every transition applies at
     * least once, every phase of every section is visited, and the run
     * exercises the main rejection codes. */
    assert_true(applied >= STEPS / 3);
    assert_true(quarantined > 0 && bad > 0);
    for (size_t k = 0; k < n; k++)
        if (applied_by[k] == 0)
            fail_msg("%s never applied", all[k].name);
    static const int counts[] = {[SW_SEC_COUNCIL] = SW_CNC__COUNT,
                                 [SW_SEC_ENVIRONMENT] = SW_ENV__COUNT,
                                 [SW_SEC_EXECUTION] = SW_EXE__COUNT,
                                 [SW_SEC_INGESTION] = SW_ING__COUNT};
    for (int sec = SW_SEC_COUNCIL; sec <= SW_SEC_INGESTION; sec++)
        for (int ph = 0; ph < counts[sec]; ph++)
            if (counts[sec] && !seen[sec][ph])
                fail_msg("phase %s of %s never visited",
                         sw_phase_name((sw_section_t)sec, ph),
                         sw_section_name((sw_section_t)sec));
    static const sw_code_t want[] = {
        SW_C_HLC_SKEW,         SW_C_PAUSED,        SW_C_QUARANTINED,
        SW_C_GUARD_REJECTED,   SW_C_INVALID_PHASE, SW_C_WINDOW_MISMATCH,
        SW_C_COUNCIL_MISMATCH, SW_C_UNKNOWN_TASK,  SW_C_NOT_CLAIMANT,
        SW_C_ROLE_TAKEN,       SW_C_TASK_EXISTS};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        if (codes[want[k]] == 0)
            fail_msg("%s never produced", sw_code_name(want[k]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
