// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net transmit: the header rules, and frames moving from the driver's chains
 * to the tap (see virtio_net_fixture.h), malformed chains, and a full backend.
 */
#include <errno.h>

#include "util/log.h"
#include "virtio_net_fixture.h"

static void test_tx_hdr_rules(void **state)
{
	const u8 csum = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	struct virtio_net_hdr_v1 h;

	(void)state;
	h = hdr_of(0, 0, 0, 0, 0);
	assert_int_equal(virtio_net_check_tx_hdr(&h, 0, 60), 0);
	assert_int_equal(virtio_net_check_tx_hdr(&h, 0, NET_ETH_HLEN), 0);
	assert_int_equal(virtio_net_check_tx_hdr(&h, 0, NET_ETH_HLEN - 1), -EINVAL);
	assert_int_equal(virtio_net_check_tx_hdr(&h, 0, NET_MAX_FRAME), 0);
	assert_int_equal(virtio_net_check_tx_hdr(&h, 0, NET_MAX_FRAME + 1), -EINVAL);
	/* Partial checksums only when negotiated, and inside the frame. */
	h = hdr_of(csum, 0, 0, 34, 16);
	assert_int_equal(virtio_net_check_tx_hdr(&h, 0, 60), -EINVAL);
	assert_int_equal(virtio_net_check_tx_hdr(&h, NET_OFF_CSUM, 60), 0);
	assert_int_equal(virtio_net_check_tx_hdr(&h, NET_OFF_CSUM, 51), -EINVAL);
	h = hdr_of(csum, 0, 0, 0xffff, 0xffff);
	assert_int_equal(virtio_net_check_tx_hdr(&h, NET_OFF_CSUM, NET_MAX_FRAME), -EINVAL);
	/* Flags the driver must not set. */
	h = hdr_of(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0);
	assert_int_equal(virtio_net_check_tx_hdr(&h, ALL_OFFLOADS, 60), -EINVAL);
	h = hdr_of(0x80, 0, 0, 0, 0);
	assert_int_equal(virtio_net_check_tx_hdr(&h, ALL_OFFLOADS, 60), -EINVAL);
	/* Segmentation: negotiated, with NEEDS_CSUM and a segment size. */
	h = hdr_of(csum, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16);
	assert_int_equal(virtio_net_check_tx_hdr(&h, NET_OFF_CSUM, 9000), -EINVAL);
	assert_int_equal(virtio_net_check_tx_hdr(&h, NET_OFF_CSUM | NET_OFF_TSO4, 9000), 0);
	assert_int_equal(virtio_net_check_tx_hdr(&h, NET_OFF_CSUM | NET_OFF_TSO6, 9000), -EINVAL);
	h = hdr_of(csum, VIRTIO_NET_HDR_GSO_TCPV6, 1428, 54, 16);
	assert_int_equal(virtio_net_check_tx_hdr(&h, NET_OFF_CSUM | NET_OFF_TSO6, 9000), 0);
	h = hdr_of(csum, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16);
	assert_int_equal(virtio_net_check_tx_hdr(&h, NET_OFF_CSUM | NET_OFF_TSO4, 9000), -EINVAL);
	assert_int_equal(virtio_net_check_tx_hdr(&h, ALL_OFFLOADS, 9000), 0);
	h = hdr_of(csum, VIRTIO_NET_HDR_GSO_UDP, 1472, 34, 6);
	assert_int_equal(virtio_net_check_tx_hdr(&h, NET_OFF_CSUM | NET_OFF_TSO4, 9000), -EINVAL);
	assert_int_equal(virtio_net_check_tx_hdr(&h, ALL_OFFLOADS, 9000), 0);
	h = hdr_of(0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16);
	assert_int_equal(virtio_net_check_tx_hdr(&h, ALL_OFFLOADS, 9000), -EINVAL);
	h = hdr_of(csum, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 16);
	assert_int_equal(virtio_net_check_tx_hdr(&h, ALL_OFFLOADS, 9000), -EINVAL);
	h = hdr_of(csum, 2, 1448, 34, 16);
	assert_int_equal(virtio_net_check_tx_hdr(&h, ALL_OFFLOADS, 9000), -EINVAL);
	h = hdr_of(csum, VIRTIO_NET_HDR_GSO_ECN, 0, 34, 16);
	assert_int_equal(virtio_net_check_tx_hdr(&h, ALL_OFFLOADS, 9000), -EINVAL);
}

