/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_ARM64_LAYOUT_H
#define KVMBOX_ARCH_ARM64_LAYOUT_H

/*
 * Where things live in an arm64 kvmbox guest: QEMU's virt machine map (hw/arm/virt.c),
 * so that firmware built for it (EDK2's ArmVirtQemu) finds what it expects where it
 * expects it, and a kernel sees a board it knows.
 */
#define ARM64_FLASH0_GPA     0x00000000ULL /* firmware code (CFI flash) */
#define ARM64_FLASH1_GPA     0x04000000ULL /* firmware variables */
#define ARM64_FLASH_SIZE     0x04000000ULL
#define ARM64_GIC_DIST_GPA   0x08000000ULL
#define ARM64_GIC_DIST_SIZE  0x00010000ULL
#define ARM64_GIC_ITS_GPA    0x08080000ULL
#define ARM64_GIC_ITS_SIZE   0x00020000ULL
#define ARM64_GIC_REDIST_GPA 0x080a0000ULL
#define ARM64_GIC_REDIST_MAX 0x00f60000ULL /* room for 123 redistributors */
#define ARM64_UART_GPA	     0x09000000ULL /* PL011 */
#define ARM64_UART_SIZE	     0x00001000ULL
#define ARM64_RTC_GPA	     0x09010000ULL /* PL031 */
#define ARM64_RTC_SIZE	     0x00001000ULL
#define ARM64_PCI_MMIO_GPA   0x10000000ULL
#define ARM64_PCI_MMIO_SIZE  0x2eff0000ULL
#define ARM64_PCI_IO_GPA     0x3eff0000ULL
#define ARM64_PCI_IO_SIZE    0x00010000ULL
#define ARM64_PCI_ECAM_GPA   0x3f000000ULL
#define ARM64_PCI_ECAM_SIZE  0x01000000ULL /* 16 buses */
#define ARM64_RAM_GPA	     0x40000000ULL

/* The PMU's overflow interrupt: PPI 7 (INTID 23), as QEMU's virt and the SBSA's advice. */
#define ARM64_PMU_PPI 7

/* SPIs (INTID - 32), as QEMU's virt. */
#define ARM64_UART_SPI	   1
#define ARM64_RTC_SPI	   2
#define ARM64_PCI_INTX_SPI 3   /* INTA-INTD swizzled onto SPIs 3-6 */
#define ARM64_GIC_NR_IRQS  128 /* 32 private + 96 SPIs: a multiple of 32, as KVM wants */

/* KVM's default guest physical address size on arm64 (a VM type of 0). */
#define ARM64_IPA_BITS 40

#endif
