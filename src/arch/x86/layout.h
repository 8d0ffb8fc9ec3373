/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_LAYOUT_H
#define KVMBOX_ARCH_X86_LAYOUT_H

/* Where things live in an x86 kvmbox guest: one place, so nothing overlaps by accident. */

/* Guest physical memory. */
#define X86_IVT_GPA		0x0000 /* real-mode interrupt vectors (multiboot guests) */
#define X86_GDT_GPA		0x0500
#define X86_IRET_STUB_GPA	0x0520 /* the IRET every vector points at */
#define X86_BOOT_PARAMS_GPA	0x7000 /* the zero page */
#define X86_PML4_GPA		0x9000 /* then PDPT at +0x1000 and four PDs: 0x9000-0xefff */
#define X86_CMDLINE_GPA		0x20000
#define X86_CMDLINE_MAX		0x10000
#define X86_MULTIBOOT_INFO_GPA	0x30000 /* multiboot info, its strings and modules list */
#define X86_MULTIBOOT_INFO_SIZE 0x10000
#define X86_PVH_INFO_GPA	X86_MULTIBOOT_INFO_GPA /* or the PVH start info and tables */
#define X86_PVH_INFO_SIZE	X86_MULTIBOOT_INFO_SIZE
#define X86_MULTIBOOT_MIN_LOAD	0x1000	/* page 0 holds the IVT and the GDT kvmbox enters with */
#define X86_LOW_RAM_END		0x9fc00 /* e820: usable RAM below the EBDA */
#define X86_ACPI_GPA		0xe0000 /* RSDP (found by the BIOS-area scan too) and tables */
#define X86_ACPI_SIZE		0x20000
#define X86_KERNEL_GPA		0x100000 /* protected-mode kernel, 1 MiB */

/* The 32-bit MMIO hole: RAM that would sit here continues at 4 GiB. */
#define X86_MMIO_HOLE_START  0xc0000000ULL
#define X86_PCI_MMIO_START   0xc0000000ULL /* BARs are placed from here */
#define X86_PCI_MMIO_SIZE    0x20000000ULL
#define X86_IOAPIC_GPA	     0xfec00000ULL
#define X86_LAPIC_GPA	     0xfee00000ULL
#define X86_TSS_GPA	     0xfffbd000ULL /* 3 pages KVM needs on Intel (KVM_SET_TSS_ADDR) */
#define X86_IDENTITY_MAP_GPA 0xfffbc000ULL

/* Interrupts. */
#define X86_PIC_IRQS	       16
#define X86_PIC_CASCADE	       2
#define X86_IOAPIC_PINS	       24
#define X86_PCI_INTX_GSI_BASE  16
#define X86_PCI_INTX_GSI_COUNT 8

/* I/O ports. */
#define X86_PORT_DEBUG_EXIT 0xf4
#define X86_PORT_COM1	    0x3f8
#define X86_IRQ_COM1	    4
#define X86_PORT_COM2	    0x2f8
#define X86_IRQ_COM2	    3
#define X86_PORT_PCI_CONFIG 0xcf8 /* address at 0xcf8, data at 0xcfc-0xcff */
/*
 * I/O BARs: kvmbox places them from 0xc000 (as SeaBIOS does); a guest may move them down
 * to 0x1000 (Linux's PCIBIOS_MIN_IO), above every ISA and platform port.
 */
#define X86_PCI_IO_START       0xc000
#define X86_PCI_IO_SIZE	       0x4000
#define X86_PCI_IO_MIN	       0x1000
#define X86_PORT_ACPI_PM       0x600 /* PM1a event block (4), PM1a control (2), reset (1) */
#define X86_PORT_ACPI_PM1A_EVT (X86_PORT_ACPI_PM + 0)
#define X86_PORT_ACPI_PM1A_CNT (X86_PORT_ACPI_PM + 4)
#define X86_PORT_ACPI_RESET    (X86_PORT_ACPI_PM + 8)
#define X86_ACPI_RESET_VALUE   0x01
#define X86_ACPI_SLP_TYP_S5    5 /* the value \_S5 in the DSDT announces */
#define X86_IRQ_ACPI_SCI       9
/* Where a BIOS leaves the 8259s' vectors: IRQ 0-7 at 0x08, IRQ 8-15 at 0x70. */
#define X86_PIC_MASTER_BASE 0x08
#define X86_PIC_SLAVE_BASE  0x70

#endif
