// SPDX-License-Identifier: GPL-2.0-only
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvh.h"

/* Xen's public arch-x86/hvm/start_info.h, version 1: the layout is the ABI. */
struct pvh_start_info {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr;
	u64 memmap_paddr;
	u32 memmap_entries, reserved;
};

struct pvh_module {
	u64 paddr, size, cmdline_paddr, reserved;
};

struct pvh_memmap_entry {
	u64 addr, size;
	u32 type, reserved; /* the e820 type numbers */
};

_Static_assert(sizeof(struct pvh_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct pvh_module) == 32, "hvm_modlist_entry layout");
_Static_assert(sizeof(struct pvh_memmap_entry) == 24, "hvm_memmap_table_entry layout");

#define PVH_MEMMAP_OFF 64 /* the tables follow the start info in its area */

bool pvh_detect(const u8 *head, size_t len)
{
	return len >= EI_NIDENT && memcmp(head, ELFMAG, SELFMAG) == 0 &&
	       head[EI_CLASS] == ELFCLASS64;
}

static int pvh_read_phdrs(const struct pvh_source *src, Elf64_Phdr *ph, unsigned int *nr,
			  const char **why)
{
	Elf64_Ehdr eh;

	if (src->size < sizeof(eh) || src->read(src->ctx, 0, &eh, sizeof(eh))) {
		*why = "the ELF header is cut short";
		return -EINVAL;
	}
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64) {
		*why = "an ELF file, but not a little-endian x86-64 ELF64 kernel";
		return -EINVAL;
	}
	if (eh.e_phentsize != sizeof(*ph) || eh.e_phnum == 0 || eh.e_phnum > PVH_MAX_PHDRS ||
	    eh.e_phoff > src->size || (u64)eh.e_phnum * sizeof(*ph) > src->size - eh.e_phoff ||
	    src->read(src->ctx, eh.e_phoff, ph, eh.e_phnum * sizeof(*ph))) {
		*why = "the ELF program headers are missing, too many or out of the file";
		return -EINVAL;
	}
	*nr = eh.e_phnum;
	return 0;
}

/* The segment's bytes lie in the file, and its memory range does not wrap. */
static bool pvh_segment_ok(const struct pvh_source *src, const Elf64_Phdr *ph)
{
	return ph->p_filesz <= ph->p_memsz && ph->p_offset <= src->size &&
	       ph->p_filesz <= src->size - ph->p_offset && ph->p_memsz <= UINT64_MAX - ph->p_paddr;
}

static u64 align4(u64 v)
{
	return (v + 3) & ~3ULL;
}

/*
 * Looks through one note segment for Xen's PHYS32_ENTRY note. Returns 1 and sets *entry
 * when found, 0 when not, -EINVAL for a note of that type with a bad size. A note that
 * runs past the segment ends the walk: the rest cannot be trusted.
 */
static int pvh_scan_notes(const u8 *buf, u64 len, u64 *entry)
{
	u64 off = 0;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		u64 name, desc;

		memcpy(&nh, buf + off, sizeof(nh));
		name = off + sizeof(nh);
		desc = name + align4(nh.n_namesz);
		if (desc > len || align4(nh.n_descsz) > len - desc)
			return 0;
		off = desc + align4(nh.n_descsz);
		if (nh.n_type != PVH_ELFNOTE_PHYS32_ENTRY || nh.n_namesz != 4 ||
		    memcmp(buf + name, "Xen", 4) != 0)
			continue;
		if (nh.n_descsz == 4) {
			u32 v;

			memcpy(&v, buf + desc, 4);
			*entry = v;
		} else if (nh.n_descsz == 8) {
			memcpy(entry, buf + desc, 8);
		} else {
			return -EINVAL;
		}
		return 1;
	}
	return 0;
}

static int pvh_find_entry(const struct pvh_source *src, const Elf64_Phdr *ph, u64 *entry,
			  const char **why)
{
	u8 *buf;
	int ret;

	if (ph->p_filesz > PVH_MAX_NOTE_SIZE || ph->p_offset > src->size ||
	    ph->p_filesz > src->size - ph->p_offset) {
		*why = "an ELF note segment is out of the file or too large";
		return -EINVAL;
	}
	buf = malloc(ph->p_filesz + 1);
	if (!buf) {
		*why = "out of memory";
		return -EINVAL;
	}
	ret = src->read(src->ctx, ph->p_offset, buf, ph->p_filesz)
		      ? -EINVAL
		      : pvh_scan_notes(buf, ph->p_filesz, entry);
	free(buf);
	if (ret < 0)
		*why = "the PVH entry note is neither 4 nor 8 bytes, or the file is unreadable";
	return ret;
}

static bool pvh_entry_loaded(const struct pvh_image *img, u64 entry)
{
	for (unsigned int i = 0; i < img->nr_load; i++)
		if (entry >= img->load[i].paddr && entry - img->load[i].paddr < img->load[i].filesz)
			return true;
	return false;
}

