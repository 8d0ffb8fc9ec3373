// SPDX-License-Identifier: GPL-2.0-only
/*
 * QEMU's edu device (docs/specs/edu.rst in QEMU) passed through by kvmbox --vfio: the
 * registers through the mmapped BAR, BAR sizing and relocation, the DMA engine to and from
 * guest RAM, a DMA aimed outside guest RAM (the IOMMU refuses it; the VMM keeps running),
 * MSI and INTx, and peer-to-peer DMA from one edu into the other's BAR. Run by tests/vfio/run
 * in the --vfio lab with both of the lab's edu devices; without one every check skips.
 */
#include "libguest.h"
#include "pci.h"

#define EDU_VENDOR_DEVICE 0x11e81234u
#define EDU_ID		  0x00
#define EDU_LIVE	  0x04
#define EDU_FACT	  0x08
#define EDU_STATUS	  0x20
#define EDU_IRQ_STATUS	  0x24
#define EDU_IRQ_RAISE	  0x60
#define EDU_IRQ_ACK	  0x64
#define EDU_DMA_SRC	  0x80
#define EDU_DMA_DST	  0x88
#define EDU_DMA_COUNT	  0x90
#define EDU_DMA_CMD	  0x98
#define EDU_DMA_BUF	  0x40000
#define EDU_BAR_SIZE	  (1u << 20)
#define DMA_RUN		  0x01
#define DMA_TO_RAM	  0x02
#define MSI_VECTOR	  0x61
#define INTX_VECTOR	  0x62
#define BEYOND_RAM	  0x20000000u /* 512 MiB: above the test's 64 MiB, below the PCI window */
#define MOVED_BAR	  0xd0000000u

struct edu {
	int slot;
	u32 bar;
};

static struct edu edus[2];
static int nr_edus;
static u8 src_buf[256] __attribute__((aligned(64)));
static u8 dst_buf[256] __attribute__((aligned(64)));
static volatile u32 msi_count, intx_count, irq_status_seen;
static u32 irq_bar;

static void find_edus(void)
{
	for (int slot = 0; slot < 32 && nr_edus < 2; slot++) {
		if (pci_conf_read32(0, slot, 0, 0) != EDU_VENDOR_DEVICE)
			continue;
		edus[nr_edus].slot = slot;
		edus[nr_edus].bar = pci_conf_read32(0, slot, 0, 0x10) & ~0xfu;
		/* Memory decode and bus mastering (for DMA). */
		pci_conf_write32(0, slot, 0, 0x04, 0x0006);
		nr_edus++;
	}
}

static bool wait_clear(u32 bar, u32 reg, u32 bit)
{
	u64 start = rdtsc();

	while (readl(bar + reg) & bit) {
		if (rdtsc() - start > 4 * TSC_TIMEOUT_LONG)
			return false;
		pause();
	}
	return true;
}

static bool dma(u32 bar, u32 src, u32 dst, u32 count, u32 cmd)
{
	writel(bar + EDU_DMA_SRC, src);
	writel(bar + EDU_DMA_DST, dst);
	writel(bar + EDU_DMA_COUNT, count);
	writel(bar + EDU_DMA_CMD, cmd | DMA_RUN);
	return wait_clear(bar, EDU_DMA_CMD, DMA_RUN);
}

static void test_registers(struct edu *e)
{
	u32 id = readl(e->bar + EDU_ID);

	report((id & 0xff) == 0xed, "ID register reads 0x%x (0xRRrr00ed)", id);
	writel(e->bar + EDU_LIVE, 0x12345678);
	report(readl(e->bar + EDU_LIVE) == ~0x12345678u, "liveness register inverts");
	writel(e->bar + EDU_FACT, 5);
	report(wait_clear(e->bar, EDU_STATUS, 1) && readl(e->bar + EDU_FACT) == 120,
	       "factorial of 5 is 120");
}

