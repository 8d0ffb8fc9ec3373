// SPDX-License-Identifier: GPL-2.0-only
/*
 * The userspace vsock device's connection table and state machine (see vsock_conn.h).
 * Host-initiated: HANDSHAKE -> (CONNECT line) CONNECTING -> (RESPONSE) ESTABLISHED.
 * Guest-initiated: (REQUEST) -> the worker connects -> ESTABLISHED, RESPONSE owed, or
 * gone with a reset owed. Either side may end it: the guest with RST or a full SHUTDOWN
 * (DRAINING until its buffered bytes are written, then RST), the host socket with its
 * end (SHUTDOWN "no more sends" owed, CLOSING until the guest's full SHUTDOWN or RST).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vsock_conn.h"

void vsock_conns_init(struct vsock_conns *t, u64 guest_cid)
{
	memset(t, 0, sizeof(*t));
	t->guest_cid = guest_cid;
	t->next_port = VSOCK_PORT_FIRST;
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++)
		t->conns[i].fd = -1;
}

static void conn_release(struct vsock_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->state = VC_FREE;
}

void vsock_conns_clear(struct vsock_conns *t)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++)
		if (t->conns[i].state != VC_FREE)
			conn_release(&t->conns[i]);
	t->used = 0;
	t->rst_n = 0;
	t->rst_head = 0;
}

struct vsock_conn *vsock_conns_find(struct vsock_conns *t, u32 local, u32 peer)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &t->conns[i];

		/* A handshake has no ports yet. */
		if (c->state > VC_HANDSHAKE && c->local_port == local && c->peer_port == peer)
			return c;
	}
	return NULL;
}

struct vsock_conn *vsock_conns_add(struct vsock_conns *t, enum vsock_state state, int fd)
{
	if (t->used >= VSOCK_MAX_CONNS)
		return NULL;
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &t->conns[i];

		if (c->state == VC_FREE) {
			conn_release(c);
			c->state = state;
			c->fd = fd;
			t->used++;
			return c;
		}
	}
	return NULL;
}

bool vsock_conns_queue_rst(struct vsock_conns *t, u32 local, u32 peer)
{
	unsigned int slot;

	if (t->rst_n == VSOCK_RST_QUEUE) {
		/* A guest flooding us with strays: it learns by its own timeout instead. */
		t->rst_dropped++;
		return false;
	}
	slot = (t->rst_head + t->rst_n++) % VSOCK_RST_QUEUE;
	t->rst[slot].local = local;
	t->rst[slot].peer = peer;
	return true;
}

void vsock_conn_drop(struct vsock_conns *t, struct vsock_conn *c, bool rst)
{
	if (c->state == VC_FREE)
		return;
	/* A client still in its handshake has nothing in the guest to reset. */
	if (rst && c->state != VC_HANDSHAKE)
		vsock_conns_queue_rst(t, c->local_port, c->peer_port);
	conn_release(c);
	t->used--;
}

u64 vsock_conns_expire(struct vsock_conns *t, u64 now_ns)
{
	u64 next = UINT64_MAX;
	bool dropped = false;

	for (unsigned int i = 0; i < VSOCK_MAX_CONNS && t->used; i++) {
		struct vsock_conn *c = &t->conns[i];

		if (c->state != VC_CONNECTING || c->guest_side)
			continue;
		/* The clock starts at the first look: the handshake code has none. */
		if (!c->deadline_ns)
			c->deadline_ns = now_ns + VSOCK_CONNECT_TIMEOUT_NS;
		if (c->deadline_ns <= now_ns) {
			/* A REQUEST never sent has nothing in the guest to reset. */
			vsock_conn_drop(t, c, !(c->pending & VC_OWE_REQUEST));
			dropped = true;
			continue;
		}
		next = MIN(next, c->deadline_ns - now_ns);
	}
	return dropped ? 0 : next;
}

