/* netc: the little client-side networking the load generators share
 * (`swoosh bench`, bench/taskflow_load): split an http:// URL and open a
 * non-blocking TCP connection with Nagle off. */
#ifndef SW_NETC_H
#define SW_NETC_H

#include <stdbool.h>
#include <stddef.h>

/* Splits "http://HOST[:PORT][/...]" (the scheme is optional; PORT defaults
 * to 80) into host and port. Returns false when either does not fit or the
 * host is empty. */
bool sw_netc_split_url(const char *url, char *host, size_t host_len, char *port,
                       size_t port_len);

/* Connects to host:port (blocking connect, then O_NONBLOCK and TCP_NODELAY).
 * Returns the socket, or -1. Caller owns the descriptor. */
int sw_netc_connect(const char *host, const char *port);

#endif
