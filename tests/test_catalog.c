// LABEL: unit
// TIMEOUT: 60
/* test_catalog: the transition table of SPEC §5 — names, flags, guards, the
 * generic payload validator (BAD_PAYLOAD rows) and GET /transitions. The
 * expected values are written out from SPEC here, not read from the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "catalog.h"
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SPEC §5's names with their guards and whether they are "Control". */
static const struct {
    const char *name;
    const char *guards; /* letters L B Q M */
    bool control;
} spec[] = {
    {"LICENSE_GRANTED", "L", false},
    {"LICENSE_REVOKED", "", true},
    {"INGESTION_STARTED", "", false},
    {"INGESTION_FETCHED", "", false},
    {"INGESTION_VALIDATED", "", false},
    {"INGESTION_INDEXED", "", false},
    {"INGESTION_FAILED", "", false},
    {"COUNCIL_PROFILES_LOADED", "", false},
    {"COUNCIL_ROLE_CLAIMED", "", false},
    {"COUNCIL_ROLE_RELEASED", "", false},
    {"COUNCIL_QUORUM_CERT", "Q", false},
    {"COUNCIL_ELECT_COMPLETE", "", false},
    {"COUNCIL_TOOLING_SYNCED", "M", false},
    {"COUNCIL_DISSOLVED", "", false},
    {"ENV_ALLOCATION_REQUESTED", "", false},
    {"ENV_ALLOCATED", "", false},
    {"ENV_PROVISIONED", "", false},
    {"ENV_HEALTH_GREEN", "M", false},
    {"ENV_HEALTH_RED", "", false},
    {"ENV_RELEASED", "", false},
    {"EXECUTION_WINDOW_OPENED", "B", false},
    {"EXECUTION_PLAN_LOCKED", "Q", false},
    {"EXECUTION_BEAT", "B", false},
    {"EXECUTION_REVIEW_STARTED", "", false},
    {"EXECUTION_APPROVAL", "", false},
    {"EXECUTION_REVIEW_PASSED", "Q", false},
    {"EXECUTION_REVIEW_FAILED", "", false},
    {"EXECUTION_WINDOW_CLOSED", "", false},
    {"EXECUTION_TASK_CREATED", "", false},
    {"EXECUTION_TASK_CLAIMED", "", false},
    {"EXECUTION_TASK_RELEASED", "", false},
    {"EXECUTION_TASK_COMPLETE", "", false},
    {"EXECUTION_TASK_FAILED", "", false},
    {"CONTROL_PAUSE", "", true},
    {"CONTROL_RESUME", "", true},
    {"QUARANTINE_ENTER", "", true},
    {"QUARANTINE_RELEASE", "", true},
    {"RECOVERY_STARTED", "", true},
    {"RECOVERY_COMPLETE", "", true},
    {"POLICY_UPDATED", "", true},
};
#define NSPEC (sizeof spec / sizeof spec[0])

