// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "snapshot/statefile.h"
#include "util/file.h"

/*
 * Layout, little-endian (the hosts kvmbox runs on): header { magic[8], u32 version,
 * u32 nr_sections, u64 total_size }, then per section { u32 type, u32 flags (0), u64
 * length, payload }, then u32 crc32 of everything before it.
 */
#define HDR_SIZE 24
#define SEC_HDR	 16
#define CRC_SIZE 4

static void put32(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

static void put64(u8 *p, u64 v)
{
	memcpy(p, &v, 8);
}

static u32 get32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

static u64 get64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

/* zlib's crc32 takes a uInt length: feed it in pieces. */
static u32 crc_of(const u8 *buf, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = crc32(crc, buf, n);
		buf += n;
		len -= n;
	}
	return (u32)crc;
}

int statefile_build(const struct statefile_section *secs, unsigned int nr, u32 version, u8 **out,
		    size_t *out_len)
{
	size_t total = HDR_SIZE + CRC_SIZE, pos = HDR_SIZE;
	u8 *buf;

	if (nr > STATEFILE_MAX_SECTIONS)
		return -E2BIG;
	for (unsigned int i = 0; i < nr; i++) {
		if (secs[i].len > STATEFILE_MAX_SIZE)
			return -E2BIG;
		total += SEC_HDR + secs[i].len;
	}
	if (total > STATEFILE_MAX_SIZE)
		return -E2BIG;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, STATEFILE_MAGIC, 8);
	put32(buf + 8, version);
	put32(buf + 12, nr);
	put64(buf + 16, total);
	for (unsigned int i = 0; i < nr; i++) {
		put32(buf + pos, secs[i].type);
		put32(buf + pos + 4, 0);
		put64(buf + pos + 8, secs[i].len);
		if (secs[i].len)
			memcpy(buf + pos + SEC_HDR, secs[i].data, secs[i].len);
		pos += SEC_HDR + secs[i].len;
	}
	put32(buf + pos, crc_of(buf, pos));
	*out = buf;
	*out_len = total;
	return 0;
}

static int write_all(int fd, const u8 *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

#define SPARSE_PAGE  4096UL
#define SPARSE_CHUNK 256 /* pages looked up in pagemap at once */

/*
 * Which pages of [p, p + SPARSE_PAGE * n) are zero: those neither present nor swapped
 * out (/proc/self/pagemap's bits 63 and 62: never touched, so anonymous memory reads
 * zero) without reading them, which would fault in every untouched page of a large
 * guest, and present ones that hold only zeros. pagemap_fd < 0: every page is read.
 */
static void zero_pages(int pagemap_fd, const u8 *p, size_t n, bool *zero)
{
	u64 entry[SPARSE_CHUNK];
	off_t at = (off_t)((uintptr_t)p / SPARSE_PAGE * sizeof(u64));
	bool known = pagemap_fd >= 0 &&
		     pread(pagemap_fd, entry, n * sizeof(u64), at) == (ssize_t)(n * sizeof(u64));

	for (size_t i = 0; i < n; i++) {
		const u8 *q = p + i * SPARSE_PAGE;

		zero[i] = (known && !(entry[i] >> 62)) ||
			  (!q[0] && !memcmp(q, q + 1, SPARSE_PAGE - 1));
	}
}

/*
 * Writes only the pages that hold a non-zero byte, then sets the size: the pages left
 * out read back as zeros, and a mostly idle guest's memory file stays small. A tail of
 * less than a page is written as it is. pagemap only for anon memory: a page of a
 * mapped file, or one a userfaultfd handler fills, is not present before its first
 * touch and yet not zero.
 */
static int write_sparse(int fd, const u8 *buf, size_t len, bool anon)
{
	size_t pages = len / SPARSE_PAGE, tail = len % SPARSE_PAGE;
	int pagemap = anon ? open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC) : -1, ret = 0;
	bool zero[SPARSE_CHUNK];

	/* pagemap's entries are per page: only a page-aligned buffer can use them. */
	if (pagemap >= 0 && (uintptr_t)buf % SPARSE_PAGE) {
		close(pagemap);
		pagemap = -1;
	}
	for (size_t base = 0; !ret && base < pages; base += SPARSE_CHUNK) {
		size_t n = MIN((size_t)SPARSE_CHUNK, pages - base);

		zero_pages(pagemap, buf + base * SPARSE_PAGE, n, zero);
		for (size_t i = 0; !ret && i < n; i++) {
			size_t off = (base + i) * SPARSE_PAGE;

			if (!zero[i])
				ret = pwrite_all(fd, buf + off, SPARSE_PAGE, off);
		}
	}
	if (!ret && tail)
		ret = pwrite_all(fd, buf + pages * SPARSE_PAGE, tail, pages * SPARSE_PAGE);
	if (!ret && ftruncate(fd, (off_t)len))
		ret = -errno;
	if (pagemap >= 0)
		close(pagemap);
	return ret;
}

/* The directory's entry for the rename is durable only once the directory is synced. */
static int sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

struct whole_file {
	const void *buf;
	size_t len;
	unsigned int how;
};

static int write_whole(int fd, void *ctx)
{
	const struct whole_file *w = ctx;

	if (!(w->how & WRITE_SPARSE))
		return write_all(fd, w->buf, w->len);
	return write_sparse(fd, w->buf, w->len, w->how & WRITE_ANON);
}

int write_file_atomic(const char *path, const void *buf, size_t len, unsigned int how, char *err,
		      size_t errlen)
{
	struct whole_file w = {buf, len, how};

	return write_file_atomic_with(path, write_whole, &w, err, errlen);
}

