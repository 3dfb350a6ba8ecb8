/* snapshot: atomic snapshot files and the background writer (see
 * snapshot.h). */
#include "snapshot.h"

#include "err.h"
#include "fsio.h"
#include "hash.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PREFIX "snapshot-"
#define SUFFIX ".json"
#define DIGITS 20

/* Writes the snapshot by hand: its keys are in JCS order and the state
 * arrives canonical, so the file is canonical JSON (SPEC §4 content). */
void sw_snapshot_serialize(sw_buf_t *out, uint64_t index,
                           const char *state_hash, const char *genesis_hash,
                           const char *state_jcs, size_t state_len)
{
    sw_buf_reserve(out, state_len + 300);
    sw_buf_puts(out,
                "{\"format\":\"" SW_SNAPSHOT_FORMAT "\",\"genesis_hash\":\"");
    sw_buf_puts(out, genesis_hash);
    sw_buf_puts(out, "\",\"idempotency\":{\"source\":\"log\"},\"index\":");
    sw_buf_put_u64(out, index);
    sw_buf_puts(out, ",\"state\":");
    sw_buf_append(out, state_jcs, state_len);
    sw_buf_puts(out, ",\"state_hash\":\"");
    sw_buf_puts(out, state_hash);
    sw_buf_puts(out, "\"}");
}

/* The file name carries the index with 20 digits so names sort by index
 * (SPEC §4). */
void sw_snapshot_path(const char *dir, uint64_t index, char *out, size_t n)
{
    snprintf(out, n, "%s/" PREFIX "%020" PRIu64 SUFFIX, dir, index);
}

static bool parse_name(const char *name, uint64_t *index)
{
    size_t pl = sizeof PREFIX - 1, sl = sizeof SUFFIX - 1;
    if (strlen(name) != pl + DIGITS + sl || strncmp(name, PREFIX, pl) != 0 ||
        strcmp(name + pl + DIGITS, SUFFIX) != 0)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < DIGITS; i++) {
        char c = name[pl + (size_t)i];
        if (c < '0' || c > '9')
            return false;
        uint64_t d = (uint64_t)(c - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *index = v;
    return true;
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Recovery and pruning both need the snapshots newest first; leftovers of an
 * interrupted atomic write (`*.tmp`) are never trusted and are removed. */
swoosh_err_t sw_snapshot_list(const char *dir, bool clean_tmp, uint64_t **idx,
                              size_t *n, swoosh_error *err)
{
    *idx = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return SWOOSH_OK;
        return sw_error_set(err, SWOOSH_EIO, errno, "snapshot: open dir %s",
                            dir);
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        uint64_t v;
        if (parse_name(name, &v)) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 8;
                *idx = sw_xrealloc(*idx, cap * sizeof **idx);
            }
            (*idx)[(*n)++] = v;
            continue;
        }
        size_t len = strlen(name);
        if (clean_tmp && strncmp(name, PREFIX, sizeof PREFIX - 1) == 0 &&
            len > 4 && strcmp(name + len - 4, ".tmp") == 0) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            if (unlink(path) == 0)
                sw_log(SW_LOG_INFO, "snapshot_tmp_removed", "path", path, NULL);
        }
    }
    closedir(d);
    if (*n > 1)
        qsort(*idx, *n, sizeof **idx, cmp_desc);
    return SWOOSH_OK;
}

static void prune(const char *dir, unsigned keep)
{
    uint64_t *idx = NULL;
    size_t n = 0;
    if (sw_snapshot_list(dir, false, &idx, &n, NULL) != SWOOSH_OK)
        return;
    bool removed = false;
    for (size_t i = keep; i < n; i++) {
        char path[PATH_MAX];
        sw_snapshot_path(dir, idx[i], path, sizeof path);
        if (unlink(path) == 0)
            removed = true;
    }
    free(idx);
    if (removed)
        sw_fsio_fsync_dir(dir, NULL);
}

