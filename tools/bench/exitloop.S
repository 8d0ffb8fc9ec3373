/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * exitloop: the guest of the exit and memory benchmarks (tools/bench/exits, mem).
 *
 * A multiboot v1 ELF32 kernel in 32-bit protected mode, no paging, interrupts
 * off. It needs nothing but COM1 (polled) and, at the end, the debug-exit port
 * 0xf4, so the same image runs under kvmbox, QEMU and tools/bench/bare_kvm_run.
 *
 * Command line (multiboot cmdline, whitespace-separated words):
 *   iters=N    iterations of each timed loop (default 1000)
 *   rounds=N   how many times the whole set of loops runs (default 1)
 *   idle       print "exitloop: ready" and halt forever (the memory benchmark)
 *
 * Each operation prints "exitloop: OP MEAN cycles/op min MIN median MEDIAN":
 * guest TSC cycles of one iteration averaged over a loop of iters, then the
 * fastest and the median single iteration of a second loop that reads the TSC
 * around each one (so MIN and MEDIAN include one RDTSC; at most the first 2048
 * iterations are kept). The loop bodies:
 *   pio_out     outb to port 0x80: nothing behind it in kvmbox, a no-op in QEMU
 *   pio_in      inb from port 0x80
 *   mmio_read   32-bit read of 0xd0000000 (unmapped: in the PCI hole, no BAR)
 *   mmio_write  32-bit write there
 *   uart_scr    outb to COM1's scratch register: a real device handler in the
 *               VMMs, ignored by bare_kvm_run
 *   cpuid       CPUID leaf 0: handled in the kernel, never reaches user space
 * Then "exitloop: done" and a write of 0 to the debug-exit port.
 */

#define MB_HEADER_MAGIC	0x1badb002
#define MB_HEADER_FLAGS	0x00000002 /* bit 1: wants mem_* fields; no a.out kludge */
#define MB_BOOT_MAGIC	0x2badb002
#define MB_INFO_CMDLINE	0x4

#define COM1		0x3f8
#define COM1_LSR	(COM1 + 5)
#define COM1_SCR	(COM1 + 7)
#define LSR_THRE	0x20
#define PORT_UNUSED	0x80
#define PORT_DEBUG_EXIT	0xf4
#define MMIO_UNMAPPED	0xd0000000

#define DEFAULT_ITERS	1000
#define SAMPLES_MAX	2048	/* single-iteration timings kept for min and median */

	.section .multiboot, "a"
	.balign 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	mov	$stack_top, %esp
	cmp	$MB_BOOT_MAGIC, %eax
	jne	1f
	testl	$MB_INFO_CMDLINE, (%ebx)
	jz	1f
	mov	16(%ebx), %esi
	call	parse_cmdline
1:
	cmpb	$0, idle
	jne	idle_forever

	mov	$msg_iters, %esi
	call	puts
	mov	iters, %eax
	call	putu
	mov	$msg_rounds, %esi
	call	puts
	mov	rounds, %eax
	call	putu
	mov	$10, %al
	call	putc

	/* One loop per operation; each body keeps %ecx, the loop counter. */
.macro	op_pio_out
	out	%al, $PORT_UNUSED
.endm
.macro	op_pio_in
	in	$PORT_UNUSED, %al
.endm
.macro	op_mmio_read
	mov	MMIO_UNMAPPED, %eax
.endm
.macro	op_mmio_write
	mov	%eax, MMIO_UNMAPPED
.endm
.macro	op_uart_scr
	mov	$COM1_SCR, %dx
	out	%al, %dx
.endm
.macro	op_cpuid
	push	%ecx
	push	%ebx
	xor	%eax, %eax
	cpuid
	pop	%ebx
	pop	%ecx
.endm

/*
 * Two loops per operation: a tight one for the mean (one TSC read at each end),
 * and one that times each iteration into samples[] (the first SAMPLES_MAX of
 * them), sorted afterwards for the minimum and the median: figures that
 * preemption and other noise on the host inflate far less than the mean.
 */
.macro	MEASURE name, body
	.pushsection .rodata
