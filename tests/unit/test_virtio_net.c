// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net without KVM or threads: --net option parsing, the transmit header rules,
 * and packets moving between rings in a plain guest_memory and a tap backend whose fd is
 * one end of a SOCK_SEQPACKET socketpair (the test holds the other end, the "host").
 * The test plays the driver: it writes descriptors and the available ring itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/net.h"
#include "devices/virtio/net.h"
#include "util/log.h"

#define MEM_SIZE  (2 * MiB)
#define DESC_GPA  0x1000 /* per queue: + q * 0x8000 */
#define AVAIL_GPA 0x3000
#define USED_GPA  0x5000
#define BUF_GPA	  0x100000 /* buffers from here on */
#define QSIZE	  16

#define ALL_OFFLOADS (NET_OFF_CSUM | NET_OFF_TSO4 | NET_OFF_TSO6 | NET_OFF_ECN | NET_OFF_UFO)

/* ---- Option parsing ---- */

static void parse_ok(const char *arg, unsigned int index, struct net_options *o)
{
	char err[192] = "";

	if (net_parse_options(arg, index, o, err, sizeof(err)))
		fail_msg("'%s' refused: %s", arg, err);
}

static void parse_bad(const char *arg, const char *why_contains)
{
	struct net_options o;
	char err[192] = "";

	assert_int_equal(net_parse_options(arg, 0, &o, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why_contains))
		fail_msg("'%s': error '%s' does not mention '%s'", arg, err, why_contains);
	assert_null(strchr(err, '\n'));
}

