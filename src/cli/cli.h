/* cli: the subcommands of the one `swoosh` binary (SPEC §8). Each lives in
 * cmd_<name>.c and follows the exit-code convention below. */
#ifndef SW_CLI_H
#define SW_CLI_H

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

#endif
