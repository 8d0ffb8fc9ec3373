// SPDX-License-Identifier: GPL-2.0-only
/*
 * Diff snapshots without KVM: the dirty bitmap kvmbox keeps for its own writes to guest
 * RAM (marked by range, bounded to RAM, taken and cleared), the virtqueue marking the
 * buffers a device may write and the used ring it writes, the sparse memory file that
 * holds only dirty pages (a dirty page of zeros included) at their offsets, and the
 * rebase that copies a diff's data onto its base, refusing files that do not match.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtqueue_fixture.h"
#include "snapshot/diff.h"

#define PG 4096ULL

static char dir[] = "/tmp/kvmbox-diff-XXXXXX";
static char base_path[64], diff_path[64];

static bool bit(const u64 *map, u64 pg)
{
	return map[pg / 64] & (1ULL << (pg % 64));
}

/* RAM of pages pages, mapped but not laid out by a board: enough for the bitmap. */
static void fake_ram(struct guest_memory *mem, u64 pages)
{
	assert_int_equal(guest_memory_layout_at(mem, 0, pages * PG), 0);
	assert_int_equal(guest_memory_alloc(mem), 0);
}

static void test_mark_and_take(void **state)
{
	struct guest_memory mem;
	u64 out[2] = {0};

	(void)state;
	fake_ram(&mem, 70);
	/* Not tracking: marking is a no-op. */
	guest_memory_mark_dirty(&mem, mem.base, PG);
	assert_null(mem.dirty);
	assert_int_equal(guest_memory_track_dirty(&mem, false), 0);
	assert_int_equal(mem.page_size, (u64)sysconf(_SC_PAGESIZE));
	if (mem.page_size != PG)
		skip(); /* the page numbers below are for 4 KiB host pages */
	assert_int_equal(guest_memory_dirty_words(&mem), 2);
	/* A range that straddles pages marks each; a byte marks one; len 0 counts as 1. */
	guest_memory_mark_dirty(&mem, mem.base + PG - 1, 2);
	guest_memory_mark_dirty(&mem, mem.base + 65 * PG + 7, 1);
	guest_memory_mark_dirty(&mem, mem.base + 69 * PG, 0);
	/* Outside RAM, or running off its end: ignored, or cut at the end. */
	guest_memory_mark_dirty(&mem, mem.base - 1, 1);
	guest_memory_mark_dirty(&mem, mem.base + 70 * PG, PG);
	guest_memory_mark_dirty(&mem, NULL, PG);
	guest_memory_mark_dirty(&mem, mem.base + 68 * PG, ~0ULL);
	guest_memory_take_dirty(&mem, out);
	for (u64 pg = 0; pg < 128; pg++)
		assert_int_equal(bit(out, pg),
				 pg == 0 || pg == 1 || pg == 65 || (pg >= 68 && pg < 70));
	/* Taken means cleared: a second take adds nothing. */
	memset(out, 0, sizeof(out));
	guest_memory_take_dirty(&mem, out);
	assert_int_equal(out[0] | out[1], 0);
	guest_memory_free(&mem);
}

static void test_all_dirty_at_boot(void **state)
{
	struct guest_memory mem;
	u64 out[2] = {0};

	(void)state;
	fake_ram(&mem, 70);
	assert_int_equal(guest_memory_track_dirty(&mem, true), 0);
	if (mem.page_size != PG)
		skip();
	guest_memory_take_dirty(&mem, out);
	/* Every page of RAM, and no bit past it. */
	assert_int_equal(out[0], ~0ULL);
	assert_int_equal(out[1], (1ULL << 6) - 1);
	guest_memory_free(&mem);
}

static void test_virtqueue_marks(void **state)
{
	struct fixture *f = *state;
	u64 out[RAM_SIZE / PG / 64] = {0};

	assert_int_equal(guest_memory_track_dirty(&f->mem, false), 0);
	if (f->mem.page_size != PG)
		skip();
	/* The device reads page DATA and may write two pages from DATA + 0x3000 on. */
	set_desc(f, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA + 0x3ff0, 0x20, VRING_DESC_F_WRITE, 0);
	driver_add(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 1);
	assert_int_equal(virtqueue_push(&f->vq, 0, 0x20), 0);
	virtqueue_enable_notify(&f->vq, false);
	guest_memory_take_dirty(&f->mem, out);
	for (u64 pg = 0; pg < RAM_SIZE / PG; pg++) {
		bool want = pg == (DATA_GPA + 0x3000) / PG || pg == (DATA_GPA + 0x4000) / PG ||
			    pg == USED_GPA / PG;

		assert_int_equal(bit(out, pg), want);
	}
}

/* 16 pages of RAM, each page full of its number + 1; page 5 zeros. */
static void fill_ram(u8 *ram)
{
	for (unsigned int i = 0; i < 16; i++)
		memset(ram + i * PG, i == 5 ? 0 : (int)i + 1, PG);
}

