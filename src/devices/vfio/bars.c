// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device's memory BARs in the guest. A region VFIO lets kvmbox mmap becomes a KVM
 * memory slot wherever the guest puts the BAR, so register accesses run without exits;
 * it is also mapped into the IOMMU at that guest address, so that another passed device
 * can DMA into it (peer-to-peer), and unmapped from both when the BAR moves. The page(s)
 * holding the MSI-X table and PBA stay trapped (kvmbox's MSI-X model answers there; the
 * guest never reaches the real table), the rest of that BAR is mapped as above. A region
 * that cannot be mmapped and one smaller than a page are trapped whole: each access is a
 * pread/pwrite on the device fd. I/O BARs are always trapped, on the port bus (VFIO offers
 * no mmap of port regions).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../bus.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "vfio.h"

/* Memory slots after the arm64 firmware's two: two per BAR (around its MSI-X pages). */
#define VFIO_FIRST_SLOT (VM_FIRST_DEVICE_SLOT + 2)

struct trap_ctx {
	struct vfio_dev *vd;
	unsigned int bar;
};

static struct trap_ctx trap_ctx[VM_MAX_VFIO][PCI_NUM_BARS];

/* Accesses to the MSI-X table and PBA go to kvmbox's model: never to the device. */
static bool msix_trap(struct vfio_dev *vd, unsigned int bar, u64 off, u8 *data, u32 len,
		      bool is_write)
{
	const struct vfio_cfg_info *in = &vd->info;
	u64 t = in->msix_table_off, p = in->msix_pba_off;

	if (!in->msix_vectors)
		return false;
	if (bar == in->msix_bir && off >= t && off - t < msix_table_size(in->msix_vectors)) {
		msix_table_io(&vd->msix, off - t, data, len, is_write);
		return true;
	}
	if (bar == in->pba_bir && off >= p && off - p < msix_pba_size(in->msix_vectors)) {
		msix_pba_io(&vd->msix, off - p, data, len, is_write);
		return true;
	}
	return false;
}

static void bar_trap_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct trap_ctx *t = opaque;
	const struct vfio_region *r = &t->vd->regions[t->bar];
	ssize_t n;

	offset += t->vd->bars[t->bar].trap_start; /* the bus range starts there */
	if (msix_trap(t->vd, t->bar, offset, data, len, is_write))
		return;
	if (offset >= r->size || len > r->size - offset) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write)
		n = pwrite(t->vd->fd, data, len, (off_t)(r->offset + offset));
	else
		n = pread(t->vd->fd, data, len, (off_t)(r->offset + offset));
	if (n != (ssize_t)len) {
		pr_guest("--vfio %s: BAR%u %s at 0x%llx failed", t->vd->name, t->bar,
			 is_write ? "write" : "read", (unsigned long long)offset);
		if (!is_write)
			memset(data, 0xff, len);
	}
}

static u32 bar_slot(const struct vfio_dev *vd, unsigned int bar, unsigned int piece)
{
	return VFIO_FIRST_SLOT + (vd->index * PCI_NUM_BARS + bar) * 2 + piece;
}

/* Ports [port, port + size) forward to the device; the guest's port is checked first. */
static int bar_map_io(struct vfio_dev *vd, unsigned int bar, u64 port, u64 size)
{
	struct vfio_bar *b = &vd->bars[bar];
	int ret;

	if (!pci_io_bar_range_ok(port, size)) {
		pr_guest("--vfio %s: I/O BAR%u at port 0x%llx is outside the PCI port window; "
			 "unmapped",
			 vd->name, bar, (unsigned long long)port);
		return -EINVAL;
	}
	b->gpa = port;
	vfio_command_forward(vd);
	ret = bus_register(&vd->vm->pio_bus, port, size, bar_trap_io, &trap_ctx[vd->index][bar],
			   "vfio-io");
	if (ret)
		pr_guest("--vfio %s: I/O BAR%u at port 0x%llx overlaps another device; unmapped",
			 vd->name, bar, (unsigned long long)port);
	b->trapped_set = !ret;
	return ret;
}

