// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-balloon, the traditional memory balloon (virtio 1.2 section 5.5): the host sets
 * a target in pages (config num_pages); the driver inflates by handing page frame numbers
 * (4 KiB units, whatever its own page size) on the inflate queue, which the host then
 * gives back to the kernel, and deflates on the deflate queue; it reports its progress in
 * config "actual". With statistics, the driver keeps one buffer on the statistics queue:
 * the device holds it and returns it every interval, and the driver queues it again with
 * fresh numbers. No MUST_TELL_HOST: deflating needs nothing from the host, a page the
 * guest touches again is faulted in as a zero page. Free page hinting and reporting are
 * not offered. One worker serves the three queues and the poll timer.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../../config.h"
#include "../../util/log.h"
#include "../../util/thread.h"
#include "../../vm.h"
#include "../worker.h"
#include "balloon.h"

#define BALLOON_BATCH 64 /* chains between interrupts */

/* ---- Options ---- */

static int parse_key(const char *item, const char *key, u32 max, u32 *out, char *err, size_t errlen)
{
	unsigned int v;

	if (parse_uint(item + strlen(key), 0, max, &v)) {
		snprintf(err, errlen, "%s needs a number from 0 to %u", key, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_item(const char *item, struct balloon_options *o, char *err, size_t errlen)
{
	if (!strncmp(item, "amount_mib=", 11))
		return parse_key(item, "amount_mib=", 1u << 22, &o->amount_mib, err, errlen);
	if (!strncmp(item, "stats=", 6))
		return parse_key(item, "stats=", BALLOON_MAX_INTERVAL, &o->stats_interval_s, err,
				 errlen);
	if (!strcmp(item, "deflate_on_oom=on") || !strcmp(item, "deflate_on_oom=off")) {
		o->deflate_on_oom = !strcmp(item, "deflate_on_oom=on");
		return 0;
	}
	if (!strncmp(item, "deflate_on_oom=", 15))
		snprintf(err, errlen, "deflate_on_oom is on or off");
	else
		snprintf(err, errlen,
			 "unknown key '%.*s' (expected amount_mib=N, deflate_on_oom=on|off, "
			 "stats=SECONDS)",
			 (int)strcspn(item, "="), item);
	return -EINVAL;
}

int balloon_parse_options(const char *s, struct balloon_options *o, char *err, size_t errlen)
{
	char *copy, *rest, *item;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	if (!s || !*s)
		return 0;
	copy = strdup(s);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -EINVAL;
	}
	rest = copy;
	while (!ret && (item = strsep(&rest, ",")))
		ret = parse_item(item, o, err, errlen);
	free(copy);
	return ret;
}

/* ---- Pages ---- */

/* Gives [hva, hva + len) back to the host: the guest promised not to touch it. */
static void balloon_discard(struct virtio_balloon *b, u8 *hva, size_t len)
{
	if (b->no_discard || !len)
		return;
	/* Guest RAM is private anonymous memory: the pages go, a later touch reads zeros. */
	if (madvise(hva, len, MADV_DONTNEED))
		pr_ratelimited(LOG_WARN, "virtio-balloon: madvise: %s", strerror(errno));
}

/*
 * The pages of one chain: little-endian 32-bit PFNs, each checked against guest RAM.
 * Neighbouring pages are discarded as one range. Returns the number of good PFNs.
 */
static u32 balloon_chain_pages(struct virtio_balloon *b, const struct vq_chain *c, bool inflate)
{
	const struct guest_memory *mem = &b->vdev.vm->mem;
	size_t n = MIN(c->out_len / 4, (size_t)BALLOON_MAX_PFNS);
	u8 *run = NULL;
	size_t run_len = 0;
	u32 pfns[256], good = 0, bad = 0;

	if (c->out_len / 4 > BALLOON_MAX_PFNS)
		pr_guest("virtio-balloon: %zu page numbers in one buffer, only %u taken",
			 c->out_len / 4, BALLOON_MAX_PFNS);
	for (size_t i = 0; i < n; i += ARRAY_SIZE(pfns)) {
		size_t k = MIN(n - i, ARRAY_SIZE(pfns));

		iov_to_buf(c->out, c->n_out, i * 4, pfns, k * 4);
		for (size_t j = 0; j < k; j++) {
			u64 gpa = (u64)le32toh(pfns[j]) << VIRTIO_BALLOON_PFN_SHIFT;
			u8 *hva = gpa_to_hva(mem, gpa, BALLOON_PAGE_SIZE);

			if (!hva) {
				bad++;
				continue;
			}
			good++;
			if (!inflate)
				continue;
			if (run && hva == run + run_len) {
				run_len += BALLOON_PAGE_SIZE;
				continue;
			}
			balloon_discard(b, run, run_len);
			run = hva;
			run_len = BALLOON_PAGE_SIZE;
		}
	}
	balloon_discard(b, run, run_len);
	if (bad)
		pr_guest("virtio-balloon: %u page numbers outside guest RAM ignored", bad);
	pthread_mutex_lock(&b->lock);
	if (inflate)
		b->inflated += good;
	else
		b->deflated += good;
	b->bad_pfns += bad;
	pthread_mutex_unlock(&b->lock);
	return good;
}

bool virtio_balloon_pages(struct virtio_balloon *b, unsigned int q)
{
	struct virtqueue *vq = &b->vdev.queues[q].vq;
	unsigned int served = 0;
	bool more = false;
	int ret = 0;

	if (b->vdev.broken || !vq->ready)
		return false;
	do {
		virtqueue_enable_notify(vq, false);
		while (!more && (ret = virtqueue_pop(vq, b->chain)) == 1) {
			balloon_chain_pages(b, b->chain, q == VIRTIO_BALLOON_INFLATEQ);
			if (virtqueue_push(vq, b->chain->head, 0) < 0) {
				ret = -EIO;
				break;
			}
			if (++served % BALLOON_BATCH == 0)
				b->vdev.notify(&b->vdev, q);
			/* A driver racing ahead gets a round; the worker comes back for more. */
			more = served == BALLOON_ROUND;
		}
		if (ret < 0) {
			virtio_dev_broke(&b->vdev, "virtio-balloon", "a page queue is broken");
			return false;
		}
	} while (virtqueue_enable_notify(vq, true) && !more);
	if (served)
		b->vdev.notify(&b->vdev, q);
	return more;
}

/* ---- Statistics ---- */

/* Reads the entries (le16 tag, le64 value, packed) of the buffer the driver filled. */
static void balloon_read_stats(struct virtio_balloon *b, const struct vq_chain *c)
{
	size_t n = MIN(c->out_len / 10, (size_t)BALLOON_MAX_STATS);
	u8 e[10];
	u16 tag;
	u64 val;

	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < n; i++) {
		iov_to_buf(c->out, c->n_out, i * sizeof(e), e, sizeof(e));
		memcpy(&tag, e, 2);
		memcpy(&val, e + 2, 8);
		tag = le16toh(tag);
		if (tag >= BALLOON_STAT_TAGS) {
			pr_guest("virtio-balloon: unknown statistics tag %u ignored", tag);
			continue;
		}
		b->stats[tag] = le64toh(val);
		b->stats_valid |= 1u << tag;
	}
	pthread_mutex_unlock(&b->lock);
}

/* Takes one chain from the statistics queue: 1 taken, 0 none, -EIO broken. */
static int stats_take(struct virtio_balloon *b, struct virtqueue *vq)
{
	int ret = virtqueue_pop(vq, b->chain);

	if (ret != 1)
		return ret;
	/* A second buffer while one is held: the older goes back, the newer stays. */
	if (b->stats_held) {
		if (virtqueue_push(vq, b->stats_head, 0) < 0)
			return -EIO;
		b->vdev.notify(&b->vdev, VIRTIO_BALLOON_STATSQ);
	}
	balloon_read_stats(b, b->chain);
	b->stats_head = b->chain->head;
	b->stats_held = true;
	return 1;
}

void virtio_balloon_stats_in(struct virtio_balloon *b)
{
	struct virtqueue *vq = &b->vdev.queues[VIRTIO_BALLOON_STATSQ].vq;
	unsigned int taken = 0;
	int ret = 0;

	if (b->vdev.broken || !vq->ready)
		return;
	/*
	 * Notifications back on (with EVENT_IDX that moves avail_event past what was
	 * taken), or the driver's next buffer comes without a kick. The queue is as long
	 * as the driver made it: a round ends within twice its size.
	 */
	do {
		virtqueue_enable_notify(vq, false);
		while (taken < 2 * VIRTQUEUE_MAX_SIZE && (ret = stats_take(b, vq)) == 1)
			taken++;
	} while (ret >= 0 && virtqueue_enable_notify(vq, true) && taken < 2 * VIRTQUEUE_MAX_SIZE);
	if (ret < 0)
		virtio_dev_broke(&b->vdev, "virtio-balloon", "the statistics queue is broken");
}

void virtio_balloon_stats_poll(struct virtio_balloon *b)
{
	struct virtqueue *vq = &b->vdev.queues[VIRTIO_BALLOON_STATSQ].vq;

	if (b->vdev.broken || !b->stats_held)
		return;
	b->stats_held = false;
	if (virtqueue_push(vq, b->stats_head, 0) < 0) {
		virtio_dev_broke(&b->vdev, "virtio-balloon", "the statistics queue is broken");
		return;
	}
	b->vdev.notify(&b->vdev, VIRTIO_BALLOON_STATSQ);
}

/* ---- Config ---- */

void virtio_balloon_config_write(struct virtio_dev *vdev, u32 offset, const u8 *data, u32 len)
{
	/* Only actual (bytes 4 to 7) is the driver's; num_pages is the host's. */
	pthread_mutex_lock(&vdev->lock);
	for (u32 i = 0; i < len; i++) {
		if (offset + i >= 4 && offset + i < 8)
			vdev->config[offset + i] = data[i];
	}
	pthread_mutex_unlock(&vdev->lock);
}

static u32 config_word(struct virtio_balloon *b, unsigned int off)
{
	u32 v;

	pthread_mutex_lock(&b->vdev.lock);
	memcpy(&v, b->config + off, 4);
	pthread_mutex_unlock(&b->vdev.lock);
	return le32toh(v);
}

static void set_num_pages(struct virtio_balloon *b, u32 amount_mib)
{
	u32 v = htole32(amount_mib * BALLOON_PAGES_PER_MIB);

	pthread_mutex_lock(&b->vdev.lock);
	memcpy(b->config, &v, 4);
	pthread_mutex_unlock(&b->vdev.lock);
}

/* ---- The worker ---- */

static void arm_timer(struct virtio_balloon *b, u32 seconds)
{
	struct itimerspec its = {
		.it_value = {.tv_sec = seconds},
		.it_interval = {.tv_sec = seconds},
	};

	if (timerfd_settime(b->timer_fd, 0, &its, NULL))
		pr_ratelimited(LOG_ERR, "virtio-balloon: timerfd: %s", strerror(errno));
}

/* What woke the worker: pfd[1..3] the queues' kicks, pfd[4] the poll timer. */
static void balloon_serve(struct virtio_balloon *b, const struct pollfd *pfd)
{
	for (unsigned int q = 0; q < VIRTIO_BALLOON_QUEUES; q++) {
		if (!pfd[1 + q].revents)
			continue;
		eventfd_drain(pfd[1 + q].fd);
		if (q == VIRTIO_BALLOON_STATSQ) {
			virtio_balloon_stats_in(b);
		} else if (virtio_balloon_pages(b, q)) {
			u64 one = 1;

			/* More to do after a look at stop: the worker kicks itself. */
			if (write(pfd[1 + q].fd, &one, sizeof(one)) != sizeof(one))
				pr_debug("virtio-balloon: kick: %s", strerror(errno));
		}
	}
	if (pfd[4].revents) {
		eventfd_drain(pfd[4].fd);
		virtio_balloon_stats_poll(b);
	}
}

static void *balloon_worker(void *arg)
{
	struct virtio_balloon *b = arg;
	bool stats = virtio_has_feature(&b->vdev, VIRTIO_BALLOON_F_STATS_VQ) &&
		     b->vdev.queues[VIRTIO_BALLOON_STATSQ].vq.ready;
	struct pollfd pfd[5] = {{.fd = b->worker.stop_fd, .events = POLLIN}};

	for (unsigned int q = 0; q < VIRTIO_BALLOON_QUEUES; q++) {
		bool on = b->vdev.queues[q].vq.ready && (q != VIRTIO_BALLOON_STATSQ || stats);

		pfd[1 + q] = (struct pollfd){.fd = on ? b->vdev.queues[q].kick_fd : -1,
					     .events = POLLIN};
	}
	pfd[4] = (struct pollfd){.fd = stats ? b->timer_fd : -1, .events = POLLIN};
	/* Armed here, not in start(): the vCPU thread's filter has no timer calls. */
	pthread_mutex_lock(&b->lock);
	arm_timer(b, stats ? b->stats_interval_s : 0);
	pthread_mutex_unlock(&b->lock);
	/* Buffers queued before DRIVER_OK (Linux queues its statistics at probe). */
	for (unsigned int q = 0; q < VIRTIO_BALLOON_QUEUES; q++)
		pfd[1 + q].revents = pfd[1 + q].fd >= 0 ? POLLIN : 0;
	pfd[4].revents = 0;
	balloon_serve(b, pfd);
	while (!b->vdev.broken) {
		if (poll(pfd, ARRAY_SIZE(pfd), -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("virtio-balloon: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		balloon_serve(b, pfd);
	}
	return NULL;
}

void virtio_balloon_activate(struct virtio_balloon *b)
{
	b->vdev.broken = false;
	b->stats_held = false;
}

void virtio_balloon_deactivate(struct virtio_balloon *b)
{
	/*
	 * A stop (reset, pause, snapshot) leaves nothing in flight: the held statistics
	 * buffer goes back now, as at a poll. After a pause the driver queues it again and
	 * the resume's kick brings it to the worker; a snapshot needs no state of ours.
	 */
	virtio_balloon_stats_poll(b);
	b->stats_held = false;
}

static int balloon_start(struct virtio_dev *vdev)
{
	struct virtio_balloon *b = container_of(vdev, struct virtio_balloon, vdev);

	virtio_balloon_activate(b);
	return dev_worker_start(&b->worker, "virtio-balloon", THREAD_VIRTIO_BALLOON, balloon_worker,
				b);
}

static void balloon_stop(struct virtio_dev *vdev)
{
	struct virtio_balloon *b = container_of(vdev, struct virtio_balloon, vdev);

	dev_worker_stop(&b->worker, "virtio-balloon");
	virtio_balloon_deactivate(b);
}

static void balloon_destroy(struct virtio_dev *vdev)
{
	struct virtio_balloon *b = container_of(vdev, struct virtio_balloon, vdev);

	virtio_balloon_cleanup(b);
	free(b);
}

static const struct virtio_dev_ops balloon_vdev_ops = {
	.name = "virtio-balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.num_queues = VIRTIO_BALLOON_QUEUES,
	.queue_max_size = VIRTIO_BALLOON_QUEUE_SIZE,
	.start = balloon_start,
	.stop = balloon_stop,
	.config_write = virtio_balloon_config_write,
	.destroy = balloon_destroy,
};

int virtio_balloon_init(struct virtio_balloon *b, const struct balloon_options *o)
{
	b->opts = *o;
	b->stats_interval_s = o->stats_interval_s;
	b->vdev.notify = virtio_notify_queue;
	b->vdev.set_needs_reset = virtio_set_needs_reset;
	b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	b->chain = malloc(sizeof(*b->chain));
	pthread_mutex_init(&b->lock, NULL);
	b->vdev.ops = &balloon_vdev_ops;
	b->vdev.config = b->config;
	b->vdev.config_size = sizeof(b->config);
	b->vdev.device_features = BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_RING_F_EVENT_IDX);
	if (o->deflate_on_oom)
		b->vdev.device_features |= BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	if (o->stats_interval_s)
		b->vdev.device_features |= BIT(VIRTIO_BALLOON_F_STATS_VQ);
	set_num_pages(b, o->amount_mib);
	if (dev_worker_init(&b->worker) || b->timer_fd < 0 || !b->chain) {
		virtio_balloon_cleanup(b);
		return -ENOMEM;
	}
	return 0;
}

void virtio_balloon_cleanup(struct virtio_balloon *b)
{
	dev_worker_fini(&b->worker);
	if (b->timer_fd >= 0)
		close(b->timer_fd);
	b->timer_fd = -1;
	free(b->chain);
	b->chain = NULL;
	pthread_mutex_destroy(&b->lock);
}

/* ---- The control API's side ---- */

struct virtio_balloon *virtio_balloon_find(struct vm *vm)
{
	for (struct device *dev = vm ? vm->devices : NULL; dev; dev = dev->next) {
		struct virtio_dev *vdev;

		if (strcmp(dev->ops->name, "virtio-pci"))
			continue;
		vdev = container_of(dev, struct virtio_dev, dev);
		if (vdev->ops == &balloon_vdev_ops)
			return container_of(vdev, struct virtio_balloon, vdev);
	}
	return NULL;
}

void virtio_balloon_set_target(struct virtio_balloon *b, u32 amount_mib)
{
	set_num_pages(b, amount_mib);
	if (b->vdev.transport)
		virtio_notify_config(&b->vdev);
}

int virtio_balloon_set_interval(struct virtio_balloon *b, u32 seconds)
{
	if (!seconds || seconds > BALLOON_MAX_INTERVAL || !b->opts.stats_interval_s)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	b->stats_interval_s = seconds;
	arm_timer(b, seconds);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

void virtio_balloon_info(struct virtio_balloon *b, struct balloon_info *info)
{
	info->target_pages = config_word(b, 0);
	info->actual_pages = config_word(b, 4);
	pthread_mutex_lock(&b->lock);
	info->stats_interval_s = b->stats_interval_s;
	info->stats_valid = b->stats_valid;
	memcpy(info->stats, b->stats, sizeof(info->stats));
	pthread_mutex_unlock(&b->lock);
}

/* ---- Creation ---- */

static int balloon_check(const struct vm_config *cfg)
{
	struct balloon_options o;
	char err[160];

	if (!cfg->balloon)
		return 0;
	if (balloon_parse_options(cfg->balloon, &o, err, sizeof(err))) {
		pr_err("--balloon %s: %s", cfg->balloon, err);
		return -EXIT_BAD_INPUT;
	}
	if ((u64)o.amount_mib * MiB > cfg->memory) {
		pr_err("--balloon %s: amount_mib is more than the guest's memory", cfg->balloon);
		return -EXIT_BAD_INPUT;
	}
	return 0;
}

static int balloon_realize(struct vm *vm)
{
	struct virtio_balloon *b;
	struct balloon_options o;
	int ret = balloon_check(vm->cfg);

	if (ret || !vm->cfg->balloon)
		return ret;
	balloon_parse_options(vm->cfg->balloon, &o, NULL, 0);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -EXIT_VMM_ERROR;
	if (virtio_balloon_init(b, &o)) {
		pr_err("virtio-balloon: out of resources");
		free(b);
		return -EXIT_VMM_ERROR;
	}
	/* Pages VFIO mapped for DMA stay pinned: dropping them here frees nothing. */
	b->no_discard = vm->cfg->nr_vfio > 0;
	if (b->no_discard)
		pr_warn("virtio-balloon: with --vfio, inflated pages are not given back to the "
			"host");
	if (virtio_pci_register(vm, &b->vdev)) {
		virtio_balloon_cleanup(b);
		free(b);
		return -EXIT_VMM_ERROR;
	}
	return 0;
}

const struct device_ops virtio_balloon_ops = {
	.name = "virtio-balloon",
	.check = balloon_check,
	.realize = balloon_realize,
};
