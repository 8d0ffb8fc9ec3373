// SPDX-License-Identifier: GPL-2.0-only
/*
 * bare_kvm_run: the reference "bare KVM_RUN loop" of tools/bench/exits.
 *
 * It runs a multiboot v1 ELF32 image (tools/bench/exitloop.elf) with the least
 * work a VMM can do: one VM, one vCPU, the in-kernel irqchip, guest RAM from 0,
 * the image's PT_LOAD segments copied to their physical addresses, and the vCPU
 * entered at e_entry in flat 32-bit protected mode with EAX = 0x2badb002 and
 * EBX = a minimal multiboot information block. The exit loop only:
 *   - writes bytes sent to port 0x3f8 (COM1 THR) to stdout,
 *   - exits with status (V << 1) | 1 when the guest writes V to port 0xf4,
 *     as QEMU's isa-debug-exit and kvmbox --debug-exit do,
 *   - ignores every other access; reads return all ones.
 * Whatever the guest measures under it is the cost of a KVM exit to user space
 * and back, with no device model in between.
 *
 * usage: bare_kvm_run [-m MiB] IMAGE [GUEST ARGS...]
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MB_BOOT_MAGIC	0x2badb002u
#define MB_INFO_MEMORY	(1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP	(1u << 6)
#define MBI_GPA		0x9000u /* info block, its memory map and the command line */
#define MBI_CMDLINE_MAX 1024u
#define TSS_GPA		0xfffbd000u /* three pages KVM wants out of the way on Intel */
#define PORT_COM1_THR	0x3f8
#define PORT_DEBUG_EXIT 0xf4
#define LOW_MEM_END	0x9fc00u /* 639 KiB of conventional memory */
#define HIGH_MEM_START	0x100000u

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mmap_entry {
	uint32_t size; /* of the rest of the entry: 20 */
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bare_kvm_run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *name)
{
	int ret = ioctl(fd, req, arg);

	if (ret < 0)
		die("%s: %s", name, strerror(errno));
	return ret;
}

/* Copies the PT_LOAD segments of an ELF32 image into guest RAM; returns e_entry. */
static uint32_t load_elf32(const char *path, uint8_t *ram, uint64_t ram_size)
{
	struct stat st;
	Elf32_Ehdr eh;
	uint8_t *file;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	if ((size_t)st.st_size < sizeof(eh))
		die("%s: too small for an ELF image", path);
	file = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (file == MAP_FAILED)
		die("%s: mmap: %s", path, strerror(errno));
	close(fd);
	memcpy(&eh, file, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS32 ||
	    eh.e_machine != EM_386 || eh.e_phentsize != sizeof(Elf32_Phdr))
		die("%s: not an i386 ELF32 image", path);
	if ((uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf32_Phdr) > (uint64_t)st.st_size)
		die("%s: program headers beyond the end of the file", path);
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph;

		memcpy(&ph, file + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz ||
		    (uint64_t)ph.p_offset + ph.p_filesz > (uint64_t)st.st_size ||
		    (uint64_t)ph.p_paddr + ph.p_memsz > ram_size || ph.p_paddr < HIGH_MEM_START)
			die("%s: segment %u does not fit in guest RAM above 1 MiB", path, i);
		memcpy(ram + ph.p_paddr, file + ph.p_offset, ph.p_filesz);
		memset(ram + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	munmap(file, st.st_size);
	return eh.e_entry;
}

/* The multiboot information block: memory sizes, command line, a two-entry map. */
static void build_mbi(uint8_t *ram, uint64_t ram_size, char **args, int nargs, const char *image)
{
	struct mb_info mbi = {0};
	struct mb_mmap_entry map[2] = {
		{20, 0, LOW_MEM_END, 1},
		{20, HIGH_MEM_START, ram_size - HIGH_MEM_START, 1},
	};
	uint32_t map_gpa = MBI_GPA + sizeof(mbi), cmd_gpa = map_gpa + sizeof(map);
	char *cmd = (char *)ram + cmd_gpa;
	const char *base = strrchr(image, '/');
	size_t used;

	used = (size_t)snprintf(cmd, MBI_CMDLINE_MAX, "%s", base ? base + 1 : image);
	for (int i = 0; i < nargs && used < MBI_CMDLINE_MAX; i++)
		used += (size_t)snprintf(cmd + used, MBI_CMDLINE_MAX - used, " %s", args[i]);
	if (used >= MBI_CMDLINE_MAX)
		die("guest command line longer than %u bytes", MBI_CMDLINE_MAX - 1);
	mbi.flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MMAP;
	mbi.mem_lower = LOW_MEM_END / 1024;
	mbi.mem_upper = (uint32_t)((ram_size - HIGH_MEM_START) / 1024);
	mbi.cmdline = cmd_gpa;
	mbi.mmap_length = sizeof(map);
	mbi.mmap_addr = map_gpa;
	memcpy(ram + MBI_GPA, &mbi, sizeof(mbi));
	memcpy(ram + map_gpa, map, sizeof(map));
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = 1,
		.s = 1,
		.l = 0,
		.g = 1,
	};
}

