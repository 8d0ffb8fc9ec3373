// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSI-X for an emulated PCI function, per the PCI Local Bus specification: a capability
 * (Message Control, Table Offset/BIR, PBA Offset/BIR), a table of 16-byte entries (message
 * address, message data, vector control) and the Pending Bit Array. A vector fires only
 * while MSI-X is enabled, the function is not masked and the vector is not masked; a
 * notification that cannot fire sets the vector's pending bit, and unmasking sends it.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../bus.h"
#include "../irq.h"
#include "../util/log.h"
#include "../vm.h"
#include "msix.h"
#include "pci.h"

static bool pba_test(const struct msix *m, unsigned int v)
{
	return m->pba[v / 64] & BIT(v % 64);
}

static void pba_set(struct msix *m, unsigned int v, bool on)
{
	if (on)
		m->pba[v / 64] |= BIT(v % 64);
	else
		m->pba[v / 64] &= ~BIT(v % 64);
}

static bool vector_masked(const struct msix *m, unsigned int v)
{
	return m->func_masked || (m->table[v].ctrl & MSIX_ENTRY_MASKED);
}

/* Brings KVM's route up to date with the entry. Called with m->lock held. */
static int vector_route(struct msix *m, unsigned int v)
{
	struct msix_entry *e = &m->table[v];
	u64 addr = (u64)e->addr_hi << 32 | e->addr_lo;

	if (!e->dirty)
		return 0;
	if (m->backend->route(m, v, addr, e->data) < 0)
		return -EIO;
	e->dirty = false;
	return 0;
}

static void vector_fire(struct msix *m, unsigned int v)
{
	if (vector_route(m, v) == 0)
		m->backend->fire(m, v);
}

/*
 * Tells a backend whose device signals vectors by itself (passthrough) that the vector's
 * message, mask or enable state may have changed. Called with m->lock held.
 */
static void vectors_sync(struct msix *m, unsigned int first, unsigned int last)
{
	if (!m->backend || !m->backend->sync)
		return;
	for (unsigned int v = first; v <= last && v < m->nr_vectors; v++)
		m->backend->sync(m, v);
}

/*
 * After anything that may unmask vectors: routes the deliverable ones now (on the vCPU
 * thread, not later on a device's hot path) and sends what was pending.
 */
static void vectors_unmasked(struct msix *m, unsigned int first, unsigned int last)
{
	if (!m->enabled)
		return;
	for (unsigned int v = first; v <= last && v < m->nr_vectors; v++) {
		if (vector_masked(m, v))
			continue;
		vector_route(m, v);
		if (pba_test(m, v)) {
			pba_set(m, v, false);
			vector_fire(m, v);
		}
	}
}

static void entries_reset(struct msix *m)
{
	memset(m->table, 0, sizeof(m->table));
	memset(m->pba, 0, sizeof(m->pba));
	for (unsigned int v = 0; v < MSIX_MAX_VECTORS; v++) {
		m->table[v].ctrl = MSIX_ENTRY_MASKED;
		/* Routed on first use, whatever the guest programmed by then. */
		m->table[v].dirty = true;
	}
	m->enabled = false;
	m->func_masked = false;
}

