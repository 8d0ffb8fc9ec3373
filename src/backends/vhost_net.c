// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-net: the host kernel serves the NIC's two rings itself, moving packets between
 * them and the tap with no kvmbox thread in the path. The ring hand-over is the common
 * vhost one (vhost.c); what is vhost-net's own is the tap it attaches to each ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../util/log.h"
#include "net.h"

#define VHOST_NET_RINGS 2

struct vhost_net {
	struct vhost_dev dev;
};

int vhost_net_open(struct vhost_net **out)
{
	struct vhost_net *vh;
	int fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		pr_err("--net vhost=on: cannot open /dev/vhost-net: %s%s", strerror(errno),
		       errno == ENOENT ? " (load the vhost_net module, or use vhost=off)" : "");
		return -EXIT_BAD_INPUT;
	}
	vh = calloc(1, sizeof(*vh));
	if (!vh) {
		close(fd);
		return -EXIT_VMM_ERROR;
	}
	if (vhost_dev_init(&vh->dev, fd, "vhost-net", VHOST_NET_RINGS)) {
		free(vh);
		return -EXIT_BAD_INPUT;
	}
	/* The tap, not vhost, reads and writes the virtio header. */
	vh->dev.features &= ~(1ULL << VHOST_NET_F_VIRTIO_NET_HDR);
	*out = vh;
	return 0;
}

u64 vhost_net_features(const struct vhost_net *vh)
{
	return vh->dev.features;
}

int vhost_net_start(struct vhost_net *vh, const struct guest_memory *mem, u64 features,
		    const struct vhost_ring rings[2], int tap_fd)
{
	u16 ignored[VHOST_NET_RINGS];
	int ret = vhost_dev_start(&vh->dev, mem, features, rings);

	for (unsigned int i = 0; !ret && i < VHOST_NET_RINGS; i++) {
		struct vhost_vring_file be = {.index = i, .fd = tap_fd};

		ret = vhost_dev_ioctl(&vh->dev, VHOST_NET_SET_BACKEND, "VHOST_NET_SET_BACKEND",
				      &be);
	}
	if (ret && vh->dev.started)
		vhost_net_stop(vh, ignored);
	return ret;
}

void vhost_net_stop(struct vhost_net *vh, u16 last_avail[2])
{
	for (unsigned int i = 0; vh->dev.started && i < VHOST_NET_RINGS; i++) {
		struct vhost_vring_file unbind = {.index = i, .fd = VHOST_FILE_UNBIND};

		/* Detaching the tap first makes the kernel finish what it was doing. */
		ioctl(vh->dev.fd, VHOST_NET_SET_BACKEND, &unbind);
	}
	vhost_dev_stop(&vh->dev, last_avail);
}

void vhost_net_close(struct vhost_net *vh)
{
	if (!vh)
		return;
	vhost_net_stop(vh, NULL);
	vhost_dev_close(&vh->dev);
	free(vh);
}
