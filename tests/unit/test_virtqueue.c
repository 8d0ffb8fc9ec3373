// SPDX-License-Identifier: GPL-2.0-only
/*
 * The split virtqueue against a test "driver" that builds rings in guest memory:
 * well-formed chains, notification decisions, and hostile rings that must break the
 * queue (-EIO) without touching memory outside guest RAM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static void *hva(struct fixture *f, u64 gpa)
{
	void *p = gpa_to_hva(&f->mem, gpa, 1);

	assert_non_null(p);
	return p;
}

static void write_desc_at(struct fixture *f, u64 table, u16 i, u64 addr, u32 len, u16 flags,
			  u16 next)
{
	struct vring_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};

	assert_true(guest_write(&f->mem, table + 16ULL * i, &d, sizeof(d)));
}

static void set_desc(struct fixture *f, u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	write_desc_at(f, DESC_GPA, i, addr, len, flags, next);
}

static struct vring_avail *avail(struct fixture *f)
{
	return hva(f, AVAIL_GPA);
}

static struct vring_used *used(struct fixture *f)
{
	return hva(f, USED_GPA);
}

/* Makes head available as the driver does: ring entry first, then the index. */
static void driver_add(struct fixture *f, u16 head)
{
	avail(f)->ring[f->avail_idx % f->vq.size] = head;
	f->avail_idx++;
	__atomic_store_n(&avail(f)->idx, f->avail_idx, __ATOMIC_RELEASE);
}

static void set_used_event(struct fixture *f, u16 v)
{
	avail(f)->ring[f->vq.size] = v;
}

static u16 get_avail_event(struct fixture *f)
{
	return *(u16 *)&used(f)->ring[f->vq.size];
}

static int vq_setup(struct fixture *f, u16 size, bool event_idx, bool indirect)
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

static int setup(void **state)
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

static int teardown(void **state)
{
	struct fixture *f = *state;

	guest_memory_free(&f->mem);
	free(f);
	return 0;
}

/* After a rule violation nothing works until reset. */
static void assert_broken(struct fixture *f)
{
	assert_true(f->vq.broken);
	driver_add(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), -EIO);
	assert_int_equal(virtqueue_push(&f->vq, 0, 0), -EIO);
	assert_false(virtqueue_should_notify(&f->vq));
	assert_false(virtqueue_enable_notify(&f->vq, true));
	assert_false(virtqueue_enable_notify(&f->vq, false));
}

static void expect_broken_pop(struct fixture *f, u16 head)
{
	driver_add(f, head);
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), -EIO);
	assert_broken(f);
}

static void test_simple_chain(void **state)
{
	struct fixture *f = *state;
	char buf[8] = {0};

	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 0);
	memcpy(hva(f, DATA_GPA), "hello", 6);
	set_desc(f, 3, DATA_GPA, 6, 0, 0);
	driver_add(f, 3);
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.head, 3);
	assert_int_equal(f->chain.n_out, 1);
	assert_int_equal(f->chain.n_in, 0);
	assert_int_equal(f->chain.out_len, 6);
	assert_ptr_equal(f->chain.out[0].iov_base, hva(f, DATA_GPA));
	assert_int_equal(iov_to_buf(f->chain.out, f->chain.n_out, 0, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "hello");
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 0);

	assert_int_equal(virtqueue_push(&f->vq, 3, 42), 0);
	assert_int_equal(used(f)->idx, 1);
	assert_int_equal(used(f)->ring[0].id, 3);
	assert_int_equal(used(f)->ring[0].len, 42);
	/* A bad head from the device is refused without breaking the queue. */
	assert_int_equal(virtqueue_push(&f->vq, QSIZE, 0), -EINVAL);
	assert_false(f->vq.broken);
	assert_int_equal(used(f)->idx, 1);
}

