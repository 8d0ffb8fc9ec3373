// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of x86 boot: bzImage header checks, the zero page, e820, multiboot loading. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/bzimage.h"
#include "arch/x86/e820.h"
#include "arch/x86/layout.h"
#include "arch/x86/multiboot.h"
#include "util/file.h"

/* A minimal image laid out as the boot protocol describes; the kernel is 4 KiB of 0xcc. */
static u8 *make_bzimage(size_t *len, u16 version, u16 xloadflags)
{
	size_t setup = 5 * 512;
	u8 *img = calloc(1, setup + 4096);

	img[0x1f1] = 4; /* setup_sects */
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	img[0x200] = 0xeb; /* jump over the header */
	img[0x201] = 0x6a; /* header length from 0x202 */
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = (u8)version;
	img[0x207] = (u8)(version >> 8);
	img[0x211] = LOADED_HIGH;
	memcpy(img + 0x22c, &(u32){0x7fffffff}, 4); /* initrd_addr_max */
	memcpy(img + 0x230, &(u32){0x200000}, 4);   /* kernel_alignment */
	img[0x234] = 1;				    /* relocatable */
	memcpy(img + 0x236, &xloadflags, 2);
	memcpy(img + 0x238, &(u32){2047}, 4);	   /* cmdline_size */
	memcpy(img + 0x260, &(u32){0x2000000}, 4); /* init_size */
	memset(img + setup, 0xcc, 4096);
	*len = setup + 4096;
	return img;
}

static void test_bzimage_parse(void **state)
{
	struct bzimage bz;
	const char *why;
	size_t len;
	u8 *img = make_bzimage(&len, 0x020f, XLF_KERNEL_64);

	(void)state;
	assert_true(bzimage_detect(img, len));
	assert_int_equal(bzimage_parse(img, len, len, &bz, &why), 0);
	assert_int_equal(bz.kernel_len, 4096);
	assert_int_equal(bz.kernel_offset, 5 * 512);
	assert_int_equal(bz.hdr.init_size, 0x2000000);
	assert_int_equal(bz.hdr.cmdline_size, 2047);
	/* The loader parses only the file's head; the kernel's place comes from the size. */
	memset(&bz, 0, sizeof(bz));
	assert_int_equal(bzimage_parse(img, BZIMAGE_HEAD_LEN, len, &bz, &why), 0);
	assert_int_equal(bz.kernel_offset, 5 * 512);
	assert_int_equal(bz.kernel_len, 4096);
	/* Truncated files and wrong signatures are refused, not read past. */
	assert_false(bzimage_detect(img, 0x203));
	assert_int_equal(bzimage_parse(img, 0x203, len, &bz, &why), -EINVAL);
	assert_int_equal(bzimage_parse(img, BZIMAGE_HEAD_LEN, 5 * 512, &bz, &why), -EINVAL);
	assert_int_equal(bzimage_parse(img, len, len - 1, &bz, &why), -EINVAL);
	img[0x202] = 'X';
	assert_false(bzimage_detect(img, len));
	free(img);

	img = make_bzimage(&len, 0x0209, XLF_KERNEL_64);
	assert_int_equal(bzimage_parse(img, len, len, &bz, &why), -EINVAL);
	assert_non_null(strstr(why, "2.10"));
	free(img);
	img = make_bzimage(&len, 0x020f, 0);
	assert_int_equal(bzimage_parse(img, len, len, &bz, &why), -EINVAL);
	assert_non_null(strstr(why, "64-bit"));
	free(img);
}

