/* tmpdir: temporary directories and small files for unit tests.
 *
 * Every test that touches the disk works in a fresh mkdtemp directory under
 * /tmp and removes it afterwards; these helpers are that code, once. They
 * never assert (they are linked into every test, cmocka or not): failures
 * are returned for the caller to check.
 */
#ifndef TH_TMPDIR_H
#define TH_TMPDIR_H

#include <stddef.h>

/* Creates /tmp/swoosh-test-<tag>-XXXXXX. Returns the path (caller owns,
 * free with free()) or NULL with errno set. */
char *th_tmpdir_new(const char *tag);

/* Same into a caller buffer of n bytes. Returns 0, or -1 with errno set. */
int th_tmpdir_make(char *buf, size_t n, const char *tag);

/* Removes dir and everything below it (symbolic links are not followed).
 * NULL is a no-op. Returns 0 when everything was removed, else -1. */
int th_rm_tree(const char *dir);

/* cmocka-shaped group helpers: the state is a th_tmpdir_new path, removed
 * and freed by th_tmpdir_teardown. */
int th_tmpdir_teardown(void **state);

/* Writes exactly len bytes to path (created or truncated, no fsync).
 * Returns 0, or -1 with errno set. */
int th_write_file(const char *path, const void *data, size_t len);

#endif
