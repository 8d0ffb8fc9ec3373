// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net's worker thread, and its rate limiters (--net rx-bw= ..., the control API's
 * rx_rate_limiter and tx_rate_limiter).
 *
 * Each direction has a limiter and a timerfd. A transmit chain is charged (one op, its
 * frame's bytes) before it is sent; one that does not fit goes back on the ring, kicks
 * stay off and the worker waits on the transmit timer. A received packet is charged
 * before it is copied to the driver; one that does not fit waits in rx_pkt, and the
 * worker stops watching the backend until the receive timer fires, so neither a busy
 * tap nor a kicking guest can spin it.
 */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../../util/log.h"
#include "../../util/thread.h"
#include "../../vm.h"
#include "net.h"
#include "virtio_pci.h"

int virtio_net_limiters_init(struct virtio_net *n)
{
	n->rx_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	n->tx_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (n->rx_timer < 0 || n->tx_timer < 0) {
		if (n->rx_timer >= 0)
			close(n->rx_timer);
		if (n->tx_timer >= 0)
			close(n->tx_timer);
		n->rx_timer = n->tx_timer = -1;
		return -1;
	}
	rate_limiter_init(&n->rx_rl, &n->opt.rx_rl);
	rate_limiter_init(&n->tx_rl, &n->opt.tx_rl);
	rate_limiter_set_timer(&n->rx_rl, n->rx_timer);
	rate_limiter_set_timer(&n->tx_rl, n->tx_timer);
	return 0;
}

void virtio_net_limiters_fini(struct virtio_net *n)
{
	if (n->rx_timer < 0)
		return; /* never made (init failed before) */
	rate_limiter_destroy(&n->rx_rl);
	rate_limiter_destroy(&n->tx_rl);
	close(n->rx_timer);
	close(n->tx_timer);
	n->rx_timer = n->tx_timer = -1;
}

bool virtio_net_tx_throttle(struct virtio_net *n, const struct vq_chain *c)
{
	u64 bytes = c->out_len > NET_HDR_LEN ? c->out_len - NET_HDR_LEN : 0;

	n->tx_throttled = rate_limiter_consume(&n->tx_rl, bytes, rate_limiter_now()) != 0;
	return n->tx_throttled;
}

bool virtio_net_rx_throttle(struct virtio_net *n)
{
	u64 bytes = n->rx_len - NET_HDR_LEN; /* rx_len holds at least the header */

	n->rx_throttled = rate_limiter_consume(&n->rx_rl, bytes, rate_limiter_now()) != 0;
	return n->rx_throttled;
}

/* The NIC behind --net number index, or NULL. */
static struct virtio_net *find_nic(struct vm *vm, unsigned int index)
{
	struct virtio_dev *vdev = NULL;

	while ((vdev = virtio_pci_next(vm->devices, vdev, VIRTIO_ID_NET))) {
		struct virtio_net *n = container_of(vdev, struct virtio_net, vdev);

		if (n->index == index)
			return n;
	}
	return NULL;
}

int virtio_net_set_limiters(struct vm *vm, unsigned int index, const struct rl_config *rx,
			    const struct rl_config *tx)
{
	struct virtio_net *n = find_nic(vm, index);
	u64 now = rate_limiter_now();

	if (!n)
		return -ENODEV;
	rate_limiter_set(&n->rx_rl, rx, now);
	rate_limiter_set(&n->tx_rl, tx, now);
	return 0;
}

/* The timers: the held packet or chain may fit now. */
static void timers_fired(struct virtio_net *n, const struct pollfd *rx, const struct pollfd *tx)
{
	if ((rx->revents & POLLIN) && eventfd_drain(rx->fd))
		n->rx_throttled = false;
	if ((tx->revents & POLLIN) && eventfd_drain(tx->fd) && n->tx_throttled) {
		n->tx_throttled = false;
		n->tx_pending = true;
	}
}

/* One round of the worker: wait, then serve what woke us. Returns false on stop. */
static bool net_worker_round(struct virtio_net *n)
{
	struct net_pollset *ps = &n->ps;
	/* A broken device has nothing to do until the reset: pending work must not spin it. */
	bool tx_ready = n->tx_pending && !n->tx_blocked && !n->tx_throttled;
	bool rx_open = !n->rx_starved && !n->rx_throttled;
	int timeout = !n->vdev.broken && (tx_ready || (n->rx_more && rx_open)) ? 0 : -1;
	unsigned int ready = 0;
	bool failed;

	ps->n = 0;
	/* The first five never fail: virtio_net_init() made room for 16. */
	net_pollset_add(ps, n->worker.stop_fd, POLLIN);
	net_pollset_add(ps, n->vdev.queues[VIRTIO_NET_TXQ].kick_fd, POLLIN);
	net_pollset_add(ps, n->vdev.queues[VIRTIO_NET_RXQ].kick_fd, POLLIN);
	net_pollset_add(ps, n->rx_timer, POLLIN);
	net_pollset_add(ps, n->tx_timer, POLLIN);
	if (!n->vdev.broken)
		n->be->ops->poll_fill(n->be, ps, rx_open, n->tx_blocked, &timeout);
	failed = poll(ps->fds, ps->n, timeout) < 0;
	if (failed && errno != EINTR)
		pr_guest("virtio-net %u: poll: %s", n->index, strerror(errno));
	if (ps->fds[0].revents & POLLIN)
		return false;
	if ((ps->fds[1].revents & POLLIN) && eventfd_drain(ps->fds[1].fd))
		n->tx_pending = true;
	if ((ps->fds[2].revents & POLLIN) && eventfd_drain(ps->fds[2].fd) && n->rx_starved &&
	    !n->vdev.broken && n->vdev.queues[VIRTIO_NET_RXQ].vq.ready) {
		n->rx_starved = false;
		virtqueue_enable_notify(&n->vdev.queues[VIRTIO_NET_RXQ].vq, false);
	}
	timers_fired(n, &ps->fds[3], &ps->fds[4]);
	if (n->vdev.broken)
		return true;
	ready = n->be->ops->poll_done(n->be, ps, failed);
	if (ready & NET_BE_WRITABLE)
		n->tx_blocked = false;
	if (n->tx_pending && !n->tx_blocked && !n->tx_throttled)
		virtio_net_tx(n);
	if (!n->rx_starved && !n->rx_throttled &&
	    ((ready & NET_BE_READABLE) || n->rx_len || n->rx_more))
		virtio_net_rx(n);
	return true;
}

static void *net_worker(void *arg)
{
	struct virtio_net *n = arg;

	/* Buffers the driver queued before DRIVER_OK got no kick we could see. */
	n->tx_pending = true;
	while (net_worker_round(n))
		;
	return NULL;
}

int virtio_net_start_worker(struct virtio_net *n)
{
	return dev_worker_start(&n->worker, n->name, THREAD_VIRTIO_NET, net_worker, n);
}
