/* proposal: parsing and validation of a transition proposal (SPEC §2, and
 * step 1 of SPEC §5's evaluation order).
 *
 * Request-level checks run in SPEC's order: MALFORMED_JSON (not parseable, not
 * an object, invalid UTF-8, duplicate keys at any depth, NUL in a string),
 * UNKNOWN_FIELD, MISSING_FIELD, BAD_FIELD (fields in the table's order), then
 * UNKNOWN_TRANSITION, BAD_PAYLOAD (via the catalog's payload schema), then
 * INPUTS_HASH_MISMATCH. JSON null counts as absent for optional fields.
 */
#ifndef SW_PROPOSAL_H
#define SW_PROPOSAL_H

#include "err.h"
#include "hlc.h"

#include <jansson.h>
#include <stdbool.h>

struct sw_catalog_entry;

/* Typed, validated payload. Every pointer is borrowed from the proposal's
 * `payload` JSON and valid while the proposal lives; NULL = absent. */
typedef struct sw_payload {
    const char *license_id, *node_id, *content_hash, *reason, *council_id,
        *role, *agent_id, *cert_hash, *window_id, *task_id, *title, *result;
    json_t *sources;   /* array of {id, uri}, validated */
    json_t *roles;     /* array of {role, required}, validated, unique */
    json_t *resources; /* object of string values, validated */
    json_t *admins;    /* array of ids */
    json_t *params;    /* object of string values */
    bool has_quorum, has_approval_threshold, has_max_tasks, has_max_members,
        has_max_clock_skew_ms;
    uint64_t quorum, approval_threshold, max_tasks, max_members,
        max_clock_skew_ms;
} sw_payload_t;

typedef struct sw_proposal {
    json_t *raw; /* owned reference: the object as received (+ stamped hlc) */
    const struct sw_catalog_entry *entry; /* catalog row, never NULL */
    /* Borrowed from raw. Optional strings are "" when absent. */
    const char *transition, *signer, *idem_key, *inputs_hash, *window_id;
    /* NULL when absent, "" or "*" (no precondition). */
    const char *current_state_hash;
    bool has_hlc;
    sw_hlc_t hlc;
    json_t *evidence; /* borrowed; NULL when absent */
    json_t *payload;  /* borrowed; NULL when absent */
    sw_payload_t pl;
    /* Hex SHA-256 of JCS({transition, signer, inputs_hash, payload, evidence,
     * window_id}) with absent = empty value: the idempotency content. */
    char content_hash[SWOOSH_HASH_HEX_SIZE];
} sw_proposal_t;

/* Parses `len` bytes of a request body into `p`. On success returns SW_C_OK
 * and the caller owns p (release with sw_proposal_destroy). On failure returns
 * the rejection code, writes a sentence naming the field into msg, and p needs
 * no destroy. */
sw_code_t sw_proposal_parse(const char *body, size_t len, sw_proposal_t *p,
                            char msg[SWOOSH_MSG_SIZE]);

/* Same checks on an already parsed object (used by the WHOOSH adapter and by
 * replay). Takes a new reference to obj on success only. */
sw_code_t sw_proposal_from_json(json_t *obj, sw_proposal_t *p,
                                char msg[SWOOSH_MSG_SIZE]);

/* Like sw_proposal_from_json, but with SW_PROPOSAL_NO_CONTENT_HASH leaves
 * p->content_hash empty: replay re-applies logged records and never compares
 * idempotency content, so it skips that hash (a JCS + SHA-256 per record). */
#define SW_PROPOSAL_NO_CONTENT_HASH 1u
sw_code_t sw_proposal_from_json_flags(json_t *obj, sw_proposal_t *p,
                                      char msg[SWOOSH_MSG_SIZE],
                                      unsigned flags);

/* Sets the stamped HLC, also into raw (the WAL record's proposal). */
void sw_proposal_set_hlc(sw_proposal_t *p, const sw_hlc_t *h);

void sw_proposal_destroy(sw_proposal_t *p);

/* Bounds of SPEC §2. */
#define SW_MAX_SIGNER       128
#define SW_MAX_IDEM_KEY     256
#define SW_MAX_EVIDENCE     64
#define SW_MAX_EVIDENCE_LEN 1024
#define SW_MAX_BODY         (64 * 1024)

#endif
