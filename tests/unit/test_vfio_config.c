// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's view of a passed-through device, built from a fake device's configuration
 * space and region sizes (what VFIO_DEVICE_GET_REGION_INFO and a read of the config
 * region would answer): identity, BAR sizing and relocation through conf1 (memory and I/O
 * BARs), what is hidden (ROM, an MSI-X that does not fit), the emulated MSI and MSI-X
 * capabilities, and hostile capability lists
 * (loops, out-of-range and misaligned pointers, a capability running past the end).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "arch/arch.h"
#include "devices/pci.h"
#include "devices/vfio/vfio.h"
#include "pci_conf1.h"

struct fake_dev {
	u8 raw[PCI_CONFIG_SIZE];
	u64 bar_size[PCI_NUM_BARS];
};

static void put16(u8 *raw, u32 off, u16 v)
{
	raw[off] = (u8)v;
	raw[off + 1] = (u8)(v >> 8);
}

static void put32(u8 *raw, u32 off, u32 v)
{
	put16(raw, off, (u16)v);
	put16(raw, off + 2, (u16)(v >> 16));
}

/* QEMU's edu as the host sees it: one 1 MiB 32-bit BAR, MSI (64-bit) at 0x40, INTA. */
static void fake_edu(struct fake_dev *d)
{
	memset(d, 0, sizeof(*d));
	put16(d->raw, PCI_VENDOR_ID, 0x1234);
	put16(d->raw, PCI_DEVICE_ID, 0x11e8);
	d->raw[PCI_REVISION_ID] = 0x10;
	put16(d->raw, PCI_CLASS_DEVICE, 0x00ff);
	d->raw[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	put32(d->raw, PCI_BAR0, 0xfea00000); /* where the host put it: never shown */
	d->bar_size[0] = 1 * MiB;
	d->raw[PCI_CAPABILITY_LIST] = 0x40;
	d->raw[0x40] = PCI_CAP_ID_MSI;
	put16(d->raw, 0x42, 0x0080);
	d->raw[PCI_INTERRUPT_PIN] = 1;
	put32(d->raw, PCI_ROM_ADDRESS, 0xfeb00001);
}

static struct pci_bus bus;

static int build_on_bus(struct fake_dev *d, struct pci_function *fn, struct vfio_cfg_info *info)
{
	int ret = vfio_config_build(fn, info, d->raw, d->bar_size);

	pci_bus_init(&bus);
	if (!ret)
		assert_int_equal(pci_bus_add(&bus, fn, 3), 3);
	return ret;
}

static void test_identity_and_hidden(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;

	(void)state;
	fake_edu(&d);
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	assert_int_equal(cfg_read(&bus, 3, 0, 4), 0x11e81234);
	assert_int_equal(cfg_read(&bus, 3, PCI_REVISION_ID, 1), 0x10);
	assert_int_equal(cfg_read(&bus, 3, PCI_INTERRUPT_PIN, 1), 1);
	/* The host's BAR address is not leaked; the ROM BAR reads 0 and ignores writes. */
	assert_int_equal(cfg_read(&bus, 3, PCI_BAR0, 4), 0);
	cfg_write(&bus, 3, PCI_ROM_ADDRESS, 0xfffff801, 4);
	assert_int_equal(cfg_read(&bus, 3, PCI_ROM_ADDRESS, 4), 0);
	assert_int_equal(info.intx_pin, 1);
	pci_bus_destroy(&bus);
}

static void test_bar_sizing_and_move(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;

	(void)state;
	fake_edu(&d);
	/* BAR2: a 64-bit prefetchable 64 KiB BAR; BAR4: a 256-byte I/O BAR. */
	put32(d.raw, PCI_BAR0 + 8, PCI_BAR_MEM_TYPE_64 | PCI_BAR_MEM_PREFETCH);
	d.bar_size[2] = 64 * KiB;
	put32(d.raw, PCI_BAR0 + 16, 0xc001);
	d.bar_size[4] = 256;
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	cfg_write(&bus, 3, PCI_BAR0, 0xffffffff, 4);
	assert_int_equal(cfg_read(&bus, 3, PCI_BAR0, 4), 0xfff00000);
	cfg_write(&bus, 3, PCI_BAR0, 0xd0000000, 4);
	assert_int_equal(pci_function_bar_addr(&fn, 0), 0xd0000000);
	cfg_write(&bus, 3, PCI_BAR0 + 8, 0xffffffff, 4);
	assert_int_equal(cfg_read(&bus, 3, PCI_BAR0 + 8, 4),
			 0xffff0000 | PCI_BAR_MEM_TYPE_64 | PCI_BAR_MEM_PREFETCH);
	cfg_write(&bus, 3, PCI_BAR0 + 12, 0x1, 4);
	cfg_write(&bus, 3, PCI_BAR0 + 8, 0x20000000, 4);
	assert_int_equal(pci_function_bar_addr(&fn, 2), 0x120000000ULL);
	assert_true(fn.bars[2].is64);
	assert_false(fn.bars[0].is64);
	assert_int_equal(fn.bars[4].size, 256);
	assert_true(fn.bars[4].is_io);
	/* Sized like a port BAR: 16 address bits, the I/O flag kept. */
	cfg_write(&bus, 3, PCI_BAR0 + 16, 0xffffffff, 4);
	assert_int_equal(cfg_read(&bus, 3, PCI_BAR0 + 16, 4), 0x0000ff01);
	pci_bus_destroy(&bus);
}

/* mtty's dual-port card: two 8-byte I/O BARs, no capabilities, INTA. */
static void fake_mtty(struct fake_dev *d)
{
	memset(d, 0, sizeof(*d));
	put32(d->raw, PCI_VENDOR_ID, 0x32534348);
	put16(d->raw, PCI_CLASS_DEVICE, 0x0700);
	d->raw[PCI_CLASS_PROG] = 0x02;
	put32(d->raw, PCI_BAR0, 0x1);
	put32(d->raw, PCI_BAR0 + 4, 0x1);
	d->bar_size[0] = d->bar_size[1] = 8;
	d->raw[PCI_INTERRUPT_PIN] = 1;
}

static void test_io_bar_sizing_and_move(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;

	(void)state;
	if (!arch_pci_layout.io_size)
		skip(); /* a board without port space hides I/O BARs */
	fake_mtty(&d);
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	assert_int_equal(cfg_read(&bus, 3, PCI_CLASS_PROG, 1), 0x02);
	assert_int_equal(cfg_read(&bus, 3, PCI_BAR0, 4), PCI_BAR_IO);
	cfg_write(&bus, 3, PCI_BAR0, 0xffffffff, 4);
	assert_int_equal(cfg_read(&bus, 3, PCI_BAR0, 4), 0x0000fff9);
	/* Relocated: the low bits below the size and the upper half cannot be set. */
	cfg_write(&bus, 3, PCI_BAR0, 0xabcdc00f, 4);
	assert_int_equal(cfg_read(&bus, 3, PCI_BAR0, 4), 0xc009);
	assert_int_equal(pci_function_bar_addr(&fn, 0), 0xc008);
	pci_function_set_bar_addr(&fn, 1, 0x1234567);
	assert_int_equal(pci_function_bar_addr(&fn, 1), 0x4560);
	assert_int_equal(cfg_read(&bus, 3, PCI_BAR0 + 4, 4), 0x4561);
	assert_false(info.msi_cap);
	pci_bus_destroy(&bus);
}

static void test_hostile_io_bars(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;

	(void)state;
	if (!arch_pci_layout.io_size)
		skip(); /* a board without port space hides I/O BARs */
	fake_mtty(&d);
	d.bar_size[0] = 2;  /* below the 4 bytes a port BAR decodes: 4 */
	d.bar_size[1] = 12; /* not a power of 2: hidden */
	put32(d.raw, PCI_BAR0 + 8, 0x1);
	d.bar_size[2] = 512; /* above PCI's 256: hidden */
	put32(d.raw, PCI_BAR0 + 12, 0x1);
	d.bar_size[3] = 1ULL << 40; /* a region no port BAR can be */
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	assert_int_equal(fn.bars[0].size, 4);
	assert_int_equal(fn.bars[1].size, 0);
	assert_int_equal(fn.bars[2].size, 0);
	assert_int_equal(fn.bars[3].size, 0);
	cfg_write(&bus, 3, PCI_BAR0 + 4, 0xffffffff, 4);
	assert_int_equal(cfg_read(&bus, 3, PCI_BAR0 + 4, 4), 0);
	pci_bus_destroy(&bus);
}

static void test_hostile_bar_values(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;

	(void)state;
	fake_edu(&d);
	d.bar_size[0] = 3 * MiB;			  /* not a power of 2 */
	put32(d.raw, PCI_BAR0 + 20, PCI_BAR_MEM_TYPE_64); /* 64-bit in the last slot */
	d.bar_size[5] = 4096;
	put32(d.raw, PCI_BAR0 + 4, 0);
	d.bar_size[1] = 8; /* below the 16-byte minimum: decodes 16 */
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	assert_int_equal(fn.bars[0].size, 0);
	assert_int_equal(fn.bars[5].size, 0);
	assert_int_equal(fn.bars[1].size, 16);
	pci_bus_destroy(&bus);
	/* A bridge is refused. */
	d.raw[PCI_HEADER_TYPE] = 0x81;
	assert_int_equal(vfio_config_build(&fn, &info, d.raw, d.bar_size), -EINVAL);
}

static void test_msi_emulated(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;
	u32 cap;

	(void)state;
	fake_edu(&d);
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	cap = info.msi_cap;
	assert_true(cap >= PCI_CAP_START);
	assert_true(info.msi64);
	assert_int_equal(cfg_read(&bus, 3, PCI_CAPABILITY_LIST, 1), cap);
	assert_int_equal(cfg_read(&bus, 3, cap, 1), PCI_CAP_ID_MSI);
	/* One vector only: MMC 0, and MME cannot be raised. */
	cfg_write(&bus, 3, cap + 2, 0xffff, 2);
	assert_int_equal(cfg_read(&bus, 3, cap + 2, 2), 0x0081);
	cfg_write(&bus, 3, cap + 4, 0xfee01003, 4);
	assert_int_equal(cfg_read(&bus, 3, cap + 4, 4), 0xfee01000);
	cfg_write(&bus, 3, cap + 12, 0x4061, 2);
	assert_int_equal(cfg_read(&bus, 3, cap + 12, 2), 0x4061);
	pci_bus_destroy(&bus);
}

static void count_cap(void *opaque, const u8 *raw, u8 off, u8 id)
{
	(void)raw;
	(void)id;
	assert_true(off >= PCI_CAP_START && off <= PCI_CONFIG_SIZE - 4 && !(off & 3));
	(*(unsigned int *)opaque)++;
}

static void test_hostile_cap_lists(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;
	unsigned int n = 0;

	(void)state;
	/* A loop: 0x40 -> 0x50 -> 0x40. */
	fake_edu(&d);
	d.raw[0x41] = 0x50;
	d.raw[0x50] = PCI_CAP_ID_VNDR;
	d.raw[0x51] = 0x40;
	assert_int_equal(vfio_cap_walk(d.raw, count_cap, &n), 2);
	/* Out of range, misaligned, pointing into the header. */
	d.raw[0x51] = 0xfe;
	assert_int_equal(vfio_cap_walk(d.raw, count_cap, &n), 2);
	d.raw[0x51] = 0x53;
	assert_int_equal(vfio_cap_walk(d.raw, count_cap, &n), 2);
	d.raw[PCI_CAPABILITY_LIST] = 0x10;
	assert_int_equal(vfio_cap_walk(d.raw, count_cap, &n), 0);
	/* No capability list bit: nothing walked. */
	d.raw[PCI_CAPABILITY_LIST] = 0x40;
	d.raw[PCI_STATUS] = 0;
	assert_int_equal(vfio_cap_walk(d.raw, count_cap, &n), 0);
	/* An MSI capability at 0xfc (64-bit with masking: 24 bytes) overruns: not offered. */
	fake_edu(&d);
	d.raw[PCI_CAPABILITY_LIST] = 0xf0;
	d.raw[0xf0] = PCI_CAP_ID_MSI;
	put16(d.raw, 0xf2, 0x0180);
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	assert_int_equal(info.msi_cap, 0);
	assert_int_equal(info.nr_caps, 1);
	pci_bus_destroy(&bus);
	/* The longest chain a config space can hold ends within the walk's bound. */
	fake_edu(&d);
	for (u32 off = 0x40; off < 0x100; off += 4) {
		d.raw[off] = PCI_CAP_ID_VNDR;
		d.raw[off + 1] = (u8)(off + 4);
	}
	n = vfio_cap_walk(d.raw, count_cap, &n);
	assert_int_equal(n, VFIO_CAP_WALK_MAX);
}

/* edu with an MSI-X capability at 0x50: 8 vectors, table and PBA in BAR0. */
static void fake_edu_msix(struct fake_dev *d, u16 ctl, u32 table, u32 pba)
{
	fake_edu(d);
	d->raw[0x41] = 0x50;
	d->raw[0x50] = PCI_CAP_ID_MSIX;
	put16(d->raw, 0x52, ctl);
	put32(d->raw, 0x54, table);
	put32(d->raw, 0x58, pba);
}

static void test_msix_exposed(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;
	struct msix m;
	u32 cap;

	(void)state;
	/* The PBA in a second, 64-bit BAR2 of 16 KiB. */
	fake_edu_msix(&d, 0x0007, 0x80000, 0x1000 | 2);
	put32(d.raw, PCI_BAR0 + 8, PCI_BAR_MEM_TYPE_64);
	d.bar_size[2] = 16 * KiB;
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	assert_int_equal(info.msix_vectors, 8);
	assert_int_equal(info.msix_table_off, 0x80000);
	assert_int_equal(info.pba_bir, 2);
	assert_int_equal(vfio_msix_expose(&m, &fn, &info), 0);
	/* In the guest's list after MSI, with the device's layout and table size. */
	cap = cfg_read(&bus, 3, info.msi_cap + 1, 1);
	assert_int_equal(cap, m.cap);
	assert_int_equal(cfg_read(&bus, 3, cap, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_read(&bus, 3, cap + MSIX_CAP_CONTROL, 2), 7);
	assert_int_equal(cfg_read(&bus, 3, cap + MSIX_CAP_TABLE, 4), 0x80000);
	assert_int_equal(cfg_read(&bus, 3, cap + MSIX_CAP_PBA, 4), 0x1000 | 2);
	/* Enable and Function Mask are the guest's; the table size is not. */
	cfg_write(&bus, 3, cap + MSIX_CAP_CONTROL, 0xffff, 2);
	assert_int_equal(cfg_read(&bus, 3, cap + MSIX_CAP_CONTROL, 2), 0xc007);
	msix_destroy(&m);
	pci_bus_destroy(&bus);
}

/* 2048 vectors on the device: the guest sees kvmbox's 64, traps cover the device's table. */
static void test_msix_large_table(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;
	struct msix m;

	(void)state;
	fake_edu_msix(&d, 0x07ff, 0x40000, 0x50000);
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	assert_int_equal(info.msix_vectors, 2048);
	assert_int_equal(vfio_msix_expose(&m, &fn, &info), 0);
	assert_int_equal(m.nr_vectors, MSIX_MAX_VECTORS);
	assert_int_equal(cfg_read(&bus, 3, m.cap + MSIX_CAP_CONTROL, 2), MSIX_MAX_VECTORS - 1);
	msix_destroy(&m);
	pci_bus_destroy(&bus);
}

/* Hostile layouts: MSI-X is hidden, never trusted into a trap outside the BAR. */
static void test_msix_hostile(void **state)
{
	static const struct {
		u16 ctl;
		u32 table, pba;
	} bad[] = {
		{0x0007, 0xfffc0, 0x1000},    /* table runs past the 1 MiB BAR */
		{0x0007, 0x1000, 0xffffc},    /* PBA runs past it */
		{0x0007, 0x1000 | 6, 0x2000}, /* BIR 6 and 7 are reserved */
		{0x0007, 0x1000, 0x2000 | 7},
		{0x0007, 0x1000 | 3, 0x2000}, /* a BAR the device lacks */
		{0x0007, 0x1000, 0x1040},     /* PBA inside the table */
		{0x07ff, 0xfc000, 0x1000},    /* 2048 entries do not fit */
		{0x0007, 0xfffffff8, 0x1000}, /* offset arithmetic must not wrap */
	};
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;
	struct msix m;

	(void)state;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fake_edu_msix(&d, bad[i].ctl, bad[i].table, bad[i].pba);
		assert_int_equal(build_on_bus(&d, &fn, &info), 0);
		assert_true(info.has_msix);
		assert_int_equal(info.msix_vectors, 0);
		assert_int_equal(vfio_msix_expose(&m, &fn, &info), -EINVAL);
		assert_int_equal(cfg_read(&bus, 3, info.msi_cap + 1, 1), 0);
		pci_bus_destroy(&bus);
	}
	/* A capability whose table and PBA dwords would run off the space: not even noted. */
	fake_edu(&d);
	d.raw[0x41] = 0xf8;
	d.raw[0xf8] = PCI_CAP_ID_MSIX;
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	assert_false(info.has_msix);
	pci_bus_destroy(&bus);
}

/* virtio's vendor-specific capabilities: shown as they are, read-only; broken ones not. */
static void test_vendor_caps_copied(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;
	u32 cap;

	(void)state;
	fake_edu(&d);
	d.raw[0x41] = 0x60;
	d.raw[0x60] = PCI_CAP_ID_VNDR;
	d.raw[0x61] = 0xf0;
	d.raw[0x62] = 16; /* cap_len */
	d.raw[0x63] = 1;  /* virtio: common configuration */
	d.raw[0x64] = 4;  /* in BAR4 */
	put32(d.raw, 0x68, 0x1000);
	d.raw[0xf0] = PCI_CAP_ID_VNDR;
	d.raw[0xf2] = 0x20; /* runs past the end of the space */
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	cap = cfg_read(&bus, 3, info.msi_cap + 1, 1);
	assert_int_not_equal(cap, 0);
	assert_int_equal(cfg_read(&bus, 3, cap, 1), PCI_CAP_ID_VNDR);
	assert_int_equal(cfg_read(&bus, 3, cap + 2, 2), 0x0110);
	assert_int_equal(cfg_read(&bus, 3, cap + 4, 1), 4);
	assert_int_equal(cfg_read(&bus, 3, cap + 8, 4), 0x1000);
	cfg_write(&bus, 3, cap + 8, 0xdeadbeef, 4);
	assert_int_equal(cfg_read(&bus, 3, cap + 8, 4), 0x1000);
	assert_int_equal(cfg_read(&bus, 3, cap + 1, 1), 0); /* the broken one is not listed */
	pci_bus_destroy(&bus);
}

static void test_msix_noted_and_hidden(void **state)
{
	struct fake_dev d;
	struct pci_function fn;
	struct vfio_cfg_info info;

	(void)state;
	fake_edu(&d);
	d.raw[0x41] = 0x50;
	d.raw[0x50] = PCI_CAP_ID_MSIX;
	put16(d.raw, 0x52, 0x0007);
	put32(d.raw, 0x54, 0x2000 | 2); /* table in BAR2 */
	put32(d.raw, 0x58, 0x3000 | 4); /* PBA in BAR4 */
	assert_int_equal(build_on_bus(&d, &fn, &info), 0);
	assert_true(info.has_msix);
	assert_int_equal(info.msix_bir, 2);
	assert_int_equal(info.pba_bir, 4);
	assert_int_equal(info.msix_vectors, 0); /* BAR2 and BAR4 do not exist */
	/* The guest's list has the MSI capability only. */
	assert_int_equal(cfg_read(&bus, 3, info.msi_cap + 1, 1), 0);
	pci_bus_destroy(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_hidden),
		cmocka_unit_test(test_bar_sizing_and_move),
		cmocka_unit_test(test_hostile_bar_values),
		cmocka_unit_test(test_io_bar_sizing_and_move),
		cmocka_unit_test(test_hostile_io_bars),
		cmocka_unit_test(test_msi_emulated),
		cmocka_unit_test(test_hostile_cap_lists),
		cmocka_unit_test(test_msix_noted_and_hidden),
		cmocka_unit_test(test_msix_exposed),
		cmocka_unit_test(test_vendor_caps_copied),
		cmocka_unit_test(test_msix_large_table),
		cmocka_unit_test(test_msix_hostile),
	};

	return cmocka_run_group_tests_name("vfio_config", tests, NULL, NULL);
}
