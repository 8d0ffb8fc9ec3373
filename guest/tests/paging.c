// SPDX-License-Identifier: GPL-2.0-only
/* Page allocator and 4 KiB mappings: an alias above 4 GiB sees what the identity map sees. */
#include "libguest.h"

#define ALIAS_VA 0x0000008000000000ULL /* 512 GiB: needs a new PDPT and page directory */

int main(void)
{
	u64 *a = alloc_page(), *b = alloc_page();
	volatile u64 *alias = (volatile u64 *)ALIAS_VA;
	int level;

	report_prefix_push("paging");
	report(a && b && a != b, "two distinct pages (%p, %p)", a, b);
	report((u64)a >= 0x100000 && ((u64)a & 0xfff) == 0,
	       "allocated page is page aligned, above 1 MiB");
	report(mm_free_pages() > 0, "%lu pages left", mm_free_pages());
	report(get_pte((u64)a, &level) && level == 2, "the boot identity map uses 2 MiB pages");
	report(virt_to_phys(ALIAS_VA) == ~0ULL, "%#llx is not mapped at first", ALIAS_VA);

	install_page(ALIAS_VA, (u64)a, PT_WRITE);
	report(virt_to_phys(ALIAS_VA) == (u64)a, "alias maps to %p", a);
	a[3] = 0x1122334455667788ULL;
	report(alias[3] == 0x1122334455667788ULL,
	       "write through the identity map, read through the alias");
	alias[4] = 42;
	report(a[4] == 42, "write through the alias, read through the identity map");

	install_page(ALIAS_VA, (u64)b, PT_WRITE);
	b[3] = 7;
	report(alias[3] == 7, "remapped alias (invlpg) sees the new page");
	unmap_page(ALIAS_VA);
	report(virt_to_phys(ALIAS_VA) == ~0ULL, "unmapped again");
	free_page(b);
	report(alloc_page() == b, "a freed page is handed out again");
	return report_summary();
}
