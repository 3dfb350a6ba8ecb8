/* config: the settings table behind flags, environment and --help. */
#include "config.h"

#include "buf.h"
#include "err.h"
#include "executor.h"
#include "hlc.h"
#include "log.h"
#include "snapshot.h"
#include "wal.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum opt_type { OPT_STR, OPT_U64, OPT_BOOL } opt_type_t;

typedef struct opt {
    const char *flag; /* without the leading "--" */
    const char *env;
    opt_type_t type;
    size_t offset;
    const char *def; /* default as text; NULL = unset */
    uint64_t min, max;
    const char *help;
} opt_t;

#define STR(field) OPT_STR, offsetof(sw_config_t, field)
#define U64(field) OPT_U64, offsetof(sw_config_t, field)
/* A numeric default as the string --help shows and the parser reads. */
#define NUM(macro)  NUM_(macro)
#define NUM_(x)     #x
#define BOOL(field) OPT_BOOL, offsetof(sw_config_t, field)

static const opt_t opts[] = {
    {"listen", "SWOOSH_LISTEN_ADDR", STR(listen_addr), "127.0.0.1:8080", 0, 0,
     "address to listen on; \":8080\" = all interfaces, port 0 = any"},
    {"wal-dir", "SWOOSH_WAL_DIR", STR(wal_dir), SW_WAL_DIR_DEFAULT, 0, 0,
     "directory of the SQLite write-ahead log"},
    {"snapshot-dir", "SWOOSH_SNAPSHOT_DIR", STR(snapshot_dir),
     SW_SNAPSHOT_DIR_DEFAULT, 0, 0, "directory of state snapshots"},
    {"snapshot-every", "SWOOSH_SNAPSHOT_EVERY", U64(snapshot_every),
     NUM(SW_EXEC_SNAPSHOT_EVERY_DEFAULT), 0, UINT64_MAX,
     "records between snapshots (0 = only at shutdown)"},
    {"genesis", "SWOOSH_GENESIS", STR(genesis), NULL, 0, 0,
     "genesis projection file (default: built-in genesis)"},
    {"node-id", "SWOOSH_NODE_ID", STR(node_id_hex), "0000000000000001", 0, 0,
     "HLC node id, 16 lowercase hex digits"},
    {"guards", "SWOOSH_GUARDS", STR(guards), "static", 0, 0,
     "guard provider: static or http"},
    {"guard-license-url", "SWOOSH_GUARD_LICENSE_URL",
     STR(guard_url[SW_GUARD_LICENSE]), NULL, 0, 0,
     "http provider: KACHING license check URL"},
    {"guard-backbeat-url", "SWOOSH_GUARD_BACKBEAT_URL",
     STR(guard_url[SW_GUARD_BACKBEAT]), NULL, 0, 0,
     "http provider: BACKBEAT check URL"},
    {"guard-quorum-url", "SWOOSH_GUARD_QUORUM_URL",
     STR(guard_url[SW_GUARD_QUORUM]), NULL, 0, 0,
     "http provider: HMMM quorum check URL"},
    {"guard-policy-url", "SWOOSH_GUARD_POLICY_URL",
     STR(guard_url[SW_GUARD_POLICY]), NULL, 0, 0,
     "http provider: SHHH policy check URL"},
    {"guard-mcp-url", "SWOOSH_GUARD_MCP_URL", STR(guard_url[SW_GUARD_MCP]),
     NULL, 0, 0, "http provider: MCP health check URL"},
    {"guard-config", "SWOOSH_GUARD_CONFIG", STR(guard_config), NULL, 0, 0,
     "static provider file (deny lists); reloaded on SIGHUP"},
    {"guard-timeout-ms", "SWOOSH_GUARD_TIMEOUT_MS", U64(guard_timeout_ms),
     "500", 1, 60000, "http provider: timeout per guard call"},
    {"guard-license-fail-open", "SWOOSH_GUARD_LICENSE_FAIL_OPEN",
     BOOL(guard_fail_open[SW_GUARD_LICENSE]), "0", 0, 1,
     "http provider: 1 = an unanswered license call passes"},
    {"guard-backbeat-fail-open", "SWOOSH_GUARD_BACKBEAT_FAIL_OPEN",
     BOOL(guard_fail_open[SW_GUARD_BACKBEAT]), "0", 0, 1,
     "http provider: 1 = an unanswered backbeat call passes"},
    {"guard-quorum-fail-open", "SWOOSH_GUARD_QUORUM_FAIL_OPEN",
     BOOL(guard_fail_open[SW_GUARD_QUORUM]), "0", 0, 1,
     "http provider: 1 = an unanswered quorum call passes"},
    {"guard-policy-fail-open", "SWOOSH_GUARD_POLICY_FAIL_OPEN",
     BOOL(guard_fail_open[SW_GUARD_POLICY]), "0", 0, 1,
     "http provider: 1 = an unanswered policy call passes (fail-closed "
     "quarantines)"},
    {"guard-mcp-fail-open", "SWOOSH_GUARD_MCP_FAIL_OPEN",
     BOOL(guard_fail_open[SW_GUARD_MCP]), "0", 0, 1,
     "http provider: 1 = an unanswered MCP call passes"},
    {"api-token", "SWOOSH_API_TOKEN", STR(api_token), NULL, 0, 0,
     "bearer token every POST must carry (default: none)"},
    {"api-token-reads", "SWOOSH_API_TOKEN_READS", BOOL(api_token_reads), "0", 0,
     1, "1 = GETs need the token too (GET /health never does)"},
    {"log-level", "SWOOSH_LOG_LEVEL", STR(log_level), "info", 0, 0,
     "debug, info, warn, error or off"},
    {"access-log", "SWOOSH_ACCESS_LOG", BOOL(access_log), "0", 0, 1,
     "1 = one log line per HTTP request"},
    {"max-connections", "SWOOSH_MAX_CONNECTIONS", U64(max_connections), "1024",
     1, 1000000, "concurrent HTTP connections"},
    {"conn-timeout", "SWOOSH_CONN_TIMEOUT_S", U64(conn_timeout_s), "30", 1,
     86400, "seconds a connection may idle or take to send a request"},
    {"max-header-bytes", "SWOOSH_MAX_HEADER_BYTES", U64(max_header_bytes),
     "16384", 4096, 1048576, "per-connection memory for request headers"},
    {"max-body-bytes", "SWOOSH_MAX_BODY_BYTES", U64(max_body_bytes), "65536", 1,
     65536, "request body limit (413 above it; at most 64 KiB)"},
    {"batch-max", "SWOOSH_BATCH_MAX", U64(batch_max),
     NUM(SW_EXEC_BATCH_MAX_DEFAULT), 1, 65536,
     "proposals per executor batch (one fsync each)"},
    {"queue-max", "SWOOSH_QUEUE_MAX", U64(queue_max),
     NUM(SW_EXEC_QUEUE_MAX_DEFAULT), 1, 16777216,
     "executor queue bound (503 OVERLOADED above it)"},
    {"http-threads", "SWOOSH_HTTP_THREADS", U64(http_threads), "0", 0, 64,
     "HTTP worker threads; 0 = auto: 1 with static guards, 4 with http "
     "guards (their calls block a worker)"},
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void *field(sw_config_t *c, const opt_t *o)
{
    return (char *)c + o->offset;
}

static swoosh_err_t set_value(sw_config_t *c, const opt_t *o, const char *v,
                              const char *src, swoosh_error *err)
{
    switch (o->type) {
    case OPT_STR: {
        char **p = field(c, o);
        free(*p);
        *p = sw_xstrdup(v);
        return SWOOSH_OK;
    }
    case OPT_U64: {
        uint64_t n = 0;
        if (!sw_parse_u64(v, &n) || n < o->min || n > o->max)
            goto bad_number;
        *(uint64_t *)field(c, o) = n;
        return SWOOSH_OK;
    bad_number:
        return sw_error_set(
            err, SWOOSH_EINVAL, 0, "%s: '%s' is not an integer in %llu..%llu",
            src, v, (unsigned long long)o->min, (unsigned long long)o->max);
    }
    case OPT_BOOL:
        if (!strcmp(v, "1") || !strcasecmp(v, "true") ||
            !strcasecmp(v, "yes") || !strcasecmp(v, "on")) {
            *(bool *)field(c, o) = true;
            return SWOOSH_OK;
        }
        if (!*v || !strcmp(v, "0") || !strcasecmp(v, "false") ||
            !strcasecmp(v, "no") || !strcasecmp(v, "off")) {
            *(bool *)field(c, o) = false;
            return SWOOSH_OK;
        }
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "%s: '%s' is not a boolean (use 1 or 0)", src, v);
    }
    return SWOOSH_EINVAL;
}

