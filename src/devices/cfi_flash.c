// SPDX-License-Identifier: GPL-2.0-only
/*
 * CFI NOR flash, Intel/Sharp extended command set, as two x16 chips on a 32-bit bus: the
 * model and its reasons are in cfi_flash.h. Sources of the facts: QEMU's pflash_cfi01
 * (the flash QEMU's arm64 virt machine gives EDK2), EDK2's VirtNorFlashDxe (the commands
 * ArmVirtQemu sends and the status bits it polls) and the CFI and Intel P30 datasheets.
 *
 * This file is the command state machine and the MMIO handler; the backing file, the CFI
 * query table and snapshots are in cfi_flash_store.c.
 */
#include <pthread.h>
#include <string.h>

#include "cfi_flash_priv.h"
#include "../util/log.h"

/* Commands: the low byte of a chip's 16-bit lane. */
#define CMD_LOCK_BLOCK	     0x01
#define CMD_PROGRAM_ALT	     0x10
#define CMD_ERASE_SETUP	     0x20
#define CMD_LOCK_DOWN	     0x2f
#define CMD_PROGRAM	     0x40
#define CMD_CLEAR_STATUS     0x50
#define CMD_LOCK_SETUP	     0x60
#define CMD_READ_STATUS	     0x70
#define CMD_READ_ID	     0x90
#define CMD_READ_QUERY	     0x98
#define CMD_SUSPEND	     0xb0
#define CMD_CONFIRM	     0xd0 /* also resume, and unlock after 0x60 */
#define CMD_BUFFERED_PROGRAM 0xe8
#define CMD_AMD_RESET	     0xf0 /* AMD's reset: what a probe for that command set sends */
#define CMD_READ_ARRAY	     0xff
#define CMD_READ_ARRAY_QEMU  0x00 /* QEMU's flash takes it as read array; so do we */
#define CMD_CONFIG_SETUP     0x03 /* after 0x60: set the read configuration register */

#define CFI_SR_SEQUENCE (CFI_SR_ERASE_ERR | CFI_SR_PROG_ERR)

/* Identifier codes, at these word offsets into any block. */
#define ID_MANUFACTURER 0
#define ID_DEVICE	1
#define ID_BLOCK_LOCK	2

/* One 32-bit bus cycle: the bytes of the word at addr that the access wrote. */
struct cfi_cycle {
	u64 addr; /* 4-byte aligned */
	u8 mask;  /* bit i: byte i was written */
	u8 byte[4];
};

/* The state machine. */

void cfi_power_on(struct cfi_flash *f)
{
	f->read_mode = READ_ARRAY;
	f->state = IDLE;
	f->status = CFI_SR_READY;
	f->buf_words = 0;
	f->buf_done = 0;
	f->buf_bad = false;
	memset(f->locked, 0, sizeof(f->locked));
}

static u32 cfi_block(u64 offset)
{
	return (u32)(offset / CFI_FLASH_SECTOR_SIZE);
}

static bool cfi_is_locked(const struct cfi_flash *f, u32 block)
{
	return f->locked[block / 8] & (1U << (block % 8));
}

static void cfi_set_locked(struct cfi_flash *f, u32 block, bool lock)
{
	if (lock)
		f->locked[block / 8] |= (u8)(1U << (block % 8));
	else
		f->locked[block / 8] &= (u8) ~(1U << (block % 8));
}

/*
 * The command byte of a cycle: the low byte of the first chip's lane that was written.
 * A write to an upper byte only carries none.
 */
static bool cfi_cycle_cmd(const struct cfi_cycle *c, u8 *cmd)
{
	for (unsigned int lane = 0; lane < 4; lane += 2) {
		if (c->mask & (1U << lane)) {
			*cmd = c->byte[lane];
			return true;
		}
	}
	return false;
}

/* The 16-bit value of the first chip's lane that was written (a missing upper byte is 0). */
static bool cfi_cycle_word(const struct cfi_cycle *c, u16 *v)
{
	for (unsigned int lane = 0; lane < 4; lane += 2) {
		if (c->mask & (1U << lane)) {
			*v = c->byte[lane];
			if (c->mask & (1U << (lane + 1)))
				*v |= (u16)(c->byte[lane + 1] << 8);
			return true;
		}
	}
	return false;
}

/* Ends the sequence under way with a command sequence error. */
static void cfi_sequence_error(struct cfi_flash *f, const char *what, u64 addr)
{
	pr_guest("cfi-flash: %s at offset %#llx: command sequence error", what,
		 (unsigned long long)addr);
	f->status |= CFI_SR_SEQUENCE;
	f->state = IDLE;
	f->read_mode = READ_STATUS;
}

