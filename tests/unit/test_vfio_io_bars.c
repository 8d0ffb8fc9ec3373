// SPDX-License-Identifier: GPL-2.0-only
/*
 * A passed-through device's I/O BARs on the port bus, with a fake device: a memfd stands in
 * for the VFIO device fd (its regions at their offsets, as VFIO_DEVICE_GET_REGION_INFO
 * would give them), so every forwarded access shows up as bytes in the file. Checked:
 * accesses reach the right region and offset, nothing outside a region is touched, a BAR
 * moved by the guest is unmapped from its old ports, a port outside the window or with
 * COMMAND.IO off maps nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "devices/vfio/vfio.h"
#include "pci_conf1.h"
#include "vm.h"

#define CFG_OFF	 0x10000 /* the config region's offset in the fake fd */
#define BAR0_OFF 0x20000
#define BAR1_OFF 0x30000
#define SLOT	 3

struct fixture {
	struct vm vm;
	struct pci_bus bus;
	struct vfio_dev vd;
};

static void put32(u8 *raw, u32 off, u32 v)
{
	for (unsigned int i = 0; i < 4; i++)
		raw[off + i] = (u8)(v >> (8 * i));
}

/* mtty's dual-port card: BAR0 an 8-byte port region, BAR1 a 2-byte one (a 4-byte BAR). */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vfio_dev *vd = &f->vd;
	u64 bar_size[PCI_NUM_BARS] = {8, 2};

	if (!arch_pci_layout.io_size) {
		free(f);
		*state = NULL;
		return 0;
	}
	bus_init(&f->vm.pio_bus, "pio");
	bus_init(&f->vm.mmio_bus, "mmio");
	pci_bus_init(&f->bus);
	f->vm.pci = &f->bus;
	vd->vm = &f->vm;
	snprintf(vd->name, sizeof(vd->name), "fake");
	vd->fd = memfd_create("vfio-fake", MFD_CLOEXEC);
	assert_true(vd->fd >= 0);
	assert_int_equal(ftruncate(vd->fd, 0x40000), 0);
	vd->regions[0] = (struct vfio_region){8, BAR0_OFF, VFIO_REGION_INFO_FLAG_READ};
	vd->regions[1] = (struct vfio_region){2, BAR1_OFF, VFIO_REGION_INFO_FLAG_READ};
	vd->regions[VFIO_PCI_CONFIG_REGION_INDEX] = (struct vfio_region){256, CFG_OFF, 0};
	put32(vd->raw_config, PCI_VENDOR_ID, 0x32534348);
	put32(vd->raw_config, PCI_BAR0, 1);
	put32(vd->raw_config, PCI_BAR0 + 4, 1);
	assert_int_equal(vfio_config_build(&vd->fn, &vd->info, vd->raw_config, bar_size), 0);
	vd->fn.opaque = vd;
	assert_int_equal(vfio_bars_setup(vd), 0);
	assert_int_equal(pci_bus_add(&f->bus, &vd->fn, SLOT), SLOT);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	vfio_bars_teardown(&f->vd);
	close(f->vd.fd);
	pci_bus_destroy(&f->bus);
	bus_destroy(&f->vm.pio_bus);
	bus_destroy(&f->vm.mmio_bus);
	free(f);
	return 0;
}

static struct fixture *fixture_of(void **state)
{
	if (!*state)
		skip(); /* a board without port space hides I/O BARs */
	return *state;
}

static u8 file_byte(struct fixture *f, off_t off)
{
	u8 b = 0;

	assert_int_equal(pread(f->vd.fd, &b, 1, off), 1);
	return b;
}

static bool port_io(struct fixture *f, u64 port, u32 *val, u32 len, bool is_write)
{
	u8 d[4] = {0};
	bool hit;

	io_data_put(d, len, *val);
	hit = bus_dispatch(&f->vm.pio_bus, port, d, len, is_write);
	if (!is_write)
		*val = (u32)io_data_get(d, len);
	return hit;
}

static void io_enable(struct fixture *f, bool on)
{
	cfg_write(&f->bus, SLOT, PCI_COMMAND, on ? PCI_COMMAND_IO : 0, 2);
}

