// SPDX-License-Identifier: GPL-2.0-only
#include "e820.h"
#include "layout.h"

static void e820_add(struct e820_entry *map, unsigned int *n, unsigned int max, u64 addr, u64 size,
		     u32 type)
{
	if (*n < max && size)
		map[(*n)++] = (struct e820_entry){addr, size, type};
}

/*
 * RAM below 640K, the BIOS area (which holds kvmbox's ACPI tables) reserved, RAM from 1 MiB
 * to the MMIO hole, and what continues above 4 GiB.
 */
unsigned int e820_build(const struct guest_memory *mem, struct e820_entry *map, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < mem->nr; i++) {
		const struct mem_region *r = &mem->regions[i];

		if (r->gpa == 0) {
			u64 low = MIN(r->size, (u64)X86_LOW_RAM_END);

			e820_add(map, &n, max, 0, low, E820_RAM);
			if (r->size > X86_KERNEL_GPA) {
				e820_add(map, &n, max, X86_LOW_RAM_END,
					 X86_ACPI_GPA + X86_ACPI_SIZE - X86_LOW_RAM_END,
					 E820_RESERVED);
				e820_add(map, &n, max, X86_KERNEL_GPA, r->size - X86_KERNEL_GPA,
					 E820_RAM);
			}
		} else {
			e820_add(map, &n, max, r->gpa, r->size, E820_RAM);
		}
	}
	return n;
}
