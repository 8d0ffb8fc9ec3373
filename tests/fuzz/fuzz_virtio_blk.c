// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/memory.c src/util/log.c src/util/thread.c src/snapshot.c src/devices/virtio/virtqueue.c src/devices/virtio/blk.c src/devices/virtio/blk_request.c src/devices/virtio/blk_poll.c src/devices/virtio/blk_options.c src/util/metrics.c src/util/token_bucket.c src/backends/block.c tests/fuzz/fake_transport.c src/sandbox/spawner.c src/sandbox/seccomp.c src/sandbox/filters.c src/arch/$(ARCH)/sandbox.c src/devices/worker.c
// fuzz-libs: -lseccomp
// fuzz-options: -max_len=70000
/*
 * libFuzzer harness for virtio-blk requests from a hostile driver, in two modes chosen
 * by bit 7 of the first byte.
 *
 * Parse mode: a descriptor chain made of the input checked by virtio_blk_parse_request()
 * alone, and the result checked against what validation promises (data inside the
 * chain's buffers, sector ranges inside the disk, read-only respected, and so on).
 *   [0]      bit 0 ro, bit 1 FLUSH, bit 2 DISCARD, bit 3 WRITE_ZEROES negotiated
 *   [1] [2]  device-readable and device-writable buffer counts (% 160)
 *   [3..6]   capacity in sectors (le32)
 *   [7..]    4 bytes per buffer: offset and length (le16 each) into the arena,
 *            then the arena itself (64 KiB, zero beyond the input)
 *
 * Engine mode: the whole device on a 64 KiB memfd disk: rings in guest memory made of
 * the input, served, the I/O run (io_uring or threads) and drained, then a reset.
 *   [0]      bits 0-3 as above (bit 0: the read-only disk), bit 7 set
 *   [1]      queue size 1 << (byte % 5)
 *   [2..]    guest RAM (64 KiB at GPA 0): descriptors at 0, avail ring at 0x400, used
 *            ring at 0x800; buffers may point anywhere in it
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/virtio/blk.h"
#include "harness.h"
#include "util/log.h"

#define ARENA	   (64 * KiB)
#define RAM	   (64 * KiB)
#define DISK	   (64 * KiB)
#define MAX_BUFS   160
#define AVAIL_GPA  0x400
#define USED_GPA   0x800
#define MAX_ROUNDS 64 /* serve/reap rounds per input: bounds the run */

static u8 *arena;
static struct vq_chain chain;
static struct blk_req req;
static struct guest_memory mem;
static struct virtio_blk *disks[2]; /* read-write, read-only */

static struct virtio_blk *open_disk(bool ro)
{
	static struct blk_options o;
	struct virtio_blk *b = calloc(1, sizeof(*b));
	char path[64], err[160];
	int fd = memfd_create(ro ? "blk-ro" : "blk-rw", 0);

