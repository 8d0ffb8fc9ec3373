// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/memory.c src/arch/x86/pvh.c
// fuzz-options: -max_len=16384
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the PVH loader: the input is one flags byte (bit 0: an initrd,
 * bits 1-3: how many memory map entries) and a hostile ELF64 kernel, read through the
 * loader's source callback, loaded into 4 MiB of guest RAM (one heap block, so
 * AddressSanitizer sees any write past it). An accepted kernel was an ELF64 whose entry
 * lies in a loaded segment; nothing below 1 MiB was written but the start info area,
 * and the start info says what the loader was given.
 */
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "arch/x86/pvh.h"
#include "fuzz_access.h"

#define RAM_SIZE (4 * MiB)
#define FILL	 0x5a

static struct guest_memory mem;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mem.nr = 1;
	mem.total = RAM_SIZE;
	mem.regions[0] = (struct mem_region){.gpa = 0, .size = RAM_SIZE, .hva = malloc(RAM_SIZE)};
	CHECK(mem.regions[0].hva);
	return 0;
}

struct file {
	const u8 *data;
	size_t len;
};

/* Like input_file_read: reads past the end fail; the loader must not ask for them. */
static int read_file(const void *ctx, u64 off, void *dst, size_t len)
{
	const struct file *f = ctx;

	CHECK(off <= f->len && len <= f->len - off);
	memcpy(dst, f->data + off, len);
	return 0;
}

static bool low_untouched(void)
{
	const u8 *ram = mem.regions[0].hva;

	for (u64 i = 0; i < PVH_LOAD_MIN_GPA; i++)
		if (ram[i] != FILL && (i < X86_PVH_INFO_GPA || i >= X86_PVH_INFO_GPA + 0x200))
			return false;
	return true;
}

static void check_start_info(u32 ebx, const struct pvh_boot *boot)
{
	u32 si[14];

	CHECK(ebx == X86_PVH_INFO_GPA);
	CHECK(guest_read(&mem, ebx, si, sizeof(si)));
	CHECK(si[0] == PVH_START_MAGIC && si[1] == 1 && si[12] == boot->e820_entries);
	CHECK(si[3] == (boot->initrd_size ? 1u : 0u));
}

static bool entry_loaded(const struct pvh_image *img)
{
	for (unsigned int i = 0; i < img->nr_load; i++)
		if (img->entry >= img->load[i].paddr &&
		    img->entry < img->load[i].paddr + img->load[i].filesz)
			return true;
	return false;
}

static void load(const struct pvh_source *src, const u8 *file, u8 flags)
{
	static const struct e820_entry map[] = {{0, 0x9fc00, 1},
						{0x9fc00, 0x60400, 2},
						{0x100000, 3 * MiB, 1},
						{0x400000, 0, 1},
						{0, 0, 0},
						{0, 0, 0},
						{0, 0, 0},
						{0, 0, 0}};
	struct pvh_boot boot = {.cmdline_gpa = X86_CMDLINE_GPA,
				.initrd_gpa = (flags & 1) ? 3 * MiB : 0,
				.initrd_size = (flags & 1) ? 4096 : 0,
				.rsdp_gpa = X86_ACPI_GPA,
				.e820 = map,
				.e820_entries = (flags >> 1) & 7,
				.info_gpa = X86_PVH_INFO_GPA,
				.info_size = X86_PVH_INFO_SIZE};
	struct pvh_image img;
	const char *why = NULL;
	u32 ebx;

	if (pvh_parse(src, &img, &why)) {
		CHECK(why);
		return;
	}
	CHECK(pvh_detect(file, src->size));
	CHECK(entry_loaded(&img));
	if (pvh_load_segments(&mem, src, &img, &why)) {
		CHECK(why);
		return;
	}
	for (unsigned int i = 0; i < img.nr_load; i++)
		CHECK(img.load[i].paddr >= PVH_LOAD_MIN_GPA &&
		      img.load[i].paddr + img.load[i].memsz <= RAM_SIZE);
	CHECK(pvh_write_start_info(&mem, &boot, &ebx, &why) == 0);
	CHECK(low_untouched());
	check_start_info(ebx, &boot);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct file f;
	struct pvh_source src = {.read = read_file, .ctx = &f};
	u8 *img;

	if (!size)
		return 0;
	/* The file as a loader reads it: a heap block of its own. */
	f.len = size - 1;
	img = malloc(f.len + 1);
	CHECK(img);
	memcpy(img, data + 1, f.len);
	f.data = img;
	src.size = f.len;
	memset(mem.regions[0].hva, FILL, PVH_LOAD_MIN_GPA);
	load(&src, img, data[0]);
	free(img);
	return 0;
}
