/* err: tables of system errors and rejection codes (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <string.h>

static const struct {
    const char *name;
    int status;
    const char *msg;
} code_table[] = {
#define SW_CODE_ROW(name, status, msg) {#name, status, msg},
    SW_CODE_MAP(SW_CODE_ROW)
#undef SW_CODE_ROW
};

/* The stable `code` string of an error body (SPEC §6). */
const char *sw_code_name(sw_code_t c)
{
    return (unsigned)c < SW_C__COUNT ? code_table[c].name : "INTERNAL";
}

/* The HTTP status a code is answered with (one table, docs/ERRORS.md). */
int sw_code_status(sw_code_t c)
{
    return (unsigned)c < SW_C__COUNT ? code_table[c].status : 500;
}

/* The default sentence when the rejecting step has no better one. */
const char *sw_code_message(sw_code_t c)
{
    return (unsigned)c < SW_C__COUNT ? code_table[c].msg : "internal error";
}

/* The inverse of sw_code_name(), for tests reading codes back from bodies;
 * returns SW_C__COUNT for an unknown name. */
sw_code_t sw_code_by_name(const char *name)
{
    for (unsigned i = 0; i < SW_C__COUNT; i++)
        if (strcmp(code_table[i].name, name) == 0)
            return (sw_code_t)i;
    return SW_C__COUNT;
}

/* Client text echoed in a rejection sentence must not smuggle control
 * bytes, cut UTF-8 or length into it (docs/API.md: the sentence is printable
 * ASCII), whichever module builds the sentence. */
void sw_quote(char *out, size_t max, const char *s, size_t n)
{
    size_t k = n > max ? max : n;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
    }
    if (n > max) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

static const struct {
    const char *name;
    const char *msg;
} err_table[] = {
#define SWOOSH_ERR_ROW(name, msg) {"SWOOSH_" #name, msg},
    SWOOSH_ERR_MAP(SWOOSH_ERR_ROW)
#undef SWOOSH_ERR_ROW
};

#define ERR_COUNT (sizeof(err_table) / sizeof(err_table[0]))

/* Public: a sentence for a system error code (include/swoosh.h). */
const char *swoosh_strerror(swoosh_err_t code)
{
    return (unsigned)code < ERR_COUNT ? err_table[code].msg : "unknown error";
}

/* Public: the code's name ("SWOOSH_EIO"), for logs and tests. */
const char *swoosh_err_name(swoosh_err_t code)
{
    return (unsigned)code < ERR_COUNT ? err_table[code].name : "SWOOSH_UNKNOWN";
}

/* Public: the library version the binary was built as. */
const char *swoosh_version(void)
{
    return SWOOSH_VERSION;
}

/* Every fallible call reports through this (STYLE "Context travels up"):
 * the code, the saved errno and a sentence; err may be NULL. Returns code
 * so callers can `return sw_error_set(...)`. */
swoosh_err_t sw_error_set(swoosh_error *err, swoosh_err_t code, int sys_errno,
                          const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->sys_errno = sys_errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    if (sys_errno) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
                 strerror(sys_errno));
    }
    return code;
}

/* Each layer prepends its context ("snapshot: rename …: No space left"). */
void sw_error_prefix(swoosh_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    /* Build "prefix: old" by hand: the old message is cut, never the
     * prefix, when the two do not fit. */
    char old[sizeof(err->msg)];
    memcpy(old, err->msg, sizeof(old));
    size_t plen = strlen(prefix);
    if (plen > sizeof(err->msg) - 3)
        plen = sizeof(err->msg) - 3;
    memcpy(err->msg, prefix, plen);
    memcpy(err->msg + plen, ": ", 2);
    size_t room = sizeof(err->msg) - plen - 3;
    size_t olen = strnlen(old, sizeof(old) - 1);
    if (olen > room)
        olen = room;
    memcpy(err->msg + plen + 2, old, olen);
    err->msg[plen + 2 + olen] = '\0';
}
