// SPDX-License-Identifier: GPL-2.0-only
/*
 * The userspace virtio-vsock device: Firecracker's vsock, served over Unix sockets.
 *
 * Host-initiated connections: a client connects to the socket at PATH and writes
 * "CONNECT <port>\n"; the guest gets a REQUEST for that port from a host port of ours,
 * and when it accepts (RESPONSE) the client reads "OK <host port>\n", then bytes flow.
 * Guest-initiated connections: a REQUEST to CID 2, port P, is a connect() to the Unix
 * socket "PATH_P"; RESPONSE if it succeeds, RST if not.
 *
 * Three queues like the vhost-vsock device (vsock.c): rx, tx and event; the event queue
 * only carries the transport reset a snapshot load owes the guest. The listening
 * socket exists from realize to destroy, and is removed then. A pause stops the worker
 * but keeps the connections; a reset ends them.
 *
 * Snapshots hold the virtio state and the CID, not the connections: those are host
 * sockets of the process that took the snapshot. The restored device starts with none
 * and sends the guest VIRTIO_VSOCK_EVENT_TRANSPORT_RESET, upon which its driver resets
 * every connected socket (listening ones stay); a packet for an old connection that
 * comes before that gets RST, as for any connection the table does not know.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../config.h"
#include "../../util/log.h"
#include "../../util/thread.h"
#include "../../vm.h"
#include "vsock.h"
#include "vsock_uds.h"

#define VSOCK_QUEUES	 3
#define VSOCK_QUEUE_SIZE 256
#define UDS_SNAP_VERSION 1

static struct vsock_uds *to_uds(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vsock_uds, vdev);
}

static int uds_start(struct virtio_dev *vdev)
{
	struct vsock_uds *v = to_uds(vdev);

	/* A driver that left rx or tx off gets no connections, and nothing breaks. */
	if (!vdev->queues[VSOCK_RXQ].vq.ready || !vdev->queues[VSOCK_TXQ].vq.ready) {
		pr_guest("virtio-vsock: rx or tx queue not enabled; the device stays idle");
		return 0;
	}
	v->rx_held = false;
	v->rx_starved = false;
	v->ev_starved = false;
	v->vdev.broken = false;
	return dev_worker_start(&v->worker, "virtio-vsock", THREAD_VIRTIO_VSOCK, vsock_uds_worker,
				v);
}

static void uds_stop(struct virtio_dev *vdev)
{
	struct vsock_uds *v = to_uds(vdev);

	dev_worker_stop(&v->worker, "virtio-vsock");
	/* A buffer taken and not filled goes back to the driver's side of the ring. */
	if (v->rx_held)
		virtqueue_unpop(&vdev->queues[VSOCK_RXQ].vq);
	v->rx_held = false;
	/* After a reset the guest knows no connection: the host ends see theirs closed. */
	if (!vdev->pausing) {
		vsock_conns_clear(&v->conns);
		v->reset_owed = false; /* and needs no event to forget them */
	}
}

/* The CID only, to check the load against: the connections are not saved. */
static int uds_save(struct virtio_dev *vdev, struct snap_buf *sb)
{
	snap_begin_section(sb, "virtio-vsock-uds", UDS_SNAP_VERSION);
	snap_put_u32(sb, to_uds(vdev)->cid);
	return 0;
}

/*
 * The guest's driver still has the connections of the saved VM; this device has none
 * of them: it owes the driver a transport reset. The CID is the configuration's, which
 * the load built the device from; a state of another CID is refused.
 */
static int uds_load(struct virtio_dev *vdev, struct snap_buf *sb)
{
	struct vsock_uds *v = to_uds(vdev);
	u32 cid;

	if (snap_open_section(sb, "virtio-vsock-uds") != UDS_SNAP_VERSION ||
	    !snap_get_u32(sb, &cid))
		return -EINVAL;
	if (cid != v->cid) {
		pr_err("virtio-vsock: the snapshot's device has CID %u, its configuration %u", cid,
		       v->cid);
		return -EINVAL;
	}
	v->reset_owed = true;
	v->ev_starved = false;
	return 0;
}

