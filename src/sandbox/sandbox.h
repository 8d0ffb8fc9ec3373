/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_SANDBOX_H
#define KVMBOX_SANDBOX_H

#include <pthread.h>

/* The exit status of kvmbox when a thread makes a system call outside its list. */
#define EXIT_SECCOMP 148

/* The kinds of thread kvmbox runs; each has its own allow-list (filters.c). */
enum sandbox_kind {
	THREAD_MAIN,
	THREAD_VCPU,
	THREAD_VIRTIO_BLK,
	THREAD_BLK_IO,
	THREAD_VIRTIO_NET,
	THREAD_VIRTIO_CONSOLE,
	THREAD_VIRTIO_RNG,
	THREAD_VIRTIO_BALLOON,
	THREAD_VIRTIO_VSOCK, /* the userspace vsock device (--vsock ...,uds=) */
	THREAD_VIRTIO_IRQ,
	THREAD_API,	/* the control API's server after InstanceStart */
	THREAD_SPAWNER, /* starts the others: its list is the union of theirs */
	THREAD_KINDS,
};

enum sandbox_mode {
	SANDBOX_OFF,
	SANDBOX_ON,  /* a call outside the list ends kvmbox with EXIT_SECCOMP */
	SANDBOX_LOG, /* a call outside the list is logged by the kernel and goes on */
};

const char *sandbox_kind_name(enum sandbox_kind kind);

/* "on", "log" or "off"; returns 0 or -EINVAL. */
int sandbox_parse_mode(const char *s, enum sandbox_mode *out);

/*
 * The mode without --seccomp: KVMBOX_SECCOMP when set (-EINVAL when it is not a mode),
 * else on, except in sanitizer builds (their runtime makes calls no list names).
 */
int sandbox_default_mode(enum sandbox_mode *out);

/*
 * Before any thread is started: checks that the kernel filters (if not, one warning
 * and the mode falls to off), installs the SIGSYS handler and starts the spawner.
 */
void sandbox_init(enum sandbox_mode mode);
enum sandbox_mode sandbox_mode(void);

/* Puts the calling thread under the list of KIND (nothing when the mode is off). */
int sandbox_enter(enum sandbox_kind kind);

/*
 * Starts a thread of KIND running FN(ARG) with every signal but SIGSYS blocked; it
 * installs its own filter first. Returns 0 or a positive errno, as pthread_create.
 * THREAD_API is started directly, not by the spawner: its caller must be unfiltered
 * (the main thread before vm_run), or the new thread keeps the caller's filter too.
 */
int sandbox_thread_start(pthread_t *thread, enum sandbox_kind kind, void *(*fn)(void *), void *arg);

#endif
