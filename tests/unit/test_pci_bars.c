// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI BARs through conf1, on a function of its own with no device behind it: sizing,
 * mapping as COMMAND.MEM and the BAR address change, the capability list, where a BAR
 * may go, and the MMIO window's allocator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "arch/x86/layout.h"
#include "devices/pci.h"
#include "memory.h"
#include "pci_conf1.h"

struct bar_log {
	unsigned int maps, unmaps;
	u64 last_map, last_unmap;
	int map_ret;
};

static int log_map(struct pci_function *fn, unsigned int bar, u64 addr)
{
	struct bar_log *l = fn->opaque;

	assert_int_equal(bar, 4);
	if (l->map_ret)
		return l->map_ret;
	l->maps++;
	l->last_map = addr;
	return 0;
}

static void log_unmap(struct pci_function *fn, unsigned int bar, u64 addr)
{
	struct bar_log *l = fn->opaque;

	assert_int_equal(bar, 4);
	l->unmaps++;
	l->last_unmap = addr;
}

/* A function with a 64-bit BAR 4 of size at addr whose (un)mappings go to log. */
static void logged_function(struct pci_bus *bus, struct pci_function *fn, struct bar_log *log,
			    u64 size, u64 addr)
{
	pci_bus_init(bus);
	pci_function_init(fn, 0x1af4, 0x1044, 0x00ff);
	fn->opaque = log;
	fn->bar_map = log_map;
	fn->bar_unmap = log_unmap;
	assert_int_equal(pci_function_add_bar64(fn, 4, size), 0);
	pci_function_set_bar_addr(fn, 4, addr);
}

/* Sizing: all-ones in, ~(size - 1) plus the type bits out; the old value restored. */
static void test_bar_sizing(void **state)
{
	struct pci_bus bus;
	struct pci_function fn;
	struct bar_log log = {0};

	(void)state;
	logged_function(&bus, &fn, &log, 0x8000, 0xc0008000);
	assert_int_equal(pci_bus_add(&bus, &fn, 2), 2);
	assert_int_equal(cfg_read(&bus, 2, PCI_BAR0 + 16, 4), 0xc0008000 | PCI_BAR_MEM_TYPE_64);
	cfg_write(&bus, 2, PCI_BAR0 + 16, 0xffffffff, 4);
	cfg_write(&bus, 2, PCI_BAR0 + 20, 0xffffffff, 4);
	assert_int_equal(cfg_read(&bus, 2, PCI_BAR0 + 16, 4), 0xffff8000 | PCI_BAR_MEM_TYPE_64);
	assert_int_equal(cfg_read(&bus, 2, PCI_BAR0 + 20, 4), 0xffffffff);
	cfg_write(&bus, 2, PCI_BAR0 + 16, 0xc0008000, 4);
	cfg_write(&bus, 2, PCI_BAR0 + 20, 0, 4);
	assert_int_equal(pci_function_bar_addr(&fn, 4), 0xc0008000);
	/* Decoding was off throughout: nothing was mapped. */
	assert_int_equal(log.maps, 0);
	/* Unimplemented BARs and the ROM BAR read 0 whatever is written. */
	for (u32 reg = PCI_BAR0; reg < PCI_BAR0 + 16; reg += 4) {
		cfg_write(&bus, 2, reg, 0xffffffff, 4);
		assert_int_equal(cfg_read(&bus, 2, reg, 4), 0);
	}
	cfg_write(&bus, 2, 0x30, 0xffffffff, 4);
	assert_int_equal(cfg_read(&bus, 2, 0x30, 4), 0);
	/* Bad BAR declarations. */
	assert_int_equal(pci_function_add_bar64(&fn, 4, 0x8000), -EINVAL);
	assert_int_equal(pci_function_add_bar64(&fn, 5, 0x8000), -EINVAL);
	assert_int_equal(pci_function_add_bar64(&fn, 0, 0x3000), -EINVAL);
	assert_int_equal(pci_function_add_bar64(&fn, 0, 8), -EINVAL);
	pci_bus_destroy(&bus);
}