static void test_out_in_split(void **state)
{
	struct fixture *f = *state;
	const char msg[] = "0123456789";
	char buf[16] = {0};
	struct vq_chain *c = &f->chain;

	set_desc(f, 0, DATA_GPA, 4, VRING_DESC_F_NEXT, 5);
	set_desc(f, 5, DATA_GPA + 0x1000, 6, VRING_DESC_F_NEXT, 2);
	set_desc(f, 2, DATA_GPA + 0x2000, 3, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 7);
	set_desc(f, 7, DATA_GPA + 0x3000, 100, VRING_DESC_F_WRITE, 0);
	memcpy(hva(f, DATA_GPA), "0123", 4);
	memcpy(hva(f, DATA_GPA + 0x1000), "456789", 6);
	driver_add(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, c), 1);
	assert_int_equal(c->n_out, 2);
	assert_int_equal(c->n_in, 2);
	assert_int_equal(c->out_len, 10);
	assert_int_equal(c->in_len, 103);
	/* Reads that straddle iovecs, start past the first, or run off the end. */
	assert_int_equal(iov_to_buf(c->out, c->n_out, 0, buf, sizeof(buf)), 10);
	assert_memory_equal(buf, msg, 10);
	assert_int_equal(iov_to_buf(c->out, c->n_out, 5, buf, 3), 3);
	assert_memory_equal(buf, "567", 3);
	assert_int_equal(iov_to_buf(c->out, c->n_out, 10, buf, 3), 0);
	assert_int_equal(iov_to_buf(c->out, c->n_out, SIZE_MAX, buf, 3), 0);
	/* Writes land in both device-writable buffers in order. */
	assert_int_equal(buf_to_iov(c->in, c->n_in, 1, msg, 10), 10);
	assert_memory_equal(hva(f, DATA_GPA + 0x2000),
			    "\0"
			    "01",
			    3);
	assert_memory_equal(hva(f, DATA_GPA + 0x3000), "2345678", 7);
	assert_int_equal(buf_to_iov(c->in, c->n_in, 100, msg, 10), 3);
	assert_int_equal(buf_to_iov(c->in, c->n_in, 0, msg, 0), 0);
}

