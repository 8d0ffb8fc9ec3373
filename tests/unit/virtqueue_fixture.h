/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A split virtqueue against a test "driver" that builds rings in guest memory. Each test
 * runs with a fresh fixture (setup()/teardown(), the T() entry): a queue of QSIZE
 * entries with INDIRECT_DESC, started on zeroed rings.
 */
#ifndef KVMBOX_TESTS_UNIT_VIRTQUEUE_FIXTURE_H
#define KVMBOX_TESTS_UNIT_VIRTQUEUE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_ring.h>

#include "devices/virtio/virtqueue.h"
#include "util/log.h"

#define RAM_SIZE   (16 * MiB)
#define DESC_GPA   0x10000ULL
#define AVAIL_GPA  0x20000ULL
#define USED_GPA   0x30000ULL
#define TABLE_GPA  0x40000ULL /* indirect tables */
#define TABLE2_GPA 0x50000ULL
#define DATA_GPA   0x100000ULL
#define QSIZE	   16

struct fixture {
	struct guest_memory mem;
	struct virtqueue vq;
	struct vq_chain chain;
	u16 avail_idx; /* the driver's copy of avail->idx */
};

static inline void *hva(struct fixture *f, u64 gpa)
{
	void *p = gpa_to_hva(&f->mem, gpa, 1);

	assert_non_null(p);
	return p;
}

static inline void write_desc_at(struct fixture *f, u64 table, u16 i, u64 addr, u32 len, u16 flags,
				 u16 next)
{
	struct vring_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};

	assert_true(guest_write(&f->mem, table + 16ULL * i, &d, sizeof(d)));
}

static inline void set_desc(struct fixture *f, u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	write_desc_at(f, DESC_GPA, i, addr, len, flags, next);
}

static inline struct vring_avail *avail(struct fixture *f)
{
	return hva(f, AVAIL_GPA);
}

static inline struct vring_used *used(struct fixture *f)
{
	return hva(f, USED_GPA);
}

/* Makes head available as the driver does: ring entry first, then the index. */
static inline void driver_add(struct fixture *f, u16 head)
{
	avail(f)->ring[f->avail_idx % f->vq.size] = head;
	f->avail_idx++;
	__atomic_store_n(&avail(f)->idx, f->avail_idx, __ATOMIC_RELEASE);
}

static inline int vq_setup(struct fixture *f, u16 size, bool event_idx, bool indirect)
{
	virtqueue_reset(&f->vq, &f->mem);
	f->vq.size = size;
	f->vq.desc_gpa = DESC_GPA;
	f->vq.avail_gpa = AVAIL_GPA;
	f->vq.used_gpa = USED_GPA;
	f->vq.event_idx = event_idx;
	f->vq.indirect = indirect;
	f->vq.ready = true;
	f->avail_idx = 0;
	/* A fresh driver: rings zeroed, as after a device reset. */
	memset(hva(f, DESC_GPA), 0, TABLE_GPA - DESC_GPA);
	return virtqueue_start(&f->vq);
}

static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	/* Hostile cases are expected here: keep their warnings out of the test log. */
	log_level = LOG_ERR;
	if (guest_memory_layout(&f->mem, RAM_SIZE, 3 * GiB) || guest_memory_alloc(&f->mem)) {
		free(f);
		return -1;
	}
	if (vq_setup(f, QSIZE, false, true)) {
		guest_memory_free(&f->mem);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;

	guest_memory_free(&f->mem);
	free(f);
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

#endif
