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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_arp_gateway),
		cmocka_unit_test(test_user_hostfwd_listens),
	};

	log_level = LOG_ERR; /* the hostile cases would log warnings */
	return cmocka_run_group_tests_name("net_user", tests, NULL, NULL);
}
