/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One stub per IDT vector. Each pushes a dummy error code when the CPU does
 * not push one, so that every frame has the same layout (struct frame), then
 * the vector, and joins isr_common. isr_table lists the stubs for desc.c.
 */
#include "asm-defs.h"

	.altmacro
.macro isr_stub vec
	.text
1:
	/* Vectors that come with an error code (SDM vol. 3, table 6-1). */
	.if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
	.section .rodata
	.quad 1b
.endm

	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
	.set v, 0
	.rept 256
	isr_stub %v
	.set v, v + 1
	.endr

	.text
isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call handle_trap
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp /* vector and error code */
	iretq
