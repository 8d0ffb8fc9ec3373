// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net receive: packets from the tap into the driver's buffers (see
 * virtio_net_fixture.h), mergeable or not, backpressure, malformed chains, and the
 * header cut to what was negotiated.
 */
#include "util/log.h"
#include "virtio_net_fixture.h"

/* The host sends a packet; returns what the guest's buffers hold afterwards. */
static void host_send(struct fixture *f, const struct virtio_net_hdr_v1 *h, size_t frame_len,
		      u8 seed)
{
	static u8 pkt[NET_MAX_PACKET];

	memcpy(pkt, h, NET_HDR_LEN);
	fill(pkt + NET_HDR_LEN, frame_len, seed);
	assert_int_equal(send(f->host_fd, pkt, NET_HDR_LEN + frame_len, 0),
			 (ssize_t)(NET_HDR_LEN + frame_len));
}

static void test_rx_single_buffer(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_MRG_RXBUF), 0, QSIZE);
	struct virtio_net_hdr_v1 h = hdr_of(0, 0, 0, 0, 0), got;
	u8 frame[60];
	u64 gpas[1];
	u16 head, uh;
	u32 ulen;

	(void)state;
	head = add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){2048}, gpas);
	host_send(f, &h, sizeof(frame), 5);
	virtio_net_rx(f->n);
	assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_int_equal(uh, head);
	assert_int_equal(ulen, NET_HDR_LEN + sizeof(frame));
	memcpy(&got, hva(f, gpas[0]), sizeof(got));
	assert_int_equal(le16toh(got.num_buffers), 1);
	assert_int_equal(got.flags, 0);
	fill(frame, sizeof(frame), 5);
	assert_memory_equal((u8 *)hva(f, gpas[0]) + NET_HDR_LEN, frame, sizeof(frame));
	assert_int_equal(f->notified[VIRTIO_NET_RXQ], 1);
	assert_int_equal(f->n->rx_packets, 1);
	nic_teardown(f);
}

/*
 * A 3000-byte frame over 1536-byte mergeable buffers: two chains, num_buffers 2, and
 * nothing visible to the driver until the second buffer exists.
 */
static void test_rx_mergeable_waits_for_buffers(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_MRG_RXBUF), 0, QSIZE);
	struct virtio_net_hdr_v1 h = hdr_of(0, 0, 0, 0, 0);
	static u8 frame[3000], got[3100];
	u64 gpa1[1], gpa2[1];
	u16 h1, h2, uh;
	u32 ulen = 0, len1 = 0;

	(void)state;
	h1 = add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){1536}, gpa1);
	host_send(f, &h, sizeof(frame), 11);
	virtio_net_rx(f->n);
	assert_false(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_true(f->n->rx_starved);
	assert_int_equal(f->notified[VIRTIO_NET_RXQ], 0);

	h2 = add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){1536}, gpa2);
	f->n->rx_starved = false; /* what the worker does on the kick */
	virtio_net_rx(f->n);
	assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &len1));
	assert_int_equal(uh, h1);
	assert_int_equal(len1, 1536);
	assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_int_equal(uh, h2);
	assert_int_equal(len1 + ulen, NET_HDR_LEN + sizeof(frame));
	assert_int_equal(le16toh(((struct virtio_net_hdr_v1 *)hva(f, gpa1[0]))->num_buffers), 2);
	memcpy(got, hva(f, gpa1[0]), 1536);
	memcpy(got + 1536, hva(f, gpa2[0]), ulen);
	fill(frame, sizeof(frame), 11);
	assert_memory_equal(got + NET_HDR_LEN, frame, sizeof(frame));
	assert_int_equal(f->notified[VIRTIO_NET_RXQ], 1);
	assert_int_equal(f->resets, 0);
	nic_teardown(f);
}

/*
 * A stop with part of a packet in the driver's buffers (a pause for PATCH /vm or a
 * snapshot keeps the rings): the chains go back on the ring, else the driver never sees
 * them again and a restored or resumed guest has fewer receive buffers each time.
 */
