// LABEL: unit
// TIMEOUT: 60
/* test_proposal: parsing and validation of proposals (SPEC §2 and step 1 of
 * SPEC §5). Most cases are rows of one table: a body and the code it must
 * get. A body may use <R:n:text> to repeat `text` n times (long strings,
 * many items, deep nesting); rows with an explicit length are raw bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "buf.h"
#include "catalog.h"
#include "proposal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vector {
    const char *name;
    const char *body;
    size_t len; /* 0: expand the template; else raw bytes */
    sw_code_t want;
    const char *field; /* must occur in the message; NULL: not checked */
} vector_t;

#define B                                                                      \
    "\"transition\":\"LICENSE_REVOKED\",\"signer\":\"s\",\"idem_key\":\"k\""
#define HLC1 "1-0-0000000000000001"
/* python3: hashlib.sha256(b'{"reason":"maintenance"}').hexdigest() */
#define PAUSE_HASH                                                             \
    "c796178d26bfe252c4527bc8e5c100ac73f460d3b6db30e1f979b35407c51bd1"
#define PAUSE_HASH_UPPER                                                       \
    "C796178D26BFE252C4527BC8E5C100AC73F460D3B6DB30E1F979B35407C51BD1"
/* python3: hashlib.sha256(b'{"reason": "maintenance"}').hexdigest(), the
 * hash of a non-canonical rendering */
#define PAUSE_HASH_SPACED                                                      \
    "346cd62845af48ced28db1667f30f0b384dc46d49f7351362b3f386a5d795f30"
/* python3: hashlib.sha256(b'{"task_id":"t1","title":"T"}').hexdigest() */
#define TASK_HASH                                                              \
    "3a2e2a77bffce4326f8b6c99ba63751091a55edd866e76fceb2d97d8aacc6518"
#define PAUSE                                                                  \
    "\"transition\":\"CONTROL_PAUSE\",\"signer\":\"s\",\"idem_key\":\"k\""
#define PAUSE_PL ",\"payload\":{\"reason\":\"maintenance\"}"

