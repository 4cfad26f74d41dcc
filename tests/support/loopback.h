/* Listening sockets for the tests' own servers (metadata service, Lambda Runtime API, fault
 * proxy): 127.0.0.1 only, on a port the kernel picks, because tests run in parallel and must
 * never be reachable from another machine. */
#ifndef DR_TEST_LOOPBACK_H
#define DR_TEST_LOOPBACK_H

#include <stdint.h>

/* A socket listening on 127.0.0.1 with `backlog`, its port in *port; -1 with errno set. */
int loopback_listen(int backlog, uint16_t *port);

/* The next connection on `listen_fd`, or -1 when none came within `timeout_ms` (the
 * caller's chance to check whether it should stop). */
int loopback_accept(int listen_fd, int timeout_ms);

#endif
