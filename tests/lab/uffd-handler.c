// SPDX-License-Identifier: GPL-2.0-only
/*
 * A page-fault handler for kvmbox's Uffd memory backend (PUT /snapshot/load with
 * mem_backend {"backend_type": "Uffd"}), for the lab tests; it runs beside kvmbox.
 *
 *   uffd-handler SOCKET MEMFILE
 *
 * Listens on the Unix socket SOCKET, takes one connection and its one message: a JSON
 * array of regions {base_host_virt_addr, size, offset, page_size} with the VM's
 * userfaultfd attached. Then fills every missing page the VM touches with the same page
 * of MEMFILE (UFFDIO_COPY; past the file's end, zeros) until kvmbox is gone, and says
 * how many pages it served on stderr: "uffd-handler: served N pages".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_REGIONS 8

struct region {
	uint64_t base, size, offset;
};

static struct region regions[MAX_REGIONS];
static unsigned int nr_regions;
static uint64_t page_size = 4096;

static void die(const char *what)
{
	fprintf(stderr, "uffd-handler: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The number after "name": in the object starting at obj (ending at end), or false. */
static bool field(const char *obj, const char *end, const char *name, uint64_t *v)
{
	char key[40];
	const char *p;
	char *after;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(obj, key);
	if (!p || p > end)
		return false;
	errno = 0;
	*v = strtoull(p + strlen(key), &after, 10);
	return !errno && after != p + strlen(key);
}

static void parse(const char *msg)
{
	const char *obj = msg;

	while ((obj = strchr(obj, '{')) && nr_regions < MAX_REGIONS) {
		const char *end = strchr(obj, '}');
		struct region *r = &regions[nr_regions];

		if (!end || !field(obj, end, "base_host_virt_addr", &r->base) ||
		    !field(obj, end, "size", &r->size) || !field(obj, end, "offset", &r->offset) ||
		    !field(obj, end, "page_size", &page_size)) {
			fprintf(stderr, "uffd-handler: bad message: %s\n", msg);
			exit(1);
		}
		nr_regions++;
		obj = end;
	}
	if (!nr_regions || !page_size || page_size % 4096) {
		fprintf(stderr, "uffd-handler: no regions in the message: %s\n", msg);
		exit(1);
	}
}

/* One connection's one message and its descriptor; the peer's pid in *pid. */
static int receive(const char *path, pid_t *pid)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char msg[4096], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {msg, sizeof(msg) - 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct cmsghdr *cm;
	int lfd, conn, fd;
	ssize_t n;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path too long");
	strcpy(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1))
		die(path);
	fprintf(stderr, "uffd-handler: listening on %s\n", path);
	conn = accept(lfd, NULL, NULL);
	if (conn < 0 || getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen))
		die("accept");
	*pid = cred.pid;
	n = recvmsg(conn, &mh, 0);
	if (n <= 0)
		die("recvmsg");
	msg[n] = 0;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "uffd-handler: no descriptor with the message\n");
		exit(1);
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	parse(msg);
	close(conn);
	close(lfd);
	unlink(path);
	return fd;
}

/* Fills the page at addr from the file (zeros past its end); false if addr is no RAM. */
static bool serve(int uffd, uint64_t addr, const uint8_t *file, uint64_t file_size)
{
	static uint8_t zero[1 << 16];
	uint64_t page = addr & ~(page_size - 1);

	for (unsigned int i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];
		uint64_t off;

		if (page < r->base || page - r->base >= r->size)
			continue;
		off = r->offset + (page - r->base);
		struct uffdio_copy c = {
			.dst = page,
			.src = off + page_size <= file_size ? (uintptr_t)(file + off)
							    : (uintptr_t)zero,
			.len = page_size,
		};
		/* EEXIST: another fault on the page was served first; EAGAIN: try again. */
		while (ioctl(uffd, UFFDIO_COPY, &c) && errno != EEXIST) {
			if (errno != EAGAIN)
				die("UFFDIO_COPY");
			c.copy = 0;
		}
		return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	uint64_t served = 0, file_size;
	const uint8_t *file;
	struct stat st;
	pid_t pid;
	int uffd, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: uffd-handler SOCKET MEMFILE\n");
		return 2;
	}
	fd = open(argv[2], O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		die(argv[2]);
	file_size = (uint64_t)st.st_size;
	file = file_size ? mmap(NULL, file_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	if (file == MAP_FAILED)
		die("mmap");
	uffd = receive(argv[1], &pid);
	if (page_size > 1 << 16) {
		fprintf(stderr, "uffd-handler: page size %llu not supported\n",
			(unsigned long long)page_size);
		return 1;
	}
	/* Until kvmbox is gone: its userfaultfd reports no hang-up while we hold it. */
	while (kill(pid, 0) == 0 || errno != ESRCH) {
		struct pollfd p = {uffd, POLLIN, 0};
		struct uffd_msg m;
		int r = poll(&p, 1, 500);

		if (r < 0 && errno != EINTR)
			die("poll");
		if (r > 0 && (p.revents & (POLLHUP | POLLERR)))
			break;
		if (r <= 0 || read(uffd, &m, sizeof(m)) != sizeof(m))
			continue;
		if (m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (!serve(uffd, m.arg.pagefault.address, file, file_size)) {
			fprintf(stderr, "uffd-handler: fault at %#llx outside the regions\n",
				(unsigned long long)m.arg.pagefault.address);
			return 1;
		}
		served++;
	}
	fprintf(stderr, "uffd-handler: served %llu pages\n", (unsigned long long)served);
	return 0;
}
