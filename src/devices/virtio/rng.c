// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-rng (virtio 1.x, "Entropy Device"): one request queue of device-writable
 * buffers, which the device fills with random bytes from the host's getrandom(). No
 * features, no configuration space. One worker thread serves the queue between start()
 * and stop().
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../../util/log.h"
#include "../../util/thread.h"
#include "../../vm.h"
#include "../worker.h"
#include "rng.h"
#include "virtio.h"

#define RNG_QUEUE_SIZE 256
#define RNG_MAX_CHAIN  (64 * KiB) /* bytes filled per request, whatever its size */
#define RNG_BATCH      64	  /* requests between checks for stop */

struct virtio_rng {
	struct virtio_dev vdev;
	struct dev_worker worker;
	struct vq_chain *chain; /* the worker's, too big for a stack frame */
};

static bool rng_stopping(struct virtio_rng *rng)
{
	struct pollfd p = {.fd = rng->worker.stop_fd, .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

/* Fills buf with host randomness; returns how many bytes it got. */
static size_t rng_fill(void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom((u8 *)buf + done, len - done, 0);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		done += (size_t)n;
	}
	return done;
}

/* One request: every device-writable buffer filled, up to RNG_MAX_CHAIN bytes. */
static u32 rng_serve(const struct vq_chain *chain)
{
	size_t total = 0;

	for (unsigned int i = 0; i < chain->n_in && total < RNG_MAX_CHAIN; i++) {
		size_t want = MIN(chain->in[i].iov_len, RNG_MAX_CHAIN - total);
		size_t got = rng_fill(chain->in[i].iov_base, want);

		total += got;
		if (got < want)
			break;
	}
	return (u32)total;
}

/*
 * Serves what the ring holds, with notifications off meanwhile. Returns 0, or -EIO
 * when the driver broke the ring.
 */
static int rng_drain(struct virtio_rng *rng)
{
	struct virtqueue *vq = &rng->vdev.queues[0].vq;
	unsigned int served = 0;
	int ret = 0;

	do {
		virtqueue_enable_notify(vq, false);
		while ((ret = virtqueue_pop(vq, rng->chain)) == 1) {
			if (virtqueue_push(vq, rng->chain->head, rng_serve(rng->chain)) < 0)
				return -EIO;
			if (++served % RNG_BATCH == 0) {
				virtio_notify_queue(&rng->vdev, 0);
				if (rng_stopping(rng))
					return 0;
			}
		}
		if (ret < 0)
			return -EIO;
	} while (virtqueue_enable_notify(vq, true));
	if (served)
		virtio_notify_queue(&rng->vdev, 0);
	return 0;
}

static void *rng_worker(void *arg)
{
	struct virtio_rng *rng = arg;
	int kick = rng->vdev.queues[0].kick_fd;
	u64 v;

	for (;;) {
		struct pollfd fds[2] = {
			{.fd = rng->worker.stop_fd, .events = POLLIN},
			{.fd = kick, .events = POLLIN},
		};

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("virtio-rng: poll: %s", strerror(errno));
			break;
		}
		if (fds[0].revents)
			break;
		if (read(kick, &v, sizeof(v)) < 0 && errno != EAGAIN)
			pr_debug("virtio-rng: kick: %s", strerror(errno));
		if (rng_drain(rng) < 0) {
			/* stop() joins this thread later; until then it leaves the ring alone. */
			virtio_set_needs_reset(&rng->vdev, "the request queue is broken");
			break;
		}
	}
	return NULL;
}

static int rng_start(struct virtio_dev *vdev)
{
	struct virtio_rng *rng = container_of(vdev, struct virtio_rng, vdev);

	/* A driver that did not enable the queue gets no service, and nothing breaks. */
	if (!vdev->queues[0].vq.ready)
		return 0;
	return dev_worker_start(&rng->worker, "virtio-rng", THREAD_VIRTIO_RNG, rng_worker, rng);
}

static void rng_stop(struct virtio_dev *vdev)
{
	struct virtio_rng *rng = container_of(vdev, struct virtio_rng, vdev);

	dev_worker_stop(&rng->worker, "virtio-rng");
}

static void rng_destroy(struct virtio_dev *vdev)
{
	struct virtio_rng *rng = container_of(vdev, struct virtio_rng, vdev);

	dev_worker_fini(&rng->worker);
	free(rng->chain);
	free(rng);
}

static const struct virtio_dev_ops rng_vdev_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.queue_max_size = RNG_QUEUE_SIZE,
	.start = rng_start,
	.stop = rng_stop,
	.destroy = rng_destroy,
};

static int rng_realize(struct vm *vm)
{
	struct virtio_rng *rng;

	if (!vm->cfg->rng)
		return 0;
	rng = calloc(1, sizeof(*rng));
	if (!rng)
		return -1;
	rng->chain = malloc(sizeof(*rng->chain));
	if (dev_worker_init(&rng->worker) || !rng->chain) {
		pr_err("virtio-rng: out of resources");
		rng_destroy(&rng->vdev);
		return -1;
	}
	rng->vdev.ops = &rng_vdev_ops;
	rng->vdev.device_features = BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_RING_F_EVENT_IDX);
	if (virtio_pci_register(vm, &rng->vdev) < 0) {
		rng_destroy(&rng->vdev);
		return -1;
	}
	return 0;
}

const struct device_ops virtio_rng_ops = {
	.name = "virtio-rng",
	.realize = rng_realize,
};
