// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memory.h"

#define FOUR_GIB (4ULL * GiB)

int guest_memory_layout(struct guest_memory *mem, u64 ram_size, u64 hole_start)
{
	memset(mem, 0, sizeof(*mem));
	if (ram_size == 0 || ram_size % (4 * KiB) || hole_start == 0 || hole_start > FOUR_GIB)
		return -EINVAL;
	/* Keep the total representable above 4 GiB without wrapping. */
	if (ram_size > (1ULL << 46))
		return -EINVAL;

	mem->total = ram_size;
	mem->regions[0].gpa = 0;
	mem->regions[0].size = MIN(ram_size, hole_start);
	mem->nr = 1;
	if (ram_size > hole_start) {
		mem->regions[1].gpa = FOUR_GIB;
		mem->regions[1].size = ram_size - hole_start;
		mem->nr = 2;
	}
	return 0;
}

int guest_memory_layout_at(struct guest_memory *mem, u64 base, u64 ram_size)
{
	memset(mem, 0, sizeof(*mem));
	if (ram_size == 0 || ram_size % (4 * KiB) || base % (4 * KiB) || ram_size > (1ULL << 46) ||
	    base > (1ULL << 46))
		return -EINVAL;
	mem->total = ram_size;
	mem->regions[0].gpa = base;
	mem->regions[0].size = ram_size;
	mem->nr = 1;
	return 0;
}

static void guest_memory_set_regions(struct guest_memory *mem, u8 *base)
{
	u64 off = 0;

	mem->base = base;
	for (unsigned int i = 0; i < mem->nr; i++) {
		mem->regions[i].hva = mem->base + off;
		off += mem->regions[i].size;
	}
}

int guest_memory_alloc(struct guest_memory *mem)
{
	void *p;

	/* NORESERVE: guest RAM is faulted in lazily and counted only where touched. */
	p = mmap(NULL, mem->total, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise(p, mem->total, MADV_MERGEABLE);
	guest_memory_set_regions(mem, p);
	return 0;
}

int guest_memory_map_file(struct guest_memory *mem, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *p;

	if (fd < 0)
		return -errno;
	/* Checked again here: a file that shrank since the load's check would SIGBUS. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (u64)st.st_size < mem->total) {
		close(fd);
		return -EINVAL;
	}
	/* Private: pages are read on first touch and the guest's writes never reach the file. */
	p = mmap(NULL, mem->total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	guest_memory_set_regions(mem, p);
	return 0;
}

void guest_memory_free(struct guest_memory *mem)
{
	if (mem->base)
		munmap(mem->base, mem->total);
	mem->base = NULL;
	free(mem->dirty);
	mem->dirty = NULL;
}

u64 guest_memory_pages(const struct guest_memory *mem)
{
	return mem->page_size ? (mem->total + mem->page_size - 1) / mem->page_size : 0;
}

u64 guest_memory_dirty_words(const struct guest_memory *mem)
{
	return (guest_memory_pages(mem) + 63) / 64;
}

int guest_memory_track_dirty(struct guest_memory *mem, bool all)
{
	long page = sysconf(_SC_PAGESIZE);
	u64 words, pages;

	mem->page_size = page > 0 ? (u64)page : 4 * KiB;
	pages = guest_memory_pages(mem);
	words = guest_memory_dirty_words(mem);
	mem->dirty = calloc(words ? words : 1, sizeof(u64));
	if (!mem->dirty)
		return -ENOMEM;
	if (all) {
		memset(mem->dirty, 0xff, words * sizeof(u64));
		/* No bit past the last page: the writer would look for a page that is not there. */
		if (pages % 64)
			mem->dirty[words - 1] = (1ULL << (pages % 64)) - 1;
	}
	return 0;
}

void guest_memory_mark_dirty(const struct guest_memory *mem, const void *hva, u64 len)
{
	const u8 *p = hva;
	u64 off, first, last;

	if (!mem->dirty || !p || p < mem->base)
		return;
	off = (u64)(p - mem->base);
	if (off >= mem->total)
		return;
	if (len == 0)
		len = 1;
	len = MIN(len, mem->total - off);
	first = off / mem->page_size;
	last = (off + len - 1) / mem->page_size;
	for (u64 pg = first; pg <= last; pg++)
		__atomic_fetch_or(&mem->dirty[pg / 64], 1ULL << (pg % 64), __ATOMIC_RELAXED);
}

void guest_memory_take_dirty(struct guest_memory *mem, u64 *out)
{
	u64 words = guest_memory_dirty_words(mem);

	if (!mem->dirty)
		return;
	for (u64 i = 0; i < words; i++)
		out[i] |= __atomic_exchange_n(&mem->dirty[i], 0, __ATOMIC_RELAXED);
}

void *gpa_to_hva(const struct guest_memory *mem, u64 gpa, u64 len)
{
	if (len == 0)
		len = 1;
	for (unsigned int i = 0; i < mem->nr; i++) {
		const struct mem_region *r = &mem->regions[i];

		if (!r->hva || gpa < r->gpa)
			continue;
		u64 off = gpa - r->gpa;
		/* off < size and len <= size - off: no sum that could wrap. */
		if (off < r->size && len <= r->size - off)
			return r->hva + off;
	}
	return NULL;
}

bool guest_read(const struct guest_memory *mem, u64 gpa, void *dst, u64 len)
{
	void *src = gpa_to_hva(mem, gpa, len);

	if (!src)
		return false;
	memcpy(dst, src, len);
	return true;
}

bool guest_write(const struct guest_memory *mem, u64 gpa, const void *src, u64 len)
{
	void *dst = gpa_to_hva(mem, gpa, len);

	if (!dst)
		return false;
	memcpy(dst, src, len);
	return true;
}
