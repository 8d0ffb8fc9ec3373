/* SPDX-License-Identifier: GPL-2.0-only */
/* A multiboot kernel that prints "R" and asks the keyboard controller for a reset. */
	.text
	.align 4
	.long 0x1badb002, 0, -0x1badb002
	.text
	.code32
	.globl _start
_start:
	mov $0x3f8, %dx
	mov $'R', %al
	out %al, %dx
	mov $'\n', %al
	out %al, %dx
	mov $0xfe, %al		/* i8042: pulse the reset line */
	out %al, $0x64
1:	hlt
	jmp 1b
