// SPDX-License-Identifier: GPL-2.0-only
/*
 * The split virtqueue with a well-behaved driver: chains direct and indirect, split
 * into what the device reads and writes, ring checks at start, and indices that wrap.
 */
#include <errno.h>

#include "virtqueue_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_simple_chain),	T(test_out_in_split), T(test_zero_length_skipped),
		T(test_indirect_chain), T(test_not_started),  T(test_bad_rings_at_start),
		T(test_wraparound),
	};

	return cmocka_run_group_tests_name("virtqueue_chains", tests, NULL, NULL);
}
