// SPDX-License-Identifier: GPL-2.0-only
/*
 * A passed-through device's MSI-X table and PBA in its memory BAR, with a fake device: a
 * memfd stands in for the VFIO device fd (its BAR0 region mmappable, as VFIO would say).
 * Checked: an mmapped BAR keeps only the page holding table and PBA trapped and runs the
 * rest from the mmap; trapped accesses to the table and PBA reach kvmbox's MSI-X model and
 * never the device, other bytes are forwarded; a BAR whose memory slot fails leaves no
 * trap behind. KVM is absent (no VM fd), so memory slots fail as they would on a refusal.
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

#include "devices/vfio/vfio.h"
#include "pci_conf1.h"
#include "vm.h"

#define CFG_OFF	 0x10000 /* the config region's offset in the fake fd */
#define BAR0_OFF 0x20000
#define BAR_SIZE 0x8000
#define TABLE	 0x2000 /* 4 vectors: 64 bytes */
#define PBA	 0x2800
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

static struct fixture *fixture_new(bool no_mmap)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vfio_dev *vd = &f->vd;
	u64 bar_size[PCI_NUM_BARS] = {BAR_SIZE};
	u8 *raw = vd->raw_config;

	assert_non_null(f);
	bus_init(&f->vm.pio_bus, "pio");
	bus_init(&f->vm.mmio_bus, "mmio");
	pci_bus_init(&f->bus);
	f->vm.pci = &f->bus;
	f->vm.vm_fd = -1;
	vd->vm = &f->vm;
	vd->no_mmap = no_mmap;
	snprintf(vd->name, sizeof(vd->name), "fake");
	vd->fd = memfd_create("vfio-fake", MFD_CLOEXEC);
	assert_true(vd->fd >= 0);
	assert_int_equal(ftruncate(vd->fd, BAR0_OFF + BAR_SIZE), 0);
	vd->regions[0] =
		(struct vfio_region){BAR_SIZE, BAR0_OFF,
				     VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
					     VFIO_REGION_INFO_FLAG_MMAP};
	vd->regions[VFIO_PCI_CONFIG_REGION_INDEX] = (struct vfio_region){256, CFG_OFF, 0};
	put32(raw, PCI_VENDOR_ID, 0x10001af4);
	raw[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	raw[PCI_CAPABILITY_LIST] = 0x40;
	raw[0x40] = PCI_CAP_ID_MSIX;
	put32(raw, 0x40 + MSIX_CAP_CONTROL, 3); /* 4 vectors; next pointer 0 */
	raw[0x41] = 0;
	put32(raw, 0x40 + MSIX_CAP_TABLE, TABLE);
	put32(raw, 0x40 + MSIX_CAP_PBA, PBA);
	assert_int_equal(vfio_config_build(&vd->fn, &vd->info, raw, bar_size), 0);
	assert_int_equal(vd->info.msix_vectors, 4);
	assert_int_equal(vfio_msix_expose(&vd->msix, &vd->fn, &vd->info), 0);
	vd->fn.opaque = vd;
	assert_int_equal(vfio_bars_setup(vd), 0);
	assert_int_equal(pci_bus_add(&f->bus, &vd->fn, SLOT), SLOT);
	return f;
}

static void fixture_free(struct fixture *f)
{
	vfio_bars_teardown(&f->vd);
	msix_destroy(&f->vd.msix);
	close(f->vd.fd);
	pci_bus_destroy(&f->bus);
	bus_destroy(&f->vm.pio_bus);
	bus_destroy(&f->vm.mmio_bus);
	free(f);
}

static bool mmio(struct fixture *f, u64 off, u32 *val, bool is_write)
{
	u8 d[4] = {0};
	bool hit;

	io_data_put(d, 4, *val);
	hit = bus_dispatch(&f->vm.mmio_bus, pci_function_bar_addr(&f->vd.fn, 0) + off, d, 4,
			   is_write);
	if (!is_write)
		*val = (u32)io_data_get(d, 4);
	return hit;
}

static u32 file32(struct fixture *f, u64 off)
{
	u32 v = 0;

	assert_int_equal(pread(f->vd.fd, &v, 4, (off_t)(BAR0_OFF + off)), 4);
	return v;
}

/* The page holding table and PBA is trapped; the pages around it run from the mmap. */
static void test_mmapped_bar_split(void **state)
{
	struct fixture *f = fixture_new(false);
	const struct vfio_bar *b = &f->vd.bars[0];

	(void)state;
	assert_non_null(b->map);
	assert_int_equal(b->trap_start, 0x2000);
	assert_int_equal(b->trap_end, 0x3000);
	assert_int_equal(b->piece[0].off, 0);
	assert_int_equal(b->piece[0].len, 0x2000);
	assert_int_equal(b->piece[1].off, 0x3000);
	assert_int_equal(b->piece[1].len, BAR_SIZE - 0x3000);
	fixture_free(f);
}

/* A memory slot KVM refuses: bar_map fails and takes its trap back. */
static void test_failed_slot_leaves_no_trap(void **state)
{
	struct fixture *f = fixture_new(false);
	u32 v = 0;

	(void)state;
	cfg_write(&f->bus, SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_false(f->vd.bars[0].trapped_set);
	assert_false(mmio(f, TABLE, &v, false));
	fixture_free(f);
}

/* mmap=off: the whole BAR trapped; table and PBA answered by kvmbox, never the device. */
static void test_trapped_table_never_reaches_device(void **state)
{
	struct fixture *f = fixture_new(true);
	u32 v;

	(void)state;
	assert_null(f->vd.bars[0].map);
	cfg_write(&f->bus, SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	v = 0x4041;
	assert_true(mmio(f, TABLE + 16 + MSIX_ENTRY_DATA, &v, true));
	v = 0;
	assert_true(mmio(f, TABLE + 16 + MSIX_ENTRY_DATA, &v, false));
	assert_int_equal(v, 0x4041);
	assert_int_equal(file32(f, TABLE + 16 + MSIX_ENTRY_DATA), 0);
	/* Vector control: masked at reset, as the model says. */
	assert_true(mmio(f, TABLE + 16 + MSIX_ENTRY_CTRL, &v, false));
	assert_int_equal(v, MSIX_ENTRY_MASKED);
	/* The PBA is read-only and the device's stays untouched. */
	v = 0xffffffff;
	assert_true(mmio(f, PBA, &v, true));
	assert_true(mmio(f, PBA, &v, false));
	assert_int_equal(v, 0);
	assert_int_equal(file32(f, PBA), 0);
	/* Other registers, even next to the table, are the device's. */
	v = 0xa5a5a5a5;
	assert_true(mmio(f, TABLE + 64, &v, true));
	assert_int_equal(file32(f, TABLE + 64), 0xa5a5a5a5);
	v = 0x11223344;
	assert_true(mmio(f, 0x100, &v, true));
	assert_int_equal(file32(f, 0x100), 0x11223344);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmapped_bar_split),
		cmocka_unit_test(test_failed_slot_leaves_no_trap),
		cmocka_unit_test(test_trapped_table_never_reaches_device),
	};

	return cmocka_run_group_tests_name("vfio_msix_bars", tests, NULL, NULL);
}
