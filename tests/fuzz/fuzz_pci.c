// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/util/log.c src/devices/pci.c src/devices/msix.c tests/fuzz/fake_irq.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for PCI configuration space and MSI-X: a bus with the host bridge at
 * slot 0 and a function with a 64-bit memory BAR and an MSI-X capability whose table and
 * PBA sit in that BAR, against a fake BAR mapper and a fake MSI-X backend. The input is
 * a header, then a guest's accesses (fuzz_access.h):
 *   [0]  the function's slot (1..31)   [1]  its BAR: 0, 2 or 4
 *   [2]  the BAR's size: 4 KiB << (byte % 20)   [3]  MSI-X vectors: 1 + byte % 64
 * Kinds: 0x00-0x3f conf1 ports 0xcf8-0xcff as they are; 0x40-0x7f a conf1 access to the
 * function (offset bit 8 set) or the bridge at register offset & 0xff, latch first;
 * 0x80-0x9f ECAM (offset bit 31: the function's slot); 0xa0-0xbf the MSI-X table and what
 * follows it; 0xc0-0xcf the PBA; 0xd0-0xdf the device notifies vector offset % 80;
 * 0xe0-0xef a device reset; 0xf0-0xff the backend's routes fail from now on, or work again.
 *
 * Checked after every step: read-only registers keep their values; a BAR is mapped only
 * while memory decoding is on, at the address its registers hold, aligned to its size,
 * and a BAR that decoding wants but is not mapped failed at that very address; MSI-X
 * mirrors Message Control, sends only unmasked vectors while enabled, and keeps no
 * pending bit, vector control bit or message of a vector it does not have.
 */
#include <errno.h>

#include "arch/arch.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "fuzz_access.h"
#include "irq.h"
#include "memory.h"
#include "util/log.h"

#define MSIX_PBA_AT 0x800 /* the table at 0 of the BAR, the PBA after 64 vectors */

const struct arch_pci_layout arch_pci_layout = {.mmio_base = 0xc0000000, .mmio_size = 1 * GiB};

/* The LAPIC and I/O APIC pages, as on x86. */
bool arch_range_reserved(u64 addr, u64 size)
{
	return ranges_overlap(addr, size, 0xfec00000, 0x1000) ||
	       ranges_overlap(addr, size, 0xfee00000, 0x1000);
}

static struct pci_bus bus;
static struct pci_function bridge, fn;
static struct msix msix;
static struct guest_memory ram = {
	.nr = 2,
	.regions = {{.gpa = 0, .size = 3 * GiB}, {.gpa = 4 * GiB, .size = 1 * GiB}},
};
static bool routes_fail;

static int route(struct msix *m, unsigned int v, u64 addr, u32 data)
{
	(void)addr;
	(void)data;
	CHECK(v < m->nr_vectors);
	return routes_fail ? -EIO : 0;
}

static void fire(struct msix *m, unsigned int v)
{
	CHECK(v < m->nr_vectors && m->enabled && !m->func_masked &&
	      !(m->table[v].ctrl & MSIX_ENTRY_MASKED));
}

static const struct msix_backend backend = {.route = route, .fire = fire};

static int bar_map(struct pci_function *f, unsigned int bar, u64 addr)
{
	const struct pci_bar *b = &f->bars[bar];

	CHECK(!b->mapped && b->size && !(addr & (b->size - 1)));
	return pci_bar_range_ok(&ram, addr, b->size) ? 0 : -EEXIST;
}

static void bar_unmap(struct pci_function *f, unsigned int bar, u64 addr)
{
	CHECK(f->bars[bar].size && addr == f->bars[bar].addr);
}

static void config_written(struct pci_function *f, u32 offset, u32 len)
{
	CHECK(f == &fn && offset < PCI_CONFIG_SIZE && len && len <= PCI_CONFIG_SIZE - offset);
	msix_config_written(&msix, offset, len);
}

static void setup(struct fuzz_in *in)
{
	int slot = 1 + fuzz_u8(in) % (PCI_MAX_SLOTS - 1);
	unsigned int bar = fuzz_u8(in) % 3 * 2;
	u64 bar_size = 4 * KiB << (fuzz_u8(in) % 20);

	pci_bus_init(&bus);
	pci_function_init(&bridge, PCI_VENDOR_REDHAT, PCI_DEVICE_REDHAT_HOST,
			  PCI_CLASS_BRIDGE_HOST);
	CHECK(pci_bus_add(&bus, &bridge, 0) == 0);
	pci_function_init(&fn, 0x1af4, 0x1041, 0x0200);
	fn.config_written = config_written;
	fn.bar_map = bar_map;
	fn.bar_unmap = bar_unmap;
	CHECK(pci_function_add_bar64(&fn, bar, bar_size) == 0);
	CHECK(msix_init(&msix, &fn, 1 + fuzz_u8(in) % MSIX_MAX_VECTORS, (u8)bar, 0, MSIX_PBA_AT) ==
	      0);
	msix_set_backend(&msix, &backend, NULL);
	CHECK(pci_bus_add(&bus, &fn, slot) == slot);
	routes_fail = false;
}

/* Port I/O through 0xcf8-0xcff: the bus hands over accesses inside the range only. */
static void conf1(struct fuzz_access *a)
{
	if (fuzz_fits(a, 8))
		pci_conf1_io(&bus, a->offset, fuzz_buf(a), a->len, a->write);
}

/* A configuration access the way firmware makes one: the latch, then the data port. */
static void conf1_select(struct fuzz_access *a)
{
	u32 reg = a->raw & 0xff;
	struct fuzz_access latch = {.write = true, .len = 4};

	latch.offset = 0;
	latch.data[0] = (u8)(reg & 0xfc);
	latch.data[1] = (u8)((a->raw & 0x100 ? fn.slot : 0) << 3);
	latch.data[3] = 0x80;
	conf1(&latch);
	a->offset = 4 + (reg & 3);
	conf1(a);
}

static void ecam(struct fuzz_access *a)
{
	fuzz_place(a, PCI_ECAM_SIZE);
	if (a->raw & BIT(31))
		a->offset = (u64)fn.slot << 15 | (a->raw & 0xfff);
	if (fuzz_fits(a, PCI_ECAM_SIZE))
		pci_ecam_io(&bus, a->offset, fuzz_buf(a), a->len, a->write);
}

static void device_reset(void)
{
	msix_reset(&msix);
	pci_config_set16(&fn, PCI_COMMAND, 0);
	pci_function_update_bars(&fn);
}

static void check_bars(void)
{
	bool decode = pci_config_get16(&fn, PCI_COMMAND) & PCI_COMMAND_MEMORY;

	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &fn.bars[i];
		u64 addr = pci_function_bar_addr(&fn, i);

		CHECK(!b->mapped || (decode && b->addr == addr && !(addr & (b->size - 1))));
		if (b->size && decode && !b->mapped)
			CHECK(b->failed && b->failed_addr == addr);
	}
}

