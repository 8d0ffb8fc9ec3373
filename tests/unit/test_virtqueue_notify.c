// SPDX-License-Identifier: GPL-2.0-only
/*
 * Notification decisions of the split virtqueue: used_event and NO_INTERRUPT for
 * interrupts, avail_event and NO_NOTIFY for kicks, and a real driver thread racing
 * the device to catch lost wakeups.
 */
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "virtqueue_fixture.h"

static void set_used_event(struct fixture *f, u16 v)
{
	avail(f)->ring[f->vq.size] = v;
}

static u16 get_avail_event(struct fixture *f)
{
	return *(u16 *)&used(f)->ring[f->vq.size];
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_event_idx_notify),
		T(test_no_interrupt_flag),
		T(test_enable_notify),
		T(test_enable_notify_race),
		T(test_enable_notify_race_event_idx),
	};

	return cmocka_run_group_tests_name("virtqueue_notify", tests, NULL, NULL);
}
