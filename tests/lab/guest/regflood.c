// SPDX-License-Identifier: GPL-2.0-only
/*
 * regflood: random writes of random widths, from one thread per CPU but CPU 0, to the
 * registers kvmbox emulates, while a stock Linux guest keeps using its other devices
 * (tests/lab/guest/regflood.sh reads and writes virtio-blk on CPU 0 meanwhile).
 *
 *   regflood WRITES BDF
 *
 * Targets: the port-I/O devices (COM2, CMOS RTC, i8042, fw_cfg, ACPI PM), the PCI
 * configuration space of function BDF (through sysfs, so the kernel's own accesses are
 * not raced) and its BAR 4 (virtio-pci's capabilities, mapped from sysfs).
 *
 * Left out or tamed, because they are the guest's own business and would end or corrupt
 * the guest rather than test kvmbox: COM1 (the console); writes that reset or power off
 * the VM (SLP_EN, the ACPI reset value, i8042 output-port writes and reset pulses); BARs,
 * the ROM BAR, MSI-X and the virtio configuration-access capability in config space (a
 * moved BAR or a random MSI lands on the guest); the MSI-X table; device_status and the
 * ring addresses in the common configuration (a reset device left with random rings
 * would DMA into random guest RAM). The same choices as guest/tests/flood.c.
 *
 * Prints `regflood: N writes from M threads` or what failed; exit 0 on success.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <sys/io.h>
#endif

#include "flood_regs.h"

#define MAX_THREADS 16
#define BAR_SIZE    0x4000 /* common, ISR, device, notify: kvmbox's virtio-pci BAR 4 */
#define CFG_DWORDS  64

static unsigned long writes_per_thread;
static int cfg_fd = -1;
static volatile uint8_t *bar;
static uint64_t cfg_allowed; /* bit n: config dword n may be written */
static unsigned long done[MAX_THREADS];

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#if defined(__x86_64__)
static void flood_port(uint64_t *seed)
{
	const struct flood_region *r;
	int width = 1 << (xorshift(seed) % 3);
	uint32_t port, v;

	do /* COM1 is the console */
		r = &flood_ports[xorshift(seed) % (sizeof(flood_ports) / sizeof(flood_ports[0]))];
	while (r->console);
	if ((uint32_t)width > r->len)
		width = 1;
	port = r->base + xorshift(seed) % (r->len - width + 1);
	v = flood_tame(port, width, (uint32_t)xorshift(seed));
	if (width == 1)
		outb((uint8_t)v, port);
	else if (width == 2)
		outw((uint16_t)v, port);
	else
		outl(v, port);
}
#endif

static void flood_config(uint64_t *seed)
{
	uint32_t dw = xorshift(seed) % CFG_DWORDS, v = (uint32_t)xorshift(seed);
	int width = 1 << (xorshift(seed) % 3);
	uint32_t off = (xorshift(seed) % 4) & ~(uint32_t)(width - 1);

	if (!(cfg_allowed >> dw & 1))
		return;
	if (pwrite(cfg_fd, &v, width, dw * 4 + off) < 0 && errno != EINVAL)
		perror("regflood: config write");
}

/* Common configuration: device_status (0x14) and the ring addresses (0x20-0x37) stay. */
static int bar_offset_allowed(uint64_t off, int width)
{
	if (off < 0x38 && off + width > 0x20)
		return 0;
	return !(off <= 0x14 && off + width > 0x14);
}

static void flood_bar(uint64_t *seed)
{
	int width = 1 << (xorshift(seed) % 3);
	uint64_t off = (xorshift(seed) % BAR_SIZE) & ~(uint64_t)(width - 1);
	uint32_t v = (uint32_t)xorshift(seed);

	if (!bar_offset_allowed(off, width))
		return;
	if (width == 1)
		*(volatile uint8_t *)(bar + off) = (uint8_t)v;
	else if (width == 2)
		*(volatile uint16_t *)(bar + off) = (uint16_t)v;
	else
		*(volatile uint32_t *)(bar + off) = v;
}

static void *flood(void *arg)
{
	long cpu = (long)arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(cpu + 1) ^ (uint64_t)getpid();
	/* The raw call: the arm64 build's forced includes come before _GNU_SOURCE. */
	unsigned long mask = 1UL << cpu;

	syscall(SYS_sched_setaffinity, 0, sizeof(mask), &mask);
	for (unsigned long i = 0; i < writes_per_thread; i++) {
		switch (xorshift(&seed) % 3) {
		case 0:
#if defined(__x86_64__)
			flood_port(&seed);
			break;
#endif
		case 1:
			flood_config(&seed);
			break;
		default:
			flood_bar(&seed);
		}
		done[cpu]++;
	}
	return NULL;
}

static uint8_t cfg_byte(unsigned int off)
{
	uint8_t b = 0;

	if (pread(cfg_fd, &b, 1, off) != 1)
		return 0;
	return b;
}

/* Every dword but the BARs, the ROM BAR, MSI-X and virtio's configuration window. */
static void plan_config(void)
{
	unsigned int cap = cfg_byte(0x34) & 0xfc;
	int n = 0;

	cfg_allowed = ~0ULL & ~(0x3fULL << 4) & ~(1ULL << 12);
	for (; cap && n < 48; cap = cfg_byte(cap + 1) & 0xfc, n++) {
		if (cfg_byte(cap) == 0x11) /* MSI-X */
			cfg_allowed &= ~(1ULL << (cap / 4));
		if (cfg_byte(cap) == 0x09 && cfg_byte(cap + 3) == 5) /* VIRTIO_PCI_CAP_PCI_CFG */
			cfg_allowed &= ~(0x1fULL << (cap / 4));
	}
}

static int open_device(const char *bdf)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	cfg_fd = open(path, O_RDWR);
	if (cfg_fd < 0) {
		printf("regflood: %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource4", bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		printf("regflood: %s: %s\n", path, strerror(errno));
		return -1;
	}
	bar = mmap(NULL, BAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (bar == MAP_FAILED) {
		printf("regflood: mmap of BAR 4: %s\n", strerror(errno));
		return -1;
	}
	plan_config();
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t threads[MAX_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN), cpu;
	unsigned long total = 0;

	if (argc != 3) {
		printf("usage: regflood WRITES BDF\n");
		return 2;
	}
	writes_per_thread = strtoul(argv[1], NULL, 0);
#if defined(__x86_64__)
	if (iopl(3) < 0) {
		printf("regflood: iopl: %s\n", strerror(errno));
		return 1;
	}
#endif
	if (cpus < 2 || cpus > MAX_THREADS) {
		printf("regflood: %ld CPUs, needs 2 to %d\n", cpus, MAX_THREADS);
		return 1;
	}
	if (open_device(argv[2]) < 0)
		return 1;
	for (cpu = 1; cpu < cpus; cpu++)
		if (pthread_create(&threads[cpu], NULL, flood, (void *)cpu)) {
			printf("regflood: cannot start thread %ld\n", cpu);
			return 1;
		}
	for (cpu = 1; cpu < cpus; cpu++) {
		pthread_join(threads[cpu], NULL);
		total += done[cpu];
	}
	printf("regflood: %lu writes from %ld threads\n", total, cpus - 1);
	return 0;
}
