// LABEL: integration
// TIMEOUT: 300
/* test_whoosh: the WHOOSH/CHORUS-compatible endpoints of SPEC §7 against the
 * real binary: a whole CHORUS flow (council formation, tasks, review,
 * reverb) driven through the adapter plus POST /transition for the phases
 * the adapter does not cover, idempotency (header and derived keys), body
 * errors, and the task listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server.h"
#include "jsonq.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_CT "Content-Type: application/json\r\n"

static int setup(void **state)
{
    *state = th_server_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    th_server_free(*state);
    return 0;
}

/* POSTs `body` to `path` with an optional Idempotency-Key; returns the
 * parsed answer (new reference) and the status. */
static json_t *wpost(int port, const char *path, const char *idem,
                     const char *body, int *status)
{
    char headers[512];
    if (idem)
        snprintf(headers, sizeof(headers), JSON_CT "Idempotency-Key: %s\r\n",
                 idem);
    else
        snprintf(headers, sizeof(headers), JSON_CT);
    th_resp_t r;
    assert_int_equal(th_http(port, "POST", path, headers, body, &r), 0);
    *status = r.status;
    json_t *j = th_json(&r);
    th_resp_free(&r);
    assert_non_null(j);
    return j;
}

/* Expects a 200 applied answer at index `want_index` (not a duplicate). */
static void expect_applied(json_t *j, int st, uint64_t want_index)
{
    if (st != 200) {
        char *d = json_dumps(j, JSON_COMPACT);
        fprintf(stderr, "unexpected answer %d: %s\n", st, d ? d : "");
        free(d);
    }
    assert_int_equal(st, 200);
    assert_true(json_is_true(json_object_get(j, "success")));
    assert_true(json_is_false(json_object_get(j, "duplicate")));
    assert_int_equal(th_jint(j, "index"), want_index);
}

/* Expects an error answer with `code` and `status`, and that the state did
 * not change (its index is still `index`). */
static void expect_error(int port, json_t *j, int st, int want_status,
                         const char *code, uint64_t index)
{
    assert_int_equal(st, want_status);
    assert_true(json_is_false(json_object_get(j, "success")));
    assert_string_equal(th_jstr(j, "code"), code);
    assert_true(strlen(th_jstr(j, "error")) > 0);
    assert_int_equal(strlen(th_jstr(j, "state_hash")), 64);
    assert_true(json_is_boolean(json_object_get(j, "quarantined")));
    assert_int_equal(th_health_index(port), index);
}

/* An adapter call that must apply at the next index. */
static void adapter_ok(int port, const char *path, const char *body,
                       uint64_t *index)
{
    int st = 0;
    json_t *j = wpost(port, path, NULL, body, &st);
    expect_applied(j, st, ++*index);
    json_decref(j);
}

/* A POST /transition that must apply at the next index. */
static void transition_ok(int port, const char *transition, const char *signer,
                          const char *payload, const char *window,
                          uint64_t *index)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"transition\":\"%s\",\"signer\":\"%s\",\"idem_key\":"
             "\"t-%llu\",\"payload\":%s%s%s%s}",
             transition, signer, (unsigned long long)*index + 1,
             payload ? payload : "{}", window ? ",\"window_id\":\"" : "",
             window ? window : "", window ? "\"" : "");
    int st = 0;
    json_t *j = wpost(port, "/transition", NULL, body, &st);
    expect_applied(j, st, ++*index);
    json_decref(j);
}

/* Brings a fresh server to an open window w1 with a three-member council
 * (agent-a lead, agent-b dev, agent-c qa), formed through the adapter. */