static void setup_vcpu(int kvm_fd, int vcpu_fd, uint32_t entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {0};
	struct kvm_cpuid2 *cpuid;
	unsigned int nent = 256;

	/* The CPUID KVM supports, as any VMM would set it; nothing is tuned. */
	cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
	if (!cpuid)
		die("out of memory");
	cpuid->nent = nent;
	xioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid, "KVM_GET_SUPPORTED_CPUID");
	xioctl(vcpu_fd, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
	free(cpuid);

	xioctl(vcpu_fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	flat_segment(&sregs.cs, 0x08, 0xb); /* code, execute/read, accessed */
	flat_segment(&sregs.ds, 0x10, 0x3); /* data, read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr0 = 0x11; /* PE, ET; no paging */
	sregs.cr4 = 0;
	sregs.efer = 0;
	xioctl(vcpu_fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");

	regs.rip = entry;
	regs.rax = MB_BOOT_MAGIC;
	regs.rbx = MBI_GPA;
	regs.rflags = 0x2;
	xioctl(vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

/* Buffered guest console: one write() per line keeps the exit loop short. */
static char out_buf[4096];
static size_t out_len;

static void out_flush(void)
{
	size_t done = 0;

	while (done < out_len) {
		ssize_t n = write(STDOUT_FILENO, out_buf + done, out_len - done);

		if (n <= 0 && errno != EINTR)
			break;
		if (n > 0)
			done += (size_t)n;
	}
	out_len = 0;
}

static void out_byte(uint8_t c)
{
	out_buf[out_len++] = (char)c;
	if (c == '\n' || out_len == sizeof(out_buf))
		out_flush();
}

int main(int argc, char **argv)
{
	uint64_t ram_size = 64ull << 20;
	struct kvm_userspace_memory_region region;
	struct kvm_run *run;
	int kvm_fd, vm_fd, vcpu_fd, run_size, argi = 1;
	uint8_t *ram;
	uint32_t entry;

	if (argc > 2 && !strcmp(argv[1], "-m")) {
		char *end;
		unsigned long mib = strtoul(argv[2], &end, 0);

		if (*end || mib < 2 || mib > 3072)
			die("-m wants MiB between 2 and 3072, not '%s'", argv[2]);
		ram_size = (uint64_t)mib << 20;
		argi = 3;
	}
	if (argi >= argc || argv[argi][0] == '-') {
		fprintf(stderr, "usage: bare_kvm_run [-m MiB] IMAGE [GUEST ARGS...]\n");
		return 2;
	}

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		die("/dev/kvm: %s", strerror(errno));
	vm_fd = xioctl(kvm_fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	xioctl(vm_fd, KVM_SET_TSS_ADDR, (void *)(unsigned long)TSS_GPA, "KVM_SET_TSS_ADDR");
	xioctl(vm_fd, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP");

	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		die("guest RAM: %s", strerror(errno));
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = ram_size,
		.userspace_addr = (uint64_t)(uintptr_t)ram,
	};
	xioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");

	entry = load_elf32(argv[argi], ram, ram_size);
	build_mbi(ram, ram_size, argv + argi + 1, argc - argi - 1, argv[argi]);

	vcpu_fd = xioctl(vm_fd, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
	run_size = xioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL, "KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (run == MAP_FAILED)
		die("kvm_run: %s", strerror(errno));
	setup_vcpu(kvm_fd, vcpu_fd, entry);

	for (;;) {
		if (ioctl(vcpu_fd, KVM_RUN, NULL) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN: %s", strerror(errno));
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;

			if (run->io.direction == KVM_EXIT_IO_OUT) {
				if (run->io.port == PORT_COM1_THR) {
					for (uint32_t i = 0; i < run->io.count; i++)
						out_byte(data[i * run->io.size]);
				} else if (run->io.port == PORT_DEBUG_EXIT) {
					out_flush();
					return (data[0] << 1) | 1;
				}
			} else {
				memset(data, 0xff, (size_t)run->io.size * run->io.count);
			}
			break;
		}
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, run->mmio.len);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_HLT:
		case KVM_EXIT_SHUTDOWN:
			out_flush();
			fprintf(stderr, "bare_kvm_run: guest %s\n",
				run->exit_reason == KVM_EXIT_HLT ? "halted" : "triple-faulted");
			return 0;
		default:
			out_flush();
			die("unexpected exit reason %u", run->exit_reason);
		}
	}
}
