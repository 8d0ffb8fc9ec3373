// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kvm.h"
#include "../../util/file.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "../arch.h"
#include "acpi.h"
#include "arch_vm.h"
#include "bzimage.h"
#include "layout.h"
#include "multiboot.h"
#include "pvh.h"

#define KERNEL_MAX_SIZE	     (512 * MiB)
#define INITRD_MAX_SIZE	     (2 * GiB)
#define LINUX_MIN_LOAD_ADDR  0x1000000 /* the decompressor runs at 16 MiB at least */
#define KERNEL_FORMATS_ERROR "not a bzImage, PVH ELF64 or multiboot ELF32 kernel"

static int install_acpi(struct vm *vm)
{
	struct acpi_config cfg = {
		.nr_cpus = vm->cfg->cpus,
		.base_gpa = X86_ACPI_GPA,
		.lapic_gpa = X86_LAPIC_GPA,
		.ioapic_gpa = X86_IOAPIC_GPA,
		.ioapic_id = (u8)vm->cfg->cpus,
		.pm1a_evt_port = X86_PORT_ACPI_PM1A_EVT,
		.pm1a_cnt_port = X86_PORT_ACPI_PM1A_CNT,
		.reset_port = X86_PORT_ACPI_RESET,
		.reset_value = X86_ACPI_RESET_VALUE,
		.slp_typ_s5 = X86_ACPI_SLP_TYP_S5,
		.sci_irq = X86_IRQ_ACPI_SCI,
	};
	u8 *buf = gpa_to_hva(&vm->mem, X86_ACPI_GPA, X86_ACPI_SIZE);
	long len = buf ? acpi_build_tables(buf, X86_ACPI_SIZE, &cfg) : -1;

	if (len < 0) {
		pr_err("cannot build the ACPI tables");
		return -EXIT_VMM_ERROR;
	}
	vm->arch->acpi_len = (u64)len;
	return 0;
}

/*
 * Reads the initrd as high as the kernel allows (its last byte at most at max), in the
 * low RAM region and above kernel_end, the end of everything the kernel needs.
 */
static int place_initrd(struct vm *vm, u64 max, u64 kernel_end, const struct input_file *initrd,
			u64 *gpa)
{
	size_t len = initrd->size;
	u64 at;
	u8 *dst;

	max = MIN(max, vm->mem.regions[0].size - 1);
	if (len > max + 1 || ALIGN_DOWN(max + 1 - len, 4096) < kernel_end) {
		pr_err("--initrd (%zu MiB) does not fit in guest RAM beside the kernel: "
		       "raise --memory",
		       (size_t)(len / MiB));
		return -EXIT_BAD_INPUT;
	}
	at = ALIGN_DOWN(max + 1 - len, 4096);
	dst = gpa_to_hva(&vm->mem, at, len);
	if (!dst)
		return -EXIT_VMM_ERROR;
	if (input_file_read(initrd, 0, dst, len))
		return -EXIT_BAD_INPUT;
	*gpa = at;
	return 0;
}

static int write_cmdline(struct vm *vm, const char *cmdline, u32 max)
{
	size_t len = strlen(cmdline);

	if (len >= X86_CMDLINE_MAX || (max && len > max)) {
		pr_err("--cmdline is %zu bytes, more than the kernel accepts (%u)", len,
		       max ? max : X86_CMDLINE_MAX - 1);
		return -EXIT_BAD_INPUT;
	}
	guest_write(&vm->mem, X86_CMDLINE_GPA, cmdline, len + 1);
	return 0;
}

/* The kernel and the initrd are read from their files straight into guest RAM. */
static int load_bzimage(struct vm *vm, const struct input_file *kernel, const u8 *head,
			size_t head_len, const struct input_file *initrd, struct boot_entry *entry)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	struct bzimage_boot boot = {.cmdline_gpa = X86_CMDLINE_GPA, .rsdp_gpa = X86_ACPI_GPA};
	const char *cmdline = vm->cfg->cmdline ? vm->cfg->cmdline : VM_DEFAULT_CMDLINE;
	struct boot_params *bp;
	struct bzimage bz;
	const char *why;
	u8 *dst;
	int ret;

	if (bzimage_parse(head, head_len, kernel->size, &bz, &why)) {
		pr_err("--kernel %s: %s", vm->cfg->kernel, why);
		return -EXIT_BAD_INPUT;
	}
	dst = gpa_to_hva(&vm->mem, X86_KERNEL_GPA, MAX((u64)bz.kernel_len, (u64)bz.hdr.init_size));
	if (!dst) {
		pr_err("--kernel %s needs more guest RAM than --memory gives", vm->cfg->kernel);
		return -EXIT_BAD_INPUT;
	}
	if (input_file_read(kernel, bz.kernel_offset, dst, bz.kernel_len))
		return -EXIT_BAD_INPUT;
	ret = write_cmdline(vm, cmdline, bz.hdr.cmdline_size);
	if (!ret && initrd->fd >= 0)
		ret = place_initrd(vm, bz.hdr.initrd_addr_max,
				   MAX((u64)X86_KERNEL_GPA, (u64)LINUX_MIN_LOAD_ADDR) +
					   bz.hdr.init_size,
				   initrd, &boot.initrd_gpa);
	if (ret)
		return ret;
	boot.cmdline_len = strlen(cmdline);
	boot.initrd_size = initrd->fd >= 0 ? (u32)initrd->size : 0;
	boot.e820 = map;
	boot.e820_entries = e820_build(&vm->mem, map, E820_MAX_ENTRIES);
	bp = gpa_to_hva(&vm->mem, X86_BOOT_PARAMS_GPA, sizeof(*bp));
	bzimage_fill_params(bp, head, &bz, &boot);
	entry->mode = BOOT_ENTRY_LONG64;
	entry->rip = X86_KERNEL_GPA + 0x200; /* the 64-bit entry, startup_64 */
	entry->rsi = X86_BOOT_PARAMS_GPA;
	return 0;
}

