// SPDX-License-Identifier: GPL-2.0-only
/*
 * A page-fault handler for kvmbox's Uffd memory backend (PUT /snapshot/load with
 * mem_backend {"backend_type": "Uffd"}), for the lab tests; it runs beside kvmbox.
 *
 *   uffd-handler SOCKET MEMFILE
 *
 * Listens on the Unix socket SOCKET, takes one connection and its one message: a JSON
 * array of regions {base_host_virt_addr, size, offset, page_size} with the VM's
 * userfaultfd attached. Then answers each fault until kvmbox is gone: the faulting page,
 * and those of its aligned 256 KiB block not yet filled, get the same pages of MEMFILE
 * (UFFDIO_COPY; past the file's end, zeros). Blocks, not single pages: in the nested lab
 * a fault costs milliseconds, and a snapshot of the VM reads all of its RAM. At the end
 * it says on stderr "uffd-handler: served N pages for M faults".
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

#define BLOCK_PAGES 64

struct region {
	uint64_t base, size, offset;
	uint8_t *filled; /* a byte per page: 1 once this handler copied it */
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

static const uint8_t *file;
static uint64_t file_size, served, faults;

static void done(void)
{
	fprintf(stderr, "uffd-handler: served %llu pages for %llu faults\n",
		(unsigned long long)served, (unsigned long long)faults);
	exit(0);
}

/* Copies n pages from page index pg of r; false on EEXIST (some page already there). */
static bool copy(int uffd, struct region *r, uint64_t pg, uint64_t n)
{
	static uint8_t zero[BLOCK_PAGES << 16];
	uint64_t off = r->offset + pg * page_size, len = n * page_size;
	struct uffdio_copy c = {
		.dst = r->base + pg * page_size,
		.src = off + len <= file_size ? (uintptr_t)(file + off) : (uintptr_t)zero,
		.len = len,
	};

	/* Past the file's end (a short file): zeros, a page at a time. */
	if (n > 1 && off + len > file_size && off < file_size)
		return false;
	while (ioctl(uffd, UFFDIO_COPY, &c)) {
		if (errno == EEXIST)
			return false;
		if (errno == ESRCH)
			done(); /* kvmbox is gone, faults and all */
		if (errno != EAGAIN)
			die("UFFDIO_COPY");
		c.copy = 0;
	}
	memset(r->filled + pg, 1, n);
	return true;
}

/* The block of addr's page; false if addr is no RAM. */
static bool serve(int uffd, uint64_t addr)
{
	uint64_t page = addr & ~(page_size - 1);

	for (unsigned int i = 0; i < nr_regions; i++) {
		struct region *r = &regions[i];
		uint64_t pg, first, end;

		if (page < r->base || page - r->base >= r->size)
			continue;
		pg = (page - r->base) / page_size;
		first = pg - pg % BLOCK_PAGES;
		end = first + BLOCK_PAGES < r->size / page_size ? first + BLOCK_PAGES
								: r->size / page_size;
		/* Each run of pages not filled yet; one already there: page by page. */
		for (uint64_t a = first; a < end; a++) {
			uint64_t b = a;

			while (b < end && !r->filled[b])
				b++;
			if (b > a && !copy(uffd, r, a, b - a)) {
				for (uint64_t p = a; p < b; p++)
					served += copy(uffd, r, p, 1);
			} else {
				served += b - a;
			}
			a = b;
		}
		/* Filled before (and removed since, for all we know): once more. */
		if (r->filled[pg])
			served += copy(uffd, r, pg, 1);
		return true;
	}
	return false;
}

int main(int argc, char **argv)
{
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
	for (unsigned int i = 0; i < nr_regions; i++) {
		regions[i].filled = calloc(regions[i].size / page_size + 1, 1);
		if (!regions[i].filled)
			die("calloc");
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
		if (!serve(uffd, m.arg.pagefault.address)) {
			fprintf(stderr, "uffd-handler: fault at %#llx outside the regions\n",
				(unsigned long long)m.arg.pagefault.address);
			return 1;
		}
		faults++;
	}
	done();
}
