// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk's worker thread against a driver on this thread that kicks and waits for
 * interrupts exactly as the ring tells it to (EVENT_IDX or the flags), with the worker
 * polling a dry ring (blk_poll.c) and without. A lost kick or a lost interrupt leaves a
 * request unanswered, and the driver's wait times out: the test fails instead of hanging.
 * Once the driver goes quiet the worker must sleep, not spin; so must a worker whose
 * rate limiter holds a request back.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <time.h>
#include <linux/virtio_ring.h>

#include "util/log.h"
#include "virtio_blk_fixture.h"

#define SLOTS	  48 /* requests in flight at most: three descriptors each */
#define REQUESTS  20000u
#define WAIT_SECS 5

struct drv {
	struct guest_memory mem;
	struct virtio_blk *b;
	char path[64];
	u16 avail_idx, last_used;
	unsigned int free_slots[SLOTS], nr_free;
	unsigned int seed;
	/* The "interrupt line": raised by the notify hook, on the worker's thread. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int irqs;
	unsigned int kicks;
};

static struct drv *the_drv; /* the notify hook's way back */

static void *hva(struct drv *d, u64 gpa)
{
	void *p = gpa_to_hva(&d->mem, gpa, 1);

	assert_non_null(p);
	return p;
}

static struct virtqueue *vq_of(struct drv *d)
{
	return &d->b->vdev.queues[0].vq;
}

static struct vring_avail *avail(struct drv *d)
{
	return hva(d, AVAIL_GPA);
}

static struct vring_used *used(struct drv *d)
{
	return hva(d, USED_GPA);
}

/* Slot s: a header, 512 bytes of data and a status byte at fixed places. */
static u64 slot_hdr(unsigned int s)
{
	return BUF_GPA + s * 1024ULL;
}

static u64 slot_data(unsigned int s)
{
	return slot_hdr(s) + 512;
}

static u64 slot_status(unsigned int s)
{
	return slot_hdr(s) + 16;
}

/* What the transport does: decide from the ring, then raise the interrupt. */
static void test_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct drv *d = the_drv;

	if (!virtqueue_should_notify(&vdev->queues[q].vq))
		return;
	pthread_mutex_lock(&d->lock);
	d->irqs++;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static void test_needs_reset(struct virtio_dev *vdev, const char *why)
{
	(void)vdev;
	fail_msg("the worker asked for a reset: %s", why);
}

/* opts: more --disk options after the path ("" or ",ops=..."). */
static void drv_start_opts(struct drv *d, bool event_idx, u64 poll_ns, const char *opts)
{
	struct virtio_dev *vdev;
	struct blk_options o;
	char arg[128], err[160];

	snprintf(arg, sizeof(arg), "%s%s", d->path, opts);
	assert_int_equal(virtio_blk_parse_option(arg, &o), 0);
	d->b = calloc(1, sizeof(*d->b));
	assert_int_equal(virtio_blk_init(d->b, &o, BLOCK_BACKEND_AUTO, err, sizeof(err)), 0);
	vdev = &d->b->vdev;
	d->b->vdev.notify = test_notify;
	d->b->vdev.set_needs_reset = test_needs_reset;
	d->b->poll.max_ns = poll_ns;
	vdev->driver_features = vdev->device_features;
	if (!event_idx)
		vdev->driver_features &= ~BIT(VIRTIO_RING_F_EVENT_IDX);
	blk_ring_start(vq_of(d), &d->mem, event_idx);
	vdev->queues[0].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(vdev->queues[0].kick_fd >= 0);
	d->avail_idx = d->last_used = 0;
	d->nr_free = SLOTS;
	for (unsigned int s = 0; s < SLOTS; s++)
		d->free_slots[s] = s;
	assert_int_equal(vdev->ops->start(vdev), 0);
}

static void drv_start(struct drv *d, bool event_idx, u64 poll_ns)
{
	drv_start_opts(d, event_idx, poll_ns, "");
}

static void drv_stop(struct drv *d)
{
	struct virtio_dev *vdev = &d->b->vdev;

	vdev->ops->stop(vdev);
	close(vdev->queues[0].kick_fd);
	virtio_blk_fini(d->b);
	free(d->b);
	d->b = NULL;
}

/* The driver's kick decision (virtio spec, "Available Buffer Notification Suppression"). */
static void maybe_kick(struct drv *d, u16 old_idx)
{
	u16 new_idx = d->avail_idx;
	bool kick;
	u64 one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq_of(d)->event_idx) {
		u16 ev = __atomic_load_n((u16 *)&used(d)->ring[QSIZE], __ATOMIC_RELAXED);

		kick = (u16)(new_idx - ev - 1) < (u16)(new_idx - old_idx);
	} else {
		kick = !(__atomic_load_n(&used(d)->flags, __ATOMIC_RELAXED) &
			 VRING_USED_F_NO_NOTIFY);
	}
	if (kick) {
		assert_int_equal(write(d->b->vdev.queues[0].kick_fd, &one, 8), 8);
		d->kicks++;
	}
}

