// SPDX-License-Identifier: GPL-2.0-only
/*
 * Register flood: every CPU but the BSP writes random values of random widths to the
 * registers kvmbox emulates (COM1, COM2, CMOS RTC, i8042, fw_cfg, ACPI PM, PCI
 * configuration space through 0xcf8/0xcfc, virtio-rng's BAR) while the BSP keeps reading
 * virtio-blk sectors and checking their content. kvmbox must stay up and blk must answer
 * every read correctly. Needs --disk and --rng from tests/guest/run, and 2+ CPUs.
 *
 * Left out or tamed, because a guest may legitimately do them: writes that end or reset
 * the VM (debug-exit, the ACPI reset register's reset value, SLP_EN in PM1a_CNT, i8042
 * output-port writes and reset pulses); anything reaching blk's own function (its status
 * or BARs would reset or move the device under test); BARs and the MSI-X capability of
 * the other functions (a moved BAR can cover blk's; MSI-X with random messages could send
 * INIT to a CPU); rng's ring addresses and its configuration-access capability (a device
 * told to use random RAM as a ring may write there: guest-caused DMA, not a VMM fault).
 * COM1 is the test's console: it is set up again after the flood, and nothing prints
 * during it.
 */
#include "libguest.h"
#include "smp.h"
#include "virtio.h"
#include "../../tests/lab/guest/flood_regs.h"

#define DISK_MAGIC "kvmbox guest disk\n"
#define SECTOR	   512
#define BLK_T_IN   0
#define BLK_S_OK   0

#define DEFAULT_WRITES 20000 /* per flooding CPU */

#define PCI_CAP_PTR	   0x34
#define PCI_CAP_ID_MSIX	   0x11
#define PCI_CAP_ID_VNDR	   0x09
#define VIRTIO_PCI_CAP_PCI 5
#define CFG_DWORDS	   64

#define VQ_SIZE	      16
#define COMMON_Q_DESC 0x20 /* queue_desc, queue_driver, queue_device: 0x20-0x37 */
#define COMMON_Q_END  0x38

struct blk_req_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

