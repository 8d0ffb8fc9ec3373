// SPDX-License-Identifier: GPL-2.0-only
/*
 * Swapping a running virtio-blk disk's backing file (the control API's PATCH /drives):
 * the worker is stopped, the new file takes the old one's place, the capacity in the
 * config space follows, the worker starts again on the same rings, and the driver gets a
 * configuration change interrupt (Linux re-reads the capacity).
 */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../vm.h"
#include "blk.h"
#include "virtio_pci.h"

/* The running virtio-blk disk on path, or NULL. */
static struct virtio_blk *find_disk(struct vm *vm, const char *path)
{
	struct virtio_dev *vdev = NULL;

	while ((vdev = virtio_pci_next(vm->devices, vdev, VIRTIO_ID_BLOCK))) {
		struct virtio_blk *b = container_of(vdev, struct virtio_blk, vdev);

		if (!strcmp(b->opts.path, path))
			return b;
	}
	return NULL;
}

int virtio_blk_swap(struct vm *vm, const char *old_path, const char *new_path, char *err,
		    size_t errlen)
{
	struct virtio_blk *b = find_disk(vm, old_path);
	struct block_file nf;
	struct virtio_pci *vp;
	bool running;
	int ret;

	if (!b || !b->vdev.transport) {
		snprintf(err, errlen, "no disk on %s", old_path);
		return -ENODEV;
	}
	if (strlen(new_path) >= sizeof(b->opts.path)) {
		snprintf(err, errlen, "the path is too long");
		return -ENAMETOOLONG;
	}
	vp = b->vdev.transport;
	if (!virtio_blk_wait_idle(b)) {
		snprintf(err, errlen, "the disk's I/O did not finish: try again");
		return -EBUSY;
	}
	ret = block_file_open(&nf, new_path, b->opts.ro, err, errlen);
	if (ret)
		return ret;
	pthread_mutex_lock(&vp->ctrl_lock);
	running = vp->running;
	if (running)
		b->vdev.ops->stop(&b->vdev);
	vp->running = false;
	block_file_close(&b->file);
	b->file = nf;
	strcpy(b->opts.path, new_path);
	pthread_mutex_lock(&b->vdev.lock);
	b->config.capacity = htole64(b->file.size / BLOCK_SECTOR_SIZE);
	pthread_mutex_unlock(&b->vdev.lock);
	if (running) {
		if (b->vdev.ops->start(&b->vdev) == 0)
			vp->running = true;
		else
			vp_raise_needs_reset(vp, "the disk could not start on its new file");
	}
	pthread_mutex_unlock(&vp->ctrl_lock);
	virtio_notify_config(&b->vdev);
	return 0;
}

int virtio_blk_set_limiter(struct vm *vm, const char *path, const struct rl_config *rl)
{
	struct virtio_blk *b = find_disk(vm, path);

	if (!b)
		return -ENODEV;
	rate_limiter_set(&b->rl, rl, rate_limiter_now());
	return 0;
}