int write_file_atomic_with(const char *path, int (*fill)(int fd, void *ctx), void *ctx, char *err,
			   size_t errlen)
{
	char tmp[4096];
	const char *step = "write";
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(-ret));
		return ret;
	}
	ret = fill(fd, ctx);
	if (!ret && fsync(fd)) {
		ret = -errno;
		step = "fsync";
	}
	if (close(fd) && !ret) {
		ret = -errno;
		step = "close";
	}
	if (!ret && rename(tmp, path)) {
		ret = -errno;
		step = "rename";
	}
	if (ret) {
		unlink(tmp);
		snprintf(err, errlen, "%s: %s: %s", path, step, strerror(-ret));
		return ret;
	}
	ret = sync_dir_of(path);
	if (ret)
		snprintf(err, errlen, "%s: syncing its directory: %s", path, strerror(-ret));
	return ret;
}

int statefile_write(const char *path, const struct statefile_section *secs, unsigned int nr,
		    char *err, size_t errlen)
{
	u8 *buf;
	size_t len;
	int ret = statefile_build(secs, nr, STATEFILE_VERSION, &buf, &len);

	if (ret) {
		snprintf(err, errlen, "%s: state too large for a snapshot file", path);
		return ret;
	}
	ret = write_file_atomic(path, buf, len, 0, err, errlen);
	free(buf);
	return ret;
}

static bool type_known(u32 type, const u32 *known, unsigned int nr_known)
{
	for (unsigned int i = 0; i < nr_known; i++) {
		if (known[i] == type)
			return true;
	}
	return false;
}

/* The header: what the file says of itself, checked against what is there. */
static int parse_header(const u8 *buf, size_t len, u32 *nr, char *err, size_t errlen)
{
	u64 total;
	u32 version, crc;

	if (len < HDR_SIZE + CRC_SIZE || memcmp(buf, STATEFILE_MAGIC, 8)) {
		snprintf(err, errlen, "not a kvmbox snapshot state file (%s)",
			 len < HDR_SIZE + CRC_SIZE ? "too short" : "bad magic");
		return -EINVAL;
	}
	total = get64(buf + 16);
	if (total != len) {
		snprintf(err, errlen, "truncated or damaged: %zu bytes, the header says %llu", len,
			 (unsigned long long)total);
		return -EINVAL;
	}
	crc = get32(buf + len - CRC_SIZE);
	if (crc != crc_of(buf, len - CRC_SIZE)) {
		snprintf(err, errlen, "damaged: CRC mismatch");
		return -EINVAL;
	}
	version = get32(buf + 8);
	if (version != STATEFILE_VERSION) {
		snprintf(err, errlen, "format version %u, this kvmbox reads version %u", version,
			 STATEFILE_VERSION);
		return -EINVAL;
	}
	*nr = get32(buf + 12);
	if (*nr > STATEFILE_MAX_SECTIONS) {
		snprintf(err, errlen, "%u sections, at most %u", *nr, STATEFILE_MAX_SECTIONS);
		return -EINVAL;
	}
	return 0;
}

int statefile_parse(const u8 *buf, size_t len, const u32 *known, unsigned int nr_known,
		    struct statefile *sf, char *err, size_t errlen)
{
	size_t pos = HDR_SIZE, end;
	u32 nr;
	int ret = parse_header(buf, len, &nr, err, errlen);

	if (ret)
		return ret;
	end = len - CRC_SIZE;
	sf->nr = 0;
	for (u32 i = 0; i < nr; i++) {
		struct statefile_section *s = &sf->sec[i];

		if (end - pos < SEC_HDR) {
			snprintf(err, errlen, "section %u: header past the end", i);
			return -EINVAL;
		}
		s->type = get32(buf + pos);
		s->len = get64(buf + pos + 8);
		if (get32(buf + pos + 4) || s->len > end - pos - SEC_HDR) {
			snprintf(err, errlen, "section %u (type %u): bad flags or length %llu", i,
				 s->type, (unsigned long long)s->len);
			return -EINVAL;
		}
		if (!type_known(s->type, known, nr_known) || statefile_find(sf, s->type)) {
			snprintf(err, errlen, "section %u: %s type %u", i,
				 statefile_find(sf, s->type) ? "repeated" : "unknown", s->type);
			return -EINVAL;
		}
		s->data = buf + pos + SEC_HDR;
		pos += SEC_HDR + s->len;
		sf->nr = i + 1;
	}
	if (pos != end) {
		snprintf(err, errlen, "%zu bytes after the last section", end - pos);
		return -EINVAL;
	}
	return 0;
}

int statefile_read(const char *path, const u32 *known, unsigned int nr_known, struct statefile *sf,
		   char *err, size_t errlen)
{
	char why[160];
	int ret;

	memset(sf, 0, sizeof(*sf));
	ret = read_whole_file(path, "snapshot", STATEFILE_MAX_SIZE, &sf->buf, &sf->size);
	if (ret) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-ret));
		return ret;
	}
	ret = statefile_parse(sf->buf, sf->size, known, nr_known, sf, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, why);
		statefile_free(sf);
	}
	return ret;
}

const struct statefile_section *statefile_find(const struct statefile *sf, u32 type)
{
	for (unsigned int i = 0; i < sf->nr; i++) {
		if (sf->sec[i].type == type)
			return &sf->sec[i];
	}
	return NULL;
}

void statefile_free(struct statefile *sf)
{
	free(sf->buf);
	memset(sf, 0, sizeof(*sf));
}
