// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/memory.c src/util/log.c src/util/thread.c src/snapshot.c src/devices/virtio/virtqueue.c src/devices/virtio/net.c src/devices/virtio/net_worker.c src/util/token_bucket.c src/backends/net_opts.c src/util/metrics.c src/backends/net_tap.c src/backends/vhost_net.c src/backends/vhost.c tests/fuzz/fake_transport.c src/sandbox/spawner.c src/sandbox/seccomp.c src/sandbox/filters.c src/arch/$(ARCH)/sandbox.c src/devices/worker.c
// fuzz-libs: -lseccomp
// fuzz-options: -max_len=65560
/*
 * libFuzzer harness for virtio-net's frame handling: the input is a hostile driver (its
 * guest memory, rings and negotiated features) and a hostile backend (the packets it
 * delivers, headers included), run through virtio_net_tx()/virtio_net_rx() with a fake
 * backend. Nothing may crash, read or write outside guest RAM, send a frame that breaks
 * the header rules, or lose track of the held receive chains.
 *
 * Input layout:
 *   [0]      rx queue size = 1 << (byte % 9), tx queue size = 1 << ((byte >> 4) % 9)
 *   [1]      driver features: bit 0 MRG_RXBUF, 1 CSUM, 2 GUEST_CSUM, 3 HOST_TSO4+6,
 *            4 GUEST_TSO4+6, 5 UFO both ways, 6 ECN both ways, 7 EVENT_IDX
 *   [2]      backend offloads (NET_OFF_*, low 5 bits); bit 7 INDIRECT_DESC
 *   [3]      unused
 *   [4..7]   starting last_avail of rx, tx (le16), so index wraparound comes quickly
 *   [8..23]  16 operations (see run_op())
 *   [24..]   guest RAM image: 64 KiB at GPA 0. rx rings at 0, tx rings at 32 KiB.
 *            The backend's packets are cut from the same bytes (see op 1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/net.h"
#include "harness.h"
#include "util/log.h"

#define RAM_SIZE  (64 * KiB)
#define TX_RINGS  (32 * KiB)
#define HDR_SIZE  8
#define NR_OPS	  16
#define IMAGE_OFF (HDR_SIZE + NR_OPS)
#define MAX_PKTS  8

/* The user-mode backend, which this harness does not link. */
int net_slirp_open(struct net_backend **out, const struct net_options *opt)
{
	(void)out;
	(void)opt;
	return -ENOSYS;
}

/* A backend in memory: packets to deliver, and a check of everything sent. */
struct fake_be {
	struct net_backend be;
	const u8 *pkt[MAX_PKTS];
	size_t len[MAX_PKTS];
	unsigned int head, count;
	bool full; /* send() says -EAGAIN */
	unsigned int tx_offloads;
};

static struct guest_memory mem;
static struct fake_be fake;
static struct virtio_net *nic;
static u8 sink[NET_MAX_PACKET];

static int fake_send(struct net_backend *be, const struct iovec *iov, unsigned int n)
{
	struct fake_be *f = container_of(be, struct fake_be, be);
	struct virtio_net_hdr_v1 hdr;
	size_t total = 0;

	if (f->full)
		return -EAGAIN;
	CHECK(n >= 1 && n <= VIRTQUEUE_MAX_CHAIN + 1);
	for (unsigned int i = 0; i < n; i++) {
		CHECK(total + iov[i].iov_len <= sizeof(sink));
		/* Reading every byte lets ASan see any buffer outside guest RAM. */
		memcpy(sink + total, iov[i].iov_base, iov[i].iov_len);
		total += iov[i].iov_len;
	}
	CHECK(total >= NET_HDR_LEN + NET_ETH_HLEN && total <= NET_MAX_PACKET);
	memcpy(&hdr, sink, sizeof(hdr));
	CHECK(virtio_net_check_tx_hdr(&hdr, f->tx_offloads, total - NET_HDR_LEN) == 0);
	CHECK(hdr.num_buffers == 0);
	return 0;
}

static ssize_t fake_recv(struct net_backend *be, void *buf, size_t len)
{
	struct fake_be *f = container_of(be, struct fake_be, be);
	size_t n;

	if (!f->count)
		return 0;
	n = MIN(f->len[f->head], len);
	memcpy(buf, f->pkt[f->head], n);
	f->head = (f->head + 1) % MAX_PKTS;
	f->count--;
	return (ssize_t)n;
}

static int fake_set_offloads(struct net_backend *be, unsigned int offloads)
{
	CHECK((offloads & ~be->caps) == 0);
	return 0;
}

static void fake_destroy(struct net_backend *be)
{
	(void)be;
}

static const struct net_backend_ops fake_ops = {
	.name = "fake",
	.send = fake_send,
	.recv = fake_recv,
	.set_offloads = fake_set_offloads,
	.destroy = fake_destroy,
};

