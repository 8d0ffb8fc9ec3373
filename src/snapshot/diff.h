/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_SNAPSHOT_DIFF_H
#define KVMBOX_SNAPSHOT_DIFF_H

#include <stddef.h>

#include "util/types.h"

/*
 * Diff snapshots' memory files: guest RAM's size, holding only the pages dirtied since
 * the previous snapshot, each at its offset in RAM (the full memory file's offset), and
 * holes elsewhere. A dirty page of zeros is written too: a hole means "as in the base".
 */

/*
 * Writes to fd (a fresh, empty file) the pages of buf (len bytes, pages of page bytes,
 * the last one possibly shorter) whose bit is set in dirty, then sets the size to len.
 * Returns 0 or -errno.
 */
int diff_write_pages(int fd, const u8 *buf, u64 len, const u64 *dirty, u64 page);
/* The same into path, atomically (a temporary name, fsync, rename). */
int diff_write_file(const char *path, const u8 *buf, u64 len, const u64 *dirty, u64 page, char *err,
		    size_t errlen);

/*
 * Copies every data extent of the diff file (SEEK_DATA/SEEK_HOLE) onto the base file at
 * the same offset, then syncs the base: the base becomes the full memory file of the
 * diff's snapshot. Both must be regular files of the same size. Returns 0, or kvmbox's
 * exit status with the reason in err: EXIT_BAD_INPUT (a file missing or not regular,
 * sizes that differ), EXIT_VMM_ERROR (an I/O error: the base may be half-rebased).
 * *copied (if not NULL) gets the bytes copied.
 */
int snapshot_rebase(const char *base, const char *diff, u64 *copied, char *err, size_t errlen);

#endif
