// SPDX-License-Identifier: GPL-2.0-only
/* The console of the arm64 board: the PL011 model at 0x09000000, SPI 1. */
#include "../../devices/pl011.h"
#include "../../devices/serial.h"
#include "layout.h"
#include "serial.h"

static int pl011_console_realize(struct vm *vm)
{
	static const struct serial_console_desc pl011 = {
		.model = &pl011_model,
		.ops = &pl011_console_ops,
		.base = ARM64_UART_GPA,
		.len = PL011_MMIO_SIZE,
		.irq_line = ARM64_UART_SPI,
	};

	return serial_console_realize(vm, &pl011);
}

const struct device_ops pl011_console_ops = {
	.name = "pl011",
	.realize = pl011_console_realize,
	.reset = serial_console_reset,
	.save = serial_console_save,
	.load = serial_console_load,
	.destroy = serial_console_destroy,
};