static int read_kernel(const void *ctx, u64 off, void *dst, size_t len)
{
	return input_file_read(ctx, off, dst, len);
}

/*
 * An ELF vmlinux through PVH: its segments are read from the file straight to their
 * physical addresses, the initrd goes above them, and the start info tells the kernel.
 */
static int load_pvh(struct vm *vm, const struct input_file *kernel, const struct input_file *initrd,
		    struct boot_entry *entry)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	struct pvh_source src = {.read = read_kernel, .ctx = kernel, .size = kernel->size};
	struct pvh_boot boot = {.cmdline_gpa = X86_CMDLINE_GPA,
				.rsdp_gpa = X86_ACPI_GPA,
				.e820 = map,
				.info_gpa = X86_PVH_INFO_GPA,
				.info_size = X86_PVH_INFO_SIZE};
	const char *cmdline = vm->cfg->cmdline ? vm->cfg->cmdline : VM_DEFAULT_CMDLINE;
	struct pvh_image img;
	const char *why;
	u32 ebx;
	int ret;

	if (pvh_parse(&src, &img, &why) || pvh_load_segments(&vm->mem, &src, &img, &why)) {
		pr_err("--kernel %s: %s", vm->cfg->kernel, why);
		return -EXIT_BAD_INPUT;
	}
	ret = write_cmdline(vm, cmdline, 0);
	if (!ret && initrd->fd >= 0) {
		ret = place_initrd(vm, UINT32_MAX, img.load_end, initrd, &boot.initrd_gpa);
		boot.initrd_size = initrd->size;
	}
	if (ret)
		return ret;
	boot.e820_entries = e820_build(&vm->mem, map, E820_MAX_ENTRIES);
	if (pvh_write_start_info(&vm->mem, &boot, &ebx, &why)) {
		pr_err("--kernel %s: %s", vm->cfg->kernel, why);
		return -EXIT_VMM_ERROR;
	}
	entry->mode = BOOT_ENTRY_PROT32;
	entry->rip = img.entry;
	entry->eax = 0;
	entry->ebx = ebx;
	return 0;
}

/*
 * Multiboot images are started by a loader that ran on a PC BIOS, and some rely on what
 * the BIOS left behind: kvm-unit-tests' realmode test takes an interrupt in real mode
 * with its own handler for IRQ 11 at vector 0x73. So, as a BIOS does: every real-mode
 * vector points at an IRET, and the 8259s deliver IRQ 0-7 at 0x08 and 8-15 at 0x70.
 * Their masks stay as KVM created them.
 */
static int set_bios_interrupt_state(struct vm *vm)
{
	static const u8 iret = 0xcf;
	u32 ivt[256];
	struct kvm_irqchip chip[2] = {{.chip_id = KVM_IRQCHIP_PIC_MASTER},
				      {.chip_id = KVM_IRQCHIP_PIC_SLAVE}};
	const u8 base[2] = {X86_PIC_MASTER_BASE, X86_PIC_SLAVE_BASE};

	for (size_t i = 0; i < ARRAY_SIZE(ivt); i++)
		ivt[i] = X86_IRET_STUB_GPA; /* segment 0, offset of the stub */
	if (!guest_write(&vm->mem, X86_IVT_GPA, ivt, sizeof(ivt)) ||
	    !guest_write(&vm->mem, X86_IRET_STUB_GPA, &iret, 1))
		return -EXIT_VMM_ERROR;
	for (int i = 0; i < 2; i++) {
		if (kvm_ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip[i]) < 0)
			return -EXIT_VMM_ERROR;
		chip[i].chip.pic.irq_base = base[i];
		chip[i].chip.pic.init4 = 1; /* ICW4 sent: 8086 mode */
		if (kvm_ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &chip[i]) < 0)
			return -EXIT_VMM_ERROR;
	}
	return 0;
}