static ssize_t host_read(struct fixture *f, u8 *buf, size_t len)
{
	return recv(f->host_fd, buf, len, MSG_DONTWAIT);
}

static void test_tx_plain(void **state)
{
	struct fixture *f = nic_setup(0, 0, QSIZE);
	struct virtio_net_hdr_v1 h = hdr_of(0, 0, 0, 0, 0);
	static u8 frame[1514], got[2048];
	const u32 lens[] = {NET_HDR_LEN, 100, 1514 - 100};
	u64 gpas[3];
	u16 head, uh;
	u32 ulen;

	(void)state;
	h.num_buffers = htole16(7); /* ignored on transmit: the backend sees 0 */
	fill(frame, sizeof(frame), 3);
	head = add_chain(f, VIRTIO_NET_TXQ, 3, 0, lens, gpas);
	memcpy(hva(f, gpas[0]), &h, sizeof(h));
	memcpy(hva(f, gpas[1]), frame, 100);
	memcpy(hva(f, gpas[2]), frame + 100, 1514 - 100);
	virtio_net_tx(f->n);
	assert_int_equal(host_read(f, got, sizeof(got)), NET_HDR_LEN + 1514);
	h.num_buffers = 0;
	assert_memory_equal(got, &h, NET_HDR_LEN);
	assert_memory_equal(got + NET_HDR_LEN, frame, 1514);
	assert_true(take_used(f, VIRTIO_NET_TXQ, &uh, &ulen));
	assert_int_equal(uh, head);
	assert_int_equal(ulen, 0);
	assert_int_equal(f->notified[VIRTIO_NET_TXQ], 1);
	assert_int_equal(f->resets, 0);
	nic_teardown(f);
}

/* The header itself split over three buffers, the frame sharing the last one. */
static void test_tx_split_header(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_CSUM), ALL_OFFLOADS, QSIZE);
	struct virtio_net_hdr_v1 h = hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	u8 pkt[NET_HDR_LEN + 64], got[256];
	const u32 lens[] = {5, 4, sizeof(pkt) - 9};
	u64 gpas[3];

	(void)state;
	memcpy(pkt, &h, sizeof(h));
	fill(pkt + NET_HDR_LEN, 64, 9);
	add_chain(f, VIRTIO_NET_TXQ, 3, 0, lens, gpas);
	memcpy(hva(f, gpas[0]), pkt, 5);
	memcpy(hva(f, gpas[1]), pkt + 5, 4);
	memcpy(hva(f, gpas[2]), pkt + 9, sizeof(pkt) - 9);
	virtio_net_tx(f->n);
	assert_int_equal(host_read(f, got, sizeof(got)), sizeof(pkt));
	assert_memory_equal(got, pkt, sizeof(pkt));
	assert_int_equal(f->resets, 0);
	nic_teardown(f);
}

/* Offloads the driver did not negotiate drop that frame; the queue goes on. */
static void test_tx_unnegotiated_offload_dropped(void **state)
{
	struct fixture *f = nic_setup(0, ALL_OFFLOADS, QSIZE);
	struct virtio_net_hdr_v1 h =
		hdr_of(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16);
	const u32 lens[] = {NET_HDR_LEN + 3000};
	u64 gpas[1];
	u8 got[64];
	u16 uh;
	u32 ulen;

	(void)state;
	add_chain(f, VIRTIO_NET_TXQ, 1, 0, lens, gpas);
	memcpy(hva(f, gpas[0]), &h, sizeof(h));
	virtio_net_tx(f->n);
	assert_int_equal(host_read(f, got, sizeof(got)), -1);
	assert_true(take_used(f, VIRTIO_NET_TXQ, &uh, &ulen));
	assert_int_equal(f->n->tx_dropped, 1);
	assert_int_equal(f->resets, 0);
	assert_false(f->n->vdev.broken);
	nic_teardown(f);
}

