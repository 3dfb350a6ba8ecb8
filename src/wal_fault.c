/* wal_fault: the fault-injecting log wrapper the tests put between the
 * executor and the SQLite log (see wal.h). */
#include "wal.h"

#include "err.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

typedef struct fault_wal {
    sw_wal_t base;
    sw_wal_t *inner;
    sw_wal_fault_t *f;
    atomic_bool failed;
} fault_wal_t;

static swoosh_err_t fw_append_batch(sw_wal_t *base, const sw_wal_record_t *recs,
                                    size_t n, swoosh_error *err)
{
    fault_wal_t *w = (fault_wal_t *)base;
    unsigned long call = atomic_fetch_add(&w->f->appends, 1) + 1;
    if (atomic_load(&w->failed))
        return sw_error_set(err, SWOOSH_ESTORAGE, 0,
                            "wal: storage failed earlier; restart required");
    if (atomic_load(&w->f->fail_all) ||
        call == atomic_load(&w->f->fail_append_at)) {
        atomic_store(&w->failed, true);
        return sw_error_set(err, SWOOSH_EIO, EIO,
                            "wal: commit: injected failure of append %lu",
                            call);
    }
    while (atomic_load(&w->f->hold_appends))
        nanosleep(&(struct timespec){.tv_nsec = 100000}, NULL);
    return sw_wal_append_batch(w->inner, recs, n, err);
}

static uint64_t fw_last_index(sw_wal_t *base)
{
    return sw_wal_last_index(((fault_wal_t *)base)->inner);
}

static uint64_t fw_first_index(sw_wal_t *base)
{
    return sw_wal_first_index(((fault_wal_t *)base)->inner);
}

static swoosh_err_t fw_read_from(sw_wal_t *base, uint64_t from, uint64_t limit,
                                 sw_wal_read_fn fn, void *arg,
                                 swoosh_error *err)
{
    return sw_wal_read_from(((fault_wal_t *)base)->inner, from, limit, fn, arg,
                            err);
}

static swoosh_err_t fw_find_idem(sw_wal_t *base, const char *key,
                                 sw_wal_read_fn fn, void *arg, bool *found,
                                 swoosh_error *err)
{
    fault_wal_t *w = (fault_wal_t *)base;
    if (atomic_load(&w->f->fail_find)) {
        *found = false;
        return sw_error_set(err, SWOOSH_EIO, EIO,
                            "wal: find idem_key: injected failure");
    }
    return sw_wal_find_idem(w->inner, key, fn, arg, found, err);
}

static swoosh_err_t fw_compact(sw_wal_t *base, uint64_t upto, swoosh_error *err)
{
    return sw_wal_compact(((fault_wal_t *)base)->inner, upto, err);
}

static swoosh_err_t fw_meta_get(sw_wal_t *base, const char *key, char **value,
                                swoosh_error *err)
{
    return sw_wal_meta_get(((fault_wal_t *)base)->inner, key, value, err);
}

static swoosh_err_t fw_meta_set(sw_wal_t *base, const char *key,
                                const char *value, swoosh_error *err)
{
    return sw_wal_meta_set(((fault_wal_t *)base)->inner, key, value, err);
}

static bool fw_healthy(sw_wal_t *base)
{
    fault_wal_t *w = (fault_wal_t *)base;
    return !atomic_load(&w->failed) && !atomic_load(&w->f->unhealthy) &&
           sw_wal_healthy(w->inner);
}

static swoosh_err_t fw_finish(sw_wal_t *base, swoosh_error *err)
{
    return sw_wal_finish(((fault_wal_t *)base)->inner, err);
}

static void fw_close(sw_wal_t *base)
{
    fault_wal_t *w = (fault_wal_t *)base;
    sw_wal_close(w->inner);
    free(w);
}

static const sw_wal_ops_t fault_ops = {
    .append_batch = fw_append_batch,
    .last_index = fw_last_index,
    .first_index = fw_first_index,
    .read_from = fw_read_from,
    .find_idem = fw_find_idem,
    .compact = fw_compact,
    .meta_get = fw_meta_get,
    .meta_set = fw_meta_set,
    .healthy = fw_healthy,
    .finish = fw_finish,
    .close = fw_close,
};

/* Fault injection at the storage seam (STYLE: SQLite-style fault testing):
 * the selected append fails before it reaches the real log, exactly like a
 * commit whose sync failed, and the failure is sticky. */
sw_wal_t *sw_wal_fault_new(sw_wal_t *inner, sw_wal_fault_t *fault)
{
    fault_wal_t *w = sw_xcalloc(1, sizeof *w);
    w->base.ops = &fault_ops;
    w->inner = inner;
    w->f = fault;
    atomic_init(&w->failed, false);
    return &w->base;
}
