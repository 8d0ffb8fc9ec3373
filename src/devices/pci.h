/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_PCI_H
#define KVMBOX_DEVICES_PCI_H

#include <pthread.h>

#include "../util/types.h"

#define PCI_MAX_SLOTS	32
#define PCI_CONFIG_SIZE 256

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_VENDOR_REDHAT      0x1b36
#define PCI_DEVICE_REDHAT_HOST 0x0008 /* a generic PCIe host bridge ID, as QEMU's */
#define PCI_CLASS_BRIDGE_HOST  0x0600

/*
 * One PCI function: its configuration space and which bits of it the guest may write.
 * config_written is told after every guest write, so a device can follow BAR or
 * command-register changes.
 */
struct pci_function {
	u8 config[PCI_CONFIG_SIZE];
	u8 wmask[PCI_CONFIG_SIZE];
	void (*config_written)(struct pci_function *fn, u32 offset, u32 len);
	void *opaque;
};

struct pci_bus {
	pthread_mutex_t lock;
	u32 address; /* the 0xcf8 latch */
	struct pci_function *slots[PCI_MAX_SLOTS];
};

void pci_bus_init(struct pci_bus *bus);
void pci_bus_destroy(struct pci_bus *bus);
/* Puts a function in the first free slot (or slot if >= 0). Returns the slot or -ENOSPC. */
int pci_bus_add(struct pci_bus *bus, struct pci_function *fn, int slot);
/* Configuration mechanism #1: the bus handler for ports 0xcf8-0xcff. */
void pci_conf1_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);

void pci_function_init(struct pci_function *fn, u16 vendor, u16 device, u16 class_code);
void pci_config_set16(struct pci_function *fn, u32 offset, u16 v);
void pci_config_set32(struct pci_function *fn, u32 offset, u32 v);

#endif
