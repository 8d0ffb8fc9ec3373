// SPDX-License-Identifier: GPL-2.0-only
// unit-arch: x86
/*
 * MSI-X capability, table and PBA semantics against a fake backend that records routes
 * and deliveries, and the GSI routing table against a fake KVM_SET_GSI_ROUTING.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "devices/msix.h"
#include "devices/pci.h"
#include "irq.h"

#define NR_VECTORS 5
#define MSI_ADDR   0xfee00000u

struct fake {
	struct pci_bus bus;
	struct pci_function fn;
	struct msix m;
	unsigned int fired[MSIX_MAX_VECTORS];
	unsigned int routed[MSIX_MAX_VECTORS];
	u64 route_addr[MSIX_MAX_VECTORS];
	u32 route_data[MSIX_MAX_VECTORS];
	int route_ret;
	unsigned int synced[MSIX_MAX_VECTORS];
	bool dev_signalled[MSIX_MAX_VECTORS]; /* a passed-through device's, while masked */
};

static int fake_route(struct msix *m, unsigned int v, u64 addr, u32 data)
{
	struct fake *f = m->opaque;

	if (f->route_ret)
		return f->route_ret;
	f->routed[v]++;
	f->route_addr[v] = addr;
	f->route_data[v] = data;
	return 0;
}

static void fake_fire(struct msix *m, unsigned int v)
{
	struct fake *f = m->opaque;

	f->fired[v]++;
}

static const struct msix_backend fake_backend = {.route = fake_route, .fire = fake_fire};

/* Like the passthrough backend: what the device signalled meanwhile becomes pending. */
static void fake_sync(struct msix *m, unsigned int v)
{
	struct fake *f = m->opaque;

	f->synced[v]++;
	if (f->dev_signalled[v])
		m->pba[v / 64] |= 1ull << (v % 64);
	f->dev_signalled[v] = false;
}

static const struct msix_backend sync_backend = {
	.route = fake_route, .fire = fake_fire, .sync = fake_sync};

static void fake_config_written(struct pci_function *fn, u32 offset, u32 len)
{
	struct fake *f = fn->opaque;

	msix_config_written(&f->m, offset, len);
}

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	pci_bus_init(&f->bus);
	pci_function_init(&f->fn, 0x1af4, 0x1044, 0x00ff);
	f->fn.opaque = f;
	f->fn.config_written = fake_config_written;
	assert_int_equal(pci_function_add_bar64(&f->fn, 4, 0x8000), 0);
	assert_int_equal(msix_init(&f->m, &f->fn, NR_VECTORS, 4, 0x4000, 0x5000), 0);
	msix_set_backend(&f->m, &fake_backend, f);
	assert_int_equal(pci_bus_add(&f->bus, &f->fn, 3), 3);
	return f;
}

static void fake_free(struct fake *f)
{
	msix_destroy(&f->m);
	pci_bus_destroy(&f->bus);
	free(f);
}

/* Configuration space through conf1, as a guest reaches it. */
static void cfg_write(struct fake *f, u32 reg, u32 val, u32 len)
{
	u8 a[4], d[4];

	io_data_put(a, 4, 0x80000000u | 3u << 11 | (reg & 0xfc));
	pci_conf1_io(&f->bus, 0, a, 4, true);
	io_data_put(d, len, val);
	pci_conf1_io(&f->bus, 4 + (reg & 3), d, len, true);
}

static u32 cfg_read(struct fake *f, u32 reg, u32 len)
{
	u8 a[4], d[4] = {0};

	io_data_put(a, 4, 0x80000000u | 3u << 11 | (reg & 0xfc));
	pci_conf1_io(&f->bus, 0, a, 4, true);
	pci_conf1_io(&f->bus, 4 + (reg & 3), d, len, false);
	return (u32)io_data_get(d, len);
}

static void table_write(struct fake *f, u64 off, u64 val, u32 len)
{
	u8 d[8];

	io_data_put(d, len, val);
	msix_table_io(&f->m, off, d, len, true);
}

static u64 table_read(struct fake *f, u64 off, u32 len)
{
	u8 d[8];

	memset(d, 0xa5, sizeof(d));
	msix_table_io(&f->m, off, d, len, false);
	return io_data_get(d, len);
}

