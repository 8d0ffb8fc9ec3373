/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_EXIT_STATS_H
#define KVMBOX_EXIT_STATS_H

#include <linux/kvm.h>
#include <stdio.h>

#include "util/types.h"

#define EXIT_STATS_REASONS    64
#define EXIT_STATS_MMIO_PAGES 256

/*
 * Counts of a vCPU's exits by reason, port and MMIO page (--stats): what to look at
 * first when a guest boots slowly, since every exit to userspace is expensive.
 * One per vCPU, written only by its thread, so no locking.
 */
struct exit_stats {
	u64 reasons[EXIT_STATS_REASONS];
	u64 pio[65536];
	struct {
		u64 page;
		u64 count;
	} mmio[EXIT_STATS_MMIO_PAGES];
	u64 mmio_unsorted; /* exits to pages that did not fit the table */
};

void exit_stats_count(struct exit_stats *s, const struct kvm_run *run);
/* Adds src into dst (for a VM-wide total). */
void exit_stats_add(struct exit_stats *dst, const struct exit_stats *src);
/* Prints the totals and the busiest ports and pages. */
void exit_stats_print(const struct exit_stats *s, FILE *out);

#endif
