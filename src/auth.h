/* auth: the optional bearer token of SPEC §6.
 *
 * When SWOOSH_API_TOKEN is set, every POST must carry
 * `Authorization: Bearer <token>`; GETs too when SWOOSH_API_TOKEN_READS=1;
 * GET /health never. The comparison takes the same time whatever the
 * presented value (both sides are hashed, then compared in constant time).
 */
#ifndef SW_AUTH_H
#define SW_AUTH_H

#include <stdbool.h>

/* True when `authorization` (the header value, nullable) is
 * "Bearer <token>" (scheme case-insensitive, one or more spaces) and the
 * credential equals `token` (non-empty). */
bool sw_auth_bearer_ok(const char *token, const char *authorization);

#endif
