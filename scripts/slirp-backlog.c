// SPDX-License-Identifier: GPL-2.0
/*
 * slirp-backlog.so: preloaded into QEMU by scripts/run.sh when a host port is forwarded.
 *
 * QEMU's user networking (libslirp 4.7) listens on a forwarded host port with a backlog of 1.
 * A load generator that opens many connections at once (redis-benchmark opens all 100 of the
 * paper's clients together) then overflows the host's accept queue: the host kernel drops the
 * handshakes it has no room for (TcpExtListenOverflows in `nstat`), clients that believe they
 * are connected wait on retransmissions, and some end with "Connection reset by peer".  The
 * guest never sees those clients, so a benchmark through the forwarded port would measure
 * slirp's accept queue instead of the guest.
 *
 * This library gives every listen() in the process a backlog of at least UKL_LISTEN_BACKLOG
 * (default 1024; the host's net.core.somaxconn still caps it).  Nothing else changes: the
 * same QEMU command runs stock Linux and every UKL profile.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

int listen(int fd, int backlog)
{
	static int (*real_listen)(int, int);
	const char *env = getenv("UKL_LISTEN_BACKLOG");
	int floor = env ? atoi(env) : 1024;

	if (!real_listen)
		real_listen = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
	if (backlog < floor)
		backlog = floor;
	return real_listen(fd, backlog);
}
