/* guards_http: guards answered by external services (SPEC §4 "Guards": http).
 *
 * One URL per guard (KACHING, BACKBEAT, HMMM, SHHH, MCP). For a proposal the
 * provider POSTs {"guard","transition","signer","proposal"} to the URL of
 * every guard the transition requires, plus PolicyOK, all at once through one
 * curl multi handle, and waits at most the configured timeout. 2xx with
 * {"ok":true} passes, {"ok":false} fails; anything else applies the guard's
 * failure policy (fail-closed unless configured fail-open).
 *
 * Connection reuse: a caller borrows a "slot" (a multi handle with one easy
 * handle per guard) from a pool and returns it afterwards. Each multi keeps
 * its connection cache across calls, so steady traffic from N request
 * threads uses about N kept-alive connections per guard service. A slot is
 * used by one thread at a time, which is what libcurl requires.
 */
#include "guards.h"

#include "buf.h"
#include "catalog.h"
#include "log.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_ANSWER_BYTES (64 * 1024)
#define MAX_URL_BYTES    2048

typedef struct slot {
    struct slot *next; /* free list */
    CURLM *multi;
    CURL *easy[SW_GUARD__COUNT]; /* NULL for guards without a URL */
    char errbuf[SW_GUARD__COUNT][CURL_ERROR_SIZE];
} slot_t;

typedef struct http_provider {
    char *url[SW_GUARD__COUNT]; /* owned; NULL = no service */
    bool fail_open[SW_GUARD__COUNT];
    unsigned timeout_ms;
    struct curl_slist *headers[SW_GUARD__COUNT]; /* read-only once built */
    pthread_mutex_t lock;                        /* guards free_slots */
    slot_t *free_slots;
} http_provider_t;

/* One guard call of one evaluation. */
typedef struct call {
    sw_guard_id_t id;
    bool active; /* added to the multi handle */
    bool done;
    CURLcode result;
    sw_buf_t body;   /* request bytes */
    sw_buf_t answer; /* response bytes */
    bool too_big;
} call_t;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static size_t on_answer(char *data, size_t size, size_t nmemb, void *arg)
{
    call_t *c = arg;
    size_t n = size * nmemb;
    if (c->answer.len + n > MAX_ANSWER_BYTES) {
        c->too_big = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    sw_buf_append(&c->answer, data, n);
    return n;
}

static void slot_free(slot_t *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < SW_GUARD__COUNT; i++)
        if (s->easy[i] != NULL)
            curl_easy_cleanup(s->easy[i]);
    if (s->multi != NULL)
        curl_multi_cleanup(s->multi);
    free(s);
}

/* Options that never change for a guard are set once per easy handle. */
static slot_t *slot_new(http_provider_t *hp)
{
    slot_t *s = sw_xcalloc(1, sizeof(*s));
    s->multi = curl_multi_init();
    if (s->multi == NULL)
        goto fail;
    for (int i = 0; i < SW_GUARD__COUNT; i++) {
        if (hp->url[i] == NULL)
            continue;
        CURL *e = curl_easy_init();
        if (e == NULL)
            goto fail;
        s->easy[i] = e;
        curl_easy_setopt(e, CURLOPT_URL, hp->url[i]);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, hp->headers[i]);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_answer);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)hp->timeout_ms);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)hp->timeout_ms);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf[i]);
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    }
    return s;
fail:
    slot_free(s);
    return NULL;
}

static slot_t *slot_get(http_provider_t *hp)
{
    pthread_mutex_lock(&hp->lock);
    slot_t *s = hp->free_slots;
    if (s != NULL)
        hp->free_slots = s->next;
    pthread_mutex_unlock(&hp->lock);
    return s != NULL ? s : slot_new(hp);
}

static void slot_put(http_provider_t *hp, slot_t *s)
{
    pthread_mutex_lock(&hp->lock);
    s->next = hp->free_slots;
    hp->free_slots = s;
    pthread_mutex_unlock(&hp->lock);
}

/* A JSON string literal for `s` (printable ASCII by SPEC §2, so jansson
 * accepts it); appended to b. */
static void put_json_string(sw_buf_t *b, const char *s)
{
    json_t *j = json_string(s != NULL ? s : "");
    char *txt = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    sw_buf_puts(b, txt != NULL ? txt : "\"\"");
    free(txt);
    json_decref(j);
}

/* The part of the request body shared by every guard:
 * "transition":…,"signer":…,"proposal":{…}} */
static void build_tail(const sw_proposal_t *p, sw_buf_t *tail)
{
    const char *name = p->entry != NULL ? p->entry->name : p->transition;
    sw_buf_puts(tail, "\"transition\":");
    put_json_string(tail, name);
    sw_buf_puts(tail, ",\"signer\":");
    put_json_string(tail, p->signer);
    sw_buf_puts(tail, ",\"proposal\":");
    char *raw = p->raw != NULL ? json_dumps(p->raw, JSON_COMPACT) : NULL;
    sw_buf_puts(tail, raw != NULL ? raw : "null");
    free(raw);
    sw_buf_putc(tail, '}');
}

