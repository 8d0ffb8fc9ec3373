// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPUID as the VMM sets it up: hypervisor bit and signature, per-CPU topology
 * (APIC IDs in leaves 1 and 0xB match the LAPIC), features masked on request.
 *
 * Arguments: hv=SIGNATURE (expected in leaf 0x40000000, e.g. KVMKVMKVM),
 * masked=NAME,... (must be absent), present=NAME,... (must be present).
 */
#include "libguest.h"

struct topo {
	u32 lapic, leaf1, leafb;
	bool has_leafb;
};

static struct topo topo[MAX_CPUS];

static void read_topology(void *arg)
{
	struct topo *t = &topo[smp_id()];

	(void)arg;
	t->lapic = apic_id();
	t->leaf1 = cpuid(1).b >> 24;
	t->has_leafb = cpuid(0).a >= 0xb && cpuid_count(0xb, 0).b != 0;
	if (t->has_leafb)
		t->leafb = cpuid_count(0xb, 0).d;
}

static void test_topology(void)
{
	int n = smp_init();
	bool ok1 = true, okb = true, any_b = false;

	on_cpus(read_topology, NULL);
	for (int i = 0; i < n; i++) {
		ok1 &= topo[i].leaf1 == (topo[i].lapic & 0xff);
		if (topo[i].has_leafb) {
			any_b = true;
			okb &= topo[i].leafb == topo[i].lapic;
		}
		if (topo[i].leaf1 != (topo[i].lapic & 0xff) || topo[i].leafb != topo[i].lapic)
			report_info("cpu %d: LAPIC ID %u, leaf 1 %u, leaf 0xb %u", i, topo[i].lapic,
				    topo[i].leaf1, topo[i].leafb);
	}
	report(ok1, "leaf 1 initial APIC ID matches the LAPIC on all %d CPUs", n);
	if (any_b)
		report(okb, "leaf 0xb x2APIC ID matches the LAPIC on all CPUs");
	else
		report_skip("no leaf 0xb");
}

static void test_hypervisor(void)
{
	const char *want = getarg("hv");
	const char *sig = hypervisor_signature();
	struct cpuid r = cpuid(0x40000000);

	report(cpu_has(X86_FEATURE_HYPERVISOR), "leaf 1 ECX hypervisor bit set");
	if (!want) {
		report_skip("no hv= argument (signature \"%s\")", sig);
		return;
	}
	/* The 12 bytes are the name padded with NULs: "KVMKVMKVM\0\0\0" compares equal. */
	report(!strcmp(sig, want), "leaf 0x40000000 signature \"%s\" is \"%s\"", sig, want);
	report(r.a >= 0x40000001, "leaf 0x40000000 EAX %#x names further leaves", r.a);
}

/* For each name of the comma-separated list: is it there as it should be? */
static void check_features(const char *list, bool want)
{
	while (list && *list) {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);
		struct cpu_feature f;

		if (!cpu_feature_by_name(list, len, &f))
			report(false, "unknown feature name %.*s", (int)len, list);
		else
			report(cpu_has(f) == want, "%.*s is %s", (int)len, list,
			       want ? "present" : "masked");
		list = comma ? comma + 1 : NULL;
	}
}

int main(void)
{
	struct cpuid r = cpuid(0);
	char vendor[13];

	memcpy(vendor + 0, &r.b, 4);
	memcpy(vendor + 4, &r.d, 4);
	memcpy(vendor + 8, &r.c, 4);
	vendor[12] = '\0';
	report_prefix_push("cpuid");
	report_info("vendor %s, max leaf %#x, max extended leaf %#x", vendor, r.a,
		    cpuid(0x80000000).a);
	test_hypervisor();
	test_topology();
	check_features(getarg("masked"), false);
	check_features(getarg("present"), true);
	return report_summary();
}