/* Defaults come from the same table as --help, so they cannot disagree. */
void sw_config_defaults(sw_config_t *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < N_OPTS; i++)
        if (opts[i].def)
            SW_ASSERT(set_value(c, &opts[i], opts[i].def, "default", NULL) ==
                      SWOOSH_OK);
}

/* SPEC §8: ":8080" means all interfaces, as in the seed's docker example. */
bool sw_config_parse_listen(const char *addr, char *host, size_t host_n,
                            uint16_t *port, bool *ipv6)
{
    const char *colon;
    const char *h = addr;
    size_t hn;
    *ipv6 = false;
    if (!addr || !*addr)
        return false;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return false;
        h = addr + 1;
        hn = (size_t)(close - h);
        colon = close + 1;
        *ipv6 = true;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
            return false;
        hn = (size_t)(colon - addr);
    }
    if (hn >= host_n)
        return false;
    const char *ps = colon + 1;
    if (!*ps || strlen(ps) > 5)
        return false;
    unsigned long p = 0;
    for (const char *q = ps; *q; q++) {
        if (!isdigit((unsigned char)*q))
            return false;
        p = p * 10 + (unsigned long)(*q - '0');
    }
    if (p > 65535)
        return false;
    memcpy(host, h, hn);
    host[hn] = '\0';
    *port = (uint16_t)p;
    return true;
}

