// SPDX-License-Identifier: GPL-2.0-only
// unit-arch: x86
/* Unit tests of the PVH loader: ELF64 checks, the entry note, segments, the start info. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/e820.h"
#include "arch/x86/layout.h"
#include "arch/x86/pvh.h"
#include "util/file.h"

#define TEXT_GPA   0x1000000
#define TEXT_OFF   0x1000
#define TEXT_SIZE  0x800
#define BSS_SIZE   0x3000
#define NOTE_OFF   0x900
#define FILE_SIZE  (TEXT_OFF + TEXT_SIZE)
#define ENTRY_GPA  (TEXT_GPA + 0x40)
#define START_INFO 56

/* A vmlinux in small: one text segment with bss, and a note segment inside it. */
struct test_elf {
	u8 file[FILE_SIZE];
	Elf64_Ehdr *eh;
	Elf64_Phdr *load, *note;
};

static void put_note(u8 *at, const char *name, u32 namesz, u32 type, u64 desc, u32 descsz)
{
	Elf64_Nhdr nh = {.n_namesz = namesz, .n_descsz = descsz, .n_type = type};

	memcpy(at, &nh, sizeof(nh));
	memcpy(at + sizeof(nh), name, namesz);
	memcpy(at + sizeof(nh) + ((namesz + 3) & ~3u), &desc, descsz);
}

/* Notes as Linux has them: another Xen note first, then the entry, 8 bytes. */
static void make_elf(struct test_elf *t, u32 entry_descsz)
{
	memset(t, 0, sizeof(*t));
	t->eh = (Elf64_Ehdr *)t->file;
	t->load = (Elf64_Phdr *)(t->file + sizeof(Elf64_Ehdr));
	t->note = t->load + 1;
	memcpy(t->eh->e_ident, ELFMAG, SELFMAG);
	t->eh->e_ident[EI_CLASS] = ELFCLASS64;
	t->eh->e_ident[EI_DATA] = ELFDATA2LSB;
	t->eh->e_machine = EM_X86_64;
	t->eh->e_phoff = sizeof(Elf64_Ehdr);
	t->eh->e_phentsize = sizeof(Elf64_Phdr);
	t->eh->e_phnum = 2;
	*t->load = (Elf64_Phdr){.p_type = PT_LOAD,
				.p_offset = TEXT_OFF,
				.p_vaddr = 0xffffffff81000000ULL,
				.p_paddr = TEXT_GPA,
				.p_filesz = TEXT_SIZE,
				.p_memsz = TEXT_SIZE + BSS_SIZE};
	*t->note = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = 48};
	put_note(t->file + NOTE_OFF, "Xen", 4, 6, 0x78756e696c, 6);
	put_note(t->file + NOTE_OFF + 24, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY, ENTRY_GPA,
		 entry_descsz);
	t->note->p_filesz = 24 + 16 + ((entry_descsz + 3) & ~3u);
	memset(t->file + TEXT_OFF, 0xcc, TEXT_SIZE);
}

static int read_buf(const void *ctx, u64 off, void *dst, size_t len)
{
	memcpy(dst, (const u8 *)ctx + off, len);
	return 0;
}

static struct pvh_source source(const struct test_elf *t)
{
	return (struct pvh_source){.read = read_buf, .ctx = t->file, .size = FILE_SIZE};
}

static int parse(const struct test_elf *t, struct pvh_image *img, const char **why)
{
	struct pvh_source src = source(t);

	*why = NULL;
	return pvh_parse(&src, img, why);
}

static void test_pvh_parse_good(void **state)
{
	struct test_elf t;
	struct pvh_image img;
	const char *why;

	(void)state;
	make_elf(&t, 8);
	assert_true(pvh_detect(t.file, sizeof(t.file)));
	assert_int_equal(parse(&t, &img, &why), 0);
	assert_int_equal(img.entry, ENTRY_GPA);
	assert_int_equal(img.nr_load, 1);
	assert_int_equal(img.load_end, TEXT_GPA + TEXT_SIZE + BSS_SIZE);
	/* Older kernels and other guests give the entry in 4 bytes. */
	make_elf(&t, 4);
	assert_int_equal(parse(&t, &img, &why), 0);
	assert_int_equal(img.entry, ENTRY_GPA);
}

static void expect_refused(const struct test_elf *t, const char *reason)
{
	struct pvh_image img;
	const char *why;

	assert_int_equal(parse(t, &img, &why), -EINVAL);
	assert_non_null(why);
	assert_non_null(strstr(why, reason));
}

