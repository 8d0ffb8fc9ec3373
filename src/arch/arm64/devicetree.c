// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <libfdt.h>

#include "devicetree.h"
#include "image.h"
#include "layout.h"

/* The GIC's interrupt specifier (bindings/interrupt-controller/arm,gic-v3.yaml). */
#define GIC_SPI		    0
#define GIC_PPI		    1
#define IRQ_TYPE_LEVEL_HIGH 4
#define GIC_MAINT_PPI	    9
#define TIMER_PPI_SEC	    13
#define TIMER_PPI_NONSEC    14
#define TIMER_PPI_VIRT	    11
#define TIMER_PPI_HYP	    10
/*
 * QEMU's virt board (since 2.9) calls the timers level-high; kvmtool says level-low. Linux
 * 4.8-rc6 and later accept either and program the GIC as level-sensitive anyway.
 */
#define TIMER_IRQ_FLAGS IRQ_TYPE_LEVEL_HIGH

#define PHANDLE_GIC 1
#define PHANDLE_ITS 2
#define PHANDLE_CLK 3
#define APB_PCLK_HZ 24000000 /* what QEMU's virt board gives its PL011 and PL031 */

#define PCI_SPACE_IO	     0x01000000
#define PCI_SPACE_MEM32	     0x02000000
#define PCI_SPACE_MEM64	     0x03000000
#define PCI_DEVFN_SLOT_SHIFT 11	     /* the slot (device) number in phys.hi of a PCI address */
#define PCI_MSI_RID_SPAN     0x10000 /* every bus/device/function of the domain */

/* libfdt's sequential writer with a sticky error: after the first failure nothing is done. */
struct fdtw {
	void *fdt;
	int err;
};

static void w_begin(struct fdtw *w, const char *name)
{
	if (!w->err)
		w->err = fdt_begin_node(w->fdt, name);
}

static void w_begin_at(struct fdtw *w, const char *name, u64 unit)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s@%" PRIx64, name, unit);
	w_begin(w, buf);
}

static void w_end(struct fdtw *w)
{
	if (!w->err)
		w->err = fdt_end_node(w->fdt);
}

static void w_prop(struct fdtw *w, const char *name, const void *val, int len)
{
	if (!w->err)
		w->err = fdt_property(w->fdt, name, val, len);
}

/* A string list: a literal with embedded NULs, e.g. "arm,pl011\0arm,primecell". */
#define w_strs(w, name, lit) w_prop(w, name, lit, sizeof(lit))

/* A string longer than a whole tree may be (the command line) cannot fit: no int overflow. */
static void w_str(struct fdtw *w, const char *name, const char *s)
{
	size_t len = strnlen(s, ARM64_FDT_MAX_SIZE);

	if (len == ARM64_FDT_MAX_SIZE && !w->err)
		w->err = -FDT_ERR_NOSPACE;
	w_prop(w, name, s, (int)len + 1);
}

static void w_u32(struct fdtw *w, const char *name, u32 v)
{
	if (!w->err)
		w->err = fdt_property_u32(w->fdt, name, v);
}

static void w_u64(struct fdtw *w, const char *name, u64 v)
{
	if (!w->err)
		w->err = fdt_property_u64(w->fdt, name, v);
}

/* Room for n big-endian cells, or NULL after an error. */
static fdt32_t *w_cells(struct fdtw *w, const char *name, unsigned int n)
{
	void *val = NULL;

	if (!w->err)
		w->err = fdt_property_placeholder(w->fdt, name, (int)(n * sizeof(fdt32_t)), &val);
	return w->err ? NULL : val;
}

static void put_u64(fdt32_t *c, u64 v)
{
	c[0] = cpu_to_fdt32((u32)(v >> 32));
	c[1] = cpu_to_fdt32((u32)v);
}

/* reg of one region, with the root's #address-cells and #size-cells of 2. */
static void w_reg(struct fdtw *w, const struct arm64_fdt_region *r)
{
	fdt32_t *c = w_cells(w, "reg", 4);

	if (c) {
		put_u64(c, r->base);
		put_u64(c + 2, r->size);
	}
}

