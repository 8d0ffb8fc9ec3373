// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk (virtio 1.x, section "Block Device"): --disk PATH[,ro][,serial=S][,bw=..][,ops=..].
 *
 * One request queue per disk, served by one worker thread that waits on the queue's kick
 * eventfd, the block queue's completion eventfd and a stop eventfd. Requests are checked
 * in full before any host I/O starts; a request the device cannot do is completed with
 * IOERR or UNSUPP, and only a chain that cannot even carry a status byte (or that the
 * virtqueue refuses) makes the device ask for a reset. In-flight requests are bounded by
 * the preallocated request slots, so nothing is allocated per request.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../../util/log.h"
#include "../../sandbox/sandbox.h"
#include "../../util/thread.h"
#include "../../vm.h"
#include "blk.h"

#define BLK_SERVE_BUDGET (2 * VIRTIO_BLK_QUEUE_SIZE) /* chains per serve() call */
#define BLK_SNAP_VERSION 1

/* Host-side errors a guest can trigger at a high rate: said, but not in a flood. */
#define pr_host_ratelimited(...)                           \
	do {                                               \
		static long __rl_sec;                      \
		static int __rl_count;                     \
		if (log_ratelimit(&__rl_sec, &__rl_count)) \
			log_msg(LOG_ERR, __VA_ARGS__);     \
	} while (0)

/* Running requests. */

/* The callers check nr_free first. */
static struct blk_req *req_get(struct virtio_blk *b)
{
	atomic_fetch_add(&b->busy, 1);
	return &b->reqs[b->free_slots[--b->nr_free]];
}

static void req_put(struct virtio_blk *b, struct blk_req *r)
{
	b->free_slots[b->nr_free++] = (u16)(r - b->reqs);
	atomic_fetch_sub(&b->busy, 1);
}

/*
 * The driver broke the rules: NEEDS_RESET is asked for once, and from now on the queue
 * is left alone until the reset; requests still in flight just give their slots back.
 */
static void mark_broken(struct virtio_blk *b)
{
	if (!b->broken)
		b->events |= VIRTIO_BLK_EV_BROKEN;
	b->broken = true;
}

/* The control API's "block" metrics, as Firecracker names them. */
enum blk_metric {
	M_READS,
	M_WRITES,
	M_READ_BYTES,
	M_WRITE_BYTES,
	M_FLUSHES,
	M_INVALID,
	M_FAILS,
	M_NR
};
static const char *const blk_metric_names[M_NR] = {
	[M_READS] = "read_count",      [M_WRITES] = "write_count",
	[M_READ_BYTES] = "read_bytes", [M_WRITE_BYTES] = "write_bytes",
	[M_FLUSHES] = "flush_count",   [M_INVALID] = "invalid_reqs_count",
	[M_FAILS] = "execute_fails",
};

/* Named by id= (the API gives the drive's ID), else by the serial. */
static void blk_metrics_init(struct virtio_blk *b)
{
	char id[METRICS_ID_MAX] = {0};

	if (b->opts.id[0])
		memcpy(id, b->opts.id, sizeof(id));
	else
		memcpy(id, b->opts.serial, VIRTIO_BLK_ID_BYTES);
	if (metrics_set_init(&b->metrics, "block", id, blk_metric_names, M_NR))
		metrics_set_init(&b->metrics, "block", NULL, blk_metric_names, M_NR);
}

static void count_request(struct virtio_blk *b, const struct blk_req *r, int status)
{
	if (status == VIRTIO_BLK_S_UNSUPP)
		metrics_add(&b->metrics, M_INVALID, 1);
	else if (status != VIRTIO_BLK_S_OK)
		metrics_add(&b->metrics, M_FAILS, 1);
	else if (r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT) {
		bool in = r->type == VIRTIO_BLK_T_IN;

		metrics_add(&b->metrics, in ? M_READS : M_WRITES, 1);
		metrics_add(&b->metrics, in ? M_READ_BYTES : M_WRITE_BYTES, r->data_len);
	} else if (r->type == VIRTIO_BLK_T_FLUSH) {
		metrics_add(&b->metrics, M_FLUSHES, 1);
	}
}

static void req_complete(struct virtio_blk *b, struct blk_req *r, int status)
{
	count_request(b, r, status);
	if (!b->broken) {
		*r->status = (u8)status;
		if (virtqueue_push(&b->vdev.queues[0].vq, r->head,
				   status == VIRTIO_BLK_S_OK ? r->written : 1) < 0)
			mark_broken(b);
		else
			b->events |= VIRTIO_BLK_EV_NOTIFY;
	}
	req_put(b, r);
}

