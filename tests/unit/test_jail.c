// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of --jail's checks and path map (src/jail/jail_opts.c): the errors that must
 * come before anything is mounted or /dev/kvm opened, and how every option's path is
 * renamed in the jail. No root needed: the checks take the effective uid as a value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jail/jail.h"

static char dir[64], empty[96], full[96], kernel[96], disk[96];
static struct jail_plan plan;

static void make_file(const char *path, mode_t mode, off_t size)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int setup(void **state)
{
	char x[128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kvmbox-jail-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	snprintf(full, sizeof(full), "%s/full", dir);
	snprintf(kernel, sizeof(kernel), "%s/kernel", dir);
	snprintf(disk, sizeof(disk), "%s/disk.img", dir);
	if (mkdir(empty, 0755) || mkdir(full, 0755))
		return -1;
	make_file(kernel, 0644, 100);
	make_file(disk, 0600, 1 << 20);
	snprintf(x, sizeof(x), "%s/x", full); /* a folder with something in it */
	make_file(x, 0644, 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A jail for the user who owns the test's files. */
static struct jail_config good_jail(void)
{
	return (struct jail_config){.dir = empty, .uid = getuid(), .gid = getgid()};
}

static void test_parse_id(void **state)
{
	long long v = -1;

	(void)state;
	assert_int_equal(jail_parse_id("4242", &v), 0);
	assert_int_equal(v, 4242);
	assert_int_equal(jail_parse_id("4294967294", &v), 0);
	assert_int_equal(v, 4294967294LL);
	assert_int_equal(jail_parse_id("0", &v), -EINVAL); /* root */
	assert_int_equal(jail_parse_id("4294967295", &v), -EINVAL);
	assert_int_equal(jail_parse_id("-1", &v), -EINVAL);
	assert_int_equal(jail_parse_id("12x", &v), -EINVAL);
	assert_int_equal(jail_parse_id("", &v), -EINVAL);
}

static void test_check_options(void **state)
{
	struct vm_config cfg = {.kernel = kernel};
	struct jail_config jc = JAIL_CONFIG_INIT;

	(void)state;
	assert_int_equal(jail_check(&jc, &cfg, 1000), 0); /* no jail at all */
	jc.uid = 4242;
	assert_int_equal(jail_check(&jc, &cfg, 0), -EXIT_BAD_INPUT); /* no --jail */
	jc = (struct jail_config)JAIL_CONFIG_INIT;
	jc.netns = true;
	assert_int_equal(jail_check(&jc, &cfg, 0), -EXIT_BAD_INPUT);
	jc = good_jail();
	jc.gid = -1;
	assert_int_equal(jail_check(&jc, &cfg, 0), -EXIT_BAD_INPUT); /* uid without gid */
	jc = good_jail();
	assert_int_equal(jail_check(&jc, &cfg, 0), 0);
	assert_int_equal(jail_check(&jc, &cfg, 1000), -EXIT_BAD_INPUT); /* not root */
	jc.cpus = 2;
	assert_int_equal(jail_check(&jc, &cfg, 0), -EXIT_BAD_INPUT); /* a limit, no cgroup */
	jc = good_jail();
	jc.cgroup = dir; /* a folder, not a cgroup v2 one */
	assert_int_equal(jail_check(&jc, &cfg, 0), -EXIT_BAD_INPUT);
	jc = good_jail();
	cfg.dump_dtb = "dtb";
	assert_int_equal(jail_check(&jc, &cfg, 0), -EXIT_BAD_INPUT);
}

static void test_check_dir(void **state)
{
	struct vm_config cfg = {.kernel = kernel};
	struct jail_config jc = good_jail();
	char missing[128];

	(void)state;
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	jc.dir = missing;
	assert_int_equal(jail_check(&jc, &cfg, 0), -EXIT_BAD_INPUT);
	jc.dir = kernel; /* a file */
	assert_int_equal(jail_check(&jc, &cfg, 0), -EXIT_BAD_INPUT);
	jc.dir = full; /* something would be hidden under the jail's root */
	assert_int_equal(jail_check(&jc, &cfg, 0), -EXIT_BAD_INPUT);
	jc.dir = empty;
	assert_int_equal(jail_check(&jc, &cfg, 0), 0);
}

static const struct jail_entry *entry(const char *inside)
{
	for (unsigned int i = 0; i < plan.nr; i++) {
		if (!strcmp(plan.entries[i].inside, inside))
			return &plan.entries[i];
	}
	return NULL;
}

static void test_map_files(void **state)
{
	struct jail_config jc = good_jail();
	struct vm_config cfg = {.kernel = kernel, .initrd = kernel, .nr_disks = 2};
	char d0[160];

	(void)state;
	snprintf(d0, sizeof(d0), "%s,ro,serial=a", disk);
	cfg.disks[0] = d0;
	cfg.disks[1] = disk;
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), 0);
	assert_string_equal(plan.cfg.kernel, "/kernel");
	assert_string_equal(plan.cfg.initrd, "/initrd");
	assert_null(plan.cfg.firmware);
	assert_string_equal(plan.cfg.disks[0], "/disk0,ro,serial=a");
	assert_string_equal(plan.cfg.disks[1], "/disk1");
	assert_string_equal(entry("/kernel")->host, kernel);
	assert_false(entry("/kernel")->writable);
	assert_string_equal(entry("/disk0")->host, disk);
	assert_false(entry("/disk0")->writable);
	assert_true(entry("/disk1")->writable);
	assert_int_equal(entry("/dev/kvm")->kind, JAIL_DEVNODE);
	assert_string_equal(entry("/dev/kvm")->host, "/dev/null");
	assert_int_equal(plan.nr, 5);
	/* Only writable files size RLIMIT_FSIZE: disk0 is read-only. */
	assert_int_equal(plan.max_file_size, 1 << 20);
	/* The user's configuration is left as it was. */
	assert_string_equal(cfg.disks[0], d0);
}

static void test_map_console_socket(void **state)
{
	struct jail_config jc = good_jail();
	struct vm_config cfg = {.kernel = kernel};
	char sock[160];

	(void)state;
	snprintf(sock, sizeof(sock), "socket:%s/hvc0.sock", full);
	cfg.virtio_console = sock;
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), 0);
	assert_string_equal(plan.cfg.virtio_console, "socket:/console/hvc0.sock");
	assert_string_equal(entry("/console")->host, full);
	assert_int_equal(entry("/console")->kind, JAIL_DIR);
	assert_true(entry("/console")->writable);
	/* A bare name is in the working folder; stdio needs nothing. */
	cfg.virtio_console = "socket:hvc1.sock";
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), 0);
	assert_string_equal(plan.cfg.virtio_console, "socket:/console/hvc1.sock");
	assert_string_equal(entry("/console")->host, ".");
	cfg.virtio_console = "";
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), 0);
	assert_string_equal(plan.cfg.virtio_console, "");
	assert_null(entry("/console"));
}