static void w_irq(struct fdtw *w, u32 type, u32 num, u32 flags)
{
	fdt32_t *c = w_cells(w, "interrupts", 3);

	if (c) {
		c[0] = cpu_to_fdt32(type);
		c[1] = cpu_to_fdt32(num);
		c[2] = cpu_to_fdt32(flags);
	}
}

u64 arm64_cpu_mpidr(unsigned int cpu)
{
	return (cpu & 0xf) | (u64)((cpu >> 4) & 0xff) << 8 | (u64)((cpu >> 12) & 0xff) << 16;
}

static void add_cpus(struct fdtw *w, unsigned int nr_cpus)
{
	w_begin(w, "cpus");
	w_u32(w, "#address-cells", 1); /* no Aff3 below 512 vCPUs */
	w_u32(w, "#size-cells", 0);
	for (unsigned int i = 0; i < nr_cpus; i++) {
		w_begin_at(w, "cpu", arm64_cpu_mpidr(i));
		w_str(w, "device_type", "cpu");
		w_str(w, "compatible", "arm,arm-v8");
		w_u32(w, "reg", (u32)arm64_cpu_mpidr(i));
		w_str(w, "enable-method", "psci");
		w_end(w);
	}
	w_end(w);
}

static void add_psci_timer(struct fdtw *w)
{
	static const u32 ppis[] = {TIMER_PPI_SEC, TIMER_PPI_NONSEC, TIMER_PPI_VIRT, TIMER_PPI_HYP};
	fdt32_t *c;

	w_begin(w, "psci");
	w_strs(w, "compatible", "arm,psci-1.0\0arm,psci-0.2");
	w_str(w, "method", "hvc");
	w_end(w);

	w_begin(w, "timer");
	w_str(w, "compatible", "arm,armv8-timer");
	/* A KVM guest's idle states keep the timer running: no broadcast timer needed. */
	w_prop(w, "always-on", NULL, 0);
	c = w_cells(w, "interrupts", 3 * ARRAY_SIZE(ppis));
	for (unsigned int i = 0; c && i < ARRAY_SIZE(ppis); i++) {
		c[3 * i] = cpu_to_fdt32(GIC_PPI);
		c[3 * i + 1] = cpu_to_fdt32(ppis[i]);
		c[3 * i + 2] = cpu_to_fdt32(TIMER_IRQ_FLAGS);
	}
	w_end(w);
}

/* The guest's PMUv3: Linux's arm_pmuv3 driver finds it here, not by probing ID registers. */
static void add_pmu(struct fdtw *w)
{
	w_begin(w, "pmu");
	w_str(w, "compatible", "arm,armv8-pmuv3");
	w_irq(w, GIC_PPI, ARM64_PMU_PPI, IRQ_TYPE_LEVEL_HIGH);
	w_end(w);
}

static void add_gic(struct fdtw *w, const struct arm64_fdt_desc *d)
{
	fdt32_t *c;

	w_begin_at(w, "interrupt-controller", d->gic_dist.base);
	w_str(w, "compatible", "arm,gic-v3");
	w_u32(w, "#interrupt-cells", 3);
	w_prop(w, "interrupt-controller", NULL, 0);
	/* The ITS child's reg is in the root's address space; interrupt-map counts on 2. */
	w_u32(w, "#address-cells", 2);
	w_u32(w, "#size-cells", 2);
	w_prop(w, "ranges", NULL, 0);
	c = w_cells(w, "reg", 8);
	if (c) {
		put_u64(c, d->gic_dist.base);
		put_u64(c + 2, d->gic_dist.size);
		put_u64(c + 4, d->gic_redist.base);
		put_u64(c + 6, d->gic_redist.size);
	}
	w_irq(w, GIC_PPI, GIC_MAINT_PPI, IRQ_TYPE_LEVEL_HIGH);
	w_u32(w, "phandle", PHANDLE_GIC);
	if (d->gic_its.base) {
		w_begin_at(w, "msi-controller", d->gic_its.base);
		w_str(w, "compatible", "arm,gic-v3-its");
		w_prop(w, "msi-controller", NULL, 0);
		w_u32(w, "#msi-cells", 1);
		w_reg(w, &d->gic_its);
		w_u32(w, "phandle", PHANDLE_ITS);
		w_end(w);
	}
	w_end(w);
}