static void test_zero_length_skipped(void **state)
{
	struct fixture *f = *state;

	/* An empty buffer anywhere, even with a nonsense address, is dropped, not fatal. */
	set_desc(f, 0, ~0ULL, 0, VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	set_desc(f, 2, 0, 0, 0, 0);
	driver_add(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.n_out, 0);
	assert_int_equal(f->chain.n_in, 1);
	assert_int_equal(f->chain.in_len, 8);
}

static void test_indirect_chain(void **state)
{
	struct fixture *f = *state;
	struct vq_chain *c = &f->chain;

	write_desc_at(f, TABLE_GPA, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 2);
	write_desc_at(f, TABLE_GPA, 2, DATA_GPA + 16, 32, VRING_DESC_F_NEXT, 1);
	write_desc_at(f, TABLE_GPA, 1, DATA_GPA + 64, 512, VRING_DESC_F_WRITE, 0);
	/* The WRITE flag on the descriptor naming the table is ignored, as the spec says. */
	set_desc(f, 9, TABLE_GPA, 3 * 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	driver_add(f, 9);
	assert_int_equal(virtqueue_pop(&f->vq, c), 1);
	assert_int_equal(c->head, 9);
	assert_int_equal(c->n_out, 2);
	assert_int_equal(c->n_in, 1);
	assert_int_equal(c->out_len, 48);
	assert_int_equal(c->in_len, 512);
	assert_ptr_equal(c->in[0].iov_base, hva(f, DATA_GPA + 64));

	/* Direct descriptors followed by one indirect descriptor (the spec allows it). */
	set_desc(f, 4, DATA_GPA + 0x1000, 7, VRING_DESC_F_NEXT, 6);
	set_desc(f, 6, TABLE_GPA, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	driver_add(f, 4);
	assert_int_equal(virtqueue_pop(&f->vq, c), 1);
	assert_int_equal(c->n_out, 3);
	assert_int_equal(c->out_len, 55);
	assert_int_equal(c->in_len, 512);

	/* An indirect table at an odd address and as long as VIRTQUEUE_MAX_CHAIN. */
	for (u16 i = 0; i < VIRTQUEUE_MAX_CHAIN; i++)
		write_desc_at(f, TABLE2_GPA + 1, i, DATA_GPA, 1,
			      i + 1 < VIRTQUEUE_MAX_CHAIN ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(f, 1, TABLE2_GPA + 1, VIRTQUEUE_MAX_CHAIN * 16, VRING_DESC_F_INDIRECT, 0);
	driver_add(f, 1);
	assert_int_equal(virtqueue_pop(&f->vq, c), 1);
	assert_int_equal(c->n_out, VIRTQUEUE_MAX_CHAIN);
	assert_int_equal(c->out_len, VIRTQUEUE_MAX_CHAIN);
}

static void test_event_idx_notify(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->vq;

	assert_int_equal(vq_setup(f, QSIZE, true, false), 0);
	/* Nothing signalled yet: the first decision is to notify. */
	set_used_event(f, 100);
	assert_int_equal(virtqueue_push(vq, 0, 0), 0);
	assert_true(virtqueue_should_notify(vq));
	/* Nothing new since: no notification whatever used_event says. */
	set_used_event(f, 1);
	assert_false(virtqueue_should_notify(vq));
	/* used_event 1 lies in [1, 2): notify. */
	assert_int_equal(virtqueue_push(vq, 0, 0), 0);
	assert_true(virtqueue_should_notify(vq));
	/* used_event 5, window [2, 4): no; then [4, 6): yes, 5 is its last entry. */
	set_used_event(f, 5);
	virtqueue_push(vq, 0, 0);
	virtqueue_push(vq, 0, 0);
	assert_false(virtqueue_should_notify(vq));
	virtqueue_push(vq, 0, 0);
	virtqueue_push(vq, 0, 0);
	assert_true(virtqueue_should_notify(vq));
	/* used_event just before the window [6, 7) (old - 1), then just past [7, 9): no. */
	set_used_event(f, 5);
	virtqueue_push(vq, 0, 0);
	assert_false(virtqueue_should_notify(vq));
	set_used_event(f, 9);
	virtqueue_push(vq, 0, 0);
	virtqueue_push(vq, 0, 0);
	assert_false(virtqueue_should_notify(vq));
	/* The exact start of the window [9, 10): yes. */
	set_used_event(f, 9);
	virtqueue_push(vq, 0, 0);
	assert_true(virtqueue_should_notify(vq));

	/* Wraparound: window [0xfffe, 0x0001) holds 0xfffe, 0xffff and 0x0000. */
	vq->used_idx = vq->signalled_used = 0xfffe;
	for (u16 ev = 0xfffd; ev != 2; ev++) {
		vq->used_idx = vq->signalled_used = 0xfffe;
		set_used_event(f, ev);
		for (int i = 0; i < 3; i++)
			virtqueue_push(vq, 0, 0);
		assert_int_equal(used(f)->idx, 1);
		assert_int_equal(virtqueue_should_notify(vq), ev >= 0xfffe || ev == 0);
	}
	/* The ring entry for used index 0xffff is 0xffff % size. */
	assert_int_equal(used(f)->ring[0xffff % QSIZE].id, 0);
}

static void test_no_interrupt_flag(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->vq;

	avail(f)->flags = VRING_AVAIL_F_NO_INTERRUPT;
	virtqueue_push(vq, 0, 0);
	assert_false(virtqueue_should_notify(vq));
	avail(f)->flags = 0;
	virtqueue_push(vq, 0, 0);
	assert_true(virtqueue_should_notify(vq));
	/* Nothing pushed since the last decision. */
	assert_false(virtqueue_should_notify(vq));
	/* used_event is not consulted without EVENT_IDX. */
	set_used_event(f, 77);
	virtqueue_push(vq, 0, 0);
	assert_true(virtqueue_should_notify(vq));
}

static void test_enable_notify(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->vq;

	set_desc(f, 0, DATA_GPA, 1, 0, 0);
	/* Without EVENT_IDX: the NO_NOTIFY flag. */
	assert_false(virtqueue_enable_notify(vq, false));
	assert_int_equal(used(f)->flags, VRING_USED_F_NO_NOTIFY);
	assert_false(virtqueue_enable_notify(vq, true));
	assert_int_equal(used(f)->flags, 0);
	virtqueue_enable_notify(vq, false);
	/* A buffer added while notifications were off: enabling says "pop again". */
	driver_add(f, 0);
	assert_true(virtqueue_enable_notify(vq, true));
	assert_int_equal(used(f)->flags, 0);
	assert_int_equal(virtqueue_pop(vq, &f->chain), 1);
	assert_false(virtqueue_enable_notify(vq, true));

	/* With EVENT_IDX: avail_event names the next entry we will take. */
	assert_int_equal(vq_setup(f, QSIZE, true, false), 0);
	assert_false(virtqueue_enable_notify(vq, true));
	assert_int_equal(get_avail_event(f), 0);
	assert_false(virtqueue_enable_notify(vq, false));
	driver_add(f, 0);
	driver_add(f, 0);
	assert_true(virtqueue_enable_notify(vq, true));
	assert_int_equal(virtqueue_pop(vq, &f->chain), 1);
	assert_true(virtqueue_enable_notify(vq, true));
	assert_int_equal(get_avail_event(f), 1);
	assert_int_equal(virtqueue_pop(vq, &f->chain), 1);
	assert_false(virtqueue_enable_notify(vq, true));
	assert_int_equal(get_avail_event(f), 2);
	assert_int_equal(used(f)->flags, 0);
}

static void test_not_started(void **state)
{
	struct fixture *f = *state;
	struct virtqueue vq;

	virtqueue_reset(&vq, &f->mem);
	assert_int_equal(virtqueue_pop(&vq, &f->chain), -EIO);
	assert_int_equal(virtqueue_push(&vq, 0, 0), -EIO);
	assert_false(virtqueue_should_notify(&vq));
	assert_false(virtqueue_enable_notify(&vq, true));
	/* A reset after a broken start makes the queue usable again. */
	virtqueue_reset(&vq, NULL);
	vq.size = 4;
	assert_int_equal(virtqueue_start(&vq), -EINVAL);
	assert_true(vq.broken);
	virtqueue_reset(&f->vq, &f->mem);
	assert_false(f->vq.broken);
}

static void test_bad_rings_at_start(void **state)
{
	struct fixture *f = *state;
	struct virtqueue *vq = &f->vq;
	static const struct {
		u16 size;
		u64 desc, avail, used;
	} bad[] = {
		{0, DESC_GPA, AVAIL_GPA, USED_GPA},
		{3, DESC_GPA, AVAIL_GPA, USED_GPA},
		{2 * VIRTQUEUE_MAX_SIZE, DESC_GPA, AVAIL_GPA, USED_GPA},
		{0xffff, DESC_GPA, AVAIL_GPA, USED_GPA},
		{QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA},
		{QSIZE, DESC_GPA, AVAIL_GPA + 1, USED_GPA},
		{QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2},
		{QSIZE, RAM_SIZE, AVAIL_GPA, USED_GPA},
		{QSIZE, RAM_SIZE - 16 * QSIZE + 16, AVAIL_GPA, USED_GPA},
		{QSIZE, DESC_GPA, RAM_SIZE - 6 - 2 * QSIZE + 2, USED_GPA},
		{QSIZE, DESC_GPA, AVAIL_GPA, RAM_SIZE - 8 - 8 * QSIZE + 4},
		{QSIZE, ~0ULL << 4, AVAIL_GPA, USED_GPA},
		{QSIZE, DESC_GPA, ~0ULL << 1, USED_GPA},
		{QSIZE, DESC_GPA, AVAIL_GPA, ~0ULL << 2},
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		virtqueue_reset(vq, &f->mem);
		vq->size = bad[i].size;
		vq->desc_gpa = bad[i].desc;
		vq->avail_gpa = bad[i].avail;
		vq->used_gpa = bad[i].used;
		assert_int_equal(virtqueue_start(vq), -EINVAL);
		assert_null(vq->desc);
		assert_int_equal(virtqueue_pop(vq, &f->chain), -EIO);
		assert_int_equal(virtqueue_push(vq, 0, 0), -EIO);
	}
	/* Rings that end exactly at the end of RAM are fine. */
	virtqueue_reset(vq, &f->mem);
	vq->size = QSIZE;
	vq->desc_gpa = RAM_SIZE - 16 * QSIZE;
	vq->avail_gpa = RAM_SIZE - 6 - 2 * QSIZE;
	vq->used_gpa = RAM_SIZE - 8 - 8 * QSIZE;
	assert_int_equal(virtqueue_start(vq), 0);
	vq->size = 1;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	assert_int_equal(virtqueue_start(vq), 0);
}

static void test_descriptor_loop(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA, 8, VRING_DESC_F_NEXT, 0);
	expect_broken_pop(f, 0);
}

static void test_descriptor_self_loop(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 5, DATA_GPA, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 5);
	expect_broken_pop(f, 5);
}

static void test_chain_longer_than_size(void **state)
{
	struct fixture *f = *state;

	/* Every descriptor used once is fine; one more needs a repeat: a loop. */
	for (u16 i = 0; i < QSIZE; i++)
		set_desc(f, i, DATA_GPA, 8, VRING_DESC_F_NEXT, (i + 1) % QSIZE);
	set_desc(f, QSIZE - 1, DATA_GPA, 8, 0, 0);
	driver_add(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 1);
	assert_int_equal(f->chain.n_out, QSIZE);
	set_desc(f, QSIZE - 1, DATA_GPA, 8, VRING_DESC_F_NEXT, 0);
	expect_broken_pop(f, 3);
}

static void test_chain_longer_than_max(void **state)
{
	struct fixture *f = *state;

	/* One direct buffer plus a full indirect table is one too many. */
	for (u16 i = 0; i < VIRTQUEUE_MAX_CHAIN; i++)
		write_desc_at(f, TABLE_GPA, i, DATA_GPA, 1,
			      i + 1 < VIRTQUEUE_MAX_CHAIN ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(f, 0, DATA_GPA, 1, VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, TABLE_GPA, VIRTQUEUE_MAX_CHAIN * 16, VRING_DESC_F_INDIRECT, 0);
	expect_broken_pop(f, 0);
}

static void test_chain_over_4gib(void **state)
{
	struct fixture *f = *state;

	/* 600 buffers of 8 MiB, all the same memory: more than the spec's 2^32 bytes. */
	for (u16 i = 0; i < 600; i++)
		write_desc_at(f, TABLE_GPA, i, 8 * MiB, 8 * MiB, i < 599 ? VRING_DESC_F_NEXT : 0,
			      i + 1);
	set_desc(f, 0, TABLE_GPA, 600 * 16, VRING_DESC_F_INDIRECT, 0);
	expect_broken_pop(f, 0);
}

static void test_head_out_of_range(void **state)
{
	struct fixture *f = *state;

	expect_broken_pop(f, QSIZE);
}

static void test_head_max(void **state)
{
	struct fixture *f = *state;

	expect_broken_pop(f, 0xffff);
}

static void test_next_out_of_range(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, QSIZE);
	expect_broken_pop(f, 0);
}

static void test_buffer_outside_ram(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, RAM_SIZE + 0x1000, 8, 0, 0);
	expect_broken_pop(f, 0);
}

static void test_buffer_straddles_ram_end(void **state)
{
	struct fixture *f = *state;

	/* The last 8 bytes of RAM are a fine buffer; 9 are not. */
	set_desc(f, 0, RAM_SIZE - 8, 8, 0, 0);
	driver_add(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 1);
	set_desc(f, 0, RAM_SIZE - 8, 9, 0, 0);
	expect_broken_pop(f, 0);
}

static void test_buffer_addr_overflow(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, ~0ULL, 16, 0, 0);
	expect_broken_pop(f, 0);
}

