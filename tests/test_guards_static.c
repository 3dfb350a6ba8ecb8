// LABEL: unit
// TIMEOUT: 60
/* test_guards_static: the embedded guard provider and the shared guard rules
 * (SPEC §4 "Guards", §5 guard column): outcomes without and with a config
 * file, strict validation of the file, reload on SIGHUP (atomic, a bad file
 * keeps the old rules) and the environment settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "catalog.h"
#include "guards.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A proposal as the HTTP layer hands it over: raw JSON, catalog row and
 * signer (built by hand so the test needs only the catalog). */
static void mkprop(sw_proposal_t *p, const char *transition, const char *signer)
{
    memset(p, 0, sizeof(*p));
    p->entry = sw_catalog_find(transition);
    assert_non_null(p->entry);
    p->raw = json_pack("{s:s, s:s, s:s}", "transition", transition, "signer",
                       signer, "idem_key", "k-1");
    assert_non_null(p->raw);
    p->transition = json_string_value(json_object_get(p->raw, "transition"));
    p->signer = json_string_value(json_object_get(p->raw, "signer"));
    p->idem_key = "k-1";
    p->inputs_hash = "";
    p->window_id = "";
}

static void dropprop(sw_proposal_t *p)
{
    json_decref(p->raw);
    p->raw = NULL;
}

/* Evaluates transition/signer with provider g. */
static sw_guards_t eval(sw_guard_provider_t *g, const char *transition,
                        const char *signer, sw_guard_report_t *rep)
{
    sw_proposal_t p;
    sw_guards_t out;
    memset(&out, 0, sizeof(out));
    mkprop(&p, transition, signer);
    sw_guards_evaluate(g, &p, &out, rep);
    dropprop(&p);
    return out;
}

static char cfg_path[256];

static void write_cfg(const char *text)
{
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s.tmp", cfg_path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, cfg_path), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(cfg_path, sizeof(cfg_path), "/tmp/swoosh-guards-%d.json",
             (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(cfg_path);
    return 0;
}

static sw_guard_provider_t *open_static(const char *path, swoosh_error *err)
{
    sw_guards_config_t cfg;
    sw_guards_config_defaults(&cfg);
    cfg.static_path = path;
    return sw_guards_open(&cfg, err);
}

static bool all_true(sw_guards_t g)
{
    return g.license_ok && g.backbeat_ok && g.quorum_ok && g.policy_ok &&
           g.mcp_healthy;
}

/* Without a config file every guard passes; only the required guard and
 * PolicyOK are evaluated, the rest are reported "not required". */
static void test_default_all_pass(void **state)
{
    (void)state;
    swoosh_error err = {0};
    sw_guard_provider_t *g = open_static(NULL, &err);
    assert_non_null(g);
    assert_int_equal(sw_guards_kind(g), SW_GUARDS_STATIC);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "LICENSE_GRANTED", "alice", &rep);
    assert_true(all_true(o));
    assert_int_equal(rep.status[SW_GUARD_LICENSE], SW_GS_PASS);
    assert_int_equal(rep.status[SW_GUARD_POLICY], SW_GS_PASS);
    assert_int_equal(rep.status[SW_GUARD_BACKBEAT], SW_GS_NOT_REQUIRED);
    assert_int_equal(rep.status[SW_GUARD_QUORUM], SW_GS_NOT_REQUIRED);
    assert_int_equal(rep.status[SW_GUARD_MCP], SW_GS_NOT_REQUIRED);
    /* A NULL report is allowed. */
    sw_proposal_t p;
    sw_guards_t out;
    mkprop(&p, "INGESTION_STARTED", "bob");
    sw_guards_evaluate(g, &p, &out, NULL);
    dropprop(&p);
    assert_true(all_true(out));
    assert_int_equal(sw_guards_reload(g, &err), SWOOSH_OK);
    sw_guards_close(g);
    sw_guards_close(NULL);
}

