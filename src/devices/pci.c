// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "../arch/arch.h"
#include "../bus.h"
#include "../memory.h"
#include "pci.h"

#define CONF1_ENABLE  BIT(31)
#define CONF1_BUS(a)  (((a) >> 16) & 0xff)
#define CONF1_SLOT(a) (((a) >> 11) & 0x1f)
#define CONF1_FUNC(a) (((a) >> 8) & 0x7)
#define CONF1_REG(a)  ((a)&0xfc)

#define ECAM_BUS(o)  (((o) >> 20) & 0xff)
#define ECAM_SLOT(o) (((o) >> 15) & 0x1f)
#define ECAM_FUNC(o) (((o) >> 12) & 0x7)

#define PCI_BAR_MIN_SIZE 16
#define PCI_BAR_MAX_SIZE (2 * GiB) /* so the upper dword is all address */

void pci_bus_init(struct pci_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	bus->mmio_next = arch_pci_layout.mmio_base;
	bus->mmio_end = arch_pci_layout.mmio_base + arch_pci_layout.mmio_size;
	bus->io_next = arch_pci_layout.io_base;
	bus->io_end = arch_pci_layout.io_base + arch_pci_layout.io_size;
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
	if (ret >= 0) {
		bus->slots[ret] = fn;
		fn->slot = ret;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

/* Naturally aligned room for size bytes from *next, below end; under the bus lock. */
static int alloc_window(struct pci_bus *bus, u64 *next, u64 end, u64 size, u64 *addr)
{
	int ret = -ENOSPC;
	u64 at;

	if (!size || (size & (size - 1)))
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	at = ALIGN_UP(*next, size);
	if (at >= *next && at < end && size <= end - at) {
		*next = at + size;
		*addr = at;
		ret = 0;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int pci_bus_alloc_mmio(struct pci_bus *bus, u64 size, u64 *addr)
{
	return alloc_window(bus, &bus->mmio_next, bus->mmio_end, size, addr);
}

int pci_bus_alloc_io(struct pci_bus *bus, u64 size, u64 *port)
{
	return alloc_window(bus, &bus->io_next, bus->io_end, size, port);
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

u16 pci_config_get16(const struct pci_function *fn, u32 offset)
{
	return (u16)(fn->config[offset] | fn->config[offset + 1] << 8);
}

u32 pci_config_get32(const struct pci_function *fn, u32 offset)
{
	return pci_config_get16(fn, offset) | (u32)pci_config_get16(fn, offset + 2) << 16;
}

void pci_function_init(struct pci_function *fn, u16 vendor, u16 device, u16 class_code)
{
	memset(fn, 0, sizeof(*fn));
	fn->slot = -1;
	fn->cap_end = PCI_CAP_START;
	pci_config_set16(fn, PCI_VENDOR_ID, vendor);
	pci_config_set16(fn, PCI_DEVICE_ID, device);
	pci_config_set16(fn, PCI_CLASS_DEVICE, class_code);
	/* I/O, memory, bus master, INTx disable may be toggled by the driver. */
	fn->wmask[PCI_COMMAND] = 0x07;
	fn->wmask[PCI_COMMAND + 1] = 0x04;
	fn->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

/* Declares a memory BAR; the caller has checked bar and size. */
static void add_bar(struct pci_function *fn, unsigned int bar, u64 size, bool is64)
{
	u32 reg = PCI_BAR0 + 4 * bar;

	fn->bars[bar] = (struct pci_bar){.size = size, .is64 = is64};
	pci_config_set32(fn, reg, is64 ? PCI_BAR_MEM_TYPE_64 : 0);
	/*
	 * Address bits below the size are hardwired to zero: that is what makes the sizing
	 * dance work, since all-ones written read back as ~(size - 1) plus the flag bits.
	 */
	for (u32 i = 0; i < 4; i++) {
		u32 m = (u32)(~(size - 1) & ~(u64)PCI_BAR_MEM_FLAGS);

		fn->wmask[reg + i] = (u8)(m >> (8 * i));
	}
	if (!is64)
		return;
	/* The upper half is taken: it reads as part of this BAR's address. */
	fn->bars[bar + 1].size = 0;
	pci_config_set32(fn, reg + 4, 0);
	for (u32 i = 0; i < 4; i++)
		fn->wmask[reg + 4 + i] = 0xff;
}

static bool bar_size_ok(u64 size)
{
	return size >= PCI_BAR_MIN_SIZE && size <= PCI_BAR_MAX_SIZE && !(size & (size - 1));
}

int pci_function_add_bar64(struct pci_function *fn, unsigned int bar, u64 size)
{
	if (bar + 1 >= PCI_NUM_BARS || !bar_size_ok(size) || fn->bars[bar].size ||
	    fn->bars[bar + 1].size)
		return -EINVAL;
	add_bar(fn, bar, size, true);
	return 0;
}

int pci_function_add_bar32(struct pci_function *fn, unsigned int bar, u64 size)
{
	if (bar >= PCI_NUM_BARS || !bar_size_ok(size) || fn->bars[bar].size)
		return -EINVAL;
	add_bar(fn, bar, size, false);
	return 0;
}

int pci_function_add_bar_io(struct pci_function *fn, unsigned int bar, u64 size)
{
	u32 reg = PCI_BAR0 + 4 * bar;
	u16 m = (u16)(~(size - 1) & ~(u64)PCI_BAR_IO_FLAGS);

	if (bar >= PCI_NUM_BARS || size < PCI_BAR_IO_MIN_SIZE || size > PCI_BAR_IO_MAX_SIZE ||
	    (size & (size - 1)) || fn->bars[bar].size || !arch_pci_layout.io_size)
		return -EINVAL;
	fn->bars[bar] = (struct pci_bar){.size = size, .is_io = true};
	pci_config_set32(fn, reg, PCI_BAR_IO);
	/* Ports are 16 bits: the upper half is hardwired to 0, as many devices have it. */
	fn->wmask[reg] = (u8)m;
	fn->wmask[reg + 1] = (u8)(m >> 8);
	return 0;
}

static u32 bar_flags_mask(const struct pci_bar *b)
{
	return b->is_io ? PCI_BAR_IO_FLAGS : PCI_BAR_MEM_FLAGS;
}

u64 pci_function_bar_addr(const struct pci_function *fn, unsigned int bar)
{
	u32 reg = PCI_BAR0 + 4 * bar;
	u64 addr;

	if (bar >= PCI_NUM_BARS || !fn->bars[bar].size)
		return 0;
	addr = pci_config_get32(fn, reg) & ~bar_flags_mask(&fn->bars[bar]);
	if (fn->bars[bar].is64)
		addr |= (u64)pci_config_get32(fn, reg + 4) << 32;
	return addr;
}

void pci_function_set_bar_addr(struct pci_function *fn, unsigned int bar, u64 addr)
{
	u32 reg = PCI_BAR0 + 4 * bar;
	u32 flags;

	if (bar >= PCI_NUM_BARS || !fn->bars[bar].size)
		return;
	flags = pci_config_get32(fn, reg) & bar_flags_mask(&fn->bars[bar]);
	addr &= ~(fn->bars[bar].size - 1);
	if (fn->bars[bar].is_io)
		addr &= 0xffff;
	pci_config_set32(fn, reg, (u32)addr | flags);
	if (fn->bars[bar].is64)
		pci_config_set32(fn, reg + 4, (u32)(addr >> 32));
}

static void bar_unmap(struct pci_function *fn, unsigned int i)
{
	struct pci_bar *b = &fn->bars[i];

	if (!b->mapped)
		return;
	b->mapped = false;
	if (fn->bar_unmap)
		fn->bar_unmap(fn, i, b->addr);
}

void pci_function_unmap_bars(struct pci_function *fn)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		bar_unmap(fn, i);
		fn->bars[i].failed = false;
	}
}

static void bar_update(struct pci_function *fn, unsigned int i, bool decode)
{
	struct pci_bar *b = &fn->bars[i];
	u64 addr = pci_function_bar_addr(fn, i);

	if (b->mapped && (!decode || addr != b->addr))
		bar_unmap(fn, i);
	if (!decode || b->mapped || !fn->bar_map)
		return;
	/* An address that failed once is not retried until the guest moves the BAR. */
	if (b->failed && b->failed_addr == addr)
		return;
	if (fn->bar_map(fn, i, addr) == 0) {
		b->mapped = true;
		b->addr = addr;
		b->failed = false;
	} else {
		b->failed = true;
		b->failed_addr = addr;
	}
}

void pci_function_update_bars(struct pci_function *fn)
{
	u16 cmd = pci_config_get16(fn, PCI_COMMAND);

	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		u16 bit = fn->bars[i].is_io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;

		if (fn->bars[i].size)
			bar_update(fn, i, cmd & bit);
	}
}

int pci_function_add_cap(struct pci_function *fn, u8 id, u8 len)
{
	u32 off = ALIGN_UP((u32)fn->cap_end, 4);

	if (len < 2 || off < PCI_CAP_START || off + len > PCI_CONFIG_SIZE)
		return -ENOSPC;
	fn->config[off] = id;
	fn->config[off + 1] = 0;
	if (fn->cap_last)
		fn->config[fn->cap_last + 1] = (u8)off;
	else
		fn->config[PCI_CAPABILITY_LIST] = (u8)off;
	fn->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	fn->cap_last = (u8)off;
	fn->cap_end = (u8)MIN(off + len, 0xffu);
	return (int)off;
}

bool pci_bar_range_ok(const struct guest_memory *mem, u64 addr, u64 size)
{
	if (!size || addr + (size - 1) < addr)
		return false;
	for (unsigned int i = 0; i < mem->nr; i++) {
		if (ranges_overlap(addr, size, mem->regions[i].gpa, mem->regions[i].size))
			return false;
	}
	return !arch_range_reserved(addr, size);
}

bool pci_io_bar_range_ok(u64 port, u64 size)
{
	u64 end = arch_pci_layout.io_base + arch_pci_layout.io_size;

	return size && port >= arch_pci_layout.io_min && port < end && size <= end - port;
}

/* The function conf1 addresses, or NULL: only bus 0, function 0 exist. */
static struct pci_function *conf1_target(struct pci_bus *bus)
{
	u32 a = bus->address;

	if (!(a & CONF1_ENABLE) || CONF1_BUS(a) != 0 || CONF1_FUNC(a) != 0)
		return NULL;
	return bus->slots[CONF1_SLOT(a)];
}

static bool touches(u32 reg, u32 len, u32 start, u32 end)
{
	return reg < end && start < reg + len;
}

static void config_write(struct pci_function *fn, u32 reg, const u8 *data, u32 len)
{
	for (u32 i = 0; i < len; i++) {
		u8 m = fn->wmask[reg + i];

		/*
		 * Read-only bytes are left alone entirely: a device may update some of them
		 * (the interrupt status bit) atomically from its own threads.
		 */
		if (m)
			fn->config[reg + i] = (fn->config[reg + i] & ~m) | (data[i] & m);
	}
	if (touches(reg, len, PCI_COMMAND, PCI_COMMAND + 2) ||
	    touches(reg, len, PCI_BAR0, PCI_BAR_END))
		pci_function_update_bars(fn);
	if (fn->config_written)
		fn->config_written(fn, reg, len);
}

/* A configuration access to fn (NULL: nothing there) at reg; called with the bus lock. */
static void config_io(struct pci_function *fn, u32 reg, u8 *data, u32 len, bool is_write)
{
	if (!fn || reg + len > PCI_CONFIG_SIZE) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write) {
		config_write(fn, reg, data, len);
		return;
	}
	if (fn->config_read)
		fn->config_read(fn, reg, len);
	for (u32 i = 0; i < len; i++)
		data[i] = __atomic_load_n(&fn->config[reg + i], __ATOMIC_RELAXED);
}

static void conf1_data_io(struct pci_bus *bus, u32 byte, u8 *data, u32 len, bool is_write)
{
	config_io(conf1_target(bus), CONF1_REG(bus->address) + byte, data, len, is_write);
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

void pci_ecam_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct pci_bus *bus = opaque;
	u32 reg = (u32)(offset & 0xfff);
	struct pci_function *fn = NULL;

	/* Only bus 0, function 0 of each slot exist; accesses never cross a dword. */
	pthread_mutex_lock(&bus->lock);
	if (ECAM_BUS(offset) == 0 && ECAM_FUNC(offset) == 0 && (reg & 3) + len <= 4)
		fn = bus->slots[ECAM_SLOT(offset)];
	if (fn && reg >= PCI_CONFIG_SIZE) {
		/* PCIe extended space: implemented as empty, so no extended capabilities. */
		if (!is_write)
			memset(data, 0, len);
	} else {
		config_io(fn, reg, data, len, is_write);
	}
	pthread_mutex_unlock(&bus->lock);
}
