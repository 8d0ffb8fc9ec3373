// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net's rate limiters (net_worker.c) on the frame paths, without the worker: a
 * transmit chain over the limit goes back on the ring and its timer is armed; a received
 * packet over the limit waits in the device (not dropped, not charged twice) and its
 * timer is armed; new buckets let both through. --net's bucket options parse, and
 * vhost=on with a limit is refused.
 */
#include <errno.h>
#include <sys/timerfd.h>

#include "util/log.h"
#include "util/thread.h"
#include "virtio_net_fixture.h"

static const struct rl_config one_op_per_100s = {.ops = {.size = 1, .refill_ms = 100000}};

static bool timer_armed(int fd)
{
	struct itimerspec its;

	assert_int_equal(timerfd_gettime(fd, &its), 0);
	return its.it_value.tv_sec || its.it_value.tv_nsec;
}

/* A 60-byte frame behind a zero header in chain q's single buffer. */
static void add_tx_frame(struct fixture *f)
{
	struct virtio_net_hdr_v1 h = hdr_of(0, 0, 0, 0, 0);
	u64 gpa;

	add_chain(f, VIRTIO_NET_TXQ, 1, 0, (const u32[]){NET_HDR_LEN + 60}, &gpa);
	memcpy(hva(f, gpa), &h, sizeof(h));
	fill((u8 *)hva(f, gpa) + NET_HDR_LEN, 60, 1);
}

static void test_tx_throttled_chain_goes_back(void **state)
{
	struct fixture *f = nic_setup(0, 0, QSIZE);
	struct virtqueue *vq = &f->n->vdev.queues[VIRTIO_NET_TXQ].vq;

	(void)state;
	rate_limiter_set(&f->n->tx_rl, &one_op_per_100s, rate_limiter_now());
	/* rate_limiter_set wakes the worker: let that expire first. */
	usleep(1000);
	assert_true(eventfd_drain(f->n->tx_timer));
	for (int i = 0; i < 3; i++)
		add_tx_frame(f);
	virtio_net_tx(f->n);
	assert_int_equal(host_drain(f), 1);
	assert_true(f->n->tx_throttled);
	assert_int_equal(vq->last_avail, 1); /* the second chain is back on the ring */
	assert_true(timer_armed(f->n->tx_timer));
	/* Still over the limit: nothing more, nothing charged twice. */
	virtio_net_tx(f->n);
	assert_int_equal(host_drain(f), 0);
	assert_int_equal(vq->last_avail, 1);
	/* New buckets (a PATCH): both go. */
	rate_limiter_set(&f->n->tx_rl, &(struct rl_config){0}, rate_limiter_now());
	virtio_net_tx(f->n);
	assert_int_equal(host_drain(f), 2);
	assert_false(f->n->tx_throttled);
	assert_int_equal(f->n->tx_packets, 3);
	assert_int_equal(f->resets, 0);
	nic_teardown(f);
}

static void host_send(struct fixture *f, size_t frame_len)
{
	static u8 pkt[2048];

	memset(pkt, 0, NET_HDR_LEN);
	fill(pkt + NET_HDR_LEN, frame_len, 2);
	assert_int_equal(send(f->host_fd, pkt, NET_HDR_LEN + frame_len, 0),
			 (ssize_t)(NET_HDR_LEN + frame_len));
}

static void test_rx_throttled_packet_waits(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_MRG_RXBUF), 0, QSIZE);
	struct rl_config bw100 = {.bw = {.size = 100, .refill_ms = 100000}};
	u64 gpa;
	u16 uh;
	u32 ulen;

	(void)state;
	rate_limiter_set(&f->n->rx_rl, &bw100, rate_limiter_now());
	for (int i = 0; i < 4; i++)
		add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){2048}, &gpa);
	host_send(f, 60);
	host_send(f, 60);
	host_send(f, 60);
	virtio_net_rx(f->n);
	/* 60 of 100 bytes, then 60 more do not fit: the second waits in the device. */
	assert_int_equal(f->n->rx_packets, 1);
	assert_true(f->n->rx_throttled);
	assert_int_equal(f->n->rx_len, NET_HDR_LEN + 60);
	assert_true(timer_armed(f->n->rx_timer));
	assert_int_equal(f->n->rx_dropped, 0);
	rate_limiter_set(&f->n->rx_rl, &(struct rl_config){0}, rate_limiter_now());
	f->n->rx_throttled = false; /* what the worker does when the timer fires */
	virtio_net_rx(f->n);
	assert_int_equal(f->n->rx_packets, 3);
	assert_int_equal(f->n->rx_dropped, 0);
	for (int i = 0; i < 3; i++) {
		assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
		assert_int_equal(ulen, NET_HDR_LEN + 60);
	}
	nic_teardown(f);
}

static void test_options(void **state)
{
	struct net_options o;
	char err[160];

	(void)state;
	assert_int_equal(
		net_parse_options("user,rx-bw=1000:10,tx-ops=5:100:2", 0, &o, err, sizeof(err)), 0);
	assert_int_equal(o.rx_rl.bw.size, 1000);
	assert_int_equal(o.rx_rl.bw.refill_ms, 10);
	assert_int_equal(o.tx_rl.ops.one_time_burst, 2);
	assert_int_equal(o.tx_rl.bw.size, 0);
	assert_int_equal(net_parse_options("tap=t0,tx-bw=1", 0, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tx-bw=1: expected SIZE:REFILL_MS"));
	assert_int_equal(net_parse_options("tap=t0,vhost=on,rx-ops=1:1", 0, &o, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "vhost=off"));
	/* Buckets that limit nothing are no reason to refuse vhost. */
	assert_int_equal(net_parse_options("tap=t0,vhost=on,rx-ops=0:0", 0, &o, err, sizeof(err)),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_throttled_chain_goes_back),
		cmocka_unit_test(test_rx_throttled_packet_waits),
		cmocka_unit_test(test_options),
	};

	log_level = LOG_ERR;
	return cmocka_run_group_tests_name("virtio_net_limit", tests, NULL, NULL);
}
