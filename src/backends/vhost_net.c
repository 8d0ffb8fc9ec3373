// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-net: the host kernel serves the NIC's two rings itself, moving packets between
 * them and the tap with no kvmbox thread in the path. kvmbox hands it guest RAM, the ring
 * addresses, the queue's ioeventfd (kick) and an irqfd (call) when the driver starts the
 * device, and takes everything back when the driver resets it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../util/log.h"
#include "net.h"

#define VHOST_NET_RINGS 2

struct vhost_net {
	int fd;
	u64 features; /* what VHOST_GET_FEATURES offered */
	bool started;
};

/*
 * Bits we never hand to the kernel: the tap, not vhost, handles the virtio header
 * (VHOST_NET_F_VIRTIO_NET_HDR), guest RAM is not behind an IOMMU (ACCESS_PLATFORM), and
 * there is no dirty log (VHOST_F_LOG_ALL).
 */
#define VHOST_NET_MASKED                                                    \
	((1ULL << VHOST_NET_F_VIRTIO_NET_HDR) | (1ULL << VHOST_F_LOG_ALL) | \
	 (1ULL << VIRTIO_F_ACCESS_PLATFORM))

static int vhost_ioctl(struct vhost_net *vh, unsigned long req, const char *name, void *arg)
{
	if (ioctl(vh->fd, req, arg) < 0) {
		int err = errno;

		pr_err("vhost-net: %s: %s", name, strerror(err));
		return -err;
	}
	return 0;
}

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
	vh->fd = fd;
	/* The owner is this process: the kernel's worker takes our memory map from it. */
	if (vhost_ioctl(vh, VHOST_SET_OWNER, "VHOST_SET_OWNER", NULL) ||
	    vhost_ioctl(vh, VHOST_GET_FEATURES, "VHOST_GET_FEATURES", &vh->features)) {
		vhost_net_close(vh);
		return -EXIT_BAD_INPUT;
	}
	vh->features &= ~VHOST_NET_MASKED;
	*out = vh;
	return 0;
}

u64 vhost_net_features(const struct vhost_net *vh)
{
	return vh->features;
}

static int vhost_set_mem(struct vhost_net *vh, const struct guest_memory *mem)
{
	struct vhost_memory *table;
	int ret;

	table = calloc(1, sizeof(*table) + mem->nr * sizeof(table->regions[0]));
	if (!table)
		return -ENOMEM;
	table->nregions = mem->nr;
	for (unsigned int i = 0; i < mem->nr; i++) {
		table->regions[i].guest_phys_addr = mem->regions[i].gpa;
		table->regions[i].memory_size = mem->regions[i].size;
		table->regions[i].userspace_addr = (u64)(unsigned long)mem->regions[i].hva;
	}
	ret = vhost_ioctl(vh, VHOST_SET_MEM_TABLE, "VHOST_SET_MEM_TABLE", table);
	free(table);
	return ret;
}

static int vhost_set_ring(struct vhost_net *vh, unsigned int i, const struct vhost_net_ring *r)
{
	struct vhost_vring_state num = {.index = i, .num = r->size};
	struct vhost_vring_state base = {.index = i, .num = r->last_avail};
	struct vhost_vring_addr addr = {
		.index = i,
		.desc_user_addr = (u64)(unsigned long)r->desc,
		.avail_user_addr = (u64)(unsigned long)r->avail,
		.used_user_addr = (u64)(unsigned long)r->used,
	};
	struct vhost_vring_file kick = {.index = i, .fd = r->kick_fd};
	struct vhost_vring_file call = {.index = i, .fd = r->call_fd};

	if (vhost_ioctl(vh, VHOST_SET_VRING_NUM, "VHOST_SET_VRING_NUM", &num) ||
	    vhost_ioctl(vh, VHOST_SET_VRING_BASE, "VHOST_SET_VRING_BASE", &base) ||
	    vhost_ioctl(vh, VHOST_SET_VRING_ADDR, "VHOST_SET_VRING_ADDR", &addr) ||
	    vhost_ioctl(vh, VHOST_SET_VRING_KICK, "VHOST_SET_VRING_KICK", &kick) ||
	    vhost_ioctl(vh, VHOST_SET_VRING_CALL, "VHOST_SET_VRING_CALL", &call))
		return -EIO;
	return 0;
}

int vhost_net_start(struct vhost_net *vh, const struct guest_memory *mem, u64 features,
		    const struct vhost_net_ring rings[2], int tap_fd)
{
	u64 f = features & vh->features;
	u16 ignored[VHOST_NET_RINGS];
	int ret;

	ret = vhost_ioctl(vh, VHOST_SET_FEATURES, "VHOST_SET_FEATURES", &f);
	if (!ret)
		ret = vhost_set_mem(vh, mem);
	for (unsigned int i = 0; !ret && i < VHOST_NET_RINGS; i++)
		ret = vhost_set_ring(vh, i, &rings[i]);
	vh->started = true; /* from here on, stop() undoes what was set */
	for (unsigned int i = 0; !ret && i < VHOST_NET_RINGS; i++) {
		struct vhost_vring_file be = {.index = i, .fd = tap_fd};

		ret = vhost_ioctl(vh, VHOST_NET_SET_BACKEND, "VHOST_NET_SET_BACKEND", &be);
	}
	if (ret) {
		vhost_net_stop(vh, ignored);
		return ret;
	}
	return 0;
}

void vhost_net_stop(struct vhost_net *vh, u16 last_avail[2])
{
	for (unsigned int i = 0; i < VHOST_NET_RINGS; i++) {
		struct vhost_vring_file unbind = {.index = i, .fd = VHOST_FILE_UNBIND};
		struct vhost_vring_state base = {.index = i};

		last_avail[i] = 0;
		if (!vh->started)
			continue;
		/* Detaching the tap first makes the kernel finish what it was doing. */
		ioctl(vh->fd, VHOST_NET_SET_BACKEND, &unbind);
		if (!ioctl(vh->fd, VHOST_GET_VRING_BASE, &base))
			last_avail[i] = (u16)base.num;
		/* Let go of the eventfds: the transport may close them after a reset. */
		ioctl(vh->fd, VHOST_SET_VRING_KICK, &unbind);
		ioctl(vh->fd, VHOST_SET_VRING_CALL, &unbind);
	}
	vh->started = false;
}

void vhost_net_close(struct vhost_net *vh)
{
	u16 ignored[VHOST_NET_RINGS];

	if (!vh)
		return;
	vhost_net_stop(vh, ignored);
	close(vh->fd);
	free(vh);
}
