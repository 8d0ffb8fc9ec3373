// SPDX-License-Identifier: GPL-2.0-only
/* IDT, exception recovery for ASM_TRY, interrupt dispatch, per-CPU data. */
#include "libguest.h"

_Static_assert(__builtin_offsetof(struct percpu, self) == PERCPU_SELF, "asm-defs.h");
_Static_assert(__builtin_offsetof(struct percpu, fixup_rip) == PERCPU_FIXUP, "asm-defs.h");
_Static_assert(__builtin_offsetof(struct percpu, exc_vector) == PERCPU_VECTOR, "asm-defs.h");

struct idt_gate {
	u16 offset0;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset1;
	u32 offset2;
	u32 reserved;
} __attribute__((packed));

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate: IF is cleared */

extern const u64 isr_table[256];
static struct idt_gate idt[256] __aligned(16);
static irq_handler irq_handlers[256];
struct percpu percpu[MAX_CPUS];

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "?",   "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void percpu_init(u32 cpu)
{
	struct percpu *p = &percpu[cpu];

	p->self = p;
	p->cpu = cpu;
	p->exc_vector = -1;
	wrmsr(MSR_GS_BASE, (u64)p);
}

void load_idt(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) desc = {sizeof(idt) - 1, (u64)idt};

	asm volatile("lidt %0" : : "m"(desc));
}

void setup_idt(void)
{
	for (int i = 0; i < 256; i++) {
		u64 a = isr_table[i];

		idt[i] = (struct idt_gate){
			.offset0 = (u16)a,
			.selector = KERNEL_CS,
			.type_attr = GATE_INTERRUPT,
			.offset1 = (u16)(a >> 16),
			.offset2 = (u32)(a >> 32),
		};
	}
	load_idt();
}

void set_irq_handler(int vector, irq_handler h)
{
	irq_handlers[vector & 0xff] = h;
}

static void __noreturn unhandled_exception(struct frame *f)
{
	const char *name = exception_names[f->vector];

	printf("unhandled exception %lu (%s) on cpu %u: rip %lx error code %lx cr2 %lx\n",
	       f->vector, name ? name : "?", this_cpu()->cpu, f->rip, f->error_code, read_cr2());
	printf("rax %lx rbx %lx rcx %lx rdx %lx rsi %lx rdi %lx\n", f->rax, f->rbx, f->rcx, f->rdx,
	       f->rsi, f->rdi);
	printf("rsp %lx rbp %lx rflags %lx\n", f->rsp, f->rbp, f->rflags);
	exit(ABORT_CODE);
}

static void handle_exception(struct frame *f)
{
	struct percpu *c = this_cpu();

	if (!c->fixup_rip)
		unhandled_exception(f);
	/* An ASM_TRY is running: record what happened and resume after the instruction. */
	c->exc_vector = (s64)f->vector;
	c->exc_error_code = f->error_code;
	if (f->vector == PF_VECTOR)
		c->exc_cr2 = read_cr2();
	f->rip = c->fixup_rip;
	c->fixup_rip = 0;
}

void handle_trap(struct frame *f)
{
	irq_handler h;

	if (f->vector < 32) {
		handle_exception(f);
		return;
	}
	this_cpu()->irqs++;
	h = irq_handlers[f->vector];
	if (h)
		h(f);
	else if (f->vector != SPURIOUS_VECTOR)
		printf("unexpected interrupt, vector %lu on cpu %u\n", f->vector, this_cpu()->cpu);
	/* A spurious interrupt does not set an ISR bit, so it must not be EOIed. */
	if (f->vector != SPURIOUS_VECTOR)
		apic_eoi();
}

int rdmsr_safe(u32 index, u64 *val)
{
	u32 lo = 0, hi = 0;

	asm volatile(ASM_TRY("rdmsr") : "+a"(lo), "+d"(hi) : "c"(index) : "memory");
	*val = lo | ((u64)hi << 32);
	return exception_vector();
}

int wrmsr_safe(u32 index, u64 val)
{
	asm volatile(ASM_TRY("wrmsr")
		     :
		     : "c"(index), "a"((u32)val), "d"((u32)(val >> 32))
		     : "memory");
	return exception_vector();
}

int write_cr4_safe(u64 val)
{
	asm volatile(ASM_TRY("mov %0, %%cr4") : : "r"(val) : "memory");
	return exception_vector();
}
