/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_IRQ_H
#define KVMBOX_IRQ_H

#include <pthread.h>

#include "util/types.h"

struct vm;
struct kvm_irq_routing;

/*
 * The VM's GSI routing table. KVM_SET_GSI_ROUTING replaces the whole table, so kvmbox
 * keeps the irqchip entries the board needs (arch_irq_chip_routes(): on x86 the PICs'
 * and the I/O APIC's) and adds one MSI route per GSI it hands out above those.
 * One table per VM, shared by every device that uses MSI; all calls are thread-safe.
 */
#define IRQ_FIRST_MSI 24   /* above every irqchip pin of every board */
#define IRQ_MAX_MSI   1000 /* KVM allows 1024 routes at least (KVM_MAX_IRQ_ROUTES) */

struct irq_msi_route {
	bool used;  /* the GSI is handed out */
	bool valid; /* and has a message to deliver */
	u64 addr;
	u32 data;
	u32 devid; /* the requester ID (bus << 8 | devfn), for an ITS */
};

struct irq_routing {
	pthread_mutex_t lock;
	int vm_fd;
	unsigned int refs;
	bool msi_devid; /* KVM wants each MSI route's requester ID (KVM_CAP_MSI_DEVID) */
	struct vm *vm;	/* the owner: vm->irq points back here */
	/* Replaces KVM's table; a test can put a fake here. Returns 0 or -errno. */
	int (*set_routing)(struct irq_routing *r, const struct kvm_irq_routing *table);
	unsigned int nr_msi; /* GSIs handed out so far are below IRQ_FIRST_MSI + nr_msi */
	struct irq_msi_route msi[IRQ_MAX_MSI];
};

/*
 * The routing table of vm, created on first use (with its own reference); every get is
 * matched by a put, and the last put frees it. NULL if memory ran out.
 */
struct irq_routing *irq_routing_get(struct vm *vm);
void irq_routing_put(struct irq_routing *r);
/* A stand-alone table for tests: set_routing is called instead of KVM. */
struct irq_routing *irq_routing_new(int vm_fd,
				    int (*set_routing)(struct irq_routing *r,
						       const struct kvm_irq_routing *table));
void irq_routing_free(struct irq_routing *r);

/* Hands out a GSI for an MSI route, with no message yet. Returns 0 or -ENOSPC. */
int irq_msi_alloc(struct irq_routing *r, u32 *gsi);
/*
 * Points gsi at the MSI message a device with requester ID devid sends, and updates KVM's
 * table. Returns 0 or -errno.
 */
int irq_msi_set(struct irq_routing *r, u32 gsi, u64 addr, u32 data, u32 devid);
/* Gives the GSI back (its route goes away with the next table update). */
void irq_msi_free(struct irq_routing *r, u32 gsi);
/*
 * Fills entries (room for max) with the whole table: irqchip routes first, then every valid
 * MSI route. Returns the number of entries. Exposed for tests.
 */
unsigned int irq_routing_fill(struct irq_routing *r, void *entries, unsigned int max);

/* KVM_IRQFD: a write to the eventfd fd raises gsi in the kernel. Return 0 or -errno. */
int irq_irqfd_assign(int vm_fd, int fd, u32 gsi);
int irq_irqfd_deassign(int vm_fd, int fd, u32 gsi);
/*
 * A level-triggered irqfd: a write to fd asserts the irqchip pin gsi; when the guest's EOI
 * lowers it again, KVM writes resample_fd (so the source can re-check and re-assert, as a
 * passed-through device's INTx does through VFIO's unmask). Deassign with irq_irqfd_deassign.
 */
int irq_irqfd_assign_resample(int vm_fd, int fd, int resample_fd, u32 gsi);

#endif