.Lname\@:
	.asciz	"\name"
	.popsection
	\body				/* warm-up: the first exit may fault pages in */
	rdtsc
	mov	%eax, t0
	mov	%edx, t0 + 4
	mov	iters, %ecx
.Lloop\@:
	\body
	dec	%ecx
	jnz	.Lloop\@
	rdtsc
	sub	t0, %eax
	sbb	t0 + 4, %edx
	mov	%eax, mean_total
	mov	%edx, mean_total + 4
	mov	nsamples, %ecx
	mov	$samples, %edi
.Lsample\@:
	rdtsc
	mov	%eax, %esi
	\body
	rdtsc
	sub	%esi, %eax
	mov	%eax, (%edi)
	add	$4, %edi
	dec	%ecx
	jnz	.Lsample\@
	mov	$.Lname\@, %esi
	call	report
.endm

	mov	iters, %eax
	cmp	$SAMPLES_MAX, %eax
	jbe	1f
	mov	$SAMPLES_MAX, %eax
1:	mov	%eax, nsamples
	mov	rounds, %eax
	mov	%eax, rounds_left
next_round:
	MEASURE	pio_out, op_pio_out
	MEASURE	pio_in, op_pio_in
	MEASURE	mmio_read, op_mmio_read
	MEASURE	mmio_write, op_mmio_write
	MEASURE	uart_scr, op_uart_scr
	MEASURE	cpuid, op_cpuid
	decl	rounds_left
	jnz	next_round

	mov	$msg_done, %esi
	call	puts
	xor	%eax, %eax
	out	%al, $PORT_DEBUG_EXIT
	/* No debug-exit device: stay halted. */
halt_forever:
	cli
	hlt
	jmp	halt_forever

idle_forever:
	mov	$msg_ready, %esi
	call	puts
	jmp	halt_forever

/*
 * report: %esi = operation name; mean_total = TSC cycles of the tight loop,
 * samples[] = the cycles of single iterations. Prints
 * "exitloop: NAME MEAN cycles/op min MIN median MEDIAN".
 */
report:
	push	%esi
	mov	$msg_prefix, %esi
	call	puts
	pop	%esi
	call	puts
	mov	$32, %al
	call	putc
	mov	mean_total, %eax
	mov	mean_total + 4, %edx
	cmp	iters, %edx		/* the quotient must fit in 32 bits */
	jae	1f
	divl	iters
	call	putu
	jmp	2f
1:	mov	$msg_overflow, %esi
	call	puts
2:	mov	$msg_per_op, %esi
	call	puts
	call	sort_samples
	mov	$msg_min, %esi
	call	puts
	mov	samples, %eax
	call	putu
	mov	$msg_median, %esi
	call	puts
	mov	nsamples, %eax
	shr	%eax
	mov	samples(,%eax,4), %eax
	call	putu
	mov	$10, %al
	call	putc
	ret

/* sort_samples: insertion sort of samples[0..nsamples), ascending. */
sort_samples:
	pusha
	mov	nsamples, %ecx
	mov	$1, %esi		/* samples[0..i) are sorted */
1:	cmp	%ecx, %esi
	jae	4f
	mov	samples(,%esi,4), %eax
	mov	%esi, %edi
2:	test	%edi, %edi		/* shift larger ones up to make room */
	jz	3f
	mov	samples - 4(,%edi,4), %edx
	cmp	%eax, %edx
	jbe	3f
	mov	%edx, samples(,%edi,4)
	dec	%edi
	jmp	2b
3:	mov	%eax, samples(,%edi,4)
	inc	%esi
	jmp	1b
4:	popa
	ret

/*
 * parse_cmdline: %esi = NUL-terminated command line. Sets iters, rounds, idle.
 * The first word (the image path) matches nothing and is skipped like any other.
 */
parse_cmdline:
	push	%edi
next_word:
	lodsb
	cmp	$32, %al
	je	next_word
	cmp	$9, %al
	je	next_word
	test	%al, %al
	jz	parsed
	dec	%esi			/* %esi: start of the word */
	mov	$word_iters, %edi
	call	match_prefix
	jne	1f
	call	getu
	test	%eax, %eax
	jz	skip_word
	mov	%eax, iters
	jmp	skip_word
