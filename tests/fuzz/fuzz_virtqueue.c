// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/memory.c src/util/log.c src/devices/virtio/virtqueue.c
// fuzz-options: -max_len=32768
/*
 * libFuzzer harness for the split virtqueue: the input is a hostile driver's guest memory.
 *
 * Input layout (tests/fuzz/gen_virtqueue_seeds.c writes seeds in it):
 *   [0]      queue size = 1 << (byte % 11), 1..1024; from 0xf0 up an invalid size,
 *            (byte - 0xf0) * 0x1111, that start() must refuse
 *   [1]      bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 rings at 4 GiB (region 1),
 *            bit 3 rings placed by [6..11]
 *   [2..3]   starting last_avail (le16), to reach index wraparound quickly
 *   [4..5]   starting used_idx (le16)
 *   [6..11]  with bit 3: desc, avail, used offsets (le16) from the region's start, but
 *            0xfe00..0xfeff count back from 2^64 (address wraparound) and 0xff00..0xffff
 *            back from the region's end (rings that just fit or just do not)
 *   [12..27] 16 operation bytes, run in order (see run_op())
 *   [28..]   guest RAM image: first the region holding the rings, then the other one;
 *            region 0 is 64 KiB at GPA 0, region 1 16 KiB at 4 GiB
 * Without bit 3 the rings sit back to back at the start of their region: descriptor
 * table, available ring, used ring (4-aligned). Buffers may point anywhere. Guest RAM
 * beyond the input is zero, so small inputs describe small queues completely.
 *
 * Both regions are separate heap blocks so AddressSanitizer catches any access that
 * escapes a region, including one that straddles the two.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/virtqueue.h"
#include "harness.h"
#include "util/log.h"

#define R0_SIZE	  (64 * KiB)
#define R1_GPA	  (4 * GiB)
#define R1_SIZE	  (16 * KiB)
#define HDR_SIZE  12
#define NR_OPS	  16
#define IMAGE_OFF (HDR_SIZE + NR_OPS)
#define MAX_POPS  64 /* per operation: bounds the run whatever the input */

static struct guest_memory mem;
static struct virtqueue vq;
static struct vq_chain chain;
static u8 scratch[R0_SIZE + R1_SIZE];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Every hostile input would log a warning: keep the fuzzer's output readable. */
	log_level = LOG_ERR;
	mem.nr = 2;
	mem.regions[0] = (struct mem_region){.gpa = 0, .size = R0_SIZE, .hva = malloc(R0_SIZE)};
	mem.regions[1] =
		(struct mem_region){.gpa = R1_GPA, .size = R1_SIZE, .hva = malloc(R1_SIZE)};
	mem.total = R0_SIZE + R1_SIZE;
	CHECK(mem.regions[0].hva && mem.regions[1].hva);
	return 0;
}

/* Whether [p, p + len) lies inside one region's host memory. */
static bool in_one_region(const u8 *p, size_t len)
{
	for (unsigned int i = 0; i < mem.nr; i++) {
		const u8 *base = mem.regions[i].hva;

		if (p >= base && p <= base + mem.regions[i].size &&
		    len <= (size_t)(base + mem.regions[i].size - p))
			return true;
	}
	return false;
}

static void check_iovs(const struct iovec *iov, unsigned int n, size_t total)
{
	size_t sum = 0;

	CHECK(n <= VIRTQUEUE_MAX_CHAIN);
	for (unsigned int i = 0; i < n; i++) {
		CHECK(iov[i].iov_len > 0);
		CHECK(in_one_region(iov[i].iov_base, iov[i].iov_len));
		sum += iov[i].iov_len;
	}
	CHECK(sum == total);
}

