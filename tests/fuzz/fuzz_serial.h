/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The harness of a UART model behind struct serial_model (uart16550, pl011): the input is
 * a guest's accesses to its register window (fuzz_access.h) mixed with host input, resets
 * and hostile snapshots. The model may call the host's irq only when the line changes
 * (a snapshot load may drive it regardless), send at most 8 bytes at a time, and take no
 * more host input than it was offered and had room for.
 */
#ifndef KVMBOX_TESTS_FUZZ_FUZZ_SERIAL_H
#define KVMBOX_TESTS_FUZZ_FUZZ_SERIAL_H

#include "devices/serial.h"
#include "fuzz_access.h"
#include "util/log.h"

#define FUZZ_KIND_RECEIVE 0xc0 /* up to FUZZ_KIND_RESET: the host types raw % 48 bytes */

static const struct serial_model *serial_model;
static bool serial_level, serial_loading;

static void serial_tx(void *opaque, const u8 *buf, size_t len)
{
	(void)opaque;
	CHECK(buf && len >= 1 && len <= 8);
}

static void serial_irq(void *opaque, bool level)
{
	(void)opaque;
	CHECK(serial_loading || level != serial_level);
	serial_level = level;
}

static int serial_load(void *uart, struct snap_buf *sb)
{
	int ret;

	serial_loading = true;
	ret = serial_model->load(uart, sb);
	serial_loading = false;
	return ret;
}

/*
 * Runs the input against a fresh UART of model m whose bus range is window bytes and
 * takes at most max_len bytes at a time; rx_room(uart) says how much input fits.
 */
static inline void fuzz_serial(const struct serial_model *m, size_t (*rx_room)(void *uart),
			       u64 window, u32 max_len, const u8 *data, size_t size)
{
	struct serial_host host = {.tx = serial_tx, .irq = serial_irq};
	struct fuzz_in in = {data, size};
	struct fuzz_access a;
	void *uart;

	log_level = LOG_ERR; /* every hostile input would log a warning */
	serial_model = m;
	serial_level = false;
	uart = m->create(&host);
	CHECK(uart);
	while (fuzz_next(&in, &a, window, max_len)) {
		if (a.kind >= FUZZ_KIND_SNAPSHOT) {
			fuzz_snapshot(uart, m->save, serial_load, &in);
		} else if (a.kind >= FUZZ_KIND_RESET) {
			m->reset(uart);
		} else if (a.kind >= FUZZ_KIND_RECEIVE) {
			u8 typed[48];
			size_t len = a.raw % sizeof(typed), room = rx_room(uart), n;

			for (size_t i = 0; i < len; i++)
				typed[i] = fuzz_u8(&in);
			n = m->receive(uart, typed, len);
			CHECK(n <= len && n <= room && rx_room(uart) == room - n);
		} else if (fuzz_fits(&a, window)) {
			m->io(uart, a.offset, fuzz_buf(&a), a.len, a.write);
		}
	}
	m->destroy(uart);
}

#endif