static void test_map_device_nodes(void **state)
{
	struct jail_config jc = good_jail();
	struct vm_config cfg = {.kernel = kernel, .nr_nics = 3, .vsock = "cid=3"};

	(void)state;
	cfg.nics[0] = "tap=tap0,vhost=on";
	cfg.nics[1] = "tap=tap1";
	cfg.nics[2] = "user";
	/* The nodes are mapped first; whether this host has them decides the result. */
	jail_plan_build(&plan, &jc, &cfg, "/dev/null");
	assert_non_null(entry("/dev/kvm"));
	assert_string_equal(entry("/dev/net/tun")->host, "/dev/net/tun");
	assert_string_equal(entry("/dev/vhost-net")->host, "/dev/vhost-net");
	assert_string_equal(entry("/dev/vhost-vsock")->host, "/dev/vhost-vsock");
	assert_int_equal(plan.nr, 5); /* two taps, one tun node */
	cfg.nr_nics = 1;
	cfg.nics[0] = "user";
	cfg.vsock = NULL;
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), 0);
	assert_null(entry("/dev/net/tun"));
	assert_int_equal(plan.nr, 2);
	/* The KVM device must be a character device. */
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, kernel), -EXIT_BAD_INPUT);
}

/* The jail's uid must be able to read (write) what it is given: by the mode bits. */
static void test_access_for_jail_user(void **state)
{
	struct jail_config jc = good_jail();
	struct vm_config cfg = {.kernel = kernel, .nr_disks = 1};

	(void)state;
	cfg.disks[0] = disk;
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), 0);
	/* Another user: the kernel (0644) is readable, the disk (0600) is not writable. */
	jc.uid = getuid() + 4242;
	jc.gid = getgid() + 4242;
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), -EXIT_BAD_INPUT);
	cfg.nr_disks = 0;
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), 0);
	/* Through the group bits. */
	assert_int_equal(chmod(disk, 0660), 0);
	cfg.nr_disks = 1;
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), -EXIT_BAD_INPUT);
	jc.gid = getgid();
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), 0);
	assert_int_equal(chmod(disk, 0600), 0);
	/* A file that is not there. */
	cfg.kernel = "/nonexistent/kernel";
	assert_int_equal(jail_plan_build(&plan, &jc, &cfg, "/dev/null"), -EXIT_BAD_INPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test(test_check_options),
		cmocka_unit_test(test_check_dir),
		cmocka_unit_test(test_map_files),
		cmocka_unit_test(test_map_console_socket),
		cmocka_unit_test(test_map_device_nodes),
		cmocka_unit_test(test_access_for_jail_user),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
