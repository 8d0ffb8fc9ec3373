// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PL011 UART's registers as a guest sees them: ID registers, power-on state,
 * transmit at every access width, the TX interrupt, RIS/MIS/IMSC/ICR, register masks and
 * narrow writes, loopback, the modem lines, reset and hostile accesses.
 */
#include "pl011_fixture.h"

static void test_id_registers(void **state)
{
	struct fake *f = *state;
	static const u8 id[8] = {0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
	u32 pid = 0, cid = 0;

	/* Linux's AMBA bus: the low byte of each word, PeriphID then PCellID. */
	for (int i = 0; i < 4; i++) {
		pid |= (rd(f->u, 0xfe0 + 4 * i) & 0xff) << (8 * i);
		cid |= (rd(f->u, 0xff0 + 4 * i) & 0xff) << (8 * i);
	}
	assert_int_equal(pid, 0x00341011);
	assert_int_equal(pid & 0x000fffff, 0x00041011); /* amba-pl011's id/mask */
	assert_int_equal((pid >> 20) & 0xf, 3);		/* revision 3: 32-entry FIFOs */
	assert_int_equal(cid, 0xb105f00d);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(rd(f->u, 0xfe0 + 4 * i), id[i]);
		assert_int_equal(rd_n(f->u, 0xfe0 + 4 * i, 2), id[i]);
		assert_int_equal(rd_n(f->u, 0xfe0 + 4 * i, 1), id[i]);
		assert_int_equal(rd_n(f->u, 0xfe1 + 4 * i, 1), 0);
	}
	/* Read-only. */
	wr(f->u, 0xfe0, 0x99);
	assert_int_equal(rd(f->u, 0xfe0), 0x11);
}

static void test_power_on_state(void **state)
{
	static const u32 zero[] = {DR, RSR, ILPR, IBRD, FBRD, LCR_H, IMSC, RIS, MIS, ICR, DMACR};
	struct fake *f = *state;

	assert_int_equal(rd(f->u, FR), FR_IDLE);
	assert_int_equal(rd(f->u, CR), TXE | RXE);
	assert_int_equal(rd(f->u, IFLS), 0x12);
	for (size_t i = 0; i < ARRAY_SIZE(zero); i++)
		assert_int_equal(rd(f->u, zero[i]), 0);
	assert_false(f->level);
	assert_int_equal(f->ntx, 0);
	/* No FIFOs: one character of room, taken although UARTEN is off. */
	assert_int_equal(pl011_rx_room(f->u), 1);
}

static void test_tx_widths(void **state)
{
	struct fake *f = *state;

	/* Not enabled: earlycon and kvm-unit-tests write DR on a UART at its reset state. */
	wr_n(f->u, DR, 'a', 1);
	wr_n(f->u, DR, 0xff00 | 'b', 2);
	wr(f->u, DR, 0xffffff00 | 'c');
	/* Bits 31:8 of a DR write are not data, and TXE off still sends, as in QEMU. */
	wr(f->u, CR, UARTEN);
	wr_n(f->u, DR, 'd', 1);
	assert_int_equal(f->ntx, 4);
	assert_memory_equal(f->tx, "abcd", 4);
	/* A write that misses DR's low byte carries no character. */
	wr_n(f->u, DR + 1, 'x', 1);
	wr_n(f->u, DR + 2, 'x', 2);
	wr_n(f->u, DR + 3, 'x', 1);
	assert_int_equal(f->ntx, 4);
	/* Transmit never fills or busies the FIFO. */
	for (int i = 0; i < 100; i++)
		wr_n(f->u, DR, '.', 1);
	assert_int_equal(f->ntx, 104);
	assert_int_equal(rd_n(f->u, FR, 1), FR_IDLE);
	assert_int_equal(rd_n(f->u, FR, 2), FR_IDLE);
}

