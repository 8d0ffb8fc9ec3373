// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CFI flash's Intel command set as EDK2's VirtNorFlashDxe drives it (dual 16-bit
 * commands in 32-bit stores; helpers in cfi_flash_fixture.h): CFI query, identifiers,
 * erase, word and buffered programs, block locks, the errors a bad sequence gets, and
 * that no access, however odd, reaches outside the file.
 */
#include "util/log.h"
#include "cfi_flash_fixture.h"

/* Arbitrary but fixed 32-bit words. */
static u64 rnd_word(u64 i)
{
	u64 x = (i + 1) * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 29;
	return x * 0xbf58476d1ce4e5b9ULL >> 32;
}

/* Reads outside read-array mode. */

static void test_cfi_query(void **state)
{
	struct cfi_flash *f;
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 3);
	f = open_ok(path, false);
	assert_true(cfi_flash_in_array_mode(f));
	cmd(f, 0x55 * 4, 0x98); /* the address of a command does not matter */
	assert_false(cfi_flash_in_array_mode(f));
	/* CFI byte N of each chip is at word N: offset N * 4, in both 16-bit lanes. */
	assert_int_equal(rd32(f, 0x10 * 4), dual('Q'));
	assert_int_equal(rd32(f, 0x11 * 4), dual('R'));
	assert_int_equal(rd32(f, 0x12 * 4), dual('Y'));
	assert_int_equal(rd32(f, 0x13 * 4), dual(0x01)); /* Intel/Sharp extended command set */
	assert_int_equal(rd32(f, 0x14 * 4), 0);
	assert_int_equal(rd32(f, 0x15 * 4), dual(0x31));
	/* Geometry per chip: 512 KiB = 2^19, 64-byte buffer, 4 blocks of 128 KiB. */
	assert_int_equal(rd32(f, 0x27 * 4), dual(19));
	assert_int_equal(rd32(f, 0x28 * 4), dual(0x01));
	assert_int_equal(rd32(f, 0x2a * 4), dual(6));
	assert_int_equal(rd32(f, 0x2c * 4), dual(1));
	assert_int_equal(rd32(f, 0x2d * 4), dual(NR_SECTORS - 1));
	assert_int_equal(rd32(f, 0x2e * 4), 0);
	assert_int_equal(rd32(f, 0x2f * 4), 0);
	assert_int_equal(rd32(f, 0x30 * 4), dual(0x02)); /* 0x200 * 256 = 128 KiB */
	assert_int_equal(rd32(f, 0x31 * 4), dual('P'));
	assert_int_equal(rd32(f, 0x34 * 4), dual('1'));
	assert_int_equal(rd32(f, 0x35 * 4), dual('0'));
	assert_int_equal(rd32(f, 0x100 * 4), 0); /* past the table */
	/* Narrow and wide reads: each chip on its lane, upper bytes 0. */
	assert_int_equal(rd(f, 0x10 * 4, 1), 'Q');
	assert_int_equal(rd(f, 0x10 * 4 + 1, 1), 0);
	assert_int_equal(rd(f, 0x10 * 4 + 2, 2), 'Q');
	assert_int_equal(rd(f, 0x10 * 4, 8), (u64)dual('R') << 32 | dual('Q'));
	/* The table repeats in every block. */
	assert_int_equal(rd32(f, 2 * SECTOR + 0x11 * 4), dual('R'));

	cmd(f, 0, 0xff);
	assert_true(cfi_flash_in_array_mode(f));
	assert_int_equal(rd(f, 0x10 * 4, 1), pattern(0x40, 3));
	cfi_flash_close(f);
	unlink(path);

	/* 64 MiB: 32 MiB per chip, 256 blocks. */
	make_file(path, CFI_FLASH_MAX_SIZE, 0);
	f = open_ok(path, false);
	cmd(f, 0, 0x98);
	assert_int_equal(rd32(f, 0x27 * 4), dual(25));
	assert_int_equal(rd32(f, 0x2d * 4), dual(0xff));
	assert_int_equal(rd32(f, 0x2e * 4), 0);
	cfi_flash_close(f);
	unlink(path);
}

static void test_read_id(void **state)
{
	struct cfi_flash *f;
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 0);
	f = open_ok(path, false);
	cmd(f, 0, 0x90);
	assert_int_equal(rd32(f, 0), dual(CFI_FLASH_MANUFACTURER));
	assert_int_equal(rd32(f, 4), dual(CFI_FLASH_DEVICE));
	assert_int_equal(rd32(f, SECTOR + 8), 0); /* block 1 is unlocked */

	/* EDK2's NorFlashBlockIsLocked: 0x90 at block + 8, then the word there. */
	cmd(f, SECTOR, 0x60);
	cmd(f, SECTOR, 0x01);
	assert_int_equal(status(f), SR_OK);
	cmd(f, SECTOR + 8, 0x90);
	assert_int_equal(rd32(f, SECTOR + 8), dual(1));
	assert_int_equal(rd32(f, 8), 0);
	assert_int_equal(rd32(f, 2 * SECTOR + 8), 0);
	cmd(f, SECTOR, 0x60);
	cmd(f, SECTOR, 0xd0);
	cmd(f, SECTOR + 8, 0x90);
	assert_int_equal(rd32(f, SECTOR + 8), 0);
	/* Lock-down counts as a lock; a reset unlocks everything. */
	cmd(f, 3 * SECTOR, 0x60);
	cmd(f, 3 * SECTOR, 0x2f);
	cmd(f, 0, 0x90);
	assert_int_equal(rd32(f, 3 * SECTOR + 8), dual(1));
	cfi_flash_reset(f);
	assert_true(cfi_flash_in_array_mode(f));
	cmd(f, 0, 0x90);
	assert_int_equal(rd32(f, 3 * SECTOR + 8), 0);
	cfi_flash_close(f);
	unlink(path);
}

/* Erasing and programming. */

static void test_erase_block(void **state)
{
	struct cfi_flash *f;
	const u8 *mem;
	u8 *file;
	u64 size;
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 7);
	f = open_ok(path, false);
	mem = cfi_flash_data(f);
	/* Any address inside the block names it. */
	cmd(f, SECTOR + 0x1234, 0x20);
	assert_false(cfi_flash_in_array_mode(f));
	assert_int_equal(rd32(f, SECTOR + 0x1234), SR_OK); /* reads show status */
	cmd(f, SECTOR + 0x1234, 0xd0);
	assert_int_equal(rd32(f, 0), SR_OK);
	assert_int_equal(status(f), SR_OK);
	cmd(f, 0, 0xff);
	assert_int_equal(rd32(f, SECTOR + 0x1234), 0xffffffff);
	assert_int_equal(rd(f, 2 * SECTOR - 8, 8), ~0ULL);

	file = read_file(path, &size);
	assert_int_equal(size, FLASH_SIZE);
	for (u64 i = 0; i < FLASH_SIZE; i++) {
		u8 want = (i >= SECTOR && i < 2 * SECTOR) ? 0xff : pattern(i, 7);

		if (mem[i] != want || file[i] != want)
			fail_msg("byte %#llx: memory %#x file %#x, want %#x", (unsigned long long)i,
				 mem[i], file[i], want);
	}
	free(file);
	cfi_flash_close(f);
	unlink(path);
}

static void test_word_program(void **state)
{
	struct cfi_flash *f;
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 9);
	f = open_ok(path, false);
	erase(f, 0);
	cmd(f, 0, 0xff);

	/* EDK2's NorFlashWriteSingleWord: 0x40 at the word, the data, poll, clear, array. */
	cmd(f, 0x100, 0x40);
	wr32(f, 0x100, 0x12345678);
	assert_int_equal(status(f), SR_OK);
	cmd(f, 0, 0x50);
	cmd(f, 0, 0xff);
	assert_int_equal(rd32(f, 0x100), 0x12345678);
	assert_int_equal(rd32(f, 0x104), 0xffffffff);
	assert_file_matches(f, path);

	/* NOR programming only clears bits: 1 -> 0, never 0 -> 1. */
	cmd(f, 0x100, 0x10); /* the alternate setup */
	wr32(f, 0x100, 0xffff00ff);
	cmd(f, 0, 0xff);
	assert_int_equal(rd32(f, 0x100), 0x12340078);
	cmd(f, 0x100, 0x40);
	wr32(f, 0x100, 0xffffffff);
	cmd(f, 0, 0xff);
	assert_int_equal(rd32(f, 0x100), 0x12340078);

	/* Narrow programs touch only their bytes. */
	cmd(f, 0x200, 0x40);
	wr(f, 0x202, 0xabcd, 2);
	cmd(f, 0, 0xff);
	assert_int_equal(rd32(f, 0x200), 0xabcdffff);
	cmd(f, 0x300, 0x40);
	wr(f, 0x301, 0x5a, 1);
	cmd(f, 0, 0xff);
	assert_int_equal(rd32(f, 0x300), 0xffff5aff);
	/* Other blocks kept their content. */
	assert_int_equal(rd(f, SECTOR, 1), pattern(SECTOR, 9));
	assert_file_matches(f, path);
	cfi_flash_close(f);
	unlink(path);
}

static void test_buffered_program(void **state)
{
	struct cfi_flash *f;
	u32 words[32], five[5] = {1, 2, 3, 4, 5};
	char path[64];

	(void)state;
	for (u32 i = 0; i < 32; i++)
		words[i] = 0xa5000000 | i;
	make_file(path, FLASH_SIZE, 11);
	f = open_ok(path, false);
	erase(f, 2 * SECTOR);
	assert_int_equal(status(f), SR_OK);
	cmd(f, 0, 0xff);

	/* A full buffer, as NorFlashWriteBuffer writes it: 128 bytes at a 128-byte boundary. */
	buffered_program(f, 2 * SECTOR + 0x80, words, 32);
	assert_int_equal(status(f), SR_OK);
	cmd(f, 0, 0xff);
	for (u32 i = 0; i < 32; i++)
		assert_int_equal(rd32(f, 2 * SECTOR + 0x80 + 4 * i), words[i]);
	assert_int_equal(rd32(f, 2 * SECTOR + 0x7c), 0xffffffff);
	assert_int_equal(rd32(f, 2 * SECTOR + 0x100), 0xffffffff);

	/* Five words anywhere in the block, up to its last word. */
	buffered_program(f, 3 * SECTOR - 20, five, 5);
	assert_int_equal(status(f), SR_OK);
	cmd(f, 0, 0xff);
	for (u32 i = 0; i < 5; i++)
		assert_int_equal(rd32(f, 3 * SECTOR - 20 + 4 * i), five[i]);
	assert_file_matches(f, path);

	/* Data written as 8-byte stores: each is two bus words. */
	erase(f, 3 * SECTOR);
	cmd(f, 3 * SECTOR, 0xe8);
	cmd(f, 3 * SECTOR, 3);
	wr(f, 3 * SECTOR, 0x2222222211111111ULL, 8);
	wr(f, 3 * SECTOR + 8, 0x4444444433333333ULL, 8);
	cmd(f, 0, 0xd0);
	assert_int_equal(status(f), SR_OK);
	cmd(f, 0, 0xff);
	assert_int_equal(rd(f, 3 * SECTOR, 8), 0x2222222211111111ULL);
	assert_int_equal(rd(f, 3 * SECTOR + 8, 8), 0x4444444433333333ULL);
	assert_file_matches(f, path);
	cfi_flash_close(f);
	unlink(path);
}

static void test_buffered_program_errors(void **state)
{
	struct cfi_flash *f;
	u32 words[4] = {0, 0, 0, 0};
	u8 *before;
	u64 size;
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 13);
	before = read_file(path, &size);
	f = open_ok(path, false);

	/* Four words from 8 bytes before the end of block 0: crosses into block 1. */
	buffered_program(f, SECTOR - 8, words, 4);
	assert_int_equal(status(f), dual(SR_SEQUENCE));
	cmd(f, 0, 0x50);
	assert_int_equal(status(f), SR_OK);

	/* Data outside the block given with 0xe8. */
	cmd(f, 0, 0xe8);
	cmd(f, 0, 1);
	wr32(f, SECTOR, 0);
	wr32(f, SECTOR + 4, 0);
	cmd(f, 0, 0xd0);
	assert_int_equal(status(f), dual(SR_SEQUENCE));
	cmd(f, 0, 0x50);

	/* A word outside the window the first one opened. */
	cmd(f, 0x400, 0xe8);
	cmd(f, 0x400, 1);
	wr32(f, 0x400, 0);
	wr32(f, 0x800, 0);
	cmd(f, 0, 0xd0);
	assert_int_equal(status(f), dual(SR_SEQUENCE));
	cmd(f, 0, 0x50);

	/* No confirm: the buffer is dropped. */
	cmd(f, 0x400, 0xe8);
	cmd(f, 0x400, 0);
	wr32(f, 0x400, 0);
	cmd(f, 0, 0xff);
	assert_int_equal(status(f), dual(SR_SEQUENCE));
	cmd(f, 0, 0x50);

	/* A count beyond the 32-word buffer; the words after it are refused as commands. */
	cmd(f, 0x400, 0xe8);
	cmd(f, 0x400, 32);
	assert_int_equal(rd32(f, 0x400), dual(SR_SEQUENCE));
	cmd(f, 0x400, 0x40); /* would program... */
	wr32(f, 0x400, 0);   /* ...this, but errors are pending */
	cmd(f, 0x400, 0x20);
	cmd(f, 0x400, 0xd0);
	assert_true(status(f) & dual(SR_SEQUENCE));

	cmd(f, 0, 0xff);
	assert_memory_equal(cfi_flash_data(f), before, size);
	assert_file_matches(f, path);

	/* Cleared, the same program works. */
	cmd(f, 0, 0x50);
	cmd(f, 0x400, 0x40);
	wr32(f, 0x400, 0);
	assert_int_equal(status(f), SR_OK);
	cmd(f, 0, 0xff);
	assert_int_equal(rd32(f, 0x400), 0);
	free(before);
	cfi_flash_close(f);
	unlink(path);
}

static void test_clear_status_and_confirms(void **state)
{
	struct cfi_flash *f;
	u8 *before;
	u64 size;
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 17);
	before = read_file(path, &size);
	f = open_ok(path, false);

	/* A wrong erase confirm: error, nothing erased. */
	cmd(f, SECTOR, 0x20);
	cmd(f, SECTOR, 0x55);
	assert_int_equal(rd32(f, 0), dual(SR_SEQUENCE)); /* now in read-status mode */
	assert_int_equal(rd(f, 2, 2), SR_SEQUENCE);
	/* Clear status keeps the read mode. */
	cmd(f, 0, 0x50);
	assert_int_equal(rd32(f, 0), SR_OK);
	assert_false(cfi_flash_in_array_mode(f));
	cmd(f, 0, 0xff);
	assert_true(cfi_flash_in_array_mode(f));
	assert_memory_equal(cfi_flash_data(f), before, size);

	/* 0xff in place of the confirm cancels without an error. */
	cmd(f, SECTOR, 0x20);
	cmd(f, SECTOR, 0xff);
	assert_true(cfi_flash_in_array_mode(f));
	assert_int_equal(status(f), SR_OK);

	/* A wrong lock confirm, an unknown command, a buffer confirmed with garbage. */
	cmd(f, 0, 0x60);
	cmd(f, 0, 0x77);
	assert_int_equal(status(f), dual(SR_SEQUENCE));
	cmd(f, 0, 0x50);
	cmd(f, 0, 0x42);
	assert_int_equal(status(f), dual(SR_SEQUENCE));
	cmd(f, 0, 0x50);
	cmd(f, 0, 0xe8);
	cmd(f, 0, 0);
	wr32(f, 0, 0);
	cmd(f, 0, 0x20);
	assert_int_equal(status(f), dual(SR_SEQUENCE));
	cmd(f, 0, 0x50);

	/* Suspend and resume are accepted and change nothing; so are the QEMU/AMD resets. */
	cmd(f, 0, 0xb0);
	cmd(f, 0, 0xd0);
	assert_int_equal(status(f), SR_OK);
	cmd(f, 0, 0x00);
	assert_true(cfi_flash_in_array_mode(f));
	cmd(f, 0, 0x70);
	cmd(f, 0, 0xf0);
	assert_true(cfi_flash_in_array_mode(f));

	assert_memory_equal(cfi_flash_data(f), before, size);
	assert_file_matches(f, path);
	free(before);
	cfi_flash_close(f);
	unlink(path);
}

static void test_locked_block(void **state)
{
	struct cfi_flash *f;
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 19);
	f = open_ok(path, false);
	cmd(f, SECTOR, 0x60);
	cmd(f, SECTOR, 0x01);
	cmd(f, SECTOR + 16, 0x40);
	wr32(f, SECTOR + 16, 0);
	assert_int_equal(status(f), dual(SR_LOCK_PROG));
	cmd(f, 0, 0x50);
	erase(f, SECTOR);
	assert_int_equal(status(f), dual(CFI_SR_READY | CFI_SR_LOCKED | CFI_SR_ERASE_ERR));
	cmd(f, 0, 0x50);
	cmd(f, 0, 0xff);
	assert_int_equal(rd(f, SECTOR + 16, 1), pattern(SECTOR + 16, 19));
	/* Other blocks are not locked; unlocked, the block erases. */
	erase(f, 0);
	assert_int_equal(status(f), SR_OK);
	cmd(f, SECTOR, 0x60);
	cmd(f, SECTOR, 0xd0);
	erase(f, SECTOR);
	assert_int_equal(status(f), SR_OK);
	cmd(f, 0, 0xff);
	assert_int_equal(rd(f, SECTOR + 16, 8), ~0ULL);
	assert_file_matches(f, path);
	cfi_flash_close(f);
	unlink(path);
}

/*
 * EDK2's VirtNorFlashDxe rewriting a whole block (NorFlashWriteFullBlock), step by step:
 * the lock check and unlock, the erase, then buffered programs of 128 bytes, each polled
 * through the status register (bit 7 in both halves), cleared and ended with read array.
 */
#define P30_SR_BIT_WRITE 0x00800080u
#define P30_SR_ERRORS	 0x003a003au

static u32 edk2_status(struct cfi_flash *f)
{
	u32 sr;
	int polls = 0;

	do {
		cmd(f, 0, 0x70);
		sr = rd32(f, 0);
		assert_true(++polls < 10); /* instant: the first poll is ready */
	} while ((sr & P30_SR_BIT_WRITE) != P30_SR_BIT_WRITE);
	return sr;
}

static void test_edk2_full_block(void **state)
{
	u64 block = 2 * SECTOR;
	struct cfi_flash *f;
	u32 *data = malloc(SECTOR), sr;
	u8 *file;
	u64 size;
	char path[64];

	(void)state;
	assert_non_null(data);
	for (u32 i = 0; i < SECTOR / 4; i++)
		data[i] = (u32)rnd_word(i);
	make_file(path, FLASH_SIZE, 43);
	f = open_ok(path, false);
	cmd(f, block, 0x60); /* start from a locked block, as a real P30 powers up */
	cmd(f, block, 0x01);
	cmd(f, 0, 0xff);

	cmd(f, block + 2 * 4, 0x90);
	sr = rd32(f, block + 2 * 4);
	if ((sr >> 16 | (sr & 0xffff)) & 1) {
		cmd(f, block, 0x60);
		cmd(f, block, 0xd0);
		edk2_status(f);
		cmd(f, block, 0xff);
	}
	cmd(f, block, 0x20);
	cmd(f, block, 0xd0);
	assert_int_equal(edk2_status(f) & P30_SR_ERRORS, 0);
	cmd(f, 0, 0xff);

	for (u64 off = 0; off < SECTOR; off += CFI_FLASH_BUFFER_SIZE) {
		u64 t = block + off;

		cmd(f, t, 0xe8);
		assert_int_equal(rd32(f, t) & P30_SR_BIT_WRITE, P30_SR_BIT_WRITE);
		cmd(f, t, CFI_FLASH_BUFFER_SIZE / 4 - 1);
		for (u32 i = 0; i < CFI_FLASH_BUFFER_SIZE / 4; i++)
			wr32(f, t + 4 * i, data[(off / 4) + i]);
		cmd(f, 0, 0xd0);
		assert_int_equal(edk2_status(f) & P30_SR_ERRORS, 0);
		cmd(f, 0, 0x50);
		cmd(f, 0, 0xff);
	}
	assert_true(cfi_flash_in_array_mode(f));
	assert_memory_equal((const u8 *)cfi_flash_data(f) + block, data, SECTOR);
	file = read_file(path, &size);
	assert_memory_equal(file + block, data, SECTOR);
	assert_int_equal(file[block - 1], pattern(block - 1, 43));
	assert_int_equal(file[block + SECTOR], pattern(block + SECTOR, 43));
	free(file);
	free(data);
	cfi_flash_close(f);
	unlink(path);
}

/* Odd accesses. */

static void test_odd_accesses(void **state)
{
	struct cfi_flash *f;
	u8 *before, big[16];
	u64 size;
	char path[64];

	(void)state;
	make_file(path, FLASH_SIZE, 23);
	before = read_file(path, &size);
	f = open_ok(path, false);

	/* Reaching past the end, wrapping, odd lengths: all-ones, nothing written. */
	assert_int_equal(rd(f, FLASH_SIZE - 2, 4), 0xffffffff);
	assert_int_equal(rd(f, FLASH_SIZE, 1), 0xff);
	assert_int_equal(rd(f, ~0ULL - 1, 4), 0xffffffff);
	assert_int_equal(rd(f, ~0ULL, 8), ~0ULL);
	assert_int_equal(rd(f, 0, 3), 0xffffff);
	memset(big, 0, sizeof(big));
	cfi_flash_mmio(f, 0, big, 16, false);
	assert_memory_equal(big, "\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\0\0\0\0", 16);
	cfi_flash_mmio(f, 0, big, 16, true);
	cfi_flash_mmio(f, 0, big, 0, true);
	wr(f, FLASH_SIZE - 2, dual(0x20), 4);
	wr(f, ~0ULL - 3, dual(0x20), 4);
	wr(f, 0, 0x20, 3);
	assert_true(cfi_flash_in_array_mode(f));

	/* Unaligned reads in array mode are just bytes. */
	assert_int_equal(rd(f, 1, 4), (u32)pattern(1, 23) | (u32)pattern(2, 23) << 8 |
					      (u32)pattern(3, 23) << 16 |
					      (u32)pattern(4, 23) << 24);
	assert_int_equal(rd(f, FLASH_SIZE - 1, 1), pattern(FLASH_SIZE - 1, 23));

	/* An 8-byte store is two bus words: 0x70 then 0x90 leaves identifier mode. */
	wr(f, 0, (u64)dual(0x90) << 32 | dual(0x70), 8);
	assert_int_equal(rd32(f, 0), dual(CFI_FLASH_MANUFACTURER));
	/* A store to an upper byte only carries no command. */
	cmd(f, 0, 0xff);
	wr(f, 1, 0x20, 1);
	assert_int_equal(rd32(f, 0), dual(SR_SEQUENCE));
	cmd(f, 0, 0x50);
	/* A 16-bit command to the second chip's lane still drives the pair. */
	wr(f, 2, 0x70, 2);
	assert_int_equal(rd32(f, 0), SR_OK);
	/* An unaligned 4-byte read of status: the lanes as they fall. */
	assert_int_equal(rd(f, 1, 4), 0x80008000);
	cmd(f, 0, 0xff);

	/* An unaligned program word straddling two bus words programs just its bytes. */
	erase(f, 0);
	cmd(f, 0, 0xff);
	cmd(f, 0x10, 0x40);
	wr(f, 0x12, 0, 4); /* two cycles: the data, then 0x00 taken as read array */
	assert_true(cfi_flash_in_array_mode(f));
	assert_int_equal(rd32(f, 0x10), 0x0000ffff);
	assert_int_equal(rd32(f, 0x14), 0xffffffff);
	assert_file_matches(f, path);

	assert_int_equal(memcmp(cfi_flash_data(f) + SECTOR, before + SECTOR, size - SECTOR), 0);
	free(before);
	cfi_flash_close(f);
	unlink(path);
}

/* Random accesses with a fixed seed: no crash, nothing outside the file, file == memory. */

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_fuzz(void **state)
{
	static const u8 cmds[] = {0xff, 0x00, 0x70, 0x50, 0x90, 0x98, 0x20, 0xd0, 0x40,
				  0x10, 0xe8, 0x60, 0x01, 0x2f, 0xb0, 0xf0, 0x03, 0x1f};
	static const u32 lens[] = {1, 2, 4, 8, 1, 2, 4, 8, 3, 0, 16};
	enum log_level saved = log_level;
	struct cfi_flash *f;
	struct stat st;
	char path[64];
	u8 data[16];

	(void)state;
	log_level = LOG_ERR; /* the guest-error warnings are the point here */
	make_file(path, FLASH_SIZE, 41);
	f = open_ok(path, false);
	for (int i = 0; i < 100000; i++) {
		u64 r = rnd(), off;
		u32 len = lens[r % ARRAY_SIZE(lens)];
		bool write = (r >> 8) & 1;

		switch ((r >> 9) % 8) {
		case 0:
			off = rnd(); /* anywhere at all */
			break;
		case 1:
			off = FLASH_SIZE - (rnd() % 16); /* around the end */
			break;
		default:
			off = rnd() % FLASH_SIZE;
			break;
		}
		if ((r >> 12) & 1)
			off &= ~3ULL;
		for (size_t j = 0; j < sizeof(data); j++)
			data[j] = (u8)rnd();
		if (write && (r >> 13) % 4 != 0) {
			/* Mostly commands and small counts, as a driver would send them. */
			u32 v = dual(cmds[(r >> 16) % ARRAY_SIZE(cmds)]);

			memcpy(data, &v, 4);
			memcpy(data + 4, &v, 4);
		}
		cfi_flash_mmio(f, off, data, len, write);
		if (i % 10000 == 0) {
			assert_int_equal(stat(path, &st), 0);
			assert_int_equal(st.st_size, FLASH_SIZE);
		}
	}
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, FLASH_SIZE);
	assert_file_matches(f, path);
	cfi_flash_close(f);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, FLASH_SIZE);
	unlink(path);
	log_level = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfi_query),
		cmocka_unit_test(test_read_id),
		cmocka_unit_test(test_erase_block),
		cmocka_unit_test(test_word_program),
		cmocka_unit_test(test_buffered_program),
		cmocka_unit_test(test_buffered_program_errors),
		cmocka_unit_test(test_clear_status_and_confirms),
		cmocka_unit_test(test_locked_block),
		cmocka_unit_test(test_edk2_full_block),
		cmocka_unit_test(test_odd_accesses),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
