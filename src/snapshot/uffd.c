// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "snapshot/uffd.h"

/* Room for GUEST_MAX_REGIONS objects of five 20-digit numbers and their names. */
#define UFFD_MSG_MAX 1024

/* snprintf at buf + *n; false when it did not fit. */
static bool append(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= len - *n)
		return false;
	*n += (size_t)w;
	return true;
}

int uffd_message(const struct guest_memory *mem, size_t page_size, char *buf, size_t len)
{
	bool ok = len > 0;
	size_t n = 0;

	if (ok)
		ok = append(buf, len, &n, "[");
	for (unsigned int i = 0; ok && i < mem->nr; i++) {
		const struct mem_region *r = &mem->regions[i];

		/*
		 * page_size is Firecracker's name now; page_size_kib the older one, which
		 * held bytes too: both, for handlers of either age.
		 */
		ok = append(buf, len, &n,
			    "%s{\"base_host_virt_addr\":%llu,\"size\":%llu,\"offset\":%llu,"
			    "\"page_size\":%zu,\"page_size_kib\":%zu}",
			    i ? "," : "", (unsigned long long)(uintptr_t)r->hva,
			    (unsigned long long)r->size, (unsigned long long)(r->hva - mem->base),
			    page_size, page_size);
	}
	if (ok)
		ok = append(buf, len, &n, "]");
	return ok ? (int)n : -ENOSPC;
}

void uffd_close(struct uffd_conn *c)
{
	if (c->sock >= 0)
		close(c->sock);
	if (c->uffd >= 0)
		close(c->uffd);
	c->sock = c->uffd = -1;
}

static int connect_handler(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "backend_path %s: longer than a Unix socket's path", path);
		return -ENAMETOOLONG;
	}
	if (stat(path, &st)) {
		ret = -errno;
		snprintf(err, errlen, "backend_path %s: %s", path, strerror(errno));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "backend_path %s is not a Unix socket", path);
		return -ENOTSOCK;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		snprintf(err, errlen, "cannot connect to the page-fault handler at %s: %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

static int make_uffd(char *err, size_t errlen)
{
	struct uffdio_api api = {.api = UFFD_API};
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK), ret;

	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "userfaultfd: %s%s", strerror(errno),
			 errno == EPERM ? " (with vm.unprivileged_userfaultfd=0 it needs root or "
					  "CAP_SYS_PTRACE)"
					: "");
		return ret;
	}
	if (ioctl(fd, UFFDIO_API, &api)) {
		ret = -errno;
		snprintf(err, errlen, "userfaultfd: UFFDIO_API: %s", strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

int uffd_open(struct uffd_conn *c, const char *path, char *err, size_t errlen)
{
	c->uffd = -1;
	c->sock = connect_handler(path, err, errlen);
	if (c->sock < 0) {
		int ret = c->sock;

		c->sock = -1;
		return ret;
	}
	c->uffd = make_uffd(err, errlen);
	if (c->uffd < 0) {
		int ret = c->uffd;

		c->uffd = -1;
		uffd_close(c);
		return ret;
	}
	return 0;
}

static int register_regions(int uffd, const struct guest_memory *mem, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < mem->nr; i++) {
		struct uffdio_register reg = {
			.range = {(uintptr_t)mem->regions[i].hva, mem->regions[i].size},
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};

		if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
			int ret = -errno;

			snprintf(err, errlen, "userfaultfd: UFFDIO_REGISTER of %llu bytes: %s",
				 (unsigned long long)reg.range.len, strerror(errno));
			return ret;
		}
	}
	return 0;
}

/* The message with the userfaultfd on its first byte; the rest, if any, plainly. */
static int send_message(struct uffd_conn *c, const char *msg, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {(void *)msg, len};
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &c->uffd, sizeof(int));
	do
		n = sendmsg(c->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	while (n >= 0 && (size_t)n < len) {
		ssize_t m = send(c->sock, msg + n, len - (size_t)n, MSG_NOSIGNAL);

		if (m < 0 && errno != EINTR)
			return -errno;
		n += m > 0 ? m : 0;
	}
	return n < 0 ? -errno : 0;
}

int uffd_start(struct uffd_conn *c, const struct guest_memory *mem, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	char msg[UFFD_MSG_MAX];
	int len, ret;

	if (c->uffd < 0 || c->sock < 0) {
		snprintf(err, errlen, "no page-fault handler connected");
		return -EBADF;
	}
	ret = register_regions(c->uffd, mem, err, errlen);
	if (ret)
		return ret;
	len = uffd_message(mem, page > 0 ? (size_t)page : 4096, msg, sizeof(msg));
	if (len < 0) {
		snprintf(err, errlen, "the page-fault handler's message is too long");
		return len;
	}
	ret = send_message(c, msg, (size_t)len);
	if (ret)
		snprintf(err, errlen, "cannot send the page-fault handler its message: %s",
			 strerror(-ret));
	close(c->sock);
	c->sock = -1;
	return ret;
}