static const vector_t vectors[] = {
    /* MALFORMED_JSON: not parseable, not an object, bad bytes, duplicates,
     * nesting. */
    {"empty body", "", 0, SW_C_MALFORMED_JSON, "body"},
    {"whitespace only", "  \n", 0, SW_C_MALFORMED_JSON, "body"},
    {"array body", "[]", 0, SW_C_MALFORMED_JSON, "body"},
    {"string body", "\"x\"", 0, SW_C_MALFORMED_JSON, "body"},
    {"number body", "42", 0, SW_C_MALFORMED_JSON, "body"},
    {"null body", "null", 0, SW_C_MALFORMED_JSON, "body"},
    {"truncated object", "{" B, 0, SW_C_MALFORMED_JSON, "body"},
    {"truncated string", "{\"transition\":\"LICENSE_RE", 0, SW_C_MALFORMED_JSON,
     "body"},
    {"trailing junk", "{" B "} x", 0, SW_C_MALFORMED_JSON, "body"},
    {"two objects", "{" B "}{}", 0, SW_C_MALFORMED_JSON, "body"},
    {"single quotes", "{'transition':'LICENSE_REVOKED'}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"invalid UTF-8 byte 0xff in a value", "{" B ",\"window_id\":\"a\xff\"}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"overlong UTF-8 encoding", "{" B ",\"window_id\":\"\xc0\xaf\"}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"truncated UTF-8 sequence", "{" B ",\"window_id\":\"\xe2\x82\"}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"UTF-8 encoded surrogate", "{" B ",\"window_id\":\"\xed\xa0\x80\"}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"invalid UTF-8 in a key", "{" B ",\"\xfe\":1}", 0, SW_C_MALFORMED_JSON,
     "body"},
    {"lone surrogate escape", "{" B ",\"window_id\":\"\\ud800\"}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"\\u0000 in a value", "{" B ",\"window_id\":\"a\\u0000b\"}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"\\u0000 in a key", "{" B ",\"a\\u0000\":1}", 0, SW_C_MALFORMED_JSON,
     "body"},
    {"raw NUL byte between members", "{" B ",\0\"hlc\":\"" HLC1 "\"}",
     sizeof("{" B ",\0\"hlc\":\"" HLC1 "\"}") - 1, SW_C_MALFORMED_JSON, "body"},
    {"raw NUL byte inside a string", "{" B ",\"window_id\":\"a\0b\"}",
     sizeof("{" B ",\"window_id\":\"a\0b\"}") - 1, SW_C_MALFORMED_JSON, "body"},
    {"raw NUL byte after the object", "{" B "}\0", sizeof("{" B "}\0") - 1,
     SW_C_MALFORMED_JSON, "body"},
    {"raw control character in a string", "{" B ",\"window_id\":\"a\tb\"}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"duplicate top-level key", "{" B ",\"signer\":\"t\"}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"duplicate key inside payload",
     "{" B ",\"payload\":{\"reason\":\"a\",\"reason\":\"b\"}}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"duplicate key three levels down",
     "{" B ",\"payload\":{\"a\":[{\"b\":{\"c\":1,\"c\":1}}]}}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"10000 levels of nesting inside payload",
     "{" B ",\"payload\":{\"a\":<R:10000:[><R:10000:]>}}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"10000 levels of objects inside payload",
     "{" B ",\"payload\":<R:10000:{\"a\":>1<R:10000:}>}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"integer overflowing int64 in payload",
     "{" B ",\"payload\":{\"max_tasks\":99999999999999999999999}}", 0,
     SW_C_MALFORMED_JSON, "body"},
    {"NaN literal", "{" B ",\"payload\":{\"q\":NaN}}", 0, SW_C_MALFORMED_JSON,
     "body"},

    /* UNKNOWN_FIELD comes before every other field check. */
    {"unknown top-level field", "{" B ",\"foo\":1}", 0, SW_C_UNKNOWN_FIELD,
     "foo"},
    {"field names are case-sensitive",
     "{\"Transition\":\"LICENSE_REVOKED\",\"signer\":\"s\",\"idem_key\":\"k\"}",
     0, SW_C_UNKNOWN_FIELD, "Transition"},
    {"unknown field wins over a missing one (typo of signer)",
     "{\"transition\":\"LICENSE_REVOKED\",\"singer\":\"s\",\"idem_key\":\"k\"}",
     0, SW_C_UNKNOWN_FIELD, "singer"},
    {"unknown field wins over a bad one", "{" B ",\"hlc\":7,\"zzz\":null}", 0,
     SW_C_UNKNOWN_FIELD, "zzz"},
    {"unknown field wins over an unknown transition",
     "{\"transition\":\"NOPE\",\"signer\":\"s\",\"idem_key\":\"k\",\"x\":1}", 0,
     SW_C_UNKNOWN_FIELD, "\"x\""},
    {"the smallest unknown key is named", "{" B ",\"zeta\":1,\"alpha\":2}", 0,
     SW_C_UNKNOWN_FIELD, "alpha"},

    /* MISSING_FIELD for each required field, before BAD_FIELD. */
    {"empty object", "{}", 0, SW_C_MISSING_FIELD, "transition"},
    {"missing transition", "{\"signer\":\"s\",\"idem_key\":\"k\"}", 0,
     SW_C_MISSING_FIELD, "transition"},
    {"missing signer",
     "{\"transition\":\"LICENSE_REVOKED\",\"idem_key\":\"k\"}", 0,
     SW_C_MISSING_FIELD, "signer"},
    {"missing idem_key",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"s\"}", 0,
     SW_C_MISSING_FIELD, "idem_key"},
    {"missing wins over bad",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":5,\"hlc\":\"x\"}", 0,
     SW_C_MISSING_FIELD, "idem_key"},
    {"missing wins over an unknown transition",
     "{\"transition\":\"NOPE\",\"signer\":\"s\"}", 0, SW_C_MISSING_FIELD,
     "idem_key"},

    /* BAD_FIELD: types, lengths, formats, in the table's order. */
    {"transition is a number",
     "{\"transition\":1,\"signer\":\"s\",\"idem_key\":\"k\"}", 0,
     SW_C_BAD_FIELD, "transition"},
    {"required transition given as null",
     "{\"transition\":null,\"signer\":\"s\",\"idem_key\":\"k\"}", 0,
     SW_C_BAD_FIELD, "transition"},
    {"signer is a number",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":1,\"idem_key\":\"k\"}", 0,
     SW_C_BAD_FIELD, "signer"},
    {"signer is empty",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"\",\"idem_key\":\"k\"}",
     0, SW_C_BAD_FIELD, "signer"},
    {"signer of 129 bytes",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"<R:129:a>\","
     "\"idem_key\":\"k\"}",
     0, SW_C_BAD_FIELD, "signer"},
    {"signer with a tab escape",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"a\\tb\","
     "\"idem_key\":\"k\"}",
     0, SW_C_BAD_FIELD, "signer"},
    {"signer with DEL",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"a\\u007f\","
     "\"idem_key\":\"k\"}",
     0, SW_C_BAD_FIELD, "signer"},
    {"signer with non-ASCII UTF-8",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"caf\xc3\xa9\","
     "\"idem_key\":\"k\"}",
     0, SW_C_BAD_FIELD, "signer"},
    {"signer is an object",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":{},\"idem_key\":\"k\"}", 0,
     SW_C_BAD_FIELD, "signer"},
    {"idem_key is an array",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"s\",\"idem_key\":[]}", 0,
     SW_C_BAD_FIELD, "idem_key"},
    {"idem_key is empty",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"s\",\"idem_key\":\"\"}",
     0, SW_C_BAD_FIELD, "idem_key"},
    {"idem_key of 257 bytes",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"s\","
     "\"idem_key\":\"<R:257:k>\"}",
     0, SW_C_BAD_FIELD, "idem_key"},
    {"idem_key with a newline",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"s\","
     "\"idem_key\":\"k\\n\"}",
     0, SW_C_BAD_FIELD, "idem_key"},
    {"current_state_hash is a number", "{" B ",\"current_state_hash\":0}", 0,
     SW_C_BAD_FIELD, "current_state_hash"},
    {"current_state_hash of 129 bytes",
     "{" B ",\"current_state_hash\":\"<R:129:f>\"}", 0, SW_C_BAD_FIELD,
     "current_state_hash"},
    {"hlc is a number", "{" B ",\"hlc\":1}", 0, SW_C_BAD_FIELD, "hlc"},
    {"hlc is empty", "{" B ",\"hlc\":\"\"}", 0, SW_C_BAD_FIELD, "hlc"},
    {"hlc with a leading zero in P",
     "{" B ",\"hlc\":\"01-0-0000000000000001\"}", 0, SW_C_BAD_FIELD, "hlc"},
    {"hlc with a leading zero in L",
     "{" B ",\"hlc\":\"1-00-0000000000000001\"}", 0, SW_C_BAD_FIELD, "hlc"},
    {"hlc with P = 2^64",
     "{" B ",\"hlc\":\"18446744073709551616-0-0000000000000001\"}", 0,
     SW_C_BAD_FIELD, "hlc"},
    {"hlc with a 21-digit P",
     "{" B ",\"hlc\":\"100000000000000000000-0-0000000000000001\"}", 0,
     SW_C_BAD_FIELD, "hlc"},
    {"hlc with L = 2^32", "{" B ",\"hlc\":\"1-4294967296-0000000000000001\"}",
     0, SW_C_BAD_FIELD, "hlc"},
    {"hlc with uppercase hex node", "{" B ",\"hlc\":\"1-0-000000000000000A\"}",
     0, SW_C_BAD_FIELD, "hlc"},
    {"hlc with a 15-digit node", "{" B ",\"hlc\":\"1-0-000000000000001\"}", 0,
     SW_C_BAD_FIELD, "hlc"},
    {"hlc with a 17-digit node", "{" B ",\"hlc\":\"1-0-00000000000000001\"}", 0,
     SW_C_BAD_FIELD, "hlc"},
    {"hlc that is junk", "{" B ",\"hlc\":\"yesterday\"}", 0, SW_C_BAD_FIELD,
     "hlc"},
    {"hlc with a negative P", "{" B ",\"hlc\":\"-1-0-0000000000000001\"}", 0,
     SW_C_BAD_FIELD, "hlc"},
    {"hlc with a plus sign", "{" B ",\"hlc\":\"+1-0-0000000000000001\"}", 0,
     SW_C_BAD_FIELD, "hlc"},
    {"hlc with trailing space", "{" B ",\"hlc\":\"1-0-0000000000000001 \"}", 0,
     SW_C_BAD_FIELD, "hlc"},
    {"hlc with a missing part", "{" B ",\"hlc\":\"1-0000000000000001\"}", 0,
     SW_C_BAD_FIELD, "hlc"},
    {"inputs_hash is a number", "{" B ",\"inputs_hash\":1}", 0, SW_C_BAD_FIELD,
     "inputs_hash"},
    {"inputs_hash of 129 bytes", "{" B ",\"inputs_hash\":\"<R:129:0>\"}", 0,
     SW_C_BAD_FIELD, "inputs_hash"},
    {"window_id is a boolean", "{" B ",\"window_id\":true}", 0, SW_C_BAD_FIELD,
     "window_id"},
    {"window_id of 129 bytes", "{" B ",\"window_id\":\"<R:129:w>\"}", 0,
     SW_C_BAD_FIELD, "window_id"},
    {"evidence is a string", "{" B ",\"evidence\":\"ucxl://proof/1\"}", 0,
     SW_C_BAD_FIELD, "evidence"},
    {"evidence item is a number", "{" B ",\"evidence\":[\"a\",1]}", 0,
     SW_C_BAD_FIELD, "evidence"},
    {"evidence item is null", "{" B ",\"evidence\":[null]}", 0, SW_C_BAD_FIELD,
     "evidence"},
    {"evidence item of 1025 bytes", "{" B ",\"evidence\":[\"<R:1025:e>\"]}", 0,
     SW_C_BAD_FIELD, "evidence"},
    {"65 evidence items", "{" B ",\"evidence\":[<R:64:\"e\",>\"e\"]}", 0,
     SW_C_BAD_FIELD, "evidence"},
    {"payload is an array", "{" B ",\"payload\":[]}", 0, SW_C_BAD_FIELD,
     "payload"},
    {"payload is a string", "{" B ",\"payload\":\"{}\"}", 0, SW_C_BAD_FIELD,
     "payload"},
    {"signer is checked before hlc (table order)",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"\",\"idem_key\":\"k\","
     "\"hlc\":\"x\"}",
     0, SW_C_BAD_FIELD, "signer"},
    {"hlc is checked before evidence (table order)",
     "{" B ",\"evidence\":7,\"hlc\":\"x\"}", 0, SW_C_BAD_FIELD, "hlc"},
    {"a bad field wins over an unknown transition",
     "{\"transition\":\"NOPE\",\"signer\":\"s\",\"idem_key\":\"k\","
     "\"payload\":1}",
     0, SW_C_BAD_FIELD, "payload"},

    /* UNKNOWN_TRANSITION, then BAD_PAYLOAD, then INPUTS_HASH_MISMATCH. */
    {"unknown transition",
     "{\"transition\":\"NOPE\",\"signer\":\"s\",\"idem_key\":\"k\"}", 0,
     SW_C_UNKNOWN_TRANSITION, "NOPE"},
    {"empty transition",
     "{\"transition\":\"\",\"signer\":\"s\",\"idem_key\":\"k\"}", 0,
     SW_C_UNKNOWN_TRANSITION, "transition"},
    {"transition names are case-sensitive",
     "{\"transition\":\"license_granted\",\"signer\":\"s\",\"idem_key\":\"k\"}",
     0, SW_C_UNKNOWN_TRANSITION, "license_granted"},
    {"unknown transition wins over a bad payload",
     "{\"transition\":\"NOPE\",\"signer\":\"s\",\"idem_key\":\"k\","
     "\"payload\":{\"zzz\":1}}",
     0, SW_C_UNKNOWN_TRANSITION, "NOPE"},
    {"required payload field missing (no payload)",
     "{\"transition\":\"QUARANTINE_ENTER\",\"signer\":\"s\",\"idem_key\":"
     "\"k\"}",
     0, SW_C_BAD_PAYLOAD, NULL},
    {"unknown payload field", "{" B ",\"payload\":{\"reason\":\"x\"}}", 0,
     SW_C_BAD_PAYLOAD, NULL},
    {"unknown payload field with control bytes is quoted, not echoed",
     "{\"transition\":\"EXECUTION_TASK_CREATED\",\"signer\":\"s\","
     "\"idem_key\":\"k\",\"payload\":{\"ti\\ntle\":\"T\",\"task_id\":\"t1\"}}",
     0, SW_C_BAD_PAYLOAD, "\"ti?tle\""},
    {"payload field of the wrong type",
     "{\"transition\":\"EXECUTION_TASK_CREATED\",\"signer\":\"s\","
     "\"idem_key\":\"k\",\"payload\":{\"task_id\":\"t1\",\"title\":5}}",
     0, SW_C_BAD_PAYLOAD, NULL},
    {"bad payload wins over an inputs_hash mismatch",
     "{\"transition\":\"EXECUTION_TASK_CREATED\",\"signer\":\"s\","
     "\"idem_key\":\"k\",\"inputs_hash\":\"nope\",\"payload\":{\"task_id\":1}}",
     0, SW_C_BAD_PAYLOAD, NULL},
    {"inputs_hash that is not the payload's hash",
     "{" PAUSE ",\"inputs_hash\":\"test\"" PAUSE_PL "}", 0,
     SW_C_INPUTS_HASH_MISMATCH, "inputs_hash"},
    {"inputs_hash in uppercase hex",
     "{" PAUSE ",\"inputs_hash\":\"" PAUSE_HASH_UPPER "\"" PAUSE_PL "}", 0,
     SW_C_INPUTS_HASH_MISMATCH, "inputs_hash"},
    {"inputs_hash of a non-canonical rendering",
     "{" PAUSE ",\"inputs_hash\":\"" PAUSE_HASH_SPACED "\"" PAUSE_PL "}", 0,
     SW_C_INPUTS_HASH_MISMATCH, "inputs_hash"},
    {"inputs_hash of an empty payload",
     "{\"transition\":\"CONTROL_PAUSE\",\"signer\":\"s\",\"idem_key\":\"k\","
     "\"inputs_hash\":\"" PAUSE_HASH "\",\"payload\":{}}",
     0, SW_C_INPUTS_HASH_MISMATCH, "inputs_hash"},

    /* Accepted bodies: bounds exactly met, null as absent, hashes right. */
    {"the seed's example",
     "{\"current_state_hash\":\"genesis\",\"transition\":\"LICENSE_GRANTED\","
     "\"inputs_hash\":\"test\",\"signer\":\"test-node\",\"idem_key\":"
     "\"unique-1\",\"hlc\":\"1-0-0000000000000001\",\"window_id\":"
     "\"window-1\",\"evidence\":[]}",
     0, SW_C_OK, NULL},
    {"every optional field null",
     "{" B ",\"current_state_hash\":null,\"hlc\":null,\"inputs_hash\":null,"
     "\"window_id\":null,\"evidence\":null,\"payload\":null}",
     0, SW_C_OK, NULL},
    {"bounds met exactly",
     "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"<R:128: >\","
     "\"idem_key\":\"<R:256:~>\",\"current_state_hash\":\"<R:128:c>\","
     "\"inputs_hash\":\"<R:128:i>\",\"window_id\":\"<R:128:w>\","
     "\"evidence\":[<R:62:\"e\",>\"<R:1024:e>\",\"\"]}",
     0, SW_C_OK, NULL},
    {"largest canonical hlc",
     "{" B ",\"hlc\":\"18446744073709551615-4294967295-ffffffffffffffff\"}", 0,
     SW_C_OK, NULL},
    {"smallest canonical hlc", "{" B ",\"hlc\":\"0-0-0000000000000000\"}", 0,
     SW_C_OK, NULL},
    {"right inputs_hash",
     "{" PAUSE ",\"inputs_hash\":\"" PAUSE_HASH "\"" PAUSE_PL "}", 0, SW_C_OK,
     NULL},
    {"right inputs_hash of a payload written in another key order",
     "{\"transition\":\"EXECUTION_TASK_CREATED\",\"signer\":\"s\","
     "\"idem_key\":\"k\",\"inputs_hash\":\"" TASK_HASH "\","
     "\"payload\":{ \"title\" : \"T\", \"task_id\" : \"t1\" }}",
     0, SW_C_OK, NULL},
    {"payload without inputs_hash", "{" PAUSE PAUSE_PL "}", 0, SW_C_OK, NULL},
    {"payload with an empty inputs_hash",
     "{" PAUSE ",\"inputs_hash\":\"\"" PAUSE_PL "}", 0, SW_C_OK, NULL},
    {"UTF-8 in free-form fields",
     "{" B ",\"window_id\":\"w\xc3\xa9\",\"evidence\":[\"\xe2\x9c\x93\"]}", 0,
     SW_C_OK, NULL},
};

/* Expands <R:n:text> (text without '>') into n copies of text. */
static void expand(sw_buf_t *out, const char *t)
{
    while (*t) {
        if (strncmp(t, "<R:", 3) == 0) {
            char *colon;
            unsigned long n = strtoul(t + 3, &colon, 10);
            assert_true(*colon == ':');
            const char *text = colon + 1;
            const char *end = strchr(text, '>');
            assert_non_null(end);
            for (unsigned long i = 0; i < n; i++)
                sw_buf_append(out, text, (size_t)(end - text));
            t = end + 1;
        } else {
            sw_buf_putc(out, *t++);
        }
    }
}

/* Nested templates (<R:2:"<R:3:e>",>) expand from the inside out. */
static void render(sw_buf_t *out, const vector_t *v)
{
    if (v->len != 0) {
        sw_buf_append(out, v->body, v->len);
        return;
    }
    sw_buf_t a = SW_BUF_INIT, b = SW_BUF_INIT;
    sw_buf_puts(&a, v->body);
    while (a.data != NULL) {
        /* Expand innermost repeats first: a repeat whose text holds no '<'. */
        const char *s = a.data, *inner = NULL;
        for (const char *q = strstr(s, "<R:"); q; q = strstr(q + 1, "<R:")) {
            const char *c1 = strchr(q + 3, ':');
            const char *gt = strchr(c1 + 1, '>');
            const char *lt = strchr(c1 + 1, '<');
            if (lt == NULL || lt > gt) {
                inner = q;
                break;
            }
        }
        if (inner == NULL)
            break;
        const char *gt = strchr(strchr(inner + 3, ':') + 1, '>');
        sw_buf_reset(&b);
        sw_buf_append(&b, s, (size_t)(inner - s));
        char *piece = sw_xstrndup(inner, (size_t)(gt - inner + 1));
        expand(&b, piece);
        free(piece);
        sw_buf_puts(&b, gt + 1);
        sw_buf_t tmp = a;
        a = b;
        b = tmp;
    }
    if (a.len != 0)
        sw_buf_append(out, a.data, a.len);
    sw_buf_free(&a);
    sw_buf_free(&b);
}

/* True when msg is one non-empty line of printable ASCII. */
static bool clean_message(const char *msg)
{
    if (msg[0] == '\0')
        return false;
    for (const char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            return false;
    return true;
}

/* Every vector gets its expected code, a message naming the field, a zeroed
 * proposal on failure and a usable one on success. */
static void test_vectors(void **state)
{
    (void)state;
    size_t n = sizeof vectors / sizeof *vectors, rejected = 0;
    for (size_t i = 0; i < n; i++) {
        const vector_t *v = &vectors[i];
        sw_buf_t body = SW_BUF_INIT;
        render(&body, v);
        sw_proposal_t p;
        char msg[256];
        memset(msg, 'Z', sizeof msg);
        sw_code_t c =
            sw_proposal_parse(body.data ? body.data : "", body.len, &p, msg);
        if (c != v->want || (v->field && !strstr(msg, v->field)) ||
            (c != SW_C_OK && !clean_message(msg)))
            fail_msg("vector \"%s\": got %s (%s), want %s naming %s", v->name,
                     sw_code_name(c), msg, sw_code_name(v->want),
                     v->field ? v->field : "-");
        if (c == SW_C_OK) {
            assert_non_null(p.raw);
            assert_non_null(p.entry);
            assert_string_equal(p.entry->name, p.transition);
            assert_int_equal(strlen(p.content_hash), 64);
            sw_proposal_destroy(&p);
        } else {
            rejected++;
            assert_null(p.raw);
            assert_null(p.entry);
        }
        sw_buf_free(&body);
    }
    assert_true(rejected >= 45);
}

/* Hex SHA-256 with OpenSSL directly, independent of canon.c and hash.c. */
static void sha256_hex(const char *s, char hex[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    assert_true(EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL));
    assert_int_equal(mdlen, 32);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void parse_ok(const char *body, sw_proposal_t *p)
{
    char msg[256];
    sw_code_t c = sw_proposal_parse(body, strlen(body), p, msg);
    if (c != SW_C_OK)
        fail_msg("%s: %s (%s)", body, sw_code_name(c), msg);
}

/* The seed's example parses into the typed view, and its content hash is
 * SHA-256 of the hand-written JCS of its idempotency content. */
static void test_seed_example_fields(void **state)
{
    (void)state;
    sw_proposal_t p;
    parse_ok("{\"current_state_hash\":\"genesis\",\"transition\":"
             "\"LICENSE_GRANTED\",\"inputs_hash\":\"test\",\"signer\":"
             "\"test-node\",\"idem_key\":\"unique-1\",\"hlc\":"
             "\"1-0-0000000000000001\",\"window_id\":\"window-1\","
             "\"evidence\":[]}",
             &p);
    assert_string_equal(p.transition, "LICENSE_GRANTED");
    assert_ptr_equal(p.entry, sw_catalog_find("LICENSE_GRANTED"));
    assert_string_equal(p.signer, "test-node");
    assert_string_equal(p.idem_key, "unique-1");
    assert_string_equal(p.current_state_hash, "genesis");
    assert_true(p.has_hlc);
    assert_true(p.hlc.p == 1 && p.hlc.l == 0 && p.hlc.node == 1);
    assert_string_equal(p.inputs_hash, "test");
    assert_string_equal(p.window_id, "window-1");
    assert_non_null(p.evidence);
    assert_int_equal(json_array_size(p.evidence), 0);
    assert_null(p.payload);
    assert_null(p.pl.license_id);
    char want[65];
    sha256_hex("{\"evidence\":[],\"inputs_hash\":\"test\",\"payload\":{},"
               "\"signer\":\"test-node\",\"transition\":\"LICENSE_GRANTED\","
               "\"window_id\":\"window-1\"}",
               want);
    assert_string_equal(p.content_hash, want);
    sw_proposal_destroy(&p);
}

/* Absent optional fields read as empty strings / NULL, and an absent,
 * empty or "*" current_state_hash means no precondition. */
static void test_absent_fields_and_precondition(void **state)
{
    (void)state;
    const char *none[] = {
        "{" B "}",
        "{" B ",\"current_state_hash\":\"\"}",
        "{" B ",\"current_state_hash\":\"*\"}",
        "{" B ",\"current_state_hash\":null}",
    };
    for (size_t i = 0; i < 4; i++) {
        sw_proposal_t p;
        parse_ok(none[i], &p);
        assert_null(p.current_state_hash);
        assert_false(p.has_hlc);
        assert_string_equal(p.inputs_hash, "");
        assert_string_equal(p.window_id, "");
        assert_null(p.evidence);
        assert_null(p.payload);
        sw_proposal_destroy(&p);
    }
    sw_proposal_t p;
    parse_ok("{" B ",\"current_state_hash\":\"**\"}", &p);
    assert_string_equal(p.current_state_hash, "**");
    sw_proposal_destroy(&p);
}

/* Absent fields and their empty values (and null) give one content hash;
 * fields outside the idempotency content (idem_key, hlc, precondition) do
 * not change it. */
static void test_content_hash_absent_equals_empty(void **state)
{
    (void)state;
    const char *bodies[] = {
        "{\"transition\":\"CONTROL_PAUSE\",\"signer\":\"s\",\"idem_key\":"
        "\"k1\"}",
        "{\"transition\":\"CONTROL_PAUSE\",\"signer\":\"s\",\"idem_key\":"
        "\"k2\",\"inputs_hash\":\"\",\"window_id\":\"\",\"evidence\":[],"
        "\"payload\":{}}",
        "{\"transition\":\"CONTROL_PAUSE\",\"signer\":\"s\",\"idem_key\":"
        "\"k3\",\"inputs_hash\":null,\"window_id\":null,\"evidence\":null,"
        "\"payload\":null,\"hlc\":\"5-1-00000000000000aa\","
        "\"current_state_hash\":\"genesis\"}",
    };
    char want[65];
    sha256_hex("{\"evidence\":[],\"inputs_hash\":\"\",\"payload\":{},"
               "\"signer\":\"s\",\"transition\":\"CONTROL_PAUSE\","
               "\"window_id\":\"\"}",
               want);
    for (size_t i = 0; i < 3; i++) {
        sw_proposal_t p;
        parse_ok(bodies[i], &p);
        assert_string_equal(p.content_hash, want);
        sw_proposal_destroy(&p);
    }
}

/* Changing any one field of the idempotency content changes the hash. */
static void test_content_hash_differs(void **state)
{
    (void)state;
    const char *bodies[] = {
        "{" PAUSE PAUSE_PL "}",
        "{" PAUSE ",\"payload\":{\"reason\":\"maintenancE\"}}",
        "{" PAUSE ",\"payload\":{}}",
        "{\"transition\":\"CONTROL_PAUSE\",\"signer\":\"t\",\"idem_key\":"
        "\"k\"" PAUSE_PL "}",
        "{\"transition\":\"CONTROL_RESUME\",\"signer\":\"s\",\"idem_key\":"
        "\"k\"" PAUSE_PL "}",
        "{" PAUSE PAUSE_PL ",\"evidence\":[\"ucxl://proof/123\"]}",
        "{" PAUSE PAUSE_PL ",\"window_id\":\"w\"}",
        "{" PAUSE PAUSE_PL ",\"inputs_hash\":\"" PAUSE_HASH "\"}",
    };
    enum { N = sizeof bodies / sizeof *bodies };
    char hashes[N][65];
    for (size_t i = 0; i < N; i++) {
        sw_proposal_t p;
        parse_ok(bodies[i], &p);
        memcpy(hashes[i], p.content_hash, 65);
        sw_proposal_destroy(&p);
        for (size_t j = 0; j < i; j++)
            if (strcmp(hashes[i], hashes[j]) == 0)
                fail_msg("bodies %zu and %zu share a content hash", i, j);
    }
    char want[65];
    sha256_hex("{\"evidence\":[],\"inputs_hash\":\"\",\"payload\":"
               "{\"reason\":\"maintenance\"},\"signer\":\"s\",\"transition\":"
               "\"CONTROL_PAUSE\",\"window_id\":\"\"}",
               want);
    assert_string_equal(hashes[0], want);
}

/* A validated payload fills the typed view with pointers into raw. */
static void test_payload_typed_view(void **state)
{
    (void)state;
    sw_proposal_t p;
    parse_ok("{\"transition\":\"EXECUTION_TASK_CREATED\",\"signer\":\"s\","
             "\"idem_key\":\"k\",\"inputs_hash\":\"" TASK_HASH "\","
             "\"payload\":{\"title\":\"T\",\"task_id\":\"t1\"}}",
             &p);
    assert_non_null(p.payload);
    assert_string_equal(p.pl.task_id, "t1");
    assert_string_equal(p.pl.title, "T");
    assert_ptr_equal(p.pl.task_id,
                     json_string_value(json_object_get(p.payload, "task_id")));
    sw_proposal_destroy(&p);
}

/* from_json takes a new reference on success only and leaves the object
 * untouched on failure. */
static void test_from_json_references(void **state)
{
    (void)state;
    json_t *ok = json_pack("{s:s, s:s, s:s}", "transition", "LICENSE_REVOKED",
                           "signer", "s", "idem_key", "k");
    json_t *bad =
        json_pack("{s:s, s:s}", "transition", "LICENSE_REVOKED", "signer", "s");
    json_t *arr = json_array();
    sw_proposal_t p;
    char msg[256];

    assert_int_equal(ok->refcount, 1);
    assert_int_equal(sw_proposal_from_json(ok, &p, msg), SW_C_OK);
    assert_ptr_equal(p.raw, ok);
    assert_int_equal(ok->refcount, 2);
    sw_proposal_destroy(&p);
    assert_int_equal(ok->refcount, 1);
    assert_null(p.raw);

    assert_int_equal(sw_proposal_from_json(bad, &p, msg), SW_C_MISSING_FIELD);
    assert_int_equal(bad->refcount, 1);
    assert_null(p.raw);
    assert_int_equal(sw_proposal_from_json(arr, &p, msg), SW_C_MALFORMED_JSON);
    assert_int_equal(arr->refcount, 1);
    assert_int_equal(sw_proposal_from_json(NULL, &p, msg), SW_C_MALFORMED_JSON);

    json_decref(ok);
    json_decref(bad);
    json_decref(arr);
}

/* set_hlc stores the stamp in the typed view and, canonically formatted,
 * in raw (replacing a client's hlc). */
static void test_set_hlc(void **state)
{
    (void)state;
    sw_proposal_t p;
    parse_ok("{" B ",\"hlc\":\"" HLC1 "\"}", &p);
    sw_hlc_t h = {1700000000123ull, 7, 0x00000000000000abull};
    sw_proposal_set_hlc(&p, &h);
    assert_true(p.has_hlc);
    assert_true(p.hlc.p == h.p && p.hlc.l == h.l && p.hlc.node == h.node);
    assert_string_equal(json_string_value(json_object_get(p.raw, "hlc")),
                        "1700000000123-7-00000000000000ab");
    assert_string_equal(p.signer, "s");
    sw_proposal_destroy(&p);

    parse_ok("{" B "}", &p);
    assert_false(p.has_hlc);
    sw_proposal_set_hlc(&p, &h);
    assert_true(p.has_hlc);
    assert_string_equal(json_string_value(json_object_get(p.raw, "hlc")),
                        "1700000000123-7-00000000000000ab");
    sw_proposal_destroy(&p);
}

/* Bodies over 64 KiB are refused before parsing, a NULL body is malformed,
 * and destroying a zeroed proposal is harmless. */
static void test_body_limits(void **state)
{
    (void)state;
    sw_proposal_t p;
    char msg[256];
    size_t n = SW_MAX_BODY + 1;
    char *big = sw_xmalloc(n);
    memset(big, ' ', n);
    assert_int_equal(sw_proposal_parse(big, n, &p, msg), SW_C_BODY_TOO_LARGE);
    assert_null(p.raw);
    free(big);
    assert_int_equal(sw_proposal_parse(NULL, 0, &p, msg), SW_C_MALFORMED_JSON);
    sw_proposal_destroy(&p);
    sw_proposal_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_seed_example_fields),
        cmocka_unit_test(test_absent_fields_and_precondition),
        cmocka_unit_test(test_content_hash_absent_equals_empty),
        cmocka_unit_test(test_content_hash_differs),
        cmocka_unit_test(test_payload_typed_view),
        cmocka_unit_test(test_from_json_references),
        cmocka_unit_test(test_set_hlc),
        cmocka_unit_test(test_body_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
