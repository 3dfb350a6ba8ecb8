// LABEL: unit
// TIMEOUT: 300
/* test_idem: the fixed-size idempotency key filter of the log (no false
 * negatives, false-positive rate within its design) and idempotency through
 * the log and the executor after a reopen (SPEC §2 idempotency). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "executor.h"
#include "fsio.h"
#include "proposal.h"
#include "tmpdir.h"
#include "wal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW 1700000000000ULL
#define GENESIS                                                                \
    "0000000000000000000000000000000000000000000000000000000000000000"

/* xorshift64*: deterministic pseudo-random keys. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Random keys of the shape clients use; the `tag` keeps sets disjoint. */
static void rand_key(uint64_t *s, char tag, char out[48])
{
    uint64_t a = rnd(s), b = rnd(s);
    snprintf(out, 48, "%c-%016" PRIx64 "-%" PRIu64, tag, a, b % 100000);
}

/* Expected false-positive rate of a blocked Bloom filter (512-bit blocks,
 * k positions drawn with replacement) holding n keys: the block load is
 * Poisson, and a block with j keys answers "maybe" with probability
 * (1 - (1 - 1/512)^(k j))^k. */
static double blocked_fp(double n, unsigned bits_log2, unsigned k)
{
    double blocks = ldexp(1.0, (int)bits_log2 - 9);
    double lambda = n / blocks;
    double p = exp(-lambda), sum = 0;
    for (unsigned j = 0; j < (unsigned)(lambda * 4 + 100); j++) {
        if (j > 0)
            p *= lambda / j;
        double fill = 1 - pow(1 - 1.0 / 512, (double)k * j);
        sum += p * pow(fill, k);
    }
    return sum;
}

/* Every added key is reported as maybe present, both in the log's filter
 * and in a tiny, heavily overloaded one. */
static void test_no_false_negatives(void **state)
{
    (void)state;
    sw_idem_filter_t *big =
        sw_idem_filter_new(SW_IDEM_FILTER_BITS_LOG2, SW_IDEM_FILTER_K);
    sw_idem_filter_t *tiny = sw_idem_filter_new(12, 7);
    enum { N = 200000 };
    uint64_t s = 0x1234567887654321ULL;
    char k[48];
    for (int i = 0; i < N; i++) {
        rand_key(&s, 'a', k);
        sw_idem_filter_add(big, k);
        sw_idem_filter_add(tiny, k);
    }
    s = 0x1234567887654321ULL;
    for (int i = 0; i < N; i++) {
        rand_key(&s, 'a', k);
        if (!sw_idem_filter_may_contain(big, k) ||
            !sw_idem_filter_may_contain(tiny, k))
            fail_msg("false negative for %s", k);
    }
    /* An empty key is a key like any other. */
    assert_false(sw_idem_filter_may_contain(big, ""));
    sw_idem_filter_add(big, "");
    assert_true(sw_idem_filter_may_contain(big, ""));
    sw_idem_filter_free(big);
    sw_idem_filter_free(tiny);
}

static double measure_fp(sw_idem_filter_t *f, unsigned n, uint64_t seed)
{
    uint64_t s = seed;
    char k[48];
    unsigned pos = 0;
    for (unsigned i = 0; i < n; i++) {
        rand_key(&s, 'z', k); /* never inserted: tag differs */
        pos += sw_idem_filter_may_contain(f, k);
    }
    return (double)pos / n;
}

/* At 1M keys the false-positive rate on keys never inserted stays within
 * the designed bound: for a small filter, where it is measurable, within
 * 15% of the blocked-Bloom expectation; for the log's filter, below 1e-5. */
static void test_false_positive_rate(void **state)
{
    (void)state;
    enum { N = 1000000 };
    sw_idem_filter_t *small = sw_idem_filter_new(23, 4);
    sw_idem_filter_t *big =
        sw_idem_filter_new(SW_IDEM_FILTER_BITS_LOG2, SW_IDEM_FILTER_K);
    uint64_t s = 0x0badc0ffee0ddf00ULL;
    char k[48];
    for (int i = 0; i < N; i++) {
        rand_key(&s, 'a', k);
        sw_idem_filter_add(small, k);
        sw_idem_filter_add(big, k);
    }
    double want_small = blocked_fp(N, 23, 4);
    double got_small = measure_fp(small, N, 0x5eed5eed5eed5eedULL);
    print_message("fp 2^23 bits k=4 at 1M: measured %.5f, expected %.5f\n",
                  got_small, want_small);
    assert_true(want_small > 0.01 && want_small < 0.05);
    assert_true(got_small <= want_small * 1.15);
    assert_true(got_small >= want_small * 0.85);

    double want_big = blocked_fp(N, SW_IDEM_FILTER_BITS_LOG2, SW_IDEM_FILTER_K);
    double got_big = measure_fp(big, N, 0x5eed5eed5eed5eedULL);
    print_message("fp log filter at 1M: measured %.2e, expected %.2e\n",
                  got_big, want_big);
    assert_true(want_big < 1e-5);
    assert_true(got_big < 1e-5);
    sw_idem_filter_free(small);
    sw_idem_filter_free(big);
}

typedef struct fixture {
    char dir[64];
    char wal[128], snap[128];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/swoosh-test-idem-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->wal, sizeof f->wal, "%s/wal", f->dir);
    snprintf(f->snap, sizeof f->snap, "%s/snap", f->dir);
    sw_fsio_reset_for_tests();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    th_rm_tree(f->dir);
    free(f);
    return 0;
}

static int on_found(void *arg, const sw_wal_record_t *r)
{
    *(uint64_t *)arg = r->index;
    return 0;
}

