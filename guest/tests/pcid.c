// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCID and INVPCID as CPUID announces them: #UD for INVPCID when hidden, all
 * four INVPCID types when shown (with CR4.PCIDE on when PCID exists), #GP
 * for setting CR4.PCIDE without PCID.
 *
 * Arguments: expect=pcid,-invpcid,... states what CPUID must show (for runs
 * where the VMM masks features); skip=invpcid leaves INVPCID out (a /dev/kvm
 * that emulates ring-0 code may not know the instruction).
 */
#include "libguest.h"

#define CR4_PCIDE BIT(17)

struct invpcid_desc {
	u64 pcid;
	u64 addr;
};

static int try_invpcid(u64 type, u64 pcid, u64 addr)
{
	struct invpcid_desc d = {pcid, addr};

	asm volatile(ASM_TRY("invpcid %0, %1") : : "m"(d), "r"(type) : "memory");
	return exception_vector();
}

static void check_expectations(const char *list)
{
	while (list && *list) {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);
		bool want = *list != '-';
		const char *name = want ? list : list + 1;
		size_t nlen = want ? len : len - 1;
		struct cpu_feature f;

		if (!cpu_feature_by_name(name, nlen, &f))
			report(false, "unknown feature %.*s", (int)nlen, name);
		else
			report(cpu_has(f) == want, "CPUID %s %.*s", want ? "has" : "lacks",
			       (int)nlen, name);
		list = comma ? comma + 1 : NULL;
	}
}

static void test_invpcid_types(bool pcide)
{
	const u64 va = (u64)&test_invpcid_types;
	const u64 pcid = pcide ? 1 : 0;

	report(try_invpcid(0, pcid, va) == -1, "type 0 (address) PCID %lu", pcid);
	report(try_invpcid(1, pcid, 0) == -1, "type 1 (context) PCID %lu", pcid);
	report(try_invpcid(2, 0, 0) == -1, "type 2 (all, with globals)");
	report(try_invpcid(3, 0, 0) == -1, "type 3 (all but globals)");
	report(try_invpcid(4, 0, 0) == GP_VECTOR, "type 4: #GP");
	report(try_invpcid(0, 0, 0x0000800000000000ULL) == GP_VECTOR,
	       "type 0, non-canonical address: #GP");
	report(try_invpcid(1, 0x1000, 0) == GP_VECTOR, "PCID above 4095: #GP");
	if (!pcide)
		report(try_invpcid(1, 1, 0) == GP_VECTOR, "PCID 1 with CR4.PCIDE clear: #GP");
}

static void test_with_pcide(void)
{
	u64 cr4 = read_cr4(), cr3 = read_cr3();

	report(write_cr4_safe(cr4 | CR4_PCIDE) == -1, "CR4.PCIDE can be set");
	report_prefix_push("PCIDE=1");
	write_cr3(cr3 | 1);
	report((read_cr3() & 0xfff) == 1, "CR3 holds PCID 1");
	if (cpu_has(X86_FEATURE_INVPCID))
		test_invpcid_types(true);
	write_cr3(cr3);
	report_prefix_pop();
	report(write_cr4_safe(cr4) == -1, "CR4.PCIDE can be cleared");
}

static void test_pcide_reserved(void)
{
	u64 cr4 = read_cr4();
	int vec = write_cr4_safe(cr4 | CR4_PCIDE);

	if (vec == -1)
		write_cr4(cr4);
	/* QEMU's TCG lets CR4.PCIDE be set without PCID. */
	report_xfail(on_tcg(), vec == GP_VECTOR, "CR4.PCIDE without CPUID support: #GP");
}

int main(void)
{
	bool pcid = cpu_has(X86_FEATURE_PCID), invpcid = cpu_has(X86_FEATURE_INVPCID);

	report_prefix_push("pcid");
	report_info("CPUID: PCID %s, INVPCID %s", pcid ? "yes" : "no", invpcid ? "yes" : "no");
	check_expectations(getarg("expect"));
	if (!test_wanted("invpcid")) {
		/* nothing: INVPCID is not even tried */
	} else if (invpcid) {
		report_prefix_push("PCIDE=0");
		test_invpcid_types(false);
		report_prefix_pop();
	} else {
		report(try_invpcid(2, 0, 0) == UD_VECTOR, "INVPCID without CPUID support: #UD");
	}
	if (pcid)
		test_with_pcide();
	else
		test_pcide_reserved();
	return report_summary();
}
