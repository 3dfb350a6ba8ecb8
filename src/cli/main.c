/* swoosh: one binary, a table of subcommands (SPEC §8). */
#include "cli.h"

#include "swoosh.h"

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
    const char *doc;
} command_t;

static const command_t commands[] = {
    {"serve", cmd_serve, "serve [flags]",
     "run the HTTP service (default; `swoosh serve --help` lists settings)"},
    {"genesis", cmd_genesis, "genesis [--file FILE]",
     "print the genesis projection (JCS) and its state hash"},
    {"hash", cmd_hash, "hash [FILE|-]",
     "print the state hash of a projection or a GET /state answer"},
    {"verify", cmd_verify,
     "verify [--wal-dir D] [--snapshot-dir D] [--genesis F]",
     "replay the whole log offline and check every record's hash"},
    {"log", cmd_log, "log [--from N] [--limit M] [--wal-dir D]",
     "print logged records as JSON lines"},
    {"submit", cmd_submit, "submit [flags] [-]",
     "post a proposal built from flags or stdin; non-zero on rejection"},
    {"bench", cmd_bench, "bench [flags]",
     "keep-alive HTTP load client with real per-request latency"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "swoosh %s - deterministic coordination core\n\n"
            "usage: swoosh [COMMAND] [ARGS]\n\ncommands:\n",
            swoosh_version());
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-54s %s\n", commands[i].usage, commands[i].doc);
    fprintf(out, "\n  --help     this text\n  --version  print the version\n"
                 "\nWith no command, `serve` runs.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 &&
            (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return SW_EXIT_OK;
        }
        if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
            printf("swoosh %s\n", swoosh_version());
            return SW_EXIT_OK;
        }
        /* No subcommand: serve, passing the flags through. */
        char *serve_argv0 = "serve";
        argv[0] = serve_argv0;
        return cmd_serve(argc, argv);
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    if (strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return SW_EXIT_OK;
    }
    fprintf(stderr, "swoosh: unknown command '%s'; try `swoosh --help`\n",
            argv[1]);
    return SW_EXIT_USAGE;
}
