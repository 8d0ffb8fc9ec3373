/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_NET_H
#define KVMBOX_DEVICES_VIRTIO_NET_H

#include <linux/virtio_net.h>

#include "../../backends/net.h"
#include "../../util/metrics.h"
#include "../worker.h"
#include "virtio.h"

#define VIRTIO_NET_RXQ	      0
#define VIRTIO_NET_TXQ	      1
#define VIRTIO_NET_QUEUES     2
#define VIRTIO_NET_QUEUE_SIZE 256
/* mac, status, max_virtqueue_pairs, mtu: the fields up to what we offer. */
#define VIRTIO_NET_CONFIG_SIZE 12

/* All --net NICs: realize creates one virtio-net PCI function per option. */
extern const struct device_ops virtio_net_ops;

/*
 * One NIC. The frame handling below (virtio_net_tx(), virtio_net_rx()) needs no thread,
 * KVM or transport: unit tests and the fuzzer drive it with rings in plain memory, a fake
 * backend and their own notify/needs_reset hooks.
 */
struct virtio_net {
	struct virtio_dev vdev;
	struct net_options opt;
	unsigned int index; /* which --net */
	char name[24];	    /* "virtio-net INDEX", for messages */
	struct net_backend *be;
	struct vhost_net *vhost; /* vhost=on */
	u8 config[VIRTIO_NET_CONFIG_SIZE];

	/* What the driver accepted, fixed by virtio_net_activate(). */
	bool mrg_rxbuf;
	unsigned int tx_offloads; /* NET_OFF_* the driver may send */
	unsigned int rx_offloads; /* NET_OFF_* the driver takes */
	bool vhost_active;

	struct dev_worker worker;
	struct net_pollset ps;

	/*
	 * Receive: one packet (header and frame) waits in rx_pkt until the driver's buffers
	 * hold all of it. With mergeable buffers it may span chains; those already filled
	 * are held (rx_heads) until the last one is, because the driver must see the whole
	 * packet at once.
	 */
	u8 *rx_pkt;
	size_t rx_len, rx_done; /* rx_len 0: no packet waiting */
	unsigned int rx_nbufs;
	u16 rx_heads[VIRTQUEUE_MAX_SIZE];
	u32 rx_written[VIRTQUEUE_MAX_SIZE];
	struct vq_chain *rx_first, *rx_chain;
	bool rx_starved; /* no buffers: wait for the driver's kick, stop reading the backend */
	bool rx_more;	 /* the budget ran out with packets left */

	/* Transmit. */
	struct vq_chain *tx_chain;
	struct iovec *tx_iov; /* VIRTQUEUE_MAX_CHAIN + 1 entries: our header, then the frame */
	u8 *tx_pkt;	      /* a chain in too many pieces for writev(), flattened */
	bool tx_pending;      /* kicked, or the budget ran out with buffers left */
	bool tx_blocked;      /* the backend is full: wait until it is writable */

	u64 rx_packets, tx_packets, rx_dropped, tx_dropped;
	struct metrics_set metrics; /* the API's view of the same, and bytes */

	/* Rate limiters (net_worker.c): each direction's buckets and timer. */
	struct rate_limiter rx_rl, tx_rl;
	int rx_timer, tx_timer;
	bool rx_throttled; /* the packet in rx_pkt waits for rx_timer */
	bool rx_paid;	   /* the packet in rx_pkt was charged */
	bool tx_throttled; /* a chain went back on the ring until tx_timer */
};

/*
 * Fills n for opt on backend be (taking it, and n->vhost if set): buffers, config space
 * and offered features. Returns 0, or -ENOMEM after releasing be and n->vhost itself.
 * virtio_net_cleanup() undoes it.
 */
int virtio_net_init(struct virtio_net *n, const struct net_options *opt, unsigned int index,
		    struct net_backend *be);
void virtio_net_cleanup(struct virtio_net *n);
/* Reads the negotiated features and sets the backend's offloads: start() without threads. */
int virtio_net_activate(struct virtio_net *n);
/* Drops every packet and buffer in flight and forgets the negotiation: stop() without threads. */
void virtio_net_deactivate(struct virtio_net *n);
/* Sends what the driver queued, up to a budget. */
void virtio_net_tx(struct virtio_net *n);
/* Moves packets from the backend into the driver's buffers, up to a budget. */
void virtio_net_rx(struct virtio_net *n);
/*
 * The rate limiters (net_worker.c). limiters_init makes the timers (at realize: the
 * sandboxed threads that start the worker cannot) with opt's buckets; 0 or -1.
 */
int virtio_net_limiters_init(struct virtio_net *n);
void virtio_net_limiters_fini(struct virtio_net *n);
/* Charges a transmit chain: true when it must wait (the tx timer is armed). */
bool virtio_net_tx_throttle(struct virtio_net *n, const struct vq_chain *c);
/* Charges the packet in rx_pkt: true when it must wait (the rx timer is armed). */
bool virtio_net_rx_throttle(struct virtio_net *n);
struct vm;
/* New buckets for NIC index (the control API's PATCH): 0, or -ENODEV. */
int virtio_net_set_limiters(struct vm *vm, unsigned int index, const struct rl_config *rx,
			    const struct rl_config *tx);
/* Starts the worker thread (net_worker.c): 0 or -errno. */
int virtio_net_start_worker(struct virtio_net *n);

/*
 * Whether the driver's header for a frame of frame_len bytes asks only for what it
 * negotiated (NET_OFF_* in offloads). Returns 0, or -EINVAL: drop the frame.
 */
int virtio_net_check_tx_hdr(const struct virtio_net_hdr_v1 *hdr, unsigned int offloads,
			    size_t frame_len);

#endif
