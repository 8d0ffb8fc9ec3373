// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loads an arm64 Linux Image (or Debian's gzip'd vmlinuz) as booting.rst describes: the
 * kernel at a 2 MiB-aligned base plus text_offset, the device tree in a 2 MiB block of its
 * own above it, the initrd above that; x0 holds the device tree's address at entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../memory.h"
#include "../../util/file.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "../arch.h"
#include "arch_vm.h"
#include "devicetree.h"
#include "image.h"
#include "layout.h"

#define KERNEL_FILE_MAX ARM64_IMAGE_MAX_SIZE
#define INITRD_FILE_MAX (1ULL << 32)
#define GZIP_HEAD_INPUT (64 * KiB) /* more than the first 64 bytes of an Image ever need */

struct boot_files {
	struct input_file kernel, initrd;
	bool gzip;
	u8 head[ARM64_IMAGE_HEADER_LEN];
	struct arm64_image img;
};

static void boot_files_close(struct boot_files *f)
{
	input_file_close(&f->kernel);
	input_file_close(&f->initrd);
}

/* The Image header, from the file or from the start of its gzip stream. */
static int read_head(struct boot_files *f, const char **why)
{
	size_t in_len = MIN(f->kernel.size, (size_t)GZIP_HEAD_INPUT);
	u8 *in = malloc(MAX(in_len, (size_t)1));
	int ret = -EINVAL;

	if (!in)
		return -ENOMEM;
	if (input_file_read(&f->kernel, 0, in, in_len)) {
		free(in);
		return -EIO;
	}
	f->gzip = arm64_image_is_gzip(in, in_len);
	if (f->gzip) {
		ret = arm64_image_gunzip_head(in, in_len, f->head, sizeof(f->head), why);
	} else if (in_len >= sizeof(f->head)) {
		memcpy(f->head, in, sizeof(f->head));
		ret = 0;
	} else {
		*why = "file is shorter than the 64-byte arm64 Image header";
	}
	free(in);
	/* A gzip'd Image's length is known once inflated: the header alone is checked now. */
	if (!ret)
		ret = arm64_image_parse(f->head, sizeof(f->head),
					f->gzip ? sizeof(f->head) : f->kernel.size, &f->img, why);
	return ret;
}

