/* hlc: hybrid logical clock stamps "P-L-NNNNNNNNNNNNNNNN" (SPEC §2, §4).
 *
 * P = physical milliseconds (decimal, canonical: no leading zeros, < 2^64,
 * at most 20 digits), L = logical counter (decimal, canonical, < 2^32),
 * N = node id, exactly 16 lowercase hex digits. Ordered by (P, L, N)
 * numerically. Pure functions: the server clock arrives as a parameter.
 */
#ifndef SW_HLC_H
#define SW_HLC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sw_hlc {
    uint64_t p;    /* physical ms */
    uint32_t l;    /* logical counter */
    uint64_t node; /* node id */
} sw_hlc_t;

/* Longest formatted HLC: 20 + 1 + 10 + 1 + 16 digits, plus NUL. */
#define SW_HLC_STRLEN 49

/* Parses exactly `n` bytes of canonical text. Returns false on anything else
 * (leading zeros, overflow, junk, uppercase hex, wrong lengths). */
bool sw_hlc_parse(const char *s, size_t n, sw_hlc_t *out);
/* Writes the canonical form; returns its length. */
size_t sw_hlc_format(const sw_hlc_t *h, char out[SW_HLC_STRLEN]);
/* <0, 0, >0 by (P, L, N). */
int sw_hlc_cmp(const sw_hlc_t *a, const sw_hlc_t *b);
/* The larger of the two (SPEC §2 HLC rule). */
sw_hlc_t sw_hlc_max(const sw_hlc_t *a, const sw_hlc_t *b);
/* Server stamp (SPEC §4): (now_ms, 0, node) if now_ms > last.p, else
 * (last.p, last.l + 1, node); when last.l is at its maximum the physical part
 * advances by one ms instead, so stamps stay strictly increasing. */
sw_hlc_t sw_hlc_stamp(const sw_hlc_t *last, uint64_t now_ms, uint64_t node);
/* Parses a 16-lowercase-hex-digit node id. */
bool sw_hlc_parse_node(const char *s, uint64_t *out);

#endif
