// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86-64's part of the seccomp lists: the calls glibc makes here under their old names
 * (poll, unlink, access, rename: arm64 has only ppoll, unlinkat, faccessat, renameat),
 * the vCPU register dump's ioctls and the snapshot's.
 */
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "sandbox/filters.h"

static const struct sandbox_rule x86_poll[] = {
	ALLOW(poll),
};

static const struct sandbox_rule x86_main[] = {
	ALLOW(poll),
	ALLOW(unlink),
};

/* A disk reset's wait (poll), and arch_vcpu_dump() after an unexpected exit. */
static const struct sandbox_rule x86_vcpu[] = {
	ALLOW(poll),
	IOCTL(KVM_GET_REGS),
	IOCTL(KVM_GET_SREGS),
};

/*
 * The API thread: poll() and access() (the drive swap's check) under their x86 names,
 * and for snapshots (see api_snapshot_rules in filters.c) rename() and unlink() under
 * theirs, and the ioctls that read a vCPU's and the VM's state.
 */
static const struct sandbox_rule x86_api[] = {
	ALLOW(poll),
	ALLOW(access),
	/* snapshot */
	ALLOW(rename),
	ALLOW(unlink),
	IOCTL(KVM_GET_REGS),
	IOCTL(KVM_GET_SREGS),
	IOCTL(KVM_GET_FPU),
	IOCTL(KVM_GET_XSAVE),
	IOCTL(KVM_GET_XSAVE2),
	IOCTL(KVM_GET_XCRS),
	IOCTL(KVM_GET_MSRS),
	IOCTL(KVM_GET_MSR_INDEX_LIST),
	IOCTL(KVM_GET_LAPIC),
	IOCTL(KVM_GET_VCPU_EVENTS),
	IOCTL(KVM_GET_MP_STATE),
	IOCTL(KVM_GET_DEBUGREGS),
	IOCTL(KVM_GET_IRQCHIP),
	IOCTL(KVM_GET_PIT2),
	IOCTL(KVM_GET_CLOCK),
};

unsigned int arch_sandbox_rules(enum sandbox_kind kind, const struct sandbox_rule **out)
{
	switch (kind) {
	case THREAD_MAIN:
		*out = x86_main;
		return ARRAY_SIZE(x86_main);
	case THREAD_VCPU:
		*out = x86_vcpu;
		return ARRAY_SIZE(x86_vcpu);
	case THREAD_API:
		*out = x86_api;
		return ARRAY_SIZE(x86_api);
	case THREAD_VIRTIO_BLK:
	case THREAD_VIRTIO_NET:
	case THREAD_VIRTIO_CONSOLE:
	case THREAD_VIRTIO_RNG:
	case THREAD_VIRTIO_BALLOON:
	case THREAD_VIRTIO_IRQ:
		*out = x86_poll;
		return ARRAY_SIZE(x86_poll);
	default:
		*out = NULL;
		return 0;
	}
}

/* The System V calling convention of the syscall instruction: rdi, rsi, rdx, r10. */
void arch_sandbox_args(const void *ucontext, u64 args[4])
{
	const ucontext_t *uc = ucontext;

	args[0] = (u64)uc->uc_mcontext.gregs[REG_RDI];
	args[1] = (u64)uc->uc_mcontext.gregs[REG_RSI];
	args[2] = (u64)uc->uc_mcontext.gregs[REG_RDX];
	args[3] = (u64)uc->uc_mcontext.gregs[REG_R10];
}
