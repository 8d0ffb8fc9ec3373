// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-balloon without KVM or threads: --balloon parsing, the offered features and
 * config, inflate (the pages' host memory is dropped: they read back as zeros), deflate,
 * the statistics buffer held and returned, and a hostile driver (page numbers outside
 * RAM, a huge chain, unknown statistics tags, a broken ring). The test plays the driver:
 * it writes descriptors and the available ring itself, in real anonymous guest memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/balloon.h"
#include "util/log.h"
#include "vm.h"

#define MEM_SIZE  (16 * MiB)
#define RING_GPA  0x1000 /* queue q's rings at RING_GPA + q * RING_STEP */
#define RING_STEP 0x8000
#define BUF_GPA	  0x40000  /* PFN lists and statistics from here on */
#define PAGE_GPA  0x200000 /* the pages the driver inflates */
#define QSIZE	  8

struct fixture {
	struct vm vm;
	struct virtio_balloon b;
	u16 avail_idx[VIRTIO_BALLOON_QUEUES];
	unsigned int notified[VIRTIO_BALLOON_QUEUES];
	bool reset;
};

static struct fixture *cur;

static void hook_notify(struct virtio_dev *vdev, unsigned int q)
{
	(void)vdev;
	assert_true(q < VIRTIO_BALLOON_QUEUES);
	cur->notified[q]++;
}

static void hook_reset(struct virtio_dev *vdev, const char *why)
{
	(void)vdev;
	(void)why;
	cur->reset = true;
}

static void *hva(struct fixture *f, u64 gpa)
{
	void *p = gpa_to_hva(&f->vm.mem, gpa, 1);

	assert_non_null(p);
	return p;
}

static u64 ring(unsigned int q)
{
	return RING_GPA + (u64)q * RING_STEP;
}

static void start_queue(struct fixture *f, unsigned int q)
{
	struct virtqueue *vq = &f->b.vdev.queues[q].vq;

	virtqueue_reset(vq, &f->vm.mem);
	vq->size = QSIZE;
	vq->event_idx = true; /* as Linux negotiates it */
	vq->desc_gpa = ring(q);
	vq->avail_gpa = ring(q) + 16 * QSIZE;
	vq->used_gpa = ring(q) + 0x1000;
	vq->ready = true;
	assert_int_equal(virtqueue_start(vq), 0);
}

static struct fixture *setup_opts(const char *opts)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct balloon_options o;
	char err[160];

	assert_non_null(f);
	cur = f;
	assert_int_equal(guest_memory_layout(&f->vm.mem, MEM_SIZE, 3 * GiB), 0);
	assert_int_equal(guest_memory_alloc(&f->vm.mem), 0);
	assert_int_equal(balloon_parse_options(opts, &o, err, sizeof(err)), 0);
	assert_int_equal(virtio_balloon_init(&f->b, &o), 0);
	f->b.vdev.vm = &f->vm;
	f->b.vdev.notify = hook_notify;
	f->b.vdev.set_needs_reset = hook_reset;
	f->b.vdev.driver_features = f->b.vdev.device_features;
	for (unsigned int q = 0; q < VIRTIO_BALLOON_QUEUES; q++)
		start_queue(f, q);
	virtio_balloon_activate(&f->b);
	return f;
}

static void teardown(struct fixture *f)
{
	virtio_balloon_cleanup(&f->b);
	guest_memory_free(&f->vm.mem);
	free(f);
}

/* One chain of one device-readable buffer at gpa, len bytes, on queue q. */
static void driver_add(struct fixture *f, unsigned int q, u16 desc, u64 gpa, u32 len)
{
	struct vring_desc d = {.addr = gpa, .len = len};
	struct vring_avail *av = hva(f, ring(q) + 16 * QSIZE);

	assert_true(guest_write(&f->vm.mem, ring(q) + 16ULL * desc, &d, sizeof(d)));
	av->ring[f->avail_idx[q] % QSIZE] = desc;
	f->avail_idx[q]++;
	__atomic_store_n(&av->idx, f->avail_idx[q], __ATOMIC_RELEASE);
}

static u16 used_idx(struct fixture *f, unsigned int q)
{
	struct vring_used *u = hva(f, ring(q) + 0x1000);

	return __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);
}