static void test_pvh_parse_bad_headers(void **state)
{
	struct test_elf t;

	(void)state;
	make_elf(&t, 8);
	t.eh->e_ident[EI_CLASS] = ELFCLASS32;
	assert_false(pvh_detect(t.file, sizeof(t.file)));
	expect_refused(&t, "x86-64");
	make_elf(&t, 8);
	t.eh->e_ident[EI_MAG2] = 'X'; /* a file that only looks like ELF further on */
	expect_refused(&t, "x86-64");
	make_elf(&t, 8);
	t.eh->e_machine = EM_AARCH64;
	expect_refused(&t, "x86-64");
	make_elf(&t, 8);
	t.eh->e_phoff = FILE_SIZE - 8;
	expect_refused(&t, "program headers");
	make_elf(&t, 8);
	t.eh->e_phnum = PVH_MAX_PHDRS + 1;
	expect_refused(&t, "program headers");
	make_elf(&t, 8);
	t.eh->e_phoff = UINT64_MAX - 8; /* offset + size wraps */
	expect_refused(&t, "program headers");
}

static void test_pvh_parse_bad_note(void **state)
{
	struct test_elf t;

	(void)state;
	/* A 64-bit-entry-only ELF: no PVH note, only the other Xen note. */
	make_elf(&t, 8);
	t.note->p_filesz = 24;
	expect_refused(&t, "PVH entry note");
	/* A note whose description runs past the segment ends the walk. */
	make_elf(&t, 8);
	t.note->p_filesz = 24 + 16 + 4;
	expect_refused(&t, "PVH entry note");
	make_elf(&t, 6);
	expect_refused(&t, "neither 4 nor 8");
	make_elf(&t, 8);
	t.note->p_offset = FILE_SIZE - 4;
	expect_refused(&t, "note segment");
	make_elf(&t, 8);
	t.note->p_filesz = PVH_MAX_NOTE_SIZE + 4;
	expect_refused(&t, "note segment");
	/* The name must be "Xen": Linux's own notes of type 18 are not the entry. */
	make_elf(&t, 8);
	memcpy(t.file + NOTE_OFF + 24 + 12, "Lin", 4);
	expect_refused(&t, "PVH entry note");
}

static void test_pvh_parse_bad_segments(void **state)
{
	struct test_elf t;

	(void)state;
	make_elf(&t, 8);
	t.load->p_filesz = TEXT_SIZE + 1; /* past the file's end */
	expect_refused(&t, "outside the file");
	make_elf(&t, 8);
	t.load->p_filesz = t.load->p_memsz + 1;
	expect_refused(&t, "outside the file");
	make_elf(&t, 8);
	t.load->p_paddr = UINT64_MAX - 0x100; /* paddr + memsz wraps */
	expect_refused(&t, "outside the file");
	/* The entry must be code the loader copies, below 4 GiB. */
	make_elf(&t, 8);
	put_note(t.file + NOTE_OFF + 24, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY,
		 TEXT_GPA + TEXT_SIZE + 0x10, 8);
	expect_refused(&t, "entry point");
	make_elf(&t, 8);
	put_note(t.file + NOTE_OFF + 24, "Xen", 4, PVH_ELFNOTE_PHYS32_ENTRY,
		 (1ULL << 32) + ENTRY_GPA, 8);
	expect_refused(&t, "entry point");
}

static void test_pvh_load_segments(void **state)
{
	struct guest_memory mem;
	struct test_elf t;
	struct pvh_image img;
	struct pvh_source src;
	const char *why;
	u8 *text;

	(void)state;
	assert_int_equal(guest_memory_layout(&mem, 32 * MiB, X86_MMIO_HOLE_START), 0);
	assert_int_equal(guest_memory_alloc(&mem), 0);
	make_elf(&t, 8);
	src = source(&t);
	text = gpa_to_hva(&mem, TEXT_GPA, TEXT_SIZE + BSS_SIZE);
	memset(text, 0x77, TEXT_SIZE + BSS_SIZE + 1);
	assert_int_equal(parse(&t, &img, &why), 0);
	assert_int_equal(pvh_load_segments(&mem, &src, &img, &why), 0);
	assert_int_equal(text[0], 0xcc);
	assert_int_equal(text[TEXT_SIZE - 1], 0xcc);
	assert_int_equal(text[TEXT_SIZE], 0); /* bss zeroed */
	assert_int_equal(text[TEXT_SIZE + BSS_SIZE - 1], 0);
	assert_int_equal(text[TEXT_SIZE + BSS_SIZE], 0x77);
	/* Below 1 MiB lie kvmbox's GDT, command line, start info and ACPI tables. */
	img.load[0].paddr = X86_ACPI_GPA;
	assert_int_equal(pvh_load_segments(&mem, &src, &img, &why), -EINVAL);
	assert_non_null(strstr(why, "below 1 MiB"));
	img.load[0].paddr = 32 * MiB - TEXT_SIZE; /* its bss would run past RAM */
	assert_int_equal(pvh_load_segments(&mem, &src, &img, &why), -EINVAL);
	assert_non_null(strstr(why, "guest RAM"));
	guest_memory_free(&mem);
}

