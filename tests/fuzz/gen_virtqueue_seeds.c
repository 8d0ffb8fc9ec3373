// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the seed corpus of fuzz_virtqueue: a few well-formed and hostile drivers in the
 * harness's input format (see fuzz_virtqueue.c). Not a harness: it links nothing of
 * kvmbox. Regenerate with
 *   cc -o /tmp/gen tests/fuzz/gen_virtqueue_seeds.c && /tmp/gen tests/fuzz/corpus/fuzz_virtqueue
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_ring.h>

#define R0_SIZE	  (64 * 1024)
#define R1_SIZE	  (16 * 1024)
#define R1_GPA	  (4ULL << 30)
#define IMAGE_OFF 28

static uint8_t in[IMAGE_OFF + R0_SIZE + R1_SIZE];
static unsigned int qsize;

static void begin(unsigned int size_log2, uint8_t flags)
{
	memset(in, 0, sizeof(in));
	qsize = 1u << size_log2;
	in[0] = size_log2;
	in[1] = flags;
}

static void put(uint64_t image_off, const void *p, size_t len)
{
	memcpy(in + IMAGE_OFF + image_off, p, len);
}

/* Writes a descriptor into a table at image offset table (the rings' region comes first). */
static void desc_at(uint64_t table, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	struct vring_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};

	put(table + 16 * i, &d, sizeof(d));
}

static void desc(unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	desc_at(0, i, addr, len, flags, next);
}

/* Sets avail->idx and ring entry slot. */
static void avail(uint16_t idx, unsigned int slot, uint16_t head)
{
	uint64_t off = 16 * qsize;

	put(off + 2, &idx, 2);
	put(off + 4 + 2 * (slot % qsize), &head, 2);
}

static void start_idx(uint16_t last_avail, uint16_t used_idx)
{
	memcpy(in + 2, &last_avail, 2);
	memcpy(in + 4, &used_idx, 2);
}

/* Writes the input up to its last non-zero byte. */
static int save(const char *dir, const char *name)
{
	char path[4096];
	size_t len = sizeof(in);
	FILE *f;

	while (len > IMAGE_OFF && !in[len - 1])
		len--;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(in, 1, len, f) != len || fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
		return 2;
	}
	begin(2, 0);
	desc(0, 0x8000, 64, 0, 0);
	avail(1, 0, 0);
	in[12] = 0x70; /* pop everything, enable notifications, should_notify */
	err |= save(argv[1], "simple");

	begin(3, 0);
	desc(1, 0x8000, 16, VRING_DESC_F_NEXT, 4);
	desc(4, 0x9000, 100, VRING_DESC_F_NEXT, 2);
	desc(2, 0xa000, 32, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 7);
	desc(7, 0xb000, 4096, VRING_DESC_F_WRITE, 0);
	avail(1, 0, 1);
	err |= save(argv[1], "out_in");

	begin(3, 3);
	desc(0, 0x8000, 8, VRING_DESC_F_NEXT, 5);
	desc(5, 0x400, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	desc_at(0x400, 0, 0x9000, 16, VRING_DESC_F_NEXT, 2);
	desc_at(0x400, 2, 0xa000, 16, VRING_DESC_F_NEXT, 1);
	desc_at(0x400, 1, 0xb000, 64, VRING_DESC_F_WRITE, 0);
	avail(1, 0, 0);
	in[12] = 0x50;
	in[13] = 0x40;
	err |= save(argv[1], "indirect_event_idx");

	begin(4, 1);
	start_idx(0xfffe, 0xfffe);
	for (unsigned int i = 0; i < 4; i++) {
		desc(i, 0x8000 + 0x100 * i, 0x80, VRING_DESC_F_WRITE, 0);
		avail(2, 0xfffe + i, i);
	}
	in[12] = 0x40;
	in[13] = 0x30;
	err |= save(argv[1], "wraparound");

	begin(3, 6);
	desc(0, R1_GPA + 0x2000, 0x100, VRING_DESC_F_NEXT, 1);
	desc(1, 0xfff0, 0x10, VRING_DESC_F_WRITE, 0);
	avail(1, 0, 0);
	err |= save(argv[1], "region1");

	begin(2, 0);
	desc(0, 0x8000, 8, VRING_DESC_F_NEXT, 1);
	desc(1, 0x8000, 8, VRING_DESC_F_NEXT, 0);
	avail(1, 0, 0);
	err |= save(argv[1], "loop");

	begin(1, 2);
	desc(0, 0x8000, 8, 0, 0);
	desc(1, 0x400, 16, VRING_DESC_F_INDIRECT, 0);
	desc_at(0x400, 0, 0x9000, 8, VRING_DESC_F_WRITE, 0);
	avail(2, 0, 0);
	avail(2, 1, 1);
	{
		static const uint8_t ops[] = {0x01, 0x02, 0x1d, 0x00, 0x0b, 0x7e, 0x30, 0x40};

		memcpy(in + 12, ops, sizeof(ops));
	}
	err |= save(argv[1], "ops");

	begin(10, 3);
	desc(1023, 0x7000, 0x200, VRING_DESC_F_NEXT, 0);
	desc(0, 0x7200, 0x200, VRING_DESC_F_WRITE, 0);
	avail(1, 0, 1023);
	err |= save(argv[1], "size1024");

	/* Rings placed by hand, the available ring ending exactly at the end of region 1. */
	begin(3, 8 | 4 | 1);
	{
		uint16_t offs[3] = {0x100, R1_SIZE - 6 - 2 * 8, 0x200};

		memcpy(in + 6, offs, sizeof(offs));
		desc_at(0x100, 0, 0x8000, 8, 0, 0);
		put(offs[1] + 2, &(uint16_t){1}, 2);
		in[12] = 0x70;
		in[13] = 0x40;
	}
	err |= save(argv[1], "placed_rings");

	/* The used ring as close to the end of region 1 as its alignment allows. */
	begin(3, 8 | 4 | 1);
	{
		uint16_t offs[3] = {0x100, 0x200, 0x10000 - (6 + 8 * 8 + 2)};

		memcpy(in + 6, offs, sizeof(offs));
		desc_at(0x100, 0, 0x8000, 8, VRING_DESC_F_WRITE, 0);
		put(0x200 + 2, &(uint16_t){1}, 2);
		in[12] = 0x70;
		in[13] = 0x40;
	}
	err |= save(argv[1], "used_at_end");
	return err;
}
