// LABEL: integration
// TIMEOUT: 120
/* test_diskfull: a full disk fails commits with STORAGE_UNAVAILABLE, loses
 * nothing acknowledged, and after space is freed a restart serves the last
 * committed state (SPEC §4). Needs root to mount a small tmpfs; otherwise it
 * is skipped with the reason printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "executor.h"
#include "fsio.h"
#include "log.h"
#include "proposal.h"
#include "wal.h"
#include "jsonq.h"
#include "guard_server.h"
#include "server.h"
#include "tmpdir.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static char base[64];
static char mnt[128];
static bool mounted;

static int setup(void **state)
{
    (void)state;
    if (th_tmpdir_make(base, sizeof base, "full") != 0)
        return -1;
    snprintf(mnt, sizeof mnt, "%s/mnt", base);
    mkdir(mnt, 0755);
    if (geteuid() != 0) {
        printf("skipped: needs root to mount a tmpfs (euid %d)\n",
               (int)geteuid());
        return 0;
    }
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=3m") != 0) {
        printf("skipped: mount tmpfs failed: %s\n", strerror(errno));
        return 0;
    }
    mounted = true;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (mounted && umount2(mnt, MNT_DETACH) != 0)
        printf("warning: umount %s: %s\n", mnt, strerror(errno));
    mounted = false;
    th_rm_tree(base);
    return 0;
}

static sw_executor_t *open_ex(swoosh_error *err)
{
    char wal[256], snap[256];
    snprintf(wal, sizeof wal, "%s/wal", mnt);
    snprintf(snap, sizeof snap, "%s/snap", mnt);
    sw_exec_config_t c;
    sw_exec_config_defaults(&c);
    c.wal_dir = wal;
    c.snapshot_dir = snap;
    c.snapshot_every = 25;
    return sw_executor_open(&c, err);
}

/* A big proposal (~60 KB of evidence) so the disk fills in a few dozen
 * records. */
static void big_proposal(int i, sw_proposal_t *p)
{
    sw_buf_t b = SW_BUF_INIT;
    sw_buf_printf(&b,
                  "{\"transition\":\"LICENSE_GRANTED\",\"signer\":\"op\","
                  "\"idem_key\":\"full-%d\",\"evidence\":[",
                  i);
    char chunk[1001];
    for (int j = 0; j < 1000; j++)
        chunk[j] = (char)('a' + (i + j) % 26);
    chunk[1000] = '\0';
    for (int e = 0; e < 60; e++)
        sw_buf_printf(&b, "%s\"%s\"", e ? "," : "", chunk);
    sw_buf_puts(&b, "]}");
    char msg[256];
    sw_code_t c = sw_proposal_parse(b.data, b.len, p, msg);
    if (c != SW_C_OK)
        fail_msg("parse: %s", msg);
    sw_buf_free(&b);
}

/* Fill the disk until a commit fails; nothing acknowledged is lost and the
 * restart after freeing space serves the last committed state. */
