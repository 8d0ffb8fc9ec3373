// SPDX-License-Identifier: GPL-2.0-only
/* CPUID feature checks. */
#include "libguest.h"

bool cpu_has(struct cpu_feature f)
{
	u32 max = cpuid(f.leaf & 0xffff0000).a;
	struct cpuid r;
	u32 regs[4];

	/* A leaf above the maximum returns some other leaf's data: check first. */
	if (f.leaf > max)
		return false;
	r = cpuid_count(f.leaf, f.subleaf);
	regs[0] = r.a;
	regs[1] = r.b;
	regs[2] = r.c;
	regs[3] = r.d;
	return regs[f.reg] & (1u << f.bit);
}

/* CPUID bits by the names QEMU and /proc/cpuinfo use; positions from the SDM. */
static const struct {
	const char *name;
	struct cpu_feature f;
} feature_names[] = {
	{"sse3", FEAT(1, 0, 2, 0)},
	{"vmx", FEAT(1, 0, 2, 5)},
	{"pcid", FEAT(1, 0, 2, 17)},
	{"x2apic", FEAT(1, 0, 2, 21)},
	{"movbe", FEAT(1, 0, 2, 22)},
	{"popcnt", FEAT(1, 0, 2, 23)},
	{"tsc-deadline", FEAT(1, 0, 2, 24)},
	{"aes", FEAT(1, 0, 2, 25)},
	{"xsave", FEAT(1, 0, 2, 26)},
	{"avx", FEAT(1, 0, 2, 28)},
	{"rdrand", FEAT(1, 0, 2, 30)},
	{"hypervisor", FEAT(1, 0, 2, 31)},
	{"apic", FEAT(1, 0, 3, 9)},
	{"pge", FEAT(1, 0, 3, 13)},
	{"fsgsbase", FEAT(7, 0, 1, 0)},
	{"avx2", FEAT(7, 0, 1, 5)},
	{"smep", FEAT(7, 0, 1, 7)},
	{"erms", FEAT(7, 0, 1, 9)},
	{"invpcid", FEAT(7, 0, 1, 10)},
	{"smap", FEAT(7, 0, 1, 20)},
	{"umip", FEAT(7, 0, 2, 2)},
	{"rdpid", FEAT(7, 0, 2, 22)},
	{"svm", FEAT(0x80000001, 0, 2, 2)},
	{"nx", FEAT(0x80000001, 0, 3, 20)},
	{"pdpe1gb", FEAT(0x80000001, 0, 3, 26)},
	{"rdtscp", FEAT(0x80000001, 0, 3, 27)},
	{"lm", FEAT(0x80000001, 0, 3, 29)},
};

bool cpu_feature_by_name(const char *name, size_t len, struct cpu_feature *f)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(feature_names); i++) {
		if (strlen(feature_names[i].name) == len &&
		    !strncmp(feature_names[i].name, name, len)) {
			*f = feature_names[i].f;
			return true;
		}
	}
	return false;
}

const char *hypervisor_signature(void)
{
	static char sig[13];
	struct cpuid r;

	if (!cpu_has(X86_FEATURE_HYPERVISOR))
		return "";
	r = cpuid(0x40000000);
	memcpy(sig + 0, &r.b, 4);
	memcpy(sig + 4, &r.c, 4);
	memcpy(sig + 8, &r.d, 4);
	return sig;
}

/*
 * Directly (the signature says so) or beneath KVM: tests/guest/run passes
 * nested_tcg when its own host CPU is QEMU's TCG, as in the nested lab, where
 * instructions KVM lets the guest run directly follow TCG's rules.
 */
bool on_tcg(void)
{
	return !strcmp(hypervisor_signature(), "TCGTCGTCGTCG") || getarg("nested_tcg");
}
