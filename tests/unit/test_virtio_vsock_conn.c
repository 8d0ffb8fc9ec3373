// SPDX-License-Identifier: GPL-2.0-only
/*
 * The userspace vsock device's pure parts: packet headers (decode, encode, the checks a
 * hostile guest's header must pass) and the connection table's state machine, driven
 * with headers as a guest would send them and no sockets (fd -1) or rings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "devices/virtio/vsock_conn.h"
#include "util/log.h"

#define GUEST_CID 3

static struct vsock_hdr from_guest(u16 op, u32 src_port, u32 dst_port, u32 len)
{
	return (struct vsock_hdr){
		.src_cid = GUEST_CID,
		.dst_cid = VSOCK_HOST_CID,
		.src_port = src_port,
		.dst_port = dst_port,
		.len = len,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op,
		.buf_alloc = 64 * 1024,
	};
}

static void test_hdr_roundtrip_le(void **state)
{
	struct vsock_hdr h = from_guest(VIRTIO_VSOCK_OP_RW, 0x11223344, 0x55667788, 9), back;
	u8 raw[VSOCK_HDR_LEN];

	(void)state;
	h.src_cid = 0x0102030405060708ULL;
	h.fwd_cnt = 0xa0b0c0d0;
	vsock_hdr_encode(&h, raw);
	assert_int_equal(raw[0], 0x08); /* little-endian on any host */
	assert_int_equal(raw[16], 0x44);
	assert_int_equal(raw[40], 0xd0);
	vsock_hdr_decode(raw, &back);
	assert_true(h.src_cid == back.src_cid && h.dst_cid == back.dst_cid);
	assert_true(h.src_port == back.src_port && h.dst_port == back.dst_port);
	assert_true(h.len == back.len && h.type == back.type && h.op == back.op);
	assert_true(h.flags == back.flags && h.buf_alloc == back.buf_alloc);
	assert_true(h.fwd_cnt == back.fwd_cnt);
}

static void test_hdr_check_hostile(void **state)
{
	struct vsock_hdr h = from_guest(VIRTIO_VSOCK_OP_RW, 1, 2, 100);

	(void)state;
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, 100), VSOCK_OK);
	/* A length beyond the chain, or beyond 64 KiB even if the chain were longer. */
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, 99), VSOCK_BAD_LEN);
	h.len = 0xffffffff;
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, (size_t)-1), VSOCK_BAD_LEN);
	h.len = VSOCK_MAX_PAYLOAD + 1;
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, 1 << 20), VSOCK_BAD_LEN);
	h.len = 0;
	/* Spoofed source, another destination than the host. */
	h.src_cid = 4;
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, 0), VSOCK_BAD_CID);
	h.src_cid = GUEST_CID;
	h.dst_cid = 1;
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, 0), VSOCK_BAD_CID);
	h.dst_cid = VSOCK_HOST_CID | (1ULL << 32);
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, 0), VSOCK_BAD_CID);
	h.dst_cid = VSOCK_HOST_CID;
	h.type = 2; /* SEQPACKET, not offered */
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, 0), VSOCK_BAD_TYPE);
	h.type = VIRTIO_VSOCK_TYPE_STREAM;
	h.op = 0;
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, 0), VSOCK_BAD_OP);
	h.op = 8;
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, 0), VSOCK_BAD_OP);
	h.op = 0xffff;
	assert_int_equal(vsock_hdr_check(&h, GUEST_CID, 0), VSOCK_BAD_OP);
}

static struct vsock_conns *table(void)
{
	struct vsock_conns *t = malloc(sizeof(*t));

	assert_non_null(t);
	vsock_conns_init(t, GUEST_CID);
	return t;
}

static void done(struct vsock_conns *t)
{
	vsock_conns_clear(t);
	free(t);
}

