// SPDX-License-Identifier: GPL-2.0-only
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "thread.h"

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
	ret = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

bool eventfd_drain(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v);
}