static void test_tx_interrupt(void **state)
{
	struct fake *f = *state;

	/* Enabling the UART or unmasking TXIM is no edge: only a byte leaving is. */
	wr(f->u, CR, UARTEN | TXE | RXE);
	wr(f->u, IMSC, TXIM);
	assert_false(f->level);
	assert_int_equal(rd(f->u, RIS), 0);
	wr_n(f->u, DR, 'x', 2);
	assert_true(f->level);
	assert_int_equal(rd(f->u, RIS), TXIM);
	assert_int_equal(rd(f->u, MIS), TXIM);
	wr_n(f->u, DR, 'y', 2); /* no repeated call: the fixture counts them */
	wr(f->u, ICR, TXIM);
	assert_false(f->level);
	assert_int_equal(rd(f->u, RIS), 0);

	/* Linux: send, unmask TXIM while more is queued, mask it once done. */
	wr(f->u, IMSC, 0);
	wr_n(f->u, DR, 'z', 2);
	assert_false(f->level);
	wr(f->u, IMSC, TXIM);
	assert_true(f->level);
	wr(f->u, IMSC, 0);
	assert_false(f->level);
	assert_int_equal(rd(f->u, RIS), TXIM);
	assert_int_equal(rd(f->u, MIS), 0);
	assert_memory_equal(f->tx, "xyz", 3);
}

static void test_icr_imsc_ris(void **state)
{
	struct fake *f = *state;

	wr(f->u, LCR_H, FEN);
	rx(f->u, "a");
	wr_n(f->u, DR, 'b', 1);
	assert_int_equal(rd(f->u, RIS), TXIM | RTIM);
	/* RIS, MIS, FR and the gaps ignore writes; ICR reads as 0. */
	wr(f->u, RIS, 0);
	wr(f->u, MIS, 0);
	wr(f->u, FR, 0);
	wr(f->u, 0x008, 0xffff);
	assert_int_equal(rd(f->u, RIS), TXIM | RTIM);
	assert_int_equal(rd(f->u, FR), FR_IDLE & ~0x10);
	assert_int_equal(rd(f->u, ICR), 0);
	assert_int_equal(rd(f->u, 0x008), 0);
	wr(f->u, IMSC, 0xffffffff);
	assert_int_equal(rd(f->u, IMSC), 0x7ff);
	assert_int_equal(rd(f->u, MIS), TXIM | RTIM);
	assert_true(f->level);
	wr(f->u, ICR, RXIM); /* not pending: nothing changes */
	assert_int_equal(rd(f->u, RIS), TXIM | RTIM);
	wr(f->u, ICR, TXIM);
	assert_int_equal(rd(f->u, MIS), RTIM);
	assert_true(f->level);
	wr(f->u, ICR, 0x7ff);
	assert_int_equal(rd(f->u, RIS), 0);
	assert_false(f->level);
	/* Only one character was read by nobody: it is still there. */
	assert_int_equal(rd(f->u, DR), 'a');
}

static void test_register_masks_and_narrow_writes(void **state)
{
	struct fake *f = *state;

	wr(f->u, ILPR, 0xffffffff);
	wr(f->u, IBRD, 0xffffffff);
	wr(f->u, FBRD, 0xffffffff);
	wr(f->u, IFLS, 0xffffffff);
	wr(f->u, DMACR, 0xffffffff);
	assert_int_equal(rd(f->u, ILPR), 0xff);
	assert_int_equal(rd(f->u, IBRD), 0xffff);
	assert_int_equal(rd(f->u, FBRD), 0x3f);
	assert_int_equal(rd(f->u, IFLS), 0x3f);
	assert_int_equal(rd(f->u, DMACR), 0x7);
	wr(f->u, CR, 0xffff & ~LBE);
	assert_int_equal(rd(f->u, CR), 0xff07);

	/* Linux's 16-bit accessors, and bytes written over the stored value. */
	wr_n(f->u, IBRD, 0x1234, 2);
	assert_int_equal(rd(f->u, IBRD), 0x1234);
	wr_n(f->u, IBRD + 1, 0x56, 1);
	assert_int_equal(rd(f->u, IBRD), 0x5634);
	assert_int_equal(rd_n(f->u, IBRD + 1, 1), 0x56);
	assert_int_equal(rd_n(f->u, IBRD + 2, 2), 0);
	wr(f->u, CR, TXE | RXE);
	wr_n(f->u, CR, UARTEN, 1);
	assert_int_equal(rd(f->u, CR), UARTEN | TXE | RXE);
	wr_n(f->u, CR + 1, 0x01, 1);
	assert_int_equal(rd(f->u, CR), UARTEN | TXE);
	/* ICR by bytes clears only the lanes written. */
	wr(f->u, CR, UARTEN | TXE | RXE);
	wr(f->u, LCR_H, FEN);
	rx(f->u, "a");
	wr_n(f->u, DR, 'b', 1);
	wr_n(f->u, ICR + 1, 0xff, 1);
	assert_int_equal(rd(f->u, RIS), TXIM | RTIM);
	wr_n(f->u, ICR, TXIM, 1);
	assert_int_equal(rd(f->u, RIS), RTIM);
}

