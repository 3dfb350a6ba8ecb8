/* fsio: durability primitives (see fsio.h). */
#include "fsio.h"

#include "buf.h"
#include "err.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_bool sync_failed;
static atomic_int inject_failures;

/* Decides whether a sync may be attempted and records its outcome; a failed
 * sync is never retried into "success" (fsyncgate: the kernel may already
 * have dropped the dirty pages). */
static swoosh_err_t do_sync(int fd, bool data_only, const char *what,
                            swoosh_error *err)
{
    if (atomic_load(&sync_failed))
        return sw_error_set(err, SWOOSH_ESTORAGE, 0,
                            "fsio: %s: an earlier sync failed; storage is not "
                            "trusted until restart",
                            what);
    int rc;
    int e = 0;
    if (atomic_load(&inject_failures) > 0) {
        atomic_fetch_sub(&inject_failures, 1);
        rc = -1;
        e = EIO;
    } else {
        do {
            rc = data_only ? fdatasync(fd) : fsync(fd);
        } while (rc != 0 && errno == EINTR);
        e = rc ? errno : 0;
    }
    if (rc != 0) {
        atomic_store(&sync_failed, true);
        return sw_error_set(err, SWOOSH_EIO, e, "fsio: %s %s",
                            data_only ? "fdatasync" : "fsync", what);
    }
    return SWOOSH_OK;
}

/* fdatasync with the sticky-failure rule (STYLE: all durability in fsio). */
swoosh_err_t sw_fsio_fdatasync(int fd, const char *what, swoosh_error *err)
{
    return do_sync(fd, true, what, err);
}

/* fsync with the sticky-failure rule; used for directories and metadata. */
swoosh_err_t sw_fsio_fsync(int fd, const char *what, swoosh_error *err)
{
    return do_sync(fd, false, what, err);
}

/* A rename or create is durable only once its directory is synced (SPEC §4
 * snapshot protocol's last step). */
swoosh_err_t sw_fsio_fsync_dir(const char *dir, swoosh_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sw_error_set(err, SWOOSH_EIO, errno, "fsio: open dir %s", dir);
    swoosh_err_t rc = sw_fsio_fsync(fd, dir, err);
    close(fd);
    return rc;
}

/* Syncs the directory holding `path`'s last component, so that an entry
 * just created there survives a power loss. A parent this process may write
 * into but not open for reading (mode -wx) cannot be synced: that is
 * logged, and the directory is used as before this sync existed. */
static swoosh_err_t fsync_parent(const char *path, swoosh_error *err)
{
    char parent[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t len = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    memcpy(parent, slash ? path : ".", len);
    parent[len] = '\0';
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == EACCES || errno == EPERM) {
            sw_log(SW_LOG_WARN, "fsio_parent_not_synced", "dir", parent,
                   "error", strerror(errno), NULL);
            return SWOOSH_OK;
        }
        return sw_error_set(err, SWOOSH_EIO, errno, "fsio: open dir %s",
                            parent);
    }
    swoosh_err_t rc = sw_fsio_fsync(fd, parent, err);
    close(fd);
    return rc;
}

/* Creates the data directories operators name on the command line, parents
 * included, like `mkdir -p`. Each directory it creates is made durable in
 * its parent before the next is created, so the first commit into a new data
 * directory cannot outlive the directory itself on a file system that does
 * not order metadata (POSIX promises nothing without the parent's fsync). */
swoosh_err_t sw_fsio_mkdirs(const char *dir, swoosh_error *err)
{
    char path[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return sw_error_set(err, SWOOSH_EINVAL, 0, "fsio: bad directory '%s'",
                            dir);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) == 0) {
            swoosh_err_t rc = fsync_parent(path, err);
            if (rc != SWOOSH_OK)
                return rc;
        } else if (errno != EEXIST) {
            return sw_error_set(err, SWOOSH_EIO, errno, "fsio: mkdir %s", path);
        }
        path[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sw_error_set(err, SWOOSH_EIO, ENOTDIR, "fsio: %s", dir);
    return SWOOSH_OK;
}

/* SPEC §1: one executor owns the state, so one process owns its log and
 * snapshots; a second server on the same directories would serve a state
 * that diverges from the first's. */
swoosh_err_t sw_fsio_lock(const char *dir, const char *name, int *fd,
                          swoosh_error *err)
{
    *fd = -1;
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return sw_error_set(err, SWOOSH_EINVAL, 0, "fsio: path too long: %s",
                            dir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0)
        return sw_error_set(err, SWOOSH_EIO, errno, "fsio: open %s", path);
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(f);
        if (e == EWOULDBLOCK)
            return sw_error_set(err, SWOOSH_EBUSY, 0,
                                "%s is in use by another swoosh process (lock "
                                "held on %s)",
                                dir, path);
        return sw_error_set(err, SWOOSH_EIO, e, "fsio: lock %s", path);
    }
    *fd = f;
    return SWOOSH_OK;
}

