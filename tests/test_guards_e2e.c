// LABEL: integration
// TIMEOUT: 300
/* test_guards_e2e: guards end to end (SPEC §4, §5 step 6) with the real
 * binary: `--guards http` against real loopback guard services (pass, deny,
 * PolicyOK=false → quarantine, timeout and garbage → fail-closed, fail-open
 * where configured), replay that never consults a guard (restart with the
 * services stopped, and with services that would now deny everything), and
 * the static provider's SIGHUP reload changing outcomes without a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "guard_server.h"
#include "server.h"
#include "jsonq.h"
#include "tmpdir.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS "300"

static const char *const ROUTES[5] = {"/license", "/backbeat", "/quorum",
                                      "/policy", "/mcp"};
static const char *const FLAGS[5] = {
    "--guard-license-url", "--guard-backbeat-url", "--guard-quorum-url",
    "--guard-policy-url", "--guard-mcp-url"};

/* Flags for `--guards http` with every guard's URL on `gs`. */
typedef struct http_flags {
    char urls[5][128];
    const char *argv[16];
} http_flags_t;

static const char *const *http_flags(http_flags_t *f, guard_server_t *gs)
{
    int n = 0;
    f->argv[n++] = "--guards";
    f->argv[n++] = "http";
    f->argv[n++] = "--guard-timeout-ms";
    f->argv[n++] = TIMEOUT_MS;
    for (int i = 0; i < 5; i++) {
        guard_server_url(gs, ROUTES[i], f->urls[i], sizeof(f->urls[i]));
        f->argv[n++] = FLAGS[i];
        f->argv[n++] = f->urls[i];
    }
    f->argv[n] = NULL;
    return f->argv;
}

/* Posts a proposal; returns the answer (new reference) and its status. */
static json_t *propose(int port, const char *transition, const char *signer,
                       const char *idem, const char *payload,
                       const char *window, int *st)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"transition\":\"%s\",\"signer\":\"%s\",\"idem_key\":\"%s\","
             "\"payload\":%s%s%s%s}",
             transition, signer, idem, payload ? payload : "{}",
             window ? ",\"window_id\":\"" : "", window ? window : "",
             window ? "\"" : "");
    json_t *j = th_post_json(port, "/transition", body, st);
    assert_non_null(j);
    return j;
}

/* Expects the proposal to apply at the next index. */
static void ok(int port, const char *transition, const char *signer,
               const char *payload, const char *window, uint64_t *index)
{
    char idem[64];
    snprintf(idem, sizeof(idem), "ok-%llu", (unsigned long long)*index + 1);
    int st = 0;
    json_t *j = propose(port, transition, signer, idem, payload, window, &st);
    if (st != 200) {
        char *d = json_dumps(j, JSON_COMPACT);
        fprintf(stderr, "%s: unexpected %d %s\n", transition, st, d);
        free(d);
    }
    assert_int_equal(st, 200);
    assert_int_equal(th_jint(j, "index"), ++*index);
    json_decref(j);
}

/* Expects GUARD_REJECTED naming `guard`, with nothing logged. */
static void rejected(int port, const char *transition, const char *payload,
                     const char *window, const char *guard, uint64_t index)
{
    int st = 0;
    json_t *j =
        propose(port, transition, "agent-a", "rej", payload, window, &st);
    assert_int_equal(st, 400);
    assert_string_equal(th_jstr(j, "code"), "GUARD_REJECTED");
    assert_non_null(strstr(th_jstr(j, "error"), guard));
    assert_true(json_is_false(json_object_get(j, "quarantined")));
    json_decref(j);
    assert_int_equal(th_health_index(port), index);
}

/* The guards object of log record `idx` (new reference). */
static json_t *logged_guards(int port, uint64_t idx)
{
    char path[64];
    snprintf(path, sizeof(path), "/log?from=%llu&limit=1",
             (unsigned long long)idx);
    int st = 0;
    json_t *j = th_get_json(port, path, &st);
    assert_int_equal(st, 200);
    json_t *rec = json_array_get(json_object_get(j, "records"), 0);
    assert_int_equal(th_jint(rec, "index"), idx);
    json_t *g = json_object_get(rec, "guards");
    json_incref(g);
    json_decref(j);
    return g;
}

