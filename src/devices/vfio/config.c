// SPDX-License-Identifier: GPL-2.0-only
/*
 * The configuration space the guest sees for a passed-through device: built once from the
 * device's own, which is not trusted (a device or a malicious firmware may offer loops,
 * pointers out of range, capabilities that overrun the space). The guest gets the
 * identity, the memory and I/O BARs (sized and moved through kvmbox's own BAR logic, so the
 * real BARs are never written; I/O BARs only where the board has port space), MSI and
 * MSI-X capabilities kvmbox emulates (MSI-X only when its table and PBA fit in real memory
 * BARs), read-only copies of vendor-specific capabilities (virtio finds its registers
 * through them), and the interrupt pin.
 * Hidden on purpose: the ROM BAR (a ROM is for firmware, which kvmbox replaces) and every
 * other capability (power management, PCIe), whose writes could reach the device's state
 * behind kvmbox.
 */
#include <errno.h>
#include <string.h>

#include "../msix.h"
#include "vfio.h"

#define PCI_MSI_FLAGS_64BIT   0x0080
#define PCI_MSI_FLAGS_MASKBIT 0x0100
#define PCI_BAR_TYPE_MASK     0x06

static u16 raw16(const u8 *raw, u32 off)
{
	return (u16)(raw[off] | raw[off + 1] << 8);
}

static u32 raw32(const u8 *raw, u32 off)
{
	return raw16(raw, off) | (u32)raw16(raw, off + 2) << 16;
}

unsigned int vfio_msi_cap_len(u16 ctl)
{
	unsigned int len = (ctl & PCI_MSI_FLAGS_64BIT) ? 14 : 10;

	return (ctl & PCI_MSI_FLAGS_MASKBIT) ? len + 10 : len;
}