/* Piece i of the mmapped BAR: a KVM memory slot, and mapped for peer-to-peer DMA. */
static int piece_map(struct vfio_dev *vd, unsigned int bar, unsigned int i)
{
	struct vfio_bar *b = &vd->bars[bar];
	struct vfio_bar_piece *pc = &b->piece[i];
	void *hva = (u8 *)b->map + pc->off;
	u64 gpa = b->gpa + pc->off;
	int ret;

	if (!pc->len)
		return 0;
	ret = vm_set_memslot(vd->vm, bar_slot(vd, bar, i), gpa, pc->len, hva, false);
	if (ret) {
		pr_guest("--vfio %s: BAR%u at 0x%llx: no memory slot (%s)", vd->name, bar,
			 (unsigned long long)b->gpa, strerror(-ret));
		return ret;
	}
	pc->slot_set = true;
	/* Peer-to-peer: another device's DMA to this address reaches the BAR. */
	ret = vfio_dma_map(gpa, pc->len, hva);
	pc->dma_set = !ret;
	if (ret)
		pr_debug("--vfio %s: BAR%u at 0x%llx not mapped for peer-to-peer DMA: %s", vd->name,
			 bar, (unsigned long long)gpa, strerror(-ret));
	return 0;
}

static void bar_unmap(struct pci_function *fn, unsigned int bar, u64 addr)
{
	struct vfio_dev *vd = fn->opaque;
	struct vfio_bar *b = &vd->bars[bar];

	if (b->trapped_set)
		bus_unregister(fn->bars[bar].is_io ? &vd->vm->pio_bus : &vd->vm->mmio_bus,
			       addr + b->trap_start);
	b->trapped_set = false;
	for (unsigned int i = 0; i < 2; i++) {
		struct vfio_bar_piece *pc = &b->piece[i];

		if (pc->dma_set && vfio_dma_unmap(addr + pc->off, pc->len))
			pr_debug("--vfio %s: BAR%u at 0x%llx: IOMMU unmap failed", vd->name, bar,
				 (unsigned long long)(addr + pc->off));
		if (pc->slot_set)
			vm_set_memslot(vd->vm, bar_slot(vd, bar, i), addr + pc->off, 0,
				       (u8 *)b->map + pc->off, false);
		pc->dma_set = pc->slot_set = false;
	}
}

static int bar_map(struct pci_function *fn, unsigned int bar, u64 addr)
{
	struct vfio_dev *vd = fn->opaque;
	struct vfio_bar *b = &vd->bars[bar];
	u64 size = fn->bars[bar].size;
	int ret = 0;

	if (fn->bars[bar].is_io)
		return bar_map_io(vd, bar, addr, size);
	if (!pci_bar_range_ok(&vd->vm->mem, addr, size)) {
		pr_guest("--vfio %s: BAR%u at 0x%llx would cover RAM or platform devices; unmapped",
			 vd->name, bar, (unsigned long long)addr);
		return -EINVAL;
	}
	b->gpa = addr;
	/*
	 * kvmbox maps BARs before config_written forwards the command register: the device
	 * must decode before the IOMMU can map its BAR (VFIO faults the mmap otherwise).
	 */
	vfio_command_forward(vd);
	if (b->trap_end > b->trap_start) {
		ret = bus_register(&vd->vm->mmio_bus, addr + b->trap_start,
				   b->trap_end - b->trap_start, bar_trap_io,
				   &trap_ctx[vd->index][bar], "vfio");
		b->trapped_set = !ret;
	}
	for (unsigned int i = 0; i < 2 && !ret && b->map; i++)
		ret = piece_map(vd, bar, i);
	if (ret)
		bar_unmap(fn, bar, addr); /* nothing half-mapped stays behind */
	return ret;
}

/*
 * Whether BAR i can run from an mmap: VFIO allows it, --vfio PATH,mmap=off does not
 * forbid it, it fills whole pages, and it holds
 * no MSI-X structure kvmbox cannot model (then all of it is trapped, as the table may be
 * anywhere).
 */