static struct virtio_pci_dev blk, rng;
static struct virtqueue blk_vq;
static u8 *blk_buf;
static u64 cfg_allowed[32]; /* per slot: bit n = config dword n may be flooded */
static u8 rng_rings[4 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static u64 writes_per_cpu = DEFAULT_WRITES;
static volatile int flooders_running;

static u64 xorshift(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void out_width(u32 port, int width, u32 v)
{
	if (width == 1)
		outb(port, (u8)v);
	else if (width == 2)
		outw(port, (u16)v);
	else
		outl(port, v);
}

static void flood_port(u64 *seed)
{
	const struct flood_region *r = &flood_ports[xorshift(seed) % ARRAY_SIZE(flood_ports)];
	int width = 1 << (xorshift(seed) % 3);
	u32 off, port;

	if ((u32)width > r->len)
		width = 1;
	off = xorshift(seed) % (r->len - width + 1);
	port = r->base + off;
	out_width(port, width, flood_tame(port, width, (u32)xorshift(seed)));
}

/* A random allowed dword of a random function, then a write of random width into it. */
static void flood_config(u64 *seed)
{
	u32 slot = xorshift(seed) % 32, fn = xorshift(seed) % 8, dw = xorshift(seed) % CFG_DWORDS;
	int width = 1 << (xorshift(seed) % 3);
	u32 off = (xorshift(seed) % 4) & ~(u32)(width - 1);

	if (!(cfg_allowed[slot] >> dw & 1))
		return;
	outl(0xcf8, 0x80000000u | slot << 11 | fn << 8 | dw << 2);
	out_width(0xcfc + off, width, (u32)xorshift(seed));
}

/* rng's BAR (common, ISR, device, notify, MSI-X table and PBA), ring addresses aside. */
static void flood_rng_bar(u64 *seed)
{
	u64 off = xorshift(seed) % 0x6000;
	int width = 1 << (xorshift(seed) % 3);
	u64 addr = (rng.common & ~0xfffULL) + (off & ~(u64)(width - 1));
	u32 v = (u32)xorshift(seed);

	if (addr + width > rng.common + COMMON_Q_DESC && addr < rng.common + COMMON_Q_END)
		return;
	if (width == 1)
		writeb(addr, (u8)v);
	else if (width == 2)
		writew(addr, (u16)v);
	else
		writel(addr, v);
}

static void flood(void *arg)
{
	u64 seed = 0x9e3779b97f4a7c15ULL * (u64)(uintptr_t)arg + rdtsc();

	for (u64 i = 0; i < writes_per_cpu; i++) {
		switch (xorshift(&seed) % 4) {
		case 0:
		case 1:
			flood_port(&seed);
			break;
		case 2:
			flood_config(&seed);
			break;
		default:
			flood_rng_bar(&seed);
		}
	}
	__atomic_sub_fetch(&flooders_running, 1, __ATOMIC_SEQ_CST);
}

/* Which config dwords of each slot may be flooded: not blk's, not BARs, MSI-X, PCI cfg. */
static void plan_config(void)
{
	for (int slot = 0; slot < 32; slot++) {
		u64 ok = ~0ULL & ~(0x3fULL << 4) & ~BIT(12); /* BARs 0x10-0x27, ROM 0x30 */
		int cap, n = 0;

		if (slot == blk.slot) {
			cfg_allowed[slot] = 0;
			continue;
		}
		if (pci_conf_read32(0, slot, 0, 0) != 0xffffffffu)
			for (cap = pci_conf_read32(0, slot, 0, PCI_CAP_PTR) & 0xfc; cap && n < 48;
			     cap = (pci_conf_read32(0, slot, 0, cap) >> 8) & 0xfc, n++) {
				u32 head = pci_conf_read32(0, slot, 0, cap);

				if ((head & 0xff) == PCI_CAP_ID_MSIX)
					ok &= ~BIT(cap / 4);
				if ((head & 0xff) == PCI_CAP_ID_VNDR &&
				    (head >> 24) == VIRTIO_PCI_CAP_PCI)
					ok &= ~(0x1fULL << (cap / 4));
			}
		cfg_allowed[slot] = ok;
	}
}

/* virtio-blk: reads sector n (0: the runner's magic; others: zeros) and checks it. */
static bool blk_read_check(u64 sector)
{
	struct blk_req_hdr *hdr = (struct blk_req_hdr *)blk_buf;
	u8 *data = blk_buf + SECTOR, *status = blk_buf + 2 * SECTOR;
	struct vring_desc *d = blk_vq.desc;
	u32 len;

	*hdr = (struct blk_req_hdr){.type = BLK_T_IN, .sector = sector};
	memset(data, 0xa5, SECTOR);
	*status = 0xff;
	d[0] = (struct vring_desc){(u64)hdr, sizeof(*hdr), VRING_DESC_F_NEXT, 1};
	d[1] = (struct vring_desc){(u64)data, SECTOR, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2};
	d[2] = (struct vring_desc){(u64)status, 1, VRING_DESC_F_WRITE, 0};
	vq_publish(&blk_vq, 0);
	if (!vq_wait_used(&blk_vq, &len, VIRTIO_S_NEEDS_RESET) || *status != BLK_S_OK)
		return false;
	if (sector == 0)
		return !memcmp(data, DISK_MAGIC, sizeof(DISK_MAGIC) - 1);
	for (int i = 0; i < SECTOR; i++)
		if (data[i])
			return false;
	return true;
}

/* rng with its rings in rng_rings, so a flooded status or size cannot aim it elsewhere. */
static bool rng_setup(void)
{
	const char *why;
	u64 base = (u64)rng_rings;

	if (!virtio_pci_find(VIRTIO_ID_RNG, &rng, &why) || !virtio_negotiate(&rng, 0, &why)) {
		report_info("virtio-rng: %s", why);
		return false;
	}
	memset(rng_rings, 0, sizeof(rng_rings));
	if (!virtio_queue_enable_at(&rng, 0, VQ_SIZE, base, base + PAGE_SIZE, base + 2 * PAGE_SIZE))
		return false;
	virtio_driver_ok(&rng);
	return true;
}

static void restore_com1(void)
{
	outb(COM1 + 3, 0x80); /* DLAB: 115200 baud */
	outb(COM1 + 0, 1);
	outb(COM1 + 1, 0);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 1, 0);    /* no interrupts */
	outb(COM1 + 2, 0x07); /* FIFOs on and cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS; no loopback */
}

int main(void)
{
	const char *why, *w = getarg("writes");
	int cpus = smp_init(), reads = 0, bad = 0;

	report_prefix_push("flood");
	if (w)
		writes_per_cpu = strtoul(w, NULL, 0);
	blk_buf = alloc_page();
	if (!report(cpus >= 2, "%d CPUs (2 or more needed)", cpus) ||
	    !report(virtio_pci_find(VIRTIO_ID_BLOCK, &blk, &why) &&
			    virtio_init(&blk, &blk_vq, alloc_page(), 0, &why),
		    "virtio-blk set up (needs --disk)") ||
	    !report(rng_setup(), "virtio-rng set up (needs --rng)"))
		return report_summary();
	plan_config();
	report(blk_read_check(0) && blk_read_check(1), "virtio-blk reads before the flood");
	report_info("%d CPUs write %u values each", cpus - 1, (unsigned int)writes_per_cpu);
	flooders_running = cpus - 1;
	for (int cpu = 1; cpu < cpus; cpu++)
		on_cpu_async(cpu, flood, (void *)(uintptr_t)cpu);
	/* No output until COM1 is set up again: the flood changes its line settings. */
	while (__atomic_load_n(&flooders_running, __ATOMIC_SEQ_CST) > 0 && !bad) {
		bad += !blk_read_check((u64)(reads % 2));
		reads++;
	}
	for (int cpu = 1; cpu < cpus; cpu++)
		cpu_wait_idle(cpu);
	restore_com1();
	report(!bad, "virtio-blk answered %d reads during the flood, all correct", reads);
	report(reads > 1, "the reads ran alongside the flood");
	report(blk_read_check(0), "virtio-blk reads after the flood");
	report(rng_setup() &&
		       virtio_get_status(&rng) == (VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
						   VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK),
	       "virtio-rng comes back after a reset");
	return report_summary();
}
