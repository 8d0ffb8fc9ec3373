// SPDX-License-Identifier: GPL-2.0-only
/* Snapshots are x86 only so far: an arm64 VM refuses them (a 400 from the API). */
#include <errno.h>

#include "arch/arch.h"
#include "util/log.h"

int arch_vcpu_save(struct vcpu *vcpu, struct snap_buf *sb)
{
	(void)vcpu, (void)sb;
	pr_err("snapshots are not supported on arm64 yet");
	return -EOPNOTSUPP;
}

int arch_vm_save(struct vm *vm, struct snap_buf *sb)
{
	(void)vm, (void)sb;
	pr_err("snapshots are not supported on arm64 yet");
	return -EOPNOTSUPP;
}

int arch_vcpu_load(struct vcpu *vcpu, struct snap_buf *sb)
{
	(void)vcpu, (void)sb;
	pr_err("snapshots are not supported on arm64 yet");
	return -EOPNOTSUPP;
}

int arch_vm_load(struct vm *vm, struct snap_buf *sb)
{
	(void)vm, (void)sb;
	pr_err("snapshots are not supported on arm64 yet");
	return -EOPNOTSUPP;
}
