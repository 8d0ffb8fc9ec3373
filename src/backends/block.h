/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_BACKENDS_BLOCK_H
#define KVMBOX_BACKENDS_BLOCK_H

#include <stdatomic.h>
#include <sys/uio.h>

#include "../util/types.h"

/*
 * The host side of a disk: an image file or block device, and the queues that run I/O on
 * it away from the vCPU threads. Two engines do the I/O:
 *   io_uring  one ring per queue, driven by the thread that owns the queue;
 *   threads   a small pool of threads calling preadv/pwritev/fdatasync/fallocate.
 * KVMBOX_BLOCK_BACKEND=io_uring|threads picks one; unset, io_uring is tried first and the
 * threads take over where the kernel refuses rings (seccomp, old kernels, memlock limits).
 */

#define BLOCK_SECTOR_SIZE 512

struct block_file {
	int fd;
	u64 size; /* bytes, a multiple of BLOCK_SECTOR_SIZE */
	bool ro;
	bool blkdev;
	u32 discard_align; /* bytes: the granularity a hole can be punched at */
	/* Learned on the first refusal, so later requests skip what cannot work here. */
	atomic_bool no_punch, no_zero_range;
};

/*
 * Opens path read-write (read-only if ro), checks it is a regular file or block device
 * whose size is a multiple of 512, and locks it (exclusive, or shared when ro) so that two
 * VMs cannot write one image. Returns 0, or -errno with a one-line reason in err.
 */
int block_file_open(struct block_file *f, const char *path, bool ro, char *err, size_t errlen);
void block_file_close(struct block_file *f);

enum block_op {
	BLOCK_OP_READ,
	BLOCK_OP_WRITE,
	BLOCK_OP_FLUSH, /* fdatasync: what completed before is on stable storage */
	BLOCK_OP_DISCARD,
	BLOCK_OP_WRITE_ZEROES,
};

/*
 * One host operation. The submitter owns it (and the iovecs, which the backend may
 * advance after a short transfer) until it comes back through the completion callback.
 */
struct block_io {
	enum block_op op;
	bool unmap;	   /* write zeroes: deallocating the range is allowed */
	u64 offset;	   /* bytes */
	u64 len;	   /* discard and write zeroes: bytes */
	struct iovec *iov; /* read and write */
	unsigned int iovcnt;
	s64 result; /* on completion: bytes moved (read/write), 0, or -errno */

	/* Backend-private. */
	u64 done;
	struct block_io *next;
};

enum block_backend {
	BLOCK_BACKEND_AUTO,
	BLOCK_BACKEND_IO_URING,
	BLOCK_BACKEND_THREADS,
};

/* Reads KVMBOX_BLOCK_BACKEND. Returns 0, or -EINVAL for a value it does not know. */
int block_backend_from_env(enum block_backend *out);

struct block_queue;
typedef void (*block_done_fn)(struct block_io *io, void *arg);

/*
 * A queue of at most depth operations in flight on f. Everything but create runs on one
 * thread, the queue's owner. Returns 0 or -errno (-ENOSYS etc. when io_uring was forced
 * and cannot be had).
 */
int block_queue_create(struct block_queue **out, struct block_file *f, unsigned int depth,
		       enum block_backend backend);
const char *block_queue_backend_name(const struct block_queue *q);
/* Readable when completions wait: poll it, then call block_queue_reap(). */
int block_queue_event_fd(const struct block_queue *q);
/* Queues io; it is sent to the kernel by block_queue_kick() at the latest. */
int block_queue_submit(struct block_queue *q, struct block_io *io);
void block_queue_kick(struct block_queue *q);
/* Calls done for each finished operation; returns how many. Never blocks. */
unsigned int block_queue_reap(struct block_queue *q, block_done_fn done, void *arg);
unsigned int block_queue_inflight(const struct block_queue *q);
/*
 * Waits until nothing is in flight, calling done for each operation as it finishes, and
 * asks long-running fallbacks (zeroing by writes) to give up early with -ECANCELED.
 * Afterwards the host no longer touches any buffer that was submitted.
 */
void block_queue_drain(struct block_queue *q, block_done_fn done, void *arg);
/* Drains, then frees the ring and joins the threads. */
void block_queue_destroy(struct block_queue *q);

/* Runs io synchronously on the calling thread, with every fallback; sets io->result. */
void block_io_run_sync(struct block_file *f, struct block_io *io, const atomic_bool *cancel);

#endif
