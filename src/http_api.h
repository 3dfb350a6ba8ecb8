/* http_api: the endpoints of SPEC §6 on top of the http core.
 *
 *   POST /transition, POST /command   submit a proposal (suspends the
 *                                     connection until the executor answers)
 *   GET  /state[?projection=Section]  the view's prebuilt answer
 *   GET  /health                      liveness + storage; 503 when failed
 *   GET  /transitions                 the catalog
 *   GET  /log?from=N&limit=M          audit records from the WAL (read-only,
 *                                     on a reader thread of its own)
 *   GET  /metrics                     Prometheus text
 *
 * Other route files (http_whoosh.c) add their routes through the table of
 * route sets in http_api.c and use the helpers below to answer the SPEC §6
 * way.
 */
#ifndef SW_HTTP_API_H
#define SW_HTTP_API_H

#include "executor.h"
#include "guards.h"
#include "http.h"
#include "metrics.h"
#include "proposal.h"

typedef struct sw_api sw_api_t;

/* `ex` and `metrics` are borrowed and must outlive the API (GET /log reads
 * the executor's log). Starts the GET /log reader thread. Caller owns; free
 * with sw_api_free() after the http server is freed (its drain waits for
 * the reader to answer every suspended GET /log). */
sw_api_t *sw_api_new(sw_executor_t *ex, sw_metrics_t *metrics,
                     sw_guard_provider_t *guards);
void sw_api_free(sw_api_t *api);

/* Registers every route set (this file's and the extension table's) and the
 * SPEC §6 error-body builder on `srv`. */
void sw_api_register(sw_api_t *api, sw_http_t *srv);

/* ---- helpers for route files ---- */

/* The executor (borrowed). */
sw_executor_t *sw_api_executor(sw_api_t *api);

/* Appends the SPEC §6 error body for `code` (msg NULL = the code's default
 * sentence) with the current view's state_hash and quarantined flag. */
void sw_api_error_body(sw_api_t *api, sw_code_t code, const char *msg,
                       sw_buf_t *out);

/* Evaluates guards, submits `p` to the executor and answers `req` when the
 * executor replies (the connection is suspended meanwhile). Takes ownership
 * of *p in every case. */
void sw_api_submit(sw_api_t *api, sw_http_req_t *req, sw_proposal_t *p);

/* Appends `s` as a JSON string literal; invalid UTF-8 becomes U+FFFD so a
 * body is always valid JSON whatever bytes a message quotes. */
void sw_api_json_str(sw_buf_t *out, const char *s);

#endif