/* Everything a test starts, so teardown cleans up even after a failed
 * assertion. */
typedef struct fixture {
    th_server_t s;
    guard_server_t *gs, *deny;
    char dir[64], path[256];
} fixture_t;

static int setup(void **state)
{
    *state = calloc(1, sizeof(fixture_t));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    th_server_cleanup(&fx->s);
    if (fx->gs)
        guard_server_stop(fx->gs);
    if (fx->deny)
        guard_server_stop(fx->deny);
    if (fx->path[0])
        unlink(fx->path);
    if (fx->dir[0])
        rmdir(fx->dir);
    free(fx);
    return 0;
}

static void set_all(guard_server_t *gs, gs_behaviour_t b)
{
    for (int i = 0; i < 5; i++)
        guard_server_set(gs, ROUTES[i], b, 0, 0);
}

/* Real guard services decide outcomes: pass, deny (GUARD_REJECTED, nothing
 * logged), timeout / garbage / 500 / non-boolean (fail-closed), PolicyOK=
 * false (POLICY_VIOLATION, quarantine logged); then replay after a crash
 * consults no guard: with the services stopped, and with services that
 * would deny everything, the state hash is the same and no call arrives. */
static void test_http_guards(void **state)
{
    fixture_t *fx = *state;
    guard_server_t *gs = fx->gs = guard_server_start();
    assert_non_null(gs);
    set_all(gs, GS_PASS);
    http_flags_t f;
    th_server_t *sp = &fx->s;
    assert_int_equal(th_server_start(sp, http_flags(&f, gs)), 0);
    int port = sp->port, st = 0;
    uint64_t index = 0;
    /* Guard calls block the worker that makes them: auto means 4. */
    assert_true(th_server_log_has(sp, " http_threads=4"));

    /* Pass: LicenseOK and PolicyOK are asked, nothing else. */
    ok(port, "LICENSE_GRANTED", "operator", NULL, NULL, &index);
    assert_int_equal(guard_server_calls(gs, "/license"), 1);
    assert_int_equal(guard_server_calls(gs, "/policy"), 1);
    assert_int_equal(guard_server_calls(gs, "/quorum"), 0);
    char *body = guard_server_last_body(gs, "/license");
    assert_non_null(body);
    json_t *req = json_loads(body, 0, NULL);
    free(body);
    assert_string_equal(th_jstr(req, "guard"), "LicenseOK");
    assert_string_equal(th_jstr(req, "transition"), "LICENSE_GRANTED");
    assert_string_equal(th_jstr(req, "signer"), "operator");
    json_decref(req);

    /* The adapter's proposals go through the same guards. */
    guard_server_reset_counts(gs);
    int adapter_st = 0;
    json_t *j = th_post_json(port, "/api/v1/opportunities/council",
                             "{\"council_id\":\"c1\",\"roles\":[{\"role_name\":"
                             "\"lead\",\"required\":true}]}",
                             &adapter_st);
    assert_int_equal(adapter_st, 200);
    assert_int_equal(th_jint(j, "index"), ++index);
    json_decref(j);
    assert_int_equal(guard_server_calls(gs, "/policy"), 1);
    body = guard_server_last_body(gs, "/policy");
    assert_non_null(strstr(body, "\"signer\":\"whoosh-adapter\""));
    free(body);
    ok(port, "COUNCIL_ROLE_CLAIMED", "agent-a",
       "{\"council_id\":\"c1\",\"role\":\"lead\",\"agent_id\":\"agent-a\"}",
       NULL, &index);

    /* Deny: QuorumOK false → GUARD_REJECTED; the corrected retry passes. */
    const char *cert = "{\"council_id\":\"c1\",\"cert_hash\":\"h1\"}";
    guard_server_set(gs, "/quorum", GS_DENY, 0, 0);
    rejected(port, "COUNCIL_QUORUM_CERT", cert, NULL, "QuorumOK", index);
    guard_server_set(gs, "/quorum", GS_PASS, 0, 0);
    ok(port, "COUNCIL_QUORUM_CERT", "agent-a", cert, NULL, &index);
    ok(port, "COUNCIL_ELECT_COMPLETE", "agent-a", "{\"council_id\":\"c1\"}",
       NULL, &index);

    /* Fail-closed: a hanging service times out, and garbage, HTTP 500 and a
     * non-boolean ok all count as no answer. */
    const char *c1 = "{\"council_id\":\"c1\"}";
    guard_server_set(gs, "/mcp", GS_HANG, 10000, 0);
    long long t0 = th_now_ms();
    rejected(port, "COUNCIL_TOOLING_SYNCED", c1, NULL, "MCPHealthy", index);
    long long took = th_now_ms() - t0;
    assert_true(took >= 250);
    assert_true(took < 5000);
    gs_behaviour_t broken[] = {GS_GARBAGE, GS_STATUS_500, GS_NOT_BOOL};
    for (size_t i = 0; i < 3; i++) {
        guard_server_set(gs, "/mcp", broken[i], 0, 0);
        unsigned before = guard_server_calls(gs, "/mcp");
        rejected(port, "COUNCIL_TOOLING_SYNCED", c1, NULL, "MCPHealthy", index);
        assert_int_equal(guard_server_calls(gs, "/mcp"), before + 1);
    }
    guard_server_set(gs, "/mcp", GS_PASS, 0, 0);
    ok(port, "COUNCIL_TOOLING_SYNCED", "agent-a", c1, NULL, &index);
    json_t *g = logged_guards(port, index);
    assert_true(json_is_true(json_object_get(g, "MCPHealthy")));
    json_decref(g);

    /* PolicyOK=false through the adapter: quarantine, logged. */
    guard_server_set(gs, "/policy", GS_DENY, 0, 0);
    j = th_post_json(port, "/api/v1/councils/c1/claims",
                     "{\"agent_id\":\"eve\",\"role_name\":\"lead\"}", &st);
    assert_int_equal(st, 400);
    assert_string_equal(th_jstr(j, "code"), "POLICY_VIOLATION");
    assert_true(json_is_true(json_object_get(j, "quarantined")));
    assert_int_equal(th_jint(j, "index"), ++index);
    json_decref(j);
    j = th_get_json(port, "/state?projection=Control", &st);
    json_t *ctl = json_object_get(json_object_get(j, "projection"), "Control");
    assert_true(json_is_true(json_object_get(ctl, "Quarantined")));
    assert_string_equal(th_jstr(ctl, "QuarantineReason"),
                        "policy violation: COUNCIL_ROLE_CLAIMED by eve");
    json_decref(j);
    g = logged_guards(port, index);
    assert_true(json_is_false(json_object_get(g, "PolicyOK")));
    json_decref(g);
    /* Quarantined: ordinary transitions are refused until released. */
    guard_server_set(gs, "/policy", GS_PASS, 0, 0);
    j = propose(port, "ENV_ALLOCATION_REQUESTED", "operator", "q1",
                "{\"resources\":{\"cpu\":\"1\"}}", NULL, &st);
    assert_string_equal(th_jstr(j, "code"), "QUARANTINED");
    json_decref(j);
    ok(port, "QUARANTINE_RELEASE", "operator", NULL, NULL, &index);
    ok(port, "ENV_ALLOCATION_REQUESTED", "operator",
       "{\"resources\":{\"cpu\":\"1\"}}", NULL, &index);

    /* Replay: crash (no shutdown snapshot), then restart with the guard
     * services stopped — every URL now refuses connections. */
    char *hash = th_health_hash(port);
    assert_int_equal(th_server_stop(sp, SIGKILL, 10000), 0);
    guard_server_stop(gs);
    fx->gs = gs = NULL;
    assert_int_equal(th_server_restart(sp, f.argv), 0);
    char *hash2 = th_health_hash(sp->port);
    assert_string_equal(hash2, hash);
    assert_int_equal(th_health_index(sp->port), index);
    char replayed[64];
    snprintf(replayed, sizeof(replayed), "replayed=%llu",
             (unsigned long long)index);
    assert_true(th_server_log_has(sp, replayed));
    free(hash2);

    /* Again with live services that deny everything and count calls:
     * replay asks none of them and the hash is unchanged. */
    assert_int_equal(th_server_stop(sp, SIGKILL, 10000), 0);
    guard_server_t *deny = fx->deny = guard_server_start();
    assert_non_null(deny);
    set_all(deny, GS_DENY);
    http_flags_t f2;
    assert_int_equal(th_server_restart(sp, http_flags(&f2, deny)), 0);
    hash2 = th_health_hash(sp->port);
    assert_string_equal(hash2, hash);
    free(hash2);
    for (int i = 0; i < 5; i++)
        assert_int_equal(guard_server_calls(deny, ROUTES[i]), 0);
    assert_int_equal(guard_server_connections(deny), 0);
    /* ...while a new proposal does reach them. */
    j = propose(sp->port, "ENV_ALLOCATED", "operator", "d1", NULL, NULL, &st);
    assert_string_equal(th_jstr(j, "code"), "POLICY_VIOLATION");
    json_decref(j);
    assert_int_equal(guard_server_calls(deny, "/policy"), 1);

    free(hash);
}

