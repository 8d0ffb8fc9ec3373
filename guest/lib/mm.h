/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_MM_H
#define GUEST_MM_H

#include "types.h"

#define PAGE_SIZE	4096ULL
#define LARGE_PAGE_SIZE (2ULL << 20)

/* Page-table entry bits. */
#define PT_PRESENT   BIT(0)
#define PT_WRITE     BIT(1)
#define PT_USER	     BIT(2)
#define PT_PWT	     BIT(3)
#define PT_PCD	     BIT(4)
#define PT_ACCESSED  BIT(5)
#define PT_DIRTY     BIT(6)
#define PT_PS	     BIT(7)
#define PT_GLOBAL    BIT(8)
#define PT_NX	     BIT(63)
#define PT_ADDR_MASK 0x000ffffffffff000ULL

/*
 * Page allocator over the RAM the multiboot memory map calls free, above
 * 1 MiB and past the image, boot information and modules. Pages are not
 * cleared (clearing costs time under an emulated CPU); alloc_zeroed_page does.
 */
void mm_init(void);
void *alloc_page(void);
void *alloc_zeroed_page(void);
void free_page(void *page);
u64 mm_free_pages(void); /* pages never handed out, not counting freed ones */

/*
 * Paging: the boot tables identity-map 0-4 GiB with 2 MiB pages. These
 * helpers work on 4 KiB pages and split a 2 MiB page when they must.
 */
u64 *get_pte(u64 va, int *level); /* leaf entry (level 1: 4 KiB, 2: 2 MiB), NULL if none */
void install_page(u64 va, u64 pa, u64 flags); /* flags: PT_* besides the address */
void unmap_page(u64 va);
u64 virt_to_phys(u64 va); /* ~0 when unmapped */

#endif
