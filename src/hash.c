/* hash: SHA-256 through OpenSSL's EVP interface (see hash.h).
 *
 * One EVP_MD_CTX per sw_sha256_t, created once and re-initialised after each
 * digest with EVP_DigestInit_ex2(ctx, NULL, NULL), which keeps the digest the
 * context already holds: no EVP_MD_CTX allocation and no algorithm fetch per
 * hash. Updates are coalesced into a ~1 KiB block first (see hctx_t).
 * (OpenSSL 3.0's provider still re-creates its small internal SHA state on
 * every init; that is libcrypto's business and costs ~50 ns.)
 */
#include "hash.h"

#include "buf.h"
#include "err.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* SHA-256 is fetched from the default provider once per process: passing
 * EVP_sha256() to EVP_DigestInit_ex2 makes OpenSSL 3 run an implicit fetch
 * (a locked name lookup) on every init, which showed up at ~4.5% of replay. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* Small updates are gathered into a block before they reach EVP: the state
 * hash streams ~17 pieces (labels and section texts, many of a few bytes),
 * and each EVP_DigestUpdate costs a provider dispatch of its own. The block
 * keeps hctx_t at 1,008 bytes, inside glibc's per-thread cache (1,032 B); at
 * 1,040 bytes every hasher — one per proposal, for its content hash — went
 * through malloc's slow path and its fastbin consolidation (~1% of the HTTP
 * thread's time at 64 connections). */
typedef struct hctx {
    EVP_MD_CTX *md;
    size_t n;
    unsigned char buf[992];
} hctx_t;
_Static_assert(sizeof(hctx_t) <= 1008, "hctx_t must stay tcache-sized");

static void flush(hctx_t *c)
{
    if (c->n) {
        SW_ASSERT(EVP_DigestUpdate(c->md, c->buf, c->n) == 1);
        c->n = 0;
    }
}

/* The state hash, inputs_hash and derived idempotency keys all rest on
 * SHA-256 (SPEC §1.5, §2, §7); a context that cannot be set up is fatal. */
void sw_sha256_init(sw_sha256_t *h)
{
    pthread_once(&sha256_once, fetch_sha256);
    SW_ASSERT(sha256_md != NULL);
    hctx_t *c = sw_xmalloc(sizeof *c);
    c->n = 0;
    c->md = EVP_MD_CTX_new();
    SW_ASSERT(c->md != NULL);
    SW_ASSERT(EVP_DigestInit_ex2(c->md, sha256_md, NULL) == 1);
    h->ctx = c;
}

/* Streaming lets the state hash run over cached pieces without building the
 * whole projection text (SPEC §3). */
void sw_sha256_update(sw_sha256_t *h, const void *p, size_t n)
{
    hctx_t *c = h->ctx;
    if (n <= sizeof c->buf - c->n) {
        if (n)
            memcpy(c->buf + c->n, p, n);
        c->n += n;
        return;
    }
    flush(c);
    if (n >= sizeof c->buf) {
        SW_ASSERT(EVP_DigestUpdate(c->md, p, n) == 1);
        return;
    }
    memcpy(c->buf, p, n);
    c->n = n;
}

/* Finishing also re-arms the context, so a long-lived hasher is reused
 * without further EVP_MD_CTX allocations. */
void sw_sha256_final_hex(sw_sha256_t *h, char hex[SWOOSH_HASH_HEX_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    hctx_t *c = h->ctx;
    flush(c);
    SW_ASSERT(EVP_DigestFinal_ex(c->md, md, &n) == 1 && n == 32);
    sw_hex(md, 32, hex);
    SW_ASSERT(EVP_DigestInit_ex2(c->md, NULL, NULL) == 1);
}

/* The state hash keeps midstate checkpoints inside the projection text so a
 * transition re-hashes only from its first changed byte (SPEC §3 hash value
 * unchanged): a checkpoint is the EVP state plus the coalesced tail. */
void sw_sha256_copy(sw_sha256_t *dst, const sw_sha256_t *src)
{
    hctx_t *d = dst->ctx;
    const hctx_t *c = src->ctx;
    SW_ASSERT(EVP_MD_CTX_copy_ex(d->md, c->md) == 1);
    d->n = c->n;
    if (c->n)
        memcpy(d->buf, c->buf, c->n);
}

/* One digest of one buffer (a proposal's content hash, a payload's
 * inputs_hash): EVP_Digest with the fetched SHA-256, no hasher to set up. */
void sw_sha256_hex(const void *p, size_t n, char hex[SWOOSH_HASH_HEX_SIZE])
{
    pthread_once(&sha256_once, fetch_sha256);
    SW_ASSERT(sha256_md != NULL);
    unsigned char md[32];
    unsigned int len = 0;
    SW_ASSERT(EVP_Digest(p, n, md, &len, sha256_md, NULL) == 1 && len == 32);
    sw_hex(md, sizeof md, hex);
}

/* Pairs with sw_sha256_init(); safe on a zeroed or destroyed hasher. */
void sw_sha256_destroy(sw_sha256_t *h)
{
    if (!h || !h->ctx)
        return;
    hctx_t *c = h->ctx;
    EVP_MD_CTX_free(c->md);
    free(c);
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
