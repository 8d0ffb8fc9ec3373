// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net's worker thread, started as the transport starts it. A guest that breaks
 * the device (NEEDS_RESET) and keeps kicking must not make the worker spin: it waits for
 * the reset like an idle device (issue 12, defect 1: it burnt a whole CPU). Nor must a
 * worker whose rate limiters hold a packet each way, with the tap still readable.
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

static void start_worker(struct fixture *f)
{
	struct virtio_dev *vdev = &f->n->vdev;

	virtio_net_deactivate(f->n);
	for (unsigned int q = 0; q < 2; q++) {
		vdev->queues[q].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(vdev->queues[q].kick_fd >= 0);
	}
	assert_int_equal(vdev->ops->start(vdev), 0);
}

static void stop_worker(struct fixture *f)
{
	struct virtio_dev *vdev = &f->n->vdev;

	vdev->ops->stop(vdev);
	for (unsigned int q = 0; q < 2; q++)
		close(vdev->queues[q].kick_fd);
}

/* Waits up to a second for the worker's packet counters to reach rx and tx. */
static bool wait_counts(struct fixture *f, u64 rx, unsigned int tx, unsigned int *sent)
{
	for (int i = 0; i < 200; i++) {
		*sent += host_drain(f);
		if (__atomic_load_n(&f->n->rx_packets, __ATOMIC_ACQUIRE) == rx && *sent == tx)
			return true;
		nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
	}
	return false;
}

static void test_throttled_worker_sleeps(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_MRG_RXBUF), 0, QSIZE);
	const struct rl_config slow = {.ops = {.size = 1, .refill_ms = 100000}};
	const struct timespec idle = {.tv_nsec = 400 * 1000 * 1000};
	static u8 pkt[NET_HDR_LEN + 60];
	unsigned int sent = 0;
	u64 gpa, before, used;

	(void)state;
	start_worker(f);
	rate_limiter_set(&f->n->rx_rl, &slow, rate_limiter_now());
	rate_limiter_set(&f->n->tx_rl, &slow, rate_limiter_now());
	for (int i = 0; i < 4; i++)
		add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){2048}, &gpa);
	kick(f->n->vdev.queues[VIRTIO_NET_RXQ].kick_fd);
	/* Three packets in, two frames out: one each way passes, the rest wait. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(send(f->host_fd, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	for (int i = 0; i < 2; i++) {
		add_chain(f, VIRTIO_NET_TXQ, 1, 0, (const u32[]){sizeof(pkt)}, &gpa);
		memset(hva(f, gpa), 0, sizeof(pkt));
	}
	kick(f->n->vdev.queues[VIRTIO_NET_TXQ].kick_fd);
	assert_true(wait_counts(f, 1, 1, &sent));
	before = cpu_ns();
	nanosleep(&idle, NULL);
	used = cpu_ns() - before;
	assert_true(used < (u64)idle.tv_nsec / 4);
	assert_int_equal(__atomic_load_n(&f->n->rx_packets, __ATOMIC_ACQUIRE), 1);
	assert_int_equal(sent + host_drain(f), 1);
	/* New buckets (a PATCH) wake the worker: everything goes. */
	rate_limiter_set(&f->n->rx_rl, &(struct rl_config){0}, rate_limiter_now());
	rate_limiter_set(&f->n->tx_rl, &(struct rl_config){0}, rate_limiter_now());
	assert_true(wait_counts(f, 3, 2, &sent));
	stop_worker(f);
	assert_int_equal(f->resets, 0);
	nic_teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broken_worker_waits),
		cmocka_unit_test(test_throttled_worker_sleeps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
