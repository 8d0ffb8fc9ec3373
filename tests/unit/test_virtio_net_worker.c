// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net's worker thread, started as the transport starts it. A guest that breaks
 * the device (NEEDS_RESET) and keeps kicking must not make the worker spin: it waits for
 * the reset like an idle device (issue 12, defect 1: it burnt a whole CPU).
 */
#include "virtio_net_fixture.h"

#include <sys/eventfd.h>
#include <time.h>

static u64 cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static void kick(int fd)
{
	u64 one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

static void test_broken_worker_waits(void **state)
{
	struct fixture *f = nic_setup(0, 0, QSIZE);
	struct virtio_dev *vdev = &f->n->vdev;
	const struct timespec idle = {.tv_nsec = 400 * 1000 * 1000};
	u64 gpas[2], before, used;

	(void)state;
	/* Back to how the transport hands it over: queues set up, kicks on eventfds. */
	virtio_net_deactivate(f->n);
	for (unsigned int q = 0; q < 2; q++) {
		vdev->queues[q].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(vdev->queues[q].kick_fd >= 0);
	}
	assert_int_equal(vdev->ops->start(vdev), 0);
	/* A transmit chain with a device-writable buffer: the device must ask for a reset. */
	add_chain(f, VIRTIO_NET_TXQ, 1, 1, (const u32[]){64, 64}, gpas);
	kick(vdev->queues[VIRTIO_NET_TXQ].kick_fd);
	for (int i = 0; i < 200 && !__atomic_load_n(&f->resets, __ATOMIC_ACQUIRE); i++)
		nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
	assert_int_equal(__atomic_load_n(&f->resets, __ATOMIC_ACQUIRE), 1);
	/* One more kick, then the guest idles. */
	kick(vdev->queues[VIRTIO_NET_TXQ].kick_fd);
	nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
	before = cpu_ns();
	nanosleep(&idle, NULL);
	used = cpu_ns() - before;
	vdev->ops->stop(vdev);
	for (unsigned int q = 0; q < 2; q++)
		close(vdev->queues[q].kick_fd);
	/* A spinning worker takes the whole interval; a waiting one next to nothing. */
	assert_true(used < (u64)idle.tv_nsec / 4);
	nic_teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broken_worker_waits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
