// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-pci transport's pause, resume, save and load (snapshots, PATCH /vm).
 *
 * Pause stops the device's workers (after the device type's quiesce(): a disk finishes
 * the requests it has taken) without touching the driver's set-up, so resume only has
 * to start them again. Save requires a paused (or never started) device.
 *
 * A snapshot is input like guest data: load puts state back the way the driver would
 * have set it (configuration writes through the write mask, MSI-X table writes, ring
 * addresses checked by virtqueue_start()), never by copying raw structures over ours.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../../util/log.h"
#include "../../vm.h"
#include "virtio_pci.h"

#define VP_SNAP_VERSION 1

static struct virtio_pci *to_vp(struct device *dev)
{
	return container_of(dev, struct virtio_dev, dev)->transport;
}

/* After a start: a kick makes workers look at the rings, an interrupt the driver. */
static void vp_poke_queues(struct virtio_pci *vp)
{
	u64 one = 1;

	for (unsigned int q = 0; q < vp->nr_queues; q++) {
		struct virtio_queue *vq = &vp->vdev->queues[q];

		if (!vq->vq.ready)
			continue;
		if (write(vq->kick_fd, &one, sizeof(one)) != sizeof(one))
			pr_debug("kick eventfd: %s", strerror(errno));
		/* Completions a stop pushed may have had their interrupt dropped. */
		vp_queue_interrupt(vp, q);
	}
}

int vp_pause(struct device *dev)
{
	struct virtio_pci *vp = to_vp(dev);
	struct virtio_dev *vdev = vp->vdev;
	int ret = 0;

	if (vdev->ops->keep_running_on_pause)
		return 0;
	pthread_mutex_lock(&vp->ctrl_lock);
	if (vp->running && !vp->paused) {
		ret = vdev->ops->quiesce ? vdev->ops->quiesce(vdev) : 0;
		if (!ret) {
			vdev->pausing = true;
			vdev->ops->stop(vdev);
			vdev->pausing = false;
			vp->running = false;
			vp->paused = true;
		}
	}
	pthread_mutex_unlock(&vp->ctrl_lock);
	return ret;
}

void vp_resume(struct device *dev)
{
	struct virtio_pci *vp = to_vp(dev);
	struct virtio_dev *vdev = vp->vdev;

	pthread_mutex_lock(&vp->ctrl_lock);
	if (vp->paused) {
		vp->paused = false;
		if (vdev->ops->start(vdev) == 0) {
			vp->running = true;
			vp_poke_queues(vp);
		} else {
			vp_raise_needs_reset(vp, "the device could not start after a pause");
		}
	}
	pthread_mutex_unlock(&vp->ctrl_lock);
}

static void save_msix(struct msix *m, struct snap_buf *sb)
{
	pthread_mutex_lock(&m->lock);
	snap_put_u32(sb, m->nr_vectors);
	for (unsigned int v = 0; v < m->nr_vectors; v++) {
		const struct msix_entry *e = &m->table[v];

		snap_put_u32(sb, e->addr_lo);
		snap_put_u32(sb, e->addr_hi);
		snap_put_u32(sb, e->data);
		snap_put_u32(sb, e->ctrl);
	}
	pthread_mutex_unlock(&m->lock);
}

static void save_queue(const struct virtio_queue *q, struct snap_buf *sb)
{
	const struct virtqueue *vq = &q->vq;

	snap_put_u32(sb, vq->size);
	snap_put_u32(sb, vq->ready);
	snap_put_u64(sb, vq->desc_gpa);
	snap_put_u64(sb, vq->avail_gpa);
	snap_put_u64(sb, vq->used_gpa);
	snap_put_u32(sb, vq->last_avail);
	snap_put_u32(sb, vq->used_idx);
	snap_put_u32(sb, vq->signalled_used);
	snap_put_u32(sb, vq->signalled_used_valid);
	snap_put_u32(sb, q->msix_vector);
}

static void save_common(struct virtio_pci *vp, struct snap_buf *sb)
{
	struct virtio_dev *vdev = vp->vdev;

	pthread_mutex_lock(&vdev->lock);
	snap_put_u64(sb, vdev->driver_features);
	snap_put_u32(sb, vdev->status);
	snap_put_u32(sb, vdev->config_generation);
	snap_put_u32(sb, vdev->config_msix_vector);
	snap_put_u32(sb, vp->isr);
	snap_put_u32(sb, vdev->config_size);
	snap_put(sb, vdev->config, vdev->config_size);
	pthread_mutex_unlock(&vdev->lock);
	snap_put_u32(sb, vp->device_feature_select);
	snap_put_u32(sb, vp->driver_feature_select);
	snap_put_u32(sb, vp->queue_select);
	snap_put_u32(sb, vp->paused);
	snap_put_u32(sb, vp->nr_queues);
	for (unsigned int q = 0; q < vp->nr_queues; q++)
		save_queue(&vdev->queues[q], sb);
}