/* Names a setting that belongs to the guard provider not selected. */
static swoosh_err_t misplaced(swoosh_error *err, size_t offset,
                              const char *hint)
{
    const opt_t *o = NULL;
    for (size_t i = 0; i < N_OPTS && !o; i++)
        if (opts[i].offset == offset)
            o = &opts[i];
    SW_ASSERT(o);
    return sw_error_set(err, SWOOSH_EINVAL, 0,
                        "--%s / %s is set for the other guard provider; %s",
                        o->flag, o->env, hint);
}

static swoosh_err_t validate(sw_config_t *c, swoosh_error *err)
{
    sw_log_level_t lvl;
    if (!sw_config_parse_listen(c->listen_addr, c->listen_host,
                                sizeof(c->listen_host), &c->listen_port,
                                &c->listen_ipv6))
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "--listen / SWOOSH_LISTEN_ADDR: '%s' is not "
                            "HOST:PORT, :PORT or [IPV6]:PORT",
                            c->listen_addr);
    if (!c->node_id_hex || !sw_hlc_parse_node(c->node_id_hex, &c->node_id))
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "--node-id / SWOOSH_NODE_ID: '%s' is not 16 "
                            "lowercase hex digits",
                            c->node_id_hex ? c->node_id_hex : "");
    if (strcmp(c->guards, "static") != 0 && strcmp(c->guards, "http") != 0)
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "--guards / SWOOSH_GUARDS: '%s' is not static or "
                            "http",
                            c->guards);
    /* A setting of the provider that is not selected would be ignored: a
     * guard URL with static guards would let every proposal pass unasked. */
    bool http = strcmp(c->guards, "http") == 0;
    for (int i = 0; i < SW_GUARD__COUNT; i++)
        if (!http && c->guard_url[i] && *c->guard_url[i])
            return misplaced(err,
                             offsetof(sw_config_t, guard_url) +
                                 (size_t)i * sizeof(c->guard_url[0]),
                             "add --guards http (SWOOSH_GUARDS=http)");
    if (http && c->guard_config && *c->guard_config)
        return misplaced(err, offsetof(sw_config_t, guard_config),
                         "the file configures --guards static");
    if (!sw_log_level_parse(c->log_level, &lvl))
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "--log-level / SWOOSH_LOG_LEVEL: '%s' is not "
                            "debug, info, warn, error or off",
                            c->log_level);
    if (!*c->wal_dir || !*c->snapshot_dir)
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "--wal-dir and --snapshot-dir must not be empty");
    if (c->genesis && !*c->genesis) {
        free(c->genesis);
        c->genesis = NULL;
    }
    if (c->api_token && !*c->api_token) {
        free(c->api_token);
        c->api_token = NULL;
    }
    /* The Authorization header's value is trimmed and split at the space
     * after "Bearer", so a token with a space or control byte could never
     * match: refuse it rather than lock every client out. */
    for (const char *t = c->api_token; t && *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
            return sw_error_set(err, SWOOSH_EINVAL, 0,
                                "--api-token / SWOOSH_API_TOKEN: the token "
                                "must be printable ASCII without spaces");
    return SWOOSH_OK;
}

