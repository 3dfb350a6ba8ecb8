/* http_whoosh: the WHOOSH/CHORUS-compatible endpoints (see http_whoosh.h). */
#include "http_whoosh.h"

#include "canon.h"
#include "hash.h"
#include "proposal.h"
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------- body schemas */

typedef enum field_type {
    FT_AGENT, /* agent id: 1..128 printable ASCII (it becomes the signer) */
    FT_STR,   /* any string; lengths are the catalog's to check */
    FT_UINT,  /* non-negative integer; bounds are the catalog's */
    FT_ROLES  /* array of {role_name: string, required: bool} */
} field_type_t;

typedef struct field {
    const char *name;
    field_type_t type;
    bool required;
} field_t;

/* One adapter endpoint: the transition it maps to, its body schema and the
 * function that turns a checked body into the transition's payload. */
typedef struct endpoint {
    const char *transition;
    const field_t *fields;
    size_t n_fields;
    /* Returns the payload (new reference) and sets *signer (borrowed from
     * body or static), or NULL with msg filled. */
    json_t *(*build)(sw_http_req_t *req, json_t *body, const char **signer,
                     char msg[SWOOSH_MSG_SIZE]);
} endpoint_t;

static bool printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* Lists the schema's field names for messages ("a, b, c"). */
static void field_names(const endpoint_t *ep, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < ep->n_fields; i++) {
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%s", i ? ", " : "", ep->fields[i].name);
    }
}

static bool check_roles(const json_t *v, char msg[SWOOSH_MSG_SIZE])
{
    if (!json_is_array(v)) {
        snprintf(msg, SWOOSH_MSG_SIZE,
                 "roles: must be an array of {role_name, required}");
        return false;
    }
    size_t i;
    json_t *r;
    json_array_foreach(v, i, r)
    {
        if (!json_is_object(r)) {
            snprintf(msg, SWOOSH_MSG_SIZE, "roles[%zu]: must be an object", i);
            return false;
        }
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)r, k, x)
        {
            if (strcmp(k, "role_name") != 0 && strcmp(k, "required") != 0) {
                char q[SW_QUOTE_MAX + 4];
                sw_quote(q, SW_QUOTE_MAX, k, strlen(k));
                snprintf(msg, SWOOSH_MSG_SIZE,
                         "roles[%zu]: unknown field \"%s\"; expected "
                         "role_name, required",
                         i, q);
                return false;
            }
        }
        if (!json_is_string(json_object_get(r, "role_name"))) {
            snprintf(msg, SWOOSH_MSG_SIZE,
                     "roles[%zu].role_name: required string", i);
            return false;
        }
        if (!json_is_boolean(json_object_get(r, "required"))) {
            snprintf(msg, SWOOSH_MSG_SIZE,
                     "roles[%zu].required: required boolean", i);
            return false;
        }
    }
    return true;
}

/* Checks the body against the endpoint's schema: an object, no unknown
 * fields, required fields present (null = absent, SPEC §2), right types.
 * Everything fails with BAD_PAYLOAD (SPEC §7). */
static bool check_body(const endpoint_t *ep, json_t *body,
                       char msg[SWOOSH_MSG_SIZE])
{
    char names[128];
    field_names(ep, names, sizeof(names));
    if (!json_is_object(body)) {
        snprintf(msg, SWOOSH_MSG_SIZE, "the body must be a JSON object with %s",
                 names);
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < ep->n_fields && !known; i++)
            known = strcmp(k, ep->fields[i].name) == 0;
        if (!known) {
            char q[SW_QUOTE_MAX + 4];
            sw_quote(q, SW_QUOTE_MAX, k, strlen(k));
            snprintf(msg, SWOOSH_MSG_SIZE, "unknown field \"%s\"; expected %s",
                     q, names);
            return false;
        }
    }
    for (size_t i = 0; i < ep->n_fields; i++) {
        const field_t *f = &ep->fields[i];
        v = json_object_get(body, f->name);
        if (!v || json_is_null(v)) {
            if (f->required) {
                snprintf(msg, SWOOSH_MSG_SIZE, "%s: required field is missing",
                         f->name);
                return false;
            }
            continue;
        }
        switch (f->type) {
        case FT_AGENT:
            if (!json_is_string(v) ||
                !printable(json_string_value(v), SW_MAX_SIGNER)) {
                snprintf(msg, SWOOSH_MSG_SIZE,
                         "%s: must be a string of 1..%d printable ASCII "
                         "characters",
                         f->name, SW_MAX_SIGNER);
                return false;
            }
            break;
        case FT_STR:
            if (!json_is_string(v)) {
                snprintf(msg, SWOOSH_MSG_SIZE, "%s: must be a string", f->name);
                return false;
            }
            break;
        case FT_UINT:
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                snprintf(msg, SWOOSH_MSG_SIZE,
                         "%s: must be a non-negative integer", f->name);
                return false;
            }
            break;
        case FT_ROLES:
            if (!check_roles(v, msg))
                return false;
            break;
        }
    }
    return true;
}

