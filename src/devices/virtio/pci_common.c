// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-pci common configuration structure (virtio 1.x, "Common configuration
 * structure layout"): feature negotiation, device status and reset, queue setup. Every
 * function here runs on a vCPU thread with ctrl_lock held. Register offsets come from
 * <linux/virtio_pci.h>.
 */
#include <linux/virtio_pci.h>
#include <string.h>

#include "../../bus.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "virtio_pci.h"

#define S_ACKNOWLEDGE VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_FEATURES_OK VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK   VIRTIO_CONFIG_S_DRIVER_OK
#define S_NEEDS_RESET VIRTIO_CONFIG_S_NEEDS_RESET

static void put16(u8 *p, u16 v)
{
	io_data_put(p, 2, v);
}

static void put32(u8 *p, u32 v)
{
	io_data_put(p, 4, v);
}

static void put64(u8 *p, u64 v)
{
	io_data_put(p, 8, v);
}

/* Half sel (0: bits 0-31, 1: bits 32-63) of a feature word; other selectors read 0. */
static u32 feature_half(u64 features, u32 sel)
{
	return sel < 2 ? (u32)(features >> (32 * sel)) : 0;
}

static struct virtio_queue *selected_queue(struct virtio_pci *vp)
{
	return vp->queue_select < vp->nr_queues ? &vp->vdev->queues[vp->queue_select] : NULL;
}

/* The whole structure as the driver would see it now; reads copy any part of it. */
static void common_snapshot(struct virtio_pci *vp, u8 *r)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtio_queue *q = selected_queue(vp);

	put32(r + VIRTIO_PCI_COMMON_DFSELECT, vp->device_feature_select);
	put32(r + VIRTIO_PCI_COMMON_DF,
	      feature_half(vdev->device_features, vp->device_feature_select));
	put32(r + VIRTIO_PCI_COMMON_GFSELECT, vp->driver_feature_select);
	put16(r + VIRTIO_PCI_COMMON_NUMQ, (u16)vp->nr_queues);
	put16(r + VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_select);
	pthread_mutex_lock(&vdev->lock);
	put32(r + VIRTIO_PCI_COMMON_GF,
	      feature_half(vdev->driver_features, vp->driver_feature_select));
	put16(r + VIRTIO_PCI_COMMON_MSIX, vdev->config_msix_vector);
	r[VIRTIO_PCI_COMMON_STATUS] = vdev->status;
	r[VIRTIO_PCI_COMMON_CFGGENERATION] = vdev->config_generation;
	/* An unknown queue reads as size 0: "not available". */
	if (q) {
		put16(r + VIRTIO_PCI_COMMON_Q_SIZE, q->vq.size);
		put16(r + VIRTIO_PCI_COMMON_Q_MSIX, q->msix_vector);
		put16(r + VIRTIO_PCI_COMMON_Q_ENABLE, q->vq.ready);
		put16(r + VIRTIO_PCI_COMMON_Q_NOFF, vp->queue_select);
		put64(r + VIRTIO_PCI_COMMON_Q_DESCLO, q->vq.desc_gpa);
		put64(r + VIRTIO_PCI_COMMON_Q_AVAILLO, q->vq.avail_gpa);
		put64(r + VIRTIO_PCI_COMMON_Q_USEDLO, q->vq.used_gpa);
	}
	pthread_mutex_unlock(&vdev->lock);
}

void vp_common_read(struct virtio_pci *vp, u64 offset, u8 *data, u32 len)
{
	u8 regs[VP_COMMON_SIZE] = {0};

	if (offset >= VP_COMMON_SIZE || len > VP_COMMON_SIZE - offset) {
		memset(data, 0, len);
		return;
	}
	common_snapshot(vp, regs);
	memcpy(data, regs + offset, len);
}

/* What FEATURES_OK requires: only offered bits, and the modern interface. */
static bool features_acceptable(const struct virtio_dev *vdev)
{
	u64 f = vdev->driver_features;

	return !(f & ~vdev->device_features) && (f & BIT(VIRTIO_F_VERSION_1));
}

