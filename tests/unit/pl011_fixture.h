/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A PL011 UART with a fake host behind it that records what it transmits and checks that
 * the interrupt line is only called on level changes. setup()/teardown() give each test
 * a fresh one; rd()/wr() and rd_n()/wr_n() are the guest's MMIO accesses.
 */
#ifndef KVMBOX_TESTS_UNIT_PL011_FIXTURE_H
#define KVMBOX_TESTS_UNIT_PL011_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "devices/pl011.h"

enum {
	DR = 0x000,
	RSR = 0x004,
	FR = 0x018,
	ILPR = 0x020,
	IBRD = 0x024,
	FBRD = 0x028,
	LCR_H = 0x02c,
	CR = 0x030,
	IFLS = 0x034,
	IMSC = 0x038,
	RIS = 0x03c,
	MIS = 0x040,
	ICR = 0x044,
	DMACR = 0x048,
};

#define FEN	0x10
#define BRK	0x01
#define UARTEN	0x0001
#define LBE	0x0080
#define TXE	0x0100
#define RXE	0x0200
#define DTR	0x0400
#define RTS	0x0800
#define OUT1	0x1000
#define OUT2	0x2000
#define RXIM	0x010
#define TXIM	0x020
#define RTIM	0x040
#define BEIM	0x200
#define OEIM	0x400
#define FR_IDLE 0x97 /* TXFE, RXFE and a terminal's CTS, DSR, DCD */

struct fake {
	struct pl011 *u;
	u8 tx[4096];
	size_t ntx;
	bool level;
	int irq_calls;
	int irq_repeats;
};

static inline void fake_tx(void *opaque, const u8 *buf, size_t len)
{
	struct fake *f = opaque;

	assert_true(f->ntx + len <= sizeof(f->tx));
	memcpy(f->tx + f->ntx, buf, len);
	f->ntx += len;
}

static inline void fake_irq(void *opaque, bool level)
{
	struct fake *f = opaque;

	/* The model promises calls only on level changes (a snapshot load may resync). */
	if (level == f->level)
		f->irq_repeats++;
	f->level = level;
	f->irq_calls++;
}

static inline struct pl011 *fake_uart(struct fake *f)
{
	struct serial_host host = {.tx = fake_tx, .irq = fake_irq, .opaque = f};

	f->u = pl011_new(&host);
	assert_non_null(f->u);
	return f->u;
}

static inline int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_uart(f);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fake *f = *state;
	int repeats = f->irq_repeats;

	pl011_free(f->u);
	free(f);
	return repeats ? -1 : 0;
}

static inline u32 rd_n(struct pl011 *u, u64 off, u32 len)
{
	u8 b[4] = {0x5a, 0x5a, 0x5a, 0x5a};
	u32 v = 0;

	pl011_mmio(u, off, b, len, false);
	for (u32 i = 0; i < len; i++)
		v |= (u32)b[i] << (8 * i);
	return v;
}

static inline void wr_n(struct pl011 *u, u64 off, u32 val, u32 len)
{
	u8 b[4] = {(u8)val, (u8)(val >> 8), (u8)(val >> 16), (u8)(val >> 24)};

	pl011_mmio(u, off, b, len, true);
}

static inline u32 rd(struct pl011 *u, u64 off)
{
	return rd_n(u, off, 4);
}

static inline void wr(struct pl011 *u, u64 off, u32 val)
{
	wr_n(u, off, val, 4);
}

static inline bool wake_fd_fired(struct pl011 *u)
{
	eventfd_t v;

	return eventfd_read(pl011_rx_wake_fd(u), &v) == 0 && v > 0;
}

static inline size_t rx(struct pl011 *u, const char *s)
{
	return pl011_receive(u, (const u8 *)s, strlen(s));
}

/* A test entry with a fresh UART. */
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

#endif
