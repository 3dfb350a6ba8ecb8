/* tmpdir: temporary directories and small files for unit tests (see
 * tmpdir.h). */
#include "tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Tests need a private directory per run so that parallel ctest jobs and
 * leftovers of a crashed run never meet. */
int th_tmpdir_make(char *buf, size_t n, const char *tag)
{
    int len = snprintf(buf, n, "/tmp/swoosh-test-%s-XXXXXX", tag);
    if (len < 0 || (size_t)len >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(buf) ? 0 : -1;
}

/* The allocating form suits cmocka states, which hold one pointer. */
char *th_tmpdir_new(const char *tag)
{
    size_t n = strlen(tag) + sizeof "/tmp/swoosh-test--XXXXXX";
    char *dir = malloc(n);
    if (!dir)
        return NULL;
    if (th_tmpdir_make(dir, n, tag) != 0) {
        free(dir);
        return NULL;
    }
    return dir;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Depth-first, physical walk: a test's directory holds only what the test
 * made, and a symlink inside must never lead the removal elsewhere. */
int th_rm_tree(const char *dir)
{
    if (!dir)
        return 0;
    return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* Teardown for groups whose state is a th_tmpdir_new path. */
int th_tmpdir_teardown(void **state)
{
    th_rm_tree(*state);
    free(*state);
    *state = NULL;
    return 0;
}

/* Tests that plant files (corrupt snapshots, genesis files, fixtures) need
 * exact bytes on disk; durability does not matter. */
int th_write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t w = fwrite(data, 1, len, fp);
    int rc = fclose(fp);
    return w == len && rc == 0 ? 0 : -1;
}
