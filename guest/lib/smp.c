// SPDX-License-Identifier: GPL-2.0-only
/* AP bring-up through INIT-SIPI-SIPI and a tiny work queue of one item per CPU. */
#include "libguest.h"

/* An AP that has not started this long after its SIPI gets the second SIPI. */
#define SIPI_RETRY_CYCLES 50000000ULL
/* An AP that has not finished its work this long after the wake-up IPI gets another one. */
#define WAKE_RETRY_CYCLES 200000000ULL

extern const u8 trampoline_start[], trampoline_end[];
u8 cpu_stacks[MAX_CPUS][STACK_SIZE] __aligned(4096); /* cpu_stacks[0]: BSP (entry.S) */
volatile u64 ap_boot_stack;			     /* read by ap_start64 */
static volatile u32 ap_boot_cpu;
static int nr_cpus = 1;

int cpu_count(void)
{
	return nr_cpus;
}

int smp_id(void)
{
	return (int)this_cpu()->cpu;
}

u32 cpu_apic_id(int cpu)
{
	return percpu[cpu].apic_id;
}

/* WAKE_VECTOR only has to end a HLT; the idle loop then looks for work. */
static void wake_handler(struct frame *f)
{
	(void)f;
}

static void __noreturn ap_idle(void)
{
	struct percpu *c = this_cpu();

	for (;;) {
		work_fn fn;

		/* Checked with interrupts off so that a wake-up cannot slip in before HLT. */
		cli();
		fn = c->work;
		if (!fn) {
			safe_halt();
			continue;
		}
		sti();
		fn(c->work_arg);
		barrier();
		c->work = NULL;
	}
}

void __noreturn ap_main(void)
{
	u32 cpu = ap_boot_cpu;

	percpu_init(cpu);
	load_idt();
	apic_enable();
	percpu[cpu].apic_id = apic_id();
	barrier();
	percpu[cpu].online = true;
	ap_idle();
}

static bool wait_online(int cpu, u64 cycles)
{
	u64 start = rdtsc();

	while (!READ_ONCE(percpu[cpu].online)) {
		if (rdtsc() - start > cycles)
			return false;
		pause();
	}
	return true;
}

static bool start_ap(int cpu, u32 id)
{
	const u32 sipi = APIC_DM_STARTUP | APIC_ICR_ASSERT | (TRAMPOLINE_ADDR >> 12);

	ap_boot_cpu = cpu;
	ap_boot_stack = (u64)cpu_stacks[cpu] + STACK_SIZE;
	barrier();
	apic_icr_write(APIC_DM_INIT | APIC_ICR_ASSERT, id);
	apic_icr_write(sipi, id);
	if (wait_online(cpu, SIPI_RETRY_CYCLES))
		return true;
	/* The SDM's second SIPI; a CPU that already runs ignores it. */
	apic_icr_write(sipi, id);
	return wait_online(cpu, TSC_TIMEOUT_LONG);
}

/* APIC IDs to start: the MADT's, else 0..n-1 for fw_cfg's count. */
static int cpu_list(u32 *ids)
{
	int n = acpi_madt_cpus(ids, MAX_CPUS);

	if (n >= 0)
		return n;
	n = fwcfg_cpu_count();
	if (n > MAX_CPUS)
		n = MAX_CPUS;
	for (int i = 0; i < n; i++)
		ids[i] = i;
	return n;
}

int smp_init(void)
{
	static bool done;
	u32 ids[MAX_CPUS];
	u32 self = apic_id();
	int n;

	if (done)
		return nr_cpus;
	done = true;
	n = cpu_list(ids);
	set_irq_handler(WAKE_VECTOR, wake_handler);
	memcpy((void *)TRAMPOLINE_ADDR, trampoline_start, trampoline_end - trampoline_start);
	for (int i = 0; i < n && nr_cpus < MAX_CPUS; i++) {
		if (ids[i] == self)
			continue;
		/* A late AP would take the next AP's slot: stop at the first failure. */
		if (!start_ap(nr_cpus, ids[i])) {
			printf("smp: APIC ID %u did not come online\n", ids[i]);
			break;
		}
		nr_cpus++;
	}
	return nr_cpus;
}

/*
 * A lost wake-up IPI would leave the AP in HLT and us here for good (seen
 * once in the nested lab): nudge it again now and then. An extra wake-up
 * while the work runs costs nothing.
 */
void cpu_wait_idle(int cpu)
{
	u64 last = rdtsc();

	while (READ_ONCE(percpu[cpu].work)) {
		if (rdtsc() - last > WAKE_RETRY_CYCLES) {
			apic_send_ipi(percpu[cpu].apic_id, WAKE_VECTOR);
			last = rdtsc();
		}
		pause();
	}
}

/* One CPU at a time may hand work to a given CPU: callers do not race for it. */
void on_cpu_async(int cpu, work_fn fn, void *arg)
{
	struct percpu *c = &percpu[cpu];

	cpu_wait_idle(cpu);
	c->work_arg = arg;
	barrier();
	c->work = fn;
	apic_send_ipi(c->apic_id, WAKE_VECTOR);
}

void on_cpu(int cpu, work_fn fn, void *arg)
{
	if (cpu == smp_id()) {
		fn(arg);
		return;
	}
	on_cpu_async(cpu, fn, arg);
	cpu_wait_idle(cpu);
}

void on_cpus(work_fn fn, void *arg)
{
	int me = smp_id();

	for (int i = 0; i < nr_cpus; i++)
		if (i != me)
			on_cpu_async(i, fn, arg);
	fn(arg);
	for (int i = 0; i < nr_cpus; i++)
		if (i != me)
			cpu_wait_idle(i);
}
