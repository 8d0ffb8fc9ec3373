// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk request validation, virtio_blk_parse_request() on hand-made chains whose
 * buffers are plain host memory: reads and writes, the chain's layout, request types,
 * and discard/write-zeroes ranges.
 */
#include <errno.h>

#include "util/log.h"
#include "virtio_blk_fixture.h"

struct chain_fixture {
	struct vq_chain c;
	struct blk_req r;
	struct blk_limits l;
	u8 mem[8192];
};

static void chain_reset(struct chain_fixture *f)
{
	memset(&f->c, 0, sizeof(f->c));
	f->l = (struct blk_limits){
		.capacity = SECTORS, .flush = true, .discard = true, .write_zeroes = true};
}

static void *add_out(struct chain_fixture *f, size_t off, size_t len)
{
	f->c.out[f->c.n_out++] = (struct iovec){f->mem + off, len};
	f->c.out_len += len;
	return f->mem + off;
}

static void add_in(struct chain_fixture *f, size_t off, size_t len)
{
	f->c.in[f->c.n_in++] = (struct iovec){f->mem + off, len};
	f->c.in_len += len;
}

static void put_hdr(struct chain_fixture *f, u32 type, u64 sector)
{
	struct virtio_blk_outhdr h = {.type = htole32(type), .sector = htole64(sector)};

	memcpy(add_out(f, 0, sizeof(h)), &h, sizeof(h));
}

static int parse(struct chain_fixture *f)
{
	return virtio_blk_parse_request(&f->l, &f->c, &f->r);
}

/* A read: header, then data and status in device-writable buffers. */
static int parse_read(struct chain_fixture *f, u64 sector, size_t len)
{
	chain_reset(f);
	put_hdr(f, VIRTIO_BLK_T_IN, sector);
	add_in(f, 512, len);
	add_in(f, 4096, 1);
	return parse(f);
}

