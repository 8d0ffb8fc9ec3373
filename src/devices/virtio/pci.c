// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-pci transport (virtio 1.x, "Virtio Over PCI Bus"), modern interface only: a
 * PCI function with one 64-bit memory BAR that holds the common configuration, ISR,
 * device configuration and notification structures and the MSI-X table and PBA, found by
 * the driver through vendor-specific capabilities. Queue notifications arrive through
 * ioeventfds on the notify addresses; interrupts leave through MSI-X (irqfds with MSI
 * routes) or, while MSI-X is off, the INTx line of the slot.
 */
#include <errno.h>
#include <linux/virtio_pci.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../kvm.h"
#include "../../util/log.h"
#include "../../sandbox/sandbox.h"
#include "../../util/thread.h"
#include "../../vm.h"
#include "virtio_pci.h"

#define VP_CAP_LEN	  16 /* struct virtio_pci_cap */
#define VP_NOTIFY_CAP_LEN 20 /* plus notify_off_multiplier */
#define VP_CFG_CAP_LEN	  20 /* plus pci_cfg_data */
#define VP_CFG_DATA	  16 /* pci_cfg_data inside the PCI configuration access capability */

static void vp_settle(struct virtio_pci *vp);
static void vp_bar_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write);

/* The PCI cfg access capability's position: the driver reaches the BAR through it. */
static u8 vp_cfg_cap(const struct virtio_pci *vp)
{
	return vp->fn.cap_last; /* added last, see vp_add_caps() */
}

bool vp_vector_valid(struct virtio_pci *vp, u16 vector)
{
	return vector == VIRTIO_NO_VECTOR || vector < vp->msix.nr_vectors;
}

/*
 * INTx follows ISR while MSI-X is off: asserted while any ISR bit is set, unless the
 * driver disabled INTx in COMMAND. The Interrupt Status bit of STATUS mirrors ISR.
 */
void vp_update_intx_locked(struct virtio_pci *vp)
{
	bool msix = msix_enabled(&vp->msix);
	bool pending = vp->isr && !msix;
	bool level = pending && !vp->intx_disabled;

	if (pending)
		__atomic_fetch_or(&vp->fn.config[PCI_STATUS], PCI_STATUS_INTERRUPT,
				  __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&vp->fn.config[PCI_STATUS], (u8)~PCI_STATUS_INTERRUPT,
				   __ATOMIC_RELAXED);
	if (level != vp->intx_level) {
		vp->intx_level = level;
		vp->hooks->set_intx(vp, level);
	}
}

/* Sends an interrupt: to vector if MSI-X is on, else ISR bit and INTx. Any thread. */
static void vp_interrupt(struct virtio_pci *vp, const u16 *vector, u8 isr_bit)
{
	struct virtio_dev *vdev = vp->vdev;
	u16 v;

	pthread_mutex_lock(&vdev->lock);
	if (msix_enabled(&vp->msix)) {
		v = *vector;
		pthread_mutex_unlock(&vdev->lock);
		/* With MSI-X on, a source without a vector sends nothing. */
		if (v != VIRTIO_NO_VECTOR)
			msix_notify(&vp->msix, v);
		return;
	}
	vp->isr |= isr_bit;
	vp_update_intx_locked(vp);
	pthread_mutex_unlock(&vdev->lock);
}

void vp_queue_interrupt(struct virtio_pci *vp, unsigned int q)
{
	if (q < vp->nr_queues)
		vp_interrupt(vp, &vp->vdev->queues[q].msix_vector, VP_ISR_QUEUE);
}

static void vp_config_interrupt(struct virtio_pci *vp)
{
	vp_interrupt(vp, &vp->vdev->config_msix_vector, VP_ISR_CONFIG);
}

static bool vp_broken(struct virtio_pci *vp)
{
	return __atomic_load_n(&vp->broken, __ATOMIC_ACQUIRE);
}

void virtio_notify_queue(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_pci *vp = vdev->transport;

	if (q >= vp->nr_queues || vp_broken(vp))
		return;
	if (!virtqueue_should_notify(&vdev->queues[q].vq))
		return;
	vp_interrupt(vp, &vdev->queues[q].msix_vector, VP_ISR_QUEUE);
}

