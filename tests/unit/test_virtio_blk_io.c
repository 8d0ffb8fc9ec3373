// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whole virtio-blk requests through a test "driver" that builds rings in guest memory,
 * run on a temp file through both I/O engines (io_uring and threads): reads and writes,
 * many in flight, discard and write-zeroes, write-through, read-only disks, GET_ID,
 * malformed chains, and a reset with requests in flight, also as the vCPU and main threads
 * make it under their seccomp lists.
 */
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/virtio_ring.h>

#include "sandbox/sandbox.h"

#include "util/log.h"
#include "virtio_blk_fixture.h"

struct drv {
	struct guest_memory mem;
	struct virtio_blk *b;
	enum block_backend backend;
	char path[64];
	int fd; /* the test's own view of the image */
	u16 avail_idx, next_desc;
	u64 next_buf;
};

struct buf {
	u64 gpa;
	u32 len;
	bool w;
};

static void *hva(struct drv *d, u64 gpa)
{
	void *p = gpa_to_hva(&d->mem, gpa, 1);

	assert_non_null(p);
	return p;
}

static struct vring_used *used(struct drv *d)
{
	return hva(d, USED_GPA);
}

static u64 galloc(struct drv *d, u32 len)
{
	u64 gpa = d->next_buf;

	d->next_buf = ALIGN_UP(gpa + len, 64);
	assert_true(d->next_buf < RAM_SIZE);
	return gpa;
}

static void vq_setup(struct drv *d)
{
	blk_ring_start(&d->b->vdev.queues[0].vq, &d->mem, false);
	d->avail_idx = d->next_desc = 0;
}

static void drv_start(struct drv *d, const char *opt_suffix, u64 features)
{
	struct blk_options o;
	char arg[128], err[160];

	snprintf(arg, sizeof(arg), "%s%s", d->path, opt_suffix);
	assert_int_equal(virtio_blk_parse_option(arg, &o), 0);
	d->b = calloc(1, sizeof(*d->b));
	assert_int_equal(virtio_blk_init(d->b, &o, d->backend, err, sizeof(err)), 0);
	d->b->vdev.driver_features = d->b->vdev.device_features & features;
	vq_setup(d);
	assert_int_equal(virtio_blk_queue_start(d->b), 0);
}

static void drv_stop(struct drv *d)
{
	if (!d->b)
		return;
	virtio_blk_queue_stop(d->b);
	virtio_blk_fini(d->b);
	free(d->b);
	d->b = NULL;
}

