// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CFI flash's backing file and state (helpers in cfi_flash_fixture.h): the file's
 * checks and lock, a read-only flash, persistence across close and open, the mode
 * callback, reset and snapshots.
 */
#include "cfi_flash_fixture.h"

/* The backing file. */

struct bad_file {
	u64 size, expected;
	const char *why;
};

static void test_open_size_checks(void **state)
{
	static const struct bad_file bad[] = {
		{0, 0, "empty"},
		{1000, 0, "multiple of 256 KiB"},
		{SECTOR + 512, 0, "multiple of 256 KiB"},
		{CFI_FLASH_MAX_SIZE + SECTOR, 0, "64 MiB maximum"},
		{2 * SECTOR, SECTOR, "expected 262144"},
		{SECTOR, 2 * SECTOR, "expected 524288"},
	};
	struct cfi_flash *f = (struct cfi_flash *)&f;
	char path[64], dir[32], err[160];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		u64 size;
		u8 *before, *after;

		make_file(path, bad[i].size, 0x5a);
		before = read_file(path, &size);
		for (int ro = 0; ro <= 1; ro++) {
			err[0] = 0;
			assert_int_equal(
				cfi_flash_open(&f, path, bad[i].expected, ro, err, sizeof(err)),
				-EINVAL);
			assert_null(f);
			if (!strstr(err, bad[i].why))
				fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].why);
			assert_null(strchr(err, '\n'));
		}
		after = read_file(path, &size);
		assert_int_equal(size, bad[i].size);
		assert_memory_equal(before, after, size);
		free(before);
		free(after);
		unlink(path);
	}

	assert_int_equal(cfi_flash_open(&f, "/tmp", 0, true, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(cfi_flash_open(&f, "/tmp", 0, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Is a directory"));
	assert_int_equal(cfi_flash_open(&f, "/nonexistent/vars.fd", 0, false, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(cfi_flash_open(&f, "/dev/null", 0, true, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_null(f);
	/* A FIFO is refused at once rather than waited on. */
	strcpy(dir, "/tmp/kvmbox-cfi-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(cfi_flash_open(&f, path, 0, true, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);
	rmdir(dir);
	/* Without write permission, a read-write open says so. */
	if (geteuid() != 0) {
		make_file(path, SECTOR, 0);
		assert_int_equal(chmod(path, 0444), 0);
		assert_int_equal(cfi_flash_open(&f, path, 0, false, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "for writing"));
		unlink(path);
	}

	/* The limits themselves are fine, and so is a matching expected size. */
	make_file(path, CFI_FLASH_MAX_SIZE, 1);
	assert_int_equal(cfi_flash_open(&f, path, CFI_FLASH_MAX_SIZE, false, err, sizeof(err)), 0);
	assert_int_equal(cfi_flash_size(f), CFI_FLASH_MAX_SIZE);
	assert_int_equal(((const u8 *)cfi_flash_data(f))[CFI_FLASH_MAX_SIZE - 1],
			 pattern(CFI_FLASH_MAX_SIZE - 1, 1));
	assert_int_equal((uintptr_t)cfi_flash_data(f) % 4096, 0);
	cfi_flash_close(f);
	assert_int_equal(truncate(path, SECTOR), 0);
	assert_int_equal(cfi_flash_open(&f, path, 0, false, err, sizeof(err)), 0);
	cfi_flash_close(f);
	unlink(path);
}

static void test_open_lock(void **state)
{
	struct cfi_flash *a, *b, *c;
	char path[64], err[160];

	(void)state;
	make_file(path, FLASH_SIZE, 0);
	a = open_ok(path, false);
	assert_int_equal(cfi_flash_open(&b, path, 0, false, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "locked"));
	assert_int_equal(cfi_flash_open(&b, path, 0, true, err, sizeof(err)), -EBUSY);
	cfi_flash_close(a);

	/* Readers share; a writer waits for all of them. */
	a = open_ok(path, true);
	b = open_ok(path, true);
	assert_int_equal(cfi_flash_open(&c, path, 0, false, err, sizeof(err)), -EBUSY);
	cfi_flash_close(a);
	cfi_flash_close(b);
	c = open_ok(path, false);
	cfi_flash_close(c);
	unlink(path);
}

/* Read-only flash, persistence, the mode callback, reset and snapshots. */

static void test_read_only(void **state)
{
	struct cfi_flash *f;
	u32 words[2] = {0, 0};
	u8 *before;
	u64 size;
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 29);
	assert_int_equal(chmod(path, 0444), 0);
	before = read_file(path, &size);
	f = open_ok(path, true);

	cmd(f, 0x20, 0x40);
	wr32(f, 0x20, 0);
	assert_int_equal(status(f), dual(SR_RO_PROG));
	cmd(f, 0, 0x50);
	erase(f, 0);
	assert_int_equal(status(f), dual(SR_RO_ERASE));
	cmd(f, 0, 0x50);
	buffered_program(f, 0x80, words, 2);
	assert_int_equal(status(f), dual(SR_RO_PROG));
	cmd(f, 0, 0x50);
	/* Reads, queries and the volatile lock bits still work. */
	cmd(f, 0, 0x98);
	assert_int_equal(rd32(f, 0x10 * 4), dual('Q'));
	cmd(f, 0, 0x60);
	cmd(f, 0, 0x01);
	assert_int_equal(status(f), SR_OK);
	cmd(f, 0, 0xff);
	assert_memory_equal(cfi_flash_data(f), before, size);
	cfi_flash_close(f);
	free(before);
	before = read_file(path, &size);
	assert_int_equal(size, FLASH_SIZE);
	for (u64 i = 0; i < size; i++)
		assert_int_equal(before[i], pattern(i, 29));
	free(before);
	unlink(path);
}

static void test_persistence(void **state)
{
	struct cfi_flash *f;
	u32 words[4] = {0x01020304, 0x05060708, 0x090a0b0c, 0x0d0e0f00};
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 31);
	f = open_ok(path, false);
	erase(f, 3 * SECTOR);
	buffered_program(f, 3 * SECTOR + 0x200, words, 4);
	cmd(f, 3 * SECTOR + 0x300, 0x40);
	wr32(f, 3 * SECTOR + 0x300, 0xcafef00d);
	/* Closed without returning to read-array mode: close syncs. */
	cfi_flash_close(f);

	f = open_ok(path, false);
	for (u32 i = 0; i < 4; i++)
		assert_int_equal(rd32(f, 3 * SECTOR + 0x200 + 4 * i), words[i]);
	assert_int_equal(rd32(f, 3 * SECTOR + 0x300), 0xcafef00d);
	assert_int_equal(rd32(f, 3 * SECTOR + 0x304), 0xffffffff);
	assert_int_equal(rd(f, 0, 1), pattern(0, 31));
	assert_file_matches(f, path);
	cfi_flash_close(f);
	unlink(path);
}

struct mode_log {
	int calls;
	bool last;
};

static void record_mode(void *opaque, bool array_mode)
{
	struct mode_log *log = opaque;

	log->calls++;
	log->last = array_mode;
}

static void test_mode_callback(void **state)
{
	struct mode_log log = {0};
	struct cfi_flash *f;
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 0);
	f = open_ok(path, false);
	cfi_flash_set_mode_callback(f, record_mode, &log);
	cmd(f, 0, 0xff);
	rd32(f, 0);
	assert_int_equal(log.calls, 0);
	cmd(f, 0, 0x70);
	assert_int_equal(log.calls, 1);
	assert_false(log.last);
	cmd(f, 0, 0x90);
	cmd(f, 0, 0x98);
	assert_int_equal(log.calls, 1);
	cmd(f, 0, 0xff);
	assert_int_equal(log.calls, 2);
	assert_true(log.last);
	/* 0x50 in read-array mode stays there. */
	cmd(f, 0, 0x50);
	assert_int_equal(log.calls, 2);
	cmd(f, 0, 0x20);
	assert_int_equal(log.calls, 3);
	cfi_flash_reset(f);
	assert_int_equal(log.calls, 4);
	assert_true(log.last);
	assert_true(cfi_flash_in_array_mode(f));
	cfi_flash_set_mode_callback(f, NULL, NULL);
	cmd(f, 0, 0x70);
	assert_int_equal(log.calls, 4);
	cfi_flash_close(f);
	unlink(path);
}

static void test_snapshot(void **state)
{
	struct cfi_flash *a, *b, *small;
	struct snap_buf sb;
	char pa[64], pb[64], ps[64];

	(void)state;
	make_file(pa, FLASH_SIZE, 37);
	make_file(pb, FLASH_SIZE, 37);
	make_file(ps, SECTOR, 37);
	a = open_ok(pa, false);
	b = open_ok(pb, false);
	small = open_ok(ps, false);
	erase(a, SECTOR);
	erase(b, SECTOR);
	cmd(a, 0, 0xff);
	cmd(b, 0, 0xff);

	/* Halfway through a buffered program, with a lock and an error pending... */
	cmd(a, 2 * SECTOR, 0x60);
	cmd(a, 2 * SECTOR, 0x01);
	cmd(a, SECTOR + 0x40, 0xe8);
	cmd(a, SECTOR + 0x40, 3);
	wr32(a, SECTOR + 0x40, 0x11111111);
	wr32(a, SECTOR + 0x44, 0x22222222);
	snap_init(&sb);
	assert_int_equal(cfi_flash_save(a, &sb), 0);

	/* ...a flash of another size refuses it... */
	assert_int_equal(cfi_flash_load(small, &sb), -EINVAL);
	assert_true(cfi_flash_in_array_mode(small));

	/* ...and one of the same size finishes the program. */
	sb.pos = 0;
	assert_int_equal(cfi_flash_load(b, &sb), 0);
	assert_false(cfi_flash_in_array_mode(b));
	wr32(b, SECTOR + 0x48, 0x33333333);
	wr32(b, SECTOR + 0x4c, 0x44444444);
	cmd(b, 0, 0xd0);
	assert_int_equal(status(b), SR_OK);
	cmd(b, 2 * SECTOR, 0x90);
	assert_int_equal(rd32(b, 2 * SECTOR + 8), dual(1));
	cmd(b, 0, 0xff);
	assert_int_equal(rd32(b, SECTOR + 0x40), 0x11111111);
	assert_int_equal(rd32(b, SECTOR + 0x4c), 0x44444444);
	assert_file_matches(b, pb);
	snap_free(&sb);

	/* Nonsense fields are refused and change nothing. */
	snap_init(&sb);
	snap_begin_section(&sb, "cfi-flash", 1);
	snap_put_u64(&sb, FLASH_SIZE);
	snap_put_u32(&sb, 0);	 /* read array */
	snap_put_u32(&sb, 5);	 /* BUFFER_DATA... */
	snap_put_u32(&sb, 0x80); /* status */
	snap_put_u32(&sb, 0);	 /* block */
	snap_put_u32(&sb, 1000); /* ...of 1000 words */
	snap_put_u32(&sb, 0);
	snap_put_u64(&sb, 0);
	snap_put_u32(&sb, 0);
	snap_put(&sb, (u8[CFI_FLASH_BUFFER_SIZE]){0}, CFI_FLASH_BUFFER_SIZE);
	snap_put(&sb, (u8[32]){0}, 32);
	assert_int_equal(cfi_flash_load(b, &sb), -EINVAL);
	assert_true(cfi_flash_in_array_mode(b));
	snap_free(&sb);
	snap_init(&sb);
	snap_begin_section(&sb, "cfi-flash", 2);
	assert_int_equal(cfi_flash_load(b, &sb), -EINVAL);
	snap_free(&sb);

	cfi_flash_close(a);
	cfi_flash_close(b);
	cfi_flash_close(small);
	unlink(pa);
	unlink(pb);
	unlink(ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_size_checks), cmocka_unit_test(test_open_lock),
		cmocka_unit_test(test_read_only),	 cmocka_unit_test(test_persistence),
		cmocka_unit_test(test_mode_callback),	 cmocka_unit_test(test_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
