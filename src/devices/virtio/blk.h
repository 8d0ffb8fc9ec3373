/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_BLK_H
#define KVMBOX_DEVICES_VIRTIO_BLK_H

#include <limits.h>
#include <linux/virtio_blk.h>

#include "../../backends/block.h"
#include "../../util/metrics.h"
#include "../../util/token_bucket.h"
#include "../worker.h"
#include "virtio.h"

/*
 * virtio-blk: one request queue served by one worker thread per disk, which pops chains,
 * validates them (virtio_blk_parse_request(), pure and unit-tested) and hands the host
 * side to a block queue (src/backends/block.c), io_uring or a thread pool.
 */

#define VIRTIO_BLK_QUEUE_SIZE 256 /* also the bound on requests in flight */
/*
 * Data buffers per request, as offered in seg_max. With the header and the status byte
 * such a request is a chain of exactly the queue size, the longest a driver can post
 * without indirect descriptors (QEMU offers the same), so Linux can put a 1 MiB read of
 * scattered 4 KiB pages into one request instead of splitting it.
 */
#define VIRTIO_BLK_SEG_MAX	     (VIRTIO_BLK_QUEUE_SIZE - 2)
#define VIRTIO_BLK_MAX_RANGES	     32		  /* segments per discard or write zeroes request */
#define VIRTIO_BLK_MAX_RANGE_SECTORS (1U << 22)	  /* 2 GiB per segment */
#define VIRTIO_BLK_MAX_DATA	     (1ULL << 30) /* bytes of data in one read or write */

/*
 * How long the worker polls a dry ring before it asks for kicks again (blk_poll.c), at
 * most; KVMBOX_BLK_POLL_US sets it (0 turns polling off, BLK_POLL_MAX_US at most).
 */
#define BLK_POLL_MAX_NS_DEFAULT (50 * 1000ull)
#define BLK_POLL_MAX_US		1000

/* Request outcomes besides the VIRTIO_BLK_S_* status bytes. */
#define VIRTIO_BLK_PENDING 0x100 /* host I/O is under way */

/* Events of the engine for the transport: what the worker tells the driver. */
#define VIRTIO_BLK_EV_NOTIFY 1 /* used buffers were returned */
#define VIRTIO_BLK_EV_BROKEN 2 /* the driver broke the rules: NEEDS_RESET */

struct blk_options {
	char path[PATH_MAX];
	bool ro;
	u8 serial[VIRTIO_BLK_ID_BYTES]; /* zero-padded, as GET_ID returns it */
	char id[METRICS_ID_MAX];	/* id=: names the disk's metrics (the API's drive_id) */
	struct rl_config rl;		/* bw= and ops= */
	char err[160];			/* why parsing failed */
};

/*
 * Parses one --disk argument: PATH[,ro][,serial=S][,id=ID][,bw=..][,ops=..] (S at most 20
 * bytes, the buckets SIZE:REFILL_MS[:ONE_TIME_BURST]). Returns 0, or
 * -EINVAL with a one-line reason in o->err.
 */
int virtio_blk_parse_option(const char *arg, struct blk_options *o);
struct vm_config;
/* The device's check hook: every --disk parses, and its file opens as realize opens it. */
int virtio_blk_check(const struct vm_config *cfg);

/* What validation needs to know: the disk, and the features the driver accepted. */
struct blk_limits {
	u64 capacity; /* 512-byte sectors */
	bool ro, flush, discard, write_zeroes;
};

struct blk_range {
	u64 sector;
	u32 nr_sectors;
	bool unmap;
};

struct blk_req {
	struct block_io io; /* the host operation of the current step */
	u8 *status;	    /* the last device-writable byte of the chain */
	u32 type;
	u16 head;
	u32 written; /* used length on success: data written plus the status byte */
	u64 sector;
	u64 data_len;
	bool flush_after; /* write-through: FLUSH was not negotiated */
	unsigned int step;
	unsigned int nr_ranges;
	struct blk_range ranges[VIRTIO_BLK_MAX_RANGES];
	unsigned int iovcnt;
	struct iovec iov[VIRTIO_BLK_SEG_MAX]; /* the data buffers, header and status cut off */
};

