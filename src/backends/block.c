// SPDX-License-Identifier: GPL-2.0-only
/*
 * Disk images on the host: opening and locking them, and running reads, writes, flushes,
 * discards and zeroing on them through io_uring or a small thread pool.
 *
 * With io_uring, every operation first goes to the ring. What the ring cannot do here
 * (BLKDISCARD on a block device is an ioctl; zeroing a range by writes after fallocate
 * refused) goes to one helper thread running the same synchronous code the thread-pool
 * engine uses, so there is a single place that knows the fallbacks. Both engines signal
 * completions on one eventfd, so the owner of a queue polls a single descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "../sandbox/sandbox.h"
#include "../util/thread.h"
#include "block.h"

#define POOL_THREADS	    4 /* the threads engine */
#define POOL_HELPER_THREADS 1 /* beside a ring: fallbacks only */
#define ZERO_CHUNK	    (64 * KiB)
#define ZERO_IOVS	    16 /* one zeroing write covers ZERO_CHUNK * ZERO_IOVS bytes */

struct block_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct block_io *todo, **todo_tail;
	struct block_io *done;
	bool stop;
	unsigned int nr_threads;
	pthread_t threads[POOL_THREADS];
};

struct block_queue {
	struct block_file *file;
	int efd; /* completions of both engines */
	unsigned int depth, inflight;
	atomic_bool cancel;
	bool have_ring;
	unsigned int unsubmitted;
	struct io_uring ring;
	struct block_pool pool;
};

static const u8 zero_chunk[ZERO_CHUNK];

/* Opening. */

static int open_fail(char *err, size_t errlen, int ret, const char *fmt, const char *s)
{
	snprintf(err, errlen, fmt, s);
	return ret;
}

static int block_file_size(struct block_file *f, const struct stat *st, char *err, size_t errlen)
{
	u64 size;

	if (S_ISREG(st->st_mode)) {
		size = (u64)st->st_size;
	} else if (S_ISBLK(st->st_mode)) {
		if (ioctl(f->fd, BLKGETSIZE64, &size) < 0)
			return open_fail(err, errlen, -errno, "BLKGETSIZE64: %s", strerror(errno));
		f->blkdev = true;
	} else {
		return open_fail(err, errlen, -EINVAL, "%s", "not a regular file or block device");
	}
	if (size % BLOCK_SECTOR_SIZE) {
		char n[32];

		snprintf(n, sizeof(n), "%llu", (unsigned long long)size);
		return open_fail(err, errlen, -EINVAL,
				 "size %s bytes is not a multiple of 512 (the sector size)", n);
	}
	f->size = size;
	/* Holes come in file system blocks; a sane power of two or nothing better than 512. */
	f->discard_align = BLOCK_SECTOR_SIZE;
	if (st->st_blksize >= BLOCK_SECTOR_SIZE && st->st_blksize <= (blksize_t)MiB &&
	    !(st->st_blksize & (st->st_blksize - 1)))
		f->discard_align = (u32)st->st_blksize;
	return 0;
}

