// LABEL: integration
// TIMEOUT: 120
/* test_cli_args: `swoosh log` parses its flags strictly: --from and --limit
 * are plain decimals (no sign, no spaces, no suffix, no wraparound), --from
 * is at least 1, an empty --wal-dir is a usage error (exit 2) rather than a
 * look-up of /swoosh-log.db, and --limit 0 means "all", as its --help says.
 * Valid spellings keep working against a real server's log.
 *
 * It also checks the one flag parser behind verify, log, submit and bench
 * (sw_cli_parse, src/cli/cli_args.c) directly from a table of argv cases,
 * and the exact usage messages each of those commands prints (the parser is
 * the swoosh_cli_args library, linked into the tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proc.h"
#include "jsonq.h"
#include "server.h"

#include "cli/cli.h"

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

/* Where the parser's test table writes; reset before each case. */
typedef struct dest {
    const char *name, *nonempty;
    uint64_t n, big;
    double sec;
    bool flag, dash;
    const char *items[2];
    size_t n_items;
} dest_t;

static void t_usage(FILE *out)
{
    fputs("USAGE\n", out);
}

/* One argv and everything the parse must produce. Fields left 0/NULL
 * expect the destination untouched (all destinations start at 0/NULL) and
 * nothing printed. */
typedef struct parse_case {
    const char *argv[8]; /* after argv[0], NULL-terminated */
    int rc;
    const char *out, *err; /* exact; NULL means "" */
    const char *name, *nonempty;
    uint64_t n, big;
    double sec;
    bool flag, dash;
    size_t n_items;
    const char *item0, *item1;
} parse_case_t;

#define BAD_N(v)                                                               \
    "swoosh t: --n must be a whole number in 2..9, not '" v "'\nUSAGE\n"
#define BAD_SEC(v)                                                             \
    "swoosh t: --sec must be a decimal number in 0.5..10, not '" v "'\nUSAGE"  \
    "\n"
#define UNKNOWN(v) "swoosh t: unknown '" v "'\nUSAGE\n"

