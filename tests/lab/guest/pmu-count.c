// SPDX-License-Identifier: GPL-2.0-only
/*
 * pmu-count: counts the user-mode instructions and cycles of a known loop with
 * perf_event_open() on hardware events, which only a PMU the guest was given can
 * count (without one the kernel has no such events: ENOENT). Prints
 * `instructions=N cycles=N` or what failed.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOOPS 10000000UL

static int open_counter(uint64_t config, int group)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = config;
	a.disabled = group < 0;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, group, 0);
}

int main(void)
{
	uint64_t insns = 0, cycles = 0;
	int lead, second;

	lead = open_counter(PERF_COUNT_HW_INSTRUCTIONS, -1);
	if (lead < 0) {
		printf("perf_event_open(instructions): %s\n", strerror(errno));
		return 1;
	}
	second = open_counter(PERF_COUNT_HW_CPU_CYCLES, lead);
	if (second < 0) {
		printf("perf_event_open(cycles): %s\n", strerror(errno));
		return 1;
	}
	ioctl(lead, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
	ioctl(lead, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
	for (volatile unsigned long i = 0; i < LOOPS; i++)
		;
	ioctl(lead, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
	if (read(lead, &insns, sizeof(insns)) != sizeof(insns) ||
	    read(second, &cycles, sizeof(cycles)) != sizeof(cycles)) {
		printf("reading the counters failed\n");
		return 1;
	}
	printf("instructions=%llu cycles=%llu\n", (unsigned long long)insns,
	       (unsigned long long)cycles);
	return 0;
}
