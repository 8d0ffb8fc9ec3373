/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_WORKER_H
#define KVMBOX_DEVICES_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "../sandbox/sandbox.h"

/*
 * A device's worker thread, between the driver's DRIVER_OK (start) and a reset or pause
 * (stop). The thread polls stop_fd with its other fds and returns when it is readable;
 * a worker that blocks elsewhere (a write waiting for room) polls it there too.
 */
struct dev_worker {
	pthread_t thread;
	int stop_fd; /* an eventfd, from dev_worker_init() to dev_worker_fini() */
	bool running;
};

/* Makes stop_fd (at realize: a sandboxed thread that starts a worker may not). 0 or -errno. */
int dev_worker_init(struct dev_worker *w);
/* Starts fn(arg) as a thread of sandbox KIND; NAME is for the log. 0 or -errno. */
int dev_worker_start(struct dev_worker *w, const char *name, enum sandbox_kind kind,
		     void *(*fn)(void *), void *arg);
/* Tells a running worker to return and waits for it; stop_fd is then empty again. */
void dev_worker_stop(struct dev_worker *w, const char *name);
/* Closes stop_fd; the worker must be stopped. Safe after a failed dev_worker_init(). */
void dev_worker_fini(struct dev_worker *w);

#endif
