/* fuzz: the seeded mutation engine (see fuzz.h). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SEED 0x9e3779b97f4a7c15ull

static uint64_t rng;

/* A decimal or 0x-hex unsigned value of the variable; dflt when it is unset
 * or not a whole number. */
static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end = NULL;
    unsigned long long x = strtoull(v, &end, 0);
    return *end ? dflt : (uint64_t)x;
}

/* JSON's structure and literals, spliced in besides the caller's tokens. */
static const char *const json_tokens[] = {
    "\"", "\\", "{", "}", "[", "]", ",", ":", "null", "true", "false", "-0",
};
#define N_JSON_TOKENS (sizeof json_tokens / sizeof *json_tokens)

/* xorshift64: fast, and the same sequence on every machine. */
uint64_t th_fuzz_next(void)
{
    if (!rng) {
        rng = env_u64("SWOOSH_FUZZ_SEED", DEFAULT_SEED);
        if (!rng) /* xorshift's one fixed point */
            rng = DEFAULT_SEED;
    }
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

size_t th_fuzz_rounds(size_t dflt)
{
    uint64_t scale = env_u64("SWOOSH_FUZZ_SCALE", 1);
    if (scale == 0)
        scale = 1;
    if (getenv("SWOOSH_FUZZ_SEED") || getenv("SWOOSH_FUZZ_SCALE"))
        fprintf(stderr, "fuzz: SWOOSH_FUZZ_SEED=%s rounds=%zu\n",
                getenv("SWOOSH_FUZZ_SEED") ? getenv("SWOOSH_FUZZ_SEED")
                                           : "(default)",
                (size_t)(dflt * scale));
    return (size_t)(dflt * scale);
}

/* Modulo bias is irrelevant for choosing mutations. */
size_t th_fuzz_below(size_t n)
{
    return n ? (size_t)(th_fuzz_next() % n) : 0;
}

/* Rebuilding the buffer keeps the code obvious; mutants are small. */
void th_fuzz_splice(sw_buf_t *out, size_t at, size_t k, const char *p, size_t n)
{
    sw_buf_t tmp = SW_BUF_INIT;
    sw_buf_append(&tmp, out->data, at);
    sw_buf_append(&tmp, p, n);
    sw_buf_append(&tmp, out->data + at + k, out->len - at - k);
    sw_buf_reset(out);
    sw_buf_append(out, tmp.data, tmp.len);
    sw_buf_free(&tmp);
}

/* Gentle edits keep many mutants valid, so the accepting paths are
 * exercised too; structural ones probe the refusing paths. */
void th_fuzz_mutate(sw_buf_t *out, const char *in, size_t len,
                    const th_mutator_t *m)
{
    sw_buf_reset(out);
    sw_buf_append(out, in, len);
    if (th_fuzz_below(3) == 0) {
        unsigned k = 1 + (unsigned)th_fuzz_below(3);
        for (unsigned done = 0, tries = 0; done < k && tries < 32; tries++)
            if (out->len && m->gentle(out, th_fuzz_below(out->len)))
                done++;
        return;
    }
    unsigned rounds = 1 + (unsigned)th_fuzz_below(4);
    for (unsigned r = 0; r < rounds; r++) {
        size_t n = out->len;
        size_t at = th_fuzz_below(n + 1);
        switch (th_fuzz_below(6)) {
        case 0: /* replace one byte */
            if (n)
                out->data[th_fuzz_below(n)] = (char)th_fuzz_next();
            break;
        case 1: /* delete a range */
            th_fuzz_splice(out, at, th_fuzz_below(n - at + 1) % 16, "", 0);
            break;
        case 2: { /* insert a token */
            size_t i = th_fuzz_below(N_JSON_TOKENS + m->n_tokens);
            const char *t = i < N_JSON_TOKENS ? json_tokens[i]
                                              : m->tokens[i - N_JSON_TOKENS];
            th_fuzz_splice(out, at, 0, t, strlen(t));
            break;
        }
        case 3: /* truncate */
            out->len = at;
            if (out->data)
                out->data[at] = '\0';
            break;
        case 4: { /* duplicate a range */
            size_t k = th_fuzz_below(n - at + 1) % 48;
            if (k) {
                char *copy = sw_xmalloc(k);
                memcpy(copy, out->data + at, k);
                th_fuzz_splice(out, at, 0, copy, k);
                free(copy);
            }
            break;
        }
        default: /* swap two bytes */
            if (n > 1) {
                size_t a = th_fuzz_below(n), b = th_fuzz_below(n);
                char c = out->data[a];
                out->data[a] = out->data[b];
                out->data[b] = c;
            }
            break;
        }
    }
}