/* Interprets a finished call; returns the status and writes detail. */
static sw_guard_status_t judge(http_provider_t *hp, call_t *c, CURL *e,
                               const char *errbuf, char *detail, size_t dn)
{
    if (!c->done) {
        snprintf(detail, dn, "no answer within %u ms", hp->timeout_ms);
        return SW_GS_ERROR;
    }
    if (c->result != CURLE_OK) {
        if (c->too_big)
            snprintf(detail, dn, "answer larger than %d bytes",
                     MAX_ANSWER_BYTES);
        else if (c->result == CURLE_OPERATION_TIMEDOUT)
            snprintf(detail, dn, "no answer within %u ms", hp->timeout_ms);
        else
            snprintf(detail, dn, "%s",
                     errbuf[0] ? errbuf : curl_easy_strerror(c->result));
        return SW_GS_ERROR;
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(detail, dn, "HTTP status %ld", status);
        return SW_GS_ERROR;
    }
    json_t *j = json_loadb(c->answer.data ? c->answer.data : "", c->answer.len,
                           JSON_REJECT_DUPLICATES, NULL);
    json_t *ok = json_is_object(j) ? json_object_get(j, "ok") : NULL;
    if (!json_is_boolean(ok)) {
        json_decref(j);
        snprintf(detail, dn,
                 "answer is not a JSON object with a boolean "
                 "\"ok\"");
        return SW_GS_ERROR;
    }
    sw_guard_status_t st = json_is_true(ok) ? SW_GS_PASS : SW_GS_DENY;
    json_t *reason = json_object_get(j, "reason");
    if (st == SW_GS_DENY)
        snprintf(detail, dn, "%s",
                 json_is_string(reason) ? json_string_value(reason)
                                        : "denied by the guard service");
    json_decref(j);
    return st;
}

/* Runs every active call of the slot until all finish or the deadline
 * passes. Each easy handle has its own timeout; the deadline is a backstop so
 * a request thread is never held much longer than the timeout. */
static void run_calls(http_provider_t *hp, slot_t *s, call_t *calls, int n)
{
    uint64_t deadline = mono_ms() + hp->timeout_ms + 250;
    int running = 0;
    curl_multi_perform(s->multi, &running);
    for (;;) {
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            for (int i = 0; i < n; i++)
                if (calls[i].active && s->easy[calls[i].id] == m->easy_handle) {
                    calls[i].done = true;
                    calls[i].result = m->data.result;
                }
        }
        if (running == 0)
            break;
        uint64_t now = mono_ms();
        if (now >= deadline)
            break;
        uint64_t wait = deadline - now;
        curl_multi_poll(s->multi, NULL, 0, (int)(wait > 1000 ? 1000 : wait),
                        NULL);
        curl_multi_perform(s->multi, &running);
    }
}

static void http_evaluate(void *self, const sw_proposal_t *p, sw_guards_t *out,
                          sw_guard_report_t *rep)
{
    http_provider_t *hp = self;
    call_t calls[SW_GUARD__COUNT];
    int n = 0;

    for (int i = 0; i < SW_GUARD__COUNT; i++) {
        sw_guard_id_t id = (sw_guard_id_t)i;
        if (!sw_guard_required(p, id))
            continue;
        if (hp->url[i] == NULL) {
            rep->status[i] = SW_GS_NO_SERVICE;
            continue;
        }
        memset(&calls[n], 0, sizeof(calls[n]));
        calls[n].id = id;
        n++;
    }
    if (n == 0)
        return;

    sw_buf_t tail = SW_BUF_INIT;
    build_tail(p, &tail);
    slot_t *s = slot_get(hp);
    for (int k = 0; k < n; k++) {
        call_t *c = &calls[k];
        sw_buf_puts(&c->body, "{\"guard\":\"");
        sw_buf_puts(&c->body, sw_guard_name(c->id));
        sw_buf_puts(&c->body, "\",");
        sw_buf_append(&c->body, tail.data, tail.len);
        if (s == NULL)
            continue;
        CURL *e = s->easy[c->id];
        s->errbuf[c->id][0] = '\0';
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body.data);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)c->body.len);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
        c->active = curl_multi_add_handle(s->multi, e) == CURLM_OK;
    }
    if (s != NULL)
        run_calls(hp, s, calls, n);

    for (int k = 0; k < n; k++) {
        call_t *c = &calls[k];
        char *detail = rep->detail[c->id];
        size_t dn = sizeof(rep->detail[c->id]);
        sw_guard_status_t st;
        if (s == NULL || !c->active) {
            snprintf(detail, dn, "cannot start the call (libcurl)");
            st = SW_GS_ERROR;
        } else {
            st = judge(hp, c, s->easy[c->id], s->errbuf[c->id], detail, dn);
            curl_multi_remove_handle(s->multi, s->easy[c->id]);
        }
        rep->status[c->id] = st;
        bool ok =
            st == SW_GS_PASS || (st == SW_GS_ERROR && hp->fail_open[c->id]);
        sw_guard_set(out, c->id, ok);
        if (st == SW_GS_DENY)
            sw_log(SW_LOG_INFO, "guard_denied", "guard", sw_guard_name(c->id),
                   "transition",
                   p->entry != NULL ? p->entry->name : p->transition, "signer",
                   p->signer, "reason", detail, NULL);
        if (st == SW_GS_ERROR) {
            size_t used = strlen(detail);
            snprintf(detail + used, dn - used, "; failed %s",
                     hp->fail_open[c->id] ? "open" : "closed");
            sw_log(SW_LOG_WARN, "guard_unavailable", "guard",
                   sw_guard_name(c->id), "transition",
                   p->entry != NULL ? p->entry->name : p->transition, "signer",
                   p->signer, "detail", detail, NULL);
        }
        sw_buf_free(&c->body);
        sw_buf_free(&c->answer);
    }
    if (s != NULL)
        slot_put(hp, s);
    sw_buf_free(&tail);
}