/*
 * Fills r->io with the next host operation of r; false when r has none left. The steps:
 * the data (read or write) or one per range, then a flush when write-through.
 */
static bool req_next_io(struct blk_req *r)
{
	struct block_io *io = &r->io;
	unsigned int step = r->step++;

	memset(io, 0, sizeof(*io));
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (r->data_len && step == 0) {
			io->op = r->type == VIRTIO_BLK_T_IN ? BLOCK_OP_READ : BLOCK_OP_WRITE;
			io->offset = r->sector * BLOCK_SECTOR_SIZE;
			io->iov = r->iov;
			io->iovcnt = r->iovcnt;
			return true;
		}
		step -= r->data_len ? 1 : 0;
		break;
	case VIRTIO_BLK_T_FLUSH:
		io->op = BLOCK_OP_FLUSH;
		return step == 0;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (step < r->nr_ranges) {
			const struct blk_range *rg = &r->ranges[step];

			io->op = r->type == VIRTIO_BLK_T_DISCARD ? BLOCK_OP_DISCARD
								 : BLOCK_OP_WRITE_ZEROES;
			io->unmap = rg->unmap;
			io->offset = rg->sector * BLOCK_SECTOR_SIZE;
			io->len = (u64)rg->nr_sectors * BLOCK_SECTOR_SIZE;
			return true;
		}
		step -= r->nr_ranges;
		break;
	default:
		return false;
	}
	/* Without a negotiated FLUSH the device is write-through: sync after writing. */
	io->op = BLOCK_OP_FLUSH;
	return r->flush_after && step == 0;
}

