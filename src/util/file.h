/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_UTIL_FILE_H
#define KVMBOX_UTIL_FILE_H

#include "types.h"

/*
 * A regular file given on the command line (--kernel, --initrd), read in pieces so that
 * large ones go straight into guest RAM instead of through a heap copy. what names the
 * option, for the error line ("--kernel /x: No such file or directory").
 */
struct input_file {
	int fd;
	size_t size;
	const char *path;
	const char *what;
};

/* Opens path, a regular file of at most max bytes. Returns 0 or -errno, said in a line. */
int input_file_open(struct input_file *f, const char *path, const char *what, size_t max);
/* Reads exactly len bytes at off; a file that shrank since it was opened is an error. */
int input_file_read(const struct input_file *f, u64 off, void *dst, size_t len);
/* Reads the whole file into a new heap buffer (freed by the caller). */
int input_file_read_all(const struct input_file *f, u8 **buf);
void input_file_close(struct input_file *f);

/* Writes all of buf at off (pwrite, EINTR retried). Returns 0 or -errno (-EIO: no progress). */
int pwrite_all(int fd, const void *buf, u64 len, u64 off);
/* Opens, reads whole and closes: for small files. Returns 0 or -errno. */
int read_whole_file(const char *path, const char *what, size_t max, u8 **buf, size_t *len);

#endif
