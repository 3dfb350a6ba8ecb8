/* cli: the subcommands of the one `swoosh` binary (SPEC §8). Each lives in
 * cmd_<name>.c and follows the exit-code convention below. */
#ifndef SW_CLI_H
#define SW_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Named exit codes (STYLE: 0 ok, 1 failure, 2 usage, 3 diverged log). */
enum {
    SW_EXIT_OK = 0,
    SW_EXIT_FAIL = 1,
    SW_EXIT_USAGE = 2,
    SW_EXIT_DIVERGED = 3,
};

/* Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand itself) and returns an exit code. */
int cmd_serve(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_genesis(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* ---- Flag parsing shared by verify, log, submit and bench (cli_args.c) ----
 *
 * Each command describes its flags in a table of sw_cli_opt_t and hands it to
 * sw_cli_parse, which walks argv once, left to right:
 *   - "-h" and "--help" print the usage to `out` and stop (exit 0);
 *   - a flag with a value is accepted as "--name V" and as "--name=V"; the
 *     word after "--name" is always its value, even when it starts with '-';
 *   - a SW_CLI_FLAG takes no value ("--name=V" is an unknown argument);
 *   - a flag given twice: the last one wins (a SW_CLI_LIST appends instead);
 *   - an unknown argument, a missing value or a bad value is a usage error
 *     (exit 2) with the command's own message, and the destination of a bad
 *     value is left untouched.
 * A command without positional arguments gets them refused as unknown; a
 * single fixed word (submit's "-") is a SW_CLI_FLAG named by that word. */

/* What a flag takes, and what its `dst` points to. */
typedef enum sw_cli_kind {
    SW_CLI_FLAG,   /* no value; dst: bool *, set to true */
    SW_CLI_STRING, /* any text; dst: const char **, borrowed from argv */
    SW_CLI_U64,    /* sw_parse_u64 decimal in min..max; dst: uint64_t * */
    SW_CLI_DOUBLE, /* digits with an optional fraction ("5", "0.5", ".5",
                    * "5."; no sign, exponent, inf or nan) in dmin..dmax;
                    * dst: double * */
    SW_CLI_LIST,   /* repeatable text; dst: const char *[max], *count used */
} sw_cli_kind_t;

/* One row of a command's flag table. */
typedef struct sw_cli_opt {
    const char *name; /* as typed, dashes included: "--from" */
    sw_cli_kind_t kind;
    void *dst;         /* see sw_cli_kind_t; borrowed for the parse */
    size_t *count;     /* SW_CLI_LIST: entries used so far */
    uint64_t min, max; /* SW_CLI_U64 range; SW_CLI_LIST capacity (max) */
    double dmin, dmax; /* SW_CLI_DOUBLE range */
    bool nonempty;     /* SW_CLI_STRING: "" is refused */
    const char *what;  /* a bad number reads "<prog>: <name> must be <what>,
                        * not '<value>'"; NULL: "a whole number in min..max"
                        * or "a decimal number in dmin..dmax" */
} sw_cli_opt_t;

/* Which usage errors also print the usage text to `err` (bit set). */
enum {
    SW_CLI_USAGE_ON_UNKNOWN = 1u << 0, /* unknown argument */
    SW_CLI_USAGE_ON_MISSING = 1u << 1, /* the last word needed a value */
    SW_CLI_USAGE_ON_VALUE = 1u << 2,   /* bad, empty, out of range, too many */
};

/* A command's flags and its wording of the errors, so every command keeps
 * its own messages while sharing one parser. */
typedef struct sw_cli_spec {
    const char *prog;         /* message prefix: "swoosh log" */
    const sw_cli_opt_t *opts; /* borrowed */
    size_t n_opts;
    void (*usage)(FILE *out); /* the command's --help text */
    const char *unknown_fmt;  /* after "<prog>: ", exactly one %s: the
                               * argument, e.g. "unknown argument '%s'" */
    const char *missing_fmt;  /* exactly one %s: the flag,
                               * e.g. "%s needs a value" */
    unsigned usage_on;        /* SW_CLI_USAGE_ON_* bits */
} sw_cli_spec_t;

/* Parses argv[1..argc-1] (argv[0] is the subcommand) into the destinations
 * of spec->opts. Messages go to `err`, --help to `out` (both borrowed).
 * Returns -1 to go on, SW_EXIT_OK after --help, SW_EXIT_USAGE after a usage
 * error (its message printed). Values stay borrowed from argv. */
int sw_cli_parse(const sw_cli_spec_t *spec, int argc, char **argv, FILE *out,
                 FILE *err);

#endif
