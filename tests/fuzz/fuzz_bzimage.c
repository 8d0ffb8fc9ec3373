// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/arch/x86/bzimage.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the bzImage parser: the input is a hostile kernel file. Its head
 * (the first BZIMAGE_HEAD_LEN bytes, in a block of their own so that AddressSanitizer sees
 * a read past them) goes through bzimage_detect() and bzimage_parse(); an accepted one is
 * a detected one whose protected-mode kernel is the rest of the file, and fills a zero
 * page that says where kvmbox put the command line, the initrd, the RSDP and the memory
 * map, with the loader fields the boot protocol asks for.
 */
#include <stdlib.h>
#include <string.h>

#include "arch/x86/bzimage.h"
#include "fuzz_access.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const struct e820_entry map[] = {
		{0, 0x9fc00, E820_RAM}, {0x100000, 255 * MiB, E820_RAM}, {0xe0000, 0x20000, 2}};
	const struct bzimage_boot boot = {.cmdline_gpa = 0x20000,
					  .cmdline_len = 12,
					  .initrd_gpa = 0x8000000,
					  .initrd_size = 4096,
					  .rsdp_gpa = 0xe0000,
					  .e820 = map,
					  .e820_entries = ARRAY_SIZE(map)};
	size_t head_len = MIN(size, (size_t)BZIMAGE_HEAD_LEN);
	u8 *head = malloc(head_len ? head_len : 1);
	struct boot_params *bp;
	const char *why = NULL;
	struct bzimage bz;

	CHECK(head);
	memcpy(head, data, head_len);
	if (bzimage_parse(head, head_len, size, &bz, &why)) {
		CHECK(why);
		free(head);
		return 0;
	}
	CHECK(bzimage_detect(head, head_len));
	CHECK(bz.hdr_end <= head_len && bz.hdr.version >= BZIMAGE_MIN_PROTOCOL);
	CHECK(bz.kernel_offset >= 512 && bz.kernel_len && bz.kernel_offset + bz.kernel_len == size);
	bp = malloc(sizeof(*bp));
	CHECK(bp);
	bzimage_fill_params(bp, head, &bz, &boot);
	CHECK(bp->hdr.type_of_loader == 0xff && bp->hdr.vid_mode == 0xffff);
	CHECK(bp->hdr.cmd_line_ptr == boot.cmdline_gpa && bp->ext_cmd_line_ptr == 0);
	CHECK(bp->hdr.ramdisk_image == boot.initrd_gpa && bp->hdr.ramdisk_size == boot.initrd_size);
	CHECK(bp->acpi_rsdp_addr == boot.rsdp_gpa && bp->e820_entries == ARRAY_SIZE(map));
	CHECK(!memcmp(bp->e820_table, map, sizeof(map)));
	CHECK(bp->hdr.version == bz.hdr.version && bp->hdr.setup_sects == bz.hdr.setup_sects);
	free(bp);
	free(head);
	return 0;
}