/* Posts a chain as the driver does: descriptors, ring entry, then the index. */
static u16 post(struct drv *d, const struct buf *bufs, unsigned int n)
{
	struct vring_desc *desc = hva(d, DESC_GPA);
	struct vring_avail *avail = hva(d, AVAIL_GPA);
	u16 head = d->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		u16 idx = (u16)((head + i) % QSIZE);

		desc[idx] = (struct vring_desc){
			.addr = bufs[i].gpa,
			.len = bufs[i].len,
			.flags = (u16)((bufs[i].w ? VRING_DESC_F_WRITE : 0) |
				       (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = (u16)((idx + 1) % QSIZE),
		};
	}
	d->next_desc = (u16)((head + n) % QSIZE);
	avail->ring[d->avail_idx % QSIZE] = head;
	d->avail_idx++;
	__atomic_store_n(&avail->idx, d->avail_idx, __ATOMIC_RELEASE);
	return head;
}

/* Serves the ring and reaps until the used index reaches want; returns the last events. */
static unsigned int run_until(struct drv *d, u16 want)
{
	unsigned int ev = virtio_blk_serve(d->b);

	for (int i = 0; i < 3000 && used(d)->idx != want; i++) {
		struct pollfd p = {.fd = block_queue_event_fd(d->b->bq), .events = POLLIN};

		poll(&p, 1, 10);
		ev |= virtio_blk_reap(d->b);
		if (d->b->more)
			ev |= virtio_blk_serve(d->b);
	}
	assert_int_equal(used(d)->idx, want);
	return ev;
}

static u64 hdr(struct drv *d, u32 type, u64 sector)
{
	struct virtio_blk_outhdr h = {.type = htole32(type), .sector = htole64(sector)};
	u64 gpa = galloc(d, sizeof(h));

	memcpy(hva(d, gpa), &h, sizeof(h));
	return gpa;
}

/* One request of up to three buffers plus a status byte; returns the status. */
static int request(struct drv *d, u32 type, u64 sector, u64 data, u32 len, bool data_w)
{
	u64 status = galloc(d, 1);
	struct buf bufs[3] = {{hdr(d, type, sector), 16, false}};
	unsigned int n = 1;
	u16 want = (u16)(used(d)->idx + 1), head;

	if (len)
		bufs[n++] = (struct buf){data, len, data_w};
	bufs[n++] = (struct buf){status, 1, true};
	*(u8 *)hva(d, status) = 0xee;
	head = post(d, bufs, n);
	run_until(d, want);
	assert_int_equal(used(d)->ring[(want - 1) % QSIZE].id, head);
	return *(u8 *)hva(d, status);
}

static int rw(struct drv *d, u32 type, u64 sector, u64 data, u32 len)
{
	return request(d, type, sector, data, len, type == VIRTIO_BLK_T_IN);
}

static int ranges(struct drv *d, u32 type, u64 sector, u32 nr, u32 flags)
{
	struct virtio_blk_discard_write_zeroes rg = {
		.sector = htole64(sector), .num_sectors = htole32(nr), .flags = htole32(flags)};
	u64 gpa = galloc(d, sizeof(rg));

	memcpy(hva(d, gpa), &rg, sizeof(rg));
	return request(d, type, 0, gpa, sizeof(rg), false);
}

static void fill_file(struct drv *d, u8 v)
{
	u8 *buf = malloc(DISK_SIZE);

	memset(buf, v, DISK_SIZE);
	assert_int_equal(pwrite(d->fd, buf, DISK_SIZE, 0), DISK_SIZE);
	free(buf);
}

static bool file_is(struct drv *d, u64 off, u64 len, u8 v)
{
	u8 buf[4096];

	while (len) {
		size_t n = MIN(len, sizeof(buf));

		assert_int_equal(pread(d->fd, buf, n, (off_t)off), (ssize_t)n);
		for (size_t i = 0; i < n; i++)
			if (buf[i] != v)
				return false;
		off += n;
		len -= n;
	}
	return true;
}

static int drv_setup(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	log_level = LOG_ERR;
	d->backend = *(enum block_backend *)*state;
	if (guest_memory_layout(&d->mem, RAM_SIZE, 3 * GiB) || guest_memory_alloc(&d->mem))
		return -1;
	make_file(d->path, DISK_SIZE);
	d->fd = open(d->path, O_RDWR);
	d->next_buf = BUF_GPA;
	*state = d;
	return d->fd < 0 ? -1 : 0;
}

static int drv_teardown(void **state)
{
	struct drv *d = *state;

	drv_stop(d);
	close(d->fd);
	unlink(d->path);
	guest_memory_free(&d->mem);
	free(d);
	return 0;
}

static const u64 all_features = ~0ULL;

static void test_io_read_write(void **state)
{
	struct drv *d = *state;
	u64 data = galloc(d, 64 * KiB);

	fill_file(d, 0x5a);
	drv_start(d, "", all_features);
	assert_string_equal(block_queue_backend_name(d->b->bq),
			    d->backend == BLOCK_BACKEND_THREADS ? "threads" : "io_uring");
	memset(hva(d, data), 0x11, 64 * KiB);
	assert_int_equal(rw(d, VIRTIO_BLK_T_OUT, 16, data, 64 * KiB), VIRTIO_BLK_S_OK);
	assert_int_equal(used(d)->ring[0].len, 1);
	assert_true(file_is(d, 16 * 512, 64 * KiB, 0x11));
	assert_true(file_is(d, 0, 16 * 512, 0x5a));
	memset(hva(d, data), 0, 64 * KiB);
	assert_int_equal(rw(d, VIRTIO_BLK_T_IN, 15, data, 1024), VIRTIO_BLK_S_OK);
	assert_int_equal(used(d)->ring[1].len, 1025);
	assert_true(((u8 *)hva(d, data))[0] == 0x5a && ((u8 *)hva(d, data))[1023] == 0x11);
	assert_int_equal(rw(d, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	/* The last sector works, the one after it does not. */
	assert_int_equal(rw(d, VIRTIO_BLK_T_IN, SECTORS - 1, data, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(rw(d, VIRTIO_BLK_T_IN, SECTORS, data, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(d, VIRTIO_BLK_T_OUT, SECTORS - 1, data, 1024), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(d, VIRTIO_BLK_T_OUT, 0, data, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(rw(d, 77, 0, data, 0), VIRTIO_BLK_S_UNSUPP);
}

#define MANY (QSIZE / 3) /* requests of three descriptors that fit the ring at once */

static void test_io_many_in_flight(void **state)
{
	struct drv *d = *state;
	u64 data = galloc(d, MANY * 4096), status = galloc(d, MANY);

	drv_start(d, "", all_features);
	/* A ring full of 4 KiB writes, each to its own place, then all read back. */
	for (int pass = 0; pass < 2; pass++) {
		u32 type = pass ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;

		for (unsigned int i = 0; i < MANY; i++) {
			struct buf b[3] = {{hdr(d, type, i * 8), 16, false},
					   {data + i * 4096, 4096, pass == 1},
					   {status + i, 1, true}};

			if (!pass)
				memset(hva(d, data + i * 4096), (int)i, 4096);
			else
				memset(hva(d, data + i * 4096), 0xff, 4096);
			post(d, b, 3);
		}
		run_until(d, (u16)((pass + 1) * MANY));
		for (unsigned int i = 0; i < MANY; i++)
			assert_int_equal(*(u8 *)hva(d, status + i), VIRTIO_BLK_S_OK);
	}
	for (unsigned int i = 0; i < MANY; i++) {
		assert_int_equal(((u8 *)hva(d, data + i * 4096))[4095], (u8)i);
		assert_true(file_is(d, i * 4096, 4096, (u8)i));
	}
	assert_int_equal(d->b->nr_free, QSIZE);
}

static void test_io_discard_write_zeroes(void **state)
{
	const u32 unmap = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	struct drv *d = *state;

	fill_file(d, 0x77);
	drv_start(d, "", all_features);
	assert_int_equal(ranges(d, VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 0), VIRTIO_BLK_S_OK);
	assert_true(file_is(d, 8 * 512, 4096, 0));
	assert_true(file_is(d, 0, 8 * 512, 0x77) && file_is(d, 16 * 512, 512, 0x77));
	assert_int_equal(ranges(d, VIRTIO_BLK_T_WRITE_ZEROES, 64, 64, unmap), VIRTIO_BLK_S_OK);
	assert_true(file_is(d, 64 * 512, 64 * 512, 0));
	/* Discarded sectors may read as anything; on a file they become a hole. */
	assert_int_equal(ranges(d, VIRTIO_BLK_T_DISCARD, 256, 256, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(ranges(d, VIRTIO_BLK_T_DISCARD, 256, 8, unmap), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(ranges(d, VIRTIO_BLK_T_DISCARD, SECTORS, 1, 0), VIRTIO_BLK_S_IOERR);
	assert_true(file_is(d, 1024 * 512, 512, 0x77));
	/* Where fallocate cannot zero, the zeros are written. */
	atomic_store(&d->b->file.no_punch, true);
	atomic_store(&d->b->file.no_zero_range, true);
	assert_int_equal(ranges(d, VIRTIO_BLK_T_WRITE_ZEROES, 1024, 4096, unmap), VIRTIO_BLK_S_OK);
	assert_true(file_is(d, 1024 * 512, 4096 * 512, 0));
	assert_true(file_is(d, 5120 * 512, 512, 0x77));
}

static void test_io_write_through(void **state)
{
	struct drv *d = *state;
	u64 data = galloc(d, 512);

	/* Without FLUSH negotiated, writes sync before completing, and FLUSH is refused. */
	drv_start(d, "", ~BIT(VIRTIO_BLK_F_FLUSH));
	memset(hva(d, data), 0x42, 512);
	assert_int_equal(rw(d, VIRTIO_BLK_T_OUT, 3, data, 512), VIRTIO_BLK_S_OK);
	assert_true(file_is(d, 3 * 512, 512, 0x42));
	assert_int_equal(rw(d, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(ranges(d, VIRTIO_BLK_T_WRITE_ZEROES, 3, 1, 0), VIRTIO_BLK_S_OK);
	assert_true(file_is(d, 3 * 512, 512, 0));
}

static void test_io_read_only(void **state)
{
	struct drv *d = *state;
	u64 data = galloc(d, 512);

	fill_file(d, 0x33);
	drv_start(d, ",ro", all_features);
	assert_true(d->b->vdev.device_features & BIT(VIRTIO_BLK_F_RO));
	assert_false(d->b->vdev.device_features & BIT(VIRTIO_BLK_F_DISCARD));
	memset(hva(d, data), 0x44, 512);
	assert_int_equal(rw(d, VIRTIO_BLK_T_OUT, 0, data, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(ranges(d, VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0), VIRTIO_BLK_S_UNSUPP);
	assert_true(file_is(d, 0, 512, 0x33));
	assert_int_equal(rw(d, VIRTIO_BLK_T_IN, 0, data, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(((u8 *)hva(d, data))[0], 0x33);
}

static void test_io_get_id(void **state)
{
	struct drv *d = *state;
	u64 id = galloc(d, 32);

	drv_start(d, ",serial=kvmbox-disk-7", all_features);
	memset(hva(d, id), 0xff, 32);
	assert_int_equal(request(d, VIRTIO_BLK_T_GET_ID, 0, id, 20, true), VIRTIO_BLK_S_OK);
	assert_memory_equal(hva(d, id), "kvmbox-disk-7\0\0\0\0\0\0\0", 20);
	assert_int_equal(used(d)->ring[0].len, 21);
	/* A short buffer gets what fits. */
	memset(hva(d, id), 0xff, 32);
	assert_int_equal(request(d, VIRTIO_BLK_T_GET_ID, 0, id, 6, true), VIRTIO_BLK_S_OK);
	assert_memory_equal(hva(d, id), "kvmbox\xff", 7);
}

static void test_io_malformed_chain(void **state)
{
	struct drv *d = *state;
	struct vring_desc *desc;
	u64 status = galloc(d, 1);
	struct buf b[2] = {{hdr(d, VIRTIO_BLK_T_FLUSH, 0), 16, false}, {status, 1, true}};

	drv_start(d, "", all_features);
	/* A chain whose next index points past the queue: the queue breaks. */
	post(d, b, 2);
	desc = hva(d, DESC_GPA);
	desc[0].next = QSIZE + 5;
	assert_true(virtio_blk_serve(d->b) & VIRTIO_BLK_EV_BROKEN);
	assert_int_equal(virtio_blk_serve(d->b), 0); /* asked for once */
	assert_int_equal(used(d)->idx, 0);
	assert_int_equal(d->b->nr_free, QSIZE);
	/* A reset brings it back. */
	virtio_blk_queue_stop(d->b);
	vq_setup(d);
	assert_int_equal(virtio_blk_queue_start(d->b), 0);
	assert_int_equal(rw(d, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	/* A chain without any device-writable byte also asks for a reset. */
	b[1].w = false;
	post(d, b, 2);
	assert_true(virtio_blk_serve(d->b) & VIRTIO_BLK_EV_BROKEN);
}

/* Starts the disk and has the worker take 64 writes of 16 KiB, left in flight. */
static void start_busy(struct drv *d, u64 data, u64 status)
{
	drv_start(d, "", all_features);
	for (unsigned int i = 0; i < 64; i++) {
		struct buf b[3] = {{hdr(d, VIRTIO_BLK_T_OUT, i * 32), 16, false},
				   {data + i * 16 * KiB, 16 * KiB, false},
				   {status + i, 1, true}};

		post(d, b, 3);
	}
	virtio_blk_serve(d->b);
}

static void test_io_stop_in_flight(void **state)
{
	struct drv *d = *state;
	u64 data = galloc(d, 64 * 16 * KiB), status = galloc(d, 64);

	start_busy(d, data, status);
	/* Reset with requests in flight: it waits for them, and returns nothing to the ring. */
	virtio_blk_queue_stop(d->b);
	assert_int_equal(d->b->nr_free, QSIZE);
	assert_int_equal(atomic_load(&d->b->busy), 0);
	assert_null(d->b->bq);
	vq_setup(d);
	assert_int_equal(virtio_blk_queue_start(d->b), 0);
	assert_int_equal(rw(d, VIRTIO_BLK_T_IN, 0, data, 512), VIRTIO_BLK_S_OK);
}

/*
 * The guest's reset of a busy disk runs on a vCPU thread (a status write), kvmbox's
 * tear-down on the main thread: either waits for the requests in flight (a kick, a
 * poll on the completions) under its seccomp list. In a child: a filter stays for good,
 * and the thread engine's workers must be the child's own.
 */
static void stop_in_flight_filtered(struct drv *d, enum sandbox_kind kind)
{
	u64 data = galloc(d, 64 * 16 * KiB), status = galloc(d, 64);
	int wstatus;
	pid_t pid;

	if (seccomp_api_get() < 1)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		start_busy(d, data, status);
		sandbox_init(SANDBOX_ON);
		if (sandbox_enter(kind))
			syscall(SYS_exit_group, 99);
		virtio_blk_queue_stop(d->b);
		/* The raw call: a sanitizer's exit would make calls no list has. */
		syscall(SYS_exit_group, d->b->nr_free == QSIZE ? 0 : 98);
	}
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	assert_int_equal(WEXITSTATUS(wstatus), 0);
}

static void test_io_stop_in_flight_on_vcpu(void **state)
{
	stop_in_flight_filtered(*state, THREAD_VCPU);
}

static void test_io_stop_in_flight_on_main(void **state)
{
	stop_in_flight_filtered(*state, THREAD_MAIN);
}

/* Posts one descriptor naming an indirect table of n buffers (written at a fresh place). */
static void post_indirect(struct drv *d, const struct buf *bufs, unsigned int n)
{
	u64 table = galloc(d, n * sizeof(struct vring_desc));
	struct vring_desc *t = hva(d, table);
	struct buf one = {table, n * sizeof(struct vring_desc), false};

	for (unsigned int i = 0; i < n; i++)
		t[i] = (struct vring_desc){
			.addr = bufs[i].gpa,
			.len = bufs[i].len,
			.flags = (u16)((bufs[i].w ? VRING_DESC_F_WRITE : 0) |
				       (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			.next = (u16)(i + 1),
		};
	post(d, &one, 1);
	((struct vring_desc *)hva(d, DESC_GPA))[(d->next_desc + QSIZE - 1) % QSIZE].flags =
		VRING_DESC_F_INDIRECT;
}

/* A read of nbufs sectors from sector 0, one 512-byte buffer each, 1 KiB apart. */
static void seg_chain(struct drv *d, struct buf *b, unsigned int nbufs, u64 data, u64 status)
{
	b[0] = (struct buf){hdr(d, VIRTIO_BLK_T_IN, 0), 16, false};
	for (unsigned int i = 0; i < nbufs; i++)
		b[1 + i] = (struct buf){data + i * 1024, 512, true};
	b[1 + nbufs] = (struct buf){status, 1, true};
	*(u8 *)hva(d, status) = 0xee;
}

static void test_io_seg_max(void **state)
{
	struct drv *d = *state;
	const unsigned int max = VIRTIO_BLK_SEG_MAX;
	u64 data = galloc(d, (max + 1) * 1024), status = galloc(d, 1);
	struct buf b[VIRTIO_BLK_SEG_MAX + 3];
	u8 sector[512];

	for (unsigned int i = 0; i < max + 1; i++) {
		memset(sector, (int)i, sizeof(sector));
		assert_int_equal(pwrite(d->fd, sector, 512, (off_t)i * 512), 512);
	}
	drv_start(d, "", all_features);
	d->b->vdev.queues[0].vq.indirect = true;
	/* Offered as QEMU does: the whole ring for one request, header and status included. */
	assert_true(d->b->vdev.device_features & BIT(VIRTIO_BLK_F_SEG_MAX));
	assert_int_equal(le32toh(d->b->config.seg_max), 254);
	assert_int_equal(max + 2, QSIZE);
	/* At the limit: a chain as long as the ring, every buffer filled in order. */
	seg_chain(d, b, max, data, status);
	post(d, b, max + 2);
	run_until(d, 1);
	assert_int_equal(*(u8 *)hva(d, status), VIRTIO_BLK_S_OK);
	assert_int_equal(used(d)->ring[0].len, max * 512 + 1);
	for (unsigned int i = 0; i < max; i++)
		assert_int_equal(((u8 *)hva(d, data + i * 1024))[511], (u8)i);
	/* One over (possible only through an indirect table): IOERR, and the queue lives on. */
	memset(hva(d, data), 0, (max + 1) * 1024);
	seg_chain(d, b, max + 1, data, status);
	post_indirect(d, b, max + 3);
	assert_false(run_until(d, 2) & VIRTIO_BLK_EV_BROKEN);
	assert_int_equal(*(u8 *)hva(d, status), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used(d)->ring[1].len, 1);
	assert_int_equal(((u8 *)hva(d, data))[0], 0); /* nothing was read */
	assert_int_equal(rw(d, VIRTIO_BLK_T_IN, max, data, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(((u8 *)hva(d, data))[0], (u8)max);
	assert_int_equal(d->b->nr_free, QSIZE);
}

static const enum block_backend uring = BLOCK_BACKEND_IO_URING, threads = BLOCK_BACKEND_THREADS;

/* Each I/O test runs once per engine, named after it. */
#define IO_TEST(fn, be)                                                                  \
	{                                                                                \
		.name = #be "/" #fn, .test_func = test_io_##fn, .setup_func = drv_setup, \
		.teardown_func = drv_teardown, .initial_state = (void *)&be,             \
	}
#define IO_TESTS(be)                                                                             \
	IO_TEST(read_write, be), IO_TEST(many_in_flight, be), IO_TEST(discard_write_zeroes, be), \
		IO_TEST(write_through, be), IO_TEST(read_only, be), IO_TEST(get_id, be),         \
		IO_TEST(malformed_chain, be), IO_TEST(stop_in_flight, be),                       \
		IO_TEST(stop_in_flight_on_vcpu, be), IO_TEST(stop_in_flight_on_main, be),        \
		IO_TEST(seg_max, be)

int main(void)
{
	const struct CMUnitTest tests[] = {
		IO_TESTS(uring),
		IO_TESTS(threads),
	};

	log_level = LOG_ERR;
	return cmocka_run_group_tests_name("virtio_blk_io", tests, NULL, NULL);
}