/* "guards" fixes a guard's outcome, but only transitions that require it
 * see the false value (SPEC §5: unrequired guards are true). */
static void test_fixed_guard_only_when_required(void **state)
{
    (void)state;
    write_cfg("{\"guards\":{\"BackbeatOK\":false,\"MCPHealthy\":true}}");
    swoosh_error err = {0};
    sw_guard_provider_t *g = open_static(cfg_path, &err);
    assert_non_null(g);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "EXECUTION_BEAT", "alice", &rep);
    assert_false(o.backbeat_ok);
    assert_true(o.policy_ok && o.license_ok && o.quorum_ok && o.mcp_healthy);
    assert_int_equal(rep.status[SW_GUARD_BACKBEAT], SW_GS_DENY);
    assert_non_null(strstr(rep.detail[SW_GUARD_BACKBEAT], "BackbeatOK"));
    o = eval(g, "LICENSE_GRANTED", "alice", &rep);
    assert_true(all_true(o));
    assert_int_equal(rep.status[SW_GUARD_BACKBEAT], SW_GS_NOT_REQUIRED);
    sw_guards_close(g);
}

/* deny_signers fails the required guards of that signer's transitions and
 * leaves PolicyOK (no quarantine) and other signers alone. */
static void test_deny_signers(void **state)
{
    (void)state;
    write_cfg("{\"deny_signers\":[\"mallory\",\"trudy\",\"mallory\"]}");
    swoosh_error err = {0};
    sw_guard_provider_t *g = open_static(cfg_path, &err);
    assert_non_null(g);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "LICENSE_GRANTED", "mallory", &rep);
    assert_false(o.license_ok);
    assert_true(o.policy_ok);
    assert_int_equal(rep.status[SW_GUARD_LICENSE], SW_GS_DENY);
    assert_non_null(strstr(rep.detail[SW_GUARD_LICENSE], "deny_signers"));
    o = eval(g, "COUNCIL_QUORUM_CERT", "trudy", NULL);
    assert_false(o.quorum_ok);
    assert_true(o.policy_ok);
    o = eval(g, "LICENSE_GRANTED", "alice", NULL);
    assert_true(all_true(o));
    /* A transition that requires no guard cannot be denied by one. */
    o = eval(g, "INGESTION_STARTED", "mallory", NULL);
    assert_true(all_true(o));
    sw_guards_close(g);
}

/* deny_transitions fails the transition's required guard for every signer
 * and no other transition. */
static void test_deny_transitions(void **state)
{
    (void)state;
    write_cfg("{\"deny_transitions\":[\"EXECUTION_BEAT\"]}");
    swoosh_error err = {0};
    sw_guard_provider_t *g = open_static(cfg_path, &err);
    assert_non_null(g);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "EXECUTION_BEAT", "alice", &rep);
    assert_false(o.backbeat_ok);
    assert_true(o.policy_ok);
    assert_non_null(strstr(rep.detail[SW_GUARD_BACKBEAT], "deny_transitions"));
    o = eval(g, "EXECUTION_WINDOW_OPENED", "alice", NULL);
    assert_true(all_true(o));
    sw_guards_close(g);
}

/* policy_violation_* make PolicyOK false (the quarantine path) for any
 * transition, including ones that require no guard. */
static void test_policy_violation(void **state)
{
    (void)state;
    write_cfg("{\"policy_violation_signers\":[\"eve\"],"
              "\"policy_violation_transitions\":[\"ENV_RELEASED\"]}");
    swoosh_error err = {0};
    sw_guard_provider_t *g = open_static(cfg_path, &err);
    assert_non_null(g);
    sw_guard_report_t rep;
    sw_guards_t o = eval(g, "INGESTION_STARTED", "eve", &rep);
    assert_false(o.policy_ok);
    assert_true(o.license_ok && o.backbeat_ok && o.quorum_ok && o.mcp_healthy);
    assert_int_equal(rep.status[SW_GUARD_POLICY], SW_GS_DENY);
    assert_non_null(
        strstr(rep.detail[SW_GUARD_POLICY], "policy_violation_signers"));
    o = eval(g, "ENV_RELEASED", "alice", &rep);
    assert_false(o.policy_ok);
    assert_non_null(
        strstr(rep.detail[SW_GUARD_POLICY], "policy_violation_transitions"));
    o = eval(g, "INGESTION_STARTED", "alice", NULL);
    assert_true(all_true(o));
    sw_guards_close(g);
}

