/* SPDX-License-Identifier: GPL-2.0-only */
/* The disk image the virtio-blk tests work on: a temp file of DISK_SIZE bytes. */
#ifndef KVMBOX_TESTS_UNIT_VIRTIO_BLK_FIXTURE_H
#define KVMBOX_TESTS_UNIT_VIRTIO_BLK_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio/blk.h"

#define DISK_SIZE (4 * MiB)
#define SECTORS	  (DISK_SIZE / 512)

/* Creates a temp file of size bytes; path gets its name (64 bytes are enough). */
static inline void make_file(char *path, u64 size)
{
	int fd;

	strcpy(path, "/tmp/kvmbox-blk-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

#endif
