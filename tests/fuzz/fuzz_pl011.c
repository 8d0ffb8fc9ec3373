// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/snapshot.c src/util/log.c src/devices/pl011.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the PL011 UART: MMIO accesses to its 4 KiB window, host input,
 * resets and hostile snapshots; see fuzz_serial.h.
 */
#include "devices/pl011.h"
#include "fuzz_serial.h"

static size_t rx_room(void *uart)
{
	return pl011_rx_room(uart);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	fuzz_serial(&pl011_model, rx_room, PL011_MMIO_SIZE, 8, data, size);
	return 0;
}
