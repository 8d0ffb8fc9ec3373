// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-vsock (virtio 1.x, "Socket Device"): stream sockets between the guest and the
 * host, addressed by context IDs; the guest's CID is the whole configuration space. This
 * file is the --vsock option and the vhost-vsock device; with uds= the device is
 * kvmbox's own instead (vsock_uds.c). Three
 * queues: rx 0 and tx 1, which the host kernel's vhost-vsock serves (it is the host end
 * of every connection), and the event queue 2, which stays kvmbox's and unused: it only
 * carries transport resets, which a VM that never migrates has no reason to send.
 *
 * The CID is claimed when the device is created, so that a CID in use is refused before
 * the guest starts; the rings are handed over at DRIVER_OK and taken back on every reset.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <linux/virtio_vsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../backends/vhost.h"
#include "../../config.h"
#include "../../util/log.h"
#include "../../vm.h"
#include "virtio.h"
#include "vsock.h"

#define VSOCK_RXQ	  0
#define VSOCK_TXQ	  1
#define VSOCK_QUEUES	  3 /* rx, tx, event */
#define VSOCK_VHOST_RINGS 2 /* rx and tx; the event queue is not the kernel's */
#define VSOCK_QUEUE_SIZE  256
#define VHOST_VSOCK_PATH  "/dev/vhost-vsock"

struct virtio_vsock {
	struct virtio_dev vdev;
	u32 cid;
	struct vhost_dev vhost;
	bool running; /* VHOST_VSOCK_SET_RUNNING(1) done */
	u8 config[sizeof(struct virtio_vsock_config)];
};

static struct virtio_vsock *to_vsock(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_vsock, vdev);
}

static int parse_cid(const char *val, u32 *cid, char *err, size_t errlen)
{
	unsigned int v;

	if (parse_uint(val, VSOCK_CID_MIN, VSOCK_CID_MAX, &v)) {
		snprintf(err, errlen,
			 "the CID must be a number from %u to %u (0, 1 and 2 are reserved; the "
			 "host is 2)",
			 VSOCK_CID_MIN, VSOCK_CID_MAX);
		return -EINVAL;
	}
	*cid = v;
	return 0;
}

/* uds=PATH: a path that leaves room for "_<port>" in a sockaddr_un. */
static int parse_uds(const char *val, struct vsock_options *o, char *err, size_t errlen)
{
	if (!*val) {
		snprintf(err, errlen, "uds= needs a path");
		return -EINVAL;
	}
	if (strlen(val) > VSOCK_UDS_MAX) {
		snprintf(err, errlen, "the uds path is longer than %d bytes", VSOCK_UDS_MAX);
		return -EINVAL;
	}
	strcpy(o->uds, val);
	return 0;
}

static int parse_item(const char *item, struct vsock_options *o, bool *have_cid, char *err,
		      size_t errlen)
{
	if (!strncmp(item, "cid=", 4)) {
		if (*have_cid) {
			snprintf(err, errlen, "cid given twice");
			return -EINVAL;
		}
		*have_cid = true;
		return parse_cid(item + 4, &o->cid, err, errlen);
	}
	if (!strncmp(item, "uds=", 4)) {
		if (*o->uds) {
			snprintf(err, errlen, "uds given twice");
			return -EINVAL;
		}
		return parse_uds(item + 4, o, err, errlen);
	}
	snprintf(err, errlen, "unknown key '%.*s' (expected cid=N[,uds=PATH])",
		 (int)strcspn(item, "="), item);
	return -EINVAL;
}

int vsock_parse_options(const char *arg, struct vsock_options *o, char *err, size_t errlen)
{
	char *copy = strdup(arg), *rest = copy, *item;
	struct vsock_options v = {0};
	bool have_cid = false;
	int ret = 0;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -EINVAL;
	}
	/* "" is no key at all: say what is missing rather than what is unknown. */
	while (!ret && *arg && (item = strsep(&rest, ",")))
		ret = parse_item(item, &v, &have_cid, err, errlen);
	if (!ret && !have_cid) {
		snprintf(err, errlen, "cid=N is required (a guest CID, e.g. cid=3)");
		ret = -EINVAL;
	}
	free(copy);
	if (!ret)
		*o = v;
	return ret;
}