/* A fixed PolicyOK=false applies to every transition. */
static void test_fixed_policy_false(void **state)
{
    (void)state;
    write_cfg("{\"guards\":{\"PolicyOK\":false}}");
    swoosh_error err = {0};
    sw_guard_provider_t *g = open_static(cfg_path, &err);
    assert_non_null(g);
    assert_false(eval(g, "CONTROL_PAUSE", "root", NULL).policy_ok);
    assert_false(eval(g, "EXECUTION_BEAT", "root", NULL).policy_ok);
    sw_guards_close(g);
}

/* Every malformed config file is refused at open with a message naming the
 * problem (strict validation: typos must not silently weaken guards). */
static void test_bad_files_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *needle;
    } cases[] = {
        {"{\"deny_signer\":[\"x\"]}", "unknown key 'deny_signer'"},
        {"{\"guards\":{\"LicenceOK\":false}}", "unknown guard 'LicenceOK'"},
        {"{\"guards\":{\"LicenseOK\":0}}", "guards.LicenseOK"},
        {"{\"guards\":[]}", "guards: expected an object"},
        {"{\"deny_signers\":\"mallory\"}", "expected an array"},
        {"{\"deny_signers\":[1]}", "deny_signers[0]: expected a string"},
        {"{\"deny_signers\":[\"\"]}", "deny_signers[0]: a signer"},
        {"{\"policy_violation_signers\":[\"a\\tb\"]}",
         "policy_violation_signers[0]"},
        {"{\"deny_transitions\":[\"NO_SUCH\"]}", "not a catalogued"},
        {"{\"deny_transitions\":[\"ENV_RELEASED\"]}", "requires no guard"},
        {"{\"policy_violation_transitions\":[\"env_released\"]}",
         "not a catalogued"},
        {"{\"guards\":{},\"guards\":{}}", "duplicate"},
        {"[]", "expected a JSON object"},
        {"{\"guards\":", "swoosh-guards-"},
        {"", "swoosh-guards-"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_cfg(cases[i].text);
        swoosh_error err = {0};
        sw_guard_provider_t *g = open_static(cfg_path, &err);
        if (g != NULL || strstr(err.msg, cases[i].needle) == NULL)
            print_error("case %zu (%s): got '%s'\n", i, cases[i].text, err.msg);
        assert_null(g);
        assert_int_equal(err.code, SWOOSH_EINVAL);
        assert_non_null(strstr(err.msg, cases[i].needle));
        assert_non_null(strstr(err.msg, "guards: static config"));
    }
}

/* A missing file is refused naming the path; so is a FIFO, at once (with
 * no writer, reading one would block start-up or a reload forever). */
static void test_missing_file(void **state)
{
    (void)state;
    unlink(cfg_path);
    swoosh_error err = {0};
    assert_null(open_static(cfg_path, &err));
    assert_int_equal(err.code, SWOOSH_ENOTFOUND);
    assert_non_null(strstr(err.msg, cfg_path));
    assert_int_equal(mkfifo(cfg_path, 0600), 0);
    memset(&err, 0, sizeof err);
    alarm(10); /* a regression fails instead of hanging */
    assert_null(open_static(cfg_path, &err));
    alarm(0);
    assert_int_equal(err.code, SWOOSH_EINVAL);
    assert_non_null(strstr(err.msg, "not a regular file"));
    unlink(cfg_path);
}

/* Reload (SIGHUP) swaps in a changed file; a bad file is refused and the
 * previous rules stay in force; a fixed file is taken again. */
