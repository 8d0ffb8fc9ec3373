/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The idle guest of tools/bench/mem --arch arm64: the arm64 counterpart of
 * exitloop.elf's "idle". An arm64 Image (the 64-byte header of the Linux boot
 * protocol, so that kvmbox and QEMU's -kernel both load it) that prints
 * "exitloop: ready" on the PL011 of QEMU's virt map and kvmbox's board, then
 * waits in WFI with interrupts masked: the VMM sits still while its memory is
 * read. The MMU is off; everything is PC-relative, so any load address works.
 */
	.text
	.globl	_start
_start:
	b	entry				/* code0 */
	.long	0				/* code1 */
	.quad	0				/* text_offset */
	.quad	image_end - _start		/* image_size */
	.quad	0xa				/* flags: little endian, 4K pages, anywhere in RAM */
	.quad	0, 0, 0				/* res2-res4 */
	.ascii	"ARM\x64"			/* magic */
	.long	0				/* res5: no PE header */

entry:
	msr	daifset, #0xf
	ldr	x1, =0x09000000			/* PL011 */
	mov	w3, #0x301			/* UARTCR: UARTEN, TXE, RXE */
	str	w3, [x1, #0x30]
	adr	x2, msg
1:	ldrb	w3, [x2], #1
	cbz	w3, 2f
	str	w3, [x1]			/* UARTDR */
	b	1b
2:	wfi
	b	2b

msg:	.asciz	"exitloop: ready\n"
	.balign	8
	.ltorg
image_end:
