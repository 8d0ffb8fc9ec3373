// SPDX-License-Identifier: GPL-2.0-only
/* The start and stop of device worker threads (worker.h), shared by the virtio devices. */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/thread.h"
#include "../util/types.h"
#include "worker.h"

int dev_worker_init(struct dev_worker *w)
{
	w->running = false;
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return w->stop_fd < 0 ? -errno : 0;
}

int dev_worker_start(struct dev_worker *w, const char *name, enum sandbox_kind kind,
		     void *(*fn)(void *), void *arg)
{
	int ret = sandbox_thread_start(&w->thread, kind, fn, arg);

	if (ret) {
		pr_ratelimited(LOG_ERR, "%s: cannot start its worker: %s", name, strerror(ret));
		return -ret;
	}
	w->running = true;
	return 0;
}

void dev_worker_stop(struct dev_worker *w, const char *name)
{
	u64 one = 1;

	if (!w->running)
		return;
	if (write(w->stop_fd, &one, sizeof(one)) != sizeof(one))
		pr_ratelimited(LOG_ERR, "%s: cannot wake its worker: %s", name, strerror(errno));
	pthread_join(w->thread, NULL);
	w->running = false;
	/* Consumed, so that the next start begins with no stop pending. */
	eventfd_drain(w->stop_fd);
}

void dev_worker_fini(struct dev_worker *w)
{
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	w->stop_fd = -1;
}
