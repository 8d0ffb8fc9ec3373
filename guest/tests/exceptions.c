// SPDX-License-Identifier: GPL-2.0-only
/*
 * The library's IDT: each faulting instruction reports the right vector and
 * error code. skip=int3 leaves out INT3, which a /dev/kvm that emulates all
 * ring-0 code may fail to emulate.
 */
#include "libguest.h"

static int try_ud2(void)
{
	asm volatile(ASM_TRY("ud2")::: "memory");
	return exception_vector();
}

static int try_int3(void)
{
	asm volatile(ASM_TRY("int3")::: "memory");
	return exception_vector();
}

static int try_divide(u32 divisor)
{
	u32 lo = 1, hi = 0;

	asm volatile(ASM_TRY("divl %2") : "+a"(lo), "+d"(hi) : "r"(divisor) : "memory");
	return exception_vector();
}

/* Loading a selector beyond the GDT limit: #GP with the selector as error code. */
static int try_load_ds(u16 sel)
{
	u16 old;

	asm volatile("mov %%ds, %0" : "=r"(old));
	asm volatile(ASM_TRY("mov %0, %%ds") : : "r"(sel) : "memory");
	asm volatile("mov %0, %%ds" : : "r"(old));
	return exception_vector();
}

static int try_read(u64 addr)
{
	u64 v;

	asm volatile(ASM_TRY("mov (%1), %0") : "=r"(v) : "r"(addr) : "memory");
	return exception_vector();
}

static void test_page_fault(void)
{
	u64 page = (u64)alloc_page();
	int vec;

	if (!page) {
		report_skip("#PF: no free page");
		return;
	}
	unmap_page(page);
	vec = try_read(page + 8);
	/* Error code bit 0 clear: the page was not present. */
	report(vec == PF_VECTOR && this_cpu()->exc_cr2 == page + 8 && !(exception_error_code() & 1),
	       "read of an unmapped page: #PF, CR2 %#lx, error code %#lx", this_cpu()->exc_cr2,
	       exception_error_code());
	install_page(page, page, PT_WRITE);
	report(try_read(page) == -1, "mapped again: no fault");
	free_page((void *)page);
}

int main(void)
{
	int vec;

	report_prefix_push("exceptions");
	report(try_ud2() == UD_VECTOR, "ud2: #UD");
	if (test_wanted("int3"))
		report(try_int3() == BP_VECTOR, "int3: #BP");
	report(try_divide(0) == DE_VECTOR, "divide by zero: #DE");
	report(try_divide(3) == -1, "divide by three: no exception");
	vec = try_load_ds(0x1230);
	report(vec == GP_VECTOR && exception_error_code() == 0x1230,
	       "mov to ds beyond the GDT: #GP, error code %#lx", exception_error_code());
	report(try_read(0x0000800000000000ULL) == GP_VECTOR, "non-canonical read: #GP");
	test_page_fault();
	/* The recovery address is cleared after use: a later fault would not be caught. */
	report(this_cpu()->fixup_rip == 0, "no recovery address left behind");
	return report_summary();
}
