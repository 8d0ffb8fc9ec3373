// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-vsock packet headers: decoding, encoding and the checks every header from the
 * guest passes before the userspace device acts on it. The guest is not trusted: each
 * field is read once from our copy, and nothing here allocates.
 */
#include <endian.h>
#include <string.h>

#include "vsock_proto.h"

void vsock_hdr_decode(const u8 buf[VSOCK_HDR_LEN], struct vsock_hdr *h)
{
	struct virtio_vsock_hdr raw;

	memcpy(&raw, buf, sizeof(raw));
	h->src_cid = le64toh(raw.src_cid);
	h->dst_cid = le64toh(raw.dst_cid);
	h->src_port = le32toh(raw.src_port);
	h->dst_port = le32toh(raw.dst_port);
	h->len = le32toh(raw.len);
	h->type = le16toh(raw.type);
	h->op = le16toh(raw.op);
	h->flags = le32toh(raw.flags);
	h->buf_alloc = le32toh(raw.buf_alloc);
	h->fwd_cnt = le32toh(raw.fwd_cnt);
}

void vsock_hdr_encode(const struct vsock_hdr *h, u8 buf[VSOCK_HDR_LEN])
{
	struct virtio_vsock_hdr raw = {
		.src_cid = htole64(h->src_cid),
		.dst_cid = htole64(h->dst_cid),
		.src_port = htole32(h->src_port),
		.dst_port = htole32(h->dst_port),
		.len = htole32(h->len),
		.type = htole16(h->type),
		.op = htole16(h->op),
		.flags = htole32(h->flags),
		.buf_alloc = htole32(h->buf_alloc),
		.fwd_cnt = htole32(h->fwd_cnt),
	};

	memcpy(buf, &raw, sizeof(raw));
}

enum vsock_bad vsock_hdr_check(const struct vsock_hdr *h, u64 guest_cid, size_t payload_room)
{
	/* The length first: the rest of the chain is only read up to it. */
	if (h->len > payload_room || h->len > VSOCK_MAX_PAYLOAD)
		return VSOCK_BAD_LEN;
	/* A guest may not speak for another CID, nor reach one other than the host. */
	if (h->src_cid != guest_cid || h->dst_cid != VSOCK_HOST_CID)
		return VSOCK_BAD_CID;
	if (h->type != VIRTIO_VSOCK_TYPE_STREAM)
		return VSOCK_BAD_TYPE;
	if (h->op < VIRTIO_VSOCK_OP_REQUEST || h->op > VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		return VSOCK_BAD_OP;
	/* Only data carries a payload; a length on anything else is ignored, not trusted. */
	return VSOCK_OK;
}

const char *vsock_bad_name(enum vsock_bad why)
{
	switch (why) {
	case VSOCK_OK:
		return "ok";
	case VSOCK_BAD_LEN:
		return "a length beyond its buffers or 64 KiB";
	case VSOCK_BAD_CID:
		return "a source or destination CID that is not the guest's or the host's";
	case VSOCK_BAD_TYPE:
		return "a socket type other than stream";
	case VSOCK_BAD_OP:
		return "an unknown operation";
	}
	return "?";
}