/* head: the first BZIMAGE_HEAD_LEN bytes of a bzImage of file_len bytes, as boot reads. */
static void check_zero_page(const u8 *img, size_t file_len)
{
	struct e820_entry map[2] = {{0, 0x9fc00, E820_RAM}, {0x100000, 0xff00000, E820_RAM}};
	struct bzimage_boot boot = {
		.cmdline_gpa = X86_CMDLINE_GPA,
		.cmdline_len = 13,
		.initrd_gpa = 0x8000000,
		.initrd_size = 0x123456,
		.rsdp_gpa = X86_ACPI_GPA,
		.e820 = map,
		.e820_entries = 2,
	};
	struct boot_params *bp = malloc(sizeof(*bp));
	struct bzimage bz;
	const char *why;

	assert_int_equal(bzimage_parse(img, BZIMAGE_HEAD_LEN, file_len, &bz, &why), 0);
	memset(bp, 0x5a, sizeof(*bp));
	bzimage_fill_params(bp, img, &bz, &boot);
	/* The header comes across as the image has it... */
	assert_memory_equal(&bp->hdr.setup_sects, img + 0x1f1, 1);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, bz.hdr.version);
	assert_int_equal(bp->hdr.init_size, bz.hdr.init_size);
	/* ...with the loader's fields filled in and the rest of the page zeroed. */
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.cmd_line_ptr, X86_CMDLINE_GPA);
	assert_int_equal(bp->hdr.ramdisk_image, 0x8000000);
	assert_int_equal(bp->hdr.ramdisk_size, 0x123456);
	assert_int_equal(bp->ext_ramdisk_image, 0);
	assert_int_equal(bp->acpi_rsdp_addr, X86_ACPI_GPA);
	assert_int_equal(bp->e820_entries, 2);
	assert_int_equal(bp->e820_table[1].addr, 0x100000);
	assert_int_equal(bp->e820_table[1].size, 0xff00000);
	assert_int_equal(bp->e820_table[1].type, E820_RAM);
	assert_int_equal(bp->screen_info.orig_video_isVGA, 0);
	free(bp);
}

static void test_zero_page_synthetic(void **state)
{
	size_t len;
	u8 *img = make_bzimage(&len, 0x020f, XLF_KERNEL_64);

	(void)state;
	check_zero_page(img, len);
	free(img);
}

/* The same against a real distribution kernel, when the lab has fetched one. */
static void test_zero_page_real_kernel(void **state)
{
	const char *path = getenv("KVMBOX_TEST_BZIMAGE");
	struct input_file f;
	u8 img[BZIMAGE_HEAD_LEN];
	struct bzimage bz;
	const char *why;

	(void)state;
	if (!path || !*path || input_file_open(&f, path, "KVMBOX_TEST_BZIMAGE", 512 * MiB)) {
		skip();
		return;
	}
	assert_int_equal(input_file_read(&f, 0, img, sizeof(img)), 0);
	assert_int_equal(bzimage_parse(img, sizeof(img), f.size, &bz, &why), 0);
	assert_true(bz.hdr.version >= 0x020c);
	assert_true(bz.hdr.xloadflags & XLF_KERNEL_64);
	assert_true(bz.hdr.relocatable_kernel);
	assert_true(bz.hdr.init_size > bz.kernel_len);
	assert_int_equal(bz.kernel_offset + bz.kernel_len, f.size);
	check_zero_page(img, f.size);
	input_file_close(&f);
}

static void test_e820(void **state)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	struct guest_memory mem;
	unsigned int n;

	(void)state;
	assert_int_equal(guest_memory_layout(&mem, 256 * MiB, X86_MMIO_HOLE_START), 0);
	n = e820_build(&mem, map, E820_MAX_ENTRIES);
	assert_int_equal(n, 3);
	assert_int_equal(map[0].addr, 0);
	assert_int_equal(map[0].size, X86_LOW_RAM_END);
	assert_int_equal(map[0].type, E820_RAM);
	assert_int_equal(map[1].addr, X86_LOW_RAM_END);
	assert_int_equal(map[1].addr + map[1].size, 0x100000);
	assert_int_equal(map[1].type, E820_RESERVED);
	assert_int_equal(map[2].addr, 0x100000);
	assert_int_equal(map[2].addr + map[2].size, 256 * MiB);

	assert_int_equal(guest_memory_layout(&mem, 4 * GiB, X86_MMIO_HOLE_START), 0);
	n = e820_build(&mem, map, E820_MAX_ENTRIES);
	assert_int_equal(n, 4);
	assert_int_equal(map[2].addr + map[2].size, X86_MMIO_HOLE_START);
	assert_int_equal(map[3].addr, 4 * GiB);
	assert_int_equal(map[3].size, 4 * GiB - X86_MMIO_HOLE_START);
	/* A short table is filled, never overrun. */
	assert_int_equal(e820_build(&mem, map, 2), 2);
}

/* What the ACPI tables of a small VM take at X86_ACPI_GPA: about a page. */
#define TEST_ACPI_LEN 0x1000

