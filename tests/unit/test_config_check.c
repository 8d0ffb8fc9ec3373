// SPDX-License-Identifier: GPL-2.0-only
// unit-arch: x86
/*
 * Unit tests of the checks that run before /dev/kvm is opened (vm_check_config and what
 * it calls): a typo in any option or file is exit status 2 on every host, KVM or not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/cpuid.h"
#include "backends/stream.h"
#include "config.h"
#include "vm.h"

static char dir[64];
static char kernel[128], text[128], disk[128];

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The smallest file multiboot_detect() accepts: an i386 ELF32 header, then the magic. */
static void write_multiboot(const char *path)
{
	u8 img[sizeof(Elf32_Ehdr) + 12] = {0};
	Elf32_Ehdr *eh = (Elf32_Ehdr *)img;
	u32 mb[3] = {0x1BADB002, 0, -0x1BADB002u};

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_machine = EM_386;
	memcpy(img + sizeof(Elf32_Ehdr), mb, sizeof(mb));
	write_file(path, img, sizeof(img));
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kvmbox-check-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(kernel, sizeof(kernel), "%s/mb.elf", dir);
	snprintf(text, sizeof(text), "%s/text", dir);
	snprintf(disk, sizeof(disk), "%s/disk.img", dir);
	write_multiboot(kernel);
	write_file(text, "not a kernel\n", 13);
	if (truncate(text, 13) || close(open(disk, O_CREAT | O_WRONLY, 0600)) ||
	    truncate(disk, 4096))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct vm_config good_config(void)
{
	return (struct vm_config){.kernel = kernel, .cpus = 1, .memory = VM_DEFAULT_MEMORY};
}

static void test_check_good_config(void **state)
{
	struct vm_config cfg = good_config();
	char sock[160];

	(void)state;
	assert_int_equal(vm_check_config(&cfg), 0);
	snprintf(sock, sizeof(sock), "socket:%s/hvc.sock", dir);
	cfg.disks[cfg.nr_disks++] = disk;
	cfg.nics[cfg.nr_nics++] = "user";
	cfg.virtio_console = sock;
	cfg.cpu_features = "-pcid,vendor=GenuineIntel";
	cfg.initrd = text; /* a multiboot module may be any file */
	assert_int_equal(vm_check_config(&cfg), 0);
	/* Nothing was created: the socket is made by realize, after KVM opened. */
	assert_int_equal(access(sock + strlen("socket:"), F_OK), -1);
}

static void test_check_bad_files(void **state)
{
	struct vm_config cfg = good_config();

	(void)state;
	cfg.kernel = text;
	assert_int_equal(vm_check_config(&cfg), -EXIT_BAD_INPUT);
	cfg.kernel = dir;
	assert_int_equal(vm_check_config(&cfg), -EXIT_BAD_INPUT);
	cfg = good_config();
	cfg.initrd = "/nonexistent/initrd";
	assert_int_equal(vm_check_config(&cfg), -EXIT_BAD_INPUT);
	cfg = good_config();
	cfg.disks[cfg.nr_disks++] = "/nonexistent/disk";
	assert_int_equal(vm_check_config(&cfg), -EXIT_BAD_INPUT);
}

static void test_check_bad_options(void **state)
{
	static const char *bad_console[] = {"bogus", "socket:", "socket:/nonexistent/dir/s"};
	struct vm_config cfg = good_config();
	char bad_disk[160];

	(void)state;
	snprintf(bad_disk, sizeof(bad_disk), "%s,bogus", disk);
	cfg.disks[cfg.nr_disks++] = bad_disk;
	assert_int_equal(vm_check_config(&cfg), -EXIT_BAD_INPUT);
	cfg = good_config();
	cfg.nics[cfg.nr_nics++] = "tap=";
	assert_int_equal(vm_check_config(&cfg), -EXIT_BAD_INPUT);
	cfg = good_config();
	cfg.vsock = "cid=2";
	assert_int_equal(vm_check_config(&cfg), -EXIT_BAD_INPUT);
	cfg = good_config();
	cfg.cpu_features = "+no-such-feature";
	assert_int_equal(vm_check_config(&cfg), -EXIT_BAD_INPUT);
	for (size_t i = 0; i < ARRAY_SIZE(bad_console); i++) {
		cfg = good_config();
		cfg.virtio_console = bad_console[i];
		assert_int_equal(vm_check_config(&cfg), -EXIT_BAD_INPUT);
	}
	cfg = good_config();
	cfg.memory = 1ULL << 62; /* more than any host has */
	assert_int_equal(vm_check_config(&cfg), -EXIT_BAD_INPUT);
}

static void test_cpu_feature_syntax(void **state)
{
	char err[160];

	(void)state;
	assert_int_equal(cpuid_check_features("-pcid,+invpcid,x2apic", err, sizeof(err)), 0);
	assert_int_equal(cpuid_check_features("vendor=AuthenticAMD", err, sizeof(err)), 0);
	assert_int_equal(cpuid_check_features("vendor=short", err, sizeof(err)), -EINVAL);
	assert_int_equal(cpuid_check_features("pcid,,x2apic", err, sizeof(err)), -EINVAL);
	assert_int_equal(cpuid_check_features("+frobnicate", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "frobnicate"));
}

static void test_stream_socket_path(void **state)
{
	struct stream_options o;
	char err[256], arg[160];

	(void)state;
	assert_int_equal(stream_parse_options("", &o, err, sizeof(err)), 0);
	assert_int_equal(stream_check_options(&o, err, sizeof(err)), 0);
	snprintf(arg, sizeof(arg), "socket:%s", text);
	assert_int_equal(stream_parse_options(arg, &o, err, sizeof(err)), 0);
	assert_int_equal(stream_check_options(&o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(stream_parse_options("socket:/nonexistent/s", &o, err, sizeof(err)), 0);
	assert_int_equal(stream_check_options(&o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/nonexistent"));
	/* A bare name is made in the working folder. */
	assert_int_equal(stream_parse_options("socket:kvmbox-no-such.sock", &o, err, sizeof(err)),
			 0);
	assert_int_equal(stream_check_options(&o, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_good_config),
		cmocka_unit_test(test_check_bad_files),
		cmocka_unit_test(test_check_bad_options),
		cmocka_unit_test(test_cpu_feature_syntax),
		cmocka_unit_test(test_stream_socket_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
