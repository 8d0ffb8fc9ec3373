// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk's input checks: --disk parsing, the image file checks and locks, and
 * realize refusing bad options and files before touching the VM.
 */
#include <errno.h>
#include <stdio.h>

#include "util/log.h"
#include "vm.h"
#include "virtio_blk_fixture.h"

/* --disk options. */

static void test_option_plain(void **state)
{
	struct blk_options o;

	(void)state;
	assert_int_equal(virtio_blk_parse_option("disk.img", &o), 0);
	assert_string_equal(o.path, "disk.img");
	assert_false(o.ro);
	assert_int_equal(o.serial[0], 0);
}

static void test_option_ro_serial(void **state)
{
	static const u8 want[20] = "12345678901234567890";
	struct blk_options o;

	(void)state;
	assert_int_equal(virtio_blk_parse_option("/a/b.raw,ro,serial=ABC", &o), 0);
	assert_string_equal(o.path, "/a/b.raw");
	assert_true(o.ro);
	assert_memory_equal(o.serial, "ABC\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	assert_int_equal(virtio_blk_parse_option("x,serial=12345678901234567890", &o), 0);
	assert_memory_equal(o.serial, want, 20);
	assert_int_equal(virtio_blk_parse_option("x,serial=,ro", &o), 0);
	assert_true(o.ro);
	assert_int_equal(o.serial[0], 0);
	assert_int_equal(virtio_blk_parse_option("x,id=rootfs,ro", &o), 0);
	assert_string_equal(o.id, "rootfs");
}

static void test_option_errors(void **state)
{
	struct blk_options o;
	char long_id[5 + METRICS_ID_MAX + 1];

	(void)state;
	assert_int_equal(virtio_blk_parse_option("x,bogus=1", &o), -EINVAL);
	assert_non_null(strstr(o.err, "'bogus=1'"));
	assert_int_equal(virtio_blk_parse_option("x,ro,rw", &o), -EINVAL);
	assert_non_null(strstr(o.err, "'rw'"));
	assert_int_equal(virtio_blk_parse_option("x,serial=123456789012345678901", &o), -EINVAL);
	assert_non_null(strstr(o.err, "20 bytes"));
	assert_int_equal(virtio_blk_parse_option("", &o), -EINVAL);
	assert_non_null(strstr(o.err, "path"));
	assert_int_equal(virtio_blk_parse_option(",ro", &o), -EINVAL);
	assert_int_equal(virtio_blk_parse_option("x,,ro", &o), -EINVAL);
	assert_int_equal(virtio_blk_parse_option("x,", &o), -EINVAL);
	assert_int_equal(virtio_blk_parse_option("x,RO", &o), -EINVAL);
	assert_int_equal(virtio_blk_parse_option("x,id=", &o), -EINVAL);
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	memcpy(long_id, "x,id=", 5);
	assert_int_equal(virtio_blk_parse_option(long_id, &o), -EINVAL);
	assert_non_null(strstr(o.err, "longer than"));
}

/* The image file. */

static void test_file_checks(void **state)
{
	struct block_file a, b;
	char path[64], err[160];

	(void)state;
	assert_int_equal(block_file_open(&a, "/nonexistent/kvmbox.img", false, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, strerror(ENOENT));
	assert_int_equal(block_file_open(&a, "/tmp", true, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	make_file(path, 1000);
	assert_int_equal(block_file_open(&a, path, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "multiple of 512"));
	assert_int_equal(truncate(path, DISK_SIZE), 0);

	/* One writer excludes everyone; readers share. */
	assert_int_equal(block_file_open(&a, path, false, err, sizeof(err)), 0);
	assert_int_equal(a.size, DISK_SIZE);
	assert_int_equal(block_file_open(&b, path, false, err, sizeof(err)), -EBUSY);
	assert_int_equal(block_file_open(&b, path, true, err, sizeof(err)), -EBUSY);
	block_file_close(&a);
	assert_int_equal(block_file_open(&a, path, true, err, sizeof(err)), 0);
	assert_int_equal(block_file_open(&b, path, true, err, sizeof(err)), 0);
	block_file_close(&b);
	assert_int_equal(block_file_open(&b, path, false, err, sizeof(err)), -EBUSY);
	block_file_close(&a);
	unlink(path);
}

/* realize refuses bad options and files with exit status 2, before touching the VM. */
static void test_realize_bad_input(void **state)
{
	struct vm_config cfg = {.nr_disks = 1};
	struct vm vm = {.cfg = &cfg};
	char path[64], arg[96];

	(void)state;
	cfg.disks[0] = "/nonexistent/kvmbox.img";
	assert_int_equal(virtio_blk_ops.realize(&vm), -EXIT_BAD_INPUT);
	cfg.disks[0] = "disk.img,cache=none";
	assert_int_equal(virtio_blk_ops.realize(&vm), -EXIT_BAD_INPUT);
	make_file(path, 4096);
	snprintf(arg, sizeof(arg), "%s,ro", path);
	cfg.disks[0] = arg;
	cfg.disks[1] = arg;
	cfg.disks[2] = path; /* a writer beside readers: locked out */
	cfg.nr_disks = 3;
	assert_int_equal(virtio_blk_ops.realize(&vm), -EXIT_BAD_INPUT);
	setenv("KVMBOX_BLOCK_BACKEND", "aio", 1);
	assert_int_equal(virtio_blk_ops.realize(&vm), -EXIT_BAD_INPUT);
	unsetenv("KVMBOX_BLOCK_BACKEND");
	cfg.nr_disks = 0;
	assert_int_equal(virtio_blk_ops.realize(&vm), 0);
	unlink(path);
}

/* KVMBOX_BLK_POLL_US: microseconds from 0 to BLK_POLL_MAX_US, else exit status 2. */
static void test_poll_env(void **state)
{
	static const char *const bad[] = {"", "x", "-1", "+5", " 5", "5us", "1001", "99999999999"};
	struct vm_config cfg = {.nr_disks = 1};
	enum block_backend be;
	char path[64];
	u64 ns;

	(void)state;
	make_file(path, 4096);
	cfg.disks[0] = path;
	assert_int_equal(virtio_blk_env(&be, &ns), 0);
	assert_int_equal(ns, BLK_POLL_MAX_NS_DEFAULT);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		setenv("KVMBOX_BLK_POLL_US", bad[i], 1);
		assert_int_equal(virtio_blk_env(&be, &ns), -EXIT_BAD_INPUT);
		assert_int_equal(virtio_blk_check(&cfg), -EXIT_BAD_INPUT);
	}
	setenv("KVMBOX_BLK_POLL_US", "0", 1);
	assert_int_equal(virtio_blk_env(&be, &ns), 0);
	assert_int_equal(ns, 0);
	setenv("KVMBOX_BLK_POLL_US", "1000", 1);
	assert_int_equal(virtio_blk_check(&cfg), 0);
	assert_int_equal(virtio_blk_env(&be, &ns), 0);
	assert_int_equal(ns, 1000 * 1000);
	unsetenv("KVMBOX_BLK_POLL_US");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_plain),	  cmocka_unit_test(test_option_ro_serial),
		cmocka_unit_test(test_option_errors),	  cmocka_unit_test(test_file_checks),
		cmocka_unit_test(test_realize_bad_input), cmocka_unit_test(test_poll_env),
	};

	log_level = LOG_ERR;
	return cmocka_run_group_tests_name("virtio_blk_options", tests, NULL, NULL);
}
