/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_UTIL_THREAD_H
#define KVMBOX_UTIL_THREAD_H

#include <pthread.h>
#include <stdbool.h>

/*
 * Starts a device worker that takes no signals: they belong to the main loop and the
 * vCPUs (a vCPU kick is a signal); SIGSYS excepted (seccomp's trap). Returns 0 or a positive errno, as pthread_create.
 */
int thread_start_unsignalled(pthread_t *thread, void *(*fn)(void *), void *arg);

/* Reads a nonblocking eventfd empty; returns whether it had been written. */
bool eventfd_drain(int fd);

#endif