static void uds_destroy(struct virtio_dev *vdev)
{
	struct vsock_uds *v = to_uds(vdev);

	if (v->worker.running)
		uds_stop(vdev);
	vsock_conns_clear(&v->conns);
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->path);
	}
	dev_worker_fini(&v->worker);
	free(v->chain);
	free(v->rx_chain);
	free(v);
}

static const struct virtio_dev_ops uds_vdev_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.num_queues = VSOCK_QUEUES,
	.queue_max_size = VSOCK_QUEUE_SIZE,
	.start = uds_start,
	.stop = uds_stop,
	.save = uds_save,
	.load = uds_load,
	.destroy = uds_destroy,
};

/* Before anything is built: the path is free and its folder takes a new socket. */
int vsock_uds_check(const struct vsock_options *o)
{
	const char *slash = strrchr(o->uds, '/');
	char dir[sizeof(o->uds)];
	struct stat st;

	if (!lstat(o->uds, &st)) {
		pr_err("--vsock uds=%s: the path exists (remove it, or give another)", o->uds);
		return -EXIT_BAD_INPUT;
	}
	if (!slash)
		strcpy(dir, ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)MAX(slash - o->uds, 1), o->uds);
	if (access(dir, W_OK | X_OK)) {
		pr_err("--vsock uds=%s: cannot create a socket in %s: %s", o->uds, dir,
		       strerror(errno));
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

/* Binds and listens at the path. 0, or -EXIT_BAD_INPUT after one line saying why. */
static int uds_listen(struct vsock_uds *v)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, v->path); /* its length was checked with the options */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		pr_err("--vsock uds=%s: cannot create the socket: %s%s", v->path, strerror(err),
		       err == EADDRINUSE ? " (the path exists: remove it, or give another)" : "");
		if (fd >= 0)
			close(fd);
		return -EXIT_BAD_INPUT;
	}
	if (listen(fd, 128) < 0) {
		pr_err("--vsock uds=%s: listen: %s", v->path, strerror(errno));
		close(fd);
		unlink(v->path);
		return -EXIT_BAD_INPUT;
	}
	v->listen_fd = fd;
	return 0;
}

static struct vsock_uds *uds_alloc(const struct vsock_options *o)
{
	struct vsock_uds *v = calloc(1, sizeof(*v));
	u64 le_cid = htole64(o->cid);

	if (!v)
		return NULL;
	v->listen_fd = -1;
	v->cid = o->cid;
	strcpy(v->path, o->uds);
	vsock_conns_init(&v->conns, o->cid);
	memcpy(v->config, &le_cid, sizeof(le_cid));
	v->chain = malloc(sizeof(*v->chain));
	v->rx_chain = malloc(sizeof(*v->rx_chain));
	if (dev_worker_init(&v->worker) || !v->chain || !v->rx_chain) {
		uds_destroy(&v->vdev);
		return NULL;
	}
	return v;
}

int vsock_uds_create(const struct vsock_options *o, struct vsock_uds **out)
{
	struct vsock_uds *v = uds_alloc(o);
	int ret;

	if (!v) {
		pr_err("virtio-vsock: out of resources");
		return -EXIT_VMM_ERROR;
	}
	ret = uds_listen(v);
	if (ret) {
		uds_destroy(&v->vdev);
		return ret;
	}
	v->vdev.ops = &uds_vdev_ops;
	v->vdev.config = v->config;
	v->vdev.config_size = sizeof(v->config);
	v->vdev.device_features = BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_RING_F_INDIRECT_DESC);
	*out = v;
	return 0;
}

int vsock_uds_realize(struct vm *vm, const struct vsock_options *o)
{
	struct vsock_uds *v;
	int ret = vsock_uds_create(o, &v);

	if (ret)
		return ret;
	v->vdev.notify = virtio_notify_queue;
	v->vdev.set_needs_reset = virtio_set_needs_reset;
	v->vdev.vm = vm;
	if (virtio_pci_register(vm, &v->vdev)) {
		uds_destroy(&v->vdev);
		return -EXIT_VMM_ERROR;
	}
	pr_info("virtio-vsock: guest CID %u, host connections on %s", o->cid, o->uds);
	return 0;
}
