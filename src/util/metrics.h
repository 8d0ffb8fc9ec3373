/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_UTIL_METRICS_H
#define KVMBOX_UTIL_METRICS_H

#include <pthread.h>
#include <stdatomic.h>

#include "types.h"

/*
 * Counters for the control API's metrics (PUT /metrics, FlushMetrics, and every 60 s),
 * in Firecracker's shape: one JSON object per line, with a group per device kind
 * ("block", "net", "vcpu") summing its devices, and one object per named device
 * ("block_rootfs"). Each value is what happened since the previous line, as Firecracker's
 * incremental metrics are.
 *
 * A device owns a metrics_set and bumps its counters from any thread with metrics_add()
 * (relaxed atomics: a count may land in the next line, never get lost); the registry
 * and the line belong to the API thread.
 */
#define METRICS_ID_MAX 80 /* "block_" and an API ID of up to 64 */

struct metrics_set {
	const char *group;	   /* "block" */
	char name[METRICS_ID_MAX]; /* "block_rootfs"; "" when only the group shows it */
	const char *const *names;  /* the counters' names, n of them */
	unsigned int n;
	_Atomic u64 *count;
	u64 *reported; /* the values in the last line */
	struct metrics_set *next;
};

struct metrics_registry {
	pthread_mutex_t lock;
	struct metrics_set *head;
};

void metrics_registry_init(struct metrics_registry *r);
/*
 * Allocates set's counters; name may be NULL or "" (no object of its own). -ENOMEM, or
 * -EINVAL for a name with characters other than [A-Za-z0-9_.-] or longer than the limit.
 */
int metrics_set_init(struct metrics_set *set, const char *group, const char *id,
		     const char *const *names, unsigned int n);
void metrics_set_fini(struct metrics_set *set);
void metrics_register(struct metrics_registry *r, struct metrics_set *set);
void metrics_unregister(struct metrics_registry *r, struct metrics_set *set);

static inline void metrics_add(struct metrics_set *set, unsigned int i, u64 v)
{
	if (set && set->count && i < set->n)
		atomic_fetch_add_explicit(&set->count[i], v, memory_order_relaxed);
}

/*
 * One line, newline-terminated, malloc'd: {"utc_timestamp_ms": T, "block": {...},
 * "block_rootfs": {...}, ...}, every counter as its increase since the last line.
 * NULL when out of memory.
 */
char *metrics_line(struct metrics_registry *r, u64 utc_ms);

#endif