/* Posts a read of sector s (one per slot) in slot s's three descriptors. */
static void post_read(struct drv *d, unsigned int s)
{
	struct virtio_blk_outhdr h = {.type = htole32(VIRTIO_BLK_T_IN), .sector = htole64(s)};
	struct vring_desc *desc = hva(d, DESC_GPA);
	u16 i = (u16)(3 * s);

	memcpy(hva(d, slot_hdr(s)), &h, sizeof(h));
	*(u8 *)hva(d, slot_status(s)) = 0xee;
	memset(hva(d, slot_data(s)), 0, 512);
	desc[i] = (struct vring_desc){slot_hdr(s), 16, VRING_DESC_F_NEXT, (u16)(i + 1)};
	desc[i + 1] = (struct vring_desc){slot_data(s), 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
					  (u16)(i + 2)};
	desc[i + 2] = (struct vring_desc){slot_status(s), 1, VRING_DESC_F_WRITE, 0};
	avail(d)->ring[d->avail_idx % QSIZE] = i;
	d->avail_idx++;
	__atomic_store_n(&avail(d)->idx, d->avail_idx, __ATOMIC_RELEASE);
}

/* Takes the used entries: every read must be complete and right. Returns how many. */
static unsigned int reap(struct drv *d)
{
	u16 idx = __atomic_load_n(&used(d)->idx, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	for (; d->last_used != idx; d->last_used++, n++) {
		struct vring_used_elem *e = &used(d)->ring[d->last_used % QSIZE];
		unsigned int s = e->id / 3;

		assert_true(e->id % 3 == 0 && s < SLOTS);
		assert_int_equal(e->len, 513);
		assert_int_equal(*(u8 *)hva(d, slot_status(s)), VIRTIO_BLK_S_OK);
		assert_int_equal(((u8 *)hva(d, slot_data(s)))[511], (u8)(s + 1));
		d->free_slots[d->nr_free++] = s;
	}
	return n;
}

/*
 * Asks for an interrupt as Linux's virtqueue_enable_cb() does, then sleeps until one
 * comes unless completions are already there. False if none came within WAIT_SECS.
 */
static bool wait_completions(struct drv *d)
{
	unsigned int seen;
	struct timespec ts;
	int err = 0;

	pthread_mutex_lock(&d->lock);
	seen = d->irqs;
	pthread_mutex_unlock(&d->lock);
	if (vq_of(d)->event_idx)
		__atomic_store_n(&avail(d)->ring[QSIZE], d->last_used, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&avail(d)->flags, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&used(d)->idx, __ATOMIC_ACQUIRE) != d->last_used)
		return true;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_SECS;
	pthread_mutex_lock(&d->lock);
	while (d->irqs == seen && !err)
		err = pthread_cond_timedwait(&d->cond, &d->lock, &ts);
	pthread_mutex_unlock(&d->lock);
	return !err;
}

static void short_pause(struct drv *d)
{
	/* Now and then long enough for the worker to stop polling and sleep. */
	long ns = rand_r(&d->seed) % 8 == 0 ? 200000 : rand_r(&d->seed) % 20000;

	nanosleep(&(struct timespec){.tv_nsec = ns}, NULL);
}

/* Bursts of reads of random size, pauses between them; every read must come back. */
static void run_load(struct drv *d)
{
	unsigned int posted = 0, done = 0;

	while (done < REQUESTS) {
		unsigned int burst = 1 + (unsigned int)rand_r(&d->seed) % SLOTS;
		u16 old_idx = d->avail_idx;

		while (burst-- && d->nr_free && posted < REQUESTS) {
			post_read(d, d->free_slots[--d->nr_free]);
			posted++;
			/* Linux kicks per request, or once per batch: both happen. */
			if (rand_r(&d->seed) % 2) {
				maybe_kick(d, old_idx);
				old_idx = d->avail_idx;
			}
		}
		if (old_idx != d->avail_idx)
			maybe_kick(d, old_idx);
		if (rand_r(&d->seed) % 4 == 0)
			short_pause(d);
		done += reap(d);
		/* Full, at the end, or at random: sleep until an interrupt says "done". */
		if (posted > done && (!d->nr_free || posted == REQUESTS || rand_r(&d->seed) % 2)) {
			if (!wait_completions(d))
				fail_msg("no interrupt for %u reads in flight after %u done "
					 "(a lost kick or interrupt)",
					 posted - done, done);
			done += reap(d);
		}
		/* Like Linux between interrupts: callbacks off while it works. */
		if (vq_of(d)->event_idx)
			__atomic_store_n(&avail(d)->ring[QSIZE], (u16)(d->last_used - 1),
					 __ATOMIC_RELAXED);
		else
			__atomic_store_n(&avail(d)->flags, VRING_AVAIL_F_NO_INTERRUPT,
					 __ATOMIC_RELAXED);
	}
}

