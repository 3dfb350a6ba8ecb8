/* swoosh log: print logged records as JSON lines, oldest first (SPEC §8). */
#include "cli.h"

#include "err.h"
#include "log.h"
#include "wal.h"

#include <stdbool.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: swoosh log [--wal-dir D] [--from N] [--limit M]\n\n"
            "Prints the logged records (canonical JSON, one per line), "
            "oldest first,\nstarting at index N (default 1); at most M "
            "records (default all).\nRead-only; safe while a server runs.\n\n"
            "  --wal-dir D  log directory, not empty (SWOOSH_WAL_DIR, "
            "default " SW_WAL_DIR_DEFAULT ")\n"
            "  --from N     first index, a whole number >= 1 (default 1)\n"
            "  --limit M    most records to print, a whole number >= 0;\n"
            "               0 (the default) means all\n\n"
            "N and M are plain decimals: digits only, no sign or spaces.\n");
}

static int print_one(void *arg, const sw_wal_record_t *r)
{
    FILE *out = arg;
    fwrite(r->record, 1, r->record_len, out);
    fputc('\n', out);
    return ferror(out) ? 1 : 0;
}

/* The audit log for scripts: the exact record text, so `jq` and `sha256sum`
 * see what replay sees. */
int cmd_log(int argc, char **argv)
{
    const char *wal_dir = getenv("SWOOSH_WAL_DIR");
    if (!wal_dir || !*wal_dir)
        wal_dir = SW_WAL_DIR_DEFAULT;
    uint64_t from = 1, limit = 0;
    const sw_cli_opt_t opts[] = {
        {.name = "--wal-dir",
         .kind = SW_CLI_STRING,
         .dst = &wal_dir,
         .nonempty = true},
        {.name = "--from",
         .kind = SW_CLI_U64,
         .dst = &from,
         .min = 1,
         .max = UINT64_MAX,
         .what = "a whole number >= 1, digits only"},
        {.name = "--limit",
         .kind = SW_CLI_U64,
         .dst = &limit,
         .max = UINT64_MAX,
         .what = "a whole number >= 0 (0 means all), digits only"},
    };
    const sw_cli_spec_t spec = {
        .prog = "swoosh log",
        .opts = opts,
        .n_opts = sizeof opts / sizeof opts[0],
        .usage = usage,
        .unknown_fmt = "unknown argument '%s'",
        .missing_fmt = "missing value for %s",
        .usage_on = SW_CLI_USAGE_ON_UNKNOWN,
    };
    int rc = sw_cli_parse(&spec, argc, argv, stdout, stderr);
    if (rc >= 0)
        return rc;
    sw_log_set_level(SW_LOG_ERROR);
    swoosh_error err = {0};
    sw_wal_options_t ro = {.read_only = true};
    sw_wal_t *w = sw_wal_open(wal_dir, NULL, &ro, &err);
    if (!w) {
        fprintf(stderr, "swoosh log: %s\n", err.msg);
        return SW_EXIT_FAIL;
    }
    rc = SW_EXIT_OK;
    if (sw_wal_read_from(w, from, limit, print_one, stdout, &err) !=
        SWOOSH_OK) {
        fprintf(stderr, "swoosh log: %s\n", err.msg);
        rc = SW_EXIT_FAIL;
    }
    if (fflush(stdout) != 0)
        rc = SW_EXIT_FAIL;
    sw_wal_close(w);
    return rc;
}
