// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "../bus.h"
#include "pci.h"

#define CONF1_ENABLE  BIT(31)
#define CONF1_BUS(a)  (((a) >> 16) & 0xff)
#define CONF1_SLOT(a) (((a) >> 11) & 0x1f)
#define CONF1_FUNC(a) (((a) >> 8) & 0x7)
#define CONF1_REG(a)  ((a)&0xfc)

void pci_bus_init(struct pci_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
}

void pci_bus_destroy(struct pci_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
}

int pci_bus_add(struct pci_bus *bus, struct pci_function *fn, int slot)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&bus->lock);
	if (slot >= 0 && slot < PCI_MAX_SLOTS && !bus->slots[slot]) {
		ret = slot;
	} else if (slot < 0) {
		for (int i = 0; i < PCI_MAX_SLOTS; i++) {
			if (!bus->slots[i]) {
				ret = i;
				break;
			}
		}
	}
	if (ret >= 0)
		bus->slots[ret] = fn;
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

void pci_config_set16(struct pci_function *fn, u32 offset, u16 v)
{
	fn->config[offset] = (u8)v;
	fn->config[offset + 1] = (u8)(v >> 8);
}

void pci_config_set32(struct pci_function *fn, u32 offset, u32 v)
{
	pci_config_set16(fn, offset, (u16)v);
	pci_config_set16(fn, offset + 2, (u16)(v >> 16));
}

void pci_function_init(struct pci_function *fn, u16 vendor, u16 device, u16 class_code)
{
	memset(fn, 0, sizeof(*fn));
	pci_config_set16(fn, PCI_VENDOR_ID, vendor);
	pci_config_set16(fn, PCI_DEVICE_ID, device);
	pci_config_set16(fn, PCI_CLASS_DEVICE, class_code);
	/* I/O, memory, bus master, INTx disable may be toggled by the driver. */
	fn->wmask[PCI_COMMAND] = 0x07;
	fn->wmask[PCI_COMMAND + 1] = 0x04;
	fn->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

/* The function conf1 addresses, or NULL: only bus 0, function 0 exist. */
static struct pci_function *conf1_target(struct pci_bus *bus)
{
	u32 a = bus->address;

	if (!(a & CONF1_ENABLE) || CONF1_BUS(a) != 0 || CONF1_FUNC(a) != 0)
		return NULL;
	return bus->slots[CONF1_SLOT(a)];
}

static void conf1_data_io(struct pci_bus *bus, u32 byte, u8 *data, u32 len, bool is_write)
{
	struct pci_function *fn = conf1_target(bus);
	u32 reg = CONF1_REG(bus->address) + byte;

	if (!fn || reg + len > PCI_CONFIG_SIZE) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (!is_write) {
		memcpy(data, fn->config + reg, len);
		return;
	}
	for (u32 i = 0; i < len; i++) {
		u8 m = fn->wmask[reg + i];

		fn->config[reg + i] = (fn->config[reg + i] & ~m) | (data[i] & m);
	}
	if (fn->config_written)
		fn->config_written(fn, reg, len);
}

void pci_conf1_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct pci_bus *bus = opaque;

	pthread_mutex_lock(&bus->lock);
	if (offset == 0 && len == 4) {
		/* Only a full dword at 0xcf8 is the address latch; bytes there are other ports. */
		if (is_write)
			bus->address = (u32)io_data_get(data, 4);
		else
			io_data_put(data, 4, bus->address);
	} else if (offset >= 4) {
		conf1_data_io(bus, (u32)offset - 4, data, MIN(len, 8 - (u32)offset), is_write);
	} else if (!is_write) {
		memset(data, 0xff, len);
	}
	pthread_mutex_unlock(&bus->lock);
}