static void test_bar_relocation(struct edu *e)
{
	u32 sized;

	pci_conf_write32(0, e->slot, 0, 0x04, 0x0000);
	pci_conf_write32(0, e->slot, 0, 0x10, 0xffffffff);
	sized = pci_conf_read32(0, e->slot, 0, 0x10);
	report((sized & ~0xfu) == ~(EDU_BAR_SIZE - 1), "BAR0 sizes as 1 MiB (0x%x)", sized);
	pci_conf_write32(0, e->slot, 0, 0x10, MOVED_BAR);
	pci_conf_write32(0, e->slot, 0, 0x04, 0x0006);
	report((pci_conf_read32(0, e->slot, 0, 0x10) & ~0xfu) == MOVED_BAR, "BAR0 moved to 0x%x",
	       MOVED_BAR);
	report((readl(MOVED_BAR + EDU_ID) & 0xff) == 0xed, "ID register at the new address");
	e->bar = MOVED_BAR;
}

static void test_dma(struct edu *e)
{
	bool same = true;

	for (int i = 0; i < 256; i++) {
		src_buf[i] = (u8)(i * 7 + 3);
		dst_buf[i] = 0;
	}
	report(dma(e->bar, (u32)(u64)src_buf, EDU_DMA_BUF, 256, 0), "DMA guest RAM -> edu");
	report(dma(e->bar, EDU_DMA_BUF, (u32)(u64)dst_buf, 256, DMA_TO_RAM),
	       "DMA edu -> guest RAM");
	for (int i = 0; i < 256; i++)
		same &= dst_buf[i] == src_buf[i];
	report(same, "DMA round trip copies 256 bytes");
}

static void test_dma_outside_ram(struct edu *e)
{
	/* The IOMMU has no mapping there: the device's writes and reads fault in the host. */
	report(dma(e->bar, EDU_DMA_BUF, BEYOND_RAM, 256, DMA_TO_RAM),
	       "DMA to 0x%x (outside guest RAM) completes without effect", BEYOND_RAM);
	report(dma(e->bar, BEYOND_RAM, EDU_DMA_BUF, 256, 0),
	       "DMA from outside guest RAM completes");
	for (int i = 0; i < 256; i++)
		dst_buf[i] = 0;
	dma(e->bar, EDU_DMA_BUF, (u32)(u64)dst_buf, 16, DMA_TO_RAM);
	report_info("bytes read from outside guest RAM: %x %x %x %x", dst_buf[0], dst_buf[1],
		    dst_buf[2], dst_buf[3]);
	report((readl(e->bar + EDU_ID) & 0xff) == 0xed, "device and VMM still answer");
	test_dma(e);
}

static void irq_ack(void)
{
	irq_status_seen = readl(irq_bar + EDU_IRQ_STATUS);
	writel(irq_bar + EDU_IRQ_ACK, irq_status_seen);
}

static void msi_handler(struct frame *f)
{
	(void)f;
	irq_ack();
	msi_count++;
}

static void intx_handler(struct frame *f)
{
	(void)f;
	irq_ack();
	intx_count++;
}

static int find_msi_cap(int slot)
{
	int off = pci_conf_read32(0, slot, 0, 0x34) & 0xff;

	for (int n = 0; off && n < 48; n++) {
		u32 hdr = pci_conf_read32(0, slot, 0, off);

		if ((hdr & 0xff) == 0x05)
			return off;
		off = (hdr >> 8) & 0xff;
	}
	return 0;
}

/* Waits, interrupts on, until *count reaches want. */
static bool wait_count(volatile u32 *count, u32 want)
{
	u64 start = rdtsc();

	sti();
	while (*count < want && rdtsc() - start < TSC_TIMEOUT_LONG)
		pause();
	cli();
	return *count >= want;
}

