// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-console (virtio 1.x, "Console Device"): one port, the guest's hvc0, on
 * receiveq0 (host to guest) and transmitq0 (guest to host). No features: no size, no
 * multiport, no emergency write, so there is no configuration space either. The host end
 * is a stream (backends/stream.c): kvmbox's stdio or a Unix socket.
 *
 * One worker thread waits on both queues' kicks, the stream and a stop eventfd. Input is
 * read from the stream only while the driver has receive buffers posted, straight into
 * them, so nothing piles up in kvmbox. A chain of the wrong direction or a transmit
 * chain longer than VIRTIO_CONSOLE_MAX_TX makes the device NEEDS_RESET.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../console.h"
#include "../../util/log.h"
#include "../../util/thread.h"
#include "../../vm.h"
#include "console.h"

#define CON_TX_BUDGET	 64 /* chains per round each way, so neither starves the other */
#define CON_RX_BUDGET	 64
#define CON_SNAP_VERSION 1

static struct virtio_console *to_con(struct virtio_dev *vdev)
{
	return container_of(vdev, struct virtio_console, vdev);
}

static struct virtqueue *con_vq(struct virtio_console *c, unsigned int q)
{
	return &c->vdev.queues[q].vq;
}

/* One transmit chain: checked, then written out (or dropped by the stream). */
static int tx_one(struct virtio_console *c, const struct vq_chain *chain)
{
	size_t written;

	if (chain->n_in) {
		virtio_dev_broke(&c->vdev, "virtio-console",
				 "transmit chain has device-writable buffers");
		return -EIO;
	}
	if (chain->out_len > VIRTIO_CONSOLE_MAX_TX) {
		virtio_dev_broke(&c->vdev, "virtio-console", "transmit chain longer than 1 MiB");
		return -EIO;
	}
	written = stream_write(c->stream, chain->out, chain->n_out, c->worker.stop_fd);
	c->tx_bytes += written;
	c->tx_dropped += chain->out_len - written;
	return 0;
}

void virtio_console_tx(struct virtio_console *c)
{
	struct virtqueue *vq = con_vq(c, VIRTIO_CONSOLE_TXQ);
	bool pushed = false;
	int ret;

	c->tx_pending = false;
	/* A queue the driver did not enable is not ours to touch. */
	if (c->vdev.broken || !vq->ready)
		return;
	/* No kicks while we drain: we look at the ring anyway. */
	virtqueue_enable_notify(vq, false);
	for (unsigned int i = 0;; i++) {
		if (i == CON_TX_BUDGET) {
			c->tx_pending = true;
			break;
		}
		ret = virtqueue_pop(vq, c->chain);
		if (ret < 0) {
			virtio_dev_broke(&c->vdev, "virtio-console", "transmit queue broken");
			return;
		}
		if (ret == 0) {
			if (!virtqueue_enable_notify(vq, true))
				break;
			virtqueue_enable_notify(vq, false);
			continue;
		}
		if (tx_one(c, c->chain) < 0)
			return;
		/* Whatever the stream did with it, the buffer goes back: the guest must not wait. */
		if (virtqueue_push(vq, c->chain->head, 0) < 0) {
			virtio_dev_broke(&c->vdev, "virtio-console", "transmit queue broken");
			return;
		}
		pushed = true;
	}
	/* The transport asks the ring whether the driver wants an interrupt. */
	if (pushed)
		c->vdev.notify(&c->vdev, VIRTIO_CONSOLE_TXQ);
}

/*
 * Reads into one receive chain. Returns 1 when bytes went in, 0 when the stream had none
 * (the chain is given back: nothing else was taken since, so that is exact), -EIO.
 */
static int rx_one(struct virtio_console *c, struct virtqueue *vq)
{
	size_t n;

	if (c->chain->n_out || !c->chain->in_len) {
		virtio_dev_broke(&c->vdev, "virtio-console", "receive buffer read-only or empty");
		return -EIO;
	}
	n = stream_read(c->stream, c->chain->in, c->chain->n_in);
	if (!n) {
		vq->last_avail--;
		return 0;
	}
	/* readv() never fills more than the chain holds, and the chain is at most 4 GiB. */
	if (virtqueue_push(vq, c->chain->head, (u32)n) < 0) {
		virtio_dev_broke(&c->vdev, "virtio-console", "receive queue broken");
		return -EIO;
	}
	c->rx_bytes += n;
	return 1;
}

