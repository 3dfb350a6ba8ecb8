/* swoosh hash [FILE|-]: the state hash of a projection or a GET /state
 * answer (SPEC §3, §8). */
#include "cli.h"

#include "buf.h"
#include "err.h"
#include "fsio.h"
#include "swoosh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: swoosh hash [FILE|-]\n\n"
            "Prints the state hash (hex SHA-256 of the RFC 8785 canonical "
            "JSON) of a\nprojection, or of the `projection` member of a GET "
            "/state answer.\nReads standard input when FILE is absent or "
            "'-'.\n");
}

/* Reads all of stdin into a caller-owned buffer. */
static char *read_stdin(size_t *len)
{
    sw_buf_t b = SW_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        sw_buf_append(&b, chunk, n);
    if (ferror(stdin)) {
        sw_buf_free(&b);
        return NULL;
    }
    return sw_buf_steal(&b, len);
}

/* Lets an operator or a script check any state_hash offline from the JSON
 * it was given (SPEC §1.5, §8); bad input exits 1, bad usage 2. */
int cmd_hash(int argc, char **argv)
{
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return SW_EXIT_OK;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "swoosh hash: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return SW_EXIT_USAGE;
        }
        if (file) {
            fprintf(stderr, "swoosh hash: takes at most one FILE\n");
            usage(stderr);
            return SW_EXIT_USAGE;
        }
        file = argv[i];
    }
    const char *name = file && strcmp(file, "-") != 0 ? file : "<stdin>";
    swoosh_error err = {0};
    char *data = NULL;
    size_t len = 0;
    if (file && strcmp(file, "-") != 0) {
        if (sw_fsio_read_file(file, &data, &len, &err) != SWOOSH_OK) {
            fprintf(stderr, "swoosh hash: %s\n", err.msg);
            return SW_EXIT_FAIL;
        }
    } else {
        data = read_stdin(&len);
        if (!data) {
            fprintf(stderr, "swoosh hash: cannot read standard input\n");
            return SW_EXIT_FAIL;
        }
    }
    char hex[SWOOSH_HASH_HEX_SIZE];
    swoosh_err_t rc = swoosh_hash_json(data, len, hex, &err);
    free(data);
    if (rc != SWOOSH_OK) {
        fprintf(stderr, "swoosh hash: %s: %s\n", name, err.msg);
        return SW_EXIT_FAIL;
    }
    printf("%s\n", hex);
    return SW_EXIT_OK;
}
