/* wal_record: the canonical JSON of a log record, written by hand and read
 * back by a strict decoder (SPEC §4 record; docs/WAL-FORMAT.md), and the
 * state hash of the record at an index, on any log. */
#include "wal.h"

#include "buf.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void put_bool(sw_buf_t *b, bool v)
{
    if (v)
        sw_buf_append(b, "true", 4);
    else
        sw_buf_append(b, "false", 5);
}

/* The record spells the guards out in JCS (name) order, which is not
 * SW_GUARD_MAP's: a sixth guard would change the log format (and
 * WAL-FORMAT.md), so it has to be added here by hand. */
_Static_assert(SW_GUARD__COUNT == 5, "the WAL record lists five guards");

/* Writes the record by hand: its members and the guards' are in JCS order
 * already, and the proposal arrives canonical, so the result is canonical
 * JSON without building a tree (SPEC §4 record format). */
void sw_wal_encode_record(sw_buf_t *out, uint64_t index, const sw_guards_t *g,
                          sw_outcome_t outcome, const char *proposal_jcs,
                          size_t proposal_len, uint64_t received_at_ms,
                          const char *state_hash)
{
    static const char g1[] = "{\"guards\":{\"BackbeatOK\":";
    sw_buf_append(out, g1, sizeof g1 - 1);
    put_bool(out, g->backbeat_ok);
    sw_buf_append(out, ",\"LicenseOK\":", 13);
    put_bool(out, g->license_ok);
    sw_buf_append(out, ",\"MCPHealthy\":", 14);
    put_bool(out, g->mcp_healthy);
    sw_buf_append(out, ",\"PolicyOK\":", 12);
    put_bool(out, g->policy_ok);
    sw_buf_append(out, ",\"QuorumOK\":", 12);
    put_bool(out, g->quorum_ok);
    sw_buf_append(out, "},\"index\":", 10);
    sw_buf_put_u64(out, index);
    if (outcome == SW_OUT_QUARANTINED)
        sw_buf_puts(out, ",\"outcome\":\"quarantined\",\"proposal\":");
    else
        sw_buf_puts(out, ",\"outcome\":\"applied\",\"proposal\":");
    sw_buf_append(out, proposal_jcs, proposal_len);
    sw_buf_append(out, ",\"received_at_ms\":", 18);
    sw_buf_put_u64(out, received_at_ms);
    sw_buf_append(out, ",\"state_hash\":\"", 15);
    sw_buf_append(out, state_hash, 64);
    sw_buf_append(out, "\"}", 2);
}

typedef struct cursor {
    const char *p, *end;
} cursor_t;

static bool lit(cursor_t *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

static bool boolean(cursor_t *c, bool *v)
{
    if (lit(c, "true")) {
        *v = true;
        return true;
    }
    if (lit(c, "false")) {
        *v = false;
        return true;
    }
    return false;
}

/* Canonical unsigned decimal (no leading zeros, no sign), ≤ 2^53-1. */
static bool parse_u64(const char *p, size_t n, uint64_t *v)
{
    if (n == 0 || n > 16 || (n > 1 && p[0] == '0'))
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(p[i] - '0');
    }
    if (x > ((1ULL << 53) - 1))
        return false;
    *v = x;
    return true;
}

static bool uint_fwd(cursor_t *c, uint64_t *v)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return parse_u64(s, (size_t)(c->p - s), v);
}

static bool decode_fail(char msg[SWOOSH_MSG_SIZE], const char *what)
{
    snprintf(msg, SWOOSH_MSG_SIZE,
             "record is not in the canonical record format (%s)", what);
    return false;
}

/* True when p holds 64 lowercase hex digits. Branch-free over a table:
 * hash digits are random, so a per-character branch mispredicts about half
 * the time (it was most of the cost of decoding a record). */
static bool lower_hex64(const char *p)
{
    static const unsigned char hex[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
        ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
        ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1};
    unsigned ok = 1;
    for (int i = 0; i < 64; i++)
        ok &= hex[(unsigned char)p[i]];
    return ok != 0;
}

/* Splits a record without a JSON parser: the head (guards, index, outcome)
 * is read forwards and the tail (received_at_ms, state_hash) backwards, since
 * only the proposal between them may contain arbitrary keys. Replay reads
 * every record, so this keeps it cheap (SPEC §4 recovery). */