static void test_parse_rw(void **state)
{
	struct chain_fixture *f = calloc(1, sizeof(*f));

	(void)state;
	assert_int_equal(parse_read(f, 0, 1024), VIRTIO_BLK_S_OK);
	assert_int_equal(f->r.type, VIRTIO_BLK_T_IN);
	assert_int_equal(f->r.iovcnt, 1);
	assert_int_equal(f->r.data_len, 1024);
	assert_int_equal(f->r.written, 1025);
	assert_ptr_equal(f->r.status, f->mem + 4096);
	/* The last sector is in range; one past it, or any overflow, is not. */
	assert_int_equal(parse_read(f, SECTORS - 2, 1024), VIRTIO_BLK_S_OK);
	assert_int_equal(parse_read(f, SECTORS - 1, 1024), VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_read(f, SECTORS, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(parse_read(f, SECTORS + 1, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_read(f, UINT64_MAX, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_read(f, UINT64_MAX / 512 + 1, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_read(f, 0, 1000), VIRTIO_BLK_S_IOERR);

	/* A write: header and data device-readable, in one buffer here. */
	chain_reset(f);
	put_hdr(f, VIRTIO_BLK_T_OUT, 8);
	f->c.out[0].iov_len = 16 + 512;
	f->c.out_len = 16 + 512;
	add_in(f, 4096, 1);
	assert_int_equal(parse(f), VIRTIO_BLK_S_OK);
	assert_int_equal(f->r.iovcnt, 1);
	assert_ptr_equal(f->r.iov[0].iov_base, f->mem + 16);
	assert_int_equal(f->r.written, 1);
	assert_false(f->r.flush_after);
	f->l.flush = false; /* write-through without FLUSH */
	assert_int_equal(parse(f), VIRTIO_BLK_S_OK);
	assert_true(f->r.flush_after);
	f->l.ro = true;
	assert_int_equal(parse(f), VIRTIO_BLK_S_IOERR);
	free(f);
}

static void test_parse_layout(void **state)
{
	struct chain_fixture *f = calloc(1, sizeof(*f));

	(void)state;
	/* No device-writable byte: nowhere to put a status, the driver broke the rules. */
	chain_reset(f);
	put_hdr(f, VIRTIO_BLK_T_IN, 0);
	assert_int_equal(parse(f), -EIO);
	add_in(f, 512, 0);
	assert_int_equal(parse(f), -EIO);
	/* Short header: an error, answered in the status byte. */
	chain_reset(f);
	add_out(f, 0, 15);
	add_in(f, 4096, 1);
	assert_int_equal(parse(f), VIRTIO_BLK_S_IOERR);
	/* A header split over buffers is still one header. */
	chain_reset(f);
	put_hdr(f, VIRTIO_BLK_T_IN, 2);
	f->c.out[0].iov_len = 5;
	add_out(f, 5, 11);
	f->c.out_len = 16;
	add_in(f, 512, 513); /* data and status in one buffer */
	assert_int_equal(parse(f), VIRTIO_BLK_S_OK);
	assert_int_equal(f->r.sector, 2);
	assert_int_equal(f->r.data_len, 512);
	assert_ptr_equal(f->r.status, f->mem + 512 + 512);
	/* Trailing empty buffers do not hide the status byte. */
	add_in(f, 2048, 0);
	assert_int_equal(parse(f), VIRTIO_BLK_S_OK);
	assert_ptr_equal(f->r.status, f->mem + 512 + 512);
	/* A read with device-readable data, a write with device-writable data. */
	chain_reset(f);
	put_hdr(f, VIRTIO_BLK_T_IN, 0);
	add_out(f, 16, 512);
	add_in(f, 512, 513);
	assert_int_equal(parse(f), VIRTIO_BLK_S_IOERR);
	chain_reset(f);
	put_hdr(f, VIRTIO_BLK_T_OUT, 0);
	add_in(f, 512, 513);
	assert_int_equal(parse(f), VIRTIO_BLK_S_IOERR);
	/* More data buffers than seg_max. */
	chain_reset(f);
	put_hdr(f, VIRTIO_BLK_T_IN, 0);
	for (int i = 0; i < VIRTIO_BLK_SEG_MAX + 1; i++)
		add_in(f, 512, 512);
	add_in(f, 4096, 1);
	assert_int_equal(parse(f), VIRTIO_BLK_S_IOERR);
	f->c.n_in = 0;
	f->c.in_len = 0;
	for (int i = 0; i < VIRTIO_BLK_SEG_MAX; i++)
		add_in(f, 512, 512);
	add_in(f, 4096, 1);
	assert_int_equal(parse(f), VIRTIO_BLK_S_OK);
	free(f);
}

static void test_parse_types(void **state)
{
	struct chain_fixture *f = calloc(1, sizeof(*f));

	(void)state;
	chain_reset(f);
	put_hdr(f, 0x1234, 0);
	add_in(f, 4096, 1);
	assert_int_equal(parse(f), VIRTIO_BLK_S_UNSUPP);
	chain_reset(f);
	put_hdr(f, VIRTIO_BLK_T_FLUSH, 0);
	add_in(f, 4096, 1);
	assert_int_equal(parse(f), VIRTIO_BLK_S_OK);
	f->l.flush = false;
	assert_int_equal(parse(f), VIRTIO_BLK_S_UNSUPP);
	/* GET_ID: up to 20 bytes of the buffer before the status. */
	chain_reset(f);
	put_hdr(f, VIRTIO_BLK_T_GET_ID, 0);
	add_in(f, 512, 64);
	assert_int_equal(parse(f), VIRTIO_BLK_S_OK);
	assert_int_equal(f->r.data_len, 20);
	assert_int_equal(f->r.written, 21);
	chain_reset(f);
	put_hdr(f, VIRTIO_BLK_T_GET_ID, 0);
	add_in(f, 512, 1);
	assert_int_equal(parse(f), VIRTIO_BLK_S_IOERR);
	free(f);
}

static int parse_ranges(struct chain_fixture *f, u32 type, unsigned int n, u64 sector, u32 nr,
			u32 flags)
{
	struct virtio_blk_discard_write_zeroes rg = {
		.sector = htole64(sector), .num_sectors = htole32(nr), .flags = htole32(flags)};

	chain_reset(f);
	put_hdr(f, type, 0);
	for (unsigned int i = 0; i < n; i++)
		memcpy(add_out(f, 16 + i * sizeof(rg), sizeof(rg)), &rg, sizeof(rg));
	add_in(f, 4096, 1);
	return parse(f);
}

static void test_parse_ranges(void **state)
{
	const u32 unmap = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, dis = VIRTIO_BLK_T_DISCARD;
	const u32 wz = VIRTIO_BLK_T_WRITE_ZEROES;
	struct chain_fixture *f = calloc(1, sizeof(*f));

	(void)state;
	assert_int_equal(parse_ranges(f, dis, 1, 8, 16, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(f->r.nr_ranges, 1);
	assert_int_equal(f->r.ranges[0].sector, 8);
	assert_int_equal(parse_ranges(f, dis, 1, 8, 16, unmap), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(parse_ranges(f, wz, 1, 8, 16, unmap), VIRTIO_BLK_S_OK);
	assert_true(f->r.ranges[0].unmap);
	assert_int_equal(parse_ranges(f, wz, 1, 8, 16, 2), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(parse_ranges(f, wz, VIRTIO_BLK_MAX_RANGES, 0, 1, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(parse_ranges(f, wz, VIRTIO_BLK_MAX_RANGES + 1, 0, 1, 0),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_ranges(f, wz, 0, 0, 1, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_ranges(f, dis, 1, SECTORS - 1, 2, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_ranges(f, dis, 1, UINT64_MAX, 1, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_ranges(f, dis, 1, 0, VIRTIO_BLK_MAX_RANGE_SECTORS + 1, 0),
			 VIRTIO_BLK_S_IOERR);
	/* Empty ranges are valid and need no I/O. */
	assert_int_equal(parse_ranges(f, dis, 3, 0, 0, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(f->r.nr_ranges, 0);
	/* A range list that is not whole segments. */
	parse_ranges(f, dis, 1, 0, 1, 0);
	f->c.out[1].iov_len = 15;
	f->c.out_len -= 1;
	assert_int_equal(parse(f), VIRTIO_BLK_S_IOERR);
	/* Not negotiated, or a read-only disk. */
	parse_ranges(f, dis, 1, 0, 1, 0);
	f->l.discard = false;
	assert_int_equal(parse(f), VIRTIO_BLK_S_UNSUPP);
	parse_ranges(f, wz, 1, 0, 1, 0);
	f->l.ro = true;
	assert_int_equal(parse(f), VIRTIO_BLK_S_IOERR);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rw),
		cmocka_unit_test(test_parse_layout),
		cmocka_unit_test(test_parse_types),
		cmocka_unit_test(test_parse_ranges),
	};

	log_level = LOG_ERR;
	return cmocka_run_group_tests_name("virtio_blk_parse", tests, NULL, NULL);
}
