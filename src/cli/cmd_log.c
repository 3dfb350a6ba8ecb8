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
#include <string.h>

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
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return SW_EXIT_OK;
        }
        const char *names[] = {"--wal-dir", "--from", "--limit"};
        const char *val = NULL;
        int which = -1;
        for (int k = 0; k < 3; k++) {
            size_t n = strlen(names[k]);
            if (strncmp(a, names[k], n) != 0)
                continue;
            if (a[n] == '=') {
                val = a + n + 1;
                which = k;
            } else if (a[n] == '\0' && i + 1 < argc) {
                val = argv[++i];
                which = k;
            } else if (a[n] == '\0') {
                fprintf(stderr, "swoosh log: missing value for %s\n", a);
                return SW_EXIT_USAGE;
            }
            break;
        }
        if (which == 0) {
            if (!*val) {
                fprintf(stderr, "swoosh log: --wal-dir must not be empty\n");
                return SW_EXIT_USAGE;
            }
            wal_dir = val;
        } else if (which == 1 || which == 2) {
            uint64_t v;
            if (!sw_parse_u64(val, &v) || (which == 1 && v < 1)) {
                fprintf(stderr,
                        "swoosh log: %s must be a whole number %s, digits "
                        "only, not '%s'\n",
                        names[which],
                        which == 1 ? ">= 1" : ">= 0 (0 means all)", val);
                return SW_EXIT_USAGE;
            }
            if (which == 1)
                from = v;
            else
                limit = v;
        } else {
            fprintf(stderr, "swoosh log: unknown argument '%s'\n", a);
            usage(stderr);
            return SW_EXIT_USAGE;
        }
    }
    sw_log_set_level(SW_LOG_ERROR);
    swoosh_error err = {0};
    sw_wal_options_t ro = {.read_only = true};
    sw_wal_t *w = sw_wal_open(wal_dir, NULL, &ro, &err);
    if (!w) {
        fprintf(stderr, "swoosh log: %s\n", err.msg);
        return SW_EXIT_FAIL;
    }
    int rc = SW_EXIT_OK;
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