static void harness_notify(struct virtio_dev *vdev, unsigned int q)
{
	(void)vdev;
	CHECK(q < VIRTIO_NET_QUEUES);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct net_options opt;
	char err[64];

	(void)argc;
	(void)argv;
	log_level = LOG_ERR; /* every hostile input would log a warning */
	ram_alloc_one(&mem, RAM_SIZE);
	nic = calloc(1, sizeof(*nic));
	CHECK(nic);
	fake.be.ops = &fake_ops;
	fake.be.fd = -1;
	CHECK(net_parse_options("tap=fuzz0", 0, &opt, err, sizeof(err)) == 0);
	CHECK(virtio_net_init(nic, &opt, 0, &fake.be) == 0);
	nic->vdev.notify = harness_notify;
	return 0;
}

static u64 features_of_byte(u8 b)
{
	static const u64 bits[8] = {
		BIT(VIRTIO_NET_F_MRG_RXBUF),
		BIT(VIRTIO_NET_F_CSUM),
		BIT(VIRTIO_NET_F_GUEST_CSUM),
		BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6),
		BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6),
		BIT(VIRTIO_NET_F_HOST_UFO) | BIT(VIRTIO_NET_F_GUEST_UFO),
		BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_GUEST_ECN),
		0, /* EVENT_IDX: a ring feature, set on the queues */
	};
	u64 f = 0;

	for (int i = 0; i < 8; i++)
		f |= b & (1 << i) ? bits[i] : 0;
	return f;
}

/* A packet from the backend: length and position in the image from two op-derived bytes. */
static void queue_packet(const u8 *img, size_t img_len, u8 op, u8 salt)
{
	static const size_t lens[8] = {0, 11, 26, 60, 1526, 4000, 9000, NET_MAX_PACKET};
	size_t len = lens[(op >> 2) & 7], off = (size_t)salt * 251 % (img_len + 1);

	if (fake.count == MAX_PKTS || !img_len)
		return;
	len = MIN(len, img_len - MIN(off, img_len));
	fake.pkt[(fake.head + fake.count) % MAX_PKTS] = img + off;
	fake.len[(fake.head + fake.count) % MAX_PKTS] = len;
	fake.count++;
}

static void check_state(void)
{
	const struct virtqueue *rxq = &nic->vdev.queues[VIRTIO_NET_RXQ].vq;

	CHECK(nic->rx_done <= nic->rx_len && nic->rx_len <= NET_MAX_PACKET);
	CHECK(nic->rx_nbufs <= rxq->size);
	CHECK(!nic->rx_nbufs || nic->rx_len);
	if (reset_seen)
		CHECK(nic->vdev.broken);
}

/*
 * bits 0-1: 0 a transmit round (bit 4: the backend is full), 1 the backend gets a packet
 * (bits 2-4 pick its length), 2 a receive round, 3 the driver kicks rx (the worker's
 * un-starving) or, with bit 4, resets and restarts the device; bits 5-7 add to the
 * avail index of rx (5-6) or tx (7) as a driver racing ahead would.
 */
static void run_op(u8 op, const u8 *img, size_t img_len, u8 salt)
{
	switch (op & 3) {
	case 0:
		fake.full = op & 0x10;
		virtio_net_tx(nic);
		fake.full = false;
		break;
	case 1:
		queue_packet(img, img_len, op, salt);
		break;
	case 2:
		virtio_net_rx(nic);
		break;
	case 3:
		if (op & 0x10) {
			virtio_net_deactivate(nic);
			reset_seen = false;
			CHECK(virtio_net_activate(nic) == 0);
		}
		nic->rx_starved = false;
		break;
	}
	driver_races_ahead(&nic->vdev.queues[VIRTIO_NET_RXQ].vq,
			   &nic->vdev.queues[VIRTIO_NET_TXQ].vq, op);
	check_state();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	const u8 *img = data + IMAGE_OFF;
	size_t img_len;

	if (size < IMAGE_OFF)
		return 0;
	img_len = MIN(size - IMAGE_OFF, (size_t)RAM_SIZE);
	ram_load(&mem, img, img_len, 0);
	fake.be.caps = data[2] & 0x1f;
	fake.head = fake.count = 0;
	reset_seen = false;
	queue_start(&nic->vdev.queues[VIRTIO_NET_RXQ].vq, &mem, 1u << (data[0] % 9), 0,
		    (u16)le_at(&data[4], 2), data[1] & 0x80, data[2] & 0x80);
	queue_start(&nic->vdev.queues[VIRTIO_NET_TXQ].vq, &mem, 1u << ((data[0] >> 4) % 9),
		    TX_RINGS, (u16)le_at(&data[6], 2), data[1] & 0x80, data[2] & 0x80);
	/* Unmasked by what was offered: activate() must cope with a driver that lies. */
	nic->vdev.driver_features = features_of_byte(data[1]);
	CHECK(virtio_net_activate(nic) == 0);
	fake.tx_offloads = nic->tx_offloads;
	CHECK((nic->tx_offloads & ~fake.be.caps) == 0 && (nic->rx_offloads & ~fake.be.caps) == 0);
	for (unsigned int i = 0; i < NR_OPS; i++)
		run_op(data[HDR_SIZE + i], img, img_len, (u8)(i * 37 + data[3]));
	virtio_net_deactivate(nic);
	return 0;
}
