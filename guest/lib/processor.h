/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GUEST_PROCESSOR_H
#define GUEST_PROCESSOR_H

/* Thin wrappers around single instructions: port and MMIO access, MSRs, CPUID, control regs. */

#include "types.h"

static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 inw(u16 port)
{
	u16 v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO: volatile so that every access really happens, once, in order. */
static inline u8 readb(u64 addr)
{
	return *(volatile u8 *)addr;
}

static inline u16 readw(u64 addr)
{
	return *(volatile u16 *)addr;
}

static inline u32 readl(u64 addr)
{
	return *(volatile u32 *)addr;
}

static inline u64 readq(u64 addr)
{
	return *(volatile u64 *)addr;
}

static inline void writeb(u64 addr, u8 v)
{
	*(volatile u8 *)addr = v;
}

static inline void writew(u64 addr, u16 v)
{
	*(volatile u16 *)addr = v;
}

static inline void writel(u64 addr, u32 v)
{
	*(volatile u32 *)addr = v;
}

static inline void writeq(u64 addr, u64 v)
{
	*(volatile u64 *)addr = v;
}

static inline u64 rdmsr(u32 index)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index) : "memory");
	return lo | ((u64)hi << 32);
}

static inline void wrmsr(u32 index, u64 v)
{
	asm volatile("wrmsr" : : "c"(index), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

struct cpuid {
	u32 a, b, c, d;
};

static inline struct cpuid cpuid_count(u32 leaf, u32 subleaf)
{
	struct cpuid r;

	asm volatile("cpuid"
		     : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid cpuid(u32 leaf)
{
	return cpuid_count(leaf, 0);
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | ((u64)hi << 32);
}

#define DEFINE_CR(n)                                                   \
	static inline u64 read_cr##n(void)                             \
	{                                                              \
		u64 v;                                                 \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));          \
		return v;                                              \
	}                                                              \
	static inline void write_cr##n(u64 v)                          \
	{                                                              \
		asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline u64 read_rflags(void)
{
	u64 v;

	asm volatile("pushfq; pop %0" : "=r"(v));
	return v;
}

/* Disable interrupts, returning the old RFLAGS for irq_restore(). */
static inline u64 irq_save(void)
{
	u64 flags;

	asm volatile("pushfq; pop %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void irq_restore(u64 flags)
{
	asm volatile("push %0; popfq" : : "r"(flags) : "memory", "cc");
}

static inline void cli(void)
{
	asm volatile("cli" ::: "memory");
}

static inline void sti(void)
{
	asm volatile("sti" ::: "memory");
}

/* STI's one-instruction shadow makes "sti; hlt" race-free against a pending interrupt. */
static inline void safe_halt(void)
{
	asm volatile("sti; hlt" ::: "memory");
}

static inline void pause(void)
{
	asm volatile("pause" ::: "memory");
}

static inline void invlpg(u64 va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* CPUID feature bits, as (leaf, subleaf, register, bit). */
struct cpu_feature {
	u32 leaf, subleaf;
	u8 reg; /* 0..3 = eax..edx */
	u8 bit;
};

#define FEAT(l, s, r, b)	 ((struct cpu_feature){(l), (s), (r), (b)})
#define X86_FEATURE_PCID	 FEAT(1, 0, 2, 17)
#define X86_FEATURE_X2APIC	 FEAT(1, 0, 2, 21)
#define X86_FEATURE_TSC_DEADLINE FEAT(1, 0, 2, 24)
#define X86_FEATURE_HYPERVISOR	 FEAT(1, 0, 2, 31)
#define X86_FEATURE_APIC	 FEAT(1, 0, 3, 9)
#define X86_FEATURE_INVPCID	 FEAT(7, 0, 1, 10)
#define X86_FEATURE_RDPID	 FEAT(7, 0, 2, 22)
#define X86_FEATURE_NX		 FEAT(0x80000001, 0, 3, 20)
#define X86_FEATURE_RDTSCP	 FEAT(0x80000001, 0, 3, 27)
#define X86_FEATURE_LM		 FEAT(0x80000001, 0, 3, 29)

bool cpu_has(struct cpu_feature f);
/* The 12-byte signature of leaf 0x40000000 as a string ("" without a hypervisor). */
const char *hypervisor_signature(void);
/* Running on QEMU's TCG (directly or under a nested KVM), which skips some checks. */
bool on_tcg(void);
/* Looks up a feature by its QEMU/cpuinfo name (the first len characters of name). */
bool cpu_feature_by_name(const char *name, size_t len, struct cpu_feature *f);

#endif
