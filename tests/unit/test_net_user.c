// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user-mode network backend (--net user), driven the way virtio-net's worker
 * drives it: ARP to the gateway, and a hostfwd port that makes the stack look for
 * the guest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/net.h"
#include "devices/virtio/net.h"
#include "util/log.h"

/* Runs the backend's poll loop until it has a packet for the guest (or ~2 s pass). */
static ssize_t user_wait_packet(struct net_backend *be, u8 *buf, size_t len)
{
	struct net_pollset ps = {0};
	ssize_t got = 0;

	for (int i = 0; i < 200 && got == 0; i++) {
		int timeout = 10;

		ps.n = 0;
		be->ops->poll_fill(be, &ps, true, false, &timeout);
		if (timeout < 0 || timeout > 10)
			timeout = 10;
		be->ops->poll_done(be, &ps, poll(ps.fds, ps.n, timeout) < 0);
		got = be->ops->recv(be, buf, len);
	}
	free(ps.fds);
	return got;
}

static void user_send_frame(struct net_backend *be, const u8 *frame, size_t len)
{
	struct virtio_net_hdr_v1 h = {0};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)frame, len}};

	assert_int_equal(be->ops->send(be, iov, 2), 0);
}

static const u8 guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* An ARP request from 10.0.2.15 for target (host order). */
static void arp_request(u8 *f, u32 target)
{
	const u8 head[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1};
	u32 spa = htonl(0x0a00020f), tpa = htonl(target);

	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	memcpy(f + 12, head, sizeof(head));
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, &spa, 4);
	memcpy(f + 38, &tpa, 4);
}

static void test_user_arp_gateway(void **state)
{
	struct net_options opt;
	struct net_backend *be;
	u8 frame[60], got[NET_MAX_PACKET];
	char err[128];
	u32 spa;
	ssize_t len;

	(void)state;
	assert_int_equal(net_parse_options("user", 0, &opt, err, sizeof(err)), 0);
	assert_int_equal(net_slirp_open(&be, &opt), 0);
	assert_int_equal(be->caps, 0);
	arp_request(frame, 0x0a000202);
	user_send_frame(be, frame, sizeof(frame));
	len = user_wait_packet(be, got, sizeof(got));
	assert_true(len >= NET_HDR_LEN + 42);
	assert_memory_equal(got, (u8[NET_HDR_LEN]){0}, NET_HDR_LEN);
	assert_memory_equal(got + NET_HDR_LEN, guest_mac, 6); /* to us */
	assert_int_equal(got[NET_HDR_LEN + 21], 2);	      /* an ARP reply */
	memcpy(&spa, got + NET_HDR_LEN + 28, 4);
	assert_int_equal(ntohl(spa), 0x0a000202); /* from the gateway */
	be->ops->destroy(be);
}

/* A connection to a hostfwd port makes the stack look for the guest (ARP for 10.0.2.15). */
static void test_user_hostfwd_listens(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	struct net_options opt;
	struct net_backend *be;
	u8 got[NET_MAX_PACKET];
	char arg[64], err[128];
	int probe, s;
	u32 tpa;
	ssize_t len;

	(void)state;
	/* A free loopback port: bind one, note it, let it go. */
	probe = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(probe, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(probe, (struct sockaddr *)&sa, &salen), 0);
	close(probe);
	snprintf(arg, sizeof(arg), "user,hostfwd=tcp:127.0.0.1:%u-:80", ntohs(sa.sin_port));
	assert_int_equal(net_parse_options(arg, 0, &opt, err, sizeof(err)), 0);
	assert_int_equal(net_slirp_open(&be, &opt), 0);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(s, (struct sockaddr *)&sa, sizeof(sa));
	len = user_wait_packet(be, got, sizeof(got));
	assert_true(len >= NET_HDR_LEN + 42);
	assert_int_equal(got[NET_HDR_LEN + 12], 0x08);
	assert_int_equal(got[NET_HDR_LEN + 13], 0x06);
	assert_int_equal(got[NET_HDR_LEN + 21], 1); /* a request */
	memcpy(&tpa, got + NET_HDR_LEN + 38, 4);
	assert_int_equal(ntohl(tpa), 0x0a00020f);
	close(s);
	be->ops->destroy(be);
	/* The same port twice: the second stack cannot listen, and says so. */
	assert_int_equal(net_slirp_open(&be, &opt), 0);
	{
		struct net_backend *be2;

		assert_int_equal(net_slirp_open(&be2, &opt), -EXIT_BAD_INPUT);
	}
	be->ops->destroy(be);
}

/* The Internet checksum of len bytes, folded, added to sum (network order halves). */
static u32 csum_add(u32 sum, const u8 *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (u32)(p[len - 1] << 8);
	return sum;
}