static void add_uart_rtc(struct fdtw *w, const struct arm64_fdt_desc *d)
{
	fdt32_t *c;

	w_begin(w, "apb-pclk");
	w_str(w, "compatible", "fixed-clock");
	w_u32(w, "#clock-cells", 0);
	w_u32(w, "clock-frequency", APB_PCLK_HZ);
	w_str(w, "clock-output-names", "clk24mhz");
	w_u32(w, "phandle", PHANDLE_CLK);
	w_end(w);

	w_begin_at(w, "serial", d->uart.base);
	w_strs(w, "compatible", "arm,pl011\0arm,primecell");
	w_reg(w, &d->uart);
	w_irq(w, GIC_SPI, d->uart_spi, IRQ_TYPE_LEVEL_HIGH);
	c = w_cells(w, "clocks", 2);
	if (c)
		c[0] = c[1] = cpu_to_fdt32(PHANDLE_CLK);
	w_strs(w, "clock-names", "uartclk\0apb_pclk");
	w_end(w);

	if (!d->rtc.size)
		return;
	w_begin_at(w, "rtc", d->rtc.base);
	w_strs(w, "compatible", "arm,pl031\0arm,primecell");
	w_reg(w, &d->rtc);
	w_irq(w, GIC_SPI, d->rtc_spi, IRQ_TYPE_LEVEL_HIGH);
	w_u32(w, "clocks", PHANDLE_CLK);
	w_str(w, "clock-names", "apb_pclk");
	w_end(w);
}

static void put_range(fdt32_t *c, u32 space, u64 pci_addr, const struct arm64_fdt_region *r)
{
	c[0] = cpu_to_fdt32(space);
	put_u64(c + 1, pci_addr);
	put_u64(c + 3, r->base);
	put_u64(c + 5, r->size);
}

static void add_pci_ranges(struct fdtw *w, const struct arm64_fdt_desc *d)
{
	unsigned int n = d->pci_mmio64.size ? 3 : 2;
	fdt32_t *c = w_cells(w, "ranges", 7 * n);

	if (!c)
		return;
	put_range(c, PCI_SPACE_IO, 0, &d->pci_io);
	put_range(c + 7, PCI_SPACE_MEM32, d->pci_mmio32.base, &d->pci_mmio32);
	if (n == 3)
		put_range(c + 14, PCI_SPACE_MEM64, d->pci_mmio64.base, &d->pci_mmio64);
}

/*
 * INTx of the 32 slots of bus 0 onto 4 SPIs with the PCI-to-PCI bridge swizzle: pin P
 * (INTA = 0) of slot S raises line (S + P) % 4. Single-function devices, which all use
 * INTA, so spread over the four lines instead of sharing one. Devices behind bridges
 * are swizzled by the guest onto their bridge's slot, so bus 0 is all the map needs.
 */
static void add_pci_intx(struct fdtw *w, const struct arm64_fdt_desc *d)
{
	fdt32_t *c = w_cells(w, "interrupt-map-mask", 4);

	if (c) {
		c[0] = cpu_to_fdt32((ARM64_PCI_SLOTS - 1) << PCI_DEVFN_SLOT_SHIFT);
		c[1] = c[2] = 0;
		c[3] = cpu_to_fdt32(7);
	}
	c = w_cells(w, "interrupt-map",
		    ARM64_PCI_SLOTS * ARM64_PCI_INTX_PINS * ARM64_PCI_INTMAP_CELLS);
	for (unsigned int slot = 0; c && slot < ARM64_PCI_SLOTS; slot++) {
		for (unsigned int pin = 0; pin < ARM64_PCI_INTX_PINS; pin++) {
			u32 spi = d->pci_intx_spi + (slot + pin) % ARM64_PCI_INTX_PINS;
			u32 e[ARM64_PCI_INTMAP_CELLS] = {slot << PCI_DEVFN_SLOT_SHIFT,
							 0,
							 0,
							 pin + 1,
							 PHANDLE_GIC,
							 0,
							 0,
							 GIC_SPI,
							 spi,
							 IRQ_TYPE_LEVEL_HIGH};

			for (unsigned int i = 0; i < ARM64_PCI_INTMAP_CELLS; i++)
				*c++ = cpu_to_fdt32(e[i]);
		}
	}
}

