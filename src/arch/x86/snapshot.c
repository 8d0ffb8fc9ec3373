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
#include "arch_vm.h"
#include "msr.h"
#include "snapshot.h"
#include "util/log.h"
#include "vcpu.h"
#include "vm.h"

/* 2: the XSAVE state has its own length (KVM_GET_XSAVE2, AMX), after the fixed part. */
#define X86_VCPU_SNAP_VERSION 2
#define X86_VM_SNAP_VERSION   1
/* KVM lists a few hundred at most; the bound keeps a bad answer from sizing an alloc. */
#define X86_SNAP_MAX_MSRS 1024
/* AMX makes it about 11 KiB; the bound keeps a damaged file from sizing an alloc. */
#define X86_SNAP_MAX_XSAVE (1u << 20)

struct msr_list {
	struct kvm_msrs hdr;
	struct kvm_msr_entry entries[X86_SNAP_MAX_MSRS];
};

static int kioctl(int fd, unsigned long req, void *arg, const char *what)
{
	if (ioctl(fd, req, arg) < 0) {
		int ret = -errno;

		pr_err("%s: %s", what, strerror(errno));
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
	ret = kioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list, "KVM_GET_MSR_INDEX_LIST");
	n = MIN(list->nmsrs, (u32)X86_SNAP_MAX_MSRS);
	for (u32 i = 0; !ret && i < n; i++)
		m->entries[i] = (struct kvm_msr_entry){.index = list->indices[i]};
	m->hdr.nmsrs = ret ? 0 : n;
	free(list);
	return ret;
}

/*
 * KVM_GET_MSRS and KVM_SET_MSRS stop at the first MSR they cannot read or this host
 * refuses to take, and return how many they did: drop that one and go again, so a save
 * lists what this vCPU has and a load sets all that this host knows (at most one retry
 * per MSR; a load says which it skipped).
 */
