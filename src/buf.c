/* buf: growable byte buffer and allocation helpers (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Out-of-memory is not recoverable for a state machine that must stay
 * consistent: abort loudly rather than limp on. */
static void oom(size_t n)
{
    fprintf(stderr, "swoosh: out of memory allocating %zu bytes\n", n);
    abort();
}

/* Allocation that cannot fail to the caller (see oom); 0 bytes still gives
 * a unique pointer, so callers never special-case empty sizes. */
void *sw_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

/* Zeroed allocation with the same never-NULL rule. */
void *sw_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

/* Growth with the same never-NULL rule (the old block stays valid only on
 * success, and failure aborts). */
void *sw_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

/* Owned copies of borrowed strings (configuration, proposal fields). */
char *sw_xstrdup(const char *s)
{
    return sw_xstrndup(s, strlen(s));
}

/* The first n bytes of s as an owned, NUL-terminated string. */
char *sw_xstrndup(const char *s, size_t n)
{
    char *p = sw_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Room for `extra` more bytes plus the terminating NUL, doubling so that a
 * buffer built byte by byte costs amortised O(1) per byte. */
void sw_buf_reserve(sw_buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = sw_xrealloc(b->data, cap);
    b->cap = cap;
}

/* Every writer ends here, so the contents are always NUL-terminated and may
 * be handed to C string functions (they may contain NULs for binary use). */
void sw_buf_append(sw_buf_t *b, const void *p, size_t n)
{
    sw_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* A C string without its terminator. */
void sw_buf_puts(sw_buf_t *b, const char *s)
{
    sw_buf_append(b, s, strlen(s));
}

/* One byte: the canonical writers emit many punctuation bytes, so this
 * skips memcpy. */
void sw_buf_putc(sw_buf_t *b, char c)
{
    sw_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

/* Decimal without printf: JCS integers and indexes are written on every
 * transition and every record. */
void sw_buf_put_u64(sw_buf_t *b, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sw_buf_append(b, tmp + i, sizeof(tmp) - (size_t)i);
}

/* Numbers from flags, environment variables and query strings: strtoull
 * would take " -1" as 2^64-1, "+3" as 3 and "5x" as 5. */
bool sw_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Formatted text for messages and bodies; short results (the usual case)
 * are formatted once on the stack. */
void sw_buf_printf(sw_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        sw_buf_append(b, small, (size_t)n);
        return;
    }
    sw_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Empties the buffer but keeps its memory, for buffers reused per batch. */
void sw_buf_reset(sw_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Releases the memory and leaves an empty, reusable buffer. */
void sw_buf_free(sw_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Hands the bytes to the caller (free with free()), e.g. as a response
 * body libmicrohttpd frees, and leaves an empty buffer. */
char *sw_buf_steal(sw_buf_t *b, size_t *len)
{
    if (!b->data)
        sw_buf_reserve(b, 0);
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

/* The idempotency tables (the executor's per-batch table and the log's
 * filter) hash keys the same way, with one definition. */
uint64_t sw_fnv1a64(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}