static swoosh_err_t write_all(int fd, const char *p, size_t len,
                              const char *what, swoosh_error *err)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return sw_error_set(err, SWOOSH_EIO, errno, "fsio: write %s", what);
        }
        p += w;
        len -= (size_t)w;
    }
    return SWOOSH_OK;
}

/* The atomic-replace protocol of SPEC §4 (tmp → write → fdatasync → rename
 * → fsync dir): a reader, or a restart after a crash at any instant, sees
 * either the old file or the complete new one, never a torn one. */
swoosh_err_t sw_fsio_atomic_write(const char *dir, const char *name,
                                  const void *data, size_t len,
                                  swoosh_error *err)
{
    char final[PATH_MAX], tmp[PATH_MAX];
    if ((size_t)snprintf(final, sizeof final, "%s/%s", dir, name) >=
            sizeof final ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name) >= sizeof tmp)
        return sw_error_set(err, SWOOSH_EINVAL, 0, "fsio: path too long");
    swoosh_err_t rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sw_error_set(err, SWOOSH_EIO, errno, "fsio: create %s", tmp);
    rc = write_all(fd, data, len, tmp, err);
    if (rc != SWOOSH_OK)
        goto fail_unlink;
    rc = sw_fsio_fdatasync(fd, tmp, err);
    if (rc != SWOOSH_OK)
        goto fail_unlink;
    if (close(fd) != 0) {
        fd = -1;
        rc = sw_error_set(err, SWOOSH_EIO, errno, "fsio: close %s", tmp);
        goto fail_unlink;
    }
    fd = -1;
    if (rename(tmp, final) != 0) {
        rc = sw_error_set(err, SWOOSH_EIO, errno, "fsio: rename %s", tmp);
        goto fail_unlink;
    }
    return sw_fsio_fsync_dir(dir, err);

fail_unlink:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}

/* Reads snapshots, genesis files and the like in one piece, under the
 * generous default cap (see SW_FSIO_READ_MAX in fsio.h). */
swoosh_err_t sw_fsio_read_file(const char *path, char **data, size_t *len,
                               swoosh_error *err)
{
    return sw_fsio_read_file_max(path, SW_FSIO_READ_MAX, data, len, err);
}

/* Operator-named paths (--genesis, `swoosh hash FILE`, config files) may
 * be anything: /dev/zero would be read until memory runs out and a FIFO would
 * block start-up forever, so only a bounded regular file is read. The open
 * is non-blocking because opening a FIFO for reading otherwise waits for a
 * writer before fstat could reject it. */
swoosh_err_t sw_fsio_read_file_max(const char *path, size_t max, char **data,
                                   size_t *len, swoosh_error *err)
{
    *data = NULL;
    *len = 0;
    swoosh_err_t rc;
    sw_buf_t b = SW_BUF_INIT;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return sw_error_set(err,
                            errno == ENOENT ? SWOOSH_ENOTFOUND : SWOOSH_EIO,
                            errno, "fsio: open %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = sw_error_set(err, SWOOSH_EIO, errno, "fsio: stat %s", path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = sw_error_set(err, SWOOSH_EINVAL, 0,
                          "fsio: %s is not a regular file", path);
        goto fail;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > (uintmax_t)max) {
        rc = sw_error_set(err, SWOOSH_EINVAL, 0,
                          "fsio: %s is larger than %zu bytes", path, max);
        goto fail;
    }
    /* Regular files ignore O_NONBLOCK, but clear it so no filesystem can
     * return a spurious EAGAIN mid-read. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        rc = sw_error_set(err, SWOOSH_EIO, errno, "fsio: fcntl %s", path);
        goto fail;
    }
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = sw_error_set(err, SWOOSH_EIO, errno, "fsio: read %s", path);
            goto fail;
        }
        if (r == 0)
            break;
        /* The file may have grown since fstat. */
        if ((size_t)r > max - b.len) {
            rc = sw_error_set(err, SWOOSH_EINVAL, 0,
                              "fsio: %s is larger than %zu bytes", path, max);
            goto fail;
        }
        sw_buf_append(&b, chunk, (size_t)r);
    }
    close(fd);
    sw_buf_append(&b, "", 0); /* allocated and NUL-terminated */
    *data = sw_buf_steal(&b, len);
    return SWOOSH_OK;

fail:
    close(fd);
    sw_buf_free(&b);
    return rc;
}

/* Lets the executor and /health report a failed sync anywhere in storage. */
bool sw_fsio_failed(void)
{
    return atomic_load(&sync_failed);
}

/* Test seam (SPEC §4 failure path): the next n syncs report EIO. */
void sw_fsio_inject_sync_failures(int n)
{
    atomic_store(&inject_failures, n);
}

/* Test seam: forget a sticky failure so one process can run many cases. */
void sw_fsio_reset_for_tests(void)
{
    atomic_store(&sync_failed, false);
    atomic_store(&inject_failures, 0);
}
