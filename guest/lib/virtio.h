/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

/*
 * A minimal virtio 1.x driver over PCI (modern devices only) for guest tests: finds a
 * device, negotiates features, sets up one split virtqueue in guest RAM and polls it.
 * Interrupts stay off (MSI-X is never enabled): completions are found by polling the used
 * ring, with a TSC-bounded wait. Tests build descriptor chains by hand, bad ones included.
 */

#include "types.h"

#define VIRTIO_ID_NET	  1
#define VIRTIO_ID_BLOCK	  2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG	  4
#define VIRTIO_ID_VSOCK	  19

/* Device status bits. */
#define VIRTIO_S_ACKNOWLEDGE 0x01
#define VIRTIO_S_DRIVER	     0x02
#define VIRTIO_S_DRIVER_OK   0x04
#define VIRTIO_S_FEATURES_OK 0x08
#define VIRTIO_S_NEEDS_RESET 0x40
#define VIRTIO_S_FAILED	     0x80

/* ISR bits (read clears them). */
#define VIRTIO_ISR_QUEUE  0x1
#define VIRTIO_ISR_CONFIG 0x2

/* Feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_VERSION_1     32

/* Descriptor flags. */
#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct vring_avail {
	u16 flags;
	u16 idx;
	u16 ring[];
};

struct vring_used_elem {
	u32 id;
	u32 len;
};

struct vring_used {
	u16 flags;
	u16 idx;
	struct vring_used_elem ring[];
};

/* One PCI function and where its virtio structures sit (addresses in the BAR). */
struct virtio_pci_dev {
	int bus, slot;
	u16 virtio_id;
	u64 common, isr, device, notify;
	u32 notify_mult;
};

/*
 * One queue of a device: one page holds the descriptor table and both rings. Its size is
 * the device's maximum, up to VQ_MAX_SIZE; a device offering fewer than VQ_MIN_SIZE
 * entries is refused.
 */
#define VQ_MAX_SIZE 16
#define VQ_MIN_SIZE 4
struct virtqueue {
	struct virtio_pci_dev *dev;
	u16 index; /* which of the device's queues */
	u16 size;
	u64 notify_addr;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	u16 avail_idx; /* the next avail->idx we publish */
	u16 last_used; /* the used->idx we have consumed up to */
};

/*
 * Finds the first modern virtio-pci function with this device ID on bus 0, enables
 * its memory decoding and bus mastering and fills d from its capabilities. Returns
 * false, with why, if there is none or it is unusable (BAR above 4 GiB, caps missing).
 */
bool virtio_pci_find(u16 virtio_id, struct virtio_pci_dev *d, const char **why);

u8 virtio_get_status(struct virtio_pci_dev *d);
/* Writes 0 and waits for status to read 0; false if it never does. */
bool virtio_reset(struct virtio_pci_dev *d);
/* Reads (and so clears) the ISR register. */
u8 virtio_read_isr(struct virtio_pci_dev *d);
u32 virtio_config_read32(struct virtio_pci_dev *d, u32 offset);

/*
 * The steps of virtio_init(), for tests that break one: reset to FEATURES_OK (returns
 * the features, or 0 with why); queue q's size and ring addresses, then queue_enable
 * (false if it does not read back 1); DRIVER_OK.
 */
u64 virtio_negotiate(struct virtio_pci_dev *d, u64 want, const char **why);
bool virtio_queue_enable_at(struct virtio_pci_dev *d, u16 q, u16 size, u64 desc, u64 avail,
			    u64 used);
void virtio_driver_ok(struct virtio_pci_dev *d);
/*
 * Reset, ACKNOWLEDGE|DRIVER, features (VERSION_1 plus what want asks for and the device
 * offers), FEATURES_OK, queue 0 set up on page ring_page (zeroed here), DRIVER_OK.
 * Returns the features accepted, or 0 (with why) if a step failed.
 */
u64 virtio_init(struct virtio_pci_dev *d, struct virtqueue *vq, void *ring_page, u64 want,
		const char **why);
/* The same with queue q instead of queue 0 (the device's other queues stay disabled). */
u64 virtio_init_queue(struct virtio_pci_dev *d, struct virtqueue *vq, u16 q, void *ring_page,
		      u64 want, const char **why);

/*
 * The same with n queues: vqs[i].index names each (set by the caller), on page pages[i];
 * every one is enabled before DRIVER_OK (a device that needs two, like vsock's rx and tx).
 */
u64 virtio_init_queues(struct virtio_pci_dev *d, struct virtqueue *vqs, void *const *pages,
		       unsigned int n, u64 want, const char **why);

/* Puts descriptor chain head into the avail ring and publishes it; then notify. */
void vq_publish(struct virtqueue *vq, u16 head);
void vq_notify(struct virtqueue *vq);
/* Sets avail->idx to any value, however wrong, and notifies. */
void vq_set_avail_idx(struct virtqueue *vq, u16 idx);
/*
 * Waits for the device to use a chain (true, *len = bytes written) or for status to
 * have any of stop_status (false); false also after a timeout.
 */
bool vq_wait_used(struct virtqueue *vq, u32 *len, u8 stop_status);
/* Waits until any bit of mask is in the device status; returns the last status read. */
u8 virtio_wait_status(struct virtio_pci_dev *d, u8 mask);

#endif
