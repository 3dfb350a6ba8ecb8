/* guards: the GuardProvider of the seed (SPEC §4 "Guards").
 *
 * A provider answers, for one parsed proposal, the guard outcome
 * {LicenseOK, BackbeatOK, QuorumOK, PolicyOK, MCPHealthy} that the reducer
 * takes as an argument and the WAL records. It runs in the request path, on
 * the HTTP thread, *before* the proposal is submitted to the executor, and is
 * never consulted on replay.
 *
 * Outcome semantics (both providers):
 * - Only the guards the transition requires (its catalog row's SW_G_* bits,
 *   SPEC §5) are evaluated; the others are reported true.
 * - PolicyOK is evaluated for every transition (false → quarantine, §4).
 *
 * Providers:
 * - static (embedded default): everything true, optionally shaped by a JSON
 *   config file (SWOOSH_GUARD_CONFIG) that is validated strictly and reloaded
 *   atomically by sw_guards_reload() (SIGHUP).
 * - http: one URL per guard; POST {"guard","transition","signer","proposal"};
 *   2xx with {"ok":true} passes, {"ok":false} fails, anything else (timeout,
 *   refused, non-2xx, garbage) applies the guard's failure policy:
 *   fail-closed by default, fail-open per guard. A guard without a URL
 *   passes. Guards a transition needs are called concurrently.
 *
 * docs/GUARDS.md describes the config file and the guard service contract.
 */
#ifndef SW_GUARDS_H
#define SW_GUARDS_H

#include "err.h"
#include "proposal.h"
#include "reducer.h"

#include <stdbool.h>

/* The guard ids (sw_guard_id_t, SW_GUARD_LICENSE …) come from
 * SW_GUARD_MAP in catalog.h. */

typedef enum sw_guards_kind {
    SW_GUARDS_STATIC, /* SWOOSH_GUARDS=static (default) */
    SW_GUARDS_HTTP    /* SWOOSH_GUARDS=http */
} sw_guards_kind_t;

/* The outcome name used in WAL records and on the wire ("LicenseOK"). */
const char *sw_guard_name(sw_guard_id_t id);
/* The upper-case environment stem ("LICENSE" of SWOOSH_GUARD_LICENSE_URL). */
const char *sw_guard_env_stem(sw_guard_id_t id);
/* Looks a guard up by outcome name ("PolicyOK"); SW_GUARD__COUNT if none. */
sw_guard_id_t sw_guard_by_name(const char *name);
/* Parses "static" / "http"; false when unknown. */
bool sw_guards_kind_parse(const char *s, sw_guards_kind_t *out);

#define SW_GUARDS_DEFAULT_TIMEOUT_MS 500u
#define SW_GUARDS_MAX_TIMEOUT_MS     600000u

typedef struct sw_guards_config {
    sw_guards_kind_t kind;
    /* static: path of the JSON config file; NULL = all guards pass. */
    const char *static_path;
    /* http: URL per guard; NULL or "" = that guard always passes. */
    const char *url[SW_GUARD__COUNT];
    /* http: per-call timeout (connect + answer), 1..600000 ms. */
    unsigned timeout_ms;
    /* http: true = an unanswered/garbled call passes (fail-open); default
     * false = it fails (fail-closed). */
    bool fail_open[SW_GUARD__COUNT];
} sw_guards_config_t;

/* Fills the defaults: static, no file, no URLs, 500 ms, fail-closed. */
void sw_guards_config_defaults(sw_guards_config_t *cfg);

/* Overlays the environment: SWOOSH_GUARDS, SWOOSH_GUARD_CONFIG,
 * SWOOSH_GUARD_<STEM>_URL, SWOOSH_GUARD_TIMEOUT_MS and
 * SWOOSH_GUARD_<STEM>_FAIL_OPEN (1/true/yes or 0/false/no). String pointers
 * are borrowed from the environment (valid while it is not changed). Returns
 * SWOOSH_OK, or SWOOSH_EINVAL naming the variable with a bad value. */
swoosh_err_t sw_guards_config_from_env(sw_guards_config_t *cfg,
                                       swoosh_error *err);

