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
	/*
	 * Dirty tracking (track_dirty_pages): a bit per host page of RAM, numbered by its
	 * offset from base (the memory file's order), for the pages kvmbox itself writes
	 * (KVM logs the vCPUs' writes). NULL when not tracking; set with atomic ORs, since
	 * device workers mark pages concurrently.
	 */
	u64 *dirty;
	u64 page_size; /* the host's page: KVM's dirty log granularity */
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
 * Starts tracking the pages kvmbox writes: allocates the bitmap, every page marked dirty
 * if all (a fresh boot, whose loaders wrote RAM before any snapshot), none otherwise.
 * Returns 0, or -ENOMEM.
 */
int guest_memory_track_dirty(struct guest_memory *mem, bool all);
/* Bits in the dirty bitmap (pages of RAM), and its size in u64 words. */
u64 guest_memory_pages(const struct guest_memory *mem);
u64 guest_memory_dirty_words(const struct guest_memory *mem);
/*
 * Marks the pages of [hva, hva + len) dirty, for a write by kvmbox (a device) into guest
 * RAM. Cheap and does nothing when not tracking or when hva is not guest RAM.
 */
void guest_memory_mark_dirty(const struct guest_memory *mem, const void *hva, u64 len);
/* Moves the dirty bits into out (OR), clearing them: the start of a new interval. */
void guest_memory_take_dirty(struct guest_memory *mem, u64 *out);

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
