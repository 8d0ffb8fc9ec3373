// SPDX-License-Identifier: GPL-2.0-only
/*
 * The userspace vsock device across a snapshot, without KVM: save and load of its
 * state, and the one TRANSPORT_RESET event a load owes the guest, on fake rings in a
 * plain guest_memory. The test plays the driver: it writes descriptors and the
 * available ring itself, and kicks through the queues' eventfds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio/vsock_uds.h"
#include "snapshot.h"
#include "util/log.h"

#define MEM_SIZE  (4 * MiB)
#define RING_GPA  0x1000 /* queue q's rings at RING_GPA + q * RING_STEP */
#define RING_STEP 0x8000
#define BUF_GPA	  0x40000 /* buffers from here on, 0x100 apart */
#define QSIZE	  8
#define NQ	  3

struct fixture {
	struct guest_memory mem;
	struct vsock_uds *v;
	char dir[64];
	u16 avail_idx[NQ], next_desc[NQ];
	u64 next_buf;
	unsigned int notified[NQ], resets;
};

static struct fixture *cur;

static void fake_notify(struct virtio_dev *vdev, unsigned int q)
{
	if (virtqueue_should_notify(&vdev->queues[q].vq))
		__atomic_add_fetch(&cur->notified[q], 1, __ATOMIC_RELEASE);
}

static void fake_needs_reset(struct virtio_dev *vdev, const char *why)
{
	(void)vdev;
	(void)why;
	__atomic_add_fetch(&cur->resets, 1, __ATOMIC_RELEASE);
}

static void *hva(struct fixture *f, u64 gpa)
{
	return f->mem.base + gpa;
}

static struct virtqueue *vq_of(struct fixture *f, unsigned int q)
{
	return &f->v->vdev.queues[q].vq;
}

static struct fixture *snap_setup(u32 cid)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vsock_options o = {.cid = cid};

	assert_non_null(f);
	cur = f;
	log_level = LOG_ERR; /* hostile chains are expected: keep the log quiet */
	f->mem.base = calloc(1, MEM_SIZE);
	assert_non_null(f->mem.base);
	f->mem.total = MEM_SIZE;
	f->mem.nr = 1;
	f->mem.regions[0] = (struct mem_region){.gpa = 0, .size = MEM_SIZE, .hva = f->mem.base};
	f->next_buf = BUF_GPA;
	strcpy(f->dir, "/tmp/kvmbox-test-vsnap-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(o.uds, sizeof(o.uds), "%s/v.sock", f->dir);
	assert_int_equal(vsock_uds_create(&o, &f->v), 0);
	f->v->vdev.notify = fake_notify;
	f->v->vdev.set_needs_reset = fake_needs_reset;
	for (unsigned int q = 0; q < NQ; q++) {
		struct virtqueue *vq = vq_of(f, q);

		virtqueue_reset(vq, &f->mem);
		vq->size = QSIZE;
		vq->desc_gpa = RING_GPA + q * RING_STEP;
		vq->avail_gpa = vq->desc_gpa + 16 * QSIZE;
		vq->used_gpa = vq->desc_gpa + 0x1000;
		vq->ready = true;
		assert_int_equal(virtqueue_start(vq), 0);
		f->v->vdev.queues[q].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(f->v->vdev.queues[q].kick_fd >= 0);
	}
	return f;
}

static void snap_teardown(struct fixture *f)
{
	int kick[NQ];

	for (unsigned int q = 0; q < NQ; q++)
		kick[q] = f->v->vdev.queues[q].kick_fd;
	f->v->vdev.ops->destroy(&f->v->vdev);
	for (unsigned int q = 0; q < NQ; q++)
		close(kick[q]);
	assert_int_equal(rmdir(f->dir), 0); /* destroy removed the socket */
	free(f->mem.base);
	free(f);
}

