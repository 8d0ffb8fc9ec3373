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

/* Where the tests' driver keeps its rings and buffers in guest memory. */
#define RAM_SIZE  (16 * MiB)
#define DESC_GPA  0x10000ULL
#define AVAIL_GPA 0x20000ULL
#define USED_GPA  0x30000ULL
#define BUF_GPA	  0x100000ULL
#define QSIZE	  VIRTIO_BLK_QUEUE_SIZE

/* Zeroes the rings and starts the device's queue on them, as the driver leaves it. */
static inline void blk_ring_start(struct virtqueue *vq, struct guest_memory *mem, bool event_idx)
{
	memset(gpa_to_hva(mem, DESC_GPA, BUF_GPA - DESC_GPA), 0, BUF_GPA - DESC_GPA);
	virtqueue_reset(vq, mem);
	vq->size = QSIZE;
	vq->desc_gpa = DESC_GPA;
	vq->avail_gpa = AVAIL_GPA;
	vq->used_gpa = USED_GPA;
	vq->event_idx = event_idx;
	vq->ready = true;
	assert_int_equal(virtqueue_start(vq), 0);
}

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
