// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PL011 UART's receive side and snapshots: the FIFO with FIFOs off and on, its flow
 * control toward the host (the wake fd), RXE, the RX and timeout interrupts and trigger
 * levels, save/load and refused sections, and a host thread feeding input.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>

#include "pl011_fixture.h"
#include "snapshot.h"

static void test_fr_fifo_off(void **state)
{
	struct fake *f = *state;

	assert_int_equal(rx(f->u, "xy"), 1);
	assert_int_equal(rd(f->u, FR), (FR_IDLE & ~0x10) | 0x40); /* RXFF, not RXFE */
	assert_int_equal(pl011_rx_room(f->u), 0);
	assert_int_equal(rx(f->u, "y"), 0);
	assert_int_equal(rd_n(f->u, DR, 2), 'x');
	assert_int_equal(rd(f->u, FR), FR_IDLE);
	assert_true(wake_fd_fired(f->u));
	assert_int_equal(rx(f->u, "y"), 1);
	assert_int_equal(rd_n(f->u, DR, 1), 'y');
	assert_true(wake_fd_fired(f->u));
	/* An empty DR reads 0 and wakes no one. */
	assert_int_equal(rd(f->u, DR), 0);
	assert_false(wake_fd_fired(f->u));
}

static void test_fifo_fills_at_32(void **state)
{
	struct fake *f = *state;
	u8 buf[40];

	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)('A' + i);
	wr(f->u, LCR_H, FEN | 0x60);
	assert_int_equal(pl011_rx_room(f->u), PL011_FIFO_SIZE);
	assert_int_equal(pl011_receive(f->u, buf, 10), 10);
	assert_int_equal(pl011_rx_room(f->u), PL011_FIFO_SIZE - 10);
	assert_int_equal(rd(f->u, FR), FR_IDLE & ~0x10);
	/* Host input is flow-controlled: the excess is refused, not an overrun. */
	assert_int_equal(pl011_receive(f->u, buf + 10, 30), PL011_FIFO_SIZE - 10);
	assert_int_equal(pl011_rx_room(f->u), 0);
	assert_int_equal(rd(f->u, FR), (FR_IDLE & ~0x10) | 0x40);

	wake_fd_fired(f->u);
	for (unsigned int i = 0; i < PL011_FIFO_SIZE; i++) {
		assert_false(wake_fd_fired(f->u));
		assert_int_equal(rd(f->u, DR), buf[i]); /* no error bits */
	}
	assert_true(wake_fd_fired(f->u));
	assert_int_equal(rd(f->u, FR), FR_IDLE);
	assert_int_equal(rd(f->u, RSR), 0);
}

static void test_fen_toggle_flushes(void **state)
{
	struct fake *f = *state;

	wr(f->u, LCR_H, FEN);
	wr(f->u, IMSC, RTIM);
	assert_int_equal(rx(f->u, "hello"), 5);
	assert_true(f->level);
	wake_fd_fired(f->u);
	/* Other LCR_H bits keep the data. */
	wr(f->u, LCR_H, FEN | 0x60);
	assert_false(wake_fd_fired(f->u));
	assert_int_equal(pl011_rx_room(f->u), PL011_FIFO_SIZE - 5);
	wr(f->u, LCR_H, 0x60);
	assert_true(wake_fd_fired(f->u));
	assert_false(f->level);
	assert_int_equal(rd(f->u, FR), FR_IDLE);
	assert_int_equal(rd(f->u, RIS), 0);
	assert_int_equal(pl011_rx_room(f->u), 1);
}

static void test_rxe_gates_host_input(void **state)
{
	struct fake *f = *state;

	wr(f->u, LCR_H, FEN);
	wr(f->u, CR, UARTEN | TXE);
	assert_int_equal(pl011_rx_room(f->u), 0);
	assert_int_equal(rx(f->u, "abc"), 0);
	wake_fd_fired(f->u);
	/* Turning RXE on asks the feeder for what it held back; the data stays readable
	 * when RXE goes off again. */
	wr(f->u, CR, UARTEN | TXE | RXE);
	assert_true(wake_fd_fired(f->u));
	assert_int_equal(rx(f->u, "abc"), 3);
	wr(f->u, CR, UARTEN | TXE);
	assert_false(wake_fd_fired(f->u));
	assert_int_equal(rd(f->u, DR), 'a');
	assert_int_equal(rd(f->u, DR), 'b');
	assert_int_equal(rd(f->u, DR), 'c');
}

