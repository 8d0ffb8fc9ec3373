// SPDX-License-Identifier: GPL-2.0-only
/*
 * SMP: every CPU in the MADT comes up through INIT-SIPI-SIPI and runs code;
 * IPIs reach each CPU; the LAPIC timer fires in one-shot and periodic mode.
 *
 * Arguments: expect_cpus=N (the VMM's --cpus), x2apic (switch all CPUs to
 * x2APIC mode first).
 */
#include "libguest.h"

#define IPI_VECTOR	     0x40
#define TIMER_VECTOR	     0x41
#define TIMER_ONESHOT_COUNT  1000000  /* 1 ms at the 1 GHz bus KVM and QEMU model */
#define TIMER_PERIODIC_COUNT 10000000 /* 10 ms */

static volatile int started;
static u32 seen_apic_id[MAX_CPUS];
static volatile u64 ipis[MAX_CPUS];
static volatile u64 ticks;

static void count_in(void *arg)
{
	(void)arg;
	seen_apic_id[smp_id()] = apic_id();
	__atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
}

static bool in_list(u32 id, const u32 *ids, int n)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void test_bringup(void)
{
	u32 madt_ids[MAX_CPUS];
	int madt = acpi_madt_cpus(madt_ids, MAX_CPUS);
	int fw = fwcfg_cpu_count();
	const char *expect = getarg("expect_cpus");
	int n = smp_init();
	bool ids_ok = true;

	report_prefix_push("bringup");
	report_info("%d CPUs online, MADT %d, fw_cfg %d", n, madt, fw);
	report(madt > 0, "MADT lists CPUs");
	report(n == madt, "all MADT CPUs online (%d of %d)", n, madt);
	if (fw >= 0)
		report(fw == madt, "fw_cfg CPU count %d matches the MADT", fw);
	else
		report_skip("no fw_cfg");
	if (expect)
		report(n == (int)strtoul(expect, NULL, 0), "CPU count is expect_cpus=%s", expect);
	else
		report_skip("no expect_cpus= argument");

	on_cpus(count_in, NULL);
	report(started == n, "each CPU ran on_cpus() work (%d)", started);
	for (int i = 0; i < n; i++) {
		ids_ok &= seen_apic_id[i] == cpu_apic_id(i) &&
			  in_list(seen_apic_id[i], madt_ids, madt);
		for (int j = 0; j < i; j++)
			ids_ok &= seen_apic_id[i] != seen_apic_id[j];
	}
	report(ids_ok, "APIC IDs are distinct and all in the MADT");
	report_prefix_pop();
}

static void ipi_handler(struct frame *f)
{
	(void)f;
	ipis[smp_id()]++;
}

static bool wait_count(volatile u64 *count, u64 want)
{
	u64 start = rdtsc();

	while (*count < want)
		if (rdtsc() - start > TSC_TIMEOUT_LONG)
			return false;
	return true;
}

static void send_ipi_to_bsp(void *arg)
{
	(void)arg;
	apic_send_ipi(cpu_apic_id(0), IPI_VECTOR);
}

static void test_ipi(void)
{
	int n = cpu_count();
	bool ok = true;

	report_prefix_push("ipi");
	set_irq_handler(IPI_VECTOR, ipi_handler);
	sti();
	for (int i = 1; i < n; i++) {
		apic_send_ipi(cpu_apic_id(i), IPI_VECTOR);
		ok &= wait_count(&ipis[i], 1);
	}
	if (n > 1) {
		report(ok, "fixed IPI from the BSP reaches every AP");
		on_cpu(n - 1, send_ipi_to_bsp, NULL);
		report(wait_count(&ipis[0], 1), "IPI from an AP reaches the BSP");
	} else {
		report_skip("one CPU: no IPI between CPUs");
	}
	apic_self_ipi(IPI_VECTOR);
	report(wait_count(&ipis[0], 2 - (n == 1)), "self IPI");
	report_prefix_pop();
}

static void timer_handler(struct frame *f)
{
	(void)f;
	ticks++;
}

static void test_timer(void)
{
	u64 start, cycles;
	bool fired;

	report_prefix_push("timer");
	set_irq_handler(TIMER_VECTOR, timer_handler);
	sti();

	ticks = 0;
	start = rdtsc();
	apic_timer_oneshot(TIMER_VECTOR, TIMER_ONESHOT_COUNT);
	report(wait_count(&ticks, 1), "one-shot timer fires");
	cycles = rdtsc() - start;
	report(apic_read(APIC_TMCCT) == 0, "current count is 0 after a one-shot expiry");
	report(ticks == 1, "one-shot fires once");
	report_info("one-shot 1 ms took %lu TSC cycles", cycles);

	ticks = 0;
	start = rdtsc();
	apic_timer_periodic(TIMER_VECTOR, TIMER_PERIODIC_COUNT);
	/* Timing under an emulated CPU is loose: only "fires again and again" is checked. */
	fired = wait_count(&ticks, 3);
	cycles = rdtsc() - start;
	report(fired, "periodic timer fires repeatedly (%lu ticks)", ticks);
	apic_timer_stop();
	report_info("3 periods of 10 ms took %lu TSC cycles", cycles);
	report_prefix_pop();
}

int main(void)
{
	report_prefix_push("smp");
	test_bringup();
	if (getarg("x2apic")) {
		if (enable_x2apic_all()) {
			report(apic_id() == cpu_apic_id(0), "x2APIC mode: BSP APIC ID unchanged");
		} else {
			report_skip("x2APIC not supported");
			return report_summary();
		}
	}
	test_ipi();
	test_timer();
	return report_summary();
}
