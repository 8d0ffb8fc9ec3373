/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_ARM64_FIRMWARE_H
#define KVMBOX_ARCH_ARM64_FIRMWARE_H

#include "../../devices/device.h"

/* The firmware's two flash banks, with --firmware (and its variable store, --flash). */
extern const struct device_ops arm64_firmware_ops;
/* --firmware readable and not too big, --flash a usable store; 0 or -EXIT_BAD_INPUT. */
int arm64_firmware_check(const struct vm_config *cfg);

#endif