u32 vsock_conn_peer_credit(const struct vsock_conn *c)
{
	u32 in_flight = c->tx_cnt - c->peer_fwd_cnt; /* wraps as the counters do */

	/* A guest claiming to have forwarded more than we sent gets nothing, not 4 GiB. */
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

u32 vsock_conn_room(const struct vsock_conn *c)
{
	return VSOCK_BUF_ALLOC - c->buf_len;
}

/* A new connection the guest asked for: its local port is the host port it dialled. */
static struct vsock_conn *guest_request(struct vsock_conns *t, const struct vsock_hdr *h,
					enum vsock_action *act)
{
	struct vsock_conn *c = vsock_conns_add(t, VC_CONNECTING, -1);

	if (!c) {
		vsock_conns_queue_rst(t, h->dst_port, h->src_port);
		return NULL;
	}
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->guest_side = true;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	*act = VA_CONNECT;
	return c;
}

void vsock_conn_connected(struct vsock_conns *t, struct vsock_conn *c, int fd)
{
	if (fd < 0) {
		vsock_conn_drop(t, c, true);
		return;
	}
	c->fd = fd;
	c->state = VC_ESTABLISHED;
	c->pending |= VC_OWE_RESPONSE;
}

/* SHUTDOWN from the guest: flags accumulate; both ways means the connection is over. */
static enum vsock_action guest_shutdown(struct vsock_conns *t, struct vsock_conn *c, u32 flags)
{
	bool was_send = c->shut_send;

	c->shut_rcv |= !!(flags & VIRTIO_VSOCK_SHUTDOWN_RCV);
	c->shut_send |= !!(flags & VIRTIO_VSOCK_SHUTDOWN_SEND);
	if (c->shut_rcv && c->shut_send) {
		if (!c->buf_len) {
			vsock_conn_drop(t, c, true);
			return VA_NONE;
		}
		c->state = VC_DRAINING;
		return VA_NONE;
	}
	return c->shut_send && !was_send ? VA_SHUT_WR : VA_NONE;
}

/* Data from the guest: only on an open connection and within the credit it was given. */
static enum vsock_action guest_data(struct vsock_conns *t, struct vsock_conn *c,
				    const struct vsock_hdr *h)
{
	bool open = c->state == VC_ESTABLISHED || c->state == VC_CLOSING;

	/* CLOSING: the host stopped sending, but may still read (a half-close). */
	if (!open || c->shut_send || h->len > vsock_conn_room(c)) {
		vsock_conn_drop(t, c, true);
		return VA_NONE;
	}
	return h->len ? VA_DATA : VA_NONE;
}

/* A packet for a connection we have. */
static enum vsock_action guest_known(struct vsock_conns *t, struct vsock_conn *c,
				     const struct vsock_hdr *h)
{
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != VC_CONNECTING || c->guest_side)
			break;
		c->state = VC_ESTABLISHED;
		return VA_ACCEPTED;
	case VIRTIO_VSOCK_OP_RST:
		vsock_conn_drop(t, c, false);
		return VA_NONE;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (c->state != VC_ESTABLISHED && c->state != VC_CLOSING)
			break;
		return guest_shutdown(t, c, h->flags);
	case VIRTIO_VSOCK_OP_RW:
		return guest_data(t, c, h);
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		return VA_NONE;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pending |= VC_OWE_CREDIT;
		return VA_NONE;
	}
	/* REQUEST for a connection that exists, or a packet out of order: end it. */
	vsock_conn_drop(t, c, true);
	return VA_NONE;
}

struct vsock_conn *vsock_conns_guest_pkt(struct vsock_conns *t, const struct vsock_hdr *h,
					 enum vsock_action *act)
{
	struct vsock_conn *c = vsock_conns_find(t, h->dst_port, h->src_port);

	*act = VA_NONE;
	if (!c) {
		if (h->op == VIRTIO_VSOCK_OP_REQUEST)
			return guest_request(t, h, act);
		/* Never answer a reset with one: two peers would bounce them forever. */
		if (h->op != VIRTIO_VSOCK_OP_RST)
			vsock_conns_queue_rst(t, h->dst_port, h->src_port);
		return NULL;
	}
	*act = guest_known(t, c, h);
	return c->state == VC_FREE ? NULL : c;
}

/* A host port no connection uses, for a host-initiated connection. */
static u32 alloc_port(struct vsock_conns *t)
{
	/* At most VSOCK_MAX_CONNS ports are in use, so this ends within that many tries. */
	for (;;) {
		u32 port = t->next_port++;
		bool used = false;

		if (t->next_port == 0xffffffffU || t->next_port < VSOCK_PORT_FIRST)
			t->next_port = VSOCK_PORT_FIRST;
		for (unsigned int i = 0; i < VSOCK_MAX_CONNS && !used; i++)
			used = t->conns[i].state > VC_HANDSHAKE && t->conns[i].local_port == port;
		if (!used)
			return port;
	}
}

/* "CONNECT <port>": a decimal port of at most 10 digits below 2^32. */
static int parse_connect(const char *line, u32 *port)
{
	const char *p = line + 8;
	u64 v = 0;

	if (strncmp(line, "CONNECT ", 8) || !*p || strlen(p) > 10)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (u64)(*p - '0');
	}
	if (v > 0xffffffffULL)
		return -1;
	*port = (u32)v;
	return 0;
}

