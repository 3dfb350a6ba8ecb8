// LABEL: unit
// TIMEOUT: 120
/* test_reducer: SPEC §5 steps 4–7 and every transition's effect. Most cases
 * are rows of one table: a setup (chunks of proposals that must all apply),
 * a proposal, the guard outcome, and the expected code and phase after. A
 * rejected row must leave the state hash unchanged; every row's hash is also
 * recomputed from scratch to catch stale caches. Step 4–6 codes are checked
 * for every catalogued transition by loops over the catalog. */
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

#define RECV  1700000000000ull /* received_at_ms used everywhere */
#define SKEW0 300000ull        /* genesis Policy.MaxClockSkewMs */

typedef struct step {
    const char *t;       /* transition */
    const char *payload; /* JSON text or NULL */
    const char *signer;  /* NULL = "op" */
    const char *window;  /* top-level window_id or NULL */
} step_t;

/* Guard switches for a row: which guards are false. */
enum { OFF_L = 1, OFF_B = 2, OFF_Q = 4, OFF_M = 8, OFF_P = 16 };

typedef struct row {
    const char *what;
    const step_t *const *setup;  /* NULL-terminated list of chunks */
    void (*prep)(sw_state_t *s); /* state a transition cannot reach */
    step_t prop;
    unsigned off;
    sw_code_t code;
    sw_section_t sec; /* section whose phase is checked after */
    int phase;
    void (*post)(sw_state_t *s); /* extra checks on the state after */
} row_t;

static unsigned idem_counter;
static uint64_t hlc_counter;

static sw_guards_t guards_with(unsigned off)
{
    sw_guards_t g = SW_GUARDS_ALL_OK;
    g.license_ok = !(off & OFF_L);
    g.backbeat_ok = !(off & OFF_B);
    g.quorum_ok = !(off & OFF_Q);
    g.mcp_healthy = !(off & OFF_M);
    g.policy_ok = !(off & OFF_P);
    return g;
}

/* Builds a proposal from JSON text with a fresh idem_key and the given HLC
 * physical part (0 = the next of a counter just behind RECV). */
static void mkprop(const step_t *st, uint64_t hlc_p, sw_proposal_t *p)
{
    char body[8192], msg[256];
    int n = snprintf(
        body, sizeof body,
        "{\"transition\":\"%s\",\"signer\":\"%s\",\"idem_key\":\"k%u\"%s%s%s%s%"
        "s}",
        st->t, st->signer ? st->signer : "op", ++idem_counter,
        st->payload ? ",\"payload\":" : "", st->payload ? st->payload : "",
        st->window ? ",\"window_id\":\"" : "", st->window ? st->window : "",
        st->window ? "\"" : "");
    assert_true(n > 0 && (size_t)n < sizeof body);
    sw_code_t c = sw_proposal_parse(body, (size_t)n, p, msg);
    if (c != SW_C_OK)
        fail_msg("parse of %s failed: %s %s", body, sw_code_name(c), msg);
    sw_hlc_t h = {hlc_p ? hlc_p : RECV - 1000000 + (++hlc_counter), 0, 1};
    sw_proposal_set_hlc(p, &h);
}

static sw_code_t run(sw_state_t *s, const step_t *st, unsigned off,
                     uint64_t hlc_p, sw_result_t *r)
{
    sw_proposal_t p;
    sw_guards_t g = guards_with(off);
    mkprop(st, hlc_p, &p);
    sw_reduce(s, &p, &g, RECV, r);
    sw_proposal_destroy(&p);
    return r->code;
}

/* Applies one step that must apply. */
static void must(sw_state_t *s, const step_t *st)
{
    sw_result_t r;
    run(s, st, 0, 0, &r);
    if (r.outcome != SW_OUT_APPLIED)
        fail_msg("setup step %s: %s %s", st->t, sw_code_name(r.code), r.msg);
}

static sw_state_t *build(const step_t *const *setup)
{
    sw_state_t *s = sw_state_new_genesis();
    for (size_t i = 0; setup && setup[i]; i++)
        for (const step_t *st = setup[i]; st->t; st++)
            must(s, st);
    return s;
}

/* ------------------------------------------------------------ chunks */

#define END                                                                    \
    {                                                                          \
        NULL, NULL, NULL, NULL                                                 \
    }
#define ROLES3                                                                 \
    "[{\"role\":\"lead\",\"required\":true},{\"role\":\"dev\",\"required\":"   \
    "true},{\"role\":\"qa\",\"required\":false}]"

static const step_t C_LIC[] = {
    {"LICENSE_GRANTED", "{\"license_id\":\"lic-1\"}", NULL, NULL}, END};
static const step_t C_PROF[] = {
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c1\",\"roles\":" ROLES3 ",\"quorum\":2}", NULL, NULL},
    END};
static const step_t C_PROF_Q3[] = {
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c1\",\"roles\":" ROLES3 ",\"quorum\":3}", NULL, NULL},
    END};
static const step_t C_FILL[] = {
    {"COUNCIL_ROLE_CLAIMED",
     "{\"council_id\":\"c1\",\"role\":\"lead\",\"agent_id\":\"a1\"}", NULL,
     NULL},
    {"COUNCIL_ROLE_CLAIMED",
     "{\"council_id\":\"c1\",\"role\":\"dev\",\"agent_id\":\"a2\"}", NULL,
     NULL},
    END};
static const step_t C_QA[] = {
    {"COUNCIL_ROLE_CLAIMED",
     "{\"council_id\":\"c1\",\"role\":\"qa\",\"agent_id\":\"a3\"}", NULL, NULL},
    END};
static const step_t C_CERT[] = {
    {"COUNCIL_QUORUM_CERT", "{\"council_id\":\"c1\",\"cert_hash\":\"cert1\"}",
     NULL, NULL},
    END};
static const step_t C_ELECTED[] = {
    {"COUNCIL_ELECT_COMPLETE", "{\"council_id\":\"c1\"}", NULL, NULL}, END};
static const step_t C_SYNCED[] = {
    {"COUNCIL_TOOLING_SYNCED", "{\"council_id\":\"c1\"}", NULL, NULL}, END};
static const step_t C_ENV1[] = {
    {"ENV_ALLOCATION_REQUESTED",
     "{\"resources\":{\"mem\":\"8Gi\",\"cpu\":\"4\"}}", NULL, NULL},
    END};
static const step_t C_ENV2[] = {{"ENV_ALLOCATED", NULL, NULL, NULL}, END};
static const step_t C_ENV3[] = {{"ENV_PROVISIONED", NULL, NULL, NULL}, END};
static const step_t C_ENV4[] = {{"ENV_HEALTH_GREEN", NULL, NULL, NULL}, END};
static const step_t C_RED[] = {
    {"ENV_HEALTH_RED", "{\"reason\":\"disk\"}", NULL, NULL}, END};
static const step_t C_ING1[] = {
    {"INGESTION_STARTED",
     "{\"sources\":[{\"id\":\"s1\",\"uri\":\"ucxl://a\"}]}", NULL, NULL},
    END};
static const step_t C_ING2[] = {
    {"INGESTION_FETCHED", "{\"content_hash\":\"abc\"}", NULL, NULL}, END};
static const step_t C_ING3[] = {{"INGESTION_VALIDATED", NULL, NULL, NULL}, END};
static const step_t C_ING4[] = {{"INGESTION_INDEXED", NULL, NULL, NULL}, END};
static const step_t C_WIN[] = {
    {"EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w1\"}", NULL, NULL}, END};
static const step_t C_TASKS[] = {
    {"EXECUTION_TASK_CREATED", "{\"task_id\":\"t1\",\"title\":\"One\"}", NULL,
     NULL},
    {"EXECUTION_TASK_CREATED", "{\"task_id\":\"t2\",\"title\":\"Two\"}", NULL,
     NULL},
    {"EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t2\",\"agent_id\":\"a1\"}", NULL,
     NULL},
    END};
static const step_t C_LOCK[] = {{"EXECUTION_PLAN_LOCKED", NULL, NULL, NULL},
                                END};
static const step_t C_REVIEW[] = {
    {"EXECUTION_REVIEW_STARTED", NULL, NULL, NULL}, END};
static const step_t C_APPROVE[] = {{"EXECUTION_APPROVAL", NULL, "a1", NULL},
                                   END};
static const step_t C_PASS[] = {{"EXECUTION_REVIEW_PASSED", NULL, NULL, NULL},
                                END};
static const step_t C_ADMINS[] = {
    {"POLICY_UPDATED", "{\"admins\":[\"root\"]}", NULL, NULL}, END};
static const step_t C_MAXM2[] = {
    {"POLICY_UPDATED", "{\"max_members\":2}", NULL, NULL}, END};
static const step_t C_MAXT2[] = {
    {"POLICY_UPDATED", "{\"max_tasks\":2}", NULL, NULL}, END};
static const step_t C_PAUSE[] = {{"CONTROL_PAUSE", NULL, NULL, NULL}, END};
static const step_t C_QUAR[] = {
    {"QUARANTINE_ENTER", "{\"reason\":\"incident\"}", NULL, NULL}, END};
static const step_t C_RECOV[] = {{"RECOVERY_STARTED", NULL, NULL, NULL}, END};

#define SETUP(...)                                                             \
    (const step_t *const[])                                                    \
    {                                                                          \
        __VA_ARGS__, NULL                                                      \
    }
