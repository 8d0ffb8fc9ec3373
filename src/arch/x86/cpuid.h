/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_CPUID_H
#define KVMBOX_ARCH_X86_CPUID_H

#include <linux/kvm.h>

#include "../../util/types.h"

#define CPUID_MAX_ENTRIES 256

struct cpuid_table {
	unsigned int nent;
	struct kvm_cpuid_entry2 entries[CPUID_MAX_ENTRIES];
};

struct kvm_cpuid_entry2 *cpuid_find(struct cpuid_table *t, u32 function, u32 index);

/*
 * Applies a QEMU-like feature list ("-pcid,+invpcid,x2apic") to the table. '+' or no sign
 * requires the feature, which must be in host (what KVM supports); '-' hides it.
 * "vendor=GenuineIntel" sets the vendor string.
 * Returns 0, or -EINVAL with err filled by a one-line reason.
 */
int cpuid_apply_features(struct cpuid_table *t, const struct cpuid_table *host, const char *spec,
			 char *err, size_t errlen);

/* Checks a feature list's syntax and names, without a host table. 0 or -EINVAL, as above. */
int cpuid_check_features(const char *spec, char *err, size_t errlen);

/* Where one vCPU sits: its APIC ID, the VM's vCPUs, threads per core (1, or 2 with SMT). */
struct cpu_topology {
	unsigned int apic_id;
	unsigned int nr_cpus;
	unsigned int threads;
};
/*
 * Shapes the table for one vCPU: its APIC ID, the topology leaves (one package of
 * nr_cpus / threads cores; on AMD with threads, TOPOEXT and its leaves) and the
 * hypervisor bit.
 */
void cpuid_set_topology(struct cpuid_table *t, const struct cpu_topology *top);
void cpuid_set_brand(struct cpuid_table *t, const char *brand);
/*
 * Adds what KVM emulates but KVM_GET_SUPPORTED_CPUID leaves for userspace to announce:
 * the TSC-deadline LAPIC timer (leaf 1 ECX[24]) when KVM_CAP_TSC_DEADLINE_TIMER says so.
 * Without it Linux falls back to the PIT for its ticks.
 */
void cpuid_add_emulated(struct cpuid_table *t, bool tsc_deadline);

/* Machine-check banks the guest gets: what QEMU gives, so Linux probes 10 banks, not 32. */
#define GUEST_MCE_BANKS 10
/*
 * The MCG_CAP for KVM_X86_SETUP_MCE: GUEST_MCE_BANKS banks (fewer if KVM offers fewer),
 * MCG_CTL_P and MCG_SER_P where KVM_X86_GET_MCE_CAP_SUPPORTED has them. 0 when the table
 * shows no MCE and MCA, or KVM has no banks: then KVM's defaults stay.
 */
u64 cpuid_guest_mcg_cap(const struct cpuid_table *t, u64 supported, int kvm_banks);

#endif