/* A flag wins over its environment variable (SPEC §8: every setting is a
 * flag and an env var): flags are read first, and a variable is parsed only
 * for settings no flag gave, so a bad value in the environment cannot stop
 * a command line that overrides it, nor `--help`. */
swoosh_err_t sw_config_load(sw_config_t *c, int argc, char **argv, bool *help,
                            swoosh_error *err)
{
    swoosh_err_t rc;
    bool given[N_OPTS] = {false};
    *help = false;
    for (int a = 1; a < argc; a++)
        if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
            *help = true;
            return SWOOSH_OK;
        }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0)
            return sw_error_set(err, SWOOSH_EINVAL, 0,
                                "unexpected argument '%s'; see `swoosh serve "
                                "--help`",
                                arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const opt_t *o = NULL;
        for (size_t i = 0; i < N_OPTS; i++)
            if (strlen(opts[i].flag) == nlen &&
                !strncmp(opts[i].flag, name, nlen))
                o = &opts[i];
        if (!o)
            return sw_error_set(err, SWOOSH_EINVAL, 0,
                                "unknown flag '%s'; see `swoosh serve --help`",
                                arg);
        given[o - opts] = true;
        const char *v;
        if (eq)
            v = eq + 1;
        else if (o->type == OPT_BOOL)
            v = "1";
        else if (a + 1 < argc)
            v = argv[++a];
        else
            return sw_error_set(err, SWOOSH_EINVAL, 0,
                                "flag --%s needs a value", o->flag);
        char src[64];
        snprintf(src, sizeof(src), "--%s", o->flag);
        if ((rc = set_value(c, o, v, src, err)))
            return rc;
    }
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *v = given[i] ? NULL : getenv(opts[i].env);
        if (v && (rc = set_value(c, &opts[i], v, opts[i].env, err)))
            return rc;
    }
    return validate(c, err);
}

/* The help text is generated from the table (STYLE: tables over chains). */
void sw_config_usage(FILE *out)
{
    fprintf(out, "usage: swoosh serve [flags]\n\n"
                 "Every flag can also be set by its environment variable; a "
                 "flag wins.\n\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s", opts[i].flag,
                 opts[i].type == OPT_BOOL ? "[=0|1]" : " VALUE");
        fprintf(out, "  %-30s %s\n  %-30s %s (default: %s)\n", left,
                opts[i].help, "", opts[i].env,
                opts[i].def ? opts[i].def : "unset");
    }
    fprintf(out, "\nSignals: SIGTERM/SIGINT stop cleanly (snapshot, exit 0); "
                 "SIGHUP reloads the guard configuration.\n");
}

/* Frees every owned string the table knows about. */
void sw_config_destroy(sw_config_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < N_OPTS; i++) {
        if (opts[i].type == OPT_STR) {
            char **p = field(c, &opts[i]);
            free(*p);
            *p = NULL;
        }
    }
}
