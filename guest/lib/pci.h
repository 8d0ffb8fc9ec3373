/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

/* PCI configuration mechanism #1: address at 0xcf8, data at 0xcfc. */

#include "processor.h"

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc

static inline u32 pci_conf_addr(int bus, int dev, int fn, int reg)
{
	return 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xfc);
}

static inline u32 pci_conf_read32(int bus, int dev, int fn, int reg)
{
	outl(PCI_CONF_ADDR, pci_conf_addr(bus, dev, fn, reg));
	return inl(PCI_CONF_DATA);
}

static inline void pci_conf_write32(int bus, int dev, int fn, int reg, u32 v)
{
	outl(PCI_CONF_ADDR, pci_conf_addr(bus, dev, fn, reg));
	outl(PCI_CONF_DATA, v);
}

#endif
