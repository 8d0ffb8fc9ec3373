// SPDX-License-Identifier: GPL-2.0-only
/*
 * The 16550 UART's receive side: data-available and timeout interrupts, the 16-byte
 * FIFO and its flow control toward the host (the wake fd), overruns, line status,
 * FIFO reset, loopback, interrupt priority, and a host thread feeding input.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include "uart16550_fixture.h"

static bool wake_fd_fired(struct uart16550 *u)
{
	eventfd_t v;

	return eventfd_read(uart16550_rx_wake_fd(u), &v) == 0 && v > 0;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rx_data_available), T(test_rx_trigger_and_timeout),
		T(test_fifo_fills_at_16),  T(test_overrun),
		T(test_line_status_irq),   T(test_fifo_reset),
		T(test_loopback),	   T(test_priority),
		T(test_feeder_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
