/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_VIRTIO_PCI_H
#define KVMBOX_DEVICES_VIRTIO_VIRTIO_PCI_H

/*
 * The virtio-pci transport's insides, shared by pci.c (the PCI function, BAR, interrupts)
 * and pci_common.c (the common configuration registers), and seen by the unit tests.
 * Device types do not include this; they use virtio.h.
 */
#include <pthread.h>
#include <string.h>

#include "../../irq_line.h"
#include "../msix.h"
#include "../pci.h"
#include "virtio.h"

#define VIRTIO_PCI_VENDOR	     0x1af4
#define VIRTIO_PCI_DEVICE_BASE	     0x1040 /* + device ID: a modern-only device */
#define VIRTIO_PCI_REVISION	     1
#define VIRTIO_PCI_SUBSYSTEM	     0x1100
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4

/*
 * The one BAR (BAR4-5, 64-bit, not prefetchable: reading ISR has a side effect). Each
 * structure has its own page, so the layout does not depend on the device type.
 */
#define VP_BAR		  4
#define VP_COMMON_OFF	  0x0000
#define VP_COMMON_SIZE	  0x38 /* up to queue_device; the 1.2 extras are not offered */
#define VP_ISR_OFF	  0x1000
#define VP_ISR_SIZE	  1
#define VP_DEVICE_OFF	  0x2000
#define VP_DEVICE_MAX	  0x1000
#define VP_NOTIFY_OFF	  0x3000
#define VP_NOTIFY_SIZE	  (VIRTIO_PCI_NOTIFY_MULTIPLIER * VIRTIO_MAX_QUEUES)
#define VP_MSIX_TABLE_OFF 0x4000
#define VP_MSIX_PBA_OFF	  0x5000
#define VP_BAR_SIZE	  0x8000
#define VP_PAGE		  0x1000

#define VP_ISR_QUEUE  0x1
#define VP_ISR_CONFIG 0x2

struct virtio_pci;

/* How the transport raises INTx; tests replace it. */
struct virtio_pci_hooks {
	void (*set_intx)(struct virtio_pci *vp, bool level);
	/* NULL: MSI-X through KVM (msix_init_kvm). */
	const struct msix_backend *msix_backend;
	void *msix_opaque;
};

/*
 * Locking. ctrl_lock serializes the driver's register accesses (vCPU threads) and is held
 * across ops->start() and ops->stop(); device threads never take it, so stop() may join
 * them. vdev->lock is short and taken by both sides: status, vectors, ISR, INTx level,
 * device config bytes. Order: PCI bus lock, then ctrl_lock, then vdev->lock, then the
 * MSI-X lock. Mapping state (mapped, bar_addr, ioeventfd_on) changes under the PCI bus
 * lock only.
 */
struct virtio_pci {
	struct virtio_dev *vdev;
	struct vm *vm;
	struct pci_function fn;
	struct msix msix;
	const struct virtio_pci_hooks *hooks;
	u32 intx_gsi;
	struct irq_line intx; /* this function's hold on its (shared) INTx line */
	u64 initial_bar;      /* where kvmbox put the BAR, restored by a VM reset */
	unsigned int nr_queues;

	pthread_mutex_t ctrl_lock;
	/* Under ctrl_lock. */
	u32 device_feature_select;
	u32 driver_feature_select;
	u16 queue_select;
	bool running; /* start() succeeded and stop() has not run since */
	bool paused;  /* stopped by a VM pause (or loaded so): start() again at the resume */

	/* Under vdev->lock. */
	u8 isr;
	bool intx_level;
	bool intx_disabled; /* COMMAND.INTX_DISABLE */

	/* Set by any thread (atomics): NEEDS_RESET was raised, stop() is owed. */
	bool broken;
	bool stop_pending;

	/*
	 * Interrupt eventfds for in-kernel datapaths (virtio_queue_irqfd()), forwarded by
	 * one thread to vp_interrupt() so that masking, PBA and INTx behave as for any
	 * other notification. Under call_lock.
	 */
	pthread_mutex_t call_lock;
	int call_fd[VIRTIO_MAX_QUEUES];
	int call_wake_fd;
	bool call_stop;
	pthread_t call_thread;
	bool call_thread_running;

	/* Under the PCI bus lock. */
	bool mapped;
	u64 bar_addr;
	u32 ioeventfd_len;
	bool ioeventfd_on[VIRTIO_MAX_QUEUES];
};

/* Registers with explicit hooks (tests); virtio_pci_register() uses the KVM ones. */
int virtio_pci_register_hooks(struct vm *vm, struct virtio_dev *vdev,
			      const struct virtio_pci_hooks *hooks);

/* pci_common.c: the common configuration structure, with ctrl_lock held. */
void vp_common_read(struct virtio_pci *vp, u64 offset, u8 *data, u32 len);
void vp_common_write(struct virtio_pci *vp, u64 offset, const u8 *data, u32 len);
/* Device reset (status 0): stops the device and drops everything the driver set up. */
void vp_device_reset(struct virtio_pci *vp);

/* pci.c, for pci_common.c. */
void vp_raise_needs_reset(struct virtio_pci *vp, const char *why);
bool vp_vector_valid(struct virtio_pci *vp, u16 vector);
void vp_update_intx_locked(struct virtio_pci *vp);
void vp_drain_kicks(struct virtio_pci *vp);
/* Interrupts the driver for queue q (its vector, or ISR and INTx), unconditionally. */
void vp_queue_interrupt(struct virtio_pci *vp, unsigned int q);

/* pci_snapshot.c: the transport's device_ops hooks for pause and snapshots. */
int vp_pause(struct device *dev);
void vp_resume(struct device *dev);
int vp_save(struct device *dev, struct snap_buf *sb);
int vp_load(struct device *dev, struct snap_buf *sb);

/*
 * The next virtio-pci function of device_id after prev (NULL: the first) in a VM's
 * device list, or NULL: how the control API finds a running disk or NIC.
 */
static inline struct virtio_dev *virtio_pci_next(struct device *list, struct virtio_dev *prev,
						 u32 device_id)
{
	for (struct device *dev = prev ? prev->dev.next : list; dev; dev = dev->next) {
		struct virtio_dev *vdev = container_of(dev, struct virtio_dev, dev);

		if (!strcmp(dev->ops->name, "virtio-pci") && vdev->ops->device_id == device_id)
			return vdev;
	}
	return NULL;
}

#endif