int vp_save(struct device *dev, struct snap_buf *sb)
{
	struct virtio_pci *vp = to_vp(dev);
	struct virtio_dev *vdev = vp->vdev;
	int ret = 0;

	pthread_mutex_lock(&vp->vm->pci->lock);
	pthread_mutex_lock(&vp->ctrl_lock);
	if (vp->running) {
		ret = -EBUSY; /* not paused: its workers own the rings */
		goto out;
	}
	snap_begin_section(sb, "virtio-pci", VP_SNAP_VERSION);
	snap_put_u32(sb, vdev->ops->device_id);
	snap_put(sb, vp->fn.config, sizeof(vp->fn.config));
	save_msix(&vp->msix, sb);
	save_common(vp, sb);
	if (vdev->ops->save)
		ret = vdev->ops->save(vdev, sb);
	if (!ret && sb->error)
		ret = -ENOMEM;
out:
	pthread_mutex_unlock(&vp->ctrl_lock);
	pthread_mutex_unlock(&vp->vm->pci->lock);
	return ret;
}

/* Configuration space as guest writes would leave it: only writable bits, then the BAR. */
static void load_config(struct virtio_pci *vp, const u8 *saved)
{
	struct pci_function *fn = &vp->fn;
	u64 bar = 0;

	for (unsigned int i = 0; i < PCI_CONFIG_SIZE; i++)
		fn->config[i] = (u8)((fn->config[i] & ~fn->wmask[i]) | (saved[i] & fn->wmask[i]));
	memcpy(&bar, saved + PCI_BAR0 + 4 * VP_BAR, sizeof(bar));
	pci_function_set_bar_addr(fn, VP_BAR, bar & ~(u64)PCI_BAR_MEM_FLAGS);
	pci_function_update_bars(fn);
	msix_config_written(&vp->msix, vp->msix.cap + MSIX_CAP_CONTROL, 2);
}

static int load_msix(struct msix *m, struct snap_buf *sb)
{
	u32 nr, w[4];

	if (!snap_get_u32(sb, &nr) || nr != m->nr_vectors)
		return -EINVAL;
	for (u32 v = 0; v < nr; v++) {
		for (unsigned int d = 0; d < 4; d++) {
			if (!snap_get_u32(sb, &w[d]))
				return -EINVAL;
		}
		/* Message first, then the mask: the entry is routed once it is whole. */
		for (unsigned int d = 0; d < 4; d++)
			msix_table_io(m, (u64)v * MSIX_ENTRY_SIZE + 4 * d, (u8 *)&w[d], 4, true);
	}
	return 0;
}

struct saved_queue {
	u32 size, ready, last_avail, used_idx, signalled, signalled_valid, vector;
	u64 desc, avail, used;
};

static bool get_queue(struct snap_buf *sb, struct saved_queue *s)
{
	return snap_get_u32(sb, &s->size) && snap_get_u32(sb, &s->ready) &&
	       snap_get_u64(sb, &s->desc) && snap_get_u64(sb, &s->avail) &&
	       snap_get_u64(sb, &s->used) && snap_get_u32(sb, &s->last_avail) &&
	       snap_get_u32(sb, &s->used_idx) && snap_get_u32(sb, &s->signalled) &&
	       snap_get_u32(sb, &s->signalled_valid) && snap_get_u32(sb, &s->vector);
}

static int load_queue(struct virtio_pci *vp, struct virtio_queue *q, struct snap_buf *sb)
{
	struct saved_queue s;
	u16 max = vp->vdev->ops->queue_max_size;

	if (!get_queue(sb, &s) || !s.size || (s.size & (s.size - 1)) || s.size > max ||
	    s.ready > 1 || s.last_avail > 0xffff || s.used_idx > 0xffff || s.signalled > 0xffff)
		return -EINVAL;
	if (s.vector > 0xffff ||
	    (s.vector != VIRTIO_NO_VECTOR && !vp_vector_valid(vp, (u16)s.vector)))
		return -EINVAL;
	virtqueue_reset(&q->vq, &vp->vm->mem);
	q->vq.size = (u16)s.size;
	q->vq.desc_gpa = s.desc;
	q->vq.avail_gpa = s.avail;
	q->vq.used_gpa = s.used;
	q->vq.event_idx = virtio_has_feature(vp->vdev, VIRTIO_RING_F_EVENT_IDX);
	q->vq.indirect = virtio_has_feature(vp->vdev, VIRTIO_RING_F_INDIRECT_DESC);
	q->msix_vector = (u16)s.vector;
	if (s.ready) {
		q->vq.ready = true;
		if (virtqueue_start(&q->vq) < 0)
			return -EINVAL; /* rings outside this VM's RAM */
	}
	q->vq.last_avail = (u16)s.last_avail;
	q->vq.used_idx = (u16)s.used_idx;
	q->vq.signalled_used = (u16)s.signalled;
	q->vq.signalled_used_valid = s.signalled_valid != 0;
	return 0;
}