static void form_council_and_window(int port, uint64_t *index)
{
    transition_ok(port, "LICENSE_GRANTED", "operator",
                  "{\"license_id\":\"lic-1\"}", NULL, index);
    adapter_ok(port, "/api/v1/opportunities/council",
               "{\"council_id\":\"council-1\",\"roles\":["
               "{\"role_name\":\"lead\",\"required\":true},"
               "{\"role_name\":\"dev\",\"required\":true},"
               "{\"role_name\":\"qa\",\"required\":false}],\"quorum\":3}",
               index);
    adapter_ok(port, "/api/v1/councils/council-1/claims",
               "{\"agent_id\":\"agent-a\",\"role_name\":\"lead\"}", index);
    adapter_ok(port, "/api/v1/councils/council-1/claims",
               "{\"agent_id\":\"agent-b\",\"role_name\":\"dev\"}", index);
    adapter_ok(port, "/api/v1/councils/council-1/claims",
               "{\"agent_id\":\"agent-c\",\"role_name\":\"qa\"}", index);
    transition_ok(port, "COUNCIL_QUORUM_CERT", "agent-a",
                  "{\"council_id\":\"council-1\",\"cert_hash\":\"cert-1\"}",
                  NULL, index);
    transition_ok(port, "COUNCIL_ELECT_COMPLETE", "agent-a",
                  "{\"council_id\":\"council-1\"}", NULL, index);
    transition_ok(port, "COUNCIL_TOOLING_SYNCED", "agent-a",
                  "{\"council_id\":\"council-1\"}", NULL, index);
    transition_ok(port, "ENV_ALLOCATION_REQUESTED", "operator",
                  "{\"resources\":{\"cpu\":\"4\"}}", NULL, index);
    transition_ok(port, "ENV_ALLOCATED", "operator", NULL, NULL, index);
    transition_ok(port, "ENV_PROVISIONED", "operator", NULL, NULL, index);
    transition_ok(port, "ENV_HEALTH_GREEN", "operator", NULL, NULL, index);
    transition_ok(port, "EXECUTION_WINDOW_OPENED", "agent-a",
                  "{\"window_id\":\"w1\"}", "w1", index);
}

/* GET /api/v1/tasks[?status=…]; returns the tasks array's JSON (new
 * reference to the whole answer through *whole). */
static json_t *list_tasks(int port, const char *query, json_t **whole)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/tasks%s", query ? query : "");
    int st = 0;
    json_t *j = th_get_json(port, path, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_object_size(j), 1);
    json_t *arr = json_object_get(j, "tasks");
    assert_true(json_is_array(arr));
    *whole = j;
    return arr;
}

/* The ids of a task list joined by ",". */
static void ids_of(const json_t *arr, char *out, size_t n)
{
    out[0] = '\0';
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t)
    {
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%s", i ? "," : "", th_jstr(t, "id"));
    }
}

static void expect_ids(int port, const char *query, const char *want)
{
    json_t *whole;
    json_t *arr = list_tasks(port, query, &whole);
    char got[512];
    ids_of(arr, got, sizeof(got));
    assert_string_equal(got, want);
    json_decref(whole);
}

/* A whole CHORUS flow through the SPEC §7 endpoints (plus POST /transition
 * for council certification, environment, window and review phases) ends
 * in the expected phases, members, tasks and approvals. */