static void test_reload(void **state)
{
    (void)state;
    write_cfg("{}");
    swoosh_error err = {0};
    sw_guard_provider_t *g = open_static(cfg_path, &err);
    assert_non_null(g);
    assert_true(eval(g, "LICENSE_GRANTED", "alice", NULL).license_ok);

    write_cfg("{\"deny_signers\":[\"alice\"]}");
    assert_int_equal(sw_guards_reload(g, &err), SWOOSH_OK);
    assert_false(eval(g, "LICENSE_GRANTED", "alice", NULL).license_ok);

    write_cfg("{\"deny_signers\":[\"alice\"],\"typo\":1}");
    memset(&err, 0, sizeof(err));
    assert_int_equal(sw_guards_reload(g, &err), SWOOSH_EINVAL);
    assert_non_null(strstr(err.msg, "guards: reload"));
    assert_non_null(strstr(err.msg, "typo"));
    assert_false(eval(g, "LICENSE_GRANTED", "alice", NULL).license_ok);

    unlink(cfg_path);
    assert_int_equal(sw_guards_reload(g, &err), SWOOSH_ENOTFOUND);
    assert_false(eval(g, "LICENSE_GRANTED", "alice", NULL).license_ok);

    write_cfg("{\"guards\":{\"LicenseOK\":true}}");
    assert_int_equal(sw_guards_reload(g, &err), SWOOSH_OK);
    assert_true(eval(g, "LICENSE_GRANTED", "alice", NULL).license_ok);
    sw_guards_close(g);
}

typedef struct race {
    sw_guard_provider_t *g;
    atomic_int stop;
    atomic_int mixed, seen_a, seen_b;
} race_t;

static void *race_reader(void *arg)
{
    race_t *r = arg;
    while (!atomic_load(&r->stop)) {
        sw_guards_t o = eval(r->g, "LICENSE_GRANTED", "alice", NULL);
        if (!o.license_ok && o.policy_ok)
            atomic_fetch_add(&r->seen_a, 1);
        else if (o.license_ok && !o.policy_ok)
            atomic_fetch_add(&r->seen_b, 1);
        else
            atomic_fetch_add(&r->mixed, 1);
    }
    return NULL;
}

/* Evaluations running during reloads see the old or the new rules, never a
 * mix of the two (config A fails LicenseOK only, config B PolicyOK only). */
static void test_reload_is_atomic(void **state)
{
    (void)state;
    const char *a = "{\"guards\":{\"LicenseOK\":false}}";
    const char *b = "{\"policy_violation_signers\":[\"alice\"]}";
    write_cfg(a);
    swoosh_error err = {0};
    race_t r = {.g = open_static(cfg_path, &err)};
    assert_non_null(r.g);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_reader, &r), 0);
    for (int i = 0; i < 200; i++) {
        write_cfg(i % 2 == 0 ? b : a);
        assert_int_equal(sw_guards_reload(r.g, &err), SWOOSH_OK);
    }
    /* Let readers observe the last config before stopping. */
    while (atomic_load(&r.seen_a) == 0 || atomic_load(&r.seen_b) == 0) {
        write_cfg(atomic_load(&r.seen_a) == 0 ? a : b);
        assert_int_equal(sw_guards_reload(r.g, &err), SWOOSH_OK);
        sched_yield();
    }
    atomic_store(&r.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&r.mixed), 0);
    sw_guards_close(r.g);
}

/* The environment selects the provider and its settings (SPEC §8), and bad
 * values are refused naming the variable. */