/* Copies body[name] into payload[as] when present and not null. */
static void copy_field(json_t *payload, const char *as, json_t *body,
                       const char *name)
{
    json_t *v = json_object_get(body, name);
    if (v && !json_is_null(v))
        json_object_set(payload, as, v);
}

/* Sets payload[as] to the i-th path segment; false when it is not UTF-8
 * (json_string refuses it). */
static bool path_field(json_t *payload, const char *as, sw_http_req_t *req,
                       unsigned i, char msg[SWOOSH_MSG_SIZE])
{
    const char *seg = sw_http_req_param(req, i);
    json_t *s = seg ? json_string(seg) : NULL;
    if (!s) {
        snprintf(msg, SWOOSH_MSG_SIZE, "the %s in the path must be valid UTF-8",
                 as);
        return false;
    }
    json_object_set_new(payload, as, s);
    return true;
}

/* ----------------------------------------------------- body → payload */

static json_t *build_council(sw_http_req_t *req, json_t *body,
                             const char **signer, char msg[SWOOSH_MSG_SIZE])
{
    (void)req;
    (void)msg;
    json_t *pl = json_object();
    copy_field(pl, "council_id", body, "council_id");
    json_t *roles = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(body, "roles"), i, r)
    {
        json_t *o = json_object();
        json_object_set(o, "role", json_object_get(r, "role_name"));
        json_object_set(o, "required", json_object_get(r, "required"));
        json_array_append_new(roles, o);
    }
    json_object_set_new(pl, "roles", roles);
    copy_field(pl, "quorum", body, "quorum");
    *signer = SW_WHOOSH_SIGNER;
    return pl;
}

static json_t *build_role_claim(sw_http_req_t *req, json_t *body,
                                const char **signer, char msg[SWOOSH_MSG_SIZE])
{
    json_t *pl = json_object();
    if (!path_field(pl, "council_id", req, 0, msg)) {
        json_decref(pl);
        return NULL;
    }
    copy_field(pl, "role", body, "role_name");
    copy_field(pl, "agent_id", body, "agent_id");
    *signer = json_string_value(json_object_get(body, "agent_id"));
    return pl;
}

static json_t *build_task_create(sw_http_req_t *req, json_t *body,
                                 const char **signer, char msg[SWOOSH_MSG_SIZE])
{
    (void)req;
    (void)msg;
    json_t *pl = json_object();
    copy_field(pl, "task_id", body, "task_id");
    copy_field(pl, "title", body, "title");
    *signer = SW_WHOOSH_SIGNER;
    return pl;
}

/* Claim and complete share the shape {task_id (path), agent_id, result?}. */
static json_t *build_task_agent(sw_http_req_t *req, json_t *body,
                                const char **signer, char msg[SWOOSH_MSG_SIZE])
{
    json_t *pl = json_object();
    if (!path_field(pl, "task_id", req, 0, msg)) {
        json_decref(pl);
        return NULL;
    }
    copy_field(pl, "agent_id", body, "agent_id");
    copy_field(pl, "result", body, "result");
    *signer = json_string_value(json_object_get(body, "agent_id"));
    return pl;
}

