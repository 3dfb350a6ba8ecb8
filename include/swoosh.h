/**
 * @file swoosh.h
 * @brief The public API of libswoosh, the deterministic coordination core of
 *        SWOOSH-C.
 *
 * SWOOSH applies catalogued *transition proposals* to one in-memory state with
 * a pure reducer. Its state is identified by a hash anyone can recompute:
 * lowercase hex SHA-256 of the RFC 8785 (JCS) canonical JSON of the state's
 * projection (SPEC §3). This header is the contract for embedders and tools:
 * compute the genesis state, load a projection, and hash it.
 *
 * Threads: every function here is re-entrant; a given swoosh_state_t must not
 * be used from two threads at once without external locking.
 */
#ifndef SWOOSH_H
#define SWOOSH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SWOOSH_API __attribute__((visibility("default")))
#else
#define SWOOSH_API
#endif

/* ---------------------------------------------------------------- version */

#define SWOOSH_VERSION_MAJOR 0
#define SWOOSH_VERSION_MINOR 1
#define SWOOSH_VERSION_PATCH 0
/** Format version written into the WAL `meta` table and snapshots. */
#define SWOOSH_FORMAT_VERSION 1

/**
 * @brief The library version as "MAJOR.MINOR.PATCH".
 * @return A static string; never NULL.
 */
SWOOSH_API const char *swoosh_version(void);

/* ----------------------------------------------------------------- errors */

/**
 * System error codes (not proposal rejections, which are data). Rows:
 * X(name, default message).
 */
#define SWOOSH_ERR_MAP(X)                                                      \
    X(OK, "success")                                                           \
    X(EINVAL, "invalid argument")                                              \
    X(ENOMEM, "out of memory")                                                 \
    X(EIO, "input/output error")                                               \
    X(ECORRUPT, "corrupt or unreadable data")                                  \
    X(EFORMAT, "incompatible format or genesis")                               \
    X(EDIVERGED, "the log diverges from the recomputed state")                 \
    X(ESTORAGE, "storage has failed; restart required")                        \
    X(EBUSY, "resource busy or queue full")                                    \
    X(ENOTFOUND, "not found")

/** System error codes; SWOOSH_OK is 0. */
typedef enum swoosh_err {
#define SWOOSH_ERR_ENUM(name, msg) SWOOSH_##name,
    SWOOSH_ERR_MAP(SWOOSH_ERR_ENUM)
#undef SWOOSH_ERR_ENUM
} swoosh_err_t;

/** Bytes of an error or rejection sentence, NUL included. */
#define SWOOSH_MSG_SIZE 256

/**
 * Error context filled by fallible calls (nullable last parameter). Each
 * layer prepends its context, e.g. "snapshot: rename …: No space left".
 */
typedef struct swoosh_error {
    swoosh_err_t code;         /**< what failed */
    int sys_errno;             /**< saved errno, 0 if none */
    char msg[SWOOSH_MSG_SIZE]; /**< sentence with context, NUL-terminated */
} swoosh_error;

/**
 * @brief The default sentence for a system error code.
 * @param[in] code a swoosh_err_t
 * @return A static string; "unknown error" for values outside the table.
 */
SWOOSH_API const char *swoosh_strerror(swoosh_err_t code);

/**
 * @brief The stable name ("SWOOSH_EIO") of a system error code.
 * @return A static string; never NULL.
 */
SWOOSH_API const char *swoosh_err_name(swoosh_err_t code);

/* ------------------------------------------------------------------ state */

/** Bytes of a hash in text: 64 lowercase hex digits of SHA-256 and a NUL. */
#define SWOOSH_HASH_HEX_SIZE 65

/** An orchestrator state (SPEC §3). Opaque. */
typedef struct swoosh_state swoosh_state_t;

/**
 * @brief Creates the built-in genesis state (SPEC §3 defaults).
 * @return A new state; caller owns, free with swoosh_state_free(). Never NULL
 *         (allocation failure aborts).
 */
SWOOSH_API swoosh_state_t *swoosh_state_new_genesis(void);

/**
 * @brief Parses and validates a projection (the JSON object of GET /state's
 *        `projection`, a genesis file, or a snapshot's `state`).
 * @param[in]  json  bytes of a JSON object; need not be NUL-terminated
 * @param[in]  len   number of bytes
 * @param[out] err   nullable; on failure names the bad field, e.g.
 *                   "Council.Quorum: expected an integer 0..4096"
 * @return A new state (caller owns, free with swoosh_state_free()), or NULL
 *         with err->code SWOOSH_ECORRUPT (bad JSON) or SWOOSH_EINVAL (a field
 *         out of its rules).
 */
SWOOSH_API swoosh_state_t *swoosh_state_from_json(const char *json, size_t len,
                                                  swoosh_error *err);

/**
 * @brief Frees a state. swoosh_state_free(NULL) is a no-op.
 */
SWOOSH_API void swoosh_state_free(swoosh_state_t *state);

/**
 * @brief The RFC 8785 canonical JSON of the state's projection.
 * @param[in]  state the state; its serialisation caches are refreshed
 * @param[out] len   nullable; receives the number of bytes
 * @return Borrowed bytes, NUL-terminated, valid until the state is next
 *         changed or freed.
 */
SWOOSH_API const char *swoosh_state_canonical(swoosh_state_t *state,
                                              size_t *len);

/**
 * @brief The state hash: lowercase hex SHA-256 of the canonical JSON of the
 *        projection (the seed's ComputeStateHash).
 * @param[in]  state the state; its serialisation caches are refreshed (only
 *                   sections and tasks changed since the last call are
 *                   re-serialised)
 * @param[out] hex   65 bytes: 64 hex digits and a NUL
 */
SWOOSH_API void swoosh_state_hash(swoosh_state_t *state,
                                  char hex[SWOOSH_HASH_HEX_SIZE]);

/**
 * @brief Hashes a projection given as JSON text. Accepts a bare projection or
 *        a GET /state response (an object with a `projection` member).
 * @param[in]  json bytes of JSON
 * @param[in]  len  number of bytes
 * @param[out] hex  65 bytes: the hash and a NUL
 * @param[out] err  nullable; filled on failure
 * @return SWOOSH_OK, SWOOSH_ECORRUPT or SWOOSH_EINVAL.
 */
SWOOSH_API swoosh_err_t swoosh_hash_json(const char *json, size_t len,
                                         char hex[SWOOSH_HASH_HEX_SIZE],
                                         swoosh_error *err);

/**
 * @brief Hex SHA-256 of arbitrary bytes (lowercase).
 * @param[in]  data bytes
 * @param[in]  len  number of bytes
 * @param[out] hex  65 bytes: the hash and a NUL
 */
SWOOSH_API void swoosh_sha256_hex(const void *data, size_t len,
                                  char hex[SWOOSH_HASH_HEX_SIZE]);

#ifdef __cplusplus
}
#endif
#endif /* SWOOSH_H */