/* COMMAND.MEM maps; moving the BAR remaps; clearing MEM unmaps; failures are not retried. */
static void test_bar_remap(void **state)
{
	struct pci_bus bus;
	struct pci_function fn;
	struct bar_log log = {0};

	(void)state;
	logged_function(&bus, &fn, &log, 0x4000, 0xc0000000);
	pci_bus_add(&bus, &fn, 1);
	cfg_write(&bus, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(log.maps, 1);
	assert_int_equal(log.last_map, 0xc0000000);
	/* A 64-bit move, one half at a time: unmapped, then mapped at each new address. */
	cfg_write(&bus, 1, PCI_BAR0 + 20, 0x1, 4);
	assert_int_equal(log.unmaps, 1);
	assert_int_equal(log.last_unmap, 0xc0000000);
	assert_int_equal(log.last_map, 0x1c0000000ULL);
	cfg_write(&bus, 1, PCI_BAR0 + 16, 0x12345678, 4);
	assert_int_equal(log.last_map, 0x112344000ULL); /* low bits are hardwired to 0 */
	assert_int_equal(log.maps, 3);
	/* Writes that change nothing do not remap. */
	cfg_write(&bus, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	cfg_write(&bus, 1, PCI_INTERRUPT_LINE, 5, 1);
	assert_int_equal(log.maps, 3);
	cfg_write(&bus, 1, PCI_COMMAND, 0, 2);
	assert_int_equal(log.unmaps, 3);
	assert_false(fn.bars[4].mapped);
	/* A refused address stays unmapped, and is not retried until the BAR moves. */
	log.map_ret = -EEXIST;
	cfg_write(&bus, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	log.map_ret = 0;
	cfg_write(&bus, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	assert_int_equal(log.maps, 3);
	cfg_write(&bus, 1, PCI_BAR0 + 20, 0, 4);
	assert_int_equal(log.maps, 4);
	pci_function_unmap_bars(&fn);
	assert_int_equal(log.unmaps, 4);
	pci_bus_destroy(&bus);
}

static void test_caps_and_ranges(void **state)
{
	struct pci_function fn;
	struct guest_memory mem;
	int a, b;

	(void)state;
	pci_function_init(&fn, 1, 2, 3);
	a = pci_function_add_cap(&fn, 0x09, 16);
	b = pci_function_add_cap(&fn, 0x11, 12);
	assert_int_equal(a, 0x40);
	assert_int_equal(b, 0x50);
	assert_int_equal(fn.config[PCI_CAPABILITY_LIST], 0x40);
	assert_int_equal(fn.config[0x41], 0x50);
	assert_int_equal(fn.config[0x51], 0);
	assert_true(fn.config[PCI_STATUS] & PCI_STATUS_CAP_LIST);
	while (pci_function_add_cap(&fn, 0x09, 20) > 0)
		;
	assert_int_equal(pci_function_add_cap(&fn, 0x09, 20), -ENOSPC);

	assert_int_equal(guest_memory_layout(&mem, 4 * GiB, X86_MMIO_HOLE_START), 0);
	assert_true(pci_bar_range_ok(&mem, X86_PCI_MMIO_START, 0x8000));
	assert_false(pci_bar_range_ok(&mem, 0, 0x8000));
	assert_false(pci_bar_range_ok(&mem, X86_PCI_MMIO_START - 0x1000, 0x8000));
	assert_false(pci_bar_range_ok(&mem, 4 * GiB, 0x8000)); /* RAM above 4G */
	assert_true(pci_bar_range_ok(&mem, 5 * GiB, 0x8000));
	assert_false(pci_bar_range_ok(&mem, X86_IOAPIC_GPA - 0x4000, 0x8000));
	assert_false(pci_bar_range_ok(&mem, X86_LAPIC_GPA, 0x8000));
	assert_false(pci_bar_range_ok(&mem, ~0ULL - 0x3fff, 0x8000));
	assert_false(pci_bar_range_ok(&mem, X86_PCI_MMIO_START, 0));
}

static void test_mmio_alloc(void **state)
{
	struct pci_bus bus;
	u64 a, b, c;

	(void)state;
	pci_bus_init(&bus);
	assert_int_equal(pci_bus_alloc_mmio(&bus, 0x1000, &a), 0);
	assert_int_equal(pci_bus_alloc_mmio(&bus, 0x8000, &b), 0);
	assert_int_equal(pci_bus_alloc_mmio(&bus, 0x1000, &c), 0);
	assert_int_equal(a, X86_PCI_MMIO_START);
	assert_int_equal(b, X86_PCI_MMIO_START + 0x8000); /* naturally aligned */
	assert_int_equal(c, X86_PCI_MMIO_START + 0x10000);
	assert_int_equal(pci_bus_alloc_mmio(&bus, 0x3000, &a), -EINVAL);
	assert_int_equal(pci_bus_alloc_mmio(&bus, X86_PCI_MMIO_SIZE, &a), -ENOSPC);
	pci_bus_destroy(&bus);
}

static u32 ecam_read(struct pci_bus *bus, u64 off, u32 len)
{
	u8 d[4] = {0};

	pci_ecam_io(bus, off, d, len, false);
	return (u32)d[0] | (u32)d[1] << 8 | (u32)d[2] << 16 | (u32)d[3] << 24;
}

#define ECAM(bus, slot, fn, reg) ((u64)(bus) << 20 | (slot) << 15 | (fn) << 12 | (reg))

/* ECAM reaches the same functions as conf1; what is not there reads as all ones. */
static void test_ecam(void **state)
{
	struct pci_bus bus;
	struct pci_function fn;
	u8 cmd[2] = {PCI_COMMAND_MEMORY, 0};

	(void)state;
	pci_bus_init(&bus);
	pci_function_init(&fn, 0x1af4, 0x1042, 0x0100);
	assert_int_equal(pci_bus_add(&bus, &fn, 3), 3);
	assert_int_equal(ecam_read(&bus, ECAM(0, 3, 0, PCI_VENDOR_ID), 4), 0x10421af4);
	assert_int_equal(ecam_read(&bus, ECAM(0, 3, 0, PCI_DEVICE_ID), 2), 0x1042);
	assert_int_equal(ecam_read(&bus, ECAM(0, 4, 0, 0), 4), 0xffffffff);
	assert_int_equal(ecam_read(&bus, ECAM(0, 3, 1, 0), 4), 0xffffffff);
	assert_int_equal(ecam_read(&bus, ECAM(1, 3, 0, 0), 4), 0xffffffff);
	/* Extended space of a function that exists: empty, so no extended capabilities. */
	assert_int_equal(ecam_read(&bus, ECAM(0, 3, 0, 0x100), 4), 0);
	assert_int_equal(ecam_read(&bus, ECAM(0, 3, 0, 0xffc), 4), 0);
	/* Across a dword: refused. */
	assert_int_equal(ecam_read(&bus, ECAM(0, 3, 0, 2), 4), 0xffffffff);
	pci_ecam_io(&bus, ECAM(0, 3, 0, PCI_COMMAND), cmd, 2, true);
	assert_int_equal(pci_config_get16(&fn, PCI_COMMAND), PCI_COMMAND_MEMORY);
	/* Writes to what is not there go nowhere. */
	pci_ecam_io(&bus, ECAM(0, 5, 0, PCI_COMMAND), cmd, 2, true);
	pci_ecam_io(&bus, ECAM(0, 3, 0, 0x200), cmd, 2, true);
	pci_bus_destroy(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bar_sizing),
		cmocka_unit_test(test_bar_remap),
		cmocka_unit_test(test_caps_and_ranges),
		cmocka_unit_test(test_mmio_alloc),
		cmocka_unit_test(test_ecam),
	};

	return cmocka_run_group_tests_name("pci_bars", tests, NULL, NULL);
}