static void test_loopback(void **state)
{
	struct fake *f = *state;

	wr(f->u, LCR_H, FEN);
	wr(f->u, CR, UARTEN | TXE | RXE | LBE);
	wr(f->u, IMSC, OEIM | BEIM);
	assert_int_equal(pl011_rx_room(f->u), 0);
	assert_int_equal(rx(f->u, "h"), 0);
	/* The 33rd character overruns: the newest kept one carries OE. */
	for (int i = 0; i < PL011_FIFO_SIZE + 1; i++)
		wr_n(f->u, DR, (u8)('0' + i), 1);
	assert_int_equal(f->ntx, 0);
	assert_true(f->level);
	assert_int_equal(rd(f->u, RIS) & OEIM, OEIM);
	assert_int_equal(rd(f->u, RSR), 0x8);
	wr(f->u, RSR, 0); /* ECR */
	assert_int_equal(rd(f->u, RSR), 0);
	for (int i = 0; i < PL011_FIFO_SIZE - 1; i++)
		assert_int_equal(rd(f->u, DR), (u8)('0' + i));
	assert_int_equal(rd(f->u, DR), 0x800 | (u8)('0' + PL011_FIFO_SIZE - 1));
	assert_int_equal(rd(f->u, RSR), 0x8);
	wr(f->u, ICR, OEIM);
	assert_false(f->level);

	/* A break arrives as a 0 with BE. */
	wr(f->u, LCR_H, FEN | BRK);
	wr(f->u, LCR_H, FEN | BRK);
	assert_true(f->level);
	assert_int_equal(rd(f->u, DR), 0x400);
	assert_int_equal(rd(f->u, FR) & 0x10, 0x10);
	wr(f->u, ICR, BEIM);
	wr(f->u, LCR_H, FEN);

	/* Without RXE the loop goes nowhere. */
	wr(f->u, CR, UARTEN | TXE | LBE);
	wr_n(f->u, DR, 'q', 1);
	assert_int_equal(rd(f->u, FR) & 0x10, 0x10);
	assert_int_equal(f->ntx, 0);

	/* Leaving loopback asks the feeder for input again. */
	wr(f->u, CR, UARTEN | TXE | RXE | LBE);
	wake_fd_fired(f->u);
	wr(f->u, CR, UARTEN | TXE | RXE);
	assert_true(wake_fd_fired(f->u));
	wr_n(f->u, DR, 'T', 1);
	assert_int_equal(f->ntx, 1);
	assert_int_equal(rx(f->u, "h"), 1);
}

static void test_modem_lines(void **state)
{
	struct fake *f = *state;

	/* A terminal: CTS, DSR, DCD; the outputs change nothing outside loopback. */
	wr(f->u, CR, RXE | TXE | DTR | RTS | OUT1 | OUT2);
	assert_int_equal(rd(f->u, FR) & 0x107, 0x007);
	assert_int_equal(rd(f->u, RIS), 0);

	/* Entering loopback with DTR only: CTS and DCD fall, each change interrupts. */
	wr(f->u, IMSC, 0xf);
	wr(f->u, CR, RXE | TXE | LBE | DTR);
	assert_int_equal(rd(f->u, FR) & 0x107, 0x002);
	assert_int_equal(rd(f->u, RIS), 0x2 | 0x4); /* CTSRMIS, DCDRMIS */
	assert_true(f->level);
	wr(f->u, ICR, 0xf);
	assert_false(f->level);
	wr(f->u, CR, RXE | TXE | LBE | DTR | RTS);
	assert_int_equal(rd(f->u, FR) & 0x107, 0x003);
	assert_int_equal(rd(f->u, RIS), 0x2);
	wr(f->u, CR, RXE | TXE | LBE | OUT1 | OUT2);
	assert_int_equal(rd(f->u, FR) & 0x107, 0x104);
	assert_int_equal(rd(f->u, RIS), 0xf);
}

