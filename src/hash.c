/* hash: SHA-256 through OpenSSL's EVP interface (see hash.h).
 *
 * One EVP_MD_CTX per sw_sha256_t, created once and re-initialised after each
 * digest with EVP_DigestInit_ex2(ctx, NULL, NULL), which keeps the digest the
 * context already holds: no EVP_MD_CTX allocation and no algorithm fetch per
 * hash. (OpenSSL 3.0's provider still re-creates its small internal SHA
 * state on every init; that is libcrypto's business and costs ~50 ns.)
 */
#include "hash.h"

#include "err.h"

#include <openssl/evp.h>

/* The state hash, inputs_hash and derived idempotency keys all rest on
 * SHA-256 (SPEC §1.5, §2, §7); a context that cannot be set up is fatal. */
void sw_sha256_init(sw_sha256_t *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    SW_ASSERT(ctx != NULL);
    SW_ASSERT(EVP_DigestInit_ex2(ctx, EVP_sha256(), NULL) == 1);
    h->ctx = ctx;
}

/* Streaming lets the state hash run over cached pieces without building the
 * whole projection text (SPEC §3). */
void sw_sha256_update(sw_sha256_t *h, const void *p, size_t n)
{
    if (n)
        SW_ASSERT(EVP_DigestUpdate((EVP_MD_CTX *)h->ctx, p, n) == 1);
}

/* Finishing also re-arms the context, so a long-lived hasher is reused
 * without further EVP_MD_CTX allocations. */
void sw_sha256_final_hex(sw_sha256_t *h, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD_CTX *ctx = h->ctx;
    SW_ASSERT(EVP_DigestFinal_ex(ctx, md, &n) == 1 && n == 32);
    sw_hex(md, 32, hex);
    SW_ASSERT(EVP_DigestInit_ex2(ctx, NULL, NULL) == 1);
}

/* Pairs with sw_sha256_init(); safe on a zeroed or destroyed hasher. */
void sw_sha256_destroy(sw_sha256_t *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free((EVP_MD_CTX *)h->ctx);
    h->ctx = NULL;
}

/* Every hash SWOOSH shows is lowercase hex (SPEC §6). */
void sw_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0xf];
    }
    out[2 * n] = '\0';
}

/* Hash-valued fields (current_state_hash and friends) are compared as text,
 * so only the canonical lowercase spelling counts as a hash. */
int sw_is_sha256_hex(const char *s)
{
    if (!s)
        return 0;
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return s[64] == '\0';
}