/* SWOOSH_GUARD_<NAME>_FAIL_OPEN=1 makes an unanswered call pass for that
 * guard only; the others stay fail-closed, including on a refused
 * connection. */
static void test_fail_open(void **state)
{
    fixture_t *fx = *state;
    guard_server_t *gs = fx->gs = guard_server_start();
    assert_non_null(gs);
    set_all(gs, GS_PASS);
    /* A port that refuses connections: a stopped service's. */
    guard_server_t *gone = guard_server_start();
    assert_non_null(gone);
    char gone_url[128];
    guard_server_url(gone, "/quorum", gone_url, sizeof(gone_url));
    guard_server_stop(gone);

    http_flags_t f;
    http_flags(&f, gs);
    snprintf(f.urls[2], sizeof(f.urls[2]), "%s", gone_url);
    setenv("SWOOSH_GUARD_MCP_FAIL_OPEN", "1", 1);
    int rc = th_server_start(&fx->s, f.argv);
    unsetenv("SWOOSH_GUARD_MCP_FAIL_OPEN");
    assert_int_equal(rc, 0);
    int port = fx->s.port;
    uint64_t index = 0;
    ok(port, "LICENSE_GRANTED", "operator", NULL, NULL, &index);
    ok(port, "COUNCIL_PROFILES_LOADED", "operator",
       "{\"council_id\":\"c1\",\"roles\":[{\"role\":\"lead\",\"required\":"
       "true}]}",
       NULL, &index);
    ok(port, "COUNCIL_ROLE_CLAIMED", "agent-a",
       "{\"council_id\":\"c1\",\"role\":\"lead\",\"agent_id\":\"agent-a\"}",
       NULL, &index);
    /* QuorumOK (fail-closed) cannot be reached: refused → rejected. */
    rejected(port, "COUNCIL_QUORUM_CERT",
             "{\"council_id\":\"c1\",\"cert_hash\":\"h1\"}", NULL, "QuorumOK",
             index);

    /* MCPHealthy (fail-open): hanging and garbage services pass. */
    ok(port, "ENV_ALLOCATION_REQUESTED", "operator",
       "{\"resources\":{\"cpu\":\"1\"}}", NULL, &index);
    ok(port, "ENV_ALLOCATED", "operator", NULL, NULL, &index);
    ok(port, "ENV_PROVISIONED", "operator", NULL, NULL, &index);
    guard_server_set(gs, "/mcp", GS_HANG, 10000, 0);
    ok(port, "ENV_HEALTH_GREEN", "operator", NULL, NULL, &index);
    json_t *g = logged_guards(port, index);
    assert_true(json_is_true(json_object_get(g, "MCPHealthy")));
    json_decref(g);
    ok(port, "ENV_HEALTH_RED", "operator", "{\"reason\":\"disk\"}", NULL,
       &index);
    guard_server_set(gs, "/mcp", GS_GARBAGE, 0, 0);
    unsigned before = guard_server_calls(gs, "/mcp");
    ok(port, "ENV_HEALTH_GREEN", "operator", NULL, NULL, &index);
    assert_int_equal(guard_server_calls(gs, "/mcp"), before + 1);
    /* A real "no" is still a no, fail-open or not. */
    ok(port, "ENV_HEALTH_RED", "operator", "{\"reason\":\"disk\"}", NULL,
       &index);
    guard_server_set(gs, "/mcp", GS_DENY, 0, 0);
    rejected(port, "ENV_HEALTH_GREEN", NULL, NULL, "MCPHealthy", index);
}

