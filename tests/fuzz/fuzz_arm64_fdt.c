// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/arch/arm64/devicetree.c
// fuzz-libs: -lfdt
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the arm64 device tree builder: the input is XORed onto a
 * description of QEMU virt's board (struct params below: every region, the vCPU count,
 * the SPIs, the buffer's size and flags), so that an input of zeros is that board; what
 * follows is the command line. arm64_fdt_build() writes into a heap block of exactly the
 * buffer's size (8-byte aligned, or 4 bytes off with flag bit 0; bit 1: no command line),
 * so AddressSanitizer sees any write past it. A built tree passes fdt_check_full(), fits
 * its buffer and 2 MiB, and has a node per vCPU and the command line in /chosen.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libfdt.h>

#include "arch/arm64/devicetree.h"
#include "arch/arm64/image.h"
#include "fuzz_access.h"

enum { RAM, DIST, REDIST, ITS, UART, RTC, ECAM, PIO, MMIO32, MMIO64, INITRD, FLASH0, FLASH1, NR };

struct params {
	struct arm64_fdt_region r[NR];
	u32 nr_cpus, uart_spi, rtc_spi, pci_intx_spi, buf_size, flags;
};

static const struct params virt = {
	.r = {[RAM] = {0x40000000, 256 * MiB},
	      [DIST] = {0x08000000, 0x10000},
	      [REDIST] = {0x080a0000, 0xf60000},
	      [ITS] = {0x08080000, 0x20000},
	      [UART] = {0x09000000, 0x1000},
	      [RTC] = {0x09010000, 0x1000},
	      [ECAM] = {0x3f000000, 16 * MiB},
	      [PIO] = {0x3eff0000, 0x10000},
	      [MMIO32] = {0x10000000, 0x2eff0000},
	      [MMIO64] = {0x8000000000ULL, 0x8000000000ULL},
	      [INITRD] = {0x48000000, 0x123456},
	      [FLASH0] = {0, 64 * MiB},
	      [FLASH1] = {64 * MiB, 64 * MiB}},
	.nr_cpus = 4,
	.uart_spi = 1,
	.rtc_spi = 2,
	.pci_intx_spi = 3,
	.buf_size = 64 * KiB,
};

static struct arm64_fdt_desc desc_of(const struct params *p, const char *bootargs)
{
	return (struct arm64_fdt_desc){
		.ram = p->r[RAM],
		.nr_cpus = p->nr_cpus,
		.gic_dist = p->r[DIST],
		.gic_redist = p->r[REDIST],
		.gic_its = p->r[ITS],
		.uart = p->r[UART],
		.uart_spi = p->uart_spi,
		.rtc = p->r[RTC],
		.rtc_spi = p->rtc_spi,
		.pci_ecam = p->r[ECAM],
		.pci_io = p->r[PIO],
		.pci_mmio32 = p->r[MMIO32],
		.pci_mmio64 = p->r[MMIO64],
		.pci_intx_spi = p->pci_intx_spi,
		.bootargs = bootargs,
		.initrd = p->r[INITRD],
		.flash = {p->r[FLASH0], p->r[FLASH1]},
	};
}

static void check_tree(const void *fdt, size_t size, const struct arm64_fdt_desc *d)
{
	int node, n = 0;
	const char *args;

	CHECK(fdt_check_full(fdt, size) == 0);
	CHECK(fdt_totalsize(fdt) <= size && fdt_totalsize(fdt) <= ARM64_FDT_MAX_SIZE);
	node = fdt_path_offset(fdt, "/cpus");
	CHECK(node >= 0);
	for (int cpu = fdt_first_subnode(fdt, node); cpu >= 0; cpu = fdt_next_subnode(fdt, cpu))
		n++;
	CHECK(n == (int)d->nr_cpus);
	node = fdt_path_offset(fdt, "/chosen");
	CHECK(node >= 0);
	args = fdt_getprop(fdt, node, "bootargs", NULL);
	CHECK(d->bootargs ? args && !strcmp(args, d->bootargs) : !args);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct params p = virt;
	size_t n = MIN(size, sizeof(p)), buf_size;
	char *bootargs = malloc(size - n + 1);
	struct arm64_fdt_desc d;
	const char *why = NULL;
	u8 *block, *buf;
	int ret;

	CHECK(bootargs);
	for (size_t i = 0; i < n; i++)
		((u8 *)&p)[i] ^= data[i];
	memcpy(bootargs, data + n, size - n);
	bootargs[size - n] = '\0';
	d = desc_of(&p, p.flags & 2 ? NULL : bootargs);
	buf_size = p.buf_size % (4 * MiB);
	block = malloc(buf_size + (p.flags & 1) * 4 + 1);
	CHECK(block);
	buf = block + (p.flags & 1) * 4;
	ret = arm64_fdt_build(&d, buf, buf_size, &why);
	if (ret)
		CHECK(why && (ret == -EINVAL || ret == -ENOSPC));
	else
		check_tree(buf, buf_size, &d);
	free(block);
	free(bootargs);
	return 0;
}