static u64 cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static void check_worker_sleeps(void)
{
	const struct timespec idle = {.tv_nsec = 300 * 1000 * 1000};
	u64 before;

	nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
	before = cpu_ns();
	nanosleep(&idle, NULL);
	/* A spinning worker takes the whole interval; a sleeping one next to nothing. */
	assert_true(cpu_ns() - before < (u64)idle.tv_nsec / 4);
}

static void run(void **state, bool event_idx, u64 poll_ns)
{
	struct drv *d = *state;

	drv_start(d, event_idx, poll_ns);
	run_load(d);
	check_worker_sleeps();
	assert_int_equal(d->nr_free, SLOTS);
	drv_stop(d);
}

static void test_event_idx_polling(void **state)
{
	run(state, true, BLK_POLL_MAX_NS_DEFAULT);
}

static void test_event_idx_long_poll(void **state)
{
	run(state, true, BLK_POLL_MAX_US * 1000ull);
}

static void test_event_idx_no_polling(void **state)
{
	run(state, true, 0);
}

static void test_flags_polling(void **state)
{
	run(state, false, BLK_POLL_MAX_NS_DEFAULT);
}

static void test_flags_no_polling(void **state)
{
	run(state, false, 0);
}

static u64 wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

/* Posts reads in slots 0 to n - 1 and kicks as the ring says. */
static void post_reads(struct drv *d, unsigned int n)
{
	u16 old_idx = d->avail_idx;

	for (unsigned int i = 0; i < n; i++)
		post_read(d, d->free_slots[--d->nr_free]);
	maybe_kick(d, old_idx);
}

/*
 * A bandwidth limit of 512 bytes per 50 ms: ten 512-byte reads take at least 450 ms
 * (the first fits the full bucket), and while a read waits its turn the worker sleeps
 * on its timer instead of spinning.
 */
static void test_throttled_worker_sleeps(void **state)
{
	struct drv *d = *state;
	unsigned int done = 0;
	u64 t0, c0, wall, cpu;

	drv_start_opts(d, true, BLK_POLL_MAX_NS_DEFAULT, ",bw=512:50");
	t0 = wall_ns();
	c0 = cpu_ns();
	post_reads(d, 10);
	while (done < 10) {
		if (!wait_completions(d))
			fail_msg("a throttled read never completed (%u of 10 done)", done);
		done += reap(d);
	}
	wall = wall_ns() - t0;
	cpu = cpu_ns() - c0;
	assert_true(wall >= 400 * 1000 * 1000ull);
	assert_true(wall < 3000 * 1000 * 1000ull);
	/* Sleeping between the reads: a spinning worker would burn the whole wait. */
	assert_true(cpu < wall / 4);
	drv_stop(d);
}

/*
 * One request per 100 s: the second read waits, the worker sleeps, and replacing the
 * buckets (the API's PATCH) lets the read go at once.
 */
static void test_new_limiter_wakes_worker(void **state)
{
	struct drv *d = *state;
	unsigned int done = 0;
	u64 c0;

	drv_start_opts(d, false, 0, ",ops=1:100000");
	post_reads(d, 2);
	while (!done) {
		assert_true(wait_completions(d));
		done += reap(d);
	}
	assert_int_equal(done, 1);
	c0 = cpu_ns();
	nanosleep(&(struct timespec){.tv_nsec = 200 * 1000 * 1000}, NULL);
	assert_int_equal(reap(d), 0);
	assert_true(cpu_ns() - c0 < 50 * 1000 * 1000ull);
	rate_limiter_set(&d->b->rl, &(struct rl_config){0}, rate_limiter_now());
	assert_true(wait_completions(d));
	assert_int_equal(reap(d), 1);
	drv_stop(d);
}

static int drv_setup(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));
	u8 sector[512];
	int fd;

	if (!d)
		return -1;
	log_level = LOG_ERR;
	if (guest_memory_layout(&d->mem, RAM_SIZE, 3 * GiB) || guest_memory_alloc(&d->mem))
		return -1;
	make_file(d->path, DISK_SIZE);
	/* Sector s holds s + 1 everywhere: a read that landed elsewhere shows. */
	fd = open(d->path, O_RDWR);
	for (unsigned int s = 0; s < SLOTS; s++) {
		memset(sector, (int)(s + 1), sizeof(sector));
		if (pwrite(fd, sector, sizeof(sector), (off_t)s * 512) != 512)
			return -1;
	}
	close(fd);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->seed = 12345;
	the_drv = d;
	*state = d;
	return 0;
}

static int drv_teardown(void **state)
{
	struct drv *d = *state;

	if (d->b)
		drv_stop(d);
	unlink(d->path);
	guest_memory_free(&d->mem);
	free(d);
	return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, drv_setup, drv_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_event_idx_polling),	  T(test_event_idx_long_poll),
		T(test_event_idx_no_polling),	  T(test_flags_polling),
		T(test_flags_no_polling),	  T(test_throttled_worker_sleeps),
		T(test_new_limiter_wakes_worker),
	};

	return cmocka_run_group_tests_name("virtio_blk_worker", tests, NULL, NULL);
}
