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
