/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_FW_CFG_H
#define KVMBOX_DEVICES_FW_CFG_H

#include "device.h"

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID	 0x01
#define FW_CFG_RAM_SIZE	 0x03
#define FW_CFG_NB_CPUS	 0x05
#define FW_CFG_MAX_CPUS	 0x0f
#define FW_CFG_FILE_DIR	 0x19
#define FW_CFG_MAX_KEY	 0x20

/*
 * QEMU's firmware configuration interface, the traditional I/O form only (no DMA):
 * a 16-bit selector at port 0x510 and a byte-wide data port at 0x511. Test guests
 * such as kvm-unit-tests read the CPU count and RAM size from it.
 */
struct fw_cfg_items {
	u8 data[FW_CFG_MAX_KEY][8];
	u8 len[FW_CFG_MAX_KEY];
};

/* Fills the items a VM with nr_cpus and ram_size offers. Pure, for unit tests. */
void fw_cfg_items_init(struct fw_cfg_items *items, unsigned int nr_cpus, u64 ram_size);
/* Reads one byte of key at offset: 0 past the end of an item or for unknown keys. */
u8 fw_cfg_items_read(const struct fw_cfg_items *items, u16 key, u32 offset);

extern const struct device_ops fw_cfg_ops;

#endif
