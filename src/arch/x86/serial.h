/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_SERIAL_H
#define KVMBOX_ARCH_X86_SERIAL_H

#include "../../devices/device.h"

/* COM1 at 0x3f8, IRQ 4, wired to kvmbox's stdout; sets vm->serial_sink for stdin. */
extern const struct device_ops uart16550_com1_ops;

#endif
