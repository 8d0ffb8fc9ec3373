// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "bus.h"
#include "devices/uart16550.h"
#include "snapshot.h"
#include "vm.h"

enum { RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define FCR IIR
#define DLL RBR
#define DLM IER

struct fake {
	struct uart16550 *u;
	u8 tx[4096];
	size_t ntx;
	bool level;
	int irq_calls;
	int irq_repeats;
};

static void fake_tx(void *opaque, const u8 *buf, size_t len)
{
	struct fake *f = opaque;

	assert_true(f->ntx + len <= sizeof(f->tx));
	memcpy(f->tx + f->ntx, buf, len);
	f->ntx += len;
}

static void fake_irq(void *opaque, bool level)
{
	struct fake *f = opaque;

	/* The model promises calls only on level changes (a snapshot load may resync). */
	if (level == f->level)
		f->irq_repeats++;
	f->level = level;
	f->irq_calls++;
}

static struct uart16550 *fake_uart(struct fake *f)
{
	struct uart16550_host host = {.tx = fake_tx, .irq = fake_irq, .opaque = f};

	f->u = uart16550_new(&host);
	assert_non_null(f->u);
	return f->u;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_uart(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	int repeats = f->irq_repeats;

	uart16550_free(f->u);
	free(f);
	return repeats ? -1 : 0;
}

static void outb(struct uart16550 *u, unsigned int reg, u8 val)
{
	uart16550_io(u, reg, &val, 1, true);
}

static u8 inb(struct uart16550 *u, unsigned int reg)
{
	u8 val = 0x5a;

	uart16550_io(u, reg, &val, 1, false);
	return val;
}

static bool wake_fd_fired(struct uart16550 *u)
{
	eventfd_t v;

	return eventfd_read(uart16550_rx_wake_fd(u), &v) == 0 && v > 0;
}

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

static void test_rx_data_available(void **state)
{
	struct fake *f = *state;

	outb(f->u, MCR, 0x08);
	outb(f->u, IER, 0x01);
	assert_false(f->level);
	assert_int_equal(uart16550_receive(f->u, (const u8 *)"a", 1), 1);
	assert_true(f->level);
	assert_int_equal(inb(f->u, IIR), 0x04);
	assert_int_equal(inb(f->u, LSR), 0x61);
	assert_int_equal(inb(f->u, RBR), 'a');
	assert_false(f->level);
	assert_int_equal(inb(f->u, IIR), 0x01);
	assert_int_equal(inb(f->u, LSR), 0x60);
	/* 16450 mode holds one byte. */
	assert_int_equal(uart16550_rx_room(f->u), 1);
}

static void test_rx_trigger_and_timeout(void **state)
{
	struct fake *f = *state;

	outb(f->u, MCR, 0x08);
	outb(f->u, FCR, 0x41); /* trigger at 4 */
	outb(f->u, IER, 0x01);
	uart16550_receive(f->u, (const u8 *)"ab", 2);
	assert_true(f->level);
	assert_int_equal(inb(f->u, IIR), 0xcc);
	uart16550_receive(f->u, (const u8 *)"cd", 2);
	assert_int_equal(inb(f->u, IIR), 0xc4);
	assert_int_equal(inb(f->u, RBR), 'a');
	assert_int_equal(inb(f->u, IIR), 0xcc);
	inb(f->u, RBR);
	inb(f->u, RBR);
	inb(f->u, RBR);
	assert_int_equal(inb(f->u, IIR), 0xc1);
	assert_false(f->level);
}

static void test_fifo_fills_at_16(void **state)
{
	struct fake *f = *state;
	u8 buf[20];

	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)('A' + i);
	outb(f->u, FCR, 0x07);
	assert_int_equal(uart16550_rx_room(f->u), UART16550_FIFO_SIZE);
	assert_int_equal(uart16550_receive(f->u, buf, 10), 10);
	assert_int_equal(uart16550_rx_room(f->u), 6);
	assert_int_equal(inb(f->u, LSR), 0x61);
	/* Host input is flow-controlled: the excess is refused, not an overrun. */
	assert_int_equal(uart16550_receive(f->u, buf + 10, 10), 6);
	assert_int_equal(uart16550_rx_room(f->u), 0);
	assert_int_equal(uart16550_receive(f->u, buf, 1), 0);
	assert_int_equal(inb(f->u, LSR), 0x61);