static void cfi_read_array_mode(struct cfi_flash *f)
{
	f->state = IDLE;
	f->read_mode = READ_ARRAY;
	cfi_sync(f);
}

/*
 * Whether a program (err_bit CFI_SR_PROG_ERR) or erase (CFI_SR_ERASE_ERR) of block may
 * change the flash; if not, the status says why.
 */
static bool cfi_may_modify(struct cfi_flash *f, u32 block, u8 err_bit)
{
	if (f->status & CFI_SR_ERRORS) {
		/* Unclear errors: the operation fails as the earlier one did. */
		f->status |= err_bit;
		return false;
	}
	if (f->ro) {
		f->status |= CFI_SR_VPP_LOW | err_bit;
		return false;
	}
	if (cfi_is_locked(f, block)) {
		f->status |= CFI_SR_LOCKED | err_bit;
		return false;
	}
	return true;
}

static void cfi_erase(struct cfi_flash *f, u64 addr)
{
	u32 block = cfi_block(addr);
	u64 start = (u64)block * CFI_FLASH_SECTOR_SIZE;

	if (!cfi_may_modify(f, block, CFI_SR_ERASE_ERR))
		return;
	memset(f->mem + start, 0xff, CFI_FLASH_SECTOR_SIZE);
	cfi_store(f, start, CFI_FLASH_SECTOR_SIZE, CFI_SR_ERASE_ERR);
}

/* Programs the bytes at [start, start + len) with data: bits can only go from 1 to 0. */
static void cfi_program_range(struct cfi_flash *f, u64 start, const u8 *data, const u8 *written,
			      u64 len)
{
	u64 lo = len, hi = 0;

	for (u64 i = 0; i < len; i++) {
		u8 old = f->mem[start + i], val;

		if (written && !written[i])
			continue;
		val = old & data[i];
		if (val == old)
			continue;
		f->mem[start + i] = val;
		lo = MIN(lo, i);
		hi = MAX(hi, i + 1);
	}
	if (lo < hi)
		cfi_store(f, start + lo, hi - lo, CFI_SR_PROG_ERR);
}

static void cfi_program_word(struct cfi_flash *f, const struct cfi_cycle *c)
{
	u8 written[4];

	if (!cfi_may_modify(f, cfi_block(c->addr), CFI_SR_PROG_ERR))
		return;
	for (unsigned int i = 0; i < 4; i++)
		written[i] = c->mask & (1U << i);
	cfi_program_range(f, c->addr, c->byte, written, 4);
}

static void cfi_lock_command(struct cfi_flash *f, const struct cfi_cycle *c)
{
	u8 cmd;

	if (!cfi_cycle_cmd(c, &cmd)) {
		cfi_sequence_error(f, "lock command without a command byte", c->addr);
		return;
	}
	f->state = IDLE;
	switch (cmd) {
	case CMD_LOCK_BLOCK:
	case CMD_LOCK_DOWN: /* lock-down is not kept apart: a reset undoes both */
		cfi_set_locked(f, cfi_block(c->addr), true);
		break;
	case CMD_CONFIRM:
		cfi_set_locked(f, cfi_block(c->addr), false);
		break;
	case CMD_CONFIG_SETUP:
		break; /* the read configuration register only tunes burst reads */
	case CMD_READ_ARRAY:
		cfi_read_array_mode(f);
		break;
	default:
		cfi_sequence_error(f, "unknown lock command", c->addr);
		break;
	}
}

/* The word count after 0xe8: the number of data words minus one. */
static void cfi_buffer_count(struct cfi_flash *f, const struct cfi_cycle *c)
{
	u16 count;

	if (!cfi_cycle_word(c, &count) || count >= CFI_BUFFER_WORDS) {
		cfi_sequence_error(f, "buffered program count beyond the buffer", c->addr);
		return;
	}
	f->buf_words = (u32)count + 1;
	f->buf_done = 0;
	f->buf_bad = false;
	memset(f->buf, 0xff, sizeof(f->buf));
	f->state = BUFFER_DATA;
}

/*
 * A data word of a buffered program. The first one fixes the window its buf_words words
 * fill, which must lie inside the block given with 0xe8; every word must fall inside the
 * window. After a bad word the rest are still taken as data, not commands, and the
 * program fails at its confirm.
 */
