/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_DEBUG_EXIT_H
#define KVMBOX_ARCH_X86_DEBUG_EXIT_H

#include "../../devices/device.h"

/*
 * QEMU's isa-debug-exit at port 0xf4, present with --debug-exit: a guest write of v ends
 * kvmbox with exit status (v << 1) | 1, so test guests report their result.
 */
extern const struct device_ops debug_exit_ops;

#endif
