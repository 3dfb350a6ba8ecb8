/* fuzz: the seeded mutation engine of the fuzz tests (test_proposal_fuzz,
 * test_decode_fuzz, test_http_fuzz).
 *
 * A xorshift64 sequence drives every choice, so a failing case number is
 * reproducible. It starts from a constant, or from SWOOSH_FUZZ_SEED; and
 * SWOOSH_FUZZ_SCALE multiplies every test's rounds (`make fuzz` sets both
 * for a longer campaign under the sanitizers). th_fuzz_mutate() copies a seed
 * and either applies one to three "gentle" edits, which the caller defines so
 * that many mutants stay well-formed, or one to four structural ones (replace,
 * delete, insert a token, truncate, duplicate, swap).
 */
#ifndef TH_FUZZ_H
#define TH_FUZZ_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The next value of the process-wide sequence. */
uint64_t th_fuzz_next(void);
/* A test's round count: dflt times SWOOSH_FUZZ_SCALE (default 1). Reports
 * the seed and the rounds on stderr when either variable is set. */
size_t th_fuzz_rounds(size_t dflt);
/* A value in [0, n); 0 when n is 0. */
size_t th_fuzz_below(size_t n);

/* Replaces out[at, at+k) by the n bytes at p (out stays NUL-terminated). */
void th_fuzz_splice(sw_buf_t *out, size_t at, size_t k, const char *p,
                    size_t n);

typedef struct th_mutator {
    /* Spliced in by structural mutations, besides JSON's own punctuation
     * and literals (" \\ { } [ ] , : null true false -0). */
    const char *const *tokens;
    size_t n_tokens;
    /* Gentle edit at `at` (< out->len): changes the text there when the
     * format tolerates it and returns true; false leaves it alone. */
    bool (*gentle)(sw_buf_t *out, size_t at);
} th_mutator_t;

/* Writes a mutant of in[0, len) into out: in a third of the cases one to
 * three gentle edits, otherwise one to four structural ones. */
void th_fuzz_mutate(sw_buf_t *out, const char *in, size_t len,
                    const th_mutator_t *m);

#endif