void virtio_console_rx(struct virtio_console *c)
{
	struct virtqueue *vq = con_vq(c, VIRTIO_CONSOLE_RXQ);
	bool pushed = false;
	int ret = 0;

	if (c->vdev.broken || c->rx_starved || !vq->ready)
		return;
	for (unsigned int i = 0; i < CON_RX_BUDGET; i++) {
		ret = virtqueue_pop(vq, c->chain);
		if (ret < 0) {
			virtio_dev_broke(&c->vdev, "virtio-console", "receive queue broken");
			return;
		}
		if (ret == 0) {
			/* Out of buffers: ask for a kick, unless some arrived meanwhile. */
			if (!virtqueue_enable_notify(vq, true)) {
				c->rx_starved = true;
				break;
			}
			virtqueue_enable_notify(vq, false);
			continue;
		}
		ret = rx_one(c, vq);
		if (ret < 0)
			return;
		if (ret == 0)
			break;
		pushed = true;
	}
	if (pushed)
		c->vdev.notify(&c->vdev, VIRTIO_CONSOLE_RXQ);
}

void virtio_console_activate(struct virtio_console *c)
{
	c->vdev.broken = false;
	/* Buffers the driver queued before DRIVER_OK got no kick we could see. */
	c->rx_starved = false;
	c->tx_pending = true;
	virtqueue_enable_notify(con_vq(c, VIRTIO_CONSOLE_RXQ), false);
}

void virtio_console_deactivate(struct virtio_console *c)
{
	/* The transport resets the rings after this; the stream and its client stay. */
	c->vdev.broken = false;
	c->rx_starved = false;
	c->tx_pending = false;
}

/* One round of the worker: wait, then serve what woke us. Returns false on stop. */
static bool con_worker_round(struct virtio_console *c)
{
	struct pollfd fds[3 + STREAM_MAX_POLLFDS] = {
		{.fd = c->worker.stop_fd, .events = POLLIN},
		{.fd = c->vdev.queues[VIRTIO_CONSOLE_TXQ].kick_fd, .events = POLLIN},
		{.fd = c->vdev.queues[VIRTIO_CONSOLE_RXQ].kick_fd, .events = POLLIN},
	};
	bool want_input = !c->vdev.broken && !c->rx_starved && con_vq(c, VIRTIO_CONSOLE_RXQ)->ready;
	unsigned int n = 3 + stream_poll_fill(c->stream, fds + 3, want_input);
	bool readable;

	/* A broken device has nothing to do until the reset: pending work must not spin it. */
	if (poll(fds, n, c->tx_pending && !c->vdev.broken ? 0 : stream_poll_timeout(c->stream)) <
	    0) {
		if (errno != EINTR)
			pr_guest("virtio-console: poll: %s", strerror(errno));
		return true;
	}
	if (fds[0].revents & POLLIN)
		return false;
	if ((fds[1].revents & POLLIN) && eventfd_drain(fds[1].fd))
		c->tx_pending = true;
	if ((fds[2].revents & POLLIN) && eventfd_drain(fds[2].fd) && c->rx_starved) {
		c->rx_starved = false;
		virtqueue_enable_notify(con_vq(c, VIRTIO_CONSOLE_RXQ), false);
	}
	readable = stream_poll_done(c->stream, fds + 3, n - 3);
	if (c->vdev.broken)
		return true;
	if (c->tx_pending)
		virtio_console_tx(c);
	if (readable)
		virtio_console_rx(c);
	return true;
}

static void *con_worker(void *arg)
{
	struct virtio_console *c = arg;

	while (con_worker_round(c))
		;
	return NULL;
}

static int con_start(struct virtio_dev *vdev)
{
	struct virtio_console *c = to_con(vdev);
	int ret;

	virtio_console_activate(c);
	/* A driver that enabled no queue gets no service, and nothing breaks. */
	if (!con_vq(c, VIRTIO_CONSOLE_RXQ)->ready && !con_vq(c, VIRTIO_CONSOLE_TXQ)->ready)
		return 0;
	ret = dev_worker_start(&c->worker, "virtio-console", THREAD_VIRTIO_CONSOLE, con_worker, c);
	if (ret)
		virtio_console_deactivate(c);
	return ret;
}

static void con_stop(struct virtio_dev *vdev)
{
	struct virtio_console *c = to_con(vdev);

	dev_worker_stop(&c->worker, "virtio-console");
	pr_debug("virtio-console: stopped; rx %llu bytes, tx %llu (%llu dropped)",
		 (unsigned long long)c->rx_bytes, (unsigned long long)c->tx_bytes,
		 (unsigned long long)c->tx_dropped);
	virtio_console_deactivate(c);
}

/*
 * Beyond struct virtio_dev, the device holds only which kind of stream it has and its
 * counters: bytes in flight live in the rings or the host's stream, not here.
 */
