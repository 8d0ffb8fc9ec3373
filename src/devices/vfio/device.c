// SPDX-License-Identifier: GPL-2.0-only
/*
 * --vfio PATH: a host PCI device on the guest's PCI bus. The device is reset when kvmbox
 * takes it and when it gives it back (exit, and the VM rebuilt by --on-reboot=restart), so
 * neither the guest nor the host sees what the other left in it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../util/log.h"
#include "../../vm.h"
#include "vfio.h"

static void vfio_config_written(struct pci_function *fn, u32 offset, u32 len)
{
	vfio_intr_config_written(fn->opaque, offset, len);
}

static int vfio_check(const struct vm_config *cfg)
{
	char a[64], b[64];

	for (unsigned int i = 0; i < cfg->nr_vfio; i++) {
		int ret = vfio_host_check(cfg->vfio[i]);

		if (ret)
			return ret;
		for (unsigned int j = 0; j < i; j++) {
			if (!vfio_device_name(cfg->vfio[i], a, sizeof(a)) &&
			    !vfio_device_name(cfg->vfio[j], b, sizeof(b)) && !strcmp(a, b)) {
				pr_err("--vfio %s: the same device is given twice", cfg->vfio[i]);
				return -EXIT_BAD_INPUT;
			}
		}
	}
	return 0;
}

static void vfio_destroy(struct device *dev)
{
	struct vfio_dev *vd = container_of(dev, struct vfio_dev, dev);

	vfio_intr_teardown(vd);
	vfio_bars_teardown(vd);
	vfio_host_close(vd);
	free(vd);
}

/* Everything but the bus slot, which decides the INTx line. */
static int vfio_build(struct vfio_dev *vd)
{
	u64 bar_size[PCI_NUM_BARS];
	int ret = vfio_host_open(vd);

	if (ret)
		return ret;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		bar_size[i] = vd->regions[i].size;
	if (vfio_config_build(&vd->fn, &vd->info, vd->raw_config, bar_size)) {
		pr_err("--vfio %s: a bridge or CardBus function cannot be passed", vd->path);
		return -EXIT_BAD_INPUT;
	}
	/* An MSI-X kvmbox cannot show is hidden; bars_setup then traps its BAR whole. */
	if (vd->info.msix_vectors && vfio_msix_expose(&vd->msix, &vd->fn, &vd->info))
		vd->info.msix_vectors = 0;
	vd->fn.opaque = vd;
	vd->fn.config_written = vfio_config_written;
	return vfio_bars_setup(vd);
}

static int vfio_realize_one(struct vm *vm, unsigned int index)
{
	struct vfio_dev *vd = calloc(1, sizeof(*vd));
	int ret;

	if (!vd)
		return -ENOMEM;
	vd->dev.ops = &vfio_pci_ops;
	vd->vm = vm;
	vd->path = vm->cfg->vfio[index];
	vd->index = index;
	vd->no_mmap = vm->cfg->vfio_trap[index];
	vd->msi_fd = vd->intx_fd = vd->intx_resample_fd = -1;
	vd->fd = vd->group_fd = -1;
	/* Added at once so that a failure below is cleaned up with the VM. */
	vm_add_device(vm, &vd->dev);
	ret = vfio_device_name(vd->path, vd->name, sizeof(vd->name));
	if (ret) {
		pr_err("--vfio %s: %s", vd->path, strerror(-ret));
		return -EXIT_BAD_INPUT;
	}
	ret = vfio_build(vd);
	if (ret)
		return ret;
	ret = pci_bus_add(vm->pci, &vd->fn, -1);
	if (ret < 0) {
		pr_err("--vfio %s: no free slot on the PCI bus", vd->path);
		return -EXIT_BAD_INPUT;
	}
	ret = vfio_intr_setup(vd);
	if (ret)
		pr_err("--vfio %s: interrupts cannot be wired: %s", vd->path, strerror(-ret));
	pr_debug("--vfio %s: %s in slot %d, %u capabilities, MSI %s, MSI-X vectors %u, INTx pin %u",
		 vd->path, vd->name, vd->fn.slot, vd->info.nr_caps, vd->info.msi_cap ? "yes" : "no",
		 vd->info.msix_vectors, vd->info.intx_pin);
	return ret ? -EXIT_VMM_ERROR : 0;
}

static int vfio_realize(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->cfg->nr_vfio; i++) {
		int ret = vfio_realize_one(vm, i);

		if (ret)
			return ret;
	}
	return 0;
}

/* A passed-through device's state is in the hardware: no snapshots of a VM with one. */
static int vfio_save(struct device *dev, struct snap_buf *sb)
{
	(void)sb;
	pr_err("--vfio %s: a passed-through device cannot be snapshotted",
	       container_of(dev, struct vfio_dev, dev)->path);
	return -EOPNOTSUPP;
}

const struct device_ops vfio_pci_ops = {
	.name = "vfio-pci",
	.check = vfio_check,
	.realize = vfio_realize,
	.save = vfio_save,
	.destroy = vfio_destroy,
};