void virtio_notify_config(struct virtio_dev *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	vdev->config_generation++;
	pthread_mutex_unlock(&vdev->lock);
	vp_config_interrupt(vdev->transport);
}

void vp_raise_needs_reset(struct virtio_pci *vp, const char *why)
{
	struct virtio_dev *vdev = vp->vdev;
	bool first;

	pthread_mutex_lock(&vdev->lock);
	first = !(vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	__atomic_store_n(&vp->broken, true, __ATOMIC_RELEASE);
	__atomic_store_n(&vp->stop_pending, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vdev->lock);
	if (!first)
		return;
	pr_guest("%s: %s; the device needs a reset", vdev->ops->name, why);
	vp_config_interrupt(vp);
}

void virtio_set_needs_reset(struct virtio_dev *vdev, const char *why)
{
	vp_raise_needs_reset(vdev->transport, why);
}

bool virtio_needs_reset(struct virtio_dev *vdev)
{
	return vp_broken(vdev->transport);
}

/*
 * The stop() a NEEDS_RESET owes, run on a vCPU thread with ctrl_lock held: a device
 * thread cannot join itself, so virtio_set_needs_reset() only asks for it.
 */
static void vp_settle(struct virtio_pci *vp)
{
	if (!__atomic_load_n(&vp->stop_pending, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&vp->stop_pending, false, __ATOMIC_RELEASE);
	if (vp->running) {
		vp->vdev->ops->stop(vp->vdev);
		vp->running = false;
	}
}

/* Drops notifications from before a reset, both ways. */
void vp_drain_kicks(struct virtio_pci *vp)
{
	u64 v;

	for (unsigned int i = 0; i < vp->nr_queues; i++) {
		if (read(vp->vdev->queues[i].kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			pr_debug("kick eventfd: %s", strerror(errno));
	}
	pthread_mutex_lock(&vp->call_lock);
	for (unsigned int i = 0; i < vp->nr_queues; i++) {
		if (vp->call_fd[i] >= 0 && read(vp->call_fd[i], &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			pr_debug("call eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&vp->call_lock);
}

static void vp_kick(struct virtio_pci *vp, unsigned int q)
{
	u64 one = 1;

	if (write(vp->vdev->queues[q].kick_fd, &one, sizeof(one)) != sizeof(one))
		pr_debug("kick eventfd: %s", strerror(errno));
}

/* Forwards writes to the call eventfds as queue interrupts, until call_stop. */
static void *vp_call_thread(void *arg)
{
	struct virtio_pci *vp = arg;
	struct pollfd fds[VIRTIO_MAX_QUEUES + 1];
	u64 v;

	for (;;) {
		pthread_mutex_lock(&vp->call_lock);
		if (vp->call_stop) {
			pthread_mutex_unlock(&vp->call_lock);
			break;
		}
		/* Rebuilt every round: a queue may have got its eventfd meanwhile. */
		fds[0] = (struct pollfd){.fd = vp->call_wake_fd, .events = POLLIN};
		for (unsigned int q = 0; q < vp->nr_queues; q++)
			fds[q + 1] = (struct pollfd){.fd = vp->call_fd[q], .events = POLLIN};
		pthread_mutex_unlock(&vp->call_lock);
		if (poll(fds, vp->nr_queues + 1, -1) < 0 && errno != EINTR) {
			pr_err("%s: poll: %s", vp->vdev->ops->name, strerror(errno));
			break;
		}
		if (fds[0].revents && read(vp->call_wake_fd, &v, sizeof(v)) < 0)
			pr_debug("call wake eventfd: %s", strerror(errno));
		for (unsigned int q = 0; q < vp->nr_queues; q++) {
			if (!fds[q + 1].revents || read(fds[q + 1].fd, &v, sizeof(v)) < 0)
				continue;
			if (!vp_broken(vp))
				vp_interrupt(vp, &vp->vdev->queues[q].msix_vector, VP_ISR_QUEUE);
		}
	}
	return NULL;
}

static void vp_call_wake(struct virtio_pci *vp)
{
	u64 one = 1;

	if (write(vp->call_wake_fd, &one, sizeof(one)) != sizeof(one))
		pr_debug("call wake eventfd: %s", strerror(errno));
}

static int vp_call_start(struct virtio_pci *vp)
{
	int ret;

	if (vp->call_thread_running)
		return 0;
	if (vp->call_wake_fd < 0) {
		vp->call_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->call_wake_fd < 0)
			return -errno;
	}
	ret = sandbox_thread_start(&vp->call_thread, THREAD_VIRTIO_IRQ, vp_call_thread, vp);
	if (ret)
		return -ret;
	vp->call_thread_running = true;
	return 0;
}

int virtio_queue_irqfd(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_pci *vp = vdev->transport;
	int ret;

	if (q >= vp->nr_queues)
		return -EINVAL;
	pthread_mutex_lock(&vp->call_lock);
	if (vp->call_fd[q] < 0)
		vp->call_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ret = vp->call_fd[q] < 0 ? -errno : vp_call_start(vp);
	if (ret == 0) {
		ret = vp->call_fd[q];
		vp_call_wake(vp);
	}
	pthread_mutex_unlock(&vp->call_lock);
	return ret;
}

static void vp_call_destroy(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->call_lock);
	vp->call_stop = true;
	pthread_mutex_unlock(&vp->call_lock);
	if (vp->call_thread_running) {
		vp_call_wake(vp);
		pthread_join(vp->call_thread, NULL);
		vp->call_thread_running = false;
	}
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (vp->call_fd[q] >= 0)
			close(vp->call_fd[q]);
		vp->call_fd[q] = -1;
	}
	if (vp->call_wake_fd >= 0)
		close(vp->call_wake_fd);
	vp->call_wake_fd = -1;
	pthread_mutex_destroy(&vp->call_lock);
}

static u8 vp_isr_read(struct virtio_pci *vp)
{
	struct virtio_dev *vdev = vp->vdev;
	u8 isr;

	/* Reading ISR acknowledges it: the bits clear and the INTx line drops. */
	pthread_mutex_lock(&vdev->lock);
	isr = vp->isr;
	vp->isr = 0;
	vp_update_intx_locked(vp);
	pthread_mutex_unlock(&vdev->lock);
	return isr;
}

static void vp_device_cfg_io(struct virtio_pci *vp, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct virtio_dev *vdev = vp->vdev;
	bool inside = offset < vdev->config_size && len <= vdev->config_size - offset;

	if (is_write) {
		if (inside && vdev->ops->config_write)
			vdev->ops->config_write(vdev, (u32)offset, data, len);
		return;
	}
	memset(data, 0, len);
	if (inside) {
		pthread_mutex_lock(&vdev->lock);
		memcpy(data, vdev->config + offset, len);
		pthread_mutex_unlock(&vdev->lock);
	}
}

/* The registers the driver programs, under ctrl_lock. */
static void vp_locked_io(struct virtio_pci *vp, u64 offset, u8 *data, u32 len, bool is_write)
{
	pthread_mutex_lock(&vp->ctrl_lock);
	vp_settle(vp);
	if (offset < VP_ISR_OFF) {
		if (is_write)
			vp_common_write(vp, offset, data, len);
		else
			vp_common_read(vp, offset, data, len);
	} else {
		vp_device_cfg_io(vp, offset - VP_DEVICE_OFF, data, len, is_write);
	}
	pthread_mutex_unlock(&vp->ctrl_lock);
}

static bool in_region(u64 offset, u32 len, u64 start, u64 size)
{
	return offset >= start && offset - start < size && len <= size - (offset - start);
}

static void vp_bar_io(void *opaque, u64 offset, u8 *data, u32 len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	u16 nr = vp->msix.nr_vectors;

	if (in_region(offset, len, VP_COMMON_OFF, VP_COMMON_SIZE) ||
	    in_region(offset, len, VP_DEVICE_OFF, VP_DEVICE_MAX)) {
		vp_locked_io(vp, offset, data, len, is_write);
	} else if (in_region(offset, len, VP_ISR_OFF, VP_ISR_SIZE)) {
		if (!is_write)
			data[0] = vp_isr_read(vp);
	} else if (in_region(offset, len, VP_NOTIFY_OFF, VP_NOTIFY_SIZE)) {
		/* Reached only when no ioeventfd caught the write first. */
		u64 q = (offset - VP_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULTIPLIER;

		if (is_write && q < vp->nr_queues)
			vp_kick(vp, (unsigned int)q);
		else if (!is_write)
			memset(data, 0, len);
	} else if (in_region(offset, len, VP_MSIX_TABLE_OFF, msix_table_size(nr))) {
		msix_table_io(&vp->msix, offset - VP_MSIX_TABLE_OFF, data, len, is_write);
	} else if (in_region(offset, len, VP_MSIX_PBA_OFF, msix_pba_size(nr))) {
		msix_pba_io(&vp->msix, offset - VP_MSIX_PBA_OFF, data, len, is_write);
	} else if (!is_write) {
		memset(data, 0, len);
	}
}

static void vp_ioeventfds(struct virtio_pci *vp, bool assign)
{
	for (unsigned int q = 0; q < vp->nr_queues; q++) {
		struct kvm_ioeventfd io = {
			.addr = vp->bar_addr + VP_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULTIPLIER * q,
			.len = vp->ioeventfd_len,
			.fd = vp->vdev->queues[q].kick_fd,
			.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
		};

		if (vp->ioeventfd_on[q] == assign)
			continue;
		/* Without it the notify write exits to vp_bar_io(), which kicks: slower, same. */
		if (__kvm_ioctl(vp->vm->vm_fd, KVM_IOEVENTFD, &io) == 0)
			vp->ioeventfd_on[q] = assign;
		else if (assign)
			pr_debug("%s: no ioeventfd for queue %u", vp->vdev->ops->name, q);
	}
}

static int vp_bar_map(struct pci_function *fn, unsigned int bar, u64 addr)
{
	struct virtio_pci *vp = fn->opaque;
	int ret;

	(void)bar;
	if (!pci_bar_range_ok(&vp->vm->mem, addr, VP_BAR_SIZE)) {
		pr_guest("%s: BAR at 0x%llx would cover RAM or platform devices; left unmapped",
			 vp->vdev->ops->name, (unsigned long long)addr);
		return -EINVAL;
	}
	ret = bus_register(&vp->vm->mmio_bus, addr, VP_BAR_SIZE, vp_bar_io, vp,
			   vp->vdev->ops->name);
	if (ret) {
		pr_guest("%s: BAR at 0x%llx overlaps another device; left unmapped",
			 vp->vdev->ops->name, (unsigned long long)addr);
		return ret;
	}
	vp->mapped = true;
	vp->bar_addr = addr;
	vp_ioeventfds(vp, true);
	return 0;
}

static void vp_bar_unmap(struct pci_function *fn, unsigned int bar, u64 addr)
{
	struct virtio_pci *vp = fn->opaque;

	(void)bar;
	vp_ioeventfds(vp, false);
	bus_unregister(&vp->vm->mmio_bus, addr);
	vp->mapped = false;
}

/* The PCI configuration access capability: a window onto the BAR through config space. */
static bool vp_cfg_window(struct virtio_pci *vp, u64 *offset, u32 *len)
{
	u8 cap = vp_cfg_cap(vp);
	u32 off = pci_config_get32(&vp->fn, cap + VIRTIO_PCI_CAP_OFFSET);
	u32 l = pci_config_get32(&vp->fn, cap + VIRTIO_PCI_CAP_LENGTH);

	if (vp->fn.config[cap + VIRTIO_PCI_CAP_BAR] != VP_BAR || (l != 1 && l != 2 && l != 4) ||
	    off % l || off >= VP_BAR_SIZE)
		return false;
	*offset = off;
	*len = l;
	return true;
}

static bool touches(u32 offset, u32 len, u32 start, u32 size)
{
	return offset < start + size && start < offset + len;
}

static void vp_config_read(struct pci_function *fn, u32 offset, u32 len)
{
	struct virtio_pci *vp = fn->opaque;
	u8 data[4] = {0};
	u64 bar_off;
	u32 l;

	if (!touches(offset, len, vp_cfg_cap(vp) + VP_CFG_DATA, 4) ||
	    !vp_cfg_window(vp, &bar_off, &l))
		return;
	vp_bar_io(vp, bar_off, data, l, false);
	memcpy(&fn->config[vp_cfg_cap(vp) + VP_CFG_DATA], data, 4);
}

static void vp_config_written(struct pci_function *fn, u32 offset, u32 len)
{
	struct virtio_pci *vp = fn->opaque;
	struct virtio_dev *vdev = vp->vdev;
	u64 bar_off;
	u32 l;

	msix_config_written(&vp->msix, offset, len);
	pthread_mutex_lock(&vdev->lock);
	vp->intx_disabled = pci_config_get16(fn, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
	vp_update_intx_locked(vp);
	pthread_mutex_unlock(&vdev->lock);
	if (touches(offset, len, vp_cfg_cap(vp) + VP_CFG_DATA, 4) &&
	    vp_cfg_window(vp, &bar_off, &l))
		vp_bar_io(vp, bar_off, &fn->config[vp_cfg_cap(vp) + VP_CFG_DATA], l, true);
}

/* A virtio vendor capability pointing at a structure in the BAR. */
static int vp_add_cap(struct virtio_pci *vp, u8 type, u8 len, u32 offset, u32 length)
{
	int cap = pci_function_add_cap(&vp->fn, PCI_CAP_ID_VNDR, len);

	if (cap < 0)
		return cap;
	vp->fn.config[cap + VIRTIO_PCI_CAP_LEN] = len;
	vp->fn.config[cap + VIRTIO_PCI_CAP_CFG_TYPE] = type;
	vp->fn.config[cap + VIRTIO_PCI_CAP_BAR] = type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : VP_BAR;
	pci_config_set32(&vp->fn, cap + VIRTIO_PCI_CAP_OFFSET, offset);
	pci_config_set32(&vp->fn, cap + VIRTIO_PCI_CAP_LENGTH, length);
	return cap;
}

static int vp_add_caps(struct virtio_pci *vp)
{
	int notify, cfg;

	if (msix_init(&vp->msix, &vp->fn, (u16)(vp->nr_queues + 1), VP_BAR, VP_MSIX_TABLE_OFF,
		      VP_MSIX_PBA_OFF) < 0 ||
	    vp_add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VP_CAP_LEN, VP_COMMON_OFF, VP_COMMON_SIZE) <
		    0 ||
	    vp_add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VP_CAP_LEN, VP_ISR_OFF, VP_ISR_SIZE) < 0)
		return -ENOSPC;
	if (vp->vdev->config_size && vp_add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VP_CAP_LEN,
						VP_DEVICE_OFF, vp->vdev->config_size) < 0)
		return -ENOSPC;
	notify = vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VP_NOTIFY_CAP_LEN, VP_NOTIFY_OFF,
			    VIRTIO_PCI_NOTIFY_MULTIPLIER * vp->nr_queues);
	/* Last, so vp_cfg_cap() finds it: bar, offset, length and data are the driver's. */
	cfg = vp_add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, VP_CFG_CAP_LEN, 0, 0);
	if (notify < 0 || cfg < 0)
		return -ENOSPC;
	pci_config_set32(&vp->fn, notify + VP_CAP_LEN, VIRTIO_PCI_NOTIFY_MULTIPLIER);
	memset(&vp->fn.wmask[cfg + VIRTIO_PCI_CAP_BAR], 0xff, 1);
	memset(&vp->fn.wmask[cfg + VIRTIO_PCI_CAP_OFFSET], 0xff, 12);
	return 0;
}

static u16 vp_class(u16 device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x0200; /* Ethernet controller */
	case VIRTIO_ID_BLOCK:
		return 0x0100; /* SCSI storage controller */
	case VIRTIO_ID_CONSOLE:
		return 0x0780; /* communication controller */
	case VIRTIO_ID_VSOCK:
		return 0x0880; /* system peripheral */
	default:
		return 0x00ff; /* unclassified */
	}
}

/* The header as firmware leaves it: IDs, the BAR at its first address, INTA wired. */
static void vp_function_init(struct virtio_pci *vp, u64 bar_addr)
{
	struct pci_function *fn = &vp->fn;
	u16 id = vp->vdev->ops->device_id;

	pci_function_init(fn, VIRTIO_PCI_VENDOR, (u16)(VIRTIO_PCI_DEVICE_BASE + id), vp_class(id));
	fn->config[PCI_REVISION_ID] = VIRTIO_PCI_REVISION;
	pci_config_set16(fn, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR);
	pci_config_set16(fn, PCI_SUBSYSTEM_ID, VIRTIO_PCI_SUBSYSTEM);
	fn->config[PCI_INTERRUPT_PIN] = 1; /* INTA */
	fn->opaque = vp;
	fn->config_written = vp_config_written;
	fn->config_read = vp_config_read;
	fn->bar_map = vp_bar_map;
	fn->bar_unmap = vp_bar_unmap;
	pci_function_add_bar64(fn, VP_BAR, VP_BAR_SIZE);
	pci_function_set_bar_addr(fn, VP_BAR, bar_addr);
}

static void vp_kvm_intx(struct virtio_pci *vp, bool level)
{
	vm_irq_line_set(vp->vm, &vp->intx, level);
}

static const struct virtio_pci_hooks kvm_hooks = {
	.set_intx = vp_kvm_intx,
};

static void vp_free(struct virtio_pci *vp)
{
	struct virtio_dev *vdev = vp->vdev;

	vp_call_destroy(vp);
	pci_function_unmap_bars(&vp->fn);
	msix_destroy(&vp->msix);
	for (unsigned int i = 0; i < vp->nr_queues; i++) {
		if (vdev->queues[i].kick_fd >= 0)
			close(vdev->queues[i].kick_fd);
		vdev->queues[i].kick_fd = -1;
	}
	pthread_mutex_destroy(&vp->ctrl_lock);
	pthread_mutex_destroy(&vdev->lock);
	vdev->transport = NULL;
	free(vp);
}

/* VM reset: the device and its PCI function back to how kvmbox realized them. */
static void vp_dev_reset(struct device *dev)
{
	struct virtio_dev *vdev = container_of(dev, struct virtio_dev, dev);
	struct virtio_pci *vp = vdev->transport;

	pthread_mutex_lock(&vp->ctrl_lock);
	vp_device_reset(vp);
	pthread_mutex_unlock(&vp->ctrl_lock);
	pthread_mutex_lock(&vp->vm->pci->lock);
	pci_function_unmap_bars(&vp->fn);
	pci_config_set16(&vp->fn, PCI_COMMAND, 0);
	pci_function_set_bar_addr(&vp->fn, VP_BAR, vp->initial_bar);
	vp->fn.config[PCI_INTERRUPT_LINE] = (u8)vp->intx_gsi;
	msix_reset(&vp->msix);
	pthread_mutex_lock(&vdev->lock);
	vp->intx_disabled = false;
	vp_update_intx_locked(vp);
	pthread_mutex_unlock(&vdev->lock);
	pthread_mutex_unlock(&vp->vm->pci->lock);
}

static void vp_dev_destroy(struct device *dev)
{
	struct virtio_dev *vdev = container_of(dev, struct virtio_dev, dev);

	if (vdev->transport) {
		pthread_mutex_lock(&vdev->transport->ctrl_lock);
		if (vdev->transport->running)
			vdev->ops->stop(vdev);
		vdev->transport->running = false;
		pthread_mutex_unlock(&vdev->transport->ctrl_lock);
		vp_free(vdev->transport);
	}
	if (vdev->ops->destroy)
		vdev->ops->destroy(vdev);
}

static const struct device_ops virtio_pci_dev_ops = {
	.name = "virtio-pci",
	.reset = vp_dev_reset,
	.save = vp_save,
	.load = vp_load,
	.pause = vp_pause,
	.resume = vp_resume,
	.destroy = vp_dev_destroy,
};

static int vp_check_device(const struct vm *vm, const struct virtio_dev *vdev)
{
	const struct virtio_dev_ops *ops = vdev->ops;
	u16 max = ops ? ops->queue_max_size : 0;

	if (!ops || !ops->start || !ops->stop || !ops->num_queues ||
	    ops->num_queues > VIRTIO_MAX_QUEUES || !max || (max & (max - 1)) ||
	    max > VIRTQUEUE_MAX_SIZE || vdev->config_size > VP_DEVICE_MAX ||
	    (vdev->config_size && !vdev->config)) {
		pr_err("virtio device %s: bad description for the transport",
		       ops && ops->name ? ops->name : "?");
		return -EINVAL;
	}
	if (!vm->pci) {
		pr_err("virtio device %s: no PCI bus", ops->name);
		return -ENODEV;
	}
	return 0;
}

/* The queues after realize: reset, full size, no vector, a kick eventfd each. */
static int vp_init_queues(struct virtio_pci *vp)
{
	struct virtio_dev *vdev = vp->vdev;

	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vdev->queues[i].kick_fd = -1;
	for (unsigned int i = 0; i < vp->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		virtqueue_reset(&q->vq, &vp->vm->mem);
		q->vq.size = vdev->ops->queue_max_size;
		q->msix_vector = VIRTIO_NO_VECTOR;
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0)
			return -errno;
	}
	return 0;
}

static int vp_setup(struct virtio_pci *vp, const struct virtio_pci_hooks *hooks)
{
	struct vm *vm = vp->vm;
	int ret;

	ret = pci_bus_alloc_mmio(vm->pci, VP_BAR_SIZE, &vp->initial_bar);
	if (ret)
		return ret;
	vp_function_init(vp, vp->initial_bar);
	ret = vp_init_queues(vp);
	if (ret)
		return ret;
	ret = vp_add_caps(vp);
	if (ret)
		return ret;
	if (hooks->msix_backend)
		msix_set_backend(&vp->msix, hooks->msix_backend, hooks->msix_opaque);
	else if ((ret = msix_init_kvm(&vp->msix, vm)) < 0)
		return ret;
	/* Length 0 matches a notify write of any width; else the 16-bit index write. */
	vp->ioeventfd_len = kvm_check_extension(vm->kvm_fd, KVM_CAP_IOEVENTFD_ANY_LENGTH) ? 0 : 2;
	ret = pci_bus_add(vm->pci, &vp->fn, -1);
	if (ret < 0)
		return ret;
	vp->intx_gsi = pci_intx_gsi((unsigned int)ret, 0);
	vp->intx.line = vp->intx_gsi;
	/* What firmware would leave for an OS without ACPI; the _PRT says the same. */
	vp->fn.config[PCI_INTERRUPT_LINE] = (u8)vp->intx_gsi;
	return 0;
}