unsigned int vfio_cap_walk(const u8 raw[PCI_CONFIG_SIZE],
			   void (*fn)(void *opaque, const u8 *raw, u8 off, u8 id), void *opaque)
{
	u8 seen[PCI_CONFIG_SIZE / 4] = {0};
	unsigned int n = 0;
	u8 off;

	if (!(raw[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	off = raw[PCI_CAPABILITY_LIST];
	/* Each pointer: inside the device-specific part, dword-aligned, seen once. */
	while (off >= PCI_CAP_START && off <= PCI_CONFIG_SIZE - 4 && !(off & 3) && !seen[off / 4] &&
	       n < VFIO_CAP_WALK_MAX) {
		seen[off / 4] = 1;
		fn(opaque, raw, off, raw[off]);
		n++;
		off = raw[off + 1];
	}
	return n;
}

#define VFIO_VNDR_CAPS_MAX 8

struct walk_state {
	struct vfio_cfg_info *info;
	u8 vndr[VFIO_VNDR_CAPS_MAX]; /* vendor-specific capabilities, shown as they are */
	unsigned int nr_vndr;
	u16 msix_vectors;
	u16 msi_ctl;
	bool msi_found;
};

static void note_msix(struct walk_state *w, const u8 *raw, u8 off)
{
	u32 table, pba;

	/* Table and PBA offset/BIR dwords at +4 and +8 must fit in the space. */
	if (off > PCI_CONFIG_SIZE - MSIX_CAP_LEN || w->info->has_msix)
		return;
	table = raw32(raw, off + 4);
	pba = raw32(raw, off + 8);
	w->info->has_msix = true;
	w->info->msix_bir = table & 7;
	w->info->pba_bir = pba & 7;
	w->info->msix_table_off = table & ~7u;
	w->info->msix_pba_off = pba & ~7u;
	w->msix_vectors = (u16)((raw16(raw, off + 2) & 0x7ff) + 1);
}

/* [off, off + len) inside memory BAR bir of fn, whose region has bar_size[bir] bytes. */
static bool in_mem_bar(const struct pci_function *fn, const u64 *bar_size, u8 bir, u64 off, u64 len)
{
	if (bir >= PCI_NUM_BARS || !fn->bars[bir].size || fn->bars[bir].is_io)
		return false;
	return off < bar_size[bir] && len <= bar_size[bir] - off;
}

/*
 * MSI-X is shown only when the device's whole table and PBA lie inside real memory BARs
 * and do not overlap: kvmbox traps exactly those bytes, so they must exist.
 */
static void check_msix(struct vfio_cfg_info *info, const struct pci_function *fn,
		       const u64 *bar_size, u16 vectors)
{
	u64 tlen = (u64)vectors * MSIX_ENTRY_SIZE, plen = ((vectors + 63u) / 64u) * 8u;
	u64 t = info->msix_table_off, p = info->msix_pba_off;

	if (!info->has_msix || !in_mem_bar(fn, bar_size, info->msix_bir, t, tlen) ||
	    !in_mem_bar(fn, bar_size, info->pba_bir, p, plen))
		return;
	if (info->msix_bir == info->pba_bir && t < p + plen && p < t + tlen)
		return;
	info->msix_vectors = vectors;
}

int vfio_msix_expose(struct msix *m, struct pci_function *fn, const struct vfio_cfg_info *info)
{
	u16 n = info->msix_vectors < MSIX_MAX_VECTORS ? info->msix_vectors : MSIX_MAX_VECTORS;
	int ret;

	if (!n)
		return -EINVAL;
	ret = msix_init(m, fn, n, info->msix_bir, info->msix_table_off, info->msix_pba_off);
	if (ret)
		return ret;
	/* msix_init puts both in one BAR; the device may use two. */
	pci_config_set32(fn, m->cap + MSIX_CAP_PBA, info->msix_pba_off | info->pba_bir);
	return 0;
}

static void note_cap(void *opaque, const u8 *raw, u8 off, u8 id)
{
	struct walk_state *w = opaque;
	u16 ctl;

	if (id == PCI_CAP_ID_MSIX) {
		note_msix(w, raw, off);
	} else if (id == PCI_CAP_ID_VNDR && w->nr_vndr < VFIO_VNDR_CAPS_MAX && off <= 0xfc) {
		w->vndr[w->nr_vndr++] = off;
	} else if (id == PCI_CAP_ID_MSI && !w->msi_found) {
		ctl = raw16(raw, off + 2);
		/* One that would run past the end of the space is a broken device's: ignored. */
		if (off + vfio_msi_cap_len(ctl) <= PCI_CONFIG_SIZE) {
			w->msi_found = true;
			w->msi_ctl = ctl;
		}
	}
}

/*
 * An I/O BAR: a region below the 4 bytes a BAR decodes still takes 4; one that is not a
 * power of 2 or above 256 bytes (no such thing in PCI), or a board without port space:
 * hidden (add_bar_io refuses).
 */
static void build_io_bar(struct pci_function *fn, unsigned int i, u64 size)
{
	if (!size)
		return;
	if (size < PCI_BAR_IO_MIN_SIZE)
		size = PCI_BAR_IO_MIN_SIZE;
	pci_function_add_bar_io(fn, i, size);
}

/* The guest's BAR for BAR i of the device; returns BARs consumed. */
static unsigned int build_bar(struct pci_function *fn, const u8 *raw, unsigned int i,
			      const u64 *bar_size)
{
	u32 reg = raw32(raw, PCI_BAR0 + 4 * i);
	bool is64 = (reg & PCI_BAR_TYPE_MASK) == PCI_BAR_MEM_TYPE_64;
	u64 size = bar_size[i];
	int ret;

	if (reg & PCI_BAR_IO) {
		build_io_bar(fn, i, size);
		return 1;
	}
	if (is64 && i + 1 >= PCI_NUM_BARS)
		return 1; /* a 64-bit BAR in the last slot is nonsense: hidden */
	if (!size)
		return is64 ? 2 : 1;
	/* A region smaller than a BAR can be (16 bytes) still decodes 16 bytes. */
	if (size < 16)
		size = 16;
	if (size & (size - 1))
		return is64 ? 2 : 1; /* BARs are powers of 2; VFIO's regions too */
	ret = is64 ? pci_function_add_bar64(fn, i, size) : pci_function_add_bar32(fn, i, size);
	if (!ret && (reg & PCI_BAR_MEM_PREFETCH))
		fn->config[PCI_BAR0 + 4 * i] |= PCI_BAR_MEM_PREFETCH;
	return is64 ? 2 : 1;
}

static int add_msi(struct pci_function *fn, struct vfio_cfg_info *info, u16 ctl)
{
	bool is64 = ctl & PCI_MSI_FLAGS_64BIT;
	int off = pci_function_add_cap(fn, PCI_CAP_ID_MSI, (u8)(is64 ? 14 : 10));

	if (off < 0)
		return off;
	/* One vector, no per-vector masking: enable bit, address, data writable. */
	pci_config_set16(fn, (u32)off + 2, is64 ? PCI_MSI_FLAGS_64BIT : 0);
	fn->wmask[off + 2] = 0x01;
	memset(&fn->wmask[off + 4], 0xff, is64 ? 10 : 6);
	fn->wmask[off + 4] = 0xfc; /* the address is dword-aligned */
	info->msi_cap = (u8)off;
	info->msi64 = is64;
	return 0;
}

/*
 * A vendor-specific capability, copied read-only (writes are dropped): it only describes
 * the device (virtio's say where its structures are in which BAR). Its length byte must
 * cover the header and stay inside the space.
 */
static void add_vndr(struct pci_function *fn, const u8 *raw, u8 off)
{
	u8 len = raw[off + 2];
	int at;

	if (len < 3 || off + len > PCI_CONFIG_SIZE)
		return;
	at = pci_function_add_cap(fn, PCI_CAP_ID_VNDR, len);
	if (at >= 0)
		memcpy(&fn->config[at + 2], &raw[off + 2], len - 2u);
}

int vfio_config_build(struct pci_function *fn, struct vfio_cfg_info *info,
		      const u8 raw[PCI_CONFIG_SIZE], const u64 bar_size[PCI_NUM_BARS])
{
	struct walk_state w = {.info = info};
	u8 pin = raw[PCI_INTERRUPT_PIN];

	memset(info, 0, sizeof(*info));
	if ((raw[PCI_HEADER_TYPE] & 0x7f) != 0)
		return -EINVAL; /* bridges and CardBus: not passed */
	pci_function_init(fn, raw16(raw, PCI_VENDOR_ID), raw16(raw, PCI_DEVICE_ID),
			  raw16(raw, PCI_CLASS_DEVICE));
	fn->config[PCI_REVISION_ID] = raw[PCI_REVISION_ID];
	fn->config[PCI_CLASS_PROG] = raw[PCI_CLASS_PROG];
	pci_config_set16(fn, PCI_SUBSYSTEM_VENDOR_ID, raw16(raw, PCI_SUBSYSTEM_VENDOR_ID));
	pci_config_set16(fn, PCI_SUBSYSTEM_ID, raw16(raw, PCI_SUBSYSTEM_ID));
	/* The ROM BAR is hidden: it reads 0 and ignores writes (wmask 0). */
	for (unsigned int i = 0; i < PCI_NUM_BARS;)
		i += build_bar(fn, raw, i, bar_size);
	info->nr_caps = (u8)vfio_cap_walk(raw, note_cap, &w);
	if (w.msi_found && add_msi(fn, info, w.msi_ctl))
		info->msi_cap = 0;
	for (unsigned int i = 0; i < w.nr_vndr; i++)
		add_vndr(fn, raw, w.vndr[i]);
	check_msix(info, fn, bar_size, w.msix_vectors);
	if (pin >= 1 && pin <= 4) {
		info->intx_pin = pin;
		fn->config[PCI_INTERRUPT_PIN] = pin;
	}
	return 0;
}
