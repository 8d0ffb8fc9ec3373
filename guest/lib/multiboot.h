/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include "types.h"

/* Multiboot v1 boot information, as the loader leaves it (multiboot spec, section 3.3). */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002
#define MB_INFO_MEM		   BIT(0)
#define MB_INFO_CMDLINE		   BIT(2)
#define MB_INFO_MODS		   BIT(3)
#define MB_INFO_MMAP		   BIT(6)

struct mb_info {
	u32 flags;
	u32 mem_lower, mem_upper; /* KiB below 1 MiB, KiB from 1 MiB */
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_module {
	u32 start, end;
	u32 string;
	u32 reserved;
} __attribute__((packed));

struct mb_mmap_entry {
	u32 size; /* of the rest of the entry */
	u64 addr, len;
	u32 type; /* 1: available RAM */
} __attribute__((packed));

/* Saved by entry.S. */
extern u32 mb_magic, mb_info;

static inline struct mb_info *multiboot_info(void)
{
	return (struct mb_info *)(u64)mb_info;
}

#endif
