/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_CONSOLE_H
#define KVMBOX_DEVICES_VIRTIO_CONSOLE_H

#include "../../backends/stream.h"
#include "../worker.h"
#include "virtio.h"

#define VIRTIO_CONSOLE_RXQ	  0 /* receiveq0: host to guest */
#define VIRTIO_CONSOLE_TXQ	  1 /* transmitq0: guest to host */
#define VIRTIO_CONSOLE_QUEUES	  2
#define VIRTIO_CONSOLE_QUEUE_SIZE 256
/* The longest transmit chain served; a longer one is a broken driver (Linux sends a page). */
#define VIRTIO_CONSOLE_MAX_TX (1 * MiB)

/* virtio-console (hvc0) over virtio-pci, realized with --virtio-console. */
extern const struct device_ops virtio_console_ops;

/*
 * One console port, without multiport or size features. The queue handling below
 * (virtio_console_tx(), virtio_console_rx()) needs no thread, KVM or transport: unit tests
 * and the fuzzer drive it with rings in plain memory and their own hooks.
 */
struct virtio_console {
	struct virtio_dev vdev;
	struct stream *stream;

	bool rx_starved; /* no receive buffers: input is not read until the driver kicks */
	bool tx_pending; /* kicked, or the budget ran out with buffers left */

	/* Its stop_fd also cuts short a write waiting for room. */
	struct dev_worker worker;
	struct vq_chain *chain;

	u64 rx_bytes, tx_bytes, tx_dropped;
};

/* Fills c for stream s (taking it). Returns 0 or -ENOMEM; virtio_console_cleanup() undoes it. */
int virtio_console_init(struct virtio_console *c, struct stream *s);
void virtio_console_cleanup(struct virtio_console *c);
/* start() and stop() without the thread: fresh flags, nothing held. */
void virtio_console_activate(struct virtio_console *c);
void virtio_console_deactivate(struct virtio_console *c);
/* Writes what the driver queued to the stream, up to a budget. */
void virtio_console_tx(struct virtio_console *c);
/* Reads the stream into the driver's receive buffers while both have some, up to a budget. */
void virtio_console_rx(struct virtio_console *c);

#endif
