// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "exit_stats.h"

#define EXIT_STATS_TOP 10

static void count_mmio_page(struct exit_stats *s, u64 page, u64 n)
{
	/* Open addressing over a fixed table: bounded work per exit. */
	for (unsigned int i = 0; i < EXIT_STATS_MMIO_PAGES; i++) {
		unsigned int slot = (unsigned int)((page / 4096 + i) % EXIT_STATS_MMIO_PAGES);

		if (s->mmio[slot].count == 0 || s->mmio[slot].page == page) {
			s->mmio[slot].page = page;
			s->mmio[slot].count += n;
			return;
		}
	}
	s->mmio_unsorted += n;
}

void exit_stats_count(struct exit_stats *s, const struct kvm_run *run)
{
	u32 reason = run->exit_reason;

	s->reasons[reason < EXIT_STATS_REASONS ? reason : 0]++;
	if (reason == KVM_EXIT_IO)
		s->pio[run->io.port]++;
	else if (reason == KVM_EXIT_MMIO)
		count_mmio_page(s, run->mmio.phys_addr & ~0xfffULL, 1);
}

void exit_stats_add(struct exit_stats *dst, const struct exit_stats *src)
{
	for (unsigned int i = 0; i < EXIT_STATS_REASONS; i++)
		dst->reasons[i] += src->reasons[i];
	for (unsigned int i = 0; i < ARRAY_SIZE(src->pio); i++)
		dst->pio[i] += src->pio[i];
	for (unsigned int i = 0; i < EXIT_STATS_MMIO_PAGES; i++) {
		if (src->mmio[i].count)
			count_mmio_page(dst, src->mmio[i].page, src->mmio[i].count);
	}
	dst->mmio_unsorted += src->mmio_unsorted;
}

/* Index of the largest count not yet printed (marked in done). */
static int next_largest(const u64 *counts, unsigned int n, const bool *done)
{
	int best = -1;

	for (unsigned int i = 0; i < n; i++) {
		if (counts[i] && !done[i] && (best < 0 || counts[i] > counts[best]))
			best = (int)i;
	}
	return best;
}

static void print_top_ports(const struct exit_stats *s, FILE *out)
{
	static bool done[65536];

	memset(done, 0, sizeof(done));
	for (int k = 0; k < EXIT_STATS_TOP; k++) {
		int port = next_largest(s->pio, ARRAY_SIZE(s->pio), done);

		if (port < 0)
			break;
		done[port] = true;
		fprintf(out, "kvmbox: stats:   port 0x%04x %llu\n", port,
			(unsigned long long)s->pio[port]);
	}
}

static void print_top_pages(const struct exit_stats *s, FILE *out)
{
	u64 counts[EXIT_STATS_MMIO_PAGES];
	bool done[EXIT_STATS_MMIO_PAGES] = {false};

	for (unsigned int i = 0; i < EXIT_STATS_MMIO_PAGES; i++)
		counts[i] = s->mmio[i].count;
	for (int k = 0; k < EXIT_STATS_TOP; k++) {
		int i = next_largest(counts, EXIT_STATS_MMIO_PAGES, done);

		if (i < 0)
			break;
		done[i] = true;
		fprintf(out, "kvmbox: stats:   mmio page 0x%llx %llu\n",
			(unsigned long long)s->mmio[i].page, (unsigned long long)counts[i]);
	}
}

void exit_stats_print(const struct exit_stats *s, FILE *out)
{
	u64 total = 0;

	for (unsigned int i = 0; i < EXIT_STATS_REASONS; i++)
		total += s->reasons[i];
	fprintf(out, "kvmbox: stats: %llu exits to userspace\n", (unsigned long long)total);
	for (unsigned int i = 0; i < EXIT_STATS_REASONS; i++) {
		if (s->reasons[i])
			fprintf(out, "kvmbox: stats:   reason %u: %llu\n", i,
				(unsigned long long)s->reasons[i]);
	}
	print_top_ports(s, out);
	print_top_pages(s, out);
}
