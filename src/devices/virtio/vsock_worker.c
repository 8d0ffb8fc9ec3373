// SPDX-License-Identifier: GPL-2.0-only
/*
 * The userspace vsock device's worker: one poll() over its eventfds, the listening
 * socket and every connection's socket. It takes the guest's packets off the tx queue
 * (each header checked, vsock_proto.c; each acted on through the connection table,
 * vsock_conn.c) and fills the rx queue with what the guest is owed: resets and other
 * control packets first, then data read from the sockets, as far as the guest's credit
 * allows. Sockets are nonblocking; what a socket does not take waits in the connection's
 * bounded buffer, and the guest never gets more credit than that buffer has room for.
 * After a snapshot load it first owes the guest one transport reset on the event queue.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../util/log.h"
#include "../../util/thread.h"
#include "vsock.h"
#include "vsock_uds.h"

#define TX_BUDGET     256 /* packets taken from the guest per round */
#define RX_BUDGET     256 /* packets given to the guest per round */
#define ACCEPT_BUDGET 16  /* new host clients per round */

/* Connects to "<path>_<port>" for a guest's REQUEST; the socket, or -1. */
static int uds_connect(struct vsock_uds *v, u32 port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	/* The option's check left room for "_4294967295" (VSOCK_UDS_MAX). */
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%.*s_%u", VSOCK_UDS_MAX, v->path, port) >=
	    (int)sizeof(sa.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A Unix connect does not wait: EAGAIN is a full backlog, which refuses too. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		pr_debug("virtio-vsock: guest port %u: %s: %s", port, sa.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* After the buffer drained: the write side ends as the guest asked, or the connection. */
static void after_drain(struct vsock_uds *v, struct vsock_conn *c)
{
	if (c->buf_len)
		return;
	if (c->state == VC_DRAINING) {
		vsock_conn_drop(&v->conns, c, true);
		return;
	}
	if (c->shut_send && !c->wr_closed) {
		shutdown(c->fd, SHUT_WR);
		c->wr_closed = true;
	}
}

/* Sends what a socket takes; -1 when it is broken (the connection is dropped). */
static ssize_t sock_send(struct vsock_uds *v, struct vsock_conn *c, const u8 *data, u32 len)
{
	ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	vsock_conn_drop(&v->conns, c, true);
	return -1;
}

static void flush(struct vsock_uds *v, struct vsock_conn *c)
{
	const u8 *data;
	u32 len;

	while ((len = vsock_conn_peek(c, &data))) {
		ssize_t n = sock_send(v, c, data, len);

		if (n < 0)
			return;
		vsock_conn_forwarded(c, (u32)n, true);
		if ((u32)n < len)
			return;
	}
	after_drain(v, c);
}

/* The guest's data for c: straight to the socket when nothing waits, the rest buffered. */
static void forward(struct vsock_uds *v, struct vsock_conn *c, const u8 *data, u32 len)
{
	ssize_t n = 0;

	if (!c->buf_len) {
		n = sock_send(v, c, data, len);
		if (n < 0)
			return;
		vsock_conn_forwarded(c, (u32)n, false);
	}
	/* The table checked the credit: room is there, unless malloc fails. */
	if ((u32)n < len && vsock_conn_buffer(c, data + n, len - (u32)n))
		vsock_conn_drop(&v->conns, c, true);
}

/* The guest accepted a host client's connection: the client learns its host port. */
static void accepted(struct vsock_uds *v, struct vsock_conn *c)
{
	char line[24];
	int n = snprintf(line, sizeof(line), "OK %u\n", c->local_port);

	/* A fresh socket's buffer takes a dozen bytes; if not, the client is gone. */
	if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		vsock_conn_drop(&v->conns, c, true);
}

static void act(struct vsock_uds *v, struct vsock_conn *c, enum vsock_action a,
		const struct vsock_hdr *h)
{
	switch (a) {
	case VA_NONE:
		break;
	case VA_CONNECT:
		vsock_conn_connected(&v->conns, c, uds_connect(v, c->local_port));
		break;
	case VA_ACCEPTED:
		accepted(v, c);
		break;
	case VA_DATA:
		if (iov_to_buf(v->chain->out, v->chain->n_out, VSOCK_HDR_LEN, v->scratch, h->len) ==
		    h->len)
			forward(v, c, v->scratch, h->len);
		break;
	case VA_SHUT_WR:
		after_drain(v, c);
		break;
	}
}

/* One packet from the guest. */
static void tx_packet(struct vsock_uds *v, const struct vq_chain *ch)
{
	u8 raw[VSOCK_HDR_LEN];
	struct vsock_hdr h;
	enum vsock_bad bad;
	enum vsock_action a;
	struct vsock_conn *c;

	if (iov_to_buf(ch->out, ch->n_out, 0, raw, sizeof(raw)) < sizeof(raw)) {
		pr_guest("virtio-vsock: a transmit buffer shorter than a packet header");
		return;
	}
	vsock_hdr_decode(raw, &h);
	bad = vsock_hdr_check(&h, v->cid, ch->out_len - VSOCK_HDR_LEN);
	if (bad == VSOCK_BAD_TYPE || bad == VSOCK_BAD_OP) {
		if (h.op != VIRTIO_VSOCK_OP_RST)
			vsock_conns_queue_rst(&v->conns, h.dst_port, h.src_port);
		return;
	}
	if (bad) {
		pr_guest("virtio-vsock: dropped a packet with %s", vsock_bad_name(bad));
		return;
	}
	c = vsock_conns_guest_pkt(&v->conns, &h, &a);
	if (c)
		act(v, c, a, &h);
}

/* The guest's packets, up to a budget. Returns false when the driver broke the queue. */
static bool serve_tx(struct vsock_uds *v)
{
	struct virtqueue *vq = &v->vdev.queues[VSOCK_TXQ].vq;
	unsigned int n = 0;
	int ret;

	v->tx_pending = false;
	do {
		virtqueue_enable_notify(vq, false);
		while ((ret = virtqueue_pop(vq, v->chain)) == 1) {
			tx_packet(v, v->chain);
			if (virtqueue_push(vq, v->chain->head, 0) < 0)
				return false;
			if (++n == TX_BUDGET) {
				v->tx_pending = true;
				goto out;
			}
		}
		if (ret < 0)
			return false;
	} while (virtqueue_enable_notify(vq, true));
out:
	if (n)
		v->vdev.notify(&v->vdev, VSOCK_TXQ);
	return true;
}

/* A receive buffer to fill, held until filled. 1, 0 when none, -1 on a broken queue. */
static int rx_take(struct vsock_uds *v)
{
	struct virtqueue *vq = &v->vdev.queues[VSOCK_RXQ].vq;
	int ret;

	if (v->rx_held)
		return 1;
	if (v->rx_starved)
		return 0;
	ret = virtqueue_pop(vq, v->rx_chain);
	if (ret == 0 && virtqueue_enable_notify(vq, true))
		ret = virtqueue_pop(vq, v->rx_chain); /* one came in between */
	if (ret == 0)
		v->rx_starved = true;
	if (ret > 0)
		virtqueue_enable_notify(vq, false);
	v->rx_held = ret > 0;
	return ret < 0 ? -1 : ret;
}

static int rx_put(struct vsock_uds *v, const struct vsock_hdr *h, const u8 *payload)
{
	u8 raw[VSOCK_HDR_LEN];

	vsock_hdr_encode(h, raw);
	buf_to_iov(v->rx_chain->in, v->rx_chain->n_in, 0, raw, sizeof(raw));
	if (h->len)
		buf_to_iov(v->rx_chain->in, v->rx_chain->n_in, VSOCK_HDR_LEN, payload, h->len);
	v->rx_held = false;
	return virtqueue_push(&v->vdev.queues[VSOCK_RXQ].vq, v->rx_chain->head,
			      VSOCK_HDR_LEN + h->len);
}

/* Reads c's socket into the held buffer. 1 when a packet went out, 0 if none, -1 broken. */
static int rx_data(struct vsock_uds *v, struct vsock_conn *c)
{
	u32 room = (u32)MIN(v->rx_chain->in_len - VSOCK_HDR_LEN, VSOCK_MAX_PAYLOAD);
	u32 want = MIN(room, vsock_conn_peer_credit(c));
	struct vsock_hdr h;
	ssize_t n = read(c->fd, v->scratch, want);

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		c->readable = false;
		return 0;
	}
	if (n <= 0) {
		/* The host is done sending (or its socket broke): the guest hears SHUTDOWN. */
		c->readable = false;
		c->host_eof = true;
		c->state = VC_CLOSING;
		c->pending |= VC_OWE_SHUTDOWN;
		return 0;
	}
	vsock_conn_hdr(&v->conns, c, VIRTIO_VSOCK_OP_RW, (u32)n, &h);
	return rx_put(v, &h, v->scratch) < 0 ? -1 : 1;
}

static bool may_read(const struct vsock_conn *c)
{
	return c->state == VC_ESTABLISHED && !c->host_eof && !c->shut_rcv &&
	       vsock_conn_peer_credit(c) > 0;
}

/* The next connection with data for the guest, round robin; NULL when none. */
static struct vsock_conn *next_readable(struct vsock_uds *v)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conns.conns[(v->rr + i) % VSOCK_MAX_CONNS];

		if (c->readable && may_read(c)) {
			v->rr = (v->rr + i + 1) % VSOCK_MAX_CONNS;
			return c;
		}
	}
	return NULL;
}

