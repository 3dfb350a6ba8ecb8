// LABEL: unit
/* test_snapshot: snapshot content, atomic files, retention, validation on
 * load, leftovers, and the background writer (SPEC §4 snapshots). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "canon.h"
#include "fsio.h"
#include "log.h"
#include "snapshot.h"
#include "tmpdir.h"

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int setup(void **state)
{
    char *dir = th_tmpdir_new("snap");
    assert_non_null(dir);
    sw_fsio_reset_for_tests();
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    return th_tmpdir_teardown(state);
}

/* A state at index i: genesis with Meta.Index = i. */
static sw_state_t *state_at(uint64_t i)
{
    sw_state_t *s = sw_state_new_genesis();
    s->meta.index = i;
    sw_state_touch(s, SW_SEC_META);
    return s;
}

static void write_snap(const char *dir, uint64_t i, const char *gen)
{
    sw_state_t *s = state_at(i);
    char h[65];
    sw_state_hash(s, h);
    size_t len;
    const char *jcs = sw_state_canonical(s, &len);
    sw_buf_t b = SW_BUF_INIT;
    sw_snapshot_serialize(&b, i, h, gen, jcs, len);
    assert_int_equal(sw_snapshot_write(dir, i, b.data, b.len, 0, NULL),
                     SWOOSH_OK);
    sw_buf_free(&b);
    sw_state_free(s);
}

/* The serialised snapshot is canonical JSON with the SPEC's members. */
static void test_serialize_canonical(void **state)
{
    (void)state;
    sw_state_t *s = state_at(5);
    char h[65];
    sw_state_hash(s, h);
    size_t len;
    const char *jcs = sw_state_canonical(s, &len);
    sw_buf_t b = SW_BUF_INIT;
    sw_snapshot_serialize(&b, 5, h, GEN, jcs, len);
    json_error_t je;
    json_t *root = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(root);
    sw_buf_t c = SW_BUF_INIT;
    assert_true(sw_canon_json(&c, root));
    assert_int_equal(c.len, b.len);
    assert_memory_equal(c.data, b.data, b.len);
    assert_string_equal(json_string_value(json_object_get(root, "format")),
                        "swoosh-snapshot-v1");
    assert_int_equal(json_integer_value(json_object_get(root, "index")), 5);
    assert_string_equal(
        json_string_value(json_object_get(root, "genesis_hash")), GEN);
    assert_string_equal(json_string_value(json_object_get(root, "state_hash")),
                        h);
    char h2[65];
    assert_true(sw_canon_hash(json_object_get(root, "state"), h2));
    assert_string_equal(h2, h);
    assert_true(json_is_object(json_object_get(root, "idempotency")));
    json_decref(root);
    sw_buf_free(&b);
    sw_buf_free(&c);
    sw_state_free(s);
}

