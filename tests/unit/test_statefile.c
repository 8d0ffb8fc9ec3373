// SPDX-License-Identifier: GPL-2.0-only
/*
 * The snapshot state file (src/snapshot/statefile.c): a round trip through a real file,
 * and the damaged files a load must refuse with a message that says why.
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "snapshot/statefile.h"

static const u32 known[] = {1, 2, 7};
static const u8 regs[] = "vcpu registers";
static const u8 dev[300] = {[0] = 0xaa, [299] = 0x55};

static void build(u32 version, u8 **buf, size_t *len)
{
	struct statefile_section secs[] = {
		{.type = 1, .len = sizeof(regs), .data = regs},
		{.type = 2, .len = 0, .data = NULL},
		{.type = 7, .len = sizeof(dev), .data = dev},
	};

	assert_int_equal(statefile_build(secs, 3, version, buf, len), 0);
}

/* Parses buf and checks that it fails with a message containing want. */
static void expect_refused(const u8 *buf, size_t len, const char *want)
{
	struct statefile sf;
	char err[200] = "";

	assert_int_equal(statefile_parse(buf, len, known, 3, &sf, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("error '%s' does not say '%s'", err, want);
}

static void rewrite_crc(u8 *buf, size_t len)
{
	u32 crc = (u32)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(len - 4));

	memcpy(buf + len - 4, &crc, 4);
}

static void test_round_trip_through_a_file(void **state)
{
	char dir[] = "/tmp/kvmbox-statefile-XXXXXX", path[64], err[200];
	struct statefile_section secs[] = {
		{.type = 1, .len = sizeof(regs), .data = regs},
		{.type = 7, .len = sizeof(dev), .data = dev},
	};
	const struct statefile_section *s;
	struct statefile sf;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.snap", dir);
	assert_int_equal(statefile_write(path, secs, 2, err, sizeof(err)), 0);
	assert_int_equal(statefile_read(path, known, 3, &sf, err, sizeof(err)), 0);
	assert_int_equal(sf.nr, 2);
	s = statefile_find(&sf, 7);
	assert_non_null(s);
	assert_int_equal(s->len, sizeof(dev));
	assert_memory_equal(s->data, dev, sizeof(dev));
	s = statefile_find(&sf, 1);
	assert_non_null(s);
	assert_memory_equal(s->data, regs, sizeof(regs));
	assert_null(statefile_find(&sf, 2));
	statefile_free(&sf);
	/* No temporary file is left beside it. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_empty_section_parses(void **state)
{
	struct statefile sf;
	char err[200];
	u8 *buf;
	size_t len;

	(void)state;
	build(STATEFILE_VERSION, &buf, &len);
	assert_int_equal(statefile_parse(buf, len, known, 3, &sf, err, sizeof(err)), 0);
	assert_int_equal(sf.nr, 3);
	assert_int_equal(statefile_find(&sf, 2)->len, 0);
	free(buf);
}

/* Every single byte flipped is caught: by the magic, the size, or the CRC. */
static void test_any_byte_flipped_is_refused(void **state)
{
	struct statefile sf;
	char err[200];
	u8 *buf;
	size_t len;

	(void)state;
	build(STATEFILE_VERSION, &buf, &len);
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x01;
		assert_int_equal(statefile_parse(buf, len, known, 3, &sf, err, sizeof(err)),
				 -EINVAL);
		buf[i] ^= 0x01;
	}
	buf[40] ^= 0x80;
	expect_refused(buf, len, "CRC mismatch");
	free(buf);
}

static void test_truncated_is_refused(void **state)
{
	u8 *buf;
	size_t len;

	(void)state;
	build(STATEFILE_VERSION, &buf, &len);
	expect_refused(buf, len - 1, "truncated");
	expect_refused(buf, len / 2, "truncated");
	expect_refused(buf, 10, "too short");
	expect_refused(buf, 0, "too short");
	free(buf);
}

static void test_wrong_version_is_refused(void **state)
{
	u8 *buf;
	size_t len;

	(void)state;
	build(STATEFILE_VERSION + 1, &buf, &len);
	expect_refused(buf, len, "format version 2, this kvmbox reads version 1");
	free(buf);
}

static void test_unknown_section_is_refused(void **state)
{
	struct statefile_section secs[] = {{.type = 99, .len = 4, .data = regs}};
	u8 *buf;
	size_t len;

	(void)state;
	assert_int_equal(statefile_build(secs, 1, STATEFILE_VERSION, &buf, &len), 0);
	expect_refused(buf, len, "unknown type 99");
	free(buf);
}

/* A valid file with size bytes at off replaced by val (CRC made right again) is refused. */
static void expect_patched_refused(size_t off, u64 val, size_t size, const char *want)
{
	u8 *buf;
	size_t len;

	build(STATEFILE_VERSION, &buf, &len);
	memcpy(buf + off, &val, size);
	rewrite_crc(buf, len);
	expect_refused(buf, len, want);
	free(buf);
}

/* Lengths and counts that a CRC-valid but hostile file claims are checked. */
static void test_hostile_lengths_are_refused(void **state)
{
	(void)state;
	/* The first section's length: past the end of the file. */
	expect_patched_refused(24 + 8, ~0ULL, 8, "bad flags or length");
	expect_patched_refused(24 + 4, 1, 4, "bad flags or length");
	expect_patched_refused(12, 100000, 4, "100000 sections");
	/* One section fewer than there are: bytes left over; one more: past the end. */
	expect_patched_refused(12, 2, 4, "after the last section");
	expect_patched_refused(12, 4, 4, "past the end");
}

static void test_repeated_section_is_refused(void **state)
{
	struct statefile_section secs[] = {
		{.type = 1, .len = 4, .data = regs},
		{.type = 1, .len = 4, .data = regs},
	};
	u8 *buf;
	size_t len;

	(void)state;
	assert_int_equal(statefile_build(secs, 2, STATEFILE_VERSION, &buf, &len), 0);
	expect_refused(buf, len, "repeated type 1");
	free(buf);
}

/*
 * The memory file: pages of zeros (never touched, or touched and still zero) become
 * holes, the others are written where they were, and the file reads back the same.
 */
static void test_sparse_write_round_trip(void **state)
{
	const size_t len = 600 * 4096 + 100; /* more than two lookups, and a tail */
	char dir[] = "/tmp/kvmbox-sparse-XXXXXX", path[64], err[200];
	u8 *mem, *back;
	struct stat st;
	FILE *f;

	(void)state;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	memset(mem + 4096, 0, 4096); /* touched, still zero */
	mem[3 * 4096 + 7] = 0x11;
	mem[300 * 4096] = 0x22;
	mem[599 * 4096 + 4095] = 0x33;
	mem[len - 1] = 0x44;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.mem", dir);
	assert_int_equal(
		write_file_atomic(path, mem, len, WRITE_SPARSE | WRITE_ANON, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, len);
	/* Four pages hold data (the tail is one): the rest are holes (ext4, tmpfs). */
	assert_true((u64)st.st_blocks * 512 <= 8 * 4096);
	back = malloc(len);
	assert_non_null(back);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, len, f), len);
	fclose(f);
	assert_memory_equal(back, mem, len);
	free(back);
	munmap(mem, len);
	unlink(path);
	rmdir(dir);
}