/* One packet into a held buffer. 1 sent, 0 nothing to send, -1 broken queue. */
static int rx_one(struct vsock_uds *v)
{
	struct vsock_hdr h;
	struct vsock_conn *c;
	int ret;

	if (v->rx_chain->in_len < VSOCK_HDR_LEN) {
		pr_guest("virtio-vsock: a receive buffer shorter than a packet header");
		v->rx_held = false;
		return virtqueue_push(&v->vdev.queues[VSOCK_RXQ].vq, v->rx_chain->head, 0) < 0 ? -1
											       : 1;
	}
	if (vsock_conns_next_ctrl(&v->conns, &h))
		return rx_put(v, &h, NULL) < 0 ? -1 : 1;
	while ((c = next_readable(v))) {
		ret = rx_data(v, c);
		if (ret)
			return ret;
		if (c->pending) /* its SHUTDOWN */
			return rx_one(v);
	}
	return 0;
}

/* What the guest is owed, up to a budget. Returns false on a broken queue; *more if left. */
static bool serve_rx(struct vsock_uds *v, bool *more)
{
	unsigned int n = 0;
	int ret = 0;

	*more = false;
	while (n < RX_BUDGET && (ret = rx_take(v)) > 0 && (ret = rx_one(v)) > 0)
		n++;
	if (n)
		v->vdev.notify(&v->vdev, VSOCK_RXQ);
	*more = n == RX_BUDGET;
	return ret >= 0;
}

