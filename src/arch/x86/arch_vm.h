/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_ARCH_VM_H
#define KVMBOX_ARCH_X86_ARCH_VM_H

#include "cpuid.h"

struct arch_vm {
	struct cpuid_table supported_cpuid; /* KVM_GET_SUPPORTED_CPUID */
	struct cpuid_table cpuid;	    /* after --cpu-features; topology is per vCPU */
	u64 acpi_len;			    /* bytes of tables at X86_ACPI_GPA */
	u32 xsave2_size; /* KVM_CAP_XSAVE2: a vCPU's XSAVE bytes, 0 if no XSAVE2 */
	u64 mcg_cap;	 /* for KVM_X86_SETUP_MCE on every vCPU; 0: KVM's default stays */
};

struct vm_config;
/* --kernel and --initrd readable and of a format boot.c loads; 0 or -EXIT_BAD_INPUT. */
int x86_check_boot_files(const struct vm_config *cfg);

#endif
