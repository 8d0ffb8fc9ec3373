// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpuid.h"

enum cpuid_reg { EAX, EBX, ECX, EDX };

struct cpu_feature {
	const char *name;
	u32 function, index;
	enum cpuid_reg reg;
	u8 bit;
};

/* The features --cpu-features knows, by the names QEMU and /proc/cpuinfo use. */
static const struct cpu_feature cpu_features[] = {
	{"sse3", 1, 0, ECX, 0},
	{"pclmulqdq", 1, 0, ECX, 1},
	{"monitor", 1, 0, ECX, 3},
	{"vmx", 1, 0, ECX, 5},
	{"ssse3", 1, 0, ECX, 9},
	{"fma", 1, 0, ECX, 12},
	{"cx16", 1, 0, ECX, 13},
	{"pdcm", 1, 0, ECX, 15},
	{"pcid", 1, 0, ECX, 17},
	{"sse4.1", 1, 0, ECX, 19},
	{"sse4.2", 1, 0, ECX, 20},
	{"x2apic", 1, 0, ECX, 21},
	{"movbe", 1, 0, ECX, 22},
	{"popcnt", 1, 0, ECX, 23},
	{"tsc-deadline", 1, 0, ECX, 24},
	{"aes", 1, 0, ECX, 25},
	{"xsave", 1, 0, ECX, 26},
	{"avx", 1, 0, ECX, 28},
	{"f16c", 1, 0, ECX, 29},
	{"rdrand", 1, 0, ECX, 30},
	{"pse", 1, 0, EDX, 3},
	{"tsc", 1, 0, EDX, 4},
	{"msr", 1, 0, EDX, 5},
	{"pae", 1, 0, EDX, 6},
	{"apic", 1, 0, EDX, 9},
	{"mtrr", 1, 0, EDX, 12},
	{"pge", 1, 0, EDX, 13},
	{"pat", 1, 0, EDX, 16},
	{"pse36", 1, 0, EDX, 17},
	{"clflush", 1, 0, EDX, 19},
	{"fsgsbase", 7, 0, EBX, 0},
	{"bmi1", 7, 0, EBX, 3},
	{"hle", 7, 0, EBX, 4},
	{"avx2", 7, 0, EBX, 5},
	{"smep", 7, 0, EBX, 7},
	{"bmi2", 7, 0, EBX, 8},
	{"erms", 7, 0, EBX, 9},
	{"invpcid", 7, 0, EBX, 10},
	{"rtm", 7, 0, EBX, 11},
	{"avx512f", 7, 0, EBX, 16},
	{"rdseed", 7, 0, EBX, 18},
	{"adx", 7, 0, EBX, 19},
	{"smap", 7, 0, EBX, 20},
	{"clflushopt", 7, 0, EBX, 23},
	{"clwb", 7, 0, EBX, 24},
	{"sha-ni", 7, 0, EBX, 29},
	{"umip", 7, 0, ECX, 2},
	{"pku", 7, 0, ECX, 3},
	{"la57", 7, 0, ECX, 16},
	{"rdpid", 7, 0, ECX, 22},
	{"lahf_lm", 0x80000001, 0, ECX, 0},
	{"svm", 0x80000001, 0, ECX, 2},
	{"abm", 0x80000001, 0, ECX, 5},
	{"nx", 0x80000001, 0, EDX, 20},
	{"pdpe1gb", 0x80000001, 0, EDX, 26},
	{"rdtscp", 0x80000001, 0, EDX, 27},
	{"lm", 0x80000001, 0, EDX, 29},
};

struct kvm_cpuid_entry2 *cpuid_find(struct cpuid_table *t, u32 function, u32 index)
{
	for (unsigned int i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];

		if (e->function != function)
			continue;
		if (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index)
			return e;
	}
	return NULL;
}

static u32 *cpuid_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg reg)
{
	switch (reg) {
	case EAX:
		return &e->eax;
	case EBX:
		return &e->ebx;
	case ECX:
		return &e->ecx;
	default:
		return &e->edx;
	}
}

