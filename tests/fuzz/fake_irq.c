// SPDX-License-Identifier: GPL-2.0-only
/*
 * msix.c's KVM backend (src/irq.c) for harnesses that never reach it: a device model
 * under fuzzing has no VM, so irq_routing_get() gives none and anything further traps,
 * which libFuzzer reports as a crash of the harness, not of kvmbox.
 */
#include "irq.h"

struct irq_routing *irq_routing_get(struct vm *vm)
{
	(void)vm;
	return NULL;
}

void irq_routing_put(struct irq_routing *r)
{
	if (r)
		__builtin_trap();
}

int irq_msi_alloc(struct irq_routing *r, u32 *gsi)
{
	(void)r, (void)gsi;
	__builtin_trap();
}

int irq_msi_set(struct irq_routing *r, u32 gsi, u64 addr, u32 data, u32 devid)
{
	(void)r, (void)gsi, (void)addr, (void)data, (void)devid;
	__builtin_trap();
}

void irq_msi_free(struct irq_routing *r, u32 gsi)
{
	(void)r, (void)gsi;
	__builtin_trap();
}

int irq_irqfd_assign(int vm_fd, int fd, u32 gsi)
{
	(void)vm_fd, (void)fd, (void)gsi;
	__builtin_trap();
}

int irq_irqfd_deassign(int vm_fd, int fd, u32 gsi)
{
	(void)vm_fd, (void)fd, (void)gsi;
	__builtin_trap();
}
