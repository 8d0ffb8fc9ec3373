// SPDX-License-Identifier: GPL-2.0-only
/* edu-id RESOURCE0: prints the edu device's ID register (offset 0) read through an mmap. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	volatile uint32_t *regs;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: edu-id /sys/bus/pci/devices/ADDR/resource0\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_SYNC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	regs = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (regs == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	printf("0x%08x\n", regs[0]);
	return 0;
}