static void test_msi(struct edu *e)
{
	int cap = find_msi_cap(e->slot);
	u32 ctl;
	bool ok;

	if (!cap) {
		report(false, "MSI capability present");
		return;
	}
	irq_bar = e->bar;
	set_irq_handler(MSI_VECTOR, msi_handler);
	ctl = pci_conf_read32(0, e->slot, 0, cap);
	pci_conf_write32(0, e->slot, 0, cap + 4, 0xfee00000u | (apic_id() << 12));
	if (ctl & (0x80u << 16)) {
		pci_conf_write32(0, e->slot, 0, cap + 8, 0);
		pci_conf_write32(0, e->slot, 0, cap + 12, MSI_VECTOR);
	} else {
		pci_conf_write32(0, e->slot, 0, cap + 8, MSI_VECTOR);
	}
	pci_conf_write32(0, e->slot, 0, cap, ctl | (1u << 16));
	writel(e->bar + EDU_IRQ_RAISE, 0x5a);
	ok = wait_count(&msi_count, 1);
	report(ok && irq_status_seen == 0x5a, "MSI arrives (%u, status 0x%x)", msi_count,
	       irq_status_seen);
	pci_conf_write32(0, e->slot, 0, cap, ctl & ~(1u << 16));
}

static void test_intx(struct edu *e)
{
	int pin = pci_conf_read32(0, e->slot, 0, 0x3c) & 0xff;
	bool ok;

	irq_bar = e->bar;
	set_irq_handler(INTX_VECTOR, intx_handler);
	ioapic_route(pin, INTX_VECTOR, apic_id(), true);
	writel(e->bar + EDU_IRQ_RAISE, 0x33);
	ok = wait_count(&intx_count, 1);
	report(ok && irq_status_seen == 0x33, "INTx arrives on IOAPIC pin %d (%u, status 0x%x)",
	       pin, intx_count, irq_status_seen);
	/* Level-triggered: acked in the handler, so one raise is one interrupt, not a storm. */
	writel(e->bar + EDU_IRQ_RAISE, 0x44);
	ok = wait_count(&intx_count, 2);
	report(ok && intx_count == 2 && irq_status_seen == 0x44,
	       "a second INTx after EOI and resample (%u, status 0x%x)", intx_count,
	       irq_status_seen);
	ioapic_mask(pin);
}

static void test_p2p(struct edu *a, struct edu *b)
{
	static u32 v = 0x0badcafe;
	u32 got;

	v += 0x1111;
	*(volatile u32 *)src_buf = v;
	dma(a->bar, (u32)(u64)src_buf, EDU_DMA_BUF, 4, 0);
	/* edu A writes into edu B's liveness register, through the IOMMU's BAR mapping. */
	report(dma(a->bar, EDU_DMA_BUF, b->bar + EDU_LIVE, 4, DMA_TO_RAM),
	       "DMA from slot %d into slot %d's BAR at 0x%x", a->slot, b->slot, b->bar);
	got = readl(b->bar + EDU_LIVE);
	report(got == ~v, "peer-to-peer write reached slot %d (liveness 0x%x)", b->slot, got);
}

int main(void)
{
	report_prefix_push("vfio_edu");
	find_edus();
	if (!nr_edus) {
		report_skip("no edu device (1234:11e8) on the bus: run with kvmbox --vfio");
		return report_summary();
	}
	report_info("%d edu device(s), first in slot %d at 0x%x", nr_edus, edus[0].slot,
		    edus[0].bar);
	test_registers(&edus[0]);
	test_bar_relocation(&edus[0]);
	test_dma(&edus[0]);
	test_msi(&edus[0]);
	test_intx(&edus[0]);
	test_dma_outside_ram(&edus[0]);
	if (nr_edus > 1) {
		test_p2p(&edus[0], &edus[1]);
		/* Into the BAR that moved: its IOMMU mapping followed it. */
		test_p2p(&edus[1], &edus[0]);
	} else
		report_skip("peer-to-peer: only one edu device");
	return report_summary();
}