static void test_firmware_ports_and_forwarding(void **state)
{
	struct fixture *f = fixture_of(state);
	u64 p0 = pci_function_bar_addr(&f->vd.fn, 0), p1 = pci_function_bar_addr(&f->vd.fn, 1);
	u32 v;

	/* kvmbox placed both in the port window, naturally aligned, apart. */
	assert_true(p0 >= arch_pci_layout.io_base && !(p0 & 7));
	assert_true(p1 >= arch_pci_layout.io_base && !(p1 & 3) && p1 != p0);
	/* No decoding before the guest sets COMMAND.IO; COMMAND.MEM is not enough. */
	v = 0x5a;
	assert_false(port_io(f, p0 + 3, &v, 1, true));
	cfg_write(&f->bus, SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_false(port_io(f, p0 + 3, &v, 1, true));
	io_enable(f, true);
	/* The command register reached the device too. */
	assert_int_equal(file_byte(f, CFG_OFF + PCI_COMMAND), PCI_COMMAND_IO);
	assert_true(port_io(f, p0 + 3, &v, 1, true));
	assert_int_equal(file_byte(f, BAR0_OFF + 3), 0x5a);
	v = 0xa1b2c3d4;
	assert_true(port_io(f, p0 + 4, &v, 4, true));
	assert_int_equal(file_byte(f, BAR0_OFF + 7), 0xa1);
	v = 0;
	assert_true(port_io(f, p0 + 4, &v, 2, false));
	assert_int_equal(v, 0xc3d4);
	/* BAR1 is its own region. */
	v = 0x77;
	assert_true(port_io(f, p1 + 1, &v, 1, true));
	assert_int_equal(file_byte(f, BAR1_OFF + 1), 0x77);
	assert_int_equal(file_byte(f, BAR0_OFF + 1), 0);
}

static void test_forwarding_bounds(void **state)
{
	struct fixture *f = fixture_of(state);
	u64 p1 = pci_function_bar_addr(&f->vd.fn, 1);
	u32 v;

	io_enable(f, true);
	/* BAR1 decodes 4 ports but its region has 2 bytes: the rest reads all-ones. */
	assert_int_equal(f->vd.fn.bars[1].size, 4);
	v = 0x99;
	assert_true(port_io(f, p1 + 2, &v, 1, true));
	assert_int_equal(file_byte(f, BAR1_OFF + 2), 0);
	v = 0;
	assert_true(port_io(f, p1 + 2, &v, 2, false));
	assert_int_equal(v, 0xffff);
	/* One straddling the region's end is refused whole, not cut. */
	v = 0x1122;
	assert_true(port_io(f, p1 + 1, &v, 2, true));
	assert_int_equal(file_byte(f, BAR1_OFF + 1), 0);
	assert_int_equal(file_byte(f, BAR1_OFF + 2), 0);
	v = 0;
	assert_true(port_io(f, p1 + 1, &v, 2, false));
	assert_int_equal(v, 0xffff);
	/* Past the BAR is not the BAR's. */
	assert_false(port_io(f, p1 + 4, &v, 1, false));
}

static void test_move_unmaps(void **state)
{
	struct fixture *f = fixture_of(state);
	u64 p0 = pci_function_bar_addr(&f->vd.fn, 0);
	u64 top = arch_pci_layout.io_base + arch_pci_layout.io_size;
	u32 v = 1;

	io_enable(f, true);
	assert_true(port_io(f, p0, &v, 1, false));
	/* Moved within the window: the old ports are gone, the new ones forward. */
	cfg_write(&f->bus, SLOT, PCI_BAR0, (u32)arch_pci_layout.io_min, 4);
	assert_false(port_io(f, p0, &v, 1, false));
	v = 0x42;
	assert_true(port_io(f, arch_pci_layout.io_min + 5, &v, 1, true));
	assert_int_equal(file_byte(f, BAR0_OFF + 5), 0x42);
	/* Below the window (legacy ports): unmapped, nothing forwarded anywhere. */
	cfg_write(&f->bus, SLOT, PCI_BAR0, (u32)arch_pci_layout.io_min - 0x100, 4);
	assert_false(port_io(f, arch_pci_layout.io_min + 5, &v, 1, false));
	assert_false(port_io(f, arch_pci_layout.io_min - 0x100, &v, 1, false));
	/* The highest ports still fit; onto BAR1's ports is an overlap: refused. */
	cfg_write(&f->bus, SLOT, PCI_BAR0, (u32)(top - 8), 4);
	assert_true(port_io(f, top - 1, &v, 1, false));
	cfg_write(&f->bus, SLOT, PCI_BAR0, (u32)pci_function_bar_addr(&f->vd.fn, 1) & ~7u, 4);
	assert_false(port_io(f, top - 1, &v, 1, false));
	v = 0x33;
	assert_true(port_io(f, pci_function_bar_addr(&f->vd.fn, 1), &v, 1, true));
	assert_int_equal(file_byte(f, BAR1_OFF), 0x33);
	/* Decoding off unmaps BAR1 as well. */
	io_enable(f, false);
	assert_false(port_io(f, pci_function_bar_addr(&f->vd.fn, 1), &v, 1, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_firmware_ports_and_forwarding, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forwarding_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_unmaps, setup, teardown),
	};

	return cmocka_run_group_tests_name("vfio_io_bars", tests, NULL, NULL);
}
