// SPDX-License-Identifier: GPL-2.0-only
/*
 * The checks PUT /snapshot/load makes of its files before anything is restored
 * (src/snapshot/load.c): a whole snapshot passes; a damaged, truncated or other-version
 * state file, missing sections and a memory file shorter than the RAM are refused, each
 * with a message that names the file and the reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/create.h"
#include "snapshot/load.h"

#define RAM (1ULL << 20)

static char dir[] = "/tmp/kvmbox-snapload-XXXXXX";
static char state_path[64], mem_path[64];

/* A snapshot's state file with nr_vcpus vCPU sections (skip: one left out, or -1). */
static void write_state(u32 version, unsigned int nr_vcpus, int skip, size_t cut)
{
	static const char config[] = "{\"machine-config\":{}}";
	u64 ram = RAM;
	struct statefile_section secs[8] = {
		{SNAP_SEC_CONFIG, sizeof(config) - 1, (const u8 *)config},
		{SNAP_SEC_MEMORY, sizeof(ram), (const u8 *)&ram},
		{SNAP_SEC_ARCH_VM, 3, (const u8 *)"irq"},
		{SNAP_SEC_DEVICES, 0, NULL},
	};
	unsigned int n = 4;
	u8 *buf;
	size_t len;
	FILE *f;

	for (unsigned int i = 0; i < nr_vcpus; i++) {
		if ((int)i != skip)
			secs[n++] = (struct statefile_section){SNAP_SEC_VCPU + i, 4,
							       (const u8 *)"regs"};
	}
	assert_int_equal(statefile_build(secs, n, version, &buf, &len), 0);
	f = fopen(state_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len - cut, f), len - cut);
	fclose(f);
	free(buf);
}

static void write_mem(u64 size)
{
	assert_int_equal(truncate(mem_path, (off_t)size), 0);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(state_path, sizeof(state_path), "%s/vm.snap", dir);
	snprintf(mem_path, sizeof(mem_path), "%s/vm.mem", dir);
	fclose(fopen(mem_path, "wb"));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(state_path);
	unlink(mem_path);
	rmdir(dir);
	return 0;
}

static void expect_refused(const char *want)
{
	unsigned int nr_vcpus;
	struct statefile sf;
	char err[512] = "";
	u64 ram;

	assert_int_not_equal(
		snapshot_load_check(state_path, mem_path, &sf, &ram, &nr_vcpus, err, sizeof(err)),
		0);
	if (!strstr(err, want))
		fail_msg("error '%s' does not say '%s'", err, want);
}

static void test_whole_snapshot_passes(void **state)
{
	unsigned int nr_vcpus;
	struct statefile sf;
	char err[512];
	u64 ram;

	(void)state;
	write_state(STATEFILE_VERSION, 2, -1, 0);
	write_mem(RAM);
	assert_int_equal(
		snapshot_load_check(state_path, mem_path, &sf, &ram, &nr_vcpus, err, sizeof(err)),
		0);
	assert_int_equal(ram, RAM);
	assert_int_equal(nr_vcpus, 2);
	assert_non_null(statefile_find(&sf, SNAP_SEC_CONFIG));
	statefile_free(&sf);
}

static void test_damaged_state_files_are_refused(void **state)
{
	FILE *f;

	(void)state;
	write_mem(RAM);
	write_state(STATEFILE_VERSION, 1, -1, 1);
	expect_refused("truncated");
	write_state(STATEFILE_VERSION + 1, 1, -1, 0);
	expect_refused("format version 2");
	write_state(STATEFILE_VERSION, 1, -1, 0);
	f = fopen(state_path, "r+b");
	assert_non_null(f);
	fseek(f, 30, SEEK_SET);
	fputc(0x5a, f);
	fclose(f);
	expect_refused("CRC mismatch");
}

static void test_missing_sections_are_refused(void **state)
{
	(void)state;
	write_mem(RAM);
	write_state(STATEFILE_VERSION, 0, -1, 0);
	expect_refused("no section of type 16");
	write_state(STATEFILE_VERSION, 3, 1, 0);
	expect_refused("vCPU sections are not numbered");
}

static void test_short_memory_file_is_refused(void **state)
{
	(void)state;
	write_state(STATEFILE_VERSION, 1, -1, 0);
	write_mem(RAM - 4096);
	expect_refused("1044480 bytes, the snapshot's RAM is 1048576");
	unlink(mem_path);
	expect_refused("No such file");
	fclose(fopen(mem_path, "wb"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_snapshot_passes),
		cmocka_unit_test(test_damaged_state_files_are_refused),
		cmocka_unit_test(test_missing_sections_are_refused),
		cmocka_unit_test(test_short_memory_file_is_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
