/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_CONFIG_H
#define KVMBOX_CONFIG_H

#include "sandbox/sandbox.h"
#include "util/types.h"

#define VM_MAX_CPUS	  64
#define VM_MAX_DISKS	  8
#define VM_MAX_NICS	  4
#define VM_MAX_VFIO	  4
#define VM_MIN_MEMORY	  (16 * MiB)
#define VM_DEFAULT_MEMORY (256 * MiB)
#if defined(__aarch64__)
#define VM_DEFAULT_CMDLINE "console=ttyAMA0"
#define VM_KERNEL_FORMATS  "an arm64 Image, or Debian's gzip'd vmlinuz"
#else
#define VM_DEFAULT_CMDLINE "console=ttyS0"
#define VM_KERNEL_FORMATS  "x86-64 bzImage, or a multiboot ELF32 image"
#endif

enum on_reboot { ON_REBOOT_EXIT, ON_REBOOT_RESTART };

/* Everything the command line asks for; filled by main.c, read by the VM. */
struct uffd_conn;

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	unsigned int cpus;
	unsigned int threads_per_core; /* 2 with the API's smt: true, else 1 (or 0) */
	u64 memory;
	bool debug_exit;
	enum on_reboot on_reboot;
	const char *cpu_features;  /* e.g. "-pcid,+invpcid", applied to CPUID */
	bool stats;		   /* print exit counts when the VM stops */
	bool pc_testdev;	   /* QEMU's test device, for kvm-unit-tests */
	const char *dump_dtb;	   /* arm64: where to write the guest's device tree */
	const char *firmware;	   /* arm64: a UEFI image to boot instead of a kernel */
	const char *flash;	   /* arm64: the firmware's variable store (a file) */
	enum sandbox_mode seccomp; /* --seccomp: the per-thread system call filters */
	/*
	 * A snapshot's memory file (PUT /snapshot/load): guest RAM is mapped from it and
	 * no boot image is loaded; the snapshot's state is put back after vm_create().
	 */
	const char *restore_mem;
	/*
	 * The Uffd memory backend instead (restore_mem is then the handler's socket): RAM
	 * is anonymous, registered with this connection's userfaultfd before anything
	 * reads it (snapshot/uffd.h). NULL for the File backend.
	 */
	struct uffd_conn *restore_uffd;
	/*
	 * track_dirty_pages: KVM logs the vCPUs' writes to RAM and kvmbox marks its own,
	 * for Diff snapshots (which write only the pages dirtied since the last snapshot).
	 */
	bool track_dirty_pages;

	/*
	 * Device options as the user wrote them; each device type parses its own
	 * (virtio_blk_parse() and so on) when it is realized, and refuses bad values
	 * with exit status 2 before the guest starts.
	 */
	const char *disks[VM_MAX_DISKS]; /* --disk PATH[,ro][,serial=S][,id=ID][,bw=B][,ops=B] */
	unsigned int nr_disks;
	const char *nics[VM_MAX_NICS]; /* --net tap=IF[,vhost=on][,mac=M] | user[,hostfwd=...] */
	unsigned int nr_nics;
	bool rng;	     /* --rng */
	const char *balloon; /* --balloon [amount_mib=N,...]; "" for the defaults */
	/* --virtio-console[=socket:PATH]; "" is the option without a value: stdio */
	const char *virtio_console;
	const char *vsock;	       /* --vsock cid=N */
	const char *vfio[VM_MAX_VFIO]; /* --vfio SYSFS_PATH of a host PCI device */
	bool vfio_trap[VM_MAX_VFIO];   /* its ,mmap=off: no BAR runs from an mmap */
	unsigned int nr_vfio;
};

/*
 * Parses a size such as "512M", "2G", "1048576", "64K" (suffixes K, M, G, T, with an
 * optional "iB" or "B"; a bare number is bytes). Returns 0, or -EINVAL on malformed input
 * and -ERANGE when the value does not fit in 64 bits.
 */
int parse_size(const char *s, u64 *out);
/* Parses a decimal count in [min, max]. Returns 0, -EINVAL or -ERANGE. */
int parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out);

#endif