/* An ELF32 file: header, one program header, a multiboot header in the segment. */
static u8 *make_multiboot_elf(size_t *len, u32 paddr, u32 filesz, u32 memsz)
{
	size_t size = 0x1000 + filesz;
	u8 *img = calloc(1, size);
	Elf32_Ehdr *eh = (Elf32_Ehdr *)img;
	Elf32_Phdr *ph = (Elf32_Phdr *)(img + sizeof(*eh));
	u32 mb[3] = {MULTIBOOT_HEADER_MAGIC, 0x3, -(MULTIBOOT_HEADER_MAGIC + 0x3)};

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_machine = EM_386;
	eh->e_entry = paddr + 0x10;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph->p_type = PT_LOAD;
	ph->p_offset = 0x1000;
	ph->p_paddr = paddr;
	ph->p_filesz = filesz;
	ph->p_memsz = memsz;
	memcpy(img + 0x1000, mb, sizeof(mb));
	memset(img + 0x1000 + 12, 0xab, filesz - 12);
	*len = size;
	return img;
}

static void test_multiboot(void **state)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	struct guest_memory mem;
	struct multiboot_boot boot = {
		.cmdline = "guest.elf arg1 arg2",
		.module = (const u8 *)"NR_CPUS=2\n",
		.module_len = 10,
		.e820 = map,
		.info_gpa = X86_MULTIBOOT_INFO_GPA,
		.info_size = X86_MULTIBOOT_INFO_SIZE,
		.acpi_gpa = X86_ACPI_GPA,
		.acpi_size = TEST_ACPI_LEN,
	};
	u32 entry, info, mods[4], mbi[13];
	const char *why;
	size_t len;
	u8 *img = make_multiboot_elf(&len, 0x400000, 0x100, 0x2000);

	(void)state;
	assert_int_equal(guest_memory_layout(&mem, 64 * MiB, X86_MMIO_HOLE_START), 0);
	assert_int_equal(guest_memory_alloc(&mem), 0);
	boot.e820_entries = e820_build(&mem, map, E820_MAX_ENTRIES);
	assert_true(multiboot_detect(img, len));
	memset(gpa_to_hva(&mem, 0x400000, 0x2000), 0x77, 0x2000);
	assert_int_equal(multiboot_load(&mem, img, len, &boot, &entry, &info, &why), 0);
	assert_int_equal(entry, 0x400010);
	assert_int_equal(info, X86_MULTIBOOT_INFO_GPA);
	/* The segment is copied and its bss zeroed. */
	assert_int_equal(*(u8 *)gpa_to_hva(&mem, 0x400020, 1), 0xab);
	assert_int_equal(*(u8 *)gpa_to_hva(&mem, 0x401fff, 1), 0);
	assert_true(guest_read(&mem, info, mbi, sizeof(mbi)));
	assert_int_equal(mbi[0] & 0x4d, 0x4d); /* mem, cmdline, mods, mmap */
	assert_int_equal(mbi[1], 639);
	assert_int_equal(mbi[2], (64 * MiB - 1 * MiB) / KiB);
	assert_string_equal((char *)gpa_to_hva(&mem, mbi[4], 20), "guest.elf arg1 arg2");
	assert_int_equal(mbi[5], 1);
	assert_true(guest_read(&mem, mbi[6], mods, sizeof(mods)));
	assert_int_equal(mods[0], 0x402000); /* page after the image */
	assert_int_equal(mods[1] - mods[0], 10);
	assert_memory_equal(gpa_to_hva(&mem, mods[0], 10), "NR_CPUS=2\n", 10);
	assert_int_equal(mbi[11], boot.e820_entries * 24);
	free(img);

	/* Segments over page 0 or the multiboot info, outside RAM, or past the file: refused. */
	img = make_multiboot_elf(&len, X86_MULTIBOOT_INFO_GPA - 0x1000, 0x100, 0x2000);
	assert_int_equal(multiboot_load(&mem, img, len, &boot, &entry, &info, &why), -EINVAL);
	free(img);
	img = make_multiboot_elf(&len, 0, 0x100, 0x100);
	assert_int_equal(multiboot_load(&mem, img, len, &boot, &entry, &info, &why), -EINVAL);
	free(img);
	img = make_multiboot_elf(&len, 0x8000, 0x100, 0x100);
	assert_int_equal(multiboot_load(&mem, img, len, &boot, &entry, &info, &why), 0);
	free(img);
	img = make_multiboot_elf(&len, X86_ACPI_GPA + 0x100, 0x100, 0x100);
	assert_int_equal(multiboot_load(&mem, img, len, &boot, &entry, &info, &why), -EINVAL);
	free(img);
	/* Past the tables, as a header segment just below 1 MiB (ld -Ttext=0x100000): fine. */
	img = make_multiboot_elf(&len, 0xff000, 0x100, 0x100);
	assert_int_equal(multiboot_load(&mem, img, len, &boot, &entry, &info, &why), 0);
	free(img);
	img = make_multiboot_elf(&len, 0x3ff0000, 0x100, 0x20000);
	assert_int_equal(multiboot_load(&mem, img, len, &boot, &entry, &info, &why), -EINVAL);
	free(img);
	img = make_multiboot_elf(&len, 0x400000, 0x100, 0x100);
	((Elf32_Phdr *)(img + sizeof(Elf32_Ehdr)))->p_filesz = 0x10000;
	assert_int_equal(multiboot_load(&mem, img, len, &boot, &entry, &info, &why), -EINVAL);
	((Elf32_Ehdr *)img)->e_phnum = 0xffff;
	assert_int_equal(multiboot_load(&mem, img, len, &boot, &entry, &info, &why), -EINVAL);
	free(img);
	guest_memory_free(&mem);
}

