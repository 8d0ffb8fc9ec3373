// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net configuration: --net option parsing, and the features and config space
 * a NIC offers and accepts depending on its backend's offloads.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "util/log.h"
#include "virtio_net_fixture.h"

/* ---- Option parsing ---- */

static void parse_ok(const char *arg, unsigned int index, struct net_options *o)
{
	char err[192] = "";

	if (net_parse_options(arg, index, o, err, sizeof(err)))
		fail_msg("'%s' refused: %s", arg, err);
}

static void parse_bad(const char *arg, const char *why_contains)
{
	struct net_options o;
	char err[192] = "";

	assert_int_equal(net_parse_options(arg, 0, &o, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why_contains))
		fail_msg("'%s': error '%s' does not mention '%s'", arg, err, why_contains);
	assert_null(strchr(err, '\n'));
}

static void test_parse_tap(void **state)
{
	const u8 mac0[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	const u8 mac2[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x58};
	const u8 mine[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xef};
	struct net_options o;

	(void)state;
	parse_ok("tap=tap0", 0, &o);
	assert_int_equal(o.kind, NET_KIND_TAP);
	assert_string_equal(o.ifname, "tap0");
	assert_false(o.vhost);
	assert_memory_equal(o.mac, mac0, 6);
	parse_ok("tap=tap0", 2, &o);
	assert_memory_equal(o.mac, mac2, 6);
	parse_ok("mac=02:AA:bb:cc:dd:ef,vhost=on,tap=abcdefghijklmno", 0, &o);
	assert_string_equal(o.ifname, "abcdefghijklmno");
	assert_true(o.vhost);
	assert_memory_equal(o.mac, mine, 6);
	parse_ok("tap=t,vhost=off", 0, &o);
	assert_false(o.vhost);
	assert_string_equal(o.id, "");
	parse_ok("tap=t,id=eth0", 0, &o);
	assert_string_equal(o.id, "eth0");
	parse_bad("tap=t,id=", "id=");
}

static void test_parse_user(void **state)
{
	struct net_options o;

	(void)state;
	parse_ok("user", 0, &o);
	assert_int_equal(o.kind, NET_KIND_USER);
	assert_int_equal(o.nr_hostfwd, 0);
	parse_ok("user,hostfwd=tcp::8080-:80,hostfwd=udp:127.0.0.1:5353-10.0.2.20:53,"
		 "hostfwd=::2222-:22",
		 1, &o);
	assert_int_equal(o.nr_hostfwd, 3);
	assert_false(o.hostfwd[0].udp);
	assert_int_equal(o.hostfwd[0].host_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(o.hostfwd[0].host_port, 8080);
	assert_int_equal(o.hostfwd[0].guest_addr.s_addr, htonl(0x0a00020f));
	assert_int_equal(o.hostfwd[0].guest_port, 80);
	assert_true(o.hostfwd[1].udp);
	assert_int_equal(o.hostfwd[1].host_addr.s_addr, htonl(0x7f000001));
	assert_int_equal(o.hostfwd[1].host_port, 5353);
	assert_int_equal(o.hostfwd[1].guest_addr.s_addr, htonl(0x0a000214));
	assert_int_equal(o.hostfwd[1].guest_port, 53);
	assert_false(o.hostfwd[2].udp);
	assert_int_equal(o.hostfwd[2].guest_port, 22);
}

static void test_parse_errors(void **state)
{
	char many[600] = "user";

	(void)state;
	parse_bad("", "empty item");
	parse_bad("tap=", "not a valid interface name");
	parse_bad("tap=abcdefghijklmnop", "not a valid interface name");
	parse_bad("tap=a/b", "not a valid interface name");
	parse_bad("tap=..", "not a valid interface name");
	parse_bad("tap=a b", "not a valid interface name");
	parse_bad("tap", "unknown item 'tap'");
	parse_bad("user=1", "unknown item 'user='");
	parse_bad("user,speed=10", "unknown item 'speed='");
	parse_bad("user,,mac=02:00:00:00:00:01", "empty item");
	parse_bad("user,", "empty item");
	parse_bad("mac=02:00:00:00:00:01", "exactly one of");
	parse_bad("tap=a,user", "exactly one of");
	parse_bad("tap=a,tap=b", "exactly one of");
	parse_bad("user,vhost=on", "vhost=on needs tap");
	parse_bad("tap=a,vhost=yes", "expected on or off");
	parse_bad("tap=a,hostfwd=tcp::1-:2", "hostfwd= needs user");
	parse_bad("user,mac=01:00:5e:00:00:01", "unicast");
	parse_bad("user,mac=00:00:00:00:00:00", "unicast");
	parse_bad("user,mac=02:00:00:00:00", "unicast");
	parse_bad("user,mac=02:00:00:00:00:0g", "unicast");
	parse_bad("user,mac=02-00-00-00-00-01", "unicast");
	parse_bad("user,hostfwd=tcp::0-:80", "1..65535");
	parse_bad("user,hostfwd=tcp::65536-:80", "1..65535");
	parse_bad("user,hostfwd=tcp::80-:", "1..65535");
	parse_bad("user,hostfwd=tcp::8x-:80", "1..65535");
	parse_bad("user,hostfwd=sctp::1-:2", "tcp or udp");
	parse_bad("user,hostfwd=tcp:1.2.3:1-:2", "bad IPv4 address");
	parse_bad("user,hostfwd=tcp::1-10.0.3.15:2", "10.0.2.0/24");
	parse_bad("user,hostfwd=tcp::8080:80", "expected tcp:");
	parse_bad("user,hostfwd=tcp::1-:2:3", "expected tcp:");
	for (int i = 0; i <= NET_MAX_HOSTFWD; i++)
		strcat(many, ",hostfwd=::1-:2");
	parse_bad(many, "at most");
	memset(many, 'a', sizeof(many) - 1);
	many[sizeof(many) - 1] = '\0';
	parse_bad(many, "too long");
}

/* TSO accepted without checksum offload breaks the spec's dependency: neither is used. */
static void test_offload_dependencies(void **state)
{
	struct fixture *f = nic_setup(BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO4),
				      ALL_OFFLOADS, QSIZE);

	(void)state;
	assert_int_equal(f->n->rx_offloads, 0);
	assert_int_equal(f->n->tx_offloads, 0);
	nic_teardown(f);
}

/* The offered features follow the backend: nothing but MAC/STATUS/MRG without offloads. */
static void test_offered_features(void **state)
{
	struct fixture *f = nic_setup(0, 0, QSIZE);
	u64 base = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
		   BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_RING_F_INDIRECT_DESC);
	const u8 *cfg = f->n->vdev.config;

	(void)state;
	assert_int_equal(f->n->vdev.device_features, base);
	assert_int_equal(f->n->vdev.config_size, 12);
	assert_int_equal(cfg[5], 0x56);
	assert_int_equal(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
	nic_teardown(f);
	f = nic_setup(0, ALL_OFFLOADS, QSIZE);
	assert_true(f->n->vdev.device_features & BIT(VIRTIO_NET_F_GUEST_TSO6));
	assert_true(f->n->vdev.device_features & BIT(VIRTIO_NET_F_HOST_UFO));
	nic_teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_tap),
		cmocka_unit_test(test_parse_user),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_offload_dependencies),
		cmocka_unit_test(test_offered_features),
	};

	log_level = LOG_ERR; /* the hostile cases would log warnings */
	return cmocka_run_group_tests_name("virtio_net_config", tests, NULL, NULL);
}
