// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of the arm64 device tree: its nodes as libfdt reads them back, and dtc's view. */
// unit-sources: src/arch/arm64/devicetree.c
// unit-libs: -lfdt
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libfdt.h>

#include "arch/arm64/devicetree.h"

#define BUF_SIZE (256 * KiB)

/* QEMU virt's layout, which the arm64 board follows. */
static struct arm64_fdt_desc virt_desc(void)
{
	return (struct arm64_fdt_desc){
		.ram = {0x40000000, 256 * MiB},
		.nr_cpus = 4,
		.gic_dist = {0x08000000, 0x10000},
		.gic_redist = {0x080a0000, 0xf60000},
		.gic_its = {0x08080000, 0x20000},
		.uart = {0x09000000, 0x1000},
		.uart_spi = 1,
		.rtc = {0x09010000, 0x1000},
		.rtc_spi = 2,
		.pci_ecam = {0x3f000000, 16 * MiB},
		.pci_io = {0x3eff0000, 0x10000},
		.pci_mmio32 = {0x10000000, 0x2eff0000},
		.pci_mmio64 = {0x8000000000ULL, 0x8000000000ULL},
		.pci_intx_spi = 3,
		.bootargs = "console=ttyAMA0 earlycon",
		.initrd = {0x48000000, 0x123456},
	};
}

static void *build(const struct arm64_fdt_desc *d)
{
	void *fdt = aligned_alloc(8, BUF_SIZE);
	const char *why = NULL;

	assert_int_equal(arm64_fdt_build(d, fdt, BUF_SIZE, &why), 0);
	assert_int_equal(fdt_check_header(fdt), 0);
	assert_true(fdt_totalsize(fdt) <= BUF_SIZE);
	return fdt;
}

static const fdt32_t *prop(const void *fdt, const char *path, const char *name, int *len)
{
	int node = fdt_path_offset(fdt, path);

	assert_true(node >= 0);
	return fdt_getprop(fdt, node, name, len);
}

static u32 cell(const fdt32_t *c, unsigned int i)
{
	return fdt32_to_cpu(c[i]);
}

static u64 cell64(const fdt32_t *c, unsigned int i)
{
	return (u64)cell(c, i) << 32 | cell(c, i + 1);
}

static void expect_reg(const void *fdt, const char *path, u64 base, u64 size)
{
	int len;
	const fdt32_t *reg = prop(fdt, path, "reg", &len);

	assert_non_null(reg);
	assert_int_equal(len, 16);
	assert_int_equal(cell64(reg, 0), base);
	assert_int_equal(cell64(reg, 2), size);
}

static unsigned int count_cpus(const void *fdt)
{
	unsigned int n = 0;
	int node, cpus = fdt_path_offset(fdt, "/cpus");

	assert_true(cpus >= 0);
	fdt_for_each_subnode(node, fdt, cpus)
	{
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);

		assert_string_equal(type, "cpu");
		assert_string_equal(fdt_getprop(fdt, node, "enable-method", NULL), "psci");
		n++;
	}
	return n;
}

