/* fsio: every durability primitive in one place (STYLE: "All durability in
 * one module").
 *
 * fdatasync/fsync wrappers, directory fsync, and the atomic file write
 * (tmp → write → fdatasync → rename → fsync dir; the tmp file is unlinked on
 * failure). A failed sync is sticky: after one, sw_fsio_failed() is true for
 * the life of the process and every later sync through this module fails
 * too, because the kernel may have dropped the dirty pages and a retried
 * fsync that "succeeds" proves nothing (PostgreSQL's fsyncgate, 2018).
 */
#ifndef SW_FSIO_H
#define SW_FSIO_H

#include "swoosh.h"

#include <stdbool.h>
#include <stddef.h>

/* fdatasync(fd); on failure marks sync failed (sticky). `what` names the file
 * in err. */
swoosh_err_t sw_fsio_fdatasync(int fd, const char *what, swoosh_error *err);
/* fsync(fd), same rules. */
swoosh_err_t sw_fsio_fsync(int fd, const char *what, swoosh_error *err);
/* Opens the directory `dir` and fsyncs it (makes renames/creates durable). */
swoosh_err_t sw_fsio_fsync_dir(const char *dir, swoosh_error *err);
/* mkdir -p with mode 0755; existing directories are fine. The parent of
 * each directory it creates is fsynced (same sticky-failure rules). */
swoosh_err_t sw_fsio_mkdirs(const char *dir, swoosh_error *err);

/* Takes an exclusive advisory lock (flock) on dir/name, creating the file,
 * without waiting: one process owns a data directory at a time. Returns the
 * descriptor holding the lock in *fd (caller owns; closing it releases the
 * lock, as does the process's death), or SWOOSH_EBUSY when another open
 * description holds it — another process, or this one opened twice. */
swoosh_err_t sw_fsio_lock(const char *dir, const char *name, int *fd,
                          swoosh_error *err);

/* Writes `len` bytes to dir/name atomically: dir/name.tmp is created,
 * written, fdatasync'd, renamed over dir/name and the directory fsync'd.
 * On any failure the tmp file is removed and dir/name is untouched. */
swoosh_err_t sw_fsio_atomic_write(const char *dir, const char *name,
                                  const void *data, size_t len,
                                  swoosh_error *err);

/* Default size cap of sw_fsio_read_file: 1 GiB. The largest legitimate
 * input is a snapshot or genesis projection at the SPEC §5 bounds: 65536
 * tasks, each with two ids (128 B) and two texts (1 KiB), every byte a C0
 * control escaped as \u00XX (6 B), plus keys, is about 14 KiB a task, so
 * about 0.9 GiB in all; anything larger is not a projection this build could
 * have written. */
#define SW_FSIO_READ_MAX ((size_t)1 << 30)

/* Reads a whole regular file of at most SW_FSIO_READ_MAX bytes; same as
 * sw_fsio_read_file_max(path, SW_FSIO_READ_MAX, …). */
swoosh_err_t sw_fsio_read_file(const char *path, char **data, size_t *len,
                               swoosh_error *err);

/* Reads a whole regular file of at most `max` bytes. *data: caller owns,
 * free with free(); NUL-terminated after *len bytes. A missing file is
 * SWOOSH_ENOTFOUND; a FIFO, device, directory or socket is SWOOSH_EINVAL
 * ("… is not a regular file") and is refused without blocking (a FIFO with
 * no writer never stalls the caller); a file larger than `max` (at open, or
 * grown while being read) is SWOOSH_EINVAL; other failures SWOOSH_EIO. On
 * failure *data is NULL and *len 0. */
swoosh_err_t sw_fsio_read_file_max(const char *path, size_t max, char **data,
                                   size_t *len, swoosh_error *err);

/* True after any failed sync in this process (sticky). */
bool sw_fsio_failed(void);

/* Test seam: the next `n` syncs through this module fail with EIO (they
 * still mark the sticky failure). Tests call sw_fsio_reset_for_tests() to
 * clear the sticky flag. */
void sw_fsio_inject_sync_failures(int n);
void sw_fsio_reset_for_tests(void);

#endif
