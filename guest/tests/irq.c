// SPDX-License-Identifier: GPL-2.0-only
/*
 * An ISA interrupt end to end: the UART raises IRQ 4 (THRE interrupt), the
 * IOAPIC routes pin 4 to a vector, the LAPIC delivers it. Also checks the
 * IOAPIC redirection table keeps what is written.
 */
#include "libguest.h"

#define UART_IER    1
#define UART_IIR    2
#define UART_MCR    4
#define IER_THRI    0x02
#define MCR_DTR_RTS 0x03
#define MCR_OUT2    0x08 /* gates the UART's interrupt line on PCs */
#define IIR_ID_MASK 0x0f
#define IIR_THRI    0x02
#define UART_PIN    4
#define UART_VECTOR 0x50

static volatile u64 uart_irqs;
static volatile u8 iir_seen;

static void uart_handler(struct frame *f)
{
	(void)f;
	/* Reading IIR acknowledges the THRE interrupt; IER=0 keeps it from coming back. */
	iir_seen = inb(COM1 + UART_IIR);
	outb(COM1 + UART_IER, 0);
	uart_irqs++;
}

static void test_redirection_table(void)
{
	int pins = ioapic_pins();
	u64 e;

	report(pins >= 16, "IOAPIC has %d pins", pins);
	ioapic_route(UART_PIN, UART_VECTOR, apic_id(), false);
	ioapic_mask(UART_PIN);
	ioapic_route(UART_PIN, UART_VECTOR, apic_id(), false);
	e = ioapic_read_redir(UART_PIN);
	report((e & 0xff) == UART_VECTOR && !(e & IOAPIC_REDIR_MASKED) && (e >> 56) == apic_id(),
	       "pin %d redirection entry reads back (%#lx)", UART_PIN, e);
}

static void test_uart_irq(void)
{
	u64 start = rdtsc();

	set_irq_handler(UART_VECTOR, uart_handler);
	test_redirection_table();
	sti();
	outb(COM1 + UART_MCR, MCR_DTR_RTS | MCR_OUT2);
	/* The transmitter is empty, so enabling THRI raises the interrupt at once. */
	outb(COM1 + UART_IER, IER_THRI);
	while (!uart_irqs && rdtsc() - start < TSC_TIMEOUT_LONG)
		pause();
	cli();
	outb(COM1 + UART_IER, 0);
	report(uart_irqs >= 1, "UART THRE interrupt arrives through IOAPIC pin %d (%lu)", UART_PIN,
	       uart_irqs);
	report((iir_seen & IIR_ID_MASK) == IIR_THRI, "IIR in the handler names THRE (%#x)",
	       iir_seen);
	ioapic_mask(UART_PIN);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

int main(void)
{
	report_prefix_push("irq");
	test_uart_irq();
	return report_summary();
}
