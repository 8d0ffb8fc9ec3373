/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_DESC_H
#define GUEST_DESC_H

/* Per-CPU state, the IDT, exceptions a test expects, and interrupt handlers. */

#include "asm-defs.h"
#include "types.h"

/* Register state saved by isr.S, lowest address first. */
struct frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*work_fn)(void *arg);

struct percpu {
	struct percpu *self; /* PERCPU_SELF: %gs:0 finds the structure */
	u64 fixup_rip;	     /* PERCPU_FIXUP: where ASM_TRY resumes after a fault */
	s64 exc_vector;	     /* PERCPU_VECTOR: last caught exception, -1 for none */
	u64 exc_error_code;
	u64 exc_cr2;
	u32 cpu; /* index: 0 is the BSP, then MADT order */
	u32 apic_id;
	bool x2apic; /* this CPU's LAPIC is in x2APIC mode */
	volatile bool online;
	volatile work_fn work; /* on_cpu(): set by the caller, cleared when done */
	void *volatile work_arg;
	volatile u64 irqs; /* interrupts taken, all vectors */
};

extern struct percpu percpu[MAX_CPUS];

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	asm volatile("mov %%gs:" __stringify(PERCPU_SELF) ", %0" : "=r"(p));
	return p;
}

/* Exception vectors. */
#define DE_VECTOR 0
#define DB_VECTOR 1
#define BP_VECTOR 3
#define UD_VECTOR 6
#define DF_VECTOR 8
#define TS_VECTOR 10
#define NP_VECTOR 11
#define SS_VECTOR 12
#define GP_VECTOR 13
#define PF_VECTOR 14

/*
 * ASM_TRY(insn): run insn inside an extended asm statement; if it faults the
 * exception handler records the vector and resumes right after it. Read the
 * result with exception_vector() (-1: no exception). Uses local label 9990.
 */
#define ASM_TRY(insn)                                                              \
	"movq $-1, %%gs:" __stringify(                                             \
		PERCPU_VECTOR) "\n\t"                                              \
			       "movq $9990f, %%gs:" __stringify(                   \
				       PERCPU_FIXUP) "\n\t" insn "\n\t"            \
						     "9990:\n\t"                   \
						     "movq $0, %%gs:" __stringify( \
							     PERCPU_FIXUP) "\n\t"

static inline int exception_vector(void)
{
	return (int)this_cpu()->exc_vector;
}

static inline u64 exception_error_code(void)
{
	return this_cpu()->exc_error_code;
}

/* The exception vector raised by rdmsr/wrmsr, or -1. */
int rdmsr_safe(u32 index, u64 *val);
int wrmsr_safe(u32 index, u64 val);
int write_cr4_safe(u64 val);

void setup_idt(void);
void load_idt(void);
void percpu_init(u32 cpu);

typedef void (*irq_handler)(struct frame *f);
/* Run h for vector (32..255) on any CPU; the LAPIC EOI is sent after it returns. */
void set_irq_handler(int vector, irq_handler h);

#endif
