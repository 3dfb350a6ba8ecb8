/* statecheck: test helpers that check the state's canonical caches. */
#ifndef TH_STATECHECK_H
#define TH_STATECHECK_H

#include "state.h"

/* The hash of a clone of s with every section and task cache marked stale,
 * so it is computed from nothing: what a correct incremental hash must
 * equal. */
void th_scratch_hash(const sw_state_t *s, char hex[65]);

/* A populated state as a reducer would leave it: a council of `members`,
 * `tasks` tasks (plus two with non-ASCII ids whose JCS order differs from
 * code point order), maps, sets and sources. Caller owns. */
sw_state_t *th_state_typical(size_t members, size_t tasks);

#endif