static unsigned guard_bits(const char *letters)
{
    unsigned b = 0;
    for (const char *c = letters; *c; c++)
        b |= *c == 'L'   ? SW_G_LICENSE
             : *c == 'B' ? SW_G_BACKBEAT
             : *c == 'Q' ? SW_G_QUORUM
                         : SW_G_MCP;
    return b;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Every SPEC name is catalogued exactly once with SPEC's guards and flags,
 * and nothing else is. */
static void test_names_round_trip(void **unused)
{
    (void)unused;
    size_t n;
    const sw_catalog_entry_t *all = sw_catalog_all(&n);
    assert_int_equal(n, NSPEC);
    for (size_t i = 0; i < NSPEC; i++) {
        const sw_catalog_entry_t *e = sw_catalog_find(spec[i].name);
        assert_non_null(e);
        assert_string_equal(e->name, spec[i].name);
        assert_int_equal(e->guards, guard_bits(spec[i].guards));
        assert_int_equal((e->flags & SW_T_CONTROL) != 0, spec[i].control);
        bool lic = strcmp(e->name, "LICENSE_GRANTED") == 0;
        assert_int_equal((e->flags & SW_T_ADMIN) != 0, spec[i].control || lic);
        assert_int_equal((e->flags & SW_T_UNLICENSED) != 0, lic);
        bool win = starts(e->name, "EXECUTION_") &&
                   strcmp(e->name, "EXECUTION_WINDOW_OPENED") != 0;
        assert_int_equal((e->flags & SW_T_WINDOW) != 0, win);
        bool cid = starts(e->name, "COUNCIL_") &&
                   strcmp(e->name, "COUNCIL_PROFILES_LOADED") != 0 &&
                   strcmp(e->name, "COUNCIL_DISSOLVED") != 0;
        assert_int_equal((e->flags & SW_T_COUNCIL_ID) != 0, cid);
        assert_non_null(e->apply);
        assert_true(e->doc && e->doc[0]);
        /* Pointer identity: find returns the row of the table. */
        assert_true(e >= all && e < all + n);
    }
    assert_null(sw_catalog_find("NO_SUCH_TRANSITION"));
    assert_null(sw_catalog_find("license_granted"));
    assert_null(sw_catalog_find(""));
}

/* Phase gates as SPEC's "allowed when" column says, including "any" and
 * "any but IDLE". */
static void test_phase_gates(void **unused)
{
    (void)unused;
    const sw_catalog_entry_t *e = sw_catalog_find("ENV_RELEASED");
    assert_int_equal(e->phase_section, SW_SEC_ENVIRONMENT);
    for (int ph = 0; ph < SW_ENV__COUNT; ph++)
        assert_int_equal((e->phases >> ph) & 1u, ph != SW_ENV_IDLE);
    e = sw_catalog_find("EXECUTION_TASK_COMPLETE");
    assert_int_equal(e->phases, (1u << SW_EXE_PLAN) | (1u << SW_EXE_WORK) |
                                    (1u << SW_EXE_REVIEW));
    e = sw_catalog_find("INGESTION_STARTED");
    assert_int_equal(e->phases, (1u << SW_ING_IDLE) | (1u << SW_ING_READY) |
                                    (1u << SW_ING_FAILED));
    static const char *const any[] = {"LICENSE_GRANTED",    "LICENSE_REVOKED",
                                      "COUNCIL_DISSOLVED",  "CONTROL_PAUSE",
                                      "CONTROL_RESUME",     "QUARANTINE_ENTER",
                                      "QUARANTINE_RELEASE", "RECOVERY_STARTED",
                                      "RECOVERY_COMPLETE",  "POLICY_UPDATED"};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++)
        assert_int_equal(sw_catalog_find(any[i])->phase_section, SW_SEC__COUNT);
}

typedef struct pv {
    const char *t, *payload; /* payload NULL = absent */
    sw_code_t want;
    const char *field; /* must occur in the message */
} pv_t;

#define BAD SW_C_BAD_PAYLOAD
#define OK  SW_C_OK
#define ROLES2                                                                 \
    "[{\"role\":\"a\",\"required\":true},{\"role\":\"b\",\"required\":false}]"

static const pv_t vectors[] = {
    {"LICENSE_GRANTED", NULL, OK, NULL},
    {"LICENSE_GRANTED", "{}", OK, NULL},
    {"LICENSE_GRANTED", "{\"license_id\":null}", OK, NULL},
    {"LICENSE_GRANTED", "{\"license_id\":\"\"}", BAD, "license_id"},
    {"LICENSE_GRANTED", "{\"license_id\":7}", BAD, "license_id"},
    {"LICENSE_GRANTED", "{\"nodeid\":\"x\"}", BAD, "nodeid"},
    {"LICENSE_REVOKED", "{\"reason\":\"x\"}", BAD, "reason"},
    {"INGESTION_STARTED", NULL, BAD, "sources"},
    {"INGESTION_STARTED", "{\"sources\":[]}", BAD, "sources"},
    {"INGESTION_STARTED", "{\"sources\":[{\"id\":\"a\",\"uri\":\"u\"}]}", OK,
     NULL},
    {"INGESTION_STARTED", "{\"sources\":[{\"id\":\"a\"}]}", BAD,
     "sources[0].uri"},
    {"INGESTION_STARTED",
     "{\"sources\":[{\"id\":\"a\",\"uri\":\"u\",\"x\":1}]}", BAD, "x"},
    {"INGESTION_STARTED",
     "{\"sources\":[{\"id\":\"a\",\"uri\":\"u\"},{\"id\":\"a\",\"uri\":\"v\"}]"
     "}",
     BAD, "sources[1].id"},
    {"INGESTION_STARTED", "{\"sources\":[{\"id\":\"\",\"uri\":\"u\"}]}", BAD,
     "sources[0].id"},
    {"INGESTION_STARTED", "{\"sources\":[\"a\"]}", BAD, "sources[0]"},
    {"INGESTION_FETCHED", "{\"content_hash\":\"h\"}", OK, NULL},
    {"INGESTION_FETCHED", "{}", BAD, "content_hash"},
    {"INGESTION_FAILED", "{\"reason\":\"\"}", OK, NULL},
    {"INGESTION_FAILED", "{\"reason\":true}", BAD, "reason"},
    {"COUNCIL_PROFILES_LOADED", "{\"council_id\":\"c\",\"roles\":" ROLES2 "}",
     OK, NULL},
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c\",\"roles\":" ROLES2 ",\"quorum\":2}", OK, NULL},
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c\",\"roles\":" ROLES2 ",\"quorum\":3}", BAD, "quorum"},
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c\",\"roles\":" ROLES2 ",\"quorum\":0}", BAD, "quorum"},
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c\",\"roles\":" ROLES2 ",\"quorum\":-1}", BAD,
     "quorum"},
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c\",\"roles\":" ROLES2 ",\"quorum\":1.5}", BAD,
     "quorum"},
    {"COUNCIL_PROFILES_LOADED", "{\"council_id\":\"c\",\"roles\":[]}", BAD,
     "roles"},
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c\",\"roles\":[{\"role\":\"a\",\"required\":true},{"
     "\"role\":\"a\",\"required\":false}]}",
     BAD, "roles[1].role"},
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c\",\"roles\":[{\"role\":\"a\",\"required\":1}]}", BAD,
     "roles[0].required"},
    {"COUNCIL_PROFILES_LOADED",
     "{\"council_id\":\"c\",\"roles\":[{\"role\":\"a\"}]}", BAD,
     "roles[0].required"},
    {"COUNCIL_PROFILES_LOADED", "{\"roles\":" ROLES2 "}", BAD, "council_id"},
    {"COUNCIL_ROLE_CLAIMED",
     "{\"council_id\":\"c\",\"role\":\"r\",\"agent_id\":\"a\"}", OK, NULL},
    {"COUNCIL_ROLE_CLAIMED", "{\"council_id\":\"c\",\"role\":\"r\"}", BAD,
     "agent_id"},
    {"COUNCIL_DISSOLVED", NULL, OK, NULL},
    {"ENV_ALLOCATION_REQUESTED", "{\"resources\":{}}", OK, NULL},
    {"ENV_ALLOCATION_REQUESTED", "{\"resources\":{\"\":\"v\"}}", BAD,
     "resources"},
    {"ENV_ALLOCATION_REQUESTED", "{\"resources\":{\"k\":1}}", BAD,
     "resources.k"},
    {"ENV_ALLOCATION_REQUESTED", "{\"resources\":[]}", BAD, "resources"},
    {"EXECUTION_WINDOW_OPENED", "{}", BAD, "window_id"},
    {"EXECUTION_BEAT", "{\"n\":1}", BAD, "n"},
    {"EXECUTION_TASK_CREATED", "{\"task_id\":\"t\",\"title\":\"\"}", OK, NULL},
    {"EXECUTION_TASK_CREATED", "{\"task_id\":\"t\"}", BAD, "title"},
    {"EXECUTION_TASK_COMPLETE", "{\"task_id\":\"t\",\"agent_id\":\"a\"}", OK,
     NULL},
    {"EXECUTION_TASK_FAILED", "{\"task_id\":\"t\",\"agent_id\":\"a\"}", BAD,
     "reason"},
    {"QUARANTINE_ENTER", "{}", BAD, "reason"},
    {"CONTROL_PAUSE", "{}", OK, NULL},
    {"POLICY_UPDATED", "{}", BAD, "at least one"},
    {"POLICY_UPDATED", NULL, BAD, "at least one"},
    {"POLICY_UPDATED", "{\"max_tasks\":null}", BAD, "at least one"},
    {"POLICY_UPDATED", "{\"approval_threshold\":1}", OK, NULL},
    {"POLICY_UPDATED", "{\"approval_threshold\":4096}", OK, NULL},
    {"POLICY_UPDATED", "{\"approval_threshold\":4097}", BAD,
     "approval_threshold"},
    {"POLICY_UPDATED", "{\"approval_threshold\":0}", BAD, "approval_threshold"},
    {"POLICY_UPDATED", "{\"max_tasks\":65536}", OK, NULL},
    {"POLICY_UPDATED", "{\"max_tasks\":65537}", BAD, "max_tasks"},
    {"POLICY_UPDATED", "{\"max_members\":4096}", OK, NULL},
    {"POLICY_UPDATED", "{\"max_members\":4097}", BAD, "max_members"},
    {"POLICY_UPDATED", "{\"max_clock_skew_ms\":0}", OK, NULL},
    {"POLICY_UPDATED", "{\"max_clock_skew_ms\":86400000}", OK, NULL},
    {"POLICY_UPDATED", "{\"max_clock_skew_ms\":86400001}", BAD,
     "max_clock_skew_ms"},
    {"POLICY_UPDATED", "{\"max_tasks\":\"5\"}", BAD, "max_tasks"},
    {"POLICY_UPDATED", "{\"admins\":[]}", OK, NULL},
    {"POLICY_UPDATED", "{\"admins\":[\"\"]}", BAD, "admins[0]"},
    {"POLICY_UPDATED", "{\"admins\":\"root\"}", BAD, "admins"},
    {"POLICY_UPDATED", "{\"params\":{\"k\":\"v\"}}", OK, NULL},
    {"POLICY_UPDATED", "{\"params\":{\"k\":null}}", BAD, "params.k"},
    {"POLICY_UPDATED", "{\"max_tasks\":5,\"typo\":1}", BAD, "typo"},
};

/* The generic validator accepts each valid payload and rejects each bad one
 * with BAD_PAYLOAD and a message naming the field. */
static void test_payload_vectors(void **unused)
{
    (void)unused;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const pv_t *v = &vectors[i];
        const sw_catalog_entry_t *e = sw_catalog_find(v->t);
        assert_non_null(e);
        json_t *pl = NULL;
        if (v->payload) {
            json_error_t jerr;
            pl = json_loads(v->payload, 0, &jerr);
            if (!pl)
                fail_msg("vector %zu does not parse: %s", i, jerr.text);
        }
        sw_payload_t out;
        char msg[256];
        sw_code_t c = sw_catalog_parse_payload(e, pl, &out, msg);
        if (c != v->want)
            fail_msg("vector %zu (%s %s): got %s (%s)", i, v->t,
                     v->payload ? v->payload : "(absent)", sw_code_name(c),
                     msg);
        if (v->field && !strstr(msg, v->field))
            fail_msg("vector %zu: message \"%s\" does not name \"%s\"", i, msg,
                     v->field);
        json_decref(pl);
    }
}

/* Length bounds are exact: ids 1..128 bytes, texts up to 1024 bytes, at most
 * 256 items in lists and maps, map keys 1..128 bytes. */
static void test_payload_bounds(void **unused)
{
    (void)unused;
    char id128[129], id129[130], t1024[1025], t1025[1026];
    memset(id128, 'a', 128), id128[128] = '\0';
    memset(id129, 'a', 129), id129[129] = '\0';
    memset(t1024, 'x', 1024), t1024[1024] = '\0';
    memset(t1025, 'x', 1025), t1025[1025] = '\0';
    sw_payload_t out;
    char msg[256];
    const sw_catalog_entry_t *e = sw_catalog_find("EXECUTION_TASK_CREATED");
    struct {
        const char *id, *title;
        sw_code_t want;
    } cases[] = {{id128, t1024, OK}, {id129, "t", BAD}, {"t", t1025, BAD}};
    for (size_t i = 0; i < 3; i++) {
        json_t *pl = json_pack("{s:s, s:s}", "task_id", cases[i].id, "title",
                               cases[i].title);
        assert_int_equal(sw_catalog_parse_payload(e, pl, &out, msg),
                         cases[i].want);
        if (cases[i].want == OK) {
            assert_string_equal(out.task_id, id128);
            assert_string_equal(out.title, t1024);
        }
        json_decref(pl);
    }
    /* 256 admins pass, 257 exceed a bound (SPEC §3: LIMIT_EXCEEDED); map
     * keys of 128 bytes pass, 129 are a bad length (SPEC §5 step 1). */
    e = sw_catalog_find("POLICY_UPDATED");
    for (int extra = 0; extra <= 1; extra++) {
        json_t *admins = json_array();
        json_t *params = json_object();
        for (int i = 0; i < 256 + extra; i++) {
            char id[16];
            snprintf(id, sizeof id, "adm%d", i);
            json_array_append_new(admins, json_string(id));
        }
        json_object_set_new(params, extra ? id129 : id128, json_string("v"));
        json_t *pl = json_pack("{s:o}", "admins", admins);
        assert_int_equal(sw_catalog_parse_payload(e, pl, &out, msg),
                         extra ? SW_C_LIMIT_EXCEEDED : OK);
        json_decref(pl);
        pl = json_pack("{s:o}", "params", params);
        assert_int_equal(sw_catalog_parse_payload(e, pl, &out, msg),
                         extra ? BAD : OK);
        json_decref(pl);
    }
    /* A NUL inside an id is refused even though jansson can hold it. */
    json_t *pl = json_object();
    json_object_set_new(pl, "content_hash", json_stringn("a\0b", 3));
    assert_int_equal(sw_catalog_parse_payload(
                         sw_catalog_find("INGESTION_FETCHED"), pl, &out, msg),
                     BAD);
    json_decref(pl);
}

/* Each collection of SPEC §5's count bound (≤ 256 planned roles, sources,
 * resources, params, admins) takes 256 entries; 257 answer LIMIT_EXCEEDED
 * (SPEC §3), even when the entries are malformed too, while an empty list
 * where one is needed is a shape error (BAD_PAYLOAD). */
static void test_count_bounds(void **unused)
{
    (void)unused;
    static const struct {
        const char *transition, *field, *entry; /* entry: %d is the index */
        bool object;                            /* a map, not an array */
        bool needs_one;
    } rows[] = {
        {"INGESTION_STARTED", "sources", "{\"id\":\"s%d\",\"uri\":\"u\"}",
         false, true},
        {"COUNCIL_PROFILES_LOADED", "roles",
         "{\"role\":\"r%d\",\"required\":false}", false, true},
        {"ENV_ALLOCATION_REQUESTED", "resources", "\"v\"", true, false},
        {"POLICY_UPDATED", "params", "\"v\"", true, false},
        {"POLICY_UPDATED", "admins", "\"a%d\"", false, false},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        const sw_catalog_entry_t *e = sw_catalog_find(rows[r].transition);
        assert_non_null(e);
        for (int n = 256; n <= 258; n++) {
            sw_buf_t b = SW_BUF_INIT;
            sw_buf_printf(&b, "{\"%s\":%c", rows[r].field,
                          rows[r].object ? '{' : '[');
            for (int i = 0; i < n; i++) {
                if (i)
                    sw_buf_putc(&b, ',');
                if (rows[r].object)
                    sw_buf_printf(&b, "\"k%d\":", i);
                if (n == 258 && i == 0) /* malformed entry as well */
                    sw_buf_puts(&b, "17");
                else
                    sw_buf_printf(&b, rows[r].entry, i);
            }
            sw_buf_printf(&b, "%c", rows[r].object ? '}' : ']');
            if (!strcmp(rows[r].transition, "COUNCIL_PROFILES_LOADED"))
                sw_buf_puts(&b, ",\"council_id\":\"c\"");
            sw_buf_putc(&b, '}');
            json_error_t je;
            json_t *pl = json_loads(b.data, 0, &je);
            assert_non_null(pl);
            sw_payload_t out;
            char msg[256];
            sw_code_t c = sw_catalog_parse_payload(e, pl, &out, msg);
            if (n == 256) {
                assert_int_equal(c, OK);
            } else {
                assert_int_equal(c, SW_C_LIMIT_EXCEEDED);
                assert_non_null(strstr(msg, rows[r].field));
                assert_non_null(strstr(msg, "at most 256"));
            }
            json_decref(pl);
            sw_buf_free(&b);
        }
        if (rows[r].needs_one) {
            char body[128];
            snprintf(body, sizeof body, "{\"%s\":[],\"council_id\":\"c\"}",
                     rows[r].field);
            json_t *pl = json_loads(body, 0, NULL);
            if (!strcmp(rows[r].field, "sources"))
                json_object_del(pl, "council_id");
            sw_payload_t out;
            char msg[256];
            assert_int_equal(sw_catalog_parse_payload(e, pl, &out, msg), BAD);
            assert_non_null(strstr(msg, "at least one"));
            json_decref(pl);
        }
    }
}

/* The shape errors of the list fields, unknown keys and the quorum bound
 * keep their exact wording (written out here as the messages read before
 * sources and roles shared one checker), so clients matching on them and
 * docs quoting them stay right. */
static void test_messages_exact(void **unused)
{
    (void)unused;
    static const struct {
        const char *t, *payload, *msg;
    } cases[] = {
        {"INGESTION_STARTED", "{\"sources\":{}}",
         "payload field \"sources\" of INGESTION_STARTED must be an array"},
        {"INGESTION_STARTED", "{\"sources\":[]}",
         "payload field \"sources\" of INGESTION_STARTED must hold at least "
         "one source"},
        {"INGESTION_STARTED", "{\"sources\":[1]}",
         "payload field \"sources[0]\" of INGESTION_STARTED must be an "
         "object"},
        {"INGESTION_STARTED",
         "{\"sources\":[{\"id\":\"a\",\"uri\":\"\",\"z\":1}]}",
         "payload field \"sources[0]\" of INGESTION_STARTED has an unknown "
         "member \"z\""},
        {"INGESTION_STARTED", "{\"sources\":[{\"uri\":\"u\"}]}",
         "payload field \"sources[0].id\" of INGESTION_STARTED is required"},
        {"INGESTION_STARTED", "{\"sources\":[{\"id\":\"\",\"uri\":\"u\"}]}",
         "payload field \"sources[0].id\" of INGESTION_STARTED must be "
         "1..128 bytes"},
        {"INGESTION_STARTED", "{\"sources\":[{\"id\":\"a\"}]}",
         "payload field \"sources[0].uri\" of INGESTION_STARTED is required"},
        {"INGESTION_STARTED", "{\"sources\":[{\"id\":\"a\",\"uri\":3}]}",
         "payload field \"sources[0].uri\" of INGESTION_STARTED must be a "
         "string"},
        {"INGESTION_STARTED",
         "{\"sources\":[{\"id\":\"a\",\"uri\":\"\"},{\"id\":\"b\",\"uri\":\"\"}"
         ",{\"id\":\"a\",\"uri\":\"x\"}]}",
         "payload field \"sources[2].id\" of INGESTION_STARTED repeats the "
         "source id of sources[0]"},
        {"COUNCIL_PROFILES_LOADED", "{\"council_id\":\"c\",\"roles\":\"x\"}",
         "payload field \"roles\" of COUNCIL_PROFILES_LOADED must be an array"},
        {"COUNCIL_PROFILES_LOADED", "{\"council_id\":\"c\",\"roles\":[]}",
         "payload field \"roles\" of COUNCIL_PROFILES_LOADED must hold at "
         "least one role"},
        {"COUNCIL_PROFILES_LOADED",
         "{\"council_id\":\"c\",\"roles\":[{\"role\":\"a\",\"required\":true,"
         "\"q\":1}]}",
         "payload field \"roles[0]\" of COUNCIL_PROFILES_LOADED has an "
         "unknown member \"q\""},
        {"COUNCIL_PROFILES_LOADED",
         "{\"council_id\":\"c\",\"roles\":[{\"required\":true}]}",
         "payload field \"roles[0].role\" of COUNCIL_PROFILES_LOADED is "
         "required"},
        {"COUNCIL_PROFILES_LOADED",
         "{\"council_id\":\"c\",\"roles\":[{\"role\":\"a\",\"required\":1}]}",
         "payload field \"roles[0].required\" of COUNCIL_PROFILES_LOADED is "
         "required and must be a boolean"},
        {"COUNCIL_PROFILES_LOADED",
         "{\"council_id\":\"c\",\"roles\":[{\"role\":\"a\",\"required\":true},"
         "{\"role\":\"b\",\"required\":false},{\"role\":\"b\",\"required\":"
         "true}]}",
         "payload field \"roles[2].role\" of COUNCIL_PROFILES_LOADED repeats "
         "the role of roles[1]; roles must be unique"},
        {"COUNCIL_PROFILES_LOADED",
         "{\"council_id\":\"c\",\"roles\":[{\"role\":\"a\",\"required\":true},"
         "{\"role\":\"b\",\"required\":false}],\"quorum\":3}",
         "payload field \"quorum\" of COUNCIL_PROFILES_LOADED must be 1..2 "
         "(the number of roles)"},
        {"COUNCIL_PROFILES_LOADED",
         "{\"council_id\":\"c\",\"roles\":[{\"role\":\"a\",\"required\":true}]"
         ",\"nope\":1}",
         "payload field \"nope\" is not an input of COUNCIL_PROFILES_LOADED"},
        {"EXECUTION_BEAT", "{\"n\":1}",
         "payload field \"n\" is not an input of EXECUTION_BEAT, which takes "
         "no payload fields"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_error_t jerr;
        json_t *pl = json_loads(cases[i].payload, 0, &jerr);
        if (!pl)
            fail_msg("case %zu does not parse: %s", i, jerr.text);
        sw_payload_t out;
        char msg[256];
        sw_code_t c = sw_catalog_parse_payload(sw_catalog_find(cases[i].t), pl,
                                               &out, msg);
        if (c != BAD || strcmp(msg, cases[i].msg) != 0)
            fail_msg("case %zu: got %s \"%s\", want BAD_PAYLOAD \"%s\"", i,
                     sw_code_name(c), msg, cases[i].msg);
        json_decref(pl);
    }
}

/* A quorum above the number of roles leaves no half-filled payload behind,
 * like every other rejection, while one within it keeps every field. */
static void test_quorum_bound_clears_payload(void **unused)
{
    (void)unused;
    const sw_catalog_entry_t *e = sw_catalog_find("COUNCIL_PROFILES_LOADED");
    for (int q = 2; q <= 3; q++) {
        json_t *pl =
            json_pack("{s:s, s:[{s:s, s:b}, {s:s, s:b}], s:i}", "council_id",
                      "c", "roles", "role", "a", "required", 1, "role", "b",
                      "required", 0, "quorum", q);
        assert_non_null(pl);
        sw_payload_t out;
        char msg[256];
        sw_code_t c = sw_catalog_parse_payload(e, pl, &out, msg);
        if (q == 2) {
            assert_int_equal(c, OK);
            assert_string_equal(out.council_id, "c");
            assert_ptr_equal(out.roles, json_object_get(pl, "roles"));
            assert_true(out.has_quorum);
            assert_int_equal(out.quorum, 2);
        } else {
            assert_int_equal(c, BAD);
            assert_null(out.council_id);
            assert_null(out.roles);
            assert_false(out.has_quorum);
            assert_int_equal(out.quorum, 0);
        }
        json_decref(pl);
    }
}

/* Parsed values land in the typed payload: strings, integers with their
 * has_ flags, and JSON collections. */
static void test_payload_fills_struct(void **unused)
{
    (void)unused;
    json_t *pl = json_loads(
        "{\"max_tasks\":7,\"max_clock_skew_ms\":0,\"params\":{\"a\":\"b\"}}", 0,
        NULL);
    sw_payload_t out;
    char msg[256];
    assert_int_equal(sw_catalog_parse_payload(sw_catalog_find("POLICY_UPDATED"),
                                              pl, &out, msg),
                     OK);
    assert_true(out.has_max_tasks);
    assert_int_equal(out.max_tasks, 7);
    assert_true(out.has_max_clock_skew_ms);
    assert_int_equal(out.max_clock_skew_ms, 0);
    assert_false(out.has_max_members);
    assert_false(out.has_approval_threshold);
    assert_ptr_equal(out.params, json_object_get(pl, "params"));
    assert_null(out.admins);
    json_decref(pl);
}

/* GET /transitions lists every catalogued transition once with its phases
 * ("*" for any), guard names and payload fields. */
static void test_catalog_json(void **unused)
{
    (void)unused;
    json_t *j = sw_catalog_to_json();
    json_t *arr = json_object_get(j, "transitions");
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), NSPEC);
    for (size_t i = 0; i < NSPEC; i++) {
        json_t *row = NULL;
        for (size_t k = 0; k < json_array_size(arr); k++) {
            json_t *r = json_array_get(arr, k);
            if (strcmp(json_string_value(json_object_get(r, "name")),
                       spec[i].name) == 0) {
                assert_null(row);
                row = r;
            }
        }
        assert_non_null(row);
        json_t *guards = json_object_get(row, "guards");
        assert_int_equal(json_array_size(guards), strlen(spec[i].guards));
        assert_true(json_is_array(json_object_get(row, "payload")));
        assert_true(json_is_string(json_object_get(row, "doc")));
        assert_true(json_array_size(json_object_get(row, "phases")) >= 1);
    }
    /* Spot checks with SPEC's values. */
    json_t *beat = NULL, *pause = NULL, *tc = NULL;
    for (size_t k = 0; k < json_array_size(arr); k++) {
        json_t *r = json_array_get(arr, k);
        const char *n = json_string_value(json_object_get(r, "name"));
        if (strcmp(n, "EXECUTION_BEAT") == 0)
            beat = r;
        if (strcmp(n, "CONTROL_PAUSE") == 0)
            pause = r;
        if (strcmp(n, "EXECUTION_TASK_COMPLETE") == 0)
            tc = r;
    }
    char *s = json_dumps(json_object_get(beat, "phases"), JSON_COMPACT);
    assert_string_equal(s, "[\"PLAN\",\"WORK\",\"REVIEW\",\"REVERB\"]");
    free(s);
    s = json_dumps(json_object_get(beat, "guards"), JSON_COMPACT);
    assert_string_equal(s, "[\"BackbeatOK\"]");
    free(s);
    s = json_dumps(json_object_get(pause, "phases"), JSON_COMPACT);
    assert_string_equal(s, "[\"*\"]");
    free(s);
    s = json_dumps(json_object_get(tc, "payload"), JSON_COMPACT);
    assert_string_equal(
        s, "[{\"name\":\"task_id\",\"type\":\"id\",\"required\":true},{"
           "\"name\":\"agent_id\",\"type\":\"id\",\"required\":true},{"
           "\"name\":\"result\",\"type\":\"text\",\"required\":false}]");
    free(s);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_phase_gates),
        cmocka_unit_test(test_payload_vectors),
        cmocka_unit_test(test_payload_bounds),
        cmocka_unit_test(test_count_bounds),
        cmocka_unit_test(test_messages_exact),
        cmocka_unit_test(test_quorum_bound_clears_payload),
        cmocka_unit_test(test_payload_fills_struct),
        cmocka_unit_test(test_catalog_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