static void test_chorus_flow(void **state)
{
    th_server_t *s = *state;
    int port = s->port;
    uint64_t index = 0;
    form_council_and_window(port, &index);

    /* PLAN: tasks created and one claimed. */
    adapter_ok(port, "/api/v1/tasks",
               "{\"task_id\":\"t-2\",\"title\":\"write the parser\"}", &index);
    uint64_t t2_created = index;
    adapter_ok(port, "/api/v1/tasks",
               "{\"task_id\":\"t-1\",\"title\":\"design the API\"}", &index);
    uint64_t t1_created = index;
    adapter_ok(port, "/api/v1/tasks",
               "{\"task_id\":\"t-3\",\"title\":\"review docs\"}", &index);
    adapter_ok(port, "/api/v1/tasks/t-1/claim", "{\"agent_id\":\"agent-a\"}",
               &index);
    uint64_t t1_claimed = index;
    expect_ids(port, NULL, "t-1,t-2,t-3");
    expect_ids(port, "?status=claimed", "t-1");

    /* WORK: more claims, completions. */
    transition_ok(port, "EXECUTION_PLAN_LOCKED", "agent-a", NULL, "w1", &index);
    adapter_ok(port, "/api/v1/tasks/t-2/claim", "{\"agent_id\":\"agent-b\"}",
               &index);
    adapter_ok(port, "/api/v1/tasks/t-1/complete",
               "{\"agent_id\":\"agent-a\",\"result\":\"ucxl://result/1\"}",
               &index);
    uint64_t t1_done = index;

    /* A claimed task cannot be claimed again, nor completed by another. */
    int st = 0;
    json_t *j = wpost(port, "/api/v1/tasks/t-2/claim", NULL,
                      "{\"agent_id\":\"agent-c\"}", &st);
    expect_error(port, j, st, 400, "TASK_NOT_OPEN", index);
    json_decref(j);
    j = wpost(port, "/api/v1/tasks/t-2/complete", NULL,
              "{\"agent_id\":\"agent-c\"}", &st);
    expect_error(port, j, st, 400, "NOT_CLAIMANT", index);
    json_decref(j);
    j = wpost(port, "/api/v1/tasks/t-9/claim", NULL,
              "{\"agent_id\":\"agent-c\"}", &st);
    expect_error(port, j, st, 400, "UNKNOWN_TASK", index);
    json_decref(j);

    expect_ids(port, "?status=open", "t-3");
    expect_ids(port, "?status=claimed", "t-2");
    expect_ids(port, "?status=completed", "t-1");
    expect_ids(port, "?status=failed", "");

    /* The listed fields are the state's task fields plus the id. */
    json_t *whole;
    json_t *arr = list_tasks(port, NULL, &whole);
    assert_int_equal(json_array_size(arr), 3);
    json_t *t1 = json_array_get(arr, 0);
    assert_int_equal(json_object_size(t1), 7);
    assert_string_equal(th_jstr(t1, "id"), "t-1");
    assert_string_equal(th_jstr(t1, "Title"), "design the API");
    assert_string_equal(th_jstr(t1, "Status"), "COMPLETED");
    assert_string_equal(th_jstr(t1, "Claimant"), "agent-a");
    assert_string_equal(th_jstr(t1, "Result"), "ucxl://result/1");
    assert_int_equal(th_jint(t1, "CreatedIndex"), t1_created);
    assert_int_equal(th_jint(t1, "UpdatedIndex"), t1_done);
    assert_true(t1_claimed < t1_done);
    json_t *t2 = json_array_get(arr, 1);
    assert_string_equal(th_jstr(t2, "Status"), "CLAIMED");
    assert_string_equal(th_jstr(t2, "Claimant"), "agent-b");
    assert_string_equal(th_jstr(t2, "Result"), "");
    assert_int_equal(th_jint(t2, "CreatedIndex"), t2_created);
    json_t *t3 = json_array_get(arr, 2);
    assert_string_equal(th_jstr(t3, "Status"), "OPEN");
    assert_string_equal(th_jstr(t3, "Claimant"), "");
    json_decref(whole);

    adapter_ok(port, "/api/v1/tasks/t-2/complete", "{\"agent_id\":\"agent-b\"}",
               &index);

    /* Review by the members, then reverb and close. */
    transition_ok(port, "EXECUTION_REVIEW_STARTED", "agent-a", NULL, "w1",
                  &index);
    transition_ok(port, "EXECUTION_APPROVAL", "agent-b", NULL, "w1", &index);
    transition_ok(port, "EXECUTION_APPROVAL", "agent-a", NULL, "w1", &index);
    transition_ok(port, "EXECUTION_REVIEW_PASSED", "agent-a", NULL, "w1",
                  &index);
    transition_ok(port, "EXECUTION_BEAT", "agent-a", NULL, "w1", &index);
    transition_ok(port, "EXECUTION_WINDOW_CLOSED", "agent-a", NULL, "w1",
                  &index);

    /* Final state: phases, members, approvals and tasks. */
    j = th_get_json(port, "/state", &st);
    assert_int_equal(st, 200);
    assert_int_equal(th_jint(j, "index"), index);
    json_t *p = json_object_get(j, "projection");
    json_t *council = json_object_get(p, "Council");
    assert_string_equal(th_jstr(council, "Phase"), "READY");
    assert_string_equal(th_jstr(council, "CouncilID"), "council-1");
    assert_int_equal(th_jint(council, "Quorum"), 3);
    assert_string_equal(th_jstr(council, "QuorumCertHash"), "cert-1");
    json_t *members = json_object_get(council, "Members");
    assert_int_equal(json_array_size(members), 3);
    const char *want_members[3][2] = {
        {"agent-a", "lead"}, {"agent-b", "dev"}, {"agent-c", "qa"}};
    for (size_t i = 0; i < 3; i++) {
        json_t *m = json_array_get(members, i);
        assert_string_equal(th_jstr(m, "AgentID"), want_members[i][0]);
        assert_string_equal(th_jstr(m, "Role"), want_members[i][1]);
        assert_int_equal(th_jint(m, "JoinedIndex"), 3 + i);
    }
    json_t *planned = json_object_get(council, "PlannedRoles");
    assert_int_equal(json_array_size(planned), 3);
    assert_string_equal(th_jstr(json_array_get(planned, 2), "Role"), "qa");
    assert_true(
        json_is_false(json_object_get(json_array_get(planned, 2), "Required")));
    json_t *env = json_object_get(p, "Environment");
    assert_string_equal(th_jstr(env, "Phase"), "READY");
    json_t *ex = json_object_get(p, "Execution");
    assert_string_equal(th_jstr(ex, "Phase"), "IDLE");
    assert_string_equal(th_jstr(ex, "ActiveWindowID"), "");
    assert_int_equal(th_jint(ex, "BeatIndex"), 1);
    json_t *appr = json_object_get(ex, "Approvals");
    assert_int_equal(json_array_size(appr), 2);
    assert_string_equal(json_string_value(json_array_get(appr, 0)), "agent-a");
    assert_string_equal(json_string_value(json_array_get(appr, 1)), "agent-b");
    json_t *tasks = json_object_get(ex, "Tasks");
    assert_int_equal(json_object_size(tasks), 3);
    assert_string_equal(th_jstr(json_object_get(tasks, "t-2"), "Status"),
                        "COMPLETED");
    assert_string_equal(th_jstr(json_object_get(tasks, "t-3"), "Status"),
                        "OPEN");
    json_t *meta = json_object_get(p, "Meta");
    assert_string_equal(th_jstr(meta, "LastTransition"),
                        "EXECUTION_WINDOW_CLOSED");
    json_decref(j);

    /* The log names the adapter's transitions and signers. */
    j = th_get_json(port, "/log?from=2&limit=4", &st);
    assert_int_equal(st, 200);
    json_t *recs = json_object_get(j, "records");
    assert_int_equal(json_array_size(recs), 4);
    const char *want_log[4][2] = {{"COUNCIL_PROFILES_LOADED", "whoosh-adapter"},
                                  {"COUNCIL_ROLE_CLAIMED", "agent-a"},
                                  {"COUNCIL_ROLE_CLAIMED", "agent-b"},
                                  {"COUNCIL_ROLE_CLAIMED", "agent-c"}};
    for (size_t i = 0; i < 4; i++) {
        json_t *prop = json_object_get(json_array_get(recs, i), "proposal");
        assert_string_equal(th_jstr(prop, "transition"), want_log[i][0]);
        assert_string_equal(th_jstr(prop, "signer"), want_log[i][1]);
        assert_non_null(json_object_get(prop, "hlc"));
    }
    json_t *pl0 = json_object_get(
        json_object_get(json_array_get(recs, 0), "proposal"), "payload");
    assert_string_equal(
        th_jstr(json_array_get(json_object_get(pl0, "roles"), 1), "role"),
        "dev");
    assert_int_equal(th_jint(pl0, "quorum"), 3);
    json_decref(j);
}

