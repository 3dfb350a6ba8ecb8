/* proposal: parsing and validation of a transition proposal (SPEC §2 and
 * step 1 of SPEC §5). See proposal.h for the order of the checks. */
#include "proposal.h"

#include "catalog.h"
#include "canon.h"
#include "hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The top-level fields of SPEC §2, in the table's order. */
static const char *const known_fields[] = {
    "transition",         "signer",   "idem_key",
    "current_state_hash", "hlc",      "inputs_hash",
    "window_id",          "evidence", "payload",
};

static sw_code_t reject(char msg[SWOOSH_MSG_SIZE], sw_code_t code,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills msg and returns code, so checks read `return reject(...)`. */
static sw_code_t reject(char msg[SWOOSH_MSG_SIZE], sw_code_t code,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, SWOOSH_MSG_SIZE, fmt, ap);
    va_end(ap);
    return code;
}

/* True when every byte of s is printable ASCII (SPEC §2: 0x20-0x7E). */
static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e)
            return false;
    }
    return true;
}

/* Returns the member `name` of obj, or NULL when it is absent or JSON null
 * (SPEC §2: an optional field given as null counts as absent). Borrowed. */
static json_t *optional(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return json_is_null(v) ? NULL : v;
}

/* Checks an optional string field of at most `max` bytes and stores its text
 * (or "" when absent) in *out. */
static sw_code_t opt_string(json_t *obj, const char *name, size_t max,
                            const char **out, char msg[SWOOSH_MSG_SIZE])
{
    json_t *v = optional(obj, name);
    *out = "";
    if (v == NULL)
        return SW_C_OK;
    if (!json_is_string(v) || json_string_length(v) > max)
        return reject(msg, SW_C_BAD_FIELD,
                      "%s: expected a string of at most %zu bytes", name, max);
    *out = json_string_value(v);
    return SW_C_OK;
}

/* Checks a required string field of 1..max printable ASCII characters; when
 * `max` is 0 any string is accepted. Presence was checked before. */
static sw_code_t req_string(json_t *obj, const char *name, size_t max,
                            const char **out, char msg[SWOOSH_MSG_SIZE])
{
    json_t *v = json_object_get(obj, name);
    if (max == 0) {
        if (!json_is_string(v))
            return reject(msg, SW_C_BAD_FIELD, "%s: expected a string", name);
    } else if (!json_is_string(v) || json_string_length(v) < 1 ||
               json_string_length(v) > max ||
               !printable(json_string_value(v), json_string_length(v))) {
        return reject(msg, SW_C_BAD_FIELD,
                      "%s: expected 1..%zu printable ASCII characters", name,
                      max);
    }
    *out = json_string_value(v);
    return SW_C_OK;
}

/* UNKNOWN_FIELD: the bytewise-smallest unknown key is named, so the message
 * does not depend on the order the client wrote the members in. */
static sw_code_t check_unknown(json_t *obj, char msg[SWOOSH_MSG_SIZE])
{
    const char *key, *worst = NULL;
    size_t worst_len = 0;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof known_fields / sizeof *known_fields; i++)
            if (strcmp(key, known_fields[i]) == 0)
                known = true;
        if (!known && (worst == NULL || strcmp(key, worst) < 0)) {
            worst = key;
            worst_len = strlen(key);
        }
    }
    if (worst == NULL)
        return SW_C_OK;
    char q[SW_QUOTE_MAX + 4];
    sw_quote(q, SW_QUOTE_MAX, worst, worst_len);
    return reject(msg, SW_C_UNKNOWN_FIELD,
                  "unknown field \"%s\": expected only transition, signer, "
                  "idem_key, current_state_hash, hlc, inputs_hash, window_id, "
                  "evidence and payload",
                  q);
}

/* The BAD_FIELD checks of SPEC §2, in the table's order. Fills the borrowed
 * pointers of p from obj. */
