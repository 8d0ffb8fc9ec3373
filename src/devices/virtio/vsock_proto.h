/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_VSOCK_PROTO_H
#define KVMBOX_DEVICES_VIRTIO_VSOCK_PROTO_H

#include <linux/virtio_vsock.h>
#include <stddef.h>

#include "../../util/types.h"

/*
 * The virtio-vsock packet header (virtio 1.2, 5.10.6), decoded: 44 little-endian bytes in
 * front of every packet on the rx and tx queues. Pure code, for the userspace device and
 * its unit tests.
 */
#define VSOCK_HDR_LEN  44
#define VSOCK_HOST_CID 2
/* The longest payload taken from the guest in one packet (Linux sends at most 64 KiB). */
#define VSOCK_MAX_PAYLOAD (64 * 1024)

struct vsock_hdr {
	u64 src_cid, dst_cid;
	u32 src_port, dst_port;
	u32 len;
	u16 type, op;
	u32 flags;
	u32 buf_alloc, fwd_cnt;
};

/* Why a packet from the guest is not taken (0: it is). */
enum vsock_bad {
	VSOCK_OK,
	VSOCK_BAD_LEN,	/* len beyond the chain or VSOCK_MAX_PAYLOAD */
	VSOCK_BAD_CID,	/* not from the guest's CID, or not to the host: dropped */
	VSOCK_BAD_TYPE, /* not a stream: answered with RST */
	VSOCK_BAD_OP,	/* no such operation: answered with RST */
};

void vsock_hdr_decode(const u8 buf[VSOCK_HDR_LEN], struct vsock_hdr *h);
void vsock_hdr_encode(const struct vsock_hdr *h, u8 buf[VSOCK_HDR_LEN]);
/*
 * Checks a header the guest sent: payload_room is what its chain holds after the header.
 * Returns VSOCK_OK or why not.
 */
enum vsock_bad vsock_hdr_check(const struct vsock_hdr *h, u64 guest_cid, size_t payload_room);
const char *vsock_bad_name(enum vsock_bad why);

#endif
