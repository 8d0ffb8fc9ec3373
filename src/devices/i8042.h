/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_I8042_H
#define KVMBOX_DEVICES_I8042_H

#include "device.h"

/*
 * The PS/2 controller at ports 0x60 (data) and 0x64 (status/command), with nothing
 * plugged into either port: enough for an OS to probe it, find no keyboard or mouse
 * quickly, and reset the machine through it (commands 0xfe and 0xd1). IRQ 1 and 12 follow
 * the output buffer as on the real controller. Port 0x61 is not part of it.
 */
extern const struct device_ops i8042_ops;

#endif
