// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the seed corpus of fuzz_virtio_console: well-behaved drivers in the harness's
 * input format (see fuzz_virtio_console.c), from which the fuzzer mutates hostile ones:
 * receive buffers posted the way Linux posts them, and hvc output to transmit. Not a
 * harness: it links nothing of kvmbox. Regenerate with
 *   cc -o /tmp/gen tests/fuzz/gen_virtio_console_seeds.c && /tmp/gen tests/fuzz/corpus/fuzz_virtio_console
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_ring.h>

#define RAM_SIZE  (64 * 1024)
#define TX_RINGS  (32 * 1024)
#define IMAGE_OFF 22
#define BUFS	  (40 * 1024)

static uint8_t seed[IMAGE_OFF + RAM_SIZE];
static uint8_t *const ram = seed + IMAGE_OFF;

struct ring {
	uint32_t base;
	unsigned int size;
	uint16_t next, idx;
} rings[2];
static uint32_t next_buf;

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, (uint16_t)v);
	le16(p + 2, (uint16_t)(v >> 16));
}

static void reset(unsigned int rx_log2, unsigned int tx_log2, uint8_t flags)
{
	memset(seed, 0, sizeof(seed));
	seed[0] = (uint8_t)(rx_log2 | tx_log2 << 4);
	seed[1] = flags;
	rings[0] = (struct ring){.base = 0, .size = 1u << rx_log2};
	rings[1] = (struct ring){.base = TX_RINGS, .size = 1u << tx_log2};
	next_buf = BUFS;
}

/* Posts one buffer of len bytes on queue q; returns its offset in RAM. */
static uint32_t post(int q, uint32_t len, const char *text)
{
	struct ring *r = &rings[q];
	uint16_t d = r->next++ % r->size;
	uint8_t *desc = ram + r->base + 16 * d;
	uint8_t *avail = ram + r->base + 16 * r->size;
	uint32_t at = next_buf;

	le32(desc, at);
	le32(desc + 8, len);
	le16(desc + 12, q == 0 ? VRING_DESC_F_WRITE : 0);
	le16(avail + 4 + 2 * (r->idx % r->size), d);
	le16(avail + 2, ++r->idx);
	if (text)
		memcpy(ram + at, text, len);
	next_buf += (len + 63) & ~63u;
	return at;
}

static void write_seed(const char *dir, const char *name, const uint8_t *ops)
{
	size_t len = sizeof(seed);
	char path[512];
	FILE *f;

	memcpy(seed + 6, ops, 16);
	/* The harness zero-fills what an input lacks: trailing zeros need not be stored. */
	while (len > IMAGE_OFF && !seed[len - 1])
		len--;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(seed, len, 1, f) != 1) {
		perror(path);
		return;
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	/* type, receive, transmit, type more, receive, kick, receive, reset, ... */
	const uint8_t ops[16] = {1 | 3 << 2, 2, 0, 1 | 6 << 2, 2, 3, 2, 0x13,
				 1 | 4 << 2, 2, 0, 1 | 7 << 2, 2, 3, 2, 0};

	/* Linux's way: page-sized receive buffers, hvc output in one buffer per write. */
	reset(3, 3, 0);
	for (int i = 0; i < 4; i++)
		post(0, 4096, NULL);
	post(1, 14, "hello, world\r\n");
	post(1, 2, "$ ");
	write_seed(dir, "pages", ops);

	/* Small buffers and the event index: input spreads over many of them. */
	reset(4, 1, 1);
	for (int i = 0; i < 16; i++)
		post(0, 8, NULL);
	post(1, 5, "abcde");
	write_seed(dir, "small-eventidx", ops);
	return 0;
}
