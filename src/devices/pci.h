/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_PCI_H
#define KVMBOX_DEVICES_PCI_H

#include <pthread.h>

#include "../util/types.h"

struct guest_memory;

#define PCI_MAX_SLOTS	32
#define PCI_CONFIG_SIZE 256
#define PCI_NUM_BARS	6

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_BAR_END		0x28 /* one past BAR5 */
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_ROM_ADDRESS		0x30
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CAP_START		0x40 /* capabilities live after the type 0 header */

#define PCI_COMMAND_IO		 0x0001
#define PCI_COMMAND_MEMORY	 0x0002
#define PCI_COMMAND_MASTER	 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT	 0x08 /* in the low byte of STATUS */
#define PCI_STATUS_CAP_LIST	 0x10

/* Low bits of a memory BAR: read-only, they describe it. */
#define PCI_BAR_MEM_TYPE_64  0x04
#define PCI_BAR_MEM_PREFETCH 0x08
#define PCI_BAR_MEM_FLAGS    0x0f
/* Of an I/O BAR: bit 0 says so, bit 1 is reserved. */
#define PCI_BAR_IO	    0x01
#define PCI_BAR_IO_FLAGS    0x03
#define PCI_BAR_IO_MIN_SIZE 4
#define PCI_BAR_IO_MAX_SIZE 256 /* the PCI specification's limit */

#define PCI_CAP_ID_MSI	0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

#define PCI_VENDOR_REDHAT      0x1b36
#define PCI_DEVICE_REDHAT_HOST 0x0008 /* a generic PCIe host bridge ID, as QEMU's */
#define PCI_CLASS_BRIDGE_HOST  0x0600

/*
 * INTx wiring of the root bus: the wired interrupt line (see irq_line.h) that pin p
 * (0 = INTA) of slot s drives. The board decides and tells the guest (the ACPI _PRT on x86,
 * the interrupt-map of the device tree on arm64); arch code defines it.
 */
u32 pci_intx_gsi(unsigned int slot, unsigned int pin);

/* A BAR of a function: its size and where it is mapped now. */
struct pci_bar {
	u64 size; /* a power of 2; 0: the BAR is not implemented */
	bool is64;
	bool is_io; /* ports, decoded with COMMAND.IO; else memory, with COMMAND.MEM */
	bool mapped;
	u64 addr;	 /* where it is mapped, while mapped */
	u64 failed_addr; /* the last address mapping failed at, not retried */
	bool failed;
};

/*
 * One PCI function: its configuration space and which bits of it the guest may write.
 * config_written is told after every guest write, so a device can follow command-register
 * or capability changes; config_read (optional) runs before a guest read, so a device can
 * refresh registers it computes. Both run with the bus lock held.
 *
 * BARs are handled here: when COMMAND.MEM (COMMAND.IO for an I/O BAR) and the BAR address
 * allow it, bar_map() is asked to map the BAR at its address, and bar_unmap() to remove it
 * again before it moves or decoding is turned off. bar_map() returns 0 or a negative errno (the BAR then
 * stays unmapped until the guest programs another address).
 */
struct pci_function {
	u8 config[PCI_CONFIG_SIZE];
	u8 wmask[PCI_CONFIG_SIZE];
	void (*config_written)(struct pci_function *fn, u32 offset, u32 len);
	void (*config_read)(struct pci_function *fn, u32 offset, u32 len);
	int (*bar_map)(struct pci_function *fn, unsigned int bar, u64 addr);
	void (*bar_unmap)(struct pci_function *fn, unsigned int bar, u64 addr);
	void *opaque;
	struct pci_bar bars[PCI_NUM_BARS];
	u8 cap_end;  /* where the next capability goes */
	u8 cap_last; /* the last capability in the list, 0 if none */
	int slot;    /* on the bus, -1 until added */
};

struct pci_bus {
	pthread_mutex_t lock;
	u32 address; /* the 0xcf8 latch */
	struct pci_function *slots[PCI_MAX_SLOTS];
	u64 mmio_next, mmio_end; /* what kvmbox has not yet given to BARs */
	u64 io_next, io_end;	 /* the same for I/O BARs */
};