static const parse_case_t parse_cases[] = {
    /* Both spellings of a value, and "--name=" as an empty value. */
    {.argv = {NULL}, .rc = -1},
    {.argv = {"--name", "a"}, .rc = -1, .name = "a"},
    {.argv = {"--name=a"}, .rc = -1, .name = "a"},
    {.argv = {"--name=a=b"}, .rc = -1, .name = "a=b"},
    {.argv = {"--name="}, .rc = -1, .name = ""},
    {.argv = {"--name", ""}, .rc = -1, .name = ""},
    /* The next word is the value even when it looks like a flag. */
    {.argv = {"--name", "--flag"}, .rc = -1, .name = "--flag"},
    {.argv = {"--name", "--help"}, .rc = -1, .name = "--help"},
    /* Repeated: the last one wins. */
    {.argv = {"--name", "a", "--name=b"}, .rc = -1, .name = "b"},
    {.argv = {"--n", "3", "--n=9"}, .rc = -1, .n = 9},
    /* U64 range limits, inclusive, and strict digits. */
    {.argv = {"--n", "2"}, .rc = -1, .n = 2},
    {.argv = {"--n=9"}, .rc = -1, .n = 9},
    {.argv = {"--n=002"}, .rc = -1, .n = 2},
    {.argv = {"--n", "1"}, .rc = 2, .err = BAD_N("1")},
    {.argv = {"--n=10"}, .rc = 2, .err = BAD_N("10")},
    {.argv = {"--n", " 3"}, .rc = 2, .err = BAD_N(" 3")},
    {.argv = {"--n", "+3"}, .rc = 2, .err = BAD_N("+3")},
    {.argv = {"--n", "-3"}, .rc = 2, .err = BAD_N("-3")},
    {.argv = {"--n", "3x"}, .rc = 2, .err = BAD_N("3x")},
    {.argv = {"--n="}, .rc = 2, .err = BAD_N("")},
    {.argv = {"--big", "18446744073709551615"}, .rc = -1, .big = UINT64_MAX},
    {.argv = {"--big", "18446744073709551616"},
     .rc = 2,
     .err = "swoosh t: --big must be any size at all, not "
            "'18446744073709551616'\nUSAGE\n"},
    /* A bad value leaves the destination as it was. */
    {.argv = {"--n", "3", "--n", "x"}, .rc = 2, .err = BAD_N("x"), .n = 3},
    /* DOUBLE range limits and strict decimals. */
    {.argv = {"--sec", "0.5"}, .rc = -1, .sec = 0.5},
    {.argv = {"--sec=.5"}, .rc = -1, .sec = 0.5},
    {.argv = {"--sec", "10"}, .rc = -1, .sec = 10},
    {.argv = {"--sec", "10."}, .rc = -1, .sec = 10},
    {.argv = {"--sec", "0.49"}, .rc = 2, .err = BAD_SEC("0.49")},
    {.argv = {"--sec", "10.001"}, .rc = 2, .err = BAD_SEC("10.001")},
    {.argv = {"--sec", "1e1"}, .rc = 2, .err = BAD_SEC("1e1")},
    {.argv = {"--sec", "nan"}, .rc = 2, .err = BAD_SEC("nan")},
    {.argv = {"--sec", "inf"}, .rc = 2, .err = BAD_SEC("inf")},
    {.argv = {"--sec", "-1"}, .rc = 2, .err = BAD_SEC("-1")},
    {.argv = {"--sec", "+1"}, .rc = 2, .err = BAD_SEC("+1")},
    {.argv = {"--sec", "0x5"}, .rc = 2, .err = BAD_SEC("0x5")},
    {.argv = {"--sec", "."}, .rc = 2, .err = BAD_SEC(".")},
    {.argv = {"--sec", "1,5"}, .rc = 2, .err = BAD_SEC("1,5")},
    /* Flags take no value; a fixed word ("-") is a flag too. */
    {.argv = {"--flag"}, .rc = -1, .flag = true},
    {.argv = {"-"}, .rc = -1, .dash = true},
    {.argv = {"--flag=1"}, .rc = 2, .err = UNKNOWN("--flag=1")},
    /* Unknown flags, prefixes, longer names and positionals. */
    {.argv = {"--bogus"}, .rc = 2, .err = UNKNOWN("--bogus")},
    {.argv = {"--na", "a"}, .rc = 2, .err = UNKNOWN("--na")},
    {.argv = {"--namex", "a"}, .rc = 2, .err = UNKNOWN("--namex")},
    {.argv = {"word"}, .rc = 2, .err = UNKNOWN("word")},
    {.argv = {"--"}, .rc = 2, .err = UNKNOWN("--")},
    {.argv = {"--name", "a", "--bogus"},
     .rc = 2,
     .err = UNKNOWN("--bogus"),
     .name = "a"},
    /* A missing value: this spec prints no usage after it. */
    {.argv = {"--name"}, .rc = 2, .err = "swoosh t: no value for --name\n"},
    {.argv = {"--flag", "--n"},
     .rc = 2,
     .err = "swoosh t: no value for --n\n",
     .flag = true},
    /* A non-empty string. */
    {.argv = {"--nonempty=x"}, .rc = -1, .nonempty = "x"},
    {.argv = {"--nonempty", ""},
     .rc = 2,
     .err = "swoosh t: --nonempty must not be empty\nUSAGE\n"},
    {.argv = {"--nonempty="},
     .rc = 2,
     .err = "swoosh t: --nonempty must not be empty\nUSAGE\n"},
    /* A list appends, up to its capacity. */
    {.argv = {"--item", "a", "--item=b"},
     .rc = -1,
     .n_items = 2,
     .item0 = "a",
     .item1 = "b"},
    {.argv = {"--item", "a", "--item=b", "--item", "c"},
     .rc = 2,
     .err = "swoosh t: at most 2 --item\nUSAGE\n",
     .n_items = 2,
     .item0 = "a",
     .item1 = "b"},
    /* Help stops the walk, wherever it is, unless an error came first. */
    {.argv = {"--help"}, .rc = 0, .out = "USAGE\n"},
    {.argv = {"-h"}, .rc = 0, .out = "USAGE\n"},
    {.argv = {"--n", "3", "--help", "--bogus"},
     .rc = 0,
     .out = "USAGE\n",
     .n = 3},
    {.argv = {"--bogus", "--help"}, .rc = 2, .err = UNKNOWN("--bogus")},
    {.argv = {"--help=1"}, .rc = 2, .err = UNKNOWN("--help=1")},
};

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every case of parse_cases: the return code, the exact text on each
 * stream, and every destination (also those the case must not touch). */
