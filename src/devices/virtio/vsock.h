/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_VSOCK_H
#define KVMBOX_DEVICES_VIRTIO_VSOCK_H

#include <stddef.h>

#include "../../util/types.h"
#include "../device.h"

/* Guest CIDs: 0, 1 and 2 are reserved (2 is the host), U32_MAX means "any". */
#define VSOCK_CID_MIN 3U
#define VSOCK_CID_MAX 0xfffffffeU

/* The longest uds= path: "_<port>" (up to 11 bytes) must still fit a sockaddr_un. */
#define VSOCK_UDS_MAX 96

/*
 * virtio-vsock (socket device), realized with --vsock: through the host's vhost-vsock,
 * or with uds= in kvmbox itself, over Unix sockets (vsock_uds.c).
 */
extern const struct device_ops virtio_vsock_ops;

struct vsock_options {
	u32 cid;
	char uds[VSOCK_UDS_MAX + 1]; /* "" without uds= (vhost-vsock) */
};

/*
 * Parses the --vsock value `cid=N[,uds=PATH]`. Returns 0 with *o set, or -EINVAL with a
 * one-line reason in err.
 */
int vsock_parse_options(const char *arg, struct vsock_options *o, char *err, size_t errlen);

struct vm;
/* The userspace device: the path must not exist yet; realize binds it. -EXIT_* on error. */
int vsock_uds_check(const struct vsock_options *o);
int vsock_uds_realize(struct vm *vm, const struct vsock_options *o);
/* The device and ring features to offer, from what VHOST_GET_FEATURES reported. */
u64 vsock_offered_features(u64 vhost_features);

#endif
