// SPDX-License-Identifier: GPL-2.0-only
/*
 * pmu-count: counts the user-mode cycles of a known loop with perf_event_open() on a
 * hardware event, which only a PMU the guest was given can count (without one the
 * kernel has no such event: ENOENT), while a second cycle counter with a short sample
 * period overflows over and over: each overflow is the PMU's interrupt. Instructions
 * are counted where the PMU has that event (QEMU's TCG, under the lab's L1, has it only
 * with icount). Prints `cycles=N instructions=N|none` or what failed.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOOPS 20000000UL

static int open_cycles(uint64_t config, uint64_t period)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = config;
	a.sample_period = period;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static int read_count(int fd, uint64_t *v)
{
	return read(fd, v, sizeof(*v)) == sizeof(*v) ? 0 : -1;
}

int main(void)
{
	uint64_t cycles = 0, insns = 0;
	int fd_cycles, fd_sampler, fd_insns;

	fd_cycles = open_cycles(PERF_COUNT_HW_CPU_CYCLES, 0);
	fd_sampler = open_cycles(PERF_COUNT_HW_CPU_CYCLES, 100000);
	if (fd_cycles < 0 || fd_sampler < 0) {
		printf("perf_event_open(cycles): %s\n", strerror(errno));
		return 1;
	}
	fd_insns = open_cycles(PERF_COUNT_HW_INSTRUCTIONS, 0);
	for (volatile unsigned long i = 0; i < LOOPS; i++)
		;
	if (read_count(fd_cycles, &cycles) || (fd_insns >= 0 && read_count(fd_insns, &insns))) {
		printf("reading the counters failed\n");
		return 1;
	}
	if (fd_insns >= 0)
		printf("cycles=%llu instructions=%llu\n", (unsigned long long)cycles,
		       (unsigned long long)insns);
	else
		printf("cycles=%llu instructions=none\n", (unsigned long long)cycles);
	return 0;
}