#define S0   NULL
#define SL   SETUP(C_LIC)
#define SE   SETUP(C_LIC, C_PROF)
#define SF   SETUP(C_LIC, C_PROF, C_FILL)
#define SC   SETUP(C_LIC, C_PROF, C_FILL, C_CERT)
#define ST   SETUP(C_LIC, C_PROF, C_FILL, C_CERT, C_ELECTED)
#define SCR  SETUP(C_LIC, C_PROF, C_FILL, C_CERT, C_ELECTED, C_SYNCED)
#define CENV C_ENV1, C_ENV2, C_ENV3, C_ENV4
#define CCR  C_LIC, C_PROF, C_FILL, C_CERT, C_ELECTED, C_SYNCED
#define SCE  SETUP(CCR, CENV)
#define SP   SETUP(CCR, CENV, C_WIN)
#define SPT  SETUP(CCR, CENV, C_WIN, C_TASKS)
#define SW   SETUP(CCR, CENV, C_WIN, C_TASKS, C_LOCK)
#define SR   SETUP(CCR, CENV, C_WIN, C_TASKS, C_LOCK, C_REVIEW)
#define SRA  SETUP(CCR, CENV, C_WIN, C_TASKS, C_LOCK, C_REVIEW, C_APPROVE)
#define SRV                                                                    \
    SETUP(CCR, CENV, C_WIN, C_TASKS, C_LOCK, C_REVIEW, C_APPROVE, C_PASS)
#define SEA SETUP(C_LIC, C_ENV1)
#define SEP SETUP(C_LIC, C_ENV1, C_ENV2)
#define SEH SETUP(C_LIC, C_ENV1, C_ENV2, C_ENV3)
#define SER SETUP(C_LIC, CENV)
#define SED SETUP(C_LIC, CENV, C_RED)
#define SIF SETUP(C_LIC, C_ING1)
#define SIV SETUP(C_LIC, C_ING1, C_ING2)
#define SII SETUP(C_LIC, C_ING1, C_ING2, C_ING3)
#define SIR SETUP(C_LIC, C_ING1, C_ING2, C_ING3, C_ING4)

#define P(t, pl)                                                               \
    {                                                                          \
        t, pl, NULL, NULL                                                      \
    }
#define PS(t, pl, signer)                                                      \
    {                                                                          \
        t, pl, signer, NULL                                                    \
    }
#define PW(t, pl, win)                                                         \
    {                                                                          \
        t, pl, NULL, win                                                       \
    }

/* Sections for the phase after. */
#define ING  SW_SEC_INGESTION
#define CNC  SW_SEC_COUNCIL
#define ENV  SW_SEC_ENVIRONMENT
#define EXE  SW_SEC_EXECUTION
#define NONE SW_SEC__COUNT, 0

/* -------------------------------------------------------- post checks */

static void post_licensed(sw_state_t *s)
{
    assert_true(s->boot.licensed);
    assert_string_equal(s->boot.license_id, "lic-2");
    assert_string_equal(s->boot.node_id, "n-1");
}
static void post_revoked(sw_state_t *s)
{
    assert_false(s->boot.licensed);
    assert_string_equal(s->boot.license_id, "lic-1");
}
static void post_ing_started(sw_state_t *s)
{
    assert_int_equal(s->ingestion.n_sources, 2);
    assert_string_equal(s->ingestion.sources[0].id, "s9");
    assert_string_equal(s->ingestion.sources[1].uri, "u2");
    assert_int_equal(s->ingestion.epoch, 2);
    assert_string_equal(s->ingestion.content_hash, "");
    assert_string_equal(s->ingestion.last_error, "");
}
static void post_ing_fetched(sw_state_t *s)
{
    assert_string_equal(s->ingestion.content_hash, "h42");
}
static void post_ing_failed(sw_state_t *s)
{
    assert_string_equal(s->ingestion.last_error, "boom");
}
static void post_profiles(sw_state_t *s)
{
    assert_string_equal(s->council.council_id, "c1");
    assert_int_equal(s->council.n_roles, 3);
    assert_string_equal(s->council.roles[1].role, "dev");
    assert_true(s->council.roles[1].required);
    assert_false(s->council.roles[2].required);
    assert_int_equal(s->council.quorum, 2);
}
static void post_profiles_default(sw_state_t *s)
{
    /* Two required roles of three: the default quorum is 2. */
    assert_int_equal(s->council.quorum, 2);
}
static void post_claimed(sw_state_t *s)
{
    sw_member_t *m = &s->council.members[s->council.n_members - 1];
    assert_string_equal(m->role, "qa");
    assert_string_equal(m->agent_id, "a3");
    assert_int_equal(m->joined_index, s->meta.index);
}
static void post_released_required(sw_state_t *s)
{
    assert_int_equal(s->council.n_members, 1);
    assert_string_equal(s->council.members[0].agent_id, "a1");
    assert_string_equal(s->council.quorum_cert_hash, "");
}
static void post_released_optional(sw_state_t *s)
{
    assert_int_equal(s->council.n_members, 2);
    assert_string_equal(s->council.quorum_cert_hash, "cert1");
}
static void post_cert(sw_state_t *s)
{
    assert_string_equal(s->council.quorum_cert_hash, "cert1");
}
static void post_dissolved(sw_state_t *s)
{
    assert_int_equal(s->council.epoch, 1);
    assert_string_equal(s->council.council_id, "");
    assert_int_equal(s->council.quorum, 0);
    assert_int_equal(s->council.n_roles, 0);
    assert_int_equal(s->council.n_members, 0);
    assert_string_equal(s->council.quorum_cert_hash, "");
}
static void post_env_requested(sw_state_t *s)
{
    assert_int_equal(s->environment.epoch, 1);
    assert_int_equal(s->environment.resources.n, 1);
    assert_string_equal(sw_map_get(&s->environment.resources, "gpu"), "1");
}
static void post_green(sw_state_t *s)
{
    assert_false(s->control.degraded);
    assert_string_equal(s->environment.last_error, "");
}
static void post_red(sw_state_t *s)
{
    assert_true(s->control.degraded);
    assert_string_equal(s->environment.last_error, "fan");
}
static void post_env_released(sw_state_t *s)
{
    assert_false(s->control.degraded);
    assert_int_equal(s->environment.resources.n, 0);
    assert_string_equal(s->environment.last_error, "");
    assert_int_equal(s->environment.epoch, 1);
}
static void post_window(sw_state_t *s)
{
    assert_string_equal(s->execution.active_window_id, "w7");
    assert_int_equal(s->execution.epoch, 1);
    assert_int_equal(s->execution.beat_index, 0);
}
static void post_beat(sw_state_t *s)
{
    assert_int_equal(s->execution.beat_index, 1);
}
static void post_approved(sw_state_t *s)
{
    assert_int_equal(s->execution.approvals.n, 2);
    assert_string_equal(s->execution.approvals.items[0], "a1");
    assert_string_equal(s->execution.approvals.items[1], "a2");
}
static void post_no_approvals(sw_state_t *s)
{
    assert_int_equal(s->execution.approvals.n, 0);
}
static void post_closed(sw_state_t *s)
{
    assert_string_equal(s->execution.active_window_id, "");
    assert_int_equal(s->execution.approvals.n, 1);
    assert_int_equal(s->execution.tasks.n, 2);
}
static void post_task_created(sw_state_t *s)
{
    sw_task_t *t = sw_tasks_find(&s->execution.tasks, "t3");
    assert_non_null(t);
    assert_int_equal(t->status, SW_TASK_OPEN);
    assert_string_equal(t->title, "Three");
    assert_int_equal(t->created_index, s->meta.index);
    assert_int_equal(t->updated_index, s->meta.index);
}
static void post_task_claimed(sw_state_t *s)
{
    sw_task_t *t = sw_tasks_find(&s->execution.tasks, "t1");
    assert_int_equal(t->status, SW_TASK_CLAIMED);
    assert_string_equal(t->claimant, "a2");
    assert_int_equal(t->updated_index, s->meta.index);
    assert_true(t->created_index < t->updated_index);
}
static void post_task_released(sw_state_t *s)
{
    sw_task_t *t = sw_tasks_find(&s->execution.tasks, "t2");
    assert_int_equal(t->status, SW_TASK_OPEN);
    assert_string_equal(t->claimant, "");
    assert_int_equal(t->updated_index, s->meta.index);
}
static void post_task_complete(sw_state_t *s)
{
    sw_task_t *t = sw_tasks_find(&s->execution.tasks, "t2");
    assert_int_equal(t->status, SW_TASK_COMPLETED);
    assert_string_equal(t->result, "ok");
    assert_int_equal(t->updated_index, s->meta.index);
}
static void post_task_failed(sw_state_t *s)
{
    sw_task_t *t = sw_tasks_find(&s->execution.tasks, "t2");
    assert_int_equal(t->status, SW_TASK_FAILED);
    assert_string_equal(t->result, "bad");
}
static void post_paused(sw_state_t *s)
{
    assert_true(s->control.paused);
}
static void post_resumed(sw_state_t *s)
{
    assert_false(s->control.paused);
}
static void post_quar(sw_state_t *s)
{
    assert_true(s->control.quarantined);
    assert_string_equal(s->control.quarantine_reason, "why");
}
static void post_unquar(sw_state_t *s)
{
    assert_false(s->control.quarantined);
    assert_string_equal(s->control.quarantine_reason, "");
}
static void post_recovering(sw_state_t *s)
{
    assert_true(s->control.recovering);
}
static void post_recovered(sw_state_t *s)
{
    assert_false(s->control.recovering);
}
static void post_policy(sw_state_t *s)
{
    assert_int_equal(s->policy.version, 2);
    assert_int_equal(s->policy.max_tasks, 10);
    assert_int_equal(s->policy.approval_threshold, 1);
    assert_int_equal(s->policy.admins.n, 2);
    assert_string_equal(s->policy.admins.items[0], "a");
    assert_string_equal(s->policy.admins.items[1], "b");
    assert_int_equal(s->policy.params.n, 1);
    assert_string_equal(sw_map_get(&s->policy.params, "k"), "v");
}

