/* canon: RFC 8785 canonical JSON for SWOOSH's value space (see canon.h). */
#include "canon.h"

#include "hash.h"

#include <stdlib.h>
#include <string.h>

/* Largest integer JCS can carry exactly (an IEEE-754 double's 2^53-1). */
#define SW_CANON_MAX_INT 9007199254740991LL

/* For each byte: 0 = copy literally, otherwise the letter of its short
 * escape, or 'u' for \u00xx. */
static const char escape_of[256] = {
    ['\b'] = 'b', ['\f'] = 'f',  ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
    ['"'] = '"',  ['\\'] = '\\', [0x00] = 'u', [0x01] = 'u', [0x02] = 'u',
    [0x03] = 'u', [0x04] = 'u',  [0x05] = 'u', [0x06] = 'u', [0x07] = 'u',
    [0x0b] = 'u', [0x0e] = 'u',  [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u',
    [0x12] = 'u', [0x13] = 'u',  [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
    [0x17] = 'u', [0x18] = 'u',  [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',
    [0x1c] = 'u', [0x1d] = 'u',  [0x1e] = 'u', [0x1f] = 'u',
};

/* RFC 8785 §3.2.2.2: escape only '"', '\\' and the C0 controls, the
 * latter with the short forms where JSON has them and \u00xx (lowercase)
 * otherwise; every other code point, 0x7F and U+2028 included, is written
 * as its UTF-8 bytes. Runs of literal bytes are copied in one go. */
void sw_canon_string(sw_buf_t *out, const char *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    sw_buf_reserve(out, n + 2);
    sw_buf_putc(out, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        char e = escape_of[(unsigned char)s[i]];
        if (!e)
            continue;
        sw_buf_append(out, s + start, i - start);
        if (e == 'u') {
            char u[6] = {'\\',
                         'u',
                         '0',
                         '0',
                         hexd[((unsigned char)s[i]) >> 4],
                         hexd[s[i] & 0xf]};
            sw_buf_append(out, u, sizeof(u));
        } else {
            char q[2] = {'\\', e};
            sw_buf_append(out, q, sizeof(q));
        }
        start = i + 1;
    }
    sw_buf_append(out, s + start, n - start);
    sw_buf_putc(out, '"');
}

/* Convenience for the state's C strings, which are never NULL by
 * convention; NULL is still tolerated and written as "". */
void sw_canon_cstr(sw_buf_t *out, const char *s)
{
    if (!s)
        s = "";
    sw_canon_string(out, s, strlen(s));
}

/* True for the lead byte of U+E000..U+FFFF (UTF-8 EE xx xx, EF xx xx). */
static int lead_is_high_bmp(unsigned char c)
{
    return c == 0xee || c == 0xef;
}

/* RFC 8785 §3.2.3 sorts members by UTF-16 code units. For valid UTF-8,
 * byte order equals code point order, and code point order equals UTF-16
 * order except between U+E000..U+FFFF (one unit >= 0xE000) and the
 * supplementary planes (a surrogate pair starting 0xD800..0xDBFF): there
 * UTF-16 puts the supplementary character first. So compare bytes, and at
 * the first differing code point fix up exactly that case. */
int sw_canon_keycmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a;
    const unsigned char *y = (const unsigned char *)b;
    size_t i = 0;
    while (x[i] && x[i] == y[i])
        i++;
    if (x[i] == y[i])
        return 0;
    /* When the difference sits inside a multi-byte sequence both sides
     * share its lead byte, so they are in the same range and bytes
     * decide. Only when both differing bytes start a code point can the
     * ranges differ. */
    if ((x[i] & 0xc0) != 0x80 && (y[i] & 0xc0) != 0x80) {
        if (lead_is_high_bmp(x[i]) && y[i] >= 0xf0)
            return 1;
        if (x[i] >= 0xf0 && lead_is_high_bmp(y[i]))
            return -1;
    }
    return x[i] < y[i] ? -1 : 1;
}

typedef struct member {
    const char *key;
    json_t *value;
} member_t;

static int member_cmp(const void *p, const void *q)
{
    return sw_canon_keycmp(((const member_t *)p)->key,
                           ((const member_t *)q)->key);
}

static bool canon_object(sw_buf_t *out, const json_t *v)
{
    size_t n = json_object_size(v);
    member_t small[16];
    member_t *m = n <= 16 ? small : sw_xmalloc(n * sizeof(*m));
    size_t k = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        m[k].key = key;
        m[k].value = val;
        k++;
    }
    qsort(m, k, sizeof(*m), member_cmp);
    bool ok = true;
    sw_buf_putc(out, '{');
    for (size_t i = 0; i < k && ok; i++) {
        if (i)
            sw_buf_putc(out, ',');
        sw_canon_cstr(out, m[i].key);
        sw_buf_putc(out, ':');
        ok = sw_canon_json(out, m[i].value);
    }
    sw_buf_putc(out, '}');
    if (m != small)
        free(m);
    return ok;
}

/* JCS (RFC 8785) of a jansson value, restricted to SWOOSH's value space
 * (SPEC §3: integers only, no floats). Integers within ±(2^53-1) print the
 * same as the ECMAScript number serialisation JCS prescribes. */
bool sw_canon_json(sw_buf_t *out, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return canon_object(out, v);
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        sw_buf_putc(out, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sw_buf_putc(out, ',');
            if (!sw_canon_json(out, json_array_get(v, i)))
                return false;
        }
        sw_buf_putc(out, ']');
        return true;
    }
    case JSON_STRING:
        sw_canon_string(out, json_string_value(v), json_string_length(v));
        return true;
    case JSON_INTEGER: {
        json_int_t x = json_integer_value(v);
        if (x > SW_CANON_MAX_INT || x < -SW_CANON_MAX_INT)
            return false;
        if (x < 0) {
            sw_buf_putc(out, '-');
            sw_buf_put_u64(out, (uint64_t)(-x));
        } else {
            sw_buf_put_u64(out, (uint64_t)x);
        }
        return true;
    }
    case JSON_TRUE:
        sw_buf_append(out, "true", 4);
        return true;
    case JSON_FALSE:
        sw_buf_append(out, "false", 5);
        return true;
    case JSON_NULL:
        sw_buf_append(out, "null", 4);
        return true;
    case JSON_REAL:
    default:
        return false;
    }
}

/* inputs_hash and derived idempotency keys are SHA-256 of JCS of a JSON
 * value (SPEC §2, §7). */
bool sw_canon_hash(const json_t *v, char hex[SWOOSH_HASH_HEX_SIZE])
{
    sw_buf_t b = SW_BUF_INIT;
    bool ok = sw_canon_json(&b, v);
    if (ok)
        sw_sha256_hex(b.data, b.len, hex);
    sw_buf_free(&b);
    return ok;
}
