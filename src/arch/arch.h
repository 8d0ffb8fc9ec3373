/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_ARCH_H
#define KVMBOX_ARCH_ARCH_H

#include "../devices/device.h"
#include "../util/types.h"

struct vm;
struct vcpu;
struct vm_config;

#if defined(__aarch64__)
#include "arm64/boot_entry.h"
#else
#include "x86/boot_entry.h"
#endif

struct guest_memory;

/* Where the board puts guest RAM: fills mem's regions for ram_size bytes (pure). 0 or -EINVAL. */
int arch_memory_layout(struct guest_memory *mem, u64 ram_size);
/* The highest guest physical address this host can map, for --memory checks. */
u64 arch_max_gpa(void);
/*
 * The board's PCI host bridge: its BAR window, and ECAM (size 0: PC configuration ports).
 * I/O BARs (port space; io_size 0: the board has none, they are hidden): kvmbox gives
 * them ports from [io_base, io_base + io_size), and a guest may move one anywhere in
 * [io_min, io_base + io_size), the ports the firmware tables give the bridge.
 */
struct arch_pci_layout {
	u64 mmio_base, mmio_size;
	u64 ecam_base, ecam_size;
	u64 io_base, io_size, io_min;
};
extern const struct arch_pci_layout arch_pci_layout;
/* True if [addr, addr + size) meets a fixed range of the board (an irqchip, say): no BARs there. */
bool arch_range_reserved(u64 addr, u64 size);
/*
 * Fills entries (struct kvm_irq_routing_entry, room for IRQ_CHIP_ROUTES_MAX) with the routes
 * to the in-kernel irqchip that every GSI routing table keeps. Returns how many.
 */
#define IRQ_CHIP_ROUTES_MAX 48
unsigned int arch_irq_chip_routes(void *entries);
/* The number KVM_IRQ_LINE takes for the board's wired interrupt line (see irq_line.h). */
u32 arch_irq_line_kvm(u32 line);
/*
 * Checks what the architecture takes from cfg that needs no KVM: the guest's files and
 * their format, option syntax. Runs before /dev/kvm is opened, so a typo is exit status 2
 * on any host. Returns 0, or -EXIT_BAD_INPUT after saying why.
 */
int arch_check_config(const struct vm_config *cfg);
/* False where the board has no SMT to describe: machine-config's smt: true is then refused. */
bool arch_supports_smt(void);
/* In-kernel irqchip, timer and whatever else the VM needs before devices exist. */
int arch_vm_init(struct vm *vm);
/* After every vCPU exists, before the devices (the arm64 GIC is initialised here). */
int arch_vm_finalize(struct vm *vm);
void arch_vm_destroy(struct vm *vm);
/* The board's devices, in realize order, NULL-terminated. */
extern const struct device_ops *const arch_board_devices[];
/* Loads kernel/initrd/cmdline and firmware tables; returns 0 or -exit code. */
int arch_load_guest(struct vm *vm, struct boot_entry *entry);
/* Per-vCPU setup right after KVM_CREATE_VCPU: CPUID, MSRs, FPU, LAPIC; KVM_ARM_VCPU_INIT. */
int arch_vcpu_init(struct vcpu *vcpu);
/* The boot vCPU's registers at the entry the loader chose. */
int arch_vcpu_set_entry(struct vcpu *vcpu, const struct boot_entry *entry);
/* Prints the registers of a vCPU, for exits kvmbox cannot handle. */
void arch_vcpu_dump(struct vcpu *vcpu);
/*
 * The control API's SendCtrlAltDel: the board's way to make the machine reset as the
 * keyboard controller's reset line does. 0, or -EOPNOTSUPP where the board has none.
 */
int arch_ctrl_alt_del(struct vm *vm);
/*
 * Snapshots: the state KVM holds for a vCPU and for the VM, appended to sb as a section
 * each, with the VM paused. 0 or -errno (said in a line); -EOPNOTSUPP where the
 * architecture has no snapshots yet.
 */
struct snap_buf;
int arch_vcpu_save(struct vcpu *vcpu, struct snap_buf *sb);
int arch_vm_save(struct vm *vm, struct snap_buf *sb);
/*
 * Puts back what the save hooks wrote, from an untrusted section: the VM's first, then
 * each vCPU's, before any vCPU runs. 0 or -errno (said in a line).
 */
int arch_vm_load(struct vm *vm, struct snap_buf *sb);
int arch_vcpu_load(struct vcpu *vcpu, struct snap_buf *sb);

#endif