static void test_parser_table(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof parse_cases / sizeof parse_cases[0]; k++) {
        const parse_case_t *c = &parse_cases[k];
        dest_t d = {0};
        const sw_cli_opt_t opts[] = {
            {.name = "--name", .kind = SW_CLI_STRING, .dst = &d.name},
            {.name = "--nonempty",
             .kind = SW_CLI_STRING,
             .dst = &d.nonempty,
             .nonempty = true},
            {.name = "--n",
             .kind = SW_CLI_U64,
             .dst = &d.n,
             .min = 2,
             .max = 9},
            {.name = "--big",
             .kind = SW_CLI_U64,
             .dst = &d.big,
             .max = UINT64_MAX,
             .what = "any size at all"},
            {.name = "--sec",
             .kind = SW_CLI_DOUBLE,
             .dst = &d.sec,
             .dmin = 0.5,
             .dmax = 10},
            {.name = "--flag", .kind = SW_CLI_FLAG, .dst = &d.flag},
            {.name = "-", .kind = SW_CLI_FLAG, .dst = &d.dash},
            {.name = "--item",
             .kind = SW_CLI_LIST,
             .dst = d.items,
             .count = &d.n_items,
             .max = 2},
        };
        const sw_cli_spec_t spec = {
            .prog = "swoosh t",
            .opts = opts,
            .n_opts = sizeof opts / sizeof opts[0],
            .usage = t_usage,
            .unknown_fmt = "unknown '%s'",
            .missing_fmt = "no value for %s",
            .usage_on = SW_CLI_USAGE_ON_UNKNOWN | SW_CLI_USAGE_ON_VALUE,
        };
        char *argv[10] = {"t"};
        int argc = 1;
        while (c->argv[argc - 1])
            argv[argc] = (char *)c->argv[argc - 1], argc++;
        char *out_s = NULL, *err_s = NULL;
        size_t out_n = 0, err_n = 0;
        FILE *out = open_memstream(&out_s, &out_n);
        FILE *err = open_memstream(&err_s, &err_n);
        assert_non_null(out);
        assert_non_null(err);
        int rc = sw_cli_parse(&spec, argc, argv, out, err);
        fclose(out);
        fclose(err);
        const char *want_out = c->out ? c->out : "";
        const char *want_err = c->err ? c->err : "";
        if (rc != c->rc || strcmp(out_s, want_out) != 0 ||
            strcmp(err_s, want_err) != 0)
            fail_msg("case %zu (%s ...): rc %d want %d; out '%s' want '%s'; "
                     "err '%s' want '%s'",
                     k, c->argv[0] ? c->argv[0] : "", rc, c->rc, out_s,
                     want_out, err_s, want_err);
        free(out_s);
        free(err_s);
        if (!same_str(d.name, c->name) || !same_str(d.nonempty, c->nonempty) ||
            d.n != c->n || d.big != c->big || d.sec != c->sec ||
            d.flag != c->flag || d.dash != c->dash || d.n_items != c->n_items ||
            (d.n_items > 0 && !same_str(d.items[0], c->item0)) ||
            (d.n_items > 1 && !same_str(d.items[1], c->item1)))
            fail_msg("case %zu (%s ...): destinations differ: name %s n %llu "
                     "big %llu sec %g flag %d dash %d items %zu",
                     k, c->argv[0] ? c->argv[0] : "",
                     d.name ? d.name : "(null)", (unsigned long long)d.n,
                     (unsigned long long)d.big, d.sec, d.flag, d.dash,
                     d.n_items);
    }
}

/* One command line and the first line of what it prints on stderr. */
typedef struct msg_case {
    const char *args;
    int rc;
    const char *first_line; /* exact, without the newline */
    bool usage;             /* the usage text follows on stderr */
} msg_case_t;

