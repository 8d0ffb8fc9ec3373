// SPDX-License-Identifier: GPL-2.0-only
/*
 * arm64's part of the seccomp lists: the vCPU register dump reads registers one by one;
 * the API thread's faccessat and snapshot ioctls.
 */
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "sandbox/filters.h"

/* arch_vcpu_dump() after an unexpected exit. */
static const struct sandbox_rule arm64_vcpu[] = {
	IOCTL(KVM_GET_ONE_REG),
};

/*
 * The API thread: access() is faccessat here (the drive swap's check); for snapshots (see
 * api_snapshot_rules in filters.c) the ioctls that read a vCPU's registers one by one,
 * its power and event state, and the interrupt controller's (device attributes).
 */
static const struct sandbox_rule arm64_api[] = {
	ALLOW(faccessat),
	/* snapshot */
	IOCTL(KVM_GET_ONE_REG),
	IOCTL(KVM_GET_REG_LIST),
	IOCTL(KVM_GET_MP_STATE),
	IOCTL(KVM_GET_VCPU_EVENTS),
	IOCTL(KVM_GET_DEVICE_ATTR),
};

unsigned int arch_sandbox_rules(enum sandbox_kind kind, const struct sandbox_rule **out)
{
	switch (kind) {
	case THREAD_VCPU:
		*out = arm64_vcpu;
		return ARRAY_SIZE(arm64_vcpu);
	case THREAD_API:
		*out = arm64_api;
		return ARRAY_SIZE(arm64_api);
	default:
		*out = NULL;
		return 0;
	}
}

/* x0-x3: the kernel rolls x0 back to the first argument before it sends SIGSYS. */
void arch_sandbox_args(const void *ucontext, u64 args[4])
{
	const ucontext_t *uc = ucontext;

	for (int i = 0; i < 4; i++)
		args[i] = (u64)uc->uc_mcontext.regs[i];
}