/* Starts r's next step: VIRTIO_BLK_PENDING, or the status r ends with now. */
static int req_continue(struct virtio_blk *b, struct blk_req *r)
{
	int ret;

	if (!req_next_io(r))
		return VIRTIO_BLK_S_OK;
	ret = block_queue_submit(b->bq, &r->io);
	if (ret) {
		pr_host_ratelimited("virtio-blk %s: cannot queue I/O: %s", b->opts.path,
				    strerror(-ret));
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_PENDING;
}

static int req_start(struct virtio_blk *b, struct blk_req *r)
{
	if (r->type == VIRTIO_BLK_T_GET_ID) {
		buf_to_iov(r->iov, r->iovcnt, 0, b->opts.serial, r->data_len);
		return VIRTIO_BLK_S_OK;
	}
	return req_continue(b, r);
}

static const char *const op_names[] = {
	[BLOCK_OP_READ] = "read",
	[BLOCK_OP_WRITE] = "write",
	[BLOCK_OP_FLUSH] = "flush",
	[BLOCK_OP_DISCARD] = "discard",
	[BLOCK_OP_WRITE_ZEROES] = "write zeroes",
};

static void req_io_done(struct block_io *io, void *arg)
{
	struct virtio_blk *b = arg;
	struct blk_req *r = container_of(io, struct blk_req, io);
	int st = VIRTIO_BLK_S_IOERR;

	if (b->stopping) {
		/* Reset: the queue is being dropped, so nothing goes back to the driver. */
		req_put(b, r);
		return;
	}
	if (io->result < 0)
		pr_host_ratelimited("virtio-blk %s: %s at byte %llu: %s", b->opts.path,
				    op_names[io->op], (unsigned long long)io->offset,
				    strerror((int)-io->result));
	else
		st = req_continue(b, r);
	if (st != VIRTIO_BLK_PENDING)
		req_complete(b, r, st);
}

/* false when the rate limiter holds the chain back (it went back on the ring). */
static bool handle_chain(struct virtio_blk *b, const struct vq_chain *c)
{
	struct blk_req *r = req_get(b);
	int st = virtio_blk_parse_request(&b->limits, c, r);

	if (st < 0) {
		/* No status byte to answer in: a chain no driver may send. */
		req_put(b, r);
		mark_broken(b);
		pr_guest("virtio-blk %s: request without a status byte", b->opts.path);
		return true;
	}
	if (st == VIRTIO_BLK_S_OK && virtio_blk_throttle(b, r)) {
		/* Nothing was taken since the pop: giving the chain back is exact. */
		req_put(b, r);
		b->vdev.queues[0].vq.last_avail--;
		return false;
	}
	if (st == VIRTIO_BLK_S_OK)
		st = req_start(b, r);
	if (st != VIRTIO_BLK_PENDING)
		req_complete(b, r, st);
	return true;
}

static unsigned int take_events(struct virtio_blk *b)
{
	unsigned int ev = b->events;

	b->events = 0;
	return ev;
}

unsigned int virtio_blk_serve(struct virtio_blk *b)
{
	struct virtqueue *vq = &b->vdev.queues[0].vq;
	unsigned int budget = BLK_SERVE_BUDGET, ev;

	b->more = false;
	b->poll.kicks_off = false;
	/* Throttled: kicks stay off, the ring waits for the timer. */
	if (b->throttled)
		return take_events(b);
	if (!b->broken && vq->ready)
		virtqueue_enable_notify(vq, false);
	while (!b->broken && vq->ready) {
		int ret;

		if (!b->nr_free || !budget) {
			/* Come back when slots free up, or after a look at completions. */
			b->more = true;
			break;
		}
		ret = virtqueue_pop(vq, b->chain);
		if (ret < 0) {
			mark_broken(b);
			break;
		}
		if (ret == 0) {
			/* Empty: the worker polls a while with kicks off (blk_poll.c). */
			if (b->poll.max_ns) {
				b->poll.kicks_off = true;
				break;
			}
			/* Not polling: ask for kicks again, and take what raced in meanwhile. */
			if (!virtqueue_enable_notify(vq, true))
				break;
			virtqueue_enable_notify(vq, false);
			continue;
		}
		budget--;
		if (!handle_chain(b, b->chain))
			break;
	}
	ev = take_events(b);
	block_queue_kick(b->bq);
	return ev;
}

unsigned int virtio_blk_reap(struct virtio_blk *b)
{
	unsigned int ev;

	block_queue_reap(b->bq, req_io_done, b);
	ev = take_events(b);
	/* Slots came free: pick up requests that waited for one. */
	if (b->nr_free && !b->broken)
		b->more = true;
	return ev;
}

int virtio_blk_queue_start(struct virtio_blk *b)
{
	int ret;

	b->limits = (struct blk_limits){
		.capacity = b->file.size / BLOCK_SECTOR_SIZE,
		.ro = b->opts.ro,
		.flush = virtio_has_feature(&b->vdev, VIRTIO_BLK_F_FLUSH),
		.discard = virtio_has_feature(&b->vdev, VIRTIO_BLK_F_DISCARD),
		.write_zeroes = virtio_has_feature(&b->vdev, VIRTIO_BLK_F_WRITE_ZEROES),
	};
	ret = block_queue_create(&b->bq, &b->file, VIRTIO_BLK_QUEUE_SIZE, b->backend);
	if (ret)
		return ret;
	/* Slot 0 on top: a light load keeps to the first few slots. */
	for (unsigned int i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++)
		b->free_slots[i] = (u16)(VIRTIO_BLK_QUEUE_SIZE - 1 - i);
	b->nr_free = VIRTIO_BLK_QUEUE_SIZE;
	atomic_store(&b->busy, 0);
	b->stopping = b->broken = b->throttled = false;
	b->poll.ns = 0;
	b->poll.kicks_off = false;
	b->more = true; /* the driver may have queued requests before DRIVER_OK */
	b->events = 0;
	pr_ratelimited(LOG_INFO, "virtio-blk %s: %s I/O", b->opts.path,
		       block_queue_backend_name(b->bq));
	return 0;
}

void virtio_blk_queue_stop(struct virtio_blk *b)
{
	if (!b->bq)
		return;
	b->stopping = true;
	block_queue_drain(b->bq, req_io_done, b);
	block_queue_destroy(b->bq);
	b->bq = NULL;
	b->stopping = b->broken = b->more = false;
	b->events = 0;
}

/* The worker thread and the device ops. */

static int blk_start(struct virtio_dev *vdev)
{
	struct virtio_blk *b = container_of(vdev, struct virtio_blk, vdev);
	int ret;

	if (b->running)
		return 0;
	ret = virtio_blk_queue_start(b);
	if (ret) {
		pr_ratelimited(LOG_ERR, "virtio-blk %s: cannot set up I/O: %s", b->opts.path,
			       strerror(-ret));
		return ret;
	}
	ret = dev_worker_start(&b->worker, "virtio-blk", THREAD_VIRTIO_BLK, virtio_blk_worker, b);
	if (ret) {
		virtio_blk_queue_stop(b);
		return ret;
	}
	b->running = true;
	return 0;
}

/* With the vCPUs parked, a request queued just before the pause is taken and done
 * (the pause and the control API's drive swap wait for this). */
bool virtio_blk_wait_idle(struct virtio_blk *b)
{
	int quiet = 0;

	for (int i = 0; i < 100 && quiet < 5; i++) {
		quiet = atomic_load(&b->busy) ? 0 : quiet + 1;
		usleep(10000);
	}
	return quiet >= 5;
}

static void blk_stop(struct virtio_dev *vdev)
{
	struct virtio_blk *b = container_of(vdev, struct virtio_blk, vdev);

	if (!b->running)
		return;
	dev_worker_stop(&b->worker, "virtio-blk");
	/* The worker is gone: this thread owns the block queue now. */
	virtio_blk_queue_stop(b);
	b->running = false;
}

/*
 * The device-type state beyond struct virtio_dev is the disk itself: a snapshot records
 * which disk it was taken with, and needs the disk quiet (no request taken but not
 * completed), since host I/O in flight cannot be saved.
 */
static int blk_save(struct virtio_dev *vdev, struct snap_buf *sb)
{
	struct virtio_blk *b = container_of(vdev, struct virtio_blk, vdev);

	if (atomic_load(&b->busy))
		return -EBUSY;
	snap_begin_section(sb, "virtio-blk", BLK_SNAP_VERSION);
	snap_put_u64(sb, b->file.size);
	snap_put_u32(sb, b->opts.ro);
	snap_put(sb, b->opts.serial, sizeof(b->opts.serial));
	return sb->error ? -ENOMEM : 0;
}

static int blk_load(struct virtio_dev *vdev, struct snap_buf *sb)
{
	struct virtio_blk *b = container_of(vdev, struct virtio_blk, vdev);
	u8 serial[VIRTIO_BLK_ID_BYTES];
	u64 size;
	u32 ro;

	if (snap_open_section(sb, "virtio-blk") != BLK_SNAP_VERSION || !snap_get_u64(sb, &size) ||
	    !snap_get_u32(sb, &ro) || !snap_get(sb, serial, sizeof(serial)))
		return -EINVAL;
	if (size != b->file.size || ro != b->opts.ro ||
	    memcmp(serial, b->opts.serial, sizeof(serial)))
		return -EINVAL; /* another disk than the snapshot's */
	return 0;
}

/* A pause waits for the requests the worker has taken: a stop would cancel them. */
static int blk_quiesce(struct virtio_dev *vdev)
{
	return virtio_blk_wait_idle(container_of(vdev, struct virtio_blk, vdev)) ? 0 : -EBUSY;
}

static void blk_destroy(struct virtio_dev *vdev)
{
	struct virtio_blk *b = container_of(vdev, struct virtio_blk, vdev);

	blk_stop(vdev);
	if (vdev->vm)
		metrics_unregister(&vdev->vm->metrics, &b->metrics);
	virtio_blk_fini(b);
	free(b);
}

static const struct virtio_dev_ops blk_dev_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.num_queues = 1,
	.queue_max_size = VIRTIO_BLK_QUEUE_SIZE,
	.start = blk_start,
	.stop = blk_stop,
	.save = blk_save,
	.load = blk_load,
	.quiesce = blk_quiesce,
	.destroy = blk_destroy,
};

