/* catalog: the one static table of transitions (SPEC §5).
 *
 * Each row: name, the section whose phase gates it and the allowed phases,
 * required guards, flags for the generic steps of the evaluation order, the
 * payload schema, the transition's own checks and its effect, and a one-line
 * doc. GET /transitions and the payload validator are generated from it.
 */
#ifndef SW_CATALOG_H
#define SW_CATALOG_H

#include "err.h"
#include "proposal.h"
#include "state.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Guard bits of the catalog's guard column (PolicyOK applies to every
 * transition and has no bit). */
enum {
    SW_G_LICENSE = 1u << 0,  /* L: LicenseOK (KACHING) */
    SW_G_BACKBEAT = 1u << 1, /* B: BackbeatOK (BACKBEAT) */
    SW_G_QUORUM = 1u << 2,   /* Q: QuorumOK (HMMM) */
    SW_G_MCP = 1u << 3,      /* M: MCPHealthy (MCP) */
};

/* The five guards of SPEC §4, defined once: X(ID, field, name, bit).
 *   ID    SW_GUARD_<ID> and SWOOSH_GUARD_<ID>_URL;
 *   field the sw_guards_t member (reducer.h);
 *   name  the outcome key in WAL records, logs and guard calls;
 *   bit   the catalog's requirement bit (0 for PolicyOK).
 * In SPEC §4's order (KACHING, BACKBEAT, HMMM, SHHH, MCP), which is also the
 * order of the flags in `swoosh serve --help`. */
#define SW_GUARD_MAP(X)                                                        \
    X(LICENSE, license_ok, "LicenseOK", SW_G_LICENSE)                          \
    X(BACKBEAT, backbeat_ok, "BackbeatOK", SW_G_BACKBEAT)                      \
    X(QUORUM, quorum_ok, "QuorumOK", SW_G_QUORUM)                              \
    X(POLICY, policy_ok, "PolicyOK", 0)                                        \
    X(MCP, mcp_healthy, "MCPHealthy", SW_G_MCP)

typedef enum sw_guard_id {
#define SW_GUARD_ID_(G_ID, G_FIELD, G_NAME, G_BIT) SW_GUARD_##G_ID,
    SW_GUARD_MAP(SW_GUARD_ID_)
#undef SW_GUARD_ID_
        SW_GUARD__COUNT
} sw_guard_id_t;

/* Row flags. */
enum {
    SW_T_CONTROL =
        1u << 0,          /* "Control": allowed paused/quarantined/unlicensed */
    SW_T_ADMIN = 1u << 1, /* needs signer ∈ Admins when Admins non-empty */
    SW_T_UNLICENSED =
        1u << 2,           /* allowed while not licensed (LICENSE_GRANTED) */
    SW_T_WINDOW = 1u << 3, /* WINDOW_MISMATCH check applies */
    SW_T_COUNCIL_ID = 1u << 4, /* COUNCIL_MISMATCH check right after phase */
};

/* Payload field types. */
typedef enum sw_ftype {
    SW_F_ID,      /* string, 1..128 bytes */
    SW_F_TEXT,    /* string, 0..1024 bytes */
    SW_F_UINT,    /* integer within [min, max] */
    SW_F_SOURCES, /* array (1..256) of {id: ID, uri: TEXT}, unique ids */
    SW_F_ROLES,   /* array (1..256) of {role: ID, required: bool}, unique */
    SW_F_STRMAP,  /* object (≤256) of key 1..128 bytes → TEXT */
    SW_F_IDLIST,  /* array (≤256) of ID */
} sw_ftype_t;

typedef struct sw_field_spec {
    const char *name; /* payload key */
    sw_ftype_t type;
    bool required;
    uint64_t min, max; /* SW_F_UINT bounds */
    size_t offset;     /* into sw_payload_t of the pointer / value */
    size_t has_offset; /* SW_F_UINT: offset of the bool has_*; else 0 */
} sw_field_spec_t;

/* Rows the per-transition counters of GET /metrics have room for; the
 * table is checked against it when compiled (catalog.c). */
#define SW_CATALOG_MAX 64

typedef struct sw_catalog_entry {
    const char *name;
    sw_section_t phase_section;    /* SW_SEC__COUNT: any phase */
    uint32_t phases;               /* bit (1u << phase) per allowed phase */
    unsigned guards;               /* SW_G_* */
    unsigned flags;                /* SW_T_* */
    const sw_field_spec_t *fields; /* terminated by a row with name NULL */
    unsigned min_fields; /* ≥ this many payload fields (POLICY_UPDATED) */
    /* The transition's own conditions after phase (and council id), in the
     * order SPEC lists them; returns SW_C_OK or a code with msg filled. May be
     * NULL. Must not change s. */
    sw_code_t (*check)(const sw_state_t *s, const sw_proposal_t *p,
                       char msg[SWOOSH_MSG_SIZE]);
    /* The effect; called only after every check passed. Must call
     * sw_state_touch()/sw_state_touch_task() for what it changes. */
    void (*apply)(sw_state_t *s, const sw_proposal_t *p);
    const char *doc;
    /* A bound between payload fields that the field specs cannot state,
     * run by sw_catalog_parse_payload() after every field passed (SPEC §5
     * step 1); returns SW_C_OK or SW_C_BAD_PAYLOAD with msg filled. `name`
     * is the transition's. May be NULL. */
    sw_code_t (*payload_check)(const sw_payload_t *pl, const char *name,
                               char msg[SWOOSH_MSG_SIZE]);
} sw_catalog_entry_t;

/* Looks a transition up by name; NULL when not catalogued. */
const sw_catalog_entry_t *sw_catalog_find(const char *name);
/* The table and its length. */
const sw_catalog_entry_t *sw_catalog_all(size_t *n);

/* Validates `payload` (nullable = {}) against the row's schema and fills pl.
 * Returns SW_C_OK or SW_C_BAD_PAYLOAD with msg naming the field. */
sw_code_t sw_catalog_parse_payload(const sw_catalog_entry_t *e, json_t *payload,
                                   sw_payload_t *pl, char msg[SWOOSH_MSG_SIZE]);

/* GET /transitions body: {"transitions":[{name, phases, guards, payload}]}.
 * New reference. */
json_t *sw_catalog_to_json(void);

#endif