int virtio_pci_register_hooks(struct vm *vm, struct virtio_dev *vdev,
			      const struct virtio_pci_hooks *hooks)
{
	struct virtio_pci *vp;
	int ret = vp_check_device(vm, vdev);

	if (ret)
		return ret;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->vdev = vdev;
	vp->vm = vm;
	vp->hooks = hooks;
	vp->nr_queues = vdev->ops->num_queues;
	pthread_mutex_init(&vp->ctrl_lock, NULL);
	pthread_mutex_init(&vp->call_lock, NULL);
	pthread_mutex_init(&vdev->lock, NULL);
	vp->call_wake_fd = -1;
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vp->call_fd[q] = -1;
	vdev->vm = vm;
	vdev->transport = vp;
	/* The modern interface is the only one there is. */
	vdev->device_features |= BIT(VIRTIO_F_VERSION_1);
	vdev->driver_features = 0;
	vdev->status = 0;
	vdev->config_generation = 0;
	vdev->config_msix_vector = VIRTIO_NO_VECTOR;
	ret = vp_setup(vp, hooks);
	if (ret) {
		pr_err("virtio device %s: cannot set up its PCI function: %s", vdev->ops->name,
		       strerror(-ret));
		vp_free(vp);
		return ret;
	}
	vdev->dev.ops = &virtio_pci_dev_ops;
	vm_add_device(vm, &vdev->dev);
	return 0;
}

int virtio_pci_register(struct vm *vm, struct virtio_dev *vdev)
{
	return virtio_pci_register_hooks(vm, vdev, &kvm_hooks);
}