static void test_rx_interrupts(void **state)
{
	struct fake *f = *state;

	wr(f->u, LCR_H, FEN);
	wr(f->u, IFLS, 0x00); /* RX trigger at 1/8: 4 characters */
	assert_int_equal(rx(f->u, "a"), 1);
	assert_false(f->level);
	assert_int_equal(rd(f->u, RIS), RTIM); /* the timeout has always elapsed */
	wr(f->u, IMSC, RXIM);
	assert_false(f->level);
	wr(f->u, IMSC, RXIM | RTIM);
	assert_true(f->level);
	assert_int_equal(rd(f->u, MIS), RTIM);
	assert_int_equal(rx(f->u, "bcd"), 3);
	assert_int_equal(rd(f->u, RIS), RXIM | RTIM);
	wr(f->u, IMSC, RXIM);
	assert_true(f->level);
	assert_int_equal(rd(f->u, MIS), RXIM);
	/* Reading below the trigger level drops RX; emptying the FIFO drops RT. */
	assert_int_equal(rd(f->u, DR), 'a');
	assert_int_equal(rd(f->u, RIS), RTIM);
	assert_false(f->level);
	wr(f->u, IMSC, RXIM | RTIM);
	assert_true(f->level);
	rd(f->u, DR);
	rd(f->u, DR);
	assert_true(f->level);
	assert_int_equal(rd(f->u, DR), 'd');
	assert_false(f->level);
	assert_int_equal(rd(f->u, RIS), 0);

	/* ICR clears RT while data waits; the next character raises it again. */
	rx(f->u, "e");
	assert_true(f->level);
	wr(f->u, ICR, RTIM);
	assert_false(f->level);
	rx(f->u, "f");
	assert_true(f->level);

	/* With the FIFOs off one character reaches the trigger. */
	wr(f->u, LCR_H, 0);
	rx(f->u, "g");
	assert_int_equal(rd(f->u, RIS), RXIM | RTIM);
	rd(f->u, DR);
	assert_int_equal(rd(f->u, RIS), 0);
	assert_false(f->level);
}

static void test_rx_trigger_levels(void **state)
{
	struct fake *f = *state;
	static const struct {
		u32 ifls;
		unsigned int trigger;
	} levels[] = {{0x00, 4}, {0x08, 8}, {0x10, 16}, {0x18, 24}, {0x20, 28}, {0x38, 28}};
	u8 buf[PL011_FIFO_SIZE] = {0};

	wr(f->u, LCR_H, FEN);
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
		unsigned int t = levels[i].trigger;

		wr(f->u, IFLS, levels[i].ifls | 0x7);
		assert_int_equal(rd(f->u, IFLS), levels[i].ifls | 0x7);
		assert_int_equal(pl011_receive(f->u, buf, t - 1), t - 1);
		assert_int_equal(rd(f->u, RIS) & RXIM, 0);
		assert_int_equal(pl011_receive(f->u, buf, 1), 1);
		assert_int_equal(rd(f->u, RIS) & RXIM, RXIM);
		for (unsigned int n = 0; n < t; n++)
			rd(f->u, DR);
	}
}

static void save_to(struct pl011 *u, struct snap_buf *sb)
{
	snap_init(sb);
	assert_int_equal(pl011_save(u, sb), 0);
	sb->pos = 0;
}

/* Something in every register, a wrapped FIFO and an overrun on the way. */
static void busy_state(struct pl011 *u)
{
	wr(u, ILPR, 0x21);
	wr(u, IBRD, 0x1a2b);
	wr(u, FBRD, 0x15);
	wr(u, DMACR, 0x4);
	wr(u, IFLS, 0x09);
	wr(u, LCR_H, FEN | 0x60);
	wr(u, CR, UARTEN | TXE | RXE | LBE | DTR | OUT2);
	wr(u, IMSC, 0x7f0);
	for (int i = 0; i < PL011_FIFO_SIZE + 2; i++)
		wr_n(u, DR, (u8)('A' + i), 1);
	rd(u, DR);
	rd(u, DR);
	wr_n(u, DR, 'z', 1); /* wraps the ring */
	wr(u, ICR, OEIM);
}

static void test_snapshot_round_trip(void **state)
{
	struct fake *f = *state, g = {0};
	struct snap_buf sb;
	static const u32 regs[] = {FR,	 RSR,  ILPR, IBRD, FBRD,  LCR_H, CR,
				   IFLS, IMSC, RIS,  MIS,  DMACR, 0xfe8};

	busy_state(f->u);
	save_to(f->u, &sb);
	fake_uart(&g);
	assert_int_equal(pl011_load(g.u, &sb), 0);
	assert_int_equal(sb.pos, sb.len);
	snap_free(&sb);
	assert_true(g.level);
	assert_int_equal(g.irq_calls, 1);
	assert_int_equal(pl011_rx_room(g.u), 0);

	/* Drain both and compare everything the guest can see on the way. */
	for (int i = 0; i < PL011_FIFO_SIZE + 2; i++) {
		for (size_t r = 0; r < ARRAY_SIZE(regs); r++)
			assert_int_equal(rd(f->u, regs[r]), rd(g.u, regs[r]));
		assert_int_equal(rd(f->u, DR), rd(g.u, DR));
	}
	assert_int_equal(f->level, g.level);
	assert_int_equal(rd(g.u, IBRD), 0x1a2b);
	assert_int_equal(g.irq_repeats, 0);
	pl011_free(g.u);
}

