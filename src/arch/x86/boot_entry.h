/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_BOOT_ENTRY_H
#define KVMBOX_ARCH_X86_BOOT_ENTRY_H

#include "../../util/types.h"

/* How the boot vCPU enters the guest image the loader placed in memory. */
struct boot_entry {
	enum { BOOT_ENTRY_LONG64, BOOT_ENTRY_PROT32 } mode;
	u64 rip;
	u64 rsi;      /* Linux 64-bit boot protocol: the zero page */
	u32 eax, ebx; /* multiboot: magic and info pointer */
};

#endif