static int load_multiboot(struct vm *vm, const u8 *img, size_t len, const u8 *initrd,
			  size_t initrd_len, struct boot_entry *entry)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	struct multiboot_boot boot = {
		.module = initrd,
		.module_len = initrd_len,
		.e820 = map,
		.info_gpa = X86_MULTIBOOT_INFO_GPA,
		.info_size = X86_MULTIBOOT_INFO_SIZE,
		/*
		 * The tables, not the whole area: an ELF linked at 1 MiB often has a segment
		 * of headers just below it, as loaders have always accepted.
		 */
		.acpi_gpa = X86_ACPI_GPA,
		.acpi_size = vm->arch->acpi_len,
	};
	const char *why;
	char *cmdline;
	u32 eip, info;
	int ret;

	/* Multiboot loaders hand over "<image> <arguments>", and guests expect argv[0]. */
	if (asprintf(&cmdline, "%s%s%s", vm->cfg->kernel, vm->cfg->cmdline ? " " : "",
		     vm->cfg->cmdline ? vm->cfg->cmdline : "") < 0)
		return -EXIT_VMM_ERROR;
	boot.cmdline = cmdline;
	boot.e820_entries = e820_build(&vm->mem, map, E820_MAX_ENTRIES);
	ret = multiboot_load(&vm->mem, img, len, &boot, &eip, &info, &why);
	free(cmdline);
	if (ret) {
		pr_err("--kernel %s: %s", vm->cfg->kernel, why);
		return -EXIT_BAD_INPUT;
	}
	ret = set_bios_interrupt_state(vm);
	if (ret)
		return ret;
	entry->mode = BOOT_ENTRY_PROT32;
	entry->rip = eip;
	entry->eax = MULTIBOOT_BOOT_MAGIC;
	entry->ebx = info;
	return 0;
}

/* Multiboot images and modules are small: they are read whole, then loaded. */
static int load_multiboot_files(struct vm *vm, const struct input_file *kernel,
				const struct input_file *initrd, struct boot_entry *entry)
{
	u8 *img = NULL, *module = NULL;
	int ret = -EXIT_BAD_INPUT;

	if (!input_file_read_all(kernel, &img) &&
	    (initrd->fd < 0 || !input_file_read_all(initrd, &module)))
		ret = load_multiboot(vm, img, kernel->size, module,
				     initrd->fd >= 0 ? initrd->size : 0, entry);
	free(img);
	free(module);
	return ret;
}

/* The kernel and initrd files, with the head of the kernel read to tell its format. */
struct boot_files {
	struct input_file kernel, initrd;
	u8 head[MAX(BZIMAGE_HEAD_LEN, MULTIBOOT_SEARCH_LEN)];
	size_t head_len;
};

static void boot_files_close(struct boot_files *f)
{
	input_file_close(&f->kernel);
	input_file_close(&f->initrd);
}

static int boot_files_open(struct boot_files *f, const struct vm_config *cfg)
{
	f->kernel.fd = f->initrd.fd = -1;
	if (input_file_open(&f->kernel, cfg->kernel, "--kernel", KERNEL_MAX_SIZE))
		return -EXIT_BAD_INPUT;
	f->head_len = MIN(f->kernel.size, sizeof(f->head));
	if (input_file_read(&f->kernel, 0, f->head, f->head_len) ||
	    (cfg->initrd &&
	     input_file_open(&f->initrd, cfg->initrd, "--initrd", INITRD_MAX_SIZE))) {
		boot_files_close(f);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

/* Everything about the files that can be known before the VM exists. */
int x86_check_boot_files(const struct vm_config *cfg)
{
	struct boot_files f;
	struct bzimage bz;
	struct pvh_image pvh;
	const char *why = NULL;
	int ret = boot_files_open(&f, cfg);

	if (ret)
		return ret;
	if (cfg->initrd && !f.initrd.size) {
		pr_err("--initrd %s: the file is empty", cfg->initrd);
		boot_files_close(&f);
		return -EXIT_BAD_INPUT;
	}
	if (bzimage_detect(f.head, f.head_len)) {
		if (bzimage_parse(f.head, f.head_len, f.kernel.size, &bz, &why) == 0)
			why = NULL;
	} else if (pvh_detect(f.head, f.head_len)) {
		struct pvh_source src = {read_kernel, &f.kernel, f.kernel.size};

		if (pvh_parse(&src, &pvh, &why) == 0)
			why = NULL;
	} else if (!multiboot_detect(f.head, f.head_len)) {
		why = KERNEL_FORMATS_ERROR;
	}
	boot_files_close(&f);
	if (why) {
		pr_err("--kernel %s: %s", cfg->kernel, why);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

int arch_load_guest(struct vm *vm, struct boot_entry *entry)
{
	struct boot_files f;
	int ret = boot_files_open(&f, vm->cfg);

	if (ret)
		return ret;
	ret = install_acpi(vm);
	if (!ret && bzimage_detect(f.head, f.head_len))
		ret = load_bzimage(vm, &f.kernel, f.head, f.head_len, &f.initrd, entry);
	else if (!ret && pvh_detect(f.head, f.head_len))
		ret = load_pvh(vm, &f.kernel, &f.initrd, entry);
	else if (!ret && multiboot_detect(f.head, f.head_len))
		ret = load_multiboot_files(vm, &f.kernel, &f.initrd, entry);
	else if (!ret) {
		pr_err("--kernel %s: %s", vm->cfg->kernel, KERNEL_FORMATS_ERROR);
		ret = -EXIT_BAD_INPUT;
	}
	boot_files_close(&f);
	return ret;
}
