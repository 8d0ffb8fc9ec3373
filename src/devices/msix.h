/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVMBOX_DEVICES_MSIX_H
#define KVMBOX_DEVICES_MSIX_H

#include <pthread.h>

#include "../util/types.h"

struct msix;
struct pci_function;
struct vm;
struct irq_routing;

#define MSIX_MAX_VECTORS 64
#define MSIX_ENTRY_SIZE	 16
#define MSIX_CAP_LEN	 12

/* Capability registers, offsets from the capability. */
#define MSIX_CAP_CONTROL     2
#define MSIX_CAP_TABLE	     4
#define MSIX_CAP_PBA	     8
#define MSIX_CONTROL_MASKALL 0x4000
#define MSIX_CONTROL_ENABLE  0x8000

/* Table entry dwords. */
#define MSIX_ENTRY_ADDR_LO 0x0
#define MSIX_ENTRY_ADDR_HI 0x4
#define MSIX_ENTRY_DATA	   0x8
#define MSIX_ENTRY_CTRL	   0xc
#define MSIX_ENTRY_MASKED  0x1

/*
 * How a vector reaches the CPUs. route() points the vector at the message the guest
 * programmed (0 or -errno); fire() sends the vector's message. The KVM backend
 * (msix_init_kvm) has a GSI with an MSI route and an irqfd per vector; tests use fakes.
 */
struct msix_backend {
	int (*route)(struct msix *m, unsigned int vector, u64 addr, u32 data);
	void (*fire)(struct msix *m, unsigned int vector);
	/*
	 * Optional, for a device that signals vectors without msix_notify (passthrough): the
	 * vector's message, mask or enable state may have changed, or its pending bit is read.
	 */
	void (*sync)(struct msix *m, unsigned int vector);
};

struct msix_entry {
	u32 addr_lo, addr_hi, data, ctrl;
	bool dirty; /* the message changed since it was last routed */
};

/*
 * The MSI-X capability, table and PBA of one PCI function. The table and PBA live in one
 * of the function's memory BARs; the device's BAR handler passes accesses to them on.
 * Thread-safe: vCPU threads program it, device threads notify through it.
 */
struct msix {
	pthread_mutex_t lock;
	struct pci_function *fn;
	u8 cap; /* offset of the capability in configuration space */
	u16 nr_vectors;
	bool enabled, func_masked; /* mirrors of the Message Control bits */
	struct msix_entry table[MSIX_MAX_VECTORS];
	u64 pba[(MSIX_MAX_VECTORS + 63) / 64];
	const struct msix_backend *backend;
	void *opaque; /* for a custom backend */

	/* The KVM backend. */
	int vm_fd;
	struct irq_routing *irq;
	u32 gsi[MSIX_MAX_VECTORS];
	int irqfd[MSIX_MAX_VECTORS];
	bool attached[MSIX_MAX_VECTORS]; /* the irqfd is assigned to KVM now */
};

/*
 * Adds the capability to fn: nr_vectors (1..MSIX_MAX_VECTORS) entries at table_off and the
 * PBA at pba_off of BAR bar (offsets 8-byte aligned). Every vector starts masked, MSI-X
 * disabled. Returns 0, -EINVAL or -ENOSPC (no room in configuration space).
 */
int msix_init(struct msix *m, struct pci_function *fn, u16 nr_vectors, u8 bar, u32 table_off,
	      u32 pba_off);
/* Delivers through KVM: a GSI, an MSI route and an irqfd per vector. Returns 0 or -errno. */
int msix_init_kvm(struct msix *m, struct vm *vm);
/*
 * For a passed-through device, which writes the eventfds (m->irqfd) itself: the same KVM
 * routes, with each irqfd attached only while its vector is deliverable and the pending
 * bit read from the eventfd while it is not. Returns 0 or -errno.
 */
int msix_init_passthrough(struct msix *m, struct vm *vm);
void msix_set_backend(struct msix *m, const struct msix_backend *backend, void *opaque);
void msix_destroy(struct msix *m);
/* Power-on state: all vectors masked with empty messages, nothing pending, disabled. */
void msix_reset(struct msix *m);

/* Table and PBA size in bytes, for laying out the BAR. */
static inline u32 msix_table_size(u16 nr_vectors)
{
	return nr_vectors * MSIX_ENTRY_SIZE;
}

static inline u32 msix_pba_size(u16 nr_vectors)
{
	return ((nr_vectors + 63) / 64) * 8;
}

/* The function's config_written hook passes writes on: Message Control may change. */
void msix_config_written(struct msix *m, u32 offset, u32 len);
/* Guest accesses to the table and PBA, offset relative to their start. */
void msix_table_io(struct msix *m, u64 offset, u8 *data, u32 len, bool is_write);
void msix_pba_io(struct msix *m, u64 offset, u8 *data, u32 len, bool is_write);

/* Whether MSI-X is on: then INTx is off and notifications go through vectors. */
bool msix_enabled(struct msix *m);
/*
 * Sends vector's message, or sets its pending bit if the vector or the function is masked
 * (unmasking delivers it). Nothing happens while MSI-X is disabled or for a vector out of
 * range. Any thread.
 */
void msix_notify(struct msix *m, u16 vector);
bool msix_pending(struct msix *m, u16 vector);

#endif