/* One snapshot, written with the atomic protocol of SPEC §4, then the older
 * ones beyond `keep` removed (SPEC: keep the newest 3). */
swoosh_err_t sw_snapshot_write(const char *dir, uint64_t index,
                               const char *content, size_t len, unsigned keep,
                               swoosh_error *err)
{
    if (keep == 0)
        keep = SW_SNAPSHOT_KEEP;
    if (sw_fsio_mkdirs(dir, err) != SWOOSH_OK)
        goto fail;
    char name[64];
    snprintf(name, sizeof name, PREFIX "%020" PRIu64 SUFFIX, index);
    if (sw_fsio_atomic_write(dir, name, content, len, err) != SWOOSH_OK)
        goto fail;
    prune(dir, keep);
    return SWOOSH_OK;
fail:
    sw_error_prefix(err, "snapshot %" PRIu64, index);
    return err ? err->code : SWOOSH_EIO;
}

static sw_state_t *load_fail(swoosh_error *err, swoosh_err_t code,
                             const char *path, const char *what)
{
    sw_error_set(err, code, 0, "snapshot: %s: %s", path, what);
    return NULL;
}

/* Loads one snapshot and trusts it only if it is exactly what it claims
 * (SPEC §6: trusted when its recomputed hash equals its own state_hash). */
sw_state_t *sw_snapshot_load(const char *dir, uint64_t index,
                             const char *genesis_hash,
                             char hash_out[SWOOSH_HASH_HEX_SIZE],
                             swoosh_error *err)
{
    char path[PATH_MAX];
    sw_snapshot_path(dir, index, path, sizeof path);
    char *data = NULL;
    size_t len = 0;
    sw_state_t *s = NULL;
    json_t *root = NULL;
    if (sw_fsio_read_file(path, &data, &len, err) != SWOOSH_OK) {
        sw_error_prefix(err, "snapshot");
        return NULL;
    }
    json_error_t je;
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    free(data);
    if (!root || !json_is_object(root)) {
        char why[200];
        snprintf(why, sizeof why, "not a JSON object (%s)",
                 root ? "other type" : je.text);
        load_fail(err, SWOOSH_ECORRUPT, path, why);
        goto out;
    }
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (!fmt || strcmp(fmt, SW_SNAPSHOT_FORMAT) != 0) {
        load_fail(err, SWOOSH_EFORMAT, path,
                  "format is not \"" SW_SNAPSHOT_FORMAT "\"");
        goto out;
    }
    json_t *ji = json_object_get(root, "index");
    if (!json_is_integer(ji) || json_integer_value(ji) < 0 ||
        (uint64_t)json_integer_value(ji) != index) {
        load_fail(err, SWOOSH_ECORRUPT, path,
                  "index does not match the file name");
        goto out;
    }
    const char *gh = json_string_value(json_object_get(root, "genesis_hash"));
    if (!gh || (genesis_hash && strcmp(gh, genesis_hash) != 0)) {
        load_fail(err, SWOOSH_EFORMAT, path,
                  "made from another genesis (genesis_hash differs)");
        goto out;
    }
    const char *sh = json_string_value(json_object_get(root, "state_hash"));
    if (!sh || !sw_is_sha256_hex(sh)) {
        load_fail(err, SWOOSH_ECORRUPT, path, "state_hash missing or bad");
        goto out;
    }
    json_t *state = json_object_get(root, "state");
    if (!json_is_object(state)) {
        load_fail(err, SWOOSH_ECORRUPT, path, "state is not an object");
        goto out;
    }
    swoosh_error serr = {0};
    s = sw_state_from_json(state, &serr);
    if (!s) {
        char why[256];
        snprintf(why, sizeof why, "invalid state: %.200s", serr.msg);
        load_fail(err, SWOOSH_ECORRUPT, path, why);
        goto out;
    }
    if (s->meta.index != index) {
        load_fail(err, SWOOSH_ECORRUPT, path,
                  "state Meta.Index differs from the snapshot index");
        goto fail_state;
    }
    char h[SWOOSH_HASH_HEX_SIZE];
    sw_state_hash(s, h);
    if (strcmp(h, sh) != 0) {
        char why[220];
        snprintf(why, sizeof why, "recomputed hash %s differs from %s", h, sh);
        load_fail(err, SWOOSH_ECORRUPT, path, why);
        goto fail_state;
    }
    memcpy(hash_out, h, SWOOSH_HASH_HEX_SIZE);
    goto out;

fail_state:
    sw_state_free(s);
    s = NULL;
out:
    json_decref(root);
    return s;
}

