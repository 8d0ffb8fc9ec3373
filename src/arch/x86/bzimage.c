// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "bzimage.h"

#define BZ_HDR_OFFSET	    0x1f1
#define BZ_BOOT_FLAG_OFFSET 0x1fe
#define BZ_MAGIC_OFFSET	    0x202
#define BZ_JUMP_END	    0x202 /* the header's length byte at 0x201 counts from here */
#define BZ_LOADER_UNDEFINED 0xff

_Static_assert(offsetof(struct boot_params, hdr) == BZ_HDR_OFFSET, "setup header offset");
_Static_assert(BZ_JUMP_END + 255 <= BZIMAGE_HEAD_LEN, "the head holds the longest header");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820 table offset");
_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x70, "acpi_rsdp_addr offset");
_Static_assert(sizeof(struct boot_params) == 4096, "the zero page is one page");

static u16 get_le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

bool bzimage_detect(const u8 *img, size_t len)
{
	return len >= BZ_MAGIC_OFFSET + 4 && get_le16(img + BZ_BOOT_FLAG_OFFSET) == 0xaa55 &&
	       get_le32(img + BZ_MAGIC_OFFSET) == 0x53726448; /* "HdrS" */
}

int bzimage_parse(const u8 *img, size_t len, size_t file_len, struct bzimage *bz, const char **why)
{
	size_t hdr_end, setup_size;
	unsigned int setup_sects;

	memset(bz, 0, sizeof(*bz));
	if (!bzimage_detect(img, len)) {
		*why = "no Linux boot sector and HdrS signature";
		return -EINVAL;
	}
	hdr_end = BZ_JUMP_END + img[0x201];
	if (hdr_end > len || hdr_end > BZ_HDR_OFFSET + sizeof(bz->hdr)) {
		*why = "setup header length is out of range";
		return -EINVAL;
	}
	memcpy(&bz->hdr, img + BZ_HDR_OFFSET, hdr_end - BZ_HDR_OFFSET);
	bz->hdr_end = hdr_end;
	if (bz->hdr.version < BZIMAGE_MIN_PROTOCOL) {
		*why = "boot protocol older than 2.10";
		return -EINVAL;
	}
	if (!(bz->hdr.loadflags & LOADED_HIGH)) {
		*why = "a zImage loaded low; only bzImage is supported";
		return -EINVAL;
	}
	if (!(bz->hdr.xloadflags & XLF_KERNEL_64)) {
		*why = "kernel has no 64-bit entry point (not an x86-64 kernel?)";
		return -EINVAL;
	}
	setup_sects = bz->hdr.setup_sects ? bz->hdr.setup_sects : 4;
	setup_size = (size_t)(setup_sects + 1) * 512;
	if (len > file_len || setup_size >= file_len) {
		*why = "file ends before the protected-mode kernel";
		return -EINVAL;
	}
	bz->kernel_offset = setup_size;
	bz->kernel_len = file_len - setup_size;
	return 0;
}

void bzimage_fill_params(struct boot_params *bp, const u8 *img, const struct bzimage *bz,
			 const struct bzimage_boot *boot)
{
	unsigned int n = MIN(boot->e820_entries, (unsigned int)E820_MAX_ENTRIES_ZEROPAGE);

	memset(bp, 0, sizeof(*bp));
	/* The protocol: copy the header as the image has it, then fill in the loader fields. */
	memcpy(&bp->hdr, img + BZ_HDR_OFFSET, bz->hdr_end - BZ_HDR_OFFSET);
	bp->hdr.type_of_loader = BZ_LOADER_UNDEFINED;
	bp->hdr.loadflags &= ~(KEEP_SEGMENTS | QUIET_FLAG);
	bp->hdr.vid_mode = 0xffff; /* "normal": no video mode change */
	bp->hdr.cmd_line_ptr = (u32)boot->cmdline_gpa;
	bp->ext_cmd_line_ptr = (u32)(boot->cmdline_gpa >> 32);
	if (boot->initrd_size) {
		bp->hdr.ramdisk_image = (u32)boot->initrd_gpa;
		bp->ext_ramdisk_image = (u32)(boot->initrd_gpa >> 32);
		bp->hdr.ramdisk_size = boot->initrd_size;
	}
	bp->acpi_rsdp_addr = boot->rsdp_gpa;
	for (unsigned int i = 0; i < n; i++) {
		bp->e820_table[i].addr = boot->e820[i].addr;
		bp->e820_table[i].size = boot->e820[i].size;
		bp->e820_table[i].type = boot->e820[i].type;
	}
	bp->e820_entries = (u8)n;
}