/* Lowercase hex SHA-256 of s, computed with OpenSSL independently of the
 * server's code. */
static void sha256_hex(const char *s, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, 32);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The idem_key of log record `idx`; caller frees. */
static char *logged_key(int port, uint64_t idx)
{
    char path[64];
    snprintf(path, sizeof(path), "/log?from=%llu&limit=1",
             (unsigned long long)idx);
    int st = 0;
    json_t *j = th_get_json(port, path, &st);
    assert_int_equal(st, 200);
    json_t *rec = json_array_get(json_object_get(j, "records"), 0);
    assert_int_equal(th_jint(rec, "index"), idx);
    char *k = strdup(th_jstr(json_object_get(rec, "proposal"), "idem_key"));
    json_decref(j);
    return k;
}

/* Idempotency-Key repeats answer duplicate:true, a reused key with another
 * body is 409, derived keys make identical (and JCS-equal) retries
 * duplicates, also after a restart, and a rejected request leaves its key
 * free. */
static void test_idempotency(void **state)
{
    th_server_t *s = *state;
    uint64_t index = 0;
    form_council_and_window(s->port, &index);
    int st = 0;

    /* Header key: first applies, the repeat is a duplicate of it. */
    json_t *a = wpost(s->port, "/api/v1/tasks", "key-create-1",
                      "{\"task_id\":\"t-1\",\"title\":\"one\"}", &st);
    expect_applied(a, st, ++index);
    json_t *b = wpost(s->port, "/api/v1/tasks", "key-create-1",
                      "{\"task_id\":\"t-1\",\"title\":\"one\"}", &st);
    assert_int_equal(st, 200);
    assert_true(json_is_true(json_object_get(b, "duplicate")));
    assert_int_equal(th_jint(b, "index"), index);
    assert_string_equal(th_jstr(b, "state_hash"), th_jstr(a, "state_hash"));
    assert_int_equal(th_health_index(s->port), index);
    json_decref(a);
    json_decref(b);
    char *k = logged_key(s->port, index);
    assert_string_equal(k, "key-create-1");
    free(k);

    /* Same key, different content (body, or another endpoint) → 409. */
    json_t *j = wpost(s->port, "/api/v1/tasks", "key-create-1",
                      "{\"task_id\":\"t-1\",\"title\":\"other\"}", &st);
    expect_error(s->port, j, st, 409, "IDEMPOTENCY_CONFLICT", index);
    json_decref(j);
    j = wpost(s->port, "/api/v1/tasks/t-1/claim", "key-create-1",
              "{\"agent_id\":\"agent-a\"}", &st);
    expect_error(s->port, j, st, 409, "IDEMPOTENCY_CONFLICT", index);
    json_decref(j);

    /* A rejected request does not consume its key. */
    j = wpost(s->port, "/api/v1/tasks/t-2/claim", "key-claim-2",
              "{\"agent_id\":\"agent-b\"}", &st);
    expect_error(s->port, j, st, 400, "UNKNOWN_TASK", index);
    json_decref(j);
    adapter_ok(s->port, "/api/v1/tasks",
               "{\"task_id\":\"t-2\",\"title\":\"two\"}", &index);
    j = wpost(s->port, "/api/v1/tasks/t-2/claim", "key-claim-2",
              "{\"agent_id\":\"agent-b\"}", &st);
    expect_applied(j, st, ++index);
    json_decref(j);

    /* Derived key: "derived:" + SHA-256(METHOD " " path "\n" JCS(body)). */
    a = wpost(s->port, "/api/v1/tasks/t-1/claim", NULL,
              "{ \"agent_id\" : \"agent-a\" }", &st);
    expect_applied(a, st, ++index);
    uint64_t claim_index = index;
    char hex[65], want[80];
    sha256_hex("POST /api/v1/tasks/t-1/claim\n{\"agent_id\":\"agent-a\"}", hex);
    snprintf(want, sizeof(want), "derived:%s", hex);
    k = logged_key(s->port, claim_index);
    assert_string_equal(k, want);
    free(k);
    /* A byte-different but JCS-equal retry is the same request. */
    b = wpost(s->port, "/api/v1/tasks/t-1/claim", NULL,
              "{\"agent_id\":\"agent-a\"}", &st);
    assert_int_equal(st, 200);
    assert_true(json_is_true(json_object_get(b, "duplicate")));
    assert_int_equal(th_jint(b, "index"), claim_index);
    assert_string_equal(th_jstr(b, "state_hash"), th_jstr(a, "state_hash"));
    json_decref(a);
    json_decref(b);

    /* The derived key of the council opportunity (record 2) hashes JCS
     * of the body: keys sorted at every depth. */
    sha256_hex("POST /api/v1/opportunities/council\n"
               "{\"council_id\":\"council-1\",\"quorum\":3,\"roles\":["
               "{\"required\":true,\"role_name\":\"lead\"},"
               "{\"required\":true,\"role_name\":\"dev\"},"
               "{\"required\":false,\"role_name\":\"qa\"}]}",
               hex);
    snprintf(want, sizeof(want), "derived:%s", hex);
    k = logged_key(s->port, 2);
    assert_string_equal(k, want);
    free(k);

    /* Duplicates survive a restart (the key is in the log). */
    assert_int_equal(th_server_stop(s, SIGTERM, 20000), 0);
    assert_int_equal(th_server_restart(s, NULL), 0);
    b = wpost(s->port, "/api/v1/tasks/t-1/claim", NULL,
              "{\"agent_id\":\"agent-a\"}", &st);
    assert_int_equal(st, 200);
    assert_true(json_is_true(json_object_get(b, "duplicate")));
    assert_int_equal(th_jint(b, "index"), claim_index);
    json_decref(b);
    b = wpost(s->port, "/api/v1/tasks", "key-create-1",
              "{\"task_id\":\"t-1\",\"title\":\"one\"}", &st);
    assert_true(json_is_true(json_object_get(b, "duplicate")));
    json_decref(b);
    assert_int_equal(th_health_index(s->port), index);

    /* A bad Idempotency-Key header is a field error. */
    char longkey[300];
    memset(longkey, 'k', 257);
    longkey[257] = '\0';
    j = wpost(s->port, "/api/v1/tasks", longkey,
              "{\"task_id\":\"t-5\",\"title\":\"five\"}", &st);
    expect_error(s->port, j, st, 400, "BAD_FIELD", index);
    json_decref(j);
}

