// SPDX-License-Identifier: GPL-2.0-only
/*
 * Starting threads under seccomp. A thread inherits its creator's filter, and stacked
 * filters only narrow: a device worker started by a vCPU (the guest's DRIVER_OK) could
 * make no call outside the vCPU's list. So every thread is started by one spawner thread,
 * made before any filter, whose own list is the union of the lists it hands out; the new
 * thread then installs its own kind's filter before it runs anything else.
 */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "sandbox/filters.h"
#include "util/log.h"
#include "util/thread.h"

struct spawn {
	enum sandbox_kind kind;
	enum sandbox_mode mode;
	void *(*fn)(void *);
	void *arg;
};

struct spawn_request {
	pthread_t *thread;
	struct spawn *spawn;
	int ret;
	bool done;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct spawn_request *req; /* the one request being served */
	bool running;
} sp = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, false};

static void *thread_main(void *arg)
{
	struct spawn s = *(struct spawn *)arg;

	free(arg);
	/* ps, top and the kernel's seccomp log name the thread by its kind. */
	pthread_setname_np(pthread_self(), sandbox_kind_name(s.kind));
	if (sandbox_enter_mode(s.kind, s.mode))
		_exit(EXIT_VMM_ERROR);
	return s.fn(s.arg);
}

static void *spawner_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), sandbox_kind_name(THREAD_SPAWNER));
	if (sandbox_enter_mode(THREAD_SPAWNER, sandbox_mode()))
		_exit(EXIT_VMM_ERROR);
	pthread_mutex_lock(&sp.lock);
	for (;;) {
		struct spawn_request *r;

		while (!sp.req)
			pthread_cond_wait(&sp.cond, &sp.lock);
		r = sp.req;
		/* The new thread inherits this thread's mask: everything but SIGSYS blocked. */
		r->ret = thread_create(r->thread, thread_main, r->spawn);
		r->done = true;
		sp.req = NULL;
		pthread_cond_broadcast(&sp.cond);
	}
	return NULL;
}

void sandbox_spawner_start(void)
{
	pthread_t t;
	int ret = thread_start_unsignalled(&t, spawner_main, NULL);

	if (ret) {
		/* Threads then start from their creator: filters still apply, only narrower. */
		pr_warn("cannot start the seccomp spawner thread: %s", strerror(ret));
		return;
	}
	pthread_detach(t);
	sp.running = true;
}

int sandbox_thread_start(pthread_t *thread, enum sandbox_kind kind, void *(*fn)(void *), void *arg)
{
	struct spawn *s = malloc(sizeof(*s));
	struct spawn_request r = {.thread = thread, .spawn = s};

	if (!s)
		return ENOMEM;
	*s = (struct spawn){kind, sandbox_mode(), fn, arg};
	if (s->mode == SANDBOX_OFF || !sp.running || !sandbox_kind_spawned(kind)) {
		r.ret = thread_start_unsignalled(thread, thread_main, s);
	} else {
		pthread_mutex_lock(&sp.lock);
		while (sp.req)
			pthread_cond_wait(&sp.cond, &sp.lock);
		sp.req = &r;
		pthread_cond_broadcast(&sp.cond);
		while (!r.done)
			pthread_cond_wait(&sp.cond, &sp.lock);
		pthread_mutex_unlock(&sp.lock);
	}
	if (r.ret)
		free(s);
	return r.ret;
}
