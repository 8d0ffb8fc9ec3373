/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_ARM64_BOOT_ENTRY_H
#define KVMBOX_ARCH_ARM64_BOOT_ENTRY_H

#include "../../util/types.h"

/* How the boot vCPU enters the kernel (booting.rst): at pc, with x0 the device tree. */
struct boot_entry {
	u64 pc;
	u64 x0;
};

#endif