/* Overwrites 32-bit word `word` (-1: none) of a saved snapshot, and cuts `truncate` bytes. */
static void expect_load_fails(struct pl011 *src, int word, u32 value, size_t truncate)
{
	struct fake g = {0};
	struct snap_buf sb;
	const size_t hdr = 32 + 4;

	save_to(src, &sb);
	if (word >= 0)
		memcpy(sb.data + hdr + 4 * (size_t)word, &value, 4);
	sb.len -= truncate;
	fake_uart(&g);
	wr(g.u, IBRD, 0x99);
	assert_int_equal(pl011_load(g.u, &sb), -EINVAL);
	/* A refused snapshot leaves the UART as it was. */
	assert_int_equal(rd(g.u, IBRD), 0x99);
	assert_int_equal(rd(g.u, FR), FR_IDLE);
	assert_int_equal(g.irq_calls, 0);
	snap_free(&sb);
	pl011_free(g.u);
}

static void test_snapshot_rejects_corruption(void **state)
{
	struct fake *f = *state;
	struct snap_buf sb;
	/* Words: ILPR 0, IBRD 1, FBRD 2, LCR_H 3, CR 4, IFLS 5, IMSC 6, DMACR 7, RIS 8,
	 * RSR 9, rx_count 10, FIFO 11-42. */
	enum { W_CR = 4, W_IMSC = 6, W_RIS = 8, W_RSR = 9, W_COUNT = 10, W_FIFO = 11 };

	busy_state(f->u);
	expect_load_fails(f->u, 1, 0x10000, 0);
	expect_load_fails(f->u, 2, 0x40, 0);
	expect_load_fails(f->u, W_CR, 0x0008, 0);
	expect_load_fails(f->u, W_IMSC, 0x800, 0);
	expect_load_fails(f->u, W_RIS, 0x080, 0); /* framing errors never happen here */
	expect_load_fails(f->u, W_RSR, 0x1, 0);
	expect_load_fails(f->u, W_COUNT, PL011_FIFO_SIZE + 1, 0);
	expect_load_fails(f->u, W_COUNT, 0xffffffff, 0);
	expect_load_fails(f->u, W_FIFO, 0x1041, 0);
	expect_load_fails(f->u, W_FIFO, 0x441, 0);		       /* a break is a 0 */
	expect_load_fails(f->u, W_FIFO + PL011_FIFO_SIZE - 1, 'q', 0); /* past rx_count */
	expect_load_fails(f->u, 0, 0, 1);
	expect_load_fails(f->u, 0, 0, 40);

	/* With the FIFOs off the receiver holds one character; RX/RT need data. */
	pl011_reset(f->u);
	rx(f->u, "z");
	expect_load_fails(f->u, W_COUNT, 2, 0);
	rd(f->u, DR);
	expect_load_fails(f->u, W_RIS, 0x040, 0);
	expect_load_fails(f->u, W_FIFO, 'z', 0); /* a slot past rx_count */

	snap_init(&sb);
	snap_begin_section(&sb, "pl011", 2);
	snap_put(&sb, (u8[256]){0}, 256);
	assert_int_equal(pl011_load(f->u, &sb), -EINVAL);
	snap_free(&sb);
	snap_begin_section(&sb, "uart16550", 1);
	snap_put(&sb, (u8[256]){0}, 256);
	assert_int_equal(pl011_load(f->u, &sb), -EINVAL);
	snap_free(&sb);
}

struct feeder {
	struct pl011 *u;
	size_t total;
};

/* Feeds a counting pattern, sleeping on the wake fd when the FIFO is full. */
static void *feeder_thread(void *arg)
{
	struct feeder *fd = arg;
	size_t sent = 0;

	while (sent < fd->total) {
		u8 buf[PL011_FIFO_SIZE];
		size_t room = pl011_rx_room(fd->u), n = MIN(room, fd->total - sent);
		struct pollfd p = {.fd = pl011_rx_wake_fd(fd->u), .events = POLLIN};
		eventfd_t v;

		for (size_t i = 0; i < n; i++)
			buf[i] = (u8)(sent + i);
		sent += pl011_receive(fd->u, buf, n);
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

	wr(f->u, LCR_H, FEN | 0x60);
	wr(f->u, CR, UARTEN | TXE | RXE);
	assert_int_equal(pthread_create(&t, NULL, feeder_thread, &fd), 0);
	while (got < fd.total) {
		if (!(rd_n(f->u, FR, 2) & 0x10))
			assert_int_equal(rd_n(f->u, DR, 2), (u8)got++); /* and no error bits */
	}
	pthread_join(t, NULL);
	assert_int_equal(rd(f->u, RSR), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fr_fifo_off),	     T(test_fifo_fills_at_32),
		T(test_fen_toggle_flushes),  T(test_rxe_gates_host_input),
		T(test_rx_interrupts),	     T(test_rx_trigger_levels),
		T(test_snapshot_round_trip), T(test_snapshot_rejects_corruption),
		T(test_feeder_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
