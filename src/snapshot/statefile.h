/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_SNAPSHOT_STATEFILE_H
#define KVMBOX_SNAPSHOT_STATEFILE_H

#include "util/types.h"

/*
 * A snapshot's state file: a header (magic, format version, section count, total size),
 * sections (type, flags, length, payload), and a CRC32 (zlib's) over every byte before
 * it. The file is untrusted input on load: every length and count is checked against
 * the bytes that are there before anything is read through it.
 */
#define STATEFILE_MAGIC	       "KVMBOXST"
#define STATEFILE_VERSION      1
#define STATEFILE_MAX_SECTIONS 256
#define STATEFILE_MAX_SIZE     (64ULL << 20)

struct statefile_section {
	u32 type;
	u64 len;
	const u8 *data;
};

struct statefile {
	u8 *buf; /* the file's bytes; sections point into it */
	size_t size;
	unsigned int nr;
	struct statefile_section sec[STATEFILE_MAX_SECTIONS];
};

/* Builds the whole file in memory (version given for tests); frees with free(). */
int statefile_build(const struct statefile_section *secs, unsigned int nr, u32 version, u8 **out,
		    size_t *out_len);
/*
 * Writes secs to path atomically: a temporary name in the same directory, fsync'd and
 * renamed, then the directory fsync'd, so a crash leaves the old file or the new one.
 * Returns 0 or -errno, said in err.
 */
int statefile_write(const char *path, const struct statefile_section *secs, unsigned int nr,
		    char *err, size_t errlen);
/*
 * Writes len bytes to path the same way (the memory file uses it too); how: 0, or
 * WRITE_SPARSE to leave pages of zeros out as holes, with WRITE_ANON if buf is private
 * anonymous memory only ever filled by this process, so that the pages it never
 * touched are known zeros without reading them (/proc/self/pagemap).
 */
#define WRITE_SPARSE 1u
#define WRITE_ANON   2u
int write_file_atomic(const char *path, const void *buf, size_t len, unsigned int how, char *err,
		      size_t errlen);
/*
 * The same with the contents from fill, which writes the new file at fd (a fresh, empty
 * temporary file) and returns 0 or -errno.
 */
int write_file_atomic_with(const char *path, int (*fill)(int fd, void *ctx), void *ctx, char *err,
			   size_t errlen);
/*
 * Checks buf (the whole file) and fills sf's sections; sf->buf is not taken. known
 * lists the section types this kvmbox reads: any other is refused. Returns 0, or
 * -EINVAL with the reason in err.
 */
int statefile_parse(const u8 *buf, size_t len, const u32 *known, unsigned int nr_known,
		    struct statefile *sf, char *err, size_t errlen);
/* Reads path and parses it; sf->buf then owns the bytes (statefile_free). */
int statefile_read(const char *path, const u32 *known, unsigned int nr_known, struct statefile *sf,
		   char *err, size_t errlen);
const struct statefile_section *statefile_find(const struct statefile *sf, u32 type);
void statefile_free(struct statefile *sf);

#endif
