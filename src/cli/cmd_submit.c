/* swoosh submit: a small client for scripts (SPEC §8). */
#include "cli.h"

#include "buf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_EVIDENCE 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: swoosh submit [flags] [-]\n\n"
            "Posts one proposal and prints the answer; exit 0 when accepted,\n"
            "1 when rejected or unreachable, 2 on a usage error.\n\n"
            "  -                          read the whole JSON body from stdin\n"
            "  --url URL                  server (default "
            "http://127.0.0.1:8080)\n"
            "  --path PATH                endpoint (default /transition)\n"
            "  --transition NAME          catalog name (required without -)\n"
            "  --signer ID                signer (required without -)\n"
            "  --idem-key KEY             idempotency key (required without "
            "-)\n"
            "  --payload JSON             payload object\n"
            "  --inputs-hash HEX          SHA-256 of JCS(payload)\n"
            "  --hlc P-L-NODE             client HLC (default: server "
            "stamps)\n"
            "  --window-id ID             execution window id\n"
            "  --evidence STR             evidence string (repeatable)\n"
            "  --current-state-hash HEX   precondition (\"genesis\" = index "
            "0)\n"
            "  --token TOKEN              bearer token (default "
            "$SWOOSH_API_TOKEN)\n"
            "  --quiet                    print nothing, only set the exit "
            "code\n\n"
            "A flag's value may also follow an '=': --signer=ID.\n");
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    sw_buf_append(arg, p, size * n);
    return size * n;
}

static int read_stdin(sw_buf_t *b)
{
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        sw_buf_append(b, chunk, n);
    return ferror(stdin) ? -1 : 0;
}

static int build_body(sw_buf_t *body, const char *transition,
                      const char *signer, const char *idem, const char *payload,
                      const char *inputs_hash, const char *hlc,
                      const char *window_id, const char **evidence,
                      size_t n_evidence, const char *csh)
{
    json_t *o = json_object();
    int rc = -1;
    json_object_set_new(o, "transition", json_string(transition));
    json_object_set_new(o, "signer", json_string(signer));
    json_object_set_new(o, "idem_key", json_string(idem));
    if (payload) {
        json_error_t je;
        json_t *p = json_loads(payload, JSON_REJECT_DUPLICATES, &je);
        if (!p || !json_is_object(p)) {
            fprintf(stderr,
                    "swoosh submit: --payload is not a JSON object%s%s\n",
                    p ? "" : ": ", p ? "" : je.text);
            json_decref(p);
            goto out;
        }
        json_object_set_new(o, "payload", p);
    }
    if (inputs_hash)
        json_object_set_new(o, "inputs_hash", json_string(inputs_hash));
    if (hlc)
        json_object_set_new(o, "hlc", json_string(hlc));
    if (window_id)
        json_object_set_new(o, "window_id", json_string(window_id));
    if (csh)
        json_object_set_new(o, "current_state_hash", json_string(csh));
    if (n_evidence > 0) {
        json_t *ev = json_array();
        for (size_t i = 0; i < n_evidence; i++)
            json_array_append_new(ev, json_string(evidence[i]));
        json_object_set_new(o, "evidence", ev);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s)
        goto out;
    sw_buf_puts(body, s);
    free(s);
    rc = 0;
out:
    json_decref(o);
    return rc;
}

/* Posts a proposal built from flags (or stdin) with libcurl and maps the
 * HTTP status to the exit code, so shell scripts can drive SWOOSH. */
int cmd_submit(int argc, char **argv)
{
    const char *url = "http://127.0.0.1:8080", *path = "/transition";
    const char *transition = NULL, *signer = NULL, *idem = NULL,
               *payload = NULL, *inputs_hash = NULL, *hlc = NULL,
               *window_id = NULL, *csh = NULL;
    const char *token = getenv("SWOOSH_API_TOKEN");
    const char *evidence[MAX_EVIDENCE];
    size_t n_evidence = 0;
    bool from_stdin = false, quiet = false;
    int rc = SW_EXIT_FAIL;

    const sw_cli_opt_t opts[] = {
        {.name = "-", .kind = SW_CLI_FLAG, .dst = &from_stdin},
        {.name = "--quiet", .kind = SW_CLI_FLAG, .dst = &quiet},
        {.name = "--url", .kind = SW_CLI_STRING, .dst = &url},
        {.name = "--path", .kind = SW_CLI_STRING, .dst = &path},
        {.name = "--transition", .kind = SW_CLI_STRING, .dst = &transition},
        {.name = "--signer", .kind = SW_CLI_STRING, .dst = &signer},
        {.name = "--idem-key", .kind = SW_CLI_STRING, .dst = &idem},
        {.name = "--payload", .kind = SW_CLI_STRING, .dst = &payload},
        {.name = "--inputs-hash", .kind = SW_CLI_STRING, .dst = &inputs_hash},
        {.name = "--hlc", .kind = SW_CLI_STRING, .dst = &hlc},
        {.name = "--window-id", .kind = SW_CLI_STRING, .dst = &window_id},
        {.name = "--current-state-hash", .kind = SW_CLI_STRING, .dst = &csh},
        {.name = "--token", .kind = SW_CLI_STRING, .dst = &token},
        {.name = "--evidence",
         .kind = SW_CLI_LIST,
         .dst = evidence,
         .count = &n_evidence,
         .max = MAX_EVIDENCE},
    };
    const sw_cli_spec_t spec = {
        .prog = "swoosh submit",
        .opts = opts,
        .n_opts = sizeof opts / sizeof opts[0],
        .usage = usage,
        .unknown_fmt = "unknown argument '%s'; see `swoosh submit --help`",
        .missing_fmt = "%s needs a value",
    };
    int pr = sw_cli_parse(&spec, argc, argv, stdout, stderr);
    if (pr >= 0)
        return pr;

    sw_buf_t body = SW_BUF_INIT, resp = SW_BUF_INIT;
    if (from_stdin) {
        if (read_stdin(&body) != 0) {
            fprintf(stderr, "swoosh submit: cannot read stdin\n");
            goto out_body;
        }
    } else {
        if (!transition || !signer || !idem) {
            fprintf(stderr, "swoosh submit: --transition, --signer and "
                            "--idem-key are required (or pass the body on "
                            "stdin with -)\n");
            rc = SW_EXIT_USAGE;
            goto out_body;
        }
        if (build_body(&body, transition, signer, idem, payload, inputs_hash,
                       hlc, window_id, evidence, n_evidence, csh) != 0) {
            rc = SW_EXIT_USAGE;
            goto out_body;
        }
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    if (!c)
        goto out_global;
    sw_buf_t full = SW_BUF_INIT, auth = SW_BUF_INIT;
    sw_buf_printf(&full, "%s%s", url, path);
    struct curl_slist *hdr =
        curl_slist_append(NULL, "Content-Type: application/json");
    if (token && *token) {
        sw_buf_printf(&auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth.data);
    }
    curl_easy_setopt(c, CURLOPT_URL, full.data);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data ? body.data : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    if (cc != CURLE_OK) {
        fprintf(stderr, "swoosh submit: %s: %s\n", full.data,
                curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (!quiet)
            printf("%s\n", resp.data ? resp.data : "");
        rc = status >= 200 && status < 300 ? SW_EXIT_OK : SW_EXIT_FAIL;
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    sw_buf_free(&full);
    sw_buf_free(&auth);
out_global:
    curl_global_cleanup();
out_body:
    sw_buf_free(&body);
    sw_buf_free(&resp);
    return rc;
}