/* The next owed control packet must be op between ports local and peer. */
static void expect_ctrl(struct vsock_conns *t, u16 op, u32 local, u32 peer)
{
	struct vsock_hdr h;

	assert_true(vsock_conns_next_ctrl(t, &h));
	assert_int_equal(h.op, op);
	assert_int_equal(h.src_port, local);
	assert_int_equal(h.dst_port, peer);
	assert_int_equal(h.src_cid, VSOCK_HOST_CID);
	assert_int_equal(h.dst_cid, GUEST_CID);
	assert_int_equal(h.type, VIRTIO_VSOCK_TYPE_STREAM);
	assert_int_equal(h.len, 0);
}

static void feed(struct vsock_conns *t, struct vsock_conn *c, const char *s)
{
	for (; s[1]; s++)
		assert_int_equal(vsock_conn_handshake_byte(t, c, *s), 0);
	assert_int_equal(vsock_conn_handshake_byte(t, c, *s), 1);
}

/* CONNECT 52 -> REQUEST from a host port -> RESPONSE -> OK; data within credit. */
static void test_host_initiated(void **state)
{
	struct vsock_conns *t = table();
	struct vsock_conn *c = vsock_conns_add(t, VC_HANDSHAKE, -1);
	struct vsock_hdr h;
	enum vsock_action a;
	u32 port;

	(void)state;
	feed(t, c, "CONNECT 52\n");
	assert_int_equal(c->state, VC_CONNECTING);
	port = c->local_port;
	assert_true(port >= VSOCK_PORT_FIRST);
	expect_ctrl(t, VIRTIO_VSOCK_OP_REQUEST, port, 52);
	assert_false(vsock_conns_next_ctrl(t, &h));
	h = from_guest(VIRTIO_VSOCK_OP_RESPONSE, 52, port, 0);
	assert_ptr_equal(vsock_conns_guest_pkt(t, &h, &a), c);
	assert_int_equal(a, VA_ACCEPTED);
	assert_int_equal(c->state, VC_ESTABLISHED);
	assert_int_equal(vsock_conn_peer_credit(c), 64 * 1024);
	h = from_guest(VIRTIO_VSOCK_OP_RW, 52, port, 10);
	assert_ptr_equal(vsock_conns_guest_pkt(t, &h, &a), c);
	assert_int_equal(a, VA_DATA);
	/* A second RESPONSE is out of order: reset. */
	h = from_guest(VIRTIO_VSOCK_OP_RESPONSE, 52, port, 0);
	assert_null(vsock_conns_guest_pkt(t, &h, &a));
	expect_ctrl(t, VIRTIO_VSOCK_OP_RST, port, 52);
	assert_int_equal(t->used, 0);
	done(t);
}

static void test_host_refused(void **state)
{
	struct vsock_conns *t = table();
	struct vsock_conn *c = vsock_conns_add(t, VC_HANDSHAKE, -1);
	struct vsock_hdr h;
	enum vsock_action a;

	(void)state;
	feed(t, c, "CONNECT 4294967295\r\n");
	assert_int_equal(c->peer_port, 0xffffffffU);
	h = from_guest(VIRTIO_VSOCK_OP_RST, 0xffffffffU, c->local_port, 0);
	assert_true(vsock_conns_next_ctrl(t, &h)); /* the REQUEST */
	h = from_guest(VIRTIO_VSOCK_OP_RST, 0xffffffffU, c->local_port, 0);
	assert_null(vsock_conns_guest_pkt(t, &h, &a));
	assert_int_equal(a, VA_NONE);
	/* Never a reset for a reset. */
	assert_false(vsock_conns_next_ctrl(t, &h));
	assert_int_equal(t->used, 0);
	done(t);
}

/*
 * A CONNECT the guest never answers: after VSOCK_CONNECT_TIMEOUT_NS the client is dropped
 * and the guest, which had the REQUEST, gets a reset; a late RESPONSE finds nothing. One
 * whose REQUEST was never sent (no receive buffers) is dropped without a reset. Answered
 * and guest-initiated connections have no deadline.
 */