static u16 csum_fold(u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

/* A TCP SYN from 10.0.2.15:sport to 10.0.2.2:dport (the host), checksums right. */
static size_t tcp_syn(u8 *f, u16 sport, u16 dport)
{
	u8 *ip = f + 14, *tcp = ip + 20, pseudo[12] = {10, 0, 2, 15, 10, 0, 2, 2, 0, 6, 0, 20};
	u16 c;

	memset(f, 0, 54);
	memcpy(f, (u8[6]){0x52, 0x55, 0x0a, 0x00, 0x02, 0x02}, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	memcpy(ip, (u8[]){0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6}, 10);
	memcpy(ip + 12, pseudo, 8);
	c = csum_fold(csum_add(0, ip, 20));
	ip[10] = (u8)(c >> 8), ip[11] = (u8)c;
	tcp[0] = (u8)(sport >> 8), tcp[1] = (u8)sport, tcp[2] = (u8)(dport >> 8);
	tcp[3] = (u8)dport, tcp[7] = 1, tcp[12] = 5 << 4, tcp[13] = 0x02, tcp[14] = 0xff;
	c = csum_fold(csum_add(csum_add(0, pseudo, 12), tcp, 20));
	tcp[16] = (u8)(c >> 8), tcp[17] = (u8)c;
	return 54;
}

/* What makes the stack open a host socket, and what does not. */
static void test_user_frames_that_open_sockets(void **state)
{
	u8 f[80] = {0};

	(void)state;
	tcp_syn(f, 1000, 80);
	assert_true(slirp_frame_opens_socket(f, 54));
	f[14 + 20 + 13] = 0x12; /* SYN+ACK: an answer, not a request */
	assert_false(slirp_frame_opens_socket(f, 54));
	f[14 + 20 + 13] = 0x10; /* a plain ACK */
	assert_false(slirp_frame_opens_socket(f, 54));
	f[14 + 9] = 17; /* UDP */
	assert_true(slirp_frame_opens_socket(f, 54));
	f[14 + 6] = 0x00, f[14 + 7] = 0x10; /* a later fragment */
	assert_false(slirp_frame_opens_socket(f, 54));
	f[14 + 7] = 0, f[14 + 9] = 1, f[14 + 20] = 8; /* ICMP echo request */
	assert_true(slirp_frame_opens_socket(f, 54));
	f[14 + 20] = 0; /* echo reply */
	assert_false(slirp_frame_opens_socket(f, 54));
	arp_request(f, 0x0a000202);
	assert_false(slirp_frame_opens_socket(f, 60));
	/* Short and malformed frames are no request. */
	tcp_syn(f, 1000, 80);
	assert_false(slirp_frame_opens_socket(f, 13));
	assert_false(slirp_frame_opens_socket(f, 14 + 19));
	f[14] = 0x44; /* IHL 16 bytes */
	assert_false(slirp_frame_opens_socket(f, 54));
	f[12] = 0x86, f[13] = 0xdd, f[14 + 6] = 6, f[14 + 40 + 13] = 0x02; /* IPv6 SYN */
	assert_true(slirp_frame_opens_socket(f, 74));
}

/*
 * A guest that opens connection after connection to a host listener: the stack holds at
 * most its cap of host sockets; the rest are refused (they timed out in the guest).
 */
static void test_user_socket_cap(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t salen = sizeof(sa);
	struct net_pollset ps = {0};
	struct net_options opt;
	struct net_backend *be;
	char err[128];
	int lst, timeout, c;
	unsigned int accepted = 0;
	u8 f[64];

	(void)state;
	lst = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(lst, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lst, 4096), 0);
	assert_int_equal(fcntl(lst, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(getsockname(lst, (struct sockaddr *)&sa, &salen), 0);
	assert_int_equal(net_parse_options("user", 0, &opt, err, sizeof(err)), 0);
	assert_int_equal(net_slirp_open(&be, &opt), 0);
	for (unsigned int i = 0; i < 400; i++) {
		user_send_frame(be, f, tcp_syn(f, (u16)(20000 + i), ntohs(sa.sin_port)));
		timeout = 0;
		ps.n = 0;
		be->ops->poll_fill(be, &ps, true, false, &timeout);
		be->ops->poll_done(be, &ps, poll(ps.fds, ps.n, 0) < 0);
	}
	/* Every connection the stack made reached the listener: count them. */
	while ((c = accept4(lst, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		close(c);
		accepted++;
	}
	assert_int_equal(accepted, 200);       /* up to the cap... */
	assert_int_equal(be->tx_refused, 200); /* ...and the rest refused */
	free(ps.fds);
	be->ops->destroy(be);
	close(lst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_arp_gateway),
		cmocka_unit_test(test_user_hostfwd_listens),
		cmocka_unit_test(test_user_frames_that_open_sockets),
		cmocka_unit_test(test_user_socket_cap),
	};

	log_level = LOG_ERR; /* the hostile cases would log warnings */
	return cmocka_run_group_tests_name("net_user", tests, NULL, NULL);
}