static int msrs_io(int fd, unsigned long req, struct kvm_msrs *m)
{
	const char *what = req == KVM_SET_MSRS ? "KVM_SET_MSRS" : "KVM_GET_MSRS";

	for (u32 tries = 0; tries <= X86_SNAP_MAX_MSRS; tries++) {
		int n = ioctl(fd, req, m);

		if (n < 0) {
			pr_err("%s: %s", what, strerror(errno));
			return -errno;
		}
		if ((u32)n >= m->nmsrs)
			return 0;
		if (req == KVM_SET_MSRS)
			pr_warn("restore: this host does not take MSR 0x%x", m->entries[n].index);
		memmove(&m->entries[n], &m->entries[n + 1],
			(m->nmsrs - (u32)n - 1) * sizeof(m->entries[0]));
		m->nmsrs--;
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
		ret = msrs_io(vcpu->fd, KVM_GET_MSRS, &m->hdr);
	if (!ret) {
		snap_put_u32(sb, m->hdr.nmsrs);
		snap_put(sb, m->entries, m->hdr.nmsrs * sizeof(m->entries[0]));
	}
	free(m);
	return ret;
}

/* A vCPU's section after its id: these in this order, the XSAVE state, then the MSRs. */
struct x86_vcpu_snap {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_debugregs dregs;
};

struct x86_vm_snap {
	struct kvm_irqchip chip[3];
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

/* How many bytes KVM reads and writes for this VM's vCPUs' XSAVE state. */
static u32 xsave_size(const struct vm *vm)
{
	return MAX(vm->arch->xsave2_size, (u32)sizeof(struct kvm_xsave));
}

/* A length, then the state: the size grows with AMX, and the load checks it fits. */
static int save_xsave(struct vcpu *vcpu, struct snap_buf *sb)
{
	u32 len = xsave_size(vcpu->vm);
	void *x;
	int ret;

	if (len > X86_SNAP_MAX_XSAVE) {
		pr_err("KVM_CAP_XSAVE2: %u bytes of XSAVE state, more than a snapshot takes", len);
		return -E2BIG;
	}
	x = calloc(1, len);
	if (!x)
		return -ENOMEM;
	if (vcpu->vm->arch->xsave2_size)
		ret = kioctl(vcpu->fd, KVM_GET_XSAVE2, x, "KVM_GET_XSAVE2");
	else
		ret = kioctl(vcpu->fd, KVM_GET_XSAVE, x, "KVM_GET_XSAVE");
	if (!ret) {
		snap_put_u32(sb, len);
		snap_put(sb, x, len);
	}
	free(x);
	return ret;
}

/* Each state in a fixed order; the load reads them back in the same order. */
int arch_vcpu_save(struct vcpu *vcpu, struct snap_buf *sb)
{
	struct x86_vcpu_snap *s = calloc(1, sizeof(*s));
	int fd = vcpu->fd, ret;

	if (!s)
		return -ENOMEM;
	ret = kioctl(fd, KVM_GET_REGS, &s->regs, "KVM_GET_REGS");
	ret = ret ?: kioctl(fd, KVM_GET_SREGS, &s->sregs, "KVM_GET_SREGS");
	ret = ret ?: kioctl(fd, KVM_GET_XCRS, &s->xcrs, "KVM_GET_XCRS");
	ret = ret ?: kioctl(fd, KVM_GET_LAPIC, &s->lapic, "KVM_GET_LAPIC");
	ret = ret ?: kioctl(fd, KVM_GET_VCPU_EVENTS, &s->events, "KVM_GET_VCPU_EVENTS");
	ret = ret ?: kioctl(fd, KVM_GET_MP_STATE, &s->mp, "KVM_GET_MP_STATE");
	ret = ret ?: kioctl(fd, KVM_GET_DEBUGREGS, &s->dregs, "KVM_GET_DEBUGREGS");
	if (!ret) {
		snap_begin_section(sb, "x86-vcpu", X86_VCPU_SNAP_VERSION);
		snap_put_u32(sb, vcpu->id);
		snap_put(sb, s, sizeof(*s));
		ret = save_xsave(vcpu, sb);
		ret = ret ?: save_msrs(vcpu, sb);
	}
	free(s);
	return ret ?: (sb->error ? -ENOMEM : 0);
}

int arch_vm_save(struct vm *vm, struct snap_buf *sb)
{
	struct x86_vm_snap s;
	int ret = 0;

	memset(&s, 0, sizeof(s));
	for (u32 i = 0; !ret && i < 3; i++) {
		s.chip[i].chip_id = i; /* KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE, _IOAPIC */
		ret = kioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s.chip[i], "KVM_GET_IRQCHIP");
	}
	ret = ret ?: kioctl(vm->vm_fd, KVM_GET_PIT2, &s.pit, "KVM_GET_PIT2");
	ret = ret ?: kioctl(vm->vm_fd, KVM_GET_CLOCK, &s.clock, "KVM_GET_CLOCK");
	if (ret)
		return ret;
	snap_begin_section(sb, "x86-vm", X86_VM_SNAP_VERSION);
	snap_put(sb, &s, sizeof(s));
	return sb->error ? -ENOMEM : 0;
}

/*
 * Loading. The file is untrusted: lengths come from snap_get(), which refuses to read
 * past the section, and every value KVM takes is checked by KVM itself (a bad control
 * register, a bad LAPIC state: the ioctl fails and the load with it).
 */

/* The saved MSR list, its count checked; NULL after a line saying what is wrong. */
static struct msr_list *get_msrs(struct vcpu *vcpu, struct snap_buf *sb)
{
	struct msr_list *m;
	u32 n;

	if (!snap_get_u32(sb, &n) || n > X86_SNAP_MAX_MSRS) {
		pr_err("restore: vCPU %u: bad MSR count", vcpu->id);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->hdr.nmsrs = n;
	if (!snap_get(sb, m->entries, n * sizeof(m->entries[0]))) {
		pr_err("restore: vCPU %u: the MSRs are cut short", vcpu->id);
		free(m);
		return NULL;
	}
	for (u32 i = 0; i < n; i++)
		m->entries[i].reserved = 0;
	return m;
}

/* Sets MSR index again from m's saved value, when m has it. */
static int put_msr_again(int fd, const struct msr_list *m, u32 index)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} one = {.hdr.nmsrs = 1};

	for (u32 i = 0; i < m->hdr.nmsrs; i++) {
		if (m->entries[i].index != index)
			continue;
		one.entry = m->entries[i];
		return msrs_io(fd, KVM_SET_MSRS, &one.hdr);
	}
	return 0;
}

/*
 * KVM's order: segments and control registers (with the APIC base) before the general
 * registers and the MSRs, the FPU state, the LAPIC once its base is set, and pending
 * events and the run state last, as they depend on all the rest.
 */
