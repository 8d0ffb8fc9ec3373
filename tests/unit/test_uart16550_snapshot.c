// SPDX-License-Identifier: GPL-2.0-only
/*
 * 16550 UART snapshots: a busy UART saved and loaded into a fresh one behaves the same,
 * and corrupt or foreign sections are refused without changing the UART.
 */
#include <errno.h>

#include "snapshot.h"
#include "uart16550_fixture.h"

/* Puts the UART in a state with something in every register. */
static void busy_state(struct uart16550 *u)
{
	outb(u, LCR, 0x80);
	outb(u, DLL, 0x01);
	outb(u, DLM, 0x02);
	outb(u, LCR, 0x1b);
	outb(u, SCR, 0x42);
	outb(u, FCR, 0x81);
	outb(u, MCR, 0x1b);
	outb(u, IER, 0x0f);
	for (const char *p = "0123456789abcdefXX"; *p; p++)
		outb(u, RBR, (u8)*p); /* 16 kept, then an overrun */
	inb(u, RBR);
	inb(u, RBR);
	outb(u, RBR, 'g');  /* wraps the ring */
	outb(u, MCR, 0x0b); /* leaving loopback leaves MSR deltas */
}

static void save_to(struct uart16550 *u, struct snap_buf *sb)
{
	snap_init(sb);
	assert_int_equal(uart16550_save(u, sb), 0);
	sb->pos = 0;
}

static void test_snapshot_round_trip(void **state)
{
	struct fake *f = *state, g = {0};
	struct snap_buf sb;

	busy_state(f->u);
	save_to(f->u, &sb);
	fake_uart(&g);
	assert_int_equal(uart16550_load(g.u, &sb), 0);
	assert_int_equal(sb.pos, sb.len);
	snap_free(&sb);
	assert_true(g.level);
	assert_int_equal(g.irq_calls, 1);
	assert_int_equal(inb(f->u, IIR), 0xc6);
	assert_int_equal(inb(g.u, IIR), 0xc6);

	/* Drain both and compare everything the guest can see on the way. */
	for (int i = 0; i < UART16550_FIFO_SIZE + 2; i++) {
		static const u8 regs[] = {LSR, IIR, RBR, MSR, IER, LCR, MCR};

		for (size_t r = 0; r < ARRAY_SIZE(regs); r++)
			assert_int_equal(inb(f->u, regs[r]), inb(g.u, regs[r]));
	}
	outb(f->u, LCR, 0x80);
	outb(g.u, LCR, 0x80);
	assert_int_equal(inb(f->u, DLL), inb(g.u, DLL));
	assert_int_equal(inb(f->u, DLM), inb(g.u, DLM));
	assert_int_equal(inb(g.u, SCR), 0x42);
	assert_int_equal(f->level, g.level);
	uart16550_free(g.u);
}

static void expect_load_fails(struct uart16550 *src, size_t byte, u8 value, size_t truncate)
{
	struct fake g = {0};
	struct snap_buf sb;
	const size_t hdr = 32 + 4;

	save_to(src, &sb);
	if (byte)
		sb.data[hdr + byte - 1] = value;
	if (truncate)
		sb.len -= truncate;
	fake_uart(&g);
	outb(g.u, SCR, 0x99);
	assert_int_equal(uart16550_load(g.u, &sb), -EINVAL);
	/* A refused snapshot leaves the UART as it was. */
	assert_int_equal(inb(g.u, SCR), 0x99);
	assert_int_equal(inb(g.u, LSR), 0x60);
	snap_free(&sb);
	uart16550_free(g.u);
}

static void test_snapshot_rejects_corruption(void **state)
{
	struct fake *f = *state;
	struct snap_buf sb;

	busy_state(f->u);
	/* Field positions (1-based): ier 1, mcr 3, fcr 4, lsr_err 8, thre 11, rx_count 12. */
	expect_load_fails(f->u, 12, UART16550_FIFO_SIZE + 1, 0);
	expect_load_fails(f->u, 12, 0xff, 0);
	expect_load_fails(f->u, 1, 0xf0, 0);
	expect_load_fails(f->u, 3, 0x20, 0);
	expect_load_fails(f->u, 4, 0x80, 0); /* trigger bits without the enable bit */
	expect_load_fails(f->u, 8, 0x80, 0);
	expect_load_fails(f->u, 11, 2, 0);
	expect_load_fails(f->u, 0, 0, 1);
	expect_load_fails(f->u, 0, 0, 20);

	/* A 16450-mode UART cannot hold two bytes. */
	outb(f->u, FCR, 0x00);
	uart16550_receive(f->u, (const u8 *)"z", 1);
	expect_load_fails(f->u, 12, 2, 0);

	snap_init(&sb);
	snap_begin_section(&sb, "uart16550", 2);
	snap_put(&sb, (u8[64]){0}, 64);
	assert_int_equal(uart16550_load(f->u, &sb), -EINVAL);
	snap_free(&sb);
	snap_begin_section(&sb, "pit8254", 1);
	snap_put(&sb, (u8[64]){0}, 64);
	assert_int_equal(uart16550_load(f->u, &sb), -EINVAL);
	snap_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_snapshot_round_trip),
		T(test_snapshot_rejects_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