int msix_init(struct msix *m, struct pci_function *fn, u16 nr_vectors, u8 bar, u32 table_off,
	      u32 pba_off)
{
	int cap;

	if (!nr_vectors || nr_vectors > MSIX_MAX_VECTORS || bar >= PCI_NUM_BARS ||
	    (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	cap = pci_function_add_cap(fn, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (cap < 0)
		return cap;
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->fn = fn;
	m->cap = (u8)cap;
	m->nr_vectors = nr_vectors;
	m->vm_fd = -1;
	for (unsigned int v = 0; v < MSIX_MAX_VECTORS; v++)
		m->irqfd[v] = -1;
	entries_reset(m);
	pci_config_set16(fn, cap + MSIX_CAP_CONTROL, nr_vectors - 1);
	pci_config_set32(fn, cap + MSIX_CAP_TABLE, table_off | bar);
	pci_config_set32(fn, cap + MSIX_CAP_PBA, pba_off | bar);
	/* Only Enable and Function Mask are writable; the table size is read-only. */
	fn->wmask[cap + MSIX_CAP_CONTROL + 1] = (MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL) >> 8;
	return 0;
}

void msix_set_backend(struct msix *m, const struct msix_backend *backend, void *opaque)
{
	m->backend = backend;
	m->opaque = opaque;
}

static int kvm_route(struct msix *m, unsigned int v, u64 addr, u32 data)
{
	/* Bus 0, function 0 of the function's slot: the requester ID an ITS sees. */
	return irq_msi_set(m->irq, m->gsi[v], addr, data, (u32)(m->fn->slot << 3));
}

static void kvm_fire(struct msix *m, unsigned int v)
{
	u64 one = 1;

	if (write(m->irqfd[v], &one, sizeof(one)) != sizeof(one))
		pr_guest("MSI-X vector %u: irqfd write failed", v);
}

static const struct msix_backend kvm_backend = {
	.route = kvm_route,
	.fire = kvm_fire,
};

/*
 * A device that signals its vectors itself (VFIO) writes the eventfds; KVM must not
 * deliver a masked vector, so its irqfd is detached while masked and what the device
 * signalled meanwhile is read back from the eventfd as the pending bit. Called with
 * m->lock held whenever the vector's message or mask may have changed.
 */
static void passthrough_sync(struct msix *m, unsigned int v)
{
	bool want = m->enabled && !vector_masked(m, v);
	u64 count;

	if (!want && m->attached[v]) {
		irq_irqfd_deassign(m->vm_fd, m->irqfd[v], m->gsi[v]);
		m->attached[v] = false;
	}
	if (!m->attached[v] && read(m->irqfd[v], &count, sizeof(count)) == sizeof(count))
		pba_set(m, v, true);
	/* The route first: the irqfd delivers the moment it is attached. */
	if (!want || vector_route(m, v))
		return;
	if (!m->attached[v])
		m->attached[v] = !irq_irqfd_assign(m->vm_fd, m->irqfd[v], m->gsi[v]);
	if (m->attached[v] && pba_test(m, v)) {
		pba_set(m, v, false);
		kvm_fire(m, v);
	}
}

static const struct msix_backend passthrough_backend = {
	.route = kvm_route,
	.fire = kvm_fire,
	.sync = passthrough_sync,
};

/* A GSI and an eventfd per vector; the irqfd attached now when attach is set. */
static int kvm_vectors_alloc(struct msix *m, struct vm *vm, bool attach)
{
	int ret;

	m->irq = irq_routing_get(vm);
	if (!m->irq)
		return -ENOMEM;
	m->vm_fd = vm->vm_fd;
	for (unsigned int v = 0; v < m->nr_vectors; v++) {
		ret = irq_msi_alloc(m->irq, &m->gsi[v]);
		if (ret < 0)
			return ret;
		m->irqfd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->irqfd[v] < 0)
			return -errno;
		if (!attach)
			continue;
		ret = irq_irqfd_assign(m->vm_fd, m->irqfd[v], m->gsi[v]);
		if (ret < 0)
			return ret;
		m->attached[v] = true;
	}
	return 0;
}

int msix_init_kvm(struct msix *m, struct vm *vm)
{
	int ret = kvm_vectors_alloc(m, vm, true);

	if (!ret)
		msix_set_backend(m, &kvm_backend, NULL);
	return ret;
}

int msix_init_passthrough(struct msix *m, struct vm *vm)
{
	int ret = kvm_vectors_alloc(m, vm, false);

	if (!ret)
		msix_set_backend(m, &passthrough_backend, NULL);
	return ret;
}

void msix_destroy(struct msix *m)
{
	if (!m->fn)
		return;
	for (unsigned int v = 0; v < m->nr_vectors; v++) {
		if (m->attached[v])
			irq_irqfd_deassign(m->vm_fd, m->irqfd[v], m->gsi[v]);
		m->attached[v] = false;
		if (m->irqfd[v] >= 0) {
			close(m->irqfd[v]);
			m->irqfd[v] = -1;
		}
		if (m->irq && m->gsi[v])
			irq_msi_free(m->irq, m->gsi[v]);
	}
	irq_routing_put(m->irq);
	m->irq = NULL;
	pthread_mutex_destroy(&m->lock);
	m->fn = NULL;
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	entries_reset(m);
	vectors_sync(m, 0, m->nr_vectors - 1u);
	pci_config_set16(m->fn, m->cap + MSIX_CAP_CONTROL, m->nr_vectors - 1);
	pthread_mutex_unlock(&m->lock);
}

void msix_config_written(struct msix *m, u32 offset, u32 len)
{
	u32 ctrl_reg = m->cap + MSIX_CAP_CONTROL;
	u16 ctrl;

	if (offset >= ctrl_reg + 2 || offset + len <= ctrl_reg)
		return;
	ctrl = pci_config_get16(m->fn, ctrl_reg);
	pthread_mutex_lock(&m->lock);
	m->enabled = ctrl & MSIX_CONTROL_ENABLE;
	m->func_masked = ctrl & MSIX_CONTROL_MASKALL;
	vectors_sync(m, 0, m->nr_vectors - 1u);
	vectors_unmasked(m, 0, m->nr_vectors - 1);
	pthread_mutex_unlock(&m->lock);
}

static u32 entry_read(const struct msix_entry *e, unsigned int dword)
{
	switch (dword) {
	case 0:
		return e->addr_lo;
	case 1:
		return e->addr_hi;
	case 2:
		return e->data;
	default:
		return e->ctrl;
	}
}

static void entry_write(struct msix *m, unsigned int v, unsigned int dword, u32 val)
{
	struct msix_entry *e = &m->table[v];
	u32 *field = dword == 0 ? &e->addr_lo : dword == 1 ? &e->addr_hi : &e->data;

	if (dword == 3) {
		/* Only the mask bit is defined; the rest reads as zero. */
		bool was_masked = e->ctrl & MSIX_ENTRY_MASKED;

		e->ctrl = val & MSIX_ENTRY_MASKED;
		vectors_sync(m, v, v);
		if (was_masked && !(e->ctrl & MSIX_ENTRY_MASKED))
			vectors_unmasked(m, v, v);
		return;
	}
	if (*field != val) {
		*field = val;
		e->dirty = true;
		/* A device that fires by itself needs the new message now, masked or not. */
		vectors_sync(m, v, v);
	}
}

/* A table or PBA access must be an aligned dword or qword inside the structure. */
static bool access_ok(u64 offset, u32 len, u32 size)
{
	return (len == 4 || len == 8) && !(offset & (len - 1)) && offset < size &&
	       len <= size - offset;
}

void msix_table_io(struct msix *m, u64 offset, u8 *data, u32 len, bool is_write)
{
	u64 val = is_write ? io_data_get(data, len) : 0;

	if (!access_ok(offset, len, msix_table_size(m->nr_vectors))) {
		pr_guest("MSI-X table: bad %u-byte access at 0x%llx", len,
			 (unsigned long long)offset);
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	for (u32 i = 0; i < len / 4; i++) {
		u64 off = offset + 4 * i;
		unsigned int v = (unsigned int)(off / MSIX_ENTRY_SIZE);
		unsigned int dword = (unsigned int)(off % MSIX_ENTRY_SIZE) / 4;

		if (is_write)
			entry_write(m, v, dword, (u32)(val >> (32 * i)));
		else
			val |= (u64)entry_read(&m->table[v], dword) << (32 * i);
	}
	pthread_mutex_unlock(&m->lock);
	if (!is_write)
		io_data_put(data, len, val);
}

void msix_pba_io(struct msix *m, u64 offset, u8 *data, u32 len, bool is_write)
{
	u64 val = 0;

	if (is_write)
		return; /* read-only */
	if (!access_ok(offset, len, msix_pba_size(m->nr_vectors))) {
		pr_guest("MSI-X PBA: bad %u-byte access at 0x%llx", len,
			 (unsigned long long)offset);
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	/* A passed-through device's interrupts while masked wait in the backend. */
	vectors_sync(m, (unsigned int)(offset / 8) * 64, (unsigned int)(offset / 8) * 64 + 63);
	val = m->pba[offset / 8];
	pthread_mutex_unlock(&m->lock);
	if (len == 4)
		val >>= 8 * (offset & 4);
	io_data_put(data, len, val);
}

bool msix_enabled(struct msix *m)
{
	bool on;

	pthread_mutex_lock(&m->lock);
	on = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return on;
}

void msix_notify(struct msix *m, u16 vector)
{
	pthread_mutex_lock(&m->lock);
	if (m->enabled && vector < m->nr_vectors) {
		if (vector_masked(m, vector))
			pba_set(m, vector, true);
		else
			vector_fire(m, vector);
	}
	pthread_mutex_unlock(&m->lock);
}

bool msix_pending(struct msix *m, u16 vector)
{
	bool p;

	pthread_mutex_lock(&m->lock);
	p = vector < m->nr_vectors && pba_test(m, vector);
	pthread_mutex_unlock(&m->lock);
	return p;
}
