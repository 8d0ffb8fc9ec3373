// SPDX-License-Identifier: GPL-2.0-only
/* MSRs a guest kernel relies on keep what is written; bad accesses raise #GP. */
#include "libguest.h"

#define MSR_TSC		   0x10
#define MSR_SYSENTER_CS	   0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176
#define MSR_STAR	   0xc0000081
#define MSR_LSTAR	   0xc0000082
#define MSR_CSTAR	   0xc0000083
#define MSR_FMASK	   0xc0000084
#define MSR_FS_BASE	   0xc0000100
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX	   0xc0000103
#define MSR_BOGUS	   0x12345678
#define EFER_LMA	   BIT(10)

struct msr_case {
	const char *name;
	u32 index;
	u64 value;
};

/* 32-bit values for SYSENTER and FMASK: AMD keeps only the low halves. */
static const struct msr_case cases[] = {
	{"SYSENTER_CS", MSR_SYSENTER_CS, 0x1230},
	{"SYSENTER_ESP", MSR_SYSENTER_ESP, 0x12345678},
	{"SYSENTER_EIP", MSR_SYSENTER_EIP, 0x87654320},
	{"STAR", MSR_STAR, 0x0023001012345678ULL},
	{"LSTAR", MSR_LSTAR, 0xffffffff81234560ULL},
	{"CSTAR", MSR_CSTAR, 0x00007fff12345670ULL},
	{"FMASK", MSR_FMASK, 0x47700},
	{"FS_BASE", MSR_FS_BASE, 0x0000123456789000ULL},
	{"KERNEL_GS_BASE", MSR_KERNEL_GS_BASE, 0xffff880012345678ULL},
};

static void test_read_back(const char *name, u32 index, u64 value)
{
	u64 old = 0, got = 0;
	int v1 = rdmsr_safe(index, &old);
	int v2 = wrmsr_safe(index, value);
	int v3 = rdmsr_safe(index, &got);

	if (v1 >= 0 || v2 >= 0 || v3 >= 0)
		report(false, "%s: exception %d/%d/%d", name, v1, v2, v3);
	else
		report(got == value, "%s: wrote %#lx, read %#lx", name, value, got);
	wrmsr_safe(index, old);
}

/* QEMU's TCG ignores unknown MSRs and does not check canonical addresses. */
static void test_bad_accesses(void)
{
	bool tcg = on_tcg();
	u64 v;

	report_xfail(tcg, rdmsr_safe(MSR_BOGUS, &v) == GP_VECTOR, "rdmsr of unknown MSR %#x: #GP",
		     MSR_BOGUS);
	report_xfail(tcg, wrmsr_safe(MSR_BOGUS, 0) == GP_VECTOR, "wrmsr of unknown MSR: #GP");
	report_xfail(tcg, wrmsr_safe(MSR_LSTAR, 0x8000000000000000ULL) == GP_VECTOR,
		     "non-canonical LSTAR: #GP");
	/* Not canonical with 57-bit addresses either: LA57 CPUs check MSRs against 57 bits. */
	report_xfail(tcg, wrmsr_safe(MSR_KERNEL_GS_BASE, 0x8000000000000000ULL) == GP_VECTOR,
		     "non-canonical KERNEL_GS_BASE: #GP");
}

static void test_tsc_aux(void)
{
	u32 lo, hi, aux;

	if (!cpu_has(X86_FEATURE_RDTSCP) && !cpu_has(X86_FEATURE_RDPID)) {
		report_skip("TSC_AUX: neither RDTSCP nor RDPID");
		return;
	}
	test_read_back("TSC_AUX", MSR_TSC_AUX, 0x12345);
	wrmsr(MSR_TSC_AUX, 0x2a);
	if (cpu_has(X86_FEATURE_RDTSCP)) {
		asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
		report(aux == 0x2a, "RDTSCP returns TSC_AUX (%u)", aux);
	}
}

static void test_fixed(void)
{
	u64 efer = rdmsr(MSR_EFER), base = rdmsr(MSR_APIC_BASE);
	u64 t0 = rdtsc(), t1 = rdmsr(MSR_TSC), t2 = rdtsc();

	report((efer & EFER_LME) && (efer & EFER_LMA), "EFER: LME and LMA set (%#lx)", efer);
	report((base & ~0xfffULL) == LAPIC_BASE && (base & APIC_BASE_BSP) &&
		       (base & APIC_BASE_ENABLE),
	       "APIC_BASE: %#lx, enabled, BSP", base);
	/* TCG reads IA32_TSC as 0. */
	report_xfail(on_tcg(), t0 <= t1 && t1 <= t2, "IA32_TSC lies between two RDTSCs");
}

int main(void)
{
	report_prefix_push("msr");
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		test_read_back(cases[i].name, cases[i].index, cases[i].value);
	test_tsc_aux();
	test_bad_accesses();
	test_fixed();
	return report_summary();
}
