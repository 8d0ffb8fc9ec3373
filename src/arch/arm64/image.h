/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_ARM64_IMAGE_H
#define KVMBOX_ARCH_ARM64_IMAGE_H

#include "util/types.h"

/*
 * The arm64 Linux Image and where it goes in guest RAM (Documentation/arch/arm64/booting.rst).
 * Host-independent: no arm64 headers, so it builds and is tested on any host.
 */

#define ARM64_IMAGE_HEADER_LEN 64
#define ARM64_IMAGE_MAX_SIZE   (1ULL << 30) /* a sane bound on the file and on image_size */
#define ARM64_KERNEL_ALIGN     (2 * MiB)    /* the kernel's base: text_offset counts from it */
#define ARM64_FDT_MAX_SIZE     (2 * MiB)    /* booting.rst: the DTB must not exceed 2 MiB */

/* An Image header checked against the boot protocol; values, never re-read from the file. */
struct arm64_image {
	u64 text_offset;    /* from a 2 MiB-aligned base; 0x80000 when image_size is 0 */
	u64 image_size;	    /* as the header says: 0 before Linux 3.17 */
	u64 load_size;	    /* bytes from the Image's start the kernel may use (BSS included) */
	u64 file_len;	    /* the (uncompressed) Image file */
	u32 page_size;	    /* 4096, 16384, 65536, or 0: the header does not say */
	bool phys_anywhere; /* flags bit 3: the base may be anywhere, not only low in RAM */
};

/* Where boot puts the kernel, the device tree and the initrd in guest-physical memory. */
struct arm64_placement {
	u64 kernel_base; /* the 2 MiB-aligned base */
	u64 kernel_gpa;	 /* kernel_base + text_offset: the Image is copied here, the entry point */
	u64 kernel_end;	 /* kernel_gpa + load_size */
	u64 dtb_gpa;
	u64 initrd_gpa; /* 0 when there is no initrd */
	u64 end;	/* the first byte after everything placed */
};

/*
 * Checks the Image header in head, the first head_len bytes of an (uncompressed) Image
 * of file_len bytes. Returns 0, or -EINVAL with a one-line reason in *why.
 */
int arm64_image_parse(const u8 *head, size_t head_len, size_t file_len, struct arm64_image *img,
		      const char **why);

/* True if the file starts like a gzip stream (Debian's vmlinuz is a gzip'd Image). */
bool arm64_image_is_gzip(const u8 *head, size_t len);

/*
 * Inflates the gzip stream in into out, at most out_max bytes; *out_len gets the length.
 * Output beyond out_max, truncated or corrupt input: -EINVAL with *why. Allocates only
 * zlib's fixed-size state.
 */
int arm64_image_gunzip(const u8 *in, size_t in_len, u8 *out, size_t out_max, size_t *out_len,
		       const char **why);

/*
 * Inflates only the first out_len bytes of the gzip stream in (the Image header, to check
 * a gzip'd kernel without inflating all of it). Returns 0, or -EINVAL with *why when the
 * stream is not gzip, is corrupt or ends before out_len bytes.
 */
int arm64_image_gunzip_head(const u8 *in, size_t in_len, u8 *out, size_t out_len, const char **why);

/*
 * Places the kernel as low in RAM as the protocol allows, then the DTB (dtb_size bytes,
 * required) and the initrd (initrd_size bytes, 0 for none) above it. Returns 0, or
 * -EINVAL with *why when they do not fit.
 */
int arm64_image_place(const struct arm64_image *img, u64 ram_base, u64 ram_size, size_t dtb_size,
		      size_t initrd_size, struct arm64_placement *p, const char **why);

#endif