struct saved_common {
	u64 features;
	u32 status, generation, config_vector, isr, config_size;
	u32 dfsel, drfsel, qsel, paused, nr_queues;
};

static int load_common(struct virtio_pci *vp, struct snap_buf *sb)
{
	struct virtio_dev *vdev = vp->vdev;
	struct saved_common s;
	u8 config[VP_DEVICE_MAX];

	if (!snap_get_u64(sb, &s.features) || !snap_get_u32(sb, &s.status) ||
	    !snap_get_u32(sb, &s.generation) || !snap_get_u32(sb, &s.config_vector) ||
	    !snap_get_u32(sb, &s.isr) || !snap_get_u32(sb, &s.config_size) ||
	    s.config_size != vdev->config_size || !snap_get(sb, config, s.config_size) ||
	    !snap_get_u32(sb, &s.dfsel) || !snap_get_u32(sb, &s.drfsel) ||
	    !snap_get_u32(sb, &s.qsel) || !snap_get_u32(sb, &s.paused) ||
	    !snap_get_u32(sb, &s.nr_queues))
		return -EINVAL;
	if ((s.features & ~vdev->device_features) || s.status > 0xff || s.generation > 0xff ||
	    s.config_vector > 0xffff || s.isr > 3 || s.dfsel > 1 || s.drfsel > 1 ||
	    s.qsel > 0xffff || s.paused > 1 || s.nr_queues != vp->nr_queues)
		return -EINVAL;
	if (s.config_vector != VIRTIO_NO_VECTOR && !vp_vector_valid(vp, (u16)s.config_vector))
		return -EINVAL;
	pthread_mutex_lock(&vdev->lock);
	vdev->driver_features = s.features;
	vdev->status = (u8)s.status;
	vdev->config_generation = (u8)s.generation;
	vdev->config_msix_vector = (u16)s.config_vector;
	vp->isr = (u8)s.isr;
	memcpy(vdev->config, config, s.config_size);
	vp_update_intx_locked(vp);
	pthread_mutex_unlock(&vdev->lock);
	vp->device_feature_select = s.dfsel;
	vp->driver_feature_select = s.drfsel;
	vp->queue_select = (u16)s.qsel;
	for (unsigned int q = 0; q < vp->nr_queues; q++) {
		if (load_queue(vp, &vdev->queues[q], sb))
			return -EINVAL;
	}
	/* A driver that was running gets its workers at the resume. */
	vp->paused = s.paused && (s.status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		     !(s.status & VIRTIO_CONFIG_S_NEEDS_RESET);
	return 0;
}

int vp_load(struct device *dev, struct snap_buf *sb)
{
	struct virtio_pci *vp = to_vp(dev);
	struct virtio_dev *vdev = vp->vdev;
	u8 config[PCI_CONFIG_SIZE];
	u32 id;
	int ret = -EINVAL;

	if (snap_open_section(sb, "virtio-pci") != VP_SNAP_VERSION || !snap_get_u32(sb, &id) ||
	    id != vdev->ops->device_id || !snap_get(sb, config, sizeof(config)))
		return -EINVAL;
	pthread_mutex_lock(&vp->vm->pci->lock);
	pthread_mutex_lock(&vp->ctrl_lock);
	if (vp->running)
		goto out;
	load_config(vp, config);
	pthread_mutex_lock(&vdev->lock);
	vp->intx_disabled = pci_config_get16(&vp->fn, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
	pthread_mutex_unlock(&vdev->lock);
	if (load_msix(&vp->msix, sb) || load_common(vp, sb))
		goto out;
	ret = vdev->ops->load ? vdev->ops->load(vdev, sb) : 0;
out:
	pthread_mutex_unlock(&vp->ctrl_lock);
	pthread_mutex_unlock(&vp->vm->pci->lock);
	return ret;
}