static void cfi_buffer_data(struct cfi_flash *f, const struct cfi_cycle *c)
{
	u64 block_start = (u64)f->buf_block * CFI_FLASH_SECTOR_SIZE;
	u64 window = (u64)f->buf_words * CFI_FLASH_BANK_WIDTH;

	if (f->buf_done == 0) {
		f->buf_start = c->addr;
		if (c->addr < block_start ||
		    c->addr - block_start + window > CFI_FLASH_SECTOR_SIZE) {
			pr_guest("cfi-flash: buffered program of %llu bytes at offset %#llx "
				 "leaves block %u",
				 (unsigned long long)window, (unsigned long long)c->addr,
				 f->buf_block);
			f->buf_bad = true;
		}
	}
	if (!f->buf_bad) {
		if (c->addr < f->buf_start || c->addr - f->buf_start >= window) {
			pr_guest("cfi-flash: buffered program word at offset %#llx outside "
				 "[%#llx, %#llx)",
				 (unsigned long long)c->addr, (unsigned long long)f->buf_start,
				 (unsigned long long)(f->buf_start + window));
			f->buf_bad = true;
		} else {
			for (unsigned int i = 0; i < 4; i++) {
				if (c->mask & (1U << i))
					f->buf[c->addr - f->buf_start + i] = c->byte[i];
			}
		}
	}
	if (f->buf_bad)
		f->status |= CFI_SR_SEQUENCE;
	if (++f->buf_done == f->buf_words)
		f->state = BUFFER_CONFIRM;
}

/* The confirm's address does not matter: EDK2 sends it to the flash's base. */
static void cfi_buffer_confirm(struct cfi_flash *f, const struct cfi_cycle *c)
{
	u8 cmd;

	if (!cfi_cycle_cmd(c, &cmd) || cmd != CMD_CONFIRM) {
		cfi_sequence_error(f, "buffered program not confirmed", c->addr);
		return;
	}
	f->state = IDLE;
	if (f->buf_bad) {
		f->status |= CFI_SR_SEQUENCE;
		return;
	}
	if (!cfi_may_modify(f, f->buf_block, CFI_SR_PROG_ERR))
		return;
	cfi_program_range(f, f->buf_start, f->buf, NULL, (u64)f->buf_words * CFI_FLASH_BANK_WIDTH);
}

/* A write while no sequence is under way: a command. */
static void cfi_command(struct cfi_flash *f, const struct cfi_cycle *c)
{
	u8 cmd;

	if (!cfi_cycle_cmd(c, &cmd)) {
		cfi_sequence_error(f, "write without a command byte", c->addr);
		return;
	}
	switch (cmd) {
	case CMD_READ_ARRAY:
	case CMD_READ_ARRAY_QEMU:
	case CMD_AMD_RESET:
		cfi_read_array_mode(f);
		return;
	case CMD_READ_STATUS:
		f->read_mode = READ_STATUS;
		return;
	case CMD_CLEAR_STATUS:
		f->status = CFI_SR_READY; /* the read mode stays */
		return;
	case CMD_READ_ID:
		f->read_mode = READ_ID;
		return;
	case CMD_READ_QUERY:
		f->read_mode = READ_QUERY;
		return;
	case CMD_ERASE_SETUP:
		f->state = ERASE_SETUP;
		break;
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT:
		f->state = PROGRAM_SETUP;
		break;
	case CMD_BUFFERED_PROGRAM:
		/* The buffer is always free: reads now return status, ready. */
		f->state = BUFFER_COUNT;
		f->buf_block = cfi_block(c->addr);
		break;
	case CMD_LOCK_SETUP:
		f->state = LOCK_SETUP;
		break;
	case CMD_SUSPEND:
	case CMD_CONFIRM:
		break; /* suspend and resume: nothing is ever running */
	default:
		pr_guest("cfi-flash: unknown command %#x at offset %#llx", cmd,
			 (unsigned long long)c->addr);
		f->status |= CFI_SR_SEQUENCE;
		break;
	}
	f->read_mode = READ_STATUS;
}

static void cfi_cycle(struct cfi_flash *f, const struct cfi_cycle *c)
{
	u8 cmd;

	switch (f->state) {
	case IDLE:
		cfi_command(f, c);
		break;
	case ERASE_SETUP:
		if (!cfi_cycle_cmd(c, &cmd) || (cmd != CMD_CONFIRM && cmd != CMD_READ_ARRAY)) {
			cfi_sequence_error(f, "block erase not confirmed", c->addr);
		} else if (cmd == CMD_READ_ARRAY) {
			cfi_read_array_mode(f); /* cancels the erase */
		} else {
			f->state = IDLE;
			cfi_erase(f, c->addr);
		}
		break;
	case PROGRAM_SETUP:
		f->state = IDLE;
		cfi_program_word(f, c);
		break;
	case LOCK_SETUP:
		cfi_lock_command(f, c);
		break;
	case BUFFER_COUNT:
		cfi_buffer_count(f, c);
		break;
	case BUFFER_DATA:
		cfi_buffer_data(f, c);
		break;
	case BUFFER_CONFIRM:
		cfi_buffer_confirm(f, c);
		break;
	default:
		cfi_read_array_mode(f);
		break;
	}
}

