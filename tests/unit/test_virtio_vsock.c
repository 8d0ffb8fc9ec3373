// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-vsock without KVM or vhost: the --vsock option and the features offered from
 * what vhost-vsock reports. The device itself is exercised in the lab
 * (tests/lab/t-virtio-vsock.sh), where a kernel with vhost-vsock runs it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <stdio.h>
#include <string.h>

#include "devices/virtio/vsock.h"
#include "util/log.h"

static u32 parse_ok(const char *arg)
{
	char err[160] = "";
	struct vsock_options o;

	if (vsock_parse_options(arg, &o, err, sizeof(err)))
		fail_msg("'%s' refused: %s", arg, err);
	return o.cid;
}

static void parse_bad(const char *arg, const char *why_contains)
{
	char err[160] = "";
	struct vsock_options o = {.cid = 12345};

	assert_int_equal(vsock_parse_options(arg, &o, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why_contains))
		fail_msg("'%s': error '%s' does not mention '%s'", arg, err, why_contains);
	assert_null(strchr(err, '\n'));
	assert_int_equal(o.cid, 12345); /* untouched on failure */
}

static void test_cid_range(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("cid=3"), 3);
	assert_int_equal(parse_ok("cid=42"), 42);
	assert_int_equal(parse_ok("cid=4294967294"), 0xfffffffeU);
}

/* 0 (hypervisor), 1 (local), 2 (host) and U32_MAX (any) are no guest's. */
static void test_reserved_cids_refused(void **state)
{
	(void)state;
	parse_bad("cid=0", "from 3 to 4294967294");
	parse_bad("cid=1", "from 3 to 4294967294");
	parse_bad("cid=2", "the host is 2");
	parse_bad("cid=4294967295", "from 3 to 4294967294");
	parse_bad("cid=4294967296", "from 3 to 4294967294");
	parse_bad("cid=99999999999999999999999", "from 3 to 4294967294");
}

static void test_malformed_cid_refused(void **state)
{
	(void)state;
	parse_bad("cid=", "the CID must be a number");
	parse_bad("cid=abc", "the CID must be a number");
	parse_bad("cid=3x", "the CID must be a number");
	parse_bad("cid=-3", "the CID must be a number");
	parse_bad("cid=+3", "the CID must be a number");
	parse_bad("cid= 3", "the CID must be a number");
	parse_bad("cid=0x10", "the CID must be a number");
}

static void test_keys(void **state)
{
	(void)state;
	parse_bad("", "cid=N is required");
	parse_bad("3", "unknown key '3'");
	parse_bad("guest-cid=3", "unknown key 'guest-cid'");
	parse_bad("CID=3", "unknown key 'CID'");
	parse_bad("cid=3,vhost=on", "unknown key 'vhost'");
	parse_bad("cid=3,port=5", "expected cid=N[,uds=PATH]");
	parse_bad("cid=3,", "unknown key ''");
	parse_bad("cid=3,cid=4", "cid given twice");
}

/* uds=PATH selects the userspace device; the path leaves room for "_<port>". */
static void test_uds(void **state)
{
	struct vsock_options o;
	char err[160], longp[VSOCK_UDS_MAX + 8], arg[VSOCK_UDS_MAX + 32];

	(void)state;
	assert_int_equal(vsock_parse_options("cid=5,uds=/tmp/v.sock", &o, err, sizeof(err)), 0);
	assert_int_equal(o.cid, 5);
	assert_string_equal(o.uds, "/tmp/v.sock");
	assert_int_equal(vsock_parse_options("uds=/a,cid=3", &o, err, sizeof(err)), 0);
	assert_string_equal(o.uds, "/a");
	assert_int_equal(vsock_parse_options("cid=3", &o, err, sizeof(err)), 0);
	assert_string_equal(o.uds, "");
	parse_bad("cid=3,uds=", "uds= needs a path");
	parse_bad("cid=3,uds=/a,uds=/b", "uds given twice");
	parse_bad("uds=/a", "cid=N is required");
	memset(longp, 'a', VSOCK_UDS_MAX + 1);
	longp[VSOCK_UDS_MAX + 1] = '\0';
	snprintf(arg, sizeof(arg), "cid=3,uds=%s", longp);
	parse_bad(arg, "longer than 96 bytes");
	longp[VSOCK_UDS_MAX] = '\0';
	snprintf(arg, sizeof(arg), "cid=3,uds=%s", longp);
	assert_int_equal(vsock_parse_options(arg, &o, err, sizeof(err)), 0);
}

/* Only ring layouts the kernel walks and SEQPACKET; never vhost's own or legacy bits. */
static void test_offered_features(void **state)
{
	u64 all = ~0ULL;
	u64 want = BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
		   BIT(VIRTIO_VSOCK_F_SEQPACKET);

	(void)state;
	assert_int_equal(vsock_offered_features(all), want);
	assert_int_equal(vsock_offered_features(0), 0);
	/* A kernel without SEQPACKET (before 5.14) gets streams only. */
	assert_int_equal(vsock_offered_features(BIT(VIRTIO_RING_F_EVENT_IDX) |
						BIT(VIRTIO_F_VERSION_1) |
						BIT(VIRTIO_F_ACCESS_PLATFORM)),
			 BIT(VIRTIO_RING_F_EVENT_IDX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cid_range),
		cmocka_unit_test(test_reserved_cids_refused),
		cmocka_unit_test(test_malformed_cid_refused),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_uds),
		cmocka_unit_test(test_offered_features),
	};

	log_level = LOG_ERR;
	return cmocka_run_group_tests_name("virtio_vsock", tests, NULL, NULL);
}
