// SPDX-License-Identifier: GPL-2.0-only
// fuzz-sources: src/snapshot.c src/util/log.c src/devices/uart16550.c
// fuzz-time-percent: 5
/*
 * libFuzzer harness for the 16550 UART: port accesses to its 8 registers (at most 4
 * bytes, as port I/O), host input, resets and hostile snapshots; see fuzz_serial.h.
 */
#include "devices/uart16550.h"
#include "fuzz_serial.h"

static size_t rx_room(void *uart)
{
	return uart16550_rx_room(uart);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	fuzz_serial(&uart16550_model, rx_room, 8, 4, data, size);
	return 0;
}