/* After a reopen the log finds every logged key (the filter is rebuilt
 * from the log) with its own record, and none of the keys never logged. */
static void test_log_lookup_after_reopen(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    enum { N = 3000, BATCH = 100 };
    sw_wal_t *w = sw_wal_open(f->wal, GENESIS, NULL, &err);
    assert_non_null(w);
    static char keys[N][48];
    uint64_t s = 42;
    for (int i = 0; i < N; i++)
        rand_key(&s, 'a', keys[i]);
    for (int b = 0; b < N / BATCH; b++) {
        sw_wal_record_t recs[BATCH];
        for (int i = 0; i < BATCH; i++) {
            int n = b * BATCH + i;
            recs[i] = (sw_wal_record_t){
                .index = (uint64_t)n + 1,
                .idem_key = keys[n],
                .transition = "T",
                .signer = "s",
                .state_hash = GENESIS,
                .hlc_last = "",
                .record = "{}",
                .record_len = 2,
            };
        }
        assert_int_equal(sw_wal_append_batch(w, recs, BATCH, &err), SWOOSH_OK);
    }
    sw_wal_close(w);
    w = sw_wal_open(f->wal, GENESIS, NULL, &err);
    assert_non_null(w);
    for (int i = 0; i < N; i++) {
        bool found = false;
        uint64_t idx = 0;
        assert_int_equal(
            sw_wal_find_idem(w, keys[i], on_found, &idx, &found, &err),
            SWOOSH_OK);
        assert_true(found);
        assert_int_equal(idx, (uint64_t)i + 1);
    }
    char k[48];
    for (int i = 0; i < N; i++) {
        bool found = true;
        rand_key(&s, 'z', k);
        assert_int_equal(sw_wal_find_idem(w, k, NULL, NULL, &found, &err),
                         SWOOSH_OK);
        assert_false(found);
    }
    sw_wal_close(w);
}

static uint64_t fixed_clock(void *arg)
{
    (void)arg;
    return NOW;
}

static sw_executor_t *open_ex(fixture_t *f, swoosh_error *err)
{
    sw_exec_config_t c;
    sw_exec_config_defaults(&c);
    c.wal_dir = f->wal;
    c.snapshot_dir = f->snap;
    c.snapshot_every = 0;
    c.node_id = 0xabc;
    c.now_ms = fixed_clock;
    return sw_executor_open(&c, err);
}

static void submit(sw_executor_t *ex, const char *json, sw_reply_t *r)
{
    sw_proposal_t p;
    char msg[256];
    if (sw_proposal_parse(json, strlen(json), &p, msg) != SW_C_OK)
        fail_msg("parse %s: %s", json, msg);
    assert_int_equal(sw_executor_submit_wait(ex, &p, &SW_GUARDS_ALL_OK, r),
                     SW_C_OK);
}

#define LIC(key, lid)                                                          \
    "{\"transition\":\"LICENSE_GRANTED\",\"signer\":\"op\",\"idem_key\":"      \
    "\"" key "\",\"payload\":{\"license_id\":\"" lid "\"}}"
#define CTL(t, key)                                                            \
    "{\"transition\":\"" t "\",\"signer\":\"op\",\"idem_key\":\"" key "\"}"

/* Through the executor, after a reopen: a logged key resubmitted unchanged
 * is a duplicate with the original answer, resubmitted with other content
 * is IDEMPOTENCY_CONFLICT, and a new key still applies. */
static void test_executor_after_reopen(void **state)
{
    fixture_t *f = *state;
    swoosh_error err = {0};
    sw_executor_t *ex = open_ex(f, &err);
    assert_non_null(ex);
    sw_reply_t a, b, c;
    submit(ex, LIC("ka", "L1"), &a);
    submit(ex, CTL("CONTROL_PAUSE", "kb"), &b);
    submit(ex, CTL("CONTROL_RESUME", "kc"), &c);
    assert_int_equal(a.code, SW_C_OK);
    assert_int_equal(c.code, SW_C_OK);
    assert_int_equal(c.index, 3);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);

    ex = open_ex(f, &err);
    assert_non_null(ex);
    sw_reply_t d;
    submit(ex, CTL("CONTROL_PAUSE", "kb"), &d);
    assert_int_equal(d.code, SW_C_OK);
    assert_true(d.duplicate);
    assert_int_equal(d.index, 2);
    assert_string_equal(d.state_hash, b.state_hash);
    assert_string_equal(d.hlc_last, b.hlc_last);
    submit(ex, LIC("ka", "L1"), &d);
    assert_true(d.duplicate);
    assert_int_equal(d.index, 1);
    assert_string_equal(d.state_hash, a.state_hash);
    submit(ex, LIC("ka", "L2"), &d);
    assert_int_equal(d.code, SW_C_IDEMPOTENCY_CONFLICT);
    assert_false(d.duplicate);
    assert_int_equal(d.index, 3);
    submit(ex, CTL("CONTROL_PAUSE", "kd"), &d);
    assert_int_equal(d.code, SW_C_OK);
    assert_false(d.duplicate);
    assert_int_equal(d.index, 4);
    /* The key committed in this run is found too. */
    sw_reply_t e;
    submit(ex, CTL("CONTROL_PAUSE", "kd"), &e);
    assert_true(e.duplicate);
    assert_int_equal(e.index, 4);
    assert_string_equal(e.state_hash, d.state_hash);
    assert_int_equal(sw_executor_close(ex, &err), SWOOSH_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_false_negatives),
        cmocka_unit_test(test_false_positive_rate),
        cmocka_unit_test_setup_teardown(test_log_lookup_after_reopen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_executor_after_reopen, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
