/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_ACPI_H
#define KVMBOX_ARCH_X86_ACPI_H

#include "../../util/types.h"

struct acpi_config {
	unsigned int nr_cpus; /* a local APIC entry each, APIC IDs 0..nr_cpus-1 */
	u64 base_gpa;	      /* guest address of buf[0]: tables point at each other absolutely */
	u64 lapic_gpa;
	u64 ioapic_gpa;
	u8 ioapic_id;
	u16 pm1a_evt_port; /* 4 bytes: status, enable */
	u16 pm1a_cnt_port; /* 2 bytes */
	u16 reset_port;	   /* FADT reset register (1 byte, I/O space) */
	u8 reset_value;
	u8 slp_typ_s5; /* SLP_TYP value of \_S5 */
	u8 sci_irq;
};

/*
 * Builds RSDP (at buf[0]), XSDT, FADT (with FACS), DSDT and MADT into buf.
 * Returns the number of bytes used, or -ENOSPC if size is too small.
 * Pure: no guest memory or KVM involved, so it is unit-tested directly.
 */
long acpi_build_tables(u8 *buf, size_t size, const struct acpi_config *cfg);
/* The 8-bit checksum that ACPI wants to be zero over a whole table. */
u8 acpi_checksum(const u8 *p, size_t len);

#endif