/* Checks a popped chain and uses its buffers the way a device would. */
static void consume(bool push)
{
	size_t n;

	CHECK(chain.head < vq.size);
	CHECK(chain.n_out + chain.n_in <= VIRTQUEUE_MAX_CHAIN);
	CHECK((u64)chain.out_len + chain.in_len <= 1ULL << 32);
	check_iovs(chain.out, chain.n_out, chain.out_len);
	check_iovs(chain.in, chain.n_in, chain.in_len);
	/* Copies touch every byte ASan can see, through the skip path too. */
	n = iov_to_buf(chain.out, chain.n_out, chain.out_len / 3, scratch, sizeof(scratch));
	CHECK(n == MIN(chain.out_len - chain.out_len / 3, sizeof(scratch)));
	n = buf_to_iov(chain.in, chain.n_in, 1, scratch, sizeof(scratch));
	CHECK(n == MIN(chain.in_len ? chain.in_len - 1 : 0, sizeof(scratch)));
	if (push)
		CHECK(virtqueue_push(&vq, chain.head, (u32)MIN(chain.in_len, UINT32_MAX)) == 0);
}

/* Pops up to max chains; after a violation every later call must fail too. */
static void pop_some(unsigned int max, bool push)
{
	for (unsigned int i = 0; i < max; i++) {
		int r = virtqueue_pop(&vq, &chain);

		if (r == 1) {
			consume(push);
			continue;
		}
		CHECK(r == 0 || r == -EIO);
		if (r == -EIO) {
			CHECK(vq.broken);
			CHECK(virtqueue_pop(&vq, &chain) == -EIO);
			CHECK(virtqueue_push(&vq, 0, 0) == -EIO);
		}
		return;
	}
}

/*
 * bits 0-1: 0 pop and push everything, 1 pop one without pushing, 2 push head
 * (op >> 2) as the device, 3 the driver bumps avail->idx by (op >> 2) & 7;
 * bit 4 calls enable_notify(bit 5); bit 6 calls should_notify.
 */
static void run_op(u8 op)
{
	switch (op & 3) {
	case 0:
		pop_some(MAX_POPS, true);
		break;
	case 1:
		pop_some(1, false);
		break;
	case 2: {
		int r = virtqueue_push(&vq, op >> 2, 0);

		CHECK(r == 0 || r == -EIO || (r == -EINVAL && (op >> 2) >= vq.size));
		break;
	}
	case 3:
		avail_bump(&vq, (op >> 2) & 7);
		break;
	}
	if (op & 0x10)
		virtqueue_enable_notify(&vq, op & 0x20);
	if (op & 0x40)
		virtqueue_should_notify(&vq);
}

/* Where a ring goes when the input places it (see the input layout). */
static u64 ring_gpa(u64 base, u64 end, u16 off)
{
	if (off >= 0xff00)
		return end - (0x10000 - off);
	if (off >= 0xfe00)
		return 0 - (u64)(0xff00 - off);
	return base + off;
}

static void place_rings(const u8 *hdr)
{
	u64 base = hdr[1] & 4 ? R1_GPA : 0;
	u64 end = base + (hdr[1] & 4 ? R1_SIZE : R0_SIZE);

	if (hdr[1] & 8) {
		vq.desc_gpa = ring_gpa(base, end, le_at(&hdr[6], 2));
		vq.avail_gpa = ring_gpa(base, end, le_at(&hdr[8], 2));
		vq.used_gpa = ring_gpa(base, end, le_at(&hdr[10], 2));
		return;
	}
	rings_back_to_back(&vq, base);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	u8 hdr[IMAGE_OFF] = {0};

	memcpy(hdr, data, MIN(size, sizeof(hdr)));
	ram_load(&mem, data + MIN(size, sizeof(hdr)), size - MIN(size, sizeof(hdr)),
		 hdr[1] & 4 ? 1 : 0);

	virtqueue_reset(&vq, &mem);
	vq.size = hdr[0] >= 0xf0 ? (hdr[0] - 0xf0) * 0x1111 : 1u << (hdr[0] % 11);
	vq.event_idx = hdr[1] & 1;
	vq.indirect = hdr[1] & 2;
	place_rings(hdr);
	vq.ready = true;
	vq.last_avail = le_at(&hdr[2], 2);
	vq.used_idx = le_at(&hdr[4], 2);
	/* Misplaced rings, or large queues in region 1: start() must refuse, not crash. */
	if (virtqueue_start(&vq)) {
		CHECK(vq.broken && virtqueue_pop(&vq, &chain) == -EIO);
		return 0;
	}
	for (unsigned int i = 0; i < NR_OPS; i++)
		run_op(hdr[HDR_SIZE + i]);
	return 0;
}
