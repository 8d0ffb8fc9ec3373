/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_ARCH_X86_ACPI_PM_H
#define KVMBOX_ARCH_X86_ACPI_PM_H

#include "../../devices/device.h"

/*
 * The ACPI fixed-hardware registers the FADT announces: the PM1a event block (PM1_STS,
 * PM1_EN), the PM1a control block (sleep requests: S5 powers the VM off) and the reset
 * register (reboot). Ports come from layout.h. No SCI is ever raised: there is no
 * power button, PM timer or GPE, so the guest never has an event to be told about.
 */
extern const struct device_ops acpi_pm_ops;

#endif
