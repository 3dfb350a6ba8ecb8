/* proc: see proc.h. */
#include "proc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <sys/wait.h>

int th_run(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = 0, k;
    /* Read to the end, so a long output never blocks the command. */
    char sink[4096];
    while ((k = fread(n + 1 < cap ? out + n : sink, 1,
                      n + 1 < cap ? cap - 1 - n : sizeof sink, p)) > 0)
        if (n + 1 < cap)
            n += k;
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
