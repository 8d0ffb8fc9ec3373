// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Uffd memory backend's side in kvmbox (src/snapshot/uffd.c), without KVM: the
 * handler's JSON message for one and two regions (and a buffer too small for it); the
 * checks of backend_path (missing, not a socket, nobody listening, too long), each a
 * line naming the path; and, where this host allows a userfaultfd, the whole hand-over:
 * a listening "handler" gets the message and a userfaultfd on which it fills a page of
 * the registered memory (UFFDIO_COPY) that kvmbox's side then reads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "snapshot/uffd.h"

static char dir[] = "/tmp/kvmbox-uffd-XXXXXX";
static char sock_path[64];

static void test_message_lists_every_region(void **state)
{
	struct guest_memory mem = {.base = (u8 *)0x7f0000000000, .nr = 2};
	char buf[512], want[512];
	int len;

	(void)state;
	mem.regions[0] = (struct mem_region){0, 0xc0000000, mem.base};
	mem.regions[1] = (struct mem_region){0x100000000, 0x40000000, mem.base + 0xc0000000};
	snprintf(want, sizeof(want),
		 "[{\"base_host_virt_addr\":%llu,\"size\":3221225472,\"offset\":0,"
		 "\"page_size\":4096,\"page_size_kib\":4096},"
		 "{\"base_host_virt_addr\":%llu,\"size\":1073741824,\"offset\":3221225472,"
		 "\"page_size\":4096,\"page_size_kib\":4096}]",
		 0x7f0000000000ULL, 0x7f00c0000000ULL);
	assert_int_equal(uffd_message(&mem, 4096, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);

	mem.nr = 1;
	len = uffd_message(&mem, 4096, buf, sizeof(buf));
	assert_int_equal(len, (int)strlen(buf));
	assert_null(strstr(buf, "},{"));
	assert_string_equal(buf + strlen(buf) - 2, "}]");
	assert_int_equal(uffd_message(&mem, 4096, buf, 20), -ENOSPC);
	assert_int_equal(uffd_message(&mem, 4096, buf, 0), -ENOSPC);
}

static void expect_open_refused(const char *path, int want_ret, const char *want)
{
	struct uffd_conn c;
	char err[256] = "";

	assert_int_equal(uffd_open(&c, path, err, sizeof(err)), want_ret);
	if (!strstr(err, want) || !strstr(err, path))
		fail_msg("uffd_open(%s): '%s', wanted '%s'", path, err, want);
	assert_int_equal(c.sock, -1);
	assert_int_equal(c.uffd, -1);
}

/* A Unix socket bound at path; listening if listen_too, else closed (a stale file). */
static int bind_socket(const char *path, bool listen_too)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listen_too) {
		assert_int_equal(listen(fd, 1), 0);
		return fd;
	}
	close(fd);
	return -1;
}

static void test_backend_path_is_checked(void **state)
{
	char path[128], file[80];

	(void)state;
	expect_open_refused("/nonexistent/uffd.sock", -ENOENT, "No such file");
	snprintf(file, sizeof(file), "%s/file", dir);
	fclose(fopen(file, "w"));
	expect_open_refused(file, -ENOTSOCK, "is not a Unix socket");
	bind_socket(sock_path, false);
	expect_open_refused(sock_path, -ECONNREFUSED, "cannot connect to the page-fault handler");
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	expect_open_refused(path, -ENAMETOOLONG, "longer than");
}

/* The handler's end: the message (into msg) and the fd that came with it. */
static int receive(int conn, char *msg, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {msg, len - 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;
	ssize_t n = recvmsg(conn, &mh, 0);
	int fd;

	assert_true(n > 0);
	msg[n] = 0;
	cm = CMSG_FIRSTHDR(&mh);
	assert_non_null(cm);
	assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

static void test_handler_gets_message_and_fills_pages(void **state)
{
	struct guest_memory mem = {.nr = 1};
	int lfd = bind_socket(sock_path, true), conn, ufd, ret;
	char err[256] = "", msg[1024], want[256];
	struct uffd_conn c;
	static u8 page[4096];

	(void)state;
	ret = uffd_open(&c, sock_path, err, sizeof(err));
	if (ret == -EPERM || ret == -ENOSYS) {
		close(lfd);
		skip(); /* no userfaultfd for this process */
	}
	assert_int_equal(ret, 0);
	conn = accept(lfd, NULL, NULL);
	assert_true(conn >= 0);
	mem.total = 2 * 4096;
	mem.base =
		mmap(NULL, mem.total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem.base != MAP_FAILED);
	mem.regions[0] = (struct mem_region){0, mem.total, mem.base};
	assert_int_equal(uffd_start(&c, &mem, err, sizeof(err)), 0);
	assert_int_equal(c.sock, -1);

	ufd = receive(conn, msg, sizeof(msg));
	snprintf(want, sizeof(want),
		 "[{\"base_host_virt_addr\":%llu,\"size\":8192,\"offset\":0,\"page_size\":%ld,",
		 (unsigned long long)(uintptr_t)mem.base, sysconf(_SC_PAGESIZE));
	if (strncmp(msg, want, strlen(want)))
		fail_msg("message '%s', wanted it to start '%s'", msg, want);
	memset(page, 0x5a, sizeof(page));
	struct uffdio_copy copy = {(uintptr_t)mem.base + 4096, (uintptr_t)page, 4096, 0, 0};
	assert_int_equal(ioctl(ufd, UFFDIO_COPY, &copy), 0);
	assert_int_equal(mem.base[4096], 0x5a);
	assert_int_equal(mem.base[8191], 0x5a);

	uffd_close(&c);
	close(ufd);
	close(conn);
	close(lfd);
	munmap(mem.base, mem.total);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/uffd.sock", dir);
	return 0;
}

static int teardown(void **state)
{
	char file[80];

	(void)state;
	snprintf(file, sizeof(file), "%s/file", dir);
	unlink(file);
	unlink(sock_path);
	return rmdir(dir) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_lists_every_region),
		cmocka_unit_test(test_backend_path_is_checked),
		cmocka_unit_test(test_handler_gets_message_and_fills_pages),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