static int con_save(struct virtio_dev *vdev, struct snap_buf *sb)
{
	struct virtio_console *c = to_con(vdev);

	snap_begin_section(sb, "virtio-console", CON_SNAP_VERSION);
	snap_put_u32(sb, stream_kind(c->stream));
	snap_put_u64(sb, c->rx_bytes);
	snap_put_u64(sb, c->tx_bytes);
	snap_put_u64(sb, c->tx_dropped);
	return sb->error ? -ENOMEM : 0;
}

static int con_load(struct virtio_dev *vdev, struct snap_buf *sb)
{
	struct virtio_console *c = to_con(vdev);
	u32 kind;

	if (snap_open_section(sb, "virtio-console") != CON_SNAP_VERSION ||
	    !snap_get_u32(sb, &kind) || !snap_get_u64(sb, &c->rx_bytes) ||
	    !snap_get_u64(sb, &c->tx_bytes) || !snap_get_u64(sb, &c->tx_dropped))
		return -EINVAL;
	if (kind != stream_kind(c->stream)) {
		pr_err("virtio-console: the snapshot is of a console on another kind of stream");
		return -EINVAL;
	}
	return 0;
}

static void con_destroy(struct virtio_dev *vdev)
{
	struct virtio_console *c = to_con(vdev);

	/* The transport stopped us already; this only guards a start without a stop. */
	if (c->worker.running)
		con_stop(vdev);
	if (vdev->vm && c->stream && vdev->vm->stdin_sink == stream_stdin_sink(c->stream))
		vdev->vm->stdin_sink = NULL;
	virtio_console_cleanup(c);
	free(c);
}

static const struct virtio_dev_ops con_vdev_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.num_queues = VIRTIO_CONSOLE_QUEUES,
	.queue_max_size = VIRTIO_CONSOLE_QUEUE_SIZE,
	.start = con_start,
	.stop = con_stop,
	.save = con_save,
	.load = con_load,
	.destroy = con_destroy,
};

int virtio_console_init(struct virtio_console *c, struct stream *s)
{
	c->stream = s;
	c->vdev.notify = virtio_notify_queue;
	c->vdev.set_needs_reset = virtio_set_needs_reset;
	c->chain = malloc(sizeof(*c->chain));
	if (dev_worker_init(&c->worker) || !c->chain) {
		virtio_console_cleanup(c);
		return -ENOMEM;
	}
	c->vdev.ops = &con_vdev_ops;
	/* The ring features are ours to offer (the transport adds only VERSION_1). */
	c->vdev.device_features = BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_RING_F_EVENT_IDX);
	return 0;
}

void virtio_console_cleanup(struct virtio_console *c)
{
	dev_worker_fini(&c->worker);
	free(c->chain);
	c->chain = NULL;
	stream_close(c->stream);
	c->stream = NULL;
}

static int con_check(const struct vm_config *cfg)
{
	const char *arg = cfg->virtio_console;
	struct stream_options opt;
	char err[256];

	if (!arg)
		return 0;
	if (stream_parse_options(arg, &opt, err, sizeof(err)) ||
	    stream_check_options(&opt, err, sizeof(err))) {
		pr_err("--virtio-console=%s: %s", arg, err);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

static int con_realize(struct vm *vm)
{
	const char *arg = vm->cfg->virtio_console;
	struct stream_options opt;
	struct virtio_console *c;
	struct stream *s;
	char err[256];
	int ret;

	if (!arg)
		return 0;
	if (stream_parse_options(arg, &opt, err, sizeof(err))) {
		pr_err("--virtio-console=%s: %s", arg, err);
		return -EXIT_BAD_INPUT;
	}
	ret = stream_open(&s, &opt, err, sizeof(err));
	if (ret) {
		pr_err("--virtio-console%s%s: %s", *arg ? "=" : "", arg, err);
		return ret == -EINVAL ? -EXIT_BAD_INPUT : -EXIT_VMM_ERROR;
	}
	c = calloc(1, sizeof(*c));
	if (!c || virtio_console_init(c, s)) {
		if (c)
			free(c);
		else
			stream_close(s);
		return -EXIT_VMM_ERROR;
	}
	c->vdev.vm = vm;
	/* On failure the transport has said why, and the device is ours to free. */
	if (virtio_pci_register(vm, &c->vdev)) {
		virtio_console_cleanup(c);
		free(c);
		return -EXIT_VMM_ERROR;
	}
	/* hvc0 on stdio: the main loop's keys go to it instead of the UART. */
	if (stream_stdin_sink(s))
		vm->stdin_sink = stream_stdin_sink(s);
	return 0;
}

const struct device_ops virtio_console_ops = {
	.name = "virtio-console",
	.check = con_check,
	.realize = con_realize,
};