/* Writes `content` to path atomically (tmp + rename). */
static void write_file(const char *path, const char *content)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    assert_non_null(fp);
    assert_true(fputs(content, fp) >= 0);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(rename(tmp, path), 0);
}

/* Occurrences of `needle` in the server log. */
static int log_count(const th_server_t *s, const char *needle)
{
    FILE *fp = fopen(s->log_path, "r");
    if (!fp)
        return 0;
    int n = 0;
    char line[4096];
    while (fgets(line, sizeof(line), fp))
        if (strstr(line, needle))
            n++;
    fclose(fp);
    return n;
}

/* Sends SIGHUP and waits (bounded, polling the log) until the server has
 * logged one more reload line containing `needle`. */
static void reload(th_server_t *s, const char *needle)
{
    int before = log_count(s, needle);
    assert_int_equal(kill(s->pid, SIGHUP), 0);
    long long deadline = th_now_ms() + 10000;
    while (log_count(s, needle) == before && th_now_ms() < deadline) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(log_count(s, needle), before + 1);
}

/* The static provider's config file is re-read on SIGHUP: outcomes change
 * without a restart, and a bad file keeps the previous rules. */
static void test_static_reload(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(th_tmpdir_make(fx->dir, sizeof(fx->dir), "guards"), 0);
    char *path = fx->path;
    snprintf(path, sizeof(fx->path), "%s/guards.json", fx->dir);
    write_file(path, "{\"deny_signers\":[\"mallory\"]}");
    const char *flags[] = {"--guards", "static", "--guard-config", path, NULL};
    th_server_t *s = &fx->s;
    assert_int_equal(th_server_start(s, flags), 0);
    int port = s->port, st = 0;
    uint64_t index = 0;
    /* Static guards never block a handler: auto means one HTTP thread. */
    assert_true(th_server_log_has(s, " http_threads=1"));

    json_t *j =
        propose(port, "LICENSE_GRANTED", "mallory", "m1", NULL, NULL, &st);
    assert_string_equal(th_jstr(j, "code"), "GUARD_REJECTED");
    json_decref(j);

    write_file(path, "{}");
    reload(s, "event=reload result=ok");
    ok(port, "LICENSE_GRANTED", "mallory", NULL, NULL, &index);

    write_file(path, "{\"deny_transitions\":[\"LICENSE_GRANTED\"]}");
    reload(s, "event=reload result=ok");
    j = propose(port, "LICENSE_GRANTED", "operator", "o1", NULL, NULL, &st);
    assert_string_equal(th_jstr(j, "code"), "GUARD_REJECTED");
    json_decref(j);

    /* A bad file is refused; the rules in force stay. */
    write_file(path, "{\"deny_transitions\":[\"LICENSE_GRANTD\"]}");
    reload(s, "event=reload result=failed");
    j = propose(port, "LICENSE_GRANTED", "operator", "o2", NULL, NULL, &st);
    assert_string_equal(th_jstr(j, "code"), "GUARD_REJECTED");
    json_decref(j);

    /* Policy violations by config, also without a restart. */
    write_file(path, "{\"policy_violation_signers\":[\"eve\"]}");
    reload(s, "event=reload result=ok");
    ok(port, "LICENSE_GRANTED", "operator", NULL, NULL, &index);
    j = propose(port, "CONTROL_PAUSE", "eve", "e1", NULL, NULL, &st);
    assert_string_equal(th_jstr(j, "code"), "POLICY_VIOLATION");
    assert_true(json_is_true(json_object_get(j, "quarantined")));
    assert_int_equal(th_jint(j, "index"), ++index);
    json_decref(j);
    assert_int_equal(th_health_index(port), index);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http_guards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_reload, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