static void test_reset(void **state)
{
	struct fake *f = *state;

	wr(f->u, LCR_H, FEN | 0x70);
	wr(f->u, IBRD, 13);
	wr(f->u, FBRD, 1);
	wr(f->u, IMSC, RXIM | RTIM | TXIM);
	wr(f->u, CR, UARTEN | TXE | RXE | DTR);
	rx(f->u, "data");
	wr_n(f->u, DR, '!', 1);
	assert_true(f->level);
	wake_fd_fired(f->u);

	pl011_reset(f->u);
	assert_false(f->level);
	assert_true(wake_fd_fired(f->u));
	assert_int_equal(rd(f->u, FR), FR_IDLE);
	assert_int_equal(rd(f->u, CR), TXE | RXE);
	assert_int_equal(rd(f->u, LCR_H), 0);
	assert_int_equal(rd(f->u, IBRD), 0);
	assert_int_equal(rd(f->u, FBRD), 0);
	assert_int_equal(rd(f->u, IMSC), 0);
	assert_int_equal(rd(f->u, RIS), 0);
	assert_int_equal(rd(f->u, IFLS), 0x12);
	assert_int_equal(rd(f->u, DR), 0);
	assert_int_equal(pl011_rx_room(f->u), 1);
}

static void test_hostile_accesses(void **state)
{
	struct fake *f = *state;
	static const u64 offsets[] = {0x1000, 0x1004, 0xfff, 0xffe, 0x10000, 1ull << 40, ~0ull};
	u8 b[8], in[40] = {0};

	rx(f->u, "k");
	/* Wrong widths and misaligned accesses read zeros and do nothing. */
	for (u32 len = 0; len <= 8; len++) {
		if (len == 1 || len == 2 || len == 4)
			continue;
		memset(b, 0xa5, sizeof(b));
		pl011_mmio(f->u, DR, b, len, false);
		for (u32 i = 0; i < len; i++)
			assert_int_equal(b[i], 0);
		if (len < 8)
			assert_int_equal(b[len], 0xa5);
		pl011_mmio(f->u, DR, b, len, true);
	}
	pl011_mmio(f->u, DR, b, 0, false);
	assert_int_equal(rd_n(f->u, DR + 1, 2), 0);
	assert_int_equal(rd_n(f->u, DR + 2, 4), 0);
	wr_n(f->u, CR + 1, 0xffff, 2);
	wr_n(f->u, CR + 2, 0xffffffff, 4);
	assert_int_equal(rd(f->u, CR), TXE | RXE);
	for (size_t i = 0; i < ARRAY_SIZE(offsets); i++) {
		assert_int_equal(rd_n(f->u, offsets[i], 4), 0);
		assert_int_equal(rd_n(f->u, offsets[i], 1), 0);
		wr(f->u, offsets[i], 0xffffffff);
		wr_n(f->u, offsets[i], 0xff, 1);
	}
	/* The last register of the window is reachable; the character was never touched. */
	assert_int_equal(rd(f->u, 0xffc), 0xb1);
	assert_int_equal(f->ntx, 0);
	assert_int_equal(rd(f->u, CR), TXE | RXE);
	assert_int_equal(rd(f->u, DR), 'k');

	/* Random traffic: nothing breaks, and TX never fills. */
	srand(1);
	for (int i = 0; i < 200000; i++) {
		u32 len = (u32)(rand() % 9);
		u64 off = (u64)(rand() % 0x1010);

		for (size_t j = 0; j < sizeof(b); j++)
			b[j] = (u8)rand();
		if (rand() % 4 == 0)
			pl011_receive(f->u, in, (size_t)(rand() % sizeof(in)));
		pl011_mmio(f->u, off, b, len, rand() % 2);
		assert_int_equal(rd(f->u, FR) & 0xa8, 0x80);
		f->ntx = 0;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_id_registers), T(test_power_on_state),
		T(test_tx_widths),    T(test_tx_interrupt),
		T(test_icr_imsc_ris), T(test_register_masks_and_narrow_writes),
		T(test_loopback),     T(test_modem_lines),
		T(test_reset),	      T(test_hostile_accesses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
