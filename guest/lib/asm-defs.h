/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_ASM_DEFS_H
#define GUEST_ASM_DEFS_H

/*
 * Constants shared by the assembly entry code and C. Only plain numbers here:
 * this file is included from .S files too.
 */

/* GDT selectors, see gdt in entry.S. */
#define KERNEL_CS   0x08 /* 64-bit code */
#define KERNEL_DS   0x10
#define KERNEL_CS32 0x18 /* flat 32-bit code, used on the way to long mode */

#define MAX_CPUS   64
#define STACK_SIZE 8192

/* Field offsets of struct percpu (checked by static asserts in desc.c). */
#define PERCPU_SELF   0
#define PERCPU_FIXUP  8
#define PERCPU_VECTOR 16

/* The AP trampoline is copied here; the SIPI vector is its page number. */
#define TRAMPOLINE_ADDR 0x10000

#define MSR_EFER    0xc0000080
#define MSR_GS_BASE 0xc0000101
#define EFER_LME    (1 << 8)
#define EFER_NXE    (1 << 11)
#define CR0_PE	    (1 << 0)
#define CR0_WP	    (1 << 16)
#define CR0_PG	    (1 << 31)
#define CR4_PAE	    (1 << 5)

#endif
