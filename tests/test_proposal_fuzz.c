// LABEL: unit
// TIMEOUT: 120
/* test_proposal_fuzz: seeded mutations of valid proposal bodies through the
 * parser (SPEC §2; "bad input gets a clear error and changes nothing").
 *
 * Every mutated body must come back either accepted, with a proposal whose
 * fields are consistent, or rejected with a client-error code and a clean
 * message of printable ASCII; parsing the same bytes twice gives the same
 * answer; and for every accepted body the idempotency content hash equals
 * the one a reference written here computes the slow way (a jansson object
 * of the six members, serialised by sw_canon_hash). Memory errors and leaks are
 * caught by the ASan build of `make test`. The mutation sequence is fixed
 * (xorshift64 from a constant seed), so a failure names a reproducible case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "buf.h"
#include "canon.h"
#include "catalog.h"
#include "fuzz.h"
#include "proposal.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Valid bodies covering every member of SPEC §2. */
static const char *const seeds[] = {
    "{\"current_state_hash\":\"genesis\",\"transition\":\"LICENSE_GRANTED\","
    "\"inputs_hash\":\"test\",\"signer\":\"test-node\",\"idem_key\":"
    "\"unique-1\",\"hlc\":\"1-0-0000000000000001\",\"window_id\":"
    "\"window-1\",\"evidence\":[]}",
    "{\"transition\":\"EXECUTION_BEAT\",\"signer\":\"agent-7\",\"idem_key\":"
    "\"beat-42\",\"window_id\":\"w1\"}",
    "{\"transition\":\"EXECUTION_TASK_CREATED\",\"signer\":\"s\",\"idem_key\":"
    "\"k\",\"payload\":{\"title\":\"T\\u00e9\",\"task_id\":\"t1\"},"
    "\"evidence\":[\"a\",\"\\\"q\\\"\",\"\\u2713\"]}",
    "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"s\",\"idem_key\":\"k\","
    "\"current_state_hash\":null,\"hlc\":null,\"inputs_hash\":null,"
    "\"window_id\":null,\"evidence\":null,\"payload\":null}",
    "{\"transition\":\"POLICY_UPDATED\",\"signer\":\"op\",\"idem_key\":"
    "\"p-1\",\"payload\":{\"max_tasks\":8192}}",
};

/* Fragments spliced in at random offsets: JSON structure, escapes, numbers
 * at and past the integer range, invalid UTF-8, field names of SPEC §2. */
static const char *const tokens[] = {
    "1e999",
    "0.5",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "\\u0000",
    "\\ud800",
    "\\udc00\\ud800",
    "\xff",
    "\xc0\x80",
    "\xed\xa0\x80",
    "\xf4\x90\x80\x80",
    "\"transition\":",
    "\"payload\":{}",
    "\"evidence\":[",
    "\"hlc\":\"1-0-0000000000000001\"",
    "\"idem_key\":\"k\"",
    "\"inputs_hash\":\"",
    "[[[[[[[[[[",
    "}}}}}}}}",
    "\"a\":1,\"a\":2",
    " ",
    "\t\n",
    "\"\\u00e9\"",
};

/* Characters that keep a JSON string valid: ASCII, escapes, UTF-8. */
static const char *const gentle_chars[] = {"a",
                                           "Z",
                                           "0",
                                           " ",
                                           "~",
                                           "\\n",
                                           "\\u00e9",
                                           "\\\"",
                                           "\xc3\xa9",
                                           "\xe2\x9c\x93",
                                           "\xf0\x9f\x98\x80"};

/* Replaces a letter or digit (most sit inside string values) by a
 * character from gentle_chars, so that many mutants still parse. */
static bool gentle(sw_buf_t *out, size_t at)
{
    char ch = out->data[at];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
        return false;
    const char *g =
        gentle_chars[th_fuzz_below(sizeof gentle_chars / sizeof *gentle_chars)];
    th_fuzz_splice(out, at, 1, g, strlen(g));
    return true;
}

static const th_mutator_t mutator = {tokens, sizeof tokens / sizeof *tokens,
                                     gentle};

/* The slow way: a jansson object of the six members (SPEC §2's
 * idempotency content, absent = empty value), serialised canonically. */
static bool reference_content_hash(const sw_proposal_t *p, char hex[65])
{
    json_t *c = json_object();
    json_object_set_new(c, "transition", json_string(p->transition));
    json_object_set_new(c, "signer", json_string(p->signer));
    json_object_set_new(c, "inputs_hash", json_string(p->inputs_hash));
    json_object_set_new(c, "window_id", json_string(p->window_id));
    json_object_set_new(c, "evidence",
                        p->evidence ? json_incref(p->evidence) : json_array());
    json_object_set_new(c, "payload",
                        p->payload ? json_incref(p->payload) : json_object());
    bool ok = sw_canon_hash(c, hex);
    json_decref(c);
    return ok;
}

/* A rejection message is one line of printable ASCII (client text in it is
 * quoted with sw_quote), at most 255 bytes. */
static bool clean_message(const char *msg)
{
    size_t n = strnlen(msg, 256);
    if (n == 0 || n == 256)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] > 0x7e)
            return false;
    return true;
}

static void test_seeds_are_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        sw_proposal_t p;
        char msg[256];
        sw_code_t c = sw_proposal_parse(seeds[i], strlen(seeds[i]), &p, msg);
        if (c != SW_C_OK)
            fail_msg("seed %zu: %s (%s)", i, sw_code_name(c), msg);
        char want[65];
        assert_true(reference_content_hash(&p, want));
        assert_string_equal(p.content_hash, want);
        sw_proposal_destroy(&p);
    }
}

static void test_mutations(void **state)
{
    (void)state;
    const size_t rounds = th_fuzz_rounds(200000);
    size_t accepted = 0, rejected = 0;
    sw_buf_t body = SW_BUF_INIT;
    for (size_t i = 0; i < rounds; i++) {
        const char *seed = seeds[i % (sizeof seeds / sizeof *seeds)];
        th_fuzz_mutate(&body, seed, strlen(seed), &mutator);
        const char *data = body.data ? body.data : "";
        sw_proposal_t p, q;
        char msg[256], msg2[256];
        sw_code_t c = sw_proposal_parse(data, body.len, &p, msg);
        sw_code_t c2 = sw_proposal_parse(data, body.len, &q, msg2);
        if (c != c2)
            fail_msg("case %zu: %s then %s", i, sw_code_name(c),
                     sw_code_name(c2));
        assert_true((unsigned)c < SW_C__COUNT);
        if (c == SW_C_OK) {
            accepted++;
            assert_non_null(p.raw);
            assert_non_null(p.entry);
            assert_string_equal(p.entry->name, p.transition);
            char want[65];
            assert_true(reference_content_hash(&p, want));
            if (strcmp(p.content_hash, want) != 0)
                fail_msg("case %zu: content hash %s, reference %s (body %s)", i,
                         p.content_hash, want, data);
            assert_string_equal(p.content_hash, q.content_hash);
            sw_proposal_destroy(&p);
            sw_proposal_destroy(&q);
        } else {
            rejected++;
            int status = sw_code_status(c);
            if (status < 400 || status > 499 || !clean_message(msg) ||
                strcmp(msg, msg2) != 0)
                fail_msg("case %zu: %s (%d) \"%s\" for body %s", i,
                         sw_code_name(c), status, msg, data);
            assert_null(p.raw);
        }
    }
    sw_buf_free(&body);
    print_message("accepted %zu, rejected %zu\n", accepted, rejected);
    /* Both paths must have been exercised for the checks to mean much. */
    assert_true(accepted >= rounds / 50);
    assert_true(rejected >= rounds / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds_are_valid),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