static void add_pci(struct fdtw *w, const struct arm64_fdt_desc *d)
{
	fdt32_t *c;

	w_begin_at(w, "pcie", d->pci_ecam.base);
	w_str(w, "compatible", "pci-host-ecam-generic");
	w_str(w, "device_type", "pci");
	w_u32(w, "#address-cells", 3);
	w_u32(w, "#size-cells", 2);
	w_u32(w, "#interrupt-cells", 1);
	c = w_cells(w, "bus-range", 2);
	if (c) {
		c[0] = 0;
		c[1] = cpu_to_fdt32((u32)(d->pci_ecam.size / ARM64_PCI_ECAM_BUS_SIZE - 1));
	}
	w_u32(w, "linux,pci-domain", 0);
	w_reg(w, &d->pci_ecam);
	add_pci_ranges(w, d);
	w_prop(w, "dma-coherent", NULL, 0);
	/*
	 * msi-map, not msi-parent: with #msi-cells = 1 the ITS wants a DeviceID per device,
	 * which here is the requester ID, one to one.
	 */
	if (d->gic_its.base) {
		c = w_cells(w, "msi-map", 4);
		if (c) {
			c[0] = 0;
			c[1] = cpu_to_fdt32(PHANDLE_ITS);
			c[2] = 0;
			c[3] = cpu_to_fdt32(PCI_MSI_RID_SPAN);
		}
	}
	add_pci_intx(w, d);
	w_end(w);
}

static void add_chosen(struct fdtw *w, const struct arm64_fdt_desc *d, const char *uart_path)
{
	w_begin(w, "chosen");
	if (d->bootargs)
		w_str(w, "bootargs", d->bootargs);
	w_str(w, "stdout-path", uart_path);
	if (d->initrd.size) {
		w_u64(w, "linux,initrd-start", d->initrd.base);
		w_u64(w, "linux,initrd-end", d->initrd.base + d->initrd.size);
	}
	w_end(w);

	w_begin(w, "aliases");
	w_str(w, "serial0", uart_path);
	w_end(w);
}

/* Firmware's flash banks: code, then variables, as QEMU's virt describes them. */
static void add_flash(struct fdtw *w, const struct arm64_fdt_desc *d)
{
	unsigned int n = d->flash[1].size ? 2 : 1;
	fdt32_t *c;

	if (!d->flash[0].size)
		return;
	w_begin_at(w, "flash", d->flash[0].base);
	w_str(w, "compatible", "cfi-flash");
	c = w_cells(w, "reg", 4 * n);
	for (unsigned int i = 0; c && i < n; i++) {
		put_u64(c + 4 * i, d->flash[i].base);
		put_u64(c + 4 * i + 2, d->flash[i].size);
	}
	w_u32(w, "bank-width", ARM64_FLASH_BANK_WIDTH);
	w_end(w);
}

static void add_tree(struct fdtw *w, const struct arm64_fdt_desc *d)
{
	char uart_path[64];

	snprintf(uart_path, sizeof(uart_path), "/serial@%" PRIx64, d->uart.base);
	w_begin(w, "");
	w_str(w, "compatible", "linux,dummy-virt");
	w_u32(w, "#address-cells", 2);
	w_u32(w, "#size-cells", 2);
	w_u32(w, "interrupt-parent", PHANDLE_GIC);
	add_chosen(w, d, uart_path);
	w_begin_at(w, "memory", d->ram.base);
	w_str(w, "device_type", "memory");
	w_reg(w, &d->ram);
	w_end(w);
	add_cpus(w, d->nr_cpus);
	add_psci_timer(w);
	if (d->pmu)
		add_pmu(w);
	add_gic(w, d);
	add_uart_rtc(w, d);
	add_pci(w, d);
	add_flash(w, d);
	w_end(w);
}

