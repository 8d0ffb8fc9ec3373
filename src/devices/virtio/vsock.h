/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_VSOCK_H
#define KVMBOX_DEVICES_VIRTIO_VSOCK_H

#include <stddef.h>

#include "../../util/types.h"
#include "../device.h"

/* Guest CIDs: 0, 1 and 2 are reserved (2 is the host), U32_MAX means "any". */
#define VSOCK_CID_MIN 3U
#define VSOCK_CID_MAX 0xfffffffeU

/* virtio-vsock (socket device) through the host's vhost-vsock, realized with --vsock. */
extern const struct device_ops virtio_vsock_ops;

/*
 * Parses the --vsock value `cid=N`. Returns 0 with *cid set, or -EINVAL with a one-line
 * reason in err.
 */
int vsock_parse_options(const char *arg, u32 *cid, char *err, size_t errlen);
/* The device and ring features to offer, from what VHOST_GET_FEATURES reported. */
u64 vsock_offered_features(u64 vhost_features);

#endif
