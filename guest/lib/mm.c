// SPDX-License-Identifier: GPL-2.0-only
/* Page allocator (bump allocation over free RAM plus a free list) and 4 KiB page mappings. */
#include "libguest.h"

#define MAX_REGIONS 8
#define LOW_LIMIT   0x100000ULL	 /* below 1 MiB: trampoline, BIOS area, VMM data */
#define HIGH_LIMIT  (4ULL << 30) /* the boot page tables map only the first 4 GiB */

extern u8 __image_end[];

struct region {
	u64 next, end;
};

static struct region regions[MAX_REGIONS];
static int nr_regions;
static void *free_list;
static struct spinlock mm_lock;

static u64 max_u64(u64 a, u64 b)
{
	return a > b ? a : b;
}

/* The end of everything the loader handed over: nothing below it is free RAM. */
static u64 boot_data_end(const struct mb_info *mbi)
{
	u64 end = max_u64((u64)__image_end, (u64)mbi + sizeof(*mbi));

	if (mbi->flags & MB_INFO_CMDLINE)
		end = max_u64(end, mbi->cmdline + strlen((char *)(u64)mbi->cmdline) + 1);
	if (mbi->flags & MB_INFO_MMAP)
		end = max_u64(end, (u64)mbi->mmap_addr + mbi->mmap_length);
	if (mbi->flags & MB_INFO_MODS) {
		struct mb_module *m = (struct mb_module *)(u64)mbi->mods_addr;

		end = max_u64(end, (u64)(m + mbi->mods_count));
		for (u32 i = 0; i < mbi->mods_count; i++) {
			end = max_u64(end, m[i].end);
			if (m[i].string)
				end = max_u64(end,
					      m[i].string + strlen((char *)(u64)m[i].string) + 1);
		}
	}
	return end;
}

static void add_region(u64 start, u64 end, u64 reserved_end)
{
	start = ALIGN_UP(max_u64(max_u64(start, LOW_LIMIT), reserved_end), PAGE_SIZE);
	end = ALIGN_DOWN(end < HIGH_LIMIT ? end : HIGH_LIMIT, PAGE_SIZE);
	if (start < end && nr_regions < MAX_REGIONS)
		regions[nr_regions++] = (struct region){start, end};
}

void mm_init(void)
{
	struct mb_info *mbi = multiboot_info();
	u64 reserved = boot_data_end(mbi);

	if (mbi->flags & MB_INFO_MMAP) {
		u64 p = mbi->mmap_addr, end = p + mbi->mmap_length;

		while (p < end) {
			struct mb_mmap_entry *e = (struct mb_mmap_entry *)p;

			if (e->type == 1)
				add_region(e->addr, e->addr + e->len, reserved);
			p += e->size + 4;
		}
	} else if (mbi->flags & MB_INFO_MEM) {
		add_region(LOW_LIMIT, LOW_LIMIT + (u64)mbi->mem_upper * 1024, reserved);
	}
}

void *alloc_page(void)
{
	void *p = NULL;

	spin_lock(&mm_lock);
	if (free_list) {
		p = free_list;
		free_list = *(void **)p;
	} else {
		for (int i = 0; i < nr_regions && !p; i++) {
			if (regions[i].next < regions[i].end) {
				p = (void *)regions[i].next;
				regions[i].next += PAGE_SIZE;
			}
		}
	}
	spin_unlock(&mm_lock);
	return p;
}

void *alloc_zeroed_page(void)
{
	u64 *p = alloc_page();

	if (p)
		for (int i = 0; i < 512; i++)
			p[i] = 0;
	return p;
}

void free_page(void *page)
{
	spin_lock(&mm_lock);
	*(void **)page = free_list;
	free_list = page;
	spin_unlock(&mm_lock);
}

u64 mm_free_pages(void)
{
	u64 n = 0;

	for (int i = 0; i < nr_regions; i++)
		n += (regions[i].end - regions[i].next) / PAGE_SIZE;
	return n;
}

static u64 *table_of(u64 entry)
{
	return (u64 *)(entry & PT_ADDR_MASK);
}

static int index_at(u64 va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

u64 *get_pte(u64 va, int *level)
{
	u64 *table = table_of(read_cr3());

	for (int l = 4; l >= 1; l--) {
		u64 *e = &table[index_at(va, l)];

		if (!(*e & PT_PRESENT))
			return NULL;
		if (l == 1 || (l <= 3 && (*e & PT_PS))) {
			if (level)
				*level = l;
			return e;
		}
		table = table_of(*e);
	}
	return NULL;
}

/* Replace a 2 MiB mapping by a page table with the same 512 translations. */
static bool split_large_page(u64 *pde)
{
	u64 *pt = alloc_page();
	u64 base = *pde & PT_ADDR_MASK & ~(LARGE_PAGE_SIZE - 1);
	u64 flags = *pde & (PT_PRESENT | PT_WRITE | PT_USER | PT_PWT | PT_PCD | PT_GLOBAL | PT_NX);

	if (!pt)
		return false;
	for (int i = 0; i < 512; i++)
		pt[i] = (base + i * PAGE_SIZE) | flags;
	*pde = (u64)pt | PT_PRESENT | PT_WRITE | (*pde & PT_USER);
	return true;
}

/* The 4 KiB PTE for va, creating tables and splitting large pages on the way. */
static u64 *walk_create(u64 va)
{
	u64 *table = table_of(read_cr3());

	for (int l = 4; l >= 2; l--) {
		u64 *e = &table[index_at(va, l)];

		if (!(*e & PT_PRESENT)) {
			u64 *t = alloc_zeroed_page();

			if (!t)
				return NULL;
			*e = (u64)t | PT_PRESENT | PT_WRITE | PT_USER;
		} else if (l == 2 && (*e & PT_PS)) {
			if (!split_large_page(e))
				return NULL;
		}
		table = table_of(*e);
	}
	return &table[index_at(va, 1)];
}

void install_page(u64 va, u64 pa, u64 flags)
{
	u64 *pte = walk_create(va);

	if (!pte) {
		printf("install_page(%lx): out of memory\n", va);
		abort();
	}
	*pte = (pa & PT_ADDR_MASK) | flags | PT_PRESENT;
	invlpg(va);
}

void unmap_page(u64 va)
{
	u64 *pte = walk_create(va);

	if (pte)
		*pte = 0;
	invlpg(va);
}

u64 virt_to_phys(u64 va)
{
	int level;
	u64 *e = get_pte(va, &level);
	u64 size = level == 1 ? PAGE_SIZE : 1ULL << (12 + 9 * (level - 1));

	if (!e)
		return ~0ULL;
	return ((*e & PT_ADDR_MASK) & ~(size - 1)) | (va & (size - 1));
}
