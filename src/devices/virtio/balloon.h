/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_VIRTIO_BALLOON_H
#define KVMBOX_DEVICES_VIRTIO_BALLOON_H

#include <linux/virtio_balloon.h>

#include "../worker.h"
#include "virtio.h"

#define VIRTIO_BALLOON_INFLATEQ	  0
#define VIRTIO_BALLOON_DEFLATEQ	  1
#define VIRTIO_BALLOON_STATSQ	  2
#define VIRTIO_BALLOON_QUEUES	  3
#define VIRTIO_BALLOON_QUEUE_SIZE 256
#define BALLOON_PAGE_SIZE	  (1u << VIRTIO_BALLOON_PFN_SHIFT) /* the PFNs' unit, any guest */
/* Page frame numbers read from one chain; Linux sends at most 256. The rest are ignored. */
#define BALLOON_MAX_PFNS 4096
/* Chains served in one round, before the worker looks at its other fds. */
#define BALLOON_ROUND 1024
/* Statistics tags kept: Linux 6.12 sends 0 to 15 (oom_kill ... direct_reclaim). */
#define BALLOON_STAT_TAGS 16
/* Statistics entries read from one buffer; Linux sends one per tag. */
#define BALLOON_MAX_STATS     64
#define BALLOON_MAX_INTERVAL  3600 /* stats_polling_interval_s, seconds */
#define BALLOON_PAGES_PER_MIB (MiB / BALLOON_PAGE_SIZE)

/* virtio-balloon (traditional memory balloon) over virtio-pci, realized with --balloon. */
extern const struct device_ops virtio_balloon_ops;

/* --balloon [amount_mib=N][,deflate_on_oom=on|off][,stats=S]: Firecracker's three settings. */
struct balloon_options {
	u32 amount_mib;	      /* the first target */
	bool deflate_on_oom;  /* offered as VIRTIO_BALLOON_F_DEFLATE_ON_OOM */
	u32 stats_interval_s; /* 0: no statistics queue (VIRTIO_BALLOON_F_STATS_VQ not offered) */
};

/* Parses s (NULL or "" gives the defaults). 0, or -EINVAL with one line in err. */
int balloon_parse_options(const char *s, struct balloon_options *o, char *err, size_t errlen);

/* What GET /balloon/statistics reports; stats[t] is meaningful where stats_valid has bit t. */
struct balloon_info {
	u32 target_pages, actual_pages;
	u32 stats_interval_s;
	u32 stats_valid;
	u64 stats[BALLOON_STAT_TAGS];
};

/*
 * The device. Its queue handling (virtio_balloon_pages(), virtio_balloon_stats_in(),
 * virtio_balloon_stats_poll()) needs no thread, KVM or transport: unit tests and the
 * fuzzer drive it with rings in plain memory and their own notify hook.
 */
struct virtio_balloon {
	struct virtio_dev vdev;
	struct balloon_options opts;
	u8 config[8];	 /* le32 num_pages (the target), le32 actual (the driver's) */
	bool no_discard; /* VFIO maps guest RAM for DMA: a page dropped here would stay mapped */

	/* The worker's own; reset by activate(). */
	bool stats_held; /* the driver's statistics buffer, kept until the next poll */
	u16 stats_head;

	/* Shared with the control API, under lock. */
	pthread_mutex_t lock;
	u32 stats_interval_s;
	u32 stats_valid;
	u64 stats[BALLOON_STAT_TAGS];
	u64 inflated, deflated, bad_pfns; /* pages, since creation */

	struct dev_worker worker;
	int timer_fd; /* the statistics poll, every stats_interval_s */
	struct vq_chain *chain;
};

/* Fills b for o: config, features, lock, fds. 0 or -errno; cleanup() undoes it. */
int virtio_balloon_init(struct virtio_balloon *b, const struct balloon_options *o);
void virtio_balloon_cleanup(struct virtio_balloon *b);
/* start() and stop() without the thread: fresh flags; stop returns the statistics buffer. */
void virtio_balloon_activate(struct virtio_balloon *b);
void virtio_balloon_deactivate(struct virtio_balloon *b);
/*
 * Serves the inflate or deflate queue q: inflated pages are given back to the host.
 * True when a round ended with buffers left (serve again after other work).
 */
bool virtio_balloon_pages(struct virtio_balloon *b, unsigned int q);
/* Takes the statistics the driver queued and keeps its buffer for the next poll. */
void virtio_balloon_stats_in(struct virtio_balloon *b);
/* Returns the kept statistics buffer: the driver refills it and queues it again. */
void virtio_balloon_stats_poll(struct virtio_balloon *b);
/* The driver's config write: only "actual" is writable. */
void virtio_balloon_config_write(struct virtio_dev *vdev, u32 offset, const u8 *data, u32 len);

/*
 * For the control API, on a running VM (any thread): the balloon device or NULL, a new
 * target (config change interrupt), a new statistics interval (0 < s; the queue exists
 * only when the device was created with statistics), and a copy of the state.
 */
struct virtio_balloon *virtio_balloon_find(struct vm *vm);
void virtio_balloon_set_target(struct virtio_balloon *b, u32 amount_mib);
int virtio_balloon_set_interval(struct virtio_balloon *b, u32 seconds);
void virtio_balloon_info(struct virtio_balloon *b, struct balloon_info *info);

#endif