static void test_connect_timeout(void **state)
{
	const u64 t0 = 1000000000ULL, to = VSOCK_CONNECT_TIMEOUT_NS;
	struct vsock_conns *t = table();
	struct vsock_conn *a = vsock_conns_add(t, VC_HANDSHAKE, -1);
	struct vsock_conn *b = vsock_conns_add(t, VC_HANDSHAKE, -1);
	struct vsock_conn *g;
	struct vsock_hdr h;
	enum vsock_action act;
	u32 port_a;

	(void)state;
	assert_int_equal(vsock_conns_expire(t, t0), UINT64_MAX); /* handshakes: no deadline */
	feed(t, a, "CONNECT 52\n");
	port_a = a->local_port;
	expect_ctrl(t, VIRTIO_VSOCK_OP_REQUEST, port_a, 52);
	assert_int_equal(vsock_conns_expire(t, t0), to);
	feed(t, b, "CONNECT 53\n"); /* its REQUEST stays owed */
	assert_int_equal(vsock_conns_expire(t, t0 + 500), to - 500);
	/* A guest-initiated connection waiting for our connect() has no deadline. */
	h = from_guest(VIRTIO_VSOCK_OP_REQUEST, 7000, 99, 0);
	g = vsock_conns_guest_pkt(t, &h, &act);
	assert_non_null(g);
	assert_int_equal(act, VA_CONNECT);
	assert_int_equal(vsock_conns_expire(t, t0 + to - 1), 1);
	assert_int_equal(t->used, 3);
	assert_int_equal(vsock_conns_expire(t, t0 + to), 0);
	assert_int_equal(a->state, VC_FREE);
	assert_int_equal(t->used, 2);
	expect_ctrl(t, VIRTIO_VSOCK_OP_RST, port_a, 52);
	assert_int_equal(vsock_conns_expire(t, t0 + to + 500), 0);
	assert_int_equal(t->used, 1);
	assert_false(vsock_conns_next_ctrl(t, &h)); /* b's REQUEST went with it */
	h = from_guest(VIRTIO_VSOCK_OP_RESPONSE, 52, port_a, 0);
	assert_null(vsock_conns_guest_pkt(t, &h, &act));
	assert_int_equal(act, VA_NONE);
	assert_int_equal(vsock_conns_expire(t, t0 + 10 * to), UINT64_MAX);
	done(t);
}

static void test_handshake_malformed(void **state)
{
	static const char *const bad[] = {
		"connect 5\n",	"CONNECT\n",
		"CONNECT \n",	"CONNECT 5x\n",
		"CONNECT -5\n", "CONNECT 4294967296\n",
		"CONNECT  5\n", "CONNECT 99999999999\n",
	};
	struct vsock_conns *t = table();

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vsock_conn *c = vsock_conns_add(t, VC_HANDSHAKE, -1);
		const char *s = bad[i];
		int ret = 0;

		while (*s && !(ret = vsock_conn_handshake_byte(t, c, *s)))
			s++;
		if (ret != -1)
			fail_msg("'%s' was taken", bad[i]);
		vsock_conn_drop(t, c, false);
	}
	/* A line that never ends is cut at VSOCK_LINE_MAX bytes. */
	{
		struct vsock_conn *c = vsock_conns_add(t, VC_HANDSHAKE, -1);
		int ret = 0, n = 0;

		while (!(ret = vsock_conn_handshake_byte(t, c, '7')) && n < 1000)
			n++;
		assert_int_equal(ret, -1);
		assert_true(n < VSOCK_LINE_MAX);
		vsock_conn_drop(t, c, false);
	}
	/* A dropped handshake owes the guest nothing. */
	{
		struct vsock_hdr h;

		assert_false(vsock_conns_next_ctrl(t, &h));
	}
	done(t);
}

