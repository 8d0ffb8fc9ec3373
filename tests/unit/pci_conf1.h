/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI configuration space through the conf1 mechanism (an address write, then the data
 * port), the way firmware and drivers reach it. For the unit tests of PCI functions.
 */
#ifndef KVMBOX_TESTS_UNIT_PCI_CONF1_H
#define KVMBOX_TESTS_UNIT_PCI_CONF1_H

#include "bus.h"
#include "devices/pci.h"

static inline void conf1_select(struct pci_bus *bus, unsigned int slot, u32 reg)
{
	u8 a[4];

	io_data_put(a, 4, 0x80000000u | slot << 11 | (reg & 0xfc));
	pci_conf1_io(bus, 0, a, 4, true);
}

static inline void cfg_write(struct pci_bus *bus, unsigned int slot, u32 reg, u32 val, u32 len)
{
	u8 d[4];

	conf1_select(bus, slot, reg);
	io_data_put(d, len, val);
	pci_conf1_io(bus, 4 + (reg & 3), d, len, true);
}

static inline u32 cfg_read(struct pci_bus *bus, unsigned int slot, u32 reg, u32 len)
{
	u8 d[4] = {0};

	conf1_select(bus, slot, reg);
	pci_conf1_io(bus, 4 + (reg & 3), d, len, false);
	return (u32)io_data_get(d, len);
}

#endif
