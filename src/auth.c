/* auth: constant-time bearer token check (see auth.h). */
#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

/* Hashing both sides first makes the compare independent of the token's
 * length as well as its content (SPEC §6 bearer token). */
bool sw_auth_bearer_ok(const char *token, const char *authorization)
{
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
    if (!token || !*token || !authorization)
        return false;
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *cred = authorization + 7;
    while (*cred == ' ')
        cred++;
    size_t n = strlen(cred);
    while (n > 0 && (cred[n - 1] == ' ' || cred[n - 1] == '\t'))
        n--;
    SHA256((const unsigned char *)token, strlen(token), want);
    SHA256((const unsigned char *)cred, n, got);
    return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}