u64 vsock_offered_features(u64 vhost_features)
{
	/* Ring layouts the kernel walks itself, and SEQPACKET, which it alone implements. */
	return vhost_features & (BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
				 BIT(VIRTIO_VSOCK_F_SEQPACKET));
}

static int vsock_set_running(struct virtio_vsock *v, int running)
{
	return vhost_dev_ioctl(&v->vhost, VHOST_VSOCK_SET_RUNNING, "VHOST_VSOCK_SET_RUNNING",
			       &running);
}

/* Fills rings[] for rx and tx. Returns 0, 1 if the driver left one disabled, or -errno. */
static int vsock_rings(struct virtio_vsock *v, struct vhost_ring *rings)
{
	for (unsigned int q = 0; q < VSOCK_VHOST_RINGS; q++) {
		struct virtqueue *vq = &v->vdev.queues[q].vq;
		int call;

		if (!vq->ready || !vq->desc)
			return 1;
		call = virtio_queue_irqfd(&v->vdev, q);
		if (call < 0) {
			pr_err("virtio-vsock: no interrupt eventfd for queue %u: %s", q,
			       strerror(-call));
			return call;
		}
		rings[q] = (struct vhost_ring){
			.size = vq->size,
			.last_avail = vq->last_avail,
			.desc = vq->desc,
			.avail = vq->avail,
			.used = vq->used,
			.kick_fd = v->vdev.queues[q].kick_fd,
			.call_fd = call,
		};
	}
	return 0;
}

static int vsock_start(struct virtio_dev *vdev)
{
	struct virtio_vsock *v = to_vsock(vdev);
	struct vhost_ring rings[VSOCK_VHOST_RINGS];
	int ret = vsock_rings(v, rings);

	if (ret > 0) {
		/* Nothing breaks: the guest simply has no connections until it resets us. */
		pr_guest("virtio-vsock: rx or tx queue not enabled; the device stays idle");
		return 0;
	}
	if (!ret)
		ret = vhost_dev_start(&v->vhost, vdev->queues[0].vq.mem, vdev->driver_features,
				      rings);
	if (ret)
		return ret;
	ret = vsock_set_running(v, 1);
	if (ret) {
		vhost_dev_stop(&v->vhost, NULL);
		return ret;
	}
	v->running = true;
	pr_debug("virtio-vsock: vhost-vsock serves CID %u", v->cid);
	return 0;
}

static void vsock_stop(struct virtio_dev *vdev)
{
	struct virtio_vsock *v = to_vsock(vdev);

	/* Not running first: the kernel stops taking buffers before the rings go back. */
	if (v->running)
		vsock_set_running(v, 0);
	v->running = false;
	vhost_dev_stop(&v->vhost, NULL);
}

/*
 * vhost-vsock's rings and connections live in the host kernel, beyond kvmbox's reach:
 * a VM with one is not snapshotted (the control API answers 400).
 */
static int vsock_save(struct virtio_dev *vdev, struct snap_buf *sb)
{
	(void)vdev;
	(void)sb;
	pr_err("virtio-vsock: a vhost-vsock device cannot be snapshotted");
	return -EOPNOTSUPP;
}

static void vsock_destroy(struct virtio_dev *vdev)
{
	struct virtio_vsock *v = to_vsock(vdev);

	/* The transport stopped us already; this only guards a start without a stop. */
	if (v->vhost.started)
		vsock_stop(vdev);
	/* Closing releases the CID for the next VM. */
	vhost_dev_close(&v->vhost);
	free(v);
}

static const struct virtio_dev_ops vsock_vdev_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.num_queues = VSOCK_QUEUES,
	.queue_max_size = VSOCK_QUEUE_SIZE,
	.start = vsock_start,
	.stop = vsock_stop,
	.save = vsock_save,
	.keep_running_on_pause = true,
	.destroy = vsock_destroy,
};

