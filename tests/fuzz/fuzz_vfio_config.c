// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/util/log.c src/devices/pci.c src/devices/vfio/config.c src/devices/msix.c tests/fuzz/fake_irq.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for a passed-through device's virtual configuration space: a hostile
 * device (its whole configuration space and BAR region sizes come from the input) and then
 * a hostile guest (conf1 writes and reads of the function). The input:
 *   [0..255]  the device's configuration space, as VFIO's config region would read
 *   [256..261] BAR region sizes: 0 when the byte is 0, else 1 << (byte % 40)
 *   then 6-byte steps: register (1); width 1, 2 or 4 (byte % 3), a write when its bit 7
 *   is set, else a read (1); value (4)
 *
 * Checked: the capability walk ends within its bound with every pointer in range; the
 * MSI capability kvmbox offers fits in the space; the identity matches the device's; the
 * ROM BAR and the hidden BARs read 0 whatever the guest writes; a BAR's address bits below
 * its size stay 0.
 */
#include <string.h>

#include "arch/arch.h"
#include "bus.h"
#include "devices/pci.h"
#include "devices/vfio/vfio.h"
#include "fuzz_access.h"

const struct arch_pci_layout arch_pci_layout = {.mmio_base = 0xc0000000, .mmio_size = 1 * GiB};

bool arch_range_reserved(u64 addr, u64 size)
{
	(void)addr;
	(void)size;
	return false;
}

#define SLOT 2

static void check_cap(void *opaque, const u8 *raw, u8 off, u8 id)
{
	(void)raw;
	(void)id;
	CHECK(off >= PCI_CAP_START && off <= PCI_CONFIG_SIZE - 4 && !(off & 3));
	(*(unsigned int *)opaque)++;
}

static u32 conf_access(struct pci_bus *bus, u32 reg, u32 len, u32 val, bool write)
{
	u8 a[4], d[4] = {0};

	io_data_put(a, 4, 0x80000000u | SLOT << 11 | (reg & 0xfc));
	pci_conf1_io(bus, 0, a, 4, true);
	io_data_put(d, len, val);
	pci_conf1_io(bus, 4 + (reg & 3), d, len, write);
	return (u32)io_data_get(d, len);
}

static void check_function(struct pci_bus *bus, struct pci_function *fn, const u8 *raw)
{
	CHECK(conf_access(bus, PCI_VENDOR_ID, 4, 0, false) ==
	      ((u32)raw[0] | (u32)raw[1] << 8 | (u32)raw[2] << 16 | (u32)raw[3] << 24));
	CHECK(conf_access(bus, PCI_ROM_ADDRESS, 4, 0, false) == 0);
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &fn->bars[i];

		if (b->size)
			CHECK(!(pci_function_bar_addr(fn, i) & (b->size - 1)));
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct pci_function fn;
	struct vfio_cfg_info info;
	struct pci_bus bus;
	u64 bar_size[PCI_NUM_BARS];
	unsigned int n = 0;

	if (size < PCI_CONFIG_SIZE + PCI_NUM_BARS)
		return 0;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		u8 b = data[PCI_CONFIG_SIZE + i];

		bar_size[i] = b ? 1ULL << (b % 40) : 0;
	}
	CHECK(vfio_cap_walk(data, check_cap, &n) <= VFIO_CAP_WALK_MAX);
	if (vfio_config_build(&fn, &info, data, bar_size))
		return 0;
	CHECK(!info.msi_cap ||
	      (info.msi_cap >= PCI_CAP_START && info.msi_cap + 14u <= PCI_CONFIG_SIZE));
	pci_bus_init(&bus);
	CHECK(pci_bus_add(&bus, &fn, SLOT) == SLOT);
	for (size_t at = PCI_CONFIG_SIZE + PCI_NUM_BARS; at + 6 <= size; at += 6) {
		u32 width = 1u << (data[at + 1] % 3);
		u32 reg = data[at] & ~(width - 1);
		u32 val = (u32)data[at + 2] | (u32)data[at + 3] << 8 | (u32)data[at + 4] << 16 |
			  (u32)data[at + 5] << 24;

		conf_access(&bus, reg, width, val, data[at + 1] & 0x80);
		check_function(&bus, &fn, data);
	}
	pci_bus_destroy(&bus);
	return 0;
}
