/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_VSOCK_CONN_H
#define KVMBOX_DEVICES_VIRTIO_VSOCK_CONN_H

#include "vsock_proto.h"

/*
 * The userspace vsock device's connections and their state machine, without sockets or
 * rings: the worker (vsock_uds.c) does the I/O and asks this table what a packet from
 * the guest means and which packets the guest is owed. Everything is bounded: at most
 * VSOCK_MAX_CONNS connections, VSOCK_BUF_ALLOC bytes buffered per connection (the credit
 * we give the guest), VSOCK_RST_QUEUE resets owed for connections that no longer exist.
 */
#define VSOCK_MAX_CONNS	 1024
#define VSOCK_BUF_ALLOC	 (256 * 1024)
#define VSOCK_RST_QUEUE	 64
#define VSOCK_LINE_MAX	 24	    /* "CONNECT 4294967295\n" and some slack */
#define VSOCK_PORT_FIRST (1U << 30) /* host ports of host-initiated connections start here */
/* How long a host client's CONNECT waits for the guest's answer (Firecracker: 2 s too). */
#define VSOCK_CONNECT_TIMEOUT_NS (2000ULL * 1000 * 1000)

enum vsock_state {
	VC_FREE,
	VC_HANDSHAKE,	/* a host client: waiting for its "CONNECT <port>\n" */
	VC_CONNECTING,	/* REQUEST sent to the guest, waiting for RESPONSE or RST */
	VC_ESTABLISHED, /* bytes flow */
	VC_CLOSING,	/* the host socket ended: SHUTDOWN SEND owed; the guest may still send */
	VC_DRAINING,	/* the guest shut down both ways: write what is buffered, then RST */
};

/* Control packets a connection owes the guest (vsock_conn.pending). */
#define VC_OWE_REQUEST	(1U << 0)
#define VC_OWE_RESPONSE (1U << 1)
#define VC_OWE_CREDIT	(1U << 2)
#define VC_OWE_SHUTDOWN (1U << 3)

struct vsock_conn {
	enum vsock_state state;
	int fd;		 /* the host socket; -1 when none */
	u32 local_port;	 /* the host's end */
	u32 peer_port;	 /* the guest's end */
	u32 pending;	 /* VC_OWE_* */
	bool readable;	 /* the socket polled readable: data (or its end) for the guest */
	bool shut_rcv;	 /* the guest takes no more data */
	bool shut_send;	 /* the guest sends no more data */
	bool host_eof;	 /* the host socket reached its end */
	bool guest_side; /* the guest initiated it (for messages) */
	bool wr_closed;	 /* shutdown(SHUT_WR) done after the guest's SHUTDOWN SEND */

	/* The guest's receive space, from its latest header, and what we sent it. */
	u32 peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* Ours: bytes written to the host socket, and the count the guest last heard. */
	u32 fwd_cnt, fwd_announced;
	/* Guest bytes the socket did not take yet: a ring of VSOCK_BUF_ALLOC, made on need. */
	u8 *buf;
	u32 buf_head, buf_len;

	char line[VSOCK_LINE_MAX];
	u32 line_len;
	u64 deadline_ns; /* a host client's CONNECT: when it gives up on the guest; 0 unset */
};

struct vsock_conns {
	u64 guest_cid;
	struct vsock_conn conns[VSOCK_MAX_CONNS];
	unsigned int used;
	u32 next_port;
	/* Resets owed for connections already gone (or never made): local, peer port. */
	struct {
		u32 local, peer;
	} rst[VSOCK_RST_QUEUE];
	unsigned int rst_head, rst_n;
	u64 rst_dropped;
};

/* What the worker must do after vsock_conns_guest_pkt(). */
enum vsock_action {
	VA_NONE,
	VA_CONNECT,  /* a new guest connection: connect to <uds>_<local_port>, then report */
	VA_ACCEPTED, /* the guest took a host connection: tell the client "OK <local_port>" */
	VA_DATA,     /* the packet's payload goes to the connection's socket */
	VA_SHUT_WR,  /* the guest sends no more: shut the socket's write side once drained */
};

void vsock_conns_init(struct vsock_conns *t, u64 guest_cid);
/* Closes every socket and frees every buffer; nothing is owed afterwards. */
void vsock_conns_clear(struct vsock_conns *t);

struct vsock_conn *vsock_conns_find(struct vsock_conns *t, u32 local, u32 peer);
/* A new connection in state, or NULL when the table is full. */
struct vsock_conn *vsock_conns_add(struct vsock_conns *t, enum vsock_state state, int fd);
/* Closes c's socket and frees its slot; with rst, the guest is owed a reset for it. */
void vsock_conn_drop(struct vsock_conns *t, struct vsock_conn *c, bool rst);
/* Queues a reset for ports with no connection; false when the queue was full. */
bool vsock_conns_queue_rst(struct vsock_conns *t, u32 local, u32 peer);

/*
 * A packet the guest sent (already checked by vsock_hdr_check()). Returns the connection
 * concerned (NULL when none remains) and sets *act. VA_DATA is only returned when the
 * payload fits the credit we gave; a guest that overruns it is reset.
 */
struct vsock_conn *vsock_conns_guest_pkt(struct vsock_conns *t, const struct vsock_hdr *h,
					 enum vsock_action *act);
/* The worker's connect() for VA_CONNECT: fd on success, -1 (the guest gets RST) on failure. */
void vsock_conn_connected(struct vsock_conns *t, struct vsock_conn *c, int fd);

/*
 * A host client's handshake bytes, one call per byte read. Returns 0 for more, 1 when
 * "CONNECT <port>\n" is complete (c is VC_CONNECTING and owes REQUEST), -1 when the line
 * is malformed (the caller drops c).
 */
int vsock_conn_handshake_byte(struct vsock_conns *t, struct vsock_conn *c, char ch);

/*
 * Host clients' CONNECTs that the guest did not answer (RESPONSE or RST) within
 * VSOCK_CONNECT_TIMEOUT_NS of now_ns first seeing them: dropped, the client's socket
 * closed, and the guest reset if it was asked. Returns 0 when one was dropped (a reset
 * may be owed now), else the nanoseconds to the next deadline, UINT64_MAX for none.
 */
u64 vsock_conns_expire(struct vsock_conns *t, u64 now_ns);

/* The guest's free receive space for c: what may be sent to it now. */
u32 vsock_conn_peer_credit(const struct vsock_conn *c);
/* Bytes of guest data c may still take into its buffer. */
u32 vsock_conn_room(const struct vsock_conn *c);

/*
 * The next control packet the guest is owed, into h (a reset first, then per
 * connection). Returns true when there was one; what it was is no longer owed, and a
 * connection that owed its final reset is gone.
 */
bool vsock_conns_next_ctrl(struct vsock_conns *t, struct vsock_hdr *h);
/* A header from c to the guest with op, len and our credit (which the guest then knows). */
void vsock_conn_hdr(struct vsock_conns *t, struct vsock_conn *c, u16 op, u32 len,
		    struct vsock_hdr *h);

/* Buffering the guest's bytes: append (len <= room), peek the oldest, consume written. */
int vsock_conn_buffer(struct vsock_conn *c, const u8 *data, u32 len);
u32 vsock_conn_peek(const struct vsock_conn *c, const u8 **data);
/* n bytes reached the socket (directly or from the buffer): fwd_cnt and maybe a credit update. */
void vsock_conn_forwarded(struct vsock_conn *c, u32 n, bool from_buffer);

#endif
