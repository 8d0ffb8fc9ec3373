// SPDX-License-Identifier: GPL-2.0-only
/*
 * GSI routing and irqfds. Facts from Documentation/virt/kvm/api.rst: KVM_SET_GSI_ROUTING
 * takes the complete table; an irqfd follows its GSI's route as the table changes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "irq.h"
#include "kvm.h"
#include "util/log.h"
#include "vm.h"

#define IRQ_MAX_ENTRIES (IRQ_CHIP_ROUTES_MAX + IRQ_MAX_MSI)

/* Guards vm->irq while devices take and drop references to it. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static int kvm_set_routing(struct irq_routing *r, const struct kvm_irq_routing *table)
{
	return __kvm_ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, (void *)table);
}

struct irq_routing *irq_routing_new(int vm_fd,
				    int (*set_routing)(struct irq_routing *r,
						       const struct kvm_irq_routing *table))
{
	struct irq_routing *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->vm_fd = vm_fd;
	r->refs = 1;
	r->set_routing = set_routing ? set_routing : kvm_set_routing;
	return r;
}

void irq_routing_free(struct irq_routing *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct irq_routing *irq_routing_get(struct vm *vm)
{
	struct irq_routing *r;

	pthread_mutex_lock(&registry_lock);
	r = vm->irq;
	if (r) {
		r->refs++;
	} else {
		r = irq_routing_new(vm->vm_fd, NULL);
		if (r) {
			/* An ITS tells devices apart by the requester ID each MSI carries. */
			r->msi_devid = kvm_check_extension(vm->vm_fd, KVM_CAP_MSI_DEVID) > 0;
			r->vm = vm;
			vm->irq = r;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return r;
}

void irq_routing_put(struct irq_routing *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&registry_lock);
	if (--r->refs) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	if (r->vm && r->vm->irq == r)
		r->vm->irq = NULL;
	pthread_mutex_unlock(&registry_lock);
	irq_routing_free(r);
}

unsigned int irq_routing_fill(struct irq_routing *r, void *entries, unsigned int max)
{
	struct kvm_irq_routing_entry *e = entries;
	unsigned int n;

	if (max < IRQ_CHIP_ROUTES_MAX)
		return 0;
	memset(e, 0, max * sizeof(*e));
	n = arch_irq_chip_routes(e);
	for (unsigned int i = 0; i < r->nr_msi && n < max; i++) {
		const struct irq_msi_route *m = &r->msi[i];

		if (!m->used || !m->valid)
			continue;
		e[n].gsi = IRQ_FIRST_MSI + i;
		e[n].type = KVM_IRQ_ROUTING_MSI;
		e[n].u.msi.address_lo = (u32)m->addr;
		e[n].u.msi.address_hi = (u32)(m->addr >> 32);
		e[n].u.msi.data = m->data;
		if (r->msi_devid) {
			e[n].flags = KVM_MSI_VALID_DEVID;
			e[n].u.msi.devid = m->devid;
		}
		n++;
	}
	return n;
}

/* Sends the whole table to KVM; called with r->lock held. */
static int commit(struct irq_routing *r)
{
	struct kvm_irq_routing *table;
	int ret;

	table = calloc(1, sizeof(*table) + IRQ_MAX_ENTRIES * sizeof(table->entries[0]));
	if (!table)
		return -ENOMEM;
	table->nr = irq_routing_fill(r, table->entries, IRQ_MAX_ENTRIES);
	ret = r->set_routing(r, table);
	free(table);
	if (ret < 0)
		pr_guest("KVM_SET_GSI_ROUTING failed: %s", strerror(-ret));
	return ret;
}

int irq_msi_alloc(struct irq_routing *r, u32 *gsi)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&r->lock);
	for (unsigned int i = 0; i < IRQ_MAX_MSI; i++) {
		if (!r->msi[i].used) {
			r->msi[i] = (struct irq_msi_route){.used = true};
			if (i >= r->nr_msi)
				r->nr_msi = i + 1;
			*gsi = IRQ_FIRST_MSI + i;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static struct irq_msi_route *msi_route(struct irq_routing *r, u32 gsi)
{
	if (gsi < IRQ_FIRST_MSI || gsi - IRQ_FIRST_MSI >= r->nr_msi)
		return NULL;
	return r->msi[gsi - IRQ_FIRST_MSI].used ? &r->msi[gsi - IRQ_FIRST_MSI] : NULL;
}

int irq_msi_set(struct irq_routing *r, u32 gsi, u64 addr, u32 data, u32 devid)
{
	struct irq_msi_route *m;
	int ret = -EINVAL;

	pthread_mutex_lock(&r->lock);
	m = msi_route(r, gsi);
	if (m) {
		/* Unchanged: KVM's table already says this; spare the guest a table swap. */
		struct irq_msi_route old = *m;

		if (m->valid && m->addr == addr && m->data == data && m->devid == devid) {
			ret = 0;
		} else {
			*m = (struct irq_msi_route){.used = true, .valid = true, addr, data, devid};
			ret = commit(r);
			/*
			 * KVM refused the table (a message it does not accept): keep the one it
			 * has, so this route cannot block every later update.
			 */
			if (ret < 0)
				*m = old;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_msi_free(struct irq_routing *r, u32 gsi)
{
	struct irq_msi_route *m;

	pthread_mutex_lock(&r->lock);
	m = msi_route(r, gsi);
	if (m)
		*m = (struct irq_msi_route){0};
	pthread_mutex_unlock(&r->lock);
}

int irq_irqfd_assign(int vm_fd, int fd, u32 gsi)
{
	struct kvm_irqfd irqfd = {.fd = (u32)fd, .gsi = gsi};

	return __kvm_ioctl(vm_fd, KVM_IRQFD, &irqfd);
}

int irq_irqfd_deassign(int vm_fd, int fd, u32 gsi)
{
	struct kvm_irqfd irqfd = {.fd = (u32)fd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN};

	return __kvm_ioctl(vm_fd, KVM_IRQFD, &irqfd);
}

int irq_irqfd_assign_resample(int vm_fd, int fd, int resample_fd, u32 gsi)
{
	struct kvm_irqfd irqfd = {
		.fd = (u32)fd,
		.gsi = gsi,
		.flags = KVM_IRQFD_FLAG_RESAMPLE,
		.resamplefd = (u32)resample_fd,
	};

	return __kvm_ioctl(vm_fd, KVM_IRQFD, &irqfd);
}
