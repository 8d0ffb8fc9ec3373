// SPDX-License-Identifier: GPL-2.0-only
/* Local APIC in either mode, LAPIC timer, IPIs, and the IOAPIC redirection table. */
#include "libguest.h"

#define APIC_TDCR_DIV1 0xb
#define IOAPIC_REGSEL  0x00
#define IOAPIC_WINDOW  0x10
#define IOAPIC_VER     0x01
#define IOAPIC_REDTBL  0x10

/* Set once enable_x2apic_all() ran, so that APs started later follow. */
static bool x2apic_everywhere;

u32 apic_read(u32 reg)
{
	if (this_cpu()->x2apic)
		return (u32)rdmsr(MSR_X2APIC_FIRST + (reg >> 4));
	return readl(LAPIC_BASE + reg);
}

void apic_write(u32 reg, u32 val)
{
	if (this_cpu()->x2apic)
		wrmsr(MSR_X2APIC_FIRST + (reg >> 4), val);
	else
		writel(LAPIC_BASE + reg, val);
}

u32 apic_id(void)
{
	u32 id = apic_read(APIC_ID);

	/* xAPIC keeps the 8-bit ID in bits 31:24; x2APIC uses all 32 bits. */
	return this_cpu()->x2apic ? id : id >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

bool x2apic_supported(void)
{
	return cpu_has(X86_FEATURE_X2APIC);
}

bool enable_x2apic(void)
{
	if (!x2apic_supported())
		return false;
	/* xAPIC -> x2APIC is allowed directly while the APIC is globally enabled. */
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
	this_cpu()->x2apic = true;
	return true;
}

static void enable_x2apic_work(void *ok)
{
	if (!enable_x2apic())
		*(volatile bool *)ok = false;
	this_cpu()->apic_id = apic_id();
}

bool enable_x2apic_all(void)
{
	volatile bool ok = true;

	if (!x2apic_supported())
		return false;
	x2apic_everywhere = true;
	on_cpus(enable_x2apic_work, (void *)&ok);
	return ok;
}

void apic_enable(void)
{
	if (x2apic_everywhere)
		enable_x2apic();
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
}

void apic_icr_write(u32 low, u32 dest)
{
	u64 flags;

	if (this_cpu()->x2apic) {
		wrmsr(MSR_X2APIC_FIRST + (APIC_ICR >> 4), ((u64)dest << 32) | low);
		return;
	}
	/*
	 * xAPIC: the write to the low half sends the IPI. An interrupt handler
	 * sending its own IPI in between would change the destination under us.
	 */
	flags = irq_save();
	writel(LAPIC_BASE + APIC_ICR2, dest << 24);
	writel(LAPIC_BASE + APIC_ICR, low);
	for (int i = 0; i < 100000 && (readl(LAPIC_BASE + APIC_ICR) & APIC_ICR_BUSY); i++)
		pause();
	irq_restore(flags);
}

void apic_send_ipi(u32 dest_apic_id, int vector)
{
	apic_icr_write(APIC_DM_FIXED | APIC_ICR_ASSERT | (u8)vector, dest_apic_id);
}

void apic_self_ipi(int vector)
{
	apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | APIC_ICR_ASSERT | (u8)vector, 0);
}

static void apic_timer_start(u32 lvt, u32 count)
{
	apic_write(APIC_TMICT, 0); /* stop a running count first */
	apic_write(APIC_TDCR, APIC_TDCR_DIV1);
	apic_write(APIC_LVTT, lvt);
	apic_write(APIC_TMICT, count);
}

void apic_timer_oneshot(int vector, u32 count)
{
	apic_timer_start((u8)vector, count);
}

void apic_timer_periodic(int vector, u32 count)
{
	apic_timer_start(APIC_LVT_PERIODIC | (u8)vector, count);
}

void apic_timer_stop(void)
{
	apic_write(APIC_LVTT, APIC_LVT_MASKED);
	apic_write(APIC_TMICT, 0);
}

/*
 * IOAPIC registers are reached through a select/window pair shared by all
 * CPUs: serialize them.
 */
static struct spinlock ioapic_lock;

u32 ioapic_read(u32 reg)
{
	u32 v;

	spin_lock(&ioapic_lock);
	writel(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	v = readl(IOAPIC_BASE + IOAPIC_WINDOW);
	spin_unlock(&ioapic_lock);
	return v;
}

void ioapic_write(u32 reg, u32 val)
{
	spin_lock(&ioapic_lock);
	writel(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	writel(IOAPIC_BASE + IOAPIC_WINDOW, val);
	spin_unlock(&ioapic_lock);
}

int ioapic_pins(void)
{
	return ((ioapic_read(IOAPIC_VER) >> 16) & 0xff) + 1;
}

u64 ioapic_read_redir(int pin)
{
	u32 lo = ioapic_read(IOAPIC_REDTBL + 2 * pin);
	u32 hi = ioapic_read(IOAPIC_REDTBL + 2 * pin + 1);

	return lo | ((u64)hi << 32);
}

void ioapic_route(int pin, int vector, u32 dest_apic_id, bool level)
{
	/* Destination first, unmasking last, so no interrupt goes to a half-written entry. */
	ioapic_write(IOAPIC_REDTBL + 2 * pin, IOAPIC_REDIR_MASKED);
	ioapic_write(IOAPIC_REDTBL + 2 * pin + 1, dest_apic_id << 24);
	ioapic_write(IOAPIC_REDTBL + 2 * pin, (level ? IOAPIC_REDIR_LEVEL : 0) | (u8)vector);
}

void ioapic_mask(int pin)
{
	ioapic_write(IOAPIC_REDTBL + 2 * pin, IOAPIC_REDIR_MASKED);
}