static sw_code_t check_fields(json_t *obj, sw_proposal_t *p,
                              char msg[SWOOSH_MSG_SIZE])
{
    sw_code_t c;
    if ((c = req_string(obj, "transition", 0, &p->transition, msg)) ||
        (c = req_string(obj, "signer", SW_MAX_SIGNER, &p->signer, msg)) ||
        (c = req_string(obj, "idem_key", SW_MAX_IDEM_KEY, &p->idem_key, msg)))
        return c;

    const char *csh;
    if ((c = opt_string(obj, "current_state_hash", 128, &csh, msg)))
        return c;
    p->current_state_hash =
        (csh[0] == '\0' || strcmp(csh, "*") == 0) ? NULL : csh;

    json_t *hlc = optional(obj, "hlc");
    if (hlc != NULL) {
        if (!json_is_string(hlc) ||
            !sw_hlc_parse(json_string_value(hlc), json_string_length(hlc),
                          &p->hlc))
            return reject(msg, SW_C_BAD_FIELD,
                          "hlc: expected canonical P-L-NNNNNNNNNNNNNNNN "
                          "(decimal P < 2^64 and L < 2^32 without leading "
                          "zeros, 16 lowercase hex digits)");
        p->has_hlc = true;
    }

    if ((c = opt_string(obj, "inputs_hash", 128, &p->inputs_hash, msg)) ||
        (c = opt_string(obj, "window_id", 128, &p->window_id, msg)))
        return c;

    json_t *ev = optional(obj, "evidence");
    if (ev != NULL) {
        bool ok = json_is_array(ev) && json_array_size(ev) <= SW_MAX_EVIDENCE;
        size_t i;
        json_t *item;
        json_array_foreach(ev, i, item)
        {
            if (!ok)
                break;
            ok = json_is_string(item) &&
                 json_string_length(item) <= SW_MAX_EVIDENCE_LEN;
        }
        if (!ok)
            return reject(msg, SW_C_BAD_FIELD,
                          "evidence: expected an array of at most %d strings "
                          "of at most %d bytes each",
                          SW_MAX_EVIDENCE, SW_MAX_EVIDENCE_LEN);
        p->evidence = ev;
    }

    json_t *pl = optional(obj, "payload");
    if (pl != NULL) {
        if (!json_is_object(pl))
            return reject(msg, SW_C_BAD_FIELD,
                          "payload: expected a JSON object");
        p->payload = pl;
    }
    return SW_C_OK;
}

/* The idempotency content of SPEC §2, with absent fields as their empty
 * values. Returns false when a value is outside the canonical value space
 * (which a validated payload never is). The JCS object is written directly,
 * its six member names already in JCS order, rather than built as a jansson
 * object first: this runs once per proposal on the HTTP thread. */
static bool content_hash(const sw_proposal_t *p, char hex[SWOOSH_HASH_HEX_SIZE])
{
    sw_buf_t b = SW_BUF_INIT;
    sw_buf_reserve(&b, 256);
    sw_buf_puts(&b, "{\"evidence\":");
    bool ok = p->evidence ? sw_canon_json(&b, p->evidence)
                          : (sw_buf_puts(&b, "[]"), true);
    sw_buf_puts(&b, ",\"inputs_hash\":");
    sw_canon_cstr(&b, p->inputs_hash);
    sw_buf_puts(&b, ",\"payload\":");
    ok = ok && (p->payload ? sw_canon_json(&b, p->payload)
                           : (sw_buf_puts(&b, "{}"), true));
    sw_buf_puts(&b, ",\"signer\":");
    sw_canon_cstr(&b, p->signer);
    sw_buf_puts(&b, ",\"transition\":");
    sw_canon_cstr(&b, p->transition);
    sw_buf_puts(&b, ",\"window_id\":");
    sw_canon_cstr(&b, p->window_id);
    sw_buf_putc(&b, '}');
    if (ok)
        sw_sha256_hex(b.data, b.len, hex);
    sw_buf_free(&b);
    return ok;
}

/* Validates an already parsed proposal object: everything after the JSON
 * parse in SPEC §2's order, then step 1 of SPEC §5 (UNKNOWN_TRANSITION,
 * BAD_PAYLOAD, INPUTS_HASH_MISMATCH). The replay path and the WHOOSH adapter
 * use it directly; p holds a new reference to obj on success only. */
sw_code_t sw_proposal_from_json(json_t *obj, sw_proposal_t *p,
                                char msg[SWOOSH_MSG_SIZE])
{
    return sw_proposal_from_json_flags(obj, p, msg, 0);
}

/* The one implementation behind both entry points; flags only drop work that
 * the caller provably does not need (see proposal.h). */
