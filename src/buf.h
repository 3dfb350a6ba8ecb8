/* buf: a growable byte buffer, the one container every serialiser writes to.
 *
 * A sw_buf_t owns its bytes. It is always NUL-terminated after `len` bytes (so
 * `data` can be used as a C string when the content has no NUL), and an
 * allocation failure aborts: SWOOSH treats out-of-memory as fatal, like Redis.
 */
#ifndef SW_BUF_H
#define SW_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sw_buf {
    char *data; /* owned; NULL until the first append */
    size_t len; /* bytes in use, excluding the NUL terminator */
    size_t cap; /* bytes allocated */
} sw_buf_t;

#define SW_BUF_INIT                                                            \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Ensures room for `extra` more bytes plus the terminator. */
void sw_buf_reserve(sw_buf_t *b, size_t extra);
void sw_buf_append(sw_buf_t *b, const void *p, size_t n);
void sw_buf_puts(sw_buf_t *b, const char *s);
void sw_buf_putc(sw_buf_t *b, char c);
/* Appends the decimal form of `v`. */
void sw_buf_put_u64(sw_buf_t *b, uint64_t v);
/* The inverse, strictly: true when all of `s` is decimal digits (at least
 * one; no sign, spaces or suffix) of a value that fits in a uint64_t. */
bool sw_parse_u64(const char *s, uint64_t *out);

/* FNV-1a (64 bit) of a NUL-terminated string: a fast, well-spread hash for
 * in-memory tables; not for anything an attacker must not collide. */
uint64_t sw_fnv1a64(const char *s);
/* printf-style append. */
void sw_buf_printf(sw_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its allocation. */
void sw_buf_reset(sw_buf_t *b);
/* Frees the bytes; the buffer is SW_BUF_INIT afterwards. */
void sw_buf_free(sw_buf_t *b);
/* Returns the bytes and leaves the buffer empty; caller owns, free with free().
 */
char *sw_buf_steal(sw_buf_t *b, size_t *len);

/* Out-of-memory aborts the process (a deliberate policy; see ARCHITECTURE). */
void *sw_xmalloc(size_t n);
void *sw_xcalloc(size_t n, size_t size);
void *sw_xrealloc(void *p, size_t n);
char *sw_xstrdup(const char *s);
char *sw_xstrndup(const char *s, size_t n);

#endif
