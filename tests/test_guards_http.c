// LABEL: integration
// TIMEOUT: 120
/* test_guards_http: the http guard provider against real loopback guard
 * services (tests/helpers/guard_server.c): pass, deny, PolicyOK=false,
 * timeouts and broken answers under fail-closed and fail-open, only the
 * required guards called, concurrent calls, connection reuse, thread safety
 * and the request body contract of docs/GUARDS.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "catalog.h"
#include "guard_server.h"
#include "guards.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const routes[SW_GUARD__COUNT] = {
    "/license", "/backbeat", "/quorum", "/policy", "/mcp"};

typedef struct fixture {
    guard_server_t *gs;
    char url[SW_GUARD__COUNT][128];
    sw_guards_config_t cfg;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    f->gs = guard_server_start();
    if (f->gs == NULL) {
        free(f);
        return -1;
    }
    sw_guards_config_defaults(&f->cfg);
    f->cfg.kind = SW_GUARDS_HTTP;
    f->cfg.timeout_ms = 2000;
    for (int i = 0; i < SW_GUARD__COUNT; i++) {
        guard_server_set(f->gs, routes[i], GS_PASS, 0, 0);
        guard_server_url(f->gs, routes[i], f->url[i], sizeof(f->url[i]));
        f->cfg.url[i] = f->url[i];
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    guard_server_stop(f->gs);
    free(f);
    return 0;
}

static void mkprop(sw_proposal_t *p, const char *transition, const char *signer)
{
    memset(p, 0, sizeof(*p));
    p->entry = sw_catalog_find(transition);
    assert_non_null(p->entry);
    p->raw = json_pack("{s:s, s:s, s:s, s:{s:s}}", "transition", transition,
                       "signer", signer, "idem_key", "k-\"1\"", "payload",
                       "note", "caf\xc3\xa9");
    assert_non_null(p->raw);
    p->transition = json_string_value(json_object_get(p->raw, "transition"));
    p->signer = json_string_value(json_object_get(p->raw, "signer"));
    p->idem_key = "k-\"1\"";
    p->inputs_hash = "";
    p->window_id = "";
}

static sw_guards_t eval(sw_guard_provider_t *g, const char *transition,
                        const char *signer, sw_guard_report_t *rep)
{
    sw_proposal_t p;
    sw_guards_t out;
    memset(&out, 0, sizeof(out));
    mkprop(&p, transition, signer);
    sw_guards_evaluate(g, &p, &out, rep);
    json_decref(p.raw);
    return out;
}

static sw_guard_provider_t *open_http(fixture_t *f)
{
    swoosh_error err = {0};
    sw_guard_provider_t *g = sw_guards_open(&f->cfg, &err);
    if (g == NULL)
        print_error("open: %s\n", err.msg);
    assert_non_null(g);
    assert_int_equal(sw_guards_kind(g), SW_GUARDS_HTTP);
    return g;
}

static unsigned calls(fixture_t *f, sw_guard_id_t id)
{
    return guard_server_calls(f->gs, routes[id]);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Passing services pass; only the required guard and PolicyOK are called,
 * and each receives the documented body: guard, transition, signer and the
 * proposal as received. */
static void test_pass_and_body_contract(void **state)
{
    fixture_t *f = *state;
    sw_guard_provider_t *g = open_http(f);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "LICENSE_GRANTED", "alice", &rep);
    assert_true(o.license_ok && o.policy_ok && o.backbeat_ok && o.quorum_ok &&
                o.mcp_healthy);
    assert_int_equal(rep.status[SW_GUARD_LICENSE], SW_GS_PASS);
    assert_int_equal(rep.status[SW_GUARD_POLICY], SW_GS_PASS);
    assert_int_equal(rep.status[SW_GUARD_MCP], SW_GS_NOT_REQUIRED);
    assert_int_equal(calls(f, SW_GUARD_LICENSE), 1);
    assert_int_equal(calls(f, SW_GUARD_POLICY), 1);
    assert_int_equal(calls(f, SW_GUARD_BACKBEAT), 0);
    assert_int_equal(calls(f, SW_GUARD_QUORUM), 0);
    assert_int_equal(calls(f, SW_GUARD_MCP), 0);

    for (int i = 0; i < 2; i++) {
        sw_guard_id_t id = i == 0 ? SW_GUARD_LICENSE : SW_GUARD_POLICY;
        char *body = guard_server_last_body(f->gs, routes[id]);
        assert_non_null(body);
        json_error_t je;
        json_t *j = json_loads(body, JSON_REJECT_DUPLICATES, &je);
        free(body);
        assert_non_null(j);
        assert_int_equal(json_object_size(j), 4);
        assert_string_equal(json_string_value(json_object_get(j, "guard")),
                            sw_guard_name(id));
        assert_string_equal(json_string_value(json_object_get(j, "transition")),
                            "LICENSE_GRANTED");
        assert_string_equal(json_string_value(json_object_get(j, "signer")),
                            "alice");
        json_t *prop = json_object_get(j, "proposal");
        assert_string_equal(
            json_string_value(json_object_get(prop, "idem_key")), "k-\"1\"");
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(prop, "payload"), "note")),
                            "caf\xc3\xa9");
        json_decref(j);
    }
    sw_guards_close(g);
}

/* {"ok":false} fails the guard (GUARD_REJECTED path) with the service's
 * reason, without touching the other outcomes, and the refusal is logged
 * with that reason (docs/GUARDS.md "Response"). */
static void test_deny(void **state)
{
    fixture_t *f = *state;
    guard_server_set(f->gs, "/quorum", GS_DENY, 0, 0);
    sw_guard_provider_t *g = open_http(f);
    sw_guard_report_t rep;
    FILE *log = tmpfile();
    assert_non_null(log);
    sw_log_set_fd(fileno(log));
    sw_guards_t o = eval(g, "COUNCIL_QUORUM_CERT", "alice", &rep);
    sw_log_set_fd(2);
    assert_false(o.quorum_ok);
    assert_true(o.policy_ok && o.license_ok);
    assert_int_equal(rep.status[SW_GUARD_QUORUM], SW_GS_DENY);
    assert_string_equal(rep.detail[SW_GUARD_QUORUM], "denied by test");
    assert_int_equal(calls(f, SW_GUARD_QUORUM), 1);
    char line[1024] = "";
    rewind(log);
    assert_non_null(fgets(line, sizeof line, log));
    assert_non_null(strstr(line, " event=guard_denied guard=QuorumOK "
                                 "transition=COUNCIL_QUORUM_CERT "
                                 "signer=alice reason=\"denied by test\""));
    assert_null(fgets(line, sizeof line, log)); /* PolicyOK passed: no line */
    fclose(log);
    sw_guards_close(g);
}

/* A policy service saying no makes PolicyOK false (the quarantine path) for
 * a transition that requires no other guard; no other service is called. */
static void test_policy_false(void **state)
{
    fixture_t *f = *state;
    guard_server_set(f->gs, "/policy", GS_DENY, 0, 0);
    sw_guard_provider_t *g = open_http(f);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "INGESTION_STARTED", "eve", &rep);
    assert_false(o.policy_ok);
    assert_true(o.license_ok && o.backbeat_ok && o.quorum_ok && o.mcp_healthy);
    assert_int_equal(rep.status[SW_GUARD_POLICY], SW_GS_DENY);
    assert_int_equal(calls(f, SW_GUARD_POLICY), 1);
    for (int i = 0; i < SW_GUARD__COUNT; i++)
        if (i != SW_GUARD_POLICY)
            assert_int_equal(calls(f, (sw_guard_id_t)i), 0);
    sw_guards_close(g);
}

/* Each transition calls exactly the guards of its catalog row plus policy
 * (SPEC §5): B for EXECUTION_BEAT, M for ENV_HEALTH_GREEN, Q for
 * EXECUTION_PLAN_LOCKED. */
static void test_only_required_called(void **state)
{
    fixture_t *f = *state;
    sw_guard_provider_t *g = open_http(f);
    static const struct {
        const char *t;
        sw_guard_id_t id;
    } rows[] = {{"EXECUTION_BEAT", SW_GUARD_BACKBEAT},
                {"ENV_HEALTH_GREEN", SW_GUARD_MCP},
                {"EXECUTION_PLAN_LOCKED", SW_GUARD_QUORUM},
                {"COUNCIL_TOOLING_SYNCED", SW_GUARD_MCP}};
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        guard_server_reset_counts(f->gs);
        sw_guard_report_t rep;
        eval(g, rows[r].t, "alice", &rep);
        for (int i = 0; i < SW_GUARD__COUNT; i++) {
            bool want = i == (int)rows[r].id || i == SW_GUARD_POLICY;
            assert_int_equal(calls(f, (sw_guard_id_t)i), want ? 1 : 0);
            assert_int_equal(rep.status[i] == SW_GS_NOT_REQUIRED, !want);
        }
    }
    sw_guards_close(g);
}