/* One buffer of len bytes (device-writable unless readable) made available on q. */
static u64 post(struct fixture *f, unsigned int q, u32 len, bool readable)
{
	struct virtqueue *vq = vq_of(f, q);
	struct vring_desc *d = hva(f, vq->desc_gpa);
	struct vring_avail *av = hva(f, vq->avail_gpa);
	u16 i = f->next_desc[q]++ % QSIZE;
	u64 gpa = f->next_buf;

	f->next_buf += 0x100;
	memset(hva(f, gpa), 0xee, 0x100);
	d[i] = (struct vring_desc){
		.addr = gpa, .len = len, .flags = readable ? 0 : VRING_DESC_F_WRITE};
	av->ring[f->avail_idx[q] % QSIZE] = i;
	f->avail_idx[q]++;
	__atomic_store_n(&av->idx, f->avail_idx[q], __ATOMIC_RELEASE);
	return gpa;
}

static u16 used_idx(struct fixture *f, unsigned int q)
{
	struct vring_used *u = hva(f, vq_of(f, q)->used_gpa);

	return __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);
}

static u32 used_len(struct fixture *f, unsigned int q, u16 n)
{
	struct vring_used *u = hva(f, vq_of(f, q)->used_gpa);

	return u->ring[n % QSIZE].len;
}

static void kick(struct fixture *f, unsigned int q)
{
	u64 one = 1;

	assert_int_equal(write(f->v->vdev.queues[q].kick_fd, &one, sizeof(one)), sizeof(one));
}

/* Polls cond up to 2 s: the worker runs on its own thread. */
#define WAIT_FOR(cond)                                                                   \
	do {                                                                             \
		for (int i_ = 0; i_ < 400 && !(cond); i_++)                              \
			nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL); \
	} while (0)

static void settle(void)
{
	nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
}

/* Saves the device's state and loads it back: the device then owes its reset. */
static void save_load(struct fixture *f)
{
	const struct virtio_dev_ops *ops = f->v->vdev.ops;
	struct snap_buf sb;

	snap_init(&sb);
	assert_int_equal(ops->save(&f->v->vdev, &sb), 0);
	sb.pos = 0;
	assert_int_equal(ops->load(&f->v->vdev, &sb), 0);
	snap_free(&sb);
	assert_true(f->v->reset_owed);
}

/* The state is the CID: another CID, or a cut section, is refused. */
static void test_save_load_checks(void **state)
{
	struct fixture *f = snap_setup(7), *g;
	struct snap_buf sb;

	(void)state;
	assert_false(f->v->reset_owed);
	snap_init(&sb);
	assert_int_equal(f->v->vdev.ops->save(&f->v->vdev, &sb), 0);
	snap_teardown(f);
	g = snap_setup(8);
	sb.pos = 0;
	assert_int_equal(g->v->vdev.ops->load(&g->v->vdev, &sb), -EINVAL);
	assert_false(g->v->reset_owed);
	snap_teardown(g);
	g = snap_setup(7);
	sb.pos = 0;
	sb.len -= 2;
	assert_int_equal(g->v->vdev.ops->load(&g->v->vdev, &sb), -EINVAL);
	sb.pos = 0;
	sb.len += 2;
	sb.error = false; /* sticky after the short read */
	assert_int_equal(g->v->vdev.ops->load(&g->v->vdev, &sb), 0);
	assert_true(g->v->reset_owed);
	snap_free(&sb);
	snap_teardown(g);
}

/* The event is le32 0 in the first event buffer, sent once; nothing without a load. */
static void test_event_once(void **state)
{
	struct fixture *f = snap_setup(3);
	u64 gpa;
	u32 id;

	(void)state;
	post(f, VSOCK_EVQ, 8, false);
	assert_true(vsock_uds_serve_event(f->v));
	assert_int_equal(used_idx(f, VSOCK_EVQ), 0);
	save_load(f);
	assert_true(vsock_uds_serve_event(f->v));
	assert_int_equal(used_idx(f, VSOCK_EVQ), 1);
	assert_int_equal(used_len(f, VSOCK_EVQ, 0), 4);
	memcpy(&id, hva(f, BUF_GPA), sizeof(id));
	assert_int_equal(id, 0);
	assert_int_equal(*(u8 *)hva(f, BUF_GPA + 4), 0xee); /* nothing past the event */
	assert_int_equal(f->notified[VSOCK_EVQ], 1);
	assert_false(f->v->reset_owed);
	gpa = post(f, VSOCK_EVQ, 8, false);
	assert_true(vsock_uds_serve_event(f->v));
	assert_int_equal(used_idx(f, VSOCK_EVQ), 1);
	assert_int_equal(*(u8 *)hva(f, gpa), 0xee);
	assert_int_equal(f->resets, 0);
	snap_teardown(f);
}