static void test_parse_tap(void **state)
{
	const u8 mac0[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	const u8 mac2[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x58};
	const u8 mine[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xef};
	struct net_options o;

	(void)state;
	parse_ok("tap=tap0", 0, &o);
	assert_int_equal(o.kind, NET_KIND_TAP);
	assert_string_equal(o.ifname, "tap0");
	assert_false(o.vhost);
	assert_memory_equal(o.mac, mac0, 6);
	parse_ok("tap=tap0", 2, &o);
	assert_memory_equal(o.mac, mac2, 6);
	parse_ok("mac=02:AA:bb:cc:dd:ef,vhost=on,tap=abcdefghijklmno", 0, &o);
	assert_string_equal(o.ifname, "abcdefghijklmno");
	assert_true(o.vhost);
	assert_memory_equal(o.mac, mine, 6);
	parse_ok("tap=t,vhost=off", 0, &o);
	assert_false(o.vhost);
}

static void test_parse_user(void **state)
{
	struct net_options o;

	(void)state;
	parse_ok("user", 0, &o);
	assert_int_equal(o.kind, NET_KIND_USER);
	assert_int_equal(o.nr_hostfwd, 0);
	parse_ok("user,hostfwd=tcp::8080-:80,hostfwd=udp:127.0.0.1:5353-10.0.2.20:53,"
		 "hostfwd=::2222-:22",
		 1, &o);
	assert_int_equal(o.nr_hostfwd, 3);
	assert_false(o.hostfwd[0].udp);
	assert_int_equal(o.hostfwd[0].host_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(o.hostfwd[0].host_port, 8080);
	assert_int_equal(o.hostfwd[0].guest_addr.s_addr, htonl(0x0a00020f));
	assert_int_equal(o.hostfwd[0].guest_port, 80);
	assert_true(o.hostfwd[1].udp);
	assert_int_equal(o.hostfwd[1].host_addr.s_addr, htonl(0x7f000001));
	assert_int_equal(o.hostfwd[1].host_port, 5353);
	assert_int_equal(o.hostfwd[1].guest_addr.s_addr, htonl(0x0a000214));
	assert_int_equal(o.hostfwd[1].guest_port, 53);
	assert_false(o.hostfwd[2].udp);
	assert_int_equal(o.hostfwd[2].guest_port, 22);
}

static void test_parse_errors(void **state)
{
	char many[600] = "user";

	(void)state;
	parse_bad("", "empty item");
	parse_bad("tap=", "not a valid interface name");
	parse_bad("tap=abcdefghijklmnop", "not a valid interface name");
	parse_bad("tap=a/b", "not a valid interface name");
	parse_bad("tap=..", "not a valid interface name");
	parse_bad("tap=a b", "not a valid interface name");
	parse_bad("tap", "unknown item 'tap'");
	parse_bad("user=1", "unknown item 'user='");
	parse_bad("user,speed=10", "unknown item 'speed='");
	parse_bad("user,,mac=02:00:00:00:00:01", "empty item");
	parse_bad("user,", "empty item");
	parse_bad("mac=02:00:00:00:00:01", "exactly one of");
	parse_bad("tap=a,user", "exactly one of");
	parse_bad("tap=a,tap=b", "exactly one of");
	parse_bad("user,vhost=on", "vhost=on needs tap");
	parse_bad("tap=a,vhost=yes", "expected on or off");
	parse_bad("tap=a,hostfwd=tcp::1-:2", "hostfwd= needs user");
	parse_bad("user,mac=01:00:5e:00:00:01", "unicast");
	parse_bad("user,mac=00:00:00:00:00:00", "unicast");
	parse_bad("user,mac=02:00:00:00:00", "unicast");
	parse_bad("user,mac=02:00:00:00:00:0g", "unicast");
	parse_bad("user,mac=02-00-00-00-00-01", "unicast");
	parse_bad("user,hostfwd=tcp::0-:80", "1..65535");
	parse_bad("user,hostfwd=tcp::65536-:80", "1..65535");
	parse_bad("user,hostfwd=tcp::80-:", "1..65535");
	parse_bad("user,hostfwd=tcp::8x-:80", "1..65535");
	parse_bad("user,hostfwd=sctp::1-:2", "tcp or udp");
	parse_bad("user,hostfwd=tcp:1.2.3:1-:2", "bad IPv4 address");
	parse_bad("user,hostfwd=tcp::1-10.0.3.15:2", "10.0.2.0/24");
	parse_bad("user,hostfwd=tcp::8080:80", "expected tcp:");
	parse_bad("user,hostfwd=tcp::1-:2:3", "expected tcp:");
	for (int i = 0; i <= NET_MAX_HOSTFWD; i++)
		strcat(many, ",hostfwd=::1-:2");
	parse_bad(many, "at most");
	memset(many, 'a', sizeof(many) - 1);
	many[sizeof(many) - 1] = '\0';
	parse_bad(many, "too long");
}

/* ---- Transmit header rules ---- */

static struct virtio_net_hdr_v1 hdr_of(u8 flags, u8 gso, u16 gso_size, u16 start, u16 off)
{
	return (struct virtio_net_hdr_v1){
		.flags = flags,
		.gso_type = gso,
		.gso_size = htole16(gso_size),
		.csum_start = htole16(start),
		.csum_offset = htole16(off),
	};
}

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

/* ---- A NIC on fake rings ---- */

struct fixture {
	struct guest_memory mem;
	struct virtio_net *n;
	int host_fd; /* the "host" end of the tap's socketpair */
	u16 avail_idx[2], next_desc[2], used_seen[2];
	u64 next_buf;
	unsigned int notified[2], resets;
};

static struct fixture *cur;

/* What the transport does: interrupt only when the ring asks for it. */
static void fake_notify(struct virtio_dev *vdev, unsigned int q)
{
	if (virtqueue_should_notify(&vdev->queues[q].vq))
		cur->notified[q]++;
}

static void fake_needs_reset(struct virtio_dev *vdev, const char *why)
{
	(void)vdev;
	(void)why;
	cur->resets++;
}

static void *hva(struct fixture *f, u64 gpa)
{
	return f->mem.base + gpa;
}

/* Starts a NIC whose driver accepted features, on queues of qsize entries. */
static struct fixture *nic_setup(u64 features, unsigned int caps, u16 qsize)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct net_backend *be;
	struct net_options opt;
	char err[128];
	int sv[2];

	assert_non_null(f);
	cur = f;
	f->mem.base = calloc(1, MEM_SIZE);
	assert_non_null(f->mem.base);
	f->mem.total = MEM_SIZE;
	f->mem.nr = 1;
	f->mem.regions[0] = (struct mem_region){.gpa = 0, .size = MEM_SIZE, .hva = f->mem.base};
	f->next_buf = BUF_GPA;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	f->host_fd = sv[1];
	assert_int_equal(net_tap_from_fd(&be, sv[0], caps), 0);
	assert_int_equal(net_parse_options("tap=test0", 0, &opt, err, sizeof(err)), 0);
	f->n = calloc(1, sizeof(*f->n));
	assert_non_null(f->n);
	assert_int_equal(virtio_net_init(f->n, &opt, 0, be), 0);
	f->n->notify = fake_notify;
	f->n->set_needs_reset = fake_needs_reset;
	for (unsigned int q = 0; q < 2; q++) {
		struct virtqueue *vq = &f->n->vdev.queues[q].vq;

		virtqueue_reset(vq, &f->mem);
		vq->size = qsize;
		vq->desc_gpa = DESC_GPA + q * 0x8000;
		vq->avail_gpa = AVAIL_GPA + q * 0x8000;
		vq->used_gpa = USED_GPA + q * 0x8000;
		vq->ready = true;
		assert_int_equal(virtqueue_start(vq), 0);
	}
	f->n->vdev.driver_features = features & f->n->vdev.device_features;
	assert_int_equal(virtio_net_activate(f->n), 0);
	return f;
}

static void nic_teardown(struct fixture *f)
{
	virtio_net_deactivate(f->n);
	virtio_net_cleanup(f->n);
	free(f->n);
	close(f->host_fd);
	free(f->mem.base);
	free(f);
	cur = NULL;
}

/* Driver side: a chain of buffers of the given lengths, the first nout device-readable. */
static u16 add_chain(struct fixture *f, unsigned int q, unsigned int nout, unsigned int nin,
		     const u32 *lens, u64 *gpas)
{
	struct virtqueue *vq = &f->n->vdev.queues[q].vq;
	struct vring_desc *desc = hva(f, vq->desc_gpa);
	struct vring_avail *avail = hva(f, vq->avail_gpa);
	u16 head = f->next_desc[q] % vq->size;

	for (unsigned int i = 0; i < nout + nin; i++) {
		u16 d = (u16)((head + i) % vq->size);

		gpas[i] = f->next_buf;
		f->next_buf += ALIGN_UP(lens[i] ? lens[i] : 1, 64);
		desc[d].addr = htole64(gpas[i]);
		desc[d].len = htole32(lens[i]);
		desc[d].flags = htole16((i >= nout ? VRING_DESC_F_WRITE : 0) |
					(i + 1 < nout + nin ? VRING_DESC_F_NEXT : 0));
		desc[d].next = htole16((u16)((d + 1) % vq->size));
	}
	f->next_desc[q] = (u16)(f->next_desc[q] + nout + nin);
	avail->ring[f->avail_idx[q] % vq->size] = htole16(head);
	f->avail_idx[q]++;
	__atomic_store_n(&avail->idx, htole16(f->avail_idx[q]), __ATOMIC_RELEASE);
	return head;
}

/* Driver side: the next used element, or false if there is none. */
static bool take_used(struct fixture *f, unsigned int q, u16 *head, u32 *len)
{
	struct virtqueue *vq = &f->n->vdev.queues[q].vq;
	struct vring_used *used = hva(f, vq->used_gpa);

	if (le16toh(used->idx) == f->used_seen[q])
		return false;
	*head = (u16)le32toh(used->ring[f->used_seen[q] % vq->size].id);
	*len = le32toh(used->ring[f->used_seen[q] % vq->size].len);
	f->used_seen[q]++;
	return true;
}

static void fill(u8 *p, size_t len, u8 seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (u8)(seed + i * 7);
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
	assert_false(f->n->broken);
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
	assert_true(f->n->broken);
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
	u32 ulen, len1;

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
	u32 ulen, total = 0;

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

/* TSO accepted without checksum offload breaks the spec's dependency: neither is used. */
static void test_offload_dependencies(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO4),
				      ALL_OFFLOADS, QSIZE);

	(void)state;
	assert_int_equal(f->n->rx_offloads, 0);
	assert_int_equal(f->n->tx_offloads, 0);
	nic_teardown(f);
}

