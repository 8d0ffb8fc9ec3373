/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_ARM64_RTC_H
#define KVMBOX_ARCH_ARM64_RTC_H

#include "../../devices/device.h"

/* The PL031 real-time clock at 0x09010000, SPI 2. */
extern const struct device_ops pl031_rtc_ops;

#endif