static void blk_fill_config(struct virtio_blk *b)
{
	struct virtio_blk_config *c = &b->config;
	u32 align = b->file.discard_align / BLOCK_SECTOR_SIZE;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(b->file.size / BLOCK_SECTOR_SIZE);
	c->seg_max = htole32(VIRTIO_BLK_SEG_MAX);
	c->blk_size = htole32(BLOCK_SECTOR_SIZE);
	c->max_discard_sectors = htole32(VIRTIO_BLK_MAX_RANGE_SECTORS);
	c->max_discard_seg = htole32(VIRTIO_BLK_MAX_RANGES);
	c->discard_sector_alignment = htole32(align ? align : 1);
	c->max_write_zeroes_sectors = htole32(VIRTIO_BLK_MAX_RANGE_SECTORS);
	c->max_write_zeroes_seg = htole32(VIRTIO_BLK_MAX_RANGES);
	c->write_zeroes_may_unmap = 1;
}

int virtio_blk_init(struct virtio_blk *b, const struct blk_options *o, enum block_backend be,
		    char *err, size_t errlen)
{
	int ret;

	b->opts = *o;
	b->backend = be;
	b->vdev.notify = virtio_notify_queue;
	b->vdev.set_needs_reset = virtio_set_needs_reset;
	b->poll.max_ns = BLK_POLL_MAX_NS_DEFAULT;
	b->worker.stop_fd = -1;
	b->chain = calloc(1, sizeof(*b->chain));
	b->reqs = calloc(VIRTIO_BLK_QUEUE_SIZE, sizeof(*b->reqs));
	/* Made here, before the sandbox: the vCPU that starts the worker cannot make one. */
	b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ret = b->timer_fd < 0 ? -errno : dev_worker_init(&b->worker);
	if (!ret && (!b->chain || !b->reqs))
		ret = -ENOMEM;
	if (ret)
		snprintf(err, errlen, "%s", strerror(-ret));
	else
		ret = block_file_open(&b->file, o->path, o->ro, err, errlen);
	if (ret) {
		free(b->chain);
		free(b->reqs);
		b->chain = NULL;
		b->reqs = NULL;
		if (b->timer_fd >= 0)
			close(b->timer_fd);
		b->timer_fd = -1;
		dev_worker_fini(&b->worker);
		return ret;
	}
	blk_metrics_init(b);
	rate_limiter_init(&b->rl, &o->rl);
	rate_limiter_set_timer(&b->rl, b->timer_fd);
	blk_fill_config(b);
	b->vdev.ops = &blk_dev_ops;
	b->vdev.config = (u8 *)&b->config;
	/* Up to the write zeroes fields: secure erase is not offered. */
	b->vdev.config_size = offsetof(struct virtio_blk_config, max_secure_erase_sectors);
	/* The transport adds VERSION_1; the ring features are the queue's, offered here. */
	b->vdev.device_features = BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
				  BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
				  BIT(VIRTIO_RING_F_EVENT_IDX);
	if (o->ro)
		b->vdev.device_features |= BIT(VIRTIO_BLK_F_RO);
	else
		b->vdev.device_features |=
			BIT(VIRTIO_BLK_F_DISCARD) | BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	return 0;
}

