// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ioctl sequence every vhost device needs: owner, features, the guest's memory map and
 * the rings (size, start index, addresses, kick and call eventfds).
 */
#include <errno.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../util/log.h"
#include "vhost.h"

/*
 * Bits we never hand to any vhost device: guest RAM is not behind an IOMMU
 * (ACCESS_PLATFORM) and there is no dirty log (VHOST_F_LOG_ALL).
 */
#define VHOST_MASKED ((1ULL << VHOST_F_LOG_ALL) | (1ULL << VIRTIO_F_ACCESS_PLATFORM))

int vhost_dev_ioctl(struct vhost_dev *vh, unsigned long req, const char *what, void *arg)
{
	if (ioctl(vh->fd, req, arg) < 0) {
		int err = errno;

		pr_err("%s: %s: %s", vh->name, what, strerror(err));
		return -err;
	}
	return 0;
}

int vhost_dev_init(struct vhost_dev *vh, int fd, const char *name, unsigned int nr_rings)
{
	int ret;

	*vh = (struct vhost_dev){.fd = fd, .name = name, .nr_rings = nr_rings};
	if (nr_rings > VHOST_MAX_RINGS) {
		close(fd);
		vh->fd = -1;
		return -EINVAL;
	}
	/* The owner is this process: the kernel's worker takes our memory map from it. */
	ret = vhost_dev_ioctl(vh, VHOST_SET_OWNER, "VHOST_SET_OWNER", NULL);
	if (!ret)
		ret = vhost_dev_ioctl(vh, VHOST_GET_FEATURES, "VHOST_GET_FEATURES", &vh->features);
	if (ret) {
		close(fd);
		vh->fd = -1;
		return ret;
	}
	vh->features &= ~VHOST_MASKED;
	return 0;
}

static int vhost_set_mem(struct vhost_dev *vh, const struct guest_memory *mem)
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
	ret = vhost_dev_ioctl(vh, VHOST_SET_MEM_TABLE, "VHOST_SET_MEM_TABLE", table);
	free(table);
	return ret;
}

static int vhost_set_ring(struct vhost_dev *vh, unsigned int i, const struct vhost_ring *r)
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
	int ret;

	ret = vhost_dev_ioctl(vh, VHOST_SET_VRING_NUM, "VHOST_SET_VRING_NUM", &num);
	if (!ret)
		ret = vhost_dev_ioctl(vh, VHOST_SET_VRING_BASE, "VHOST_SET_VRING_BASE", &base);
	if (!ret)
		ret = vhost_dev_ioctl(vh, VHOST_SET_VRING_ADDR, "VHOST_SET_VRING_ADDR", &addr);
	if (!ret)
		ret = vhost_dev_ioctl(vh, VHOST_SET_VRING_KICK, "VHOST_SET_VRING_KICK", &kick);
	if (!ret)
		ret = vhost_dev_ioctl(vh, VHOST_SET_VRING_CALL, "VHOST_SET_VRING_CALL", &call);
	return ret;
}

int vhost_dev_start(struct vhost_dev *vh, const struct guest_memory *mem, u64 features,
		    const struct vhost_ring *rings)
{
	u64 f = features & vh->features;
	int ret;

	ret = vhost_dev_ioctl(vh, VHOST_SET_FEATURES, "VHOST_SET_FEATURES", &f);
	if (!ret)
		ret = vhost_set_mem(vh, mem);
	vh->started = true; /* from here on, stop() undoes what was set */
	for (unsigned int i = 0; !ret && i < vh->nr_rings; i++)
		ret = vhost_set_ring(vh, i, &rings[i]);
	if (ret)
		vhost_dev_stop(vh, NULL);
	return ret;
}

void vhost_dev_stop(struct vhost_dev *vh, u16 *last_avail)
{
	for (unsigned int i = 0; i < vh->nr_rings; i++) {
		struct vhost_vring_file unbind = {.index = i, .fd = VHOST_FILE_UNBIND};
		struct vhost_vring_state base = {.index = i};

		if (last_avail)
			last_avail[i] = 0;
		if (!vh->started)
			continue;
		/* Taken under the ring's lock in the kernel: it waits for work in progress. */
		if (!ioctl(vh->fd, VHOST_GET_VRING_BASE, &base) && last_avail)
			last_avail[i] = (u16)base.num;
		/* Let go of the eventfds: the transport may close them after a reset. */
		ioctl(vh->fd, VHOST_SET_VRING_KICK, &unbind);
		ioctl(vh->fd, VHOST_SET_VRING_CALL, &unbind);
	}
	vh->started = false;
}

void vhost_dev_close(struct vhost_dev *vh)
{
	if (vh->fd < 0)
		return;
	vhost_dev_stop(vh, NULL);
	close(vh->fd);
	vh->fd = -1;
}