static void put_pfns(struct fixture *f, u64 gpa, const u32 *pfns, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		u32 le = htole32(pfns[i]);

		assert_true(guest_write(&f->vm.mem, gpa + 4ULL * i, &le, 4));
	}
}

static void put_stat(struct fixture *f, u64 gpa, unsigned int i, u16 tag, u64 val)
{
	u8 e[10];
	u16 t = htole16(tag);
	u64 v = htole64(val);

	memcpy(e, &t, 2);
	memcpy(e + 2, &v, 8);
	assert_true(guest_write(&f->vm.mem, gpa + 10ULL * i, e, sizeof(e)));
}

/* ---- Options ---- */

static void parse_bad(const char *s, const char *why)
{
	struct balloon_options o;
	char err[160] = "";

	assert_int_equal(balloon_parse_options(s, &o, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("'%s': error '%s' does not mention '%s'", s, err, why);
}

static void test_parse(void **state)
{
	struct balloon_options o;
	char err[160];

	(void)state;
	assert_int_equal(balloon_parse_options(NULL, &o, err, sizeof(err)), 0);
	assert_int_equal(o.amount_mib, 0);
	assert_false(o.deflate_on_oom);
	assert_int_equal(o.stats_interval_s, 0);
	assert_int_equal(balloon_parse_options("", &o, err, sizeof(err)), 0);
	assert_int_equal(
		balloon_parse_options("amount_mib=64,deflate_on_oom=on,stats=5", &o, err, 160), 0);
	assert_int_equal(o.amount_mib, 64);
	assert_true(o.deflate_on_oom);
	assert_int_equal(o.stats_interval_s, 5);
	assert_int_equal(balloon_parse_options("deflate_on_oom=off", &o, err, 160), 0);
	assert_false(o.deflate_on_oom);
	parse_bad("size=3", "unknown key 'size'");
	parse_bad("amount_mib=", "amount_mib= needs a number");
	parse_bad("amount_mib=-1", "needs a number");
	parse_bad("amount_mib=99999999999", "needs a number");
	parse_bad("stats=3601", "stats= needs a number from 0 to 3600");
	parse_bad("deflate_on_oom=yes", "on or off");
	parse_bad("amount_mib=1,", "unknown key ''");
}

static void test_features_and_config(void **state)
{
	struct fixture *f = setup_opts("amount_mib=3,deflate_on_oom=on,stats=2");
	struct balloon_info info;
	u32 actual = htole32(77), target = htole32(5);

	(void)state;
	assert_true(f->b.vdev.device_features & BIT(VIRTIO_BALLOON_F_STATS_VQ));
	assert_true(f->b.vdev.device_features & BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	assert_false(f->b.vdev.device_features & BIT(VIRTIO_BALLOON_F_MUST_TELL_HOST));
	assert_false(f->b.vdev.device_features & BIT(VIRTIO_BALLOON_F_FREE_PAGE_HINT));
	assert_int_equal(f->b.vdev.config_size, 8);
	virtio_balloon_info(&f->b, &info);
	assert_int_equal(info.target_pages, 3 * 256);
	assert_int_equal(info.actual_pages, 0);
	/* The driver writes actual; its writes to num_pages are ignored. */
	virtio_balloon_config_write(&f->b.vdev, 4, (u8 *)&actual, 4);
	virtio_balloon_config_write(&f->b.vdev, 0, (u8 *)&target, 4);
	/* A write across both: its bytes 2 and 3 land in actual's low half. */
	virtio_balloon_config_write(&f->b.vdev, 2, (const u8[]){1, 2, 3, 4}, 4);
	virtio_balloon_info(&f->b, &info);
	assert_int_equal(info.target_pages, 3 * 256);
	assert_int_equal(info.actual_pages, 0x0403);
	virtio_balloon_set_target(&f->b, 10);
	virtio_balloon_info(&f->b, &info);
	assert_int_equal(info.target_pages, 2560);
	assert_int_equal(virtio_balloon_set_interval(&f->b, 0), -EINVAL);
	assert_int_equal(virtio_balloon_set_interval(&f->b, 3601), -EINVAL);
	assert_int_equal(virtio_balloon_set_interval(&f->b, 7), 0);
	virtio_balloon_info(&f->b, &info);
	assert_int_equal(info.stats_interval_s, 7);
	teardown(f);

	f = setup_opts("");
	assert_false(f->b.vdev.device_features & BIT(VIRTIO_BALLOON_F_STATS_VQ));
	assert_false(f->b.vdev.device_features & BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	/* Statistics cannot be turned on after creation. */
	assert_int_equal(virtio_balloon_set_interval(&f->b, 1), -EINVAL);
	teardown(f);
}

static void test_inflate_drops_pages(void **state)
{
	struct fixture *f = setup_opts("amount_mib=1");
	u32 first = PAGE_GPA >> 12;
	u32 pfns[] = {first, first + 1, 0xffffffff, first + 3, MEM_SIZE >> 12};
	u8 *page = hva(f, PAGE_GPA);

	(void)state;
	memset(page, 0xab, 4 * BALLOON_PAGE_SIZE);
	put_pfns(f, BUF_GPA, pfns, ARRAY_SIZE(pfns));
	driver_add(f, VIRTIO_BALLOON_INFLATEQ, 0, BUF_GPA, sizeof(pfns));
	assert_false(virtio_balloon_pages(&f->b, VIRTIO_BALLOON_INFLATEQ));
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_INFLATEQ), 1);
	assert_int_equal(f->notified[VIRTIO_BALLOON_INFLATEQ], 1);
	assert_int_equal(f->b.inflated, 3);
	assert_int_equal(f->b.bad_pfns, 2);
	/* Pages 0, 1 and 3 were given back (zeros now); page 2 kept its bytes. */
	assert_int_equal(page[0], 0);
	assert_int_equal(page[2 * BALLOON_PAGE_SIZE - 1], 0);
	assert_int_equal(page[2 * BALLOON_PAGE_SIZE], 0xab);
	assert_int_equal(page[3 * BALLOON_PAGE_SIZE + 5], 0);
	assert_false(f->reset);
	teardown(f);
}

static void test_deflate_keeps_pages(void **state)
{
	struct fixture *f = setup_opts(NULL);
	u32 pfns[] = {PAGE_GPA >> 12};
	u8 *page = hva(f, PAGE_GPA);

	(void)state;
	page[0] = 0x5a;
	put_pfns(f, BUF_GPA, pfns, 1);
	driver_add(f, VIRTIO_BALLOON_DEFLATEQ, 0, BUF_GPA, 4);
	virtio_balloon_pages(&f->b, VIRTIO_BALLOON_DEFLATEQ);
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_DEFLATEQ), 1);
	assert_int_equal(f->b.deflated, 1);
	assert_int_equal(f->b.inflated, 0);
	assert_int_equal(page[0], 0x5a);
	teardown(f);
}

