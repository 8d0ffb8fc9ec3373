/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the libFuzzer harnesses share: their check, reading the input, guest RAM made
 * of it, and playing the driver's side of a split virtqueue. Harnesses that link a
 * device without its transport add tests/fuzz/fake_transport.c to their fuzz-sources.
 */
#ifndef KVMBOX_TESTS_FUZZ_HARNESS_H
#define KVMBOX_TESTS_FUZZ_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "devices/virtio/virtqueue.h"
#include "fuzz_access.h"

/* The little-endian value of the n (up to 4) bytes at p. */
static inline u32 le_at(const u8 *p, unsigned int n)
{
	u32 v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (u32)p[i] << (8 * i);
	return v;
}

/* size bytes of guest RAM at GPA 0, one heap block so that ASan sees any access past it. */
static inline void ram_alloc_one(struct guest_memory *mem, size_t size)
{
	mem->nr = 1;
	mem->total = size;
	mem->base = malloc(size);
	mem->regions[0] = (struct mem_region){.gpa = 0, .size = size, .hva = mem->base};
	CHECK(mem->base);
}

/* Fills guest RAM from img, starting with region first; what img lacks is zeroed. */
static inline void ram_load(const struct guest_memory *mem, const u8 *img, size_t len,
			    unsigned int first)
{
	for (unsigned int i = 0; i < mem->nr; i++) {
		const struct mem_region *r = &mem->regions[(first + i) % mem->nr];
		size_t n = MIN(len, r->size);

		memcpy(r->hva, img, n);
		memset(r->hva + n, 0, r->size - n);
		img += n;
		len -= n;
	}
}

/* The rings back to back from base: descriptor table, avail ring, used ring (4-aligned). */
static inline void rings_back_to_back(struct virtqueue *vq, u64 base)
{
	vq->desc_gpa = base;
	vq->avail_gpa = base + 16ULL * vq->size;
	vq->used_gpa = ALIGN_UP(vq->avail_gpa + 6 + 2ULL * vq->size, 4);
}

/*
 * A queue of size entries started the way a driver sets it up, its rings back to back
 * from base, both ring indices at start so that wraparound comes quickly.
 */
static inline void queue_start(struct virtqueue *vq, const struct guest_memory *mem,
			       unsigned int size, u64 base, u16 start, bool event_idx,
			       bool indirect)
{
	virtqueue_reset(vq, mem);
	vq->size = (u16)size;
	rings_back_to_back(vq, base);
	vq->ready = true;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->last_avail = vq->used_idx = start;
	CHECK(virtqueue_start(vq) == 0);
}

/* The driver moves avail->idx by n, whatever the ring holds. */
static inline void avail_bump(struct virtqueue *vq, unsigned int n)
{
	u16 *idx = vq->avail ? (u16 *)vq->avail + 1 : NULL;

	if (idx && n)
		*idx = (u16)(*idx + n);
}

/* Op bits 5-6 add to the avail index of rx, bit 7 to tx's, as a driver racing ahead would. */
static inline void driver_races_ahead(struct virtqueue *rx, struct virtqueue *tx, u8 op)
{
	avail_bump(rx, (op >> 5) & 3);
	avail_bump(tx, op >> 7);
}

/* Set by fake_transport.c's virtio_set_needs_reset(): the device says the driver broke it. */
extern bool reset_seen;

#endif