/*
 * Through the worker: resumed without an event buffer, the reset stays owed; the
 * driver's kick of the event queue after posting one delivers it, once.
 */
static void test_event_waits_for_buffer(void **state)
{
	struct fixture *f = snap_setup(3);
	struct virtio_dev *vdev = &f->v->vdev;

	(void)state;
	save_load(f);
	assert_int_equal(vdev->ops->start(vdev), 0);
	settle();
	assert_int_equal(used_idx(f, VSOCK_EVQ), 0);
	post(f, VSOCK_EVQ, 4, false);
	kick(f, VSOCK_EVQ);
	WAIT_FOR(used_idx(f, VSOCK_EVQ) == 1);
	assert_int_equal(used_idx(f, VSOCK_EVQ), 1);
	post(f, VSOCK_EVQ, 4, false);
	kick(f, VSOCK_EVQ);
	settle();
	vdev->pausing = true; /* a pause keeps what a reset would clear */
	vdev->ops->stop(vdev);
	vdev->pausing = false;
	assert_int_equal(used_idx(f, VSOCK_EVQ), 1);
	assert_int_equal(used_len(f, VSOCK_EVQ, 0), 4);
	assert_false(f->v->reset_owed);
	assert_int_equal(__atomic_load_n(&f->resets, __ATOMIC_ACQUIRE), 0);
	snap_teardown(f);
}

/* A buffer posted before the worker starts is used at once, with no kick. */
static void test_event_buffer_before_start(void **state)
{
	struct fixture *f = snap_setup(3);
	struct virtio_dev *vdev = &f->v->vdev;

	(void)state;
	post(f, VSOCK_EVQ, 4, false);
	save_load(f);
	assert_int_equal(vdev->ops->start(vdev), 0);
	WAIT_FOR(used_idx(f, VSOCK_EVQ) == 1);
	vdev->ops->stop(vdev);
	assert_int_equal(used_idx(f, VSOCK_EVQ), 1);
	assert_false(f->v->reset_owed);
	snap_teardown(f);
}

/* A device-readable or short event buffer breaks the device, once, and nothing else. */
static void test_event_bad_chains(void **state)
{
	struct fixture *f = snap_setup(3);
	struct virtio_dev *vdev = &f->v->vdev;

	(void)state;
	save_load(f);
	post(f, VSOCK_EVQ, 3, false);
	assert_false(vsock_uds_serve_event(f->v));
	snap_teardown(f);

	f = snap_setup(3);
	vdev = &f->v->vdev;
	save_load(f);
	post(f, VSOCK_EVQ, 16, true);
	assert_int_equal(vdev->ops->start(vdev), 0);
	WAIT_FOR(__atomic_load_n(&f->resets, __ATOMIC_ACQUIRE) == 1);
	/* Broken: more buffers and kicks are left alone. */
	post(f, VSOCK_EVQ, 4, false);
	kick(f, VSOCK_EVQ);
	settle();
	vdev->ops->stop(vdev);
	assert_int_equal(f->resets, 1);
	assert_int_equal(used_idx(f, VSOCK_EVQ), 0);
	snap_teardown(f);
}

/* A guest that resets the device forgets its connections: no event is owed after. */
static void test_reset_clears_owed(void **state)
{
	struct fixture *f = snap_setup(3);
	struct virtio_dev *vdev = &f->v->vdev;

	(void)state;
	save_load(f);
	assert_int_equal(vdev->ops->start(vdev), 0);
	vdev->ops->stop(vdev); /* not pausing: the driver's reset */
	assert_false(f->v->reset_owed);
	post(f, VSOCK_EVQ, 4, false);
	assert_true(vsock_uds_serve_event(f->v));
	assert_int_equal(used_idx(f, VSOCK_EVQ), 0);
	snap_teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_load_checks),
		cmocka_unit_test(test_event_once),
		cmocka_unit_test(test_event_waits_for_buffer),
		cmocka_unit_test(test_event_buffer_before_start),
		cmocka_unit_test(test_event_bad_chains),
		cmocka_unit_test(test_reset_clears_owed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