static void test_buffer_addr_overflow_to_zero(void **state)
{
	struct fixture *f = *state;

	/* addr + len wraps to exactly 0: must not look like [0, 0). */
	set_desc(f, 0, ~0ULL - 0xfff, 0x1000, VRING_DESC_F_WRITE, 0);
	expect_broken_pop(f, 0);
}

static void test_buffer_huge_len(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, DATA_GPA, 0xffffffff, 0, 0);
	expect_broken_pop(f, 0);
}

static void test_writable_before_readable(void **state)
{
	struct fixture *f = *state;

	set_desc(f, 0, DATA_GPA, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(f, 1, DATA_GPA, 8, 0, 0);
	expect_broken_pop(f, 0);
}

static void test_writable_before_readable_indirect(void **state)
{
	struct fixture *f = *state;

	/* The order holds across the switch from direct descriptors to the table. */
	write_desc_at(f, TABLE_GPA, 0, DATA_GPA, 8, 0, 0);
	set_desc(f, 0, DATA_GPA, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(f, 1, TABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	expect_broken_pop(f, 0);
}

static void test_nested_indirect(void **state)
{
	struct fixture *f = *state;

	write_desc_at(f, TABLE_GPA, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	write_desc_at(f, TABLE_GPA, 1, TABLE2_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	write_desc_at(f, TABLE2_GPA, 0, DATA_GPA, 8, 0, 0);
	set_desc(f, 0, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken_pop(f, 0);
}

static void test_indirect_self_reference(void **state)
{
	struct fixture *f = *state;

	write_desc_at(f, TABLE_GPA, 0, TABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(f, 0, TABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	expect_broken_pop(f, 0);
}

static void test_indirect_not_negotiated(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vq_setup(f, QSIZE, false, false), 0);
	write_desc_at(f, TABLE_GPA, 0, DATA_GPA, 8, 0, 0);
	set_desc(f, 0, TABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	expect_broken_pop(f, 0);
}

static void test_indirect_with_next(void **state)
{
	struct fixture *f = *state;

	write_desc_at(f, TABLE_GPA, 0, DATA_GPA, 8, 0, 0);
	set_desc(f, 0, TABLE_GPA, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, DATA_GPA, 8, VRING_DESC_F_WRITE, 0);
	expect_broken_pop(f, 0);
}

static void indirect_len_breaks(struct fixture *f, u64 addr, u32 len)
{
	write_desc_at(f, TABLE_GPA, 0, DATA_GPA, 8, 0, 0);
	set_desc(f, 0, addr, len, VRING_DESC_F_INDIRECT, 0);
	expect_broken_pop(f, 0);
}

static void test_indirect_len_not_multiple(void **state)
{
	indirect_len_breaks(*state, TABLE_GPA, 24);
}

static void test_indirect_len_zero(void **state)
{
	indirect_len_breaks(*state, TABLE_GPA, 0);
}

static void test_indirect_len_huge(void **state)
{
	indirect_len_breaks(*state, TABLE_GPA, 0xfffffff0);
}

static void test_indirect_len_one_too_many(void **state)
{
	indirect_len_breaks(*state, TABLE_GPA, (VIRTQUEUE_MAX_CHAIN + 1) * 16);
}

static void test_indirect_outside_ram(void **state)
{
	indirect_len_breaks(*state, RAM_SIZE - 16, 32);
}

static void test_indirect_addr_overflow(void **state)
{
	indirect_len_breaks(*state, ~0ULL - 15, 32);
}

static void test_indirect_next_out_of_range(void **state)
{
	struct fixture *f = *state;

	/* next must stay below the table's entry count, not the queue size. */
	write_desc_at(f, TABLE_GPA, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 2);
	write_desc_at(f, TABLE_GPA, 2, DATA_GPA, 8, 0, 0);
	set_desc(f, 0, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken_pop(f, 0);
}

static void test_indirect_loop(void **state)
{
	struct fixture *f = *state;

	write_desc_at(f, TABLE_GPA, 0, DATA_GPA, 8, VRING_DESC_F_NEXT, 1);
	write_desc_at(f, TABLE_GPA, 1, DATA_GPA, 8, VRING_DESC_F_NEXT, 0);
	set_desc(f, 0, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken_pop(f, 0);
}

static void test_avail_idx_jump(void **state)
{
	struct fixture *f = *state;

	/* size entries at once is a full ring, fine; size + 1 is impossible. */
	set_desc(f, 0, DATA_GPA, 8, 0, 0);
	f->avail_idx = QSIZE;
	avail(f)->idx = QSIZE;
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 1);
	f->avail_idx = QSIZE + 2;
	avail(f)->idx = f->avail_idx;
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), -EIO);
	assert_broken(f);
}

static void test_avail_idx_backwards(void **state)
{
	struct fixture *f = *state;

	/* An index that went back looks like a jump of nearly 65536. */
	set_desc(f, 0, DATA_GPA, 8, 0, 0);
	driver_add(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 1);
	avail(f)->idx = 0;
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), -EIO);
	assert_broken(f);
}

/* The driver's side of the used ring: what it has taken back so far. */
static void wrap_round(struct fixture *f, u16 *last_used, unsigned int batch, unsigned long *n)
{
	u16 heads[QSIZE];

	for (unsigned int b = 0; b < batch; b++) {
		heads[b] = (u16)(*n + b) % 4;
		*(u32 *)hva(f, DATA_GPA + 4 * heads[b]) = (u32)(*n + b);
		driver_add(f, heads[b]);
	}
	for (unsigned int b = 0; b < batch; b++) {
		u32 v;

		assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 1);
		assert_int_equal(f->chain.head, heads[b]);
		assert_int_equal(iov_to_buf(f->chain.out, f->chain.n_out, 0, &v, 4), 4);
		assert_int_equal(v, (u32)(*n + b));
		assert_int_equal(virtqueue_push(&f->vq, f->chain.head, v), 0);
	}
	assert_int_equal(virtqueue_pop(&f->vq, &f->chain), 0);
	for (; *last_used != used(f)->idx; (*last_used)++) {
		assert_int_equal(used(f)->ring[*last_used % 4].id, (u16)*n % 4);
		assert_int_equal(used(f)->ring[*last_used % 4].len, (u32)*n);
		(*n)++;
	}
}

static void test_wraparound(void **state)
{
	struct fixture *f = *state;
	unsigned long n = 0;
	unsigned int round = 0;
	u16 last_used = 0;

	assert_int_equal(vq_setup(f, 4, false, false), 0);
	for (u16 i = 0; i < 4; i++)
		set_desc(f, i, DATA_GPA + 4 * i, 4, 0, 0);
	/* Batches of 1 to 4 (a full ring) so the indices wrap at every offset. */
	while (n < 3 * 65536UL + 7)
		wrap_round(f, &last_used, round++ % 4 + 1, &n);
	assert_int_equal(f->vq.last_avail, (u16)n);
	assert_int_equal(f->vq.used_idx, (u16)n);
	assert_int_equal(used(f)->idx, (u16)n);
	assert_false(f->vq.broken);
}

/*
 * A real driver thread against the device on this one: the driver notifies (posts to
 * the semaphore-like counter) only when the ring asks for it, and the device sleeps when
 * enable_notify() says the ring is empty. A lost wakeup shows up as a timeout.
 */
#define RACE_BUFFERS 200000u

struct race {
	struct fixture *f;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int kicks;
	bool stop; /* the device gave up: the driver must not wait for it */
};

static void race_kick(struct race *r)
{
	pthread_mutex_lock(&r->lock);
	r->kicks++;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static bool driver_wants_kick(struct fixture *f, u16 old_idx, u16 new_idx)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (f->vq.event_idx) {
		u16 ev = __atomic_load_n((u16 *)&used(f)->ring[f->vq.size], __ATOMIC_RELAXED);

		return (u16)(new_idx - ev - 1) < (u16)(new_idx - old_idx);
	}
	return !(__atomic_load_n(&used(f)->flags, __ATOMIC_RELAXED) & VRING_USED_F_NO_NOTIFY);
}

static void *race_driver(void *arg)
{
	struct race *r = arg;
	struct fixture *f = r->f;
	u16 size = f->vq.size;

	for (unsigned int n = 0; n < RACE_BUFFERS; n++) {
		u16 old_idx = f->avail_idx;

		/* Wait for a free slot: the device returns buffers in order. */
		while ((u16)(f->avail_idx - __atomic_load_n(&used(f)->idx, __ATOMIC_ACQUIRE)) >=
		       size) {
			if (__atomic_load_n(&r->stop, __ATOMIC_RELAXED))
				return NULL;
			sched_yield();
		}
		driver_add(f, n % size);
		if (driver_wants_kick(f, old_idx, f->avail_idx))
			race_kick(r);
	}
	return NULL;
}

static bool device_wait(struct race *r)
{
	struct timespec ts;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&r->lock);
	while (!r->kicks && !err)
		err = pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	r->kicks = 0;
	pthread_mutex_unlock(&r->lock);
	return !err;
}

static void run_race(struct fixture *f, bool event_idx)
{
	struct race r = {
		.f = f, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	unsigned int done = 0;
	pthread_t t;

	assert_int_equal(vq_setup(f, 8, event_idx, false), 0);
	for (u16 i = 0; i < 8; i++)
		set_desc(f, i, DATA_GPA, 4, 0, 0);
	assert_false(virtqueue_enable_notify(&f->vq, true));
	assert_int_equal(pthread_create(&t, NULL, race_driver, &r), 0);
	while (done < RACE_BUFFERS) {
		int ret;

		virtqueue_enable_notify(&f->vq, false);
		while ((ret = virtqueue_pop(&f->vq, &f->chain)) == 1) {
			assert_int_equal(f->chain.head, done % 8);
			virtqueue_push(&f->vq, f->chain.head, 0);
			done++;
		}
		assert_int_equal(ret, 0);
		if (done == RACE_BUFFERS || virtqueue_enable_notify(&f->vq, true))
			continue;
		if (!device_wait(&r))
			break;
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	assert_int_equal(done, RACE_BUFFERS);
}

static void test_enable_notify_race(void **state)
{
	run_race(*state, false);
}

static void test_enable_notify_race_event_idx(void **state)
{
	run_race(*state, true);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_simple_chain),
		T(test_out_in_split),
		T(test_zero_length_skipped),
		T(test_indirect_chain),
		T(test_event_idx_notify),
		T(test_no_interrupt_flag),
		T(test_enable_notify),
		T(test_not_started),
		T(test_bad_rings_at_start),
		T(test_descriptor_loop),
		T(test_descriptor_self_loop),
		T(test_chain_longer_than_size),
		T(test_chain_longer_than_max),
		T(test_chain_over_4gib),
		T(test_head_out_of_range),
		T(test_head_max),
		T(test_next_out_of_range),
		T(test_buffer_outside_ram),
		T(test_buffer_straddles_ram_end),
		T(test_buffer_addr_overflow),
		T(test_buffer_addr_overflow_to_zero),
		T(test_buffer_huge_len),
		T(test_writable_before_readable),
		T(test_writable_before_readable_indirect),
		T(test_nested_indirect),
		T(test_indirect_self_reference),
		T(test_indirect_not_negotiated),
		T(test_indirect_with_next),
		T(test_indirect_len_not_multiple),
		T(test_indirect_len_zero),
		T(test_indirect_len_huge),
		T(test_indirect_len_one_too_many),
		T(test_indirect_outside_ram),
		T(test_indirect_addr_overflow),
		T(test_indirect_next_out_of_range),
		T(test_indirect_loop),
		T(test_avail_idx_jump),
		T(test_avail_idx_backwards),
		T(test_wraparound),
		T(test_enable_notify_race),
		T(test_enable_notify_race_event_idx),
	};

	return cmocka_run_group_tests_name("virtqueue", tests, NULL, NULL);
}
