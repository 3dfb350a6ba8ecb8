/* proc: runs a shell command line and captures what it prints, for the tests
 * of the swoosh binary's subcommands (submit, hash, bench, verify, log,
 * serve --help) and of reference tools. */
#ifndef TH_PROC_H
#define TH_PROC_H

#include <stddef.h>

/* Runs cmd with /bin/sh and reads its standard output into out (at most
 * cap - 1 bytes kept, NUL-terminated; cap > 0). Returns the exit code, or -1
 * when the command did not exit normally; fails the test when it cannot be
 * started. */
int th_run(const char *cmd, char *out, size_t cap);

#endif