sw_code_t sw_proposal_from_json_flags(json_t *obj, sw_proposal_t *p,
                                      char msg[SWOOSH_MSG_SIZE], unsigned flags)
{
    sw_proposal_t t;
    memset(&t, 0, sizeof t);
    memset(p, 0, sizeof *p);
    msg[0] = '\0';

    if (!json_is_object(obj))
        return reject(msg, SW_C_MALFORMED_JSON, "body: expected a JSON object");

    sw_code_t c = check_unknown(obj, msg);
    if (c != SW_C_OK)
        return c;
    static const char *const required[] = {"transition", "signer", "idem_key"};
    for (size_t i = 0; i < 3; i++)
        if (json_object_get(obj, required[i]) == NULL)
            return reject(msg, SW_C_MISSING_FIELD,
                          "%s: required field is missing", required[i]);
    if ((c = check_fields(obj, &t, msg)) != SW_C_OK)
        return c;

    t.entry = sw_catalog_find(t.transition);
    if (t.entry == NULL) {
        char q[SW_QUOTE_MAX + 4];
        sw_quote(q, SW_QUOTE_MAX, t.transition, strlen(t.transition));
        return reject(msg, SW_C_UNKNOWN_TRANSITION,
                      "transition: \"%s\" is not in the catalog "
                      "(GET /transitions lists it)",
                      q);
    }
    if ((c = sw_catalog_parse_payload(t.entry, t.payload, &t.pl, msg)) !=
        SW_C_OK)
        return c;

    if (t.payload != NULL && t.inputs_hash[0] != '\0') {
        char want[SWOOSH_HASH_HEX_SIZE];
        if (!sw_canon_hash(t.payload, want))
            return reject(msg, SW_C_BAD_PAYLOAD,
                          "payload: expected only strings, booleans, null, "
                          "integers, arrays and objects");
        if (strcmp(want, t.inputs_hash) != 0)
            return reject(msg, SW_C_INPUTS_HASH_MISMATCH,
                          "inputs_hash: expected the lowercase hex SHA-256 "
                          "of JCS(payload), %s",
                          want);
    }
    if (!(flags & SW_PROPOSAL_NO_CONTENT_HASH) &&
        !content_hash(&t, t.content_hash))
        return reject(msg, SW_C_BAD_PAYLOAD,
                      "payload: expected only strings, booleans, null, "
                      "integers, arrays and objects");

    t.raw = json_incref(obj);
    *p = t;
    return SW_C_OK;
}

/* Parses a request body (SPEC §2): anything jansson refuses with duplicate
 * keys rejected (invalid UTF-8, \u0000, duplicate keys at any depth, integer
 * overflow, nesting deeper than its limit, trailing junk) is MALFORMED_JSON,
 * then sw_proposal_from_json does the rest. A body over SW_MAX_BODY is
 * BODY_TOO_LARGE even if the HTTP layer did not catch it first. */
sw_code_t sw_proposal_parse(const char *body, size_t len, sw_proposal_t *p,
                            char msg[SWOOSH_MSG_SIZE])
{
    memset(p, 0, sizeof *p);
    msg[0] = '\0';
    if (len > SW_MAX_BODY)
        return reject(msg, SW_C_BODY_TOO_LARGE,
                      "body: expected at most %d bytes", SW_MAX_BODY);

    json_error_t jerr;
    json_t *obj = json_loadb(body ? body : "", body ? len : 0,
                             JSON_REJECT_DUPLICATES, &jerr);
    if (obj == NULL) {
        char q[JSON_ERROR_TEXT_LENGTH + 4];
        sw_quote(q, 120, jerr.text, strlen(jerr.text));
        return reject(msg, SW_C_MALFORMED_JSON,
                      "body: expected a well-formed JSON object (%s at line "
                      "%d, column %d)",
                      q, jerr.line, jerr.column);
    }
    sw_code_t c = sw_proposal_from_json(obj, p, msg);
    json_decref(obj);
    return c;
}

/* Records the HLC the executor stamped (SPEC §4) both in the typed view and
 * in raw, because the WAL record's proposal carries the stamped hlc. */
void sw_proposal_set_hlc(sw_proposal_t *p, const sw_hlc_t *h)
{
    char buf[SW_HLC_STRLEN];
    sw_hlc_format(h, buf);
    p->hlc = *h;
    p->has_hlc = true;
    json_object_set_new(p->raw, "hlc", json_string(buf));
}

/* Releases the proposal's reference to raw; the borrowed pointers die with
 * it. Safe on a zeroed proposal. */
void sw_proposal_destroy(sw_proposal_t *p)
{
    if (p == NULL)
        return;
    json_decref(p->raw);
    memset(p, 0, sizeof *p);
}
