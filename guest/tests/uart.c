// SPDX-License-Identifier: GPL-2.0-only
/* The 16550 the console uses: a known line out, then THRE/TEMT, IIR and the scratch register. */
#include "libguest.h"

#define UART_IIR   2
#define UART_LCR   3
#define UART_LSR   5
#define UART_SCR   7
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define IIR_NO_INT 0x01

static void check_scratch(void)
{
	static const u8 patterns[] = {0x00, 0x5a, 0xa5, 0xff};
	bool ok = true;

	for (unsigned int i = 0; i < ARRAY_SIZE(patterns); i++) {
		outb(COM1 + UART_SCR, patterns[i]);
		ok &= inb(COM1 + UART_SCR) == patterns[i];
	}
	report(ok, "scratch register keeps what is written");
}

int main(void)
{
	u8 lsr;

	puts("uart: hello from the kvmbox guest library");
	/* The VMM sends each byte on at once: after a write the transmitter is empty again. */
	lsr = inb(COM1 + UART_LSR);
	report(lsr & LSR_THRE, "LSR.THRE set when idle (LSR=%#x)", lsr);
	report(lsr & LSR_TEMT, "LSR.TEMT set when idle");
	outb(COM1, '\n');
	lsr = inb(COM1 + UART_LSR);
	report(lsr & LSR_THRE, "LSR.THRE set again after a write");
	report(inb(COM1 + UART_IIR) & IIR_NO_INT, "IIR: no interrupt pending with IER=0");
	report(inb(COM1 + UART_LCR) == inb(COM1 + UART_LCR), "LCR reads are stable");
	check_scratch();
	return report_summary();
}