void virtio_blk_fini(struct virtio_blk *b)
{
	if (b->timer_fd >= 0) {
		rate_limiter_destroy(&b->rl);
		close(b->timer_fd);
		b->timer_fd = -1;
	}
	dev_worker_fini(&b->worker);
	block_file_close(&b->file);
	metrics_set_fini(&b->metrics);
	free(b->chain);
	free(b->reqs);
	b->chain = NULL;
	b->reqs = NULL;
}

/* Every --disk is checked and opened before any is registered, so a bad one adds none. */
static int blk_open_all(struct vm *vm, struct virtio_blk **disks, enum block_backend be)
{
	static struct blk_options o; /* PATH_MAX bytes: not on a vCPU-sized stack */

	for (unsigned int i = 0; i < vm->cfg->nr_disks; i++) {
		const char *arg = vm->cfg->disks[i];
		char err[160];

		if (virtio_blk_parse_option(arg, &o)) {
			pr_err("--disk %s: %s", arg, o.err);
			return -EXIT_BAD_INPUT;
		}
		disks[i] = calloc(1, sizeof(*disks[i]));
		if (!disks[i])
			return -EXIT_VMM_ERROR;
		if (virtio_blk_init(disks[i], &o, be, err, sizeof(err))) {
			pr_err("--disk %s: %s", o.path, err);
			free(disks[i]);
			disks[i] = NULL;
			return -EXIT_BAD_INPUT;
		}
	}
	return 0;
}

static int virtio_blk_realize(struct vm *vm)
{
	struct virtio_blk *disks[VM_MAX_DISKS] = {0};
	unsigned int n = vm->cfg->nr_disks, i;
	enum block_backend be;
	u64 poll_max_ns;
	int ret;

	if (!n)
		return 0;
	if (virtio_blk_env(&be, &poll_max_ns))
		return -EXIT_BAD_INPUT;
	ret = blk_open_all(vm, disks, be);
	for (i = 0; !ret && i < n; i++) {
		disks[i]->vdev.vm = vm;
		disks[i]->poll.max_ns = poll_max_ns;
		if (virtio_pci_register(vm, &disks[i]->vdev)) {
			pr_err("--disk %s: cannot add the device", disks[i]->opts.path);
			ret = -EXIT_VMM_ERROR;
			break;
		}
		metrics_register(&vm->metrics, &disks[i]->metrics);
		disks[i] = NULL; /* the VM's now: it goes with the VM */
	}
	for (i = 0; i < n; i++) {
		if (disks[i]) {
			virtio_blk_fini(disks[i]);
			free(disks[i]);
		}
	}
	return ret;
}

const struct device_ops virtio_blk_ops = {
	.name = "virtio-blk",
	.check = virtio_blk_check,
	.realize = virtio_blk_realize,
};
