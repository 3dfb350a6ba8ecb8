// LABEL: golden
/* test_err: the code tables are consistent and docs/ERRORS.md is generated
 * from them (STYLE: one table generates the enum, names and the docs). Run
 * with SWOOSH_REGEN=1 to rewrite docs/ERRORS.md after changing a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "buf.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void render(sw_buf_t *b)
{
    sw_buf_puts(b, "# Error codes\n\n"
                   "Generated from `SW_CODE_MAP` in `src/err.h` and "
                   "`SWOOSH_ERR_MAP` in `include/swoosh.h`\n"
                   "(regenerate: `SWOOSH_REGEN=1 build/test_err`). Every "
                   "HTTP error body is\n"
                   "`{\"code\":\"<CODE>\",\"error\":\"<sentence>\","
                   "\"quarantined\":bool,\"state_hash\":\"…\","
                   "\"success\":false}`,\n"
                   "keys in sorted (canonical) order. `POLICY_VIOLATION` "
                   "adds `\"index\"` and a repeated\n"
                   "(idempotent) rejection adds `\"duplicate\":true` "
                   "(docs/API.md).\n"
                   "\n## API and rejection codes\n\n"
                   "| code | HTTP status | meaning |\n|---|---|---|\n");
    for (int c = 1; c < SW_C__COUNT; c++)
        sw_buf_printf(b, "| `%s` | %d | %s |\n", sw_code_name((sw_code_t)c),
                      sw_code_status((sw_code_t)c),
                      sw_code_message((sw_code_t)c));
    sw_buf_puts(b, "\n## System error codes (library and CLI)\n\n"
                   "| name | meaning |\n|---|---|\n");
    for (int e = 0; e <= SWOOSH_ENOTFOUND; e++)
        sw_buf_printf(b, "| `%s` | %s |\n", swoosh_err_name((swoosh_err_t)e),
                      swoosh_strerror((swoosh_err_t)e));
}

/* Every code has a distinct name that maps back to it and a 4xx/5xx status
 * (OK aside). */
static void test_code_table_round_trips(void **state)
{
    (void)state;
    for (int c = 0; c < SW_C__COUNT; c++) {
        const char *name = sw_code_name((sw_code_t)c);
        assert_int_equal(sw_code_by_name(name), c);
        if (c != SW_C_OK)
            assert_true(sw_code_status((sw_code_t)c) >= 400);
    }
    assert_int_equal(sw_code_by_name("NO_SUCH_CODE"), SW_C__COUNT);
    assert_int_equal(sw_code_status(SW_C_STATE_HASH_MISMATCH), 409);
    assert_int_equal(sw_code_status(SW_C_UNAUTHORIZED_SIGNER), 403);
    assert_int_equal(sw_code_status(SW_C_BODY_TOO_LARGE), 413);
    assert_int_equal(sw_code_status(SW_C_STORAGE_UNAVAILABLE), 503);
}

/* Error context is prefixed by each layer and carries errno's sentence. */
static void test_error_context_prefix(void **state)
{
    (void)state;
    swoosh_error e;
    assert_int_equal(sw_error_set(&e, SWOOSH_EIO, 28, "rename %s", "x"),
                     SWOOSH_EIO);
    sw_error_prefix(&e, "snapshot");
    assert_non_null(strstr(e.msg, "snapshot: rename x: "));
    assert_int_equal(e.sys_errno, 28);
    assert_int_equal(sw_error_set(NULL, SWOOSH_EINVAL, 0, "ignored"),
                     SWOOSH_EINVAL);
}

/* docs/ERRORS.md is exactly what the tables generate. */
static void test_errors_doc_is_generated(void **state)
{
    (void)state;
    const char *src = getenv("SWOOSH_SOURCE_DIR");
    assert_non_null(src);
    char path[4096];
    snprintf(path, sizeof(path), "%s/docs/ERRORS.md", src);
    sw_buf_t want = SW_BUF_INIT;
    render(&want);
    if (getenv("SWOOSH_REGEN")) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fwrite(want.data, 1, want.len, f);
        fclose(f);
    }
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    sw_buf_t have = SW_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sw_buf_append(&have, chunk, n);
    fclose(f);
    assert_int_equal(have.len, want.len);
    assert_memory_equal(have.data, want.data, want.len);
    sw_buf_free(&want);
    sw_buf_free(&have);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_table_round_trips),
        cmocka_unit_test(test_error_context_prefix),
        cmocka_unit_test(test_errors_doc_is_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