/* A hanging service is cut off at the timeout and fails closed; the same
 * provider works again once the service answers. */
static void test_timeout_fail_closed(void **state)
{
    fixture_t *f = *state;
    guard_server_set(f->gs, "/license", GS_HANG, 30000, 0);
    f->cfg.timeout_ms = 150;
    sw_guard_provider_t *g = open_http(f);
    sw_guard_report_t rep;
    uint64_t t0 = mono_ms();
    sw_guards_t o = eval(g, "LICENSE_GRANTED", "alice", &rep);
    uint64_t took = mono_ms() - t0;
    assert_false(o.license_ok);
    assert_true(o.policy_ok);
    assert_int_equal(rep.status[SW_GUARD_LICENSE], SW_GS_ERROR);
    assert_non_null(strstr(rep.detail[SW_GUARD_LICENSE], "150 ms"));
    assert_non_null(strstr(rep.detail[SW_GUARD_LICENSE], "failed closed"));
    /* Bounded by the timeout, far below the 30 s hang. */
    assert_true(took < 10000);
    guard_server_set(f->gs, "/license", GS_PASS, 0, 0);
    assert_true(eval(g, "LICENSE_GRANTED", "alice", NULL).license_ok);
    sw_guards_close(g);
}

/* With fail-open configured for a guard, a timeout passes that guard while
 * an unconfigured guard still fails closed. */
static void test_timeout_fail_open(void **state)
{
    fixture_t *f = *state;
    guard_server_set(f->gs, "/license", GS_HANG, 30000, 0);
    guard_server_set(f->gs, "/policy", GS_HANG, 30000, 0);
    f->cfg.timeout_ms = 150;
    f->cfg.fail_open[SW_GUARD_LICENSE] = true;
    sw_guard_provider_t *g = open_http(f);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "LICENSE_GRANTED", "alice", &rep);
    assert_true(o.license_ok);
    assert_false(o.policy_ok);
    assert_int_equal(rep.status[SW_GUARD_LICENSE], SW_GS_ERROR);
    assert_non_null(strstr(rep.detail[SW_GUARD_LICENSE], "failed open"));
    assert_non_null(strstr(rep.detail[SW_GUARD_POLICY], "failed closed"));
    sw_guards_close(g);
}

/* Garbage bodies, a non-boolean "ok" and a 500 status (even with
 * {"ok":true}) are no answer: fail-closed by default, pass when fail-open. */
static void test_broken_answers(void **state)
{
    fixture_t *f = *state;
    static const struct {
        gs_behaviour_t b;
        const char *needle;
    } cases[] = {{GS_GARBAGE, "boolean \"ok\""},
                 {GS_NOT_BOOL, "boolean \"ok\""},
                 {GS_STATUS_500, "HTTP status 500"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int open = 0; open <= 1; open++) {
            guard_server_set(f->gs, "/mcp", cases[i].b, 0, 0);
            f->cfg.fail_open[SW_GUARD_MCP] = open == 1;
            sw_guard_provider_t *g = open_http(f);
            sw_guard_report_t rep;
            sw_guards_t o = eval(g, "ENV_HEALTH_GREEN", "alice", &rep);
            assert_int_equal(o.mcp_healthy, open == 1);
            assert_true(o.policy_ok);
            assert_int_equal(rep.status[SW_GUARD_MCP], SW_GS_ERROR);
            assert_non_null(strstr(rep.detail[SW_GUARD_MCP], cases[i].needle));
            sw_guards_close(g);
        }
    }
}

/* A refused connection (nothing listening) fails closed. */
static void test_connection_refused(void **state)
{
    fixture_t *f = *state;
    guard_server_t *gone = guard_server_start();
    assert_non_null(gone);
    char url[128];
    guard_server_url(gone, "/policy", url, sizeof(url));
    guard_server_stop(gone);
    f->cfg.url[SW_GUARD_POLICY] = url;
    sw_guard_provider_t *g = open_http(f);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "CONTROL_PAUSE", "root", &rep);
    assert_false(o.policy_ok);
    assert_int_equal(rep.status[SW_GUARD_POLICY], SW_GS_ERROR);
    sw_guards_close(g);
}

