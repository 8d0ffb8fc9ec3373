/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_SNAPSHOT_UFFD_H
#define KVMBOX_SNAPSHOT_UFFD_H

#include <stddef.h>

#include "memory.h"

/*
 * The Uffd memory backend of PUT /snapshot/load, as Firecracker has it: guest RAM is
 * anonymous memory registered with a userfaultfd, and a page-fault handler process (on
 * the Unix socket backend_path) fills each page on its first touch from the memory file,
 * which it opens itself. The handler gets one message: a JSON array of the RAM's regions
 * (uffd_message) with the userfaultfd attached (SCM_RIGHTS).
 */
struct uffd_conn {
	int sock; /* connected to the handler until the message is sent, then -1 */
	int uffd; /* kept open for the VM's lifetime: closing it fails every later fault */
};

/*
 * The first phase, which changes nothing a 400 would have to undo: path must be a Unix
 * socket a handler listens on, and this process allowed a userfaultfd (UFFDIO_API done).
 * Returns 0, or -errno with one line in err (and c's fds closed, set to -1).
 */
int uffd_open(struct uffd_conn *c, const char *path, char *err, size_t errlen);

/*
 * Once mem is mapped (anonymous) and before anything reads it: registers every region
 * for missing-page faults and sends the handler its message and the userfaultfd, then
 * closes the socket. Returns 0, or -errno with one line in err.
 */
int uffd_start(struct uffd_conn *c, const struct guest_memory *mem, char *err, size_t errlen);

/* Closes what c still holds (the VM's memory must be gone or never read again). */
void uffd_close(struct uffd_conn *c);

/*
 * The handler's message for mem into buf: each region's host address, size, offset in
 * the memory file (its offset from mem->base: the file holds the regions in order) and
 * page size. Returns its length (without the NUL), or -ENOSPC if buf is too small.
 */
int uffd_message(const struct guest_memory *mem, size_t page_size, char *buf, size_t len);

#endif
