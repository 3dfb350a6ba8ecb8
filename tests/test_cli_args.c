// LABEL: integration
// TIMEOUT: 120
/* test_cli_args: `swoosh log` parses its flags strictly: --from and --limit
 * are plain decimals (no sign, no spaces, no suffix, no wraparound), --from
 * is at least 1, an empty --wal-dir is a usage error (exit 2) rather than a
 * look-up of /swoosh-log.db, and --limit 0 means "all", as its --help says.
 * Valid spellings keep working against a real server's log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proc.h"
#include "jsonq.h"
#include "server.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_SUBMIT 3

static int setup(void **state)
{
    th_server_t *s = th_server_new(NULL);
    if (!s)
        return -1;
    for (int k = 0; k < N_SUBMIT; k++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"transition\":\"LICENSE_GRANTED\",\"signer\":\"op\","
                 "\"idem_key\":\"args-%d\",\"payload\":{\"license_id\":"
                 "\"L%d\"}}",
                 k, k);
        th_resp_t r;
        if (th_http(s->port, "POST", "/transition", NULL, body, &r) != 0 ||
            r.status != 200) {
            fprintf(stderr, "setup: submit %d answered %d\n", k, r.status);
            th_resp_free(&r);
            th_server_free(s);
            return -1;
        }
        th_resp_free(&r);
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    return th_server_free_clean(*state);
}

/* Runs `swoosh log <args>` with stderr kept apart; returns the exit code
 * and fills out (stdout) and err (stderr). */
static int run_log(const th_server_t *s, const char *args, char *out,
                   size_t cap, char *err, size_t ecap)
{
    char path[400], cmd[1024];
    snprintf(path, sizeof path, "%s/log-args.stderr", s->dir);
    snprintf(cmd, sizeof cmd, "%s log %s 2>%s", getenv("SWOOSH_BIN"), args,
             path);
    int st = th_run(cmd, out, cap);
    err[0] = '\0';
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(err, 1, ecap - 1, f);
    err[n] = '\0';
    fclose(f);
    remove(path);
    return st;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

typedef struct bad_case {
    const char *args; /* after --wal-dir DIR (shell words) */
    const char *flag; /* the flag the message must name */
} bad_case_t;

/* Signed, spaced, suffixed, overflowing and empty numbers, --from 0 and an
 * empty --wal-dir are refused with exit 2, a message naming the flag, and
 * no records printed (" -1" once wrapped to 2^64-1 and printed nothing with
 * exit 0; "+3" was read as 3). */
static void test_bad_args_refused(void **state)
{
    th_server_t *s = *state;
    static const bad_case_t cases[] = {
        {"--from ' -1'", "--from"},
        {"--from -1", "--from"},
        {"--from=-1", "--from"},
        {"--from +3", "--from"},
        {"--from ' 2'", "--from"},
        {"--from '2 '", "--from"},
        {"--from 2x", "--from"},
        {"--from 0", "--from"},
        {"--from ''", "--from"},
        {"--from=", "--from"},
        {"--from 18446744073709551616", "--from"},
        {"--from 0x2", "--from"},
        {"--limit ' -1'", "--limit"},
        {"--limit +1", "--limit"},
        {"--limit 1.0", "--limit"},
        {"--limit ''", "--limit"},
        {"--limit 18446744073709551616", "--limit"},
        {"--wal-dir=", "--wal-dir"},
        {"--wal-dir ''", "--wal-dir"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char args[600], out[8192], err[2048];
        snprintf(args, sizeof args, "--wal-dir %s %s", s->wal_dir,
                 cases[k].args);
        int st = run_log(s, args, out, sizeof out, err, sizeof err);
        if (st != 2)
            fail_msg("`log %s`: exit %d, want 2; stderr: %s", cases[k].args, st,
                     err);
        if (!strstr(err, cases[k].flag))
            fail_msg("`log %s`: message does not name %s: %s", cases[k].args,
                     cases[k].flag, err);
        if (out[0])
            fail_msg("`log %s` printed records: %s", cases[k].args, out);
    }
}

/* Valid spellings still work: all records by default and with --limit 0
 * (the same bytes), --from/--limit as separate words and with '=', leading
 * zeros, and --help documents --limit 0 as "all". */
static void test_valid_args(void **state)
{
    th_server_t *s = *state;
    json_int_t idx = (json_int_t)th_health_index(s->port);
    assert_true(idx >= N_SUBMIT);
    char args[600], all[16384], out[16384], err[2048];

    snprintf(args, sizeof args, "--wal-dir %s", s->wal_dir);
    assert_int_equal(run_log(s, args, all, sizeof all, err, sizeof err), 0);
    assert_int_equal(count_lines(all), (size_t)idx);

    snprintf(args, sizeof args, "--wal-dir %s --limit 0", s->wal_dir);
    assert_int_equal(run_log(s, args, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, all);

    snprintf(args, sizeof args, "--wal-dir=%s --from=2 --limit=1", s->wal_dir);
    assert_int_equal(run_log(s, args, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "\"index\":2"));
    const char *second = strchr(all, '\n') + 1;
    assert_memory_equal(out, second, strlen(out));

    snprintf(args, sizeof args,
             "--wal-dir %s --from 002 --limit 18446744073709551615",
             s->wal_dir);
    assert_int_equal(run_log(s, args, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(count_lines(out), (size_t)idx - 1);
    assert_string_equal(out, second);

    assert_int_equal(run_log(s, "--help", out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "0 (the default) means all"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_args_refused),
        cmocka_unit_test(test_valid_args),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
