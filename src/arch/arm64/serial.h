/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_ARM64_SERIAL_H
#define KVMBOX_ARCH_ARM64_SERIAL_H

#include "../../devices/device.h"

/* The PL011 at 0x09000000, SPI 1, wired to kvmbox's stdout; sets vm->serial_sink for stdin. */
extern const struct device_ops pl011_console_ops;

#endif