/*
 * The event the driver expects after a restore: struct virtio_vsock_event, one le32 id,
 * into a buffer of the event queue. Without one, it waits for the event queue's kick.
 */
bool vsock_uds_serve_event(struct vsock_uds *v)
{
	struct virtqueue *vq = &v->vdev.queues[VSOCK_EVQ].vq;
	u8 event[4] = {0}; /* le32 VIRTIO_VSOCK_EVENT_TRANSPORT_RESET (0) */
	int ret;

	if (!v->reset_owed || v->ev_starved || !vq->ready)
		return true;
	ret = virtqueue_pop(vq, v->chain);
	if (ret == 0 && virtqueue_enable_notify(vq, true))
		ret = virtqueue_pop(vq, v->chain); /* one came in between */
	if (ret == 0)
		v->ev_starved = true;
	if (ret <= 0)
		return ret == 0;
	if (v->chain->n_out || v->chain->in_len < sizeof(event)) {
		pr_guest("virtio-vsock: an event buffer that is not %zu writable bytes",
			 sizeof(event));
		return false;
	}
	buf_to_iov(v->chain->in, v->chain->n_in, 0, event, sizeof(event));
	if (virtqueue_push(vq, v->chain->head, sizeof(event)) < 0)
		return false;
	v->reset_owed = false;
	v->vdev.notify(&v->vdev, VSOCK_EVQ);
	return true;
}

/* New host clients, up to a budget; past VSOCK_MAX_CONNS they wait in the backlog. */
static void accept_clients(struct vsock_uds *v)
{
	for (unsigned int i = 0; i < ACCEPT_BUDGET && v->conns.used < VSOCK_MAX_CONNS; i++) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (!vsock_conns_add(&v->conns, VC_HANDSHAKE, fd))
			close(fd);
	}
}

/* A client's "CONNECT <port>\n", a byte at a time so that no data after it is taken. */
static void handshake(struct vsock_uds *v, struct vsock_conn *c)
{
	for (unsigned int i = 0; i < VSOCK_LINE_MAX; i++) {
		char ch;
		ssize_t n = read(c->fd, &ch, 1);
		int ret;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		ret = n == 1 ? vsock_conn_handshake_byte(&v->conns, c, ch) : -1;
		if (ret < 0)
			vsock_conn_drop(&v->conns, c, false);
		if (ret)
			return;
	}
}

static short conn_events(const struct vsock_conn *c)
{
	short ev = 0;

	if (c->state == VC_HANDSHAKE)
		return POLLIN;
	if (c->buf_len && c->state >= VC_ESTABLISHED)
		ev |= POLLOUT;
	if (!c->readable && may_read(c))
		ev |= POLLIN;
	return ev;
}

