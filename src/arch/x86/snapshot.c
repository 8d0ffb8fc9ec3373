// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a snapshot keeps of an x86 VM that KVM holds: each vCPU's registers, FPU/XSAVE,
 * XCRs, MSRs, LAPIC, pending events, MP state and debug registers, and the VM's
 * irqchip (both PICs, the IOAPIC), PIT and kvmclock. Read with the vCPUs parked
 * outside KVM_RUN (vm_pause): a vCPU ioctl from another thread is then safe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "arch/arch.h"
#include "snapshot.h"
#include "util/log.h"
#include "vcpu.h"
#include "vm.h"

#define X86_VCPU_SNAP_VERSION 1
#define X86_VM_SNAP_VERSION   1
/* KVM lists a few hundred at most; the bound keeps a bad answer from sizing an alloc. */
#define X86_SNAP_MAX_MSRS 1024

struct msr_list {
	struct kvm_msrs hdr;
	struct kvm_msr_entry entries[X86_SNAP_MAX_MSRS];
};

static int get(int fd, unsigned long req, void *arg, const char *what)
{
	if (ioctl(fd, req, arg) < 0) {
		int ret = -errno;

		pr_err("snapshot: %s: %s", what, strerror(errno));
		return ret;
	}
	return 0;
}

/* The MSRs KVM saves and restores for a vCPU (KVM_GET_MSR_INDEX_LIST). */
static int msr_index_list(int kvm_fd, struct msr_list *m)
{
	struct kvm_msr_list *list;
	u32 n;
	int ret;

	list = calloc(1, sizeof(*list) + X86_SNAP_MAX_MSRS * sizeof(u32));
	if (!list)
		return -ENOMEM;
	list->nmsrs = X86_SNAP_MAX_MSRS;
	ret = get(kvm_fd, KVM_GET_MSR_INDEX_LIST, list, "KVM_GET_MSR_INDEX_LIST");
	n = MIN(list->nmsrs, (u32)X86_SNAP_MAX_MSRS);
	for (u32 i = 0; !ret && i < n; i++)
		m->entries[i] = (struct kvm_msr_entry){.index = list->indices[i]};
	m->hdr.nmsrs = ret ? 0 : n;
	free(list);
	return ret;
}

/*
 * KVM_GET_MSRS stops at the first MSR it cannot read and returns how many it did: drop
 * that one and go on, so the list is what this vCPU has (at most one retry per MSR).
 */
static int read_msrs(int fd, struct msr_list *m)
{
	for (u32 tries = 0; tries <= X86_SNAP_MAX_MSRS; tries++) {
		int n = ioctl(fd, KVM_GET_MSRS, m);

		if (n < 0) {
			pr_err("snapshot: KVM_GET_MSRS: %s", strerror(errno));
			return -errno;
		}
		if ((u32)n >= m->hdr.nmsrs)
			return 0;
		memmove(&m->entries[n], &m->entries[n + 1],
			(m->hdr.nmsrs - (u32)n - 1) * sizeof(m->entries[0]));
		m->hdr.nmsrs--;
	}
	return -EIO;
}

static int save_msrs(struct vcpu *vcpu, struct snap_buf *sb)
{
	struct msr_list *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	ret = msr_index_list(vcpu->vm->kvm_fd, m);
	if (!ret)
		ret = read_msrs(vcpu->fd, m);
	if (!ret) {
		snap_put_u32(sb, m->hdr.nmsrs);
		snap_put(sb, m->entries, m->hdr.nmsrs * sizeof(m->entries[0]));
	}
	free(m);
	return ret;
}

/* Each state in a fixed order; the load reads them back in the same order. */
int arch_vcpu_save(struct vcpu *vcpu, struct snap_buf *sb)
{
	struct {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_xsave xsave;
		struct kvm_xcrs xcrs;
		struct kvm_lapic_state lapic;
		struct kvm_vcpu_events events;
		struct kvm_mp_state mp;
		struct kvm_debugregs dregs;
	} *s = calloc(1, sizeof(*s));
	int fd = vcpu->fd, ret;

	if (!s)
		return -ENOMEM;
	ret = get(fd, KVM_GET_REGS, &s->regs, "KVM_GET_REGS");
	ret = ret ?: get(fd, KVM_GET_SREGS, &s->sregs, "KVM_GET_SREGS");
	ret = ret ?: get(fd, KVM_GET_XSAVE, &s->xsave, "KVM_GET_XSAVE");
	ret = ret ?: get(fd, KVM_GET_XCRS, &s->xcrs, "KVM_GET_XCRS");
	ret = ret ?: get(fd, KVM_GET_LAPIC, &s->lapic, "KVM_GET_LAPIC");
	ret = ret ?: get(fd, KVM_GET_VCPU_EVENTS, &s->events, "KVM_GET_VCPU_EVENTS");
	ret = ret ?: get(fd, KVM_GET_MP_STATE, &s->mp, "KVM_GET_MP_STATE");
	ret = ret ?: get(fd, KVM_GET_DEBUGREGS, &s->dregs, "KVM_GET_DEBUGREGS");
	if (!ret) {
		snap_begin_section(sb, "x86-vcpu", X86_VCPU_SNAP_VERSION);
		snap_put_u32(sb, vcpu->id);
		snap_put(sb, s, sizeof(*s));
		ret = save_msrs(vcpu, sb);
	}
	free(s);
	return ret ?: (sb->error ? -ENOMEM : 0);
}

int arch_vm_save(struct vm *vm, struct snap_buf *sb)
{
	struct {
		struct kvm_irqchip chip[3];
		struct kvm_pit_state2 pit;
		struct kvm_clock_data clock;
	} s;
	int ret = 0;

	memset(&s, 0, sizeof(s));
	for (u32 i = 0; !ret && i < 3; i++) {
		s.chip[i].chip_id = i; /* KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE, _IOAPIC */
		ret = get(vm->vm_fd, KVM_GET_IRQCHIP, &s.chip[i], "KVM_GET_IRQCHIP");
	}
	ret = ret ?: get(vm->vm_fd, KVM_GET_PIT2, &s.pit, "KVM_GET_PIT2");
	ret = ret ?: get(vm->vm_fd, KVM_GET_CLOCK, &s.clock, "KVM_GET_CLOCK");
	if (ret)
		return ret;
	snap_begin_section(sb, "x86-vm", X86_VM_SNAP_VERSION);
	snap_put(sb, &s, sizeof(s));
	return sb->error ? -ENOMEM : 0;
}
