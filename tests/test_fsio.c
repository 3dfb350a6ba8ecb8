// LABEL: unit
/* test_fsio: atomic writes, directory creation and the sticky failed-sync
 * rule (STYLE: all durability in fsio). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fsio.h"
#include "tmpdir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int setup(void **state)
{
    char *dir = th_tmpdir_new("fsio");
    assert_non_null(dir);
    sw_fsio_reset_for_tests();
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    th_tmpdir_teardown(state);
    sw_fsio_reset_for_tests();
    return 0;
}

static void expect_file(const char *dir, const char *name, const char *want)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(sw_fsio_read_file(path, &data, &len, NULL), SWOOSH_OK);
    assert_int_equal(len, strlen(want));
    assert_string_equal(data, want);
    free(data);
}

static bool exists(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* An atomic write creates the file, replaces it on the next write, and
 * leaves no tmp file behind. */
static void test_atomic_write(void **state)
{
    const char *dir = *state;
    assert_int_equal(sw_fsio_atomic_write(dir, "f.json", "one", 3, NULL),
                     SWOOSH_OK);
    expect_file(dir, "f.json", "one");
    assert_int_equal(sw_fsio_atomic_write(dir, "f.json", "second", 6, NULL),
                     SWOOSH_OK);
    expect_file(dir, "f.json", "second");
    assert_false(exists(dir, "f.json.tmp"));
    assert_int_equal(sw_fsio_atomic_write(dir, "e", "", 0, NULL), SWOOSH_OK);
    expect_file(dir, "e", "");
}

/* A failed sync removes the tmp file, keeps the old content, and is sticky:
 * later syncs fail without being attempted. */
static void test_sync_failure_sticky(void **state)
{
    const char *dir = *state;
    assert_int_equal(sw_fsio_atomic_write(dir, "f", "old", 3, NULL), SWOOSH_OK);
    assert_false(sw_fsio_failed());
    sw_fsio_inject_sync_failures(1);
    swoosh_error err = {0};
    assert_int_equal(sw_fsio_atomic_write(dir, "f", "new", 3, &err),
                     SWOOSH_EIO);
    assert_non_null(strstr(err.msg, "fdatasync"));
    assert_int_equal(err.sys_errno, 5);
    assert_true(sw_fsio_failed());
    assert_false(exists(dir, "f.tmp"));
    expect_file(dir, "f", "old");
    /* The injected failure was used up, yet the next write still fails. */
    assert_int_equal(sw_fsio_atomic_write(dir, "f", "again", 5, &err),
                     SWOOSH_ESTORAGE);
    expect_file(dir, "f", "old");
    assert_int_equal(sw_fsio_fsync_dir(dir, &err), SWOOSH_ESTORAGE);
}

/* Writing into a missing directory fails cleanly with the path named. */
static void test_missing_dir(void **state)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s/missing", (char *)*state);
    swoosh_error err = {0};
    assert_int_equal(sw_fsio_atomic_write(sub, "f", "x", 1, &err), SWOOSH_EIO);
    assert_non_null(strstr(err.msg, "missing"));
    assert_false(sw_fsio_failed());
}

/* mkdirs creates nested directories and accepts existing ones; a file in
 * the way is an error. */
static void test_mkdirs(void **state)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s/a/b/c", (char *)*state);
    assert_int_equal(sw_fsio_mkdirs(sub, NULL), SWOOSH_OK);
    struct stat st;
    assert_int_equal(stat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(sw_fsio_mkdirs(sub, NULL), SWOOSH_OK);
    assert_int_equal(sw_fsio_atomic_write(sub, "file", "x", 1, NULL),
                     SWOOSH_OK);
    char bad[600];
    snprintf(bad, sizeof bad, "%s/file/d", sub);
    assert_int_not_equal(sw_fsio_mkdirs(bad, NULL), SWOOSH_OK);
}

/* Reading a missing file reports ENOTFOUND. */
static void test_read_missing(void **state)
{
    char p[512];
    snprintf(p, sizeof p, "%s/nope", (char *)*state);
    char *data = (char *)1;
    size_t len = 1;
    swoosh_error err = {0};
    assert_int_equal(sw_fsio_read_file(p, &data, &len, &err), SWOOSH_ENOTFOUND);
    assert_null(data);
    assert_int_equal(len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_failure_sticky, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_missing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
