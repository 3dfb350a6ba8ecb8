/* statecheck: test helpers that check the state's canonical caches. */
#ifndef TH_STATECHECK_H
#define TH_STATECHECK_H

#include "state.h"

/* The hash of a clone of s with every section and task cache marked stale,
 * so it is computed from nothing: what a correct incremental hash must
 * equal. */
void th_scratch_hash(const sw_state_t *s, char hex[65]);

#endif