static int boot_files_open(struct boot_files *f, const struct vm_config *cfg)
{
	const char *why = NULL;
	int ret;

	memset(f, 0, sizeof(*f));
	f->kernel.fd = f->initrd.fd = -1;
	if (input_file_open(&f->kernel, cfg->kernel, "--kernel", KERNEL_FILE_MAX))
		return -EXIT_BAD_INPUT;
	ret = read_head(f, &why);
	if (ret == -EIO || ret == -ENOMEM) {
		boot_files_close(f);
		return ret == -EIO ? -EXIT_BAD_INPUT : -EXIT_VMM_ERROR;
	}
	if (ret) {
		pr_err("--kernel %s: not an arm64 Image: %s", cfg->kernel, why);
		boot_files_close(f);
		return -EXIT_BAD_INPUT;
	}
	if (cfg->initrd && input_file_open(&f->initrd, cfg->initrd, "--initrd", INITRD_FILE_MAX)) {
		boot_files_close(f);
		return -EXIT_BAD_INPUT;
	}
	if (cfg->initrd && !f->initrd.size) {
		pr_err("--initrd %s: the file is empty", cfg->initrd);
		boot_files_close(f);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

int arm64_check_boot_files(const struct vm_config *cfg)
{
	struct boot_files f;
	int ret = boot_files_open(&f, cfg);

	if (!ret)
		boot_files_close(&f);
	return ret;
}

/* The kernel into guest RAM at p->kernel_gpa, inflated there when it is gzip'd. */
static int load_kernel(struct vm *vm, struct boot_files *f, const struct arm64_placement *p)
{
	u64 room = p->kernel_end - p->kernel_gpa;
	u8 *dst = gpa_to_hva(&vm->mem, p->kernel_gpa, room), *gz = NULL;
	const char *why = NULL;
	size_t len = 0;
	int ret;

	if (!dst)
		return -EXIT_VMM_ERROR;
	if (!f->gzip)
		return input_file_read(&f->kernel, 0, dst, f->kernel.size) ? -EXIT_BAD_INPUT : 0;
	if (input_file_read_all(&f->kernel, &gz))
		return -EXIT_BAD_INPUT;
	ret = arm64_image_gunzip(gz, f->kernel.size, dst, room, &len, &why);
	free(gz);
	/* Now that its length is known, the Image is checked whole. */
	if (!ret)
		ret = arm64_image_parse(dst, ARM64_IMAGE_HEADER_LEN, len, &f->img, &why);
	if (ret) {
		pr_err("--kernel %s: %s", f->kernel.path, why);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

static void fdt_describe(const struct vm *vm, const struct arm64_placement *p, u64 initrd_size,
			 struct arm64_fdt_desc *d)
{
	*d = (struct arm64_fdt_desc){
		.ram = {vm->mem.regions[0].gpa, vm->mem.regions[0].size},
		.nr_cpus = vm->cfg->cpus,
		.gic_dist = {ARM64_GIC_DIST_GPA, ARM64_GIC_DIST_SIZE},
		.gic_redist = {ARM64_GIC_REDIST_GPA, vm->cfg->cpus * ARM64_GIC_REDIST_STRIDE},
		.uart = {ARM64_UART_GPA, ARM64_UART_SIZE},
		.uart_spi = ARM64_UART_SPI,
		.rtc = {ARM64_RTC_GPA, ARM64_RTC_SIZE},
		.rtc_spi = ARM64_RTC_SPI,
		.pci_ecam = {ARM64_PCI_ECAM_GPA, ARM64_PCI_ECAM_SIZE},
		.pci_io = {ARM64_PCI_IO_GPA, ARM64_PCI_IO_SIZE},
		.pci_mmio32 = {ARM64_PCI_MMIO_GPA, ARM64_PCI_MMIO_SIZE},
		.pci_intx_spi = ARM64_PCI_INTX_SPI,
		.bootargs = vm->cfg->firmware  ? NULL
			    : vm->cfg->cmdline ? vm->cfg->cmdline
					       : VM_DEFAULT_CMDLINE,
		.initrd = {p->initrd_gpa, initrd_size},
	};
	d->pmu = vm->arch->pmu;
	if (vm->arch->its_fd >= 0)
		d->gic_its = (struct arm64_fdt_region){ARM64_GIC_ITS_GPA, ARM64_GIC_ITS_SIZE};
	if (vm->cfg->firmware) {
		d->flash[0] = (struct arm64_fdt_region){ARM64_FLASH0_GPA, ARM64_FLASH_SIZE};
		d->flash[1] = (struct arm64_fdt_region){ARM64_FLASH1_GPA, ARM64_FLASH_SIZE};
	}
}

/* --dump-dtb: the device tree as the guest gets it, for dtc or a test to read. */
static int dump_dtb(const char *path, const void *fdt)
{
	u32 len = fdt_totalsize(fdt);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, fdt, len) != (ssize_t)len) {
		pr_err("--dump-dtb %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EXIT_BAD_INPUT;
	}
	close(fd);
	return 0;
}

/* The device tree, built in place in its 2 MiB block. */
static int load_dtb(struct vm *vm, const struct arm64_placement *p, u64 initrd_size)
{
	void *fdt = gpa_to_hva(&vm->mem, p->dtb_gpa, ARM64_FDT_MAX_SIZE);
	struct arm64_fdt_desc d;
	const char *why = NULL;

	if (!fdt)
		return -EXIT_VMM_ERROR;
	fdt_describe(vm, p, initrd_size, &d);
	if (arm64_fdt_build(&d, fdt, ARM64_FDT_MAX_SIZE, &why)) {
		/* Only the command line's length is the user's to change. */
		pr_err("cannot build the device tree: %s (is --cmdline too long?)", why);
		return -EXIT_BAD_INPUT;
	}
	return vm->cfg->dump_dtb ? dump_dtb(vm->cfg->dump_dtb, fdt) : 0;
}

/*
 * Firmware starts at the base of flash bank 0 and finds the device tree at the start of
 * RAM (EDK2's PcdDeviceTreeInitialBaseAddress on QEMU's virt), which it then moves.
 */
static int load_firmware_dtb(struct vm *vm, struct boot_entry *entry)
{
	struct arm64_placement p = {.dtb_gpa = vm->mem.regions[0].gpa};

	if (vm->mem.regions[0].size < ARM64_FDT_MAX_SIZE)
		return -EXIT_BAD_INPUT;
	entry->pc = ARM64_FLASH0_GPA;
	entry->x0 = p.dtb_gpa;
	return load_dtb(vm, &p, 0);
}

int arch_load_guest(struct vm *vm, struct boot_entry *entry)
{
	struct arm64_placement p;
	struct boot_files f;
	const char *why = NULL;
	int ret;

	if (vm->cfg->firmware)
		return load_firmware_dtb(vm, entry);
	ret = boot_files_open(&f, vm->cfg);

	if (ret)
		return ret;
	/* The whole 2 MiB the protocol allows is kept for the device tree. */
	if (arm64_image_place(&f.img, vm->mem.regions[0].gpa, vm->mem.regions[0].size,
			      ARM64_FDT_MAX_SIZE, f.initrd.size, &p, &why)) {
		pr_err("%s", why);
		ret = -EXIT_BAD_INPUT;
	}
	if (!ret)
		ret = load_kernel(vm, &f, &p);
	if (!ret && f.initrd.size) {
		void *dst = gpa_to_hva(&vm->mem, p.initrd_gpa, f.initrd.size);

		ret = dst && !input_file_read(&f.initrd, 0, dst, f.initrd.size) ? 0
										: -EXIT_BAD_INPUT;
	}
	if (!ret)
		ret = load_dtb(vm, &p, f.initrd.size);
	boot_files_close(&f);
	entry->pc = p.kernel_gpa;
	entry->x0 = p.dtb_gpa;
	return ret;
}