void pci_bus_init(struct pci_bus *bus);
void pci_bus_destroy(struct pci_bus *bus);
/* Puts a function in the first free slot (or slot if >= 0). Returns the slot or -ENOSPC. */
int pci_bus_add(struct pci_bus *bus, struct pci_function *fn, int slot);
/* Configuration mechanism #1: the bus handler for ports 0xcf8-0xcff. */
#define PCI_CONF1_PORT 0xcf8
void pci_conf1_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);
/* ECAM (PCIe enhanced configuration): the bus handler for a 256 MiB MMIO window. */
#define PCI_ECAM_SIZE (256 * MiB)
void pci_ecam_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);
/*
 * Picks the address kvmbox (acting as the firmware) gives a BAR of size bytes, naturally
 * aligned inside the bus's MMIO window. Returns 0 or -ENOSPC.
 */
int pci_bus_alloc_mmio(struct pci_bus *bus, u64 size, u64 *addr);
/* The same for an I/O BAR, in the board's port window (arch_pci_layout.io_base). */
int pci_bus_alloc_io(struct pci_bus *bus, u64 size, u64 *port);

void pci_function_init(struct pci_function *fn, u16 vendor, u16 device, u16 class_code);
void pci_config_set16(struct pci_function *fn, u32 offset, u16 v);
void pci_config_set32(struct pci_function *fn, u32 offset, u32 v);
u16 pci_config_get16(const struct pci_function *fn, u32 offset);
u32 pci_config_get32(const struct pci_function *fn, u32 offset);

/*
 * Declares a 64-bit memory BAR (taking bar and bar + 1) of size bytes, a power of 2 from
 * 16 bytes to 2 GiB. The guest sizes it the usual way: all-ones written, ~(size - 1) | flags
 * read back. Returns 0 or -EINVAL.
 */
int pci_function_add_bar64(struct pci_function *fn, unsigned int bar, u64 size);
/* The same for a 32-bit memory BAR (one register), as passed-through devices have. */
int pci_function_add_bar32(struct pci_function *fn, unsigned int bar, u64 size);
/*
 * Declares an I/O BAR of size bytes, a power of 2 from 4 to 256, with a 16-bit port
 * address (the upper half of the register reads 0). Returns 0, or -EINVAL (also when the
 * board has no port space: arch_pci_layout.io_size 0).
 */
int pci_function_add_bar_io(struct pci_function *fn, unsigned int bar, u64 size);
/* The address the BAR registers hold now (whether or not it is mapped). */
u64 pci_function_bar_addr(const struct pci_function *fn, unsigned int bar);
/* Sets the BAR registers, as firmware would; mapping follows with the next update. */
void pci_function_set_bar_addr(struct pci_function *fn, unsigned int bar, u64 addr);
/*
 * Brings the BAR mappings in line with COMMAND.MEM and the BAR registers. conf1 calls it
 * after guest writes; devices call it after changing the registers themselves (reset).
 */
void pci_function_update_bars(struct pci_function *fn);
/* Unmaps every BAR (device teardown or reset). */
void pci_function_unmap_bars(struct pci_function *fn);
/*
 * Appends a capability of len bytes (header included) to the capability list. Returns its
 * offset in configuration space, or -ENOSPC.
 */
int pci_function_add_cap(struct pci_function *fn, u8 id, u8 len);
/*
 * Whether [addr, addr + size) may hold a BAR: no wrap, no guest RAM, none of the platform's
 * fixed ranges (arch_range_reserved(): on x86 LAPIC, I/O APIC, KVM's private pages). Overlaps with other devices are
 * caught by bus_register().
 */
bool pci_bar_range_ok(const struct guest_memory *mem, u64 addr, u64 size);
/* Whether ports [port, port + size) may hold an I/O BAR: inside the board's port window. */
bool pci_io_bar_range_ok(u64 port, u64 size);

#endif
