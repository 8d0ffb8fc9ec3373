/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_UTIL_FILE_H
#define KVMBOX_UTIL_FILE_H

#include "types.h"

/*
 * Reads a whole regular file of at most max bytes. what names the option it came from,
 * for the error line ("--kernel /x: No such file or directory"). Returns 0 or -errno.
 */
int read_whole_file(const char *path, const char *what, size_t max, u8 **buf, size_t *len);

#endif
