/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_CFI_FLASH_H
#define KVMBOX_DEVICES_CFI_FLASH_H

#include "../snapshot.h"
#include "../util/types.h"

/*
 * A CFI NOR flash with the Intel/Sharp extended command set (CFI primary vendor command
 * set 0x0001), backed by a file: the non-volatile variable store of a UEFI firmware.
 *
 * Geometry, chosen to be what EDK2's ArmVirtQemu expects of QEMU's arm64 virt machine:
 * - Two x16 chips side by side on a 32-bit bus (QEMU virt: pflash_cfi01 width 4,
 *   device-width 2). EDK2's VirtNorFlashDxe hardcodes it: every command is written as one
 *   32-bit store with the command in both 16-bit halves, and a status read is one 32-bit
 *   load that must have bit 7 set in both halves (0x00800080). Both chips run one state
 *   machine in lockstep; each answers a status, identifier or CFI query read on its own
 *   16-bit lane, so a 32-bit read returns the answer in both halves.
 * - 256 KiB erase blocks over both chips (128 KiB per chip): ArmVirtPkg's NorFlashQemuLib
 *   hardcodes QEMU_NOR_BLOCK_SIZE = 256 KiB rather than reading the CFI table.
 * - A 128-byte write buffer (32 words per x16 chip, as on the Intel P30 that EDK2's
 *   driver was written for); EDK2 programs at most 128 bytes per buffered program.
 * - Manufacturer 0x89 (Intel), device 0x18, the identifiers QEMU virt's flash reports.
 * - Offsets are bytes into the flash; a chip sees word address offset / 4, so CFI query
 *   byte N (per chip) is read at offset N * 4, and the identifier reads at block offsets
 *   0, 4 and 8 (manufacturer, device, block lock status).
 * - The CFI device size (2^n bytes per chip) is rounded up for a size that is not a power
 *   of two; the erase block region always gives the exact number of blocks.
 *
 * Programming can only clear bits (new = old & data), as on real NOR flash; an erase sets
 * a whole block to 0xff. EDK2 checks before writing whether an erase is needed, so it
 * relies on nothing more.
 *
 * Operations complete when their last cycle is written: the status register's ready bit
 * (7) is always set. Error bits are sticky until Clear Status (0x50, which leaves the read
 * mode as it is; EDK2 follows it with read array anyway): 4 and 5 together for a malformed
 * sequence (a wrong confirm byte, a buffered program crossing its block or announcing more
 * than the buffer holds, an unknown command), 3 (VPP low: hardware write protection) with
 * 4 or 5 for a program or erase of a read-only flash, 1 (block locked) with 4 or 5 for one
 * of a locked block. While an error bit is set, programs and erases change nothing, so a
 * guest that lost track of a sequence cannot have its data words taken for commands that
 * alter the flash.
 *
 * Block locks (0x60 then 0x01 lock, 0xd0 unlock, 0x2f lock-down, treated as lock) are kept
 * per block in memory and start unlocked at open and at reset, as QEMU's flash does (a real
 * P30 powers up locked; EDK2 unlocks before every erase and program either way).
 *
 * The content lives in memory (anonymous, page-aligned) and every completed program or
 * erase is written to the file at once with pwrite(), so the file matches memory after
 * every command and a killed kvmbox loses nothing. fdatasync() runs when the guest returns
 * to read-array mode after a change (EDK2 does so at the end of every word program, buffer
 * program and erase, so each of its operations is durable before the next begins, which
 * its fault-tolerant write relies on over a host crash), at reset and at close.
 */

#define CFI_FLASH_SECTOR_SIZE (256 * KiB) /* one erase block, over both chips */
#define CFI_FLASH_MAX_SIZE    (64 * MiB)  /* QEMU virt's flash banks are 64 MiB */
#define CFI_FLASH_BANK_WIDTH  4		  /* bytes: the device tree's "bank-width" */
#define CFI_FLASH_BUFFER_SIZE 128	  /* bytes in one buffered program, both chips */

/* Status register bits, as each chip reports them. */
#define CFI_SR_READY	 BIT(7)
#define CFI_SR_ERASE_ERR BIT(5)
#define CFI_SR_PROG_ERR	 BIT(4)
#define CFI_SR_VPP_LOW	 BIT(3)
#define CFI_SR_LOCKED	 BIT(1)

#define CFI_FLASH_MANUFACTURER 0x89
#define CFI_FLASH_DEVICE       0x18

struct cfi_flash;

/*
 * Opens the regular file at path as the flash's content: its size must be a non-zero
 * multiple of CFI_FLASH_SECTOR_SIZE, at most CFI_FLASH_MAX_SIZE and, when expected_size
 * is not 0, equal to it. The file is never truncated or extended. It is locked with flock
 * (shared when read_only, else exclusive) so that two VMs cannot use one variable store.
 * Returns 0 and sets *out, or puts a one-line reason (without the path) in err and
 * returns -EINVAL for a file that is missing, unreadable or of the wrong type or size,
 * -EBUSY when another user holds the lock, -ENOMEM.
 */
int cfi_flash_open(struct cfi_flash **out, const char *path, u64 expected_size, bool read_only,
		   char *err, size_t errlen);
/* Syncs pending writes, drops the lock and frees the device. No access may be running. */
void cfi_flash_close(struct cfi_flash *f);

/*
 * The MMIO handler's body: a guest access of len bytes (1, 2, 4 or 8) at offset into
 * the flash, little-endian. An 8-byte or unaligned access is the bus cycles of the 32-bit
 * words it touches, in address order. An access of another length or reaching past the
 * end reads all-ones and writes nothing. Safe to call from several vCPUs at once.
 */
void cfi_flash_mmio(struct cfi_flash *f, u64 offset, void *data, u32 len, bool is_write);

/* What a reset line does: read-array mode, status 0x80, no sequence, blocks unlocked. */
void cfi_flash_reset(struct cfi_flash *f);

/*
 * The content, size bytes, page-aligned: what reads return in read-array mode. It changes
 * only while the device is out of read-array mode, so it can back a read-only memory slot
 * while cfi_flash_in_array_mode() is true.
 */
const void *cfi_flash_data(const struct cfi_flash *f);
u64 cfi_flash_size(const struct cfi_flash *f);
/* True when reads return the content: read-array mode and no command sequence under way. */
bool cfi_flash_in_array_mode(const struct cfi_flash *f);

typedef void (*cfi_flash_mode_fn)(void *opaque, bool array_mode);

/*
 * mode_changed(opaque, array_mode) is called whenever cfi_flash_in_array_mode() changes,
 * on the thread whose access (or reset or load) changed it, with the device's lock held:
 * it must not call back into this device except cfi_flash_in_array_mode(), data and size.
 * NULL turns it off. Set it before the guest runs.
 */
void cfi_flash_set_mode_callback(struct cfi_flash *f, cfi_flash_mode_fn mode_changed, void *opaque);

/*
 * The command state (read mode, status, sequence and write buffer progress, block locks)
 * through snapshot section "cfi-flash"; the content is the file's. Load checks every field
 * and returns -EINVAL, changing nothing, for a section that does not fit this flash.
 */
int cfi_flash_save(struct cfi_flash *f, struct snap_buf *sb);
int cfi_flash_load(struct cfi_flash *f, struct snap_buf *sb);

#endif
