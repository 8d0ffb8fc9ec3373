/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_PCI_HOST_H
#define KVMBOX_DEVICES_PCI_HOST_H

#include "device.h"

/* The PCI host bridge at 00:00.0 and configuration mechanism #1; sets vm->pci. */
extern const struct device_ops pci_host_ops;
/* The same bridge with ECAM at arch_pci_layout.ecam_base (arm64); sets vm->pci. */
extern const struct device_ops pci_host_ecam_ops;

#endif