/* A guest REQUEST: the worker connects; success owes RESPONSE, failure RST. */
static void test_guest_initiated(void **state)
{
	struct vsock_conns *t = table();
	struct vsock_hdr h = from_guest(VIRTIO_VSOCK_OP_REQUEST, 1234, 80, 0);
	struct vsock_conn *c;
	enum vsock_action a;

	(void)state;
	c = vsock_conns_guest_pkt(t, &h, &a);
	assert_non_null(c);
	assert_int_equal(a, VA_CONNECT);
	assert_int_equal(c->local_port, 80);
	vsock_conn_connected(t, c, -1);
	expect_ctrl(t, VIRTIO_VSOCK_OP_RST, 80, 1234);
	assert_int_equal(t->used, 0);

	c = vsock_conns_guest_pkt(t, &h, &a);
	vsock_conn_connected(t, c, 1000); /* a number only: clear() closes it, harmlessly */
	c->fd = -1;
	expect_ctrl(t, VIRTIO_VSOCK_OP_RESPONSE, 80, 1234);
	/* The same REQUEST again while connected: reset, not a second connection. */
	assert_null(vsock_conns_guest_pkt(t, &h, &a));
	expect_ctrl(t, VIRTIO_VSOCK_OP_RST, 80, 1234);
	assert_int_equal(t->used, 0);
	done(t);
}

static struct vsock_conn *established(struct vsock_conns *t, u32 guest_port, u32 port)
{
	struct vsock_hdr h = from_guest(VIRTIO_VSOCK_OP_REQUEST, guest_port, port, 0);
	enum vsock_action a;
	struct vsock_conn *c = vsock_conns_guest_pkt(t, &h, &a);

	assert_non_null(c);
	vsock_conn_connected(t, c, 1000);
	c->fd = -1;
	c->pending = 0;
	return c;
}

/* Data beyond the credit we gave is a guest breaking the rules: reset. */
static void test_credit_overrun(void **state)
{
	struct vsock_conns *t = table();
	struct vsock_conn *c = established(t, 7, 8);
	static u8 data[VSOCK_MAX_PAYLOAD];
	struct vsock_hdr h;
	enum vsock_action a;

	(void)state;
	/* Four full packets buffered fill the 256 KiB exactly. */
	for (int i = 0; i < 4; i++) {
		h = from_guest(VIRTIO_VSOCK_OP_RW, 7, 8, VSOCK_MAX_PAYLOAD);
		assert_ptr_equal(vsock_conns_guest_pkt(t, &h, &a), c);
		assert_int_equal(a, VA_DATA);
		assert_int_equal(vsock_conn_buffer(c, data, h.len), 0);
	}
	assert_int_equal(vsock_conn_room(c), 0);
	h = from_guest(VIRTIO_VSOCK_OP_RW, 7, 8, 1);
	assert_null(vsock_conns_guest_pkt(t, &h, &a));
	expect_ctrl(t, VIRTIO_VSOCK_OP_RST, 8, 7);
	done(t);
}

/* Buffered bytes come out in order across the ring's end; freeing space is announced. */
static void test_buffer_and_credit_update(void **state)
{
	struct vsock_conns *t = table();
	struct vsock_conn *c = established(t, 7, 8);
	static u8 in[VSOCK_BUF_ALLOC];
	const u8 *p;
	u32 n;

	(void)state;
	for (u32 i = 0; i < sizeof(in); i++)
		in[i] = (u8)(i * 7);
	assert_int_equal(vsock_conn_buffer(c, in, 200 * 1024), 0);
	n = vsock_conn_peek(c, &p);
	assert_int_equal(n, 200 * 1024);
	vsock_conn_forwarded(c, n, true);
	/* 200 KiB forwarded: more than a quarter, the guest is told. */
	expect_ctrl(t, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 8, 7);
	assert_int_equal(vsock_conn_buffer(c, in, 100 * 1024), 0); /* wraps */
	n = vsock_conn_peek(c, &p);
	assert_int_equal(n, VSOCK_BUF_ALLOC - 200 * 1024);
	assert_memory_equal(p, in, n);
	vsock_conn_forwarded(c, n, true);
	n = vsock_conn_peek(c, &p);
	assert_int_equal(n, 100 * 1024 - (VSOCK_BUF_ALLOC - 200 * 1024));
	assert_memory_equal(p, in + VSOCK_BUF_ALLOC - 200 * 1024, n);
	assert_int_equal(vsock_conn_buffer(c, in, VSOCK_BUF_ALLOC), -1); /* over the room */
	done(t);
}

