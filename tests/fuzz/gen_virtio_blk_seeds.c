// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the seed corpus of fuzz_virtio_blk: well-formed requests of every type in the
 * harness's two input formats (see fuzz_virtio_blk.c), for the fuzzer to mutate. Not a
 * harness: it links nothing of kvmbox. Regenerate with
 *   cc -o /tmp/gen tests/fuzz/gen_virtio_blk_seeds.c && /tmp/gen tests/fuzz/corpus/fuzz_virtio_blk
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>

#define AVAIL_GPA 0x400
#define USED_GPA  0x800
#define HDR_GPA	  0x1000
#define DATA_GPA  0x2000
#define STAT_GPA  0x3000
#define IMAGE_LEN 0x3100 /* what the seeds use of the 64 KiB of guest RAM */

static uint8_t in[2 + IMAGE_LEN];
static unsigned int n_desc, n_avail;
static uint64_t next_hdr = HDR_GPA;

static void put(uint64_t gpa, const void *p, size_t len)
{
	memcpy(in + 2 + gpa, p, len);
}

static void desc(uint64_t addr, uint32_t len, int write, int more)
{
	struct vring_desc d = {
		.addr = addr,
		.len = len,
		.flags = (uint16_t)((write ? VRING_DESC_F_WRITE : 0) |
				    (more ? VRING_DESC_F_NEXT : 0)),
		.next = (uint16_t)(n_desc + 1),
	};

	put(16 * n_desc++, &d, sizeof(d));
}

/* A request: header (+ ranges) readable, optional data, a status byte. */
static void request(uint32_t type, uint64_t sector, uint32_t data_len, int data_write,
		    const void *ranges, uint32_t ranges_len)
{
	struct virtio_blk_outhdr h = {.type = type, .sector = sector};
	uint16_t head = (uint16_t)n_desc;

	put(next_hdr, &h, sizeof(h));
	if (ranges)
		put(next_hdr + sizeof(h), ranges, ranges_len);
	desc(next_hdr, (uint32_t)sizeof(h) + ranges_len, 0, 1);
	next_hdr += 64;
	if (data_len)
		desc(DATA_GPA + 0x400 * n_avail, data_len, data_write, 1);
	desc(STAT_GPA + n_avail, 1, 1, 0);
	put(AVAIL_GPA + 4 + 2 * n_avail++, &head, 2);
	put(AVAIL_GPA + 2, &(uint16_t){(uint16_t)n_avail}, 2);
}

static void write_seed(const char *dir, const char *name, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(in, 1, len, f) != len || fclose(f)) {
		perror(path);
		return;
	}
}

static void engine_seed(const char *dir, const char *name, uint8_t flags)
{
	struct virtio_blk_discard_write_zeroes wz = {.sector = 8, .num_sectors = 8, .flags = 1};
	struct virtio_blk_discard_write_zeroes dis = {.sector = 16, .num_sectors = 32};

	memset(in, 0, sizeof(in));
	n_desc = n_avail = 0;
	next_hdr = HDR_GPA;
	in[0] = (uint8_t)(0x80 | flags);
	in[1] = 4; /* 16 entries */
	request(VIRTIO_BLK_T_OUT, 2, 1024, 0, NULL, 0);
	request(VIRTIO_BLK_T_IN, 0, 512, 1, NULL, 0);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL, 0);
	request(VIRTIO_BLK_T_GET_ID, 0, 20, 1, NULL, 0);
	request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 0, 0, &wz, sizeof(wz));
	request(VIRTIO_BLK_T_DISCARD, 0, 0, 0, &dis, sizeof(dis));
	write_seed(dir, name, sizeof(in));
}

/* Parse mode: header at arena 0, data at 512, status at 4096. */
static void parse_seed(const char *dir, const char *name, uint32_t type, uint32_t out_len,
		       uint32_t in_len)
{
	struct virtio_blk_outhdr h = {.type = type, .sector = 4};
	uint8_t *p = in;
	size_t n = 0;

	memset(in, 0, sizeof(in));
	p[0] = 0x0e;
	p[1] = 1;
	p[2] = in_len ? 2 : 1;
	p[3] = 0;
	p[4] = 1; /* 256 sectors */
	n = 7;
	memcpy(p + n, (uint16_t[2]){0, (uint16_t)(16 + out_len)}, 4);
	n += 4;
	if (in_len) {
		memcpy(p + n, (uint16_t[2]){512, (uint16_t)in_len}, 4);
		n += 4;
	}
	memcpy(p + n, (uint16_t[2]){4096, 1}, 4);
	n += 4;
	memcpy(p + n, &h, sizeof(h));
	n += 4096 + 1;
	write_seed(dir, name, n);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";

	engine_seed(dir, "engine-all-types", 0x0e);
	engine_seed(dir, "engine-read-only", 0x0f);
	engine_seed(dir, "engine-no-features", 0x00);
	parse_seed(dir, "parse-read", VIRTIO_BLK_T_IN, 0, 1024);
	parse_seed(dir, "parse-write", VIRTIO_BLK_T_OUT, 512, 0);
	parse_seed(dir, "parse-get-id", VIRTIO_BLK_T_GET_ID, 0, 20);
	parse_seed(dir, "parse-discard", VIRTIO_BLK_T_DISCARD, 16, 0);
	return 0;
}
