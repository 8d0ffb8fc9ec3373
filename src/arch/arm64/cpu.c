// SPDX-License-Identifier: GPL-2.0-only
/*
 * arm64 vCPUs: KVM_ARM_VCPU_INIT with the target KVM prefers and PSCI 0.2, so that KVM
 * itself answers the guest's PSCI calls (CPU_ON starts a secondary, SYSTEM_OFF and
 * SYSTEM_RESET come back as KVM_EXIT_SYSTEM_EVENT). Secondaries start powered off.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "../../kvm.h"
#include "../../util/log.h"
#include "../../vcpu.h"
#include "../../vm.h"
#include "../arch.h"
#include "arch_vm.h"

#define ARM64_CORE_REG(name)                                   \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
	 (offsetof(struct kvm_regs, name) / sizeof(u32)))

/* EL1 with SP_EL1, every exception masked: what booting.rst asks for at entry. */
#define PSR_MODE_EL1H 0x5
#define PSR_DAIF_MASK (0xfULL << 6)

static int vcpu_set_reg(struct vcpu *vcpu, u64 id, u64 val, const char *name)
{
	struct kvm_one_reg reg = {.id = id, .addr = (u64)(uintptr_t)&val};
	int ret = __kvm_ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg);

	if (ret < 0)
		pr_err("vCPU %u: KVM_SET_ONE_REG %s failed: %s", vcpu->id, name, strerror(-ret));
	return ret;
}

static int vcpu_get_reg(struct vcpu *vcpu, u64 id, u64 *val)
{
	struct kvm_one_reg reg = {.id = id, .addr = (u64)(uintptr_t)val};

	return __kvm_ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg);
}

static int vcpu_arm_init(struct vcpu *vcpu)
{
	struct kvm_vcpu_init init = {0};
	int ret;

	if (kvm_ioctl(vcpu->vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return -1;
	init.features[0] |= 1U << KVM_ARM_VCPU_PSCI_0_2;
	if (vcpu->vm->arch->pmu)
		init.features[0] |= 1U << KVM_ARM_VCPU_PMU_V3;
	if (vcpu->id)
		init.features[0] |= 1U << KVM_ARM_VCPU_POWER_OFF;
	ret = __kvm_ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init);
	if (ret < 0) {
		pr_err("vCPU %u: KVM_ARM_VCPU_INIT (target %u, PSCI 0.2) failed: %s", vcpu->id,
		       init.target, strerror(-ret));
		return ret;
	}
	return 0;
}

int arch_vcpu_init(struct vcpu *vcpu)
{
	return vcpu_arm_init(vcpu) < 0 ? -1 : 0;
}

int arch_vcpu_set_entry(struct vcpu *vcpu, const struct boot_entry *entry)
{
	/* x1-x3 are zero after init, as the boot protocol wants. */
	if (vcpu_set_reg(vcpu, ARM64_CORE_REG(regs.pstate), PSR_MODE_EL1H | PSR_DAIF_MASK,
			 "pstate") ||
	    vcpu_set_reg(vcpu, ARM64_CORE_REG(regs.regs[0]), entry->x0, "x0") ||
	    vcpu_set_reg(vcpu, ARM64_CORE_REG(regs.pc), entry->pc, "pc"))
		return -1;
	return 0;
}

void arch_vcpu_dump(struct vcpu *vcpu)
{
	u64 pc = 0, pstate = 0, sp = 0, x[4] = {0};

	if (vcpu_get_reg(vcpu, ARM64_CORE_REG(regs.pc), &pc) ||
	    vcpu_get_reg(vcpu, ARM64_CORE_REG(regs.pstate), &pstate) ||
	    vcpu_get_reg(vcpu, ARM64_CORE_REG(sp_el1), &sp)) {
		pr_err("vCPU %u: cannot read its registers", vcpu->id);
		return;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(x); i++)
		vcpu_get_reg(vcpu, ARM64_CORE_REG(regs.regs[i]), &x[i]);
	pr_err("vCPU %u: pc %016llx pstate %08llx sp_el1 %016llx", vcpu->id, (unsigned long long)pc,
	       (unsigned long long)pstate, (unsigned long long)sp);
	pr_err("  x0 %016llx x1 %016llx x2 %016llx x3 %016llx", (unsigned long long)x[0],
	       (unsigned long long)x[1], (unsigned long long)x[2], (unsigned long long)x[3]);
}
