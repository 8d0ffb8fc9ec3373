// SPDX-License-Identifier: GPL-2.0-only
/*
 * The 16550 UART's registers as a guest sees them: power-on state, the divisor latch,
 * wide accesses, transmit and the THRE interrupt, the probes of Linux's 8250 driver,
 * OUT2 gating the interrupt, reset, and random accesses.
 */
#include "uart16550_fixture.h"

static void test_power_on_state(void **state)
{
	struct fake *f = *state;

	assert_int_equal(inb(f->u, IIR), 0x01);
	assert_int_equal(inb(f->u, IER), 0);
	assert_int_equal(inb(f->u, LCR), 0);
	assert_int_equal(inb(f->u, MCR), 0);
	assert_int_equal(inb(f->u, LSR), 0x60);
	assert_int_equal(inb(f->u, MSR), 0xb0);
	assert_false(f->level);
}

static void test_divisor_latch(void **state)
{
	struct fake *f = *state;

	outb(f->u, LCR, 0x83);
	outb(f->u, DLL, 0x34);
	outb(f->u, DLM, 0x12);
	assert_int_equal(inb(f->u, DLL), 0x34);
	assert_int_equal(inb(f->u, DLM), 0x12);
	assert_int_equal(f->ntx, 0);

	outb(f->u, LCR, 0x03);
	assert_int_equal(inb(f->u, IER), 0);
	outb(f->u, IER, 0x05);
	assert_int_equal(inb(f->u, IER), 0x05);
	outb(f->u, LCR, 0x83);
	assert_int_equal(inb(f->u, DLL), 0x34);
	assert_int_equal(inb(f->u, DLM), 0x12);
	assert_int_equal(inb(f->u, LCR), 0x83);
}

static void test_wide_access(void **state)
{
	struct fake *f = *state;
	u8 w[2] = {0x01, 0x00}, r[4] = {0};

	outb(f->u, LCR, 0x80);
	uart16550_io(f->u, DLL, w, 2, true);
	assert_int_equal(inb(f->u, DLL), 0x01);
	assert_int_equal(inb(f->u, DLM), 0x00);
	outb(f->u, LCR, 0x03);
	outb(f->u, SCR, 0x77);
	/* Past the last register reads float high. */
	uart16550_io(f->u, SCR, r, 4, false);
	assert_int_equal(r[0], 0x77);
	assert_int_equal(r[1], 0xff);
	assert_int_equal(r[3], 0xff);
}

static void test_scratch(void **state)
{
	struct fake *f = *state;

	for (unsigned int v = 0; v < 256; v++) {
		outb(f->u, SCR, (u8)v);
		assert_int_equal(inb(f->u, SCR), v);
	}
}

static void test_tx(void **state)
{
	struct fake *f = *state;
	const char *msg = "hello, world\n";

	for (const char *p = msg; *p; p++) {
		assert_int_equal(inb(f->u, LSR) & 0x60, 0x60);
		outb(f->u, RBR, (u8)*p);
	}
	assert_int_equal(f->ntx, strlen(msg));
	assert_memory_equal(f->tx, msg, strlen(msg));
	assert_int_equal(inb(f->u, LSR), 0x60);
}

static void test_thre_interrupt(void **state)
{
	struct fake *f = *state;

	outb(f->u, MCR, 0x08);
	assert_false(f->level);
	outb(f->u, IER, 0x02);
	assert_true(f->level);
	assert_int_equal(inb(f->u, IIR), 0x02);
	/* The IIR read that reported THRE cleared it. */
	assert_false(f->level);
	assert_int_equal(inb(f->u, IIR), 0x01);
	outb(f->u, RBR, 'x');
	assert_true(f->level);
	assert_int_equal(inb(f->u, IIR), 0x02);
	assert_int_equal(inb(f->u, IIR), 0x01);
	/* Re-enabling ETBEI re-raises it; rewriting the same IER value does not. */
	outb(f->u, IER, 0x02);
	assert_int_equal(inb(f->u, IIR), 0x01);
	outb(f->u, IER, 0x00);
	outb(f->u, IER, 0x02);
	assert_int_equal(inb(f->u, IIR), 0x02);
	/* A pending THRE is cleared by masking ETBEI. */
	outb(f->u, RBR, 'y');
	assert_true(f->level);
	outb(f->u, IER, 0x00);
	assert_false(f->level);
}