static void test_fdt_nodes(void **state)
{
	struct arm64_fdt_desc d = virt_desc();
	void *fdt = build(&d), *no_rtc;
	const fdt32_t *c;
	int len;

	(void)state;
	assert_string_equal(fdt_getprop(fdt, 0, "compatible", NULL), "linux,dummy-virt");
	assert_int_equal(fdt_address_cells(fdt, 0), 2);
	assert_int_equal(fdt_size_cells(fdt, 0), 2);
	c = prop(fdt, "/", "interrupt-parent", NULL);
	assert_int_equal(
		cell(c, 0),
		fdt_get_phandle(fdt, fdt_path_offset(fdt, "/interrupt-controller@8000000")));
	expect_reg(fdt, "/memory@40000000", 0x40000000, 256 * MiB);
	expect_reg(fdt, "/serial@9000000", 0x09000000, 0x1000);
	expect_reg(fdt, "/rtc@9010000", 0x09010000, 0x1000);
	expect_reg(fdt, "/pcie@3f000000", 0x3f000000, 16 * MiB);
	d.rtc.size = 0;
	no_rtc = build(&d);
	assert_true(fdt_path_offset(no_rtc, "/rtc@9010000") < 0); /* no RTC, no node */
	free(no_rtc);
	expect_reg(fdt, "/interrupt-controller@8000000/msi-controller@8080000", 0x08080000,
		   0x20000);
	c = prop(fdt, "/interrupt-controller@8000000", "reg", &len);
	assert_int_equal(len, 32);
	assert_int_equal(cell64(c, 4), 0x080a0000);
	assert_int_equal(cell64(c, 6), 0xf60000);
	assert_int_equal(count_cpus(fdt), 4);
	assert_string_equal(prop(fdt, "/psci", "method", NULL), "hvc");
	c = prop(fdt, "/timer", "interrupts", &len);
	assert_int_equal(len, 4 * 3 * 4);
	assert_int_equal(cell(c, 1), 13);
	assert_int_equal(cell(c, 4), 14);
	assert_int_equal(cell(c, 7), 11);
	assert_int_equal(cell(c, 10), 10);
	c = prop(fdt, "/pcie@3f000000", "bus-range", &len);
	assert_int_equal(len, 8);
	assert_int_equal(cell(c, 1), 15);
	prop(fdt, "/pcie@3f000000", "ranges", &len);
	assert_int_equal(len, 3 * 7 * 4);
	assert_non_null(prop(fdt, "/pcie@3f000000", "dma-coherent", NULL));
	free(fdt);
}

/* With firmware: one cfi-flash node holding both banks, which EDK2 finds by compatible. */
/* A PMUv3 node, on PPI 7 level-high, only when the host's KVM gives the vCPUs one. */
static void test_fdt_pmu(void **state)
{
	struct arm64_fdt_desc d = virt_desc();
	void *fdt = build(&d), *with_pmu;
	const fdt32_t *c;
	int len;

	(void)state;
	assert_true(fdt_path_offset(fdt, "/pmu") < 0);
	d.pmu = true;
	with_pmu = build(&d);
	assert_string_equal(
		fdt_getprop(with_pmu, fdt_path_offset(with_pmu, "/pmu"), "compatible", NULL),
		"arm,armv8-pmuv3");
	c = prop(with_pmu, "/pmu", "interrupts", &len);
	assert_int_equal(len, 12);
	assert_int_equal(cell(c, 0), 1); /* a PPI */
	assert_int_equal(cell(c, 1), 7);
	assert_int_equal(cell(c, 2), 4); /* level-high */
	free(with_pmu);
	free(fdt);
}

static void test_fdt_flash(void **state)
{
	struct arm64_fdt_desc d = virt_desc();
	void *fdt = build(&d), *with_flash;
	const fdt32_t *c;
	int len;

	(void)state;
	assert_true(fdt_node_offset_by_compatible(fdt, -1, "cfi-flash") < 0);
	d.flash[0] = (struct arm64_fdt_region){0, 64 * MiB};
	d.flash[1] = (struct arm64_fdt_region){64 * MiB, 64 * MiB};
	with_flash = build(&d);
	c = prop(with_flash, "/flash@0", "reg", &len);
	assert_int_equal(len, 32);
	assert_int_equal(cell64(c, 0), 0);
	assert_int_equal(cell64(c, 2), 64 * MiB);
	assert_int_equal(cell64(c, 4), 64 * MiB);
	assert_int_equal(cell64(c, 6), 64 * MiB);
	assert_int_equal(cell(prop(with_flash, "/flash@0", "bank-width", NULL), 0), 4);
	assert_string_equal(prop(with_flash, "/flash@0", "compatible", NULL), "cfi-flash");
	free(with_flash);
	d.flash[1].size = 0;
	with_flash = build(&d);
	prop(with_flash, "/flash@0", "reg", &len);
	assert_int_equal(len, 16);
	free(with_flash);
	free(fdt);
}

