// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../kvm.h"
#include "../../util/log.h"
#include "../../vcpu.h"
#include "../../vm.h"
#include "../arch.h"
#include "arch_vm.h"
#include "layout.h"
#include "msr.h"

#define X86_CR0_PE	    BIT(0)
#define X86_CR0_MP	    BIT(1)
#define X86_CR0_ET	    BIT(4)
#define X86_CR0_NE	    BIT(5)
#define X86_CR0_WP	    BIT(16)
#define X86_CR0_AM	    BIT(18)
#define X86_CR0_PG	    BIT(31)
#define X86_CR4_PAE	    BIT(5)
#define X86_EFER_LME	    BIT(8)
#define X86_EFER_LMA	    BIT(10)
#define X86_RFLAGS_RESERVED BIT(1)

#define GDT_SEL_CODE 0x10 /* __BOOT_CS in the Linux boot protocol */
#define GDT_SEL_DATA 0x18 /* __BOOT_DS */

#define APIC_LVT_LINT0	 0x350
#define APIC_LVT_LINT1	 0x360
#define APIC_MODE_NMI	 0x4
#define APIC_MODE_EXTINT 0x7

#define MTRR_DEF_TYPE_ENABLE_WB		 ((1 << 11) | 6)
#define MSR_IA32_MISC_ENABLE_FAST_STRING 1

static int vcpu_set_cpuid(struct vcpu *vcpu)
{
	struct cpuid_table *t = malloc(sizeof(*t));
	struct kvm_cpuid2 *c;
	int ret = -1;

	c = malloc(sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	if (!t || !c)
		goto out;
	*t = vcpu->vm->arch->cpuid;
	cpuid_set_topology(t, &(struct cpu_topology){.apic_id = vcpu->id,
						     .nr_cpus = vcpu->vm->cfg->cpus,
						     .threads = vcpu->vm->cfg->threads_per_core});
	c->nent = t->nent;
	memcpy(c->entries, t->entries, t->nent * sizeof(c->entries[0]));
	ret = kvm_ioctl(vcpu->fd, KVM_SET_CPUID2, c);
out:
	free(t);
	free(c);
	return ret;
}

/* The MSR state a PC's firmware leaves behind, which Linux expects to find. */
static int vcpu_set_boot_msrs(struct vcpu *vcpu)
{
	static const struct {
		u32 index;
		u64 value;
	} boot_msrs[] = {
		{MSR_IA32_SYSENTER_CS, 0},
		{MSR_IA32_SYSENTER_ESP, 0},
		{MSR_IA32_SYSENTER_EIP, 0},
		{MSR_STAR, 0},
		{MSR_CSTAR, 0},
		{MSR_KERNEL_GS_BASE, 0},
		{MSR_SYSCALL_MASK, 0},
		{MSR_LSTAR, 0},
		{MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE_FAST_STRING},
		{MSR_MTRRdefType, MTRR_DEF_TYPE_ENABLE_WB},
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[ARRAY_SIZE(boot_msrs)];
	} msrs = {.hdr.nmsrs = ARRAY_SIZE(boot_msrs)};
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(boot_msrs); i++) {
		msrs.entries[i].index = boot_msrs[i].index;
		msrs.entries[i].data = boot_msrs[i].value;
	}
	ret = kvm_ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (ret >= 0 && ret != (int)ARRAY_SIZE(boot_msrs)) {
		pr_err("KVM_SET_MSRS set %d of %zu boot MSRs (stopped at 0x%x)", ret,
		       ARRAY_SIZE(boot_msrs), boot_msrs[ret].index);
		return -1;
	}
	return ret < 0 ? -1 : 0;
}

/* After KVM_SET_CPUID2: KVM checks the banks against the guest's CPUID. */
static int vcpu_setup_mce(struct vcpu *vcpu)
{
	u64 mcg_cap = vcpu->vm->arch->mcg_cap;

	if (!mcg_cap)
		return 0;
	return kvm_ioctl(vcpu->fd, KVM_X86_SETUP_MCE, &mcg_cap) < 0 ? -1 : 0;
}

static int vcpu_set_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};

	return kvm_ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0 ? -1 : 0;
}

