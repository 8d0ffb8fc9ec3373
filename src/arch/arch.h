/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_ARCH_H
#define KVMBOX_ARCH_ARCH_H

#include "../devices/device.h"
#include "../util/types.h"

struct vm;
struct vcpu;
struct vm_config;

/* How the boot vCPU enters the guest image the loader placed in memory. */
struct boot_entry {
	enum { BOOT_ENTRY_LONG64, BOOT_ENTRY_PROT32 } mode;
	u64 rip;
	u64 rsi;      /* Linux 64-bit boot protocol: the zero page */
	u32 eax, ebx; /* multiboot: magic and info pointer */
};

/* The part of the guest address space below this is RAM; above, up to 4 GiB, is MMIO. */
u64 arch_mmio_hole_start(void);
/* The highest guest physical address this host can map (from CPUID), for --memory checks. */
u64 arch_max_gpa(void);
/*
 * Checks what the architecture takes from cfg that needs no KVM: the guest's files and
 * their format, option syntax. Runs before /dev/kvm is opened, so a typo is exit status 2
 * on any host. Returns 0, or -EXIT_BAD_INPUT after saying why.
 */
int arch_check_config(const struct vm_config *cfg);
/* In-kernel irqchip, timer and whatever else the VM needs before devices exist. */
int arch_vm_init(struct vm *vm);
void arch_vm_destroy(struct vm *vm);
/* The board's devices, in realize order, NULL-terminated. */
extern const struct device_ops *const arch_board_devices[];
/* Loads kernel/initrd/cmdline and firmware tables; returns 0 or -exit code. */
int arch_load_guest(struct vm *vm, struct boot_entry *entry);
/* Per-vCPU setup: CPUID, MSRs, FPU, LAPIC; the boot vCPU also gets the entry registers. */
int arch_vcpu_init(struct vcpu *vcpu, const struct boot_entry *entry);
/* Prints the registers of a vCPU, for exits kvmbox cannot handle. */
void arch_vcpu_dump(struct vcpu *vcpu);

#endif
