/* jsonq: asserting JSON accessors and GET /health queries (see jsonq.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "jsonq.h"
#include "server.h"

#include <stdlib.h>
#include <string.h>

/* Answers are checked member by member; a missing member must fail the test
 * at once rather than crash later on a NULL. */
const char *th_jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    assert_non_null(s);
    return s;
}

/* Indexes and counters are JSON integers (SPEC §6); anything else fails. */
uint64_t th_jint(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    assert_true(json_is_integer(v));
    return (uint64_t)json_integer_value(v);
}

/* Every state hash the API reports is SHA-256 in lowercase hex (SPEC §3). */
bool th_is_hex64(const char *h)
{
    if (!h || strlen(h) != 64)
        return false;
    for (const char *p = h; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* Tests compare answers with the server's current hash and index, which
 * GET /health reports. */
char *th_health_hash(int port)
{
    int st = 0;
    json_t *h = th_get_json(port, "/health", &st);
    assert_int_equal(st, 200);
    char *hash = strdup(th_jstr(h, "state_hash"));
    json_decref(h);
    return hash;
}

/* See th_health_hash. */
uint64_t th_health_index(int port)
{
    int st = 0;
    json_t *h = th_get_json(port, "/health", &st);
    assert_int_equal(st, 200);
    uint64_t i = th_jint(h, "index");
    json_decref(h);
    return i;
}
