// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exit costs, in TSC cycles per operation: port I/O and MMIO that the VMM
 * handles in user space, CPUID and RDMSR (in the kernel), HLT woken by a
 * self-IPI, and an IPI round trip to another CPU. A benchmark, not a test:
 * numbers are printed, never judged (they vary wildly under emulation).
 *
 * Arguments: iters=N (default 200).
 */
#include "libguest.h"

#define PORT_UNUSED	0x80	      /* POST-code port: nothing behind it */
#define PORT_UART_SCR	(COM1 + 7)    /* a device register the VMM emulates */
#define MMIO_UNMAPPED	0xd0000000ULL /* in the PCI hole, no BAR there */
#define PING_VECTOR	0x60
#define PONG_VECTOR	0x61
#define BACKSTOP_VECTOR 0x62
#define BACKSTOP_PERIOD 10000000 /* 10 ms at a 1 GHz APIC bus */
#define PONG_TIMEOUT	(TSC_TIMEOUT_LONG / 10)

static int iters = 200;
static volatile u64 pongs, backstop_ticks, lost_pongs;

static void pio_out(void)
{
	outb(PORT_UNUSED, 0);
}

static void pio_in(void)
{
	inb(PORT_UART_SCR);
}

static void mmio_read(void)
{
	readl(MMIO_UNMAPPED);
}

static void mmio_write(void)
{
	writel(MMIO_UNMAPPED, 0);
}

static void do_cpuid(void)
{
	cpuid(0);
}

static void do_rdmsr(void)
{
	rdmsr(MSR_APIC_BASE);
}

static void hlt_self_ipi(void)
{
	cli();
	apic_self_ipi(PING_VECTOR);
	safe_halt();
}

static void ping(void)
{
	u64 want = pongs + 1, start = rdtsc();

	cli();
	apic_send_ipi(cpu_apic_id(1), PING_VECTOR);
	/* Sleep until the answer; check with interrupts off so it cannot slip by. */
	while (pongs < want) {
		if (rdtsc() - start > PONG_TIMEOUT) {
			lost_pongs++;
			break;
		}
		safe_halt();
		cli();
	}
	sti();
}

static void ping_handler(struct frame *f)
{
	(void)f;
	if (smp_id() != 0)
		apic_send_ipi(cpu_apic_id(0), PONG_VECTOR);
}

static void pong_handler(struct frame *f)
{
	(void)f;
	pongs++;
}

static void backstop_handler(struct frame *f)
{
	(void)f;
	backstop_ticks++;
}

static void measure(const char *name, void (*op)(void))
{
	u64 start, cycles;

	op(); /* warm up: first use may fault pages in on the host */
	start = rdtsc();
	for (int i = 0; i < iters; i++)
		op();
	cycles = rdtsc() - start;
	printf("exits: %-24s %8lu cycles/op\n", name, cycles / iters);
}

int main(void)
{
	const char *arg = getarg("iters");

	if (arg && strtoul(arg, NULL, 0) > 0)
		iters = (int)strtoul(arg, NULL, 0);
	report_prefix_push("exits");
	set_irq_handler(PING_VECTOR, ping_handler);
	set_irq_handler(PONG_VECTOR, pong_handler);
	measure("pio out (0x80)", pio_out);
	measure("pio in (UART scratch)", pio_in);
	measure("mmio read (unmapped)", mmio_read);
	measure("mmio write (unmapped)", mmio_write);
	measure("cpuid", do_cpuid);
	measure("rdmsr (APIC_BASE)", do_rdmsr);
	/*
	 * A lost wake-up must not hang the benchmark: a slow periodic timer
	 * ends any HLT. Its ticks are printed; many of them mean lost IPIs.
	 */
	set_irq_handler(BACKSTOP_VECTOR, backstop_handler);
	apic_timer_periodic(BACKSTOP_VECTOR, BACKSTOP_PERIOD);
	measure("hlt + self IPI", hlt_self_ipi);
	if (smp_init() > 1)
		measure("IPI round trip", ping);
	else
		printf("exits: IPI round trip: needs 2 CPUs\n");
	apic_timer_stop();
	printf("exits: backstop timer ticks %lu, IPI replies lost %lu\n", backstop_ticks,
	       lost_pongs);
	report(true, "%d iterations of each loop ran", iters);
	return report_summary();
}
