/* netc: client-side URL splitting and TCP connect (see netc.h). */
#include "netc.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Both load clients take a --url; one parser keeps their accepted forms
 * identical. */
bool sw_netc_split_url(const char *url, char *host, size_t host_len, char *port,
                       size_t port_len)
{
    const char *p = url;
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    const char *slash = strchr(p, '/');
    size_t hp = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = memchr(p, ':', hp);
    size_t hn = colon ? (size_t)(colon - p) : hp;
    if (hn == 0 || hn >= host_len)
        return false;
    memcpy(host, p, hn);
    host[hn] = '\0';
    const char *pp = colon ? colon + 1 : "80";
    size_t pn = colon ? hp - hn - 1 : 2;
    if (pn == 0 || pn >= port_len)
        return false;
    memcpy(port, pp, pn);
    port[pn] = '\0';
    return true;
}

/* Load clients measure request latency, so Nagle's delay must be off and
 * sockets non-blocking for their epoll loops. */
int sw_netc_connect(const char *host, const char *port)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM, 0);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}