static const struct cpu_feature *cpu_feature_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(cpu_features); i++) {
		if (strlen(cpu_features[i].name) == len &&
		    !strncmp(cpu_features[i].name, name, len))
			return &cpu_features[i];
	}
	return NULL;
}

static bool host_has(const struct cpuid_table *host, const struct cpu_feature *f)
{
	struct kvm_cpuid_entry2 *e = cpuid_find((struct cpuid_table *)host, f->function, f->index);

	return e && (*cpuid_reg(e, f->reg) & (1U << f->bit));
}

#define CPUID_VENDOR_LEN 12

/*
 * The vendor string, in leaf 0 and (as QEMU does) leaf 0x80000000: KVM then behaves as
 * that vendor's CPU where the two differ (SYSENTER MSRs in 64-bit mode, say), which is
 * what kvm-unit-tests' msr test checks with vendor=GenuineIntel on an AMD host.
 */
static int cpuid_set_vendor(struct cpuid_table *t, const char *name, size_t len, char *err,
			    size_t errlen)
{
	static const u32 leaves[] = {0, 0x80000000};

	for (size_t i = 0; i < len; i++) {
		if (name[i] < 0x20 || name[i] > 0x7e)
			len = 0;
	}
	if (len != CPUID_VENDOR_LEN) {
		snprintf(err, errlen,
			 "vendor=%.*s: a vendor is 12 printable characters, e.g. "
			 "GenuineIntel or AuthenticAMD",
			 (int)MIN(len, (size_t)40), name);
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
		struct kvm_cpuid_entry2 *e = cpuid_find(t, leaves[i], 0);

		if (!e)
			continue;
		memcpy(&e->ebx, name, 4);
		memcpy(&e->edx, name + 4, 4);
		memcpy(&e->ecx, name + 8, 4);
	}
	return 0;
}

static int cpuid_apply_one(struct cpuid_table *t, const struct cpuid_table *host, const char *item,
			   size_t len, char *err, size_t errlen)
{
	bool enable = true;
	const struct cpu_feature *f;
	struct kvm_cpuid_entry2 *e;

	if (len >= 7 && !strncmp(item, "vendor=", 7))
		return cpuid_set_vendor(t, item + 7, len - 7, err, errlen);
	if (len && (item[0] == '+' || item[0] == '-')) {
		enable = item[0] == '+';
		item++;
		len--;
	}
	f = cpu_feature_lookup(item, len);
	if (!f) {
		snprintf(err, errlen, "unknown CPU feature '%.*s'", (int)len, item);
		return -EINVAL;
	}
	if (enable && host && !host_has(host, f)) {
		snprintf(err, errlen, "CPU feature '%s' is not available on this host's KVM",
			 f->name);
		return -EINVAL;
	}
	e = cpuid_find(t, f->function, f->index);
	if (!e)
		return 0; /* the leaf is absent, so the feature already is */
	if (enable)
		*cpuid_reg(e, f->reg) |= 1U << f->bit;
	else
		*cpuid_reg(e, f->reg) &= ~(1U << f->bit);
	return 0;
}

int cpuid_apply_features(struct cpuid_table *t, const struct cpuid_table *host, const char *spec,
			 char *err, size_t errlen)
{
	const char *p = spec;

	while (p && *p) {
		size_t len = strcspn(p, ",");
		int ret;

		if (len == 0) {
			snprintf(err, errlen, "empty item in CPU feature list '%s'", spec);
			return -EINVAL;
		}
		ret = cpuid_apply_one(t, host, p, len, err, errlen);
		if (ret)
			return ret;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int cpuid_check_features(const char *spec, char *err, size_t errlen)
{
	/* An empty table: names and values are checked, there is nothing to change. */
	struct cpuid_table t = {.nent = 0};

	return cpuid_apply_features(&t, NULL, spec, err, errlen);
}

static unsigned int order_base_2(unsigned int n)
{
	unsigned int bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

/* AuthenticAMD or HygonGenuine, by leaf 0's EBX ("Auth", "Hygo"). */
static bool cpuid_is_amd(struct cpuid_table *t)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, 0, 0);

	return e && (e->ebx == 0x68747541 || e->ebx == 0x6f677948);
}

/* The entry for (function, index), added zeroed when missing; NULL when the table is full. */
static struct kvm_cpuid_entry2 *cpuid_get(struct cpuid_table *t, u32 function, u32 index)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, function, index);

	if (e || t->nent >= CPUID_MAX_ENTRIES)
		return e;
	e = &t->entries[t->nent++];
	*e = (struct kvm_cpuid_entry2){.function = function, .index = index};
	if (function == 0xb || function == 0x8000001d)
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return e;
}

