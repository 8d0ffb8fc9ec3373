// SPDX-License-Identifier: GPL-2.0-only
/*
 * CFI NOR flash: the backing file (opening it with its checks, reading it, writing back
 * every change and syncing), the CFI query table built from its size, and the snapshot of
 * the command state. The model and its reasons are in cfi_flash.h; the command state
 * machine is in cfi_flash.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfi_flash_priv.h"
#include "../util/log.h"

#define CFI_CHIPS	      2
#define CFI_CHIP_BLOCK	      (CFI_FLASH_SECTOR_SIZE / CFI_CHIPS)
#define CFI_CHIP_BUFFER_ORDER 6 /* 2^6 = 64 bytes per chip */
#define CFI_SNAP_VERSION      1

/*
 * The CFI query table of one chip, without its size-dependent fields (filled in by
 * cfi_build_query). Operations finish at once, so the timeouts are the smallest
 * non-zero ones; chip erase and suspend are not offered.
 */
static const u8 cfi_query_fixed[CFI_QUERY_LEN] = {
	[0x10] = 'Q',
	[0x11] = 'R',
	[0x12] = 'Y',
	[0x13] = 0x01, /* primary command set 0x0001: Intel/Sharp extended */
	[0x15] = 0x31, /* its extended table at 0x31 */
	[0x1b] = 0x27, /* Vcc 2.7 V to 3.6 V */
	[0x1c] = 0x36,
	[0x1f] = 0x01, /* typical word program 2^1 us */
	[0x20] = 0x01, /* typical buffer program 2^1 us */
	[0x21] = 0x01, /* typical block erase 2^1 ms */
	[0x23] = 0x01, /* maximum: twice typical */
	[0x24] = 0x01,
	[0x25] = 0x01,
	[0x28] = 0x01, /* interface: x16 only */
	[0x2a] = CFI_CHIP_BUFFER_ORDER,
	[0x2c] = 0x01, /* one erase block region */
	[0x31] = 'P',
	[0x32] = 'R',
	[0x33] = 'I',
	[0x34] = '1', /* version 1.0 */
	[0x35] = '0',
	[0x36] = 0x20, /* features: instant individual block locking */
	[0x3b] = 0x01, /* block status register: lock bit */
	[0x3d] = 0x33, /* optimum Vcc 3.3 V */
};

/* Opening and the file. */

static int cfi_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int cfi_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int cfi_check_size(u64 size, u64 expected, char *err, size_t errlen)
{
	unsigned long long s = size, e = expected;

	if (size == 0)
		return cfi_fail(err, errlen, -EINVAL, "the file is empty");
	if (size % CFI_FLASH_SECTOR_SIZE)
		return cfi_fail(
			err, errlen, -EINVAL,
			"size %llu bytes is not a multiple of %llu KiB (the flash sector size)", s,
			CFI_FLASH_SECTOR_SIZE / KiB);
	if (size > CFI_FLASH_MAX_SIZE)
		return cfi_fail(err, errlen, -EINVAL,
				"size %llu bytes is over the %llu MiB maximum", s,
				CFI_FLASH_MAX_SIZE / MiB);
	if (expected && size != expected)
		return cfi_fail(err, errlen, -EINVAL, "size %llu bytes, expected %llu", s, e);
	return 0;
}

