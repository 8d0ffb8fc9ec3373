/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_MEMORY_H
#define KVMBOX_MEMORY_H

#include "util/types.h"

#define GUEST_MAX_REGIONS 4

/* One contiguous run of guest RAM, backed by host memory and registered as a memslot. */
struct mem_region {
	u64 gpa;
	u64 size;
	u8 *hva;
};

struct guest_memory {
	u8 *base; /* one anonymous mapping holding every region, in order */
	u64 total;
	unsigned int nr;
	struct mem_region regions[GUEST_MAX_REGIONS];
};

/*
 * Lays out ram_size bytes of guest RAM, the part that would overlap the 32-bit MMIO hole
 * [hole_start, 4 GiB) moved above 4 GiB. Pure: fills the regions, allocates nothing.
 * Returns 0, or -EINVAL if the size cannot be laid out.
 */
int guest_memory_layout(struct guest_memory *mem, u64 ram_size, u64 hole_start);
/* Lays out ram_size bytes as one region from base (boards without a hole below 4 GiB). */
int guest_memory_layout_at(struct guest_memory *mem, u64 base, u64 ram_size);
/* Maps the host memory for a laid-out guest_memory. Returns 0 or -errno. */
int guest_memory_alloc(struct guest_memory *mem);
/*
 * Maps a snapshot's memory file (at least mem->total bytes, else -EINVAL) as the guest's
 * RAM, copy-on-write. Returns 0 or -errno.
 */
int guest_memory_map_file(struct guest_memory *mem, const char *path);
void guest_memory_free(struct guest_memory *mem);

/*
 * The one way to turn a guest physical address into a host pointer: returns NULL unless
 * all of [gpa, gpa + len) lies inside a single RAM region. len 0 is treated as 1.
 * Overflow-safe for any gpa and len a guest can produce.
 */
void *gpa_to_hva(const struct guest_memory *mem, u64 gpa, u64 len);

/* Copies to and from guest memory; return false (and copy nothing) if out of RAM. */
bool guest_read(const struct guest_memory *mem, u64 gpa, void *dst, u64 len);
bool guest_write(const struct guest_memory *mem, u64 gpa, const void *src, u64 len);

#endif