/* The offered features follow the backend: nothing but MAC/STATUS/MRG without offloads. */
static void test_offered_features(void **state)
{
	struct fixture *f = nic_setup(0, 0, QSIZE);
	u64 base = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
		   BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_RING_F_INDIRECT_DESC);
	const u8 *cfg = f->n->vdev.config;

	(void)state;
	assert_int_equal(f->n->vdev.device_features, base);
	assert_int_equal(f->n->vdev.config_size, 12);
	assert_int_equal(cfg[5], 0x56);
	assert_int_equal(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
	nic_teardown(f);
	f = nic_setup(0, ALL_OFFLOADS, QSIZE);
	assert_true(f->n->vdev.device_features & BIT(VIRTIO_NET_F_GUEST_TSO6));
	assert_true(f->n->vdev.device_features & BIT(VIRTIO_NET_F_HOST_UFO));
	nic_teardown(f);
}

/* ---- The user-mode backend, driven the way the worker drives it ---- */

/* Runs the backend's poll loop until it has a packet for the guest (or ~2 s pass). */
static ssize_t user_wait_packet(struct net_backend *be, u8 *buf, size_t len)
{
	struct net_pollset ps = {0};
	ssize_t got = 0;

	for (int i = 0; i < 200 && got == 0; i++) {
		int timeout = 10;

		ps.n = 0;
		be->ops->poll_fill(be, &ps, true, false, &timeout);
		if (timeout < 0 || timeout > 10)
			timeout = 10;
		be->ops->poll_done(be, &ps, poll(ps.fds, ps.n, timeout) < 0);
		got = be->ops->recv(be, buf, len);
	}
	free(ps.fds);
	return got;
}

static void user_send_frame(struct net_backend *be, const u8 *frame, size_t len)
{
	struct virtio_net_hdr_v1 h = {0};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)frame, len}};

	assert_int_equal(be->ops->send(be, iov, 2), 0);
}

