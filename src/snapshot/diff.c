// SPDX-License-Identifier: GPL-2.0-only
/*
 * Diff snapshots' memory files (Firecracker's "Diff" snapshot_type) and the rebase that
 * turns a diff and its base into a full memory file again (Firecracker's
 * snapshot-editor edit-memory rebase does the same).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/diff.h"
#include "snapshot/statefile.h"
#include "util/file.h"

#define REBASE_CHUNK (1 * MiB)

static bool page_dirty(const u64 *dirty, u64 pg)
{
	return dirty[pg / 64] & (1ULL << (pg % 64));
}

int diff_write_pages(int fd, const u8 *buf, u64 len, const u64 *dirty, u64 page)
{
	u64 pages = (len + page - 1) / page;
	int ret = 0;

	/* One pwrite per run of dirty pages: a guest that wrote a large buffer is one call. */
	for (u64 pg = 0; !ret && pg < pages;) {
		u64 end = pg, off = pg * page;

		if (!page_dirty(dirty, pg)) {
			pg++;
			continue;
		}
		while (end < pages && page_dirty(dirty, end))
			end++;
		ret = pwrite_all(fd, buf + off, MIN(end * page, len) - off, off);
		pg = end;
	}
	if (!ret && ftruncate(fd, (off_t)len))
		ret = -errno;
	return ret;
}

struct diff_ctx {
	const u8 *buf;
	u64 len;
	const u64 *dirty;
	u64 page;
};

static int diff_fill(int fd, void *ctx)
{
	const struct diff_ctx *d = ctx;

	return diff_write_pages(fd, d->buf, d->len, d->dirty, d->page);
}

int diff_write_file(const char *path, const u8 *buf, u64 len, const u64 *dirty, u64 page, char *err,
		    size_t errlen)
{
	struct diff_ctx d = {buf, len, dirty, page};

	return write_file_atomic_with(path, diff_fill, &d, err, errlen);
}

/* Copies [off, end) of diff onto base; 0 or -errno. */
static int copy_extent(int diff, int base, u8 *chunk, u64 off, u64 end)
{
	while (off < end) {
		ssize_t n = pread(diff, chunk, MIN(end - off, (u64)REBASE_CHUNK), (off_t)off);
		int ret;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO; /* the file shrank under us */
		ret = pwrite_all(base, chunk, (u64)n, off);
		if (ret)
			return ret;
		off += (u64)n;
	}
	return 0;
}

/* Every data extent of diff (size bytes) onto base. 0 or -errno. */
static int copy_extents(int diff, int base, u64 size, u64 *copied)
{
	u8 *chunk = malloc(REBASE_CHUNK);
	u64 off = 0;
	int ret = 0;

	if (!chunk)
		return -ENOMEM;
	while (!ret && off < size) {
		off_t data = lseek(diff, (off_t)off, SEEK_DATA), hole;

		if (data < 0) {
			ret = errno == ENXIO ? 0 : -errno; /* ENXIO: no data after off */
			break;
		}
		hole = lseek(diff, data, SEEK_HOLE);
		if (hole < 0) {
			ret = -errno;
			break;
		}
		/* A hole at or past the end, or a file that grew: copy no further than size. */
		hole = (off_t)MIN((u64)hole, size);
		if ((u64)data >= size || hole <= data)
			break;
		ret = copy_extent(diff, base, chunk, (u64)data, (u64)hole);
		*copied += (u64)(hole - data);
		off = (u64)hole;
	}
	free(chunk);
	return ret;
}

static int open_regular(const char *path, int flags, u64 *size, char *err, size_t errlen)
{
	int fd = open(path, flags | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	*size = (u64)st.st_size;
	return fd;
}

int snapshot_rebase(const char *base, const char *diff, u64 *copied, char *err, size_t errlen)
{
	u64 base_size, diff_size, n = 0;
	int bfd, dfd, ret;

	dfd = open_regular(diff, O_RDONLY, &diff_size, err, errlen);
	if (dfd < 0)
		return EXIT_BAD_INPUT;
	bfd = open_regular(base, O_WRONLY, &base_size, err, errlen);
	if (bfd < 0) {
		close(dfd);
		return EXIT_BAD_INPUT;
	}
	if (base_size != diff_size) {
		snprintf(err, errlen,
			 "%s is %llu bytes and %s %llu: a diff rebases only onto the memory file "
			 "of the same VM",
			 base, (unsigned long long)base_size, diff, (unsigned long long)diff_size);
		close(bfd);
		close(dfd);
		return EXIT_BAD_INPUT;
	}
	ret = copy_extents(dfd, bfd, diff_size, &n);
	if (!ret && fsync(bfd))
		ret = -errno;
	if (ret)
		snprintf(err, errlen, "copying %s onto %s: %s", diff, base, strerror(-ret));
	close(bfd);
	close(dfd);
	if (copied)
		*copied = n;
	return ret ? EXIT_VMM_ERROR : 0;
}
