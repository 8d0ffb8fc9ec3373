// SPDX-License-Identifier: GPL-2.0-only
/* pc-testdev: the scratch register's byte lanes, the MMIO window's bounds, the IRQ ports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/pc_testdev.h"
#include "vm.h"

static void test_scratch_widths(void **state)
{
	u32 reg = 0;

	(void)state;
	/* emulator.c: a byte, a word and a dword written at 0xe0 read back whole. */
	reg = pc_testdev_scratch_write(reg, 0, 4, 0x12345678);
	assert_int_equal(reg, 0x12345678);
	assert_int_equal(pc_testdev_scratch_read(reg, 0, 4), 0x12345678);
	assert_int_equal(pc_testdev_scratch_read(reg, 0, 2), 0x5678);
	assert_int_equal(pc_testdev_scratch_read(reg, 0, 1), 0x78);
	reg = pc_testdev_scratch_write(reg, 0, 1, 0xab);
	assert_int_equal(reg, 0x123456ab);
	reg = pc_testdev_scratch_write(reg, 0, 2, 0xcdef);
	assert_int_equal(reg, 0x1234cdef);
	/* Only len bytes of the value count: the rest of a wide value is not stored. */
	reg = pc_testdev_scratch_write(reg, 0, 1, 0xffffff00);
	assert_int_equal(reg, 0x1234cd00);
}

static void test_scratch_lanes(void **state)
{
	u32 reg = 0x11223344;

	(void)state;
	/* Port 0xe0 + n reaches byte n and up, as in QEMU. */
	assert_int_equal(pc_testdev_scratch_read(reg, 1, 1), 0x33);
	assert_int_equal(pc_testdev_scratch_read(reg, 2, 2), 0x1122);
	assert_int_equal(pc_testdev_scratch_read(reg, 3, 1), 0x11);
	reg = pc_testdev_scratch_write(reg, 2, 1, 0xaa);
	assert_int_equal(reg, 0x11aa3344);
	reg = pc_testdev_scratch_write(reg, 1, 2, 0xbbcc);
	assert_int_equal(reg, 0x11bbcc44);
	/* A guest's access past the register's end: those bytes read 0 and are dropped. */
	assert_int_equal(pc_testdev_scratch_read(reg, 3, 4), 0x11);
	assert_int_equal(pc_testdev_scratch_read(reg, 4, 4), 0);
	assert_int_equal(pc_testdev_scratch_read(reg, UINT64_MAX, 8), 0);
	assert_int_equal(pc_testdev_scratch_write(reg, 3, 4, 0xffffffff), 0xffbbcc44);
	assert_int_equal(pc_testdev_scratch_write(reg, 4, 4, 0), reg);
	assert_int_equal(pc_testdev_scratch_write(reg, UINT64_MAX, 8, 0), reg);
	/* More than 8 bytes (never from a bus) is cut at 8, not an out-of-range shift. */
	assert_int_equal(pc_testdev_scratch_read(reg, 0, 100), reg);
}

