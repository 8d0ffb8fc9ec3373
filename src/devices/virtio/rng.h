/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_RNG_H
#define KVMBOX_DEVICES_VIRTIO_RNG_H

#include "../device.h"

/* virtio-rng (entropy device) over virtio-pci, realized with --rng. */
extern const struct device_ops virtio_rng_ops;

#endif
