/* guards: provider selection, configuration and the shared outcome rules
 * (SPEC §4 "Guards"). The two implementations live in guards_static.c and
 * guards_http.c behind sw_guard_impl_t. */
#include "guards.h"

#include "buf.h"
#include "catalog.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sw_guard_provider {
    sw_guards_kind_t kind;
    const sw_guard_impl_t *impl;
    void *self;
};

static const struct {
    const char *name;
    const char *stem;
    unsigned bit;
    size_t offset; /* of the flag in sw_guards_t */
} guard_table[SW_GUARD__COUNT] = {
#define GUARD_ROW_(G_ID, G_FIELD, G_NAME, G_BIT)                               \
    [SW_GUARD_##G_ID] = {G_NAME, #G_ID, G_BIT, offsetof(sw_guards_t, G_FIELD)},
    SW_GUARD_MAP(GUARD_ROW_)
#undef GUARD_ROW_
};

/* Guard names are the outcome keys SPEC §4 lists, so logs, WAL records and
 * the guard services all use the same words. */
const char *sw_guard_name(sw_guard_id_t id)
{
    return (unsigned)id < SW_GUARD__COUNT ? guard_table[id].name : "?";
}

/* Environment stems follow SPEC §8's SWOOSH_GUARD_<NAME>_URL. */
const char *sw_guard_env_stem(sw_guard_id_t id)
{
    return (unsigned)id < SW_GUARD__COUNT ? guard_table[id].stem : "?";
}

/* The static config file names guards by their outcome names; this maps
 * them back. */
sw_guard_id_t sw_guard_by_name(const char *name)
{
    for (int i = 0; i < SW_GUARD__COUNT; i++)
        if (strcmp(guard_table[i].name, name) == 0)
            return (sw_guard_id_t)i;
    return SW_GUARD__COUNT;
}

/* SWOOSH_GUARDS selects the provider (SPEC §8). */
bool sw_guards_kind_parse(const char *s, sw_guards_kind_t *out)
{
    if (strcmp(s, "static") == 0) {
        *out = SW_GUARDS_STATIC;
        return true;
    }
    if (strcmp(s, "http") == 0) {
        *out = SW_GUARDS_HTTP;
        return true;
    }
    return false;
}

/* The catalog's guard column (SPEC §5) uses SW_G_* bits; PolicyOK has none
 * because it applies to every transition. */
unsigned sw_guard_bit(sw_guard_id_t id)
{
    return (unsigned)id < SW_GUARD__COUNT ? guard_table[id].bit : 0;
}

/* One place decides which guards a proposal needs, so both providers agree:
 * the row's required guards plus PolicyOK always (SPEC §5). */
bool sw_guard_required(const sw_proposal_t *p, sw_guard_id_t id)
{
    if (id == SW_GUARD_POLICY)
        return true;
    return p->entry != NULL && (p->entry->guards & sw_guard_bit(id)) != 0;
}

/* sw_guards_t has named fields (the reducer reads them by name); providers
 * loop over guard ids, so these two map between the forms. */
void sw_guard_set(sw_guards_t *out, sw_guard_id_t id, bool v)
{
    SW_ASSERT((unsigned)id < SW_GUARD__COUNT);
    *(bool *)((char *)out + guard_table[id].offset) = v;
}

/* Reading counterpart of sw_guard_set(). */
bool sw_guard_get(const sw_guards_t *g, sw_guard_id_t id)
{
    SW_ASSERT((unsigned)id < SW_GUARD__COUNT);
    return *(const bool *)((const char *)g + guard_table[id].offset);
}

/* The embedded default (SPEC §4): static, every guard passing. */
void sw_guards_config_defaults(sw_guards_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->kind = SW_GUARDS_STATIC;
    cfg->timeout_ms = SW_GUARDS_DEFAULT_TIMEOUT_MS;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool parse_timeout(const char *s, unsigned *out)
{
    unsigned long v = 0;
    if (*s == '\0' || strlen(s) > 6)
        return false;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return false;
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (v < 1 || v > SW_GUARDS_MAX_TIMEOUT_MS)
        return false;
    *out = (unsigned)v;
    return true;
}

/* Every setting is an environment variable (SPEC §8); the serve command
 * calls this and then applies its flags on top. */
swoosh_err_t sw_guards_config_from_env(sw_guards_config_t *cfg,
                                       swoosh_error *err)
{
    char var[64];
    const char *v = getenv("SWOOSH_GUARDS");
    if (v != NULL && *v != '\0' && !sw_guards_kind_parse(v, &cfg->kind))
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "SWOOSH_GUARDS: '%.64s' is neither 'static' nor "
                            "'http'",
                            v);
    v = getenv("SWOOSH_GUARD_CONFIG");
    if (v != NULL && *v != '\0')
        cfg->static_path = v;
    v = getenv("SWOOSH_GUARD_TIMEOUT_MS");
    if (v != NULL && *v != '\0' && !parse_timeout(v, &cfg->timeout_ms))
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "SWOOSH_GUARD_TIMEOUT_MS: '%.64s' is not a whole "
                            "number of milliseconds in 1..%u",
                            v, SW_GUARDS_MAX_TIMEOUT_MS);
    for (int i = 0; i < SW_GUARD__COUNT; i++) {
        snprintf(var, sizeof(var), "SWOOSH_GUARD_%s_URL", guard_table[i].stem);
        v = getenv(var);
        if (v != NULL && *v != '\0')
            cfg->url[i] = v;
        snprintf(var, sizeof(var), "SWOOSH_GUARD_%s_FAIL_OPEN",
                 guard_table[i].stem);
        v = getenv(var);
        if (v != NULL && *v != '\0' && !parse_bool(v, &cfg->fail_open[i]))
            return sw_error_set(err, SWOOSH_EINVAL, 0,
                                "%s: '%.64s' is not 1/0, true/false or yes/no",
                                var, v);
    }
    return SWOOSH_OK;
}