	wake_fd_fired(f->u);
	for (unsigned int i = 0; i < UART16550_FIFO_SIZE; i++) {
		assert_false(wake_fd_fired(f->u));
		assert_int_equal(inb(f->u, RBR), buf[i]);
	}
	assert_true(wake_fd_fired(f->u));
	assert_int_equal(inb(f->u, LSR), 0x60);
	/* An empty RBR read repeats the last byte and fires nothing. */
	assert_int_equal(inb(f->u, RBR), buf[15]);
	assert_false(wake_fd_fired(f->u));
}

static void test_overrun(void **state)
{
	struct fake *f = *state;

	/* Loopback is the one way bytes arrive unasked: the 17th overruns. */
	outb(f->u, FCR, 0x01);
	outb(f->u, MCR, 0x10);
	for (int i = 0; i < UART16550_FIFO_SIZE + 1; i++)
		outb(f->u, RBR, (u8)i);
	/* OE is reported once: the LSR read clears it. */
	assert_int_equal(inb(f->u, LSR), 0x63);
	assert_int_equal(inb(f->u, LSR), 0x61);
	outb(f->u, RBR, 0xee);
	assert_int_equal(inb(f->u, LSR), 0x63);
	/* The FIFO kept the first 16, not the overrunning bytes. */
	for (int i = 0; i < UART16550_FIFO_SIZE; i++)
		assert_int_equal(inb(f->u, RBR), i);
	assert_int_equal(inb(f->u, LSR), 0x60);

	/* In 16450 mode the second byte already overruns. */
	outb(f->u, FCR, 0x00);
	outb(f->u, RBR, 'a');
	outb(f->u, RBR, 'b');
	assert_int_equal(inb(f->u, LSR), 0x63);
	assert_int_equal(inb(f->u, RBR), 'a');
}

static void test_line_status_irq(void **state)
{
	struct fake *f = *state;

	outb(f->u, MCR, 0x10 | 0x08);
	outb(f->u, IER, 0x04);
	outb(f->u, RBR, 'a');
	assert_false(f->level);
	outb(f->u, RBR, 'b');
	assert_true(f->level);
	assert_int_equal(inb(f->u, IIR), 0x06);
	assert_true(f->level); /* only the LSR read clears it */
	inb(f->u, LSR);
	assert_false(f->level);
	assert_int_equal(inb(f->u, IIR), 0x01);
}

static void test_fifo_reset(void **state)
{
	struct fake *f = *state;

	outb(f->u, FCR, 0x01);
	uart16550_receive(f->u, (const u8 *)"xyz", 3);
	wake_fd_fired(f->u);
	outb(f->u, FCR, 0x03);
	assert_int_equal(inb(f->u, LSR) & 0x01, 0);
	assert_true(wake_fd_fired(f->u));
	assert_int_equal(uart16550_rx_room(f->u), UART16550_FIFO_SIZE);

	/* Leaving FIFO mode empties the FIFO; other bits need the enable bit. */
	uart16550_receive(f->u, (const u8 *)"xyz", 3);
	outb(f->u, FCR, 0x00);
	assert_int_equal(inb(f->u, LSR) & 0x01, 0);
	assert_int_equal(inb(f->u, IIR) & 0xc0, 0);
	outb(f->u, FCR, 0xc0);
	assert_int_equal(inb(f->u, IIR) & 0xc0, 0);
	assert_int_equal(uart16550_rx_room(f->u), 1);
}

static void test_loopback(void **state)
{
	struct fake *f = *state;

	outb(f->u, FCR, 0x01);
	outb(f->u, MCR, 0x10);
	assert_int_equal(uart16550_rx_room(f->u), 0);
	assert_int_equal(uart16550_receive(f->u, (const u8 *)"h", 1), 0);
	outb(f->u, RBR, 'L');
	outb(f->u, RBR, 'B');
	assert_int_equal(f->ntx, 0);
	assert_int_equal(inb(f->u, LSR), 0x61);
	assert_int_equal(inb(f->u, RBR), 'L');
	assert_int_equal(inb(f->u, RBR), 'B');

	inb(f->u, MSR);
	outb(f->u, MCR, 0x10 | 0x01);
	assert_int_equal(inb(f->u, MSR), 0x20 | 0x02);
	outb(f->u, MCR, 0x10 | 0x02);
	assert_int_equal(inb(f->u, MSR), 0x10 | 0x03);
	outb(f->u, MCR, 0x10 | 0x04);
	assert_int_equal(inb(f->u, MSR), 0x40 | 0x01);
	outb(f->u, MCR, 0x10 | 0x08);
	assert_int_equal(inb(f->u, MSR), 0x80 | 0x08 | 0x04); /* TERI: RI fell */
	assert_int_equal(inb(f->u, MSR), 0x80);

	wake_fd_fired(f->u);
	outb(f->u, MCR, 0x00);
	assert_true(wake_fd_fired(f->u));
	assert_int_equal(inb(f->u, MSR) & 0xf0, 0xb0);
	outb(f->u, RBR, 'T');
	assert_int_equal(f->ntx, 1);
	assert_int_equal(uart16550_receive(f->u, (const u8 *)"h", 1), 1);
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

static void test_priority(void **state)
{
	struct fake *f = *state;

	outb(f->u, FCR, 0x01);
	outb(f->u, MCR, 0x10 | 0x08);
	outb(f->u, IER, 0x0f);
	for (int i = 0; i < UART16550_FIFO_SIZE + 1; i++)
		outb(f->u, RBR, (u8)i);
	assert_true(f->level);
	assert_int_equal(inb(f->u, IIR), 0xc6);
	assert_int_equal(inb(f->u, LSR), 0x63);
	assert_int_equal(inb(f->u, IIR), 0xc4);
	for (int i = 0; i < UART16550_FIFO_SIZE; i++)
		assert_int_equal(inb(f->u, RBR), i);
	assert_int_equal(inb(f->u, IIR), 0xc2);
	assert_int_equal(inb(f->u, IIR), 0xc0);
	assert_true(f->level);
	assert_int_equal(inb(f->u, MSR), 0x80 | 0x03);
	assert_int_equal(inb(f->u, IIR), 0xc1);
	assert_false(f->level);
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

struct feeder {
	struct uart16550 *u;
	size_t total;
};

/* Feeds a counting pattern, sleeping on the wake fd when the FIFO is full. */
static void *feeder_thread(void *arg)
{
	struct feeder *fd = arg;
	size_t sent = 0;

	while (sent < fd->total) {
		u8 buf[UART16550_FIFO_SIZE];
		size_t room = uart16550_rx_room(fd->u), n = MIN(room, fd->total - sent);
		struct pollfd p = {.fd = uart16550_rx_wake_fd(fd->u), .events = POLLIN};
		eventfd_t v;

		for (size_t i = 0; i < n; i++)
			buf[i] = (u8)(sent + i);
		sent += uart16550_receive(fd->u, buf, n);
		if (n == 0) {
			poll(&p, 1, 10);
			eventfd_read(p.fd, &v);
		}
	}
	return NULL;
}

static void test_feeder_thread(void **state)
{
	struct fake *f = *state;
	struct feeder fd = {.u = f->u, .total = 20000};
	pthread_t t;
	size_t got = 0;

	outb(f->u, FCR, 0x01);
	assert_int_equal(pthread_create(&t, NULL, feeder_thread, &fd), 0);
	while (got < fd.total) {
		u8 lsr = inb(f->u, LSR);

		assert_int_equal(lsr & 0x02, 0);
		if (lsr & 0x01)
			assert_int_equal(inb(f->u, RBR), (u8)got++);
	}
	pthread_join(t, NULL);
}

/*
 * The COM1 glue needs a VM. These weak doubles stand in for vm.c when the test links
 * without it; the glue test copes with the real ones too.
 */
static struct device *added_dev;
static int irq_line_calls;

__attribute__((weak)) void vm_add_device(struct vm *vm, struct device *dev)
{
	(void)vm;
	added_dev = dev;
}

__attribute__((weak)) void vm_set_irq_line(struct vm *vm, u32 gsi, bool level)
{
	(void)vm;
	(void)gsi;
	(void)level;
	irq_line_calls++;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void com1_out(struct vm *vm, const char *s)
{
	for (; *s; s++)
		assert_true(bus_dispatch(&vm->pio_bus, X86_PORT_COM1, (u8 *)s, 1, true));
}

struct tx_results {
	char got[8];
	double stall_sec, stalled_again_sec;
	char after[8];
};

/* Runs with stdout on a non-blocking pipe: nothing here may assert (cmocka prints). */
static void com1_tx_through_pipe(struct vm *vm, int rd, int wr, struct tx_results *r)
{
	static char junk[4096];
	double t;

	com1_out(vm, "ok");
	if (read(rd, r->got, sizeof(r->got) - 1) < 0)
		r->got[0] = '\0';
	while (write(wr, junk, sizeof(junk)) > 0)
		;
	t = now_sec();
	com1_out(vm, "x");
	r->stall_sec = now_sec() - t;
	t = now_sec();
	com1_out(vm, "y");
	r->stalled_again_sec = now_sec() - t;
	while (read(rd, junk, sizeof(junk)) > 0)
		;
	com1_out(vm, "z");
	if (read(rd, r->after, sizeof(r->after) - 1) < 0)
		r->after[0] = '\0';
	close(rd);
	com1_out(vm, "gone"); /* EPIPE: dropped, never fatal */
}

static void test_com1_glue(void **state)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct tx_results r = {0};
	struct device *dev;
	int p[2], saved;

	(void)state;
	assert_non_null(vm);
	vm->vm_fd = -1;
	bus_init(&vm->pio_bus, "pio");
	assert_int_equal(uart16550_com1_ops.realize(vm), 0);
	assert_non_null(vm->console_uart);
	dev = added_dev ? added_dev : vm->devices;
	assert_non_null(dev);
	assert_ptr_equal(dev->ops, &uart16550_com1_ops);
	assert_string_equal(dev->ops->name, "uart16550");
	/* The range is taken: a second COM1 fails cleanly. */
	assert_int_equal(uart16550_com1_ops.realize(vm), -EEXIST);

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(p[1], STDOUT_FILENO);
	com1_tx_through_pipe(vm, p[0], p[1], &r);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(p[1]);

	assert_string_equal(r.got, "ok");
	assert_true(r.stall_sec > 0.2 && r.stall_sec < 5);
	assert_true(r.stalled_again_sec < 0.2);
	assert_string_equal(r.after, "z");

	dev->ops->reset(dev);
	assert_int_equal(inb(vm->console_uart, LSR), 0x60);
	assert_int_equal(irq_line_calls, 0);
	dev->ops->destroy(dev);
	assert_null(vm->console_uart);
	bus_destroy(&vm->pio_bus);
	free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_power_on_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_divisor_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_data_available, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_trigger_and_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_fills_at_16, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_status_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out2_gates_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_rejects_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feeder_thread, setup, teardown),
		cmocka_unit_test(test_com1_glue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
