/* fuzz: the seeded mutation engine (see fuzz.h). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* JSON's structure and literals, spliced in besides the caller's tokens. */
static const char *const json_tokens[] = {
    "\"", "\\", "{", "}", "[", "]", ",", ":", "null", "true", "false", "-0",
};
#define N_JSON_TOKENS (sizeof json_tokens / sizeof *json_tokens)

/* xorshift64: fast, and the same sequence on every machine. */
uint64_t th_fuzz_next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
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
