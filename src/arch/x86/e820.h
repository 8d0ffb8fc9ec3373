/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_E820_H
#define KVMBOX_ARCH_X86_E820_H

#include "../../memory.h"

#define E820_RAM	 1
#define E820_RESERVED	 2
#define E820_MAX_ENTRIES 8

struct e820_entry {
	u64 addr;
	u64 size;
	u32 type;
} __attribute__((packed));

_Static_assert(sizeof(struct e820_entry) == 20, "e820 entry is 20 bytes in boot_params");

/* The guest's memory map for a RAM layout; returns the number of entries written. */
unsigned int e820_build(const struct guest_memory *mem, struct e820_entry *map, unsigned int max);

#endif