static void prep_degraded(sw_state_t *s)
{
    s->control.degraded = true;
    sw_state_touch(s, SW_SEC_CONTROL);
}

/* ------------------------------------------------------------- table */

#define OK SW_C_OK
/* Row: what, setup, prep, proposal, guards off, code name, then section,
 * phase after and post check (variadic so NONE may expand to two). */
#define R(what, setup, prep, prop, off, code, ...)                             \
    {                                                                          \
        what, setup, prep, prop, off, SW_C_##code, __VA_ARGS__                 \
    }

static const row_t rows[] = {
    /* Boot. */
    R("LICENSE_GRANTED at genesis", S0, NULL,
      P("LICENSE_GRANTED", "{\"license_id\":\"lic-2\",\"node_id\":\"n-1\"}"), 0,
      OK, NONE, post_licensed),
    R("LICENSE_GRANTED by a non-admin", SETUP(C_LIC, C_ADMINS), NULL,
      P("LICENSE_GRANTED", NULL), 0, UNAUTHORIZED_SIGNER, NONE, NULL),
    R("LICENSE_GRANTED by an admin", SETUP(C_LIC, C_ADMINS), NULL,
      PS("LICENSE_GRANTED", "{\"license_id\":\"lic-2\",\"node_id\":\"n-1\"}",
         "root"),
      0, OK, NONE, post_licensed),
    R("LICENSE_GRANTED with LicenseOK false", S0, NULL,
      P("LICENSE_GRANTED", NULL), OFF_L, GUARD_REJECTED, NONE, NULL),
    R("LICENSE_GRANTED while paused", SETUP(C_LIC, C_PAUSE), NULL,
      P("LICENSE_GRANTED", NULL), 0, PAUSED, NONE, NULL),
    R("LICENSE_REVOKED keeps the licence id", SL, NULL,
      P("LICENSE_REVOKED", NULL), 0, OK, NONE, post_revoked),
    R("LICENSE_REVOKED by a non-admin", SETUP(C_LIC, C_ADMINS), NULL,
      P("LICENSE_REVOKED", NULL), 0, UNAUTHORIZED_SIGNER, NONE, NULL),

    /* Ingestion. */
    R("INGESTION_STARTED from IDLE", SETUP(C_LIC), NULL,
      P("INGESTION_STARTED", "{\"sources\":[{\"id\":\"s9\",\"uri\":\"u1\"},{"
                             "\"id\":\"s2\",\"uri\":\"u2\"}]}"),
      0, OK, ING, SW_ING_FETCH, NULL),
    R("INGESTION_STARTED from READY clears the hash", SIR, NULL,
      P("INGESTION_STARTED", "{\"sources\":[{\"id\":\"s9\",\"uri\":\"u1\"},{"
                             "\"id\":\"s2\",\"uri\":\"u2\"}]}"),
      0, OK, ING, SW_ING_FETCH, post_ing_started),
    R("INGESTION_STARTED from FAILED",
      SETUP(C_LIC, C_ING1,
            (const step_t[]){P("INGESTION_FAILED", "{\"reason\":\"x\"}"), END}),
      NULL,
      P("INGESTION_STARTED", "{\"sources\":[{\"id\":\"s\",\"uri\":\"\"}]}"), 0,
      OK, ING, SW_ING_FETCH, NULL),
    R("INGESTION_STARTED in FETCH", SIF, NULL,
      P("INGESTION_STARTED", "{\"sources\":[{\"id\":\"s\",\"uri\":\"\"}]}"), 0,
      INVALID_PHASE, ING, SW_ING_FETCH, NULL),
    R("INGESTION_STARTED unlicensed", S0, NULL,
      P("INGESTION_STARTED", "{\"sources\":[{\"id\":\"s\",\"uri\":\"\"}]}"), 0,
      NOT_LICENSED, ING, SW_ING_IDLE, NULL),
    R("INGESTION_FETCHED", SIF, NULL,
      P("INGESTION_FETCHED", "{\"content_hash\":\"h42\"}"), 0, OK, ING,
      SW_ING_VALIDATE, post_ing_fetched),
    R("INGESTION_FETCHED in IDLE", SL, NULL,
      P("INGESTION_FETCHED", "{\"content_hash\":\"h\"}"), 0, INVALID_PHASE, ING,
      SW_ING_IDLE, NULL),
    R("INGESTION_VALIDATED", SIV, NULL, P("INGESTION_VALIDATED", NULL), 0, OK,
      ING, SW_ING_INDEX, NULL),
    R("INGESTION_VALIDATED in FETCH", SIF, NULL, P("INGESTION_VALIDATED", NULL),
      0, INVALID_PHASE, ING, SW_ING_FETCH, NULL),
    R("INGESTION_INDEXED", SII, NULL, P("INGESTION_INDEXED", NULL), 0, OK, ING,
      SW_ING_READY, NULL),
    R("INGESTION_INDEXED in VALIDATE", SIV, NULL, P("INGESTION_INDEXED", NULL),
      0, INVALID_PHASE, ING, SW_ING_VALIDATE, NULL),
    R("INGESTION_FAILED in FETCH", SIF, NULL,
      P("INGESTION_FAILED", "{\"reason\":\"boom\"}"), 0, OK, ING, SW_ING_FAILED,
      post_ing_failed),
    R("INGESTION_FAILED in INDEX", SII, NULL,
      P("INGESTION_FAILED", "{\"reason\":\"boom\"}"), 0, OK, ING, SW_ING_FAILED,
      post_ing_failed),
    R("INGESTION_FAILED in IDLE", SL, NULL,
      P("INGESTION_FAILED", "{\"reason\":\"boom\"}"), 0, INVALID_PHASE, ING,
      SW_ING_IDLE, NULL),

    /* Council. */
    R("COUNCIL_PROFILES_LOADED", SL, NULL,
      P("COUNCIL_PROFILES_LOADED",
        "{\"council_id\":\"c1\",\"roles\":" ROLES3 ",\"quorum\":2}"),
      0, OK, CNC, SW_CNC_ELECT, post_profiles),
    R("COUNCIL_PROFILES_LOADED default quorum", SL, NULL,
      P("COUNCIL_PROFILES_LOADED",
        "{\"council_id\":\"c1\",\"roles\":" ROLES3 "}"),
      0, OK, CNC, SW_CNC_ELECT, post_profiles_default),
    R("COUNCIL_PROFILES_LOADED in ELECT", SE, NULL,
      P("COUNCIL_PROFILES_LOADED",
        "{\"council_id\":\"c2\",\"roles\":" ROLES3 "}"),
      0, INVALID_PHASE, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_ROLE_CLAIMED", SF, NULL,
      P("COUNCIL_ROLE_CLAIMED",
        "{\"council_id\":\"c1\",\"role\":\"qa\",\"agent_id\":\"a3\"}"),
      0, OK, CNC, SW_CNC_ELECT, post_claimed),
    R("COUNCIL_ROLE_CLAIMED in READY", SCR, NULL,
      P("COUNCIL_ROLE_CLAIMED",
        "{\"council_id\":\"c1\",\"role\":\"qa\",\"agent_id\":\"a3\"}"),
      0, OK, CNC, SW_CNC_READY, post_claimed),
    R("COUNCIL_ROLE_CLAIMED in PLAN_ROLES (phase before council id)", SL, NULL,
      P("COUNCIL_ROLE_CLAIMED",
        "{\"council_id\":\"c9\",\"role\":\"qa\",\"agent_id\":\"a3\"}"),
      0, INVALID_PHASE, CNC, SW_CNC_PLAN_ROLES, NULL),
    R("COUNCIL_ROLE_CLAIMED other council", SE, NULL,
      P("COUNCIL_ROLE_CLAIMED",
        "{\"council_id\":\"c9\",\"role\":\"ghost\",\"agent_id\":\"a3\"}"),
      0, COUNCIL_MISMATCH, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_ROLE_CLAIMED unplanned role", SE, NULL,
      P("COUNCIL_ROLE_CLAIMED",
        "{\"council_id\":\"c1\",\"role\":\"ghost\",\"agent_id\":\"a1\"}"),
      0, UNKNOWN_ROLE, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_ROLE_CLAIMED unplanned non-ASCII role", SE, NULL,
      P("COUNCIL_ROLE_CLAIMED",
        "{\"council_id\":\"c1\",\"role\":\"r\\u00e9le\",\"agent_id\":"
        "\"a\\u0001\"}"),
      0, UNKNOWN_ROLE, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_ROLE_CLAIMED held role (before member check)", SF, NULL,
      P("COUNCIL_ROLE_CLAIMED",
        "{\"council_id\":\"c1\",\"role\":\"lead\",\"agent_id\":\"a2\"}"),
      0, ROLE_TAKEN, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_ROLE_CLAIMED by a member", SF, NULL,
      P("COUNCIL_ROLE_CLAIMED",
        "{\"council_id\":\"c1\",\"role\":\"qa\",\"agent_id\":\"a1\"}"),
      0, ALREADY_MEMBER, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_ROLE_CLAIMED at MaxMembers",
      SETUP(C_LIC, C_PROF, C_FILL, C_MAXM2), NULL,
      P("COUNCIL_ROLE_CLAIMED",
        "{\"council_id\":\"c1\",\"role\":\"qa\",\"agent_id\":\"a3\"}"),
      0, LIMIT_EXCEEDED, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_ROLE_RELEASED of a required role", SCR, NULL,
      P("COUNCIL_ROLE_RELEASED", "{\"council_id\":\"c1\",\"agent_id\":\"a2\"}"),
      0, OK, CNC, SW_CNC_ELECT, post_released_required),
    R("COUNCIL_ROLE_RELEASED of an optional role", SETUP(CCR, C_QA), NULL,
      P("COUNCIL_ROLE_RELEASED", "{\"council_id\":\"c1\",\"agent_id\":\"a3\"}"),
      0, OK, CNC, SW_CNC_READY, post_released_optional),
    R("COUNCIL_ROLE_RELEASED of a non-member", SCR, NULL,
      P("COUNCIL_ROLE_RELEASED", "{\"council_id\":\"c1\",\"agent_id\":\"a9\"}"),
      0, NOT_A_MEMBER, CNC, SW_CNC_READY, NULL),
    R("COUNCIL_ROLE_RELEASED other council", SCR, NULL,
      P("COUNCIL_ROLE_RELEASED", "{\"council_id\":\"c2\",\"agent_id\":\"a2\"}"),
      0, COUNCIL_MISMATCH, CNC, SW_CNC_READY, NULL),
    R("COUNCIL_ROLE_RELEASED in PLAN_ROLES", SL, NULL,
      P("COUNCIL_ROLE_RELEASED", "{\"council_id\":\"c9\",\"agent_id\":\"a2\"}"),
      0, INVALID_PHASE, CNC, SW_CNC_PLAN_ROLES, NULL),
    R("COUNCIL_QUORUM_CERT", SF, NULL,
      P("COUNCIL_QUORUM_CERT",
        "{\"council_id\":\"c1\",\"cert_hash\":\"cert1\"}"),
      0, OK, CNC, SW_CNC_ELECT, post_cert),
    R("COUNCIL_QUORUM_CERT with a vacant required role", SE, NULL,
      P("COUNCIL_QUORUM_CERT", "{\"council_id\":\"c1\",\"cert_hash\":\"x\"}"),
      0, QUORUM_NOT_REACHED, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_QUORUM_CERT with Members < Quorum",
      SETUP(C_LIC, C_PROF_Q3, C_FILL), NULL,
      P("COUNCIL_QUORUM_CERT", "{\"council_id\":\"c1\",\"cert_hash\":\"x\"}"),
      0, QUORUM_NOT_REACHED, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_QUORUM_CERT with QuorumOK false", SF, NULL,
      P("COUNCIL_QUORUM_CERT", "{\"council_id\":\"c1\",\"cert_hash\":\"x\"}"),
      OFF_Q, GUARD_REJECTED, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_QUORUM_CERT other council", SF, NULL,
      P("COUNCIL_QUORUM_CERT", "{\"council_id\":\"c2\",\"cert_hash\":\"x\"}"),
      0, COUNCIL_MISMATCH, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_QUORUM_CERT in READY", SCR, NULL,
      P("COUNCIL_QUORUM_CERT", "{\"council_id\":\"c1\",\"cert_hash\":\"x\"}"),
      0, INVALID_PHASE, CNC, SW_CNC_READY, NULL),
    R("COUNCIL_ELECT_COMPLETE", SC, NULL,
      P("COUNCIL_ELECT_COMPLETE", "{\"council_id\":\"c1\"}"), 0, OK, CNC,
      SW_CNC_TOOLING_SYNC, NULL),
    R("COUNCIL_ELECT_COMPLETE without cert", SF, NULL,
      P("COUNCIL_ELECT_COMPLETE", "{\"council_id\":\"c1\"}"), 0, NO_QUORUM_CERT,
      CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_ELECT_COMPLETE other council", SC, NULL,
      P("COUNCIL_ELECT_COMPLETE", "{\"council_id\":\"c0\"}"), 0,
      COUNCIL_MISMATCH, CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_ELECT_COMPLETE in TOOLING_SYNC", ST, NULL,
      P("COUNCIL_ELECT_COMPLETE", "{\"council_id\":\"c1\"}"), 0, INVALID_PHASE,
      CNC, SW_CNC_TOOLING_SYNC, NULL),
    R("COUNCIL_TOOLING_SYNCED", ST, NULL,
      P("COUNCIL_TOOLING_SYNCED", "{\"council_id\":\"c1\"}"), 0, OK, CNC,
      SW_CNC_READY, NULL),
    R("COUNCIL_TOOLING_SYNCED with MCPHealthy false", ST, NULL,
      P("COUNCIL_TOOLING_SYNCED", "{\"council_id\":\"c1\"}"), OFF_M,
      GUARD_REJECTED, CNC, SW_CNC_TOOLING_SYNC, NULL),
    R("COUNCIL_TOOLING_SYNCED other council", ST, NULL,
      P("COUNCIL_TOOLING_SYNCED", "{\"council_id\":\"c2\"}"), 0,
      COUNCIL_MISMATCH, CNC, SW_CNC_TOOLING_SYNC, NULL),
    R("COUNCIL_TOOLING_SYNCED in ELECT", SC, NULL,
      P("COUNCIL_TOOLING_SYNCED", "{\"council_id\":\"c1\"}"), 0, INVALID_PHASE,
      CNC, SW_CNC_ELECT, NULL),
    R("COUNCIL_DISSOLVED in READY", SCR, NULL,
      P("COUNCIL_DISSOLVED", "{\"council_id\":\"other\"}"), 0, OK, CNC,
      SW_CNC_PLAN_ROLES, post_dissolved),
    R("COUNCIL_DISSOLVED in PLAN_ROLES", SL, NULL, P("COUNCIL_DISSOLVED", NULL),
      0, OK, CNC, SW_CNC_PLAN_ROLES, post_dissolved),

    /* Environment. */
    R("ENV_ALLOCATION_REQUESTED", SL, NULL,
      P("ENV_ALLOCATION_REQUESTED", "{\"resources\":{\"gpu\":\"1\"}}"), 0, OK,
      ENV, SW_ENV_ALLOCATE, post_env_requested),
    R("ENV_ALLOCATION_REQUESTED in ALLOCATE", SEA, NULL,
      P("ENV_ALLOCATION_REQUESTED", "{\"resources\":{}}"), 0, INVALID_PHASE,
      ENV, SW_ENV_ALLOCATE, NULL),
    R("ENV_ALLOCATED", SEA, NULL, P("ENV_ALLOCATED", NULL), 0, OK, ENV,
      SW_ENV_PROVISION, NULL),
    R("ENV_ALLOCATED in IDLE", SL, NULL, P("ENV_ALLOCATED", NULL), 0,
      INVALID_PHASE, ENV, SW_ENV_IDLE, NULL),
    R("ENV_PROVISIONED", SEP, NULL, P("ENV_PROVISIONED", NULL), 0, OK, ENV,
      SW_ENV_HEALTHCHECK, NULL),
    R("ENV_PROVISIONED in ALLOCATE", SEA, NULL, P("ENV_PROVISIONED", NULL), 0,
      INVALID_PHASE, ENV, SW_ENV_ALLOCATE, NULL),
    R("ENV_HEALTH_GREEN", SEH, NULL, P("ENV_HEALTH_GREEN", NULL), 0, OK, ENV,
      SW_ENV_READY, post_green),
    R("ENV_HEALTH_GREEN from DEGRADED", SED, NULL, P("ENV_HEALTH_GREEN", NULL),
      0, OK, ENV, SW_ENV_READY, post_green),
    R("ENV_HEALTH_GREEN with MCPHealthy false", SEH, NULL,
      P("ENV_HEALTH_GREEN", NULL), OFF_M, GUARD_REJECTED, ENV,
      SW_ENV_HEALTHCHECK, NULL),
    R("ENV_HEALTH_GREEN in READY", SER, NULL, P("ENV_HEALTH_GREEN", NULL), 0,
      INVALID_PHASE, ENV, SW_ENV_READY, NULL),
    R("ENV_HEALTH_RED in HEALTHCHECK", SEH, NULL,
      P("ENV_HEALTH_RED", "{\"reason\":\"fan\"}"), 0, OK, ENV, SW_ENV_DEGRADED,
      post_red),
    R("ENV_HEALTH_RED in READY", SER, NULL,
      P("ENV_HEALTH_RED", "{\"reason\":\"fan\"}"), 0, OK, ENV, SW_ENV_DEGRADED,
      post_red),
    R("ENV_HEALTH_RED in DEGRADED", SED, NULL,
      P("ENV_HEALTH_RED", "{\"reason\":\"fan\"}"), 0, INVALID_PHASE, ENV,
      SW_ENV_DEGRADED, NULL),
    R("ENV_RELEASED from DEGRADED", SED, NULL, P("ENV_RELEASED", NULL), 0, OK,
      ENV, SW_ENV_IDLE, post_env_released),
    R("ENV_RELEASED in IDLE", SL, NULL, P("ENV_RELEASED", NULL), 0,
      INVALID_PHASE, ENV, SW_ENV_IDLE, NULL),

    /* Execution: windows. */
    R("EXECUTION_WINDOW_OPENED", SCE, NULL,
      PW("EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w7\"}", "other"), 0, OK,
      EXE, SW_EXE_PLAN, post_window),
    R("EXECUTION_WINDOW_OPENED from REVERB", SRV, NULL,
      P("EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w7\"}"), 0, OK, EXE,
      SW_EXE_PLAN, NULL),
    R("EXECUTION_WINDOW_OPENED in PLAN", SP, NULL,
      P("EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w7\"}"), 0, INVALID_PHASE,
      EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_WINDOW_OPENED council not READY", SETUP(C_LIC, CENV), NULL,
      P("EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w7\"}"), 0, NOT_READY, EXE,
      SW_EXE_IDLE, NULL),
    R("EXECUTION_WINDOW_OPENED environment not READY", SCR, NULL,
      P("EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w7\"}"), 0, NOT_READY, EXE,
      SW_EXE_IDLE, NULL),
    R("EXECUTION_WINDOW_OPENED degraded", SCE, prep_degraded,
      P("EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w7\"}"), 0, DEGRADED, EXE,
      SW_EXE_IDLE, NULL),
    R("EXECUTION_WINDOW_OPENED recovering", SETUP(CCR, CENV, C_RECOV), NULL,
      P("EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w7\"}"), 0, RECOVERING,
      EXE, SW_EXE_IDLE, NULL),
    R("EXECUTION_WINDOW_OPENED with BackbeatOK false", SCE, NULL,
      P("EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w7\"}"), OFF_B,
      GUARD_REJECTED, EXE, SW_EXE_IDLE, NULL),
    R("EXECUTION_PLAN_LOCKED", SP, NULL,
      PW("EXECUTION_PLAN_LOCKED", NULL, "w1"), 0, OK, EXE, SW_EXE_WORK, NULL),
    R("EXECUTION_PLAN_LOCKED other window", SP, NULL,
      PW("EXECUTION_PLAN_LOCKED", NULL, "w9"), 0, WINDOW_MISMATCH, EXE,
      SW_EXE_PLAN, NULL),
    R("EXECUTION_PLAN_LOCKED window before phase", SRV, NULL,
      PW("EXECUTION_PLAN_LOCKED", NULL, "w9"), 0, WINDOW_MISMATCH, EXE,
      SW_EXE_REVERB, NULL),
    R("EXECUTION_PLAN_LOCKED guard before window", SP, NULL,
      PW("EXECUTION_PLAN_LOCKED", NULL, "w9"), OFF_Q, GUARD_REJECTED, EXE,
      SW_EXE_PLAN, NULL),
    R("EXECUTION_PLAN_LOCKED in WORK", SW, NULL,
      P("EXECUTION_PLAN_LOCKED", NULL), 0, INVALID_PHASE, EXE, SW_EXE_WORK,
      NULL),
    R("EXECUTION_BEAT", SP, NULL, P("EXECUTION_BEAT", NULL), 0, OK, EXE,
      SW_EXE_PLAN, post_beat),
    R("EXECUTION_BEAT in IDLE with a window id", SCE, NULL,
      PW("EXECUTION_BEAT", NULL, "w1"), 0, INVALID_PHASE, EXE, SW_EXE_IDLE,
      NULL),
    R("EXECUTION_BEAT with BackbeatOK false", SP, NULL,
      P("EXECUTION_BEAT", NULL), OFF_B, GUARD_REJECTED, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_BEAT other window", SP, NULL, PW("EXECUTION_BEAT", NULL, "x"),
      0, WINDOW_MISMATCH, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_REVIEW_STARTED", SW, NULL, P("EXECUTION_REVIEW_STARTED", NULL),
      0, OK, EXE, SW_EXE_REVIEW, post_no_approvals),
    R("EXECUTION_REVIEW_STARTED in PLAN", SP, NULL,
      P("EXECUTION_REVIEW_STARTED", NULL), 0, INVALID_PHASE, EXE, SW_EXE_PLAN,
      NULL),
    R("EXECUTION_APPROVAL", SRA, NULL, PS("EXECUTION_APPROVAL", NULL, "a2"), 0,
      OK, EXE, SW_EXE_REVIEW, post_approved),
    R("EXECUTION_APPROVAL by a non-member", SR, NULL,
      PS("EXECUTION_APPROVAL", NULL, "zed"), 0, NOT_A_MEMBER, EXE,
      SW_EXE_REVIEW, NULL),
    R("EXECUTION_APPROVAL twice", SRA, NULL,
      PS("EXECUTION_APPROVAL", NULL, "a1"), 0, ALREADY_APPROVED, EXE,
      SW_EXE_REVIEW, NULL),
    R("EXECUTION_APPROVAL in WORK", SW, NULL,
      PS("EXECUTION_APPROVAL", NULL, "a1"), 0, INVALID_PHASE, EXE, SW_EXE_WORK,
      NULL),
    R("EXECUTION_REVIEW_PASSED", SRA, NULL, P("EXECUTION_REVIEW_PASSED", NULL),
      0, OK, EXE, SW_EXE_REVERB, NULL),
    R("EXECUTION_REVIEW_PASSED below threshold", SR, NULL,
      P("EXECUTION_REVIEW_PASSED", NULL), 0, APPROVALS_BELOW_THRESHOLD, EXE,
      SW_EXE_REVIEW, NULL),
    R("EXECUTION_REVIEW_PASSED with QuorumOK false", SRA, NULL,
      P("EXECUTION_REVIEW_PASSED", NULL), OFF_Q, GUARD_REJECTED, EXE,
      SW_EXE_REVIEW, NULL),
    R("EXECUTION_REVIEW_PASSED in WORK", SW, NULL,
      P("EXECUTION_REVIEW_PASSED", NULL), 0, INVALID_PHASE, EXE, SW_EXE_WORK,
      NULL),
    R("EXECUTION_REVIEW_FAILED", SRA, NULL,
      P("EXECUTION_REVIEW_FAILED", "{\"reason\":\"no\"}"), 0, OK, EXE,
      SW_EXE_WORK, post_no_approvals),
    R("EXECUTION_REVIEW_FAILED in WORK", SW, NULL,
      P("EXECUTION_REVIEW_FAILED", NULL), 0, INVALID_PHASE, EXE, SW_EXE_WORK,
      NULL),
    R("EXECUTION_WINDOW_CLOSED", SRV, NULL, P("EXECUTION_WINDOW_CLOSED", NULL),
      0, OK, EXE, SW_EXE_IDLE, post_closed),
    R("EXECUTION_WINDOW_CLOSED in REVIEW", SR, NULL,
      P("EXECUTION_WINDOW_CLOSED", NULL), 0, INVALID_PHASE, EXE, SW_EXE_REVIEW,
      NULL),

    /* Execution: tasks. */
    R("EXECUTION_TASK_CREATED", SPT, NULL,
      P("EXECUTION_TASK_CREATED", "{\"task_id\":\"t3\",\"title\":\"Three\"}"),
      0, OK, EXE, SW_EXE_PLAN, post_task_created),
    R("EXECUTION_TASK_CREATED in WORK", SW, NULL,
      P("EXECUTION_TASK_CREATED", "{\"task_id\":\"t3\",\"title\":\"Three\"}"),
      0, OK, EXE, SW_EXE_WORK, post_task_created),
    R("EXECUTION_TASK_CREATED existing id", SPT, NULL,
      P("EXECUTION_TASK_CREATED", "{\"task_id\":\"t1\",\"title\":\"Again\"}"),
      0, TASK_EXISTS, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_CREATED at MaxTasks (before the id check)",
      SETUP(CCR, CENV, C_WIN, C_TASKS, C_MAXT2), NULL,
      P("EXECUTION_TASK_CREATED", "{\"task_id\":\"t1\",\"title\":\"x\"}"), 0,
      LIMIT_EXCEEDED, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_CREATED in REVIEW", SR, NULL,
      P("EXECUTION_TASK_CREATED", "{\"task_id\":\"t3\",\"title\":\"x\"}"), 0,
      INVALID_PHASE, EXE, SW_EXE_REVIEW, NULL),
    R("EXECUTION_TASK_CLAIMED", SPT, NULL,
      P("EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t1\",\"agent_id\":\"a2\"}"),
      0, OK, EXE, SW_EXE_PLAN, post_task_claimed),
    R("EXECUTION_TASK_CLAIMED unknown task", SPT, NULL,
      P("EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t9\",\"agent_id\":\"a2\"}"),
      0, UNKNOWN_TASK, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_CLAIMED claimed task", SPT, NULL,
      P("EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t2\",\"agent_id\":\"a2\"}"),
      0, TASK_NOT_OPEN, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_CLAIMED degraded", SPT, prep_degraded,
      P("EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t1\",\"agent_id\":\"a2\"}"),
      0, DEGRADED, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_CLAIMED recovering",
      SETUP(CCR, CENV, C_WIN, C_TASKS, C_RECOV), NULL,
      P("EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t1\",\"agent_id\":\"a2\"}"),
      0, RECOVERING, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_CLAIMED in REVIEW", SR, NULL,
      P("EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t1\",\"agent_id\":\"a2\"}"),
      0, INVALID_PHASE, EXE, SW_EXE_REVIEW, NULL),
    R("EXECUTION_TASK_RELEASED", SPT, NULL,
      P("EXECUTION_TASK_RELEASED", "{\"task_id\":\"t2\",\"agent_id\":\"a1\"}"),
      0, OK, EXE, SW_EXE_PLAN, post_task_released),
    R("EXECUTION_TASK_RELEASED in REVIEW", SR, NULL,
      P("EXECUTION_TASK_RELEASED", "{\"task_id\":\"t2\",\"agent_id\":\"a1\"}"),
      0, OK, EXE, SW_EXE_REVIEW, post_task_released),
    R("EXECUTION_TASK_RELEASED by an admin for another agent",
      SETUP(CCR, CENV, C_WIN, C_TASKS, C_ADMINS), NULL,
      PS("EXECUTION_TASK_RELEASED", "{\"task_id\":\"t2\",\"agent_id\":\"a9\"}",
         "root"),
      0, OK, EXE, SW_EXE_PLAN, post_task_released),
    R("EXECUTION_TASK_RELEASED by an admin of an OPEN task",
      SETUP(CCR, CENV, C_WIN, C_TASKS, C_ADMINS), NULL,
      PS("EXECUTION_TASK_RELEASED", "{\"task_id\":\"t1\",\"agent_id\":\"a9\"}",
         "root"),
      0, TASK_NOT_CLAIMED, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_RELEASED by another agent", SPT, NULL,
      P("EXECUTION_TASK_RELEASED", "{\"task_id\":\"t2\",\"agent_id\":\"a9\"}"),
      0, NOT_CLAIMANT, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_RELEASED unknown task", SPT, NULL,
      P("EXECUTION_TASK_RELEASED", "{\"task_id\":\"t9\",\"agent_id\":\"a1\"}"),
      0, UNKNOWN_TASK, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_RELEASED in REVERB", SRV, NULL,
      P("EXECUTION_TASK_RELEASED", "{\"task_id\":\"t2\",\"agent_id\":\"a1\"}"),
      0, INVALID_PHASE, EXE, SW_EXE_REVERB, NULL),
    R("EXECUTION_TASK_COMPLETE", SPT, NULL,
      P("EXECUTION_TASK_COMPLETE",
        "{\"task_id\":\"t2\",\"agent_id\":\"a1\",\"result\":\"ok\"}"),
      0, OK, EXE, SW_EXE_PLAN, post_task_complete),
    R("EXECUTION_TASK_COMPLETE in REVIEW", SR, NULL,
      P("EXECUTION_TASK_COMPLETE",
        "{\"task_id\":\"t2\",\"agent_id\":\"a1\",\"result\":\"ok\"}"),
      0, OK, EXE, SW_EXE_REVIEW, post_task_complete),
    R("EXECUTION_TASK_COMPLETE by an admin for another agent",
      SETUP(CCR, CENV, C_WIN, C_TASKS, C_ADMINS), NULL,
      PS("EXECUTION_TASK_COMPLETE", "{\"task_id\":\"t2\",\"agent_id\":\"a9\"}",
         "root"),
      0, NOT_CLAIMANT, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_COMPLETE of an OPEN task", SPT, NULL,
      P("EXECUTION_TASK_COMPLETE", "{\"task_id\":\"t1\",\"agent_id\":\"a1\"}"),
      0, TASK_NOT_CLAIMED, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_COMPLETE unknown task", SPT, NULL,
      P("EXECUTION_TASK_COMPLETE", "{\"task_id\":\"t0\",\"agent_id\":\"a1\"}"),
      0, UNKNOWN_TASK, EXE, SW_EXE_PLAN, NULL),
    R("EXECUTION_TASK_COMPLETE in REVERB", SRV, NULL,
      P("EXECUTION_TASK_COMPLETE", "{\"task_id\":\"t2\",\"agent_id\":\"a1\"}"),
      0, INVALID_PHASE, EXE, SW_EXE_REVERB, NULL),
    R("EXECUTION_TASK_FAILED", SW, NULL,
      P("EXECUTION_TASK_FAILED",
        "{\"task_id\":\"t2\",\"agent_id\":\"a1\",\"reason\":\"bad\"}"),
      0, OK, EXE, SW_EXE_WORK, post_task_failed),
    R("EXECUTION_TASK_FAILED by another agent", SW, NULL,
      P("EXECUTION_TASK_FAILED",
        "{\"task_id\":\"t2\",\"agent_id\":\"a2\",\"reason\":\"bad\"}"),
      0, NOT_CLAIMANT, EXE, SW_EXE_WORK, NULL),
    R("EXECUTION_TASK_FAILED of an OPEN task", SW, NULL,
      P("EXECUTION_TASK_FAILED",
        "{\"task_id\":\"t1\",\"agent_id\":\"a1\",\"reason\":\"bad\"}"),
      0, TASK_NOT_CLAIMED, EXE, SW_EXE_WORK, NULL),
    R("EXECUTION_TASK_FAILED unknown task", SW, NULL,
      P("EXECUTION_TASK_FAILED",
        "{\"task_id\":\"tx\",\"agent_id\":\"a1\",\"reason\":\"bad\"}"),
      0, UNKNOWN_TASK, EXE, SW_EXE_WORK, NULL),
    R("EXECUTION_TASK_FAILED in IDLE", SCE, NULL,
      P("EXECUTION_TASK_FAILED",
        "{\"task_id\":\"t2\",\"agent_id\":\"a1\",\"reason\":\"bad\"}"),
      0, INVALID_PHASE, EXE, SW_EXE_IDLE, NULL),

    /* Control and Policy. */
    R("CONTROL_PAUSE unlicensed", S0, NULL,
      P("CONTROL_PAUSE", "{\"reason\":\"m\"}"), 0, OK, NONE, post_paused),
    R("CONTROL_PAUSE by a non-admin", SETUP(C_LIC, C_ADMINS), NULL,
      P("CONTROL_PAUSE", NULL), 0, UNAUTHORIZED_SIGNER, NONE, NULL),
    R("CONTROL_RESUME while paused", SETUP(C_LIC, C_PAUSE), NULL,
      P("CONTROL_RESUME", NULL), 0, OK, NONE, post_resumed),
    R("CONTROL_RESUME by a non-admin",
      SETUP(C_LIC, C_ADMINS,
            (const step_t[]){PS("CONTROL_PAUSE", NULL, "root"), END}),
      NULL, P("CONTROL_RESUME", NULL), 0, UNAUTHORIZED_SIGNER, NONE, NULL),
    R("QUARANTINE_ENTER", SL, NULL,
      P("QUARANTINE_ENTER", "{\"reason\":\"why\"}"), 0, OK, NONE, post_quar),
    R("QUARANTINE_ENTER while paused", SETUP(C_LIC, C_PAUSE), NULL,
      P("QUARANTINE_ENTER", "{\"reason\":\"why\"}"), 0, OK, NONE, post_quar),
    R("QUARANTINE_ENTER by a non-admin", SETUP(C_LIC, C_ADMINS), NULL,
      P("QUARANTINE_ENTER", "{\"reason\":\"why\"}"), 0, UNAUTHORIZED_SIGNER,
      NONE, NULL),
    R("QUARANTINE_RELEASE", SETUP(C_LIC, C_QUAR), NULL,
      P("QUARANTINE_RELEASE", NULL), 0, OK, NONE, post_unquar),
    R("QUARANTINE_RELEASE by a non-admin",
      SETUP(C_LIC, C_ADMINS,
            (const step_t[]){
                PS("QUARANTINE_ENTER", "{\"reason\":\"r\"}", "root"), END}),
      NULL, P("QUARANTINE_RELEASE", NULL), 0, UNAUTHORIZED_SIGNER, NONE, NULL),
    R("RECOVERY_STARTED", SL, NULL, P("RECOVERY_STARTED", NULL), 0, OK, NONE,
      post_recovering),
    R("RECOVERY_STARTED by a non-admin", SETUP(C_LIC, C_ADMINS), NULL,
      P("RECOVERY_STARTED", NULL), 0, UNAUTHORIZED_SIGNER, NONE, NULL),
    R("RECOVERY_COMPLETE", SETUP(C_LIC, C_RECOV), NULL,
      P("RECOVERY_COMPLETE", NULL), 0, OK, NONE, post_recovered),
    R("RECOVERY_COMPLETE by a non-admin",
      SETUP(C_LIC, C_ADMINS,
            (const step_t[]){PS("RECOVERY_STARTED", NULL, "root"), END}),
      NULL, P("RECOVERY_COMPLETE", NULL), 0, UNAUTHORIZED_SIGNER, NONE, NULL),
    R("POLICY_UPDATED replaces admins and params",
      SETUP(C_LIC,
            (const step_t[]){P("POLICY_UPDATED", "{\"params\":{\"old\":\"1\"},"
                                                 "\"admins\":[\"z\"]}"),
                             END}),
      NULL,
      PS("POLICY_UPDATED",
         "{\"max_tasks\":10,\"admins\":[\"b\",\"a\",\"b\"],\"params\":{\"k\":"
         "\"v\"}}",
         "z"),
      0, OK, NONE, post_policy),
    R("POLICY_UPDATED by a non-admin", SETUP(C_LIC, C_ADMINS), NULL,
      P("POLICY_UPDATED", "{\"max_tasks\":10}"), 0, UNAUTHORIZED_SIGNER, NONE,
      NULL),
};