static u64 pba_read(struct fake *f, u64 off, u32 len)
{
	u8 d[8];

	msix_pba_io(&f->m, off, d, len, false);
	return io_data_get(d, len);
}

static void program(struct fake *f, unsigned int v, u32 data, bool masked)
{
	table_write(f, v * 16 + MSIX_ENTRY_ADDR_LO, MSI_ADDR, 4);
	table_write(f, v * 16 + MSIX_ENTRY_ADDR_HI, 0, 4);
	table_write(f, v * 16 + MSIX_ENTRY_DATA, data, 4);
	table_write(f, v * 16 + MSIX_ENTRY_CTRL, masked, 4);
}

static u16 control(struct fake *f)
{
	return (u16)cfg_read(f, f->m.cap + MSIX_CAP_CONTROL, 2);
}

static void set_control(struct fake *f, u16 v)
{
	cfg_write(f, f->m.cap + MSIX_CAP_CONTROL, v, 2);
}

/* The capability as a driver finds it: in the list, table size N-1, BIR and offsets. */
static void test_capability(void **state)
{
	struct fake *f = fake_new();
	u8 cap;

	(void)state;
	assert_true(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	cap = (u8)cfg_read(f, PCI_CAPABILITY_LIST, 1);
	assert_int_equal(cap, f->m.cap);
	assert_int_equal(cfg_read(f, cap, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_read(f, cap + 1, 1), 0); /* the last one */
	assert_int_equal(control(f), NR_VECTORS - 1);
	assert_int_equal(cfg_read(f, cap + MSIX_CAP_TABLE, 4), 0x4000 | 4);
	assert_int_equal(cfg_read(f, cap + MSIX_CAP_PBA, 4), 0x5000 | 4);
	/* Only Enable and Function Mask take writes. */
	set_control(f, 0xffff);
	assert_int_equal(control(f), 0xc000 | (NR_VECTORS - 1));
	cfg_write(f, cap + MSIX_CAP_TABLE, 0xffffffff, 4);
	assert_int_equal(cfg_read(f, cap + MSIX_CAP_TABLE, 4), 0x4000 | 4);
	assert_true(msix_enabled(&f->m));
	set_control(f, 0);
	assert_false(msix_enabled(&f->m));
	fake_free(f);
}

static void test_initial_state(void **state)
{
	struct fake *f = fake_new();

	(void)state;
	for (unsigned int v = 0; v < NR_VECTORS; v++) {
		assert_int_equal(table_read(f, v * 16 + MSIX_ENTRY_CTRL, 4), MSIX_ENTRY_MASKED);
		assert_int_equal(table_read(f, v * 16, 8), 0);
	}
	assert_int_equal(pba_read(f, 0, 8), 0);
	/* Disabled: a notification goes nowhere and leaves nothing pending. */
	msix_notify(&f->m, 0);
	assert_int_equal(f->fired[0], 0);
	assert_false(msix_pending(&f->m, 0));
	fake_free(f);
}

/* Masked vector: pending bit; unmask: routed, sent, bit cleared. */
static void test_vector_mask_pending(void **state)
{
	struct fake *f = fake_new();

	(void)state;
	set_control(f, MSIX_CONTROL_ENABLE);
	program(f, 2, 0x4041, true);
	msix_notify(&f->m, 2);
	msix_notify(&f->m, 2);
	assert_int_equal(f->fired[2], 0);
	assert_true(msix_pending(&f->m, 2));
	assert_int_equal(pba_read(f, 0, 8), 1u << 2);
	assert_int_equal(pba_read(f, 0, 4), 1u << 2);
	table_write(f, 2 * 16 + MSIX_ENTRY_CTRL, 0, 4);
	assert_int_equal(f->fired[2], 1); /* one message for all that was pending */
	assert_int_equal(f->routed[2], 1);
	assert_int_equal(f->route_addr[2], MSI_ADDR);
	assert_int_equal(f->route_data[2], 0x4041);
	assert_false(msix_pending(&f->m, 2));
	/* Unmasked: straight through, and the route is not redone for the same message. */
	msix_notify(&f->m, 2);
	assert_int_equal(f->fired[2], 2);
	assert_int_equal(f->routed[2], 1);
	/* A new message is routed before its first delivery. */
	table_write(f, 2 * 16 + MSIX_ENTRY_DATA, 0x4042, 4);
	msix_notify(&f->m, 2);
	assert_int_equal(f->routed[2], 2);
	assert_int_equal(f->route_data[2], 0x4042);
	assert_int_equal(f->fired[2], 3);
	fake_free(f);
}

/* Function Mask holds every vector; clearing it sends what became pending. */
static void test_function_mask(void **state)
{
	struct fake *f = fake_new();

	(void)state;
	set_control(f, MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL);
	program(f, 0, 0x30, false);
	program(f, 4, 0x34, false);
	msix_notify(&f->m, 0);
	msix_notify(&f->m, 4);
	assert_int_equal(f->fired[0] + f->fired[4], 0);
	assert_int_equal(pba_read(f, 0, 8), 1u << 0 | 1u << 4);
	set_control(f, MSIX_CONTROL_ENABLE);
	assert_int_equal(f->fired[0], 1);
	assert_int_equal(f->fired[4], 1);
	assert_int_equal(pba_read(f, 0, 8), 0);
	/* A pending bit also survives disable until re-enable. */
	table_write(f, 0 * 16 + MSIX_ENTRY_CTRL, 1, 4);
	msix_notify(&f->m, 0);
	set_control(f, 0);
	table_write(f, 0 * 16 + MSIX_ENTRY_CTRL, 0, 4);
	assert_int_equal(f->fired[0], 1);
	set_control(f, MSIX_CONTROL_ENABLE);
	assert_int_equal(f->fired[0], 2);
	fake_free(f);
}

/* Only aligned dwords and qwords inside the table count; the rest reads 0, writes nothing. */
static void test_table_access_checks(void **state)
{
	struct fake *f = fake_new();
	u32 end = msix_table_size(NR_VECTORS);

	(void)state;
	table_write(f, 16, 0x1122334455667788ULL, 8);
	assert_int_equal(table_read(f, 16, 4), 0x55667788);
	assert_int_equal(table_read(f, 20, 4), 0x11223344);
	assert_int_equal(table_read(f, 16, 8), 0x1122334455667788ULL);
	/* A qword over data and control writes both. */
	table_write(f, 24, 0xffffffff00000099ULL, 8);
	assert_int_equal(table_read(f, 24, 4), 0x99);
	assert_int_equal(table_read(f, 28, 4), MSIX_ENTRY_MASKED); /* reserved bits stay 0 */
	/* Bad sizes, misalignment, out of range. */
	table_write(f, 16, 0xdead, 2);
	table_write(f, 18, 0xdeadbeef, 4);
	table_write(f, 20, 0xdeadbeefdeadbeefULL, 8);
	table_write(f, end, 0xdeadbeef, 4);
	table_write(f, end - 4, 0xdeadbeefdeadbeefULL, 8);
	table_write(f, ~0ULL - 3, 0xdeadbeef, 4);
	assert_int_equal(table_read(f, 16, 8), 0x1122334455667788ULL);
	assert_int_equal(table_read(f, 16, 2), 0);
	assert_int_equal(table_read(f, 17, 1), 0);
	assert_int_equal(table_read(f, end, 4), 0);
	assert_int_equal(table_read(f, end - 4, 8), 0);
	assert_int_equal(table_read(f, ~0ULL - 7, 8), 0);
	/* The PBA is read-only and checked the same way. */
	u8 d[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	msix_pba_io(&f->m, 0, d, 8, true);
	assert_int_equal(pba_read(f, 0, 8), 0);
	assert_int_equal(pba_read(f, 2, 4), 0);
	assert_int_equal(pba_read(f, 8, 8), 0);
	fake_free(f);
}

/* Vectors out of range do nothing; a failed route does not deliver a stale message. */
static void test_out_of_range_and_route_failure(void **state)
{
	struct fake *f = fake_new();

	(void)state;
	set_control(f, MSIX_CONTROL_ENABLE);
	msix_notify(&f->m, NR_VECTORS);
	msix_notify(&f->m, 0xffff);
	for (unsigned int v = 0; v < MSIX_MAX_VECTORS; v++)
		assert_int_equal(f->fired[v], 0);
	f->route_ret = -EINVAL;
	program(f, 1, 0x51, false);
	msix_notify(&f->m, 1);
	assert_int_equal(f->fired[1], 0);
	f->route_ret = 0;
	msix_notify(&f->m, 1);
	assert_int_equal(f->fired[1], 1);
	assert_int_equal(f->route_data[1], 0x51);
	fake_free(f);
}

static void test_reset(void **state)
{
	struct fake *f = fake_new();

	(void)state;
	set_control(f, MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL);
	program(f, 3, 0x77, false);
	msix_notify(&f->m, 3);
	msix_reset(&f->m);
	assert_int_equal(control(f), NR_VECTORS - 1);
	assert_false(msix_enabled(&f->m));
	assert_int_equal(pba_read(f, 0, 8), 0);
	assert_int_equal(table_read(f, 3 * 16 + MSIX_ENTRY_CTRL, 4), MSIX_ENTRY_MASKED);
	assert_int_equal(table_read(f, 3 * 16 + MSIX_ENTRY_DATA, 4), 0);
	fake_free(f);
}

static void test_init_errors(void **state)
{
	struct pci_function fn;
	struct msix m;

	(void)state;
	pci_function_init(&fn, 1, 2, 3);
	assert_int_equal(msix_init(&m, &fn, 0, 4, 0, 0x1000), -EINVAL);
	assert_int_equal(msix_init(&m, &fn, MSIX_MAX_VECTORS + 1, 4, 0, 0x1000), -EINVAL);
	assert_int_equal(msix_init(&m, &fn, 1, 6, 0, 0x1000), -EINVAL);
	assert_int_equal(msix_init(&m, &fn, 1, 4, 4, 0x1000), -EINVAL);
	assert_int_equal(msix_table_size(3), 48);
	assert_int_equal(msix_pba_size(3), 8);
	assert_int_equal(msix_pba_size(65), 16);
}

/* The fake KVM: keeps a copy of the last table. */
static struct kvm_irq_routing_entry last_table[1100];
static unsigned int last_nr, commits;
static int commit_ret;

static int fake_set_routing(struct irq_routing *r, const struct kvm_irq_routing *table)
{
	(void)r;
	commits++;
	if (commit_ret)
		return commit_ret;
	last_nr = table->nr;
	memcpy(last_table, table->entries, table->nr * sizeof(table->entries[0]));
	return 0;
}

static const struct kvm_irq_routing_entry *find_msi(u32 gsi)
{
	for (unsigned int i = 0; i < last_nr; i++) {
		if (last_table[i].gsi == gsi && last_table[i].type == KVM_IRQ_ROUTING_MSI)
			return &last_table[i];
	}
	return NULL;
}

/* KVM's default irqchip routes survive every table update. */
static void check_irqchip_routes(void)
{
	unsigned int pic = 0, ioapic = 0;

	for (unsigned int i = 0; i < last_nr; i++) {
		const struct kvm_irq_routing_entry *e = &last_table[i];

		if (e->type != KVM_IRQ_ROUTING_IRQCHIP)
			continue;
		if (e->u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC) {
			assert_int_equal(e->u.irqchip.pin, e->gsi);
			ioapic++;
		} else {
			assert_true(e->gsi < 16 && e->gsi != 2);
			assert_int_equal(e->u.irqchip.irqchip, e->gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
									  : KVM_IRQCHIP_PIC_SLAVE);
			assert_int_equal(e->u.irqchip.pin, e->gsi % 8);
			pic++;
		}
	}
	assert_int_equal(pic, 15);
	assert_int_equal(ioapic, 24);
}

static void test_irq_routing(void **state)
{
	struct irq_routing *r = irq_routing_new(-1, fake_set_routing);
	const struct kvm_irq_routing_entry *e;
	u32 a, b, c;

	(void)state;
	assert_non_null(r);
	commits = 0;
	commit_ret = 0;
	assert_int_equal(irq_msi_alloc(r, &a), 0);
	assert_int_equal(irq_msi_alloc(r, &b), 0);
	assert_int_equal(a, 24);
	assert_int_equal(b, 25);
	assert_int_equal(irq_msi_set(r, b, 0xfee01000, 0x4025, 0), 0);
	check_irqchip_routes();
	assert_int_equal(last_nr, 40);
	e = find_msi(b);
	assert_non_null(e);
	assert_int_equal(e->u.msi.address_lo, 0xfee01000);
	assert_int_equal(e->u.msi.address_hi, 0);
	assert_int_equal(e->u.msi.data, 0x4025);
	assert_null(find_msi(a)); /* no message yet: no route */
	/* The same message again costs KVM nothing. */
	assert_int_equal(irq_msi_set(r, b, 0xfee01000, 0x4025, 0), 0);
	assert_int_equal(commits, 1);
	/* A table KVM refuses leaves the old route in place. */
	commit_ret = -EINVAL;
	assert_int_equal(irq_msi_set(r, a, 0x1234, 1, 0), -EINVAL);
	commit_ret = 0;
	assert_int_equal(irq_msi_set(r, b, 0xfee02000, 0x4026, 0), 0);
	assert_null(find_msi(a));
	assert_int_equal(find_msi(b)->u.msi.data, 0x4026);
	/* Freed GSIs are reused; unknown ones are refused. */
	irq_msi_free(r, a);
	assert_int_equal(irq_msi_alloc(r, &c), 0);
	assert_int_equal(c, a);
	assert_int_equal(irq_msi_set(r, 23, 0xfee00000, 1, 0), -EINVAL);
	assert_int_equal(irq_msi_set(r, 24 + IRQ_MAX_MSI, 0xfee00000, 1, 0), -EINVAL);
	irq_routing_free(r);
}

static void test_irq_routing_full(void **state)
{
	struct irq_routing *r = irq_routing_new(-1, fake_set_routing);
	u32 gsi;

	(void)state;
	commit_ret = 0;
	for (unsigned int i = 0; i < IRQ_MAX_MSI; i++) {
		assert_int_equal(irq_msi_alloc(r, &gsi), 0);
		assert_int_equal(irq_msi_set(r, gsi, 0xfee00000, i, 0), 0);
	}
	assert_int_equal(irq_msi_alloc(r, &gsi), -ENOSPC);
	assert_int_equal(last_nr, 39 + IRQ_MAX_MSI);
	check_irqchip_routes();
	irq_routing_free(r);
}

/* A backend with sync hears of every change a self-signalling device depends on. */
static void test_sync_backend(void **state)
{
	struct fake *f = fake_new();

	(void)state;
	msix_set_backend(&f->m, &sync_backend, f);
	set_control(f, MSIX_CONTROL_ENABLE);
	for (unsigned int v = 0; v < NR_VECTORS; v++)
		assert_int_equal(f->synced[v], 1);
	assert_int_equal(f->synced[NR_VECTORS], 0); /* only the vectors the guest sees */
	program(f, 1, 0x4051, true);
	/* address low, data (changed) and the mask write; address high (unchanged 0) not */
	assert_int_equal(f->synced[1], 4);
	/* Signalled while masked: the PBA read asks the backend first. */
	f->dev_signalled[1] = true;
	assert_int_equal(pba_read(f, 0, 8), 1u << 1);
	assert_int_equal(f->fired[1], 0);
	table_write(f, 1 * 16 + MSIX_ENTRY_CTRL, 0, 4);
	assert_int_equal(f->fired[1], 1);
	assert_int_equal(pba_read(f, 0, 4), 0);
	/* Disabling MSI-X tells every vector (the backend detaches them). */
	f->synced[3] = 0;
	set_control(f, 0);
	assert_int_equal(f->synced[3], 1);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capability),
		cmocka_unit_test(test_initial_state),
		cmocka_unit_test(test_vector_mask_pending),
		cmocka_unit_test(test_function_mask),
		cmocka_unit_test(test_table_access_checks),
		cmocka_unit_test(test_out_of_range_and_route_failure),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_irq_routing),
		cmocka_unit_test(test_irq_routing_full),
		cmocka_unit_test(test_sync_backend),
	};

	return cmocka_run_group_tests_name("msix", tests, NULL, NULL);
}