static void tx_expect_reset(unsigned int nout, unsigned int nin, const u32 *lens)
{
	struct fixture *f = nic_setup(0, 0, QSIZE);
	u64 gpas[4];
	u8 got[64];
	u16 uh;
	u32 ulen;

	add_chain(f, VIRTIO_NET_TXQ, nout, nin, lens, gpas);
	virtio_net_tx(f->n);
	assert_int_equal(f->resets, 1);
	assert_true(f->n->vdev.broken);
	assert_false(take_used(f, VIRTIO_NET_TXQ, &uh, &ulen));
	assert_int_equal(host_read(f, got, sizeof(got)), -1);
	/* Broken stays broken, and quiet, until reset. */
	add_chain(f, VIRTIO_NET_TXQ, 1, 0, (const u32[]){100}, gpas);
	virtio_net_tx(f->n);
	virtio_net_rx(f->n);
	assert_int_equal(f->resets, 1);
	nic_teardown(f);
}

static void test_tx_malformed_chains(void **state)
{
	(void)state;
	tx_expect_reset(1, 0, (const u32[]){NET_HDR_LEN - 1});
	tx_expect_reset(2, 0, (const u32[]){NET_HDR_LEN, NET_MAX_FRAME + 1});
	tx_expect_reset(1, 1, (const u32[]){NET_HDR_LEN + 60, 100});
}

/* A full backend: the chain goes back to the ring, and sending resumes once it drains. */
static void test_tx_backend_full_resumes(void **state)
{
	struct fixture *f = nic_setup(0, 0, QSIZE);
	struct virtqueue *vq = &f->n->vdev.queues[VIRTIO_NET_TXQ].vq;
	const u32 lens[] = {NET_HDR_LEN, 60000};
	static u8 got[NET_MAX_PACKET];
	unsigned int sent = 0, used = 0;
	u64 gpas[2];
	u16 uh;
	u32 ulen;

	(void)state;
	for (int i = 0; i < QSIZE / 2; i++)
		add_chain(f, VIRTIO_NET_TXQ, 2, 0, lens, gpas);
	virtio_net_tx(f->n);
	assert_true(f->n->tx_blocked);
	assert_true(f->n->tx_pending);
	while (take_used(f, VIRTIO_NET_TXQ, &uh, &ulen))
		used++;
	assert_true(used > 0 && used < QSIZE / 2);
	assert_int_equal(vq->last_avail, used);
	while (host_read(f, got, sizeof(got)) == NET_HDR_LEN + 60000)
		sent++;
	assert_int_equal(sent, used);
	/* What the worker does each time poll() says the backend is writable again. */
	for (int round = 0; round < QSIZE && f->n->tx_pending; round++) {
		f->n->tx_blocked = false;
		virtio_net_tx(f->n);
		while (take_used(f, VIRTIO_NET_TXQ, &uh, &ulen))
			used++;
		while (host_read(f, got, sizeof(got)) == NET_HDR_LEN + 60000)
			sent++;
	}
	assert_false(f->n->tx_blocked);
	assert_false(f->n->tx_pending);
	assert_int_equal(used, QSIZE / 2);
	assert_int_equal(sent, QSIZE / 2);
	assert_int_equal(f->resets, 0);
	nic_teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_hdr_rules),
		cmocka_unit_test(test_tx_plain),
		cmocka_unit_test(test_tx_split_header),
		cmocka_unit_test(test_tx_unnegotiated_offload_dropped),
		cmocka_unit_test(test_tx_malformed_chains),
		cmocka_unit_test(test_tx_backend_full_resumes),
	};

	log_level = LOG_ERR; /* the hostile cases would log warnings */
	return cmocka_run_group_tests_name("virtio_net_tx", tests, NULL, NULL);
}