/*
 * Validates a chain and fills r. Returns VIRTIO_BLK_S_OK when r is ready to run,
 * VIRTIO_BLK_S_IOERR or VIRTIO_BLK_S_UNSUPP to complete it with at once, or -EIO when
 * the chain has no device-writable byte for a status (the driver broke the rules).
 */
int virtio_blk_parse_request(const struct blk_limits *l, const struct vq_chain *c,
			     struct blk_req *r);

struct blk_poll {
	u64 max_ns;	/* 0: never poll */
	u64 ns;		/* the window now */
	bool kicks_off; /* the ring ran dry and kicks are still off: poll, then turn them on */
};

struct virtio_blk {
	struct virtio_dev vdev;
	struct blk_options opts;
	struct block_file file;
	enum block_backend backend;
	struct virtio_blk_config config;
	struct metrics_set metrics;

	/* While started (DRIVER_OK until reset); the worker owns these. */
	bool running, stopping, broken, more;
	struct blk_limits limits;
	struct block_queue *bq;
	struct vq_chain *chain;
	struct blk_req *reqs;
	/*
	 * The free slots, a stack of indices into reqs kept apart from them: the slots
	 * (4.6 KiB each) are only touched once used, and the stack hands the same few back
	 * under a light load, so the 1.2 MiB of slots costs memory only as deep as the load.
	 */
	u16 free_slots[VIRTIO_BLK_QUEUE_SIZE];
	unsigned int nr_free;
	unsigned int events;
	atomic_uint busy; /* requests taken but not completed; read by save */
	struct blk_poll poll;
	struct dev_worker worker;
	/*
	 * The rate limiter: each request is charged before it starts; one that does not fit
	 * goes back on the ring and the worker sleeps on timer_fd (a timerfd) until it would.
	 */
	struct rate_limiter rl;
	int timer_fd;
	bool throttled; /* a request waits for the timer: do not take from the ring */
};

/*
 * The engine without threads or a transport, for the worker and for tests: init opens
 * the disk and fills features and config; queue_start makes the block queue; serve takes
 * chains off the ring and starts them; reap finishes completed I/O. serve and reap return
 * VIRTIO_BLK_EV_* bits for the caller to act on. queue_stop waits for I/O in flight.
 */
int virtio_blk_init(struct virtio_blk *b, const struct blk_options *o, enum block_backend be,
		    char *err, size_t errlen);
void virtio_blk_fini(struct virtio_blk *b);

/*
 * Puts the running disk on old_path onto the file new_path (same read-only setting),
 * for the control API's PATCH /drives. Call it with the vCPUs paused (vm_pause), so that
 * no new request arrives; requests already taken are waited for. Returns 0, or -errno
 * with a one-line reason in err; on failure the disk stays on its old file.
 */
int virtio_blk_swap(struct vm *vm, const char *old_path, const char *new_path, char *err,
		    size_t errlen);
/*
 * Waits, at most about a second, until no request has been taken for 50 ms (the vCPUs
 * parked): true when the disk is idle, false if its I/O did not finish.
 */
bool virtio_blk_wait_idle(struct virtio_blk *b);
/*
 * Replaces the rate limiter of the disk on path (the control API's PATCH): 0, or -ENODEV.
 * A throttled worker looks at the new buckets at once.
 */
int virtio_blk_set_limiter(struct vm *vm, const char *path, const struct rl_config *rl);
/*
 * Charges r to the rate limiter: false when it may start now, true when it must wait
 * (b->throttled set, the limiter armed the timer for when it would fit; nothing charged).
 */
bool virtio_blk_throttle(struct virtio_blk *b, const struct blk_req *r);
int virtio_blk_queue_start(struct virtio_blk *b);
unsigned int virtio_blk_serve(struct virtio_blk *b);
unsigned int virtio_blk_reap(struct virtio_blk *b);
void virtio_blk_queue_stop(struct virtio_blk *b);

/* The worker thread (blk_poll.c), started by the device's start op with arg b. */
void *virtio_blk_worker(void *arg);
/*
 * Reads KVMBOX_BLOCK_BACKEND and KVMBOX_BLK_POLL_US (into *poll_max_ns). Returns 0, or
 * -EXIT_BAD_INPUT after saying which one is wrong.
 */
int virtio_blk_env(enum block_backend *be, u64 *poll_max_ns);

extern const struct device_ops virtio_blk_ops;

#endif