static void driver_feature_write(struct virtio_pci *vp, u32 val)
{
	struct virtio_dev *vdev = vp->vdev;
	u32 sel = vp->driver_feature_select;

	pthread_mutex_lock(&vdev->lock);
	/* Once FEATURES_OK is set the negotiation is over: the features are final. */
	if (vdev->status & S_FEATURES_OK) {
		pthread_mutex_unlock(&vdev->lock);
		pr_guest("%s: driver features written after FEATURES_OK", vdev->ops->name);
		return;
	}
	if (sel < 2) {
		vdev->driver_features &= ~((u64)0xffffffff << (32 * sel));
		vdev->driver_features |= (u64)val << (32 * sel);
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* Turns status bits the driver sets into what the device accepts. */
static u8 status_accept(struct virtio_dev *vdev, u8 old, u8 val, bool *bad)
{
	/* The driver cannot clear bits but by a reset; NEEDS_RESET is the device's. */
	u8 new = (u8)((val & ~S_NEEDS_RESET) | old);

	if ((new &S_FEATURES_OK) && !(old & S_FEATURES_OK) && !features_acceptable(vdev))
		new &= (u8)~S_FEATURES_OK; /* refused: the driver sees the bit stay clear */
	if ((new &S_DRIVER_OK) && !(old & S_DRIVER_OK) && !(new &S_FEATURES_OK))
		*bad = true;
	return new;
}

static void status_write(struct virtio_pci *vp, u8 val)
{
	struct virtio_dev *vdev = vp->vdev;
	bool bad = false, start;
	u8 old, new;

	if (val == 0) {
		vp_device_reset(vp);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	old = vdev->status;
	new = status_accept(vdev, old, val, &bad);
	vdev->status = new;
	start = !bad && (new &S_DRIVER_OK) && !(old & S_DRIVER_OK) && !(old & S_NEEDS_RESET);
	pthread_mutex_unlock(&vdev->lock);
	if (bad) {
		vp_raise_needs_reset(vp, "DRIVER_OK without FEATURES_OK");
		return;
	}
	if (start) {
		if (vdev->ops->start(vdev) == 0)
			vp->running = true;
		else
			vp_raise_needs_reset(vp, "the device could not start");
	}
}

void vp_device_reset(struct virtio_pci *vp)
{
	struct virtio_dev *vdev = vp->vdev;

	if (vp->running) {
		vdev->ops->stop(vdev);
		vp->running = false;
	}
	vp->paused = false;
	pthread_mutex_lock(&vdev->lock);
	for (unsigned int i = 0; i < vp->nr_queues; i++) {
		struct virtio_queue *q = &vdev->queues[i];

		virtqueue_reset(&q->vq, &vp->vm->mem);
		q->vq.size = vdev->ops->queue_max_size;
		q->msix_vector = VIRTIO_NO_VECTOR;
	}
	vdev->driver_features = 0;
	vdev->status = 0;
	/* config_generation keeps counting: a driver must never see an old value again. */
	vdev->config_msix_vector = VIRTIO_NO_VECTOR;
	vp->isr = 0;
	vp_update_intx_locked(vp);
	__atomic_store_n(&vp->broken, false, __ATOMIC_RELEASE);
	__atomic_store_n(&vp->stop_pending, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vdev->lock);
	vp_drain_kicks(vp);
	vp->device_feature_select = 0;
	vp->driver_feature_select = 0;
	vp->queue_select = 0;
}

static void vector_write(struct virtio_pci *vp, u16 *field, u16 val)
{
	/* A vector the table does not have reads back as NO_VECTOR: the driver checks. */
	pthread_mutex_lock(&vp->vdev->lock);
	*field = vp_vector_valid(vp, val) ? val : VIRTIO_NO_VECTOR;
	pthread_mutex_unlock(&vp->vdev->lock);
}

static void queue_enable(struct virtio_pci *vp, struct virtio_queue *q, u16 val)
{
	struct virtio_dev *vdev = vp->vdev;
	u8 status;

	pthread_mutex_lock(&vdev->lock);
	status = vdev->status;
	pthread_mutex_unlock(&vdev->lock);
	/*
	 * Only 1 may be written, between FEATURES_OK (the ring features are known) and
	 * DRIVER_OK (after it the device's threads own the queues).
	 */
	if (val != 1 || q->vq.ready || !(status & S_FEATURES_OK) || (status & S_DRIVER_OK)) {
		pr_guest("%s: queue_enable %u ignored (status 0x%x)", vdev->ops->name, val, status);
		return;
	}
	q->vq.event_idx = virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX);
	q->vq.indirect = virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC);
	q->vq.ready = true;
	if (virtqueue_start(&q->vq) < 0) {
		q->vq.ready = false;
		vp_raise_needs_reset(vp, "a queue's rings are not in guest RAM");
	}
}

static void queue_size_write(struct virtio_pci *vp, struct virtio_queue *q, u16 val)
{
	u16 max = vp->vdev->ops->queue_max_size;

	if (!val || (val & (val - 1)) || val > max) {
		pr_guest("%s: queue size %u refused (a power of 2 up to %u)", vp->vdev->ops->name,
			 val, max);
		return;
	}
	q->vq.size = val;
}

/* queue_desc, queue_driver, queue_device: whole, or one 32-bit half at a time. */
static void queue_addr_write(struct virtio_queue *q, u64 offset, u64 val, u32 len)
{
	u64 base = offset & ~7ULL;
	u64 *field = base == VIRTIO_PCI_COMMON_Q_DESCLO	   ? &q->vq.desc_gpa
		     : base == VIRTIO_PCI_COMMON_Q_AVAILLO ? &q->vq.avail_gpa
							   : &q->vq.used_gpa;

	if (len == 8) {
		*field = val;
	} else if (offset & 4) {
		*field = (*field & 0xffffffffULL) | val << 32;
	} else {
		*field = (*field & ~0xffffffffULL) | val;
	}
}

/* The selected queue's registers; ignored once the queue is enabled. */
static void queue_write(struct virtio_pci *vp, u64 offset, u64 val, u32 len)
{
	struct virtio_queue *q = selected_queue(vp);

	if (!q)
		return;
	if (offset == VIRTIO_PCI_COMMON_Q_MSIX && len == 2) {
		vector_write(vp, &q->msix_vector, (u16)val);
		return;
	}
	if (offset == VIRTIO_PCI_COMMON_Q_ENABLE && len == 2) {
		queue_enable(vp, q, (u16)val);
		return;
	}
	if (q->vq.ready) {
		pr_guest("%s: queue %u changed while enabled", vp->vdev->ops->name,
			 vp->queue_select);
		return;
	}
	if (offset == VIRTIO_PCI_COMMON_Q_SIZE && len == 2)
		queue_size_write(vp, q, (u16)val);
	else if (offset >= VIRTIO_PCI_COMMON_Q_DESCLO && offset < VP_COMMON_SIZE &&
		 (len == 4 || (len == 8 && !(offset & 7))))
		queue_addr_write(q, offset, val, len);
	else
		pr_guest("%s: bad %u-byte write at common config 0x%llx", vp->vdev->ops->name, len,
			 (unsigned long long)offset);
}

void vp_common_write(struct virtio_pci *vp, u64 offset, const u8 *data, u32 len)
{
	u64 val = io_data_get(data, len);

	/* Each field must be written whole, at its natural width (64-bit ones in halves). */
	if (offset == VIRTIO_PCI_COMMON_DFSELECT && len == 4)
		vp->device_feature_select = (u32)val;
	else if (offset == VIRTIO_PCI_COMMON_GFSELECT && len == 4)
		vp->driver_feature_select = (u32)val;
	else if (offset == VIRTIO_PCI_COMMON_GF && len == 4)
		driver_feature_write(vp, (u32)val);
	else if (offset == VIRTIO_PCI_COMMON_MSIX && len == 2)
		vector_write(vp, &vp->vdev->config_msix_vector, (u16)val);
	else if (offset == VIRTIO_PCI_COMMON_STATUS && len == 1)
		status_write(vp, (u8)val);
	else if (offset == VIRTIO_PCI_COMMON_Q_SELECT && len == 2)
		vp->queue_select = (u16)val;
	else if (offset >= VIRTIO_PCI_COMMON_Q_SIZE && offset < VP_COMMON_SIZE &&
		 offset != VIRTIO_PCI_COMMON_Q_NOFF)
		queue_write(vp, offset, val, len);
	else
		pr_guest("%s: %u-byte write to read-only or unknown common config 0x%llx",
			 vp->vdev->ops->name, len, (unsigned long long)offset);
}