static void test_rx_stop_gives_back_held_chains(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_MRG_RXBUF), 0, QSIZE);
	struct virtqueue *vq = &f->n->vdev.queues[VIRTIO_NET_RXQ].vq;
	struct virtio_net_hdr_v1 h = hdr_of(0, 0, 0, 0, 0);
	u64 gpa[1];
	u16 uh;
	u32 ulen;

	(void)state;
	add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){1536}, gpa);
	host_send(f, &h, 3000, 12);
	virtio_net_rx(f->n);
	assert_int_equal(vq->last_avail, 1); /* held, half full */
	virtio_net_deactivate(f->n);
	assert_int_equal(vq->last_avail, 0);
	assert_int_equal(f->n->rx_len, 0);
	/* Started again: the chain takes the next packet whole. */
	assert_int_equal(virtio_net_activate(f->n), 0);
	host_send(f, &h, 1000, 13);
	virtio_net_rx(f->n);
	assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_int_equal(ulen, NET_HDR_LEN + 1000);
	assert_int_equal(f->resets, 0);
	nic_teardown(f);
}

/* Without mergeable buffers a packet needs one chain that holds it all. */
static void test_rx_no_mrg_small_buffer_drops_packet(void **state)
{
	struct fixture *f = nic_setup(0, 0, QSIZE);
	struct virtio_net_hdr_v1 h = hdr_of(0, 0, 0, 0, 0);
	u64 gpas[1];
	u16 head, uh;
	u32 ulen;

	(void)state;
	head = add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){200}, gpas);
	host_send(f, &h, 1000, 1); /* too big: dropped, the buffer kept */
	host_send(f, &h, 100, 2);  /* fits */
	virtio_net_rx(f->n);
	assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_int_equal(uh, head);
	assert_int_equal(ulen, NET_HDR_LEN + 100);
	assert_false(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_int_equal(f->n->rx_dropped, 1);
	assert_int_equal(f->resets, 0);
	nic_teardown(f);
}

/* No buffers: the device stops reading the backend, and the packets wait there. */
static void test_rx_backpressure(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_MRG_RXBUF), 0, QSIZE);
	struct virtio_net_hdr_v1 h = hdr_of(0, 0, 0, 0, 0);
	u64 gpas[1];
	u16 uh;
	u32 ulen;

	(void)state;
	for (int i = 0; i < 3; i++)
		host_send(f, &h, 100, (u8)i);
	virtio_net_rx(f->n);
	assert_true(f->n->rx_starved);
	assert_int_equal(f->n->rx_len, NET_HDR_LEN + 100); /* one packet read, two left */
	for (int i = 0; i < 3; i++)
		add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){1536}, gpas);
	f->n->rx_starved = false;
	virtio_net_rx(f->n);
	for (int i = 0; i < 3; i++)
		assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_int_equal(f->n->rx_packets, 3);
	assert_int_equal(f->n->rx_dropped, 0);
	nic_teardown(f);
}

/* A ring whose buffers together cannot hold a packet: dropped, buffers given back. */
static void test_rx_ring_too_small(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_MRG_RXBUF), 0, 4);
	struct virtio_net_hdr_v1 h = hdr_of(0, 0, 0, 0, 0);
	struct virtqueue *vq = &f->n->vdev.queues[VIRTIO_NET_RXQ].vq;
	u64 gpas[1];
	u16 uh;
	u32 ulen;

	(void)state;
	for (int i = 0; i < 4; i++)
		add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){NET_HDR_LEN + 10}, gpas);
	host_send(f, &h, 200, 1);
	host_send(f, &h, 20, 2);
	virtio_net_rx(f->n);
	assert_int_equal(f->n->rx_dropped, 1);
	/* The 20-byte frame took two of the four buffers. */
	assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_false(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_int_equal(vq->last_avail, 2);
	assert_int_equal(f->resets, 0);
	nic_teardown(f);
}

