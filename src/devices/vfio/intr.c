// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupts of a passed-through device, none of them through kvmbox's threads: VFIO
 * signals an eventfd that KVM listens on as an irqfd. MSI: the guest programs kvmbox's
 * emulated capability; kvmbox points a KVM MSI route at the message and enables the
 * device's MSI with VFIO_DEVICE_SET_IRQS (the device's own capability is written only by
 * the host kernel). MSI-X: kvmbox's MSI-X model (msix.c, passthrough backend) keeps the
 * table, routes and masking; enabling it hands VFIO one eventfd per vector. INTx: a level irqfd with a resample eventfd, which VFIO takes as its
 * unmask, so the line stays masked from the device's assert to the guest's EOI.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../irq.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "vfio.h"

/* VFIO_DEVICE_SET_IRQS with one eventfd (or none: fd < 0 disables the index). */
static int set_irqs(struct vfio_dev *vd, u32 index, u32 action, int fd)
{
	struct {
		struct vfio_irq_set s;
		s32 fd;
	} req = {
		.s =
			{
				.argsz = sizeof(req),
				.index = index,
				.start = 0,
			},
		.fd = fd,
	};

	if (fd >= 0) {
		req.s.flags = VFIO_IRQ_SET_DATA_EVENTFD | action;
		req.s.count = 1;
	} else {
		req.s.argsz = sizeof(req.s);
		req.s.flags = VFIO_IRQ_SET_DATA_NONE | action;
		req.s.count = 0;
	}
	return ioctl(vd->fd, VFIO_DEVICE_SET_IRQS, &req) ? -errno : 0;
}

static void intx_disable(struct vfio_dev *vd)
{
	if (!vd->intx_on)
		return;
	set_irqs(vd, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, -1);
	vd->intx_on = false;
}

static void intx_enable(struct vfio_dev *vd)
{
	/* VFIO takes one interrupt type at a time: INTx only while MSI and MSI-X are off. */
	if (vd->intx_on || vd->intx_fd < 0 || vd->msi_on || vd->msix_on)
		return;
	if (set_irqs(vd, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, vd->intx_fd) ||
	    set_irqs(vd, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK,
		     vd->intx_resample_fd)) {
		pr_guest("--vfio %s: INTx cannot be enabled", vd->name);
		return;
	}
	vd->intx_on = true;
}

static void msi_disable(struct vfio_dev *vd)
{
	if (!vd->msi_on)
		return;
	set_irqs(vd, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, -1);
	vd->msi_on = false;
	intx_enable(vd);
}

/* The message the guest wrote into the emulated capability. */
static void msi_message(struct vfio_dev *vd, u64 *addr, u32 *data)
{
	u32 cap = vd->info.msi_cap;

	*addr = pci_config_get32(&vd->fn, cap + 4);
	if (vd->info.msi64) {
		*addr |= (u64)pci_config_get32(&vd->fn, cap + 8) << 32;
		*data = pci_config_get16(&vd->fn, cap + 12);
	} else {
		*data = pci_config_get16(&vd->fn, cap + 8);
	}
}

static void msi_update(struct vfio_dev *vd)
{
	bool enable = vd->fn.config[vd->info.msi_cap + 2] & 1;
	u32 devid = (u32)vd->fn.slot << 3;
	u64 addr;
	u32 data;

	if (!enable) {
		msi_disable(vd);
		return;
	}
	msi_message(vd, &addr, &data);
	if (irq_msi_set(vd->irq, vd->msi_gsi, addr, data, devid))
		pr_guest("--vfio %s: MSI message 0x%llx/0x%x refused by KVM", vd->name,
			 (unsigned long long)addr, data);
	if (vd->msi_on)
		return;
	intx_disable(vd);
	if (set_irqs(vd, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, vd->msi_fd)) {
		pr_guest("--vfio %s: MSI cannot be enabled", vd->name);
		intx_enable(vd);
		return;
	}
	vd->msi_on = true;
}

/* The device signals each vector's eventfd (kvmbox's model attaches them to KVM). */
static int msix_trigger_on(struct vfio_dev *vd)
{
	struct {
		struct vfio_irq_set s;
		s32 fd[MSIX_MAX_VECTORS];
	} req = {
		.s =
			{
				.argsz = sizeof(req),
				.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				.index = VFIO_PCI_MSIX_IRQ_INDEX,
				.start = 0,
				.count = vd->msix.nr_vectors,
			},
	};

	for (unsigned int v = 0; v < vd->msix.nr_vectors; v++)
		req.fd[v] = vd->msix.irqfd[v];
	return ioctl(vd->fd, VFIO_DEVICE_SET_IRQS, &req) ? -errno : 0;
}

