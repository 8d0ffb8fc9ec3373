/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the device harnesses share: the input read as a sequence of guest accesses, the
 * data buffer a handler gets, and a device's snapshot changed by the input and loaded back.
 *
 * One access is at least 6 bytes of input:
 *   [0]     kind: which register window or other operation, as the harness says; from
 *           FUZZ_KIND_RESET on a reset and from FUZZ_KIND_SNAPSHOT a snapshot, where the
 *           device has them
 *   [1]     bits 0-2 the width: 1, 2, 4, 8, 1, 2, 4 or odd (3, 5, 6, 7 by bits 4-5), cut to
 *           the harness's widest; bit 3 a write; bits 6-7 = 3: the offset is near the end
 *           of the window, often past it, else anywhere inside
 *   [2..5]  the offset (le32), taken modulo the window (fuzz_place())
 *   [6..]   for a write, the value: one byte per byte written
 * An input that ends early reads as zeros.
 */
#ifndef KVMBOX_TESTS_FUZZ_FUZZ_ACCESS_H
#define KVMBOX_TESTS_FUZZ_FUZZ_ACCESS_H

#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "util/types.h"

/* A broken promise: trap, so libFuzzer saves the input that did it. */
#define CHECK(x) ((x) ? (void)0 : __builtin_trap())

/* The kinds of access harnesses share, at the top of the range: 1 in 32 of each. */
#define FUZZ_KIND_RESET	   0xe0
#define FUZZ_KIND_SNAPSHOT 0xf0

struct fuzz_in {
	const u8 *p;
	size_t n;
};

static inline u8 fuzz_u8(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* The little-endian value of the next n (up to 8) bytes. */
static inline u64 fuzz_le(struct fuzz_in *in, unsigned int n)
{
	u64 v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (u64)fuzz_u8(in) << (8 * i);
	return v;
}

struct fuzz_access {
	u8 kind;
	bool write;
	bool near_end; /* the offset is near the end of its window */
	u32 len;
	u32 raw;    /* the offset as the input has it */
	u64 offset; /* into the window: fuzz_place() sets it */
	u8 data[8]; /* what a write writes */
};

/* Sets a's offset in a window of span bytes, from the input's. */
static inline u64 fuzz_place(struct fuzz_access *a, u64 span)
{
	a->offset = a->raw % span;
	if (a->near_end)
		a->offset = span > 16 ? span - 16 + a->raw % 32 : span + a->raw % 8;
	return a->offset;
}

/*
 * The next access, at most max_len (4 or 8) bytes wide, placed in a window of span bytes
 * (fuzz_place() places it in another); false once the input is used up.
 */
static inline bool fuzz_next(struct fuzz_in *in, struct fuzz_access *a, u64 span, u32 max_len)
{
	static const u8 widths[8] = {1, 2, 4, 8, 1, 2, 4, 0}, odd[4] = {3, 5, 6, 7};
	u8 op;

	if (!in->n)
		return false;
	a->kind = fuzz_u8(in);
	op = fuzz_u8(in);
	a->raw = (u32)fuzz_le(in, 4);
	a->len = MIN(widths[op & 7] ? widths[op & 7] : odd[(op >> 4) & 3], max_len);
	a->write = op & 8;
	a->near_end = (op >> 6) == 3;
	fuzz_place(a, span);
	memset(a->data, 0, sizeof(a->data));
	for (u32 i = 0; a->write && i < a->len; i++)
		a->data[i] = fuzz_u8(in);
	return true;
}

/*
 * The buffer for a, filled with what a writes (or a pattern for a read). It ends where an
 * 8-byte heap block ends, so AddressSanitizer catches a handler that touches more than
 * len bytes: for port string I/O that would be the next element's data.
 */
static inline u8 *fuzz_buf(const struct fuzz_access *a)
{
	static u8 *block;

	if (!block)
		block = malloc(8);
	CHECK(block);
	memset(block, 0xa5, 8);
	if (a->write)
		memcpy(block + 8 - a->len, a->data, a->len);
	return block + 8 - a->len;
}

/* Whether a lies inside a bus range of len bytes: the bus hands a handler nothing else. */
static inline bool fuzz_fits(const struct fuzz_access *a, u64 len)
{
	return a->offset < len && a->len <= len - a->offset;
}

typedef int (*fuzz_snap_fn)(void *dev, struct snap_buf *sb);

#define FUZZ_SNAP_HDR 36 /* a section's name (32 bytes) and version (4), snapshot.c */

/* The device's state, saved into a fresh buffer (the caller frees it). */
static inline struct snap_buf fuzz_save(void *dev, fuzz_snap_fn save)
{
	struct snap_buf sb;

	snap_init(&sb);
	CHECK(save(dev, &sb) == 0 && sb.len >= FUZZ_SNAP_HDR);
	return sb;
}

static inline bool fuzz_snap_equal(const struct snap_buf *a, const struct snap_buf *b)
{
	return a->len == b->len && !memcmp(a->data, b->data, a->len);
}

/*
 * A snapshot of the device as it is, changed by the input (bytes of its payload replaced,
 * the section cut short, its version or name changed) and loaded back. A refused load
 * changes nothing; an accepted one gives a state that saves and loads back to itself.
 */
static inline void fuzz_snapshot(void *dev, fuzz_snap_fn save, fuzz_snap_fn load,
				 struct fuzz_in *in)
{
	struct snap_buf before = fuzz_save(dev, save), sb = fuzz_save(dev, save), after;
	size_t body = sb.len - FUZZ_SNAP_HDR;
	u8 how = fuzz_u8(in);

	for (unsigned int n = how & 7; body && n; n--) {
		size_t at = FUZZ_SNAP_HDR + fuzz_le(in, 2) % body;

		sb.data[at] = fuzz_u8(in);
	}
	if (how & 0x08)
		sb.len = FUZZ_SNAP_HDR + fuzz_le(in, 2) % (body + 1);
	if (how & 0x10)
		sb.data[32] ^= fuzz_u8(in); /* the version */
	if (how & 0x20)
		sb.data[0] ^= 1; /* the name */
	if (load(dev, &sb)) {
		/* The device's own snapshot, unchanged, must load. */
		CHECK(!fuzz_snap_equal(&before, &sb));
		after = fuzz_save(dev, save);
		CHECK(fuzz_snap_equal(&before, &after));
	} else {
		struct snap_buf again;

		after = fuzz_save(dev, save);
		CHECK(load(dev, &after) == 0);
		again = fuzz_save(dev, save);
		CHECK(fuzz_snap_equal(&after, &again));
		snap_free(&again);
	}
	snap_free(&before);
	snap_free(&sb);
	snap_free(&after);
}

#endif
