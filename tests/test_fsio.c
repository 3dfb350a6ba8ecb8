// LABEL: unit
/* test_fsio: atomic writes, directory creation, the sticky failed-sync
 * rule (STYLE: all durability in fsio) and bounded whole-file reads that
 * refuse anything but a regular file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fsio.h"
#include "tmpdir.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
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

/* A directory mkdirs creates is synced into its parent: a failing sync fails
 * the call; a directory that exists already needs no sync. */
static void test_mkdirs_syncs_parent(void **state)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s/new", (char *)*state);
    sw_fsio_inject_sync_failures(1);
    assert_int_equal(sw_fsio_mkdirs(*state, NULL), SWOOSH_OK);
    assert_false(sw_fsio_failed()); /* nothing created, nothing synced */
    swoosh_error err = {0};
    assert_int_equal(sw_fsio_mkdirs(sub, &err), SWOOSH_EIO);
    assert_non_null(strstr(err.msg, "fsync"));
    assert_non_null(strstr(err.msg, (char *)*state));
    assert_true(sw_fsio_failed());
    sw_fsio_reset_for_tests();
    /* A relative path's first component lives in ".". */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(*state), 0);
    sw_fsio_inject_sync_failures(1);
    assert_int_equal(sw_fsio_mkdirs("rel/x", &err), SWOOSH_EIO);
    assert_non_null(strstr(err.msg, "fsync ."));
    sw_fsio_reset_for_tests();
    assert_int_equal(sw_fsio_mkdirs("rel/x", NULL), SWOOSH_OK);
    assert_int_equal(chdir(cwd), 0);
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

/* Seconds a read may take before the watchdog's SIGALRM kills the test: a
 * read that blocks on a FIFO or streams /dev/zero then fails instead of
 * hanging or eating memory. Disarmed with alarm(0) once the call returned. */
#define WATCHDOG_S 10

/* Expects path to be refused as "not a regular file" without blocking, with
 * the out-parameters cleared. */
static void expect_not_regular(const char *path)
{
    char *data = (char *)1;
    size_t len = 1;
    swoosh_error err = {0};
    alarm(WATCHDOG_S);
    swoosh_err_t rc = sw_fsio_read_file(path, &data, &len, &err);
    alarm(0);
    assert_int_equal(rc, SWOOSH_EINVAL);
    assert_non_null(strstr(err.msg, "is not a regular file"));
    assert_non_null(strstr(err.msg, path));
    assert_null(data);
    assert_int_equal(len, 0);
}

/* A FIFO with no writer is refused at once instead of blocking the caller
 * (a FIFO given as --genesis or --guard-config once hung start-up). */
static void test_read_fifo_refused(void **state)
{
    char p[512];
    snprintf(p, sizeof p, "%s/fifo", (char *)*state);
    assert_int_equal(mkfifo(p, 0600), 0);
    expect_not_regular(p);
    /* Through a symbolic link too: the check is on what was opened. */
    char l[512];
    snprintf(l, sizeof l, "%s/link", (char *)*state);
    assert_int_equal(symlink(p, l), 0);
    expect_not_regular(l);
}

/* A character device that never ends (/dev/zero) is refused instead of
 * being read until memory runs out. */
static void test_read_dev_zero_refused(void **state)
{
    (void)state;
    struct stat st;
    if (stat("/dev/zero", &st) != 0 || !S_ISCHR(st.st_mode))
        skip();
    expect_not_regular("/dev/zero");
}

/* A directory is refused as not a regular file (it used to be an I/O
 * error from read()). */
static void test_read_directory_refused(void **state)
{
    expect_not_regular(*state);
}

/* A regular file larger than one read chunk, holding every byte value
 * including NUL, reads back byte-exactly and NUL-terminated, also through a
 * symbolic link. */
static void test_read_regular_exact(void **state)
{
    enum { N = 200003 };
    unsigned char *want = malloc(N);
    assert_non_null(want);
    uint32_t x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        want[i] = (unsigned char)(i < 256 ? i : x >> 24);
    }
    char p[512], l[512];
    snprintf(p, sizeof p, "%s/blob", (char *)*state);
    snprintf(l, sizeof l, "%s/bloblink", (char *)*state);
    assert_int_equal(th_write_file(p, want, N), 0);
    assert_int_equal(symlink(p, l), 0);
    const char *paths[] = {p, l};
    for (size_t k = 0; k < 2; k++) {
        char *data = NULL;
        size_t len = 0;
        assert_int_equal(sw_fsio_read_file(paths[k], &data, &len, NULL),
                         SWOOSH_OK);
        assert_int_equal(len, N);
        assert_memory_equal(data, want, N);
        assert_int_equal(data[N], '\0');
        free(data);
    }
    free(want);
}

/* The per-caller cap: a file of exactly `max` bytes is read, one byte more
 * is refused with EINVAL naming the cap, and the default-cap reader accepts
 * it; a missing file stays ENOTFOUND under a cap too. */
static void test_read_cap(void **state)
{
    char p[512];
    snprintf(p, sizeof p, "%s/capped", (char *)*state);
    assert_int_equal(th_write_file(p, "0123456789", 10), 0);
    char *data = NULL;
    size_t len = 0;
    swoosh_error err = {0};
    assert_int_equal(sw_fsio_read_file_max(p, 10, &data, &len, &err),
                     SWOOSH_OK);
    assert_int_equal(len, 10);
    assert_string_equal(data, "0123456789");
    free(data);

    data = (char *)1;
    len = 1;
    assert_int_equal(sw_fsio_read_file_max(p, 9, &data, &len, &err),
                     SWOOSH_EINVAL);
    assert_non_null(strstr(err.msg, "larger than 9 bytes"));
    assert_null(data);
    assert_int_equal(len, 0);

    assert_int_equal(sw_fsio_read_file_max(p, 0, &data, &len, &err),
                     SWOOSH_EINVAL);
    assert_null(data);

    char e[512];
    snprintf(e, sizeof e, "%s/empty", (char *)*state);
    assert_int_equal(th_write_file(e, "", 0), 0);
    assert_int_equal(sw_fsio_read_file_max(e, 0, &data, &len, &err), SWOOSH_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);

    char m[512];
    snprintf(m, sizeof m, "%s/nope", (char *)*state);
    assert_int_equal(sw_fsio_read_file_max(m, 10, &data, &len, &err),
                     SWOOSH_ENOTFOUND);
    assert_null(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_failure_sticky, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdirs_syncs_parent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_fifo_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_dev_zero_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_directory_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_regular_exact, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