int vsock_conn_handshake_byte(struct vsock_conns *t, struct vsock_conn *c, char ch)
{
	u32 port;

	if (ch != '\n') {
		if (c->line_len + 1 >= VSOCK_LINE_MAX || !ch)
			return -1;
		c->line[c->line_len++] = ch;
		return 0;
	}
	c->line[c->line_len] = '\0';
	if (c->line_len && c->line[c->line_len - 1] == '\r')
		c->line[--c->line_len] = '\0';
	if (parse_connect(c->line, &port))
		return -1;
	c->peer_port = port;
	c->local_port = alloc_port(t);
	c->state = VC_CONNECTING;
	c->pending |= VC_OWE_REQUEST;
	return 1;
}

void vsock_conn_hdr(struct vsock_conns *t, struct vsock_conn *c, u16 op, u32 len,
		    struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID,
		.dst_cid = t->guest_cid,
		.src_port = c->local_port,
		.dst_port = c->peer_port,
		.len = len,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op,
		.buf_alloc = VSOCK_BUF_ALLOC,
		.fwd_cnt = c->fwd_cnt,
	};
	c->fwd_announced = c->fwd_cnt;
	c->tx_cnt += len;
}

static void rst_hdr(struct vsock_conns *t, u32 local, u32 peer, struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID,
		.dst_cid = t->guest_cid,
		.src_port = local,
		.dst_port = peer,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = VIRTIO_VSOCK_OP_RST,
	};
}

/* One owed packet of c, the most urgent first. */
static bool conn_ctrl(struct vsock_conns *t, struct vsock_conn *c, struct vsock_hdr *h)
{
	static const struct {
		u32 bit;
		u16 op;
	} order[] = {
		{VC_OWE_REQUEST, VIRTIO_VSOCK_OP_REQUEST},
		{VC_OWE_RESPONSE, VIRTIO_VSOCK_OP_RESPONSE},
		{VC_OWE_CREDIT, VIRTIO_VSOCK_OP_CREDIT_UPDATE},
		{VC_OWE_SHUTDOWN, VIRTIO_VSOCK_OP_SHUTDOWN},
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(order); i++) {
		if (!(c->pending & order[i].bit))
			continue;
		c->pending &= ~order[i].bit;
		vsock_conn_hdr(t, c, order[i].op, 0, h);
		if (order[i].op == VIRTIO_VSOCK_OP_SHUTDOWN)
			h->flags = VIRTIO_VSOCK_SHUTDOWN_SEND; /* the host may still read */
		return true;
	}
	return false;
}

bool vsock_conns_next_ctrl(struct vsock_conns *t, struct vsock_hdr *h)
{
	if (t->rst_n) {
		rst_hdr(t, t->rst[t->rst_head].local, t->rst[t->rst_head].peer, h);
		t->rst_head = (t->rst_head + 1) % VSOCK_RST_QUEUE;
		t->rst_n--;
		return true;
	}
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &t->conns[i];

		if (c->state != VC_FREE && c->pending && conn_ctrl(t, c, h))
			return true;
	}
	return false;
}

int vsock_conn_buffer(struct vsock_conn *c, const u8 *data, u32 len)
{
	u32 tail, first;

	if (len > vsock_conn_room(c))
		return -1;
	if (!c->buf) {
		c->buf = malloc(VSOCK_BUF_ALLOC);
		if (!c->buf)
			return -1;
	}
	tail = (c->buf_head + c->buf_len) % VSOCK_BUF_ALLOC;
	first = MIN(len, VSOCK_BUF_ALLOC - tail);
	memcpy(c->buf + tail, data, first);
	memcpy(c->buf, data + first, len - first);
	c->buf_len += len;
	return 0;
}

u32 vsock_conn_peek(const struct vsock_conn *c, const u8 **data)
{
	*data = c->buf ? c->buf + c->buf_head : NULL;
	return MIN(c->buf_len, VSOCK_BUF_ALLOC - c->buf_head);
}

void vsock_conn_forwarded(struct vsock_conn *c, u32 n, bool from_buffer)
{
	if (from_buffer) {
		c->buf_head = (c->buf_head + n) % VSOCK_BUF_ALLOC;
		c->buf_len -= n;
	}
	c->fwd_cnt += n;
	/*
	 * The guest sends no more than the credit it heard of: tell it once a quarter of
	 * the buffer has been freed, so that it never waits on space we have.
	 */
	if (c->fwd_cnt - c->fwd_announced >= VSOCK_BUF_ALLOC / 4)
		c->pending |= VC_OWE_CREDIT;
}
