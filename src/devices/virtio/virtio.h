/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_VIRTIO_H
#define KVMBOX_DEVICES_VIRTIO_VIRTIO_H

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <pthread.h>

#include "../../util/log.h"
#include "../device.h"
#include "virtqueue.h"

#define VIRTIO_MAX_QUEUES 8
#define VIRTIO_NO_VECTOR  0xffff

struct virtio_dev;
struct virtio_pci;

/*
 * What a virtio device type (blk, net, rng, ...) implements; the transport (virtio-pci)
 * does everything else: feature negotiation, status, queue setup, notifications.
 *
 * start() runs when the driver sets DRIVER_OK: features and queues are final; the
 * device starts its workers, which wait on each queue's kick_fd. A queue the driver did
 * not enable has vq.ready false: leave it alone. On failure start() undoes what it did
 * and returns a negative errno; the device then reports NEEDS_RESET.
 * stop() runs once after every successful start(): on device reset (status 0), after
 * virtio_set_needs_reset() (on the driver's next register access), at VM reset and at
 * teardown. The device stops and joins its workers and finishes or cancels in-flight
 * I/O; nothing may touch guest memory after it returns. The transport then resets queues
 * and features. Both run on a vCPU thread (teardown: the main thread), never on a
 * device thread, so stop() may join every thread of the device.
 * config_write() may be NULL: the config space is then read-only. It runs on a vCPU
 * thread; change config bytes under vdev->lock (the transport reads them under it).
 */
struct virtio_dev_ops {
	const char *name;
	u16 device_id; /* VIRTIO_ID_* */
	unsigned int num_queues;
	u16 queue_max_size;
	int (*start)(struct virtio_dev *vdev);
	void (*stop)(struct virtio_dev *vdev);
	void (*config_write)(struct virtio_dev *vdev, u32 offset, const u8 *data, u32 len);
	/* Optional save/load of the device-type state beyond what struct virtio_dev holds. */
	int (*save)(struct virtio_dev *vdev, struct snap_buf *sb);
	int (*load)(struct virtio_dev *vdev, struct snap_buf *sb);
	/*
	 * Optional, before a pause stops the device: finish what the workers have taken
	 * (the vCPUs are parked, so nothing new comes). 0, or -EBUSY: the pause fails.
	 */
	int (*quiesce)(struct virtio_dev *vdev);
	/* A datapath that cannot be stopped and restarted in place keeps running (vhost-vsock). */
	bool keep_running_on_pause;
	void (*destroy)(struct virtio_dev *vdev);
};

/* The per-queue connection between device and transport. */
struct virtio_queue {
	struct virtqueue vq;
	int kick_fd; /* eventfd: readable when the driver notified this queue */
	u16 msix_vector;
};

/*
 * A virtio device: the state every device type shares. Device types embed it and
 * use container_of(). Fields below the lock are owned by the transport.
 */
struct virtio_dev {
	struct device dev;
	const struct virtio_dev_ops *ops;
	struct vm *vm;
	u64 device_features; /* offered: device bits | ring bits; the transport adds VERSION_1 */
	u8 *config;	     /* device-specific configuration space, config_size bytes */
	u32 config_size;
	/*
	 * The driver broke the rules (virtio_dev_broke()): the device serves nothing until
	 * the reset, and its start() clears this. Owned by the device's worker.
	 */
	bool broken;
	/*
	 * The transport's entry points as the device's workers call them:
	 * virtio_notify_queue() and virtio_set_needs_reset(), or a test's hooks.
	 */
	void (*notify)(struct virtio_dev *vdev, unsigned int q);
	void (*set_needs_reset)(struct virtio_dev *vdev, const char *why);

	pthread_mutex_t lock;
	u64 driver_features;
	u8 status;
	u8 config_generation;
	u16 config_msix_vector;
	struct virtio_queue queues[VIRTIO_MAX_QUEUES];
	struct virtio_pci *transport;
	/*
	 * True while stop() runs for a pause (PATCH /vm, a snapshot), which resume follows
	 * with start(): a device may keep state that a reset would end (vsock's connections).
	 */
	bool pausing;
};

/*
 * The transport's side, called by devices from their worker threads:
 * virtio_notify_queue() interrupts the driver for queue q when the ring asks for it
 * (virtqueue_should_notify(), so call it from the thread that owns the queue, after
 * pushing); virtio_set_needs_reset() is for a driver that broke the rules (a queue
 * operation failed): the device reports NEEDS_RESET with a configuration interrupt and
 * notifications stop. The calling worker must then stop touching its queues and return
 * (or just wait for its stop signal); stop() follows later from a vCPU thread and joins
 * it. Other workers of the device see virtio_needs_reset() and should do the same.
 */
void virtio_notify_queue(struct virtio_dev *vdev, unsigned int q);
void virtio_set_needs_reset(struct virtio_dev *vdev, const char *why);
bool virtio_needs_reset(struct virtio_dev *vdev);

/*
 * The driver broke the rules: says why once per reset (rate-limited, the guest chooses
 * how often) and asks for NEEDS_RESET. Returns -EIO for callers that pass it on.
 */
static inline int virtio_dev_broke(struct virtio_dev *vdev, const char *name, const char *why)
{
	if (!vdev->broken) {
		vdev->broken = true;
		pr_guest("%s: %s", name, why);
		vdev->set_needs_reset(vdev, why);
	}
	return -EIO;
}
/*
 * For a datapath outside kvmbox (vhost-net): an eventfd that raises queue q's interrupt
 * (its MSI-X vector, or ISR and INTx) when written, honouring masking like
 * virtio_notify_queue() but without its virtqueue_should_notify() (the writer decides).
 * Created on first use, valid until the device is destroyed. Returns the fd or -errno.
 */
int virtio_queue_irqfd(struct virtio_dev *vdev, unsigned int q);
/*
 * Interrupts the driver to say the configuration changed (config_generation bumps).
 * Change vdev->config under vdev->lock first, then call this without the lock.
 */
void virtio_notify_config(struct virtio_dev *vdev);
static inline bool virtio_has_feature(const struct virtio_dev *vdev, unsigned int bit)
{
	return vdev->driver_features & (1ULL << bit);
}

/*
 * Creates the transport for a device type and registers it with the VM: the device fills
 * ops, device_features, config/config_size and calls this from its realize hook. The
 * transport initializes everything from the lock down, sets vdev->dev.ops (VM reset
 * resets the device; teardown stops it, frees the transport, then calls ops->destroy(),
 * which frees the device) and adds the device to the VM. Returns 0 or a negative errno
 * after printing why; on failure nothing was added and the caller frees the device.
 */
int virtio_pci_register(struct vm *vm, struct virtio_dev *vdev);

#endif
