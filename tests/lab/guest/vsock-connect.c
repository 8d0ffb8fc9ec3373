// SPDX-License-Identifier: GPL-2.0-only
/*
 * A vsock client for the lab's test guest, whose busybox has none. Built static by
 * tools/lab/build-initramfs into the guest's /bin.
 *
 *   vsock-connect CID PORT TEXT   connects, sends "TEXT\n", prints the reply line
 *   vsock-connect --local-cid     prints the guest's own CID
 *
 * Exits 0 on success, 1 with one line on stderr otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Generous: the lab's guest runs under nested emulation. These only bound a hang. */
#define CONNECT_TIMEOUT_S 60
#define REPLY_TIMEOUT_S	  60
#define MAX_REPLY	  512

static int die(const char *what)
{
	fprintf(stderr, "vsock-connect: %s: %s\n", what, strerror(errno));
	return 1;
}

static int local_cid(void)
{
	unsigned int cid;
	int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return die("/dev/vsock");
	if (ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0)
		return die("IOCTL_VM_SOCKETS_GET_LOCAL_CID");
	printf("%u\n", cid);
	close(fd);
	return 0;
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

/* Reads until a newline or end of stream; returns the length or -1. */
static ssize_t read_line(int s, char *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap - 1 && !memchr(buf, '\n', len)) {
		ssize_t n = read(s, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

static int exchange(unsigned int cid, unsigned int port, const char *text)
{
	struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
	struct timeval ct = {.tv_sec = CONNECT_TIMEOUT_S}, rt = {.tv_sec = REPLY_TIMEOUT_S};
	char reply[MAX_REPLY];
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return die("socket(AF_VSOCK)");
	/* The default connect timeout (2 s) is too short for a nested lab. */
	if (setsockopt(s, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &ct, sizeof(ct)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt)) < 0)
		return die("setsockopt");
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return die("connect");
	if (send_all(s, text, strlen(text)) < 0 || send_all(s, "\n", 1) < 0)
		return die("write");
	if (read_line(s, reply, sizeof(reply)) < 0)
		return die("read");
	fputs(reply, stdout);
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	char *end1, *end2;
	unsigned long cid, port;

	if (argc == 2 && !strcmp(argv[1], "--local-cid"))
		return local_cid();
	if (argc != 4) {
		fprintf(stderr, "usage: vsock-connect CID PORT TEXT | --local-cid\n");
		return 1;
	}
	cid = strtoul(argv[1], &end1, 10);
	port = strtoul(argv[2], &end2, 10);
	if (*end1 || *end2 || cid > 0xffffffffUL || port > 0xffffffffUL) {
		fprintf(stderr, "vsock-connect: bad CID or port\n");
		return 1;
	}
	return exchange((unsigned int)cid, (unsigned int)port, argv[3]);
}