/* Steps 4–7 and the effects of every catalogued transition: each row gets
 * its code and phase, a rejection leaves the hash unchanged, an application
 * advances Meta, and the cached hash equals one computed from scratch. */
static void test_rows(void **unused)
{
    (void)unused;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row_t *w = &rows[i];
        sw_state_t *s = build(w->setup);
        if (w->prep)
            w->prep(s);
        char before[65], after[65], fresh[65];
        sw_state_hash(s, before);
        uint64_t idx = s->meta.index;

        sw_proposal_t p;
        sw_result_t r;
        sw_guards_t g = guards_with(w->off);
        char body[8192], msg[256];
        int n = snprintf(
            body, sizeof body,
            "{\"transition\":\"%s\",\"signer\":\"%s\",\"idem_key\":\"row%zu\"%"
            "s%s%s%s%s}",
            w->prop.t, w->prop.signer ? w->prop.signer : "op", i,
            w->prop.payload ? ",\"payload\":" : "",
            w->prop.payload ? w->prop.payload : "",
            w->prop.window ? ",\"window_id\":\"" : "",
            w->prop.window ? w->prop.window : "", w->prop.window ? "\"" : "");
        sw_code_t pc = sw_proposal_parse(body, (size_t)n, &p, msg);
        if (pc != SW_C_OK) {
            /* Step 1 rows: the parse decides. */
            if (pc != w->code)
                fail_msg("row \"%s\": parse gave %s (%s), want %s", w->what,
                         sw_code_name(pc), msg, sw_code_name(w->code));
            sw_state_free(s);
            continue;
        }
        sw_hlc_t h = {RECV, 0, 7};
        sw_proposal_set_hlc(&p, &h);
        sw_reduce(s, &p, &g, RECV, &r);
        if (r.code != w->code)
            fail_msg("row \"%s\": got %s (%s), want %s", w->what,
                     sw_code_name(r.code), r.msg, sw_code_name(w->code));
        assert_true(r.msg[0] != '\0');
        /* docs/API.md: the sentence is printable ASCII, whatever bytes the
         * client's ids held. */
        for (const char *c = r.msg; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                fail_msg("row \"%s\": byte 0x%02x in \"%s\"", w->what,
                         (unsigned char)*c, r.msg);
        sw_state_hash(s, after);
        th_scratch_hash(s, fresh);
        assert_string_equal(after, fresh);
        if (w->code == SW_C_OK) {
            assert_int_equal(r.outcome, SW_OUT_APPLIED);
            assert_int_equal(s->meta.index, idx + 1);
            assert_string_equal(s->meta.last_transition, w->prop.t);
            assert_string_equal(s->meta.last_signer,
                                w->prop.signer ? w->prop.signer : "op");
            assert_int_equal(sw_hlc_cmp(&s->meta.hlc_last, &h), 0);
            assert_string_not_equal(before, after);
        } else {
            assert_int_equal(r.outcome, SW_OUT_REJECTED);
            if (strcmp(before, after) != 0)
                fail_msg("row \"%s\": a rejection changed the hash", w->what);
        }
        if (w->sec != SW_SEC__COUNT)
            if (sw_state_phase(s, w->sec) != w->phase)
                fail_msg("row \"%s\": phase %s, want %s", w->what,
                         sw_phase_name(w->sec, sw_state_phase(s, w->sec)),
                         sw_phase_name(w->sec, w->phase));
        if (w->post)
            w->post(s);
        sw_proposal_destroy(&p);
        sw_state_free(s);
    }
}

