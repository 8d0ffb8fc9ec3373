/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_CFI_FLASH_PRIV_H
#define KVMBOX_DEVICES_CFI_FLASH_PRIV_H

/*
 * The CFI flash's insides, shared by cfi_flash.c (the command state machine and the MMIO
 * handler) and cfi_flash_store.c (the backing file, the CFI query table and snapshots).
 * Only cfi_flash*.c include this; everything else uses cfi_flash.h.
 */
#include <pthread.h>

#include "cfi_flash.h"

#define CFI_MAX_BLOCKS	 (CFI_FLASH_MAX_SIZE / CFI_FLASH_SECTOR_SIZE)
#define CFI_BUFFER_WORDS (CFI_FLASH_BUFFER_SIZE / CFI_FLASH_BANK_WIDTH)
#define CFI_QUERY_LEN	 0x40

#define CFI_SR_ERRORS (CFI_SR_ERASE_ERR | CFI_SR_PROG_ERR | CFI_SR_VPP_LOW | CFI_SR_LOCKED)

enum cfi_read_mode {
	READ_ARRAY,
	READ_STATUS,
	READ_ID,
	READ_QUERY,
	NR_READ_MODES,
};

/* Where a multi-cycle command is: the next write completes or continues it. */
enum cfi_state {
	IDLE,
	ERASE_SETUP,
	PROGRAM_SETUP,
	LOCK_SETUP,
	BUFFER_COUNT,
	BUFFER_DATA,
	BUFFER_CONFIRM,
	NR_STATES,
};

struct cfi_flash {
	pthread_mutex_t lock; /* vCPUs may access the flash concurrently */
	int fd;
	bool ro;
	u8 *mem; /* the content: anonymous, page-aligned, size bytes */
	u64 size;
	u32 nr_blocks;
	u8 query[CFI_QUERY_LEN]; /* what each chip answers to a CFI query */

	enum cfi_read_mode read_mode;
	enum cfi_state state;
	u8 status;
	bool dirty;	 /* written with pwrite, not yet synced */
	bool array_mode; /* read_mode == READ_ARRAY && state == IDLE, for lock-free readers */

	/* A buffered program: the block given with 0xe8, the words announced and seen. */
	u32 buf_block;
	u32 buf_words;
	u32 buf_done;
	u64 buf_start; /* offset of the first data word; valid once buf_done > 0 */
	bool buf_bad;  /* a word fell outside the window: the program will fail */
	u8 buf[CFI_FLASH_BUFFER_SIZE];

	u8 locked[CFI_MAX_BLOCKS / 8];

	cfi_flash_mode_fn mode_changed;
	void *mode_opaque;
};

/* cfi_flash.c */

/* The state at open and after a reset: read-array mode, status ready, blocks unlocked. */
void cfi_power_on(struct cfi_flash *f);
/* Updates array_mode and calls mode_changed when it changes. Called locked. */
void cfi_update_mode(struct cfi_flash *f);

/* cfi_flash_store.c */

/* Writes [off, off + len) of the content to the file; a failure sets err_bit in status. */
void cfi_store(struct cfi_flash *f, u64 off, u64 len, u8 err_bit);
/* fdatasync()s the file if anything was written since the last sync. */
void cfi_sync(struct cfi_flash *f);

#endif