static int make_dir(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(base_path, sizeof(base_path), "%s/base.mem", dir);
	snprintf(diff_path, sizeof(diff_path), "%s/diff.mem", dir);
	return 0;
}

static int remove_dir(void **state)
{
	(void)state;
	unlink(base_path);
	unlink(diff_path);
	return rmdir(dir);
}

static void write_base(u8 byte, u64 size)
{
	u8 *b = malloc(size);
	int fd = open(base_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_non_null(b);
	assert_true(fd >= 0);
	memset(b, byte, size);
	assert_int_equal(write(fd, b, size), (ssize_t)size);
	close(fd);
	free(b);
}

/* Dirty pages 1, 2, 5 (zeros) and 15: written at their offsets, holes elsewhere. */
static void write_diff(const u8 *ram)
{
	u64 dirty[1] = {(1ULL << 1) | (1ULL << 2) | (1ULL << 5) | (1ULL << 15)};
	char err[256];

	assert_int_equal(diff_write_file(diff_path, ram, 16 * PG, dirty, PG, err, sizeof(err)), 0);
}

static void test_sparse_diff_file(void **state)
{
	u8 ram[16 * PG], back[PG];
	struct stat st;
	int fd;

	(void)state;
	fill_ram(ram);
	write_diff(ram);
	fd = open(diff_path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 16 * PG);
	/* Four pages allocated, not sixteen (a file system may round up a little). */
	assert_true((u64)st.st_blocks * 512 < 8 * PG);
	/* The first data is page 1; page 0 is a hole and reads as zeros. */
	assert_int_equal(lseek(fd, 0, SEEK_DATA), (off_t)PG);
	assert_int_equal(lseek(fd, (off_t)(6 * PG), SEEK_DATA), (off_t)(15 * PG));
	assert_int_equal(pread(fd, back, PG, (off_t)(2 * PG)), (ssize_t)PG);
	assert_memory_equal(back, ram + 2 * PG, PG);
	assert_int_equal(pread(fd, back, PG, (off_t)(15 * PG)), (ssize_t)PG);
	assert_memory_equal(back, ram + 15 * PG, PG);
	close(fd);
}

static void test_rebase_with_holes(void **state)
{
	u8 ram[16 * PG], back[PG];
	u64 copied = 0;
	char err[256];
	int fd;

	(void)state;
	fill_ram(ram);
	write_base(0xee, 16 * PG);
	write_diff(ram);
	assert_int_equal(snapshot_rebase(base_path, diff_path, &copied, err, sizeof(err)), 0);
	assert_true(copied >= 4 * PG && copied < 16 * PG);
	fd = open(base_path, O_RDONLY);
	assert_true(fd >= 0);
	for (u64 i = 0; i < 16; i++) {
		bool dirty = i == 1 || i == 2 || i == 5 || i == 15;
		u8 want[PG];

		/* A dirty page of zeros replaces the base's page: a hole would not. */
		memset(want, 0xee, PG);
		assert_int_equal(pread(fd, back, PG, (off_t)(i * PG)), (ssize_t)PG);
		assert_memory_equal(back, dirty ? ram + i * PG : want, PG);
	}
	close(fd);
}

static void test_rebase_refusals(void **state)
{
	char err[256];
	u8 ram[16 * PG];

	(void)state;
	fill_ram(ram);
	write_diff(ram);
	write_base(0xee, 8 * PG);
	assert_int_equal(snapshot_rebase(base_path, diff_path, NULL, err, sizeof(err)),
			 EXIT_BAD_INPUT);
	assert_non_null(strstr(err, "is 32768 bytes and"));
	assert_int_equal(truncate(diff_path, 8 * PG), 0);
	assert_int_equal(snapshot_rebase("/nonexistent/base", diff_path, NULL, err, sizeof(err)),
			 EXIT_BAD_INPUT);
	assert_non_null(strstr(err, "/nonexistent/base: No such file"));
	assert_int_equal(snapshot_rebase(base_path, dir, NULL, err, sizeof(err)), EXIT_BAD_INPUT);
	assert_non_null(strstr(err, "not a regular file"));
	/* Same size now: a diff that is all holes changes nothing. */
	assert_int_equal(truncate(diff_path, 0), 0);
	assert_int_equal(truncate(diff_path, 8 * PG), 0);
	assert_int_equal(snapshot_rebase(base_path, diff_path, NULL, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mark_and_take),
		cmocka_unit_test(test_all_dirty_at_boot),
		T(test_virtqueue_marks),
		cmocka_unit_test(test_sparse_diff_file),
		cmocka_unit_test(test_rebase_with_holes),
		cmocka_unit_test(test_rebase_refusals),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
