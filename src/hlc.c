/* hlc: parse, format, order and stamp hybrid logical clocks (see hlc.h). */
#include "hlc.h"

#include <string.h>

/* Parses a canonical unsigned decimal of at most `max_digits` digits that
 * fits in `limit`: no sign, no leading zero (except "0" itself). */
static bool parse_dec(const char *s, size_t n, size_t max_digits,
                      uint64_t limit, uint64_t *out)
{
    if (n == 0 || n > max_digits)
        return false;
    if (s[0] == '0' && n > 1)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Parses exactly 16 lowercase hex digits. */
static bool parse_node16(const char *s, size_t n, uint64_t *out)
{
    if (n != 16)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < 16; i++) {
        char c = s[i];
        uint64_t d;
        if (c >= '0' && c <= '9')
            d = (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint64_t)(c - 'a' + 10);
        else
            return false;
        v = (v << 4) | d;
    }
    *out = v;
    return true;
}

/* SPEC §2 fixes one canonical spelling per HLC so that Meta.HLCLast, and
 * with it the state hash, never depends on how a client wrote its stamp;
 * anything else is rejected rather than normalised. */
bool sw_hlc_parse(const char *s, size_t n, sw_hlc_t *out)
{
    if (!s)
        return false;
    const char *d1 = memchr(s, '-', n);
    if (!d1)
        return false;
    size_t n1 = (size_t)(d1 - s);
    const char *rest = d1 + 1;
    size_t nrest = n - n1 - 1;
    const char *d2 = memchr(rest, '-', nrest);
    if (!d2)
        return false;
    size_t n2 = (size_t)(d2 - rest);
    const char *node = d2 + 1;
    size_t n3 = nrest - n2 - 1;
    uint64_t p, l, nd;
    if (!parse_dec(s, n1, 20, UINT64_MAX, &p) ||
        !parse_dec(rest, n2, 10, UINT32_MAX, &l) ||
        !parse_node16(node, n3, &nd))
        return false;
    out->p = p;
    out->l = (uint32_t)l;
    out->node = nd;
    return true;
}

/* Writes the decimal digits of v at out; returns how many. */
static size_t put_dec(char *out, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, tmp + i, sizeof(tmp) - i);
    return sizeof(tmp) - i;
}

/* Writes the one canonical form the parser accepts (SPEC §2). */
size_t sw_hlc_format(const sw_hlc_t *h, char out[SW_HLC_STRLEN])
{
    static const char hexd[] = "0123456789abcdef";
    size_t n = put_dec(out, h->p);
    out[n++] = '-';
    n += put_dec(out + n, h->l);
    out[n++] = '-';
    for (int k = 15; k >= 0; k--)
        out[n++] = hexd[(h->node >> (4 * k)) & 0xf];
    out[n] = '\0';
    return n;
}

/* SPEC §2 orders HLCs by (P, L, N) numerically. */
int sw_hlc_cmp(const sw_hlc_t *a, const sw_hlc_t *b)
{
    if (a->p != b->p)
        return a->p < b->p ? -1 : 1;
    if (a->l != b->l)
        return a->l < b->l ? -1 : 1;
    if (a->node != b->node)
        return a->node < b->node ? -1 : 1;
    return 0;
}

/* Meta.HLCLast = max(HLCLast, proposal.hlc) (SPEC §2 HLC rule). */
sw_hlc_t sw_hlc_max(const sw_hlc_t *a, const sw_hlc_t *b)
{
    return sw_hlc_cmp(a, b) >= 0 ? *a : *b;
}

/* SPEC §4 server stamp. When the logical counter would overflow 2^32-1 the
 * physical part moves on by one ms instead (and, in the absurd case of
 * P = 2^64-1 as well, the stamp saturates), so stamps never go backwards. */
sw_hlc_t sw_hlc_stamp(const sw_hlc_t *last, uint64_t now_ms, uint64_t node)
{
    sw_hlc_t h;
    h.node = node;
    if (now_ms > last->p) {
        h.p = now_ms;
        h.l = 0;
    } else if (last->l < UINT32_MAX) {
        h.p = last->p;
        h.l = last->l + 1;
    } else if (last->p < UINT64_MAX) {
        h.p = last->p + 1;
        h.l = 0;
    } else {
        h.p = last->p;
        h.l = last->l;
    }
    return h;
}

/* SWOOSH_NODE_ID and the node part of an HLC share one format (SPEC §4). */
bool sw_hlc_parse_node(const char *s, uint64_t *out)
{
    if (!s)
        return false;
    return parse_node16(s, strlen(s), out);
}
