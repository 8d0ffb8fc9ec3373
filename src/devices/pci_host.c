// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>

#include "../arch/arch.h"
#include "../vm.h"
#include "pci.h"
#include "pci_host.h"

struct pci_host {
	struct device dev;
	struct pci_bus bus;
	struct pci_function bridge;
};

static void pci_host_destroy(struct device *dev)
{
	struct pci_host *host = container_of(dev, struct pci_host, dev);

	pci_bus_destroy(&host->bus);
	free(host);
}

static void pci_host_reset(struct device *dev)
{
	struct pci_host *host = container_of(dev, struct pci_host, dev);

	pthread_mutex_lock(&host->bus.lock);
	host->bus.address = 0;
	pci_config_set16(&host->bridge, PCI_COMMAND, 0);
	pthread_mutex_unlock(&host->bus.lock);
}

static struct pci_host *pci_host_new(struct vm *vm, const struct device_ops *ops)
{
	struct pci_host *host = calloc(1, sizeof(*host));

	if (!host)
		return NULL;
	host->dev.ops = ops;
	pci_bus_init(&host->bus);
	pci_function_init(&host->bridge, PCI_VENDOR_REDHAT, PCI_DEVICE_REDHAT_HOST,
			  PCI_CLASS_BRIDGE_HOST);
	pci_bus_add(&host->bus, &host->bridge, 0);
	vm->pci = &host->bus;
	vm_add_device(vm, &host->dev);
	return host;
}

static int pci_host_conf1_realize(struct vm *vm)
{
	struct pci_host *host = pci_host_new(vm, &pci_host_ops);

	if (!host)
		return -1;
	if (bus_register(&vm->pio_bus, PCI_CONF1_PORT, 8, pci_conf1_io, &host->bus, "pci-conf1"))
		return -1; /* the host is on the VM's list: destroyed with it */
	/*
	 * The address latch only matters when the data port is accessed next, so KVM may
	 * buffer latch writes instead of exiting: half the exits of a bus scan, and Linux
	 * scans all 256 buses on AMD CPUs (the GART aperture search).
	 */
	vm_coalesce_writes(vm, PCI_CONF1_PORT, 4, true);
	return 0;
}

const struct device_ops pci_host_ops = {
	.name = "pci-host",
	.realize = pci_host_conf1_realize,
	.reset = pci_host_reset,
	.destroy = pci_host_destroy,
};

static int pci_host_ecam_realize(struct vm *vm)
{
	struct pci_host *host = pci_host_new(vm, &pci_host_ecam_ops);

	if (!host)
		return -1;
	return bus_register(&vm->mmio_bus, arch_pci_layout.ecam_base, arch_pci_layout.ecam_size,
			    pci_ecam_io, &host->bus, "pci-ecam");
}

const struct device_ops pci_host_ecam_ops = {
	.name = "pci-host-ecam",
	.realize = pci_host_ecam_realize,
	.reset = pci_host_reset,
	.destroy = pci_host_destroy,
};