/* The guest's credit: a guest whose counters make no sense gets none. */
static void test_peer_credit_hostile(void **state)
{
	struct vsock_conn c = {.peer_buf_alloc = 1000, .peer_fwd_cnt = 0, .tx_cnt = 0};

	(void)state;
	assert_int_equal(vsock_conn_peer_credit(&c), 1000);
	c.tx_cnt = 600;
	assert_int_equal(vsock_conn_peer_credit(&c), 400);
	c.peer_fwd_cnt = 700; /* forwarded more than it got: wraps to a huge in-flight */
	assert_int_equal(vsock_conn_peer_credit(&c), 0);
	c.tx_cnt = 5;
	c.peer_fwd_cnt = 0xfffffffbU; /* counters wrapped: 10 in flight */
	assert_int_equal(vsock_conn_peer_credit(&c), 990);
	c.peer_buf_alloc = 0;
	assert_int_equal(vsock_conn_peer_credit(&c), 0);
}

static void test_shutdown_and_rst(void **state)
{
	struct vsock_conns *t = table();
	struct vsock_conn *c = established(t, 7, 8);
	struct vsock_hdr h = from_guest(VIRTIO_VSOCK_OP_SHUTDOWN, 7, 8, 0);
	enum vsock_action a;

	(void)state;
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	assert_ptr_equal(vsock_conns_guest_pkt(t, &h, &a), c);
	assert_int_equal(a, VA_SHUT_WR);
	/* Data after the guest said it sends no more: reset. */
	h = from_guest(VIRTIO_VSOCK_OP_RW, 7, 8, 1);
	assert_null(vsock_conns_guest_pkt(t, &h, &a));
	expect_ctrl(t, VIRTIO_VSOCK_OP_RST, 8, 7);

	/* Both ways, with nothing buffered: the guest waits for our RST, and gets it. */
	c = established(t, 7, 9);
	h = from_guest(VIRTIO_VSOCK_OP_SHUTDOWN, 7, 9, 0);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV;
	assert_null(vsock_conns_guest_pkt(t, &h, &a));
	expect_ctrl(t, VIRTIO_VSOCK_OP_RST, 9, 7);

	/* With bytes buffered: DRAINING until they are written. */
	c = established(t, 7, 10);
	assert_int_equal(vsock_conn_buffer(c, (const u8 *)"abc", 3), 0);
	h = from_guest(VIRTIO_VSOCK_OP_SHUTDOWN, 7, 10, 0);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV;
	assert_ptr_equal(vsock_conns_guest_pkt(t, &h, &a), c);
	assert_int_equal(c->state, VC_DRAINING);

	/* The guest's RST ends a connection without one back. */
	c = established(t, 7, 11);
	h = from_guest(VIRTIO_VSOCK_OP_RST, 7, 11, 0);
	assert_null(vsock_conns_guest_pkt(t, &h, &a));
	assert_false(vsock_conns_next_ctrl(t, &h));
	done(t);
}

