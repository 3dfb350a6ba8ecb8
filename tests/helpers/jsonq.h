/* jsonq: asserting JSON accessors and GET /health queries for the HTTP
 * integration tests (cmocka: a missing or mistyped member fails the calling
 * test, like the inline checks these replace). */
#ifndef TH_JSONQ_H
#define TH_JSONQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The string member k of o; fails the test when absent or not a string.
 * Borrowed from o. */
const char *th_jstr(const json_t *o, const char *k);
/* The integer member k of o; fails the test when absent or not an
 * integer. */
uint64_t th_jint(const json_t *o, const char *k);
/* True for 64 lowercase hex digits (a SPEC state hash). */
bool th_is_hex64(const char *h);
/* GET /health must answer 200; returns its state_hash (caller owns, free
 * with free()). */
char *th_health_hash(int port);
/* GET /health must answer 200; returns its index. */
uint64_t th_health_index(int port);

#endif