static const u8 guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* An ARP request from 10.0.2.15 for target (host order). */
static void arp_request(u8 *f, u32 target)
{
	const u8 head[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1};
	u32 spa = htonl(0x0a00020f), tpa = htonl(target);

	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	memcpy(f + 12, head, sizeof(head));
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, &spa, 4);
	memcpy(f + 38, &tpa, 4);
}

static void test_user_arp_gateway(void **state)
{
	struct net_options opt;
	struct net_backend *be;
	u8 frame[60], got[NET_MAX_PACKET];
	char err[128];
	u32 spa;
	ssize_t len;

	(void)state;
	assert_int_equal(net_parse_options("user", 0, &opt, err, sizeof(err)), 0);
	assert_int_equal(net_slirp_open(&be, &opt), 0);
	assert_int_equal(be->caps, 0);
	arp_request(frame, 0x0a000202);
	user_send_frame(be, frame, sizeof(frame));
	len = user_wait_packet(be, got, sizeof(got));
	assert_true(len >= NET_HDR_LEN + 42);
	assert_memory_equal(got, (u8[NET_HDR_LEN]){0}, NET_HDR_LEN);
	assert_memory_equal(got + NET_HDR_LEN, guest_mac, 6); /* to us */
	assert_int_equal(got[NET_HDR_LEN + 21], 2);	      /* an ARP reply */
	memcpy(&spa, got + NET_HDR_LEN + 28, 4);
	assert_int_equal(ntohl(spa), 0x0a000202); /* from the gateway */
	be->ops->destroy(be);
}

/* A connection to a hostfwd port makes the stack look for the guest (ARP for 10.0.2.15). */
static void test_user_hostfwd_listens(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	struct net_options opt;
	struct net_backend *be;
	u8 got[NET_MAX_PACKET];
	char arg[64], err[128];
	int probe, s;
	u32 tpa;
	ssize_t len;

	(void)state;
	/* A free loopback port: bind one, note it, let it go. */
	probe = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(probe, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(probe, (struct sockaddr *)&sa, &salen), 0);
	close(probe);
	snprintf(arg, sizeof(arg), "user,hostfwd=tcp:127.0.0.1:%u-:80", ntohs(sa.sin_port));
	assert_int_equal(net_parse_options(arg, 0, &opt, err, sizeof(err)), 0);
	assert_int_equal(net_slirp_open(&be, &opt), 0);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(s, (struct sockaddr *)&sa, sizeof(sa));
	len = user_wait_packet(be, got, sizeof(got));
	assert_true(len >= NET_HDR_LEN + 42);
	assert_int_equal(got[NET_HDR_LEN + 12], 0x08);
	assert_int_equal(got[NET_HDR_LEN + 13], 0x06);
	assert_int_equal(got[NET_HDR_LEN + 21], 1); /* a request */
	memcpy(&tpa, got + NET_HDR_LEN + 38, 4);
	assert_int_equal(ntohl(tpa), 0x0a00020f);
	close(s);
	be->ops->destroy(be);
	/* The same port twice: the second stack cannot listen, and says so. */
	assert_int_equal(net_slirp_open(&be, &opt), 0);
	{
		struct net_backend *be2;

		assert_int_equal(net_slirp_open(&be2, &opt), -EXIT_BAD_INPUT);
	}
	be->ops->destroy(be);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_tap),
		cmocka_unit_test(test_parse_user),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_tx_hdr_rules),
		cmocka_unit_test(test_tx_plain),
		cmocka_unit_test(test_tx_split_header),
		cmocka_unit_test(test_tx_unnegotiated_offload_dropped),
		cmocka_unit_test(test_tx_malformed_chains),
		cmocka_unit_test(test_tx_backend_full_resumes),
		cmocka_unit_test(test_rx_single_buffer),
		cmocka_unit_test(test_rx_mergeable_waits_for_buffers),
		cmocka_unit_test(test_rx_no_mrg_small_buffer_drops_packet),
		cmocka_unit_test(test_rx_backpressure),
		cmocka_unit_test(test_rx_ring_too_small),
		cmocka_unit_test(test_rx_malformed_chains),
		cmocka_unit_test(test_rx_header_follows_negotiation),
		cmocka_unit_test(test_rx_gso_when_negotiated),
		cmocka_unit_test(test_offload_dependencies),
		cmocka_unit_test(test_offered_features),
		cmocka_unit_test(test_user_arp_gateway),
		cmocka_unit_test(test_user_hostfwd_listens),
	};

	log_level = LOG_ERR; /* the hostile cases would log warnings */
	return cmocka_run_group_tests_name("virtio_net", tests, NULL, NULL);
}