static void test_fdt_chosen(void **state)
{
	struct arm64_fdt_desc d = virt_desc();
	void *fdt = build(&d);
	const char *stdout_path, *serial0;
	const fdt32_t *c;
	int len, uart;

	(void)state;
	assert_string_equal(prop(fdt, "/chosen", "bootargs", NULL), d.bootargs);
	c = prop(fdt, "/chosen", "linux,initrd-start", &len);
	assert_int_equal(len, 8);
	assert_int_equal(cell64(c, 0), 0x48000000);
	c = prop(fdt, "/chosen", "linux,initrd-end", &len);
	assert_int_equal(cell64(c, 0), 0x48000000 + 0x123456);
	/* stdout-path and serial0 lead to the PL011. */
	stdout_path = (const char *)prop(fdt, "/chosen", "stdout-path", NULL);
	serial0 = (const char *)prop(fdt, "/aliases", "serial0", NULL);
	assert_string_equal(stdout_path, serial0);
	uart = fdt_path_offset(fdt, stdout_path);
	assert_true(uart >= 0);
	assert_int_equal(fdt_node_check_compatible(fdt, uart, "arm,pl011"), 0);
	assert_int_equal(fdt_node_check_compatible(fdt, uart, "arm,primecell"), 0);
	assert_int_equal(uart, fdt_path_offset(fdt, "serial0")); /* libfdt resolves aliases */
	c = fdt_getprop(fdt, uart, "clocks", &len);
	assert_int_equal(len, 8);
	assert_int_equal(fdt_node_offset_by_phandle(fdt, cell(c, 0)),
			 fdt_path_offset(fdt, "/apb-pclk"));
	free(fdt);
}

static void test_fdt_its_and_intx(void **state)
{
	struct arm64_fdt_desc d = virt_desc();
	void *fdt = build(&d);
	int its = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3-its");
	int pci = fdt_path_offset(fdt, "/pcie@3f000000"), len;
	const fdt32_t *c;

	(void)state;
	assert_true(its >= 0);
	assert_non_null(fdt_getprop(fdt, its, "msi-controller", NULL));
	c = fdt_getprop(fdt, pci, "msi-map", &len);
	assert_int_equal(len, 16);
	assert_int_equal(cell(c, 1), fdt_get_phandle(fdt, its));
	assert_int_equal(cell(c, 3), 0x10000);
	/* #msi-cells = 1 would need a DeviceID in msi-parent: the map gives it instead. */
	assert_null(fdt_getprop(fdt, pci, "msi-parent", NULL));

	c = fdt_getprop(fdt, pci, "interrupt-map-mask", &len);
	assert_int_equal(len, 16);
	assert_int_equal(cell(c, 0), 0xf800);
	assert_int_equal(cell(c, 3), 7);
	c = fdt_getprop(fdt, pci, "interrupt-map", &len);
	assert_int_equal(len, ARM64_PCI_SLOTS * ARM64_PCI_INTX_PINS * ARM64_PCI_INTMAP_CELLS * 4);
	/* Slot 5 INTC (entry 5 * 4 + 2): line (5 + 2) % 4 = 3. */
	c += (5 * 4 + 2) * ARM64_PCI_INTMAP_CELLS;
	assert_int_equal(cell(c, 0), 5 << 11);
	assert_int_equal(cell(c, 3), 3);
	assert_int_equal(cell(c, 4), fdt_get_phandle(fdt, fdt_parent_offset(fdt, its)));
	assert_int_equal(cell(c, 7), 0);
	assert_int_equal(cell(c, 8), d.pci_intx_spi + 3);
	free(fdt);

	/* Without an ITS: no msi-controller, no MSI map; without initrd and bootargs neither. */
	d.gic_its = (struct arm64_fdt_region){0, 0};
	d.initrd = (struct arm64_fdt_region){0, 0};
	d.bootargs = NULL;
	d.pci_mmio64.size = 0;
	fdt = build(&d);
	pci = fdt_path_offset(fdt, "/pcie@3f000000");
	assert_int_equal(fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3-its"),
			 -FDT_ERR_NOTFOUND);
	assert_null(fdt_getprop(fdt, pci, "msi-map", NULL));
	assert_null(fdt_getprop(fdt, pci, "msi-parent", NULL));
	assert_null(prop(fdt, "/chosen", "linux,initrd-start", NULL));
	assert_null(prop(fdt, "/chosen", "linux,initrd-end", NULL));
	assert_null(prop(fdt, "/chosen", "bootargs", NULL));
	assert_non_null(prop(fdt, "/chosen", "stdout-path", NULL));
	prop(fdt, "/pcie@3f000000", "ranges", &len);
	assert_int_equal(len, 2 * 7 * 4);
	free(fdt);
}