static swoosh_err_t http_reload(void *self, swoosh_error *err)
{
    (void)self;
    (void)err;
    return SWOOSH_OK;
}

static void http_close(void *self)
{
    http_provider_t *hp = self;
    if (hp == NULL)
        return;
    while (hp->free_slots != NULL) {
        slot_t *s = hp->free_slots;
        hp->free_slots = s->next;
        slot_free(s);
    }
    for (int i = 0; i < SW_GUARD__COUNT; i++) {
        free(hp->url[i]);
        curl_slist_free_all(hp->headers[i]);
    }
    pthread_mutex_destroy(&hp->lock);
    free(hp);
}

static const sw_guard_impl_t http_impl = {
    .evaluate = http_evaluate,
    .reload = http_reload,
    .close = http_close,
};

/* Accepts only absolute http(s) URLs that libcurl can parse, so a typo is
 * reported at start-up instead of failing every proposal. */
static swoosh_err_t check_url(sw_guard_id_t id, const char *url,
                              swoosh_error *err)
{
    if (strlen(url) > MAX_URL_BYTES)
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "SWOOSH_GUARD_%s_URL: longer than %d bytes",
                            sw_guard_env_stem(id), MAX_URL_BYTES);
    if (strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0)
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "SWOOSH_GUARD_%s_URL: '%.96s' is not an "
                            "http:// or https:// URL",
                            sw_guard_env_stem(id), url);
    CURLU *u = curl_url();
    if (u == NULL)
        return sw_error_set(err, SWOOSH_ENOMEM, 0, "curl_url failed");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    curl_url_cleanup(u);
    if (uc != CURLUE_OK)
        return sw_error_set(err, SWOOSH_EINVAL, 0,
                            "SWOOSH_GUARD_%s_URL: '%.96s': %s",
                            sw_guard_env_stem(id), url, curl_url_strerror(uc));
    return SWOOSH_OK;
}

/* The http provider of SPEC §4: validates URLs and timeout, initialises
 * libcurl once per process, and prepares per-guard request headers. */
void *sw_guards_http_open(const sw_guards_config_t *cfg,
                          const sw_guard_impl_t **impl, swoosh_error *err)
{
    if (cfg->timeout_ms < 1 || cfg->timeout_ms > SW_GUARDS_MAX_TIMEOUT_MS) {
        sw_error_set(err, SWOOSH_EINVAL, 0,
                     "SWOOSH_GUARD_TIMEOUT_MS: %u is outside 1..%u",
                     cfg->timeout_ms, SW_GUARDS_MAX_TIMEOUT_MS);
        return NULL;
    }
    for (int i = 0; i < SW_GUARD__COUNT; i++)
        if (cfg->url[i] != NULL && cfg->url[i][0] != '\0' &&
            check_url((sw_guard_id_t)i, cfg->url[i], err) != SWOOSH_OK)
            return NULL;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) {
        sw_error_set(err, SWOOSH_EIO, 0, "curl_global_init: %s",
                     curl_easy_strerror(curl_init_rc));
        return NULL;
    }

    http_provider_t *hp = sw_xcalloc(1, sizeof(*hp));
    pthread_mutex_init(&hp->lock, NULL);
    hp->timeout_ms = cfg->timeout_ms;
    for (int i = 0; i < SW_GUARD__COUNT; i++) {
        hp->fail_open[i] = cfg->fail_open[i];
        if (cfg->url[i] == NULL || cfg->url[i][0] == '\0')
            continue;
        hp->url[i] = sw_xstrdup(cfg->url[i]);
        char h[64];
        struct curl_slist *l = NULL, *t;
        snprintf(h, sizeof(h), "X-Swoosh-Guard: %s",
                 sw_guard_name((sw_guard_id_t)i));
        /* An empty Expect stops libcurl's 100-continue wait on large
         * proposals, which would otherwise eat up to 1 s of the budget. */
        const char *lines[] = {"Content-Type: application/json",
                               "Accept: application/json", "Expect:", h};
        for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
            t = curl_slist_append(l, lines[k]);
            if (t == NULL) {
                curl_slist_free_all(l);
                http_close(hp);
                sw_error_set(err, SWOOSH_ENOMEM, 0, "curl_slist_append");
                return NULL;
            }
            l = t;
        }
        hp->headers[i] = l;
    }
    *impl = &http_impl;
    return hp;
}
