// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/memory.c src/config.c src/util/log.c src/util/thread.c src/devices/virtio/virtqueue.c src/devices/virtio/balloon.c tests/fuzz/fake_transport.c src/sandbox/spawner.c src/sandbox/seccomp.c src/sandbox/filters.c src/arch/$(ARCH)/sandbox.c src/devices/worker.c
// fuzz-libs: -lseccomp
/*
 * libFuzzer harness for virtio-balloon's queues: the input is a hostile driver (its guest
 * memory, rings and ring features) run through virtio_balloon_pages(),
 * virtio_balloon_stats_in() and virtio_balloon_stats_poll(). Inflated pages really are
 * dropped with madvise (guest RAM is page-aligned). Nothing may crash, touch memory
 * outside guest RAM, count more pages than the chains could name, keep statistics of an
 * unknown tag, or serve a queue after it broke the rules.
 *
 * Input layout:
 *   [0..2]   queue sizes of inflate, deflate, stats: 1 << (byte % 9)
 *   [3]      bit 0 EVENT_IDX, bit 1 INDIRECT_DESC
 *   [4..9]   starting last_avail of each queue (le16), so index wraparound comes quickly
 *   [10..25] 16 operations (see run_op())
 *   [26..]   guest RAM image: 64 KiB at GPA 0; the queues' rings at 0, 16 and 32 KiB.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/balloon.h"
#include "harness.h"
#include "util/log.h"
#include "vm.h"

#define RAM_SIZE  (64 * KiB)
#define RING_STEP (16 * KiB)
#define HDR_SIZE  10
#define NR_OPS	  16
#define IMAGE_OFF (HDR_SIZE + NR_OPS)

static struct vm vm;
static struct virtio_balloon *b;

static void harness_notify(struct virtio_dev *vdev, unsigned int q)
{
	(void)vdev;
	CHECK(q < VIRTIO_BALLOON_QUEUES);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct balloon_options o = {.amount_mib = 1, .stats_interval_s = 1};

	(void)argc;
	(void)argv;
	log_level = LOG_ERR; /* every hostile input would log a warning */
	vm.mem.nr = 1;
	vm.mem.total = RAM_SIZE;
	vm.mem.base = aligned_alloc(BALLOON_PAGE_SIZE, RAM_SIZE);
	CHECK(vm.mem.base);
	vm.mem.regions[0] = (struct mem_region){.gpa = 0, .size = RAM_SIZE, .hva = vm.mem.base};
	b = calloc(1, sizeof(*b));
	CHECK(b);
	CHECK(virtio_balloon_init(b, &o) == 0);
	b->vdev.vm = &vm;
	b->vdev.notify = harness_notify;
	b->vdev.driver_features = b->vdev.device_features;
	return 0;
}

/*
 * bits 0-1: 0 an inflate round, 1 a deflate round, 2 the statistics kick, 3 the poll
 * timer or, with bit 2, a reset and restart; bits 5-7 add to the avail index of
 * inflate (5-6) or stats (7) as a driver racing ahead would.
 */
static void run_op(u8 op)
{
	struct virtio_queue *vq = b->vdev.queues;
	u16 last[VIRTIO_BALLOON_QUEUES];
	bool was_broken = b->vdev.broken;
	u64 pages = b->inflated + b->deflated + b->bad_pfns;

	for (unsigned int q = 0; q < VIRTIO_BALLOON_QUEUES; q++)
		last[q] = b->vdev.queues[q].vq.last_avail;
	switch (op & 3) {
	case 0:
	case 1:
		virtio_balloon_pages(b, op & 1);
		/* A round takes at most BALLOON_ROUND chains of BALLOON_MAX_PFNS each. */
		CHECK(b->inflated + b->deflated + b->bad_pfns - pages <=
		      (u64)BALLOON_ROUND * BALLOON_MAX_PFNS);
		break;
	case 2:
		virtio_balloon_stats_in(b);
		break;
	case 3:
		if (op & 4) {
			virtio_balloon_deactivate(b);
			reset_seen = false;
			virtio_balloon_activate(b);
		} else {
			virtio_balloon_stats_poll(b);
		}
		break;
	}
	if (was_broken && b->vdev.broken) {
		for (unsigned int q = 0; q < VIRTIO_BALLOON_QUEUES; q++)
			CHECK(b->vdev.queues[q].vq.last_avail == last[q]);
	}
	if (reset_seen)
		CHECK(b->vdev.broken);
	CHECK(!(b->stats_valid >> BALLOON_STAT_TAGS));
	driver_races_ahead(&vq[VIRTIO_BALLOON_INFLATEQ].vq, &vq[VIRTIO_BALLOON_STATSQ].vq, op);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	size_t img_len;

	if (size < IMAGE_OFF)
		return 0;
	img_len = MIN(size - IMAGE_OFF, (size_t)RAM_SIZE);
	ram_load(&vm.mem, data + IMAGE_OFF, img_len, 0);
	reset_seen = false;
	b->inflated = b->deflated = b->bad_pfns = 0;
	b->stats_valid = 0;
	for (unsigned int q = 0; q < VIRTIO_BALLOON_QUEUES; q++)
		queue_start(&b->vdev.queues[q].vq, &vm.mem, 1u << (data[q] % 9), q * RING_STEP,
			    (u16)le_at(&data[4 + 2 * q], 2), data[3] & 1, data[3] & 2);
	virtio_balloon_activate(b);
	for (unsigned int i = 0; i < NR_OPS; i++)
		run_op(data[HDR_SIZE + i]);
	virtio_balloon_deactivate(b);
	return 0;
}