static void test_config_from_env(void **state)
{
    (void)state;
    sw_guards_config_t cfg;
    swoosh_error err = {0};
    setenv("SWOOSH_GUARDS", "http", 1);
    setenv("SWOOSH_GUARD_POLICY_URL", "http://127.0.0.1:1/policy", 1);
    setenv("SWOOSH_GUARD_TIMEOUT_MS", "750", 1);
    setenv("SWOOSH_GUARD_MCP_FAIL_OPEN", "1", 1);
    setenv("SWOOSH_GUARD_CONFIG", "/etc/guards.json", 1);
    sw_guards_config_defaults(&cfg);
    assert_int_equal(cfg.timeout_ms, SW_GUARDS_DEFAULT_TIMEOUT_MS);
    assert_int_equal(sw_guards_config_from_env(&cfg, &err), SWOOSH_OK);
    assert_int_equal(cfg.kind, SW_GUARDS_HTTP);
    assert_string_equal(cfg.url[SW_GUARD_POLICY], "http://127.0.0.1:1/policy");
    assert_null(cfg.url[SW_GUARD_LICENSE]);
    assert_int_equal(cfg.timeout_ms, 750);
    assert_true(cfg.fail_open[SW_GUARD_MCP]);
    assert_false(cfg.fail_open[SW_GUARD_POLICY]);
    assert_string_equal(cfg.static_path, "/etc/guards.json");

    static const struct {
        const char *var, *val;
    } bad[] = {
        {"SWOOSH_GUARDS", "grpc"},
        {"SWOOSH_GUARD_TIMEOUT_MS", "0"},
        {"SWOOSH_GUARD_TIMEOUT_MS", "12ms"},
        {"SWOOSH_GUARD_TIMEOUT_MS", "600001"},
        {"SWOOSH_GUARD_LICENSE_FAIL_OPEN", "maybe"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *old = getenv(bad[i].var);
        char *keep = old != NULL ? strdup(old) : NULL;
        setenv(bad[i].var, bad[i].val, 1);
        sw_guards_config_defaults(&cfg);
        memset(&err, 0, sizeof(err));
        assert_int_equal(sw_guards_config_from_env(&cfg, &err), SWOOSH_EINVAL);
        assert_non_null(strstr(err.msg, bad[i].var));
        if (keep != NULL)
            setenv(bad[i].var, keep, 1);
        else
            unsetenv(bad[i].var);
        free(keep);
    }
    unsetenv("SWOOSH_GUARDS");
    unsetenv("SWOOSH_GUARD_POLICY_URL");
    unsetenv("SWOOSH_GUARD_TIMEOUT_MS");
    unsetenv("SWOOSH_GUARD_MCP_FAIL_OPEN");
    unsetenv("SWOOSH_GUARD_CONFIG");
}

/* Guard names, stems and bits agree with SPEC §4/§5 and map back. */
static void test_names(void **state)
{
    (void)state;
    static const char *names[] = {"LicenseOK", "BackbeatOK", "QuorumOK",
                                  "PolicyOK", "MCPHealthy"};
    for (int i = 0; i < SW_GUARD__COUNT; i++) {
        assert_string_equal(sw_guard_name((sw_guard_id_t)i), names[i]);
        assert_int_equal(sw_guard_by_name(names[i]), i);
        sw_guards_t g = {true, true, true, true, true};
        sw_guard_set(&g, (sw_guard_id_t)i, false);
        for (int k = 0; k < SW_GUARD__COUNT; k++)
            assert_int_equal(sw_guard_get(&g, (sw_guard_id_t)k), k != i);
    }
    assert_int_equal(sw_guard_by_name("policyok"), SW_GUARD__COUNT);
    assert_int_equal(sw_guard_bit(SW_GUARD_POLICY), 0);
    assert_int_equal(sw_guard_bit(SW_GUARD_QUORUM), SW_G_QUORUM);
    assert_string_equal(sw_guard_env_stem(SW_GUARD_MCP), "MCP");
    sw_guards_kind_t k;
    assert_true(sw_guards_kind_parse("static", &k));
    assert_int_equal(k, SW_GUARDS_STATIC);
    assert_false(sw_guards_kind_parse("HTTP", &k));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_all_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixed_guard_only_when_required,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_deny_signers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deny_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_violation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixed_policy_false, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_files_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_is_atomic, setup, teardown),
        cmocka_unit_test(test_config_from_env),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