/*
 * A restored VM's RAM: a file mapped MAP_PRIVATE, most of it never touched (no page in
 * pagemap), is written whole, not as holes.
 */
static void test_sparse_write_of_mapped_file(void **state)
{
	const size_t len = 300 * 4096;
	char dir[] = "/tmp/kvmbox-sparse-XXXXXX", src[64], path[64], err[200];
	u8 *data = malloc(len), *mem, *back = malloc(len);
	int fd;
	FILE *f;

	(void)state;
	assert_non_null(data);
	assert_non_null(back);
	for (size_t i = 0; i < len; i++)
		data[i] = (u8)(i / 4096 + 1);
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/src.mem", dir);
	snprintf(path, sizeof(path), "%s/vm.mem", dir);
	f = fopen(src, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	fd = open(src, O_RDONLY);
	assert_true(fd >= 0);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	assert_true(mem != MAP_FAILED);
	mem[0] = 0x55; /* the one page the "guest" wrote */
	data[0] = 0x55;
	assert_int_equal(write_file_atomic(path, mem, len, WRITE_SPARSE, err, sizeof(err)), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, len, f), len);
	fclose(f);
	assert_memory_equal(back, data, len);
	munmap(mem, len);
	free(data);
	free(back);
	unlink(src);
	unlink(path);
	rmdir(dir);
}

static void test_missing_file_says_so(void **state)
{
	struct statefile sf;
	char err[200];

	(void)state;
	assert_int_not_equal(
		statefile_read("/nonexistent/vm.snap", known, 3, &sf, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/vm.snap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_through_a_file),
		cmocka_unit_test(test_empty_section_parses),
		cmocka_unit_test(test_any_byte_flipped_is_refused),
		cmocka_unit_test(test_truncated_is_refused),
		cmocka_unit_test(test_wrong_version_is_refused),
		cmocka_unit_test(test_unknown_section_is_refused),
		cmocka_unit_test(test_hostile_lengths_are_refused),
		cmocka_unit_test(test_repeated_section_is_refused),
		cmocka_unit_test(test_sparse_write_round_trip),
		cmocka_unit_test(test_sparse_write_of_mapped_file),
		cmocka_unit_test(test_missing_file_says_so),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