/* Packets for no connection get RST (never for RST); CREDIT_REQUEST gets an update. */
static void test_strays_and_credit_request(void **state)
{
	struct vsock_conns *t = table();
	struct vsock_conn *c;
	struct vsock_hdr h;
	enum vsock_action a;
	u16 ops[] = {VIRTIO_VSOCK_OP_RESPONSE, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_OP_RW,
		     VIRTIO_VSOCK_OP_CREDIT_UPDATE, VIRTIO_VSOCK_OP_CREDIT_REQUEST};

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++) {
		h = from_guest(ops[i], 5, 6, 0);
		assert_null(vsock_conns_guest_pkt(t, &h, &a));
		expect_ctrl(t, VIRTIO_VSOCK_OP_RST, 6, 5);
	}
	c = established(t, 5, 6);
	h = from_guest(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 5, 6, 0);
	h.buf_alloc = 4096;
	h.fwd_cnt = 0;
	assert_ptr_equal(vsock_conns_guest_pkt(t, &h, &a), c);
	assert_int_equal(c->peer_buf_alloc, 4096);
	expect_ctrl(t, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 6, 5);
	assert_false(vsock_conns_next_ctrl(t, &h));
	done(t);
}

/* A flood: connections stop at VSOCK_MAX_CONNS, owed resets at VSOCK_RST_QUEUE. */
static void test_limits(void **state)
{
	struct vsock_conns *t = table();
	struct vsock_hdr h;
	enum vsock_action a;
	unsigned int n = 0;

	(void)state;
	for (u32 p = 0; p < VSOCK_MAX_CONNS + 100; p++) {
		h = from_guest(VIRTIO_VSOCK_OP_REQUEST, p, 80, 0);
		if (vsock_conns_guest_pkt(t, &h, &a))
			n++;
	}
	assert_int_equal(n, VSOCK_MAX_CONNS);
	assert_int_equal(t->used, VSOCK_MAX_CONNS);
	assert_null(vsock_conns_add(t, VC_HANDSHAKE, -1));
	/* 100 refused, 64 resets owed: the rest learn by their own timeout. */
	assert_int_equal(t->rst_n, VSOCK_RST_QUEUE);
	assert_int_equal(t->rst_dropped, 100 - VSOCK_RST_QUEUE);
	for (u32 p = 0; p < 1000; p++) {
		h = from_guest(VIRTIO_VSOCK_OP_RW, p, 9999, 0);
		vsock_conns_guest_pkt(t, &h, &a);
	}
	assert_int_equal(t->rst_n, VSOCK_RST_QUEUE);
	done(t);
}

/* Host ports skip those in use, and stay in the host range when they wrap. */
static void test_port_allocation(void **state)
{
	struct vsock_conns *t = table();
	struct vsock_conn *a = vsock_conns_add(t, VC_HANDSHAKE, -1);
	struct vsock_conn *b = vsock_conns_add(t, VC_HANDSHAKE, -1);

	(void)state;
	feed(t, a, "CONNECT 1\n");
	t->next_port = a->local_port; /* as if the counter came round to it */
	feed(t, b, "CONNECT 1\n");
	assert_int_not_equal(a->local_port, b->local_port);
	vsock_conn_drop(t, b, false);
	b = vsock_conns_add(t, VC_HANDSHAKE, -1);
	t->next_port = 0xfffffffeU;
	feed(t, b, "CONNECT 1\n");
	assert_int_equal(b->local_port, 0xfffffffeU);
	assert_int_equal(t->next_port, VSOCK_PORT_FIRST);
	done(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip_le),
		cmocka_unit_test(test_hdr_check_hostile),
		cmocka_unit_test(test_host_initiated),
		cmocka_unit_test(test_host_refused),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_handshake_malformed),
		cmocka_unit_test(test_guest_initiated),
		cmocka_unit_test(test_credit_overrun),
		cmocka_unit_test(test_buffer_and_credit_update),
		cmocka_unit_test(test_peer_credit_hostile),
		cmocka_unit_test(test_shutdown_and_rst),
		cmocka_unit_test(test_strays_and_credit_request),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_port_allocation),
	};

	log_level = LOG_ERR;
	return cmocka_run_group_tests_name("virtio_vsock_conn", tests, NULL, NULL);
}
