/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The CFI flash tests' helpers: backing files filled with a known pattern, an open that
 * must succeed, and guest accesses the way EDK2's VirtNorFlashDxe makes them (a command
 * is one 32-bit store with the command in both 16-bit halves; a status read is one
 * 32-bit load answered in both halves).
 */
#ifndef KVMBOX_TESTS_UNIT_CFI_FLASH_FIXTURE_H
#define KVMBOX_TESTS_UNIT_CFI_FLASH_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/cfi_flash.h"

#define SECTOR	   CFI_FLASH_SECTOR_SIZE
#define NR_SECTORS 4
#define FLASH_SIZE (NR_SECTORS * SECTOR)

#define SR_OK	     0x00800080u /* ready, no error, from both chips */
#define SR_SEQUENCE  (CFI_SR_READY | CFI_SR_PROG_ERR | CFI_SR_ERASE_ERR)
#define SR_RO_PROG   (CFI_SR_READY | CFI_SR_VPP_LOW | CFI_SR_PROG_ERR)
#define SR_RO_ERASE  (CFI_SR_READY | CFI_SR_VPP_LOW | CFI_SR_ERASE_ERR)
#define SR_LOCK_PROG (CFI_SR_READY | CFI_SR_LOCKED | CFI_SR_PROG_ERR)

static inline u32 dual(u32 v)
{
	return v | v << 16;
}

static inline u8 pattern(u64 i, u8 seed)
{
	return (u8)(i ^ (i >> 8) ^ (i >> 16) ^ seed);
}

/* A file of size bytes filled with pattern(seed), its path in path (64 bytes). */
static inline void make_file(char *path, u64 size, u8 seed)
{
	u8 chunk[4096];
	int fd;

	strcpy(path, "/tmp/kvmbox-cfi-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (u64 off = 0; off < size; off += sizeof(chunk)) {
		u64 n = MIN(sizeof(chunk), size - off);

		for (u64 i = 0; i < n; i++)
			chunk[i] = pattern(off + i, seed);
		assert_int_equal(pwrite(fd, chunk, n, (off_t)off), (ssize_t)n);
	}
	close(fd);
}

static inline u8 *read_file(const char *path, u64 *size)
{
	struct stat st;
	u8 *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*size = (u64)st.st_size;
	buf = malloc(*size ? *size : 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, *size, 0), (ssize_t)*size);
	close(fd);
	return buf;
}

/* The file holds exactly size bytes equal to the flash's memory. */
static inline void assert_file_matches(struct cfi_flash *f, const char *path)
{
	u64 size;
	u8 *buf = read_file(path, &size);

	assert_int_equal(size, cfi_flash_size(f));
	assert_memory_equal(buf, cfi_flash_data(f), size);
	free(buf);
}

static inline struct cfi_flash *open_ok(const char *path, bool ro)
{
	struct cfi_flash *f;
	char err[160] = "";
	int ret = cfi_flash_open(&f, path, 0, ro, err, sizeof(err));

	if (ret)
		fail_msg("open %s: %d %s", path, ret, err);
	return f;
}

static inline void wr(struct cfi_flash *f, u64 off, u64 val, u32 len)
{
	u8 b[8];

	for (u32 i = 0; i < 8; i++)
		b[i] = (u8)(val >> (8 * i));
	cfi_flash_mmio(f, off, b, len, true);
}

static inline u64 rd(struct cfi_flash *f, u64 off, u32 len)
{
	u8 b[8] = {0};
	u64 v = 0;

	cfi_flash_mmio(f, off, b, len, false);
	for (u32 i = 0; i < 8; i++)
		v |= (u64)b[i] << (8 * i);
	return v;
}

static inline void wr32(struct cfi_flash *f, u64 off, u32 val)
{
	wr(f, off, val, 4);
}

static inline u32 rd32(struct cfi_flash *f, u64 off)
{
	return (u32)rd(f, off, 4);
}

/* A command the way EDK2 sends it: one 32-bit store, the command in both halves. */
static inline void cmd(struct cfi_flash *f, u64 off, u8 c)
{
	wr32(f, off, dual(c));
}

static inline u32 status(struct cfi_flash *f)
{
	cmd(f, 0, 0x70);
	return rd32(f, 0);
}

static inline void erase(struct cfi_flash *f, u64 block_off)
{
	cmd(f, block_off, 0x20);
	cmd(f, block_off, 0xd0);
}

static inline void buffered_program(struct cfi_flash *f, u64 off, const u32 *words, u32 n)
{
	cmd(f, off, 0xe8);
	assert_int_equal(rd32(f, off) & SR_OK, SR_OK); /* the buffer is free */
	cmd(f, off, (u8)(n - 1));
	for (u32 i = 0; i < n; i++)
		wr32(f, off + 4 * i, words[i]);
	cmd(f, 0, 0xd0); /* EDK2 confirms at the flash's base */
}

#endif
