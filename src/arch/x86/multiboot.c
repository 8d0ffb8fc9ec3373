// SPDX-License-Identifier: GPL-2.0-only
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "multiboot.h"

#define MB_INFO_MEMORY	    BIT(0)
#define MB_INFO_CMDLINE	    BIT(2)
#define MB_INFO_MODS	    BIT(3)
#define MB_INFO_MMAP	    BIT(6)
#define MB_FLAG_AOUT_KLUDGE BIT(16)

struct mb_header {
	u32 magic, flags, checksum;
};

struct mb_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 unused[9]; /* drives, config table, loader name, APM, VBE: not provided */
} __attribute__((packed));

struct mb_module {
	u32 mod_start, mod_end, string, reserved;
};

struct mb_mmap_entry {
	u32 size;
	u64 addr, len;
	u32 type;
} __attribute__((packed));

_Static_assert(sizeof(struct mb_info) == 88, "multiboot info layout");
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "multiboot mmap entry layout");

static const struct mb_header *mb_find_header(const u8 *img, size_t len)
{
	size_t end = MIN(len, (size_t)MULTIBOOT_SEARCH_LEN);

	for (size_t off = 0; off + sizeof(struct mb_header) <= end; off += 4) {
		struct mb_header h;

		memcpy(&h, img + off, sizeof(h));
		if (h.magic == MULTIBOOT_HEADER_MAGIC && (u32)(h.magic + h.flags + h.checksum) == 0)
			return (const struct mb_header *)(img + off);
	}
	return NULL;
}

static bool elf32_i386(const u8 *img, size_t len)
{
	const Elf32_Ehdr *eh = (const Elf32_Ehdr *)img;

	return len >= sizeof(*eh) && memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
	       eh->e_ident[EI_CLASS] == ELFCLASS32 && eh->e_machine == EM_386;
}

bool multiboot_detect(const u8 *img, size_t len)
{
	return elf32_i386(img, len) && mb_find_header(img, len) != NULL;
}

/* Copies PT_LOAD segments to their physical addresses; returns the end of the image. */
/* Where a module goes at the lowest: above the BIOS area and everything kvmbox puts low. */
#define MB_MODULE_MIN_GPA 0x100000

/* kvmbox's own boot data (GDT in page 0, the multiboot info, ACPI) must stay out of the image. */
static bool mb_overlaps_boot_data(const struct multiboot_boot *boot, u64 start, u64 len)
{
	return start < X86_MULTIBOOT_MIN_LOAD ||
	       ranges_overlap(start, len, boot->info_gpa, boot->info_size) ||
	       ranges_overlap(start, len, boot->acpi_gpa, boot->acpi_size);
}

static int mb_load_segments(const struct guest_memory *mem, const u8 *img, size_t len,
			    const struct multiboot_boot *boot, u64 *image_end, const char **why)
{
	Elf32_Ehdr eh;

	memcpy(&eh, img, sizeof(eh));
	if (eh.e_phentsize != sizeof(Elf32_Phdr) || eh.e_phoff > len ||
	    (u64)eh.e_phnum * sizeof(Elf32_Phdr) > len - eh.e_phoff) {
		*why = "ELF program headers are out of the file";
		return -EINVAL;
	}
	*image_end = 0;
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph;
		u8 *dst;

		memcpy(&ph, img + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset) {
			*why = "an ELF segment lies outside the file";
			return -EINVAL;
		}
		dst = gpa_to_hva(mem, ph.p_paddr, ph.p_memsz);
		if (!dst) {
			*why = "an ELF segment does not fit in guest RAM (try more --memory)";
			return -EINVAL;
		}
		if (mb_overlaps_boot_data(boot, ph.p_paddr, ph.p_memsz)) {
			*why = "an ELF segment overlaps page 0, the multiboot information or the "
			       "ACPI "
			       "tables";
			return -EINVAL;
		}
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		*image_end = MAX(*image_end, (u64)ph.p_paddr + ph.p_memsz);
	}
	if (!*image_end) {
		*why = "the ELF file has nothing to load";
		return -EINVAL;
	}
	return 0;
}