static void test_disk_full(void **state)
{
    (void)state;
    if (!mounted) {
        skip();
        return;
    }
    sw_log_set_level(SW_LOG_OFF);
    /* Ballast to free later. */
    char ballast[256];
    snprintf(ballast, sizeof ballast, "%s/ballast", mnt);
    FILE *f = fopen(ballast, "wb");
    assert_non_null(f);
    static char zeros[65536];
    for (int i = 0; i < 8; i++)
        assert_int_equal(fwrite(zeros, 1, sizeof zeros, f), sizeof zeros);
    assert_int_equal(fclose(f), 0);

    swoosh_error err = {0};
    sw_executor_t *ex = open_ex(&err);
    if (!ex)
        fail_msg("open: %s", err.msg);
    uint64_t last_acked = 0;
    char last_hash[65] = "";
    int acked = 0, failed_at = -1;
    for (int i = 0; i < 2000; i++) {
        sw_proposal_t p;
        big_proposal(i, &p);
        sw_reply_t r;
        sw_code_t c = sw_executor_submit_wait(ex, &p, &SW_GUARDS_ALL_OK, &r);
        if (c != SW_C_OK) {
            sw_proposal_destroy(&p);
            fail_msg("submit %d refused: %s", i, sw_code_name(c));
        }
        if (r.code == SW_C_OK) {
            acked++;
            last_acked = r.index;
            memcpy(last_hash, r.state_hash, 65);
            continue;
        }
        assert_int_equal(r.code, SW_C_STORAGE_UNAVAILABLE);
        failed_at = i;
        break;
    }
    printf("disk full after %d acknowledged records (index %llu)\n", acked,
           (unsigned long long)last_acked);
    assert_true(failed_at > 0);
    assert_true(acked > 0);
    assert_false(sw_executor_storage_ok(ex));
    sw_view_t *v = sw_executor_view(ex);
    assert_int_equal(v->index, last_acked);
    assert_string_equal(v->state_hash, last_hash);
    sw_view_release(v);
    /* Later submissions are refused up front. */
    sw_proposal_t p;
    big_proposal(99999, &p);
    sw_reply_t r;
    assert_int_equal(sw_executor_submit_wait(ex, &p, &SW_GUARDS_ALL_OK, &r),
                     SW_C_STORAGE_UNAVAILABLE);
    sw_proposal_destroy(&p);
    sw_executor_close(ex, &err);

    /* Free space and restart. */
    assert_int_equal(unlink(ballast), 0);
    sw_fsio_reset_for_tests();
    memset(&err, 0, sizeof err);
    ex = open_ex(&err);
    if (!ex)
        fail_msg("reopen: %s", err.msg);
    v = sw_executor_view(ex);
    assert_int_equal(v->index, last_acked);
    assert_string_equal(v->state_hash, last_hash);
    sw_view_release(v);
    sw_wal_t *w = sw_executor_wal(ex);
    for (int i = 0; i < acked; i++) {
        char key[32];
        snprintf(key, sizeof key, "full-%d", i);
        bool found = false;
        assert_int_equal(sw_wal_find_idem(w, key, NULL, NULL, &found, &err),
                         SWOOSH_OK);
        assert_true(found);
    }
    /* A small proposal commits again now that there is room. */
    const char *j = "{\"transition\":\"LICENSE_REVOKED\",\"signer\":\"op\","
                    "\"idem_key\":\"after\"}";
    assert_int_equal(sw_proposal_parse(j, strlen(j), &p, r.msg), SW_C_OK);
    assert_int_equal(sw_executor_submit_wait(ex, &p, &SW_GUARDS_ALL_OK, &r),
                     SW_C_OK);
    assert_int_equal(r.code, SW_C_OK);
    assert_int_equal(r.index, last_acked + 1);
    sw_executor_close(ex, &err);
}

/* The same over HTTP with the real binary (SPEC §4, §6): a commit that
 * fails answers 503 STORAGE_UNAVAILABLE with the error body, GET /health
 * turns 503 with storage "failed", later POSTs are refused, reads keep
 * serving the last committed state, and a restart after freeing space
 * serves it too. */