/*
 * Leaves 0xB and 0x1F: level 0 the threads of a core, level 1 the logical CPUs of the
 * package. APIC IDs are the vCPU numbers, so a core's threads are neighbours.
 */
static void cpuid_set_ext_topology(struct cpuid_table *t, u32 leaf, const struct cpu_topology *top)
{
	for (unsigned int i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];

		if (e->function != leaf)
			continue;
		e->edx = top->apic_id;
		if (e->index == 0) {
			e->eax = order_base_2(top->threads);
			e->ebx = top->threads;
			e->ecx = (1 << 8) | 0;
		} else if (e->index == 1) {
			e->eax = order_base_2(top->nr_cpus);
			e->ebx = top->nr_cpus;
			e->ecx = (2 << 8) | 1;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index;
		}
	}
}

/* Threads are announced through leaf 0xB (both vendors): its levels, where KVM had none. */
static void cpuid_add_ext_topology(struct cpuid_table *t)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, 0, 0);

	if (!e)
		return;
	if (e->eax < 0xb)
		e->eax = 0xb;
	for (u32 i = 0; i < 3; i++)
		cpuid_get(t, 0xb, i);
}

/* Leaf 4 (Intel): cores per package - 1 in EAX[31:26]; who shares each cache in [25:14]. */
static void cpuid_set_cache_sharing(struct cpuid_table *t, const struct cpu_topology *top)
{
	for (unsigned int i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];
		unsigned int level = (e->eax >> 5) & 7, sharing;

		if (e->function != 4 || !(e->eax & 0x1f))
			continue;
		/* L1 and L2 belong to a core, L3 to the package. */
		sharing = level <= 2 ? top->threads : top->nr_cpus;
		e->eax &= 0x3ff;
		e->eax |= ((sharing - 1) & 0xfff) << 14;
		e->eax |= ((top->nr_cpus / top->threads - 1) & 0x3f) << 26;
	}
}

/*
 * Linux on AMD learns of threads only through TOPOEXT (0x8000001E's thread count, then
 * leaf 0xB), which KVM lists only where the host has it; it is information, nothing KVM
 * emulates, so SMT announces it. With it Linux reads its caches from 0x8000001D, leaf 4's
 * format: copied from leaf 4 where KVM gave one, else empty (no cache information).
 */
static void cpuid_set_amd_topoext(struct cpuid_table *t)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, 0x80000000, 0);
	u32 n = 0;

	if (e && e->eax < 0x8000001e)
		e->eax = 0x8000001e;
	e = cpuid_find(t, 0x80000001, 0);
	if (e)
		e->ecx |= 1U << 22; /* TOPOEXT */
	for (; n < 8; n++) {
		struct kvm_cpuid_entry2 *l4 = cpuid_find(t, 4, n), *d;

		if (!l4 || !(l4->eax & 0x1f) || !(l4->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX))
			break;
		d = cpuid_get(t, 0x8000001d, n);
		if (!d)
			return;
		d->eax = l4->eax & 0x03ffffff; /* [31:26] is reserved here */
		d->ebx = l4->ebx;
		d->ecx = l4->ecx;
		d->edx = l4->edx;
	}
	e = cpuid_get(t, 0x8000001d, n); /* type 0: no more caches */
	if (e)
		e->eax = e->ebx = e->ecx = e->edx = 0;
}