/* A written snapshot loads back with the same hash and index. */
static void test_write_load(void **state)
{
    const char *dir = *state;
    write_snap(dir, 7, GEN);
    char h[65];
    swoosh_error err = {0};
    sw_state_t *s = sw_snapshot_load(dir, 7, GEN, h, &err);
    assert_non_null(s);
    assert_int_equal(s->meta.index, 7);
    sw_state_t *want = state_at(7);
    char wh[65];
    sw_state_hash(want, wh);
    assert_string_equal(h, wh);
    sw_state_free(want);
    sw_state_free(s);
    char path[512], tmp[600];
    sw_snapshot_path(dir, 7, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(access(tmp, F_OK), -1);
}

/* Only the newest three snapshots are kept, listed newest first. */
static void test_keep_newest(void **state)
{
    const char *dir = *state;
    for (uint64_t i = 1; i <= 5; i++)
        write_snap(dir, i * 10, GEN);
    uint64_t *idx = NULL;
    size_t n = 0;
    assert_int_equal(sw_snapshot_list(dir, false, &idx, &n, NULL), SWOOSH_OK);
    assert_int_equal(n, 3);
    assert_int_equal(idx[0], 50);
    assert_int_equal(idx[1], 40);
    assert_int_equal(idx[2], 30);
    free(idx);
}

static void rewrite(const char *dir, uint64_t i, const char *from,
                    const char *to)
{
    char path[512];
    sw_snapshot_path(dir, i, path, sizeof path);
    char *data;
    size_t len;
    assert_int_equal(sw_fsio_read_file(path, &data, &len, NULL), SWOOSH_OK);
    char *at = strstr(data, from);
    assert_non_null(at);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(at, to, strlen(to));
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    free(data);
}

/* Loading refuses another genesis, a changed state, a wrong index and a
 * truncated file. */
static void test_load_rejects(void **state)
{
    const char *dir = *state;
    char h[65];
    swoosh_error err = {0};
    write_snap(dir, 3, GEN);
    char other[65];
    memset(other, 'f', 64);
    other[64] = 0;
    assert_null(sw_snapshot_load(dir, 3, other, h, &err));
    assert_int_equal(err.code, SWOOSH_EFORMAT);

    rewrite(dir, 3, "\"MaxTasks\":4096", "\"MaxTasks\":4097");
    assert_null(sw_snapshot_load(dir, 3, GEN, h, &err));
    assert_int_equal(err.code, SWOOSH_ECORRUPT);
    assert_non_null(strstr(err.msg, "recomputed hash"));

    write_snap(dir, 4, GEN);
    rewrite(dir, 4, "\"index\":4", "\"index\":5");
    assert_null(sw_snapshot_load(dir, 4, GEN, h, &err));
    assert_non_null(strstr(err.msg, "index"));

    write_snap(dir, 6, GEN);
    char path[512];
    sw_snapshot_path(dir, 6, path, sizeof path);
    assert_int_equal(truncate(path, 40), 0);
    assert_null(sw_snapshot_load(dir, 6, GEN, h, &err));
    assert_int_equal(err.code, SWOOSH_ECORRUPT);
}

/* Listing with clean_tmp removes interrupted writes; without it they stay. */
static void test_tmp_cleanup(void **state)
{
    const char *dir = *state;
    write_snap(dir, 1, GEN);
    char path[512], tmp[600];
    sw_snapshot_path(dir, 2, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    fputs("{\"trunc", f);
    fclose(f);
    uint64_t *idx = NULL;
    size_t n = 0;
    assert_int_equal(sw_snapshot_list(dir, false, &idx, &n, NULL), SWOOSH_OK);
    assert_int_equal(n, 1);
    free(idx);
    assert_int_equal(access(tmp, F_OK), 0);
    assert_int_equal(sw_snapshot_list(dir, true, &idx, &n, NULL), SWOOSH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(idx[0], 1);
    free(idx);
    assert_int_equal(access(tmp, F_OK), -1);
}

/* The background writer writes what it is given; after drain the file is
 * there and loads. */
static void test_snapshotter(void **state)
{
    const char *dir = *state;
    swoosh_error err = {0};
    sw_snapshotter_t *w = sw_snapshotter_new(dir, 3, &err);
    assert_non_null(w);
    for (uint64_t i = 1; i <= 4; i++) {
        sw_state_t *s = state_at(i);
        char h[65];
        sw_state_hash(s, h);
        size_t len;
        const char *jcs = sw_state_canonical(s, &len);
        sw_buf_t b = SW_BUF_INIT;
        sw_snapshot_serialize(&b, i, h, GEN, jcs, len);
        size_t blen;
        char *content = sw_buf_steal(&b, &blen);
        sw_snapshotter_submit(w, i, content, blen);
        sw_state_free(s);
    }
    sw_snapshotter_drain(w);
    uint64_t written = sw_snapshotter_written(w);
    assert_true(written >= 1 && written <= 4);
    assert_int_equal(sw_snapshotter_failed(w), 0);
    char h[65];
    sw_state_t *s = sw_snapshot_load(dir, 4, GEN, h, &err);
    assert_non_null(s);
    sw_state_free(s);
    sw_snapshotter_free(w);
}

/* A failed sync fails the snapshot and leaves no file behind. */
static void test_sync_failure(void **state)
{
    const char *dir = *state;
    sw_fsio_inject_sync_failures(1);
    sw_state_t *s = state_at(9);
    char h[65];
    sw_state_hash(s, h);
    size_t len;
    const char *jcs = sw_state_canonical(s, &len);
    sw_buf_t b = SW_BUF_INIT;
    sw_snapshot_serialize(&b, 9, h, GEN, jcs, len);
    swoosh_error err = {0};
    assert_int_not_equal(sw_snapshot_write(dir, 9, b.data, b.len, 0, &err),
                         SWOOSH_OK);
    assert_non_null(strstr(err.msg, "snapshot 9"));
    uint64_t *idx = NULL;
    size_t n = 9;
    assert_int_equal(sw_snapshot_list(dir, false, &idx, &n, NULL), SWOOSH_OK);
    assert_int_equal(n, 0);
    sw_buf_free(&b);
    sw_state_free(s);
    sw_fsio_reset_for_tests();
}

int main(void)
{
    sw_log_set_level(SW_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serialize_canonical),
        cmocka_unit_test_setup_teardown(test_write_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tmp_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshotter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
