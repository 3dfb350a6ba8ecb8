/* config: every setting of `swoosh serve`, as a flag and an environment
 * variable (SPEC §8).
 *
 * One table lists each setting once: flag, variable, default, bounds and a
 * line of help; `swoosh serve --help` is generated from it. Precedence:
 * built-in default < environment < command-line flag.
 */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include "catalog.h"
#include "swoosh.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sw_config {
    /* Strings are owned (sw_config_destroy frees them); NULL = unset. */
    char *listen_addr;  /* SWOOSH_LISTEN_ADDR, default 127.0.0.1:8080 */
    char *wal_dir;      /* SWOOSH_WAL_DIR, default ./data/wal */
    char *snapshot_dir; /* SWOOSH_SNAPSHOT_DIR, default ./data/snapshots */
    char *genesis;      /* SWOOSH_GENESIS, default NULL = built-in */
    char *node_id_hex;  /* SWOOSH_NODE_ID, default 0000000000000001 */
    char *guards;       /* SWOOSH_GUARDS: "static" (default) or "http" */
    char *guard_url[SW_GUARD__COUNT]; /* SWOOSH_GUARD_<NAME>_URL */
    char *guard_config;        /* SWOOSH_GUARD_CONFIG: static provider file */
    char *api_token;           /* SWOOSH_API_TOKEN; NULL or "" = no auth */
    char *log_level;           /* SWOOSH_LOG_LEVEL, default info */
    uint64_t snapshot_every;   /* SWOOSH_SNAPSHOT_EVERY, default 10000 */
    uint64_t guard_timeout_ms; /* SWOOSH_GUARD_TIMEOUT_MS, default 500 */
    uint64_t max_connections;  /* SWOOSH_MAX_CONNECTIONS, default 1024 */
    uint64_t conn_timeout_s;   /* SWOOSH_CONN_TIMEOUT_S, default 30 */
    uint64_t max_header_bytes; /* SWOOSH_MAX_HEADER_BYTES, default 16384 */
    uint64_t max_body_bytes;   /* SWOOSH_MAX_BODY_BYTES, default 65536 */
    uint64_t batch_max;        /* SWOOSH_BATCH_MAX, default 256 */
    uint64_t queue_max;        /* SWOOSH_QUEUE_MAX, default 65536 */
    uint64_t http_threads;     /* SWOOSH_HTTP_THREADS, default 2 */
    bool guard_fail_open[SW_GUARD__COUNT]; /* SWOOSH_GUARD_<NAME>_FAIL_OPEN */
    bool api_token_reads; /* SWOOSH_API_TOKEN_READS: GETs need it too */
    bool access_log;      /* SWOOSH_ACCESS_LOG: one line per request */

    /* Derived by sw_config_load(). */
    uint64_t node_id;
    char listen_host[64]; /* "" = all interfaces */
    uint16_t listen_port;
    bool listen_ipv6;
} sw_config_t;

/* Fills every built-in default (strings are strdup'ed). */
void sw_config_defaults(sw_config_t *c);

/* Applies the environment, then argv (argv[0] is the subcommand and is
 * skipped), then validates. Returns SWOOSH_OK; SWOOSH_EINVAL with err naming
 * the flag or variable and what is expected. `*help` is set when --help or
 * -h was given (nothing else is validated then). */
swoosh_err_t sw_config_load(sw_config_t *c, int argc, char **argv, bool *help,
                            swoosh_error *err);

/* Writes the `swoosh serve --help` text: every flag, variable and default. */
void sw_config_usage(FILE *out);

/* Parses a listen address: ":8080", "127.0.0.1:8080", "[::1]:8080",
 * "localhost:8080", port 0..65535. Returns false when malformed. */
bool sw_config_parse_listen(const char *addr, char *host, size_t host_n,
                            uint16_t *port, bool *ipv6);

/* Frees the owned strings. */
void sw_config_destroy(sw_config_t *c);

#endif
