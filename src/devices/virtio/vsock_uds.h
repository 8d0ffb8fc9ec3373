/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_VSOCK_UDS_H
#define KVMBOX_DEVICES_VIRTIO_VSOCK_UDS_H

#include <poll.h>
#include <sys/un.h>

#include "../worker.h"
#include "virtio.h"
#include "vsock.h"
#include "vsock_conn.h"

/*
 * The userspace virtio-vsock device (--vsock cid=N,uds=PATH, the API's uds_path): kvmbox
 * is the host end of every connection and carries it over Unix sockets, as Firecracker
 * does. vsock_uds.c is the device (realize, start, stop), vsock_worker.c its one thread.
 */
#define VSOCK_RXQ	 0
#define VSOCK_TXQ	 1
#define VSOCK_EVQ	 2
#define VSOCK_POLL_FIXED 5 /* stop, tx kick, rx kick, listener, event kick */

struct vsock_uds {
	struct virtio_dev vdev;
	u32 cid;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	u8 config[8];

	struct dev_worker worker;

	/* The worker's, between start() and stop(); the table outlives a pause. */
	struct vsock_conns conns;
	struct vq_chain *chain;	   /* a transmit chain */
	struct vq_chain *rx_chain; /* a receive buffer taken and not filled yet */
	bool rx_held;
	bool rx_starved; /* no receive buffers until the driver kicks */
	bool tx_pending; /* kicked, or the round's budget ran out */
	/*
	 * A snapshot load left the guest with connections we do not have: it is owed one
	 * TRANSPORT_RESET event, sent when the worker runs and an event buffer is there.
	 */
	bool reset_owed;
	bool ev_starved; /* no event buffer until the driver kicks the event queue */
	unsigned int rr; /* where the next search for a readable connection starts */
	struct pollfd pfd[VSOCK_POLL_FIXED + VSOCK_MAX_CONNS];
	struct vsock_conn *pconn[VSOCK_MAX_CONNS];
	u8 scratch[VSOCK_MAX_PAYLOAD];
};

void *vsock_uds_worker(void *arg);
/*
 * The device without a VM: allocated, listening at o->uds, its virtio ops set; the
 * caller sets the transport hooks (realize registers it on PCI). 0 with *out, or
 * -EXIT_* after one line saying why. ops->destroy frees it.
 */
int vsock_uds_create(const struct vsock_options *o, struct vsock_uds **out);
/* Sends an owed TRANSPORT_RESET if an event buffer is there. False: the driver broke it. */
bool vsock_uds_serve_event(struct vsock_uds *v);

#endif