typedef struct bad_case {
    const char *path, *body, *code;
} bad_case_t;

/* Malformed and wrongly shaped adapter bodies are rejected with
 * MALFORMED_JSON / BAD_PAYLOAD and change nothing. */
static void test_bad_bodies(void **state)
{
    th_server_t *s = *state;
    uint64_t index = 0;
    form_council_and_window(s->port, &index);
    char big[1200];
    snprintf(big, sizeof(big), "{\"task_id\":\"t-big\",\"title\":\"%01100d\"}",
             0);
    const bad_case_t cases[] = {
        {"/api/v1/tasks", "{\"task_id\":", "MALFORMED_JSON"},
        {"/api/v1/tasks", "", "MALFORMED_JSON"},
        {"/api/v1/tasks",
         "{\"task_id\":\"a\",\"task_id\":\"b\",\"title\":\"x\"}",
         "MALFORMED_JSON"},
        {"/api/v1/tasks", "[\"t\",\"x\"]", "BAD_PAYLOAD"},
        {"/api/v1/tasks", "\"t\"", "BAD_PAYLOAD"},
        {"/api/v1/tasks", "{\"task_id\":\"t-1\"}", "BAD_PAYLOAD"},
        {"/api/v1/tasks", "{\"task_id\":\"t-1\",\"title\":null}",
         "BAD_PAYLOAD"},
        {"/api/v1/tasks", "{\"task_id\":7,\"title\":\"x\"}", "BAD_PAYLOAD"},
        {"/api/v1/tasks", "{\"task_id\":\"\",\"title\":\"x\"}", "BAD_PAYLOAD"},
        {"/api/v1/tasks", "{\"task_id\":\"t-1\",\"title\":\"x\",\"x\":1}",
         "BAD_PAYLOAD"},
        {"/api/v1/tasks", big, "BAD_PAYLOAD"},
        {"/api/v1/tasks/t-1/claim", "{}", "BAD_PAYLOAD"},
        {"/api/v1/tasks/t-1/claim", "{\"agent_id\":\"bad\\u0001id\"}",
         "BAD_PAYLOAD"},
        {"/api/v1/tasks/t-1/claim", "{\"agent_id\":true}", "BAD_PAYLOAD"},
        {"/api/v1/tasks/t-1/complete",
         "{\"agent_id\":\"agent-a\",\"result\":5}", "BAD_PAYLOAD"},
        {"/api/v1/councils/council-1/claims", "{\"agent_id\":\"agent-d\"}",
         "BAD_PAYLOAD"},
        {"/api/v1/councils/council-1/claims",
         "{\"agent_id\":\"agent-d\",\"role\":\"lead\"}", "BAD_PAYLOAD"},
        {"/api/v1/opportunities/council", "{\"council_id\":\"c2\"}",
         "BAD_PAYLOAD"},
        {"/api/v1/opportunities/council",
         "{\"council_id\":\"c2\",\"roles\":[{\"role\":\"x\",\"required\":true}"
         "]}",
         "BAD_PAYLOAD"},
        {"/api/v1/opportunities/council",
         "{\"council_id\":\"c2\",\"roles\":[{\"role_name\":\"x\","
         "\"required\":\"yes\"}]}",
         "BAD_PAYLOAD"},
        {"/api/v1/opportunities/council",
         "{\"council_id\":\"c2\",\"roles\":[{\"role_name\":\"x\","
         "\"required\":true}],\"quorum\":1.5}",
         "BAD_PAYLOAD"},
        {"/api/v1/opportunities/council",
         "{\"council_id\":\"c2\",\"roles\":[{\"role_name\":\"x\","
         "\"required\":true}],\"quorum\":2}",
         "BAD_PAYLOAD"},
        {"/api/v1/opportunities/council",
         "{\"council_id\":\"c2\",\"roles\":[]}", "BAD_PAYLOAD"},
        /* Client bytes in messages are quoted as printable ASCII. */
        {"/api/v1/tasks",
         "{\"task_id\":\"t-1\",\"title\":\"x\",\"b\\u0007\\u00e9\":1}",
         "BAD_PAYLOAD"},
        {"/api/v1/opportunities/council",
         "{\"council_id\":\"c2\",\"roles\":[{\"role_name\":\"x\","
         "\"required\":true,\"r\\nx\":1}]}",
         "BAD_PAYLOAD"},
        {"/api/v1/tasks", "{\"task_id\":\"t-1\",\"title\":\x01\xff}",
         "MALFORMED_JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int st = 0;
        json_t *j = wpost(s->port, cases[i].path, NULL, cases[i].body, &st);
        if (strcmp(th_jstr(j, "code"), cases[i].code) != 0)
            fprintf(stderr, "case %zu (%s %s): got %s\n", i, cases[i].path,
                    cases[i].body, th_jstr(j, "code"));
        const char *m = th_jstr(j, "error");
        assert_true(m[0] != '\0');
        for (const char *c = m; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                fail_msg("case %zu: message byte 0x%02x in \"%s\"", i,
                         (unsigned char)*c, m);
        expect_error(s->port, j, st, 400, cases[i].code, index);
        json_decref(j);
    }
    /* An optional field given as null counts as absent. */
    adapter_ok(s->port, "/api/v1/tasks",
               "{\"task_id\":\"t-1\",\"title\":\"x\"}", &index);
    adapter_ok(s->port, "/api/v1/tasks/t-1/claim", "{\"agent_id\":\"agent-a\"}",
               &index);
    adapter_ok(s->port, "/api/v1/tasks/t-1/complete",
               "{\"agent_id\":\"agent-a\",\"result\":null}", &index);
}

/* A claim on a council that is not the current one answers
 * COUNCIL_MISMATCH; a bad status filter answers BAD_FIELD; other methods on
 * adapter routes answer 405. */
static void test_council_mismatch_and_filters(void **state)
{
    th_server_t *s = *state;
    uint64_t index = 0;
    int st = 0;
    transition_ok(s->port, "LICENSE_GRANTED", "operator", NULL, NULL, &index);
    adapter_ok(s->port, "/api/v1/opportunities/council",
               "{\"council_id\":\"council-1\",\"roles\":[{\"role_name\":"
               "\"lead\",\"required\":true}]}",
               &index);
    json_t *j = wpost(s->port, "/api/v1/councils/council-2/claims", NULL,
                      "{\"agent_id\":\"agent-a\",\"role_name\":\"lead\"}", &st);
    expect_error(s->port, j, st, 400, "COUNCIL_MISMATCH", index);
    json_decref(j);
    j = wpost(s->port, "/api/v1/councils/council-1/claims", NULL,
              "{\"agent_id\":\"agent-a\",\"role_name\":\"boss\"}", &st);
    expect_error(s->port, j, st, 400, "UNKNOWN_ROLE", index);
    json_decref(j);
    /* A task cannot be created before a window is open. */
    j = wpost(s->port, "/api/v1/tasks", NULL,
              "{\"task_id\":\"t-1\",\"title\":\"x\"}", &st);
    expect_error(s->port, j, st, 400, "INVALID_PHASE", index);
    json_decref(j);

    j = th_get_json(s->port, "/api/v1/tasks?status=done", &st);
    expect_error(s->port, j, st, 400, "BAD_FIELD", index);
    json_decref(j);
    j = th_get_json(s->port, "/api/v1/tasks?status=", &st);
    expect_error(s->port, j, st, 400, "BAD_FIELD", index);
    json_decref(j);
    expect_ids(s->port, NULL, "");
    expect_ids(s->port, "?status=open", "");

    th_resp_t r;
    assert_int_equal(
        th_http(s->port, "DELETE", "/api/v1/tasks/t-1/claim", NULL, NULL, &r),
        0);
    assert_int_equal(r.status, 405);
    char *allow = th_header(&r, "Allow");
    assert_non_null(allow);
    assert_non_null(strstr(allow, "POST"));
    free(allow);
    th_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chorus_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_council_mismatch_and_filters,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
