// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/memory.c src/arch/x86/multiboot.c
// fuzz-options: -max_len=16384
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the multiboot loader: the input is one flags byte (bits 0-2: a
 * module of that many KiB, the --initrd file) and a hostile ELF32 multiboot kernel, loaded
 * into 2 MiB of guest RAM (one heap block, so AddressSanitizer sees any write past it).
 * An accepted kernel is a detected one; it left page 0 (the IVT and the GDT kvmbox enters
 * with) and the ACPI tables alone, and the multiboot information says what was loaded:
 * the memory map, the command line and the module where it was copied.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/multiboot.h"
#include "fuzz_access.h"

#define RAM_SIZE   (2 * MiB)
#define ACPI_SIZE  0x2000
#define CMDLINE	   "/boot/kernel console=ttyS0"
#define MB_MODS	   BIT(3)
#define PAGE0_FILL 0x5a

static struct guest_memory mem;
static u8 module[7 * KiB];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mem.nr = 1;
	mem.total = RAM_SIZE;
	mem.regions[0] = (struct mem_region){.gpa = 0, .size = RAM_SIZE, .hva = malloc(RAM_SIZE)};
	CHECK(mem.regions[0].hva);
	for (size_t i = 0; i < sizeof(module); i++)
		module[i] = (u8)(i * 7);
	return 0;
}

/* Page 0 and the ACPI tables, as kvmbox has them before the kernel is loaded. */
static u8 fill(u64 gpa)
{
	return (u8)(gpa ^ PAGE0_FILL);
}

static bool untouched(u64 gpa, u64 len)
{
	for (u64 i = 0; i < len; i++)
		if (mem.regions[0].hva[gpa + i] != fill(gpa + i))
			return false;
	return true;
}

static void check_info(u32 info, const struct multiboot_boot *boot)
{
	u32 w[22], mod[4];
	const u8 *ram = mem.regions[0].hva;

	CHECK(info == boot->info_gpa);
	memcpy(w, ram + info, sizeof(w));
	CHECK(w[11] == boot->e820_entries * 24 && w[12] >= info && w[12] < info + boot->info_size);
	CHECK(w[4] >= info && !strcmp((const char *)ram + w[4], CMDLINE));
	CHECK(!!(w[0] & MB_MODS) == !!boot->module);
	if (!boot->module)
		return;
	CHECK(w[5] == 1);
	memcpy(mod, ram + w[6], sizeof(mod));
	CHECK(mod[0] >= 1 * MiB && mod[1] - mod[0] == boot->module_len && mod[1] <= RAM_SIZE);
	CHECK(!memcmp(ram + mod[0], boot->module, boot->module_len));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const struct e820_entry map[] = {{0, 0x9fc00, 1}, {0x100000, 1 * MiB, 1}};
	struct multiboot_boot boot = {.cmdline = CMDLINE,
				      .e820 = map,
				      .e820_entries = ARRAY_SIZE(map),
				      .info_gpa = X86_MULTIBOOT_INFO_GPA,
				      .info_size = X86_MULTIBOOT_INFO_SIZE,
				      .acpi_gpa = X86_ACPI_GPA,
				      .acpi_size = ACPI_SIZE};
	const char *why = NULL;
	u32 entry, info;
	Elf32_Ehdr eh;
	u8 *img;

	if (!size)
		return 0;
	boot.module_len = (data[0] & 7) * KiB;
	boot.module = boot.module_len ? module : NULL;
	/* The file as a loader reads it: a heap block (aligned) of its own. */
	img = malloc(--size + 1);
	CHECK(img);
	memcpy(img, data + 1, size);
	for (u64 i = 0; i < 4 * KiB; i++)
		mem.regions[0].hva[i] = fill(i);
	for (u64 i = X86_ACPI_GPA; i < X86_ACPI_GPA + ACPI_SIZE; i++)
		mem.regions[0].hva[i] = fill(i);
	if (multiboot_load(&mem, img, size, &boot, &entry, &info, &why)) {
		CHECK(why);
		free(img);
		return 0;
	}
	CHECK(multiboot_detect(img, size));
	CHECK(untouched(0, 4 * KiB) && untouched(X86_ACPI_GPA, ACPI_SIZE));
	memcpy(&eh, img, sizeof(eh));
	CHECK(entry == eh.e_entry);
	check_info(info, &boot);
	free(img);
	return 0;
}