/* AMD: the package's threads in 0x80000008, a core's in 0x8000001E (TOPOEXT). */
static void cpuid_set_amd_topology(struct cpuid_table *t, const struct cpu_topology *top)
{
	struct kvm_cpuid_entry2 *e;

	e = cpuid_find(t, 0x80000008, 0);
	if (e)
		e->ecx = (order_base_2(top->nr_cpus) << 12) | ((top->nr_cpus - 1) & 0xff);
	if (top->threads > 1 && cpuid_is_amd(t))
		cpuid_set_amd_topoext(t);
	e = cpuid_find(t, 0x8000001e, 0);
	if (e) {
		e->eax = top->apic_id;
		e->ebx = ((top->threads - 1) << 8) | ((top->apic_id / top->threads) & 0xff);
		e->ecx = 0; /* node 0, one node per package */
		e->edx = 0;
	}
	e = cpuid_find(t, 0x80000001, 0);
	if (e && top->nr_cpus > 1)
		e->ecx |= 1U << 1; /* CmpLegacy */
}

void cpuid_set_topology(struct cpuid_table *t, const struct cpu_topology *top)
{
	struct cpu_topology checked = *top;
	struct kvm_cpuid_entry2 *e;

	/* Threads per core: 1, or 2 when they divide the CPUs evenly (the API checks). */
	if (checked.threads != 2 || checked.nr_cpus % 2)
		checked.threads = 1;
	top = &checked;
	e = cpuid_find(t, 1, 0);
	if (e) {
		e->ebx = (e->ebx & 0x0000ffffU) | (top->apic_id << 24) |
			 ((top->nr_cpus & 0xff) << 16);
		e->ebx = (e->ebx & ~0xff00U) | (8 << 8); /* CLFLUSH line: 8 x 8 bytes */
		if (top->nr_cpus > 1)
			e->edx |= 1U << 28; /* HTT: the logical count in EBX is valid */
		e->ecx |= 1U << 31;	    /* running under a hypervisor */
	}
	cpuid_set_cache_sharing(t, top);
	if (top->threads > 1)
		cpuid_add_ext_topology(t);
	cpuid_set_ext_topology(t, 0xb, top);
	cpuid_set_ext_topology(t, 0x1f, top);
	cpuid_set_amd_topology(t, top);
}

void cpuid_set_brand(struct cpuid_table *t, const char *brand)
{
	char buf[48] = {0};

	strncpy(buf, brand, sizeof(buf) - 1);
	for (u32 leaf = 0; leaf < 3; leaf++) {
		struct kvm_cpuid_entry2 *e = cpuid_find(t, 0x80000002 + leaf, 0);

		if (!e)
			continue;
		memcpy(&e->eax, buf + leaf * 16, 4);
		memcpy(&e->ebx, buf + leaf * 16 + 4, 4);
		memcpy(&e->ecx, buf + leaf * 16 + 8, 4);
		memcpy(&e->edx, buf + leaf * 16 + 12, 4);
	}
}

void cpuid_add_emulated(struct cpuid_table *t, bool tsc_deadline)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, 1, 0);

	if (e && tsc_deadline)
		e->ecx |= 1U << 24;
}

#define CPUID_1_EDX_MCE BIT(7)
#define CPUID_1_EDX_MCA BIT(14)
#define MCG_CTL_P	BIT(8)
#define MCG_SER_P	BIT(24)

/*
 * Without KVM_X86_SETUP_MCE, KVM offers 32 banks, and Linux reads and writes four MSRs
 * of every bank on every CPU as it boots: a few hundred exits that buy a guest nothing.
 */
u64 cpuid_guest_mcg_cap(const struct cpuid_table *t, u64 supported, int kvm_banks)
{
	const struct kvm_cpuid_entry2 *e = cpuid_find((struct cpuid_table *)t, 1, 0);
	const u32 both = CPUID_1_EDX_MCE | CPUID_1_EDX_MCA;

	if (!e || (e->edx & both) != both || kvm_banks <= 0)
		return 0;
	return (u64)(kvm_banks < GUEST_MCE_BANKS ? kvm_banks : GUEST_MCE_BANKS) |
	       (supported & (MCG_CTL_P | MCG_SER_P));
}