static void check_msix(void)
{
	u16 ctrl = pci_config_get16(&fn, msix.cap + MSIX_CAP_CONTROL);

	CHECK((ctrl & 0x7ff) == msix.nr_vectors - 1);
	CHECK(msix.enabled == !!(ctrl & MSIX_CONTROL_ENABLE));
	CHECK(msix.func_masked == !!(ctrl & MSIX_CONTROL_MASKALL));
	for (unsigned int v = 0; v < MSIX_MAX_VECTORS; v++) {
		const struct msix_entry *e = &msix.table[v];

		CHECK(!(e->ctrl & ~MSIX_ENTRY_MASKED));
		if (v >= msix.nr_vectors)
			CHECK(!msix_pending(&msix, (u16)v) && e->ctrl == MSIX_ENTRY_MASKED &&
			      !e->addr_lo && !e->addr_hi && !e->data);
	}
}

static void check(void)
{
	CHECK(pci_config_get16(&fn, PCI_VENDOR_ID) == 0x1af4);
	CHECK(pci_config_get16(&bridge, PCI_DEVICE_ID) == PCI_DEVICE_REDHAT_HOST);
	CHECK(fn.config[PCI_CAPABILITY_LIST] == msix.cap && fn.config[msix.cap] == PCI_CAP_ID_MSIX);
	check_bars();
	check_msix();
}

static void notify(u16 vector)
{
	bool deliverable;

	msix_notify(&msix, vector);
	if (vector >= msix.nr_vectors || !msix.enabled)
		return;
	deliverable = !msix.func_masked && !(msix.table[vector].ctrl & MSIX_ENTRY_MASKED);
	CHECK(msix_pending(&msix, vector) == !deliverable);
}

static void step(struct fuzz_access *a)
{
	if (a->kind < 0x40) {
		conf1(a);
	} else if (a->kind < 0x80) {
		conf1_select(a);
	} else if (a->kind < 0xa0) {
		ecam(a);
	} else if (a->kind < 0xc0) {
		fuzz_place(a, MSIX_PBA_AT);
		msix_table_io(&msix, a->offset, fuzz_buf(a), a->len, a->write);
	} else if (a->kind < 0xd0) {
		fuzz_place(a, 16);
		msix_pba_io(&msix, a->offset, fuzz_buf(a), a->len, a->write);
	} else if (a->kind < 0xe0) {
		notify((u16)(a->raw % 80));
	} else if (a->kind < 0xf0) {
		device_reset();
	} else {
		routes_fail = !routes_fail;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct fuzz_access a;

	log_level = LOG_ERR; /* every hostile input would log a warning */
	setup(&in);
	while (fuzz_next(&in, &a, 8, 8)) {
		step(&a);
		check();
	}
	device_reset();
	pci_function_unmap_bars(&fn);
	msix_destroy(&msix);
	pci_bus_destroy(&bus);
	return 0;
}
