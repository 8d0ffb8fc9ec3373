/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_UTIL_THREAD_H
#define KVMBOX_UTIL_THREAD_H

#include <pthread.h>
#include <stdbool.h>

/*
 * Every kvmbox thread's stack, guard page included. glibc's default (8 MiB, from
 * RLIMIT_STACK) spans whole 2 MiB-aligned stretches, and with transparent huge pages
 * set to "always" khugepaged collapses the few touched pages of one into a huge page:
 * +2 MiB resident per thread, seen in the lab's boot benchmark. A stack under 2 MiB
 * holds no aligned 2 MiB stretch, so it never gets one. kvmbox's deepest paths
 * (jansson's parser at its depth limit, device emulation) need far less than 1 MiB.
 */
#define THREAD_STACK_SIZE (1024 * 1024)

/* pthread_create with a THREAD_STACK_SIZE stack. */
int thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

/*
 * Starts a device worker that takes no signals: they belong to the main loop and the
 * vCPUs (a vCPU kick is a signal); SIGSYS excepted (seccomp's trap). Returns 0 or a positive errno, as pthread_create.
 */
int thread_start_unsignalled(pthread_t *thread, void *(*fn)(void *), void *arg);

/* Reads a nonblocking eventfd empty; returns whether it had been written. */
bool eventfd_drain(int fd);

#endif