static const field_t F_COUNCIL[] = {
    {"council_id", FT_STR, true},
    {"roles", FT_ROLES, true},
    {"quorum", FT_UINT, false},
};
static const field_t F_ROLE_CLAIM[] = {
    {"agent_id", FT_AGENT, true},
    {"role_name", FT_STR, true},
};
static const field_t F_TASK_CREATE[] = {
    {"task_id", FT_STR, true},
    {"title", FT_STR, true},
};
static const field_t F_TASK_CLAIM[] = {
    {"agent_id", FT_AGENT, true},
};
static const field_t F_TASK_COMPLETE[] = {
    {"agent_id", FT_AGENT, true},
    {"result", FT_STR, false},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const endpoint_t EP_COUNCIL = {"COUNCIL_PROFILES_LOADED", F_COUNCIL,
                                      N(F_COUNCIL), build_council};
static const endpoint_t EP_ROLE_CLAIM = {"COUNCIL_ROLE_CLAIMED", F_ROLE_CLAIM,
                                         N(F_ROLE_CLAIM), build_role_claim};
static const endpoint_t EP_TASK_CREATE = {"EXECUTION_TASK_CREATED",
                                          F_TASK_CREATE, N(F_TASK_CREATE),
                                          build_task_create};
static const endpoint_t EP_TASK_CLAIM = {"EXECUTION_TASK_CLAIMED", F_TASK_CLAIM,
                                         N(F_TASK_CLAIM), build_task_agent};
static const endpoint_t EP_TASK_COMPLETE = {"EXECUTION_TASK_COMPLETE",
                                            F_TASK_COMPLETE, N(F_TASK_COMPLETE),
                                            build_task_agent};

/* ------------------------------------------------------------ POSTs */

/* SPEC §7: the Idempotency-Key header, or "derived:" + hex SHA-256 of
 * METHOD " " path "\n" JCS(body), so an identical retry is a duplicate.
 * Returns false when the body is outside JCS's value space. */
static bool derive_key(sw_http_req_t *req, const json_t *body, char *out,
                       size_t n)
{
    sw_buf_t b = SW_BUF_INIT;
    sw_buf_puts(&b, sw_http_req_method(req));
    sw_buf_putc(&b, ' ');
    sw_buf_puts(&b, sw_http_req_path(req));
    sw_buf_putc(&b, '\n');
    bool ok = sw_canon_json(&b, body);
    if (ok) {
        char hex[SWOOSH_HASH_HEX_SIZE];
        sw_sha256_hex(b.data, b.len, hex);
        snprintf(out, n, "derived:%s", hex);
    }
    sw_buf_free(&b);
    return ok;
}

/* Translates one adapter request into its proposal and submits it through
 * the POST /transition path (guards, executor, SPEC §6 answer). Body errors
 * are BAD_PAYLOAD, unparseable JSON MALFORMED_JSON, a bad Idempotency-Key
 * BAD_FIELD (SPEC §7). */
static void submit(sw_api_t *api, sw_http_req_t *req, const endpoint_t *ep)
{
    char msg[SWOOSH_MSG_SIZE] = "";
    sw_code_t code = SW_C_BAD_PAYLOAD;
    json_t *payload = NULL, *prop = NULL;
    size_t len = 0;
    const char *raw = sw_http_req_body(req, &len);
    json_error_t jerr;
    json_t *body = json_loadb(raw ? raw : "", len,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!body) {
        code = SW_C_MALFORMED_JSON;
        char q[120 + 4];
        sw_quote(q, 120, jerr.text, strlen(jerr.text));
        snprintf(msg, sizeof(msg), "the body is not well-formed JSON: %s", q);
        goto fail;
    }
    const char *hdr = sw_http_req_header(req, "Idempotency-Key");
    if (hdr && !printable(hdr, SW_MAX_IDEM_KEY)) {
        code = SW_C_BAD_FIELD;
        snprintf(msg, sizeof(msg),
                 "Idempotency-Key: must be 1..%d printable ASCII characters",
                 SW_MAX_IDEM_KEY);
        goto fail_body;
    }
    if (!check_body(ep, body, msg))
        goto fail_body;
    char idem[SW_MAX_IDEM_KEY + 1];
    if (hdr) {
        snprintf(idem, sizeof(idem), "%s", hdr);
    } else if (!derive_key(req, body, idem, sizeof(idem))) {
        snprintf(msg, sizeof(msg),
                 "the body holds a number outside the integer range");
        goto fail_body;
    }
    const char *signer = NULL;
    payload = ep->build(req, body, &signer, msg);
    if (!payload)
        goto fail_body;
    prop = json_object();
    json_object_set_new(prop, "transition", json_string(ep->transition));
    json_object_set_new(prop, "signer", json_string(signer));
    json_object_set_new(prop, "idem_key", json_string(idem));
    json_object_set_new(prop, "payload", payload);
    sw_proposal_t p;
    code = sw_proposal_from_json(prop, &p, msg);
    json_decref(prop);
    json_decref(body);
    if (code == SW_C_OK) {
        sw_api_submit(api, req, &p);
        return;
    }
    /* Only the payload can be wrong here: every field error is the mapped
     * transition's BAD_PAYLOAD (SPEC §7). */
    code = SW_C_BAD_PAYLOAD;
    sw_http_respond_error(req, code, msg);
    return;
fail_body:
    json_decref(body);
fail:
    sw_http_respond_error(req, code, msg);
}

static void h_council(sw_http_req_t *req, void *arg)
{
    submit(arg, req, &EP_COUNCIL);
}

static void h_role_claim(sw_http_req_t *req, void *arg)
{
    submit(arg, req, &EP_ROLE_CLAIM);
}

static void h_task_create(sw_http_req_t *req, void *arg)
{
    submit(arg, req, &EP_TASK_CREATE);
}

static void h_task_claim(sw_http_req_t *req, void *arg)
{
    submit(arg, req, &EP_TASK_CLAIM);
}

static void h_task_complete(sw_http_req_t *req, void *arg)
{
    submit(arg, req, &EP_TASK_COMPLETE);
}

/* ------------------------------------------------------ GET /api/v1/tasks */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* SPEC §7: the tasks of the published view, sorted by id, each the state's
 * task object (PascalCase fields, as in GET /state) plus "id". Reads only
 * the view's Execution section (SPEC §1.1: no state outside the executor). */
static void h_tasks(sw_http_req_t *req, void *arg)
{
    sw_api_t *api = arg;
    const char *want = NULL;
    const char *q = sw_http_req_query(req, "status");
    if (q) {
        for (int i = 0; i < SW_TASK__COUNT && !want; i++)
            if (strcasecmp(q, sw_task_status_name((sw_task_status_t)i)) == 0)
                want = sw_task_status_name((sw_task_status_t)i);
        if (!want) {
            sw_http_respond_error(req, SW_C_BAD_FIELD,
                                  "status: must be one of open, claimed, "
                                  "completed, failed");
            return;
        }
    }
    sw_view_t *v = sw_executor_view(sw_api_executor(api));
    json_error_t jerr;
    json_t *exe = json_loadb(v->projection + v->sec_off[SW_SEC_EXECUTION],
                             v->sec_len[SW_SEC_EXECUTION], 0, &jerr);
    sw_view_release(v);
    json_t *tasks = json_object_get(exe, "Tasks");
    if (!json_is_object(tasks)) {
        json_decref(exe);
        sw_http_respond_error(req, SW_C_INTERNAL,
                              "the published Execution section is unreadable");
        return;
    }
    size_t n = json_object_size(tasks), k = 0;
    const char **ids = sw_xcalloc(n ? n : 1, sizeof(*ids));
    const char *id;
    json_t *t;
    json_object_foreach(tasks, id, t)
    {
        ids[k++] = id;
    }
    qsort(ids, k, sizeof(*ids), cmp_str);
    json_t *arr = json_array();
    for (size_t i = 0; i < k; i++) {
        t = json_object_get(tasks, ids[i]);
        const char *st = json_string_value(json_object_get(t, "Status"));
        if (want && (!st || strcmp(st, want) != 0))
            continue;
        json_t *o = json_copy(t);
        json_object_set_new(o, "id", json_string(ids[i]));
        json_array_append_new(arr, o);
    }
    free(ids);
    json_t *out = json_object();
    json_object_set_new(out, "tasks", arr);
    sw_buf_t b = SW_BUF_INIT;
    SW_ASSERT(sw_canon_json(&b, out));
    json_decref(out);
    json_decref(exe);
    size_t blen = 0;
    char *body = sw_buf_steal(&b, &blen);
    sw_http_respond(req, 200, NULL, body, blen);
}

/* ------------------------------------------------------------ routes */

static const sw_route_t whoosh_routes[] = {
    {"POST", "/api/v1/opportunities/council", SW_ROUTE_WRITE, h_council},
    {"POST", "/api/v1/councils/*/claims", SW_ROUTE_WRITE, h_role_claim},
    {"GET", "/api/v1/tasks", 0, h_tasks},
    {"POST", "/api/v1/tasks", SW_ROUTE_WRITE, h_task_create},
    {"POST", "/api/v1/tasks/*/claim", SW_ROUTE_WRITE, h_task_claim},
    {"POST", "/api/v1/tasks/*/complete", SW_ROUTE_WRITE, h_task_complete},
};

/* SPEC §7: the adapter's routes join the server's route table; http_api.c
 * calls this from its table of route sets. */
void sw_whoosh_routes(sw_api_t *api, sw_http_t *srv)
{
    sw_http_add_routes(srv, whoosh_routes, N(whoosh_routes), api);
}