/* Opening picks the implementation once; evaluate then dispatches without
 * branching on the kind (SPEC §4: static or http). */
sw_guard_provider_t *sw_guards_open(const sw_guards_config_t *cfg,
                                    swoosh_error *err)
{
    sw_guard_provider_t *g = sw_xcalloc(1, sizeof(*g));
    g->kind = cfg->kind;
    switch (cfg->kind) {
    case SW_GUARDS_STATIC:
        g->self = sw_guards_static_open(cfg, &g->impl, err);
        break;
    case SW_GUARDS_HTTP:
        g->self = sw_guards_http_open(cfg, &g->impl, err);
        break;
    default:
        sw_error_set(err, SWOOSH_EINVAL, 0, "unknown guard provider kind %d",
                     (int)cfg->kind);
        break;
    }
    if (g->self == NULL) {
        sw_error_prefix(err, "guards");
        free(g);
        return NULL;
    }
    return g;
}

/* The outcome starts all true with every guard "not required"; the
 * implementation then decides only the guards the transition needs plus
 * PolicyOK (SPEC §4, §5), so unneeded guards are never consulted. */
void sw_guards_evaluate(sw_guard_provider_t *g, const sw_proposal_t *p,
                        sw_guards_t *out, sw_guard_report_t *report)
{
    sw_guard_report_t local;
    sw_guard_report_t *r = report != NULL ? report : &local;
    for (int i = 0; i < SW_GUARD__COUNT; i++) {
        sw_guard_set(out, (sw_guard_id_t)i, true);
        r->status[i] = SW_GS_NOT_REQUIRED;
        r->detail[i][0] = '\0';
    }
    g->impl->evaluate(g->self, p, out, r);
}

/* SIGHUP path: the implementation swaps its configuration atomically or
 * keeps the old one (SPEC §4; docs/GUARDS.md). */
swoosh_err_t sw_guards_reload(sw_guard_provider_t *g, swoosh_error *err)
{
    swoosh_err_t rc = g->impl->reload(g->self, err);
    if (rc != SWOOSH_OK)
        sw_error_prefix(err, "guards: reload");
    return rc;
}

/* The serve command reports the kind at start-up. */
sw_guards_kind_t sw_guards_kind(const sw_guard_provider_t *g)
{
    return g->kind;
}

/* Releases the implementation and the provider; callers stop evaluating
 * first (the HTTP server is stopped before the provider is closed). */
void sw_guards_close(sw_guard_provider_t *g)
{
    if (g == NULL)
        return;
    g->impl->close(g->self);
    free(g);
}
