// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/snapshot.c src/util/log.c src/devices/cfi_flash.c src/devices/cfi_flash_store.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the CFI flash's command state machine, on a 512 KiB file (two
 * erase blocks) in /dev/shm: the input is one flags byte (bit 0: open read-only), then a
 * guest's accesses (fuzz_access.h) to the flash, resets and hostile snapshots. Checked:
 * the mode callback always agrees with cfi_flash_in_array_mode(), a read (1, 2, 4 or 8
 * bytes) in read-array mode gives the content, a read-only flash never changes, and after every input the
 * file holds what the flash does.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/cfi_flash.h"
#include "fuzz_access.h"
#include "util/log.h"

#define FLASH_SIZE (2 * CFI_FLASH_SECTOR_SIZE)

static char path[64];
static int fd;
static u8 pristine[FLASH_SIZE];
static const u8 *file; /* the file, mapped */
static bool array_mode, ro_open;

static void unlink_file(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_level = LOG_ERR; /* every hostile input would log a warning */
	for (size_t i = 0; i < FLASH_SIZE; i++)
		pristine[i] = (u8)(i ^ (i >> 8) ^ (i >> 16));
	strcpy(path, access("/dev/shm", W_OK) ? "/tmp/kvmbox-fuzz-cfi-XXXXXX"
					      : "/dev/shm/kvmbox-fuzz-cfi-XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0 && pwrite(fd, pristine, FLASH_SIZE, 0) == FLASH_SIZE);
	file = mmap(NULL, FLASH_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(file != MAP_FAILED);
	atexit(unlink_file);
	return 0;
}

static void mode_changed(void *opaque, bool array)
{
	CHECK(array == cfi_flash_in_array_mode(opaque) && array != array_mode);
	array_mode = array;
}

static int save(void *f, struct snap_buf *sb)
{
	return cfi_flash_save(f, sb);
}

static int load(void *f, struct snap_buf *sb)
{
	return cfi_flash_load(f, sb);
}

static void access_flash(struct cfi_flash *f, struct fuzz_access *a)
{
	u8 *buf = fuzz_buf(a);

	cfi_flash_mmio(f, a->offset, buf, a->len, a->write);
	CHECK(array_mode == cfi_flash_in_array_mode(f));
	if (!a->write && array_mode && fuzz_fits(a, FLASH_SIZE) && !(a->len & (a->len - 1)))
		CHECK(!memcmp(buf, (const u8 *)cfi_flash_data(f) + a->offset, a->len));
}

/*
 * The flash as a fresh open would give it, read-only or not: a reset one does while its
 * content is the pristine one (cheaper than opening the file again).
 */
static struct cfi_flash *flash_fresh(struct cfi_flash *f, bool ro)
{
	char err[128];

	if (f && cfi_flash_size(f) == FLASH_SIZE &&
	    !memcmp(cfi_flash_data(f), pristine, FLASH_SIZE)) {
		cfi_flash_reset(f);
		cfi_flash_set_mode_callback(f, NULL, NULL);
		if (!ro == !ro_open)
			return f;
	}
	cfi_flash_close(f);
	if (memcmp(file, pristine, FLASH_SIZE))
		CHECK(pwrite(fd, pristine, FLASH_SIZE, 0) == FLASH_SIZE);
	CHECK(cfi_flash_open(&f, path, FLASH_SIZE, ro, err, sizeof(err)) == 0);
	ro_open = ro;
	return f;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct cfi_flash *f;
	struct fuzz_in in = {data, size};
	bool ro = fuzz_u8(&in) & 1;
	struct fuzz_access a;

	f = flash_fresh(f, ro);
	array_mode = true;
	cfi_flash_set_mode_callback(f, mode_changed, f);
	while (fuzz_next(&in, &a, FLASH_SIZE, 8)) {
		if (a.kind >= FUZZ_KIND_SNAPSHOT)
			fuzz_snapshot(f, save, load, &in);
		else if (a.kind >= FUZZ_KIND_RESET)
			cfi_flash_reset(f);
		else
			access_flash(f, &a);
		CHECK(array_mode == cfi_flash_in_array_mode(f));
	}
	CHECK(!memcmp(file, cfi_flash_data(f), FLASH_SIZE));
	CHECK(!ro || !memcmp(file, pristine, FLASH_SIZE));
	return 0;
}
