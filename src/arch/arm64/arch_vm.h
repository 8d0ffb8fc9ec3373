/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_ARM64_ARCH_VM_H
#define KVMBOX_ARCH_ARM64_ARCH_VM_H

#include "../../util/types.h"

struct vm;
struct vm_config;

struct arch_vm {
	int gic_fd; /* the vgic-v3 device */
	int its_fd; /* its ITS, -1 when the host's KVM has none (no MSIs then) */
	bool pmu;   /* the host's KVM gives vCPUs a PMUv3 (KVM_CAP_ARM_PMU_V3) */
};

/* vgic-v3 (and an ITS where KVM offers one): created before vCPUs, initialised after. */
int arm64_gic_create(struct vm *vm);
int arm64_gic_init(struct vm *vm);
void arm64_gic_destroy(struct vm *vm);

/* Each vCPU's PMUv3: its overflow interrupt, then its init, once the vGIC is initialised. */
int arm64_pmu_init(struct vm *vm);

/* --kernel and --initrd readable and an arm64 Image (or a gzip'd one); 0 or -EXIT_BAD_INPUT. */
int arm64_check_boot_files(const struct vm_config *cfg);

#endif