int block_file_open(struct block_file *f, const char *path, bool ro, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	memset(f, 0, sizeof(*f));
	f->ro = ro;
	f->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (f->fd < 0)
		return open_fail(err, errlen, -errno, "%s", strerror(errno));
	if (fstat(f->fd, &st) < 0)
		ret = open_fail(err, errlen, -errno, "%s", strerror(errno));
	else
		ret = block_file_size(f, &st, err, errlen);
	/* A shared lock for readers: any number of ro users, but no writer beside them. */
	if (!ret && flock(f->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
		ret = open_fail(err, errlen, errno == EWOULDBLOCK ? -EBUSY : -errno, "%s",
				errno == EWOULDBLOCK
					? "locked: another VM, or another --disk, uses it"
					: strerror(errno));
	if (ret)
		block_file_close(f);
	return ret;
}

void block_file_close(struct block_file *f)
{
	if (f->fd >= 0)
		close(f->fd); /* drops the lock too */
	f->fd = -1;
}

/* The synchronous engine, with every fallback. */

static bool fallocate_unsupported(int ret)
{
	/* EINVAL too: a device refuses zeroing ranges below its own block size that way. */
	return ret == -EOPNOTSUPP || ret == -EINVAL || ret == -ENOSYS || ret == -ENOTTY;
}

static int do_fallocate(struct block_file *f, int mode, u64 offset, u64 len)
{
	if (fallocate(f->fd, mode, (off_t)offset, (off_t)len) == 0)
		return 0;
	return -errno;
}

/* Skips n bytes of the iovecs after a short transfer, dropping the empty ones. */
static void io_advance(struct block_io *io, u64 n)
{
	io->done += n;
	while (io->iovcnt && n >= io->iov->iov_len) {
		n -= io->iov->iov_len;
		io->iov++;
		io->iovcnt--;
	}
	if (io->iovcnt && n) {
		io->iov->iov_base = (u8 *)io->iov->iov_base + n;
		io->iov->iov_len -= n;
	}
}

static s64 run_rw(struct block_file *f, struct block_io *io)
{
	while (io->done < io->len && io->iovcnt) {
		int cnt = (int)MIN(io->iovcnt, (unsigned int)IOV_MAX);
		off_t off = (off_t)(io->offset + io->done);
		ssize_t n = io->op == BLOCK_OP_READ ? preadv(f->fd, io->iov, cnt, off)
						    : pwritev(f->fd, io->iov, cnt, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the image shrank under us */
		io_advance(io, (u64)n);
	}
	return (s64)io->done;
}

static int zero_by_writes(struct block_file *f, u64 offset, u64 len, const atomic_bool *cancel)
{
	struct iovec iov[ZERO_IOVS];

	while (len) {
		u64 n = MIN(len, (u64)ZERO_CHUNK * ZERO_IOVS);
		unsigned int cnt = 0;
		ssize_t w;

		if (cancel && atomic_load(cancel))
			return -ECANCELED;
		for (u64 left = n; left; cnt++) {
			iov[cnt].iov_base = (void *)zero_chunk;
			iov[cnt].iov_len = MIN(left, (u64)ZERO_CHUNK);
			left -= iov[cnt].iov_len;
		}
		w = pwritev(f->fd, iov, (int)cnt, (off_t)offset);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		offset += (u64)w;
		len -= (u64)w;
	}
	return 0;
}

static int run_write_zeroes(struct block_file *f, struct block_io *io, const atomic_bool *cancel)
{
	int ret;

	/* A punched hole reads back as zeros in files; on devices it is an unmapping zero-out. */
	if (io->unmap && !atomic_load(&f->no_punch)) {
		ret = do_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, io->offset,
				   io->len);
		if (!fallocate_unsupported(ret))
			return ret;
		atomic_store(&f->no_punch, true);
	}
	if (!atomic_load(&f->no_zero_range)) {
		ret = do_fallocate(f, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, io->offset,
				   io->len);
		if (!fallocate_unsupported(ret))
			return ret;
		atomic_store(&f->no_zero_range, true);
	}
	return zero_by_writes(f, io->offset, io->len, cancel);
}

/* Discarded sectors may read back as anything, so a host that cannot discard ignores it. */
static int run_discard(struct block_file *f, struct block_io *io)
{
	int ret;

	if (f->blkdev) {
		u64 range[2] = {io->offset, io->len};

		ret = ioctl(f->fd, BLKDISCARD, range) < 0 ? -errno : 0;
		return fallocate_unsupported(ret) ? 0 : ret;
	}
	if (atomic_load(&f->no_punch))
		return 0;
	ret = do_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, io->offset, io->len);
	if (!fallocate_unsupported(ret))
		return ret;
	atomic_store(&f->no_punch, true);
	return 0;
}

void block_io_run_sync(struct block_file *f, struct block_io *io, const atomic_bool *cancel)
{
	switch (io->op) {
	case BLOCK_OP_READ:
	case BLOCK_OP_WRITE:
		io->result = run_rw(f, io);
		break;
	case BLOCK_OP_FLUSH:
		io->result = fdatasync(f->fd) < 0 ? -errno : 0;
		break;
	case BLOCK_OP_DISCARD:
		io->result = run_discard(f, io);
		break;
	case BLOCK_OP_WRITE_ZEROES:
		io->result = run_write_zeroes(f, io, cancel);
		break;
	default:
		io->result = -EINVAL;
	}
}

/* The thread pool. */

static void signal_completion(struct block_queue *q)
{
	u64 one = 1;

	/* Only fails when the counter would overflow: the owner is woken either way. */
	if (write(q->efd, &one, sizeof(one)) < 0)
		return;
}

static void *pool_thread(void *arg)
{
	struct block_queue *q = arg;
	struct block_pool *p = &q->pool;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct block_io *io;

		while (!p->todo && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->todo)
			break; /* stopping, and nothing left to run */
		io = p->todo;
		p->todo = io->next;
		if (!p->todo)
			p->todo_tail = &p->todo;
		pthread_mutex_unlock(&p->lock);

		block_io_run_sync(q->file, io, &q->cancel);

		pthread_mutex_lock(&p->lock);
		io->next = p->done;
		p->done = io;
		signal_completion(q);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void pool_stop(struct block_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->nr_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->nr_threads = 0;
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

static int pool_start(struct block_queue *q, unsigned int nr)
{
	struct block_pool *p = &q->pool;

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->todo_tail = &p->todo;
	for (p->nr_threads = 0; p->nr_threads < nr; p->nr_threads++) {
		int ret = sandbox_thread_start(&p->threads[p->nr_threads], THREAD_BLK_IO,
					       pool_thread, q);

		if (ret) {
			pool_stop(p);
			return -ret;
		}
	}
	return 0;
}

static void pool_submit(struct block_pool *p, struct block_io *io)
{
	pthread_mutex_lock(&p->lock);
	io->next = NULL;
	*p->todo_tail = io;
	p->todo_tail = &io->next;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* The io_uring engine. */

static bool ring_can_run(const struct block_queue *q, const struct block_io *io)
{
	const struct block_file *f = q->file;

	switch (io->op) {
	case BLOCK_OP_DISCARD:
		return !f->blkdev && !atomic_load(&f->no_punch);
	case BLOCK_OP_WRITE_ZEROES:
		return io->unmap ? !atomic_load(&f->no_punch) : !atomic_load(&f->no_zero_range);
	default:
		return true;
	}
}

static int ring_queue(struct block_queue *q, struct block_io *io)
{
	int fd = q->file->fd, mode;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe) {
		/* Never expected: in flight stays below the ring size. */
		block_queue_kick(q);
		sqe = io_uring_get_sqe(&q->ring);
		if (!sqe)
			return -EBUSY;
	}
	switch (io->op) {
	case BLOCK_OP_READ:
		io_uring_prep_readv(sqe, fd, io->iov, MIN(io->iovcnt, (unsigned int)IOV_MAX),
				    io->offset + io->done);
		break;
	case BLOCK_OP_WRITE:
		io_uring_prep_writev(sqe, fd, io->iov, MIN(io->iovcnt, (unsigned int)IOV_MAX),
				     io->offset + io->done);
		break;
	case BLOCK_OP_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	default:
		mode = io->op == BLOCK_OP_WRITE_ZEROES && !io->unmap ? FALLOC_FL_ZERO_RANGE
								     : FALLOC_FL_PUNCH_HOLE;
		io_uring_prep_fallocate(sqe, fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)io->offset,
					(off_t)io->len);
	}
	io_uring_sqe_set_data(sqe, io);
	q->unsubmitted++;
	return 0;
}

static void io_finish(struct block_queue *q, struct block_io *io, s64 result, block_done_fn done,
		      void *arg)
{
	io->result = result;
	q->inflight--;
	done(io, arg);
}

/* Hands io to the helper thread; it stays in flight. */
static void ring_punt(struct block_queue *q, struct block_io *io)
{
	pool_submit(&q->pool, io);
}

/* One ring completion: finishes io, or sends it on for its remainder or a fallback. */
static unsigned int ring_complete(struct block_queue *q, struct block_io *io, int res,
				  block_done_fn done, void *arg)
{
	switch (io->op) {
	case BLOCK_OP_READ:
	case BLOCK_OP_WRITE:
		if (res == -EAGAIN || res == -EINTR) {
			ring_punt(q, io);
			return 0;
		}
		if (res <= 0) {
			io_finish(q, io, res ? res : -EIO, done, arg);
			return 1;
		}
		io_advance(io, (u64)res);
		if (io->done < io->len && io->iovcnt) {
			if (ring_queue(q, io))
				ring_punt(q, io);
			return 0;
		}
		io_finish(q, io, (s64)io->done, done, arg);
		return 1;
	case BLOCK_OP_DISCARD:
	case BLOCK_OP_WRITE_ZEROES:
		if (fallocate_unsupported(res)) {
			/* Learn it, and let the synchronous code walk the fallbacks. */
			if (io->op == BLOCK_OP_WRITE_ZEROES && !io->unmap)
				atomic_store(&q->file->no_zero_range, true);
			else
				atomic_store(&q->file->no_punch, true);
			ring_punt(q, io);
			return 0;
		}
		break;
	default:
		break;
	}
	io_finish(q, io, res, done, arg);
	return 1;
}

static unsigned int ring_reap(struct block_queue *q, block_done_fn done, void *arg)
{
	struct io_uring_cqe *cqe;
	unsigned int n = 0;

	while (io_uring_peek_cqe(&q->ring, &cqe) == 0) {
		struct block_io *io = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&q->ring, cqe);
		n += ring_complete(q, io, res, done, arg);
	}
	block_queue_kick(q);
	return n;
}

static int ring_setup(struct block_queue *q)
{
	int ret = io_uring_queue_init(q->depth, &q->ring, 0);

	if (ret < 0)
		return ret;
	ret = io_uring_register_eventfd(&q->ring, q->efd);
	if (ret < 0) {
		io_uring_queue_exit(&q->ring);
		return ret;
	}
	q->have_ring = true;
	return 0;
}

/* The queue. */

int block_backend_from_env(enum block_backend *out)
{
	const char *s = getenv("KVMBOX_BLOCK_BACKEND");

	*out = BLOCK_BACKEND_AUTO;
	if (!s || !*s || !strcmp(s, "auto"))
		return 0;
	if (!strcmp(s, "io_uring"))
		*out = BLOCK_BACKEND_IO_URING;
	else if (!strcmp(s, "threads"))
		*out = BLOCK_BACKEND_THREADS;
	else
		return -EINVAL;
	return 0;
}

int block_queue_create(struct block_queue **out, struct block_file *f, unsigned int depth,
		       enum block_backend backend)
{
	struct block_queue *q = calloc(1, sizeof(*q));
	int ret = 0;

	if (!q)
		return -ENOMEM;
	q->file = f;
	q->depth = depth ? depth : 1;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		ret = -errno;
		free(q);
		return ret;
	}
	if (backend != BLOCK_BACKEND_THREADS) {
		ret = ring_setup(q);
		if (ret && backend == BLOCK_BACKEND_AUTO)
			ret = 0;
	}
	if (!ret)
		ret = pool_start(q,
				 q->have_ring ? POOL_HELPER_THREADS : MIN(POOL_THREADS, q->depth));
	if (ret) {
		if (q->have_ring)
			io_uring_queue_exit(&q->ring);
		close(q->efd);
		free(q);
		return ret;
	}
	*out = q;
	return 0;
}

const char *block_queue_backend_name(const struct block_queue *q)
{
	return q->have_ring ? "io_uring" : "threads";
}

int block_queue_event_fd(const struct block_queue *q)
{
	return q->efd;
}

unsigned int block_queue_inflight(const struct block_queue *q)
{
	return q->inflight;
}

int block_queue_submit(struct block_queue *q, struct block_io *io)
{
	if (q->inflight >= q->depth)
		return -EBUSY;
	io->done = 0;
	io->result = 0;
	if (io->op == BLOCK_OP_READ || io->op == BLOCK_OP_WRITE) {
		io->len = 0;
		for (unsigned int i = 0; i < io->iovcnt; i++)
			io->len += io->iov[i].iov_len;
	}
	if (q->have_ring && ring_can_run(q, io)) {
		int ret = ring_queue(q, io);

		if (ret)
			return ret;
	} else {
		pool_submit(&q->pool, io);
	}
	q->inflight++;
	return 0;
}

void block_queue_kick(struct block_queue *q)
{
	if (q->have_ring && q->unsubmitted) {
		/* On failure the entries stay queued and go with the next submit. */
		if (io_uring_submit(&q->ring) >= 0)
			q->unsubmitted = 0;
	}
}

unsigned int block_queue_reap(struct block_queue *q, block_done_fn done, void *arg)
{
	struct block_io *list;
	unsigned int n = 0;
	u64 v;

	/* Clear the eventfd first: a completion after this point sets it again. */
	if (read(q->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	if (q->have_ring)
		n += ring_reap(q, done, arg);
	pthread_mutex_lock(&q->pool.lock);
	list = q->pool.done;
	q->pool.done = NULL;
	pthread_mutex_unlock(&q->pool.lock);
	while (list) {
		struct block_io *io = list;

		list = io->next;
		io_finish(q, io, io->result, done, arg);
		n++;
	}
	return n;
}

void block_queue_drain(struct block_queue *q, block_done_fn done, void *arg)
{
	atomic_store(&q->cancel, true);
	block_queue_kick(q);
	while (q->inflight) {
		struct pollfd pfd = {.fd = q->efd, .events = POLLIN};

		/* Leaving early would free what the kernel still writes to: retry instead. */
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			usleep(1000);
		block_queue_reap(q, done, arg);
	}
	atomic_store(&q->cancel, false);
}

static void drop_io(struct block_io *io, void *arg)
{
	(void)io;
	(void)arg;
}

void block_queue_destroy(struct block_queue *q)
{
	if (!q)
		return;
	block_queue_drain(q, drop_io, NULL);
	pool_stop(&q->pool);
	if (q->have_ring)
		io_uring_queue_exit(&q->ring);
	close(q->efd);
	free(q);
}