int pvh_parse(const struct pvh_source *src, struct pvh_image *img, const char **why)
{
	Elf64_Phdr ph[PVH_MAX_PHDRS];
	u64 entry = 0;
	int found = 0, ret;

	memset(img, 0, sizeof(*img));
	ret = pvh_read_phdrs(src, ph, &img->nr_phdrs, why);
	for (unsigned int i = 0; !ret && i < img->nr_phdrs; i++) {
		if (ph[i].p_type == PT_NOTE && !found) {
			found = pvh_find_entry(src, &ph[i], &entry, why);
			ret = found < 0 ? found : 0;
		} else if (ph[i].p_type == PT_LOAD && ph[i].p_memsz) {
			if (!pvh_segment_ok(src, &ph[i])) {
				*why = "an ELF segment lies outside the file";
				return -EINVAL;
			}
			img->load[img->nr_load].paddr = ph[i].p_paddr;
			img->load[img->nr_load].offset = ph[i].p_offset;
			img->load[img->nr_load].filesz = ph[i].p_filesz;
			img->load[img->nr_load++].memsz = ph[i].p_memsz;
			img->load_end = MAX(img->load_end, ph[i].p_paddr + ph[i].p_memsz);
		}
	}
	if (ret)
		return ret;
	if (!found) {
		*why = "an ELF kernel without a PVH entry note (Xen PHYS32_ENTRY, Linux's "
		       "CONFIG_PVH): kvmbox boots an ELF kernel only through PVH";
		return -EINVAL;
	}
	if (entry > UINT32_MAX || !pvh_entry_loaded(img, entry)) {
		*why = "the PVH entry point is not in a loaded segment below 4 GiB";
		return -EINVAL;
	}
	img->entry = (u32)entry;
	return 0;
}

int pvh_load_segments(const struct guest_memory *mem, const struct pvh_source *src,
		      const struct pvh_image *img, const char **why)
{
	for (unsigned int i = 0; i < img->nr_load; i++) {
		u64 paddr = img->load[i].paddr, filesz = img->load[i].filesz;
		u64 memsz = img->load[i].memsz;
		u8 *dst;

		if (paddr < PVH_LOAD_MIN_GPA) {
			*why = "an ELF segment lies below 1 MiB, where kvmbox keeps its boot data";
			return -EINVAL;
		}
		dst = gpa_to_hva(mem, paddr, memsz);
		if (!dst) {
			*why = "an ELF segment does not fit in guest RAM (try more --memory)";
			return -EINVAL;
		}
		if (src->read(src->ctx, img->load[i].offset, dst, filesz)) {
			*why = "cannot read an ELF segment";
			return -EINVAL;
		}
		memset(dst + filesz, 0, memsz - filesz);
	}
	return 0;
}

static void pvh_fill_memmap(struct pvh_memmap_entry *map, const struct pvh_boot *boot)
{
	for (unsigned int i = 0; i < boot->e820_entries; i++)
		map[i] = (struct pvh_memmap_entry){.addr = boot->e820[i].addr,
						   .size = boot->e820[i].size,
						   .type = boot->e820[i].type};
}

int pvh_write_start_info(const struct guest_memory *mem, const struct pvh_boot *boot, u32 *ebx,
			 const char **why)
{
	u64 map_len = (u64)boot->e820_entries * sizeof(struct pvh_memmap_entry);
	u64 mod_off = PVH_MEMMAP_OFF + ALIGN_UP(map_len, 8);
	u64 need = mod_off + sizeof(struct pvh_module);
	struct pvh_start_info si = {
		.magic = PVH_START_MAGIC,
		.version = 1,
		.cmdline_paddr = boot->cmdline_gpa,
		.rsdp_paddr = boot->rsdp_gpa,
		.memmap_paddr = boot->info_gpa + PVH_MEMMAP_OFF,
		.memmap_entries = boot->e820_entries,
	};
	u8 *area = gpa_to_hva(mem, boot->info_gpa, need);

	if (boot->e820_entries > E820_MAX_ENTRIES || need > boot->info_size || !area ||
	    boot->info_gpa > UINT32_MAX - need) {
		*why = "no room below 4 GiB for the PVH start info";
		return -EINVAL;
	}
	memset(area, 0, need);
	pvh_fill_memmap((struct pvh_memmap_entry *)(area + PVH_MEMMAP_OFF), boot);
	if (boot->initrd_size) {
		struct pvh_module mod = {.paddr = boot->initrd_gpa, .size = boot->initrd_size};

		memcpy(area + mod_off, &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = boot->info_gpa + mod_off;
	}
	memcpy(area, &si, sizeof(si));
	*ebx = (u32)boot->info_gpa;
	return 0;
}
