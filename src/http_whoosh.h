/* http_whoosh: the WHOOSH/CHORUS-compatible endpoints (SPEC §7).
 *
 *   POST /api/v1/opportunities/council   → COUNCIL_PROFILES_LOADED
 *   POST /api/v1/councils/{id}/claims    → COUNCIL_ROLE_CLAIMED
 *   GET  /api/v1/tasks[?status=…]        read of Execution.Tasks
 *   POST /api/v1/tasks                   → EXECUTION_TASK_CREATED
 *   POST /api/v1/tasks/{id}/claim        → EXECUTION_TASK_CLAIMED
 *   POST /api/v1/tasks/{id}/complete     → EXECUTION_TASK_COMPLETE
 *
 * Each POST is translated into exactly one proposal — signer = the body's
 * agent_id, or "whoosh-adapter" when no agent is involved; idem_key = the
 * Idempotency-Key header, else "derived:" + hex SHA-256 of
 * METHOD " " path "\n" JCS(body); no hlc (the executor stamps one) — and
 * submitted through the same path as POST /transition, so answers, guards,
 * idempotency and errors are those of SPEC §6. GET /api/v1/tasks reads the
 * executor's published view only. docs/CHORUS.md documents the mapping.
 */
#ifndef SW_HTTP_WHOOSH_H
#define SW_HTTP_WHOOSH_H

#include "http.h"
#include "http_api.h"

/* The signer of adapter proposals that no agent signs (SPEC §7). */
#define SW_WHOOSH_SIGNER "whoosh-adapter"

/* Registers the SPEC §7 routes on `srv`; `api` is borrowed and passed to
 * every handler. Called from http_api.c's table of route sets. */
void sw_whoosh_routes(sw_api_t *api, sw_http_t *srv);

#endif
