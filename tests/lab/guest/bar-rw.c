// SPDX-License-Identifier: GPL-2.0-only
/*
 * bar-rw [-4] RESOURCE OFFSET [VALUE]: reads (or writes VALUE to) the byte (-4: the
 * aligned 32-bit word) at OFFSET of a PCI BAR through an mmap of its sysfs resource file,
 * and prints what it reads (after a write, read back) in hex. For registers no driver
 * owns: edu's ID register, a virtio device's status.
 * bar-rw -t N RESOURCE OFFSET: times N 32-bit reads there (tools/bench/vfio) and prints
 * `reads=N ns_per_read=X`.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile uint8_t *map_page(const char *path)
{
	void *p;
	int fd = open(path, O_RDWR | O_SYNC);

	if (fd < 0) {
		perror(path);
		exit(1);
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* -t N RESOURCE OFFSET: N timed reads of the aligned word at OFFSET. */
static int time_reads(int argc, char **argv)
{
	unsigned long n, off;
	volatile uint32_t *w;
	double t0;

	if (argc != 5)
		return 2;
	n = strtoul(argv[2], NULL, 0);
	off = strtoul(argv[4], NULL, 0);
	if (!n || off >= 4096 || (off & 3))
		return 2;
	w = (volatile uint32_t *)(map_page(argv[3]) + off);
	t0 = now_ns();
	for (unsigned long i = 0; i < n; i++)
		(void)*w;
	printf("reads=%lu ns_per_read=%.0f\n", n, (now_ns() - t0) / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	int wide = argc > 1 && !strcmp(argv[1], "-4");
	volatile uint8_t *regs;
	unsigned long off;

	if (argc > 1 && !strcmp(argv[1], "-t")) {
		if (time_reads(argc, argv) == 2) {
			fprintf(stderr, "usage: bar-rw -t N RESOURCE OFFSET\n");
			return 2;
		}
		return 0;
	}
	argv += wide;
	argc -= wide;
	if (argc != 3 && argc != 4) {
		fprintf(stderr,
			"usage: bar-rw [-4] /sys/bus/pci/devices/ADDR/resourceN OFFSET [VALUE]\n");
		return 2;
	}
	off = strtoul(argv[2], NULL, 0);
	if (off >= 4096 || (wide && (off & 3))) {
		fprintf(stderr, "bar-rw: OFFSET must be in the first page (aligned for -4)\n");
		return 2;
	}
	regs = map_page(argv[1]);
	if (wide) {
		volatile uint32_t *w = (volatile uint32_t *)(regs + off);

		if (argc == 4)
			*w = (uint32_t)strtoul(argv[3], NULL, 0);
		printf("0x%08x\n", *w);
		return 0;
	}
	if (argc == 4)
		regs[off] = (uint8_t)strtoul(argv[3], NULL, 0);
	printf("0x%02x\n", regs[off]);
	return 0;
}