/* Every catalogued transition has a row where it applies, so no effect goes
 * untested. */
static void test_rows_cover_catalog(void **unused)
{
    (void)unused;
    size_t n;
    const sw_catalog_entry_t *all = sw_catalog_all(&n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < sizeof rows / sizeof rows[0]; j++)
            if (strcmp(rows[j].prop.t, all[i].name) == 0 &&
                rows[j].code == SW_C_OK)
                found = true;
        if (!found)
            fail_msg("no happy-path row for %s", all[i].name);
    }
}

/* A valid payload per transition for the loops below. */
static const char *default_payload(const char *t)
{
    static const struct {
        const char *t, *pl;
    } d[] = {
        {"INGESTION_STARTED", "{\"sources\":[{\"id\":\"s\",\"uri\":\"u\"}]}"},
        {"INGESTION_FETCHED", "{\"content_hash\":\"h\"}"},
        {"INGESTION_FAILED", "{\"reason\":\"r\"}"},
        {"COUNCIL_PROFILES_LOADED",
         "{\"council_id\":\"c1\",\"roles\":" ROLES3 "}"},
        {"COUNCIL_ROLE_CLAIMED",
         "{\"council_id\":\"c1\",\"role\":\"qa\",\"agent_id\":\"a3\"}"},
        {"COUNCIL_ROLE_RELEASED", "{\"council_id\":\"c1\",\"agent_id\":\"a"
                                  "2\"}"},
        {"COUNCIL_QUORUM_CERT", "{\"council_id\":\"c1\",\"cert_hash\":\"x\"}"},
        {"COUNCIL_ELECT_COMPLETE", "{\"council_id\":\"c1\"}"},
        {"COUNCIL_TOOLING_SYNCED", "{\"council_id\":\"c1\"}"},
        {"ENV_ALLOCATION_REQUESTED", "{\"resources\":{\"a\":\"b\"}}"},
        {"ENV_HEALTH_RED", "{\"reason\":\"r\"}"},
        {"EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w\"}"},
        {"EXECUTION_TASK_CREATED", "{\"task_id\":\"t\",\"title\":\"T\"}"},
        {"EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t\",\"agent_id\":\"a\"}"},
        {"EXECUTION_TASK_RELEASED", "{\"task_id\":\"t\",\"agent_id\":\"a\"}"},
        {"EXECUTION_TASK_COMPLETE", "{\"task_id\":\"t\",\"agent_id\":\"a\"}"},
        {"EXECUTION_TASK_FAILED",
         "{\"task_id\":\"t\",\"agent_id\":\"a\",\"reason\":\"r\"}"},
        {"QUARANTINE_ENTER", "{\"reason\":\"r\"}"},
        {"POLICY_UPDATED", "{\"max_tasks\":5}"},
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (strcmp(d[i].t, t) == 0)
            return d[i].pl;
    return NULL;
}

/* Runs the default proposal of entry e against a copy of base. */
static sw_code_t try_entry(const sw_state_t *base, const sw_catalog_entry_t *e,
                           const char *signer, unsigned off, uint64_t hlc_p,
                           sw_result_t *r, bool *unchanged)
{
    sw_state_t *s = sw_state_clone(base);
    char h0[65], h1[65];
    sw_state_hash(s, h0);
    step_t st = {e->name, default_payload(e->name), signer, NULL};
    run(s, &st, off, hlc_p, r);
    sw_state_hash(s, h1);
    *unchanged = strcmp(h0, h1) == 0;
    sw_state_free(s);
    return r->code;
}

/* Step 4 for every transition: a physical time more than MaxClockSkewMs
 * ahead is HLC_SKEW (even before PAUSED); exactly MaxClockSkewMs is not;
 * the check does not overflow near 2^64. */
static void test_hlc_skew_every_transition(void **unused)
{
    (void)unused;
    sw_state_t *paused = build(SETUP(C_LIC, C_PAUSE));
    size_t n;
    const sw_catalog_entry_t *all = sw_catalog_all(&n);
    for (size_t i = 0; i < n; i++) {
        sw_result_t r;
        bool same;
        assert_int_equal(
            try_entry(paused, &all[i], NULL, 0, RECV + SKEW0 + 1, &r, &same),
            SW_C_HLC_SKEW);
        assert_true(same);
        assert_int_not_equal(
            try_entry(paused, &all[i], NULL, 0, RECV + SKEW0, &r, &same),
            SW_C_HLC_SKEW);
    }
    /* A huge physical part never wraps the comparison. */
    sw_result_t r;
    bool same;
    assert_int_equal(try_entry(paused, sw_catalog_find("CONTROL_RESUME"), NULL,
                               0, UINT64_MAX, &r, &same),
                     SW_C_HLC_SKEW);
    /* A lagging HLC is accepted and HLCLast keeps the larger value. */
    sw_state_t *s = sw_state_clone(paused);
    sw_hlc_t before = s->meta.hlc_last;
    step_t st = {"CONTROL_RESUME", NULL, NULL, NULL};
    assert_int_equal(run(s, &st, 0, 5, &r), SW_C_OK);
    assert_int_equal(sw_hlc_cmp(&s->meta.hlc_last, &before), 0);
    sw_state_free(s);
    sw_state_free(paused);
}

/* Step 5 for every transition: PAUSED before QUARANTINED for non-Control
 * ones, NOT_LICENSED unless LICENSE_GRANTED or Control, and
 * UNAUTHORIZED_SIGNER for Control and licence transitions only. */
static void test_step5_every_transition(void **unused)
{
    (void)unused;
    sw_state_t *genesis = sw_state_new_genesis();
    sw_state_t *paused = build(SETUP(C_LIC, C_QUAR, C_PAUSE));
    sw_state_t *quar = build(SETUP(C_LIC, C_QUAR));
    sw_state_t *admins = build(SETUP(C_LIC, C_ADMINS));
    size_t n;
    const sw_catalog_entry_t *all = sw_catalog_all(&n);
    for (size_t i = 0; i < n; i++) {
        const sw_catalog_entry_t *e = &all[i];
        bool control = (e->flags & SW_T_CONTROL) != 0;
        bool license = strcmp(e->name, "LICENSE_GRANTED") == 0;
        bool admin = control || license;
        sw_result_t r;
        bool same;
        sw_code_t c = try_entry(paused, e, NULL, 0, 0, &r, &same);
        if (control)
            assert_int_not_equal(c, SW_C_PAUSED);
        else {
            assert_int_equal(c, SW_C_PAUSED);
            assert_true(same);
        }
        c = try_entry(quar, e, NULL, 0, 0, &r, &same);
        if (control)
            assert_int_not_equal(c, SW_C_QUARANTINED);
        else {
            assert_int_equal(c, SW_C_QUARANTINED);
            assert_true(same);
        }
        c = try_entry(genesis, e, NULL, 0, 0, &r, &same);
        if (control || license)
            assert_int_not_equal(c, SW_C_NOT_LICENSED);
        else {
            assert_int_equal(c, SW_C_NOT_LICENSED);
            assert_true(same);
        }
        c = try_entry(admins, e, "op", 0, 0, &r, &same);
        if (admin) {
            assert_int_equal(c, SW_C_UNAUTHORIZED_SIGNER);
            assert_true(same);
        } else
            assert_int_not_equal(c, SW_C_UNAUTHORIZED_SIGNER);
        c = try_entry(admins, e, "root", 0, 0, &r, &same);
        assert_int_not_equal(c, SW_C_UNAUTHORIZED_SIGNER);
    }
    sw_state_free(genesis);
    sw_state_free(paused);
    sw_state_free(quar);
    sw_state_free(admins);
}

/* Step 6 for every transition: each required guard that is false answers
 * GUARD_REJECTED naming the guard; a guard the row does not require is
 * ignored. */
static void test_guards_every_transition(void **unused)
{
    (void)unused;
    static const struct {
        unsigned bit, off;
        const char *name;
    } gs[] = {{SW_G_LICENSE, OFF_L, "LicenseOK"},
              {SW_G_BACKBEAT, OFF_B, "BackbeatOK"},
              {SW_G_QUORUM, OFF_Q, "QuorumOK"},
              {SW_G_MCP, OFF_M, "MCPHealthy"}};
    sw_state_t *lic = build(SL);
    size_t n;
    const sw_catalog_entry_t *all = sw_catalog_all(&n);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < 4; k++) {
            sw_result_t r;
            bool same;
            sw_code_t c =
                try_entry(lic, &all[i], NULL, gs[k].off, 0, &r, &same);
            if (all[i].guards & gs[k].bit) {
                assert_int_equal(c, SW_C_GUARD_REJECTED);
                assert_true(same);
                char want[128];
                snprintf(want, sizeof want, "guard %s rejected %s", gs[k].name,
                         all[i].name);
                assert_string_equal(r.msg, want);
            } else {
                assert_int_not_equal(c, SW_C_GUARD_REJECTED);
            }
        }
    }
    sw_state_free(lic);
}