1:	mov	$word_rounds, %edi
	call	match_prefix
	jne	2f
	call	getu
	test	%eax, %eax
	jz	skip_word
	mov	%eax, rounds
	jmp	skip_word
2:	mov	$word_idle, %edi
	call	match_prefix
	jne	skip_word
	mov	(%esi), %al		/* "idle" must be the whole word */
	cmp	$32, %al
	jbe	3f
	jmp	skip_word
3:	movb	$1, idle
skip_word:
	mov	(%esi), %al
	cmp	$32, %al
	jbe	next_word		/* space, tab or NUL: lodsb looks at it */
	inc	%esi
	jmp	skip_word
parsed:
	pop	%edi
	ret

/*
 * match_prefix: does the string at %esi start with the NUL-terminated %edi?
 * ZF set if so, and %esi then points past the prefix; %esi unchanged if not.
 */
match_prefix:
	push	%esi
	push	%eax
1:	mov	(%edi), %al
	test	%al, %al
	jz	2f
	cmp	(%esi), %al
	jne	3f
	inc	%esi
	inc	%edi
	jmp	1b
2:	pop	%eax
	lea	4(%esp), %esp		/* drop the saved %esi; lea keeps ZF set */
	ret
3:	pop	%eax
	pop	%esi			/* ZF is still clear: mov and pop leave flags alone */
	ret

/* getu: decimal digits at %esi into %eax (0 if none or on overflow); advances %esi. */
getu:
	push	%ebx
	push	%edx
	xor	%eax, %eax
1:	movzbl	(%esi), %ebx
	sub	$48, %ebx
	cmp	$9, %ebx
	ja	2f
	mov	$10, %edx
	mul	%edx
	jc	3f
	add	%ebx, %eax
	jc	3f
	inc	%esi
	jmp	1b
3:	xor	%eax, %eax
2:	pop	%edx
	pop	%ebx
	ret

/* putc: %al to COM1 once its transmitter is empty. Keeps every register. */
putc:
	push	%edx
	push	%eax
	mov	$COM1_LSR, %dx
1:	in	%dx, %al
	test	$LSR_THRE, %al
	jz	1b
	pop	%eax
	mov	$COM1, %dx
	out	%al, %dx
	pop	%edx
	ret

/* puts: the NUL-terminated string at %esi. Keeps every register but %esi. */
puts:
	push	%eax
1:	lodsb
	test	%al, %al
	jz	2f
	call	putc
	jmp	1b
2:	pop	%eax
	ret

/* putu: %eax in decimal. Keeps every register. */
putu:
	pusha
	mov	$numbuf_end, %edi
	movb	$0, (%edi)
	mov	$10, %ebx
1:	xor	%edx, %edx
	div	%ebx
	add	$48, %dl
	dec	%edi
	mov	%dl, (%edi)
	test	%eax, %eax
	jnz	1b
	mov	%edi, %esi
	call	puts
	popa
	ret

	.section .rodata
msg_prefix:	.asciz "exitloop: "
msg_iters:	.asciz "exitloop: iters "
msg_rounds:	.asciz " rounds "
msg_per_op:	.asciz " cycles/op"
msg_min:	.asciz " min "
msg_median:	.asciz " median "
msg_overflow:	.asciz "overflow"
msg_done:	.asciz "exitloop: done\n"
msg_ready:	.asciz "exitloop: ready\n"
word_iters:	.asciz "iters="
word_rounds:	.asciz "rounds="
word_idle:	.asciz "idle"

	.data
	.balign 4
iters:		.long DEFAULT_ITERS
rounds:		.long 1
idle:		.byte 0

	.bss
	.balign 8
t0:		.quad 0
mean_total:	.quad 0
nsamples:	.long 0
rounds_left:	.long 0
numbuf:		.skip 12
numbuf_end:	.skip 4
samples:	.skip 4 * SAMPLES_MAX
	.balign 16
stack:		.skip 4096
stack_top:
