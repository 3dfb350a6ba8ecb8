// LABEL: unit
// TIMEOUT: 60
/* test_hlc: hybrid logical clocks "P-L-NNNNNNNNNNNNNNNN" (SPEC §2, §4):
 * strict canonical parsing, formatting, ordering and server stamping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hlc.h"

#include <stdio.h>
#include <string.h>

static bool parse(const char *s, sw_hlc_t *h)
{
    return sw_hlc_parse(s, strlen(s), h);
}

/* Canonical stamps parse into their parts, including both extremes. */
static void test_parse_valid(void **state)
{
    (void)state;
    sw_hlc_t h;
    assert_true(parse("0-0-0000000000000000", &h));
    assert_true(h.p == 0 && h.l == 0 && h.node == 0);
    assert_true(parse("1-0-0000000000000001", &h));
    assert_true(h.p == 1 && h.l == 0 && h.node == 1);
    assert_true(parse("1700000000123-42-00000000deadbeef", &h));
    assert_true(h.p == 1700000000123ULL && h.l == 42 &&
                h.node == 0xdeadbeefULL);
    assert_true(parse("18446744073709551615-4294967295-ffffffffffffffff", &h));
    assert_true(h.p == UINT64_MAX && h.l == UINT32_MAX && h.node == UINT64_MAX);
    /* Only the first n bytes count. */
    const char *longer = "5-6-00000000000000ffXYZ";
    assert_true(sw_hlc_parse(longer, 20, &h));
    assert_true(h.p == 5 && h.l == 6 && h.node == 0xff);
}

/* Anything but the canonical spelling is refused: junk, signs, spaces,
 * leading zeros, uppercase hex, wrong lengths and overflow. */
static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "-",
        "--",
        "0",
        "0-0",
        "0-0-",
        "-0-0000000000000000",
        "0--0000000000000000",
        "00-0-0000000000000000",
        "01-0-0000000000000000",
        "0-00-0000000000000000",
        "0-01-0000000000000000",
        "+1-0-0000000000000000",
        "-1-0-0000000000000000",
        "1-+0-0000000000000000",
        " 1-0-0000000000000000",
        "1-0-0000000000000000 ",
        "1 -0-0000000000000000",
        "1-0- 000000000000000",
        "18446744073709551616-0-0000000000000000",
        "99999999999999999999-0-0000000000000000",
        "100000000000000000000-0-0000000000000000",
        "000000000000000000001-0-0000000000000000",
        "0-4294967296-0000000000000000",
        "0-9999999999-0000000000000000",
        "0-10000000000-0000000000000000",
        "0-0-000000000000000",
        "0-0-00000000000000000",
        "0-0-000000000000000A",
        "0-0-ABCDEF0000000000",
        "0-0-000000000000000g",
        "0-0-0x00000000000000",
        "0-0-0000000000000000-",
        "0-0-0000000000000000-0",
        "a-0-0000000000000000",
        "1.5-0-0000000000000000",
        "1e3-0-0000000000000000",
        "0-0-0000_00000000000",
        "0_0_0000000000000000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sw_hlc_t h = {7, 7, 7};
        if (parse(bad[i], &h))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_true(h.p == 7 && h.l == 7 && h.node == 7);
    }
    /* An embedded NUL inside the counted bytes is junk too. */
    sw_hlc_t h;
    assert_true(sw_hlc_parse("1-0-0000000000000000", 20, &h));
    assert_false(sw_hlc_parse("1-0-000000000000000\0", 20, &h));
    assert_false(sw_hlc_parse(NULL, 0, &h));
}

/* format() writes what parse() accepts, and both directions round-trip. */
static void test_round_trips(void **state)
{
    (void)state;
    static const char *const good[] = {
        "0-0-0000000000000000",
        "9-9-0123456789abcdef",
        "10-10-fedcba9876543210",
        "1700000000000-4294967295-0000000000000001",
        "18446744073709551615-0-ffffffffffffffff",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        sw_hlc_t h;
        char out[SW_HLC_STRLEN];
        assert_true(parse(good[i], &h));
        size_t n = sw_hlc_format(&h, out);
        assert_int_equal(n, strlen(good[i]));
        assert_string_equal(out, good[i]);
    }
    /* Pseudo-random values (fixed LCG) survive format → parse. */
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 1000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        sw_hlc_t h = {x >> (i % 64), (uint32_t)(x >> 17), x * 31};
        char out[SW_HLC_STRLEN];
        size_t n = sw_hlc_format(&h, out);
        assert_true(n < SW_HLC_STRLEN);
        sw_hlc_t back;
        assert_true(sw_hlc_parse(out, n, &back));
        assert_int_equal(sw_hlc_cmp(&h, &back), 0);
    }
    sw_hlc_t max = {UINT64_MAX, UINT32_MAX, UINT64_MAX};
    char out[SW_HLC_STRLEN];
    assert_int_equal(sw_hlc_format(&max, out), SW_HLC_STRLEN - 1);
}

/* Ordering is by P, then L, then node, numerically (not textually); max()
 * picks the larger. */
static void test_cmp_and_max(void **state)
{
    (void)state;
    sw_hlc_t a, b;
    assert_true(parse("9-0-0000000000000000", &a));
    assert_true(parse("10-0-0000000000000000", &b));
    assert_true(sw_hlc_cmp(&a, &b) < 0);
    assert_true(sw_hlc_cmp(&b, &a) > 0);
    assert_true(parse("10-9-ffffffffffffffff", &a));
    assert_true(parse("10-10-0000000000000000", &b));
    assert_true(sw_hlc_cmp(&a, &b) < 0);
    assert_true(parse("10-10-0000000000000002", &a));
    assert_true(parse("10-10-0000000000000010", &b));
    assert_true(sw_hlc_cmp(&a, &b) < 0);
    assert_int_equal(sw_hlc_cmp(&a, &a), 0);
    sw_hlc_t m = sw_hlc_max(&a, &b);
    assert_int_equal(sw_hlc_cmp(&m, &b), 0);
    m = sw_hlc_max(&b, &a);
    assert_int_equal(sw_hlc_cmp(&m, &b), 0);
    /* A lagging HLC does not move HLCLast back (SPEC §2 HLC rule). */
    sw_hlc_t last = {500, 3, 1}, lag = {100, 0, 9};
    m = sw_hlc_max(&last, &lag);
    assert_int_equal(sw_hlc_cmp(&m, &last), 0);
}

/* Stamping follows SPEC §4: a newer clock resets the counter, an equal or
 * lagging clock bumps it, and a full counter moves P on so stamps still
 * increase. */
static void test_stamp(void **state)
{
    (void)state;
    const uint64_t node = 0xabcULL;
    sw_hlc_t last = {1000, 5, 1};
    sw_hlc_t s = sw_hlc_stamp(&last, 2000, node);
    assert_true(s.p == 2000 && s.l == 0 && s.node == node);
    s = sw_hlc_stamp(&last, 1000, node);
    assert_true(s.p == 1000 && s.l == 6 && s.node == node);
    s = sw_hlc_stamp(&last, 10, node);
    assert_true(s.p == 1000 && s.l == 6 && s.node == node);
    assert_true(sw_hlc_cmp(&s, &last) > 0);

    sw_hlc_t full = {1000, UINT32_MAX, 1};
    s = sw_hlc_stamp(&full, 1000, node);
    assert_true(s.p == 1001 && s.l == 0);
    assert_true(sw_hlc_cmp(&s, &full) > 0);
    s = sw_hlc_stamp(&full, 999, node);
    assert_true(s.p == 1001 && s.l == 0);

    sw_hlc_t end = {UINT64_MAX, UINT32_MAX, 1};
    s = sw_hlc_stamp(&end, 0, node);
    assert_true(s.p == UINT64_MAX && s.l == UINT32_MAX && s.node == node);

    sw_hlc_t zero = {0, 0, 0};
    s = sw_hlc_stamp(&zero, 0, node);
    assert_true(s.p == 0 && s.l == 1);
    s = sw_hlc_stamp(&zero, 1, node);
    assert_true(s.p == 1 && s.l == 0);

    /* A run of stamps at a frozen clock is strictly increasing. */
    sw_hlc_t prev = {5, UINT32_MAX - 3, 0};
    for (int i = 0; i < 10; i++) {
        sw_hlc_t next = sw_hlc_stamp(&prev, 5, node);
        assert_true(sw_hlc_cmp(&next, &prev) > 0);
        prev = next;
    }
}

/* Node ids are exactly 16 lowercase hex digits (SWOOSH_NODE_ID). */
static void test_parse_node(void **state)
{
    (void)state;
    uint64_t n = 0;
    assert_true(sw_hlc_parse_node("0000000000000001", &n));
    assert_true(n == 1);
    assert_true(sw_hlc_parse_node("ffffffffffffffff", &n));
    assert_true(n == UINT64_MAX);
    assert_false(sw_hlc_parse_node("FFFFFFFFFFFFFFFF", &n));
    assert_false(sw_hlc_parse_node("1", &n));
    assert_false(sw_hlc_parse_node("00000000000000001", &n));
    assert_false(sw_hlc_parse_node("000000000000000 ", &n));
    assert_false(sw_hlc_parse_node("", &n));
    assert_false(sw_hlc_parse_node(NULL, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_cmp_and_max),
        cmocka_unit_test(test_stamp),
        cmocka_unit_test(test_parse_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
