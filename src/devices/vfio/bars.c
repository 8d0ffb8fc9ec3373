// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device's memory BARs in the guest. A region VFIO lets kvmbox mmap becomes a KVM
 * memory slot wherever the guest puts the BAR, so register accesses run without exits;
 * it is also mapped into the IOMMU at that guest address, so that another passed device
 * can DMA into it (peer-to-peer), and unmapped from both when the BAR moves. A BAR that
 * holds the MSI-X table or PBA, a region that cannot be mmapped, and one smaller than a
 * page are trapped instead: each access is a pread/pwrite on the device fd. I/O BARs are
 * always trapped, on the port bus (VFIO offers no mmap of port regions).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../bus.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "vfio.h"

/* Memory slots after the arm64 firmware's two: PCI_NUM_BARS per --vfio device. */
#define VFIO_FIRST_SLOT (VM_FIRST_DEVICE_SLOT + 2)

struct trap_ctx {
	struct vfio_dev *vd;
	unsigned int bar;
};

static struct trap_ctx trap_ctx[VM_MAX_VFIO][PCI_NUM_BARS];

static void bar_trap_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct trap_ctx *t = opaque;
	const struct vfio_region *r = &t->vd->regions[t->bar];
	ssize_t n;

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

static u32 bar_slot(const struct vfio_dev *vd, unsigned int bar)
{
	return VFIO_FIRST_SLOT + vd->index * PCI_NUM_BARS + bar;
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

static int bar_map(struct pci_function *fn, unsigned int bar, u64 addr)
{
	struct vfio_dev *vd = fn->opaque;
	struct vfio_bar *b = &vd->bars[bar];
	u64 size = fn->bars[bar].size;
	int ret;

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
	if (!b->map) {
		ret = bus_register(&vd->vm->mmio_bus, addr, size, bar_trap_io,
				   &trap_ctx[vd->index][bar], "vfio");
		b->trapped_set = !ret;
		return ret;
	}
	ret = vm_set_memslot(vd->vm, bar_slot(vd, bar), addr, b->map_size, b->map, false);
	if (ret) {
		pr_guest("--vfio %s: BAR%u at 0x%llx: no memory slot (%s)", vd->name, bar,
			 (unsigned long long)addr, strerror(-ret));
		return ret;
	}
	b->slot_set = true;
	/* Peer-to-peer: another device's DMA to this address reaches the BAR. */
	ret = vfio_dma_map(addr, b->map_size, b->map);
	b->dma_set = !ret;
	if (ret)
		pr_debug("--vfio %s: BAR%u at 0x%llx not mapped for peer-to-peer DMA: %s", vd->name,
			 bar, (unsigned long long)addr, strerror(-ret));
	return 0;
}

static void bar_unmap(struct pci_function *fn, unsigned int bar, u64 addr)
{
	struct vfio_dev *vd = fn->opaque;
	struct vfio_bar *b = &vd->bars[bar];

	if (b->trapped_set)
		bus_unregister(fn->bars[bar].is_io ? &vd->vm->pio_bus : &vd->vm->mmio_bus, addr);
	if (b->dma_set && vfio_dma_unmap(addr, b->map_size))
		pr_debug("--vfio %s: BAR%u at 0x%llx: IOMMU unmap failed", vd->name, bar,
			 (unsigned long long)addr);
	if (b->slot_set)
		vm_set_memslot(vd->vm, bar_slot(vd, bar), addr, 0, b->map, false);
	b->trapped_set = b->dma_set = b->slot_set = false;
}

/* Whether BAR i can run from an mmap: VFIO allows it, it fills whole pages, no MSI-X. */
static bool bar_mmappable(const struct vfio_dev *vd, unsigned int i, u64 size)
{
	const struct vfio_region *r = &vd->regions[i];
	long page = sysconf(_SC_PAGESIZE);

	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP) || r->size != size || size % (u64)page)
		return false;
	return !(vd->info.has_msix && (vd->info.msix_bir == i || vd->info.pba_bir == i));
}

static void bar_setup(struct vfio_dev *vd, unsigned int i)
{
	u64 size = vd->fn.bars[i].size;
	void *p;

	trap_ctx[vd->index][i] = (struct trap_ctx){vd, i};
	if (vd->fn.bars[i].is_io || !bar_mmappable(vd, i, size))
		return;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vd->fd,
		 (off_t)vd->regions[i].offset);
	if (p == MAP_FAILED) {
		pr_debug("--vfio %s: BAR%u cannot be mmapped (%s): trapped", vd->name, i,
			 strerror(errno));
		return;
	}
	vd->bars[i].map = p;
	vd->bars[i].map_size = size;
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
