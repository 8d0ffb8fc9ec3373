/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Boot path: a multiboot loader enters _start in 32-bit protected mode with
 * paging off; APs arrive in real mode at the trampoline. Both switch to long
 * mode with the same static page tables and end up in C (bsp_main / ap_main).
 */
#include "asm-defs.h"

#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003 /* bit 0: page-aligned modules, bit 1: memory info */

	/* First in the image (see guest.ld), so it sits in the first 8 KiB. */
	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

/*
 * 32-bit protected mode, paging off -> long mode (still running 32-bit code
 * until the far jump that follows). Needs no stack; clobbers eax-edx, esi.
 */
.macro enter_long_mode
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	/* EFER.NXE is reserved without NX: set it only when CPUID has NX. */
	xor %esi, %esi
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb 1f
	mov $0x80000001, %eax
	cpuid
	bt $20, %edx
	jnc 1f
	mov $EFER_NXE, %esi
1:	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	or %esi, %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG | CR0_WP | CR0_PE), %eax
	mov %eax, %cr0
.endm

.macro load_data_segments
	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
.endm

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	/* The multiboot handshake, read later by C. */
	mov %eax, mb_magic
	mov %ebx, mb_info
	/* The loader's GDT may be anywhere (even in memory we reuse): use ours. */
	lgdt gdt_desc
	ljmp $KERNEL_CS32, $1f
1:	load_data_segments
	enter_long_mode
	ljmp $KERNEL_CS, $bsp_start64

	.code64
bsp_start64:
	load_data_segments
	mov $(cpu_stacks + STACK_SIZE), %rsp
	call bsp_main
	jmp halt_forever

	.globl halt_forever
halt_forever:
	cli
	hlt
	jmp halt_forever

/*
 * AP trampoline, copied to TRAMPOLINE_ADDR and entered through a SIPI with
 * CS = TRAMPOLINE_ADDR >> 4, IP = 0. Only offsets from trampoline_start may
 * be used here; the 32-bit code it jumps to runs at its linked address.
 */
	.code16
	.globl trampoline_start, trampoline_end
trampoline_start:
	cli
	mov %cs, %ax
	mov %ax, %ds
	lgdtl tramp_gdt_desc - trampoline_start
	mov %cr0, %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl $KERNEL_CS32, $ap_start32
	.balign 8
tramp_gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
trampoline_end:

	.code32
ap_start32:
	load_data_segments
	enter_long_mode
	ljmp $KERNEL_CS, $ap_start64

	.code64
ap_start64:
	load_data_segments
	/* The BSP starts one AP at a time and sets this for it. */
	mov ap_boot_stack(%rip), %rsp
	call ap_main
	jmp halt_forever

	.data
	.balign 16
	.globl gdt
gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* KERNEL_CS: 64-bit code */
	.quad 0x00cf92000000ffff /* KERNEL_DS: flat data */
	.quad 0x00cf9a000000ffff /* KERNEL_CS32: flat 32-bit code */
gdt_end:
	.balign 8
	.word 0, 0, 0 /* so that the base below is 8-byte aligned */
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.globl mb_magic, mb_info
	.balign 4
mb_magic:
	.long 0
mb_info:
	.long 0

/*
 * Identity map of the first 4 GiB with 2 MiB pages, built by the assembler so
 * that no guest instructions are spent on it. 3-4 GiB is the MMIO hole
 * (LAPIC, IOAPIC, PCI BARs): mapped uncacheable with PCD | PWT.
 */
#define PTE_P   0x01
#define PTE_W   0x02
#define PTE_PWT 0x08
#define PTE_PCD 0x10
#define PTE_PS  0x80

	.section .data.pgtable, "aw"
	.balign 4096
	.globl pml4
pml4:
	.quad pdpt + (PTE_P | PTE_W)
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + (PTE_P | PTE_W)
	.quad pd + 0x1000 + (PTE_P | PTE_W)
	.quad pd + 0x2000 + (PTE_P | PTE_W)
	.quad pd + 0x3000 + (PTE_P | PTE_W)
	.fill 508, 8, 0
pd:
	.set i, 0
	.rept 2048
	.if i < 1536
	.quad (i << 21) | (PTE_P | PTE_W | PTE_PS)
	.else
	.quad (i << 21) | (PTE_P | PTE_W | PTE_PS | PTE_PCD | PTE_PWT)
	.endif
	.set i, i + 1
	.endr
