// LABEL: unit
// TIMEOUT: 60
/* test_canon: RFC 8785 (JCS) canonical JSON for SWOOSH's value space and
 * the SHA-256 wrapper under it. Expected texts come from RFC 8785's own
 * examples, from first principles (UTF-16 code unit order), or from
 * python3's json module run at test time where its output is JCS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "buf.h"
#include "canon.h"
#include "hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* JCS of a JSON text parsed by jansson; NULL when canon refuses it. Caller
 * frees. */
static char *jcs_of(const char *json)
{
    json_error_t e;
    json_t *v = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v)
        fail_msg("test input does not parse: %s (%s)", json, e.text);
    sw_buf_t b = SW_BUF_INIT;
    bool ok = sw_canon_json(&b, v);
    json_decref(v);
    if (!ok) {
        sw_buf_free(&b);
        return NULL;
    }
    return sw_buf_steal(&b, NULL);
}

static void assert_jcs(const char *json, const char *want)
{
    char *got = jcs_of(json);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* RFC 8785 §3.2.2.2's string example serialises exactly as the RFC shows:
 * € literal, \u000f lowercase, \n short, B and / unescaped. */
static void test_rfc8785_string_example(void **state)
{
    (void)state;
    assert_jcs("\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\"",
               "\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"");
}

/* Every C0 control byte is escaped, with the short form where JSON has one
 * and \u00xx in lowercase hex otherwise; 0x7F, '/', and U+2028 stay
 * literal. */
static void test_string_escaping_all_controls(void **state)
{
    (void)state;
    static const char *const short_forms[0x20] = {
        [0x08] = "\\b", [0x09] = "\\t", [0x0a] = "\\n",
        [0x0c] = "\\f", [0x0d] = "\\r",
    };
    for (int c = 0; c < 0x20; c++) {
        char in[1] = {(char)c};
        char want[16];
        if (short_forms[c])
            snprintf(want, sizeof(want), "\"%s\"", short_forms[c]);
        else
            snprintf(want, sizeof(want), "\"\\u%04x\"", c);
        sw_buf_t b = SW_BUF_INIT;
        sw_canon_string(&b, in, 1);
        assert_string_equal(b.data, want);
        sw_buf_free(&b);
    }
    sw_buf_t b = SW_BUF_INIT;
    const char lit[] = "a\x7f/\xe2\x80\xa8z\xf0\x9f\x98\x80";
    sw_canon_string(&b, lit, sizeof(lit) - 1);
    assert_string_equal(b.data, "\"a\x7f/\xe2\x80\xa8z\xf0\x9f\x98\x80\"");
    sw_buf_reset(&b);
    sw_canon_string(&b, "q\"b\\s", 5);
    assert_string_equal(b.data, "\"q\\\"b\\\\s\"");
    sw_buf_reset(&b);
    sw_canon_cstr(&b, NULL);
    assert_string_equal(b.data, "\"\"");
    sw_buf_free(&b);
}

/* A string with an embedded NUL byte is written as \u0000, not cut. */
static void test_string_with_nul(void **state)
{
    (void)state;
    assert_jcs("\"a\\u0000b\"", "\"a\\u0000b\"");
}

/* sw_canon_keycmp orders by UTF-16 code units: bytes decide everywhere
 * except U+E000..U+FFFF against supplementary characters, where UTF-16's
 * surrogates (0xD800..) sort first. */
static void test_keycmp_utf16_order(void **state)
{
    (void)state;
    const char *e000 = "\xee\x80\x80";        /* U+E000 */
    const char *fb33 = "\xef\xac\xb3";        /* U+FB33 */
    const char *ffff = "\xef\xbf\xbf";        /* U+FFFF */
    const char *d7ff = "\xed\x9f\xbf";        /* U+D7FF */
    const char *u10000 = "\xf0\x90\x80\x80";  /* U+10000 */
    const char *emoji = "\xf0\x9f\x98\x80";   /* U+1F600 */
    const char *u10ffff = "\xf4\x8f\xbf\xbf"; /* U+10FFFF */
    assert_true(sw_canon_keycmp(e000, u10000) > 0);
    assert_true(sw_canon_keycmp(u10000, e000) < 0);
    assert_true(sw_canon_keycmp(ffff, u10ffff) > 0);
    assert_true(sw_canon_keycmp(fb33, emoji) > 0);
    assert_true(sw_canon_keycmp(emoji, fb33) < 0);
    assert_true(sw_canon_keycmp(d7ff, u10000) < 0);
    assert_true(sw_canon_keycmp(u10000, u10ffff) < 0);
    assert_true(sw_canon_keycmp(e000, ffff) < 0);
    /* Same prefix, then the special case. */
    assert_true(sw_canon_keycmp("k\xee\x80\x80", "k\xf0\x90\x80\x80") > 0);
    /* Difference inside a multi-byte sequence: byte order. */
    assert_true(sw_canon_keycmp("\xc3\xa8", "\xc3\xa9") < 0);
    assert_true(sw_canon_keycmp("\xef\xac\xb3", "\xef\xbf\xbf") < 0);
    assert_true(sw_canon_keycmp("a", "ab") < 0);
    assert_true(sw_canon_keycmp("ab", "a") > 0);
    assert_true(sw_canon_keycmp("", "a") < 0);
    assert_int_equal(sw_canon_keycmp("same", "same"), 0);
    assert_true(sw_canon_keycmp("B", "a") < 0);
    assert_true(sw_canon_keycmp("QuarantineReason", "Quarantined") < 0);
}

/* RFC 8785 §3.2.3's sorting example comes out in the RFC's order, the
 * emoji (a surrogate pair) before U+FB33. */
static void test_rfc8785_sort_example(void **state)
{
    (void)state;
    assert_jcs("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\","
               "\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\","
               "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\","
               "\"\\u0080\":\"Control\","
               "\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}",
               "{\"\\r\":\"Carriage Return\",\"1\":\"One\","
               "\"\xc2\x80\":\"Control\","
               "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
               "\"\xe2\x82\xac\":\"Euro Sign\","
               "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
               "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* Objects with more members than the on-stack sort buffer still sort. */
static void test_large_object_sorted(void **state)
{
    (void)state;
    json_t *o = json_object();
    for (int i = 99; i >= 0; i--) {
        char k[16];
        snprintf(k, sizeof(k), "k%02d", i);
        json_object_set_new(o, k, json_integer(i));
    }
    sw_buf_t b = SW_BUF_INIT;
    assert_true(sw_canon_json(&b, o));
    sw_buf_t want = SW_BUF_INIT;
    sw_buf_putc(&want, '{');
    for (int i = 0; i < 100; i++)
        sw_buf_printf(&want, "%s\"k%02d\":%d", i ? "," : "", i, i);
    sw_buf_putc(&want, '}');
    assert_string_equal(b.data, want.data);
    sw_buf_free(&b);
    sw_buf_free(&want);
    json_decref(o);
}

/* Integers print in plain decimal up to ±(2^53-1); literals and nesting
 * lose all whitespace (RFC 8785 §3.2.2). */
static void test_integers_literals_nesting(void **state)
{
    (void)state;
    assert_jcs("[0, -0, 1, -1, 9007199254740991, -9007199254740991]",
               "[0,0,1,-1,9007199254740991,-9007199254740991]");
    assert_jcs("[null, true, false]", "[null,true,false]");
    assert_jcs("{ \"b\" : [ { \"z\":1, \"a\":{\"y\":[],\"x\":{}} } ], "
               "\"a\" : \"s\" }",
               "{\"a\":\"s\",\"b\":[{\"a\":{\"x\":{},\"y\":[]},\"z\":1}]}");
    assert_jcs("[]", "[]");
    assert_jcs("{}", "{}");
    assert_jcs("\"\"", "\"\"");
}

/* Reals and integers beyond ±(2^53-1) are outside the value space: refused,
 * also when nested. */
static void test_out_of_value_space(void **state)
{
    (void)state;
    const char *bad[] = {
        "1.0",
        "1e3",
        "-0.5",
        "9007199254740992",
        "-9007199254740992",
        "[1, 2.5]",
        "{\"a\":{\"b\":[0.1]}}",
        "{\"a\":9223372036854775807}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *got = jcs_of(bad[i]);
        if (got)
            fail_msg("accepted %s as %s", bad[i], got);
    }
    char hex[65];
    json_t *r = json_real(0.5);
    assert_false(sw_canon_hash(r, hex));
    json_decref(r);
}

/* Runs python3's JCS-equivalent serialiser (SPEC §3) on a JSON text;
 * returns NULL when python3 is not available. Caller frees. */
static char *python_jcs(const char *json)
{
    /* mkstemp's template: the prefix and six 'X's it replaces. */
    char path[64] = "/tmp/test_canon_";
    size_t plen = strlen(path);
    memset(path + plen, 'X', 6);
    path[plen + 6] = '\0';
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(json);
    assert_int_equal(write(fd, json, n), (ssize_t)n);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "python3 -c 'import json,sys;"
             "v=json.load(open(sys.argv[1],encoding=\"utf-8\"));"
             "sys.stdout.buffer.write(json.dumps(v,sort_keys=True,"
             "separators=(\",\",\":\"),ensure_ascii=False).encode())' %s "
             "2>/dev/null",
             path);
    FILE *p = popen(cmd, "r");
    sw_buf_t out = SW_BUF_INIT;
    char chunk[4096];
    size_t k;
    while (p && (k = fread(chunk, 1, sizeof(chunk), p)) > 0)
        sw_buf_append(&out, chunk, k);
    int rc = p ? pclose(p) : -1;
    unlink(path);
    if (rc != 0) {
        sw_buf_free(&out);
        return NULL;
    }
    return sw_buf_steal(&out, NULL);
}

/* On values where Python's code point key order equals UTF-16 order (no
 * U+E000..U+FFFF next to supplementary keys), python3's json.dumps with
 * sort_keys and ensure_ascii=False produces our bytes exactly. */
static void test_python_cross_check(void **state)
{
    (void)state;
    const char *vectors[] = {
        "{\"b\":1,\"a\":[true,false,null],\"c\":{\"z\":\"\\u001f\\t\"}}",
        ("{\"\\u20ac\":\"e\",\"\\r\":\"r\",\"1\":\"o\",\"\\u0080\":\"c\","
         "\"\\u00f6\":\"o\",\"\\ud83d\\ude00\":\"g\"}"),
        "[\"\\u2028\\u2029\",\"\\u007f\",\"/\",\"\\\"\\\\\",\"\\b\\f\\n\\r\"]",
        "{\"Tasks\":{\"t-2\":{\"Status\":\"OPEN\"},\"t-10\":{}},\"n\":-42}",
        "[9007199254740991,-9007199254740991,0,[[[]]],{}]",
        "{\"\\ufb33\":1,\"\\uffff\":2,\"\\ue000\":3,\"\\ud7ff\":4}",
        "{\"aa\":1,\"a\":2,\"\":3,\"A\":4,\"_\":5}",
    };
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char *py = python_jcs(vectors[i]);
        if (!py)
            skip();
        char *ours = jcs_of(vectors[i]);
        assert_non_null(ours);
        assert_string_equal(ours, py);
        free(ours);
        free(py);
    }
}

/* SHA-256 of "abc" is FIPS 180-2's test vector; streaming in pieces gives
 * the same digest, and a finished hasher is reusable. */
static void test_sha256_vectors_and_streaming(void **state)
{
    (void)state;
    const char *abc =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const char *empty =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const char *two_blocks =
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    const char *msg2 =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sw_sha256_t h;
    char hex[65];
    sw_sha256_init(&h);
    sw_sha256_update(&h, "abc", 3);
    sw_sha256_final_hex(&h, hex);
    assert_string_equal(hex, abc);
    sw_sha256_final_hex(&h, hex);
    assert_string_equal(hex, empty);
    for (size_t i = 0; msg2[i]; i++)
        sw_sha256_update(&h, msg2 + i, 1);
    sw_sha256_final_hex(&h, hex);
    assert_string_equal(hex, two_blocks);
    sw_sha256_destroy(&h);
    sw_sha256_destroy(&h);

    json_t *v = json_pack("{s:s}", "a", "b");
    assert_true(sw_canon_hash(v, hex));
    json_decref(v);
    sw_sha256_init(&h);
    sw_sha256_update(&h, "{\"a\":\"b\"}", 9);
    char want[65];
    sw_sha256_final_hex(&h, want);
    sw_sha256_destroy(&h);
    assert_string_equal(hex, want);

    assert_true(sw_is_sha256_hex(abc));
    assert_false(sw_is_sha256_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A3"
                                  "96177A9CB410FF61F20015AD"));
    assert_false(sw_is_sha256_hex("abc"));
    assert_false(sw_is_sha256_hex(NULL));
    char longer[70];
    snprintf(longer, sizeof(longer), "%s0", abc);
    assert_false(sw_is_sha256_hex(longer));
    uint8_t bytes[3] = {0x00, 0xab, 0xff};
    char h6[7];
    sw_hex(bytes, 3, h6);
    assert_string_equal(h6, "00abff");
}

/* A text of `n` brackets pairs around `inner`: [[…inner…]]. Caller frees. */
static char *nested_arrays(int n, const char *inner)
{
    size_t il = strlen(inner);
    char *t = malloc((size_t)n * 2 + il + 1);
    assert_non_null(t);
    memset(t, '[', (size_t)n);
    memcpy(t + n, inner, il);
    memset(t + n + il, ']', (size_t)n);
    t[(size_t)n * 2 + il] = '\0';
    return t;
}

/* Parses `len` bytes of t with the subset parser and checks the value is the
 * one jansson builds and that jansson's compact sorted output of it is the
 * text itself (canonical input round-trips). */
static void assert_subset_same_as_jansson(const char *t, size_t len)
{
    json_t *v = sw_canon_parse_subset(t, len);
    if (!v)
        fail_msg("subset parser declined %.*s", (int)len, t);
    json_error_t e;
    json_t *ref =
        json_loadb(t, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (!ref)
        fail_msg("jansson rejects %.*s (%s)", (int)len, t, e.text);
    assert_true(json_equal(v, ref));
    char *back = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_non_null(back);
    assert_int_equal(strlen(back), len);
    assert_memory_equal(back, t, len);
    free(back);
    json_decref(ref);
    json_decref(v);
}

/* Canonical texts (nesting, 18-digit integers, literals, strings, byte-
 * ordered keys) parse to the same values jansson builds. */
static void test_parse_subset_matches_jansson(void **state)
{
    (void)state;
    static const char *docs[] = {
        "{}",
        "[]",
        "\"\"",
        "0",
        "-1",
        "7",
        "true",
        "false",
        "null",
        "999999999999999999",
        "-999999999999999999",
        "{\"n\":123456789012345678,\"z\":-100000000000000000}",
        "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"x y\",\"e\":[]}}",
        "[\"\",{\"\":0},[[],{}]]",
        "{\"A\":1,\"Z\":2,\"_\":3,\"a\":4,\"ab\":5,\"b\":{\"x\":[1,[2,[3]]]}}",
        "\" !#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~\"",
        "{\"guards\":{\"license\":\"ok\"},\"index\":42,\"outcome\":"
        "\"applied\",\"proposal\":{\"hlc\":\"1700000000000:0:7\","
        "\"idem_key\":\"k1\",\"payload\":{},\"signer\":\"op\","
        "\"transition\":\"CONTROL_PAUSE\"},\"received_at_ms\":1700000000000}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        assert_subset_same_as_jansson(docs[i], strlen(docs[i]));

    /* Only `len` bytes are read: the rest of the buffer is not text. */
    assert_subset_same_as_jansson("[1,2]garbage", 5);
    assert_subset_same_as_jansson("{\"a\":true}}", 10);

    /* Nesting right at the limit, around a container and a scalar. */
    char *t = nested_arrays(SW_CANON_PARSE_DEPTH + 1, "");
    assert_subset_same_as_jansson(t, strlen(t));
    free(t);
    t = nested_arrays(SW_CANON_PARSE_DEPTH, "1");
    assert_subset_same_as_jansson(t, strlen(t));
    free(t);
}

/* Texts outside the subset are declined (NULL), whether or not they are
 * valid JSON; for the valid ones jansson remains the parser. */
static void test_parse_subset_declines(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool valid; /* jansson (JSON_DECODE_ANY) accepts it */
    } cases[] = {
        /* whitespace */
        {"{\"a\": 1}", true},
        {" 1", true},
        {"1 ", true},
        {"[1, 2]", true},
        {"{\"a\":1}\n", true},
        {"{ }", true},
        /* escapes and bytes outside printable ASCII */
        {"\"a\\\"b\"", true},
        {"\"\\u0041\"", true},
        {"\"\\n\"", true},
        {"\"\\/\"", true},
        {"{\"k\\u0041\":1}", true},
        {"\"caf\xc3\xa9\"", true},
        {"\"tab\there\"", false},
        /* numbers */
        {"01", false},
        {"[00]", false},
        {"-01", false},
        {"-0", true},
        {"[-0]", true},
        {"1234567890123456789", true},
        {"-1234567890123456789", true},
        {"{\"n\":1000000000000000000}", true},
        {"1.5", true},
        {"1e3", true},
        {"1E3", true},
        {"-", false},
        /* keys out of order or repeated */
        {"{\"b\":1,\"a\":2}", true},
        {"{\"a\":{\"d\":1,\"c\":2}}", true},
        {"{\"ab\":1,\"a\":2}", true},
        {"{\"a\":1,\"a\":2}", true},
        {"{\"\":1,\"\":2}", true},
        /* trailing bytes and truncation */
        {"{}x", false},
        {"1}", false},
        {"truex", false},
        {"[]]", false},
        {"{}{}", false},
        {"{\"a\":1", false},
        {"\"abc", false},
        {"tru", false},
        {"nul", false},
        {"[1,", false},
        {"[1,]", false},
        {"{\"a\":1,}", false},
        {"{\"a\"}", false},
        {"{1:2}", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;
        json_t *v = sw_canon_parse_subset(t, strlen(t));
        if (v) {
            json_decref(v);
            fail_msg("subset parser accepted '%s'", t);
        }
        json_error_t e;
        json_t *ref = json_loadb(t, strlen(t), JSON_DECODE_ANY, &e);
        if ((ref != NULL) != cases[i].valid)
            fail_msg("jansson %s '%s'", ref ? "accepts" : "rejects", t);
        json_decref(ref);
    }

    /* A NUL inside the given length is a control byte, not an end. */
    assert_null(sw_canon_parse_subset("\"a\0b\"", 5));

    /* One level deeper than the limit, around a container and a scalar;
     * jansson still accepts both. */
    char *t = nested_arrays(SW_CANON_PARSE_DEPTH + 2, "");
    assert_null(sw_canon_parse_subset(t, strlen(t)));
    json_t *ref = json_loadb(t, strlen(t), 0, NULL);
    assert_non_null(ref);
    json_decref(ref);
    free(t);
    t = nested_arrays(SW_CANON_PARSE_DEPTH + 1, "1");
    assert_null(sw_canon_parse_subset(t, strlen(t)));
    free(t);

    /* The same depth through objects. */
    sw_buf_t b = SW_BUF_INIT;
    for (int i = 0; i <= SW_CANON_PARSE_DEPTH; i++)
        sw_buf_append(&b, "{\"a\":", 5);
    sw_buf_append(&b, "1", 1);
    for (int i = 0; i <= SW_CANON_PARSE_DEPTH; i++)
        sw_buf_append(&b, "}", 1);
    assert_null(sw_canon_parse_subset(b.data, b.len));
    /* ...and one level less is inside the subset. */
    assert_subset_same_as_jansson(b.data + 5, b.len - 6);
    sw_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8785_string_example),
        cmocka_unit_test(test_string_escaping_all_controls),
        cmocka_unit_test(test_string_with_nul),
        cmocka_unit_test(test_keycmp_utf16_order),
        cmocka_unit_test(test_rfc8785_sort_example),
        cmocka_unit_test(test_large_object_sorted),
        cmocka_unit_test(test_integers_literals_nesting),
        cmocka_unit_test(test_out_of_value_space),
        cmocka_unit_test(test_python_cross_check),
        cmocka_unit_test(test_sha256_vectors_and_streaming),
        cmocka_unit_test(test_parse_subset_matches_jansson),
        cmocka_unit_test(test_parse_subset_declines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