static void test_pvh_start_info(void **state)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	struct guest_memory mem;
	struct pvh_boot boot = {.cmdline_gpa = X86_CMDLINE_GPA,
				.initrd_gpa = 0x1f00000,
				.initrd_size = 12345,
				.rsdp_gpa = X86_ACPI_GPA,
				.e820 = map,
				.info_gpa = X86_PVH_INFO_GPA,
				.info_size = X86_PVH_INFO_SIZE};
	u32 si[START_INFO / 4], ebx, type;
	u64 q[4];
	const char *why;

	(void)state;
	assert_int_equal(guest_memory_layout(&mem, 32 * MiB, X86_MMIO_HOLE_START), 0);
	assert_int_equal(guest_memory_alloc(&mem), 0);
	boot.e820_entries = e820_build(&mem, map, E820_MAX_ENTRIES);
	assert_int_equal(pvh_write_start_info(&mem, &boot, &ebx, &why), 0);
	assert_int_equal(ebx, X86_PVH_INFO_GPA);
	assert_true(guest_read(&mem, ebx, si, sizeof(si)));
	assert_int_equal(si[0], PVH_START_MAGIC);
	assert_int_equal(si[1], 1); /* version 1: with the memory map */
	assert_int_equal(si[3], 1); /* one module, the initrd */
	assert_int_equal(si[6] | (u64)si[7] << 32, X86_CMDLINE_GPA);
	assert_int_equal(si[8] | (u64)si[9] << 32, X86_ACPI_GPA);
	assert_int_equal(si[12], boot.e820_entries);
	for (unsigned int i = 0; i < boot.e820_entries; i++) {
		u64 at = (si[10] | (u64)si[11] << 32) + i * 24;

		assert_true(guest_read(&mem, at, q, 16) && guest_read(&mem, at + 16, &type, 4));
		assert_int_equal(q[0], map[i].addr);
		assert_int_equal(q[1], map[i].size);
		assert_int_equal(type, map[i].type);
	}
	assert_true(guest_read(&mem, si[4] | (u64)si[5] << 32, q, sizeof(q)));
	assert_int_equal(q[0], 0x1f00000);
	assert_int_equal(q[1], 12345);
	assert_int_equal(q[2], 0); /* no module command line */
	/* Without an initrd there is no module list. */
	boot.initrd_size = 0;
	assert_int_equal(pvh_write_start_info(&mem, &boot, &ebx, &why), 0);
	assert_true(guest_read(&mem, ebx, si, sizeof(si)));
	assert_int_equal(si[3], 0);
	assert_int_equal(si[4] | si[5], 0);
	/* An area too small, or not in RAM, is refused, not overrun. */
	boot.info_size = 64;
	assert_int_equal(pvh_write_start_info(&mem, &boot, &ebx, &why), -EINVAL);
	boot.info_size = X86_PVH_INFO_SIZE;
	boot.info_gpa = 32 * MiB - 64;
	assert_int_equal(pvh_write_start_info(&mem, &boot, &ebx, &why), -EINVAL);
	guest_memory_free(&mem);
}

static int read_input(const void *ctx, u64 off, void *dst, size_t len)
{
	return input_file_read(ctx, off, dst, len);
}

/*
 * The lab kernel's vmlinux (tools/extract-vmlinux; tests/unit/run finds it in build/lab/):
 * Linux gives the entry in 8 bytes, in its .init.text, above the 16 MiB it is linked at.
 */
static void test_pvh_real_vmlinux(void **state)
{
	const char *path = getenv("KVMBOX_TEST_VMLINUX");
	struct guest_memory mem;
	struct input_file f;
	struct pvh_source src = {.read = read_input, .ctx = &f};
	struct pvh_image img;
	const char *why;

	(void)state;
	if (!path || !*path || input_file_open(&f, path, "KVMBOX_TEST_VMLINUX", 512 * MiB)) {
		skip();
		return;
	}
	src.size = f.size;
	assert_int_equal(pvh_parse(&src, &img, &why), 0);
	assert_true(img.entry > 16 * MiB && img.entry < img.load_end);
	assert_true(img.nr_load >= 2 && img.load_end < 256 * MiB);
	assert_int_equal(guest_memory_layout(&mem, 256 * MiB, X86_MMIO_HOLE_START), 0);
	assert_int_equal(guest_memory_alloc(&mem), 0);
	assert_int_equal(pvh_load_segments(&mem, &src, &img, &why), 0);
	guest_memory_free(&mem);
	input_file_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvh_parse_good),
		cmocka_unit_test(test_pvh_parse_bad_headers),
		cmocka_unit_test(test_pvh_parse_bad_note),
		cmocka_unit_test(test_pvh_parse_bad_segments),
		cmocka_unit_test(test_pvh_load_segments),
		cmocka_unit_test(test_pvh_start_info),
		cmocka_unit_test(test_pvh_real_vmlinux),
	};

	return cmocka_run_group_tests_name("x86-pvh", tests, NULL, NULL);
}
