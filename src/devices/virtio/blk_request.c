// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk request validation: a chain the guest posted becomes a struct blk_req only
 * after every field it wrote was read once and checked (sector range, data lengths, the
 * number and size of discard ranges, the status byte's place). Pure: no device, no I/O,
 * so the unit tests and the fuzzer drive it directly.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "blk.h"

#define BLK_HDR_SIZE   sizeof(struct virtio_blk_outhdr)
#define BLK_RANGE_SIZE sizeof(struct virtio_blk_discard_write_zeroes)

static bool sectors_fit(u64 capacity, u64 sector, u64 nr_sectors)
{
	return sector <= capacity && nr_sectors <= capacity - sector;
}

/*
 * Copies the bytes [skip, skip + len) of src into dst without empty pieces. Returns how
 * many iovecs that took, or -1 if more than max.
 */
static int iov_slice(struct iovec *dst, unsigned int max, const struct iovec *src, unsigned int n,
		     size_t skip, size_t len)
{
	unsigned int cnt = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t l = src[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (cnt == max)
			return -1;
		dst[cnt].iov_base = (u8 *)src[i].iov_base + skip;
		dst[cnt].iov_len = MIN(l - skip, len);
		len -= dst[cnt].iov_len;
		skip = 0;
		cnt++;
	}
	return (int)cnt;
}

/* The status byte: the last byte of the last non-empty device-writable buffer. */
static u8 *find_status(const struct vq_chain *c)
{
	for (unsigned int i = c->n_in; i-- > 0;)
		if (c->in[i].iov_len)
			return (u8 *)c->in[i].iov_base + c->in[i].iov_len - 1;
	return NULL;
}

static int take_data(struct blk_req *r, const struct iovec *iov, unsigned int n, size_t skip,
		     size_t len)
{
	int cnt = iov_slice(r->iov, VIRTIO_BLK_SEG_MAX, iov, n, skip, len);

	if (cnt < 0)
		return VIRTIO_BLK_S_IOERR; /* more buffers than seg_max allows */
	r->iovcnt = (unsigned int)cnt;
	r->data_len = len;
	return VIRTIO_BLK_S_OK;
}

static int parse_rw(const struct blk_limits *l, const struct vq_chain *c, struct blk_req *r,
		    size_t dout, size_t din)
{
	bool in = r->type == VIRTIO_BLK_T_IN;
	size_t len = in ? din : dout;

	/* Reads carry no device-readable data, writes no device-writable data. */
	if ((in ? dout : din) || len % BLOCK_SECTOR_SIZE || len > VIRTIO_BLK_MAX_DATA)
		return VIRTIO_BLK_S_IOERR;
	if (!in && l->ro)
		return VIRTIO_BLK_S_IOERR;
	if (!sectors_fit(l->capacity, r->sector, len / BLOCK_SECTOR_SIZE))
		return VIRTIO_BLK_S_IOERR;
	r->written = in ? (u32)len + 1 : 1;
	r->flush_after = !in && !l->flush;
	return in ? take_data(r, c->in, c->n_in, 0, len)
		  : take_data(r, c->out, c->n_out, BLK_HDR_SIZE, len);
}

static int parse_get_id(const struct vq_chain *c, struct blk_req *r, size_t dout, size_t din)
{
	size_t len = MIN(din, (size_t)VIRTIO_BLK_ID_BYTES);

	if (dout || !din)
		return VIRTIO_BLK_S_IOERR;
	r->written = (u32)len + 1;
	return take_data(r, c->in, c->n_in, 0, len);
}

static int check_range(const struct blk_limits *l, struct blk_range *rg,
		       const struct virtio_blk_discard_write_zeroes *raw, bool discard)
{
	u32 flags = le32toh(raw->flags);

	rg->sector = le64toh(raw->sector);
	rg->nr_sectors = le32toh(raw->num_sectors);
	rg->unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	/* Unknown flags, or unmap on a discard, are refused as unsupported. */
	if (flags & ~(u32)(discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
		return VIRTIO_BLK_S_UNSUPP;
	if (rg->nr_sectors > VIRTIO_BLK_MAX_RANGE_SECTORS ||
	    !sectors_fit(l->capacity, rg->sector, rg->nr_sectors))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static int parse_ranges(const struct blk_limits *l, const struct vq_chain *c, struct blk_req *r,
			size_t dout, size_t din)
{
	struct virtio_blk_discard_write_zeroes raw[VIRTIO_BLK_MAX_RANGES];
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;

	if (!(discard ? l->discard : l->write_zeroes))
		return VIRTIO_BLK_S_UNSUPP;
	if (l->ro || din || !dout || dout % BLK_RANGE_SIZE ||
	    dout / BLK_RANGE_SIZE > VIRTIO_BLK_MAX_RANGES)
		return VIRTIO_BLK_S_IOERR;
	iov_to_buf(c->out, c->n_out, BLK_HDR_SIZE, raw, dout);
	for (unsigned int i = 0; i < dout / BLK_RANGE_SIZE; i++) {
		int st = check_range(l, &r->ranges[r->nr_ranges], &raw[i], discard);

		if (st != VIRTIO_BLK_S_OK)
			return st;
		/* A range of no sectors has nothing to do. */
		if (r->ranges[r->nr_ranges].nr_sectors)
			r->nr_ranges++;
	}
	r->flush_after = !l->flush;
	return VIRTIO_BLK_S_OK;
}

int virtio_blk_parse_request(const struct blk_limits *l, const struct vq_chain *c,
			     struct blk_req *r)
{
	struct virtio_blk_outhdr hdr;
	size_t dout, din;

	r->head = c->head;
	r->type = UINT32_MAX;
	r->written = 1;
	r->flush_after = false;
	r->step = r->nr_ranges = r->iovcnt = 0;
	r->data_len = 0;
	r->status = find_status(c);
	if (!r->status)
		return -EIO;
	if (c->out_len < BLK_HDR_SIZE)
		return VIRTIO_BLK_S_IOERR;
	iov_to_buf(c->out, c->n_out, 0, &hdr, sizeof(hdr));
	r->type = le32toh(hdr.type);
	r->sector = le64toh(hdr.sector);
	dout = c->out_len - BLK_HDR_SIZE;
	din = c->in_len - 1;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return parse_rw(l, c, r, dout, din);
	case VIRTIO_BLK_T_FLUSH:
		if (!l->flush)
			return VIRTIO_BLK_S_UNSUPP;
		return dout || din ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		return parse_get_id(c, r, dout, din);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_ranges(l, c, r, dout, din);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}