/* A guard without a URL passes without a call (documented). */
static void test_no_url_passes(void **state)
{
    fixture_t *f = *state;
    f->cfg.url[SW_GUARD_LICENSE] = NULL;
    f->cfg.url[SW_GUARD_POLICY] = "";
    sw_guard_provider_t *g = open_http(f);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "LICENSE_GRANTED", "alice", &rep);
    assert_true(o.license_ok && o.policy_ok);
    assert_int_equal(rep.status[SW_GUARD_LICENSE], SW_GS_NO_SERVICE);
    assert_int_equal(rep.status[SW_GUARD_POLICY], SW_GS_NO_SERVICE);
    assert_int_equal(calls(f, SW_GUARD_LICENSE), 0);
    assert_int_equal(calls(f, SW_GUARD_POLICY), 0);
    sw_guards_close(g);
}

/* The two calls of one evaluation are in flight at the same time: each
 * service answers only once both requests have arrived, which sequential
 * calls could never achieve within the timeout. */
static void test_calls_are_concurrent(void **state)
{
    fixture_t *f = *state;
    guard_server_set(f->gs, "/license", GS_RENDEZVOUS, 5000, 2);
    guard_server_set(f->gs, "/policy", GS_RENDEZVOUS, 5000, 2);
    f->cfg.timeout_ms = 4000;
    sw_guard_provider_t *g = open_http(f);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "LICENSE_GRANTED", "alice", &rep);
    assert_true(o.license_ok);
    assert_true(o.policy_ok);
    assert_int_equal(rep.status[SW_GUARD_LICENSE], SW_GS_PASS);
    assert_int_equal(guard_server_max_inflight(f->gs), 2);
    sw_guards_close(g);
}

/* Sequential evaluations reuse kept-alive connections instead of opening
 * one per call. */
static void test_connection_reuse(void **state)
{
    fixture_t *f = *state;
    sw_guard_provider_t *g = open_http(f);
    guard_server_reset_counts(f->gs);
    for (int i = 0; i < 10; i++)
        assert_true(eval(g, "INGESTION_STARTED", "alice", NULL).policy_ok);
    assert_int_equal(calls(f, SW_GUARD_POLICY), 10);
    assert_int_equal(guard_server_connections(f->gs), 1);
    sw_guards_close(g);
}

typedef struct worker {
    sw_guard_provider_t *g;
    int ok;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < 25; i++) {
        sw_guards_t o = eval(w->g, "EXECUTION_BEAT", "alice", NULL);
        if (o.backbeat_ok && o.policy_ok)
            w->ok++;
    }
    return NULL;
}

/* Many request threads can evaluate on one provider at once; every call
 * reaches its service and passes. */
static void test_threads(void **state)
{
    fixture_t *f = *state;
    sw_guard_provider_t *g = open_http(f);
    enum { N = 4 };
    pthread_t th[N];
    worker_t w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker_t){.g = g};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].ok, 25);
    }
    assert_int_equal(calls(f, SW_GUARD_BACKBEAT), N * 25);
    assert_int_equal(calls(f, SW_GUARD_POLICY), N * 25);
    sw_guards_close(g);
}

/* Bad settings are refused at open, naming the variable; reload is a no-op
 * for http. */
static void test_open_validation(void **state)
{
    fixture_t *f = *state;
    static const char *bad[] = {"ftp://127.0.0.1/x", "127.0.0.1:80/policy",
                                "http://", "http://exa mple/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sw_guards_config_t cfg = f->cfg;
        cfg.url[SW_GUARD_QUORUM] = bad[i];
        swoosh_error err = {0};
        assert_null(sw_guards_open(&cfg, &err));
        assert_int_equal(err.code, SWOOSH_EINVAL);
        assert_non_null(strstr(err.msg, "SWOOSH_GUARD_QUORUM_URL"));
    }
    sw_guards_config_t cfg = f->cfg;
    cfg.timeout_ms = 0;
    swoosh_error err = {0};
    assert_null(sw_guards_open(&cfg, &err));
    assert_non_null(strstr(err.msg, "SWOOSH_GUARD_TIMEOUT_MS"));

    sw_guard_provider_t *g = open_http(f);
    assert_int_equal(sw_guards_reload(g, &err), SWOOSH_OK);
    sw_guards_close(g);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_pass_and_body_contract), T(test_deny),
        T(test_policy_false),           T(test_only_required_called),
        T(test_timeout_fail_closed),    T(test_timeout_fail_open),
        T(test_broken_answers),         T(test_connection_refused),
        T(test_no_url_passes),          T(test_calls_are_concurrent),
        T(test_connection_reuse),       T(test_threads),
        T(test_open_validation),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
