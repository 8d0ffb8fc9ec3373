/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_MULTIBOOT_H
#define KVMBOX_ARCH_X86_MULTIBOOT_H

#include "../../memory.h"
#include "e820.h"
#include "layout.h"

#define MULTIBOOT_HEADER_MAGIC 0x1badb002
#define MULTIBOOT_BOOT_MAGIC   0x2badb002
#define MULTIBOOT_SEARCH_LEN   8192

/* True if an ELF32 i386 file carries a multiboot v1 header where loaders look for it. */
bool multiboot_detect(const u8 *img, size_t len);

struct multiboot_boot {
	const char *cmdline; /* "<image path> <arguments>" */
	const u8 *module;    /* one module (the --initrd file), or NULL */
	size_t module_len;
	const struct e820_entry *e820;
	unsigned int e820_entries;
	u64 info_gpa; /* where the multiboot info and its strings go */
	u64 info_size;
	u64 acpi_gpa; /* the ACPI tables, already in place: nothing may cover them */
	u64 acpi_size;
};

/*
 * Loads the ELF's segments into guest memory, the module after the image (and above
 * 1 MiB, clear of the BIOS area and kvmbox's boot data), and the
 * multiboot info. Every offset and address from the file is checked; on failure returns
 * -EINVAL with *why set. On success sets *entry and *info (the EBX value).
 */
int multiboot_load(const struct guest_memory *mem, const u8 *img, size_t len,
		   const struct multiboot_boot *boot, u32 *entry, u32 *info, const char **why);

#endif
