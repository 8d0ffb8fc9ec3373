/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_VIRTQUEUE_H
#define KVMBOX_DEVICES_VIRTIO_VIRTQUEUE_H

#include <sys/uio.h>

#include "../../memory.h"

#define VIRTQUEUE_MAX_SIZE  1024 /* the largest queue a device offers */
#define VIRTQUEUE_MAX_CHAIN 1024 /* descriptors in one chain, indirect ones included */

/*
 * A split virtqueue, the only code in kvmbox that reads or writes the rings. Everything
 * read from guest memory is read once into a local and checked: ring addresses and sizes
 * inside guest RAM, descriptor indices below the queue size, buffers inside guest RAM,
 * chain length bounded (so loops end), device-readable buffers before device-writable
 * ones, indirect tables well-formed and not nested. A violation makes the queue broken:
 * every later call fails, and the device should report NEEDS_RESET.
 *
 * One thread at a time may use a queue (the device's worker); the transport only
 * touches it while the device is stopped.
 */
struct virtqueue {
	const struct guest_memory *mem;
	u16 size; /* set by the driver, a power of 2 up to VIRTQUEUE_MAX_SIZE */
	bool ready;
	u64 desc_gpa, avail_gpa, used_gpa;
	bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;	/* VIRTIO_RING_F_INDIRECT_DESC negotiated */

	/* Device-side state; cleared by virtqueue_reset(). */
	u16 last_avail;	    /* the next avail ring entry to take */
	u16 used_idx;	    /* our copy of used->idx */
	u16 signalled_used; /* used_idx when we last notified the driver */
	bool signalled_used_valid;
	bool broken;
	/* Host pointers to the rings, checked once by virtqueue_start(). */
	void *desc, *avail, *used;
};

/* One descriptor chain: out[] the device reads, in[] the device writes. */
struct vq_chain {
	u16 head;
	unsigned int n_out, n_in;
	size_t out_len, in_len; /* total bytes of each kind */
	struct iovec out[VIRTQUEUE_MAX_CHAIN];
	struct iovec in[VIRTQUEUE_MAX_CHAIN];
};

/* Back to the state after device reset: no addresses, not ready, nothing in flight. */
void virtqueue_reset(struct virtqueue *vq, const struct guest_memory *mem);
/*
 * Checks the ring addresses the driver set and maps them. Returns 0, or -EINVAL
 * (and marks the queue broken) if a ring is misaligned or outside guest RAM.
 */
int virtqueue_start(struct virtqueue *vq);
/*
 * Takes the next available chain. Returns 1 and fills chain, 0 if the ring is empty,
 * or -EIO if the driver broke the rules (the queue is then broken).
 */
int virtqueue_pop(struct virtqueue *vq, struct vq_chain *chain);
/*
 * Whether the driver made buffers available that were not popped yet: a cheap look for
 * a device that polls the ring with notifications off. Pop to know more.
 */
bool virtqueue_avail_pending(const struct virtqueue *vq);
/*
 * Gives back the chain the last pop took, unused and not pushed: the next pop takes it
 * again. For a device that holds a receive buffer it had nothing to put in when it stops.
 */
void virtqueue_unpop(struct virtqueue *vq);
/* Returns a chain with written bytes to the used ring. -EIO if the queue is broken. */
int virtqueue_push(struct virtqueue *vq, u16 head, u32 written);
/* Whether the driver wants an interrupt for what was pushed since the last one. */
bool virtqueue_should_notify(struct virtqueue *vq);
/*
 * Turns guest->device notifications off (while the worker drains the ring) or back on.
 * Turning them on returns true if more buffers arrived meanwhile: pop again.
 */
bool virtqueue_enable_notify(struct virtqueue *vq, bool enable);

/* Copies between a chain's iovecs and a flat buffer, bounded by both. */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len);
size_t buf_to_iov(const struct iovec *iov, unsigned int n, size_t skip, const void *buf,
		  size_t len);

#endif
