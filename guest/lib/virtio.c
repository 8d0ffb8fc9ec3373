// SPDX-License-Identifier: GPL-2.0-only
/*
 * A minimal virtio-pci driver for guest tests (virtio 1.x, "Virtio Over PCI Bus" and
 * "Split Virtqueues"). Polled: MSI-X stays off, so a device that wants to interrupt sets
 * ISR bits, which tests may read.
 */
#include "libguest.h"
#include "virtio.h"

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_MODERN_BASE 0x1040

#define PCI_COMMAND	    0x04
#define PCI_COMMAND_MEMORY  0x2
#define PCI_COMMAND_MASTER  0x4
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR	    0x34
#define PCI_CAP_ID_VNDR	    0x09
#define PCI_MAX_CAPS	    48 /* a walk longer than this is a loop */

/* struct virtio_pci_cap: cfg_type at 3, bar at 4, offset at 8, length at 12. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* The common configuration structure. */
#define COMMON_DFSELECT 0x00
#define COMMON_DF	0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF	0x0c
#define COMMON_STATUS	0x14
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE	0x18
#define COMMON_Q_ENABLE 0x1c
#define COMMON_Q_NOFF	0x1e
#define COMMON_Q_DESC	0x20
#define COMMON_Q_DRIVER 0x28
#define COMMON_Q_DEVICE 0x30

/* Within the ring page: the table, then the avail ring, then the used ring. */
#define RING_AVAIL_OFF 0x400
#define RING_USED_OFF  0x800

#define VIRTIO_TIMEOUT (4 * TSC_TIMEOUT_LONG) /* generous: the lab's TSC runs on TCG */

static u8 conf_read8(int bus, int slot, int reg)
{
	return (u8)(pci_conf_read32(bus, slot, 0, reg) >> (8 * (reg & 3)));
}

/* The BAR's address, or 0 if it is not a usable memory BAR below 4 GiB. */
static u64 bar_address(int bus, int slot, u8 bar)
{
	u32 lo, hi = 0;

	if (bar > 5)
		return 0;
	lo = pci_conf_read32(bus, slot, 0, 0x10 + 4 * bar);
	if (lo & 1) /* an I/O BAR */
		return 0;
	if ((lo & 6) == 4 && bar < 5)
		hi = pci_conf_read32(bus, slot, 0, 0x14 + 4 * bar);
	/* The boot page tables map only the first 4 GiB. */
	return hi ? 0 : lo & ~0xfULL;
}

/* Records where one vendor capability points; false if its BAR is unusable. */
static bool take_cap(struct virtio_pci_dev *d, int cap)
{
	u8 type = conf_read8(d->bus, d->slot, cap + 3);
	u8 bar = conf_read8(d->bus, d->slot, cap + 4);
	u32 off = pci_conf_read32(d->bus, d->slot, 0, cap + 8);
	u64 base;

	if (type < VIRTIO_PCI_CAP_COMMON_CFG || type > VIRTIO_PCI_CAP_DEVICE_CFG)
		return true; /* PCI config access and others: not needed */
	base = bar_address(d->bus, d->slot, bar);
	if (!base)
		return false;
	if (type == VIRTIO_PCI_CAP_COMMON_CFG && !d->common)
		d->common = base + off;
	else if (type == VIRTIO_PCI_CAP_ISR_CFG && !d->isr)
		d->isr = base + off;
	else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && !d->device)
		d->device = base + off;
	else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && !d->notify) {
		d->notify = base + off;
		d->notify_mult = pci_conf_read32(d->bus, d->slot, 0, cap + 16);
	}
	return true;
}

static const char *walk_caps(struct virtio_pci_dev *d)
{
	int cap, n = 0;

	if (!(pci_conf_read32(d->bus, d->slot, 0, PCI_COMMAND) >> 16 & PCI_STATUS_CAP_LIST))
		return "no capability list";
	for (cap = conf_read8(d->bus, d->slot, PCI_CAP_PTR) & 0xfc; cap && n < PCI_MAX_CAPS;
	     cap = conf_read8(d->bus, d->slot, cap + 1) & 0xfc, n++) {
		if (conf_read8(d->bus, d->slot, cap) == PCI_CAP_ID_VNDR && !take_cap(d, cap))
			return "a virtio structure is in an unusable BAR (I/O or above 4 GiB)";
	}
	if (!d->common || !d->isr || !d->notify)
		return "common, ISR or notify capability missing";
	return NULL;
}

