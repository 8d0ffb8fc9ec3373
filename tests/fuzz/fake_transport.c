// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio transport for harnesses that link a device without virtio_pci.c (listed in
 * their fuzz-sources): notifications go nowhere (a harness hooks the device's notify to
 * watch them), NEEDS_RESET is only noted in reset_seen, and nothing joins a PCI bus.
 */
#include <errno.h>

#include "devices/virtio/virtio.h"
#include "harness.h"

bool reset_seen;

void virtio_notify_queue(struct virtio_dev *vdev, unsigned int q)
{
	(void)vdev;
	(void)q;
}

/* A configuration change (a drive swapped under the guest): nothing to interrupt here. */
void virtio_notify_config(struct virtio_dev *vdev)
{
	(void)vdev;
}

void virtio_set_needs_reset(struct virtio_dev *vdev, const char *why)
{
	(void)vdev;
	(void)why;
	reset_seen = true;
}

int virtio_queue_irqfd(struct virtio_dev *vdev, unsigned int q)
{
	(void)vdev;
	(void)q;
	return -ENOSYS;
}

int virtio_pci_register(struct vm *vm, struct virtio_dev *vdev)
{
	(void)vm;
	(void)vdev;
	return -ENOSYS;
}