/*
 * Follows the guest's MSI-X enable bit: on, VFIO gets an eventfd for every vector the
 * guest sees; off, the host vectors go away (masking stays kvmbox's: see msix.c).
 */
static void msix_update(struct vfio_dev *vd)
{
	bool on = msix_enabled(&vd->msix);

	if (on == vd->msix_on)
		return;
	if (!on) {
		set_irqs(vd, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, -1);
		vd->msix_on = false;
		intx_enable(vd);
		return;
	}
	intx_disable(vd);
	if (msix_trigger_on(vd)) {
		pr_guest("--vfio %s: MSI-X cannot be enabled", vd->name);
		intx_enable(vd);
		return;
	}
	vd->msix_on = true;
}

void vfio_command_forward(struct vfio_dev *vd)
{
	u16 cmd = pci_config_get16(&vd->fn, PCI_COMMAND);
	const struct vfio_region *r = &vd->regions[VFIO_PCI_CONFIG_REGION_INDEX];

	if (pwrite(vd->fd, &cmd, 2, (off_t)(r->offset + PCI_COMMAND)) != 2)
		pr_guest("--vfio %s: command register write failed", vd->name);
}

void vfio_intr_config_written(struct vfio_dev *vd, u32 offset, u32 len)
{
	u32 cap = vd->info.msi_cap;

	if (offset < PCI_COMMAND + 2 && PCI_COMMAND < offset + len)
		vfio_command_forward(vd);
	if (cap && offset < cap + 14 && cap < offset + len)
		msi_update(vd);
	if (vd->info.msix_vectors) {
		msix_config_written(&vd->msix, offset, len);
		msix_update(vd);
	}
}

static int msi_setup(struct vfio_dev *vd)
{
	int ret;

	vd->irq = irq_routing_get(vd->vm);
	if (!vd->irq)
		return -ENOMEM;
	ret = irq_msi_alloc(vd->irq, &vd->msi_gsi);
	if (ret)
		return ret;
	vd->msi_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->msi_fd < 0)
		return -errno;
	return irq_irqfd_assign(vd->vm->vm_fd, vd->msi_fd, vd->msi_gsi);
}

static int intx_setup(struct vfio_dev *vd)
{
	vd->intx_gsi = pci_intx_gsi((unsigned int)vd->fn.slot, vd->info.intx_pin - 1u);
	vd->fn.config[PCI_INTERRUPT_LINE] = (u8)vd->intx_gsi;
	vd->intx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vd->intx_resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->intx_fd < 0 || vd->intx_resample_fd < 0)
		return -errno;
	return irq_irqfd_assign_resample(vd->vm->vm_fd, vd->intx_fd, vd->intx_resample_fd,
					 vd->intx_gsi);
}

int vfio_intr_setup(struct vfio_dev *vd)
{
	int ret = 0;

	vd->msi_fd = vd->intx_fd = vd->intx_resample_fd = -1;
	if (vd->info.msix_vectors)
		ret = msix_init_passthrough(&vd->msix, vd->vm);
	if (!ret && vd->info.msi_cap)
		ret = msi_setup(vd);
	if (!ret && vd->info.intx_pin)
		ret = intx_setup(vd);
	if (ret)
		return ret;
	intx_enable(vd);
	return 0;
}

void vfio_intr_teardown(struct vfio_dev *vd)
{
	if (vd->msix_on)
		set_irqs(vd, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, -1);
	vd->msix_on = false;
	msix_destroy(&vd->msix);
	msi_disable(vd);
	intx_disable(vd);
	if (vd->msi_fd >= 0) {
		irq_irqfd_deassign(vd->vm->vm_fd, vd->msi_fd, vd->msi_gsi);
		close(vd->msi_fd);
	}
	if (vd->intx_fd >= 0) {
		irq_irqfd_deassign(vd->vm->vm_fd, vd->intx_fd, vd->intx_gsi);
		close(vd->intx_fd);
	}
	if (vd->intx_resample_fd >= 0)
		close(vd->intx_resample_fd);
	if (vd->irq) {
		irq_msi_free(vd->irq, vd->msi_gsi);
		irq_routing_put(vd->irq);
	}
	vd->msi_fd = vd->intx_fd = vd->intx_resample_fd = -1;
	vd->irq = NULL;
}