/* The usage errors of verify, log, submit and bench keep their own wording
 * and exit 2 (the texts the four parsers printed before they were merged),
 * usage follows only where it did, and submit and bench accept "--name=V". */
static void test_command_messages(void **state)
{
    (void)state;
    static const msg_case_t cases[] = {
        {"verify --bogus", 2, "swoosh verify: unknown argument '--bogus'",
         true},
        {"verify --wal-dir", 2, "swoosh verify: missing value for '--wal-dir'",
         true},
        {"log --bogus", 2, "swoosh log: unknown argument '--bogus'", true},
        {"log --from", 2, "swoosh log: missing value for --from", false},
        {"log --from=0", 2,
         "swoosh log: --from must be a whole number >= 1, digits only, not "
         "'0'",
         false},
        {"log --limit -1", 2,
         "swoosh log: --limit must be a whole number >= 0 (0 means all), "
         "digits only, not '-1'",
         false},
        {"log --wal-dir=", 2, "swoosh log: --wal-dir must not be empty", false},
        {"verify --wal-dir=", 2, "swoosh verify: --wal-dir must not be empty",
         false},
        {"verify --snapshot-dir ''", 2,
         "swoosh verify: --snapshot-dir must not be empty", false},
        {"submit --bogus", 2,
         "swoosh submit: unknown argument '--bogus'; see `swoosh submit "
         "--help`",
         false},
        {"submit --quiet=1", 2,
         "swoosh submit: unknown argument '--quiet=1'; see `swoosh submit "
         "--help`",
         false},
        {"submit --transition", 2, "swoosh submit: --transition needs a value",
         false},
        {"submit --signer=s", 2,
         "swoosh submit: --transition, --signer and --idem-key are required "
         "(or pass the body on stdin with -)",
         false},
        {"submit --transition=T --signer=s --idem-key=k --payload=[1]", 2,
         "swoosh submit: --payload is not a JSON object", false},
        {"bench --bogus x", 2,
         "swoosh bench: unknown flag '--bogus'; see `swoosh bench --help`",
         true},
        {"bench --bogus", 2,
         "swoosh bench: unknown flag '--bogus'; see `swoosh bench --help`",
         true},
        {"bench --url", 2, "swoosh bench: --url needs a value", true},
        {"bench --url=http://:1", 2, "swoosh bench: bad --url 'http://:1'",
         true},
        {"bench --connections=0", 2,
         "swoosh bench: --connections must be a whole number in 1..10000, "
         "not '0'",
         true},
        {"bench --duration 0.0009", 2,
         "swoosh bench: --duration must be a decimal number of seconds in "
         "0.001..86400, not '0.0009'",
         true},
        {"bench --warmup=3600.5", 2,
         "swoosh bench: --warmup must be a decimal number of seconds in "
         "0..3600, not '3600.5'",
         true},
        {"bench --requests -1", 2,
         "swoosh bench: --requests must be a whole number in "
         "0..18446744073709551615 (0: until the duration ends), not '-1'",
         true},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char cmd[1024], err[8192];
        snprintf(cmd, sizeof cmd, "%s %s </dev/null 2>&1 >/dev/null",
                 getenv("SWOOSH_BIN"), cases[k].args);
        int st = th_run(cmd, err, sizeof err);
        char *nl = strchr(err, '\n');
        if (nl)
            *nl = '\0';
        if (st != cases[k].rc || strcmp(err, cases[k].first_line) != 0)
            fail_msg("`%s`: exit %d want %d; first line '%s' want '%s'",
                     cases[k].args, st, cases[k].rc, err, cases[k].first_line);
        bool usage = nl && strncmp(nl + 1, "usage: swoosh ", 14) == 0;
        if (usage != cases[k].usage)
            fail_msg("`%s`: usage %s on stderr", cases[k].args,
                     usage ? "printed" : "missing");
    }
}

int main(void)
{
    const struct CMUnitTest parser[] = {
        cmocka_unit_test(test_parser_table),
        cmocka_unit_test(test_command_messages),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_args_refused),
        cmocka_unit_test(test_valid_args),
    };
    int failed = cmocka_run_group_tests(parser, NULL, NULL);
    return failed + cmocka_run_group_tests(tests, setup, teardown);
}