/* A bump allocator inside the info area, so nothing spills onto the image. */
struct mb_area {
	u8 *base;
	u64 gpa, size, used;
};

static u32 mb_area_put(struct mb_area *a, const void *src, u64 len)
{
	u64 at = ALIGN_UP(a->used, 8);

	if (at > a->size || len > a->size - at)
		return 0;
	memcpy(a->base + at, src, len);
	a->used = at + len;
	return (u32)(a->gpa + at);
}

static int mb_write_info(const struct guest_memory *mem, const struct multiboot_boot *boot,
			 u64 module_gpa, u32 *info, const char **why)
{
	struct mb_area a = {.gpa = boot->info_gpa, .size = boot->info_size};
	struct mb_info mbi = {.flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MMAP};
	struct mb_mmap_entry mmap[E820_MAX_ENTRIES];
	u64 low_top = 0;

	a.base = gpa_to_hva(mem, a.gpa, a.size);
	if (!a.base) {
		*why = "no room for the multiboot information";
		return -EINVAL;
	}
	mb_area_put(&a, &mbi, sizeof(mbi)); /* reserve its place; filled in last */
	for (unsigned int i = 0; i < boot->e820_entries && i < E820_MAX_ENTRIES; i++) {
		const struct e820_entry *e = &boot->e820[i];

		mmap[i] = (struct mb_mmap_entry){20, e->addr, e->size, e->type};
		if (e->type == E820_RAM && e->addr == 0x100000)
			low_top = e->addr + e->size;
	}
	mbi.mem_lower = 639;
	mbi.mem_upper = low_top > 0x100000 ? (u32)((low_top - 0x100000) / KiB) : 0;
	mbi.mmap_length = boot->e820_entries * sizeof(mmap[0]);
	mbi.mmap_addr = mb_area_put(&a, mmap, mbi.mmap_length);
	mbi.cmdline = mb_area_put(&a, boot->cmdline, strlen(boot->cmdline) + 1);
	if (boot->module) {
		struct mb_module mod = {(u32)module_gpa, (u32)(module_gpa + boot->module_len)};

		mod.string = mb_area_put(&a, "initrd", sizeof("initrd"));
		mbi.flags |= MB_INFO_MODS;
		mbi.mods_count = 1;
		mbi.mods_addr = mb_area_put(&a, &mod, sizeof(mod));
	}
	if (!mbi.mmap_addr || !mbi.cmdline || (boot->module && !mbi.mods_addr)) {
		*why = "the command line is too long for the multiboot information area";
		return -EINVAL;
	}
	memcpy(a.base, &mbi, sizeof(mbi));
	*info = (u32)a.gpa;
	return 0;
}

int multiboot_load(const struct guest_memory *mem, const u8 *img, size_t len,
		   const struct multiboot_boot *boot, u32 *entry, u32 *info, const char **why)
{
	const struct mb_header *h = mb_find_header(img, len);
	u64 image_end, module_gpa = 0;
	Elf32_Ehdr eh;
	int ret;

	if (!elf32_i386(img, len) || !h) {
		*why = "not an ELF32 multiboot image";
		return -EINVAL;
	}
	memcpy(&eh, img, sizeof(eh));
	ret = mb_load_segments(mem, img, len, boot, &image_end, why);
	if (ret)
		return ret;
	if (boot->module) {
		u8 *dst;

		/* An image linked low leaves the info area and ACPI above it: stay clear. */
		module_gpa = ALIGN_UP(MAX(image_end, (u64)MB_MODULE_MIN_GPA), 4096);
		dst = gpa_to_hva(mem, module_gpa, boot->module_len);
		if (!dst || module_gpa + boot->module_len > 0xffffffffULL) {
			*why = "the module (--initrd) does not fit in guest RAM";
			return -EINVAL;
		}
		memcpy(dst, boot->module, boot->module_len);
	}
	*entry = eh.e_entry;
	return mb_write_info(mem, boot, module_gpa, info, why);
}