/* Step 6 for every transition: PolicyOK=false is a quarantine record that
 * changes exactly Control.Quarantined, QuarantineReason and Meta, also when
 * the transition itself would be rejected later (wrong phase). */
static void test_policy_violation_every_transition(void **unused)
{
    (void)unused;
    sw_state_t *lic = build(SL);
    size_t n;
    const sw_catalog_entry_t *all = sw_catalog_all(&n);
    for (size_t i = 0; i < n; i++) {
        sw_state_t *s = sw_state_clone(lic);
        sw_state_t *want = sw_state_clone(lic);
        sw_result_t r;
        step_t st = {all[i].name, default_payload(all[i].name), "mallory",
                     NULL};
        uint64_t hp = RECV + 17;
        run(s, &st, OFF_P | OFF_L | OFF_Q, hp, &r);
        assert_int_equal(r.outcome, SW_OUT_QUARANTINED);
        assert_int_equal(r.code, SW_C_POLICY_VIOLATION);

        char reason[200];
        snprintf(reason, sizeof reason, "policy violation: %s by mallory",
                 all[i].name);
        want->control.quarantined = true;
        sw_str_set(&want->control.quarantine_reason, reason);
        want->meta.index++;
        sw_str_set(&want->meta.last_transition, all[i].name);
        sw_str_set(&want->meta.last_signer, "mallory");
        want->meta.hlc_last = (sw_hlc_t){hp, 0, 1};
        sw_state_touch(want, SW_SEC_CONTROL);
        sw_state_touch(want, SW_SEC_META);
        size_t la, lb;
        const char *a = sw_state_canonical(s, &la);
        const char *b = sw_state_canonical(want, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        sw_state_free(s);
        sw_state_free(want);
    }
    sw_state_free(lic);
}

/* INVALID_PHASE names the transition, the section, the allowed phases and
 * the current one (SPEC §5 step 7). */
static void test_invalid_phase_message(void **unused)
{
    (void)unused;
    sw_state_t *s = build(SL);
    sw_result_t r;
    step_t st = {"EXECUTION_BEAT", NULL, NULL, NULL};
    assert_int_equal(run(s, &st, 0, 0, &r), SW_C_INVALID_PHASE);
    assert_string_equal(r.msg, "EXECUTION_BEAT needs Execution phase PLAN, "
                               "WORK, REVIEW or REVERB; it is IDLE");
    step_t st2 = {"INGESTION_FETCHED", "{\"content_hash\":\"h\"}", NULL, NULL};
    assert_int_equal(run(s, &st2, 0, 0, &r), SW_C_INVALID_PHASE);
    assert_string_equal(r.msg,
                        "INGESTION_FETCHED needs Ingestion phase FETCH; it is "
                        "IDLE");
    sw_state_free(s);
}

/* A new window keeps OPEN and CLAIMED tasks and evicts COMPLETED and FAILED
 * ones; the evicted tasks stop counting towards MaxTasks. */
static void test_window_open_evicts_finished(void **unused)
{
    (void)unused;
    static const step_t more[] = {
        P("EXECUTION_TASK_CREATED", "{\"task_id\":\"t3\",\"title\":\"3\"}"),
        P("EXECUTION_TASK_CREATED", "{\"task_id\":\"t4\",\"title\":\"4\"}"),
        P("EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t3\",\"agent_id\":\"a\"}"),
        P("EXECUTION_TASK_CLAIMED", "{\"task_id\":\"t4\",\"agent_id\":\"b\"}"),
        P("EXECUTION_TASK_COMPLETE", "{\"task_id\":\"t3\",\"agent_id\":\"a\"}"),
        P("EXECUTION_TASK_FAILED",
          "{\"task_id\":\"t4\",\"agent_id\":\"b\",\"reason\":\"x\"}"),
        END};
    sw_state_t *s = build(SETUP(CCR, CENV, C_WIN, C_TASKS, more, C_LOCK,
                                C_REVIEW, C_APPROVE, C_PASS));
    assert_int_equal(s->execution.tasks.n, 4);
    step_t open = {"EXECUTION_WINDOW_OPENED", "{\"window_id\":\"w2\"}", NULL,
                   NULL};
    must(s, &open);
    assert_int_equal(s->execution.tasks.n, 2);
    assert_non_null(sw_tasks_find(&s->execution.tasks, "t1"));
    assert_int_equal(sw_tasks_find(&s->execution.tasks, "t2")->status,
                     SW_TASK_CLAIMED);
    assert_null(sw_tasks_find(&s->execution.tasks, "t3"));
    assert_null(sw_tasks_find(&s->execution.tasks, "t4"));
    assert_int_equal(s->execution.approvals.n, 0);
    assert_int_equal(s->execution.epoch, 2);
    char a[65], b[65];
    sw_state_hash(s, a);
    th_scratch_hash(s, b);
    assert_string_equal(a, b);
    sw_state_free(s);
}

/* Step 3: absent/""/"*" is no precondition, "genesis" means index 0, any
 * other value must equal the current hash and the message names it. */
static void test_precondition(void **unused)
{
    (void)unused;
    sw_proposal_t p;
    memset(&p, 0, sizeof p);
    char msg[256];
    const char *h =
        "0000000000000000000000000000000000000000000000000000000000000001";
    assert_int_equal(sw_check_precondition(&p, 5, h, msg), SW_C_OK);
    p.current_state_hash = "*";
    assert_int_equal(sw_check_precondition(&p, 5, h, msg), SW_C_OK);
    p.current_state_hash = "genesis";
    assert_int_equal(sw_check_precondition(&p, 0, h, msg), SW_C_OK);
    assert_int_equal(sw_check_precondition(&p, 1, h, msg),
                     SW_C_STATE_HASH_MISMATCH);
    assert_non_null(strstr(msg, h));
    p.current_state_hash = h;
    assert_int_equal(sw_check_precondition(&p, 9, h, msg), SW_C_OK);
    p.current_state_hash = "abc";
    assert_int_equal(sw_check_precondition(&p, 9, h, msg),
                     SW_C_STATE_HASH_MISMATCH);
    assert_non_null(strstr(msg, h));
}

/* Outcome names are the words of WAL records and logs. */
static void test_outcome_names(void **unused)
{
    (void)unused;
    assert_string_equal(sw_outcome_name(SW_OUT_APPLIED), "applied");
    assert_string_equal(sw_outcome_name(SW_OUT_QUARANTINED), "quarantined");
    assert_string_equal(sw_outcome_name(SW_OUT_REJECTED), "rejected");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_rows_cover_catalog),
        cmocka_unit_test(test_hlc_skew_every_transition),
        cmocka_unit_test(test_step5_every_transition),
        cmocka_unit_test(test_guards_every_transition),
        cmocka_unit_test(test_policy_violation_every_transition),
        cmocka_unit_test(test_invalid_phase_message),
        cmocka_unit_test(test_window_open_evicts_finished),
        cmocka_unit_test(test_precondition),
        cmocka_unit_test(test_outcome_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