/* A chain far longer than any driver sends: a bounded number of PFNs is looked at. */
static void test_huge_chain_bounded(void **state)
{
	struct fixture *f = setup_opts(NULL);
	u32 len = 8 * MiB; /* two million page numbers, all zero: page 0 again and again */

	(void)state;
	driver_add(f, VIRTIO_BALLOON_INFLATEQ, 0, 0x100000, len);
	virtio_balloon_pages(&f->b, VIRTIO_BALLOON_INFLATEQ);
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_INFLATEQ), 1);
	assert_int_equal(f->b.inflated, BALLOON_MAX_PFNS);
	teardown(f);
}

static void test_broken_ring(void **state)
{
	struct fixture *f = setup_opts(NULL);
	struct vring_avail *av = hva(f, ring(0) + 16 * QSIZE);

	(void)state;
	/* A head index past the queue's size. */
	av->ring[0] = QSIZE + 3;
	__atomic_store_n(&av->idx, 1, __ATOMIC_RELEASE);
	virtio_balloon_pages(&f->b, VIRTIO_BALLOON_INFLATEQ);
	assert_true(f->reset);
	assert_true(f->b.vdev.broken);
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_INFLATEQ), 0);
	/* Nothing is served until the reset, on any queue. */
	driver_add(f, VIRTIO_BALLOON_DEFLATEQ, 0, BUF_GPA, 4);
	virtio_balloon_pages(&f->b, VIRTIO_BALLOON_DEFLATEQ);
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_DEFLATEQ), 0);
	virtio_balloon_deactivate(&f->b);
	start_queue(f, VIRTIO_BALLOON_DEFLATEQ);
	virtio_balloon_activate(&f->b);
	virtio_balloon_pages(&f->b, VIRTIO_BALLOON_DEFLATEQ);
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_DEFLATEQ), 1);
	teardown(f);
}

