// SPDX-License-Identifier: GPL-2.0-only
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "thread.h"

int thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int ret = pthread_attr_init(&attr);

	if (ret)
		return ret;
	ret = pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
	if (!ret)
		ret = pthread_create(thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return ret;
}

int thread_start_unsignalled(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int ret;

	/*
	 * The new thread inherits the mask in force when it is created. SIGSYS stays open:
	 * a seccomp trap on a thread that blocks it kills kvmbox without a word.
	 */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = thread_create(thread, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

bool eventfd_drain(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v);
}
