// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk's worker thread, and how it waits: it polls the ring for a short while
 * before it asks the driver for kicks again.
 *
 * Every kick is a VM exit (on AMD one that KVM decodes and emulates). A driver under
 * load adds its next request soon after the last one; the worker answers a kick at once,
 * drains the ring in microseconds and, if it asked for kicks right away, takes one exit
 * per request. So after the ring runs dry the worker keeps kicks off and watches the
 * ring (and the host completions) for up to poll_ns; only then does it turn kicks back
 * on (taking what raced in) and sleep. Completions are never held back: each batch is
 * pushed and notified as soon as it is reaped.
 *
 * The window adapts the way QEMU's adaptive polling does: a wake-up that came within
 * poll_max_ns of going to sleep says a longer window would have caught it (grow), a
 * long sleep says polling is wasted here (shrink). An idle guest costs one window of
 * CPU per burst, then nothing.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../util/log.h"
#include "../../util/thread.h"
#include "blk.h"

#define BLK_POLL_MIN_NS 4000 /* the first window once polling pays */

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static bool fd_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

/* Whether the driver or the host gave the worker something within the window. */
static bool poll_window(struct virtio_blk *b)
{
	struct virtqueue *vq = &b->vdev.queues[0].vq;
	u64 end = now_ns() + b->poll.ns;

	do {
		if (virtqueue_avail_pending(vq))
			return true;
		if (block_queue_inflight(b->bq) && fd_readable(block_queue_event_fd(b->bq)))
			return true;
	} while (now_ns() < end);
	return false;
}

/*
 * Called before the worker waits with the ring dry: polls, then turns kicks back on.
 * Returns true if there is work (wait without blocking), false if it may sleep.
 */
static bool before_sleep(struct virtio_blk *b)
{
	struct virtqueue *vq = &b->vdev.queues[0].vq;

	if (!b->poll.kicks_off)
		return false;
	if (b->poll.ns && poll_window(b)) {
		b->more = !b->broken;
		return true;
	}
	b->poll.kicks_off = false;
	if (b->broken || !vq->ready)
		return false;
	if (!virtqueue_enable_notify(vq, true))
		return false;
	/* A request raced in while kicks were off: take it now. */
	b->more = true;
	return true;
}

/* Adapts the window to how long the worker slept (see the top of the file). */
static void after_sleep(struct blk_poll *p, u64 slept_ns)
{
	if (!p->max_ns)
		return;
	if (slept_ns <= p->max_ns) {
		p->ns = p->ns ? MIN(p->ns * 2, p->max_ns) : MIN((u64)BLK_POLL_MIN_NS, p->max_ns);
		return;
	}
	p->ns /= 2;
	if (p->ns < BLK_POLL_MIN_NS)
		p->ns = 0;
}

static void post_events(struct virtio_blk *b, unsigned int ev)
{
	if (ev & VIRTIO_BLK_EV_NOTIFY)
		b->vdev.notify(&b->vdev, 0);
	if (ev & VIRTIO_BLK_EV_BROKEN)
		b->vdev.set_needs_reset(&b->vdev, "virtio-blk: malformed request chain");
}

bool virtio_blk_throttle(struct virtio_blk *b, const struct blk_req *r)
{
	bool data = r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT;
	u64 wait = rate_limiter_consume(&b->rl, data ? r->data_len : 0, rate_limiter_now());

	/* On a wait the limiter has armed b->timer_fd: the worker sleeps until then. */
	b->throttled = wait != 0;
	return b->throttled;
}

/* The rate limiter's timer: the request held back may fit now. */
static void timer_fired(struct virtio_blk *b)
{
	eventfd_drain(b->timer_fd); /* a timerfd reads like an eventfd: an 8-byte count */
	b->throttled = false;
	b->more = !b->broken;
}

void *virtio_blk_worker(void *arg)
{
	struct virtio_blk *b = arg;
	int kick_fd = b->vdev.queues[0].kick_fd;

	for (;;) {
		struct pollfd fds[4] = {
			{.fd = b->worker.stop_fd, .events = POLLIN},
			{.fd = kick_fd, .events = POLLIN},
			{.fd = block_queue_event_fd(b->bq), .events = POLLIN},
			{.fd = b->timer_fd, .events = POLLIN},
		};
		bool work = (b->more && b->nr_free) || before_sleep(b);
		unsigned int ev = 0;
		u64 t0 = work ? 0 : now_ns();

		if (poll(fds, ARRAY_SIZE(fds), work ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("virtio-blk %s: poll: %s", b->opts.path, strerror(errno));
			break;
		}
		if (!work)
			after_sleep(&b->poll, now_ns() - t0);
		if (fds[0].revents)
			break;
		if (fds[1].revents & POLLIN) {
			eventfd_drain(kick_fd);
			b->more = !b->broken;
		}
		if (fds[3].revents & POLLIN)
			timer_fired(b);
		if (fds[2].revents & POLLIN)
			ev |= virtio_blk_reap(b);
		if (b->more)
			ev |= virtio_blk_serve(b);
		post_events(b, ev);
	}
	return NULL;
}
