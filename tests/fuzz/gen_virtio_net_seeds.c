// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the seed corpus of fuzz_virtio_net: well-behaved drivers in the harness's input
 * format (see fuzz_virtio_net.c), from which the fuzzer mutates hostile ones. Not a
 * harness: it links nothing of kvmbox. Regenerate with
 *   cc -o /tmp/gen tests/fuzz/gen_virtio_net_seeds.c && /tmp/gen tests/fuzz/corpus/fuzz_virtio_net
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define RAM_SIZE  (64 * 1024)
#define TX_RINGS  (32 * 1024)
#define IMAGE_OFF 24
#define BUFS	  (40 * 1024) /* buffers live from here on */

static uint8_t in[IMAGE_OFF + RAM_SIZE];
static uint8_t *ram = in + IMAGE_OFF;
static unsigned int qsize[2];
static uint16_t next_desc[2], avail_idx[2];
static uint32_t next_buf;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static uint32_t ring_base(int q)
{
	return q ? TX_RINGS : 0;
}

static void begin(unsigned int rx_log2, unsigned int tx_log2, uint8_t features, uint8_t caps)
{
	memset(in, 0, sizeof(in));
	in[0] = rx_log2 | tx_log2 << 4;
	in[1] = features;
	in[2] = caps;
	qsize[0] = 1u << rx_log2;
	qsize[1] = 1u << tx_log2;
	next_desc[0] = next_desc[1] = avail_idx[0] = avail_idx[1] = 0;
	next_buf = BUFS;
}

/* Appends a chain of n buffers (lens[]), the last nin device-writable. */
static uint32_t add_chain(int q, unsigned int n, unsigned int nin, const uint32_t *lens)
{
	uint32_t desc = ring_base(q), avail = desc + 16 * qsize[q], first = next_buf;
	uint16_t head = next_desc[q] % qsize[q];

	for (unsigned int i = 0; i < n; i++) {
		uint16_t d = (head + i) % qsize[q];
		uint8_t *e = ram + desc + 16 * d;

		put32(e, next_buf);
		put32(e + 8, lens[i]);
		put16(e + 12, (i >= n - nin ? VRING_DESC_F_WRITE : 0) |
				      (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		put16(e + 14, (d + 1) % qsize[q]);
		next_buf += (lens[i] + 63) & ~63u;
	}
	next_desc[q] += n;
	put16(ram + avail + 4 + 2 * (avail_idx[q] % qsize[q]), head);
	avail_idx[q]++;
	put16(ram + avail + 2, avail_idx[q]);
	return first;
}

/* A transmit chain: a plain header, then an Ethernet frame of len bytes in two pieces. */
static void add_tx(uint32_t len)
{
	const uint32_t lens[] = {12, len / 2, len - len / 2};
	uint32_t at = add_chain(1, 3, 0, lens);

	memset(ram + at, 0, 12);
	memset(ram + at + 64, 0xab, len); /* frame bytes, whatever they are */
}

static void ops(const uint8_t *o, unsigned int n)
{
	memcpy(in + 8, o, n);
}

static void save(const char *dir, const char *name)
{
	size_t len = sizeof(in);
	char path[512];
	FILE *f;

	/* The harness zero-fills what an input lacks: trailing zeros need not be stored. */
	while (len > IMAGE_OFF && !in[len - 1])
		len--;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(in, len, 1, f) != 1) {
		perror(path);
		return;
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	/* queue packets of several sizes, receive, transmit, kick, receive again */
	const uint8_t mixed[] = {1 | 3 << 2, 1 | 4 << 2, 2,    0, 1 | 5 << 2, 2,	  3, 2,
				 1 | 6 << 2, 2,		 0x10, 3, 2,	      1 | 7 << 2, 2, 0};

	/* Mergeable buffers and every offload, 1536-byte receive buffers. */
	begin(4, 4, 0x7f, 0x1f);
	for (int i = 0; i < 8; i++)
		add_chain(0, 1, 1, (const uint32_t[]){1536});
	add_tx(60);
	add_tx(1514);
	ops(mixed, sizeof(mixed));
	save(dir, "mrg-offloads");

	/* No mergeable buffers, no offloads, small rings, event index. */
	begin(2, 2, 0x80, 0);
	for (int i = 0; i < 4; i++)
		add_chain(0, 2, 2, (const uint32_t[]){12, 2000});
	add_tx(100);
	ops(mixed, sizeof(mixed));
	save(dir, "plain-eventidx");

	/* Tiny receive buffers: packets span many chains or do not fit at all. */
	begin(3, 1, 0x01, 0);
	for (int i = 0; i < 8; i++)
		add_chain(0, 1, 1, (const uint32_t[]){20});
	ops(mixed, sizeof(mixed));
	save(dir, "tiny-buffers");
	return 0;
}