/* LINT0 takes the PIC's ExtINT and LINT1 the NMI, as a PC's firmware wires them. */
static int vcpu_set_lint(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	u32 v;

	if (kvm_ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -1;
	memcpy(&v, &lapic.regs[APIC_LVT_LINT0], 4);
	v = (v & ~0x700U) | (APIC_MODE_EXTINT << 8);
	memcpy(&lapic.regs[APIC_LVT_LINT0], &v, 4);
	memcpy(&v, &lapic.regs[APIC_LVT_LINT1], 4);
	v = (v & ~0x700U) | (APIC_MODE_NMI << 8);
	memcpy(&lapic.regs[APIC_LVT_LINT1], &v, 4);
	return kvm_ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0 ? -1 : 0;
}

static void write_gdt(struct vm *vm, bool long_mode)
{
	u64 gdt[4] = {
		0, 0, long_mode ? 0x00af9b000000ffffULL : 0x00cf9b000000ffffULL, /* code, 0x10 */
		0x00cf93000000ffffULL,						 /* data, 0x18 */
	};

	guest_write(&vm->mem, X86_GDT_GPA, gdt, sizeof(gdt));
}

/* Identity-maps the first 4 GiB with 2 MiB pages: enough for the 64-bit boot protocol. */
static void write_identity_page_tables(struct vm *vm)
{
	u64 pml4 = X86_PML4_GPA, pdpt = pml4 + 0x1000, pd = pdpt + 0x1000;
	u64 *p;

	p = gpa_to_hva(&vm->mem, pml4, 6 * 0x1000);
	if (!p)
		return;
	memset(p, 0, 6 * 0x1000);
	p[0] = pdpt | 0x3;
	for (unsigned int i = 0; i < 4; i++)
		p[512 + i] = (pd + i * 0x1000) | 0x3;
	for (unsigned int i = 0; i < 4 * 512; i++)
		p[1024 + i] = ((u64)i << 21) | 0x83; /* present, writable, 2 MiB */
}

static void set_flat_segment(struct kvm_segment *s, u16 selector, u8 type, bool code64)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.s = 1,
		.g = 1,
		.db = code64 ? 0 : 1,
		.l = code64 ? 1 : 0,
	};
}

static int vcpu_set_entry_regs(struct vcpu *vcpu, const struct boot_entry *entry)
{
	bool long_mode = entry->mode == BOOT_ENTRY_LONG64;
	struct kvm_sregs sregs;
	struct kvm_regs regs = {.rflags = X86_RFLAGS_RESERVED, .rip = entry->rip};

	if (kvm_ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	write_gdt(vcpu->vm, long_mode);
	sregs.gdt.base = X86_GDT_GPA;
	sregs.gdt.limit = 4 * 8 - 1;
	set_flat_segment(&sregs.cs, GDT_SEL_CODE, 0xb, long_mode);
	set_flat_segment(&sregs.ds, GDT_SEL_DATA, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
	if (long_mode) {
		write_identity_page_tables(vcpu->vm);
		sregs.cr3 = X86_PML4_GPA;
		sregs.cr4 = X86_CR4_PAE;
		sregs.cr0 |= X86_CR0_PG | X86_CR0_MP | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM;
		sregs.efer = X86_EFER_LME | X86_EFER_LMA;
		regs.rsi = entry->rsi;
	} else {
		regs.rax = entry->eax;
		regs.rbx = entry->ebx;
	}
	if (kvm_ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 ||
	    kvm_ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -1;
	return 0;
}

int arch_vcpu_init(struct vcpu *vcpu)
{
	if (vcpu_set_cpuid(vcpu) < 0 || vcpu_setup_mce(vcpu) < 0 || vcpu_set_boot_msrs(vcpu) < 0 ||
	    vcpu_set_fpu(vcpu) < 0 || vcpu_set_lint(vcpu) < 0)
		return -1;
	return 0;
}

/* Only the boot vCPU: the others wait for the guest's INIT/SIPI in the in-kernel LAPIC. */
int arch_vcpu_set_entry(struct vcpu *vcpu, const struct boot_entry *entry)
{
	return vcpu_set_entry_regs(vcpu, entry);
}

static void dump_segment(const char *name, const struct kvm_segment *s)
{
	pr_err("  %-4s sel=%04x base=%016llx limit=%08x type=%x dpl=%u l=%u db=%u", name,
	       s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl, s->l, s->db);
}

void arch_vcpu_dump(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (__kvm_ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    __kvm_ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		pr_err("vCPU %u: registers unavailable", vcpu->id);
		return;
	}
	pr_err("vCPU %u registers:", vcpu->id);
	pr_err("  rip=%016llx rsp=%016llx rflags=%016llx", r.rip, r.rsp, r.rflags);
	pr_err("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx", r.rax, r.rbx, r.rcx, r.rdx);
	pr_err("  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx", r.rsi, r.rdi, r.rbp, r.r8);
	pr_err("  r9 =%016llx r10=%016llx r11=%016llx r12=%016llx", r.r9, r.r10, r.r11, r.r12);
	pr_err("  r13=%016llx r14=%016llx r15=%016llx", r.r13, r.r14, r.r15);
	pr_err("  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx", s.cr0, s.cr2,
	       s.cr3, s.cr4, s.efer);
	dump_segment("cs", &s.cs);
	dump_segment("ss", &s.ss);
	dump_segment("ds", &s.ds);
}