	CHECK(b && fd >= 0 && ftruncate(fd, DISK) == 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d%s", fd, ro ? ",ro" : "");
	CHECK(virtio_blk_parse_option(path, &o) == 0);
	if (virtio_blk_init(b, &o, BLOCK_BACKEND_AUTO, err, sizeof(err))) {
		fprintf(stderr, "fuzz_virtio_blk: %s: %s\n", path, err);
		abort();
	}
	return b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_level = LOG_ERR; /* hostile requests are expected: no warnings */
	arena = malloc(ARENA);
	CHECK(arena);
	ram_alloc_one(&mem, RAM);
	disks[0] = open_disk(false);
	disks[1] = open_disk(true);
	return 0;
}

/* Parse mode. */

static bool in_arena(const void *p, size_t len)
{
	const u8 *b = p;

	return b >= arena && b <= arena + ARENA && len <= (size_t)(arena + ARENA - b);
}

static void add_buf(const u8 *d, bool w)
{
	u32 off = le_at(d, 2) % ARENA, len = MIN(le_at(d + 2, 2), ARENA - off);
	struct iovec v = {arena + off, len};

	if (w) {
		chain.in[chain.n_in++] = v;
		chain.in_len += len;
	} else {
		chain.out[chain.n_out++] = v;
		chain.out_len += len;
	}
}

static void check_parsed(const struct blk_limits *l, int st)
{
	size_t sum = 0;

	CHECK(st == -EIO || st == VIRTIO_BLK_S_OK || st == VIRTIO_BLK_S_IOERR ||
	      st == VIRTIO_BLK_S_UNSUPP);
	CHECK((st == -EIO) == (chain.in_len == 0));
	if (st != VIRTIO_BLK_S_OK)
		return;
	CHECK(in_arena(req.status, 1) && req.iovcnt <= VIRTIO_BLK_SEG_MAX);
	for (unsigned int i = 0; i < req.iovcnt; i++) {
		CHECK(req.iov[i].iov_len && in_arena(req.iov[i].iov_base, req.iov[i].iov_len));
		sum += req.iov[i].iov_len;
	}
	CHECK(sum == req.data_len);
	switch (req.type) {
	case VIRTIO_BLK_T_OUT:
		CHECK(!l->ro);
		/* fall through */
	case VIRTIO_BLK_T_IN:
		CHECK(req.data_len % 512 == 0 && req.sector <= l->capacity &&
		      req.data_len / 512 <= l->capacity - req.sector);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		CHECK(!l->ro && req.nr_ranges <= VIRTIO_BLK_MAX_RANGES);
		for (unsigned int i = 0; i < req.nr_ranges; i++) {
			const struct blk_range *rg = &req.ranges[i];

			CHECK(rg->nr_sectors && rg->sector <= l->capacity &&
			      rg->nr_sectors <= l->capacity - rg->sector);
			CHECK(!rg->unmap || req.type == VIRTIO_BLK_T_WRITE_ZEROES);
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		CHECK(l->flush && !req.data_len);
		break;
	case VIRTIO_BLK_T_GET_ID:
		CHECK(req.data_len && req.data_len <= VIRTIO_BLK_ID_BYTES);
		break;
	default:
		CHECK(0);
	}
}

static void parse_mode(const u8 *data, size_t size)
{
	u8 hdr[7] = {0};
	struct blk_limits l;
	unsigned int n_out, n_in;
	size_t descs, used;

	memcpy(hdr, data, MIN(size, sizeof(hdr)));
	n_out = hdr[1] % MAX_BUFS;
	n_in = hdr[2] % MAX_BUFS;
	l = (struct blk_limits){.capacity = le_at(&hdr[3], 4),
				.ro = hdr[0] & 1,
				.flush = hdr[0] & 2,
				.discard = hdr[0] & 4,
				.write_zeroes = hdr[0] & 8};
	/* Buffers the input does not describe are empty ones at the arena's start. */
	descs = 4 * (size_t)(n_out + n_in);
	used = MIN(size, sizeof(hdr) + descs);
	memset(arena, 0, ARENA);
	memcpy(arena, data + used, MIN(size - used, (size_t)ARENA));
	chain.n_out = chain.n_in = 0;
	chain.out_len = chain.in_len = 0;
	chain.head = 0;
	for (unsigned int i = 0; i < n_out + n_in; i++) {
		u8 d[4] = {0};
		size_t at = sizeof(hdr) + 4 * (size_t)i;

		if (at < size)
			memcpy(d, data + at, MIN(size - at, sizeof(d)));
		add_buf(d, i >= n_out);
	}
	check_parsed(&l, virtio_blk_parse_request(&l, &chain, &req));
}

/* Engine mode. */

static void engine_mode(const u8 *data, size_t size)
{
	struct virtio_blk *b = disks[data[0] & 1];
	struct virtqueue *vq = &b->vdev.queues[0].vq;
	u64 features = BIT(VIRTIO_BLK_F_FLUSH) * !!(data[0] & 2) |
		       BIT(VIRTIO_BLK_F_DISCARD) * !!(data[0] & 4) |
		       BIT(VIRTIO_BLK_F_WRITE_ZEROES) * !!(data[0] & 8);
	size_t n = size > 2 ? MIN(size - 2, (size_t)RAM) : 0;

	ram_load(&mem, data + 2, n, 0);
	b->vdev.driver_features = b->vdev.device_features & features;
	virtqueue_reset(vq, &mem);
	vq->size = (u16)(1u << ((size > 1 ? data[1] : 0) % 5));
	vq->desc_gpa = 0;
	vq->avail_gpa = AVAIL_GPA;
	vq->used_gpa = USED_GPA;
	vq->ready = true;
	CHECK(virtqueue_start(vq) == 0);
	CHECK(virtio_blk_queue_start(b) == 0);
	for (unsigned int i = 0; i < MAX_ROUNDS; i++) {
		struct pollfd p = {.fd = block_queue_event_fd(b->bq), .events = POLLIN};

		virtio_blk_serve(b);
		if (!atomic_load(&b->busy) && !b->more)
			break;
		poll(&p, 1, 100);
		virtio_blk_reap(b);
	}
	/* A reset with whatever is still in flight. */
	virtio_blk_queue_stop(b);
	CHECK(!atomic_load(&b->busy) && b->nr_free == VIRTIO_BLK_QUEUE_SIZE && !b->bq);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	if (size && (data[0] & 0x80))
		engine_mode(data, size);
	else
		parse_mode(data, size);
	return 0;
}