bool sw_wal_decode_record(const char *rec, size_t len, sw_wal_decoded_t *out,
                          char msg[SWOOSH_MSG_SIZE])
{
    cursor_t c = {rec, rec + len};
    memset(out, 0, sizeof *out);
    if (!lit(&c, "{\"guards\":{\"BackbeatOK\":") ||
        !boolean(&c, &out->guards.backbeat_ok) || !lit(&c, ",\"LicenseOK\":") ||
        !boolean(&c, &out->guards.license_ok) || !lit(&c, ",\"MCPHealthy\":") ||
        !boolean(&c, &out->guards.mcp_healthy) || !lit(&c, ",\"PolicyOK\":") ||
        !boolean(&c, &out->guards.policy_ok) || !lit(&c, ",\"QuorumOK\":") ||
        !boolean(&c, &out->guards.quorum_ok) || !lit(&c, "},\"index\":"))
        return decode_fail(msg, "guards");
    if (!uint_fwd(&c, &out->index))
        return decode_fail(msg, "index");
    if (lit(&c, ",\"outcome\":\"applied\""))
        out->outcome = SW_OUT_APPLIED;
    else if (lit(&c, ",\"outcome\":\"quarantined\""))
        out->outcome = SW_OUT_QUARANTINED;
    else
        return decode_fail(msg, "outcome");
    if (!lit(&c, ",\"proposal\":"))
        return decode_fail(msg, "proposal");
    const char *pstart = c.p;

    /* Tail: ,"received_at_ms":N,"state_hash":"<64 hex>"} */
    static const char sh[] = ",\"state_hash\":\"";
    const size_t shl = sizeof sh - 1;
    if ((size_t)(c.end - pstart) < 2 + 64 + shl + 2)
        return decode_fail(msg, "too short");
    const char *e = c.end;
    if (e[-1] != '}' || e[-2] != '"')
        return decode_fail(msg, "end");
    const char *hx = e - 2 - 64;
    if (!lower_hex64(hx))
        return decode_fail(msg, "state_hash");
    memcpy(out->state_hash, hx, 64);
    out->state_hash[64] = '\0';
    const char *q = hx - shl;
    if (q < pstart || memcmp(q, sh, shl) != 0)
        return decode_fail(msg, "state_hash");
    const char *d = q;
    while (d > pstart && d[-1] >= '0' && d[-1] <= '9')
        d--;
    if (!parse_u64(d, (size_t)(q - d), &out->received_at_ms))
        return decode_fail(msg, "received_at_ms");
    static const char ra[] = ",\"received_at_ms\":";
    const size_t ral = sizeof ra - 1;
    if ((size_t)(d - pstart) < ral + 2 || memcmp(d - ral, ra, ral) != 0)
        return decode_fail(msg, "received_at_ms");
    const char *pend = d - ral;
    if (pstart[0] != '{' || pend[-1] != '}')
        return decode_fail(msg, "proposal");
    out->proposal = pstart;
    out->proposal_len = (size_t)(pend - pstart);
    return true;
}

/* ------------------------------------------ a record's hash, any log */

typedef struct hash_at {
    uint64_t index;
    char *hash;
    bool found;
} hash_at_t;

static int take_hash(void *arg, const sw_wal_record_t *rec)
{
    hash_at_t *h = arg;
    if (rec->index == h->index) {
        snprintf(h->hash, SWOOSH_HASH_HEX_SIZE, "%s",
                 rec->state_hash ? rec->state_hash : "");
        h->found = true;
    }
    return 1;
}

/* Snapshots are checked against the record at their index (recovery, swoosh
 * verify); a read from an index returns the next record after a gap, so the
 * index is compared too. */
swoosh_err_t sw_wal_state_hash_at(sw_wal_t *w, uint64_t index,
                                  char hash[SWOOSH_HASH_HEX_SIZE], bool *found,
                                  swoosh_error *err)
{
    hash[0] = '\0';
    hash_at_t h = {index, hash, false};
    swoosh_err_t rc = sw_wal_read_from(w, index, 1, take_hash, &h, err);
    *found = rc == SWOOSH_OK && h.found;
    return rc;
}
