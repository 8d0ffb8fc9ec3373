/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_ARM64_DEVICETREE_H
#define KVMBOX_ARCH_ARM64_DEVICETREE_H

#include "util/types.h"

/* The device tree of the arm64 board, built with libfdt; host-independent. */

#define ARM64_FDT_MAX_CPUS	512
#define ARM64_GIC_REDIST_STRIDE (128 * KiB) /* a GICv3 redistributor: RD and SGI frames */
#define ARM64_GIC_MAX_SPI	987	    /* SPI numbers count from INTID 32; 1019 is the last */
#define ARM64_PCI_ECAM_BUS_SIZE (1 * MiB)   /* 32 devices * 8 functions * 4 KiB */
#define ARM64_PCI_SLOTS		32
#define ARM64_PCI_INTX_PINS	4
#define ARM64_FLASH_BANK_WIDTH	4  /* bytes: two x16 CFI chips side by side */
#define ARM64_PCI_INTMAP_CELLS	10 /* child address 3, pin 1, GIC phandle 1, address 2, irq 3 */

struct arm64_fdt_region {
	u64 base;
	u64 size;
};

/*
 * What the guest is told. Regions must not overlap (the caller's job); every size must be
 * non-zero unless said otherwise. SPIs are GIC SPI numbers (INTID - 32).
 */
struct arm64_fdt_desc {
	struct arm64_fdt_region ram;
	unsigned int nr_cpus; /* 1..ARM64_FDT_MAX_CPUS */
	struct arm64_fdt_region gic_dist;
	struct arm64_fdt_region gic_redist; /* ARM64_GIC_REDIST_STRIDE per vCPU at least */
	struct arm64_fdt_region gic_its;    /* base 0: no ITS, and no MSIs for PCI */
	struct arm64_fdt_region uart;	    /* a PL011 */
	u32 uart_spi;
	struct arm64_fdt_region rtc; /* a PL031; size 0: none */
	u32 rtc_spi;
	struct arm64_fdt_region pci_ecam;   /* ARM64_PCI_ECAM_BUS_SIZE per bus, 1..256 buses */
	struct arm64_fdt_region pci_io;	    /* where PCI I/O ports 0.. appear to the CPU */
	struct arm64_fdt_region pci_mmio32; /* below 4 GiB; PCI and CPU addresses are equal */
	struct arm64_fdt_region pci_mmio64; /* size 0: none; PCI and CPU addresses are equal */
	u32 pci_intx_spi;		    /* INTx are swizzled onto this SPI and the next 3 */
	const char *bootargs;		    /* NULL: no command line */
	struct arm64_fdt_region initrd;	    /* size 0: no initrd */
	struct arm64_fdt_region flash[2];   /* firmware code and variables; size 0: none */
	bool pmu;			    /* a PMUv3 with its overflow PPI (ARM64_PMU_PPI) */
};

/*
 * The MPIDR_EL1 affinity KVM gives vCPU cpu at reset, which the device tree must repeat:
 * Aff0 holds only 0-15 (GICv3 SGI target lists are 16 wide), the rest goes to Aff1/Aff2.
 */
u64 arm64_cpu_mpidr(unsigned int cpu);

/*
 * Builds the device tree for d into buf (8-byte aligned, size bytes; at most
 * ARM64_FDT_MAX_SIZE of it are used). Returns 0, -ENOSPC when it does not fit, or -EINVAL
 * for a bad description, with *why. Never writes past size; fdt_totalsize() gives the
 * blob's length.
 */
int arm64_fdt_build(const struct arm64_fdt_desc *d, void *buf, size_t size, const char **why);

#endif
