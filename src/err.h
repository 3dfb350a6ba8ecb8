/* err: the two code tables of SWOOSH-C and the error context that travels up.
 *
 * System failures (memory, I/O, corrupt files) are `swoosh_err_t` codes with a
 * `swoosh_error` context. Rejections of proposals are *data*: an `sw_code_t`
 * from the rejection table below, each row naming its HTTP status. Both tables
 * are X-macros so the enum, names, statuses and docs/ERRORS.md come from one
 * place (libuv's UV_ERRNO_MAP idea).
 */
#ifndef SW_ERR_H
#define SW_ERR_H

#include "swoosh.h"

#include <stdio.h>
#include <stdlib.h>

/* Rejection / API error codes: X(NAME, http_status, default sentence).
 * The order of rows is documentation order, not evaluation order. */
#define SW_CODE_MAP(X)                                                         \
    X(OK, 200, "ok")                                                           \
    X(MALFORMED_JSON, 400, "the body is not a well-formed JSON object")        \
    X(UNKNOWN_FIELD, 400, "the proposal has a field the API does not know")    \
    X(MISSING_FIELD, 400, "a required field is missing")                       \
    X(BAD_FIELD, 400, "a field has the wrong type, format or length")          \
    X(UNKNOWN_TRANSITION, 400, "the transition is not in the catalog")         \
    X(BAD_PAYLOAD, 400, "the payload does not match the transition's inputs")  \
    X(INPUTS_HASH_MISMATCH, 400, "inputs_hash is not SHA-256 of JCS(payload)") \
    X(IDEMPOTENCY_CONFLICT, 409,                                               \
      "the idem_key was used for a different proposal")                        \
    X(STATE_HASH_MISMATCH, 409, "current_state_hash is not the current hash")  \
    X(HLC_SKEW, 400, "the HLC is too far ahead of the server clock")           \
    X(PAUSED, 400, "the system is paused")                                     \
    X(QUARANTINED, 400, "the system is quarantined")                           \
    X(NOT_LICENSED, 400, "the node is not licensed")                           \
    X(UNAUTHORIZED_SIGNER, 403, "the signer is not an admin")                  \
    X(POLICY_VIOLATION, 400, "policy violation: the system is quarantined")    \
    X(GUARD_REJECTED, 400, "a required guard rejected the transition")         \
    X(WINDOW_MISMATCH, 400, "window_id is not the active window")              \
    X(INVALID_PHASE, 400, "the transition is not allowed in this phase")       \
    X(COUNCIL_MISMATCH, 400, "council_id is not the current council")          \
    X(UNKNOWN_ROLE, 400, "the role is not planned")                            \
    X(ROLE_TAKEN, 400, "the role is already held")                             \
    X(ALREADY_MEMBER, 400, "the agent already holds a role")                   \
    X(NOT_A_MEMBER, 400, "the agent is not a council member")                  \
    X(QUORUM_NOT_REACHED, 400, "the council has no quorum")                    \
    X(NO_QUORUM_CERT, 400, "no quorum certificate is recorded")                \
    X(NOT_READY, 400, "a section this transition depends on is not ready")     \
    X(TASK_EXISTS, 400, "a task with this id exists")                          \
    X(UNKNOWN_TASK, 400, "no task has this id")                                \
    X(TASK_NOT_OPEN, 400, "the task is not OPEN")                              \
    X(TASK_NOT_CLAIMED, 400, "the task is not CLAIMED")                        \
    X(NOT_CLAIMANT, 400, "the agent is not the task's claimant")               \
    X(ALREADY_APPROVED, 400, "the signer has already approved")                \
    X(APPROVALS_BELOW_THRESHOLD, 400, "approvals are below the threshold")     \
    X(DEGRADED, 400, "the system is degraded")                                 \
    X(RECOVERING, 400, "the system is recovering")                             \
    X(LIMIT_EXCEEDED, 400, "a size bound would be exceeded")                   \
    X(UNAUTHORIZED, 401, "a valid bearer token is required")                   \
    X(NOT_FOUND, 404, "no such route")                                         \
    X(METHOD_NOT_ALLOWED, 405, "the method is not allowed on this route")      \
    X(BODY_TOO_LARGE, 413, "the body exceeds 64 KiB")                          \
    X(UNSUPPORTED_MEDIA_TYPE, 415, "the body must be application/json")        \
    X(BAD_FRAMING, 400,                                                        \
      "the body's length is given twice (Content-Length and "                  \
      "Transfer-Encoding, or two Content-Lengths)")                            \
    X(UNSUPPORTED_TRANSFER_ENCODING, 501,                                      \
      "only the chunked transfer coding is supported")                         \
    X(OVERLOADED, 503, "the executor queue is full; retry later")              \
    X(STORAGE_UNAVAILABLE, 503, "storage failed; the node needs a restart")    \
    X(SHUTTING_DOWN, 503, "the server is shutting down")                       \
    X(INTERNAL, 500, "internal error")

typedef enum sw_code {
#define SW_CODE_ENUM(name, status, msg) SW_C_##name,
    SW_CODE_MAP(SW_CODE_ENUM)
#undef SW_CODE_ENUM
        SW_C__COUNT
} sw_code_t;

/* The stable name ("INVALID_PHASE") of a code. Never NULL. */
const char *sw_code_name(sw_code_t c);
/* The HTTP status of a code. */
int sw_code_status(sw_code_t c);
/* The default sentence of a code. */
const char *sw_code_message(sw_code_t c);
/* Looks a code up by name; returns SW_C__COUNT when unknown. */
sw_code_t sw_code_by_name(const char *name);

/* Longest stretch of client text (a key, a name) quoted in a message. */
#define SW_QUOTE_MAX 64
/* Writes a printable-ASCII rendering of `s` (n bytes) into `out` (room for
 * max + 4 bytes), so that a rejection message stays one short line of valid
 * UTF-8 whatever the client sent: other bytes become '?', and text longer
 * than `max` is cut with "...". */
void sw_quote(char *out, size_t max, const char *s, size_t n);

/* Fills `err` (nullable) with code, errno and a printf-style message. Returns
 * `code` so callers can `return sw_error_set(err, ...)`. */
swoosh_err_t sw_error_set(swoosh_error *err, swoosh_err_t code, int sys_errno,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prepends "context: " to the message already in `err` (nullable). */
void sw_error_prefix(swoosh_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Invariant check: always on, aborts with expression and location. Never use
 * it to validate input. */
#define SW_ASSERT(expr)                                                        \
    do {                                                                       \
        if (!(expr)) {                                                         \
            fprintf(stderr, "swoosh: assertion failed: %s (%s:%d)\n", #expr,   \
                    __FILE__, __LINE__);                                       \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif
