/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-net without KVM or threads: a NIC on rings in a plain guest_memory and a tap
 * backend whose fd is one end of a SOCK_SEQPACKET socketpair (the test holds the other
 * end, the "host"). The test plays the driver: it writes descriptors and the available
 * ring itself. nic_setup() starts one, nic_teardown() ends it.
 */
#ifndef KVMBOX_TESTS_UNIT_VIRTIO_NET_FIXTURE_H
#define KVMBOX_TESTS_UNIT_VIRTIO_NET_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/net.h"
#include "devices/virtio/net.h"

#define MEM_SIZE  (2 * MiB)
#define DESC_GPA  0x1000 /* per queue: + q * 0x8000 */
#define AVAIL_GPA 0x3000
#define USED_GPA  0x5000
#define BUF_GPA	  0x100000 /* buffers from here on */
#define QSIZE	  16

#define ALL_OFFLOADS (NET_OFF_CSUM | NET_OFF_TSO4 | NET_OFF_TSO6 | NET_OFF_ECN | NET_OFF_UFO)

/* A transmit or receive header with the given fields. */
static inline struct virtio_net_hdr_v1 hdr_of(u8 flags, u8 gso, u16 gso_size, u16 start, u16 off)
{
	return (struct virtio_net_hdr_v1){
		.flags = flags,
		.gso_type = gso,
		.gso_size = htole16(gso_size),
		.csum_start = htole16(start),
		.csum_offset = htole16(off),
	};
}

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
static inline void fake_notify(struct virtio_dev *vdev, unsigned int q)
{
	if (virtqueue_should_notify(&vdev->queues[q].vq))
		cur->notified[q]++;
}

static inline void fake_needs_reset(struct virtio_dev *vdev, const char *why)
{
	(void)vdev;
	(void)why;
	cur->resets++;
}

static inline void *hva(struct fixture *f, u64 gpa)
{
	return f->mem.base + gpa;
}

/* Starts a NIC whose driver accepted features, on queues of qsize entries. */
static inline struct fixture *nic_setup(u64 features, unsigned int caps, u16 qsize)
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
	f->n->vdev.notify = fake_notify;
	f->n->vdev.set_needs_reset = fake_needs_reset;
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

static inline void nic_teardown(struct fixture *f)
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
static inline u16 add_chain(struct fixture *f, unsigned int q, unsigned int nout, unsigned int nin,
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
static inline bool take_used(struct fixture *f, unsigned int q, u16 *head, u32 *len)
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

static inline void fill(u8 *p, size_t len, u8 seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (u8)(seed + i * 7);
}

/* Host side: reads and counts the frames the tap has for it. */
static inline unsigned int host_drain(struct fixture *f)
{
	static u8 buf[2048];
	unsigned int n = 0;

	while (recv(f->host_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

#endif
