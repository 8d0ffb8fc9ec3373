/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include "types.h"

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __attribute__((packed));

/* The RSDP, found in 0xe0000-0xfffff on a 16-byte boundary; NULL if none. */
void *acpi_find_rsdp(void);
/* A table by signature through the XSDT (or RSDT); NULL if absent or bad checksum. */
struct acpi_header *acpi_find_table(const char *sig);
/* Enabled local APICs (and x2APICs) in the MADT: fills ids, returns the count (-1: no MADT). */
int acpi_madt_cpus(u32 *ids, int max);

/* QEMU's fw_cfg at 0x510/0x511: kvmbox has it too. */
bool fwcfg_present(void);
int fwcfg_cpu_count(void); /* key 0x05; -1 without fw_cfg */
u64 fwcfg_ram_size(void);  /* key 0x03; 0 without fw_cfg */

#endif
