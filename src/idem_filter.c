/* idem_filter: the fixed-size Bloom filter of logged idempotency keys that
 * lets the SQLite log answer "never logged" without a lookup (see wal.h). */
#include "wal.h"

#include "buf.h"

#include <stdint.h>
#include <stdlib.h>

struct sw_idem_filter {
    uint64_t *bits;   /* nblocks * 8 words */
    uint64_t nblocks; /* a power of two */
    unsigned k;
};

enum { BLOCK_WORDS = 8, BLOCK_BITS = 512 };

static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* FNV-1a over the key, then two independent finalisations: one picks the
 * block, the other supplies k 9-bit positions inside it. */
static void key_hash(const char *s, uint64_t *h1, uint64_t *h2)
{
    uint64_t h = sw_fnv1a64(s);
    *h1 = fmix64(h);
    *h2 = fmix64(h ^ 0x9e3779b97f4a7c15ULL);
}

/* Sizes the filter once, so its memory never grows with the log (the
 * calloc'd bits are zero pages until touched). */
sw_idem_filter_t *sw_idem_filter_new(unsigned bits_log2, unsigned k)
{
    if (bits_log2 < 9)
        bits_log2 = 9;
    if (bits_log2 > 40)
        bits_log2 = 40;
    if (k < 1)
        k = 1;
    if (k > 7)
        k = 7;
    sw_idem_filter_t *f = sw_xcalloc(1, sizeof *f);
    f->nblocks = (uint64_t)1 << (bits_log2 - 9);
    f->k = k;
    f->bits = sw_xcalloc((size_t)f->nblocks * BLOCK_WORDS, sizeof *f->bits);
    return f;
}

/* Sets the key's k bits; called only for committed keys, so a failed batch
 * never marks its keys. */
void sw_idem_filter_add(sw_idem_filter_t *f, const char *key)
{
    uint64_t h1, h2;
    key_hash(key, &h1, &h2);
    uint64_t *blk = f->bits + (h1 & (f->nblocks - 1)) * BLOCK_WORDS;
    for (unsigned i = 0; i < f->k; i++, h2 >>= 9) {
        unsigned bit = (unsigned)(h2 & (BLOCK_BITS - 1));
        blk[bit >> 6] |= (uint64_t)1 << (bit & 63);
    }
}

/* Answers "never added" exactly and "maybe added" otherwise, which the log
 * confirms on the UNIQUE idem_key index (SPEC §2 idempotency). */
bool sw_idem_filter_may_contain(const sw_idem_filter_t *f, const char *key)
{
    uint64_t h1, h2;
    key_hash(key, &h1, &h2);
    const uint64_t *blk = f->bits + (h1 & (f->nblocks - 1)) * BLOCK_WORDS;
    for (unsigned i = 0; i < f->k; i++, h2 >>= 9) {
        unsigned bit = (unsigned)(h2 & (BLOCK_BITS - 1));
        if (!(blk[bit >> 6] & ((uint64_t)1 << (bit & 63))))
            return false;
    }
    return true;
}

/* Releases the filter's bits. */
void sw_idem_filter_free(sw_idem_filter_t *f)
{
    if (!f)
        return;
    free(f->bits);
    free(f);
}