/* A region must be non-empty and must not wrap around the address space. */
static bool region_bad(const struct arm64_fdt_region *r)
{
	u64 end;

	return !r->size || __builtin_add_overflow(r->base, r->size, &end);
}

static int check_regions(const struct arm64_fdt_desc *d, const char **why)
{
	const struct {
		const struct arm64_fdt_region *r;
		bool needed;
		const char *why;
	} regions[] = {
		{&d->ram, true, "device tree: RAM is empty or wraps"},
		{&d->gic_dist, true, "device tree: the GIC distributor is empty or wraps"},
		{&d->gic_redist, true, "device tree: the GIC redistributors are empty or wrap"},
		{&d->gic_its, d->gic_its.base, "device tree: the ITS is empty or wraps"},
		{&d->uart, true, "device tree: the UART is empty or wraps"},
		{&d->rtc, d->rtc.size, "device tree: the RTC wraps"},
		{&d->pci_ecam, true, "device tree: the PCI ECAM window is empty or wraps"},
		{&d->pci_io, true, "device tree: the PCI I/O window is empty or wraps"},
		{&d->pci_mmio32, true, "device tree: the PCI 32-bit window is empty or wraps"},
		{&d->pci_mmio64, d->pci_mmio64.size, "device tree: the PCI 64-bit window wraps"},
		{&d->initrd, d->initrd.size, "device tree: the initrd wraps"},
		{&d->flash[0], d->flash[0].size, "device tree: the firmware flash wraps"},
		{&d->flash[1], d->flash[1].size, "device tree: the variable flash wraps"},
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(regions); i++) {
		if (regions[i].needed && region_bad(regions[i].r)) {
			*why = regions[i].why;
			return -EINVAL;
		}
	}
	return 0;
}

static int check_desc(const struct arm64_fdt_desc *d, const char **why)
{
	u64 ecam_buses = d->pci_ecam.size / ARM64_PCI_ECAM_BUS_SIZE;

	if (check_regions(d, why))
		return -EINVAL;
	if (d->nr_cpus < 1 || d->nr_cpus > ARM64_FDT_MAX_CPUS) {
		*why = "device tree: the number of vCPUs is not 1..512";
		return -EINVAL;
	}
	if (d->gic_redist.size / ARM64_GIC_REDIST_STRIDE < d->nr_cpus) {
		*why = "device tree: the GIC redistributor region is too small for the vCPUs";
		return -EINVAL;
	}
	if (d->uart_spi > ARM64_GIC_MAX_SPI || d->rtc_spi > ARM64_GIC_MAX_SPI ||
	    d->pci_intx_spi > ARM64_GIC_MAX_SPI - (ARM64_PCI_INTX_PINS - 1)) {
		*why = "device tree: an SPI number is beyond the GIC's";
		return -EINVAL;
	}
	if (d->pci_ecam.size % ARM64_PCI_ECAM_BUS_SIZE || ecam_buses > 256) {
		*why = "device tree: the PCI ECAM window is not 1..256 buses of 1 MiB";
		return -EINVAL;
	}
	if (d->pci_mmio32.base + d->pci_mmio32.size > 4 * GiB) {
		*why = "device tree: the PCI 32-bit window ends above 4 GiB";
		return -EINVAL;
	}
	return 0;
}

int arm64_fdt_build(const struct arm64_fdt_desc *d, void *buf, size_t size, const char **why)
{
	struct fdtw w = {.fdt = buf};
	int err;

	err = check_desc(d, why);
	if (err)
		return err;
	if ((uintptr_t)buf % 8) {
		*why = "device tree: the buffer is not 8-byte aligned";
		return -EINVAL;
	}
	w.err = fdt_create(buf, (int)MIN(size, (size_t)ARM64_FDT_MAX_SIZE));
	if (!w.err)
		w.err = fdt_finish_reservemap(buf);
	add_tree(&w, d);
	if (!w.err)
		w.err = fdt_finish(buf);
	if (w.err == -FDT_ERR_NOSPACE) {
		*why = "device tree: does not fit in its buffer";
		return -ENOSPC;
	}
	if (w.err) {
		*why = fdt_strerror(w.err);
		return -EINVAL;
	}
	return 0;
}