static void test_iomem(void **state)
{
	static u8 buf[PC_TESTDEV_IOMEM_SIZE];
	u8 data[8];

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(data, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	pc_testdev_iomem_access(buf, 0x100, data, 8, true);
	memset(data, 0, sizeof(data));
	pc_testdev_iomem_access(buf, 0x102, data, 2, false);
	assert_int_equal(data[0], 3);
	assert_int_equal(data[1], 4);
	/* The last bytes of the window, and a straddling access: the outside reads 0xff. */
	memcpy(data, "\xaa\xbb\xcc\xdd", 4);
	pc_testdev_iomem_access(buf, PC_TESTDEV_IOMEM_SIZE - 2, data, 4, true);
	assert_int_equal(buf[PC_TESTDEV_IOMEM_SIZE - 2], 0xaa);
	assert_int_equal(buf[PC_TESTDEV_IOMEM_SIZE - 1], 0xbb);
	memset(data, 0, sizeof(data));
	pc_testdev_iomem_access(buf, PC_TESTDEV_IOMEM_SIZE - 1, data, 4, false);
	assert_memory_equal(data, "\xbb\xff\xff\xff", 4);
	/* Offsets a guest cannot produce through the bus, but must not reach memory. */
	pc_testdev_iomem_access(buf, UINT64_MAX, data, 8, true);
	pc_testdev_iomem_access(buf, UINT64_MAX - 3, data, 8, false);
	assert_memory_equal(data, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	pc_testdev_iomem_access(buf, PC_TESTDEV_IOMEM_SIZE, data, 1, true);
}

static void test_irq_lines(void **state)
{
	(void)state;
	assert_int_equal(pc_testdev_irq_line(0, 0), 0);
	assert_int_equal(pc_testdev_irq_line(0x0e, 0), 0x0e);
	assert_int_equal(pc_testdev_irq_line(23, 0), 23);
	assert_int_equal(pc_testdev_irq_line(24, 0), -1);
	assert_int_equal(pc_testdev_irq_line(UINT64_MAX, 0), -1);
	/* A wider write: byte i drives the next line, up to the last one. */
	assert_int_equal(pc_testdev_irq_line(0x0b, 1), 0x0c);
	assert_int_equal(pc_testdev_irq_line(0x0b, 3), 0x0e);
	assert_int_equal(pc_testdev_irq_line(22, 1), 23);
	assert_int_equal(pc_testdev_irq_line(22, 2), -1);
	assert_int_equal(pc_testdev_irq_line(0, UINT32_MAX), -1);
	assert_int_equal(pc_testdev_irq_line(UINT64_MAX - 1, 3), -1);
}

/*
 * Only with --pc-testdev (issue 12, defect 5: it was on every VM, letting any guest drive
 * any GSI and, through the flush port, make a page of guest RAM executable in kvmbox).
 */
static void test_opt_in(void **state)
{
	struct vm_config cfg = {0};
	struct vm vm = {.cfg = &cfg};
	u8 v[4] = {0x78, 0x56, 0x34, 0x12};

	(void)state;
	bus_init(&vm.pio_bus, "pio");
	bus_init(&vm.mmio_bus, "mmio");
	assert_int_equal(pc_testdev_ops.realize(&vm), 0);
	assert_null(vm.devices);
	assert_false(bus_dispatch(&vm.pio_bus, PC_TESTDEV_PORT_SCRATCH, v, 4, true));
	assert_false(bus_dispatch(&vm.mmio_bus, PC_TESTDEV_IOMEM_GPA, v, 4, false));
	cfg.pc_testdev = true;
	assert_int_equal(pc_testdev_ops.realize(&vm), 0);
	assert_non_null(vm.devices);
	assert_true(bus_dispatch(&vm.pio_bus, PC_TESTDEV_PORT_SCRATCH, v, 4, true));
	vm.devices->ops->destroy(vm.devices);
	bus_destroy(&vm.pio_bus);
	bus_destroy(&vm.mmio_bus);
}

struct flusher {
	struct vm *vm;
	volatile bool done;
};

static void *flush_loop(void *arg)
{
	struct flusher *f = arg;

	for (int i = 0; i < 20000; i++) {
		u8 gpa[4] = {0};

		bus_dispatch(&f->vm->pio_bus, PC_TESTDEV_PORT_FLUSH, gpa, 4, true);
	}
	f->done = true;
	return NULL;
}

/* Whether /proc/self/maps shows the page at p executable right now. */
static bool page_executable(const void *p)
{
	char line[512], perms[5];
	unsigned long lo, hi;
	bool x = false;
	FILE *maps = fopen("/proc/self/maps", "r");

	assert_non_null(maps);
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && lo <= (unsigned long)p &&
		    (unsigned long)p < hi)
			x = perms[2] == 'x';
	}
	fclose(maps);
	return x;
}

/*
 * The flush port changes no mapping: guest RAM never becomes executable in kvmbox, not
 * even for a moment (it used to be, in about half of the samples taken meanwhile).
 */
static void test_flush_maps_nothing_executable(void **state)
{
	struct vm_config cfg = {.pc_testdev = true};
	struct vm vm = {.cfg = &cfg};
	struct flusher f = {.vm = &vm};
	u8 *page = aligned_alloc(4096, 4096);
	unsigned int samples = 0, executable = 0;
	pthread_t th;

	(void)state;
	assert_non_null(page);
	vm.mem.nr = 1;
	vm.mem.regions[0] = (struct mem_region){.gpa = 0, .size = 4096, .hva = page};
	bus_init(&vm.pio_bus, "pio");
	bus_init(&vm.mmio_bus, "mmio");
	assert_int_equal(pc_testdev_ops.realize(&vm), 0);
	assert_int_equal(pthread_create(&th, NULL, flush_loop, &f), 0);
	while (!f.done || samples < 20) {
		executable += page_executable(page);
		samples++;
	}
	pthread_join(th, NULL);
	assert_int_equal(executable, 0);
	vm.devices->ops->destroy(vm.devices);
	bus_destroy(&vm.pio_bus);
	bus_destroy(&vm.mmio_bus);
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scratch_widths),
		cmocka_unit_test(test_scratch_lanes),
		cmocka_unit_test(test_iomem),
		cmocka_unit_test(test_irq_lines),
		cmocka_unit_test(test_opt_in),
		cmocka_unit_test(test_flush_maps_nothing_executable),
	};

	return cmocka_run_group_tests_name("pc_testdev", tests, NULL, NULL);
}