static int put_vcpu(struct vcpu *vcpu, struct x86_vcpu_snap *s, void *xsave, struct msr_list *m)
{
	int fd = vcpu->fd, ret;

	ret = kioctl(fd, KVM_SET_SREGS, &s->sregs, "KVM_SET_SREGS");
	ret = ret ?: kioctl(fd, KVM_SET_REGS, &s->regs, "KVM_SET_REGS");
	ret = ret ?: msrs_io(fd, KVM_SET_MSRS, &m->hdr);
	ret = ret ?: kioctl(fd, KVM_SET_XSAVE, xsave, "KVM_SET_XSAVE");
	ret = ret ?: kioctl(fd, KVM_SET_XCRS, &s->xcrs, "KVM_SET_XCRS");
	ret = ret ?: kioctl(fd, KVM_SET_LAPIC, &s->lapic, "KVM_SET_LAPIC");
	/*
	 * KVM ignores a TSC deadline while the timer is in another mode (its reset mode,
	 * when the MSRs went in) and clears it when KVM_SET_LAPIC changes the mode: set
	 * again now, or a vCPU halted until its deadline would sleep for good.
	 */
	ret = ret ?: put_msr_again(fd, m, MSR_IA32_TSC_DEADLINE);
	ret = ret ?: kioctl(fd, KVM_SET_DEBUGREGS, &s->dregs, "KVM_SET_DEBUGREGS");
	/* GET does not flag these as valid, but they were read: SET must take them. */
	s->events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	ret = ret ?: kioctl(fd, KVM_SET_VCPU_EVENTS, &s->events, "KVM_SET_VCPU_EVENTS");
	ret = ret ?: kioctl(fd, KVM_SET_MP_STATE, &s->mp, "KVM_SET_MP_STATE");
	return ret;
}

/*
 * The saved XSAVE state in a buffer of the size KVM_SET_XSAVE reads on this host; the
 * rest stays zero, which the state's header marks as components in their initial state.
 * NULL after a line saying what is wrong.
 */
static void *get_xsave(struct vcpu *vcpu, struct snap_buf *sb)
{
	u32 len, host = xsave_size(vcpu->vm);
	void *x;

	if (!snap_get_u32(sb, &len) || len < sizeof(struct kvm_xsave) || len > X86_SNAP_MAX_XSAVE) {
		pr_err("restore: vCPU %u: bad XSAVE state length", vcpu->id);
		return NULL;
	}
	if (len > host) {
		pr_err("restore: vCPU %u: the snapshot's %u bytes of XSAVE state (AMX) do not fit "
		       "this host's %u",
		       vcpu->id, len, host);
		return NULL;
	}
	x = calloc(1, host);
	if (x && !snap_get(sb, x, len)) {
		pr_err("restore: vCPU %u: the XSAVE state is cut short", vcpu->id);
		free(x);
		return NULL;
	}
	return x;
}

int arch_vcpu_load(struct vcpu *vcpu, struct snap_buf *sb)
{
	struct x86_vcpu_snap *s;
	struct msr_list *m = NULL;
	void *xsave = NULL;
	u32 id, version;
	int ret = -EINVAL;

	version = snap_open_section(sb, "x86-vcpu");
	if (version != X86_VCPU_SNAP_VERSION || !snap_get_u32(sb, &id) || id != vcpu->id) {
		pr_err("restore: vCPU %u: not this vCPU's section, or of version %u (this kvmbox "
		       "reads %u)",
		       vcpu->id, version, X86_VCPU_SNAP_VERSION);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (!snap_get(sb, s, sizeof(*s)))
		pr_err("restore: vCPU %u: the section is short", vcpu->id);
	else
		xsave = get_xsave(vcpu, sb);
	if (xsave)
		m = get_msrs(vcpu, sb);
	if (m)
		ret = put_vcpu(vcpu, s, xsave, m);
	free(m);
	free(xsave);
	free(s);
	return ret;
}

int arch_vm_load(struct vm *vm, struct snap_buf *sb)
{
	struct x86_vm_snap s;
	int ret = 0;

	if (snap_open_section(sb, "x86-vm") != X86_VM_SNAP_VERSION ||
	    !snap_get(sb, &s, sizeof(s))) {
		pr_err("restore: the VM's section is short or of another version");
		return -EINVAL;
	}
	/*
	 * The clock goes on from where it was saved (the time the VM was paused does not
	 * pass for the guest); no flags, which older KVMs refuse.
	 */
	s.clock.flags = 0;
	memset(s.clock.pad, 0, sizeof(s.clock.pad));
	ret = kioctl(vm->vm_fd, KVM_SET_CLOCK, &s.clock, "KVM_SET_CLOCK");
	for (u32 i = 0; !ret && i < 3; i++) {
		if (s.chip[i].chip_id != i) {
			pr_err("restore: irqchip %u is numbered %u", i, s.chip[i].chip_id);
			return -EINVAL;
		}
		ret = kioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s.chip[i], "KVM_SET_IRQCHIP");
	}
	return ret ?: kioctl(vm->vm_fd, KVM_SET_PIT2, &s.pit, "KVM_SET_PIT2");
}