/* The probe sequences of Linux's 8250 driver: autoconfig, UART_BUG_THRE, UART_BUG_TXEN. */
static void test_linux_probe(void **state)
{
	struct fake *f = *state;
	u8 iir1, iir2, lsr;

	outb(f->u, IER, 0);
	assert_int_equal(inb(f->u, IER) & 0x0f, 0);
	outb(f->u, IER, 0x0f);
	assert_int_equal(inb(f->u, IER) & 0x0f, 0x0f);
	outb(f->u, IER, 0);

	outb(f->u, MCR, 0x10 | 0x08 | 0x02);
	assert_int_equal(inb(f->u, MSR) & 0xf0, 0x90);
	outb(f->u, MCR, 0);

	outb(f->u, LCR, 0xbf);
	outb(f->u, IIR, 0); /* EFR on 16650+, FCR here */
	outb(f->u, LCR, 0);
	outb(f->u, FCR, 0x01);
	assert_int_equal(inb(f->u, IIR) >> 6, 3);

	/* No EFR, no NS bank switch, no 16750 64-byte bit, no XScale UUE bit. */
	outb(f->u, LCR, 0x80);
	assert_int_not_equal(inb(f->u, IIR), 0);
	outb(f->u, LCR, 0xe0);
	assert_int_equal(inb(f->u, IIR) & 0x30, 0);
	outb(f->u, LCR, 0);
	outb(f->u, FCR, 0x21);
	assert_int_equal(inb(f->u, IIR) & 0xe0, 0xc0);
	outb(f->u, LCR, 0x80);
	outb(f->u, FCR, 0x21);
	assert_int_equal(inb(f->u, IIR) & 0xe0, 0xc0);
	outb(f->u, LCR, 0);
	outb(f->u, IER, 0x40);
	assert_int_equal(inb(f->u, IER) & 0x40, 0);

	iir1 = (outb(f->u, IER, 0x02), inb(f->u, IIR));
	outb(f->u, IER, 0);
	iir2 = (outb(f->u, IER, 0x02), inb(f->u, IIR));
	outb(f->u, IER, 0);
	assert_int_equal(iir1 & 0x01, 0);
	assert_int_equal(iir2 & 0x01, 0);

	outb(f->u, LCR, 0x03);
	outb(f->u, MCR, 0x0b);
	outb(f->u, IER, 0x02);
	lsr = inb(f->u, LSR);
	iir1 = inb(f->u, IIR);
	outb(f->u, IER, 0);
	assert_true(lsr & 0x40);
	assert_int_equal(iir1 & 0x0f, 0x02);
	assert_int_not_equal(inb(f->u, LSR), 0xff);
}

static void test_out2_gates_irq(void **state)
{
	struct fake *f = *state;

	outb(f->u, IER, 0x02);
	assert_int_equal(inb(f->u, IIR) & 0x01, 0);
	outb(f->u, RBR, 'x');
	assert_false(f->level);
	outb(f->u, MCR, 0x08);
	assert_true(f->level);
	outb(f->u, MCR, 0x03);
	assert_false(f->level);
	outb(f->u, MCR, 0x0b);
	assert_true(f->level);
	assert_int_equal(f->irq_calls, 3);
}

static void test_reset(void **state)
{
	struct fake *f = *state;

	outb(f->u, FCR, 0x01);
	outb(f->u, MCR, 0x08);
	outb(f->u, IER, 0x0f);
	outb(f->u, LCR, 0x1b);
	uart16550_receive(f->u, (const u8 *)"abc", 3);
	assert_true(f->level);
	uart16550_reset(f->u);
	assert_false(f->level);
	assert_int_equal(inb(f->u, IIR), 0x01);
	assert_int_equal(inb(f->u, LSR), 0x60);
	assert_int_equal(inb(f->u, LCR), 0);
	assert_int_equal(uart16550_rx_room(f->u), 1);
}

static void test_garbage_accesses(void **state)
{
	struct fake *f = *state;
	static const u32 lens[] = {1, 2, 4};

	srand(1234);
	for (int i = 0; i < 200000; i++) {
		u32 len = lens[rand() % 3];
		u64 off = (u64)(rand() % 8);
		u8 data[4], rx[20];

		if (rand() % 64 == 0)
			off = (rand() % 2) ? UINT64_MAX - (u64)(rand() % 4) : 8 + (u64)(rand() % 8);
		for (u32 b = 0; b < 4; b++)
			data[b] = (u8)rand();
		memset(rx, data[0], sizeof(rx));
		uart16550_io(f->u, off, data, len, rand() % 2);
		if (rand() % 16 == 0)
			uart16550_receive(f->u, rx, (size_t)(rand() % 20));
		assert_true(uart16550_rx_room(f->u) <= UART16550_FIFO_SIZE);
		f->ntx = 0;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_power_on_state),
		T(test_divisor_latch),
		T(test_wide_access),
		T(test_scratch),
		T(test_tx),
		T(test_thre_interrupt),
		T(test_linux_probe),
		T(test_out2_gates_irq),
		T(test_reset),
		T(test_garbage_accesses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