static void conn_ready(struct vsock_uds *v, struct vsock_conn *c, short rev)
{
	if (c->state == VC_HANDSHAKE) {
		handshake(v, c);
		return;
	}
	if (rev & (POLLOUT | POLLERR | POLLHUP))
		flush(v, c);
	if (c->state != VC_FREE && (rev & (POLLIN | POLLERR | POLLHUP)))
		c->readable = true;
}

static u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000 + (u64)ts.tv_nsec;
}

/* The pollfds of a round: the fixed five, then each connection with something to wait for. */
static unsigned int fill_poll(struct vsock_uds *v)
{
	unsigned int n = VSOCK_POLL_FIXED;

	v->pfd[0] = (struct pollfd){.fd = v->worker.stop_fd, .events = POLLIN};
	v->pfd[1] = (struct pollfd){.fd = v->vdev.queues[VSOCK_TXQ].kick_fd, .events = POLLIN};
	v->pfd[2] = (struct pollfd){.fd = v->vdev.queues[VSOCK_RXQ].kick_fd, .events = POLLIN};
	v->pfd[3] = (struct pollfd){
		.fd = v->listen_fd,
		.events = v->conns.used < VSOCK_MAX_CONNS && !v->vdev.broken ? POLLIN : 0,
	};
	v->pfd[4] = (struct pollfd){.fd = v->vdev.queues[VSOCK_EVQ].kick_fd, .events = POLLIN};
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS && !v->vdev.broken; i++) {
		struct vsock_conn *c = &v->conns.conns[i];
		short ev = c->state == VC_FREE ? 0 : conn_events(c);

		if (!ev)
			continue;
		v->pconn[n - VSOCK_POLL_FIXED] = c;
		v->pfd[n++] = (struct pollfd){.fd = c->fd, .events = ev};
	}
	return n;
}

/* One round: wait, then serve what woke us. Returns false on stop. */
static bool worker_round(struct vsock_uds *v, bool *more)
{
	u64 wait = v->vdev.broken ? UINT64_MAX : vsock_conns_expire(&v->conns, monotonic_ns());
	unsigned int n = fill_poll(v);
	struct timespec ts;

	if (!v->vdev.broken && (*more || v->tx_pending))
		wait = 0;
	ts = (struct timespec){.tv_sec = (time_t)(wait / 1000000000),
			       .tv_nsec = (long)(wait % 1000000000)};
	/* ppoll, not poll: the sandbox allows ppoll only, and glibc's poll(0) is the poll call. */
	if (ppoll(v->pfd, n, wait == UINT64_MAX ? NULL : &ts, NULL) < 0 && errno != EINTR)
		pr_guest("virtio-vsock: poll: %s", strerror(errno));
	if (v->pfd[0].revents & POLLIN)
		return false;
	if ((v->pfd[1].revents & POLLIN) && eventfd_drain(v->pfd[1].fd))
		v->tx_pending = true;
	if ((v->pfd[2].revents & POLLIN) && eventfd_drain(v->pfd[2].fd))
		v->rx_starved = false;
	if ((v->pfd[4].revents & POLLIN) && eventfd_drain(v->pfd[4].fd))
		v->ev_starved = false;
	if (v->vdev.broken)
		return true;
	/* Before any packet: the guest forgets the old connections first. */
	if (!vsock_uds_serve_event(v)) {
		virtio_dev_broke(&v->vdev, "virtio-vsock", "the event queue is broken");
		return true;
	}
	for (unsigned int i = VSOCK_POLL_FIXED; i < n; i++)
		if (v->pfd[i].revents && v->pconn[i - VSOCK_POLL_FIXED]->state != VC_FREE)
			conn_ready(v, v->pconn[i - VSOCK_POLL_FIXED], v->pfd[i].revents);
	if (v->pfd[3].revents & POLLIN)
		accept_clients(v);
	if ((v->tx_pending && !serve_tx(v)) || !serve_rx(v, more)) {
		/* stop() joins us later; until then the rings are left alone. */
		*more = false;
		virtio_dev_broke(&v->vdev, "virtio-vsock", "a queue is broken");
	}
	return true;
}

void *vsock_uds_worker(void *arg)
{
	struct vsock_uds *v = arg;
	bool more = true; /* what was owed before a pause, and buffers queued before start */

	v->tx_pending = true;
	while (worker_round(v, &more))
		;
	return NULL;
}
