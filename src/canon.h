/* canon: RFC 8785 (JCS) canonical JSON for SWOOSH's value space.
 *
 * Our value space is strings, booleans, null, integers in -(2^53-1)..2^53-1,
 * arrays and objects. JCS then means: no whitespace; object members sorted by
 * the UTF-16 code units of their keys; strings escaped minimally (\" \\ \b \f
 * \n \r \t, other controls as \u00xx lowercase, everything else literal
 * UTF-8); integers in plain decimal. Reals are outside the value space.
 * No I/O, clock or threads here (determinism boundary).
 */
#ifndef SW_CANON_H
#define SW_CANON_H

#include "buf.h"
#include "hash.h"

#include <jansson.h>
#include <stdbool.h>

/* Appends `s` (UTF-8, `n` bytes) as a JCS string literal, quotes included. */
void sw_canon_string(sw_buf_t *out, const char *s, size_t n);
/* Same for a NUL-terminated string; NULL is written as "". */
void sw_canon_cstr(sw_buf_t *out, const char *s);

/* Compares two UTF-8 keys by UTF-16 code units, as JCS orders object members.
 * Returns <0, 0, >0 like strcmp. */
int sw_canon_keycmp(const char *a, const char *b);

/* Appends JCS(v). Returns false (appending nothing usable) when `v` holds a
 * real number or an integer outside ±(2^53-1); `out` may then hold a partial
 * write, which the caller discards. `v` is borrowed. */
bool sw_canon_json(sw_buf_t *out, const json_t *v);

/* Hex SHA-256 of JCS(v); false when v is outside the value space. */
bool sw_canon_hash(const json_t *v, char hex[SWOOSH_HASH_HEX_SIZE]);

/* Deepest nesting sw_canon_parse_subset() accepts: a value inside more than
 * this many arrays or objects is outside the subset. */
#define SW_CANON_PARSE_DEPTH 32

/* Parses `text` (`len` bytes, not NUL-terminated) when it lies in the
 * canonical subset that SWOOSH writes, as a fast path ahead of jansson:
 *   - no whitespace anywhere, and nothing after the value;
 *   - strings of printable ASCII (0x20..0x7e) without any backslash escape;
 *   - integers of 1 to 18 digits, with no leading zero, no "-0", no fraction
 *     or exponent;
 *   - true, false, null;
 *   - object keys in strictly increasing byte order (so no duplicates);
 *   - nesting up to SW_CANON_PARSE_DEPTH.
 * Returns a new reference (caller owns, json_decref) to the same value
 * json_loadb() builds (with JSON_DECODE_ANY for a top-level scalar), or NULL
 * when the text is outside the subset, valid JSON or not: callers then fall
 * back to json_loadb, which stays the judge of the accepted language. */
json_t *sw_canon_parse_subset(const char *text, size_t len);

#endif