static void test_stats_held_and_returned(void **state)
{
	struct fixture *f = setup_opts("stats=1");
	struct balloon_info info;

	(void)state;
	put_stat(f, BUF_GPA, 0, VIRTIO_BALLOON_S_MEMFREE, 1234);
	put_stat(f, BUF_GPA, 1, 999, 5); /* unknown: ignored */
	put_stat(f, BUF_GPA, 2, VIRTIO_BALLOON_S_MEMTOT, 4096);
	put_stat(f, BUF_GPA, 3, 15, 9); /* direct_reclaim, the highest tag kept */
	driver_add(f, VIRTIO_BALLOON_STATSQ, 0, BUF_GPA, 4 * 10 + 3);
	virtio_balloon_stats_in(&f->b);
	/* Held, not returned: the driver waits for the poll. */
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_STATSQ), 0);
	/* avail_event (after the used ring) asks for a kick at the driver's next buffer. */
	assert_int_equal(*(u16 *)&((struct vring_used *)hva(f, ring(2) + 0x1000))->ring[QSIZE], 1);
	virtio_balloon_info(&f->b, &info);
	assert_int_equal(info.stats_valid,
			 BIT(VIRTIO_BALLOON_S_MEMFREE) | BIT(VIRTIO_BALLOON_S_MEMTOT) | BIT(15));
	assert_int_equal(info.stats[VIRTIO_BALLOON_S_MEMFREE], 1234);
	assert_int_equal(info.stats[VIRTIO_BALLOON_S_MEMTOT], 4096);
	virtio_balloon_stats_poll(&f->b);
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_STATSQ), 1);
	assert_int_equal(f->notified[VIRTIO_BALLOON_STATSQ], 1);
	/* Nothing held: a second poll returns nothing twice. */
	virtio_balloon_stats_poll(&f->b);
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_STATSQ), 1);
	/* The driver refills and queues it again, then a second one: the first goes back. */
	put_stat(f, BUF_GPA, 0, VIRTIO_BALLOON_S_MEMFREE, 99);
	driver_add(f, VIRTIO_BALLOON_STATSQ, 0, BUF_GPA, 10);
	driver_add(f, VIRTIO_BALLOON_STATSQ, 1, BUF_GPA, 10);
	virtio_balloon_stats_in(&f->b);
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_STATSQ), 2);
	virtio_balloon_info(&f->b, &info);
	assert_int_equal(info.stats[VIRTIO_BALLOON_S_MEMFREE], 99);
	/* A stop (pause, reset) gives the held buffer back, once. */
	virtio_balloon_deactivate(&f->b);
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_STATSQ), 3);
	virtio_balloon_activate(&f->b);
	virtio_balloon_stats_poll(&f->b);
	virtio_balloon_deactivate(&f->b);
	assert_int_equal(used_idx(f, VIRTIO_BALLOON_STATSQ), 3);
	assert_false(f->reset);
	teardown(f);
}

/* A queue the driver did not enable is left alone. */
static void test_queue_not_ready(void **state)
{
	struct fixture *f = setup_opts(NULL);

	(void)state;
	driver_add(f, VIRTIO_BALLOON_INFLATEQ, 0, BUF_GPA, 4);
	f->b.vdev.queues[VIRTIO_BALLOON_INFLATEQ].vq.ready = false;
	virtio_balloon_pages(&f->b, VIRTIO_BALLOON_INFLATEQ);
	f->b.vdev.queues[VIRTIO_BALLOON_STATSQ].vq.ready = false;
	virtio_balloon_stats_in(&f->b);
	assert_int_equal(f->b.inflated + f->b.bad_pfns, 0);
	assert_false(f->b.stats_held);
	teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_features_and_config),
		cmocka_unit_test(test_inflate_drops_pages),
		cmocka_unit_test(test_deflate_keeps_pages),
		cmocka_unit_test(test_huge_chain_bounded),
		cmocka_unit_test(test_broken_ring),
		cmocka_unit_test(test_stats_held_and_returned),
		cmocka_unit_test(test_queue_not_ready),
	};

	log_level = LOG_ERR; /* the hostile cases would log warnings */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
