/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A 16550 UART with a fake host behind it that records what it transmits and checks
 * that the interrupt line is only called on level changes. setup()/teardown() give
 * each test a fresh one; inb()/outb() are the guest's port accesses.
 */
#ifndef KVMBOX_TESTS_UNIT_UART16550_FIXTURE_H
#define KVMBOX_TESTS_UNIT_UART16550_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "devices/uart16550.h"

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

static inline struct uart16550 *fake_uart(struct fake *f)
{
	struct serial_host host = {.tx = fake_tx, .irq = fake_irq, .opaque = f};

	f->u = uart16550_new(&host);
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

	uart16550_free(f->u);
	free(f);
	return repeats ? -1 : 0;
}

static inline void outb(struct uart16550 *u, unsigned int reg, u8 val)
{
	uart16550_io(u, reg, &val, 1, true);
}

static inline u8 inb(struct uart16550 *u, unsigned int reg)
{
	u8 val = 0x5a;

	uart16550_io(u, reg, &val, 1, false);
	return val;
}

/* A test entry with a fresh UART. */
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

#endif