/*
 * An image linked low (0x8000) with a module of 300 KiB: the module used to go right
 * after the image, over the multiboot information and the ACPI tables (issue 12, defect 6).
 */
static void test_multiboot_low_image_module(void **state)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	struct guest_memory mem;
	size_t mod_len = 300 * KiB, len;
	u8 *module = malloc(mod_len), *img = make_multiboot_elf(&len, 0x8000, 0x100, 0x1000);
	struct multiboot_boot boot = {
		.cmdline = "low.elf",
		.module = module,
		.module_len = mod_len,
		.e820 = map,
		.info_gpa = X86_MULTIBOOT_INFO_GPA,
		.info_size = X86_MULTIBOOT_INFO_SIZE,
		.acpi_gpa = X86_ACPI_GPA,
		.acpi_size = TEST_ACPI_LEN,
	};
	u32 entry, info, mods[4], mbi[13];
	const char *why;

	(void)state;
	assert_non_null(module);
	for (size_t i = 0; i < mod_len; i++)
		module[i] = (u8)(i * 7 + 1);
	assert_int_equal(guest_memory_layout(&mem, 64 * MiB, X86_MMIO_HOLE_START), 0);
	assert_int_equal(guest_memory_alloc(&mem), 0);
	memset(gpa_to_hva(&mem, X86_ACPI_GPA, TEST_ACPI_LEN), 0x5a, TEST_ACPI_LEN);
	boot.e820_entries = e820_build(&mem, map, E820_MAX_ENTRIES);
	assert_int_equal(multiboot_load(&mem, img, len, &boot, &entry, &info, &why), 0);
	assert_true(guest_read(&mem, info, mbi, sizeof(mbi)));
	assert_true(guest_read(&mem, mbi[6], mods, sizeof(mods)));
	assert_true(mods[0] >= 0x100000);
	assert_int_equal(mods[1] - mods[0], mod_len);
	assert_memory_equal(gpa_to_hva(&mem, mods[0], mod_len), module, mod_len);
	assert_string_equal((char *)gpa_to_hva(&mem, mbi[4], 8), "low.elf");
	for (u64 off = 0; off < TEST_ACPI_LEN; off++)
		assert_int_equal(*(u8 *)gpa_to_hva(&mem, X86_ACPI_GPA + off, 1), 0x5a);
	free(img);
	free(module);
	guest_memory_free(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bzimage_parse),
		cmocka_unit_test(test_zero_page_synthetic),
		cmocka_unit_test(test_zero_page_real_kernel),
		cmocka_unit_test(test_e820),
		cmocka_unit_test(test_multiboot),
		cmocka_unit_test(test_multiboot_low_image_module),
	};

	return cmocka_run_group_tests_name("x86-boot", tests, NULL, NULL);
}
