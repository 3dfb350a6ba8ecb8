/* canon_parse: a jansson builder for the canonical subset of JSON (see
 * canon.h). No whitespace, escapes, reals or unsorted keys to handle, so one
 * pass over the bytes builds the values with no lexer state. */
#include "canon.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static json_t *parse_value(const char **pp, const char *end, int depth);

/* A string of printable ASCII without escapes; *s and *n point into the
 * text, *pp moves past the closing quote. */
static bool parse_string(const char **pp, const char *end, const char **s,
                         size_t *n)
{
    const char *p = *pp;
    if (p >= end || *p != '"')
        return false;
    const char *start = ++p;
    while (p < end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c > 0x7e || c == '\\')
            return false;
        p++;
    }
    if (p >= end)
        return false;
    *s = start;
    *n = (size_t)(p - start);
    *pp = p + 1;
    return true;
}

/* True when key b sorts strictly after key a by bytes (for printable ASCII
 * the same order as JCS's UTF-16 code units). */
static bool key_after(const char *a, size_t an, const char *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int c = memcmp(a, b, m);
    return c < 0 || (c == 0 && an < bn);
}

static json_t *parse_object(const char **pp, const char *end, int depth)
{
    const char *p = *pp + 1; /* past '{' */
    json_t *o = json_object();
    const char *prev = NULL;
    size_t prev_n = 0;
    if (p < end && *p == '}') {
        *pp = p + 1;
        return o;
    }
    for (;;) {
        const char *k;
        size_t kn;
        if (!parse_string(&p, end, &k, &kn) || p >= end || *p != ':')
            goto fail;
        /* Unsorted or duplicate keys leave the subset: jansson judges. */
        if (prev && !key_after(prev, prev_n, k, kn))
            goto fail;
        prev = k;
        prev_n = kn;
        p++;
        json_t *v = parse_value(&p, end, depth + 1);
        if (!v)
            goto fail;
        if (json_object_setn_new_nocheck(o, k, kn, v) != 0)
            goto fail;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '}') {
            *pp = p + 1;
            return o;
        }
        goto fail;
    }
fail:
    json_decref(o);
    return NULL;
}

static json_t *parse_array(const char **pp, const char *end, int depth)
{
    const char *p = *pp + 1; /* past '[' */
    json_t *a = json_array();
    if (p < end && *p == ']') {
        *pp = p + 1;
        return a;
    }
    for (;;) {
        json_t *v = parse_value(&p, end, depth + 1);
        if (!v || json_array_append_new(a, v) != 0)
            goto fail;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == ']') {
            *pp = p + 1;
            return a;
        }
        goto fail;
    }
fail:
    json_decref(a);
    return NULL;
}

/* An integer of at most 18 digits (so it cannot overflow int64), with no
 * leading zero, no "-0" and no fraction or exponent. */
static json_t *parse_integer(const char **pp, const char *end)
{
    const char *p = *pp;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    const char *d = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    size_t n = (size_t)(p - d);
    if (n == 0 || n > 18 || (d[0] == '0' && (n > 1 || neg)))
        return NULL;
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
        return NULL;
    long long v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (d[i] - '0');
    *pp = p;
    return json_integer(neg ? -v : v);
}

static bool parse_word(const char **pp, const char *end, const char *w,
                       size_t n)
{
    if ((size_t)(end - *pp) < n || memcmp(*pp, w, n) != 0)
        return false;
    *pp += n;
    return true;
}

static json_t *parse_value(const char **pp, const char *end, int depth)
{
    if (*pp >= end || depth > SW_CANON_PARSE_DEPTH)
        return NULL;
    switch (**pp) {
    case '{':
        return parse_object(pp, end, depth);
    case '[':
        return parse_array(pp, end, depth);
    case '"': {
        const char *s;
        size_t n;
        if (!parse_string(pp, end, &s, &n))
            return NULL;
        return json_stringn_nocheck(s, n);
    }
    case 't':
        return parse_word(pp, end, "true", 4) ? json_true() : NULL;
    case 'f':
        return parse_word(pp, end, "false", 5) ? json_false() : NULL;
    case 'n':
        return parse_word(pp, end, "null", 4) ? json_null() : NULL;
    default:
        if (**pp == '-' || (**pp >= '0' && **pp <= '9'))
            return parse_integer(pp, end);
        return NULL;
    }
}

/* Replaying a long log spends most of its time parsing proposals that the
 * executor wrote as canonical JSON (SPEC §1.5, §4); this builds the same
 * values as jansson for that subset in one pass, and declines anything else
 * so that jansson stays the judge of what is valid JSON. */
json_t *sw_canon_parse_subset(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    json_t *v = parse_value(&p, end, 0);
    if (v && p == end)
        return v;
    json_decref(v);
    return NULL;
}