/* Reads. */

/* The byte a chip drives at offset a outside read-array mode: its lane, low byte first. */
static u8 cfi_register_byte(const struct cfi_flash *f, u64 a)
{
	u64 word = (a % CFI_FLASH_SECTOR_SIZE) / CFI_FLASH_BANK_WIDTH;
	u16 v = 0;

	switch (f->read_mode) {
	case READ_STATUS:
		v = f->status;
		break;
	case READ_ID:
		if (word == ID_MANUFACTURER)
			v = CFI_FLASH_MANUFACTURER;
		else if (word == ID_DEVICE)
			v = CFI_FLASH_DEVICE;
		else if (word == ID_BLOCK_LOCK)
			v = cfi_is_locked(f, cfi_block(a)) ? 1 : 0;
		break;
	case READ_QUERY:
		if (word < CFI_QUERY_LEN)
			v = f->query[word];
		break;
	default:
		break;
	}
	return (a & 1) ? (u8)(v >> 8) : (u8)v;
}

static void cfi_read(const struct cfi_flash *f, u64 offset, u8 *d, u32 len)
{
	if (f->read_mode == READ_ARRAY) {
		memcpy(d, f->mem + offset, len);
		return;
	}
	for (u32 i = 0; i < len; i++)
		d[i] = cfi_register_byte(f, offset + i);
}

static void cfi_write(struct cfi_flash *f, u64 offset, const u8 *d, u32 len)
{
	u64 end = offset + len;

	for (u64 w = ALIGN_DOWN(offset, 4); w < end; w += 4) {
		struct cfi_cycle c = {.addr = w};

		for (unsigned int i = 0; i < 4; i++) {
			if (w + i >= offset && w + i < end) {
				c.mask |= (u8)(1U << i);
				c.byte[i] = d[w + i - offset];
			}
		}
		cfi_cycle(f, &c);
	}
}

/* Tells the memory slot owner when read-array mode starts or ends. Called locked. */
void cfi_update_mode(struct cfi_flash *f)
{
	bool array = f->read_mode == READ_ARRAY && f->state == IDLE;

	if (array == f->array_mode)
		return;
	__atomic_store_n(&f->array_mode, array, __ATOMIC_RELEASE);
	if (f->mode_changed)
		f->mode_changed(f->mode_opaque, array);
}

void cfi_flash_mmio(struct cfi_flash *f, u64 offset, void *data, u32 len, bool is_write)
{
	u8 *d = data;

	/* Written so that no offset and length can wrap past the check. */
	if ((len != 1 && len != 2 && len != 4 && len != 8) || offset >= f->size ||
	    len > f->size - offset) {
		pr_guest("cfi-flash: %u-byte %s at offset %#llx ignored (flash size %#llx)", len,
			 is_write ? "write" : "read", (unsigned long long)offset,
			 (unsigned long long)f->size);
		if (!is_write)
			memset(d, 0xff, MIN(len, 8));
		return;
	}
	pthread_mutex_lock(&f->lock);
	if (is_write)
		cfi_write(f, offset, d, len);
	else
		cfi_read(f, offset, d, len);
	cfi_update_mode(f);
	pthread_mutex_unlock(&f->lock);
}

void cfi_flash_reset(struct cfi_flash *f)
{
	pthread_mutex_lock(&f->lock);
	cfi_power_on(f);
	cfi_sync(f);
	cfi_update_mode(f);
	pthread_mutex_unlock(&f->lock);
}

const void *cfi_flash_data(const struct cfi_flash *f)
{
	return f->mem;
}

u64 cfi_flash_size(const struct cfi_flash *f)
{
	return f->size;
}

bool cfi_flash_in_array_mode(const struct cfi_flash *f)
{
	return __atomic_load_n(&f->array_mode, __ATOMIC_ACQUIRE);
}

void cfi_flash_set_mode_callback(struct cfi_flash *f, cfi_flash_mode_fn mode_changed, void *opaque)
{
	pthread_mutex_lock(&f->lock);
	f->mode_changed = mode_changed;
	f->mode_opaque = opaque;
	pthread_mutex_unlock(&f->lock);
}