bool virtio_pci_find(u16 virtio_id, struct virtio_pci_dev *d, const char **why)
{
	u32 want = VIRTIO_PCI_VENDOR | (u32)(VIRTIO_PCI_MODERN_BASE + virtio_id) << 16;

	for (int slot = 0; slot < 32; slot++) {
		u32 cmd;

		if (pci_conf_read32(0, slot, 0, 0) != want)
			continue;
		*d = (struct virtio_pci_dev){.bus = 0, .slot = slot, .virtio_id = virtio_id};
		cmd = pci_conf_read32(0, slot, 0, PCI_COMMAND);
		pci_conf_write32(0, slot, 0, PCI_COMMAND,
				 (cmd & 0xffff) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		*why = walk_caps(d);
		return !*why;
	}
	*why = "no such device on bus 0";
	return false;
}

u8 virtio_get_status(struct virtio_pci_dev *d)
{
	return readb(d->common + COMMON_STATUS);
}

static void set_status(struct virtio_pci_dev *d, u8 status)
{
	writeb(d->common + COMMON_STATUS, status);
}

u8 virtio_wait_status(struct virtio_pci_dev *d, u8 mask)
{
	u64 start = rdtsc();
	u8 s;

	while (!((s = virtio_get_status(d)) & mask) && rdtsc() - start < VIRTIO_TIMEOUT)
		pause();
	return s;
}

bool virtio_reset(struct virtio_pci_dev *d)
{
	u64 start = rdtsc();

	set_status(d, 0);
	/* The spec lets a device take its time: status reads 0 once the reset is done. */
	while (virtio_get_status(d) != 0) {
		if (rdtsc() - start > VIRTIO_TIMEOUT)
			return false;
		pause();
	}
	return true;
}

u8 virtio_read_isr(struct virtio_pci_dev *d)
{
	return readb(d->isr);
}

u32 virtio_config_read32(struct virtio_pci_dev *d, u32 offset)
{
	return d->device ? readl(d->device + offset) : ~0u;
}

static u64 negotiate(struct virtio_pci_dev *d, u64 want)
{
	u64 offered, accept;

	writel(d->common + COMMON_DFSELECT, 0);
	offered = readl(d->common + COMMON_DF);
	writel(d->common + COMMON_DFSELECT, 1);
	offered |= (u64)readl(d->common + COMMON_DF) << 32;
	accept = offered & (want | BIT(VIRTIO_F_VERSION_1));
	writel(d->common + COMMON_GFSELECT, 0);
	writel(d->common + COMMON_GF, (u32)accept);
	writel(d->common + COMMON_GFSELECT, 1);
	writel(d->common + COMMON_GF, (u32)(accept >> 32));
	return accept;
}

/* 64-bit fields as two 32-bit writes, low half first: what every transport accepts. */
static void write64_halves(u64 addr, u64 v)
{
	writel(addr, (u32)v);
	writel(addr + 4, (u32)(v >> 32));
}

bool virtio_queue_enable_at(struct virtio_pci_dev *d, u16 q, u16 size, u64 desc, u64 avail,
			    u64 used)
{
	writew(d->common + COMMON_Q_SELECT, q);
	writew(d->common + COMMON_Q_SIZE, size);
	write64_halves(d->common + COMMON_Q_DESC, desc);
	write64_halves(d->common + COMMON_Q_DRIVER, avail);
	write64_halves(d->common + COMMON_Q_DEVICE, used);
	writew(d->common + COMMON_Q_ENABLE, 1);
	return readw(d->common + COMMON_Q_ENABLE) == 1;
}

static const char *setup_queue(struct virtio_pci_dev *d, struct virtqueue *vq, u16 q, void *page)
{
	u64 base = (u64)page;
	u16 max;

	writew(d->common + COMMON_Q_SELECT, q);
	max = readw(d->common + COMMON_Q_SIZE);
	if (max < VQ_MIN_SIZE)
		return "the queue is missing or has fewer than 4 entries";
	memset(page, 0, PAGE_SIZE);
	*vq = (struct virtqueue){
		.dev = d,
		.index = q,
		.size = max < VQ_MAX_SIZE ? max : VQ_MAX_SIZE,
		.desc = page,
		.avail = (struct vring_avail *)(base + RING_AVAIL_OFF),
		.used = (struct vring_used *)(base + RING_USED_OFF),
		.notify_addr = d->notify + d->notify_mult * readw(d->common + COMMON_Q_NOFF),
	};
	if (!virtio_queue_enable_at(d, q, vq->size, base, base + RING_AVAIL_OFF,
				    base + RING_USED_OFF))
		return "the queue did not enable";
	return NULL;
}

u64 virtio_negotiate(struct virtio_pci_dev *d, u64 want, const char **why)
{
	u64 features;

	if (!virtio_reset(d)) {
		*why = "status did not read 0 after a reset";
		return 0;
	}
	set_status(d, VIRTIO_S_ACKNOWLEDGE);
	set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	features = negotiate(d, want);
	if (!(features & BIT(VIRTIO_F_VERSION_1))) {
		*why = "VERSION_1 not offered";
		return 0;
	}
	set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	if (!(virtio_get_status(d) & VIRTIO_S_FEATURES_OK)) {
		*why = "FEATURES_OK refused";
		return 0;
	}
	return features;
}

void virtio_driver_ok(struct virtio_pci_dev *d)
{
	set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
			      VIRTIO_S_DRIVER_OK);
}