static void rx_expect_reset(unsigned int nout, unsigned int nin, const u32 *lens)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_MRG_RXBUF), 0, QSIZE);
	struct virtio_net_hdr_v1 h = hdr_of(0, 0, 0, 0, 0);
	u64 gpas[4];
	u16 uh;
	u32 ulen;

	add_chain(f, VIRTIO_NET_RXQ, nout, nin, lens, gpas);
	host_send(f, &h, 100, 1);
	virtio_net_rx(f->n);
	assert_int_equal(f->resets, 1);
	assert_false(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	nic_teardown(f);
}

static void test_rx_malformed_chains(void **state)
{
	(void)state;
	rx_expect_reset(0, 1, (const u32[]){NET_HDR_LEN - 1});
	rx_expect_reset(1, 1, (const u32[]){16, 2048});
	rx_expect_reset(1, 0, (const u32[]){2048});
}

/* What the tap says is cut to what the driver accepted. */
static void test_rx_header_follows_negotiation(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_MRG_RXBUF), ALL_OFFLOADS, QSIZE);
	struct virtio_net_hdr_v1 csum = hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	struct virtio_net_hdr_v1 gso =
		hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16);
	struct virtio_net_hdr_v1 got;
	u64 gpas[1];
	u16 uh;
	u32 ulen;

	(void)state;
	add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){4096}, gpas);
	host_send(f, &gso, 3000, 1); /* GSO not accepted: dropped */
	host_send(f, &csum, 100, 2); /* partial checksum not accepted: flags cleared */
	virtio_net_rx(f->n);
	assert_int_equal(f->n->rx_dropped, 1);
	assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_int_equal(ulen, NET_HDR_LEN + 100);
	memcpy(&got, hva(f, gpas[0]), sizeof(got));
	assert_int_equal(got.flags, 0);
	nic_teardown(f);
}

static void test_rx_gso_when_negotiated(void **state)
{
	u64 feat = BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
		   BIT(VIRTIO_NET_F_GUEST_TSO4);
	struct fixture *f = nic_setup(feat, ALL_OFFLOADS, QSIZE);
	struct virtio_net_hdr_v1 gso =
		hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16);
	struct virtio_net_hdr_v1 got;
	u64 gpas[1];
	u16 uh;
	u32 ulen = 0, total = 0;

	(void)state;
	assert_int_equal(f->n->rx_offloads, NET_OFF_CSUM | NET_OFF_TSO4);
	for (int i = 0; i < 16; i++)
		add_chain(f, VIRTIO_NET_RXQ, 0, 1, (const u32[]){4096}, gpas);
	host_send(f, &gso, 60000, 1);
	virtio_net_rx(f->n);
	for (int i = 0; i < 15; i++) {
		assert_true(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
		total += ulen;
	}
	assert_false(take_used(f, VIRTIO_NET_RXQ, &uh, &ulen));
	assert_int_equal(total, NET_HDR_LEN + 60000);
	memcpy(&got, hva(f, BUF_GPA), sizeof(got));
	assert_int_equal(got.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(le16toh(got.num_buffers), 15);
	nic_teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_single_buffer),
		cmocka_unit_test(test_rx_mergeable_waits_for_buffers),
		cmocka_unit_test(test_rx_stop_gives_back_held_chains),
		cmocka_unit_test(test_rx_no_mrg_small_buffer_drops_packet),
		cmocka_unit_test(test_rx_backpressure),
		cmocka_unit_test(test_rx_ring_too_small),
		cmocka_unit_test(test_rx_malformed_chains),
		cmocka_unit_test(test_rx_header_follows_negotiation),
		cmocka_unit_test(test_rx_gso_when_negotiated),
	};

	log_level = LOG_ERR; /* the hostile cases would log warnings */
	return cmocka_run_group_tests_name("virtio_net_rx", tests, NULL, NULL);
}