static int cfi_read_file(struct cfi_flash *f, char *err, size_t errlen)
{
	u64 done = 0;

	while (done < f->size) {
		ssize_t n = pread(f->fd, f->mem + done, f->size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cfi_fail(err, errlen, -EINVAL, "cannot read: %s", strerror(errno));
		if (n == 0)
			return cfi_fail(err, errlen, -EINVAL, "the file shrank while being read");
		done += (u64)n;
	}
	return 0;
}

static void cfi_build_query(struct cfi_flash *f)
{
	u64 chip_size = f->size / CFI_CHIPS;
	u32 blocks = f->nr_blocks - 1, units = CFI_CHIP_BLOCK / 256;
	u8 order = 0;

	memcpy(f->query, cfi_query_fixed, sizeof(f->query));
	/* 2^n bytes per chip; rounded up when the size is not a power of two. */
	while ((1ULL << order) < chip_size)
		order++;
	f->query[0x27] = order;
	/* The erase region: blocks per chip minus one, then the block size / 256. */
	f->query[0x2d] = (u8)blocks;
	f->query[0x2e] = (u8)(blocks >> 8);
	f->query[0x2f] = (u8)units;
	f->query[0x30] = (u8)(units >> 8);
}

int cfi_flash_open(struct cfi_flash **out, const char *path, u64 expected_size, bool read_only,
		   char *err, size_t errlen)
{
	struct cfi_flash *f;
	struct stat st;
	int flags, ret;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return cfi_fail(err, errlen, -ENOMEM, "out of memory");
	f->ro = read_only;
	f->mem = MAP_FAILED;
	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
	f->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (f->fd < 0) {
		bool perm = errno == EACCES || errno == EPERM || errno == EROFS;

		ret = cfi_fail(err, errlen, -EINVAL, "cannot open%s: %s",
			       perm && !read_only ? " for writing" : "", strerror(errno));
		goto fail;
	}
	if (fstat(f->fd, &st) < 0) {
		ret = cfi_fail(err, errlen, -EINVAL, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = cfi_fail(err, errlen, -EINVAL, "not a regular file");
		goto fail;
	}
	/* Regular files ignore O_NONBLOCK; it is cleared all the same. */
	flags = fcntl(f->fd, F_GETFL);
	if (flags >= 0)
		fcntl(f->fd, F_SETFL, flags & ~O_NONBLOCK);
	if (flock(f->fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			ret = cfi_fail(err, errlen, -EBUSY,
				       "locked: another VM (or another flash) uses the file");
		else
			ret = cfi_fail(err, errlen, -EINVAL, "cannot lock: %s", strerror(errno));
		goto fail;
	}
	/* The size again, now that no other kvmbox can be changing it. */
	if (fstat(f->fd, &st) < 0) {
		ret = cfi_fail(err, errlen, -EINVAL, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	ret = cfi_check_size((u64)st.st_size, expected_size, err, errlen);
	if (ret)
		goto fail;
	f->size = (u64)st.st_size;
	f->nr_blocks = (u32)(f->size / CFI_FLASH_SECTOR_SIZE);
	/* Anonymous rather than the file mapped: a truncated file cannot SIGBUS kvmbox. */
	f->mem = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->mem == MAP_FAILED) {
		ret = cfi_fail(err, errlen, -ENOMEM, "cannot allocate %llu bytes",
			       (unsigned long long)f->size);
		goto fail;
	}
	ret = cfi_read_file(f, err, errlen);
	if (ret)
		goto fail;
	cfi_build_query(f);
	cfi_power_on(f);
	f->array_mode = true;
	pthread_mutex_init(&f->lock, NULL);
	*out = f;
	return 0;

fail:
	if (f->mem != MAP_FAILED)
		munmap(f->mem, f->size);
	if (f->fd >= 0)
		close(f->fd); /* drops the lock too */
	free(f);
	return ret;
}

void cfi_sync(struct cfi_flash *f)
{
	static long rl_sec;
	static int rl_count;

	if (!f->dirty)
		return;
	if (fdatasync(f->fd) < 0) {
		/* Still dirty: the next return to read-array mode tries again. */
		if (log_ratelimit(&rl_sec, &rl_count))
			pr_err("cfi-flash: cannot sync the flash file: %s", strerror(errno));
		return;
	}
	f->dirty = false;
}

void cfi_flash_close(struct cfi_flash *f)
{
	if (!f)
		return;
	cfi_sync(f);
	close(f->fd);
	munmap(f->mem, f->size);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/*
 * Writes [off, off + len) of the content to the file. A failure is the host's, yet the
 * guest sees it the way a chip reports a failed operation: err_bit in the status.
 */
void cfi_store(struct cfi_flash *f, u64 off, u64 len, u8 err_bit)
{
	static long rl_sec;
	static int rl_count;
	u64 done = 0;

	while (done < len) {
		ssize_t n = pwrite(f->fd, f->mem + off + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (log_ratelimit(&rl_sec, &rl_count))
				pr_err("cfi-flash: cannot write the flash file: %s",
				       n < 0 ? strerror(errno) : "no progress");
			f->status |= err_bit;
			return;
		}
		done += (u64)n;
	}
	f->dirty = true;
}

/* Snapshots. */

int cfi_flash_save(struct cfi_flash *f, struct snap_buf *sb)
{
	pthread_mutex_lock(&f->lock);
	snap_begin_section(sb, "cfi-flash", CFI_SNAP_VERSION);
	snap_put_u64(sb, f->size);
	snap_put_u32(sb, f->read_mode);
	snap_put_u32(sb, f->state);
	snap_put_u32(sb, f->status);
	snap_put_u32(sb, f->buf_block);
	snap_put_u32(sb, f->buf_words);
	snap_put_u32(sb, f->buf_done);
	snap_put_u64(sb, f->buf_start);
	snap_put_u32(sb, f->buf_bad);
	snap_put(sb, f->buf, sizeof(f->buf));
	snap_put(sb, f->locked, sizeof(f->locked));
	pthread_mutex_unlock(&f->lock);
	return sb->error ? -ENOMEM : 0;
}

struct cfi_snap {
	u64 size, buf_start;
	u32 read_mode, state, status, buf_block, buf_words, buf_done, buf_bad;
	u8 buf[CFI_FLASH_BUFFER_SIZE];
	u8 locked[CFI_MAX_BLOCKS / 8];
};

static bool cfi_snap_valid(const struct cfi_flash *f, const struct cfi_snap *s)
{
	bool buffering = s->state == BUFFER_DATA || s->state == BUFFER_CONFIRM;
	u64 window = (u64)s->buf_words * CFI_FLASH_BANK_WIDTH;

	if (s->size != f->size || s->read_mode >= NR_READ_MODES || s->state >= NR_STATES ||
	    (s->state != IDLE && s->read_mode != READ_STATUS) ||
	    (s->status & ~(u32)(CFI_SR_READY | CFI_SR_ERRORS)) || !(s->status & CFI_SR_READY) ||
	    s->buf_bad > 1)
		return false;
	if (s->buf_block >= f->nr_blocks)
		return false;
	if (!buffering)
		return true;
	if (s->buf_words == 0 || s->buf_words > CFI_BUFFER_WORDS || s->buf_done > s->buf_words ||
	    (s->state == BUFFER_DATA) != (s->buf_done < s->buf_words))
		return false;
	/* The window of a program that is not already failing lies inside its block. */
	if (s->buf_done == 0 || s->buf_bad)
		return true;
	return !(s->buf_start % CFI_FLASH_BANK_WIDTH) &&
	       s->buf_start >= (u64)s->buf_block * CFI_FLASH_SECTOR_SIZE &&
	       s->buf_start - (u64)s->buf_block * CFI_FLASH_SECTOR_SIZE + window <=
		       CFI_FLASH_SECTOR_SIZE;
}

int cfi_flash_load(struct cfi_flash *f, struct snap_buf *sb)
{
	struct cfi_snap s;

	if (snap_open_section(sb, "cfi-flash") != CFI_SNAP_VERSION || !snap_get_u64(sb, &s.size) ||
	    !snap_get_u32(sb, &s.read_mode) || !snap_get_u32(sb, &s.state) ||
	    !snap_get_u32(sb, &s.status) || !snap_get_u32(sb, &s.buf_block) ||
	    !snap_get_u32(sb, &s.buf_words) || !snap_get_u32(sb, &s.buf_done) ||
	    !snap_get_u64(sb, &s.buf_start) || !snap_get_u32(sb, &s.buf_bad) ||
	    !snap_get(sb, s.buf, sizeof(s.buf)) || !snap_get(sb, s.locked, sizeof(s.locked)))
		return -EINVAL;
	if (!cfi_snap_valid(f, &s))
		return -EINVAL;
	/* Lock bits of blocks this flash does not have are not kept. */
	for (u32 b = f->nr_blocks; b < CFI_MAX_BLOCKS; b++)
		s.locked[b / 8] &= (u8) ~(1U << (b % 8));
	pthread_mutex_lock(&f->lock);
	f->read_mode = (enum cfi_read_mode)s.read_mode;
	f->state = (enum cfi_state)s.state;
	f->status = (u8)s.status;
	f->buf_block = s.buf_block;
	f->buf_words = s.buf_words;
	f->buf_done = s.buf_done;
	f->buf_start = s.buf_start;
	f->buf_bad = s.buf_bad;
	memcpy(f->buf, s.buf, sizeof(f->buf));
	memcpy(f->locked, s.locked, sizeof(f->locked));
	cfi_update_mode(f);
	pthread_mutex_unlock(&f->lock);
	return 0;
}