u64 virtio_init_queues(struct virtio_pci_dev *d, struct virtqueue *vqs, void *const *pages,
		       unsigned int n, u64 want, const char **why)
{
	u64 features = virtio_negotiate(d, want, why);

	if (!features)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		*why = setup_queue(d, &vqs[i], vqs[i].index, pages[i]);
		if (*why)
			return 0;
	}
	virtio_driver_ok(d);
	if (virtio_get_status(d) & (VIRTIO_S_NEEDS_RESET | VIRTIO_S_FAILED)) {
		*why = "the device needs a reset right after DRIVER_OK";
		return 0;
	}
	return features;
}

u64 virtio_init_queue(struct virtio_pci_dev *d, struct virtqueue *vq, u16 q, void *ring_page,
		      u64 want, const char **why)
{
	vq->index = q;
	return virtio_init_queues(d, vq, &ring_page, 1, want, why);
}

u64 virtio_init(struct virtio_pci_dev *d, struct virtqueue *vq, void *ring_page, u64 want,
		const char **why)
{
	return virtio_init_queue(d, vq, 0, ring_page, want, why);
}

void vq_notify(struct virtqueue *vq)
{
	/* The descriptors and index must be in RAM before the device hears of them. */
	asm volatile("mfence" ::: "memory");
	writew(vq->notify_addr, vq->index);
}

void vq_publish(struct virtqueue *vq, u16 head)
{
	WRITE_ONCE(vq->avail->ring[vq->avail_idx % vq->size], head);
	barrier(); /* x86 keeps stores in order; the compiler must too */
	WRITE_ONCE(vq->avail->idx, ++vq->avail_idx);
	vq_notify(vq);
}

void vq_set_avail_idx(struct virtqueue *vq, u16 idx)
{
	vq->avail_idx = idx;
	WRITE_ONCE(vq->avail->idx, idx);
	vq_notify(vq);
}

bool vq_wait_used(struct virtqueue *vq, u32 *len, u8 stop_status)
{
	u64 start = rdtsc();

	while (READ_ONCE(vq->used->idx) == vq->last_used) {
		if (rdtsc() - start > VIRTIO_TIMEOUT ||
		    (stop_status && (virtio_get_status(vq->dev) & stop_status)))
			return false;
		pause();
	}
	barrier(); /* the element is read after the index that published it */
	*len = READ_ONCE(vq->used->ring[vq->last_used % vq->size].len);
	vq->last_used++;
	return true;
}
