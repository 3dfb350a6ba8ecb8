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
bool sw_canon_hash(const json_t *v, char hex[65]);

#endif