static bool bar_mmappable(const struct vfio_dev *vd, unsigned int i, u64 size)
{
	const struct vfio_region *r = &vd->regions[i];
	const struct vfio_cfg_info *in = &vd->info;
	long page = sysconf(_SC_PAGESIZE);

	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP) || r->size != size || size % (u64)page ||
	    vd->no_mmap)
		return false;
	return !(in->has_msix && !in->msix_vectors && (in->msix_bir == i || in->pba_bir == i));
}

static void span_add(u64 *lo, u64 *hi, u64 start, u64 len)
{
	if (start < *lo)
		*lo = start;
	if (start + len > *hi)
		*hi = start + len;
}

/*
 * An mmapped BAR runs from the mmap except the page(s) holding its MSI-X table or PBA,
 * which stay trapped (one range from the first such page to the last): up to two pieces.
 */
static void bar_split(struct vfio_dev *vd, unsigned int i, u64 size)
{
	const struct vfio_cfg_info *in = &vd->info;
	struct vfio_bar *b = &vd->bars[i];
	u64 page = (u64)sysconf(_SC_PAGESIZE), lo = size, hi = 0;

	if (in->msix_vectors && in->msix_bir == i)
		span_add(&lo, &hi, in->msix_table_off, msix_table_size(in->msix_vectors));
	if (in->msix_vectors && in->pba_bir == i)
		span_add(&lo, &hi, in->msix_pba_off, msix_pba_size(in->msix_vectors));
	memset(b->piece, 0, sizeof(b->piece));
	if (lo >= hi) {
		b->trap_start = b->trap_end = 0;
		b->piece[0].len = size;
		return;
	}
	/* Checked by config.c: both lie inside the region, which is size bytes. */
	b->trap_start = lo & ~(page - 1);
	b->trap_end = (hi + page - 1) & ~(page - 1);
	b->piece[0] = (struct vfio_bar_piece){.off = 0, .len = b->trap_start};
	b->piece[1] = (struct vfio_bar_piece){.off = b->trap_end, .len = size - b->trap_end};
}

static void bar_setup(struct vfio_dev *vd, unsigned int i)
{
	u64 size = vd->fn.bars[i].size;
	void *p;

	trap_ctx[vd->index][i] = (struct trap_ctx){vd, i};
	vd->bars[i].trap_start = 0;
	vd->bars[i].trap_end = size;
	if (vd->fn.bars[i].is_io || !bar_mmappable(vd, i, size)) {
		if (vd->no_mmap)
			pr_info("--vfio %s: BAR%u trapped (mmap=off)", vd->path, i);
		return;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vd->fd,
		 (off_t)vd->regions[i].offset);
	if (p == MAP_FAILED) {
		pr_debug("--vfio %s: BAR%u cannot be mmapped (%s): trapped", vd->name, i,
			 strerror(errno));
		return;
	}
	vd->bars[i].map = p;
	vd->bars[i].map_size = size;
	bar_split(vd, i, size);
}

int vfio_bars_setup(struct vfio_dev *vd)
{
	struct vm *vm = vd->vm;

	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *pb = &vd->fn.bars[i];
		u64 addr;
		int ret;

		if (!pb->size)
			continue;
		bar_setup(vd, i);
		/* Firmware's job: an address in the PCI window, decoding left to the guest. */
		if (pb->is_io)
			ret = pci_bus_alloc_io(vm->pci, pb->size, &addr);
		else
			ret = pci_bus_alloc_mmio(vm->pci, pb->size, &addr);
		if (ret) {
			pr_err("--vfio %s: no room for %sBAR%u (%llu bytes) in the PCI window",
			       vd->path, pb->is_io ? "I/O " : "", i, (unsigned long long)pb->size);
			return -EXIT_BAD_INPUT;
		}
		pci_function_set_bar_addr(&vd->fn, i, addr);
	}
	vd->fn.bar_map = bar_map;
	vd->fn.bar_unmap = bar_unmap;
	return 0;
}

void vfio_bars_teardown(struct vfio_dev *vd)
{
	pci_function_unmap_bars(&vd->fn);
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		if (vd->bars[i].map)
			munmap(vd->bars[i].map, vd->bars[i].map_size);
		vd->bars[i].map = NULL;
	}
}
