/* api: the public swoosh_* wrappers of include/swoosh.h over canon, hash
 * and state. */
#include "swoosh.h"

#include "buf.h"
#include "canon.h"
#include "err.h"
#include "hash.h"
#include "state.h"

#include <jansson.h>
#include <string.h>

/* Parses JSON text as SWOOSH reads every input: duplicate keys rejected
 * (SPEC §2), invalid UTF-8 rejected by jansson. New reference or NULL. */
static json_t *load_json(const char *json, size_t len, swoosh_error *err)
{
    json_error_t jerr;
    json_t *v = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v)
        sw_error_set(err, SWOOSH_ECORRUPT, 0,
                     "invalid JSON at line %d column %d: %s", jerr.line,
                     jerr.column, jerr.text);
    return v;
}

/* Embedders get the genesis of SPEC §3 without going through the server. */
swoosh_state_t *swoosh_state_new_genesis(void)
{
    return sw_state_new_genesis();
}

/* Loads a projection text (genesis file, snapshot state, GET /state's
 * projection), validating it fully (SPEC §3). */
swoosh_state_t *swoosh_state_from_json(const char *json, size_t len,
                                       swoosh_error *err)
{
    json_t *v = load_json(json, len, err);
    if (!v)
        return NULL;
    sw_state_t *s = sw_state_from_json(v, err);
    json_decref(v);
    return s;
}

/* Pairs with the constructors above; NULL is a no-op. */
void swoosh_state_free(swoosh_state_t *state)
{
    sw_state_free(state);
}

/* The canonical projection bytes (SPEC §3), borrowed from the state. */
const char *swoosh_state_canonical(swoosh_state_t *state, size_t *len)
{
    return sw_state_canonical(state, len);
}

/* The seed's exported ComputeStateHash (SPEC §3). */
void swoosh_state_hash(swoosh_state_t *state, char hex[SWOOSH_HASH_HEX_SIZE])
{
    sw_state_hash(state, hex);
}

/* Lets anyone check a state_hash from JSON alone (SPEC §1.5): the hash is
 * SHA-256 of generic JCS of the projection, so a projection-shaped object
 * with unexpected content still hashes the way a client would compute it.
 * A GET /state answer is recognised by its `projection` member, a snapshot
 * file (SPEC §4) by its format name; its `state` is hashed. */
swoosh_err_t swoosh_hash_json(const char *json, size_t len,
                              char hex[SWOOSH_HASH_HEX_SIZE], swoosh_error *err)
{
    swoosh_err_t rc = SWOOSH_OK;
    json_t *root = load_json(json, len, err);
    if (!root)
        return SWOOSH_ECORRUPT;
    if (!json_is_object(root)) {
        rc = sw_error_set(err, SWOOSH_EINVAL, 0,
                          "expected a JSON object (a projection or a GET "
                          "/state answer)");
        goto out_root;
    }
    const char *member = "projection";
    const json_t *proj = json_object_get(root, member);
    const json_t *fmt = json_object_get(root, "format");
    if (!proj && json_is_string(fmt) &&
        strcmp(json_string_value(fmt), "swoosh-snapshot-v1") == 0) {
        member = "state"; /* a snapshot file (SPEC §4) */
        proj = json_object_get(root, member);
        if (!proj)
            proj = json_null();
    }
    if (!proj) {
        proj = root;
    } else if (!json_is_object(proj)) {
        rc = sw_error_set(err, SWOOSH_EINVAL, 0, "%s: expected a JSON object",
                          member);
        goto out_root;
    }
    if (!sw_canon_hash(proj, hex))
        rc = sw_error_set(err, SWOOSH_EINVAL, 0,
                          "the JSON holds a real number or an integer "
                          "outside -(2^53-1)..2^53-1, which canonical JSON "
                          "(SPEC §3) does not allow");
out_root:
    json_decref(root);
    return rc;
}

/* inputs_hash and similar checks need plain SHA-256 of bytes (SPEC §2). */
void swoosh_sha256_hex(const void *data, size_t len,
                       char hex[SWOOSH_HASH_HEX_SIZE])
{
    sw_sha256_hex(data, len, hex);
}
