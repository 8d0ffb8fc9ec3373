// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile rings against the split virtqueue: loops, chains too long, indices and
 * buffers out of range, broken indirect tables, avail indices that jump. Each must
 * break the queue (-EIO) without touching memory outside guest RAM.
 */
#include <errno.h>

#include "virtqueue_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	return cmocka_run_group_tests_name("virtqueue_hostile", tests, NULL, NULL);
}