static void test_disk_full_http(void **state)
{
    (void)state;
    if (!mounted) {
        skip();
        return;
    }
    char wal[256], snap[256], ballast[256];
    snprintf(wal, sizeof wal, "%s/hwal", mnt);
    snprintf(snap, sizeof snap, "%s/hsnap", mnt);
    snprintf(ballast, sizeof ballast, "%s/hballast", mnt);
    FILE *f = fopen(ballast, "wb");
    assert_non_null(f);
    static char zeros[65536];
    for (int i = 0; i < 8; i++)
        assert_int_equal(fwrite(zeros, 1, sizeof zeros, f), sizeof zeros);
    assert_int_equal(fclose(f), 0);

    /* With an http policy guard: after the failure a proposal is refused
     * without a call to it. */
    guard_server_t *gs = guard_server_start();
    assert_non_null(gs);
    guard_server_set(gs, "/policy", GS_PASS, 0, 0);
    char policy_url[128];
    guard_server_url(gs, "/policy", policy_url, sizeof policy_url);
    const char *extra[] = {"--wal-dir",
                           wal,
                           "--snapshot-dir",
                           snap,
                           "--snapshot-every",
                           "0",
                           "--guards",
                           "http",
                           "--guard-policy-url",
                           policy_url,
                           NULL};
    th_server_t *srv = th_server_new(extra);
    assert_non_null(srv);
    char chunk[1001];
    memset(chunk, 'x', 1000);
    chunk[1000] = '\0';
    uint64_t last_acked = 0;
    char last_hash[65] = "";
    int status = 0, failed_at = -1;
    for (int i = 0; i < 2000 && failed_at < 0; i++) {
        sw_buf_t b = SW_BUF_INIT;
        sw_buf_printf(&b,
                      "{\"transition\":\"LICENSE_GRANTED\",\"signer\":\"op\","
                      "\"idem_key\":\"http-full-%d\",\"evidence\":[",
                      i);
        for (int e = 0; e < 60; e++)
            sw_buf_printf(&b, "%s\"%s\"", e ? "," : "", chunk);
        sw_buf_puts(&b, "]}");
        json_t *j = th_post_json(srv->port, "/transition", b.data, &status);
        sw_buf_free(&b);
        assert_non_null(j);
        if (status == 200) {
            last_acked = th_jint(j, "index");
            snprintf(last_hash, sizeof last_hash, "%s",
                     th_jstr(j, "state_hash"));
        } else {
            assert_int_equal(status, 503);
            assert_string_equal(th_jstr(j, "code"), "STORAGE_UNAVAILABLE");
            assert_false(json_is_true(json_object_get(j, "success")));
            assert_string_equal(th_jstr(j, "state_hash"), last_hash);
            failed_at = i;
        }
        json_decref(j);
    }
    assert_true(failed_at > 0);
    json_t *h = th_get_json(srv->port, "/health", &status);
    assert_int_equal(status, 503);
    assert_string_equal(th_jstr(h, "storage"), "failed");
    assert_int_equal(th_jint(h, "index"), last_acked);
    json_decref(h);
    /* Refused up front now, with a Retry-After like every 503 and no guard
     * call, and reads still serve the committed state. */
    unsigned policy_calls = guard_server_calls(gs, "/policy");
    assert_true(policy_calls > 0);
    th_resp_t late;
    assert_int_equal(th_http(srv->port, "POST", "/transition",
                             "Content-Type: application/json\r\n",
                             "{\"transition\":\"LICENSE_REVOKED\","
                             "\"signer\":\"op\",\"idem_key\":\"late\"}",
                             &late),
                     0);
    assert_int_equal(late.status, 503);
    json_t *j = th_json(&late);
    assert_string_equal(th_jstr(j, "code"), "STORAGE_UNAVAILABLE");
    json_decref(j);
    char *retry = th_header(&late, "Retry-After");
    assert_non_null(retry);
    assert_string_equal(retry, "1");
    free(retry);
    th_resp_free(&late);
    assert_int_equal(guard_server_calls(gs, "/policy"), policy_calls);
    j = th_get_json(srv->port, "/state", &status);
    assert_int_equal(status, 200);
    assert_string_equal(th_jstr(j, "state_hash"), last_hash);
    json_decref(j);

    /* SIGTERM still stops it, but not as a clean run: exit 1, so a
     * supervisor restarts it (what /health has been saying). */
    assert_int_equal(th_server_stop(srv, SIGTERM, 10000), 0);
    assert_true(WIFEXITED(srv->exit_status));
    assert_int_equal(WEXITSTATUS(srv->exit_status), 1);
    assert_true(th_server_log_has(srv, "storage failed during the run"));

    /* Free space, restart: the last acknowledged state is served. */
    assert_int_equal(unlink(ballast), 0);
    assert_int_equal(th_server_restart(srv, extra), 0);
    h = th_get_json(srv->port, "/health", &status);
    assert_int_equal(status, 200);
    assert_string_equal(th_jstr(h, "storage"), "ok");
    assert_int_equal(th_jint(h, "index"), last_acked);
    assert_string_equal(th_jstr(h, "state_hash"), last_hash);
    json_decref(h);
    th_server_free(srv);
    guard_server_stop(gs);
}

/* `rm -rf` of the WAL directory under a running server: the next commit is
 * refused with 503 (its records went to a file with no name left), /health
 * turns 503, and SIGTERM exits 1. Nothing acknowledged was written after the
 * deletion. Needs no mount. */
static void test_wal_dir_deleted_http(void **state)
{
    (void)state;
    char wal[256], snap[256];
    snprintf(wal, sizeof wal, "%s/dwal", base);
    snprintf(snap, sizeof snap, "%s/dsnap", base);
    const char *extra[] = {"--wal-dir", wal, "--snapshot-dir", snap, NULL};
    th_server_t *srv = th_server_new(extra);
    assert_non_null(srv);
    int status = 0;
    json_t *j = th_post_json(srv->port, "/transition",
                             "{\"transition\":\"LICENSE_GRANTED\","
                             "\"signer\":\"op\",\"idem_key\":\"before\"}",
                             &status);
    assert_int_equal(status, 200);
    char hash[65];
    snprintf(hash, sizeof hash, "%s", th_jstr(j, "state_hash"));
    json_decref(j);
    th_rm_tree(wal);
    j = th_post_json(srv->port, "/transition",
                     "{\"transition\":\"LICENSE_REVOKED\","
                     "\"signer\":\"op\",\"idem_key\":\"after\"}",
                     &status);
    assert_int_equal(status, 503);
    assert_string_equal(th_jstr(j, "code"), "STORAGE_UNAVAILABLE");
    assert_string_equal(th_jstr(j, "state_hash"), hash);
    json_decref(j);
    json_t *h = th_get_json(srv->port, "/health", &status);
    assert_int_equal(status, 503);
    assert_string_equal(th_jstr(h, "storage"), "failed");
    assert_int_equal(th_jint(h, "index"), 1);
    json_decref(h);
    assert_true(th_server_log_has(srv, "was deleted"));
    assert_int_equal(th_server_stop(srv, SIGTERM, 10000), 0);
    assert_true(WIFEXITED(srv->exit_status));
    assert_int_equal(WEXITSTATUS(srv->exit_status), 1);
    th_server_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_dir_deleted_http, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
