// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's PMUv3, emulated by KVM on host perf events: the vCPU feature at
 * KVM_ARM_VCPU_INIT (cpu.c), then per vCPU its overflow interrupt and
 * KVM_ARM_VCPU_PMU_V3_INIT, which KVM refuses until the vGIC is initialised
 * (Documentation/virt/kvm/devices/vcpu.rst). A PPI is the same number on every vCPU.
 * Where the host's KVM has no PMU the guest gets none, and no device tree node.
 */
#include <string.h>

#include "../../kvm.h"
#include "../../util/log.h"
#include "../../vcpu.h"
#include "../../vm.h"
#include "arch_vm.h"
#include "layout.h"

static int pmu_set_attr(struct vcpu *vcpu, u64 attr, void *val, const char *what)
{
	struct kvm_device_attr a = {
		.group = KVM_ARM_VCPU_PMU_V3_CTRL,
		.attr = attr,
		.addr = (u64)(uintptr_t)val,
	};
	int ret = __kvm_ioctl(vcpu->fd, KVM_SET_DEVICE_ATTR, &a);

	if (ret < 0)
		pr_err("vCPU %u: KVM_SET_DEVICE_ATTR (PMUv3 %s) failed: %s", vcpu->id, what,
		       strerror(-ret));
	return ret;
}

int arm64_pmu_init(struct vm *vm)
{
	int intid = 16 + ARM64_PMU_PPI; /* PPIs are INTIDs 16-31 */

	if (!vm->arch->pmu)
		return 0;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (pmu_set_attr(vm->vcpus[i], KVM_ARM_VCPU_PMU_V3_IRQ, &intid, "overflow IRQ") ||
		    pmu_set_attr(vm->vcpus[i], KVM_ARM_VCPU_PMU_V3_INIT, NULL, "init"))
			return -EXIT_VMM_ERROR;
	}
	return 0;
}
