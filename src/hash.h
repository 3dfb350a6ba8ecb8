/* hash: SHA-256 (OpenSSL EVP) over one buffer or a stream of pieces. */
#ifndef SW_HASH_H
#define SW_HASH_H

#include "swoosh.h" /* SWOOSH_HASH_HEX_SIZE */

#include <stddef.h>
#include <stdint.h>

/* Streaming SHA-256. Allocation-free after sw_sha256_init(). */
typedef struct sw_sha256 {
    void *ctx; /* EVP_MD_CTX, owned */
} sw_sha256_t;

void sw_sha256_init(sw_sha256_t *h);
void sw_sha256_update(sw_sha256_t *h, const void *p, size_t n);
/* Writes 64 lowercase hex digits and a NUL, and resets for a new message. */
void sw_sha256_final_hex(sw_sha256_t *h, char hex[SWOOSH_HASH_HEX_SIZE]);
void sw_sha256_destroy(sw_sha256_t *h);
/* SHA-256 of one buffer, as lowercase hex. */
void sw_sha256_hex(const void *p, size_t n, char hex[SWOOSH_HASH_HEX_SIZE]);
/* Makes `dst` (initialised with sw_sha256_init) continue exactly where `src`
 * stands: the digest state and any coalesced, not yet digested bytes. Both
 * stay usable and independent. */
void sw_sha256_copy(sw_sha256_t *dst, const sw_sha256_t *src);

/* Writes the lowercase hex of `n` bytes (2n chars + NUL). */
void sw_hex(const uint8_t *p, size_t n, char *out);
/* True when `s` is exactly 64 lowercase hex digits. */
int sw_is_sha256_hex(const char *s);

#endif
