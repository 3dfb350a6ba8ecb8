/* cli_args: the one flag parser of the subcommands verify, log, submit and
 * bench (SPEC §8), driven by each command's table of flags (STYLE: tables
 * over switch chains). The rules are in cli.h. */
#include "cli.h"

#include "buf.h"

#include <float.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Finds the row arg names: "--name" exactly, or "--name=V" for a flag that
 * takes a value (then *inline_val points at V, else it is NULL). */
static const sw_cli_opt_t *find_opt(const sw_cli_spec_t *spec, const char *arg,
                                    const char **inline_val)
{
    for (size_t k = 0; k < spec->n_opts; k++) {
        const sw_cli_opt_t *o = &spec->opts[k];
        size_t n = strlen(o->name);
        if (strncmp(arg, o->name, n) != 0)
            continue;
        if (arg[n] == '\0') {
            *inline_val = NULL;
            return o;
        }
        if (arg[n] == '=' && o->kind != SW_CLI_FLAG) {
            *inline_val = arg + n + 1;
            return o;
        }
    }
    return NULL;
}

/* Strict decimal seconds-like number: digits with an optional fraction, at
 * least one digit; no sign, exponent, hex, inf or nan, so the value is
 * always finite. */
static bool parse_decimal(const char *s, double *out)
{
    const char *p = s;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (!digits || *p)
        return false;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end != p || !(v >= 0 && v <= DBL_MAX))
        return false;
    *out = v;
    return true;
}

/* Prints the "must be" message of a bad number. */
static void bad_number(const sw_cli_spec_t *spec, const sw_cli_opt_t *o,
                       const char *v, FILE *err)
{
    if (o->what)
        fprintf(err, "%s: %s must be %s, not '%s'\n", spec->prog, o->name,
                o->what, v);
    else if (o->kind == SW_CLI_U64)
        fprintf(err,
                "%s: %s must be a whole number in %" PRIu64 "..%" PRIu64
                ", not '%s'\n",
                spec->prog, o->name, o->min, o->max, v);
    else
        fprintf(err, "%s: %s must be a decimal number in %g..%g, not '%s'\n",
                spec->prog, o->name, o->dmin, o->dmax, v);
}

/* Checks v against o and stores it. Returns false, after printing why, when
 * v is refused (the destination then keeps its value). */
static bool store(const sw_cli_spec_t *spec, const sw_cli_opt_t *o,
                  const char *v, FILE *err)
{
    switch (o->kind) {
    case SW_CLI_STRING:
        if (o->nonempty && !*v) {
            fprintf(err, "%s: %s must not be empty\n", spec->prog, o->name);
            return false;
        }
        *(const char **)o->dst = v;
        return true;
    case SW_CLI_U64: {
        uint64_t u;
        if (!sw_parse_u64(v, &u) || u < o->min || u > o->max) {
            bad_number(spec, o, v, err);
            return false;
        }
        *(uint64_t *)o->dst = u;
        return true;
    }
    case SW_CLI_DOUBLE: {
        double d;
        if (!parse_decimal(v, &d) || d < o->dmin || d > o->dmax) {
            bad_number(spec, o, v, err);
            return false;
        }
        *(double *)o->dst = d;
        return true;
    }
    case SW_CLI_LIST:
        ((const char **)o->dst)[(*o->count)++] = v;
        return true;
    case SW_CLI_FLAG:
        *(bool *)o->dst = true;
        return true;
    }
    return false; /* not a sw_cli_kind_t */
}

/* Ends the parse with a usage error whose message is already printed,
 * adding the usage text when the command asks for it after this kind. */
static int usage_error(const sw_cli_spec_t *spec, unsigned kind, FILE *err)
{
    if (spec->usage_on & kind)
        spec->usage(err);
    return SW_EXIT_USAGE;
}

/* One walk over argv for every command, so "--name V" and "--name=V", the
 * range checks and the exit codes cannot drift apart between commands
 * (SPEC §8: usage errors exit 2). */
int sw_cli_parse(const sw_cli_spec_t *spec, int argc, char **argv, FILE *out,
                 FILE *err)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            spec->usage(out);
            return SW_EXIT_OK;
        }
        const char *v = NULL;
        const sw_cli_opt_t *o = find_opt(spec, a, &v);
        if (!o) {
            fprintf(err, "%s: ", spec->prog);
            fprintf(err, spec->unknown_fmt, a);
            fputc('\n', err);
            return usage_error(spec, SW_CLI_USAGE_ON_UNKNOWN, err);
        }
        if (o->kind == SW_CLI_FLAG) {
            store(spec, o, NULL, err);
            continue;
        }
        if (o->kind == SW_CLI_LIST && *o->count >= o->max) {
            fprintf(err, "%s: at most %" PRIu64 " %s\n", spec->prog, o->max,
                    o->name);
            return usage_error(spec, SW_CLI_USAGE_ON_VALUE, err);
        }
        if (!v) {
            if (i + 1 >= argc) {
                fprintf(err, "%s: ", spec->prog);
                fprintf(err, spec->missing_fmt, a);
                fputc('\n', err);
                return usage_error(spec, SW_CLI_USAGE_ON_MISSING, err);
            }
            v = argv[++i];
        }
        if (!store(spec, o, v, err))
            return usage_error(spec, SW_CLI_USAGE_ON_VALUE, err);
    }
    return -1;
}
