/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The port-I/O registers a register flood writes, and the writes it tames, shared by the
 * freestanding guest/tests/flood.c and the Linux program tests/lab/guest/regflood.c.
 * The ports are the x86 board's (src/arch/x86/layout.h and the device files).
 */
#ifndef KVMBOX_FLOOD_REGS_H
#define KVMBOX_FLOOD_REGS_H

#include <stdbool.h>
#include <stdint.h>

struct flood_region {
	uint32_t base, len;
	bool console; /* COM1: Linux's console, left alone there */
};

static const struct flood_region flood_ports[] = {
	{0x3f8, 8, true},  /* COM1 */
	{0x2f8, 8, false}, /* COM2 */
	{0x70, 2, false},  /* CMOS RTC index, data */
	{0x60, 1, false},  /* i8042 data */
	{0x64, 1, false},  /* i8042 command, status */
	{0x510, 2, false}, /* fw_cfg selector, data */
	{0x600, 9, false}, /* ACPI PM1a event (4), PM1a control (2), reset (1) */
};

/* Clears the bits of value that would land on byte lane port of a write at base. */
static inline uint32_t flood_lane_mask(uint32_t base, int width, uint32_t port, uint8_t bits)
{
	if (port < base || port >= base + width)
		return ~0u;
	return ~((uint32_t)bits << (8 * (port - base)));
}

/*
 * Tames a write that could legitimately reset or power off the VM: SLP_EN in PM1a_CNT,
 * the ACPI reset register's reset value, i8042 output-port writes and reset pulses.
 */
static inline uint32_t flood_tame(uint32_t port, int width, uint32_t v)
{
	v &= flood_lane_mask(port, width, 0x605, 0x20); /* SLP_EN, bit 13 of PM1a_CNT */
	if (port <= 0x608 && 0x608 < port + width) {
		uint32_t lane = 8 * (0x608 - port);

		if ((v >> lane & 0xff) == 0x01) /* the reset value */
			v &= ~(0xffu << lane);
	}
	if (port == 0x64 && ((uint8_t)v == 0xd1 || (uint8_t)v >= 0xf0))
		v = 0xae; /* enable the keyboard instead: harmless */
	return v;
}

#endif
