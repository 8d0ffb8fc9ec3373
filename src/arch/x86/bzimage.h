/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_BZIMAGE_H
#define KVMBOX_ARCH_X86_BZIMAGE_H

#include <asm/bootparam.h>

#include "e820.h"

#define BZIMAGE_MIN_PROTOCOL 0x020a /* 2.10: kernel_alignment, relocatable, cmdline_size */

/* A bzImage checked against the boot protocol. */
struct bzimage {
	struct setup_header hdr; /* a copy: never re-read from the file */
	size_t hdr_end;		 /* offset just past the setup header in the file */
	size_t kernel_offset;	 /* where the protected-mode kernel starts in the file */
	size_t kernel_len;	 /* ... and its length: to the end of the file */
};

/* A loader reads this much of the file's start for bzimage_parse (and fill_params). */
#define BZIMAGE_HEAD_LEN 1024

/* Where boot puts things, and what the zero page tells the kernel about them. */
struct bzimage_boot {
	u64 cmdline_gpa;
	u32 cmdline_len; /* without the NUL */
	u64 initrd_gpa;
	u32 initrd_size;
	u64 rsdp_gpa;
	const struct e820_entry *e820;
	unsigned int e820_entries;
};

/* True if the file starts like a bzImage (boot sector flag and "HdrS"). */
bool bzimage_detect(const u8 *img, size_t len);
/*
 * Checks the setup header in head, the first head_len bytes of a file of file_len bytes;
 * on failure returns -EINVAL and points *why at the reason.
 */
int bzimage_parse(const u8 *head, size_t head_len, size_t file_len, struct bzimage *bz,
		  const char **why);
/* Fills a zero page from the setup header in the image's head and the boot placement. */
void bzimage_fill_params(struct boot_params *bp, const u8 *img, const struct bzimage *bz,
			 const struct bzimage_boot *boot);

#endif