static int vsock_open_error(int err)
{
	const char *fix = "";

	if (err == ENOENT || err == ENODEV || err == ENXIO)
		fix = " (load the vhost_vsock module: modprobe vhost_vsock)";
	else if (err == EACCES || err == EPERM)
		fix = " (run as root, or give your user read-write access to " VHOST_VSOCK_PATH ")";
	pr_err("--vsock: cannot open " VHOST_VSOCK_PATH ": %s%s", strerror(err), fix);
	return -EXIT_BAD_INPUT;
}

/* Opens vhost-vsock and claims the CID. Returns 0 or -EXIT_* after printing why. */
static int vsock_open_vhost(struct virtio_vsock *v)
{
	int fd = open(VHOST_VSOCK_PATH, O_RDWR | O_CLOEXEC);
	u64 cid = v->cid;

	if (fd < 0)
		return vsock_open_error(errno);
	if (vhost_dev_init(&v->vhost, fd, "vhost-vsock", VSOCK_VHOST_RINGS))
		return -EXIT_BAD_INPUT;
	if (!(v->vhost.features & BIT(VIRTIO_F_VERSION_1))) {
		pr_err("--vsock: this host's vhost-vsock lacks virtio 1.0 (a newer kernel has it)");
		return -EXIT_BAD_INPUT;
	}
	if (ioctl(v->vhost.fd, VHOST_VSOCK_SET_GUEST_CID, &cid) < 0) {
		int err = errno;

		if (err == EADDRINUSE)
			pr_err("--vsock cid=%u: CID %u is already in use on this host (another VM "
			       "has it); pick another cid",
			       v->cid, v->cid);
		else
			pr_err("--vsock cid=%u: vhost-vsock refused the CID: %s", v->cid,
			       strerror(err));
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

static void vsock_init_device(struct virtio_vsock *v, struct vm *vm)
{
	u64 le_cid = htole64(v->cid);

	memcpy(v->config, &le_cid, sizeof(le_cid));
	v->vdev.ops = &vsock_vdev_ops;
	v->vdev.vm = vm;
	v->vdev.config = v->config;
	v->vdev.config_size = sizeof(v->config);
	v->vdev.device_features = vsock_offered_features(v->vhost.features);
}

/* The CID's syntax and range, and a vhost-vsock to open; the CID is claimed by realize. */
static int vsock_check(const struct vm_config *cfg)
{
	struct vsock_options o;
	char err[160];
	int fd;

	if (!cfg->vsock)
		return 0;
	if (vsock_parse_options(cfg->vsock, &o, err, sizeof(err))) {
		pr_err("--vsock %s: %s", cfg->vsock, err);
		return -EXIT_BAD_INPUT;
	}
	if (*o.uds)
		return vsock_uds_check(&o);
	fd = open(VHOST_VSOCK_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return vsock_open_error(errno);
	close(fd);
	return 0;
}

static int vsock_realize(struct vm *vm)
{
	struct vsock_options o;
	struct virtio_vsock *v;
	char err[160];
	u32 cid;
	int ret;

	if (!vm->cfg->vsock)
		return 0;
	if (vsock_parse_options(vm->cfg->vsock, &o, err, sizeof(err))) {
		pr_err("--vsock %s: %s", vm->cfg->vsock, err);
		return -EXIT_BAD_INPUT;
	}
	if (*o.uds)
		return vsock_uds_realize(vm, &o);
	cid = o.cid;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -EXIT_VMM_ERROR;
	v->cid = cid;
	v->vhost.fd = -1;
	ret = vsock_open_vhost(v);
	if (ret) {
		vhost_dev_close(&v->vhost);
		free(v);
		return ret;
	}
	vsock_init_device(v, vm);
	/* On failure the transport has said why, and the device is ours to free. */
	if (virtio_pci_register(vm, &v->vdev)) {
		vhost_dev_close(&v->vhost);
		free(v);
		return -EXIT_VMM_ERROR;
	}
	pr_info("virtio-vsock: guest CID %u", cid);
	return 0;
}

const struct device_ops virtio_vsock_ops = {
	.name = "virtio-vsock",
	.check = vsock_check,
	.realize = vsock_realize,
};
