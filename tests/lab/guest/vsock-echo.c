// SPDX-License-Identifier: GPL-2.0-only
/*
 * A vsock echo server for the lab's test guest (busybox's nc has no AF_VSOCK), for the
 * host-initiated half of the userspace vsock tests. Built static by
 * tools/lab/build-initramfs into the guest's /bin.
 *
 *   vsock-echo PORT   listens on PORT of any CID, prints "ready", takes one connection,
 *                     writes back every byte it reads until the peer's end of stream,
 *                     closes and prints "echoed N" (bytes)
 *
 * Exits 0 on success, 1 with one line on stderr otherwise; gives up after a timeout.
 */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define TIMEOUT_S 120 /* only bounds a hang: the lab's guest runs under nested emulation */

static int die(const char *what)
{
	fprintf(stderr, "vsock-echo: %s: %s\n", what, strerror(errno));
	return 1;
}

static int send_all(int s, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(s, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int echo(int c)
{
	static char buf[65536];
	unsigned long long total = 0;
	struct timeval t = {.tv_sec = TIMEOUT_S};

	if (setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof(t)) < 0 ||
	    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof(t)) < 0)
		return die("setsockopt");
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return die("read");
		if (n == 0)
			break;
		if (send_all(c, buf, (size_t)n) < 0)
			return die("write");
		total += (unsigned long long)n;
	}
	close(c);
	printf("echoed %llu\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY};
	char *end;
	unsigned long port;
	int s, c;

	if (argc != 2) {
		fprintf(stderr, "usage: vsock-echo PORT\n");
		return 1;
	}
	port = strtoul(argv[1], &end, 10);
	if (*end || port > 0xffffffffUL) {
		fprintf(stderr, "vsock-echo: bad port\n");
		return 1;
	}
	addr.svm_port = (unsigned int)port;
	s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return die("socket(AF_VSOCK)");
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(s, 4) < 0)
		return die("bind/listen");
	printf("ready\n");
	fflush(stdout);
	alarm(TIMEOUT_S * 2);
	c = accept(s, NULL, NULL);
	if (c < 0)
		return die("accept");
	return echo(c);
}
