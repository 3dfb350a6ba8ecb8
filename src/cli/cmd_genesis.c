/* swoosh genesis [--file FILE]: print a genesis projection and its hash
 * (SPEC §3, §8). */
#include "cli.h"

#include "err.h"
#include "fsio.h"
#include "state.h"
#include "swoosh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: swoosh genesis [--file FILE]\n\n"
                 "Prints the genesis projection as canonical JSON on one line, "
                 "then\n`state_hash <hex>`. With --file, loads and validates a "
                 "genesis file\n(the format SWOOSH_GENESIS takes: a plain "
                 "projection with Meta.Index 0)\ninstead of the built-in "
                 "default.\n");
}

/* Loads a genesis file the way the server does (SPEC §3): a valid
 * projection whose Meta.Index is 0. Returns NULL after printing why. */
static sw_state_t *load_genesis_file(const char *path)
{
    swoosh_error err = {0};
    char *data = NULL;
    size_t len = 0;
    if (sw_fsio_read_file(path, &data, &len, &err) != SWOOSH_OK) {
        fprintf(stderr, "swoosh genesis: %s\n", err.msg);
        return NULL;
    }
    sw_state_t *s = swoosh_state_from_json(data, len, &err);
    free(data);
    if (!s) {
        fprintf(stderr, "swoosh genesis: %s: %s\n", path, err.msg);
        return NULL;
    }
    if (s->meta.index != 0) {
        fprintf(stderr,
                "swoosh genesis: %s: Meta.Index: a genesis must have index 0 "
                "(this looks like a later state; use `swoosh hash` for it)\n",
                path);
        sw_state_free(s);
        return NULL;
    }
    return s;
}

/* Lets operators see, diff and pin the genesis every node must agree on
 * (the WAL stores its hash, SPEC §3). */
int cmd_genesis(int argc, char **argv)
{
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return SW_EXIT_OK;
        }
        if (strcmp(argv[i], "--file") == 0 && i + 1 < argc && !file) {
            file = argv[++i];
        } else if (strncmp(argv[i], "--file=", 7) == 0 && !file) {
            file = argv[i] + 7;
        } else if (strcmp(argv[i], "--file") == 0 && i + 1 == argc) {
            fprintf(stderr, "swoosh genesis: --file needs a FILE\n");
            usage(stderr);
            return SW_EXIT_USAGE;
        } else {
            fprintf(stderr, "swoosh genesis: unexpected argument '%s'\n",
                    argv[i]);
            usage(stderr);
            return SW_EXIT_USAGE;
        }
    }
    sw_state_t *s = file ? load_genesis_file(file) : sw_state_new_genesis();
    if (!s)
        return SW_EXIT_FAIL;
    size_t len;
    const char *jcs = sw_state_canonical(s, &len);
    char hex[SWOOSH_HASH_HEX_SIZE];
    sw_state_hash(s, hex);
    fwrite(jcs, 1, len, stdout);
    printf("\nstate_hash %s\n", hex);
    sw_state_free(s);
    return fflush(stdout) == 0 ? SW_EXIT_OK : SW_EXIT_FAIL;
}
