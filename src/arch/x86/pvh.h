/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_PVH_H
#define KVMBOX_ARCH_X86_PVH_H

#include "../../memory.h"
#include "e820.h"

/*
 * The PVH boot ABI (Xen's, which Linux built with CONFIG_PVH, QEMU and Firecracker use too):
 * an ELF kernel whose note "Xen", type XEN_ELFNOTE_PHYS32_ENTRY, gives a 32-bit physical
 * entry point; it is entered in flat protected mode, paging off, with %ebx pointing at an
 * hvm_start_info that says where the command line, the modules, the memory map and the
 * ACPI RSDP are.
 */
#define PVH_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC		 0x336ec578 /* "xEn3" with the 0x80 bit of the "E" set */
#define PVH_LOAD_MIN_GPA	 0x100000   /* kvmbox's boot data all lies below 1 MiB */
#define PVH_MAX_PHDRS		 64
#define PVH_MAX_NOTE_SIZE	 0x10000

/* Reads exactly len bytes at off of the kernel file; 0 or -errno. */
struct pvh_source {
	int (*read)(const void *ctx, u64 off, void *dst, size_t len);
	const void *ctx;
	u64 size;
};

/* A PVH kernel checked by pvh_parse: its program headers are copies, never re-read. */
struct pvh_image {
	u32 entry;
	u64 load_end; /* just past the highest byte a PT_LOAD segment takes in memory */
	unsigned int nr_phdrs;
	struct {
		u64 paddr, offset, filesz, memsz;
	} load[PVH_MAX_PHDRS];
	unsigned int nr_load;
};

/* Where the loader put things, and where the start info and its tables go. */
struct pvh_boot {
	u64 cmdline_gpa;
	u64 initrd_gpa; /* 0: no module */
	u64 initrd_size;
	u64 rsdp_gpa;
	const struct e820_entry *e820;
	unsigned int e820_entries;
	u64 info_gpa; /* the start info, then the memory map and the module list */
	u64 info_size;
};

/* True if the file starts like an ELF64 file (x86-64 or not: pvh_parse says). */
bool pvh_detect(const u8 *head, size_t len);
/*
 * Checks the ELF header, the program headers and the PVH note of the file; every offset
 * and size is checked against the file. On failure returns -EINVAL with *why set.
 */
int pvh_parse(const struct pvh_source *src, struct pvh_image *img, const char **why);
/* Copies the PT_LOAD segments to their physical addresses, at or above 1 MiB. */
int pvh_load_segments(const struct guest_memory *mem, const struct pvh_source *src,
		      const struct pvh_image *img, const char **why);
/* Writes the start info (version 1); *ebx is its address, for the entry. */
int pvh_write_start_info(const struct guest_memory *mem, const struct pvh_boot *boot, u32 *ebx,
			 const char **why);

#endif