/* ------------------------------------------------------ background writer */

struct sw_snapshotter {
    char *dir;
    unsigned keep;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv, idle;
    bool stop, busy;
    char *pending;
    size_t pending_len;
    uint64_t pending_index;
    uint64_t written, failed;
};

static void *snap_main(void *arg)
{
    sw_snapshotter_t *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->pending && !s->stop)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->pending && s->stop)
            break;
        char *content = s->pending;
        size_t len = s->pending_len;
        uint64_t index = s->pending_index;
        s->pending = NULL;
        s->busy = true;
        pthread_mutex_unlock(&s->mu);

        swoosh_error err = {0};
        swoosh_err_t rc =
            sw_snapshot_write(s->dir, index, content, len, s->keep, &err);
        free(content);
        char ibuf[24];
        snprintf(ibuf, sizeof ibuf, "%" PRIu64, index);
        if (rc == SWOOSH_OK)
            sw_log(SW_LOG_INFO, "snapshot_written", "index", ibuf, NULL);
        else
            sw_log(SW_LOG_WARN, "snapshot_failed", "index", ibuf, "error",
                   err.msg, NULL);

        pthread_mutex_lock(&s->mu);
        if (rc == SWOOSH_OK)
            s->written++;
        else
            s->failed++;
        s->busy = false;
        pthread_cond_broadcast(&s->idle);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Snapshot I/O runs off the executor thread so a slow disk never delays
 * commits (SPEC §4: snapshots must not stall the executor). */
sw_snapshotter_t *sw_snapshotter_new(const char *dir, unsigned keep,
                                     swoosh_error *err)
{
    sw_snapshotter_t *s = sw_xcalloc(1, sizeof *s);
    s->dir = sw_xstrdup(dir);
    s->keep = keep ? keep : SW_SNAPSHOT_KEEP;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->idle, NULL);
    int e = pthread_create(&s->thread, NULL, snap_main, s);
    if (e != 0) {
        sw_error_set(err, SWOOSH_EIO, e,
                     "snapshot: cannot start the writer thread");
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        pthread_cond_destroy(&s->idle);
        free(s->dir);
        free(s);
        return NULL;
    }
    return s;
}

/* Hands a serialised snapshot to the writer; a newer one supersedes one not
 * yet started, since only the newest matters for recovery. */
void sw_snapshotter_submit(sw_snapshotter_t *s, uint64_t index, char *content,
                           size_t len)
{
    pthread_mutex_lock(&s->mu);
    free(s->pending);
    s->pending = content;
    s->pending_len = len;
    s->pending_index = index;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Lets a caller wait for the writer to be idle (tests do, to read what was
 * written; shutdown frees the snapshotter, which finishes the pending
 * write itself). */
void sw_snapshotter_drain(sw_snapshotter_t *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->pending || s->busy)
        pthread_cond_wait(&s->idle, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

/* Counters for /metrics and tests. */
uint64_t sw_snapshotter_written(sw_snapshotter_t *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->written;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Counters for /metrics and tests. */
uint64_t sw_snapshotter_failed(sw_snapshotter_t *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->failed;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Writes what is pending, then stops the thread (clean shutdown). */
void sw_snapshotter_free(sw_snapshotter_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    free(s->pending);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->idle);
    free(s->dir);
    free(s);
}