/* How one guard was decided, for logs and metrics. */
typedef enum sw_guard_status {
    SW_GS_NOT_REQUIRED, /* the transition does not need it: reported true */
    SW_GS_NO_SERVICE,   /* http without a URL for it: reported true */
    SW_GS_PASS,         /* the provider said yes */
    SW_GS_DENY,         /* the provider said no */
    SW_GS_ERROR         /* no usable answer: failure policy applied */
} sw_guard_status_t;

typedef struct sw_guard_report {
    sw_guard_status_t status[SW_GUARD__COUNT];
    /* A short sentence per guard for SW_GS_DENY / SW_GS_ERROR (the service's
     * "reason", "timeout after 500 ms", "HTTP 500", ...), else "". */
    char detail[SW_GUARD__COUNT][128];
} sw_guard_report_t;

typedef struct sw_guard_provider sw_guard_provider_t;

/* Opens a provider. static: loads and validates cfg->static_path when set.
 * http: validates the URLs and timeout, prepares libcurl. `cfg` and its
 * strings are copied. Returns NULL with err (SWOOSH_EINVAL for a bad setting
 * or config file, SWOOSH_EIO for an unreadable file); caller owns the
 * result, close with sw_guards_close(). */
sw_guard_provider_t *sw_guards_open(const sw_guards_config_t *cfg,
                                    swoosh_error *err);

/* Evaluates the guards for `p` (borrowed; uses p->entry, p->signer,
 * p->raw) into `out`; `report` is nullable. Never fails: errors become the
 * failure policy's outcome. Thread-safe: any number of threads at once, also
 * concurrently with sw_guards_reload(). The http provider blocks at most
 * about the configured timeout. */
void sw_guards_evaluate(sw_guard_provider_t *g, const sw_proposal_t *p,
                        sw_guards_t *out, sw_guard_report_t *report);

/* Reloads the configuration (SIGHUP). static: re-reads the config file and
 * swaps it in atomically; on a bad file the old configuration stays in force
 * and the error is returned (SWOOSH_EINVAL / SWOOSH_EIO). Without a file,
 * and for http (whose settings come from flags/env at start), a no-op that
 * returns SWOOSH_OK. Thread-safe. */
swoosh_err_t sw_guards_reload(sw_guard_provider_t *g, swoosh_error *err);

/* The provider's kind. */
sw_guards_kind_t sw_guards_kind(const sw_guard_provider_t *g);

/* Frees the provider. No evaluate may be running. NULL is a no-op. */
void sw_guards_close(sw_guard_provider_t *g);

/* ---- provider internals (guards_static.c, guards_http.c) ---- */

/* One implementation behind the provider (a small vtable, STYLE: seams are
 * structs of function pointers). */
typedef struct sw_guard_impl {
    void (*evaluate)(void *self, const sw_proposal_t *p, sw_guards_t *out,
                     sw_guard_report_t *report);
    swoosh_err_t (*reload)(void *self, swoosh_error *err);
    void (*close)(void *self);
} sw_guard_impl_t;

/* Opens the static implementation; NULL with err on failure. */
void *sw_guards_static_open(const sw_guards_config_t *cfg,
                            const sw_guard_impl_t **impl, swoosh_error *err);
/* Opens the http implementation; NULL with err on failure. */
void *sw_guards_http_open(const sw_guards_config_t *cfg,
                          const sw_guard_impl_t **impl, swoosh_error *err);

/* The guard bits (SW_G_*) `id` corresponds to; 0 for PolicyOK. */
unsigned sw_guard_bit(sw_guard_id_t id);
/* True when p's transition needs guard `id` (PolicyOK: always). */
bool sw_guard_required(const sw_proposal_t *p, sw_guard_id_t id);
/* Stores `v` as guard `id` of `out`. */
void sw_guard_set(sw_guards_t *out, sw_guard_id_t id, bool v);
/* Reads guard `id` of `g`. */
bool sw_guard_get(const sw_guards_t *g, sw_guard_id_t id);

#endif