/* Many vCPUs: the MPIDRs KVM gives them, Aff0 only 0-15. */
static void test_fdt_cpus(void **state)
{
	struct arm64_fdt_desc d = virt_desc();
	void *fdt;
	const fdt32_t *c;

	(void)state;
	assert_int_equal(arm64_cpu_mpidr(15), 0xf);
	assert_int_equal(arm64_cpu_mpidr(17), 0x101);
	assert_int_equal(arm64_cpu_mpidr(511), 0x1f0f);
	d.nr_cpus = 1;
	fdt = build(&d);
	assert_int_equal(count_cpus(fdt), 1);
	free(fdt);
	d.nr_cpus = ARM64_FDT_MAX_CPUS;
	d.gic_redist.size = ARM64_FDT_MAX_CPUS * ARM64_GIC_REDIST_STRIDE;
	fdt = build(&d);
	assert_int_equal(count_cpus(fdt), ARM64_FDT_MAX_CPUS);
	c = prop(fdt, "/cpus/cpu@101", "reg", NULL);
	assert_int_equal(cell(c, 0), 0x101);
	assert_true(fdt_path_offset(fdt, "/cpus/cpu@1f0f") >= 0);
	free(fdt);
}

static void expect_bad(const struct arm64_fdt_desc *d, const char *needle)
{
	void *fdt = aligned_alloc(8, BUF_SIZE);
	const char *why = NULL;

	assert_int_equal(arm64_fdt_build(d, fdt, BUF_SIZE, &why), -EINVAL);
	assert_non_null(why);
	assert_non_null(strstr(why, needle));
	free(fdt);
}

static void test_fdt_bad_desc(void **state)
{
	struct arm64_fdt_desc d;
	const char *why;
	u64 buf[8];

	(void)state;
	d = virt_desc(), d.nr_cpus = 0, expect_bad(&d, "vCPUs");
	d = virt_desc(), d.nr_cpus = ARM64_FDT_MAX_CPUS + 1, expect_bad(&d, "vCPUs");
	d = virt_desc(), d.nr_cpus = 124, expect_bad(&d, "redistributor region is too small");
	d = virt_desc(), d.ram.size = 0, expect_bad(&d, "RAM");
	d = virt_desc(), d.ram.base = UINT64_MAX, expect_bad(&d, "RAM");
	d = virt_desc(), d.uart.size = 0, expect_bad(&d, "UART");
	d = virt_desc(), d.rtc.base = UINT64_MAX, expect_bad(&d, "RTC");
	d = virt_desc(), d.gic_dist.size = 0, expect_bad(&d, "distributor");
	d = virt_desc(), d.gic_its.size = 0, expect_bad(&d, "ITS");
	d = virt_desc(), d.pci_io.size = 0, expect_bad(&d, "I/O");
	d = virt_desc(), d.pci_mmio32.size = 0, expect_bad(&d, "32-bit");
	d = virt_desc(), d.pci_mmio32.base = 0xf0000000, expect_bad(&d, "above 4 GiB");
	d = virt_desc(), d.pci_mmio64.base = UINT64_MAX, expect_bad(&d, "64-bit");
	d = virt_desc(), d.initrd.base = UINT64_MAX, expect_bad(&d, "initrd");
	d = virt_desc(), d.pci_ecam.size = MiB + 4096, expect_bad(&d, "ECAM");
	d = virt_desc(), d.pci_ecam.size = 512 * MiB, expect_bad(&d, "ECAM");
	d = virt_desc(), d.uart_spi = ARM64_GIC_MAX_SPI + 1, expect_bad(&d, "SPI");
	d = virt_desc(), d.pci_intx_spi = ARM64_GIC_MAX_SPI - 2, expect_bad(&d, "SPI");
	d = virt_desc();
	assert_int_equal(arm64_fdt_build(&d, (u8 *)buf + 4, sizeof(buf) - 4, &why), -EINVAL);
	assert_non_null(strstr(why, "aligned"));
}

