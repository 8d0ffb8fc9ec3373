/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_BACKENDS_VHOST_H
#define KVMBOX_BACKENDS_VHOST_H

#include "../memory.h"
#include "../util/types.h"

/*
 * What every vhost device (/dev/vhost-net, /dev/vhost-vsock) shares: the host kernel
 * serves some of a virtio device's rings itself. kvmbox hands it guest RAM, the ring
 * addresses, each queue's ioeventfd (kick) and an irqfd (call) when the driver starts the
 * device, and takes them back when the driver resets it. The device-type ioctls
 * (VHOST_NET_SET_BACKEND, VHOST_VSOCK_SET_RUNNING, ...) stay with the device type.
 */
#define VHOST_MAX_RINGS 2

struct vhost_ring {
	u16 size;
	u16 last_avail; /* where the kernel starts taking buffers */
	void *desc, *avail, *used;
	int kick_fd; /* the driver's notifications (the queue's ioeventfd) */
	int call_fd; /* the kernel's interrupts for the driver */
};

struct vhost_dev {
	int fd;
	const char *name;      /* "vhost-net", ..., for messages */
	unsigned int nr_rings; /* rings 0 .. nr_rings-1, at most VHOST_MAX_RINGS */
	u64 features;	       /* what VHOST_GET_FEATURES offered, minus what we never use */
	bool started;
};

/*
 * Takes an open vhost fd: becomes its owner and reads its features. Returns 0, or -errno
 * after printing which ioctl failed; the fd is then closed.
 */
int vhost_dev_init(struct vhost_dev *vh, int fd, const char *name, unsigned int nr_rings);
/* One ioctl; on failure prints "NAME: WHAT: reason" and returns -errno. */
int vhost_dev_ioctl(struct vhost_dev *vh, unsigned long req, const char *what, void *arg);
/*
 * Negotiated features (only those the kernel offered are passed), guest RAM and every
 * ring. Returns 0, or -errno with nothing left set up.
 */
int vhost_dev_start(struct vhost_dev *vh, const struct guest_memory *mem, u64 features,
		    const struct vhost_ring *rings);
/*
 * Takes the rings back: last_avail[] (nr_rings entries, may be NULL) gets where the kernel
 * stopped. The kick and call fds are let go. Stop the device type's own work first.
 */
void vhost_dev_stop(struct vhost_dev *vh, u16 *last_avail);
/* Stops what is running and closes the fd. */
void vhost_dev_close(struct vhost_dev *vh);

#endif