/* Too small a buffer: -ENOSPC, and not one byte written past it. */
static void test_fdt_no_space(void **state)
{
	const size_t guard = 4096;
	struct arm64_fdt_desc d = virt_desc();
	void *full = build(&d);
	size_t total = fdt_totalsize(full), sizes[] = {0, 8, 40, 100, 1000, total / 2, total - 1};
	const char *why;

	(void)state;
	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		u8 *buf = aligned_alloc(8, ALIGN_UP(sizes[i] + guard, 8));

		memset(buf, 0x5a, sizes[i] + guard);
		assert_int_equal(arm64_fdt_build(&d, buf, sizes[i], &why), -ENOSPC);
		assert_non_null(strstr(why, "does not fit"));
		for (size_t j = sizes[i]; j < sizes[i] + guard; j++)
			assert_int_equal(buf[j], 0x5a);
		free(buf);
	}
	/* A command line longer than any tree. */
	{
		char *huge = malloc(3 * MiB);
		u8 *buf = aligned_alloc(8, 4 * MiB);

		memset(huge, 'x', 3 * MiB - 1);
		huge[3 * MiB - 1] = 0;
		d.bootargs = huge;
		assert_int_equal(arm64_fdt_build(&d, buf, 4 * MiB, &why), -ENOSPC);
		d.bootargs = virt_desc().bootargs;
		free(buf);
		free(huge);
	}
	/* The exact size is enough, and gives the same blob. */
	{
		u8 *buf = aligned_alloc(8, ALIGN_UP(total, 8));

		assert_int_equal(arm64_fdt_build(&d, buf, total, &why), 0);
		assert_int_equal(fdt_totalsize(buf), total);
		assert_memory_equal(buf, full, total);
		free(buf);
	}
	free(full);
}

/* dtc decompiles the blob without an error or a warning (it checks phandles, maps, cells). */
static void check_with_dtc(const void *fdt)
{
	char blob[] = "/tmp/kvmbox-fdt-XXXXXX", errs[] = "/tmp/kvmbox-dtc-XXXXXX", cmd[256];
	int fd = mkstemp(blob), efd = mkstemp(errs);
	char msg[1024] = "";
	size_t n;
	FILE *f;

	assert_true(fd >= 0 && efd >= 0);
	assert_int_equal(write(fd, fdt, fdt_totalsize(fdt)), fdt_totalsize(fdt));
	close(fd);
	close(efd);
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o /dev/null %s 2>%s", blob, errs);
	assert_int_equal(system(cmd), 0);
	f = fopen(errs, "r");
	assert_non_null(f);
	n = fread(msg, 1, sizeof(msg) - 1, f);
	fclose(f);
	unlink(blob);
	unlink(errs);
	if (n)
		fail_msg("dtc: %s", msg);
}

static void test_fdt_dtc(void **state)
{
	struct arm64_fdt_desc d = virt_desc();
	void *fdt;

	(void)state;
	if (system("command -v dtc >/dev/null 2>&1")) {
		skip();
		return;
	}
	fdt = build(&d);
	check_with_dtc(fdt);
	free(fdt);
	d.gic_its = (struct arm64_fdt_region){0, 0};
	d.initrd.size = 0;
	d.nr_cpus = 40;
	fdt = build(&d);
	check_with_dtc(fdt);
	free(fdt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdt_nodes),	 cmocka_unit_test(test_fdt_chosen),
		cmocka_unit_test(test_fdt_its_and_intx), cmocka_unit_test(test_fdt_cpus),
		cmocka_unit_test(test_fdt_bad_desc),	 cmocka_unit_test(test_fdt_no_space),
		cmocka_unit_test(test_fdt_dtc),		 cmocka_unit_test(test_fdt_flash),
		cmocka_unit_test(test_fdt_pmu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
